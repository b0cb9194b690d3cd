//! Locations: the location API (`GET`/`POST /v2/images/{id}/locations`,
//! Glance 2024.2+) in a deployment without an `http` store, like the
//! reference one, and the PATCH forms on `/locations` when
//! `show_multiple_locations` is on ([`remove`], [`replace`],
//! [`invalid_location`]; with it off, `crate::domain::patch` refuses them).
//!
//! * `GET`: policy `fetch_image_location` (the `service` or `admin` role);
//!   a bare list of `{url, metadata}`, one per store holding the data.
//! * `POST`: body against the location schema (400), image lookup (404),
//!   only `queued` images (409), policy `add_image_location` (`service`,
//!   `admin`, or a member of the owning project), then every caller without
//!   the `service` role is refused because there is no `http` store (403),
//!   the hash in `validation_data` is checked (400), an `http(s)` URL must
//!   pass the import filter (400), and the answer is 202. Glance then runs
//!   a `location_import` task that, without an `http` store, fails and
//!   leaves the image as it was; the mock's task ends at once the same way,
//!   so the image does not change and no import lock lingers.

use std::net::IpAddr;

use serde_json::{Map, Value, json};

use super::metadefs::schema::Schema;
use super::policy::{self, NOT_FOUND_DEFAULT, Rule};
use super::python::Py;
use super::{Fault, Identity, Image, ImageStatus};

pub use super::image::store_url;

/// `service_api`: the `service` or the `admin` role.
fn service_api(who: &Identity) -> bool {
    who.has_role("service") || who.is_admin()
}

/// `ImageAPIPolicy._enforce` for a rule outside [`Rule`]: 403 with its
/// name, or webob's bare 404 when the caller cannot read the image.
fn enforce(who: &Identity, allowed: bool, name: &str, image: &Image) -> Result<(), Fault> {
    if allowed {
        Ok(())
    } else if !policy::allows(who, Rule::GetImage, image) {
        Err(Fault::NotFound(NOT_FOUND_DEFAULT.into()))
    } else {
        Err(Fault::Forbidden(format!(
            "You are not authorized to complete {name} action."
        )))
    }
}

/// `GET /v2/images/{id}/locations` on a visible image.
pub fn list(who: &Identity, image: &Image) -> Result<Value, Fault> {
    enforce(who, service_api(who), "fetch_image_location", image)?;
    Ok(Value::Array(
        image
            .stores
            .iter()
            .map(|s| json!({"url": store_url(s, &image.id), "metadata": {"store": s}}))
            .collect(),
    ))
}

/// An add-location body that passed the location schema.
#[derive(Debug, Clone, PartialEq)]
pub struct NewLocation {
    url: String,
    validation_data: Map<String, Value>,
}

impl NewLocation {
    /// Glance's `add_location` deserializer: a body, valid against the
    /// location schema (as `{"add_location": body}`).
    pub fn read(body: Option<&Py>) -> Result<Self, Fault> {
        let body = body.ok_or_else(|| Fault::BadRequest("Body expected in request.".into()))?;
        Schema::Location.validate(&Py::Dict(vec![("add_location".into(), body.clone())]))?;
        let url = match body.get("url") {
            Some(Py::Str(u)) => u.clone(),
            _ => String::new(),
        };
        let validation_data = match body.get("validation_data") {
            Some(v) => match super::python::json::to_value(v) {
                Value::Object(m) => m,
                _ => Map::new(),
            },
            None => Map::new(),
        };
        Ok(NewLocation {
            url,
            validation_data,
        })
    }
}

/// `POST /v2/images/{id}/locations` on a visible image: `Ok` is Glance's
/// 202 (the image does not change, see the module notes).
pub fn add(who: &Identity, image: &Image, new: &NewLocation) -> Result<(), Fault> {
    if image.status != ImageStatus::Queued {
        return Err(Fault::Conflict(format!(
            "It's not allowed to add locations if image status is {}.",
            image.status.as_str()
        )));
    }
    let owner_member =
        who.has_role("member") && who.project_id.is_some() && who.project_id == image.owner;
    enforce(
        who,
        service_api(who) || owner_member,
        "add_image_location",
        image,
    )?;
    if !who.has_role("service") {
        // No `http` store is enabled in this deployment.
        return Err(Fault::Forbidden(
            "http store must be enabled to use location API by normal user.".into(),
        ));
    }
    validate_hash(&new.validation_data)?;
    let scheme = scheme(&new.url);
    if (scheme == "http" || scheme == "https") && !passes_filter(&new.url) {
        return Err(Fault::BadRequest(format!(
            "URI for add location does not pass filtering: {}",
            new.url
        )));
    }
    Ok(())
}

