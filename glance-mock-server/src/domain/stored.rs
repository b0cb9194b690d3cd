//! What a store reports of data it took.

use crate::config::HashAlgorithm;

/// What [`crate::store::ImageStore::add`] reports, as `glance_store`'s
/// `add_with_multihash` does: bytes written, md5 hex (`checksum`) and the
/// digest of the configured `hashing_algorithm` (`os_hash_value`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// Bytes written.
    pub size: u64,
    /// md5 of the data, lower-case hex.
    pub md5: String,
    /// The algorithm of `os_hash_value`.
    pub os_hash_algo: HashAlgorithm,
    /// The data's digest with `os_hash_algo`, lower-case hex.
    pub os_hash_value: String,
}
