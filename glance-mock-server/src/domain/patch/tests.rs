//! The patch dialects end to end: parsing, then applying to an image.

use serde_json::Value;

use super::{Dialect, Op, Patch, V2_0_MEDIA_TYPE};
use crate::domain::image::Member;
use crate::domain::time::now;
use crate::domain::{Fault, Identity, Image, ImageStatus, Visibility};
use serde_json::json;

fn who(project: &str, roles: &[&str]) -> Identity {
    Identity {
        project_id: Some(project.into()),
        user_id: Some(format!("{project}-user")),
        roles: roles.iter().map(|r| (*r).to_string()).collect(),
    }
}

fn alice() -> Identity {
    who("alice", &["member", "reader"])
}

fn admin() -> Identity {
    who("admin", &["admin", "member", "reader"])
}

fn image() -> Image {
    let mut img = Image::new("img".into(), Some("alice".into()), now());
    img.properties.insert("foo".into(), "1".into());
    img
}

fn parse(body: Value) -> Result<Patch, Fault> {
    Patch::parse(&body, Dialect::Draft10)
}

/// Apply to a draft and keep it only on success, as the repository does.
fn run(dialect: Dialect, body: Value, img: &mut Image, by: &Identity) -> Result<(), Fault> {
    let mut draft = img.clone();
    Patch::parse(&body, dialect)?.apply(&mut draft, by, now())?;
    *img = draft;
    Ok(())
}

fn patch(body: Value, img: &mut Image) -> Result<(), Fault> {
    run(Dialect::Draft10, body, img, &alice())
}

fn bad_request(m: &str) -> Result<(), Fault> {
    Err(Fault::BadRequest(m.into()))
}

#[test]
fn content_type_picks_the_dialect_exactly() {
    assert_eq!(
        Dialect::from_content_type("application/openstack-images-v2.1-json-patch; charset=UTF-8"),
        Some(Dialect::Draft10)
    );
    assert_eq!(
        Dialect::from_content_type(V2_0_MEDIA_TYPE),
        Some(Dialect::Draft4)
    );
    assert_eq!(Dialect::from_content_type("application/json"), None);
    assert_eq!(
        Dialect::from_content_type("Application/OpenStack-Images-v2.1-JSON-Patch"),
        None
    );
    assert_eq!(
        Dialect::from_content_type("application/openstack-images-v2.1-json-patch ;x=y"),
        None
    );
}

#[test]
fn body_shape_errors() {
    let err = |v: Value| parse(v).map(|_| ());
    assert_eq!(
        err(json!({})),
        bad_request("Request body must be a JSON array of operation objects.")
    );
    assert_eq!(
        err(json!([1])),
        bad_request("Operations must be JSON objects.")
    );
    assert_eq!(
        err(json!([{"op": null, "path": "/name"}])),
        bad_request(
            "Unable to find `op` in JSON Schema change. It must be one of the following: add, remove, replace."
        )
    );
    assert_eq!(
        err(json!([{"op": "move", "path": "/name"}])),
        bad_request(
            "Invalid operation: `move`. It must be one of the following: add, remove, replace."
        )
    );
    assert_eq!(
        err(json!([{"op": ["add"], "path": "/name"}])),
        bad_request(
            "Invalid operation: `['add']`. It must be one of the following: add, remove, replace."
        )
    );
    assert_eq!(
        err(json!([{"op": "add"}])),
        bad_request("Unable to find 'path' in JSON Schema change")
    );
    assert_eq!(
        err(json!([{"op": "add", "path": "/name"}])),
        bad_request("Operation \"add\" requires a member named \"value\".")
    );
    assert_eq!(
        err(json!([{"op": "add", "path": 5, "value": "x"}])),
        Err(Fault::internal())
    );
    // Every operation is checked before any is applied.
    assert_eq!(
        err(json!([{"op": "remove", "path": "/missing"}, {"op": "copy", "path": "/x"}])),
        bad_request(
            "Invalid operation: `copy`. It must be one of the following: add, remove, replace."
        )
    );
}

#[test]
fn draft4_needs_exactly_one_operation_member() {
    let err = |v: Value| Patch::parse(&v, Dialect::Draft4).map(|_| ());
    assert_eq!(
        err(json!([{"op": "add", "path": "/foo", "value": "2"}])),
        bad_request(
            "Operation objects must contain exactly one member named \"add\", \"remove\", or \"replace\"."
        )
    );
    assert_eq!(
        err(json!([{"add": "/x", "remove": "/y", "value": "b"}])),
        bad_request(
            "Operation objects must contain only one member named \"add\", \"remove\", or \"replace\"."
        )
    );
    let p = Patch::parse(
        &json!([{"replace": "/name", "value": "n"}]),
        Dialect::Draft4,
    )
    .expect("valid");
    assert_eq!(p.changes()[0].op, Op::Replace);
    assert_eq!(p.changes()[0].path, vec!["name".to_string()]);
}

