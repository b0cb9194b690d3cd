//! The mock's state as one JSON document ([`StateDump`]), as the control
//! plane dumps and loads (seeds) it; the operations themselves are in
//! [`crate::app::control`].
//!
//! A [`StateDump`] holds every image record (deleted rows too, with their
//! members and tags), every task, and one [`StoredData`] entry per image
//! blob in a store or in the staging area
//! ([`STAGING_STORE`]): its size, md5 and sha512, and, when asked for,
//! the bytes themselves in base64; and the Keystone shim's identities
//! (`identities`, a [`Directory`]: what `/_mock/reset` would restore plus
//! what the shim's admin API created). A dump without `identities` loads
//! as the configured identities.
//!
//! Data travels in one of two ways ([`DataMode`]):
//!
//! * **by reference** (the default): an entry without `content_base64`
//!   says "this store already holds these bytes". Loading it keeps what
//!   the store has (and checks its size). This is how a filesystem store
//!   (`--data-dir`) survives a restart: dump, stop, start again with the
//!   same data directory and `--seed` the dump. Nothing large is copied.
//!   A filesystem store only holds the files it recorded as its own (see
//!   [`crate::store::filesystem`]); in a directory without that record yet
//!   (written by an earlier version of the mock), loading adopts the
//!   UUID-named files the entries refer to.
//! * **inline**: `content_base64` carries the bytes; loading writes them
//!   (checking `size`, `md5` and `sha512`). Dumping streams them
//!   ([`crate::app::control::dump_json`], [`crate::MockServer::dump_state_to`]):
//!   a few hundred KiB in memory at a time, whatever the size.
//!   Loading does not stream: `POST /_mock/state` holds the whole body
//!   (base64: 1.33 times the data), then the decoded bytes of every entry
//!   besides it ([`Seed`] borrows the base64 from the body instead of
//!   copying it), so the server's memory grows by about 2.3 times the
//!   seed's data at the peak, of which the data itself stays in a memory
//!   store. The body is limited to 256 MiB (about 190 MiB of image data).
//!   A [`StateDump`] value holds the base64 as strings (1.33 times the
//!   data), and the decoded bytes besides while it loads.
//!
//! Loading replaces the state: images, tasks and stored data not in the
//! seed are gone afterwards (the mock's own data only: files someone else
//! keeps in a store's directory are never listed, so never removed), and a dump taken right after loading equals
//! the seed (entries in the dump's order: images by `created_at` then id,
//! tasks in creation order, data by store then image id). Tasks loaded
//! `pending` or `processing` do not move on: no worker job comes with them.

use std::borrow::Cow;

use serde::{Deserialize, Deserializer, Serialize};

use crate::domain::Image;
use crate::domain::tasks::Task;
use crate::keystone::Directory;
use crate::store::StoreError;

/// The name data in the staging area goes by in a dump (Glance's
/// `os_glance_staging_store`).
pub const STAGING_STORE: &str = "os_glance_staging_store";

/// Everything the Image API keeps, as `GET /_mock/state` shows it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateDump {
    /// Image records, deleted ones included, with members and tags.
    #[serde(default)]
    pub images: Vec<Image>,
    /// Task records.
    #[serde(default)]
    pub tasks: Vec<Task>,
    /// Image data, per store.
    #[serde(default)]
    pub data: Vec<StoredData>,
    /// The Keystone shim's identities (domains, projects, users, roles,
    /// grants, application credentials). Absent (a dump from before
    /// they were dumped): loading restores the configured ones.
    #[serde(default)]
    pub identities: Option<Directory>,
}

/// One image's bytes in one store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoredData {
    /// Store id, or [`STAGING_STORE`].
    pub store: String,
    /// The image the bytes belong to (a UUID).
    pub image_id: String,
    /// Bytes held.
    pub size: u64,
    /// md5 of the bytes, lower-case hex (checked on load when inline).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub md5: Option<String>,
    /// sha512 of the bytes, lower-case hex (checked on load when inline).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha512: Option<String>,
    /// The bytes, base64 (standard alphabet, padded); `None`: by reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_base64: Option<String>,
}

