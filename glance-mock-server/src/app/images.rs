//! (to be filled: the images use cases)
