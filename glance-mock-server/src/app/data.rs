//! (to be filled: the data use cases)