#[test]
fn pointers_are_checked_unescaped_and_trimmed() {
    let path = |p: &str| {
        parse(json!([{"op": "add", "path": p, "value": "v"}]))
            .map(|patch| patch.changes()[0].path.clone())
    };
    assert_eq!(path("/a~1b~0c"), Ok(vec!["a/b~c".to_string()]));
    assert_eq!(path("/ spaced "), Ok(vec!["spaced".to_string()]));
    assert_eq!(path("/"), Ok(vec![String::new()]));
    let fails = |p: &str, m: &str| assert_eq!(path(p), Err(Fault::BadRequest(m.into())), "{p}");
    fails("name", "Pointer `name` does not start with \"/\".");
    fails("/a//b", "Pointer `/a//b` contains adjacent \"/\".");
    fails("/a/ /b", "Pointer `/a/ /b` contains adjacent \"/\".");
    fails("/a/", "Pointer `/a/` end with \"/\".");
    fails("/ / ", "Pointer `/ / ` does not contains valid token.");
    fails(
        "/a~2",
        "Pointer `/a~2` contains \"~\" not part of a recognized escape sequence.",
    );
    fails(
        "/a~",
        "Pointer `/a~` contains \"~\" not part of a recognized escape sequence.",
    );
    fails(
        "/tags/-",
        "Invalid JSON pointer for this resource: '/tags/-'",
    );
    fails("/x/ y", "Invalid JSON pointer for this resource: '/x/y'");
    fails(
        "/locations",
        "Invalid JSON pointer for this resource: '/locations'",
    );
}

#[test]
fn read_only_and_reserved_roots_are_refused_before_values_are_checked() {
    let err = |p: &str| parse(json!([{"op": "replace", "path": p, "value": 5}])).map(|_| ());
    assert_eq!(
        err("/status"),
        Err(Fault::Forbidden("Attribute 'status' is read-only.".into()))
    );
    assert_eq!(
        err("/os_hash_algo"),
        Err(Fault::Forbidden(
            "Attribute 'os_hash_algo' is read-only.".into()
        ))
    );
    assert_eq!(
        err("/os_glancefoo"),
        Err(Fault::Forbidden(
            "Attribute 'os_glancefoo' is reserved.".into()
        ))
    );
    assert_eq!(
        err("/deleted_at"),
        Err(Fault::Forbidden(
            "Attribute 'deleted_at' is reserved.".into()
        ))
    );
    let Err(Fault::BadRequest(m)) = err("/name") else {
        panic!("schema error expected");
    };
    assert!(
            m.starts_with("Provided object does not match schema 'image': 5 is not of type 'null', 'string'\n\nFailed validating 'type' in schema['properties']['name']:"),
            "{m}"
        );
}

#[test]
fn replace_add_and_remove_properties() {
    let mut img = image();
    let before = img.updated_at;
    patch(
        json!([
            {"op": "replace", "path": "/name", "value": "after"},
            {"op": "add", "path": "/bar", "value": "2"},
            {"op": "add", "path": "/foo", "value": "overwritten"},
            {"op": "replace", "path": "/tags", "value": ["t1", "t2", "t1"]},
            {"op": "add", "path": "/min_ram", "value": 1024},
            {"op": "replace", "path": "/min_disk", "value": 2.0},
            {"op": "replace", "path": "/protected", "value": true}
        ]),
        &mut img,
    )
    .expect("applied");
    assert_eq!(img.name.as_deref(), Some("after"));
    assert_eq!(img.properties.get("bar").map(String::as_str), Some("2"));
    assert_eq!(
        img.properties.get("foo").map(String::as_str),
        Some("overwritten")
    );
    assert_eq!(img.tags.len(), 2);
    assert_eq!((img.min_ram, img.min_disk), (1024, 2));
    assert!(img.protected);
    assert!(img.updated_at >= before);
    patch(json!([{"op": "remove", "path": "/bar"}]), &mut img).expect("removed");
    assert!(!img.properties.contains_key("bar"));
}

