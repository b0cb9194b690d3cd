//! (to be filled: the import use cases)
