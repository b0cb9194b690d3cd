//! The client's calls against a whole server, the same suite for both:
//! the in-process glance-mock-server by default, or a real Glance that
//! trusts keystone-middleware identity headers when `GLANCE_TEST_URL` is set
//! (`.ci/run` starts `../shared/real-glance/start` and does that):
//!
//! ```text
//! ../shared/real-glance/start 9605
//! GLANCE_TEST_URL=http://127.0.0.1:9605 cargo test -p glance-client --test it -- real_glance:: --test-threads=1
//! ```
//!
//! One thread against the real server: it keeps its records in SQLite and
//! answers concurrent writes with 500s now and then.

use futures::TryStreamExt;
use glance_client::images::{ImagePatch, PatchOp, SortDir, TimeOp};
use glance_client::{
    Client, ContainerFormat, CreateImage, DiskFormat, Image, ImageStatus, ListImages, MemberStatus,
    Visibility,
};
use serde_json::json;

/// The server under test: a real Glance at `GLANCE_TEST_URL`, or a fresh
/// in-process mock living as long as this value.
struct Target {
    url: String,
    _mock: Option<glance_mock_server::MockServer>,
}

async fn target() -> Target {
    match std::env::var("GLANCE_TEST_URL") {
        Ok(url) if !url.is_empty() => Target { url, _mock: None },
        _ => {
            let mock = glance_mock_server::MockServer::start()
                .await
                .expect("mock starts");
            Target {
                url: mock.url(),
                _mock: Some(mock),
            }
        }
    }
}

impl Target {
    /// A client acting as `project` with `roles`, by keystone-middleware
    /// identity headers.
    fn client_as(&self, project: &str, roles: &str) -> Client {
        Client::builder()
            .endpoint(&self.url)
            .token("unused-by-the-trusted-pipeline")
            .default_header("X-Identity-Status", "Confirmed")
            .default_header("X-Roles", roles)
            .default_header("X-Project-Id", project)
            .default_header("X-User-Id", format!("user-of-{project}"))
            .build()
            .expect("client builds")
    }
}

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default()
    )
}