/// `_validate_hashing_data`.
fn validate_hash(data: &Map<String, Value>) -> Result<(), Fault> {
    let Some(value) = data.get("os_hash_value").and_then(Value::as_str) else {
        return Ok(());
    };
    let bytes = from_hex(value).ok_or_else(|| {
        Fault::BadRequest(format!(
            "os_hash_value ({value}) is not a valid hexadecimal value"
        ))
    })?;
    let algo = data
        .get("os_hash_algo")
        .and_then(Value::as_str)
        .unwrap_or("sha512");
    let want = match algo {
        "md5" => 16,
        "sha1" => 20,
        "sha256" => 32,
        _ => 64,
    };
    if bytes.len() != want {
        return Err(Fault::BadRequest(format!(
            "os_hash_value: ({value}) is not the correct size for ({algo}) (should be ({want}) bytes)"
        )));
    }
    Ok(())
}

/// `bytearray.fromhex`: pairs of hex digits, ASCII whitespace between
/// pairs allowed.
fn from_hex(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.next_if(|c| " \t\n\r\x0b\x0c".contains(*c)).is_some() {}
        let Some(hi) = chars.next() else {
            return Some(out);
        };
        let lo = chars.next()?;
        out.push(u8::try_from(hi.to_digit(16)? * 16 + lo.to_digit(16)?).ok()?);
    }
}

/// `urlsplit(url).scheme`: lower-cased, if the text before the first `:`
/// is a scheme.
fn scheme(url: &str) -> String {
    match url.split_once(':') {
        Some((s, _))
            if s.starts_with(|c: char| c.is_ascii_alphabetic())
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) =>
        {
            s.to_ascii_lowercase()
        }
        _ => String::new(),
    }
}

/// Host and port of an `http(s)` URL as `urlsplit` reads them; `Err` where
/// Python's `.port` raises.
fn host_port(url: &str) -> Result<(String, Option<u16>), ()> {
    let rest = url.split_once(':').map_or("", |(_, r)| r);
    let Some(after) = rest.strip_prefix("//") else {
        return Ok((String::new(), None));
    };
    let netloc = after.split(['/', '?', '#']).next().unwrap_or_default();
    let hostinfo = netloc.rsplit_once('@').map_or(netloc, |(_, h)| h);
    let (host, port) = match hostinfo.strip_prefix('[') {
        Some(bracketed) => {
            let (host, tail) = bracketed.split_once(']').unwrap_or((bracketed, ""));
            (host, tail.split_once(':').map_or("", |(_, p)| p))
        }
        None => hostinfo.split_once(':').unwrap_or((hostinfo, "")),
    };
    let port = if port.is_empty() {
        None
    } else if port.chars().all(|c| c.is_ascii_digit()) {
        Some(port.parse::<u16>().map_err(|_| ())?)
    } else {
        return Err(());
    };
    Ok((host.to_lowercase(), port))
}

/// `utils.validate_uri` with the default import filter (schemes http and
/// https, ports 80 and 443, no loopback or link-local address).
///
/// Glance resolves host names; the mock cannot, and takes names under the
/// reserved top-level domains (`localhost`, `test`, `example`, `invalid`)
/// as unresolvable and every other name as resolving to a public address.
pub fn passes_filter(url: &str) -> bool {
    let Ok((host, port)) = host_port(url) else {
        return false;
    };
    if host.is_empty() || port.is_some_and(|p| p != 80 && p != 443) {
        return false;
    }
    match host.parse::<IpAddr>() {
        Ok(ip) => !blocked(ip),
        Err(_) => {
            let numeric = host.chars().all(|c| c.is_ascii_digit() || c == '.');
            let tld = host
                .trim_end_matches('.')
                .rsplit('.')
                .next()
                .unwrap_or_default();
            !numeric && !["localhost", "test", "example", "invalid"].contains(&tld)
        }
    }
}

/// Loopback and link-local addresses (IPv4-mapped ones too).
fn blocked(ip: IpAddr) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    match ip {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_link_local(),
        IpAddr::V6(v6) => v6.is_loopback() || (v6.segments()[0] & 0xffc0) == 0xfe80,
    }
}

