//! The control plane's served files (`/_mock/files`, see
//! [`crate::control::files`]): put, read, remove, list.

use bytes::Bytes;

use crate::control::Control;
use crate::control::files::{FileInfo, InvalidFileName};

/// Serve `content` as `name`; whether a file of that name was replaced.
pub fn put_file(control: &Control, name: &str, content: Bytes) -> Result<bool, InvalidFileName> {
    control.files.put(name, content)
}

/// The served file `name`.
pub fn file(control: &Control, name: &str) -> Option<Bytes> {
    control.files.get(name)
}

/// Stop serving `name`; whether it was served.
pub fn remove_file(control: &Control, name: &str) -> bool {
    control.files.remove(name)
}

/// The served files, by name.
pub fn files(control: &Control) -> Vec<FileInfo> {
    control.files.list()
}

/// The URL `name` is served at by a mock at `base_url` (no trailing slash).
pub fn file_url(base_url: &str, name: &str) -> String {
    format!("{}{}{name}", base_url, crate::control::files::FILES_PATH)
}