async fn raw_image(client: &Client, name: &str) -> Image {
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

#[tokio::test]
async fn versions_and_discovery() {
    let t = target().await;
    let c = t.client_as("proj-a", "admin,member,reader");
    let versions = c.versions().await.expect("versions");
    assert!(versions.iter().any(|v| v.id == "v2.17"));
    assert!(c.has_version("2.17").await.expect("cached"));
    let import = c.info().import_methods().await.expect("import info");
    assert!(import.methods.contains(&"glance-direct".to_string()));
    let stores = c.info().stores().await.expect("stores");
    assert!(stores.iter().any(|s| s.id == "fast" && s.default));
    let detail = c.info().stores_detail().await.expect("stores detail");
    assert!(detail.iter().all(|s| s.store_type.is_some()));
    assert!(c.info().usage().await.expect("usage").is_empty());
    let schema = c.schemas().get("image").await.expect("schema");
    assert!(schema.property("status").is_some_and(|p| p.read_only));
    assert!(!schema.is_base_property("os_distro") || !schema.is_core_property("os_distro"));
    let member = c.schemas().get("member").await.expect("member schema");
    assert!(member.is_core_property("member_id"));
    c.schemas()
        .get("metadefs/namespace")
        .await
        .expect("nested schema name");
}

#[tokio::test]
async fn update_computes_patches_the_server_accepts() {
    let t = target().await;
    let c = t.client_as("proj-a", "member,reader");
    let img = raw_image(&c, &unique("upd")).await;
    let images = c.images();

    let updated = images
        .update(
            &img.id,
            &ImagePatch::new()
                .name("renamed")
                .property("os_distro", "debian")
                .property("build", "1")
                .min_ram(64)
                .protected(false)
                .disk_format(DiskFormat::Qcow2)
                .tags(["a", "b"]),
        )
        .await
        .expect("first update");
    assert_eq!(updated.name.as_deref(), Some("renamed"));
    assert_eq!(updated.property("os_distro"), Some("debian"));
    assert_eq!(updated.min_ram, 64);
    assert_eq!(updated.disk_format, Some(DiskFormat::Qcow2));
    let mut tags = updated.tags.clone();
    tags.sort();
    assert_eq!(tags, ["a", "b"]);

    // replace existing, add new, remove, edit tags
    let updated = images
        .update(
            &img.id,
            &ImagePatch::new()
                .property("os_distro", "ubuntu")
                .property("os_version", "24.04")
                .remove_property("build")
                .remove_property("never-there")
                .remove_tag("a")
                .add_tag("c"),
        )
        .await
        .expect("second update");
    assert_eq!(updated.property("os_distro"), Some("ubuntu"));
    assert_eq!(updated.property("os_version"), Some("24.04"));
    assert!(updated.property("build").is_none());
    let mut tags = updated.tags.clone();
    tags.sort();
    assert_eq!(tags, ["b", "c"]);

    // purge_props and clearing tags and the name
    let updated = images
        .update(
            &img.id,
            &ImagePatch::new()
                .property("os_distro", "ubuntu")
                .purge_props(true)
                .tags(Vec::<String>::new())
                .clear_name(),
        )
        .await
        .expect("purge");
    assert_eq!(updated.property("os_distro"), Some("ubuntu"));
    assert!(updated.property("os_version").is_none());
    assert!(updated.tags.is_empty());
    assert_eq!(updated.name, None);

    // nothing to do: no PATCH, same record
    let same = images
        .update(&img.id, &ImagePatch::new().property("os_distro", "ubuntu"))
        .await
        .expect("no-op");
    assert_eq!(same.updated_at, updated.updated_at);

    // raw ops: replace of a missing property is a 409, remove of a base one a 403
    let err = images
        .patch(&img.id, &[PatchOp::replace("missing", json!("x"))])
        .await
        .expect_err("409");
    assert!(err.is_conflict(), "{err}");
    let err = images
        .patch(&img.id, &[PatchOp::remove("name")])
        .await
        .expect_err("403");
    assert!(err.is_forbidden(), "{err}");
    // the escaped pointer reaches the right key
    let updated = images
        .patch(&img.id, &[PatchOp::add("a/b~c", json!("slash"))])
        .await
        .expect("escaped add");
    assert_eq!(updated.property("a/b~c"), Some("slash"));

    images.delete(&img.id).await.expect("deleted");
}

#[tokio::test]
async fn tags_actions_and_tasks() {
    let t = target().await;
    let c = t.client_as("proj-a", "admin,member,reader");
    let img = raw_image(&c, &unique("act")).await;
    let images = c.images();
    let odd = "t 1?x#y%z+;";
    images.add_tag(&img.id, odd).await.expect("tag added");
    images.add_tag(&img.id, odd).await.expect("idempotent");
    assert_eq!(images.get(&img.id).await.expect("shown").tags, [odd]);
    images.remove_tag(&img.id, odd).await.expect("tag removed");
    let err = images.remove_tag(&img.id, odd).await.expect_err("404");
    assert!(err.is_not_found(), "{err}");
    for refused in ["a/b", "ñ", ".."] {
        let err = images.add_tag(&img.id, refused).await.expect_err("refused");
        assert!(err.is_invalid_input(), "{err}");
    }
    // Those go through a patch, and the list filter finds them.
    let (t1, t2) = (unique("ñ"), unique("a/b"));
    let tagged = images
        .update(&img.id, &ImagePatch::new().add_tag(&t1).add_tag(&t2))
        .await
        .expect("patched tags");
    assert_eq!(tagged.tags.len(), 2);
    let found: Vec<_> = images
        .list(ListImages::new().tag(t1).tag(t2))
        .try_collect()
        .await
        .expect("listed");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, img.id);

    let err = images.deactivate(&img.id).await.expect_err("queued");
    assert!(err.is_forbidden() || err.is_conflict(), "{err}");
    images
        .upload(&img.id, b"some data".to_vec())
        .await
        .expect("uploaded");
    images.deactivate(&img.id).await.expect("deactivated");
    images.deactivate(&img.id).await.expect("again");
    assert_eq!(
        images.get(&img.id).await.expect("shown").status,
        ImageStatus::Deactivated
    );
    images.reactivate(&img.id).await.expect("reactivated");
    assert_eq!(
        images.get(&img.id).await.expect("shown").status,
        ImageStatus::Active
    );
    let tasks = images.tasks(&img.id).await.expect("tasks");
    assert!(tasks.is_empty(), "an upload has no task: {tasks:?}");
    images.delete(&img.id).await.expect("deleted");
}

