//! Images as the API describes them.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::info::StoreId;

use crate::macros::string_enum;
use serde_json::Value;

string_enum! {
    /// Where an image is in its life cycle.
    ImageStatus {
        /// Created, no data yet.
        Queued = "queued",
        /// Data being uploaded.
        Saving = "saving",
        /// Data staged for import.
        Uploading = "uploading",
        /// Being imported.
        Importing = "importing",
        /// Usable.
        Active = "active",
        /// Data upload failed.
        Killed = "killed",
        /// Deleted.
        Deleted = "deleted",
        /// Deleted, data deletion pending.
        PendingDelete = "pending_delete",
        /// Data download disabled.
        Deactivated = "deactivated",
    }
}

string_enum! {
    /// Who may see an image.
    Visibility {
        /// Everyone; listed by default.
        Public = "public",
        /// Everyone; listed only on request.
        Community = "community",
        /// The owner and projects it is shared with.
        Shared = "shared",
        /// The owner only.
        Private = "private",
    }
}

string_enum! {
    /// The format of the disk image.
    DiskFormat {
        /// Amazon machine image.
        Ami = "ami",
        /// Amazon ramdisk image.
        Ari = "ari",
        /// Amazon kernel image.
        Aki = "aki",
        /// VHD.
        Vhd = "vhd",
        /// VHDX.
        Vhdx = "vhdx",
        /// VMware disk.
        Vmdk = "vmdk",
        /// Raw bytes.
        Raw = "raw",
        /// QEMU copy-on-write v2.
        Qcow2 = "qcow2",
        /// VirtualBox disk.
        Vdi = "vdi",
        /// ISO 9660.
        Iso = "iso",
        /// Virtuozzo ploop.
        Ploop = "ploop",
    }
}

string_enum! {
    /// The container the disk image comes in.
    ContainerFormat {
        /// Amazon machine image.
        Ami = "ami",
        /// Amazon ramdisk image.
        Ari = "ari",
        /// Amazon kernel image.
        Aki = "aki",
        /// No container.
        Bare = "bare",
        /// Open Virtualization Format.
        Ovf = "ovf",
        /// OVF archive.
        Ova = "ova",
        /// Docker tar archive.
        Docker = "docker",
        /// Compressed archive.
        Compressed = "compressed",
    }
}

