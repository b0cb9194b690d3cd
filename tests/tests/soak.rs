//! A bounded soak: 32 clients (glance-client) at once against the mock on
//! loopback, each doing a random mix of create / upload / list / download /
//! patch / delete on its own images for `GLANCE_SOAK_SECS` seconds (default
//! 30). Every download during the run must match what was uploaded; at the
//! end the server holds exactly the images the clients kept, each active
//! one with the bytes, hash and properties its client recorded.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use futures::TryStreamExt;
use glance_client::{
    Client, ContainerFormat, CreateImage, DiskFormat, ImagePatch, ImageStatus, ListImages,
};
use glance_mock_server::MockServer;
use sha2::{Digest, Sha512};

const CLIENTS: usize = 32;

fn soak_time() -> Duration {
    let secs = std::env::var("GLANCE_SOAK_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30);
    Duration::from_secs(secs)
}

/// What a client knows about one of its images.
#[derive(Debug, Clone, Default)]
struct Expected {
    /// sha512 of the uploaded bytes, once uploaded.
    sha512: Option<String>,
    size: u64,
    /// The last value set for property `rev`.
    rev: Option<String>,
}

#[derive(Debug, Default)]
struct Tally {
    creates: u64,
    uploads: u64,
    uploaded_bytes: u64,
    lists: u64,
    downloads: u64,
    downloaded_bytes: u64,
    patches: u64,
    deletes: u64,
}

fn payload(rng: &mut fastrand::Rng) -> Vec<u8> {
    let len = match rng.u8(0..10) {
        0 => 0,
        1..=7 => rng.usize(1..64 * 1024),
        _ => rng.usize(64 * 1024..512 * 1024),
    };
    let mut out = vec![0u8; len];
    rng.fill(&mut out);
    out
}

async fn client_loop(
    n: usize,
    client: Client,
    until: Instant,
) -> (BTreeMap<String, Expected>, Tally) {
    let mut rng = fastrand::Rng::with_seed(n as u64 * 7919 + 1);
    let images = client.images();
    let mut mine: BTreeMap<String, Expected> = BTreeMap::new();
    let mut t = Tally::default();
    let prefix = format!("soak-{n}-");
    // Each client lists its own images only (by tag): a marker another
    // client deletes between two pages would end a listing with 400.
    let tag = format!("soak-{n}");
    while Instant::now() < until {
        let pick = |rng: &mut fastrand::Rng, mine: &BTreeMap<String, Expected>| {
            let ids: Vec<&String> = mine.keys().collect();
            (!ids.is_empty()).then(|| ids[rng.usize(0..ids.len())].clone())
        };
        match rng.u8(0..100) {
            // create (and usually upload at once)
            0..=24 => {
                let img = images
                    .create(
                        &CreateImage::new(format!("{prefix}{}", t.creates))
                            .disk_format(DiskFormat::Raw)
                            .container_format(ContainerFormat::Bare)
                            .tag(tag.clone()),
                    )
                    .await
                    .expect("create");
                t.creates += 1;
                mine.insert(img.id, Expected::default());
            }
            // upload to a queued one
            25..=44 => {
                let queued = mine
                    .iter()
                    .find(|(_, e)| e.sha512.is_none())
                    .map(|(id, _)| id.clone());
                if let Some(id) = queued {
                    let data = payload(&mut rng);
                    images.upload(&id, data.clone()).await.expect("upload");
                    t.uploads += 1;
                    t.uploaded_bytes += data.len() as u64;
                    let e = mine.get_mut(&id).expect("mine");
                    e.sha512 = Some(hex::encode(Sha512::digest(&data)));
                    e.size = data.len() as u64;
                }
            }
            // list own images, page by page
            45..=54 => {
                let all: Vec<_> = images
                    .list(ListImages::new().tag(tag.clone()).page_size(rng.u32(2..20)))
                    .try_collect()
                    .await
                    .expect("list");
                t.lists += 1;
                let mut listed: Vec<&String> = all.iter().map(|i| &i.id).collect();
                listed.sort();
                assert_eq!(
                    listed,
                    mine.keys().collect::<Vec<_>>(),
                    "client {n} listing"
                );
            }
            // download and compare
            55..=74 => {
                let active: Vec<(String, Expected)> = mine
                    .iter()
                    .filter(|(_, e)| e.sha512.is_some())
                    .map(|(id, e)| (id.clone(), e.clone()))
                    .collect();
                if !active.is_empty() {
                    let (id, e) = &active[rng.usize(0..active.len())];
                    let got = match images.download(id).await.expect("download") {
                        Some(d) => d.bytes().await.expect("verified bytes"),
                        None => Default::default(),
                    };
                    t.downloads += 1;
                    t.downloaded_bytes += got.len() as u64;
                    assert_eq!(got.len() as u64, e.size, "{id}");
                    assert_eq!(
                        Some(hex::encode(Sha512::digest(&got))),
                        e.sha512,
                        "{id} bytes"
                    );
                }
            }
            // patch a property
            75..=89 => {
                if let Some(id) = pick(&mut rng, &mine) {
                    let rev = format!("{n}-{}", t.patches);
                    let img = images
                        .update(&id, &ImagePatch::new().property("rev", rev.clone()))
                        .await
                        .expect("patch");
                    assert_eq!(img.id, id);
                    t.patches += 1;
                    mine.get_mut(&id).expect("mine").rev = Some(rev);
                }
            }
            // delete
            _ => {
                if let Some(id) = pick(&mut rng, &mine) {
                    images.delete(&id).await.expect("delete");
                    t.deletes += 1;
                    mine.remove(&id);
                }
            }
        }
    }
    (mine, t)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_two_clients_mixed_load_reconciles() {
    let server = MockServer::start().await.expect("mock starts");
    let started = Instant::now();
    let until = started + soak_time();
    let mut tasks = Vec::new();
    for n in 0..CLIENTS {
        let client = Client::builder()
            .endpoint(server.url())
            .token(format!("soak-{n}"))
            .build()
            .expect("client");
        tasks.push(tokio::spawn(client_loop(n, client, until)));
    }
    let mut expected = BTreeMap::new();
    let mut total = Tally::default();
    for t in tasks {
        let (mine, tally) = t.await.expect("client did not panic");
        expected.extend(mine);
        total.creates += tally.creates;
        total.uploads += tally.uploads;
        total.uploaded_bytes += tally.uploaded_bytes;
        total.lists += tally.lists;
        total.downloads += tally.downloads;
        total.downloaded_bytes += tally.downloaded_bytes;
        total.patches += tally.patches;
        total.deletes += tally.deletes;
    }
    let ran = started.elapsed();

    // Reconcile: the server holds exactly the images the clients kept.
    let client = Client::builder()
        .endpoint(server.url())
        .token("soak-check")
        .build()
        .expect("client");
    let images = client.images();
    let all: Vec<_> = images
        .list(ListImages::new().page_size(200))
        .try_collect()
        .await
        .expect("list");
    assert_eq!(total.creates - total.deletes, expected.len() as u64);
    assert_eq!(all.len(), expected.len(), "image count");
    let mut active = 0;
    for img in &all {
        let e = expected.get(&img.id).expect("an image some client kept");
        assert_eq!(
            img.properties.get("rev").and_then(|v| v.as_str()),
            e.rev.as_deref(),
            "{} rev",
            img.id
        );
        match &e.sha512 {
            Some(hash) => {
                active += 1;
                assert_eq!(img.status, ImageStatus::Active);
                assert_eq!(img.size, Some(e.size));
                assert_eq!(img.os_hash_value.as_ref(), Some(hash));
                let got = match images.download(&img.id).await.expect("download") {
                    Some(d) => d.bytes().await.expect("bytes"),
                    None => Default::default(),
                };
                assert_eq!(&hex::encode(Sha512::digest(&got)), hash);
            }
            None => assert_eq!(img.status, ImageStatus::Queued),
        }
    }
    eprintln!(
        "soak: {CLIENTS} clients for {ran:.1?}: {} creates, {} uploads ({} MiB), {} lists, {} downloads ({} MiB), {} patches, {} deletes; {} images left ({active} active), all reconciled",
        total.creates,
        total.uploads,
        total.uploaded_bytes >> 20,
        total.lists,
        total.downloads,
        total.downloaded_bytes >> 20,
        total.patches,
        total.deletes,
        all.len()
    );
    assert!(
        total.creates > 0 && total.downloads > 0,
        "the soak did work"
    );
}
