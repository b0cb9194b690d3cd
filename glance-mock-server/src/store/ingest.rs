//! The one streaming pass every store's `add` makes over incoming data:
//! limits, size checks, md5 and the configured multihash (sha512 by
//! default), and handing the bytes to the
//! store's sink.
//!
//! The two hashes run concurrently, each on a blocking thread of its own
//! fed through a bounded channel: md5 with the sink's writes, the
//! multihash alone. The task reading the stream only reads and checks
//! sizes. Ingest is bounded by the slower hash, not by their sum, and the
//! async runtime never waits on the disk.
//!
//! The reading task is not free: taking the bytes from the socket into
//! fresh pages for the store costs it about 1 CPU-s per GiB here, nearly
//! all system time (socket reads, and a page fault per 4 KiB the store
//! keeps), close to a hash's 1.3-1.4. With the multihash inline on it (as
//! before issue 23) it was the longer of the two sides, 2.1 CPU-s per GiB
//! against md5's 1.4 (per-thread CPU times of a 1 GiB `curl -T` to the
//! release binary).

use std::io;

use bytes::Bytes;
use futures::StreamExt;
use tokio::sync::mpsc;

use super::digest::Hasher;
use super::{DataStream, StoreError, Stored};
use crate::config::HashAlgorithm;

/// `glance_store` reads uploads in pieces of this size (the filesystem
/// store's `WRITE_CHUNKSIZE`), so a "Size exceeds" is noticed, and
/// reported, at the end of the piece that overflowed.
pub(crate) const PIECE: u64 = 64 * 1024;

/// Chunks queued between the reading task and the hashing thread: enough
/// to keep both busy, few enough to bound memory.
const QUEUE_DEPTH: usize = 16;

/// Where a store's `add` puts the bytes; runs on the blocking thread.
pub(crate) trait ChunkSink: Send + 'static {
    /// Append one chunk (reference-counted: keeping it copies nothing).
    fn write(&mut self, chunk: Bytes) -> io::Result<()>;
}

/// Read `data` to the end into `sink`, enforcing `size_cap` and
/// `expected_size` (`Some(0)` is unknown). Returns what was stored and the
/// sink, which the caller commits; on error the sink is dropped.
pub(crate) async fn ingest<S: ChunkSink>(
    mut data: DataStream,
    expected_size: Option<i64>,
    size_cap: u64,
    hashing: HashAlgorithm,
    sink: S,
) -> Result<(Stored, S), StoreError> {
    let expected = expected_size.filter(|&n| n != 0);
    let (tx, mut rx) = mpsc::channel::<Bytes>(QUEUE_DEPTH);
    let worker = tokio::task::spawn_blocking(move || {
        let mut sink = sink;
        let mut md5 = Hasher::new(HashAlgorithm::Md5);
        while let Some(chunk) = rx.blocking_recv() {
            md5.update(&chunk);
            sink.write(chunk)?;
        }
        Ok::<_, io::Error>((md5.finish()?, sink))
    });
    let (hash_tx, mut hash_rx) = mpsc::channel::<Bytes>(QUEUE_DEPTH);
    let hashed = tokio::task::spawn_blocking(move || {
        let mut multihash = Hasher::new(hashing);
        while let Some(chunk) = hash_rx.blocking_recv() {
            multihash.update(&chunk);
        }
        multihash.finish()
    });

    let mut received: u64 = 0;
    let read = async {
        while let Some(chunk) = data.next().await {
            let chunk = chunk.map_err(StoreError::Source)?;
            received = received.saturating_add(chunk.len() as u64);
            if let Some(expected) = expected.filter(|&e| i128::from(received) > i128::from(e)) {
                let got = finish_piece(&mut data, received, expected).await?;
                return Err(if got > size_cap {
                    StoreError::TooLarge
                } else {
                    StoreError::SizeExceeds { expected, got }
                });
            }
            if received > size_cap {
                return Err(StoreError::TooLarge);
            }
            // Shared, not copied: both threads see the same bytes.
            if hash_tx.send(chunk.clone()).await.is_err() || tx.send(chunk).await.is_err() {
                // The worker stopped on a write error; it is reported below.
                break;
            }
        }
        Ok(())
    };
    let read = read.await;
    drop((tx, hash_tx));
    let written = worker
        .await
        .map_err(|e| StoreError::Io(io::Error::other(e)));
    let hashed = hashed
        .await
        .map_err(|e| StoreError::Io(io::Error::other(e)));
    read?;
    let (md5, sink) = written?.map_err(StoreError::from_io)?;
    if let Some(expected) = expected.filter(|&e| i128::from(e) != i128::from(received)) {
        return Err(StoreError::SizeMismatch {
            expected,
            got: received,
        });
    }
    let os_hash_value = hashed?.map_err(StoreError::Io)?;
    Ok((
        Stored {
            size: received,
            md5,
            os_hash_algo: hashing,
            os_hash_value,
        },
        sink,
    ))
}

