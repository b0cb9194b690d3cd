//! The rules every [`ImageStore`] must pass, in the style of
//! object_store's integration suite: one function run against each
//! implementation (the memory store and the filesystem store here).

use std::io;
use std::time::Duration;

use bytes::Bytes;
use futures::{StreamExt, stream};
use md5::{Digest, Md5};

use super::tests::{collect, data_stream};
use super::{DataStream, ImageStore, StoreError};

/// Run every rule against `store`, which must be empty.
pub(crate) async fn run(store: &dyn ImageStore) {
    whole_uploads_read_back_in_spans(store).await;
    sizes_are_checked_both_ways(store).await;
    the_size_cap_holds(store).await;
    failures_leave_nothing(store).await;
    dropped_uploads_leave_nothing(store).await;
    delete_removes_and_reports_missing(store).await;
    assert!(
        store.image_ids().await.expect("listed").is_empty(),
        "every rule cleans up after itself"
    );
}

/// The store holds nothing for `id`, and will take it again.
async fn holds_nothing(store: &dyn ImageStore, id: &str) {
    // A store may notice a dropped upload a moment later (a thread of its
    // own); give it a few ticks, no more.
    for _ in 0..100 {
        if store.get_size(id).await.is_err() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        matches!(store.get_size(id).await, Err(StoreError::NotFound(_))),
        "{id}: nothing kept"
    );
    assert!(
        !store
            .image_ids()
            .await
            .expect("listed")
            .contains(&id.to_owned()),
        "{id}: not listed"
    );
    store
        .add(id, data_stream(b"again", 2), None, 100)
        .await
        .expect("the id is free again");
    store.delete(id).await.expect("deleted");
}

async fn whole_uploads_read_back_in_spans(store: &dyn ImageStore) {
    let data = b"hello world";
    let stored = store
        .add("spans", data_stream(data, 4), Some(11), 100)
        .await
        .expect("stored");
    assert_eq!(stored.size, 11);
    assert_eq!(stored.md5, hex::encode(Md5::digest(data)));
    assert_eq!(store.get_size("spans").await.expect("size"), 11);
    assert_eq!(store.image_ids().await.expect("ids"), ["spans"]);
    for start in 0..=12u64 {
        for len in [None, Some(0), Some(1), Some(3), Some(100)] {
            let got = store.get("spans", start, len).await.expect("span");
            let from = (start as usize).min(data.len());
            let to = len.map_or(data.len(), |n| (from + n as usize).min(data.len()));
            assert_eq!(got.len, (to - from) as u64, "len at {start} {len:?}");
            assert_eq!(
                collect(got.stream).await,
                &data[from..to],
                "{start} {len:?}"
            );
        }
    }
    assert!(matches!(
        store.add("spans", data_stream(b"x", 1), None, 100).await,
        Err(StoreError::Duplicate(_))
    ));
    assert_eq!(
        collect(store.get("spans", 0, None).await.expect("all").stream).await,
        data,
        "a refused duplicate leaves the data"
    );
    store.delete("spans").await.expect("deleted");
}

async fn sizes_are_checked_both_ways(store: &dyn ImageStore) {
    let more = store
        .add("sizes", data_stream(b"hello", 2), Some(4), 100)
        .await;
    assert!(
        matches!(more, Err(StoreError::SizeExceeds { .. })),
        "{more:?}"
    );
    holds_nothing(store, "sizes").await;
    let fewer = store
        .add("sizes", data_stream(b"hello", 2), Some(6), 100)
        .await;
    assert!(
        matches!(fewer, Err(StoreError::SizeMismatch { .. })),
        "{fewer:?}"
    );
    holds_nothing(store, "sizes").await;
    // Zero announces nothing.
    let stored = store
        .add("sizes", data_stream(b"hello", 2), Some(0), 100)
        .await
        .expect("zero is unknown");
    assert_eq!(stored.size, 5);
    store.delete("sizes").await.expect("deleted");
}

async fn the_size_cap_holds(store: &dyn ImageStore) {
    let capped = store.add("cap", data_stream(b"hello", 2), None, 4).await;
    assert!(matches!(capped, Err(StoreError::TooLarge)), "{capped:?}");
    holds_nothing(store, "cap").await;
    store
        .add("cap", data_stream(b"hell", 2), None, 4)
        .await
        .expect("at the cap");
    store.delete("cap").await.expect("deleted");
}

async fn failures_leave_nothing(store: &dyn ImageStore) {
    let broken: DataStream = stream::iter(vec![
        Ok(Bytes::from_static(b"abc")),
        Err(io::Error::new(io::ErrorKind::ConnectionReset, "gone")),
    ])
    .boxed();
    let failed = store.add("broken", broken, None, 100).await;
    match failed {
        Err(StoreError::Source(e)) => assert_eq!(e.kind(), io::ErrorKind::ConnectionReset),
        other => panic!("the source's error, untouched: {other:?}"),
    }
    holds_nothing(store, "broken").await;
}

async fn dropped_uploads_leave_nothing(store: &dyn ImageStore) {
    let endless: DataStream = stream::iter(std::iter::once(Ok(Bytes::from_static(b"abc"))))
        .chain(stream::pending())
        .boxed();
    let add = store.add("dropped", endless, None, 100);
    let timed_out = tokio::time::timeout(Duration::from_millis(50), add).await;
    assert!(timed_out.is_err(), "the upload never ends");
    holds_nothing(store, "dropped").await;
}

async fn delete_removes_and_reports_missing(store: &dyn ImageStore) {
    assert!(matches!(
        store.delete("never").await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.get("never", 0, None).await,
        Err(StoreError::NotFound(_))
    ));
    store
        .add("gone", data_stream(b"abc", 1), None, 100)
        .await
        .expect("stored");
    store.delete("gone").await.expect("deleted");
    assert!(matches!(
        store.delete("gone").await,
        Err(StoreError::NotFound(_))
    ));
}
