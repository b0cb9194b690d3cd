//! (to be filled: the staging use cases)
