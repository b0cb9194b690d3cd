//! The digests of image data: the md5 `checksum` and the configured
//! `hashing_algorithm`'s `os_hash_value` (glance_store's "multihash"),
//! computed while data streams in, and the md5/sha512 of state dumps. And
//! which implementation computes each.
//!
//! Ingest is bounded by the slower of its two hashes (MD5 and SHA-512 by
//! default), so each algorithm comes from the fastest implementation
//! measured side by side (`cargo bench -p glance-bench -- digest`,
//! BENCHMARKS.md section 0):
//!
//! - with the default `openssl` feature, MD5, SHA-1 and the SHA-2 and SHA-3
//!   families from the system's OpenSSL, whose SHA-512 is 1.4× aws-lc's
//!   and its MD5 1.2× md-5's here; an algorithm that OpenSSL refuses at
//!   run time (MD5 under a FIPS-only provider) falls back to the
//!   implementation below;
//! - without it, SHA-1, SHA-2 and SHA3-256/384/512 from aws-lc-rs (linked
//!   already through reqwest's rustls) and the rest from the RustCrypto
//!   crates;
//! - BLAKE2 from the RustCrypto `blake2` crate in both builds: 1.2–1.3×
//!   OpenSSL's, which has no assembly for it.

use std::io;

use aws_lc_rs::digest;
use md5::Digest as _;

use crate::config::HashAlgorithm;

/// A running digest of one of the [`HashAlgorithm`]s.
pub(crate) struct Hasher(Backend);

enum Backend {
    #[cfg(feature = "openssl")]
    OpenSsl {
        hasher: openssl::hash::Hasher,
        /// The first error OpenSSL reported; the digest then fails in
        /// [`Hasher::finish`] instead of `update` having to.
        failed: Option<openssl::error::ErrorStack>,
    },
    AwsLc(digest::Context),
    Md5(md5::Md5),
    Sha512_224(sha2::Sha512_224),
    Sha3_224(sha3::Sha3_224),
    Blake2b(blake2::Blake2b512),
    Blake2s(blake2::Blake2s256),
}

impl std::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Hasher::")?;
        match &self.0 {
            #[cfg(feature = "openssl")]
            Backend::OpenSsl { .. } => f.write_str("OpenSsl"),
            Backend::AwsLc(h) => write!(f, "AwsLc({:?})", h.algorithm()),
            Backend::Md5(_) => f.write_str("Md5"),
            Backend::Sha512_224(_) => f.write_str("Sha512_224"),
            Backend::Sha3_224(_) => f.write_str("Sha3_224"),
            Backend::Blake2b(_) => f.write_str("Blake2b"),
            Backend::Blake2s(_) => f.write_str("Blake2s"),
        }
    }
}

impl Hasher {
    /// A fresh digest.
    pub(crate) fn new(algo: HashAlgorithm) -> Self {
        #[cfg(feature = "openssl")]
        if let Some(hasher) = Self::openssl(algo) {
            return hasher;
        }
        Self::fallback(algo)
    }

    /// From OpenSSL, when it is the faster here and the library in use
    /// offers it.
    #[cfg(feature = "openssl")]
    fn openssl(algo: HashAlgorithm) -> Option<Self> {
        let name = match algo {
            HashAlgorithm::Md5 => "MD5",
            HashAlgorithm::Sha1 => "SHA1",
            HashAlgorithm::Sha224 => "SHA224",
            HashAlgorithm::Sha256 => "SHA256",
            HashAlgorithm::Sha384 => "SHA384",
            HashAlgorithm::Sha512 => "SHA512",
            HashAlgorithm::Sha512_224 => "SHA512-224",
            HashAlgorithm::Sha512_256 => "SHA512-256",
            HashAlgorithm::Sha3_224 => "SHA3-224",
            HashAlgorithm::Sha3_256 => "SHA3-256",
            HashAlgorithm::Sha3_384 => "SHA3-384",
            HashAlgorithm::Sha3_512 => "SHA3-512",
            HashAlgorithm::Blake2b | HashAlgorithm::Blake2s => return None,
        };
        let digest = openssl::hash::MessageDigest::from_name(name)?;
        let hasher = openssl::hash::Hasher::new(digest).ok()?;
        Some(Hasher(Backend::OpenSsl {
            hasher,
            failed: None,
        }))
    }

