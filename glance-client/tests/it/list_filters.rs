//! The query strings `images().list()` sends, and queries refused unsent.

use crate::common::{client, image_json, requests};
use futures::TryStreamExt;
use glance_client::images::{SortDir, TimeOp};
use glance_client::{DiskFormat, ImageStatus, ListImages, MemberStatus, Visibility};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn first_query(query: ListImages) -> String {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/images"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"images": [image_json(json!({}))], "first": "/v2/images", "schema": "/v2/schemas/images"}),
        ))
        .mount(&server)
        .await;
    let got: Vec<_> = client(&server)
        .images()
        .list(query)
        .try_collect()
        .await
        .expect("listed");
    assert_eq!(got.len(), 1);
    let reqs = requests(&server).await;
    assert_eq!(reqs.len(), 1);
    reqs[0].1.clone()
}

#[tokio::test]
async fn typed_filters_on_the_wire() {
    assert_eq!(
        first_query(
            ListImages::new()
                .name_in(["debian, 13", "cirros"])
                .status(ImageStatus::Active)
                .visibility(Visibility::Community)
                .member_status(MemberStatus::Accepted)
                .owner("p1")
                .tag("t 1")
                .tag("ñ")
                .size_min(1024)
                .os_hidden(false)
                .created_at(TimeOp::Gt, time::macros::datetime!(2026-01-01 00:00 UTC))
                .property("os_distro", "debian")
                .sort("name", true)
                .sort("size", false)
                .page_size(50)
        )
        .await,
        "/v2/images?name=in%3A%22debian%2C+13%22%2C%22cirros%22&status=active&visibility=community\
         &member_status=accepted&owner=p1&size_min=1024&os_hidden=false\
         &created_at=gt%3A2026-01-01T00%3A00%3A00Z&os_distro=debian&limit=50&tag=t+1&tag=%C3%B1\
         &sort=name%3Aasc%2Csize%3Adesc"
    );
    assert_eq!(
        first_query(
            ListImages::new()
                .name("web:frontend")
                .disk_format_in([DiskFormat::Raw, DiskFormat::Qcow2])
                .protected(true)
                .size_max(10)
                .all_visibilities()
                .any_member_status()
                .sort_key("name")
                .sort_key("created_at")
                .sort_dir(SortDir::Asc)
                .sort_dir(SortDir::Desc)
                .marker("m1")
                .limit(1)
        )
        .await,
        "/v2/images?name=eq%3Aweb%3Afrontend&disk_format=in%3A%22raw%22%2C%22qcow2%22&protected=true\
         &size_max=10&visibility=all&member_status=all&limit=1&sort_key=name&sort_key=created_at\
         &sort_dir=asc&sort_dir=desc&marker=m1"
    );
}

#[tokio::test]
async fn invalid_queries_are_the_first_item_and_nothing_is_sent() {
    let server = MockServer::start().await;
    for q in [
        ListImages::new().sort("owner", true),
        ListImages::new().sort("name", true).sort_dir(SortDir::Asc),
        ListImages::new()
            .sort_key("name")
            .sort_key("id")
            .sort_key("size")
            .sort_dir(SortDir::Asc)
            .sort_dir(SortDir::Asc),
        ListImages::new().name_in(["has \"quotes\""]),
        ListImages::new().size_min(2).size_max(1),
        ListImages::new().filter("marker", "x"),
        ListImages::new().tag(""),
    ] {
        let err = client(&server)
            .images()
            .list(q)
            .try_collect::<Vec<_>>()
            .await
            .expect_err("refused");
        assert!(err.is_invalid_input(), "{err}");
    }
    assert!(requests(&server).await.is_empty());
}
