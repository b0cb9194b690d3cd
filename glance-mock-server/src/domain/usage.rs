//! A project's usage under Glance's unified limits (`use_keystone_limits`),
//! counted as `glance.db.sqlalchemy.api` counts it, for
//! `GET /v2/info/usage`.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::{Image, ImageStatus};
use crate::config::ImageLimits;

const MIB: u64 = 1 << 20;

/// The property that marks an image being copied to more stores.
const IMPORTING_TO_STORES: &str = "os_glance_importing_to_stores";

/// What one project uses, in the units its limits are in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProjectUsage {
    /// `image_size_total`: MiB of data, each store's copy counted.
    pub image_size_total: u64,
    /// `image_stage_total`: MiB of data in staging.
    pub image_stage_total: u64,
    /// `image_count_total`: images not deleted or killed.
    pub image_count_total: u64,
    /// `image_count_uploading`: images being uploaded, imported or copied.
    pub image_count_uploading: u64,
}

fn gone(status: ImageStatus) -> bool {
    matches!(
        status,
        ImageStatus::Killed | ImageStatus::Deleted | ImageStatus::PendingDelete
    )
}

fn copying(img: &Image) -> bool {
    img.properties
        .get(IMPORTING_TO_STORES)
        .is_some_and(|v| !v.is_empty())
}

impl ProjectUsage {
    /// Count `project`'s images among all live records.
    pub fn of(images: &[Arc<Image>], project: &str) -> Self {
        let mut usage = ProjectUsage::default();
        let (mut stored, mut staged) = (0u64, 0u64);
        for img in images
            .iter()
            .filter(|i| i.owner.as_deref() == Some(project))
        {
            let size = img.size.unwrap_or(0);
            let in_flight = matches!(img.status, ImageStatus::Uploading | ImageStatus::Importing);
            if !gone(img.status) {
                usage.image_count_total += 1;
                stored += size * img.stores.len() as u64;
            }
            if in_flight || (!gone(img.status) && copying(img)) {
                staged += size;
            }
            if matches!(img.status, ImageStatus::Saving)
                || in_flight
                || (!gone(img.status) && copying(img))
            {
                usage.image_count_uploading += 1;
            }
        }
        usage.image_size_total = stored / MIB;
        usage.image_stage_total = staged / MIB;
        usage
    }

    /// The `usage` object of `/v2/info/usage`: each limit with its usage.
    pub fn document(&self, limits: &ImageLimits) -> Value {
        let entries = [
            (
                "image_size_total",
                self.image_size_total,
                limits.image_size_total,
            ),
            (
                "image_stage_total",
                self.image_stage_total,
                limits.image_stage_total,
            ),
            (
                "image_count_total",
                self.image_count_total,
                limits.image_count_total,
            ),
            (
                "image_count_uploading",
                self.image_count_uploading,
                limits.image_count_uploading,
            ),
        ];
        let mut usage = Map::new();
        for (name, used, limit) in entries {
            usage.insert(name.into(), json!({"usage": used, "limit": limit}));
        }
        Value::Object(usage)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(owner: &str, status: ImageStatus, size: u64, stores: &[&str]) -> Arc<Image> {
        let mut img = Image::new(
            uuid::Uuid::new_v4().to_string(),
            Some(owner.into()),
            crate::domain::time::now(),
        );
        img.status = status;
        img.size = Some(size);
        img.stores = stores.iter().map(|s| (*s).to_owned()).collect();
        Arc::new(img)
    }

    #[test]
    fn counts_as_glance_does() {
        let mut copy = Image::clone(&image("p", ImageStatus::Active, 3 * MIB, &["fast"]));
        copy.properties
            .insert(IMPORTING_TO_STORES.into(), "cheap".into());
        let images = vec![
            image("p", ImageStatus::Active, 2 * MIB, &["fast", "cheap"]),
            image("p", ImageStatus::Importing, MIB, &[]),
            image("p", ImageStatus::Killed, 5 * MIB, &["fast"]),
            image("p", ImageStatus::Queued, 0, &[]),
            image("q", ImageStatus::Active, 9 * MIB, &["fast"]),
            Arc::new(copy),
        ];
        assert_eq!(
            ProjectUsage::of(&images, "p"),
            ProjectUsage {
                image_size_total: 7,
                image_stage_total: 4,
                image_count_total: 4,
                image_count_uploading: 2,
            }
        );
    }
}
