//! Version discovery: `GET /versions`, cached per client.
//!
//! Glance lists the minor versions it serves (`v2.0` … `v2.17`, more with an
//! image cache or several stores). Some calls exist only from a given minor
//! version on; the client asks once per [`Client`] and refuses those calls
//! with [`Error::UnsupportedVersion`] when the server lacks them.

use std::fmt;

use reqwest::{Method, StatusCode};
use serde::{Deserialize, Serialize};
use tokio::sync::OnceCell;

use crate::client::Client;
use crate::error::{Error, Result};
use crate::macros::string_enum;
use crate::transport::RequestSpec;

string_enum! {
    /// How the server regards one of its API versions.
    VersionStatus {
        /// The newest version.
        Current = "CURRENT",
        /// Served and supported.
        Supported = "SUPPORTED",
        /// Served, may change.
        Experimental = "EXPERIMENTAL",
        /// Served, going away.
        Deprecated = "DEPRECATED",
    }
}

/// A link of a version entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Link {
    /// Relation (`self`).
    pub rel: String,
    /// Target, e.g. `http://controller:9292/v2/`.
    pub href: String,
}

/// One entry of the version document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ApiVersion {
    /// `v2.17`, …
    pub id: String,
    /// Its status.
    pub status: VersionStatus,
    /// Links (usually one, `self`).
    #[serde(default)]
    pub links: Vec<Link>,
}

impl ApiVersion {
    /// Whether calls of this version may be made: `CURRENT`, `SUPPORTED`
    /// or `EXPERIMENTAL` (as python-glanceclient decides).
    pub fn is_usable(&self) -> bool {
        matches!(
            self.status,
            VersionStatus::Current | VersionStatus::Supported | VersionStatus::Experimental
        )
    }

    /// `(major, minor)` of the id, if it has the `vX.Y` form.
    pub fn number(&self) -> Option<(u32, u32)> {
        parse_version(&self.id)
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.id, self.status)
    }
}

#[derive(Deserialize)]
struct Document {
    versions: Vec<ApiVersion>,
}

/// `"2.14"`, `"v2.14"` or `"v2"` as `(major, minor)`.
pub(crate) fn parse_version(s: &str) -> Option<(u32, u32)> {
    let s = s.strip_prefix(['v', 'V']).unwrap_or(s);
    let (major, minor) = s.split_once('.').unwrap_or((s, "0"));
    Some((major.parse().ok()?, minor.parse().ok()?))
}

/// The per-client cache of the version document.
#[derive(Debug, Default)]
pub(crate) struct VersionCache(OnceCell<Vec<ApiVersion>>);

/// How a call's version requirement is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Needs {
    /// The exact minor version must be listed: for features that depend on
    /// the deployment's configuration (the cache API is announced as
    /// v2.14 only when an image cache is configured).
    Listed,
    /// That minor version or a newer usable one must be listed: for calls
    /// that every newer release serves whatever its configuration (Glance
    /// lists v2.12 only with several stores, yet serves image tasks).
    AtLeast,
}

/// Whether `versions` satisfy `needed` in the given mode.
pub(crate) fn satisfies(versions: &[ApiVersion], needed: (u32, u32), mode: Needs) -> bool {
    versions
        .iter()
        .filter(|v| v.is_usable())
        .filter_map(ApiVersion::number)
        .any(|have| match mode {
            Needs::Listed => have == needed,
            Needs::AtLeast => have.0 == needed.0 && have.1 >= needed.1,
        })
}

impl Client {
    /// `GET /versions`: the API versions the server offers (Glance answers
    /// 200 there and 300 at `/`; both are accepted). Fetched once per
    /// client and cached; a failed fetch is not cached.
    ///
    /// ```no_run
    /// # async fn demo(client: glance_client::Client) -> glance_client::Result<()> {
    /// for v in client.versions().await? {
    ///     println!("{v}");
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn versions(&self) -> Result<&[ApiVersion]> {
        self.version_cache()
            .0
            .get_or_try_init(|| async {
                let mut spec = RequestSpec::new(Method::GET, ["versions"]);
                spec.also_ok = &[StatusCode::MULTIPLE_CHOICES];
                let doc: Document = self.send_json(spec).await?;
                Ok(doc.versions)
            })
            .await
            .map(Vec::as_slice)
    }

    /// Whether the server lists API version `version` (`"2.14"` or
    /// `"v2.14"`) as current, supported or experimental. Exactly that
    /// version must be listed, as python-glanceclient checks it.
    ///
    /// ```no_run
    /// # async fn demo(client: glance_client::Client) -> glance_client::Result<()> {
    /// if client.has_version("2.14").await? {
    ///     println!("this Glance has an image cache API");
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn has_version(&self, version: &str) -> Result<bool> {
        let needed = parse_version(version)
            .ok_or_else(|| Error::InvalidInput(format!("not an API version: {version:?}")))?;
        Ok(satisfies(self.versions().await?, needed, Needs::Listed))
    }

    /// Refuse a call the server lacks with [`Error::UnsupportedVersion`].
    pub(crate) async fn require_version(&self, needed: &'static str, mode: Needs) -> Result<()> {
        let number = parse_version(needed).ok_or_else(|| {
            Error::InvalidInput(format!("internal: bad version requirement {needed}"))
        })?;
        let versions = self.versions().await?;
        if satisfies(versions, number, mode) {
            Ok(())
        } else {
            Err(Error::UnsupportedVersion {
                needed: format!("v{needed}"),
                available: versions
                    .iter()
                    .filter(|v| v.is_usable())
                    .map(|v| v.id.clone())
                    .collect(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(id: &str, status: &str) -> ApiVersion {
        ApiVersion {
            id: id.into(),
            status: VersionStatus::from_wire(status),
            links: Vec::new(),
        }
    }

    #[test]
    fn version_strings() {
        assert_eq!(parse_version("2.14"), Some((2, 14)));
        assert_eq!(parse_version("v2.9"), Some((2, 9)));
        assert_eq!(parse_version("v2"), Some((2, 0)));
        assert_eq!(parse_version("two"), None);
        assert_eq!(parse_version("v2.x"), None);
    }

    #[test]
    fn listed_versus_at_least() {
        // Glance 33 without multistore or cache.
        let default = [
            v("v2.15", "SUPPORTED"),
            v("v2.9", "SUPPORTED"),
            v("v2.17", "CURRENT"),
            v("v2.1", "SUPPORTED"),
            v("v2.0", "SUPPORTED"),
        ];
        assert!(satisfies(&default, (2, 17), Needs::Listed));
        assert!(!satisfies(&default, (2, 14), Needs::Listed));
        assert!(!satisfies(&default, (2, 12), Needs::Listed));
        assert!(satisfies(&default, (2, 12), Needs::AtLeast));
        assert!(!satisfies(&default, (2, 18), Needs::AtLeast));
        assert!(!satisfies(&default, (3, 0), Needs::AtLeast));
        let deprecated = [v("v2.14", "DEPRECATED")];
        assert!(!satisfies(&deprecated, (2, 14), Needs::Listed));
    }

    #[test]
    fn decodes_the_glance_document() {
        let doc: Document = serde_json::from_str(
            r#"{"versions": [{"id": "v2.17", "status": "CURRENT", "links": [{"rel": "self", "href": "http://h/v2/"}]}]}"#,
        )
        .expect("decodes");
        assert_eq!(doc.versions[0].status, VersionStatus::Current);
        assert_eq!(doc.versions[0].number(), Some((2, 17)));
        assert_eq!(doc.versions[0].to_string(), "v2.17 (CURRENT)");
    }
}
