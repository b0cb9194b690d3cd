//! Interoperable image import (`POST /v2/images/{id}/import`) and staging
//! (`PUT /v2/images/{id}/stage`), the rules only: how Glance's deserializer
//! reads an import request, what `ImagesController.import_image` checks
//! and in which order, which stores an import targets, and the import lock.
//! What an import then does to the image step by step is in [`progress`];
//! which URIs `web-download` may fetch is in [`uri`].

pub mod progress;
pub mod uri;

use serde_json::{Map, Value};
use time::{Duration, OffsetDateTime};

use super::policy::{self, NOT_FOUND_DEFAULT, Rule};
use super::python::str_of;
use super::tasks::{Task, TaskStatus};
use super::{Fault, Identity, Image, ImageStatus};
use crate::config::Config;

/// The import methods Glance implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImportMethod {
    /// Data staged with `PUT /stage`.
    GlanceDirect,
    /// Data fetched from a URI.
    WebDownload,
    /// An active image's data copied to more stores.
    CopyImage,
    /// Data fetched from another Glance.
    GlanceDownload,
}

impl ImportMethod {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ImportMethod::GlanceDirect => "glance-direct",
            ImportMethod::WebDownload => "web-download",
            ImportMethod::CopyImage => "copy-image",
            ImportMethod::GlanceDownload => "glance-download",
        }
    }

    /// Parse a wire name.
    pub fn parse(name: &str) -> Option<ImportMethod> {
        Some(match name {
            "glance-direct" => ImportMethod::GlanceDirect,
            "web-download" => ImportMethod::WebDownload,
            "copy-image" => ImportMethod::CopyImage,
            "glance-download" => ImportMethod::GlanceDownload,
            _ => return None,
        })
    }

    /// Whether the method fetches its data into staging itself (and so
    /// puts a queued image back to `queued` when that fails).
    pub fn downloads(self) -> bool {
        matches!(
            self,
            ImportMethod::WebDownload | ImportMethod::GlanceDownload
        )
    }
}

fn bad(msg: impl Into<String>) -> Fault {
    Fault::BadRequest(msg.into())
}

fn conflict(msg: impl Into<String>) -> Fault {
    Fault::Conflict(msg.into())
}

/// An import request once Glance's deserializer accepted it.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportRequest {
    /// The method.
    pub method: ImportMethod,
    /// The body as sent (the task's `import_req`); glance-download gets
    /// its default `glance_service_interface` added by the controller.
    pub body: Map<String, Value>,
    /// `all_stores` (default false).
    pub all_stores: bool,
    /// `all_stores_must_succeed` (default true).
    pub all_stores_must_succeed: bool,
}

