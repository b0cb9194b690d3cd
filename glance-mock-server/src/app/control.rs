//! (to be filled: the control use cases)