/// A seed as `POST /_mock/state` reads it: a [`StateDump`] whose inline
/// data still lies in the JSON text it was parsed from (borrowed, not
/// copied, unless the text escapes characters in it).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seed<'a> {
    /// Image records.
    #[serde(default)]
    pub images: Vec<Image>,
    /// Task records.
    #[serde(default)]
    pub tasks: Vec<Task>,
    /// Image data, per store.
    #[serde(default, borrow)]
    pub data: Vec<SeedData<'a>>,
    /// The shim's identities; `None`: the configured ones.
    #[serde(default)]
    pub identities: Option<Directory>,
}

/// One [`StoredData`] entry of a [`Seed`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedData<'a> {
    /// Store id, or [`STAGING_STORE`].
    pub store: String,
    /// The image the bytes belong to.
    pub image_id: String,
    /// Bytes held.
    pub size: u64,
    /// md5 of the bytes, lower-case hex.
    #[serde(default)]
    pub md5: Option<String>,
    /// sha512 of the bytes, lower-case hex.
    #[serde(default)]
    pub sha512: Option<String>,
    /// The bytes, base64; `None`: by reference.
    #[serde(default, borrow, deserialize_with = "borrowed_text")]
    pub content_base64: Option<Cow<'a, str>>,
}

/// A string borrowed from the JSON text where it can be.
fn borrowed_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Cow<'de, str>>, D::Error> {
    #[derive(Deserialize)]
    struct Text<'a>(#[serde(borrow)] Cow<'a, str>);
    Ok(Option::<Text<'de>>::deserialize(d)?.map(|t| t.0))
}

impl From<StateDump> for Seed<'static> {
    fn from(dump: StateDump) -> Self {
        Seed {
            images: dump.images,
            tasks: dump.tasks,
            data: dump
                .data
                .into_iter()
                .map(|d| SeedData {
                    store: d.store,
                    image_id: d.image_id,
                    size: d.size,
                    md5: d.md5,
                    sha512: d.sha512,
                    content_base64: d.content_base64.map(Cow::Owned),
                })
                .collect(),
            identities: dump.identities,
        }
    }
}

/// How a dump carries image data.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataMode {
    /// Sizes and hashes only.
    #[default]
    Reference,
    /// Sizes, hashes and the bytes in base64.
    Inline,
}

/// Why a seed cannot be loaded. Nothing changes when loading fails on
/// anything but [`SeedError::Store`].
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// An id used for a file name that is not a UUID.
    #[error("image id {0:?} of stored data is not a UUID")]
    InvalidId(String),
    /// A store the deployment does not have.
    #[error("unknown store {0:?}")]
    UnknownStore(String),
    /// The same image, task or blob twice.
    #[error("duplicate {0}")]
    Duplicate(String),
    /// `content_base64` that is not base64.
    #[error("content_base64 of image {0} in store {1} is not base64")]
    Base64(String, String),
    /// Inline bytes that do not match their size or hashes.
    #[error("the {what} of image {image} in store {store} does not match its content")]
    Mismatch {
        /// `size`, `md5` or `sha512`.
        what: &'static str,
        /// Image id.
        image: String,
        /// Store id.
        store: String,
    },
    /// A by-reference entry whose store holds no such bytes.
    #[error("store {store} holds no {size} bytes for image {image}")]
    MissingData {
        /// Store id.
        store: String,
        /// Image id.
        image: String,
        /// The size the seed expects.
        size: u64,
    },
    /// A store failed while the seed was applied.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl SeedError {
    /// Whether the seed itself is at fault (else the mock's storage).
    pub fn is_bad_seed(&self) -> bool {
        !matches!(self, SeedError::Store(_))
    }
}