impl ImportRequest {
    /// `RequestDeserializer._validate_import_body` on a JSON body (an
    /// object or an array: what Glance's JSON deserializer lets through).
    /// Values of the wrong shape where Glance indexes into them fail as
    /// Glance does, with a 500.
    pub fn parse(body: &Value, enabled: &[String]) -> Result<ImportRequest, Fault> {
        let Value::Object(body) = body else {
            return Err(Fault::internal());
        };
        let method = body
            .get("method")
            .ok_or_else(|| bad("Import request requires a 'method' field."))?;
        let Value::Object(method) = method else {
            return Err(Fault::internal());
        };
        let name = method
            .get("name")
            .ok_or_else(|| bad("Import request requires a 'name' field."))?;
        let enabled_name = name.as_str().filter(|n| enabled.iter().any(|e| e == n));
        let Some(name) = enabled_name else {
            return Err(bad(format!(
                "Unknown import method name '{}'.",
                str_of(name)
            )));
        };
        let flag = |key: &str, default: bool| match body.get(key) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(bad(format!("'{key}' must be boolean value only"))),
        };
        let all_stores_must_succeed = flag("all_stores_must_succeed", true)?;
        let all_stores = flag("all_stores", false)?;
        // An enabled method Glance has no flow for fails when it runs.
        let method = ImportMethod::parse(name).ok_or_else(Fault::internal)?;
        Ok(ImportRequest {
            method,
            body: body.clone(),
            all_stores,
            all_stores_must_succeed,
        })
    }

    /// `method.uri`, as sent.
    pub fn uri(&self) -> Option<&Value> {
        self.body.get("method").and_then(|m| m.get("uri"))
    }

    /// A `method` member (glance-download's region and image id).
    pub fn method_field(&self, key: &str) -> Option<&Value> {
        self.body.get("method").and_then(|m| m.get(key))
    }

    /// glance-download needs `glance_region` and a UUID-looking
    /// `glance_image_id`; `glance_service_interface` defaults to `public`
    /// (and is then part of the task's input).
    pub fn check_glance_download(&mut self) -> Result<(), Fault> {
        if self.method != ImportMethod::GlanceDownload {
            return Ok(());
        }
        let Some(Value::Object(method)) = self.body.get_mut("method") else {
            return Err(Fault::internal());
        };
        if !method.contains_key("glance_region") {
            return Err(bad(
                "'glance_region' needs to be set for glance-download import method",
            ));
        }
        let Some(remote) = method.get("glance_image_id") else {
            return Err(bad(
                "'glance_image_id' needs to be set for glance-download import method",
            ));
        };
        // `uuid.UUID(...)` on anything but a string is a TypeError.
        let remote_id = remote.as_str().ok_or_else(Fault::internal)?;
        if !python_uuid(remote_id) {
            return Err(bad(format!(
                "Remote image id does not look like a UUID: {remote_id}"
            )));
        }
        method
            .entry("glance_service_interface")
            .or_insert_with(|| Value::String("public".into()));
        Ok(())
    }
}