/// After `received` passed `expected`, read on to the end of the current
/// 64 KiB piece (or of the data) and return the count `glance_store` would
/// report.
async fn finish_piece(
    data: &mut DataStream,
    mut received: u64,
    expected: i64,
) -> Result<u64, StoreError> {
    let pieces_within = u64::try_from(expected).map_or(0, |e| e / PIECE);
    let piece_end = pieces_within.saturating_add(1).saturating_mul(PIECE);
    while received < piece_end {
        match data.next().await {
            Some(Ok(chunk)) => received = received.saturating_add(chunk.len() as u64),
            Some(Err(e)) => return Err(StoreError::Source(e)),
            None => break,
        }
    }
    Ok(received.min(piece_end))
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::stream;
    use md5::{Digest, Md5};

    #[derive(Debug, Default)]
    struct VecSink(Vec<u8>);

    impl ChunkSink for VecSink {
        fn write(&mut self, chunk: Bytes) -> io::Result<()> {
            self.0.extend_from_slice(&chunk);
            Ok(())
        }
    }

    #[derive(Debug)]
    struct FailingSink;

    impl ChunkSink for FailingSink {
        fn write(&mut self, _: Bytes) -> io::Result<()> {
            Err(io::Error::other("disk on fire"))
        }
    }

    fn chunks(total: usize, chunk: usize) -> DataStream {
        let data: Vec<u8> = (0..total).map(|i| (i % 251) as u8).collect();
        let pieces: Vec<io::Result<Bytes>> = data
            .chunks(chunk.max(1))
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        stream::iter(pieces).boxed()
    }

    #[tokio::test]
    async fn hashes_and_keeps_everything() {
        let (stored, sink) = ingest(
            chunks(100_000, 7_000),
            None,
            u64::MAX,
            HashAlgorithm::Sha512,
            VecSink::default(),
        )
        .await
        .expect("stored");
        let data: Vec<u8> = (0..100_000).map(|i| (i % 251) as u8).collect();
        assert_eq!(sink.0, data);
        assert_eq!(stored.size, 100_000);
        assert_eq!(stored.md5, hex::encode(Md5::digest(&data)));
        assert_eq!(
            stored.os_hash_value,
            hex::encode(sha2::Sha512::digest(&data))
        );
    }

    #[tokio::test]
    async fn empty_data_has_the_empty_hashes() {
        let (stored, _) = ingest(
            chunks(0, 1),
            Some(0),
            10,
            HashAlgorithm::Sha512,
            VecSink::default(),
        )
        .await
        .expect("stored");
        assert_eq!(stored.size, 0);
        assert_eq!(stored.md5, "d41d8cd98f00b204e9800998ecf8427e");
    }

    #[tokio::test]
    async fn size_exceeds_is_counted_in_store_pieces() {
        for (expected, total, got) in [
            (99, 100, 100),
            (1, 300_000, 65_536),
            (65_535, 300_000, 65_536),
            (65_536, 300_000, 131_072),
            (100_000, 300_000, 131_072),
            (299_999, 300_000, 300_000),
        ] {
            let err = ingest(
                chunks(total, 10_000),
                Some(expected),
                u64::MAX,
                HashAlgorithm::Sha512,
                VecSink::default(),
            )
            .await
            .expect_err("too many bytes");
            assert!(
                matches!(err, StoreError::SizeExceeds { expected: e, got: g } if e == expected && g == got),
                "{expected}/{total}: {err}"
            );
        }
    }

    #[tokio::test]
    async fn negative_sizes_are_exceeded_by_any_data() {
        let err = ingest(
            chunks(5, 5),
            Some(-1),
            u64::MAX,
            HashAlgorithm::Sha512,
            VecSink::default(),
        )
        .await
        .expect_err("exceeds");
        assert_eq!(
            err.to_string(),
            "Size exceeds: expected -1 bytes, got 5 bytes"
        );
        let err = ingest(
            chunks(100_000, 1000),
            Some(-1),
            u64::MAX,
            HashAlgorithm::Sha512,
            VecSink::default(),
        )
        .await
        .expect_err("exceeds");
        assert_eq!(
            err.to_string(),
            "Size exceeds: expected -1 bytes, got 65536 bytes"
        );
        let err = ingest(
            chunks(0, 1),
            Some(-1),
            u64::MAX,
            HashAlgorithm::Sha512,
            VecSink::default(),
        )
        .await
        .expect_err("mismatch");
        assert_eq!(
            err.to_string(),
            "Size mismatch: expected -1 bytes, got 0 bytes"
        );
    }

    #[tokio::test]
    async fn size_mismatch_and_zero_means_unknown() {
        let err = ingest(
            chunks(3, 1),
            Some(10),
            u64::MAX,
            HashAlgorithm::Sha512,
            VecSink::default(),
        )
        .await
        .expect_err("too few bytes");
        assert_eq!(
            err.to_string(),
            "Size mismatch: expected 10 bytes, got 3 bytes"
        );
        let (stored, _) = ingest(
            chunks(3, 1),
            Some(0),
            u64::MAX,
            HashAlgorithm::Sha512,
            VecSink::default(),
        )
        .await
        .expect("zero is unknown");
        assert_eq!(stored.size, 3);
    }

    #[tokio::test]
    async fn size_cap_wins_over_size_checks() {
        let err = ingest(
            chunks(11, 3),
            None,
            10,
            HashAlgorithm::Sha512,
            VecSink::default(),
        )
        .await
        .expect_err("over the cap");
        assert!(matches!(err, StoreError::TooLarge));
        let (stored, _) = ingest(
            chunks(10, 3),
            None,
            10,
            HashAlgorithm::Sha512,
            VecSink::default(),
        )
        .await
        .expect("at the cap");
        assert_eq!(stored.size, 10);
        // The piece that overflows the announced size also passes the cap.
        let err = ingest(
            chunks(200_000, 1000),
            Some(10),
            50_000,
            HashAlgorithm::Sha512,
            VecSink::default(),
        )
        .await
        .expect_err("over the cap");
        assert!(matches!(err, StoreError::TooLarge));
    }

    #[tokio::test]
    async fn source_and_sink_failures_are_told_apart() {
        let failing: DataStream = stream::iter(vec![
            Ok(Bytes::from_static(b"abc")),
            Err(io::Error::new(io::ErrorKind::ConnectionReset, "gone")),
        ])
        .boxed();
        let err = ingest(
            failing,
            None,
            u64::MAX,
            HashAlgorithm::Sha512,
            VecSink::default(),
        )
        .await
        .expect_err("source failed");
        assert!(matches!(err, StoreError::Source(e) if e.kind() == io::ErrorKind::ConnectionReset));
        let err = ingest(
            chunks(10, 2),
            None,
            u64::MAX,
            HashAlgorithm::Sha512,
            FailingSink,
        )
        .await
        .expect_err("sink failed");
        assert!(matches!(err, StoreError::Io(_)));
    }
}
