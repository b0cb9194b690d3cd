//! The digests downloads are verified with, and which implementation
//! computes each.
//!
//! A verified download runs at the speed of its digest on one core, so each
//! algorithm comes from the fastest implementation measured side by side
//! (`cargo bench -p glance-bench -- digest`, BENCHMARKS.md section 0):
//!
//! - with the default `openssl` feature, MD5, SHA-1 and the SHA-2 and SHA-3
//!   families from the system's OpenSSL, whose SHA-512 (the default
//!   `os_hash_algo`) is 1.4× aws-lc's and its MD5 1.2× md-5's here; an
//!   algorithm that OpenSSL refuses at run time (MD5 under a FIPS-only
//!   provider) falls back to the implementation below;
//! - without it, SHA-1, SHA-2 and SHA3-256/384/512 from aws-lc-rs (linked
//!   already through reqwest's rustls) and the rest from the RustCrypto
//!   crates;
//! - BLAKE2 from the RustCrypto `blake2` crate in both builds: 1.2–1.3×
//!   OpenSSL's, which has no assembly for it.

/// A running digest of one of the algorithms in
/// [`SUPPORTED_ALGORITHMS`](crate::verify::SUPPORTED_ALGORITHMS).
pub(crate) struct Hasher(Backend);

enum Backend {
    #[cfg(feature = "openssl")]
    OpenSsl {
        hasher: openssl::hash::Hasher,
        /// The first error OpenSSL reported; the digest then fails in
        /// [`Hasher::finish_hex`] instead of `update` having to.
        failed: Option<openssl::error::ErrorStack>,
    },
    AwsLc(aws_lc_rs::digest::Context),
    Md5(md5::Md5),
    Sha512_224(sha2::Sha512_224),
    Sha3_224(sha3::Sha3_224),
    /// hashlib's `blake2b()`: 64-byte digest, no key.
    Blake2b(blake2::Blake2b512),
    /// hashlib's `blake2s()`: 32-byte digest, no key.
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
    /// The digest Glance writes as `os_hash_algo` = `algorithm` (hashlib's
    /// name, case-insensitive); `None` for one this client does not know.
    pub(crate) fn for_algorithm(algorithm: &str) -> Option<Hasher> {
        let name = algorithm.to_ascii_lowercase();
        #[cfg(feature = "openssl")]
        if let Some(hasher) = Self::openssl(&name) {
            return Some(hasher);
        }
        Self::fallback(&name)
    }

    /// From OpenSSL, when it is the faster here and the library in use
    /// offers it.
    #[cfg(feature = "openssl")]
    fn openssl(name: &str) -> Option<Hasher> {
        let openssl_name = match name {
            "md5" => "MD5",
            "sha1" => "SHA1",
            "sha224" => "SHA224",
            "sha256" => "SHA256",
            "sha384" => "SHA384",
            "sha512" => "SHA512",
            "sha512_224" => "SHA512-224",
            "sha512_256" => "SHA512-256",
            "sha3_224" => "SHA3-224",
            "sha3_256" => "SHA3-256",
            "sha3_384" => "SHA3-384",
            "sha3_512" => "SHA3-512",
            _ => return None,
        };
        let digest = openssl::hash::MessageDigest::from_name(openssl_name)?;
        let hasher = openssl::hash::Hasher::new(digest).ok()?;
        Some(Hasher(Backend::OpenSsl {
            hasher,
            failed: None,
        }))
    }