/// Python's `uuid.UUID(text)`: `urn:`/`uuid:` and surrounding braces
/// dropped, hyphens ignored, then 32 hex digits.
fn python_uuid(s: &str) -> bool {
    let s = s.replace("urn:", "").replace("uuid:", "");
    let s: String = s
        .trim_matches(|c| c == '{' || c == '}')
        .chars()
        .filter(|c| *c != '-')
        .collect();
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The controller's state checks, in its order: an active image only
/// for copy-image and copy-image only for active images, the downloading
/// methods from `queued`, glance-direct from `uploading`, and both
/// formats set.
pub fn check_image(img: &Image, method: ImportMethod) -> Result<(), Fault> {
    let active = img.status == ImageStatus::Active;
    if active && method != ImportMethod::CopyImage {
        return Err(conflict(
            "Image with status active cannot be target for import",
        ));
    }
    if !active && method == ImportMethod::CopyImage {
        return Err(conflict(
            "Only images with status active can be targeted for copying",
        ));
    }
    if img.status != ImageStatus::Queued && method.downloads() {
        return Err(conflict(format!(
            "Image needs to be in 'queued' state to use '{}' method",
            method.as_str()
        )));
    }
    if img.status != ImageStatus::Uploading && method == ImportMethod::GlanceDirect {
        return Err(conflict(
            "Image needs to be staged before 'glance-direct' method can be used",
        ));
    }
    if img.container_format.as_deref().is_none_or(str::is_empty) {
        return Err(conflict("'container_format' needs to be set before import"));
    }
    if img.disk_format.as_deref().is_none_or(str::is_empty) {
        return Err(conflict("'disk_format' needs to be set before import"));
    }
    Ok(())
}

/// `ImageAPIPolicy._enforce` for a rule outside [`Rule`]: the policy's
/// 403, or webob's bare 404 when the caller cannot even read the image.
fn enforce_named(who: &Identity, img: &Image, name: &str, allowed: bool) -> Result<(), Fault> {
    if allowed {
        Ok(())
    } else if !policy::allows(who, Rule::GetImage, img) {
        Err(Fault::NotFound(NOT_FOUND_DEFAULT.into()))
    } else {
        Err(Fault::Forbidden(format!(
            "You are not authorized to complete {name} action."
        )))
    }
}

/// The import's policy: `copy_image` (admin only) for copy-image,
/// `modify_image` (the owner) otherwise.
pub fn check_policy(who: &Identity, img: &Image, method: ImportMethod) -> Result<(), Fault> {
    if method == ImportMethod::CopyImage {
        enforce_named(who, img, "copy_image", who.is_admin())
    } else {
        policy::enforce(who, Rule::ModifyImage, img)
    }
}

/// How long an import lock holds before another import may take it over.
const LOCK_EXPIRY: Duration = Duration::minutes(60);

/// `_enforce_import_lock`, given the task named by the image's
/// `os_glance_import_task` (`None` if there is no such task). `Ok` means
/// the lock is stale and may be taken over (the holder, if still
/// running, is then failed); an active lock is a 409.
pub fn check_lock(holder: Option<&Task>, now: OffsetDateTime) -> Result<(), Fault> {
    let Some(task) = holder else {
        return Ok(());
    };
    let expiry = if task.status == TaskStatus::Pending {
        LOCK_EXPIRY * 2
    } else {
        LOCK_EXPIRY
    };
    if now - task.updated_at >= expiry {
        Ok(())
    } else {
        Err(conflict("Image has active task"))
    }
}

/// `utils.get_stores_from_request`: `all_stores` (every configured store,
/// and neither `stores` nor the header with it), else `stores`, else the
/// `X-Image-Meta-Store` header, else the default store; each one must be
/// configured (409). `stores` is iterated as Python iterates it (a string
/// gives its characters, a dict its keys).
pub fn requested_stores(
    req: &ImportRequest,
    header: Option<&str>,
    config: &Config,
) -> Result<Vec<String>, Fault> {
    let stores: Vec<Value> = if req.all_stores {
        if req.body.contains_key("stores") || header.is_some() {
            return Err(bad(
                "All_stores parameter can't be used with x-image-meta-store header or stores parameter",
            ));
        }
        config
            .stores
            .iter()
            .map(|s| Value::String(s.id.clone()))
            .collect()
    } else if let Some(listed) = req.body.get("stores") {
        if header.is_some() {
            return Err(bad(
                "Stores parameter and x-image-meta-store header can't be both specified",
            ));
        }
        match listed {
            Value::Array(items) => items.clone(),
            Value::String(s) => s.chars().map(|c| Value::String(c.into())).collect(),
            Value::Object(m) => m.keys().map(|k| Value::String(k.clone())).collect(),
            // Iterating None, a number or a bool is a TypeError.
            _ => return Err(Fault::internal()),
        }
    } else {
        vec![Value::String(
            header.map_or_else(|| config.default_store.clone(), str::to_owned),
        )]
    };
    stores
        .iter()
        .map(|store| match store {
            Value::String(id) if config.has_store(id) => Ok(id.clone()),
            // Unhashable: `enabled_backends[store]` is a TypeError.
            Value::Array(_) | Value::Object(_) => Err(Fault::internal()),
            other => Err(conflict(format!(
                "Store for identifier {} not found",
                str_of(other)
            ))),
        })
        .collect()
}

/// copy-image's targets: with `all_stores`, the stores not holding the
/// image yet (none left: nothing to do, still a 202); otherwise asking
/// for a store that holds it is a 400.
pub fn copy_targets(
    img: &Image,
    stores: Vec<String>,
    all_stores: bool,
) -> Result<Vec<String>, Fault> {
    if all_stores {
        return Ok(stores
            .into_iter()
            .filter(|s| !img.stores.contains(s))
            .collect());
    }
    match img.stores.iter().find(|held| stores.contains(held)) {
        Some(held) => Err(bad(format!("Image is already present at store '{held}'"))),
        None => Ok(stores),
    }
}

/// web-download's `method.uri` as the filter sees it: the text to check,
/// or the 400 for a missing one (a non-string one fails in `urlparse`).
pub fn web_download_uri(req: &ImportRequest) -> Result<String, Fault> {
    match req.uri() {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        Some(v) if super::python::truthy(v) => Err(Fault::internal()),
        other => Err(uri_refused(&str_of(other.unwrap_or(&Value::Null)))),
    }
}

/// The 400 for a URI the import filter refuses.
pub fn uri_refused(uri: &str) -> Fault {
    bad(format!(
        "URI for web-download does not pass filtering: {uri}"
    ))
}

/// The task input Glance records for an import.
pub fn task_input(image_id: &str, req: &ImportRequest, stores: &[String]) -> Value {
    serde_json::json!({
        "image_id": image_id,
        "import_req": Value::Object(req.body.clone()),
        "backend": stores,
    })
}

/// `PUT /stage` moves a queued image to `uploading` (formats not needed).
pub fn begin_stage(img: &mut Image, now: OffsetDateTime) -> Result<(), Fault> {
    if !img.status.can_become(ImageStatus::Uploading) {
        return Err(conflict(format!(
            "Image status transition from {} to uploading is not allowed",
            img.status.as_str()
        )));
    }
    img.status = ImageStatus::Uploading;
    img.updated_at = now;
    Ok(())
}

/// A failed stage puts the image back to `queued` (`_restore`).
pub fn restore_staged(img: &mut Image, now: OffsetDateTime) {
    if img.status == ImageStatus::Uploading {
        img.status = ImageStatus::Queued;
        img.size = None;
        img.virtual_size = None;
        img.updated_at = now;
    }
}

/// A stage that ends to find the image taken by an import meanwhile (the
/// import was accepted because the image was `uploading`): Glance's stage
/// then fails on its final save and `_restore`s the record it read when
/// it started, so the image is `queued` again without size, checksum or
/// the import's properties. Whether the image was in that state
/// (`importing`); an image in any other state is left alone.
pub fn abandon_stage(img: &mut Image, now: OffsetDateTime) -> bool {
    if img.status != ImageStatus::Importing {
        return false;
    }
    img.status = ImageStatus::Queued;
    img.size = None;
    img.virtual_size = None;
    img.checksum = None;
    img.os_hash_algo = None;
    img.os_hash_value = None;
    for key in [
        progress::IMPORT_TASK,
        progress::IMPORTING,
        progress::FAILED,
        progress::STAGE_HOST,
    ] {
        img.properties.remove(key);
    }
    img.updated_at = now;
    true
}

/// The staged size is recorded; checksum and virtual size stay unset.
pub fn finish_stage(img: &mut Image, size: u64, now: OffsetDateTime) -> Result<(), Fault> {
    if img.status != ImageStatus::Uploading {
        return Err(conflict(format!(
            "Image status transition from {} to uploading is not allowed",
            img.status.as_str()
        )));
    }
    img.size = Some(size);
    img.updated_at = now;
    Ok(())
}

/// `DELETE /v2/stores/{store}/{image}` after the store and the image were
/// found: `get_image_location` (admin, or a reader of the owner project),
/// `delete_image_location` (admin), an active image, more than one
/// location, and one in that store. On success the location is gone.
pub fn delete_from_store(who: &Identity, img: &mut Image, store: &str) -> Result<(), Fault> {
    let owner_reader = policy::is_owner(who, img) && who.has_role("reader");
    enforce_named(
        who,
        img,
        "get_image_location",
        who.is_admin() || owner_reader,
    )?;
    enforce_named(who, img, "delete_image_location", who.is_admin())?;
    if img.status != ImageStatus::Active {
        return Err(conflict(
            "It's not allowed to remove image data from store if image status is not 'active'",
        ));
    }
    if img.stores.len() == 1 {
        return Err(Fault::Forbidden(
            "Cannot delete image data from the only store containing it. Consider deleting the image instead.".into(),
        ));
    }
    let Some(at) = img.stores.iter().position(|s| s == store) else {
        return Err(Fault::NotFound(format!(
            "Image {} is not stored in store {store}.",
            img.id
        )));
    };
    img.stores.remove(at);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::tasks::TaskType;
    use crate::domain::time::now;
    use serde_json::json;

    fn enabled() -> Vec<String> {
        Config::default().import_methods
    }

    fn parse(v: Value) -> Result<ImportRequest, Fault> {
        ImportRequest::parse(&v, &enabled())
    }

    fn who(project: &str, roles: &[&str]) -> Identity {
        Identity {
            project_id: Some(project.into()),
            user_id: Some("u".into()),
            roles: roles.iter().map(|r| r.to_string()).collect(),
        }
    }

    fn image(status: ImageStatus) -> Image {
        let mut img = Image::new("i".into(), Some("p".into()), now());
        img.status = status;
        img.disk_format = Some("raw".into());
        img.container_format = Some("bare".into());
        img
    }

    #[test]
    fn requests_are_read_as_the_deserializer_reads_them() {
        assert_eq!(
            parse(json!({})).err(),
            Some(bad("Import request requires a 'method' field."))
        );
        assert_eq!(
            parse(json!({"method": {}})).err(),
            Some(bad("Import request requires a 'name' field."))
        );
        assert_eq!(parse(json!({"method": "x"})).err(), Some(Fault::internal()));
        assert_eq!(parse(json!([])).err(), Some(Fault::internal()));
        assert_eq!(
            parse(json!({"method": {"name": "teleport"}})).err(),
            Some(bad("Unknown import method name 'teleport'."))
        );
        assert_eq!(
            parse(json!({"method": {"name": ["a"]}})).err(),
            Some(bad("Unknown import method name '['a']'."))
        );
        assert_eq!(
            parse(json!({"method": {"name": "glance-download"}})).err(),
            Some(bad("Unknown import method name 'glance-download'."))
        );
        assert_eq!(
            parse(json!({"method": {"name": "glance-direct"}, "all_stores": "yes"})).err(),
            Some(bad("'all_stores' must be boolean value only"))
        );
        assert_eq!(
            parse(json!({"method": {"name": "glance-direct"}, "all_stores_must_succeed": 1})).err(),
            Some(bad("'all_stores_must_succeed' must be boolean value only"))
        );
        let ok = parse(json!({"method": {"name": "copy-image"}, "all_stores": true})).expect("ok");
        assert!(ok.all_stores && ok.all_stores_must_succeed);
        assert_eq!(ok.method, ImportMethod::CopyImage);
    }

    #[test]
    fn glance_download_needs_region_and_a_uuid() {
        let mut methods = enabled();
        methods.push("glance-download".into());
        let req = |m: Value| {
            let mut r = ImportRequest::parse(&json!({"method": m}), &methods).expect("parsed");
            r.check_glance_download().map(|()| r)
        };
        assert_eq!(
            req(json!({"name": "glance-download"})).err(),
            Some(bad(
                "'glance_region' needs to be set for glance-download import method"
            ))
        );
        assert_eq!(
            req(json!({"name": "glance-download", "glance_region": "r"})).err(),
            Some(bad(
                "'glance_image_id' needs to be set for glance-download import method"
            ))
        );
        assert_eq!(
            req(json!({"name": "glance-download", "glance_region": "r", "glance_image_id": "x"}))
                .err(),
            Some(bad("Remote image id does not look like a UUID: x"))
        );
        let ok = req(json!({"name": "glance-download", "glance_region": "r",
            "glance_image_id": "{00000000-0000-4000-8000-000000000001}"}))
        .expect("ok");
        assert_eq!(
            ok.method_field("glance_service_interface"),
            Some(&json!("public"))
        );
    }

    #[test]
    fn state_checks_in_the_controllers_order() {
        let msg = |status, method| check_image(&image(status), method).err();
        use ImageStatus::*;
        use ImportMethod::*;
        assert_eq!(
            msg(Active, GlanceDirect),
            Some(conflict(
                "Image with status active cannot be target for import"
            ))
        );
        assert_eq!(
            msg(Queued, CopyImage),
            Some(conflict(
                "Only images with status active can be targeted for copying"
            ))
        );
        assert_eq!(
            msg(Uploading, WebDownload),
            Some(conflict(
                "Image needs to be in 'queued' state to use 'web-download' method"
            ))
        );
        assert_eq!(
            msg(Queued, GlanceDirect),
            Some(conflict(
                "Image needs to be staged before 'glance-direct' method can be used"
            ))
        );
        assert_eq!(msg(Uploading, GlanceDirect), None);
        assert_eq!(msg(Active, CopyImage), None);
        let mut bare = image(Uploading);
        bare.container_format = None;
        bare.disk_format = None;
        assert_eq!(
            check_image(&bare, GlanceDirect).err(),
            Some(conflict("'container_format' needs to be set before import"))
        );
    }

    #[test]
    fn copy_image_is_for_admins_and_the_rest_for_owners() {
        let img = image(ImageStatus::Active);
        let owner = who("p", &["member", "reader"]);
        assert_eq!(
            check_policy(&owner, &img, ImportMethod::CopyImage).err(),
            Some(Fault::Forbidden(
                "You are not authorized to complete copy_image action.".into()
            ))
        );
        assert!(check_policy(&owner, &img, ImportMethod::WebDownload).is_ok());
        assert!(check_policy(&Identity::default_admin(), &img, ImportMethod::CopyImage).is_ok());
        // Someone who cannot read the (shared) image does not see it.
        assert_eq!(
            check_policy(&who("q", &["member"]), &img, ImportMethod::CopyImage).err(),
            Some(Fault::NotFound(NOT_FOUND_DEFAULT.into()))
        );
    }

    #[test]
    fn stores_come_from_the_body_the_header_or_the_default() {
        let config = Config::default();
        let stores = |body: Value, header: Option<&str>| {
            let req = parse(body).expect("parsed");
            requested_stores(&req, header, &config)
        };
        let direct = json!({"method": {"name": "glance-direct"}});
        assert_eq!(stores(direct.clone(), None), Ok(vec!["fast".into()]));
        assert_eq!(
            stores(direct.clone(), Some("cheap")),
            Ok(vec!["cheap".into()])
        );
        assert_eq!(
            stores(direct.clone(), Some("nowhere")).err(),
            Some(conflict("Store for identifier nowhere not found"))
        );
        let all = json!({"method": {"name": "glance-direct"}, "all_stores": true});
        assert_eq!(
            stores(all.clone(), None),
            Ok(vec!["fast".into(), "cheap".into()])
        );
        assert_eq!(
            stores(all, Some("fast")).err(),
            Some(bad(
                "All_stores parameter can't be used with x-image-meta-store header or stores parameter"
            ))
        );
        let listed = json!({"method": {"name": "glance-direct"}, "stores": ["cheap", "fast"]});
        assert_eq!(
            stores(listed.clone(), None),
            Ok(vec!["cheap".into(), "fast".into()])
        );
        assert_eq!(
            stores(listed, Some("fast")).err(),
            Some(bad(
                "Stores parameter and x-image-meta-store header can't be both specified"
            ))
        );
        assert_eq!(
            stores(
                json!({"method": {"name": "glance-direct"}, "stores": "fast"}),
                None
            )
            .err(),
            Some(conflict("Store for identifier f not found"))
        );
        assert_eq!(
            stores(
                json!({"method": {"name": "glance-direct"}, "stores": null}),
                None
            )
            .err(),
            Some(Fault::internal())
        );
    }

    #[test]
    fn copy_image_skips_or_refuses_stores_that_hold_the_image() {
        let mut img = image(ImageStatus::Active);
        img.stores = vec!["fast".into()];
        let all: Vec<String> = vec!["fast".into(), "cheap".into()];
        assert_eq!(
            copy_targets(&img, all.clone(), true),
            Ok(vec!["cheap".into()])
        );
        assert_eq!(
            copy_targets(&img, vec!["fast".into()], false).err(),
            Some(bad("Image is already present at store 'fast'"))
        );
        img.stores = all.clone();
        assert_eq!(copy_targets(&img, all, true), Ok(vec![]));
    }

    #[test]
    fn import_locks_expire() {
        let t0 = now();
        let mut task = Task::new(
            "t".into(),
            TaskType::ApiImageImport,
            &Identity::default_admin(),
            None,
            None,
            json!({}),
            t0,
        );
        assert_eq!(check_lock(None, t0), Ok(()));
        assert_eq!(
            check_lock(Some(&task), t0),
            Err(conflict("Image has active task"))
        );
        assert!(check_lock(Some(&task), t0 + Duration::minutes(119)).is_err());
        assert!(check_lock(Some(&task), t0 + Duration::minutes(120)).is_ok());
        task.status = TaskStatus::Processing;
        assert!(check_lock(Some(&task), t0 + Duration::minutes(60)).is_ok());
    }

    #[test]
    fn web_download_uris_must_be_given() {
        let req = |m: Value| parse(json!({"method": m})).expect("parsed");
        assert_eq!(
            web_download_uri(&req(json!({"name": "web-download"}))).err(),
            Some(bad("URI for web-download does not pass filtering: None"))
        );
        assert_eq!(
            web_download_uri(&req(json!({"name": "web-download", "uri": 5}))).err(),
            Some(Fault::internal())
        );
    }

    #[test]
    fn staging_moves_queued_images_to_uploading_and_back() {
        let mut img = image(ImageStatus::Queued);
        img.disk_format = None;
        begin_stage(&mut img, now()).expect("formats are not needed");
        assert_eq!(
            begin_stage(&mut img, now()).err(),
            Some(conflict(
                "Image status transition from uploading to uploading is not allowed"
            ))
        );
        finish_stage(&mut img, 5, now()).expect("staged");
        assert_eq!((img.size, img.checksum.as_deref()), (Some(5), None));
        restore_staged(&mut img, now());
        assert_eq!((img.status, img.size), (ImageStatus::Queued, None));
    }

    #[test]
    fn deleting_from_a_store_needs_an_admin_and_two_locations() {
        let admin = Identity::default_admin();
        let mut img = image(ImageStatus::Active);
        img.stores = vec!["cheap".into(), "fast".into()];
        assert_eq!(
            delete_from_store(&who("p", &["member", "reader"]), &mut img.clone(), "cheap").err(),
            Some(Fault::Forbidden(
                "You are not authorized to complete delete_image_location action.".into()
            ))
        );
        img.visibility = crate::domain::Visibility::Public;
        assert_eq!(
            delete_from_store(&who("q", &["member", "reader"]), &mut img.clone(), "cheap").err(),
            Some(Fault::Forbidden(
                "You are not authorized to complete get_image_location action.".into()
            ))
        );
        delete_from_store(&admin, &mut img, "cheap").expect("deleted");
        assert_eq!(img.stores, vec!["fast".to_owned()]);
        assert!(
            matches!(delete_from_store(&admin, &mut img, "fast"), Err(Fault::Forbidden(m)) if m.starts_with("Cannot delete image data from the only store"))
        );
        img.status = ImageStatus::Deactivated;
        assert!(matches!(
            delete_from_store(&admin, &mut img, "fast"),
            Err(Fault::Conflict(_))
        ));
    }
}
