//! Applying a parsed patch: `ImagesController._do_add`, `_do_replace` and
//! `_do_remove` with their policy checks and the image setters' rules, then
//! the checks made when the image is saved.

use std::collections::BTreeSet;

use serde_json::Value;
use time::OffsetDateTime;

use super::{Change, Dialect, Op, Patch};
use crate::domain::create::{
    MAX_DB_INT, check_min_in_range, check_min_not_negative, check_property_quota, check_tag_quota,
    min_value,
};
use crate::domain::fields::is_attribute;
use crate::domain::python::str_of;
use crate::domain::{Fault, Identity, Image, ImageStatus, Visibility, locations, policy};

impl Patch {
    /// Apply every operation to `image` (a draft: on error it is to be
    /// dropped), then make the checks Glance makes when saving, and stamp
    /// `updated_at`. `image` must be visible to `who`.
    pub fn apply(
        &self,
        image: &mut Image,
        who: &Identity,
        now: OffsetDateTime,
    ) -> Result<(), Fault> {
        if self.changes.is_empty() {
            return Ok(());
        }
        let original_keys: BTreeSet<String> = image.properties.keys().cloned().collect();
        let mut pending = Pending::default();
        for change in &self.changes {
            match change.op {
                Op::Replace => self.replace(change, image, who, &mut pending)?,
                Op::Add => self.add(change, image, who, &mut pending)?,
                Op::Remove => self.remove(change, image, who)?,
            }
        }
        if image.properties.keys().any(|k| !original_keys.contains(k)) {
            check_property_quota(&image.properties)?;
        }
        if let Some(id) = pending.image_id {
            return Err(Fault::NotFound(format!("No image found with ID {id}")));
        }
        for (key, value) in [
            ("min_disk", &pending.min_disk),
            ("min_ram", &pending.min_ram),
        ] {
            if let Some(v) = value {
                check_min_in_range(key, v)?;
            }
        }
        image.updated_at = now;
        Ok(())
    }

    fn add(
        &self,
        change: &Change,
        image: &mut Image,
        who: &Identity,
        pending: &mut Pending,
    ) -> Result<(), Fault> {
        let root = change.root();
        if root == "locations" {
            enforce(
                who,
                image,
                policy::can_modify(who, image),
                "set_image_location",
            )?;
            if self.locations_visible {
                return Err(locations::invalid_location());
            }
            return Err(Fault::Forbidden(
                "It's not allowed to add locations if locations are invisible.".into(),
            ));
        }
        update_property(who, image, root, Some(&change.value))?;
        let exists = is_attribute(root) || image.properties.contains_key(root);
        if exists && self.dialect == Dialect::Draft4 {
            return Err(Fault::ConflictDetail(format!(
                "Property {root} already present."
            )));
        }
        if is_attribute(root) {
            set_attribute(image, pending, root, &change.value)
        } else {
            image
                .properties
                .insert(root.to_owned(), str_of(&change.value));
            Ok(())
        }
    }

    fn replace(
        &self,
        change: &Change,
        image: &mut Image,
        who: &Identity,
        pending: &mut Pending,
    ) -> Result<(), Fault> {
        if change.root() == "locations" {
            if change.value.as_array().is_some_and(Vec::is_empty) {
                return Err(Fault::ForbiddenDetail(
                    "Cannot set locations to empty list.".into(),
                ));
            }
            enforce(
                who,
                image,
                policy::can_modify(who, image),
                "set_image_location",
            )?;
            if self.locations_visible {
                return locations::replace(image, &change.value);
            }
            return Err(Fault::Forbidden(
                "It's not allowed to update locations if locations are invisible.".into(),
            ));
        }
        replace(change, image, who, pending)
    }

    fn remove(&self, change: &Change, image: &mut Image, who: &Identity) -> Result<(), Fault> {
        if change.root() == "locations" {
            enforce(who, image, who.is_admin(), "delete_image_location")?;
            if self.locations_visible {
                return locations::remove(image, change.path.get(1).map(String::as_str));
            }
            return Err(Fault::Forbidden(
                "It's not allowed to remove locations if locations are invisible.".into(),
            ));
        }
        remove(change, image, who)
    }
}

fn replace(
    change: &Change,
    image: &mut Image,
    who: &Identity,
    pending: &mut Pending,
) -> Result<(), Fault> {
    let root = change.root();
    if root == "owner" && !who.is_admin() {
        return Err(Fault::ForbiddenDetail(
            "Owner can't be updated by non admin.".into(),
        ));
    }
    update_property(who, image, root, Some(&change.value))?;
    if is_attribute(root) {
        set_attribute(image, pending, root, &change.value)
    } else if let Some(slot) = image.properties.get_mut(root) {
        *slot = str_of(&change.value);
        Ok(())
    } else {
        Err(Fault::ConflictDetail(format!(
            "Property {root} does not exist."
        )))
    }
}