/// The PATCH forms on `/locations` with `show_multiple_locations` on. An
/// image's locations are its stores' copies, in `stores` order; the mock
/// knows no other (external) locations, so adding one, or replacing the
/// list of a queued image, is refused as Glance refuses a URL no store
/// accepts.
pub fn invalid_location() -> Fault {
    Fault::BadRequest("Invalid location".into())
}

/// `remove /locations/N` (after the `delete_image_location` policy): only
/// from an active image, at an existing position, and never the last.
/// The caller removes the bytes from the store that no longer holds them.
pub fn remove(image: &mut Image, position: Option<&str>) -> Result<(), Fault> {
    if image.status != ImageStatus::Active {
        return Err(Fault::Conflict(format!(
            "It's not allowed to remove locations if image status is {}.",
            image.status.as_str()
        )));
    }
    let index = position
        .and_then(|p| p.parse::<usize>().ok())
        .filter(|&i| i < image.stores.len())
        .ok_or_else(|| Fault::BadRequest("Invalid position for removing a location.".into()))?;
    if image.stores.len() == 1 {
        return Err(Fault::ForbiddenDetail(
            "Cannot remove last location in the image.".into(),
        ));
    }
    image.stores.remove(index);
    Ok(())
}

/// `replace /locations` with a non-empty list (after the policy): the same
/// locations in another order reorder the stores; anything else is refused
/// (`Original locations is not empty`, or `Invalid location` while there
/// are none).
pub fn replace(image: &mut Image, value: &Value) -> Result<(), Fault> {
    let urls: Option<Vec<&str>> = value
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|l| l["url"].as_str())
                .collect::<Option<Vec<_>>>()
        })
        .unwrap_or(None);
    let current: Vec<String> = image
        .stores
        .iter()
        .map(|s| store_url(s, &image.id))
        .collect();
    if current.is_empty() {
        return Err(invalid_location());
    }
    let Some(urls) = urls else {
        return Err(invalid_location());
    };
    let mut wanted: Vec<&str> = urls.clone();
    wanted.sort_unstable();
    wanted.dedup();
    let mut have: Vec<&str> = current.iter().map(String::as_str).collect();
    have.sort_unstable();
    if wanted != have || urls.len() != current.len() {
        let listed: Vec<String> = image
            .stores
            .iter()
            .zip(&current)
            .enumerate()
            .map(|(i, (store, url))| {
                format!(
                    "{{'id': {}, 'url': '{url}', 'metadata': {{'store': '{store}'}}, 'status': 'active'}}",
                    i + 1
                )
            })
            .collect();
        return Err(Fault::BadRequest(format!(
            "Original locations is not empty: [{}]",
            listed.join(", ")
        )));
    }
    image.stores = urls
        .iter()
        .filter_map(|u| {
            image
                .stores
                .iter()
                .find(|s| store_url(s, &image.id) == *u)
                .cloned()
        })
        .collect();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::python::json as pyjson;
    use crate::domain::time::now;

    fn who(project: &str, roles: &[&str]) -> Identity {
        Identity {
            project_id: Some(project.into()),
            user_id: None,
            roles: roles.iter().map(|r| r.to_string()).collect(),
        }
    }

    fn image() -> Image {
        Image::new("i".into(), Some("alice".into()), now())
    }

    fn new(s: &str) -> NewLocation {
        NewLocation::read(Some(&pyjson::parse(s.as_bytes()).expect("json"))).expect("valid")
    }

    #[test]
    fn only_service_and_admin_see_locations() {
        let mut img = image();
        assert_eq!(list(&who("x", &["service"]), &img), Ok(json!([])));
        assert_eq!(
            list(&who("alice", &["member", "reader"]), &img),
            Err(Fault::Forbidden(
                "You are not authorized to complete fetch_image_location action.".into()
            ))
        );
        assert_eq!(
            list(&who("alice", &["member"]), &img),
            Err(Fault::NotFound(NOT_FOUND_DEFAULT.into()))
        );
        img.stores.push("fast".into());
        assert_eq!(
            list(&who("x", &["admin"]), &img),
            Ok(
                json!([{"url": "file:///var/lib/glance-mock/fast/i", "metadata": {"store": "fast"}}])
            )
        );
    }

    #[test]
    fn adding_needs_the_service_role_without_an_http_store() {
        let img = image();
        let loc = new(r#"{"url": "file:///x"}"#);
        let no_http = Err(Fault::Forbidden(
            "http store must be enabled to use location API by normal user.".into(),
        ));
        assert_eq!(add(&who("alice", &["member"]), &img, &loc), no_http);
        assert_eq!(add(&who("x", &["admin"]), &img, &loc), no_http);
        assert_eq!(
            add(&who("alice", &["reader"]), &img, &loc),
            Err(Fault::Forbidden(
                "You are not authorized to complete add_image_location action.".into()
            ))
        );
        let svc = who("alice", &["service"]);
        assert_eq!(add(&svc, &img, &loc), Ok(()));
        assert!(add(&svc, &img, &new(r#"{"url": "http://203.0.113.9/x"}"#)).is_ok());
        for bad in [
            "http://127.0.0.1/x",
            "http://203.0.113.9:8080/x",
            "http://h.invalid/x",
            "http://[::1]/x",
        ] {
            assert_eq!(
                add(&svc, &img, &new(&format!(r#"{{"url": "{bad}"}}"#))),
                Err(Fault::BadRequest(format!(
                    "URI for add location does not pass filtering: {bad}"
                ))),
                "{bad}"
            );
        }
        let mut active = image();
        active.status = ImageStatus::Active;
        assert_eq!(
            add(&svc, &active, &loc),
            Err(Fault::Conflict(
                "It's not allowed to add locations if image status is active.".into()
            ))
        );
    }

    #[test]
    fn hashes_must_be_hex_of_the_algorithms_size() {
        let svc = who("alice", &["service"]);
        let img = image();
        let check = |data: &str| {
            add(
                &svc,
                &img,
                &new(&format!(
                    r#"{{"url": "file:///x", "validation_data": {data}}}"#
                )),
            )
        };
        assert_eq!(
            check(r#"{"os_hash_algo": "sha1", "os_hash_value": "zz"}"#),
            Err(Fault::BadRequest(
                "os_hash_value (zz) is not a valid hexadecimal value".into()
            ))
        );
        assert_eq!(
            check(r#"{"os_hash_algo": "sha1", "os_hash_value": "00"}"#),
            Err(Fault::BadRequest(
                "os_hash_value: (00) is not the correct size for (sha1) (should be (20) bytes)"
                    .into()
            ))
        );
        assert_eq!(
            check(
                r#"{"os_hash_algo": "md5", "os_hash_value": "00112233 44556677 8899aabb ccddeeff"}"#
            ),
            Ok(())
        );
        assert!(matches!(
            NewLocation::read(Some(&pyjson::parse(br#"{"url": "x", "validation_data": {"os_hash_algo": "sha1"}}"#).expect("json"))),
            Err(Fault::BadRequest(m)) if m.contains("'os_hash_value' is a dependency of 'os_hash_algo'")
        ));
        assert_eq!(
            NewLocation::read(None),
            Err(Fault::BadRequest("Body expected in request.".into()))
        );
    }

    #[test]
    fn visible_locations_can_be_reordered_and_removed_but_not_emptied() {
        let mut img = Image::new("i".into(), Some("p".into()), crate::domain::time::now());
        assert_eq!(
            remove(&mut img, Some("0")),
            Err(Fault::Conflict(
                "It's not allowed to remove locations if image status is queued.".into()
            ))
        );
        assert_eq!(
            replace(&mut img, &json!([{"url": "file:///x"}])),
            Err(invalid_location())
        );
        img.status = ImageStatus::Active;
        img.stores = vec!["fast".into(), "cheap".into()];
        let reversed = json!([
            {"url": store_url("cheap", "i"), "metadata": {}},
            {"url": store_url("fast", "i"), "metadata": {}},
        ]);
        assert_eq!(replace(&mut img, &reversed), Ok(()));
        assert_eq!(img.stores, ["cheap", "fast"]);
        let subset = json!([{"url": store_url("fast", "i"), "metadata": {}}]);
        assert!(
            matches!(replace(&mut img, &subset), Err(Fault::BadRequest(m)) if m.starts_with("Original locations is not empty: [{'id': 1"))
        );
        assert!(matches!(
            remove(&mut img, Some("2")),
            Err(Fault::BadRequest(_))
        ));
        assert_eq!(remove(&mut img, Some("1")), Ok(()));
        assert_eq!(img.stores, ["cheap"]);
        assert_eq!(
            remove(&mut img, Some("0")),
            Err(Fault::ForbiddenDetail(
                "Cannot remove last location in the image.".into()
            ))
        );
    }
}
