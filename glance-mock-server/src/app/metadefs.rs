//! (to be filled: the metadefs use cases)