/// An image record.
///
/// Times and stores are typed:
///
/// ```
/// # fn main() -> Result<(), serde_json::Error> {
/// use glance_client::{Image, StoreId};
/// let image: Image = serde_json::from_value(serde_json::json!({
///     "id": "i", "status": "active",
///     "created_at": "2026-01-01T00:00:00Z", "stores": "fast,cheap"
/// }))?;
/// let created: time::OffsetDateTime = image.created_at.expect("sent");
/// assert_eq!(created.year(), 2026);
/// assert!(image.stores.contains(&StoreId::new("cheap")));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Image {
    /// UUID.
    pub id: String,
    /// Name, if any.
    #[serde(default)]
    pub name: Option<String>,
    /// Life-cycle status.
    pub status: ImageStatus,
    /// Who may see it.
    #[serde(default = "default_visibility")]
    pub visibility: Visibility,
    /// Protected images cannot be deleted.
    #[serde(default)]
    pub protected: bool,
    /// Hidden from default lists.
    #[serde(default)]
    pub os_hidden: bool,
    /// MD5 hex digest of the data.
    #[serde(default)]
    pub checksum: Option<String>,
    /// Secure hash algorithm of `os_hash_value` (e.g. `sha512`).
    #[serde(default)]
    pub os_hash_algo: Option<String>,
    /// Hex digest of the data by `os_hash_algo`.
    #[serde(default)]
    pub os_hash_value: Option<String>,
    /// Owning project.
    #[serde(default)]
    pub owner: Option<String>,
    /// Size of the data in bytes.
    #[serde(default)]
    pub size: Option<u64>,
    /// Size of the virtual disk in bytes.
    #[serde(default)]
    pub virtual_size: Option<u64>,
    /// Container format.
    #[serde(default)]
    pub container_format: Option<ContainerFormat>,
    /// Disk format.
    #[serde(default)]
    pub disk_format: Option<DiskFormat>,
    /// Minimum RAM in MiB to boot it.
    #[serde(default)]
    pub min_ram: u64,
    /// Minimum disk in GiB to boot it.
    #[serde(default)]
    pub min_disk: u64,
    /// Tags (a set; order is not meaningful).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Creation time (Glance sends `YYYY-MM-DDThh:mm:ssZ`).
    #[serde(default, with = "super::timestamp::optional")]
    pub created_at: Option<OffsetDateTime>,
    /// Last change of the record.
    #[serde(default, with = "super::timestamp::optional")]
    pub updated_at: Option<OffsetDateTime>,
    /// The stores holding the data (multi-store deployments; Glance sends
    /// them comma-separated, `"fast,cheap"`, and it is written back so;
    /// empty is written as `null`). Empty without data or stores.
    #[serde(default, with = "super::timestamp::store_list")]
    pub stores: Vec<StoreId>,
    /// Link to the record (`/v2/images/{id}`).
    #[serde(rename = "self", default, skip_serializing_if = "Option::is_none")]
    pub self_link: Option<String>,
    /// Link to the data (`/v2/images/{id}/file`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Link to the schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Every other property (`os_distro`, `hw_*`, …). Glance stores them as
    /// strings; other JSON values are kept as sent by the server.
    #[serde(flatten)]
    pub properties: BTreeMap<String, Value>,
}

fn default_visibility() -> Visibility {
    Visibility::Shared
}

impl Image {
    /// An extra property's string value.
    pub fn property(&self, key: &str) -> Option<&str> {
        self.properties.get(key).and_then(Value::as_str)
    }

    /// The image's signature properties (`img_signature*`, as nova and
    /// cursive read them), when it carries any. They are shown, not
    /// verified: verifying needs the certificate from a key manager.
    ///
    /// ```
    /// # fn main() -> Result<(), serde_json::Error> {
    /// let image: glance_client::Image = serde_json::from_value(serde_json::json!({
    ///     "id": "i", "status": "active",
    ///     "img_signature": "c2ln", "img_signature_hash_method": "SHA-256",
    ///     "img_signature_key_type": "RSA-PSS",
    ///     "img_signature_certificate_uuid": "5c0d0ae6-0000-4000-8000-000000000000"
    /// }))?;
    /// if let Some(sig) = image.signature() {
    ///     assert_eq!(sig.hash_method.as_deref(), Some("SHA-256"));
    /// }
    /// # assert!(image.signature().is_some());
    /// # Ok(())
    /// # }
    /// ```
    pub fn signature(&self) -> Option<ImageSignature> {
        let get = |key: &str| self.property(key).map(str::to_owned);
        let sig = ImageSignature {
            signature: get("img_signature"),
            hash_method: get("img_signature_hash_method"),
            key_type: get("img_signature_key_type"),
            certificate_uuid: get("img_signature_certificate_uuid"),
        };
        (sig != ImageSignature::default()).then_some(sig)
    }
}

/// An image's signature properties, as Glance keeps them (strings, unchecked
/// by Glance itself). Nova verifies them when `verify_glance_signatures` is
/// set; this client only exposes them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImageSignature {
    /// `img_signature`: the base64 signature of the data.
    pub signature: Option<String>,
    /// `img_signature_hash_method`: `SHA-224`, `SHA-256`, `SHA-384` or `SHA-512`.
    pub hash_method: Option<String>,
    /// `img_signature_key_type`: `RSA-PSS`, `DSA`, `ECC_SECP384R1`, …
    pub key_type: Option<String>,
    /// `img_signature_certificate_uuid`: the signing certificate's id in
    /// the key manager.
    pub certificate_uuid: Option<String>,
}

