//! `hashing_algorithm`: which digest becomes an image's `os_hash_value`.

use serde::{Deserialize, Serialize};

/// The algorithms the mock can compute: the `hashlib` names a deployment
/// can realistically set as Glance's `hashing_algorithm` (Glance takes any
/// name hashlib knows), spelt as Glance writes them into `os_hash_algo`.
/// The default, as in Glance, is sha512.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[allow(non_camel_case_types)]
pub enum HashAlgorithm {
    /// `sha512` (Glance's default).
    #[default]
    #[serde(rename = "sha512")]
    Sha512,
    /// `sha384`.
    #[serde(rename = "sha384")]
    Sha384,
    /// `sha256`.
    #[serde(rename = "sha256")]
    Sha256,
    /// `sha224`.
    #[serde(rename = "sha224")]
    Sha224,
    /// `sha1`.
    #[serde(rename = "sha1")]
    Sha1,
    /// `sha512_224`.
    #[serde(rename = "sha512_224")]
    Sha512_224,
    /// `sha512_256`.
    #[serde(rename = "sha512_256")]
    Sha512_256,
    /// `sha3_224`.
    #[serde(rename = "sha3_224")]
    Sha3_224,
    /// `sha3_256`.
    #[serde(rename = "sha3_256")]
    Sha3_256,
    /// `sha3_384`.
    #[serde(rename = "sha3_384")]
    Sha3_384,
    /// `sha3_512`.
    #[serde(rename = "sha3_512")]
    Sha3_512,
    /// `blake2b`: BLAKE2b with hashlib's default 64-byte digest.
    #[serde(rename = "blake2b")]
    Blake2b,
    /// `blake2s`: BLAKE2s with hashlib's default 32-byte digest.
    #[serde(rename = "blake2s")]
    Blake2s,
    /// `md5`.
    #[serde(rename = "md5")]
    Md5,
}

impl HashAlgorithm {
    /// Every supported algorithm.
    pub const ALL: [HashAlgorithm; 14] = [
        HashAlgorithm::Sha512,
        HashAlgorithm::Sha384,
        HashAlgorithm::Sha256,
        HashAlgorithm::Sha224,
        HashAlgorithm::Sha1,
        HashAlgorithm::Sha512_224,
        HashAlgorithm::Sha512_256,
        HashAlgorithm::Sha3_224,
        HashAlgorithm::Sha3_256,
        HashAlgorithm::Sha3_384,
        HashAlgorithm::Sha3_512,
        HashAlgorithm::Blake2b,
        HashAlgorithm::Blake2s,
        HashAlgorithm::Md5,
    ];

    /// The name Glance writes into `os_hash_algo`.
    pub fn name(self) -> &'static str {
        match self {
            HashAlgorithm::Sha512 => "sha512",
            HashAlgorithm::Sha384 => "sha384",
            HashAlgorithm::Sha256 => "sha256",
            HashAlgorithm::Sha224 => "sha224",
            HashAlgorithm::Sha1 => "sha1",
            HashAlgorithm::Sha512_224 => "sha512_224",
            HashAlgorithm::Sha512_256 => "sha512_256",
            HashAlgorithm::Sha3_224 => "sha3_224",
            HashAlgorithm::Sha3_256 => "sha3_256",
            HashAlgorithm::Sha3_384 => "sha3_384",
            HashAlgorithm::Sha3_512 => "sha3_512",
            HashAlgorithm::Blake2b => "blake2b",
            HashAlgorithm::Blake2s => "blake2s",
            HashAlgorithm::Md5 => "md5",
        }
    }
}

impl std::fmt::Display for HashAlgorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for HashAlgorithm {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        HashAlgorithm::ALL
            .into_iter()
            .find(|a| a.name() == s)
            .ok_or_else(|| {
                let known: Vec<&str> = HashAlgorithm::ALL.iter().map(|a| a.name()).collect();
                format!(
                    "unknown hashing algorithm `{s}` (one of: {})",
                    known.join(", ")
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;

    /// Glance takes any hashlib name as `hashing_algorithm`; the mock takes
    /// the fourteen a deployment can realistically use, from a config file
    /// and from `--hashing-algorithm` alike, and writes them back as given.
    #[test]
    fn every_name_is_accepted_as_glance_writes_it() {
        for algo in HashAlgorithm::ALL {
            let name = algo.name();
            let config = Config::from_toml(&format!("hashing_algorithm = \"{name}\""))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(config.hashing_algorithm, algo);
            assert_eq!(name.parse::<HashAlgorithm>(), Ok(algo));
            assert_eq!(algo.to_string(), name);
        }
        let names: Vec<&str> = HashAlgorithm::ALL.iter().map(|a| a.name()).collect();
        for expected in [
            "sha1",
            "sha224",
            "sha256",
            "sha384",
            "sha512",
            "sha512_224",
            "sha512_256",
            "sha3_224",
            "sha3_256",
            "sha3_384",
            "sha3_512",
            "blake2b",
            "blake2s",
            "md5",
        ] {
            assert!(names.contains(&expected), "{expected}");
        }
        assert!(Config::from_toml("hashing_algorithm = \"shake_128\"").is_err());
    }
}
