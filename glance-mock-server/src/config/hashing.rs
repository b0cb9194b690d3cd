//! `hashing_algorithm`: which digest becomes an image's `os_hash_value`.

use serde::{Deserialize, Serialize};

/// The algorithms the mock can compute (Glance takes any `hashlib` name;
/// these are the ones deployments use). The default, as in Glance, is
/// sha512.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HashAlgorithm {
    /// `sha512` (Glance's default).
    #[default]
    Sha512,
    /// `sha384`.
    Sha384,
    /// `sha256`.
    Sha256,
    /// `sha224`.
    Sha224,
    /// `md5`.
    Md5,
}

impl HashAlgorithm {
    /// Every supported algorithm.
    pub const ALL: [HashAlgorithm; 5] = [
        HashAlgorithm::Sha512,
        HashAlgorithm::Sha384,
        HashAlgorithm::Sha256,
        HashAlgorithm::Sha224,
        HashAlgorithm::Md5,
    ];

    /// The name Glance writes into `os_hash_algo`.
    pub fn name(self) -> &'static str {
        match self {
            HashAlgorithm::Sha512 => "sha512",
            HashAlgorithm::Sha384 => "sha384",
            HashAlgorithm::Sha256 => "sha256",
            HashAlgorithm::Sha224 => "sha224",
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