    /// Without OpenSSL: aws-lc-rs where it has the algorithm, else RustCrypto.
    fn fallback(algo: HashAlgorithm) -> Self {
        let aws = |algorithm| Backend::AwsLc(digest::Context::new(algorithm));
        Hasher(match algo {
            HashAlgorithm::Sha512 => aws(&digest::SHA512),
            HashAlgorithm::Sha384 => aws(&digest::SHA384),
            HashAlgorithm::Sha256 => aws(&digest::SHA256),
            HashAlgorithm::Sha224 => aws(&digest::SHA224),
            HashAlgorithm::Sha1 => aws(&digest::SHA1_FOR_LEGACY_USE_ONLY),
            HashAlgorithm::Sha512_256 => aws(&digest::SHA512_256),
            HashAlgorithm::Sha3_256 => aws(&digest::SHA3_256),
            HashAlgorithm::Sha3_384 => aws(&digest::SHA3_384),
            HashAlgorithm::Sha3_512 => aws(&digest::SHA3_512),
            HashAlgorithm::Sha512_224 => Backend::Sha512_224(sha2::Sha512_224::new()),
            HashAlgorithm::Sha3_224 => Backend::Sha3_224(sha3::Sha3_224::new()),
            HashAlgorithm::Blake2b => Backend::Blake2b(blake2::Blake2b512::new()),
            HashAlgorithm::Blake2s => Backend::Blake2s(blake2::Blake2s256::new()),
            HashAlgorithm::Md5 => Backend::Md5(md5::Md5::new()),
        })
    }

    /// Feed more data.
    pub(crate) fn update(&mut self, data: &[u8]) {
        match &mut self.0 {
            #[cfg(feature = "openssl")]
            Backend::OpenSsl { hasher, failed } => {
                if failed.is_none() {
                    *failed = hasher.update(data).err();
                }
            }
            Backend::AwsLc(h) => h.update(data),
            Backend::Md5(h) => h.update(data),
            Backend::Sha512_224(h) => h.update(data),
            Backend::Sha3_224(h) => h.update(data),
            Backend::Blake2b(h) => h.update(data),
            Backend::Blake2s(h) => h.update(data),
        }
    }

    /// The digest, lower-case hex; an error only if OpenSSL failed.
    pub(crate) fn finish(self) -> io::Result<String> {
        Ok(match self.0 {
            #[cfg(feature = "openssl")]
            Backend::OpenSsl { mut hasher, failed } => {
                let digest = match failed {
                    Some(e) => Err(e),
                    None => hasher.finish(),
                };
                hex::encode(digest.map_err(|e| {
                    io::Error::other(format!("OpenSSL could not compute the digest: {e}"))
                })?)
            }
            Backend::AwsLc(h) => hex::encode(h.finish().as_ref()),
            Backend::Md5(h) => hex::encode(h.finalize()),
            Backend::Sha512_224(h) => hex::encode(h.finalize()),
            Backend::Sha3_224(h) => hex::encode(h.finalize()),
            Backend::Blake2b(h) => hex::encode(h.finalize()),
            Backend::Blake2s(h) => hex::encode(h.finalize()),
        })
    }

    /// The digest of `data` alone, lower-case hex.
    pub(crate) fn hex_of(algo: HashAlgorithm, data: &[u8]) -> io::Result<String> {
        let mut hasher = Hasher::new(algo);
        hasher.update(data);
        hasher.finish()
    }

    /// Which implementation computes it.
    #[cfg(test)]
    fn backend(&self) -> &'static str {
        match &self.0 {
            #[cfg(feature = "openssl")]
            Backend::OpenSsl { .. } => "openssl",
            Backend::AwsLc(_) => "aws-lc-rs",
            _ => "rustcrypto",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_match_their_algorithm() {
        let hex_of = |algo| {
            let mut h = Hasher::new(algo);
            h.update(b"ab");
            h.update(b"c");
            h.finish().expect("a digest")
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
            for mut h in [Hasher::new(algo), Hasher::fallback(algo)] {
                h.update(b"ab");
                h.update(b"c");
                assert_eq!(h.finish().expect("a digest"), expected, "{name}");
            }
        }
    }

    /// The build's choice, as BENCHMARKS.md's section 0 measured it.
    #[test]
    fn each_algorithm_comes_from_the_chosen_implementation() {
        for algo in HashAlgorithm::ALL {
            let expected = match algo {
                HashAlgorithm::Blake2b | HashAlgorithm::Blake2s => "rustcrypto",
                _ if cfg!(feature = "openssl") => "openssl",
                HashAlgorithm::Md5 | HashAlgorithm::Sha512_224 | HashAlgorithm::Sha3_224 => {
                    "rustcrypto"
                }
                _ => "aws-lc-rs",
            };
            assert_eq!(Hasher::new(algo).backend(), expected, "{algo}");
        }
    }

    /// Over several blocks, in pieces that straddle block boundaries, the
    /// build's implementation and the fallback agree, for every algorithm.
    #[test]
    fn implementations_agree_on_long_uneven_input() {
        let data: Vec<u8> = (0..300_001u32).map(|i| (i * 7 + i / 251) as u8).collect();
        for algo in HashAlgorithm::ALL {
            let mut whole = Hasher::fallback(algo);
            whole.update(&data);
            let mut pieces = Hasher::new(algo);
            for piece in data.chunks(4_093) {
                pieces.update(piece);
            }
            assert_eq!(
                pieces.finish().expect("a digest"),
                whole.finish().expect("a digest"),
                "{algo}"
            );
        }
    }
}
