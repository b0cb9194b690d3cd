//! Advisory whole-file locks (`flock`), by which processes sharing a data
//! directory take turns: shared or exclusive, blocking or not. A lock lasts
//! until the file is closed.

use std::fs::File;
use std::io;

use rustix::fs::{FlockOperation, flock};

/// Wait for an exclusive lock on `file`.
pub fn lock(file: &File) -> io::Result<()> {
    flock(file, FlockOperation::LockExclusive).map_err(io::Error::from)
}

/// Wait for a shared lock on `file` (an exclusive one held by this file
/// becomes shared).
pub fn lock_shared(file: &File) -> io::Result<()> {
    flock(file, FlockOperation::LockShared).map_err(io::Error::from)
}

/// An exclusive lock on `file` if no one else holds one; `false` at once
/// otherwise.
pub fn try_lock(file: &File) -> bool {
    flock(file, FlockOperation::NonBlockingLockExclusive).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_keeps_others_out_until_the_file_closes() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("lock");
        let held = File::create(&path).expect("created");
        lock(&held).expect("locked");
        let other = File::open(&path).expect("opened");
        assert!(!try_lock(&other));
        lock_shared(&held).expect("shared");
        assert!(!try_lock(&other));
        drop(held);
        assert!(try_lock(&other));
    }
}
