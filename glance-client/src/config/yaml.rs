//! YAML documents (`clouds.yaml`, `secure.yaml`) as JSON values, and the
//! deep merge of `secure.yaml` into `clouds.yaml`.

use serde_json::{Map, Value};
use yaml_rust2::{Yaml, YamlLoader};

use crate::error::{Error, Result};

/// Parse the first document of `text` (an empty file is an empty mapping).
/// `what` names the file in errors.
pub(crate) fn parse(text: &str, what: &str) -> Result<Value> {
    let docs = YamlLoader::load_from_str(text)
        .map_err(|e| Error::Config(format!("cannot parse {what}: {e}")))?;
    Ok(docs
        .first()
        .map_or_else(|| Value::Object(Map::new()), to_json))
}

fn to_json(y: &Yaml) -> Value {
    match y {
        Yaml::Real(s) => s
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or_else(|| Value::String(s.clone()), Value::Number),
        Yaml::Integer(i) => Value::from(*i),
        Yaml::String(s) => Value::String(s.clone()),
        Yaml::Boolean(b) => Value::Bool(*b),
        Yaml::Array(a) => Value::Array(a.iter().map(to_json).collect()),
        Yaml::Hash(h) => {
            Value::Object(h.iter().map(|(k, v)| (key_string(k), to_json(v))).collect())
        }
        Yaml::Alias(_) | Yaml::Null | Yaml::BadValue => Value::Null,
    }
}

fn key_string(k: &Yaml) -> String {
    match k {
        Yaml::String(s) | Yaml::Real(s) => s.clone(),
        Yaml::Integer(i) => i.to_string(),
        Yaml::Boolean(b) => b.to_string(),
        _ => String::new(),
    }
}

/// Merge `over` into `base`: mappings key by key, anything else replaced
/// (as openstacksdk merges `secure.yaml` over `clouds.yaml`).
pub(crate) fn merge(base: &mut Value, over: &Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(k) {
                    Some(existing) => merge(existing, v),
                    None => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (b, o) => *b = o.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn yaml_becomes_json() {
        let v = parse(
            "clouds:\n  a:\n    auth:\n      password: \"0123\"\n      project_id: 0456\n    verify: false\n    regions: [One, {name: Two}]\n    ratio: 1.5\n    nothing: ~\n",
            "clouds.yaml",
        )
        .expect("parses");
        assert_eq!(
            v,
            json!({"clouds": {"a": {
                "auth": {"password": "0123", "project_id": 456},
                "verify": false, "regions": ["One", {"name": "Two"}], "ratio": 1.5, "nothing": null}}})
        );
        assert_eq!(parse("", "x").expect("empty"), json!({}));
        let e = parse("clouds: [unclosed", "clouds.yaml").expect_err("bad");
        assert!(e.to_string().contains("clouds.yaml"), "{e}");
    }

    #[test]
    fn anchors_resolve() {
        let v = parse(
            "base: &b {auth_url: 'http://k'}\nclouds:\n  a:\n    auth: *b\n",
            "x",
        )
        .expect("parses");
        assert_eq!(v["clouds"]["a"]["auth"]["auth_url"], "http://k");
    }

    #[test]
    fn secure_merges_deeply() {
        let mut clouds = json!({"clouds": {"a": {"auth": {"username": "u", "password": "old"}, "region_name": "R"}}});
        merge(
            &mut clouds,
            &json!({"clouds": {"a": {"auth": {"password": "new"}}, "b": {"auth": {}}}}),
        );
        assert_eq!(
            clouds,
            json!({"clouds": {
                "a": {"auth": {"username": "u", "password": "new"}, "region_name": "R"},
                "b": {"auth": {}}}})
        );
    }
}