#[tokio::test]
async fn members_flow() {
    let t = target().await;
    let owner = t.client_as("proj-owner", "member,reader");
    let other = t.client_as("proj-member", "member,reader");
    let img = owner
        .images()
        .create(&CreateImage::new(unique("mem")).visibility(Visibility::Private))
        .await
        .expect("created");
    let err = owner
        .members()
        .create(&img.id, "proj-member")
        .await
        .expect_err("not shared yet");
    assert!(err.is_forbidden(), "{err}");
    owner
        .images()
        .update(&img.id, &ImagePatch::new().visibility(Visibility::Shared))
        .await
        .expect("shared");
    let m = owner
        .members()
        .create(&img.id, "proj-member")
        .await
        .expect("added");
    assert_eq!(m.status, MemberStatus::Pending);
    assert!(
        owner
            .members()
            .create(&img.id, "proj-member")
            .await
            .expect_err("dup")
            .is_conflict()
    );
    let err = owner
        .members()
        .update(&img.id, "proj-member", MemberStatus::Accepted)
        .await
        .expect_err("owner cannot answer");
    assert!(err.is_forbidden(), "{err}");
    let m = other
        .members()
        .update(&img.id, "proj-member", MemberStatus::Accepted)
        .await
        .expect("accepted");
    assert_eq!(m.status, MemberStatus::Accepted);
    let got = owner
        .members()
        .get(&img.id, "proj-member")
        .await
        .expect("get");
    assert_eq!(got.status, MemberStatus::Accepted);
    assert_eq!(owner.members().list(&img.id).await.expect("list").len(), 1);
    let seen: Vec<_> = other
        .images()
        .list(ListImages::new().id_in([img.id.clone()]))
        .try_collect()
        .await
        .expect("member lists");
    assert_eq!(seen.len(), 1);
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
    owner.images().delete(&img.id).await.expect("deleted");
}

#[tokio::test]
async fn typed_list_filters_are_understood() {
    let t = target().await;
    let c = t.client_as("proj-list", "member,reader");
    let tag = unique("lst");
    let colon = format!("{tag}:colon");
    let comma = format!("{tag},comma");
    let backslash = format!("{tag}\\back");
    let mut ids = Vec::new();
    for name in [&colon, &comma, &backslash] {
        let img = c
            .images()
            .create(
                &CreateImage::new(name.as_str())
                    .disk_format(DiskFormat::Raw)
                    .container_format(ContainerFormat::Bare)
                    .tag(tag.clone()),
            )
            .await
            .expect("created");
        ids.push(img.id);
    }
    c.images()
        .upload(&ids[0], vec![7u8; 100])
        .await
        .expect("uploaded");
    c.images()
        .update(&ids[1], &ImagePatch::new().protected(true).os_hidden(true))
        .await
        .expect("updated");
    let list = |q: ListImages| {
        let c = c.clone();
        async move {
            let mut names: Vec<String> = c
                .images()
                .list(q)
                .try_collect::<Vec<_>>()
                .await
                .expect("listed")
                .into_iter()
                .filter_map(|i| i.name)
                .collect();
            names.sort();
            names
        }
    };
    assert_eq!(
        list(ListImages::new().name(&colon)).await,
        vec![colon.clone()]
    );
    assert_eq!(
        list(
            ListImages::new()
                .name_in([comma.clone(), backslash.clone()])
                .os_hidden(true)
        )
        .await,
        vec![comma.clone()]
    );
    assert_eq!(
        list(ListImages::new().name_in([comma.clone(), backslash.clone()])).await,
        vec![backslash.clone()]
    );
    assert_eq!(
        list(
            ListImages::new()
                .tag(tag.clone())
                .size_min(50)
                .size_max(100)
        )
        .await,
        vec![colon.clone()]
    );
    assert_eq!(
        list(
            ListImages::new()
                .tag(tag.clone())
                .status(ImageStatus::Active)
        )
        .await,
        vec![colon.clone()]
    );
    assert_eq!(
        list(
            ListImages::new()
                .tag(tag.clone())
                .protected(true)
                .os_hidden(true)
        )
        .await,
        vec![comma.clone()]
    );
    assert_eq!(
        list(
            ListImages::new()
                .tag(tag.clone())
                .created_at(TimeOp::Gt, time::macros::datetime!(2000-01-01 00:00 UTC))
                .updated_at(TimeOp::Lte, time::macros::datetime!(2999-01-01 00:00 UTC))
        )
        .await
        .len(),
        2
    );
    assert_eq!(
        list(
            ListImages::new()
                .tag(tag.clone())
                .sort_key("name")
                .sort_key("size")
                .sort_dir(SortDir::Asc)
        )
        .await
        .len(),
        2
    );
    assert_eq!(
        list(
            ListImages::new()
                .tag(tag.clone())
                .disk_format_in([DiskFormat::Raw, DiskFormat::Qcow2])
                .visibility(Visibility::Shared)
                .owner("proj-list")
        )
        .await
        .len(),
        2
    );
    for id in ids {
        let _ = c
            .images()
            .update(&id, &ImagePatch::new().protected(false))
            .await;
        c.images().delete(&id).await.expect("deleted");
    }
}

