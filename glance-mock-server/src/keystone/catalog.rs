//! The service catalog: the mock itself as the `image` service, and its
//! `/identity` prefix as the `identity` service, each with public,
//! internal and admin endpoints. As in the reference deployment the URLs
//! carry no version.

use serde_json::{Value, json};

/// `(service id, type, name, endpoint ids for public/internal/admin)`.
const SERVICES: &[(&str, &str, &str, [&str; 3])] = &[
    (
        "e7e4e85c3efa4ece8bd95bb4425dd8c5",
        "identity",
        "keystone",
        [
            "67fcd2d24f94461b9d9808e04bf4339d",
            "2374bd410f7940f18a0256f04159817f",
            "44abcb590aa44a2db29e3bbbb57aa3a3",
        ],
    ),
    (
        "7c08e1541d4049598382c032c07bdf01",
        "image",
        "glance",
        [
            "c8d3a14ce91c4ceea02c8d36201c8ba1",
            "efe28e7c9abb429db29e0c32d7abb8fa",
            "d6a8dba0d68e4b1fad400a1dbe2de07c",
        ],
    ),
];

/// The identity service's URL for a mock reached at `base`.
pub fn identity_url(base: &str) -> String {
    format!("{base}/identity")
}

/// The catalog (the value of a token's `catalog`) for a mock reached at
/// `base` (e.g. `http://127.0.0.1:9292`), endpoints in `region`.
pub fn catalog(base: &str, region: &str) -> Value {
    let identity = identity_url(base);
    let services: Vec<Value> = SERVICES
        .iter()
        .map(|(id, kind, name, endpoint_ids)| {
            let url = if *kind == "identity" {
                identity.as_str()
            } else {
                base
            };
            let endpoints: Vec<Value> = ["public", "internal", "admin"]
                .iter()
                .zip(endpoint_ids)
                .map(|(interface, eid)| {
                    json!({
                        "id": eid,
                        "interface": interface,
                        "region_id": region,
                        "url": url,
                        "region": region,
                    })
                })
                .collect();
            json!({"endpoints": endpoints, "id": id, "type": kind, "name": name})
        })
        .collect();
    Value::Array(services)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_and_identity_point_at_the_mock() {
        let c = catalog("http://127.0.0.1:9292", "RegionOne");
        let image = c
            .as_array()
            .and_then(|s| s.iter().find(|s| s["type"] == "image"))
            .expect("image service");
        let interfaces: Vec<&Value> = image["endpoints"]
            .as_array()
            .expect("endpoints")
            .iter()
            .map(|e| &e["interface"])
            .collect();
        assert_eq!(interfaces, ["public", "internal", "admin"]);
        for e in image["endpoints"].as_array().expect("endpoints") {
            assert_eq!(e["url"], "http://127.0.0.1:9292");
            assert_eq!(e["region_id"], "RegionOne");
        }
        assert_eq!(c[0]["type"], "identity");
        assert_eq!(
            c[0]["endpoints"][0]["url"],
            "http://127.0.0.1:9292/identity"
        );
    }
}