#[test]
fn missing_and_base_properties() {
    let mut img = image();
    let conflict = |m: &str| Err(Fault::ConflictDetail(m.into()));
    assert_eq!(
        patch(json!([{"op": "remove", "path": "/missing"}]), &mut img),
        conflict("Property missing does not exist.")
    );
    assert_eq!(
        patch(
            json!([{"op": "replace", "path": "/missing", "value": "x"}]),
            &mut img
        ),
        conflict("Property missing does not exist.")
    );
    assert_eq!(
        patch(
            json!([{"op": "replace", "path": "/stores", "value": "x"}]),
            &mut img
        ),
        conflict("Property stores does not exist.")
    );
    for base in ["name", "tags", "min_ram", "member"] {
        assert_eq!(
            patch(
                json!([{"op": "remove", "path": format!("/{base}")}]),
                &mut img
            ),
            Err(Fault::ForbiddenDetail(format!(
                "Property {base} may not be removed."
            ))),
        );
    }
    // Proxy attributes take a value and store nothing.
    patch(
        json!([{"op": "add", "path": "/member", "value": "m"}]),
        &mut img,
    )
    .expect("no-op");
    assert!(!img.properties.contains_key("member"));
    assert_eq!(
        patch(
            json!([{"op": "replace", "path": "/image_id", "value": "m"}]),
            &mut img
        ),
        Err(Fault::NotFound("No image found with ID m".into()))
    );
}

#[test]
fn draft4_add_refuses_existing_keys() {
    let mut img = image();
    let by = alice();
    for key in ["foo", "name", "tags"] {
        assert_eq!(
            run(
                Dialect::Draft4,
                json!([{"add": format!("/{key}"), "value": ["x"]}]),
                &mut img,
                &by
            )
            .or_else(|e| match e {
                // `tags` passes the schema with a list; the others need a string.
                Fault::BadRequest(_) => run(
                    Dialect::Draft4,
                    json!([{"add": format!("/{key}"), "value": "x"}]),
                    &mut img,
                    &by
                ),
                e => Err(e),
            }),
            Err(Fault::ConflictDetail(format!(
                "Property {key} already present."
            ))),
        );
    }
    run(
        Dialect::Draft4,
        json!([{"add": "/new", "value": "v"}]),
        &mut img,
        &by,
    )
    .expect("added");
    assert_eq!(img.properties.get("new").map(String::as_str), Some("v"));
}

#[test]
fn value_rules_of_the_image() {
    let mut img = image();
    assert_eq!(
        patch(
            json!([{"op": "replace", "path": "/min_ram", "value": -5}]),
            &mut img
        ),
        bad_request("Invalid value '-5' for parameter 'min_ram': Cannot be a negative value")
    );
    assert_eq!(
        patch(
            json!([{"op": "replace", "path": "/min_disk", "value": 2147483648_i64}]),
            &mut img
        ),
        bad_request("'min_disk' value out of range, must not exceed 2147483647.")
    );
    // A later operation can bring the value back in range.
    patch(
        json!([
            {"op": "replace", "path": "/min_disk", "value": 2147483648_i64},
            {"op": "replace", "path": "/min_disk", "value": 7}
        ]),
        &mut img,
    )
    .expect("in range at save");
    assert_eq!(img.min_disk, 7);
    img.status = ImageStatus::Active;
    assert_eq!(
        patch(
            json!([{"op": "replace", "path": "/disk_format", "value": "qcow2"}]),
            &mut img
        ),
        Err(Fault::Forbidden(
            "Attribute disk_format can be only replaced for a queued image.".into()
        ))
    );
    patch(
        json!([{"op": "replace", "path": "/name", "value": "active ok"}]),
        &mut img,
    )
    .expect("other properties stay writable");
}

#[test]
fn locations_are_invisible() {
    let mut img = image();
    assert_eq!(
        patch(
            json!([{"op": "replace", "path": "/locations", "value": []}]),
            &mut img
        ),
        Err(Fault::ForbiddenDetail(
            "Cannot set locations to empty list.".into()
        ))
    );
    assert_eq!(
        patch(
            json!([{"op": "add", "path": "/locations/-", "value": {"url": "file:///x", "metadata": {}}}]),
            &mut img
        ),
        Err(Fault::Forbidden(
            "It's not allowed to add locations if locations are invisible.".into()
        ))
    );
    assert_eq!(
        patch(json!([{"op": "remove", "path": "/locations/0"}]), &mut img),
        Err(Fault::Forbidden(
            "You are not authorized to complete delete_image_location action.".into()
        ))
    );
    assert_eq!(
        run(
            Dialect::Draft10,
            json!([{"op": "remove", "path": "/locations/0"}]),
            &mut img,
            &admin()
        ),
        Err(Fault::Forbidden(
            "It's not allowed to remove locations if locations are invisible.".into()
        ))
    );
}

