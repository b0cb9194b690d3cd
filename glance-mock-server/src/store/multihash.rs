//! The configured `hashing_algorithm`'s digest, computed while data
//! streams in (glance_store's "multihash").

use aws_lc_rs::digest;
use md5::{Digest, Md5};

use crate::config::HashAlgorithm;

/// A running digest of one of the [`HashAlgorithm`]s. The SHA-2 family
/// comes from aws-lc-rs (already linked through reqwest's rustls): its
/// SHA-512 is about 1.4× sha2 0.11's here, and SHA-512 is the slower half
/// of ingest (BENCHMARKS.md).
#[derive(Clone)]
pub(crate) enum Multihash {
    Sha2(digest::Context),
    Md5(Md5),
}

impl std::fmt::Debug for Multihash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Multihash::Sha2(h) => {
                write!(f, "Multihash::Sha2({} bytes)", h.algorithm().output_len())
            }
            Multihash::Md5(_) => f.write_str("Multihash::Md5"),
        }
    }
}

impl Multihash {
    /// A fresh digest.
    pub(crate) fn new(algo: HashAlgorithm) -> Self {
        let sha2 = |algorithm| Multihash::Sha2(digest::Context::new(algorithm));
        match algo {
            HashAlgorithm::Sha512 => sha2(&digest::SHA512),
            HashAlgorithm::Sha384 => sha2(&digest::SHA384),
            HashAlgorithm::Sha256 => sha2(&digest::SHA256),
            HashAlgorithm::Sha224 => sha2(&digest::SHA224),
            HashAlgorithm::Md5 => Multihash::Md5(Md5::new()),
        }
    }

    /// Feed more data.
    pub(crate) fn update(&mut self, data: &[u8]) {
        match self {
            Multihash::Sha2(h) => h.update(data),
            Multihash::Md5(h) => h.update(data),
        }
    }

    /// The digest, lower-case hex.
    pub(crate) fn finish(self) -> String {
        match self {
            Multihash::Sha2(h) => hex::encode(h.finish().as_ref()),
            Multihash::Md5(h) => hex::encode(h.finalize()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_match_their_algorithm() {
        let hex_of = |algo| {
            let mut h = Multihash::new(algo);
            h.update(b"ab");
            h.update(b"c");
            h.finish()
        };
        assert_eq!(
            hex_of(HashAlgorithm::Sha256),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            hex_of(HashAlgorithm::Md5),
            "900150983cd24fb0d6963f7d28e17f72"
        );
        assert_eq!(
            hex_of(HashAlgorithm::Sha512),
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a\
             2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
        );
        assert_eq!(hex_of(HashAlgorithm::Sha384).len(), 96);
        assert_eq!(hex_of(HashAlgorithm::Sha224).len(), 56);
    }
}
