//! The configured `hashing_algorithm`'s digest, computed while data
//! streams in (glance_store's "multihash").

use md5::{Digest, Md5};
use sha2::{Sha224, Sha256, Sha384, Sha512};

use crate::config::HashAlgorithm;

/// A running digest of one of the [`HashAlgorithm`]s.
#[derive(Debug, Clone)]
pub(crate) enum Multihash {
    Sha512(Sha512),
    Sha384(Sha384),
    Sha256(Sha256),
    Sha224(Sha224),
    Md5(Md5),
}

impl Multihash {
    /// A fresh digest.
    pub(crate) fn new(algo: HashAlgorithm) -> Self {
        match algo {
            HashAlgorithm::Sha512 => Multihash::Sha512(Sha512::new()),
            HashAlgorithm::Sha384 => Multihash::Sha384(Sha384::new()),
            HashAlgorithm::Sha256 => Multihash::Sha256(Sha256::new()),
            HashAlgorithm::Sha224 => Multihash::Sha224(Sha224::new()),
            HashAlgorithm::Md5 => Multihash::Md5(Md5::new()),
        }
    }

    /// Feed more data.
    pub(crate) fn update(&mut self, data: &[u8]) {
        match self {
            Multihash::Sha512(h) => h.update(data),
            Multihash::Sha384(h) => h.update(data),
            Multihash::Sha256(h) => h.update(data),
            Multihash::Sha224(h) => h.update(data),
            Multihash::Md5(h) => h.update(data),
        }
    }

    /// The digest, lower-case hex.
    pub(crate) fn finish(self) -> String {
        match self {
            Multihash::Sha512(h) => hex::encode(h.finalize()),
            Multihash::Sha384(h) => hex::encode(h.finalize()),
            Multihash::Sha256(h) => hex::encode(h.finalize()),
            Multihash::Sha224(h) => hex::encode(h.finalize()),
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
        assert_eq!(hex_of(HashAlgorithm::Sha512).len(), 128);
        assert_eq!(hex_of(HashAlgorithm::Sha384).len(), 96);
        assert_eq!(hex_of(HashAlgorithm::Sha224).len(), 56);
    }
}
