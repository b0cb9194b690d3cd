//! What a repository call can fail with: typed, so the use cases decide
//! which Glance message each case becomes.

use crate::domain::ImageStatus;

/// The kind of row a [`RepoError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Row {
    /// An image record.
    Image,
    /// An image's property.
    Property,
    /// An image's location (a store holding its data).
    Location,
    /// An image's membership of a project.
    Member,
    /// An image's tag.
    Tag,
    /// A task record.
    Task,
    /// The metadata definition tables.
    Metadefs,
}

impl Row {
    fn as_str(self) -> &'static str {
        match self {
            Row::Image => "image",
            Row::Property => "property",
            Row::Location => "location",
            Row::Member => "member",
            Row::Tag => "tag",
            Row::Task => "task",
            Row::Metadefs => "metadata definitions",
        }
    }
}

impl std::fmt::Display for Row {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A repository call that changed nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", content = "detail", rename_all = "snake_case")]
pub enum RepoError {
    /// No such row (for images: none, or deleted and not asked for).
    #[error("no {row} {key} found")]
    NotFound {
        /// What was looked for.
        row: Row,
        /// Its id, name or value.
        key: String,
    },
    /// The row exists already (an image id is never reused, even once
    /// deleted).
    #[error("{row} {key} already exists")]
    Duplicate {
        /// What was created.
        row: Row,
        /// Its id, name or value.
        key: String,
    },
    /// The row exists but the caller may not see it (Glance's DB API
    /// raises `Forbidden` for an image the context cannot see).
    #[error("{row} {key} is not visible")]
    Forbidden {
        /// What was looked for.
        row: Row,
        /// Its id.
        key: String,
    },
    /// `from_state` did not hold: the image is in another state.
    #[error("image {id} is {found}, not {expected}", found = found.as_str(), expected = expected.as_str())]
    WrongState {
        /// The image.
        id: String,
        /// The state the caller required.
        expected: ImageStatus,
        /// The state it is in.
        found: ImageStatus,
    },
    /// The record changed since the revision the caller read (someone
    /// else wrote in between): read it again and retry.
    #[error("{row} {id} changed since revision {read}")]
    Changed {
        /// What was written.
        row: Row,
        /// Its id.
        id: String,
        /// The revision the caller read.
        read: u64,
    },
    /// A listing's query was refused (a bad sort key, a marker not found):
    /// Glance's message, a 400.
    #[error("{0}")]
    BadQuery(String),
    /// The backend could not be read or written (a database error).
    #[error("the repository failed: {0}")]
    Backend(String),
    /// The backend cannot be reached now (the registry node is down or
    /// not answering): nothing was read or written; try again later.
    #[error("the registry is unavailable: {0}")]
    Unavailable(String),
}

impl RepoError {
    /// Shorthand for [`RepoError::NotFound`].
    pub fn not_found(row: Row, key: impl Into<String>) -> Self {
        RepoError::NotFound {
            row,
            key: key.into(),
        }
    }

    /// Shorthand for [`RepoError::Duplicate`].
    pub fn duplicate(row: Row, key: impl Into<String>) -> Self {
        RepoError::Duplicate {
            row,
            key: key.into(),
        }
    }

    /// Whether this says the image (or task) itself is not there.
    pub fn is_missing(&self, what: Row) -> bool {
        matches!(self, RepoError::NotFound { row, .. } if *row == what)
    }
}
