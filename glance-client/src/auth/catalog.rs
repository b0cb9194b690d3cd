//! The service catalog of a Keystone v3 token, and choosing the Image
//! service's endpoint in it.

use serde::Deserialize;

use super::Interface;
use crate::error::Error;

/// A token's service catalog.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Catalog {
    /// The services, in Keystone's order.
    pub services: Vec<CatalogService>,
}

/// One service of the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct CatalogService {
    /// The service type, e.g. `image`.
    #[serde(rename = "type")]
    pub service_type: String,
    /// The service name, e.g. `glance`.
    #[serde(default)]
    pub name: Option<String>,
    /// The service id.
    #[serde(default)]
    pub id: Option<String>,
    /// Its endpoints.
    #[serde(default)]
    pub endpoints: Vec<CatalogEndpoint>,
}

/// One endpoint of a service.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct CatalogEndpoint {
    /// `public`, `internal` or `admin`.
    pub interface: String,
    /// The region id (`region_id`, or the older `region`).
    #[serde(default)]
    pub region_id: Option<String>,
    /// The region, as older Keystones name it.
    #[serde(default)]
    pub region: Option<String>,
    /// The URL (Keystone lists it as configured, often without a version).
    pub url: String,
    /// The endpoint id.
    #[serde(default)]
    pub id: Option<String>,
}

impl CatalogEndpoint {
    fn in_region(&self, region: &str) -> bool {
        self.region_id.as_deref() == Some(region) || self.region.as_deref() == Some(region)
    }

    fn region_name(&self) -> &str {
        self.region_id
            .as_deref()
            .or(self.region.as_deref())
            .unwrap_or("no region")
    }
}

impl Catalog {
    /// The URL of the first endpoint of `service_type` with `interface`,
    /// in `region` if given; [`Error::Catalog`] when there is none, naming
    /// what the catalog offers instead.
    pub fn endpoint_url(
        &self,
        service_type: &str,
        interface: Interface,
        region: Option<&str>,
    ) -> Result<&str, Error> {
        let services: Vec<&CatalogService> = self
            .services
            .iter()
            .filter(|s| s.service_type == service_type)
            .collect();
        let found = services.iter().flat_map(|s| &s.endpoints).find(|e| {
            e.interface.eq_ignore_ascii_case(interface.as_str())
                && region.is_none_or(|r| e.in_region(r))
        });
        if let Some(e) = found {
            return Ok(&e.url);
        }
        let message = if self.services.is_empty() {
            "the token has an empty service catalog (an unscoped token? give a project)".to_owned()
        } else if services.is_empty() {
            let types: Vec<&str> = self
                .services
                .iter()
                .map(|s| s.service_type.as_str())
                .collect();
            format!(
                "the catalog has no {service_type} service (it lists {})",
                types.join(", ")
            )
        } else {
            let offered: Vec<String> = services
                .iter()
                .flat_map(|s| &s.endpoints)
                .map(|e| format!("{} in {}", e.interface, e.region_name()))
                .collect();
            format!(
                "the catalog offers {service_type} endpoints: {}",
                if offered.is_empty() {
                    "none".to_owned()
                } else {
                    offered.join(", ")
                }
            )
        };
        Err(Error::Catalog {
            service_type: service_type.to_owned(),
            interface: interface.as_str().to_owned(),
            region: region.map(str::to_owned),
            message,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn catalog() -> Catalog {
        serde_json::from_value(json!([
            {"type": "identity", "name": "keystone", "id": "k", "endpoints": [
                {"interface": "public", "region_id": "RegionOne", "region": "RegionOne", "url": "http://k:5000", "id": "1"}]},
            {"type": "image", "name": "glance", "id": "g", "endpoints": [
                {"interface": "public", "region_id": "RegionOne", "region": "RegionOne", "url": "http://pub-one:9292", "id": "2"},
                {"interface": "internal", "region_id": "RegionOne", "region": "RegionOne", "url": "http://int-one:9292", "id": "3"},
                {"interface": "public", "region_id": "RegionTwo", "region": "RegionTwo", "url": "http://pub-two:9292/v2", "id": "4"},
                {"interface": "admin", "region": "RegionTwo", "url": "http://adm-two:9292", "id": "5"}]}
        ]))
        .expect("catalog")
    }

    #[test]
    fn chooses_by_interface_and_region() {
        let c = catalog();
        let pick = |i, r| c.endpoint_url("image", i, r).map(str::to_owned);
        assert_eq!(
            pick(Interface::Public, None).ok().as_deref(),
            Some("http://pub-one:9292")
        );
        assert_eq!(
            pick(Interface::Public, Some("RegionTwo")).ok().as_deref(),
            Some("http://pub-two:9292/v2")
        );
        assert_eq!(
            pick(Interface::Internal, Some("RegionOne")).ok().as_deref(),
            Some("http://int-one:9292")
        );
        // The older `region` field alone is enough.
        assert_eq!(
            pick(Interface::Admin, Some("RegionTwo")).ok().as_deref(),
            Some("http://adm-two:9292")
        );
    }

    #[test]
    fn missing_endpoints_are_typed_errors() {
        let c = catalog();
        let err = c
            .endpoint_url("image", Interface::Internal, Some("RegionTwo"))
            .expect_err("none");
        let Error::Catalog {
            service_type,
            interface,
            region,
            message,
        } = &err
        else {
            panic!("not a catalog error: {err}");
        };
        assert_eq!(
            (service_type.as_str(), interface.as_str(), region.as_deref()),
            ("image", "internal", Some("RegionTwo"))
        );
        assert!(message.contains("public in RegionOne"), "{message}");
        assert!(err.to_string().contains("internal"), "{err}");

        let err = c
            .endpoint_url("object-store", Interface::Public, None)
            .expect_err("none");
        assert!(err.to_string().contains("identity, image"), "{err}");

        let err = Catalog::default()
            .endpoint_url("image", Interface::Public, None)
            .expect_err("none");
        assert!(err.to_string().contains("empty service catalog"), "{err}");
    }
}