#[test]
fn policy_of_owner_visibility_and_modify() {
    let mut img = image();
    assert_eq!(
        patch(
            json!([{"op": "replace", "path": "/owner", "value": "x"}]),
            &mut img
        ),
        Err(Fault::ForbiddenDetail(
            "Owner can't be updated by non admin.".into()
        ))
    );
    assert_eq!(
        patch(
            json!([{"op": "replace", "path": "/visibility", "value": "public"}]),
            &mut img
        ),
        Err(Fault::Forbidden(
            "You are not authorized to complete publicize_image action.".into()
        ))
    );
    patch(
        json!([{"op": "replace", "path": "/visibility", "value": "community"}]),
        &mut img,
    )
    .expect("owner may communitize");
    // Another project's member may see a community image but not change it.
    let bob = who("bob", &["member", "reader"]);
    let modify = Err(Fault::Forbidden(
        "You are not authorized to complete modify_image action.".into(),
    ));
    assert_eq!(
        run(
            Dialect::Draft10,
            json!([{"op": "remove", "path": "/missing"}]),
            &mut img,
            &bob
        ),
        modify
    );
    assert_eq!(
        run(
            Dialect::Draft10,
            json!([{"op": "replace", "path": "/visibility", "value": "community"}]),
            &mut img,
            &bob
        ),
        Err(Fault::Forbidden(
            "You are not authorized to complete communitize_image action.".into()
        ))
    );
    // A member of a shared image, likewise.
    img.visibility = Visibility::Shared;
    img.members.push(Member {
        status: "accepted".into(),
        ..Member::new("bob".into(), now())
    });
    assert_eq!(
        run(
            Dialect::Draft10,
            json!([{"op": "replace", "path": "/name", "value": "x"}]),
            &mut img,
            &bob
        ),
        modify
    );
    // Without the reader role the image is hidden instead.
    let no_roles = who("alice", &[]);
    assert_eq!(
        run(
            Dialect::Draft10,
            json!([{"op": "replace", "path": "/name", "value": "x"}]),
            &mut img,
            &no_roles
        ),
        Err(Fault::NotFound("The resource could not be found.".into()))
    );
    // The admin changes the owner, then the visibility as the new owner's image.
    run(
        Dialect::Draft10,
        json!([
            {"op": "replace", "path": "/owner", "value": "bob"},
            {"op": "replace", "path": "/visibility", "value": "public"}
        ]),
        &mut img,
        &admin(),
    )
    .expect("admin may");
    assert_eq!(img.owner.as_deref(), Some("bob"));
}

#[test]
fn property_quota_counts_only_when_keys_are_added() {
    let mut img = image();
    for i in 1..128 {
        img.properties.insert(format!("p{i}"), "v".into());
    }
    img.properties
        .insert("os_glance_import_task".into(), "t".into());
    assert_eq!(img.properties.len(), 129);
    // At the quota (os_glance* not counted), replacing is fine...
    patch(
        json!([{"op": "replace", "path": "/p1", "value": "w"}]),
        &mut img,
    )
    .expect("replace");
    // ...and adding is not, even when another key goes at the same time.
    assert_eq!(
            patch(
                json!([{"op": "add", "path": "/q1", "value": "v"}, {"op": "add", "path": "/q2", "value": "v"}, {"op": "remove", "path": "/p2"}]),
                &mut img
            ),
            Err(Fault::TooLarge(
                "The limit has been exceeded on the number of allowed image properties. Attempted: 129, Maximum: 128".into()
            ))
        );
    // Errors of the operations come before the quota, the database's range check after.
    assert_eq!(
            patch(
                json!([{"op": "add", "path": "/q1", "value": "v"}, {"op": "replace", "path": "/min_ram", "value": 2147483648_i64}]),
                &mut img
            ),
            Err(Fault::TooLarge(
                "The limit has been exceeded on the number of allowed image properties. Attempted: 129, Maximum: 128".into()
            ))
        );
}

#[test]
fn tag_quota_counts_the_list_as_given() {
    let mut img = image();
    let tags: Vec<String> = (0..129).map(|i| format!("t{}", i % 100)).collect();
    assert_eq!(
            patch(json!([{"op": "replace", "path": "/tags", "value": tags}]), &mut img),
            Err(Fault::TooLarge(
                "The limit has been exceeded on the number of allowed image tags. Attempted: 129, Maximum: 128".into()
            ))
        );
}

#[test]
fn empty_patch_touches_nothing() {
    let mut img = image();
    let before = img.clone();
    let bob = who("bob", &["member", "reader"]);
    run(Dialect::Draft10, json!([]), &mut img, &bob).expect("no policy for no changes");
    assert_eq!(img, before);
}