/// The fields of a new image. Every field is optional: Glance fills
/// defaults. One shape: a setter for each field, nothing public to assign,
/// so a field added later breaks no caller.
///
/// ```
/// use glance_client::{ContainerFormat, CreateImage, DiskFormat, Visibility};
/// let req = CreateImage::new("cirros")
///     .disk_format(DiskFormat::Qcow2)
///     .container_format(ContainerFormat::Bare)
///     .visibility(Visibility::Private)
///     .protected(true)
///     .os_hidden(false)
///     .min_ram(512)
///     .min_disk(1)
///     .tags(["golden"])
///     .property("os_distro", "cirros");
/// assert_eq!(req.to_json()["os_distro"], "cirros");
/// assert_eq!(req.to_json()["protected"], true);
/// ```
///
/// Fields are not assigned directly, and there is no struct literal:
///
/// ```compile_fail
/// let mut req = glance_client::CreateImage::new("cirros");
/// req.protected = Some(true);
/// ```
///
/// ```compile_fail
/// let req = glance_client::CreateImage { min_ram: Some(512), ..Default::default() };
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct CreateImage {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    visibility: Option<Visibility>,
    #[serde(skip_serializing_if = "Option::is_none")]
    protected: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    os_hidden: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    disk_format: Option<DiskFormat>,
    #[serde(skip_serializing_if = "Option::is_none")]
    container_format: Option<ContainerFormat>,
    #[serde(skip_serializing_if = "Option::is_none")]
    min_ram: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    min_disk: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    owner: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<String>,
    #[serde(flatten)]
    properties: BTreeMap<String, String>,
    /// Sent as `X-Image-Meta-Store`, not in the body.
    #[serde(skip)]
    pub(crate) store: Option<String>,
}

impl CreateImage {
    /// A new image with a name. ([`CreateImage::default`] has no name.)
    pub fn new(name: impl Into<String>) -> Self {
        CreateImage::default().name(name)
    }

    /// Set the name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Choose the id (a UUID); the server chooses one otherwise.
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// Set the disk format.
    pub fn disk_format(mut self, f: DiskFormat) -> Self {
        self.disk_format = Some(f);
        self
    }

    /// Set the container format.
    pub fn container_format(mut self, f: ContainerFormat) -> Self {
        self.container_format = Some(f);
        self
    }

    /// Set the visibility (Glance's default is `shared`).
    pub fn visibility(mut self, v: Visibility) -> Self {
        self.visibility = Some(v);
        self
    }

    /// Protect the image from deletion (or not).
    pub fn protected(mut self, on: bool) -> Self {
        self.protected = Some(on);
        self
    }

    /// Hide the image from default lists (or not).
    pub fn os_hidden(mut self, on: bool) -> Self {
        self.os_hidden = Some(on);
        self
    }

    /// Minimum RAM in MiB to boot it.
    pub fn min_ram(mut self, mib: u64) -> Self {
        self.min_ram = Some(mib);
        self
    }

    /// Minimum disk in GiB to boot it.
    pub fn min_disk(mut self, gib: u64) -> Self {
        self.min_disk = Some(gib);
        self
    }

    /// The owner project (admins only may name another project).
    pub fn owner(mut self, project: impl Into<String>) -> Self {
        self.owner = Some(project.into());
        self
    }

    /// Add a tag.
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.tags.push(tag.into());
        self
    }

    /// Add tags.
    pub fn tags<I, S>(mut self, tags: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.tags.extend(tags.into_iter().map(Into::into));
        self
    }

    /// Add an extra string property.
    pub fn property(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.properties.insert(key.into(), value.into());
        self
    }

    /// Ask for a store (backend), sent as `X-Image-Meta-Store`, as
    /// glanceclient's `create(backend=…)`; not part of the body.
    pub fn store(mut self, store: impl Into<String>) -> Self {
        self.store = Some(store.into());
        self
    }

    /// The request body this sends.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// Human-readable formatting used by `Display` of sizes in the CLI and examples.