    /// Without OpenSSL: aws-lc-rs where it has the algorithm, else RustCrypto.
    fn fallback(name: &str) -> Option<Hasher> {
        use aws_lc_rs::digest;
        use sha2::Digest as _;
        let aws = |a: &'static digest::Algorithm| Backend::AwsLc(digest::Context::new(a));
        Some(Hasher(match name {
            "md5" => Backend::Md5(md5::Md5::new()),
            "sha1" => aws(&digest::SHA1_FOR_LEGACY_USE_ONLY),
            "sha224" => aws(&digest::SHA224),
            "sha256" => aws(&digest::SHA256),
            "sha384" => aws(&digest::SHA384),
            "sha512" => aws(&digest::SHA512),
            "sha512_256" => aws(&digest::SHA512_256),
            "sha3_256" => aws(&digest::SHA3_256),
            "sha3_384" => aws(&digest::SHA3_384),
            "sha3_512" => aws(&digest::SHA3_512),
            "sha512_224" => Backend::Sha512_224(sha2::Sha512_224::new()),
            "sha3_224" => Backend::Sha3_224(sha3::Sha3_224::new()),
            "blake2b" => Backend::Blake2b(blake2::Blake2b512::new()),
            "blake2s" => Backend::Blake2s(blake2::Blake2s256::new()),
            _ => return None,
        }))
    }

    /// Feed more data.
    pub(crate) fn update(&mut self, data: &[u8]) {
        use sha2::Digest as _;
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
    pub(crate) fn finish_hex(self) -> std::io::Result<String> {
        use sha2::Digest as _;
        Ok(match self.0 {
            #[cfg(feature = "openssl")]
            Backend::OpenSsl { mut hasher, failed } => {
                let digest = match failed {
                    Some(e) => Err(e),
                    None => hasher.finish(),
                };
                hex::encode(digest.map_err(|e| {
                    std::io::Error::other(format!("OpenSSL could not compute the digest: {e}"))
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

    /// Which implementation computes it (for tests and logs).
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
    use crate::verify::SUPPORTED_ALGORITHMS;

    /// `hashlib.new(name, b"abc").hexdigest()` for each name, from CPython 3.11.
    const ABC: [(&str, &str); 14] = [
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

    fn hex_of(hasher: Option<Hasher>, parts: &[&[u8]]) -> String {
        let mut h = hasher.expect("a hasher");
        for part in parts {
            h.update(part);
        }
        h.finish_hex().expect("a digest")
    }

    #[test]
    fn every_listed_algorithm_matches_hashlib() {
        assert_eq!(
            ABC.map(|(name, _)| name),
            SUPPORTED_ALGORITHMS,
            "the test vectors cover the list"
        );
        for (name, expected) in ABC {
            let h = Hasher::for_algorithm(name);
            assert_eq!(hex_of(h, &[b"a", b"bc"]), expected, "{name}");
            assert_eq!(
                hex_of(Hasher::fallback(name), &[b"ab", b"c"]),
                expected,
                "{name} without OpenSSL"
            );
        }
        assert!(
            Hasher::for_algorithm("SHA3_256").is_some(),
            "case-insensitive"
        );
        assert!(Hasher::for_algorithm("shake_128").is_none());
    }

    /// The build's choice, as BENCHMARKS.md's section 0 measured it.
    #[test]
    fn each_algorithm_comes_from_the_chosen_implementation() {
        for name in SUPPORTED_ALGORITHMS {
            let backend = Hasher::for_algorithm(name).expect(name).backend();
            let expected = match name {
                "blake2b" | "blake2s" => "rustcrypto",
                _ if cfg!(feature = "openssl") => "openssl",
                "md5" | "sha512_224" | "sha3_224" => "rustcrypto",
                _ => "aws-lc-rs",
            };
            assert_eq!(backend, expected, "{name}");
        }
    }

    /// Over several blocks, in pieces that straddle block boundaries, the
    /// build's implementation and the fallback agree, for every algorithm.
    #[test]
    fn implementations_agree_on_long_uneven_input() {
        let data: Vec<u8> = (0..300_001u32).map(|i| (i * 7 + i / 251) as u8).collect();
        let pieces: Vec<&[u8]> = data.chunks(4_093).collect();
        for name in SUPPORTED_ALGORITHMS {
            let whole = hex_of(Hasher::fallback(name), &[&data]);
            assert_eq!(
                hex_of(Hasher::for_algorithm(name), &pieces),
                whole,
                "{name}"
            );
        }
    }
}