#[tokio::test]
async fn tasks_api() {
    let t = target().await;
    let admin = t.client_as("proj-a", "admin,member,reader");
    let _: Vec<_> = admin
        .tasks()
        .list(
            glance_client::ListTasks::new()
                .sort("created_at", SortDir::Desc)
                .task_type("import")
                .page_size(5),
        )
        .try_collect()
        .await
        .expect("admins list tasks");
    let err = admin
        .tasks()
        .create(&glance_client::CreateTask::other(
            "import",
            json!({"import_from": "http://192.0.2.1:8080/x"}),
        ))
        .await
        .expect_err("filtered URI");
    assert!(err.is_bad_request(), "{err}");
    let user = t.client_as("proj-a", "member,reader");
    let err = user
        .tasks()
        .list(glance_client::ListTasks::new())
        .try_collect::<Vec<_>>()
        .await
        .expect_err("admin only");
    assert!(err.is_forbidden(), "{err}");
}

#[tokio::test]
async fn locations() {
    let t = target().await;
    let admin = t.client_as("proj-a", "admin,member,reader");
    let img = raw_image(&admin, &unique("loc")).await;
    assert!(
        admin
            .images()
            .image_locations(&img.id)
            .await
            .expect("admins read locations")
            .is_empty()
    );
    let err = admin
        .images()
        .add_image_location(&img.id, "file:///nowhere", None)
        .await
        .expect_err("no http store");
    assert!(err.is_forbidden(), "{err}");
    let service = t.client_as("proj-a", "service,member,reader");
    service
        .images()
        .add_image_location(&img.id, "file:///nowhere", None)
        .await
        .expect("services may (the import then fails asynchronously)");
    let err = admin
        .images()
        .add_location(&img.id, "file:///x", serde_json::Map::new(), None)
        .await
        .expect_err("locations are not shown here");
    assert!(err.is_forbidden(), "{err}");
    assert!(err.to_string().contains("It's not allowed"), "{err}");
    let err = admin
        .images()
        .delete_locations(&img.id, ["file:///x"])
        .await
        .expect_err("not shown");
    assert!(err.is_invalid_input(), "{err}");
    let _ = admin.images().delete(&img.id).await;
}

#[tokio::test]
async fn cache_is_refused_without_an_image_cache() {
    let t = target().await;
    let admin = t.client_as("proj-a", "admin,member,reader");
    let err = admin.cache().list().await.expect_err("no cache configured");
    assert!(err.is_unsupported_version(), "{err}");
}

