//! (to be filled: the members use cases)
