//! The image record and its JSON representation.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use super::time::format;

/// Image status, the states of Glance's image state machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImageStatus {
    /// Created, no data yet.
    Queued,
    /// Data being uploaded through `PUT /file`.
    Saving,
    /// Data staged, waiting for import.
    Uploading,
    /// Import in progress.
    Importing,
    /// Has data and can be used.
    Active,
    /// Data upload failed (not produced by v2 uploads).
    Killed,
    /// Deleted, will never come back.
    Deleted,
    /// Deleted, data deletion pending.
    PendingDelete,
    /// Data download disabled by an admin or owner.
    Deactivated,
}

impl ImageStatus {
    /// The name Glance uses on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ImageStatus::Queued => "queued",
            ImageStatus::Saving => "saving",
            ImageStatus::Uploading => "uploading",
            ImageStatus::Importing => "importing",
            ImageStatus::Active => "active",
            ImageStatus::Killed => "killed",
            ImageStatus::Deleted => "deleted",
            ImageStatus::PendingDelete => "pending_delete",
            ImageStatus::Deactivated => "deactivated",
        }
    }

    /// Whether Glance's state machine allows `self -> to`
    /// (`glance.domain.Image.valid_state_targets`).
    pub fn can_become(self, to: ImageStatus) -> bool {
        use ImageStatus::*;
        matches!(
            (self, to),
            (Queued, Saving | Uploading | Importing | Active | Deleted)
                | (Saving, Active | Killed | Deleted | Queued)
                | (Uploading, Importing | Queued | Deleted)
                | (Importing, Active | Deleted | Queued)
                | (Active, PendingDelete | Deleted | Deactivated)
                | (Killed, Deleted)
                | (PendingDelete, Deleted | Active)
                | (Deactivated, Active | Deleted)
        )
    }
}

/// Who may see an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Everyone, listed by default.
    Public,
    /// Everyone, but listed only when asked for.
    Community,
    /// The owner and projects it is shared with.
    Shared,
    /// The owner only.
    Private,
}

impl Visibility {
    /// The name Glance uses on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Community => "community",
            Visibility::Shared => "shared",
            Visibility::Private => "private",
        }
    }

    /// Parse a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "public" => Visibility::Public,
            "community" => Visibility::Community,
            "shared" => Visibility::Shared,
            "private" => Visibility::Private,
            _ => return None,
        })
    }
}

/// A project an image is shared with, and whether it accepted.
///
/// Like Glance's `image_members` rows, a removed membership stays as a
/// deleted row, which a later add of the same project revives (keeping its
/// `created_at` and its place in the list).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// The member project.
    pub member_id: String,
    /// `pending`, `accepted` or `rejected`.
    pub status: String,
    /// When the membership was created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When the membership last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// Removed; invisible to every read.
    #[serde(default)]
    pub deleted: bool,
}

impl Member {
    /// A new `pending` membership of `member_id`.
    pub fn new(member_id: String, now: OffsetDateTime) -> Self {
        Member {
            member_id,
            status: "pending".into(),
            created_at: now,
            updated_at: now,
            deleted: false,
        }
    }
}

/// An image record, with every base property Glance keeps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Image {
    /// UUID.
    pub id: String,
    /// Free-form name.
    pub name: Option<String>,
    /// State machine position.
    pub status: ImageStatus,
    /// Who may see it.
    pub visibility: Visibility,
    /// Protected images cannot be deleted.
    pub protected: bool,
    /// Hidden from default lists.
    pub os_hidden: bool,
    /// md5 hex of the data.
    pub checksum: Option<String>,
    /// Name of the secure hash algorithm (`sha512`).
    pub os_hash_algo: Option<String>,
    /// Hex digest by `os_hash_algo`.
    pub os_hash_value: Option<String>,
    /// Owning project.
    pub owner: Option<String>,
    /// Data size in bytes.
    pub size: Option<u64>,
    /// Virtual disk size in bytes.
    pub virtual_size: Option<u64>,
    /// Container format.
    pub container_format: Option<String>,
    /// Disk format.
    pub disk_format: Option<String>,
    /// Minimum RAM in MiB.
    pub min_ram: i64,
    /// Minimum disk in GiB.
    pub min_disk: i64,
    /// Tags, a set.
    pub tags: BTreeSet<String>,
    /// Creation time.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Last change of the record.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// Extra (string) properties.
    pub properties: BTreeMap<String, String>,
    /// Stores holding the data, in the order it was added.
    pub stores: Vec<String>,
    /// Projects the image is shared with.
    pub members: Vec<Member>,
    /// Which write of the record this is: set by the repository (1 when
    /// created, one more on every write), compared by a guarded write.
    /// Not part of the record's JSON or of a dump.
    #[serde(skip)]
    pub revision: super::Revision,
}

