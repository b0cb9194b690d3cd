//! `/v2/schemas/...`: the JSON schemas Glance publishes, served byte for
//! byte as Glance 33 serves them in the reference deployment (recorded from
//! it into `schemas/*.json`; no custom image properties are configured, so
//! the image schema is the stock one).

use crate::api::resources::Routes;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

/// The published documents: the path under `/v2/schemas/` and the document.
pub const DOCUMENTS: &[(&str, &str)] = &[
    ("image", include_str!("image.json")),
    ("images", include_str!("images.json")),
    ("member", include_str!("member.json")),
    ("members", include_str!("members.json")),
    ("task", include_str!("task.json")),
    ("tasks", include_str!("tasks.json")),
    (
        "metadefs/namespace",
        include_str!("metadefs/namespace.json"),
    ),
    (
        "metadefs/namespaces",
        include_str!("metadefs/namespaces.json"),
    ),
    (
        "metadefs/resource_type",
        include_str!("metadefs/resource_type.json"),
    ),
    (
        "metadefs/resource_types",
        include_str!("metadefs/resource_types.json"),
    ),
    ("metadefs/property", include_str!("metadefs/property.json")),
    (
        "metadefs/properties",
        include_str!("metadefs/properties.json"),
    ),
    ("metadefs/object", include_str!("metadefs/object.json")),
    ("metadefs/objects", include_str!("metadefs/objects.json")),
    ("metadefs/tag", include_str!("metadefs/tag.json")),
    ("metadefs/tags", include_str!("metadefs/tags.json")),
];

/// The document published at `/v2/schemas/{name}`, if any.
pub fn document(name: &str) -> Option<&'static str> {
    DOCUMENTS
        .iter()
        .find_map(|(n, doc)| (*n == name).then_some(*doc))
}

/// Routes of this resource: one `GET` per document. Other methods, and
/// bodies, are answered before routing (see [`super::routes`]).
pub fn router() -> Routes {
    DOCUMENTS
        .iter()
        .fold(Routes::new(), |router, &(name, doc)| {
            router.route(
                &format!("/v2/schemas/{name}"),
                get(move || async move {
                    ([(header::CONTENT_TYPE, "application/json")], doc).into_response()
                }),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn every_document_is_a_json_object_named_after_its_path() {
        for (path, doc) in DOCUMENTS {
            let value: Value = serde_json::from_str(doc).expect("recorded schemas are JSON");
            let leaf = path.rsplit('/').next().expect("a path has a last segment");
            // Glance names the resource type documents after the association.
            let expected = match leaf {
                "resource_type" => "resource_type_association",
                "resource_types" => "resource_type_associations",
                other => other,
            };
            assert_eq!(value["name"], expected, "schema at {path}");
        }
    }

    #[test]
    fn image_schema_is_the_stock_one() {
        let doc = document("image").expect("published");
        let value: Value = serde_json::from_str(doc).expect("JSON");
        assert_eq!(value["additionalProperties"]["type"], "string");
        assert_eq!(value["properties"]["disk_format"]["enum"][0], Value::Null);
        assert!(value.get("required").is_none());
        assert!(document("nope").is_none());
        assert!(document("metadefs/tags").is_some());
    }
}