fn remove(change: &Change, image: &mut Image, who: &Identity) -> Result<(), Fault> {
    let root = change.root();
    update_property(who, image, root, None)?;
    if is_attribute(root) {
        Err(Fault::ForbiddenDetail(format!(
            "Property {root} may not be removed."
        )))
    } else if image.properties.remove(root).is_some() {
        Ok(())
    } else {
        Err(Fault::ConflictDetail(format!(
            "Property {root} does not exist."
        )))
    }
}

/// What an operation set that only the save checks (the database's).
#[derive(Debug, Default)]
struct Pending {
    min_disk: Option<Value>,
    min_ram: Option<Value>,
    /// Setting the proxy's `image_id` makes the save look for that image.
    image_id: Option<String>,
}

/// `ImageAPIPolicy._enforce`: a refused check is a 403, or a 404 when the
/// caller may not even read the image.
fn enforce(who: &Identity, image: &Image, allowed: bool, action: &str) -> Result<(), Fault> {
    if allowed {
        Ok(())
    } else if policy::can_read(who) && policy::can_see(who, image) {
        Err(Fault::Forbidden(format!(
            "You are not authorized to complete {action} action."
        )))
    } else {
        Err(Fault::NotFound("The resource could not be found.".into()))
    }
}

/// `ImageAPIPolicy.update_property`: a visibility change needs its own
/// policy (checked against the draft as it stands), then `modify_image`.
fn update_property(
    who: &Identity,
    image: &Image,
    root: &str,
    value: Option<&Value>,
) -> Result<(), Fault> {
    if root == "visibility" {
        let refused = match value.and_then(Value::as_str) {
            Some("public") if !who.is_admin() => Some("publicize_image"),
            Some("community") if !policy::can_modify(who, image) => Some("communitize_image"),
            _ => None,
        };
        if let Some(action) = refused {
            return Err(Fault::Forbidden(format!(
                "You are not authorized to complete {action} action."
            )));
        }
    }
    enforce(who, image, policy::can_modify(who, image), "modify_image")
}

/// `setattr(image, root, value)` with the domain image's rules; the value
/// already passed the schema.
fn set_attribute(
    image: &mut Image,
    pending: &mut Pending,
    root: &str,
    value: &Value,
) -> Result<(), Fault> {
    let text = || value.as_str().map(str::to_owned);
    match root {
        "name" => image.name = text(),
        "visibility" => {
            if let Some(v) = value.as_str().and_then(Visibility::parse) {
                image.visibility = v;
            }
        }
        "protected" => image.protected = value.as_bool().unwrap_or(image.protected),
        "os_hidden" => image.os_hidden = value.as_bool().unwrap_or(image.os_hidden),
        // The database keeps an empty owner as none.
        "owner" => image.owner = text().filter(|o| !o.is_empty()),
        "min_ram" | "min_disk" => {
            check_min_not_negative(root, value)?;
            let in_range = value.as_f64().is_none_or(|n| n <= MAX_DB_INT as f64);
            if in_range {
                let n = min_value(value);
                if root == "min_ram" {
                    image.min_ram = n;
                } else {
                    image.min_disk = n;
                }
            }
            let slot = if root == "min_ram" {
                &mut pending.min_ram
            } else {
                &mut pending.min_disk
            };
            *slot = (!in_range).then(|| value.clone());
        }
        "disk_format" | "container_format" => {
            if !matches!(image.status, ImageStatus::Queued | ImageStatus::Importing) {
                return Err(Fault::Forbidden(format!(
                    "Attribute {root} can be only replaced for a queued image."
                )));
            }
            if root == "disk_format" {
                image.disk_format = text();
            } else {
                image.container_format = text();
            }
        }
        "tags" => {
            let tags = value.as_array().map(Vec::as_slice).unwrap_or_default();
            check_tag_quota(tags.len())?;
            image.tags = tags
                .iter()
                .filter_map(|t| t.as_str().map(str::to_owned))
                .collect();
        }
        "image_id" => pending.image_id = text(),
        // Replacing these breaks the proxy; Glance answers 500.
        "base" | "extra_properties" => return Err(Fault::internal()),
        _ => {}
    }
    Ok(())
}
