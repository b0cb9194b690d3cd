//! (to be filled: the locations use cases)