#[tokio::test]
async fn metadefs_flow() {
    let t = target().await;
    use glance_client::metadefs::{
        ListNamespaces, MetadefObject, MetadefProperty, Namespace, ResourceTypeAssociation,
    };
    let admin = t.client_as("proj-a", "admin,member,reader");
    let md = admin.metadefs();
    let name = format!("OS::Test::{}", unique("ns").replace('-', ""));
    let mut ns = Namespace::new(&name);
    ns.display_name = Some("Test".into());
    ns.visibility = Some("public".into());
    let mut assoc = ResourceTypeAssociation::new("OS::Glance::Image");
    assoc.prefix = Some("tst_".into());
    ns.resource_type_associations.push(assoc);
    let created = md.create_namespace(&ns).await.expect("created");
    assert_eq!(created.namespace, name);

    let listed: Vec<_> = md
        .list_namespaces(
            ListNamespaces::new()
                .resource_type("OS::Glance::Image")
                .page_size(1),
        )
        .try_collect()
        .await
        .expect("listed across pages");
    assert!(listed.iter().any(|n| n.namespace == name));

    let mut prop = MetadefProperty::new("speed", "integer", "Speed");
    prop.extra.insert("minimum".into(), json!(1));
    md.create_property(&name, &prop).await.expect("property");
    let props = md.properties(&name).await.expect("properties");
    assert_eq!(props["speed"].property_type, "integer");
    assert_eq!(props["speed"].name, "speed");
    let mut got = md.property(&name, "speed").await.expect("property");
    got.title = "Velocity".into();
    md.update_property(&name, "speed", &got)
        .await
        .expect("updated");
    assert_eq!(
        md.property(&name, "speed").await.expect("shown").title,
        "Velocity"
    );

    let mut obj = MetadefObject::new("knobs");
    obj.properties
        .insert("k".into(), json!({"type": "string", "title": "K"}));
    md.create_object(&name, &obj).await.expect("object");
    let mut got = md.object(&name, "knobs").await.expect("object");
    got.description = Some("All the knobs".into());
    md.update_object(&name, "knobs", &got)
        .await
        .expect("updated");
    assert_eq!(md.objects(&name).await.expect("objects").len(), 1);

    md.create_tag(&name, "t1").await.expect("tag");
    md.create_tags(&name, ["t2", "t3"], true)
        .await
        .expect("appended");
    assert_eq!(md.tags(&name).await.expect("tags").len(), 3);
    md.create_tags(&name, ["t4"], false)
        .await
        .expect("replaced");
    assert_eq!(md.tags(&name).await.expect("tags").len(), 1);
    md.rename_tag(&name, "t4", "t5").await.expect("renamed");
    md.tag(&name, "t5").await.expect("shown");

    let mut shown = md.namespace(&name).await.expect("shown");
    assert_eq!(shown.objects.len(), 1);
    shown.description = Some("described".into());
    let updated = md.update_namespace(&name, &shown).await.expect("updated");
    assert_eq!(updated.description.as_deref(), Some("described"));
    let prefixed = md
        .namespace_for(&name, "OS::Glance::Image")
        .await
        .expect("prefixed");
    assert!(prefixed.properties.contains_key("tst_speed"));
    assert!(
        md.resource_types()
            .await
            .expect("types")
            .iter()
            .any(|t| t.name == "OS::Glance::Image")
    );
    assert_eq!(
        md.resource_type_associations(&name)
            .await
            .expect("assocs")
            .len(),
        1
    );
    md.deassociate(&name, "OS::Glance::Image")
        .await
        .expect("deassociated");
    md.associate(&name, &ResourceTypeAssociation::new("OS::Cinder::Volume"))
        .await
        .expect("associated");

    md.delete_all_tags(&name).await.expect("tags gone");
    md.delete_all_objects(&name).await.expect("objects gone");
    md.delete_all_properties(&name)
        .await
        .expect("properties gone");
    md.delete_namespace(&name).await.expect("deleted");
    assert!(md.namespace(&name).await.expect_err("gone").is_not_found());
}

