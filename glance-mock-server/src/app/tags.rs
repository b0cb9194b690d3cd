//! (to be filled: the tags use cases)
