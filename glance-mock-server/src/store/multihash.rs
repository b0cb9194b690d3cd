//! The configured `hashing_algorithm`'s digest, computed while data
//! streams in (glance_store's "multihash").

use aws_lc_rs::digest;
use md5::{Digest, Md5};

use crate::config::HashAlgorithm;

/// A running digest of one of the [`HashAlgorithm`]s. SHA-1, SHA-2 and
/// most of SHA-3 come from aws-lc-rs (already linked through reqwest's
/// rustls): its SHA-512 is about 1.4× sha2 0.11's here, and SHA-512 is the
/// slower half of ingest (BENCHMARKS.md). RustCrypto's crates fill the gaps.
#[derive(Clone)]
pub(crate) enum Multihash {
    AwsLc(digest::Context),
    Md5(Md5),
    Sha512_224(sha2::Sha512_224),
    Sha3_224(sha3::Sha3_224),
    Blake2b(blake2::Blake2b512),
    Blake2s(blake2::Blake2s256),
}

impl std::fmt::Debug for Multihash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Multihash::AwsLc(h) => write!(f, "Multihash::AwsLc({:?})", h.algorithm()),
            Multihash::Md5(_) => f.write_str("Multihash::Md5"),
            Multihash::Sha512_224(_) => f.write_str("Multihash::Sha512_224"),
            Multihash::Sha3_224(_) => f.write_str("Multihash::Sha3_224"),
            Multihash::Blake2b(_) => f.write_str("Multihash::Blake2b"),
            Multihash::Blake2s(_) => f.write_str("Multihash::Blake2s"),
        }
    }
}

impl Multihash {
    /// A fresh digest.
    pub(crate) fn new(algo: HashAlgorithm) -> Self {
        let aws = |algorithm| Multihash::AwsLc(digest::Context::new(algorithm));
        match algo {
            HashAlgorithm::Sha512 => aws(&digest::SHA512),
            HashAlgorithm::Sha384 => aws(&digest::SHA384),
            HashAlgorithm::Sha256 => aws(&digest::SHA256),
            HashAlgorithm::Sha224 => aws(&digest::SHA224),
            HashAlgorithm::Sha1 => aws(&digest::SHA1_FOR_LEGACY_USE_ONLY),
            HashAlgorithm::Sha512_256 => aws(&digest::SHA512_256),
            HashAlgorithm::Sha3_256 => aws(&digest::SHA3_256),
            HashAlgorithm::Sha3_384 => aws(&digest::SHA3_384),
            HashAlgorithm::Sha3_512 => aws(&digest::SHA3_512),
            HashAlgorithm::Sha512_224 => Multihash::Sha512_224(sha2::Sha512_224::new()),
            HashAlgorithm::Sha3_224 => Multihash::Sha3_224(sha3::Sha3_224::new()),
            HashAlgorithm::Blake2b => Multihash::Blake2b(blake2::Blake2b512::new()),
            HashAlgorithm::Blake2s => Multihash::Blake2s(blake2::Blake2s256::new()),
            HashAlgorithm::Md5 => Multihash::Md5(Md5::new()),
        }
    }

    /// Feed more data.
    pub(crate) fn update(&mut self, data: &[u8]) {
        match self {
            Multihash::AwsLc(h) => h.update(data),
            Multihash::Md5(h) => h.update(data),
            Multihash::Sha512_224(h) => h.update(data),
            Multihash::Sha3_224(h) => h.update(data),
            Multihash::Blake2b(h) => h.update(data),
            Multihash::Blake2s(h) => h.update(data),
        }
    }

    /// The digest, lower-case hex.
    pub(crate) fn finish(self) -> String {
        match self {
            Multihash::AwsLc(h) => hex::encode(h.finish().as_ref()),
            Multihash::Md5(h) => hex::encode(h.finalize()),
            Multihash::Sha512_224(h) => hex::encode(h.finalize()),
            Multihash::Sha3_224(h) => hex::encode(h.finalize()),
            Multihash::Blake2b(h) => hex::encode(h.finalize()),
            Multihash::Blake2s(h) => hex::encode(h.finalize()),
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

    /// `hashlib.new(name, b"abc").hexdigest()`, from CPython 3.11.
    #[test]
    fn every_algorithm_matches_hashlib() {
        let abc = [
            ("sha1", "a9993e364706816aba3e25717850c26c9cd0d89d"),
            (
                "sha224",
                "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7",
            ),
            (
                "sha256",
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            ),
            (
                "sha384",
                "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7",
            ),
            (
                "sha512",
                "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
            ),
            (
                "sha512_224",
                "4634270f707b6a54daae7530460842e20e37ed265ceee9a43e8924aa",
            ),
            (
                "sha512_256",
                "53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23",
            ),
            (
                "sha3_224",
                "e642824c3f8cf24ad09234ee7d3c766fc9a3a5168d0c94ad73b46fdf",
            ),
            (
                "sha3_256",
                "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532",
            ),
            (
                "sha3_384",
                "ec01498288516fc926459f58e2c6ad8df9b473cb0fc08c2596da7cf0e49be4b298d88cea927ac7f539f1edf228376d25",
            ),
            (
                "sha3_512",
                "b751850b1a57168a5693cd924b6b096e08f621827444f70d884f5d0240d2712e10e116e9192af3c91a7ec57647e3934057340b4cf408d5a56592f8274eec53f0",
            ),
            (
                "blake2b",
                "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923",
            ),
            (
                "blake2s",
                "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982",
            ),
            ("md5", "900150983cd24fb0d6963f7d28e17f72"),
        ];
        assert_eq!(abc.len(), HashAlgorithm::ALL.len());
        for (name, expected) in abc {
            let algo: HashAlgorithm = name.parse().expect(name);
            assert_eq!(algo.name(), name);
            let mut h = Multihash::new(algo);
            h.update(b"ab");
            h.update(b"c");
            assert_eq!(h.finish(), expected, "{name}");
        }
    }
}