/// Which of an image's locations its JSON shows: Glance's
/// `show_multiple_locations` (`locations`, each `{url, metadata}`) and
/// `show_image_direct_url` (`direct_url`, the first location's URL).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LocationView {
    /// `show_multiple_locations`.
    pub multiple_locations: bool,
    /// `show_image_direct_url`.
    pub direct_url: bool,
}

impl LocationView {
    /// The deployment's switches.
    pub fn of(config: &crate::config::Config) -> Self {
        LocationView {
            multiple_locations: config.show_multiple_locations,
            direct_url: config.show_image_direct_url,
        }
    }
}

/// Where the mock's stores keep an image's data, as a `file://` URL (the
/// stores describe themselves as Glance's file stores do).
pub fn store_url(store: &str, image_id: &str) -> String {
    format!("file:///var/lib/glance-mock/{store}/{image_id}")
}

impl Image {
    /// A fresh queued image with Glance's defaults.
    pub fn new(id: String, owner: Option<String>, now: OffsetDateTime) -> Self {
        Image {
            id,
            name: None,
            status: ImageStatus::Queued,
            visibility: Visibility::Shared,
            protected: false,
            os_hidden: false,
            checksum: None,
            os_hash_algo: None,
            os_hash_value: None,
            owner,
            size: None,
            virtual_size: None,
            container_format: None,
            disk_format: None,
            min_ram: 0,
            min_disk: 0,
            tags: BTreeSet::new(),
            created_at: now,
            updated_at: now,
            properties: BTreeMap::new(),
            stores: Vec::new(),
            members: Vec::new(),
            revision: super::Revision::default(),
        }
    }

    /// The (not deleted) membership of `project`, if any.
    pub fn member(&self, project: &str) -> Option<&Member> {
        self.live_members().find(|m| m.member_id == project)
    }

    /// The memberships that are not deleted, oldest first.
    pub fn live_members(&self) -> impl Iterator<Item = &Member> {
        self.members.iter().filter(|m| !m.deleted)
    }

    /// Whether `who` is shown this image without its locations: a
    /// deactivated image's, to anyone but an admin.
    pub fn hides_locations_from(&self, who: &super::Identity) -> bool {
        self.status == ImageStatus::Deactivated && !who.is_admin()
    }

    /// The image as `who` is shown it: Glance's DB layer hides a
    /// deactivated image's locations (so its `stores`, `locations` and
    /// `direct_url`) from non-admins; `view` says whether the deployment
    /// shows locations at all.
    pub fn to_json_for(&self, who: &super::Identity, view: LocationView) -> Value {
        let mut v = self.to_json();
        let hidden = self.hides_locations_from(who);
        if let Value::Object(m) = &mut v {
            if hidden {
                m.remove("stores");
            }
            let stores: &[String] = if hidden { &[] } else { &self.stores };
            if view.multiple_locations {
                let locations: Vec<Value> = stores
                    .iter()
                    .map(|s| json!({"url": store_url(s, &self.id), "metadata": {"store": s}}))
                    .collect();
                m.insert("locations".into(), Value::Array(locations));
            }
            if let Some(first) = stores.first().filter(|_| view.direct_url) {
                m.insert("direct_url".into(), json!(store_url(first, &self.id)));
            }
        }
        v
    }

