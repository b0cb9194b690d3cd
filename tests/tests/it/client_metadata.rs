//! glance-client's metadata calls against the in-process glance-mock-server:
//! versions, update (JSON patch), tags, actions, members, typed list
//! filters, info and schemas.

use futures::TryStreamExt;
use glance_client::images::{ImagePatch, PatchOp, SortDir, TimeOp};
use glance_client::{
    Client, ContainerFormat, CreateImage, DiskFormat, Error, Image, ImageStatus, ListImages,
    MemberStatus, Visibility,
};
use glance_e2e_tests::fixture::setup;
use glance_mock_server::MockServer;
use serde_json::json;

/// A client acting as `project` through keystone-middleware style headers.
fn client_as(server: &MockServer, project: &str) -> Client {
    Client::builder()
        .endpoint(server.url())
        .token("e2e")
        .default_header("X-Identity-Status", "Confirmed")
        .default_header("X-Roles", "member,reader")
        .default_header("X-Project-Id", project)
        .default_header("X-User-Id", format!("user-of-{project}"))
        .build()
        .expect("client builds")
}

async fn raw(client: &Client, name: &str) -> Image {
    client
        .images()
        .create(
            &CreateImage::new(name)
                .disk_format(DiskFormat::Raw)
                .container_format(ContainerFormat::Bare),
        )
        .await
        .expect("created")
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[tokio::test]
async fn versions_are_discovered_and_gate_calls() {
    let (_server, client) = setup().await;
    let versions = client.versions().await.expect("versions");
    assert!(versions.iter().any(|v| v.id == "v2.17" && v.is_usable()));
    assert!(client.has_version("2.17").await.expect("cached"));
    assert!(client.has_version("v2.0").await.expect("cached"));
    assert!(
        !client.has_version("2.14").await.expect("cached"),
        "no image cache"
    );
}

#[tokio::test]
async fn with_an_image_cache_the_cache_versions_allow_the_cache_calls() {
    use glance_client::cache::CacheTarget;
    let config = glance_mock_server::Config::from_toml("[cache]\nenabled = true").expect("config");
    let server = MockServer::builder()
        .config(config)
        .start()
        .await
        .expect("mock starts");
    let client = Client::builder()
        .endpoint(server.url())
        .token("e2e")
        .build()
        .expect("client builds");
    assert!(client.has_version("2.14").await.expect("versions"));
    assert!(client.has_version("2.16").await.expect("versions"));
    let image = raw(&client, "cached").await;
    client
        .images()
        .upload(&image.id, bytes::Bytes::from_static(b"cache me"))
        .await
        .expect("uploaded");
    client.cache().queue(&image.id).await.expect("queued");
    let contents = client.cache().list().await.expect("listed");
    assert_eq!(contents.cached_images.len(), 1);
    assert_eq!(contents.cached_images[0].image_id, image.id);
    assert_eq!(contents.cached_images[0].size, 8);
    client
        .cache()
        .clear(CacheTarget::Cache)
        .await
        .expect("cleared");
    assert!(
        client
            .cache()
            .list()
            .await
            .expect("listed")
            .cached_images
            .is_empty()
    );
}

#[tokio::test]
async fn update_sends_minimal_patches_the_mock_applies() {
    let (_server, client) = setup().await;
    let images = client.images();
    let img = raw(&client, "before").await;

    let updated = images
        .update(
            &img.id,
            &ImagePatch::new()
                .name("after")
                .property("os_distro", "debian")
                .property("build", "1")
                .min_ram(128)
                .disk_format(DiskFormat::Qcow2)
                .tags(["a", "b"]),
        )
        .await
        .expect("updated");
    assert_eq!(updated.name.as_deref(), Some("after"));
    assert_eq!(updated.property("os_distro"), Some("debian"));
    assert_eq!(updated.min_ram, 128);
    assert_eq!(updated.disk_format, Some(DiskFormat::Qcow2));
    assert_eq!(sorted(updated.tags.clone()), ["a", "b"]);

    let updated = images
        .update(
            &img.id,
            &ImagePatch::new()
                .property("os_distro", "ubuntu")
                .remove_property("build")
                .remove_tag("a")
                .add_tag("c"),
        )
        .await
        .expect("updated again");
    assert_eq!(updated.property("os_distro"), Some("ubuntu"));
    assert!(updated.property("build").is_none());
    assert_eq!(sorted(updated.tags.clone()), ["b", "c"]);

    let purged = images
        .update(
            &img.id,
            &ImagePatch::new()
                .property("os_version", "24.04")
                .purge_props(true)
                .tags(Vec::<String>::new()),
        )
        .await
        .expect("purged");
    assert!(purged.property("os_distro").is_none());
    assert_eq!(purged.property("os_version"), Some("24.04"));
    assert!(purged.tags.is_empty());

    let shown = images.get(&img.id).await.expect("shown");
    assert_eq!(shown.property("os_version"), Some("24.04"));
    assert_eq!(shown.name.as_deref(), Some("after"));
}

#[tokio::test]
async fn patch_errors_are_typed() {
    let (_server, client) = setup().await;
    let images = client.images();
    let img = raw(&client, "errors").await;
    let err = images
        .patch(&img.id, &[PatchOp::replace("missing", json!("x"))])
        .await
        .expect_err("replace of a missing property");
    assert!(err.is_conflict(), "{err}");
    let err = images
        .patch(&img.id, &[PatchOp::remove("name")])
        .await
        .expect_err("base attributes cannot be removed");
    assert!(err.is_forbidden(), "{err}");
    let err = images
        .update(
            "00000000-0000-0000-0000-000000000000",
            &ImagePatch::new().name("x"),
        )
        .await
        .expect_err("no such image");
    assert!(err.is_not_found(), "{err}");
    // Refused before anything is sent.
    let err = images
        .update(&img.id, &ImagePatch::new().set("status", json!("active")))
        .await
        .expect_err("read-only");
    assert!(matches!(err, Error::InvalidInput(_)), "{err}");
}

#[tokio::test]
async fn tags_are_added_and_removed() {
    let (_server, client) = setup().await;
    let images = client.images();
    let img = raw(&client, "tags").await;
    images.add_tag(&img.id, "golden").await.expect("added");
    images.add_tag(&img.id, "golden").await.expect("idempotent");
    images.add_tag(&img.id, "t 1?x").await.expect("added");
    assert_eq!(
        sorted(images.get(&img.id).await.expect("shown").tags),
        ["golden", "t 1?x"]
    );
    images.remove_tag(&img.id, "golden").await.expect("removed");
    let err = images
        .remove_tag(&img.id, "golden")
        .await
        .expect_err("already gone");
    assert!(err.is_not_found(), "{err}");
    assert_eq!(images.get(&img.id).await.expect("shown").tags, ["t 1?x"]);
}

#[tokio::test]
async fn deactivate_and_reactivate() {
    let (_server, client) = setup().await;
    let images = client.images();
    let img = raw(&client, "actions").await;
    let err = images
        .deactivate(&img.id)
        .await
        .expect_err("a queued image cannot be deactivated");
    assert!(err.is_forbidden(), "{err}");
    images
        .upload(&img.id, b"data".to_vec())
        .await
        .expect("uploaded");
    images.deactivate(&img.id).await.expect("deactivated");
    assert_eq!(
        images.get(&img.id).await.expect("shown").status,
        ImageStatus::Deactivated
    );
    images
        .deactivate(&img.id)
        .await
        .expect("deactivating again is fine");
    images.reactivate(&img.id).await.expect("reactivated");
    assert_eq!(
        images.get(&img.id).await.expect("shown").status,
        ImageStatus::Active
    );
}

#[tokio::test]
async fn members_share_an_image_between_projects() {
    let server = MockServer::start().await.expect("mock starts");
    let owner = client_as(&server, "proj-owner");
    let member = client_as(&server, "proj-member");
    let private = owner
        .images()
        .create(&CreateImage::new("private").visibility(Visibility::Private))
        .await
        .expect("created");
    let err = owner
        .members()
        .create(&private.id, "proj-member")
        .await
        .expect_err("private images have no members");
    assert!(err.is_forbidden(), "{err}");
    let img = owner
        .images()
        .create(&CreateImage::new("shared").visibility(Visibility::Shared))
        .await
        .expect("created");

    let added = owner
        .members()
        .create(&img.id, "proj-member")
        .await
        .expect("added");
    assert_eq!(added.status, MemberStatus::Pending);
    assert_eq!(added.image_id, img.id);
    let dup = owner
        .members()
        .create(&img.id, "proj-member")
        .await
        .expect_err("duplicate");
    assert!(dup.is_conflict(), "{dup}");

    // Pending shares are not in the member's default list.
    let listed: Vec<_> = member
        .images()
        .list(ListImages::new())
        .try_collect()
        .await
        .expect("listed");
    assert!(listed.iter().all(|i| i.id != img.id));
    let pending: Vec<_> = member
        .images()
        .list(ListImages::new().member_status(MemberStatus::Pending))
        .try_collect()
        .await
        .expect("listed");
    assert!(pending.iter().any(|i| i.id == img.id));

    let err = owner
        .members()
        .update(&img.id, "proj-member", MemberStatus::Accepted)
        .await
        .expect_err("only the member answers");
    assert!(err.is_forbidden(), "{err}");
    let accepted = member
        .members()
        .update(&img.id, "proj-member", MemberStatus::Accepted)
        .await
        .expect("accepted");
    assert_eq!(accepted.status, MemberStatus::Accepted);
    assert_eq!(
        owner
            .members()
            .get(&img.id, "proj-member")
            .await
            .expect("shown")
            .status,
        MemberStatus::Accepted
    );
    let all = owner.members().list(&img.id).await.expect("listed");
    assert_eq!(all.len(), 1);
    let listed: Vec<_> = member
        .images()
        .list(ListImages::new())
        .try_collect()
        .await
        .expect("listed");
    assert!(listed.iter().any(|i| i.id == img.id));

    owner
        .members()
        .delete(&img.id, "proj-member")
        .await
        .expect("removed");
    assert!(
        owner
            .members()
            .get(&img.id, "proj-member")
            .await
            .expect_err("gone")
            .is_not_found()
    );
}

#[tokio::test]
async fn typed_list_filters_select_what_glance_would() {
    let (_server, client) = setup().await;
    let images = client.images();
    let a = raw(&client, "web:front").await;
    let b = raw(&client, "db, primary").await;
    let c = client
        .images()
        .create(&CreateImage::new("plain").os_hidden(true).protected(true))
        .await
        .expect("created");
    images
        .upload(&a.id, vec![1u8; 100])
        .await
        .expect("uploaded");
    images.add_tag(&b.id, "blue").await.expect("tagged");
    images.add_tag(&c.id, "blue").await.expect("tagged");

    let names = |q: ListImages| {
        let client = client.clone();
        async move {
            let got: Vec<Image> = client.images().list(q).try_collect().await.expect("listed");
            sorted(got.into_iter().filter_map(|i| i.name).collect())
        }
    };
    assert_eq!(
        names(ListImages::new().name("web:front")).await,
        ["web:front"]
    );
    assert_eq!(
        names(ListImages::new().name_in(["db, primary", "web:front"])).await,
        ["db, primary", "web:front"]
    );
    assert_eq!(
        names(ListImages::new().status(ImageStatus::Active)).await,
        ["web:front"]
    );
    assert_eq!(
        names(ListImages::new().size_min(50).size_max(100)).await,
        ["web:front"]
    );
    assert_eq!(names(ListImages::new().tag("blue")).await, ["db, primary"]);
    assert_eq!(
        names(ListImages::new().tag("blue").os_hidden(true)).await,
        ["plain"]
    );
    assert_eq!(
        names(ListImages::new().protected(true).os_hidden(true)).await,
        ["plain"]
    );
    assert_eq!(
        names(
            ListImages::new()
                .status_in([ImageStatus::Queued, ImageStatus::Active])
                .created_at(
                    TimeOp::Gte,
                    glance_client::time::OffsetDateTime::from_unix_timestamp(946_684_800)
                        .expect("2000-01-01")
                )
                .sort_key("name")
                .sort_dir(SortDir::Asc)
        )
        .await,
        ["db, primary", "web:front"]
    );
    let ordered: Vec<_> = images
        .list(ListImages::new().sort_key("name").sort_dir(SortDir::Desc))
        .try_collect::<Vec<_>>()
        .await
        .expect("listed")
        .into_iter()
        .filter_map(|i| i.name)
        .collect();
    assert_eq!(ordered, ["web:front", "db, primary"]);
}

#[tokio::test]
async fn image_tasks_of_an_uploaded_image_are_empty() {
    let (_server, client) = setup().await;
    let img = raw(&client, "tasks").await;
    client
        .images()
        .upload(&img.id, b"x".to_vec())
        .await
        .expect("uploaded");
    assert!(
        client
            .images()
            .tasks(&img.id)
            .await
            .expect("tasks")
            .is_empty()
    );
}

#[tokio::test]
async fn schemas_describe_images_and_members() {
    let (_server, client) = setup().await;
    let image = client.schemas().get("image").await.expect("image schema");
    assert_eq!(image.name, "image");
    assert!(image.property("status").is_some_and(|p| p.read_only));
    assert!(image.is_base_property("name"));
    assert_eq!(
        image.additional_properties(),
        Some(&json!({"type": "string"}))
    );
    let member = client.schemas().get("member").await.expect("member schema");
    assert!(member.is_core_property("member_id"));
}

#[tokio::test]
async fn info_lists_import_methods_and_stores() {
    let (_server, client) = setup().await;
    let import = client.info().import_methods().await.expect("import info");
    assert!(import.methods.iter().any(|m| m == "glance-direct"));
    let stores = client.info().stores().await.expect("stores");
    assert!(stores.iter().any(|s| s.id == "fast" && s.default));
    assert!(stores.iter().any(|s| s.id == "cheap" && !s.default));
    assert!(client.info().usage().await.expect("usage").is_empty());
}