/// Deterministic, non-repeating test data.
fn pattern(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15 ^ len as u64;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn quick_wait() -> glance_client::images::WaitOptions {
    glance_client::images::WaitOptions::default()
        .interval(
            std::time::Duration::from_millis(100),
            std::time::Duration::from_secs(1),
        )
        .timeout(std::time::Duration::from_secs(120))
}

#[tokio::test]
async fn data_round_trips_verified() {
    let t = target().await;
    let c = t.client_as("proj-data", "member,reader");
    for len in [0, 1, (1 << 20) + 7, 64 << 20] {
        let img = raw_image(&c, &unique("rt")).await;
        let body = pattern(len);
        c.images()
            .upload(&img.id, body.clone())
            .await
            .expect("uploaded");
        let back = match c.images().download(&img.id).await.expect("download") {
            Some(d) => d.bytes().await.expect("verified").to_vec(),
            None => Vec::new(),
        };
        assert!(back == body, "{len} bytes came back different");
        c.images().delete(&img.id).await.expect("deleted");
    }
}

#[tokio::test]
async fn stage_import_copy_and_wait() {
    let t = target().await;
    use glance_client::images::{ImageData, ImportRequest};
    let c = t.client_as("proj-data", "member,reader");
    let body = pattern(300_000);
    let staged = c
        .images()
        .create_with_data_with(
            &CreateImage::new(unique("staged"))
                .disk_format(DiskFormat::Raw)
                .container_format(ContainerFormat::Bare),
            ImageData::StageAndImport {
                body: body.clone().into(),
                options: Default::default(),
                import: glance_client::images::GlanceDirect::new().store("cheap"),
            },
            &quick_wait(),
        )
        .await
        .expect("imported");
    assert_eq!(staged.status, ImageStatus::Active);
    assert_eq!(staged.stores, ["cheap"]);
    // copy-image is for admins by default.
    let admin = t.client_as("proj-data", "admin,member,reader");
    let err = c
        .images()
        .import(&staged.id, &ImportRequest::copy_image().all_stores())
        .await
        .expect_err("members may not copy");
    assert!(err.is_forbidden(), "{err}");
    admin
        .images()
        .import(&staged.id, &ImportRequest::copy_image().all_stores())
        .await
        .expect("copy accepted");
    let copied = admin
        .images()
        .wait_for_import_with(&staged.id, &quick_wait())
        .await
        .expect("copied");
    let mut stores: Vec<&str> = copied.stores.iter().map(|s| s.as_str()).collect();
    stores.sort_unstable();
    assert_eq!(stores, ["cheap", "fast"]);
    let back = c
        .images()
        .download(&staged.id)
        .await
        .expect("download")
        .expect("data")
        .bytes()
        .await
        .expect("verified");
    assert!(back.as_ref() == body.as_slice());
    c.images().delete(&staged.id).await.expect("deleted");
}

/// A TCP proxy to `upstream` that cuts the first connection to carry more
/// than `cut_after` bytes towards the client.
async fn cutting_proxy(upstream: std::net::SocketAddr, cut_after: usize) -> String {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let cut_done = Arc::new(AtomicBool::new(false));
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let cut_done = cut_done.clone();
            tokio::spawn(async move {
                let Ok(server) = tokio::net::TcpStream::connect(upstream).await else {
                    return;
                };
                let (mut cr, mut cw) = client.into_split();
                let (mut sr, mut sw) = server.into_split();
                let up = tokio::spawn(async move {
                    let _ = tokio::io::copy(&mut cr, &mut sw).await;
                });
                let mut sent = 0usize;
                let mut buf = vec![0u8; 64 * 1024];
                loop {
                    let n = match sr.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    if !cut_done.load(Ordering::SeqCst) && sent + n > cut_after {
                        cut_done.store(true, Ordering::SeqCst);
                        let _ = cw.write_all(&buf[..cut_after - sent]).await;
                        break;
                    }
                    sent += n;
                    if cw.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
                up.abort();
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn a_cut_download_resumes() {
    let t = target().await;
    let c = t.client_as("proj-data", "member,reader");
    let body = pattern(3 << 20);
    let img = raw_image(&c, &unique("resume")).await;
    c.images()
        .upload(&img.id, body.clone())
        .await
        .expect("uploaded");
    let upstream: url::Url = t.url.parse().expect("GLANCE_TEST_URL is a URL");
    let addr = upstream
        .socket_addrs(|| None)
        .expect("resolves")
        .into_iter()
        .next()
        .expect("an address");
    let proxy = cutting_proxy(addr, 1_000_000).await;
    let through = Client::builder()
        .endpoint(proxy)
        .token("unused-by-the-trusted-pipeline")
        .default_header("X-Identity-Status", "Confirmed")
        .default_header("X-Roles", "member,reader")
        .default_header("X-Project-Id", "proj-data")
        .default_header("X-User-Id", "user-of-proj-data")
        .build()
        .expect("client builds");
    let back = through
        .images()
        .download(&img.id)
        .await
        .expect("download")
        .expect("data")
        .bytes()
        .await
        .expect("resumed and verified");
    assert!(back.as_ref() == body.as_slice());
    c.images().delete(&img.id).await.expect("deleted");
}

#[tokio::test]
async fn a_failing_import_is_reported() {
    let t = target().await;
    use glance_client::images::ImportRequest;
    let c = t.client_as("proj-data", "member,reader");
    // Declared qcow2, staged as random bytes: Glance's format check fails
    // the import task, leaves the image `importing` and lists the store in
    // os_glance_failed_import.
    let img = c
        .images()
        .create(
            &CreateImage::new(unique("badformat"))
                .disk_format(DiskFormat::Qcow2)
                .container_format(ContainerFormat::Bare),
        )
        .await
        .expect("created");
    c.images()
        .stage(&img.id, pattern(100_000))
        .await
        .expect("staged");
    c.images()
        .import(&img.id, &ImportRequest::glance_direct())
        .await
        .expect("accepted");
    let err = c
        .images()
        .wait_for_import_with(&img.id, &quick_wait())
        .await
        .expect_err("fails");
    let glance_client::Error::ImportFailed(failure) = &err else {
        panic!("expected ImportFailed, got {err}");
    };
    assert_eq!(failure.failed_stores, ["fast"]);
    assert_eq!(
        failure.task.as_ref().map(|t| t.status.clone()),
        Some(glance_client::TaskStatus::Failure)
    );
    assert!(failure.message().is_some(), "{failure:?}");
    let _ = c.images().delete(&img.id).await;
}
