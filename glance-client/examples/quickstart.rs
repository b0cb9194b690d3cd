//! The image life cycle against the embedded mock server:
//! `cargo run --example quickstart`.
//!
//! Starts `glance-mock-server` in-process on 127.0.0.1:0, then creates an
//! image, uploads a few MiB, lists, downloads with validation and deletes,
//! printing each step.

use std::time::Instant;

use futures::TryStreamExt;
use glance_client::{Client, ContainerFormat, CreateImage, DiskFormat, ListImages, Verification};
use glance_mock_server::MockServer;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = MockServer::start().await?;
    println!("1. mock Glance listening on {}", server.url());

    let client = Client::builder()
        .endpoint(server.url())
        .token("quickstart-token")
        .build()?;
    let images = client.images();

    let image = images
        .create(
            &CreateImage::new("quickstart")
                .disk_format(DiskFormat::Raw)
                .container_format(ContainerFormat::Bare)
                .property("os_distro", "example"),
        )
        .await?;
    println!("2. created image {} ({})", image.id, image.status);

    let data: Vec<u8> = (0..4u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let started = Instant::now();
    images.upload(&image.id, data.clone()).await?;
    let uploaded = images.get(&image.id).await?;
    println!(
        "3. uploaded {} bytes in {:?}: status {}, sha512 {}…",
        uploaded.size.unwrap_or(0),
        started.elapsed(),
        uploaded.status,
        &uploaded.os_hash_value.as_deref().unwrap_or("")[..16]
    );

    let listed: Vec<_> = images.list(ListImages::new()).try_collect().await?;
    println!("4. listed {} image(s):", listed.len());
    for img in &listed {
        println!("   - {img}");
    }

    let download = images
        .download(&image.id)
        .await?
        .ok_or("the image has no data")?;
    let check = match &download.verification {
        Verification::Digest { algorithm, .. } => algorithm.clone(),
        _ => "none".into(),
    };
    let bytes = download.bytes().await?;
    if bytes[..] != data[..] {
        return Err("downloaded bytes differ from the upload".into());
    }
    println!(
        "5. downloaded {} bytes, verified with {check}: identical to the upload",
        bytes.len()
    );

    images.delete(&image.id).await?;
    let gone = images.get_opt(&image.id).await?.is_none();
    println!("6. deleted image {}: gone = {gone}", image.id);
    Ok(())
}
