//! (to be filled: the tasks use cases)
