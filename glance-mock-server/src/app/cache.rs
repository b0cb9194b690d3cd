//! (to be filled: the cache use cases)
