//! Files the mock serves itself, under `/_mock/files/NAME`: a source for
//! `web-download` (and the legacy `import` task) that tests can use
//! without a web server of their own.
//!
//! The import filter refuses loopback addresses, as Glance's does, so an
//! image member cannot make the mock read its own control plane (or any
//! other service on the host) into an image. One exception: a URL naming
//! the address the mock is served at ([`ServedFiles::origin`]) whose path
//! is exactly `/_mock/files/NAME` passes ([`ServedFiles::is_own_file`]).
//! Every other path of the mock, `/_mock/state` included, is refused like
//! any loopback URL.
//!
//! The files are kept in memory, at most [`FILE_SIZE_LIMIT`] bytes each,
//! and are gone after a reset. Reading one (`GET`/`HEAD`) needs no token
//! even with [`crate::Config::require_auth`]: they stand for a public web
//! server. Writing and deleting them is an admin's, as the rest of `/_mock`.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};

use bytes::Bytes;

/// The path files are served under (the file's name follows).
pub const FILES_PATH: &str = "/_mock/files/";

/// The largest file the mock serves (256 MiB): files live in memory.
pub const FILE_SIZE_LIMIT: usize = 256 << 20;

/// The longest file name.
const NAME_LIMIT: usize = 255;

/// A name a served file may have: 1 to 255 of `A-Z a-z 0-9 . _ -`, not
/// `.` or `..` (so a name is one path segment that needs no escaping).
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= NAME_LIMIT
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// A name refused by [`valid_name`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invalid file name {0:?}: use 1 to 255 letters, digits, '.', '_' or '-' (not '.' or '..')")]
pub struct InvalidFileName(pub String);

/// One served file, as listed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FileInfo {
    /// Its name (the last segment of its URL).
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
}

/// The served files and where the mock is served.
#[derive(Debug, Default)]
pub struct ServedFiles {
    files: RwLock<BTreeMap<String, Bytes>>,
    origin: OnceLock<SocketAddr>,
}

impl ServedFiles {
    /// Record the address the mock is served at (done by
    /// [`crate::MockServer`] when it binds; an embedder serving
    /// [`crate::router`] itself calls it with its own listener's address).
    /// Until then no URL counts as one of the mock's files. The first
    /// address recorded stays.
    pub fn set_origin(&self, addr: SocketAddr) {
        let _ = self.origin.set(addr);
    }

    /// The address recorded by [`ServedFiles::set_origin`].
    pub fn origin(&self) -> Option<SocketAddr> {
        self.origin.get().copied()
    }

    fn read(&self) -> RwLockReadGuard<'_, BTreeMap<String, Bytes>> {
        self.files.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, BTreeMap<String, Bytes>> {
        self.files.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Serve `content` as `name` (replacing a file of that name); whether
    /// one was replaced.
    pub fn put(&self, name: &str, content: Bytes) -> Result<bool, InvalidFileName> {
        if !valid_name(name) {
            return Err(InvalidFileName(name.to_owned()));
        }
        Ok(self.write().insert(name.to_owned(), content).is_some())
    }

    /// The file `name`.
    pub fn get(&self, name: &str) -> Option<Bytes> {
        self.read().get(name).cloned()
    }

    /// Stop serving `name`; whether it was served.
    pub fn remove(&self, name: &str) -> bool {
        self.write().remove(name).is_some()
    }

    /// Every served file, by name.
    pub fn list(&self) -> Vec<FileInfo> {
        self.read()
            .iter()
            .map(|(name, content)| FileInfo {
                name: name.clone(),
                size: content.len() as u64,
            })
            .collect()
    }

    /// Stop serving every file.
    pub fn clear(&self) {
        self.write().clear();
    }

    /// Whether `path` (a URL's path, as it will be requested) names a
    /// served file: `/_mock/files/NAME` with a [`valid_name`], nothing
    /// else (no further segments, no escapes).
    pub fn is_file_path(path: &str) -> bool {
        path.strip_prefix(FILES_PATH).is_some_and(valid_name)
    }

    /// Whether a request to `port` on a host that resolved to `addrs`, for
    /// `path`, reaches one of the mock's files: the port is the mock's,
    /// every address is the mock's (or loopback, when the mock listens on
    /// loopback or on every address), and the path names a file.
    pub fn is_own_file(&self, addrs: &[IpAddr], port: u16, path: &str) -> bool {
        let Some(origin) = self.origin() else {
            return false;
        };
        let ours = |ip: &IpAddr| {
            *ip == origin.ip()
                || (ip.is_loopback() && (origin.ip().is_loopback() || origin.ip().is_unspecified()))
        };
        port == origin.port()
            && !addrs.is_empty()
            && addrs.iter().all(ours)
            && Self::is_file_path(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("an IP address")
    }

    fn at(s: &str) -> SocketAddr {
        s.parse().expect("a socket address")
    }

    #[test]
    fn names_are_one_plain_segment() {
        for ok in ["disk.img", "a", "A-b_c.0", ".hidden", "..."] {
            assert!(valid_name(ok), "{ok}");
        }
        let long = "x".repeat(256);
        for bad in [
            "",
            ".",
            "..",
            "a/b",
            "a%2fb",
            "a b",
            "é",
            "a?b",
            long.as_str(),
        ] {
            assert!(!valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn only_file_paths_at_the_origin_are_own_files() {
        let files = ServedFiles::default();
        let lo: IpAddr = ip("127.0.0.1");
        assert!(
            !files.is_own_file(&[lo], 9292, "/_mock/files/a"),
            "no origin yet"
        );
        files.set_origin(at("127.0.0.1:9292"));
        assert!(files.is_own_file(&[lo], 9292, "/_mock/files/a"));
        assert!(files.is_own_file(&[ip("127.0.0.2")], 9292, "/_mock/files/a"));
        assert!(
            !files.is_own_file(&[lo], 9293, "/_mock/files/a"),
            "another port"
        );
        for path in [
            "/_mock/state",
            "/_mock/files/",
            "/_mock/files/a/b",
            "/_mock/files/../state",
            "/_mock/files/%2e%2e",
            "/v2/images",
            "/_mock/filesa",
        ] {
            assert!(!files.is_own_file(&[lo], 9292, path), "{path}");
        }
        let other: IpAddr = ip("10.0.0.1");
        assert!(!files.is_own_file(&[other], 9292, "/_mock/files/a"));
        assert!(!files.is_own_file(&[lo, other], 9292, "/_mock/files/a"));
        assert!(!files.is_own_file(&[], 9292, "/_mock/files/a"));
    }

    #[test]
    fn a_mock_on_every_address_owns_loopback_and_its_own_ip() {
        let files = ServedFiles::default();
        files.set_origin(at("0.0.0.0:80"));
        assert!(files.is_own_file(&[ip("127.0.0.1")], 80, "/_mock/files/a"));
        assert!(files.is_own_file(&[ip("::1")], 80, "/_mock/files/a"));
        assert!(!files.is_own_file(&[ip("10.1.2.3")], 80, "/_mock/files/a"));
    }
}
