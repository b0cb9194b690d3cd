//! The metadata definitions catalogue through the CLI: namespaces,
//! resource types, properties, objects and tags.

use glance_mock_server::MockServer;
use serde_json::Value;

use crate::harness::{fails, glance, json, ok, path, value_of};

#[tokio::test]
async fn metadefs_namespaces_properties_objects_tags() {
    let server = MockServer::start().await.expect("mock starts");
    let ns = "OS::Cli::Test";
    let table = ok(&glance(
        &server,
        &[
            "md-namespace-create",
            ns,
            "--display-name",
            "CLI",
            "--visibility",
            "public",
        ],
    )
    .await);
    assert_eq!(value_of(&table, "display_name"), "CLI", "{table}");
    ok(&glance(
        &server,
        &[
            "md-namespace-update",
            ns,
            "--description",
            "made by the CLI",
        ],
    )
    .await);
    let list = ok(&glance(&server, &["md-namespace-list", "--visibility", "public"]).await);
    assert!(list.contains(ns), "{list}");

    // Resource types.
    ok(&glance(
        &server,
        &[
            "md-resource-type-associate",
            ns,
            "--name",
            "OS::Glance::Image",
            "--prefix",
            "cli_",
        ],
    )
    .await);
    let assoc = ok(&glance(&server, &["md-namespace-resource-type-list", ns]).await);
    assert!(assoc.contains("| OS::Glance::Image | cli_"), "{assoc}");
    let types = ok(&glance(&server, &["md-resource-type-list"]).await);
    assert!(types.contains("OS::Glance::Image"), "{types}");

    // Properties.
    let err = fails(
        &glance(
            &server,
            &[
                "md-property-create",
                ns,
                "--name",
                "p",
                "--title",
                "P",
                "--type",
                "string",
                "--schema",
                "nope",
            ],
        )
        .await,
    );
    assert_eq!(err.trim(), "Schema is not a valid JSON object.");
    ok(&glance(
        &server,
        &[
            "md-property-create",
            ns,
            "--name",
            "speed",
            "--title",
            "Speed",
            "--type",
            "integer",
            "--schema",
            r#"{"minimum": 1}"#,
        ],
    )
    .await);
    let prop = json(
        &glance(
            &server,
            &[
                "-f",
                "json",
                "md-property-update",
                ns,
                "speed",
                "--title",
                "Velocity",
            ],
        )
        .await,
    );
    assert_eq!(prop["title"], "Velocity");
    assert_eq!(prop["minimum"], 1);
    let shown = ok(&glance(&server, &["md-property-show", ns, "speed"]).await);
    assert_eq!(value_of(&shown, "title"), "Velocity", "{shown}");
    let props = ok(&glance(&server, &["md-property-list", ns]).await);
    assert!(props.contains("| speed | Velocity | integer |"), "{props}");
    // The namespace as seen by a resource type: prefixed property names.
    let seen = ok(&glance(
        &server,
        &[
            "md-namespace-show",
            ns,
            "--resource-type",
            "OS::Glance::Image",
        ],
    )
    .await);
    assert!(seen.contains("cli_speed"), "{seen}");

    // Objects.
    ok(&glance(&server, &[
        "md-object-create",
        ns,
        "--name",
        "flavor",
        "--schema",
        r#"{"description": "d", "properties": {"cores": {"type": "integer", "title": "Cores"}}}"#,
    ])
    .await);
    ok(&glance(
        &server,
        &["md-object-update", ns, "flavor", "--name", "flavour"],
    )
    .await);
    let obj = ok(&glance(&server, &["md-object-show", ns, "flavour"]).await);
    assert_eq!(value_of(&obj, "properties"), r#"["cores"]"#, "{obj}");
    let p = ok(&glance(
        &server,
        &["md-object-property-show", ns, "flavour", "cores"],
    )
    .await);
    assert_eq!(value_of(&p, "title"), "Cores", "{p}");
    let err = fails(&glance(&server, &["md-object-property-show", ns, "flavour", "nope"]).await);
    assert_eq!(err.trim(), "Property nope not found in object flavour.");
    let objs = ok(&glance(&server, &["md-object-list", ns]).await);
    assert!(objs.contains("| flavour | d "), "{objs}");

    // Tags.
    ok(&glance(&server, &["md-tag-create", ns, "--name", "one"]).await);
    let tags = ok(&glance(
        &server,
        &[
            "md-tag-create-multiple",
            ns,
            "--names",
            "two|three",
            "--delim",
            "|",
            "--append",
        ],
    )
    .await);
    assert!(
        tags.contains("| two ") && tags.contains("| three "),
        "{tags}"
    );
    ok(&glance(&server, &["md-tag-update", ns, "two", "--name", "deux"]).await);
    let tag = ok(&glance(&server, &["md-tag-show", ns, "deux"]).await);
    assert_eq!(value_of(&tag, "name"), "deux", "{tag}");
    ok(&glance(&server, &["md-tag-delete", ns, "one"]).await);
    let tags = json(&glance(&server, &["-f", "json", "md-tag-list", ns]).await);
    let mut names: Vec<&str> = tags
        .as_array()
        .expect("tags")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["deux", "three"]);

    // The namespace shows its contents by name.
    let shown = ok(&glance(&server, &["md-namespace-show", ns]).await);
    for part in [
        r#"["flavour"]"#,
        r#"["speed"]"#,
        r#"["OS::Glance::Image"]"#,
        "made by the CLI",
    ] {
        assert!(shown.contains(part), "{part} in {shown}");
    }

    // Bulk deletes, deassociation, namespace deletion.
    ok(&glance(&server, &["md-namespace-tags-delete", ns]).await);
    ok(&glance(&server, &["md-namespace-objects-delete", ns]).await);
    ok(&glance(&server, &["md-namespace-properties-delete", ns]).await);
    ok(&glance(
        &server,
        &[
            "md-property-create",
            ns,
            "--name",
            "x",
            "--title",
            "X",
            "--type",
            "string",
            "--schema",
            "{}",
        ],
    )
    .await);
    ok(&glance(&server, &["md-property-delete", ns, "x"]).await);
    ok(&glance(
        &server,
        &["md-object-create", ns, "--name", "o", "--schema", "{}"],
    )
    .await);
    ok(&glance(&server, &["md-object-delete", ns, "o"]).await);
    ok(&glance(
        &server,
        &["md-resource-type-deassociate", ns, "OS::Glance::Image"],
    )
    .await);
    let ns_json = json(&glance(&server, &["-f", "json", "md-namespace-show", ns]).await);
    let empty =
        |v: &Value| v.is_null() || v == &serde_json::json!({}) || v == &serde_json::json!([]);
    for key in [
        "properties",
        "objects",
        "tags",
        "resource_type_associations",
    ] {
        assert!(empty(&ns_json[key]), "{key} left in {ns_json}");
    }
    ok(&glance(&server, &["md-namespace-delete", ns]).await);
    let err = fails(&glance(&server, &["md-namespace-show", ns]).await);
    assert!(err.starts_with("HTTP 404 Not Found"), "{err}");

    // Import from a file.
    let dir = tempfile::tempdir().expect("temp dir");
    let doc = dir.path().join("ns.json");
    std::fs::write(&doc, r#"{"namespace": "OS::Cli::Imported", "display_name": "Imported", "tags": [{"name": "t"}]}"#).expect("written");
    let table = ok(&glance(&server, &["md-namespace-import", "--file", path(&doc)]).await);
    assert_eq!(value_of(&table, "tags"), r#"["t"]"#, "{table}");
    std::fs::write(&doc, "not json").expect("written");
    let err = fails(&glance(&server, &["md-namespace-import", "--file", path(&doc)]).await);
    assert_eq!(err.trim(), "Schema is not a valid JSON object.");
}