    /// The image as `GET /v2/images/{id}` shows it to an admin.
    ///
    /// Built field by field into one map: a `json!` literal would build a
    /// second map (and convert each field through `to_value`) only to be
    /// merged into this one, about a fifth of a `GET /v2/images/{id}`
    /// (bench/profile show).
    pub fn to_json(&self) -> Value {
        let mut out = Map::new();
        for (k, v) in &self.properties {
            out.insert(k.clone(), Value::String(v.clone()));
        }
        // Core fields win over extra properties of the same name.
        let mut put = |k: &str, v: Value| {
            out.insert(k.to_owned(), v);
        };
        put("id", self.id.clone().into());
        put("name", self.name.clone().into());
        put("status", self.status.as_str().into());
        put("visibility", self.visibility.as_str().into());
        put("protected", self.protected.into());
        put("os_hidden", self.os_hidden.into());
        put("checksum", self.checksum.clone().into());
        put("os_hash_algo", self.os_hash_algo.clone().into());
        put("os_hash_value", self.os_hash_value.clone().into());
        put("owner", self.owner.clone().into());
        put("size", self.size.into());
        put("virtual_size", self.virtual_size.into());
        put("container_format", self.container_format.clone().into());
        put("disk_format", self.disk_format.clone().into());
        put("min_ram", self.min_ram.into());
        put("min_disk", self.min_disk.into());
        put(
            "tags",
            Value::Array(self.tags.iter().cloned().map(Value::String).collect()),
        );
        put("created_at", format(self.created_at).into());
        put("updated_at", format(self.updated_at).into());
        put("self", format!("/v2/images/{}", self.id).into());
        put("file", format!("/v2/images/{}/file", self.id).into());
        put("schema", "/v2/schemas/image".into());
        if !self.stores.is_empty() {
            put("stores", Value::String(self.stores.join(",")));
        }
        Value::Object(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_machine_matches_glance() {
        use ImageStatus::*;
        assert!(Queued.can_become(Saving));
        assert!(Saving.can_become(Queued));
        assert!(!Active.can_become(Saving));
        assert!(!Deleted.can_become(Active));
        assert!(Deactivated.can_become(Active));
        assert!(!Killed.can_become(Active));
    }

    #[test]
    fn json_has_base_properties_and_extras() {
        let mut img = Image::new("i".into(), Some("p".into()), crate::domain::time::now());
        img.properties.insert("os_distro".into(), "ubuntu".into());
        let v = img.to_json();
        assert_eq!(v["status"], "queued");
        assert_eq!(v["visibility"], "shared");
        assert_eq!(v["os_distro"], "ubuntu");
        assert!(v["size"].is_null());
        assert!(v.get("stores").is_none());
    }

    #[test]
    fn deactivated_stores_are_for_admins_only() {
        let mut img = Image::new("i".into(), Some("p".into()), crate::domain::time::now());
        img.stores = vec!["fast".into()];
        let member = crate::domain::Identity {
            project_id: Some("p".into()),
            user_id: None,
            roles: vec!["member".into(), "reader".into()],
        };
        img.status = ImageStatus::Active;
        let all = LocationView {
            multiple_locations: true,
            direct_url: true,
        };
        assert_eq!(img.to_json_for(&member, all)["stores"], "fast");
        img.status = ImageStatus::Deactivated;
        let hidden = img.to_json_for(&member, all);
        assert!(hidden.get("stores").is_none() && hidden.get("direct_url").is_none());
        assert_eq!(hidden["locations"], json!([]));
        let admin = crate::domain::Identity::default_admin();
        let shown = img.to_json_for(&admin, all);
        assert_eq!(shown["stores"], "fast");
        assert_eq!(shown["direct_url"], "file:///var/lib/glance-mock/fast/i");
        assert_eq!(
            shown["locations"],
            json!([{"url": "file:///var/lib/glance-mock/fast/i", "metadata": {"store": "fast"}}])
        );
        let plain = img.to_json_for(&admin, LocationView::default());
        assert!(plain.get("locations").is_none() && plain.get("direct_url").is_none());
    }
}