impl fmt::Display for Image {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}, {})",
            self.id,
            self.name.as_deref().unwrap_or("<no name>"),
            self.status
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_glance_image_and_keeps_extras() {
        let json = r#"{"id": "i", "name": null, "status": "active", "visibility": "shared",
            "protected": false, "os_hidden": false, "checksum": "c", "os_hash_algo": "sha512",
            "os_hash_value": "v", "owner": "p", "size": 3, "virtual_size": null,
            "container_format": "bare", "disk_format": "raw", "min_ram": 0, "min_disk": 0,
            "tags": ["a"], "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-02T03:04:05Z", "self": "/v2/images/i",
            "file": "/v2/images/i/file", "schema": "/v2/schemas/image", "os_distro": "x",
            "stores": "fast,cheap"}"#;
        let img: Image = serde_json::from_str(json).expect("decodes");
        assert_eq!(img.status, ImageStatus::Active);
        assert_eq!(img.disk_format, Some(DiskFormat::Raw));
        assert_eq!(img.property("os_distro"), Some("x"));
        assert_eq!(img.stores, [StoreId::new("fast"), StoreId::new("cheap")]);
        assert_eq!(
            img.created_at,
            Some(time::macros::datetime!(2026-01-01 00:00:00 UTC))
        );
        assert!(img.updated_at > img.created_at);
        assert!(!img.properties.contains_key("self"));
        // Written back as Glance wrote it.
        let back = serde_json::to_value(&img).expect("encodes");
        assert_eq!(back["created_at"], "2026-01-01T00:00:00Z");
        assert_eq!(back["stores"], "fast,cheap");
        let bare: Image =
            serde_json::from_str(r#"{"id": "i", "status": "queued"}"#).expect("decodes");
        assert!(bare.stores.is_empty() && bare.created_at.is_none());
    }

    #[test]
    fn unknown_enum_values_survive() {
        let f: DiskFormat = serde_json::from_str("\"gpt\"").expect("decodes");
        assert_eq!(f, DiskFormat::Other("gpt".into()));
        assert_eq!(serde_json::to_string(&f).expect("encodes"), "\"gpt\"");
    }

    #[test]
    fn text_parses_strictly_and_answers_leniently() {
        fn check<T>()
        where
            T: std::str::FromStr<Err = crate::ParseEnumError>
                + serde::de::DeserializeOwned
                + fmt::Display
                + fmt::Debug,
        {
            let known: Vec<T> = ["active", "public", "qcow2", "bare"]
                .into_iter()
                .filter_map(|s| s.parse().ok())
                .collect();
            assert_eq!(known.len(), 1, "{known:?}");
            let typo = "qbull2".parse::<T>().expect_err("a typo is refused");
            assert_eq!(typo.value(), "qbull2");
            let answered: T = serde_json::from_str("\"qbull2\"").expect("a server's value decodes");
            assert_eq!(answered.to_string(), "qbull2");
        }
        check::<ImageStatus>();
        check::<Visibility>();
        check::<DiskFormat>();
        check::<ContainerFormat>();
        for name in DiskFormat::KNOWN {
            assert_eq!(
                name.parse::<DiskFormat>().map(|f| f.to_string()).as_deref(),
                Ok(*name)
            );
        }
        assert_eq!(DiskFormat::try_from("raw"), Ok(DiskFormat::Raw));
        assert!(DiskFormat::try_from("RAW").is_err());
    }

    #[test]
    fn create_body_omits_unset_fields() {
        let body = CreateImage::new("n").disk_format(DiskFormat::Raw).to_json();
        assert_eq!(body, serde_json::json!({"name": "n", "disk_format": "raw"}));
    }
}
