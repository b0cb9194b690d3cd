//! The schemas Glance validates metadata definition (and add-location)
//! request bodies against, exactly as its `Schema.raw()` builds them
//! (recorded from Glance 33 into `schemas/*.json`, keys in Python's order,
//! which its error messages print), and the 400 a failure becomes.

use std::sync::LazyLock;

use crate::domain::Fault;
use crate::domain::python::Py;
use crate::domain::python::json as pyjson;
use crate::domain::python::jsonschema;

/// A request-body schema of Glance's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schema {
    /// `metadef_namespaces.get_schema()`: namespace create and update.
    Namespace,
    /// `metadef_objects.get_schema()`: object create and update.
    Object,
    /// `metadef_properties.get_schema()`: property create and update.
    Property,
    /// `get_schema(require_name=False)`: each property of an object create.
    UnnamedProperty,
    /// `metadef_resource_types.get_schema()`: association create.
    ResourceTypeAssociation,
    /// `metadef_tags.get_schema()`: tag create (its name) and update.
    Tag,
    /// `metadef_tags.get_schema_for_list()`: create-multiple body.
    Tags,
    /// `images.get_location_schema()`: `{"add_location": body}`.
    Location,
}

fn load(text: &str) -> Py {
    pyjson::parse(text.as_bytes()).unwrap_or(Py::None)
}

static NAMESPACE: LazyLock<Py> = LazyLock::new(|| load(include_str!("schemas/namespace.json")));
static OBJECT: LazyLock<Py> = LazyLock::new(|| load(include_str!("schemas/object.json")));
static PROPERTY: LazyLock<Py> = LazyLock::new(|| load(include_str!("schemas/property.json")));
static UNNAMED_PROPERTY: LazyLock<Py> =
    LazyLock::new(|| load(include_str!("schemas/property-unnamed.json")));
static RESOURCE_TYPE_ASSOCIATION: LazyLock<Py> =
    LazyLock::new(|| load(include_str!("schemas/resource_type_association.json")));
static TAG: LazyLock<Py> = LazyLock::new(|| load(include_str!("schemas/tag.json")));
static TAGS: LazyLock<Py> = LazyLock::new(|| load(include_str!("schemas/tags.json")));
static LOCATION: LazyLock<Py> = LazyLock::new(|| load(include_str!("schemas/location.json")));

impl Schema {
    /// The schema document.
    pub fn document(self) -> &'static Py {
        match self {
            Schema::Namespace => &NAMESPACE,
            Schema::Object => &OBJECT,
            Schema::Property => &PROPERTY,
            Schema::UnnamedProperty => &UNNAMED_PROPERTY,
            Schema::ResourceTypeAssociation => &RESOURCE_TYPE_ASSOCIATION,
            Schema::Tag => &TAG,
            Schema::Tags => &TAGS,
            Schema::Location => &LOCATION,
        }
    }

    /// The schema's `name`, as Glance's 400 names it.
    pub fn name(self) -> &'static str {
        match self.document().get("name") {
            Some(Py::Str(name)) => name,
            _ => "",
        }
    }

    /// `Schema.validate`: 400 `Provided object does not match schema
    /// '<name>': <jsonschema's error>`.
    pub fn validate(self, instance: &Py) -> Result<(), Fault> {
        // None of these schemas use `pattern`.
        jsonschema::validate_py(self.document(), instance, &|_, _| true).map_err(|e| {
            Fault::BadRequest(format!(
                "Provided object does not match schema '{}': {e}",
                self.name()
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(s: &str) -> Py {
        pyjson::parse(s.as_bytes()).expect("json")
    }

    fn message(schema: Schema, s: &str) -> String {
        match schema.validate(&body(s)) {
            Err(Fault::BadRequest(m)) => m,
            other => panic!("expected a 400, got {other:?}"),
        }
    }

    #[test]
    fn every_schema_loads_with_its_name() {
        let names: Vec<&str> = [
            Schema::Namespace,
            Schema::Object,
            Schema::Property,
            Schema::UnnamedProperty,
            Schema::ResourceTypeAssociation,
            Schema::Tag,
            Schema::Tags,
            Schema::Location,
        ]
        .iter()
        .map(|s| s.name())
        .collect();
        assert_eq!(
            names,
            [
                "namespace",
                "object",
                "property",
                "property",
                "resource_type_association",
                "tag",
                "tags",
                "location"
            ]
        );
    }

    // Expected texts below are Glance 33's answers to the same bodies.

    #[test]
    fn references_and_all_of_report_the_resolved_schema() {
        assert_eq!(
            message(
                Schema::Namespace,
                r#"{"namespace": "A5", "properties": {"p": {"title": "P", "type": "string", "minLength": -1}}}"#
            ),
            "Provided object does not match schema 'namespace': -1 is less than the minimum of 0\n\nFailed validating 'minimum' in schema['properties']['properties']['additionalProperties']['properties']['minLength']['allOf'][0]:\n    {'type': 'integer', 'minimum': 0}\n\nOn instance['properties']['p']['minLength']:\n    -1"
        );
        assert_eq!(
            message(
                Schema::Namespace,
                r#"{"namespace": "A5", "objects": [{"name": "o", "required": ["a", "a"]}]}"#
            ),
            "Provided object does not match schema 'namespace': ['a', 'a'] has non-unique elements\n\nFailed validating 'uniqueItems' in schema['properties']['objects']['items']['properties']['required']:\n    {'type': 'array', 'items': {'type': 'string'}, 'uniqueItems': True}\n\nOn instance['objects'][0]['required']:\n    ['a', 'a']"
        );
    }

    #[test]
    fn instances_print_in_request_order() {
        let m = message(
            Schema::Property,
            r#"{"name": "w", "title": "Y", "type": "string", "confidential": true}"#,
        );
        assert!(
            m.starts_with("Provided object does not match schema 'property': Additional properties are not allowed ('confidential' was unexpected)\n\nFailed validating 'additionalProperties' in schema:\n    {'name': 'property',\n"),
            "{m}"
        );
        assert!(
            m.ends_with("\n     'required': ['type', 'title', 'name']}\n\nOn instance:\n    {'name': 'w', 'title': 'Y', 'type': 'string', 'confidential': True}"),
            "{m}"
        );
        let m = message(
            Schema::Property,
            r#"{"name": "p3", "title": "P1", "type": "string", "required": []}"#,
        );
        assert!(m.starts_with("Provided object does not match schema 'property': [] should be non-empty\n\nFailed validating 'minItems' in schema['properties']['required']:"), "{m}");
    }

    #[test]
    fn location_fields_depend_on_each_other() {
        let m = message(
            Schema::Location,
            r#"{"add_location": {"url": "x", "validation_data": {"os_hash_algo": "sha1"}}}"#,
        );
        assert!(m.starts_with("Provided object does not match schema 'location': 'os_hash_value' is a dependency of 'os_hash_algo'\n\nFailed validating 'dependentRequired' in schema['properties']['add_location']['properties']['validation_data']:"), "{m}");
        assert!(
            Schema::Location
                .validate(&body(
                    r#"{"add_location": {"url": "x", "validation_data": {}}}"#
                ))
                .is_ok()
        );
    }
}
