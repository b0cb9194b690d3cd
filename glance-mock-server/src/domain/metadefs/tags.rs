//! Tags of a namespace (`glance/api/v2/metadef_tags.py`). Tag names are
//! case-sensitive, as in the reference deployment's SQLite database.

use std::cmp::Ordering;

use serde_json::{Value, json};
use time::OffsetDateTime;

use super::namespaces::duplicate_tag;
use super::policy::{self, Rule, Target};
use super::query::{self, Direction, Params};
use super::records::Tag;
use super::schema::Schema;
use super::{READ_ONLY_TIMES, Tables, check_allowed, find_or_404, require_body, wsme};
use crate::domain::python::Py;
use crate::domain::{Fault, Identity};

fn not_found(name: &str) -> Fault {
    Fault::NotFound(format!("Could not find metadata tag {name}"))
}

fn get<'a>(t: &'a Tables, ns: i64, name: &str) -> Result<&'a Tag, Fault> {
    t.tags_of(ns)
        .find(|x| x.name == name)
        .ok_or_else(|| not_found(name))
}

/// `POST .../{namespace}/tags/{tag_name}`: the namespace is looked up
/// before the name is checked against the tag schema.
pub fn create(
    t: &mut Tables,
    who: &Identity,
    namespace: &str,
    name: &str,
    now: OffsetDateTime,
) -> Result<Value, Fault> {
    let ns = find_or_404(t, who, namespace)?.clone();
    Schema::Tag.validate(&Py::Dict(vec![("name".into(), Py::Str(name.into()))]))?;
    policy::enforce(who, Rule::AddTag, Target::namespace(&ns))?;
    if t.tags_of(ns.id).any(|x| x.name == name) {
        return Err(duplicate_tag(name, namespace));
    }
    let id = t.next_id();
    let tag = Tag {
        id,
        namespace_id: ns.id,
        name: name.to_owned(),
        created_at: now,
        updated_at: now,
    };
    t.tag_create(tag.clone());
    Ok(tag.to_json())
}

/// A create-multiple body: the tag names, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagsBody(Vec<String>);

impl TagsBody {
    /// Body present, no timestamps, the `tags` schema, WSME; a body without
    /// `tags` passes all of those and then fails Glance (500).
    pub fn read(body: Option<&Py>) -> Result<Self, Fault> {
        let body = require_body(body)?;
        check_allowed(body, READ_ONLY_TIMES)?;
        Schema::Tags.validate(body)?;
        let model = wsme::from_json(&wsme::TAGS, body)?;
        let Some(Value::Array(tags)) = model.get("tags") else {
            return Err(Fault::internal());
        };
        tags.iter()
            .map(|x| {
                x.get("name")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .ok_or_else(Fault::internal)
            })
            .collect::<Result<_, _>>()
            .map(TagsBody)
    }
}

/// `strutils.bool_from_string` on `X-Openstack-Append`.
pub fn append_header(value: Option<&str>) -> bool {
    value.is_some_and(|v| {
        ["1", "t", "true", "on", "y", "yes"].contains(&v.trim().to_lowercase().as_str())
    })
}

/// `POST .../{namespace}/tags`: replace the namespace's tags with these
/// (or, with `append`, add them). A name used twice, or already present
/// when appending, is a 409 and nothing changes. An empty list changes
/// nothing.
pub fn create_many(
    t: &mut Tables,
    who: &Identity,
    namespace: &str,
    body: &TagsBody,
    append: bool,
    now: OffsetDateTime,
) -> Result<Value, Fault> {
    let ns = find_or_404(t, who, namespace)?.clone();
    policy::enforce(who, Rule::AddTags, Target::namespace(&ns))?;
    if !body.0.is_empty() {
        let mut names: Vec<&str> = if append {
            t.tags_of(ns.id).map(|x| x.name.as_str()).collect()
        } else {
            Vec::new()
        };
        for name in &body.0 {
            if names.contains(&name.as_str()) {
                return Err(duplicate_tag(name, namespace));
            }
            names.push(name);
        }
        t.tag_create_tags(ns.id, &body.0, append, now);
    }
    let tags: Vec<Value> = body.0.iter().map(|n| json!({"name": n})).collect();
    Ok(json!({"tags": tags}))
}

#[derive(Debug, Clone, PartialEq, PartialOrd)]
enum Key {
    Int(i64),
    Text(String),
    Time(OffsetDateTime),
}

fn sort_value(tag: &Tag, column: &str) -> Key {
    match column {
        "id" => Key::Int(tag.id),
        "namespace_id" => Key::Int(tag.namespace_id),
        "name" => Key::Text(tag.name.clone()),
        "created_at" => Key::Time(tag.created_at),
        _ => Key::Time(tag.updated_at),
    }
}

/// `GET .../{namespace}/tags`: names only, sorted (`sort_key`, then
/// creation, newest first by default) and paged (`marker` is a tag name).
pub fn list(t: &Tables, who: &Identity, namespace: &str, raw_query: &str) -> Result<Value, Fault> {
    let mut params = Params::parse(raw_query);
    let limit = params.pop("limit");
    let marker = params.pop("marker");
    let sort_dir = params.pop("sort_dir").unwrap_or_else(|| "desc".into());
    let sort_key = params
        .pop("sort_key")
        .unwrap_or_else(|| "created_at".into());
    let direction = query::sort_dir(&sort_dir)?;
    super::validate_visibility(&params, &["public", "private", "shared"])?;
    let marker = marker.filter(|m| !m.is_empty());
    let limit = match limit.filter(|l| !l.is_empty()) {
        Some(l) => Some(super::validate_limit(&l, true)?),
        None => None,
    };
    let ns = find_or_404(t, who, namespace)?;
    policy::enforce(who, Rule::GetTags, Target::namespace(ns))?;
    let marker = match marker {
        Some(m) => Some(get(t, ns.id, &m)?),
        None => None,
    };
    if !["id", "namespace_id", "name", "created_at", "updated_at"].contains(&sort_key.as_str()) {
        return Err(Fault::internal());
    }
    let mut columns = vec!["created_at", "id"];
    if !columns.contains(&sort_key.as_str()) {
        columns.insert(0, sort_key.as_str());
    }
    let key = |tag: &Tag| -> Vec<Key> { columns.iter().map(|c| sort_value(tag, c)).collect() };
    let mut rows: Vec<&Tag> = t.tags_of(ns.id).collect();
    rows.sort_by(|a, b| {
        let ord = key(a).partial_cmp(&key(b)).unwrap_or(Ordering::Equal);
        match direction {
            Direction::Asc => ord,
            Direction::Desc => ord.reverse(),
        }
    });
    if let Some(m) = marker {
        let mk = key(m);
        rows.retain(|x| match direction {
            Direction::Asc => key(x) > mk,
            Direction::Desc => key(x) < mk,
        });
    }
    if let Some(l) = limit {
        rows.truncate(usize::try_from(l).unwrap_or(0));
    }
    let tags: Vec<Value> = rows.iter().map(|x| json!({"name": x.name})).collect();
    Ok(json!({"tags": tags}))
}

/// `GET .../{namespace}/tags/{tag_name}`.
pub fn show(t: &Tables, who: &Identity, namespace: &str, name: &str) -> Result<Value, Fault> {
    let ns = find_or_404(t, who, namespace)?;
    policy::enforce(who, Rule::GetTag, Target::namespace(ns))?;
    Ok(get(t, ns.id, name)?.to_json())
}

/// A tag update body: its new name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagBody(String);

impl TagBody {
    /// Body present, no timestamps, the tag schema, WSME.
    pub fn read(body: Option<&Py>) -> Result<Self, Fault> {
        let body = require_body(body)?;
        check_allowed(body, READ_ONLY_TIMES)?;
        Schema::Tag.validate(body)?;
        let model = wsme::from_json(&wsme::TAG, body)?;
        model
            .get("name")
            .and_then(Value::as_str)
            .map(|n| TagBody(n.to_owned()))
            .ok_or_else(Fault::internal)
    }
}

/// `PUT .../{namespace}/tags/{tag_name}`: rename; answers the new name with
/// the old timestamps.
pub fn update(
    t: &mut Tables,
    who: &Identity,
    namespace: &str,
    name: &str,
    body: &TagBody,
    now: OffsetDateTime,
) -> Result<Value, Fault> {
    let ns = find_or_404(t, who, namespace)?.clone();
    policy::enforce(who, Rule::ModifyTag, Target::namespace(&ns))?;
    let old = get(t, ns.id, name)?.clone();
    if body.0 != old.name && t.tags_of(ns.id).any(|x| x.name == body.0) {
        return Err(duplicate_tag(&body.0, namespace));
    }
    let answer = Tag {
        name: body.0.clone(),
        ..old.clone()
    };
    t.tag_update(Tag {
        name: body.0.clone(),
        updated_at: now,
        ..old.clone()
    });
    Ok(answer.to_json())
}

/// `DELETE .../{namespace}/tags/{tag_name}`: 403 in a protected namespace.
pub fn delete(t: &mut Tables, who: &Identity, namespace: &str, name: &str) -> Result<(), Fault> {
    let ns = find_or_404(t, who, namespace)?.clone();
    policy::enforce(who, Rule::DeleteTag, Target::namespace(&ns))?;
    let id = get(t, ns.id, name)?.id;
    if ns.protected {
        return Err(Fault::Forbidden(format!(
            "Metadata definition tag {name} is protected and cannot be deleted."
        )));
    }
    t.tag_delete(id);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::namespaces::{NamespaceBody, create as create_namespace};
    use super::*;
    use crate::domain::python::json as pyjson;
    use crate::domain::time::now;

    fn admin() -> Identity {
        Identity {
            project_id: Some("admin-project".into()),
            user_id: None,
            roles: vec!["admin".into()],
        }
    }

    fn names(v: &Value) -> Vec<String> {
        v["tags"]
            .as_array()
            .expect("tags")
            .iter()
            .map(|x| x["name"].as_str().expect("name").to_owned())
            .collect()
    }

    fn setup() -> Tables {
        let mut t = Tables::default();
        let body = NamespaceBody::read(Some(
            &pyjson::parse(br#"{"namespace": "N"}"#).expect("json"),
        ))
        .expect("body");
        create_namespace(&mut t, &admin(), &body, now()).expect("namespace");
        t
    }

    fn many(s: &str) -> TagsBody {
        TagsBody::read(Some(&pyjson::parse(s.as_bytes()).expect("json"))).expect("body")
    }

    #[test]
    fn create_many_replaces_or_appends_atomically() {
        let mut t = setup();
        create(&mut t, &admin(), "N", "old", now()).expect("created");
        create_many(
            &mut t,
            &admin(),
            "N",
            &many(r#"{"tags": [{"name": "a"}, {"name": "b"}]}"#),
            false,
            now(),
        )
        .expect("replaced");
        assert_eq!(
            names(&list(&t, &admin(), "N", "sort_key=name&sort_dir=asc").expect("listed")),
            ["a", "b"]
        );
        assert_eq!(
            create_many(
                &mut t,
                &admin(),
                "N",
                &many(r#"{"tags": [{"name": "b"}]}"#),
                true,
                now()
            ),
            Err(duplicate_tag("b", "N"))
        );
        assert_eq!(
            create_many(
                &mut t,
                &admin(),
                "N",
                &many(r#"{"tags": [{"name": "d"}, {"name": "d"}]}"#),
                false,
                now()
            ),
            Err(duplicate_tag("d", "N"))
        );
        create_many(
            &mut t,
            &admin(),
            "N",
            &many(r#"{"tags": [{"name": "c"}]}"#),
            true,
            now(),
        )
        .expect("appended");
        assert_eq!(
            names(&list(&t, &admin(), "N", "sort_key=name").expect("listed")),
            ["c", "b", "a"]
        );
        assert_eq!(
            names(
                &list(
                    &t,
                    &admin(),
                    "N",
                    "sort_key=name&sort_dir=asc&marker=a&limit=1"
                )
                .expect("listed")
            ),
            ["b"]
        );
        assert_eq!(
            list(&t, &admin(), "N", "sort_key=bogus"),
            Err(Fault::internal())
        );
        assert_eq!(list(&t, &admin(), "N", "marker=zz"), Err(not_found("zz")));
        assert!(append_header(Some(" Yes ")));
        assert!(!append_header(Some("maybe")));
        assert_eq!(
            TagsBody::read(Some(&pyjson::parse(b"{}").expect("json"))),
            Err(Fault::internal())
        );
    }

    #[test]
    fn single_tags_are_case_sensitive_and_renamed_in_place() {
        let mut t = setup();
        create(&mut t, &admin(), "N", "t", now()).expect("created");
        create(&mut t, &admin(), "N", "T", now()).expect("created");
        assert_eq!(
            create(&mut t, &admin(), "N", "t", now()).err(),
            Some(duplicate_tag("t", "N"))
        );
        assert!(matches!(
            create(&mut t, &admin(), "N", &"x".repeat(81), now()),
            Err(Fault::BadRequest(m)) if m.starts_with("Provided object does not match schema 'tag': ")
        ));
        let body =
            TagBody::read(Some(&pyjson::parse(br#"{"name": "T"}"#).expect("json"))).expect("body");
        assert_eq!(
            update(&mut t, &admin(), "N", "t", &body, now()).err(),
            Some(duplicate_tag("T", "N"))
        );
        let body =
            TagBody::read(Some(&pyjson::parse(br#"{"name": "u"}"#).expect("json"))).expect("body");
        assert_eq!(
            update(&mut t, &admin(), "N", "t", &body, now()).expect("renamed")["name"],
            "u"
        );
        assert_eq!(show(&t, &admin(), "N", "t"), Err(not_found("t")));
        assert_eq!(delete(&mut t, &admin(), "N", "u"), Ok(()));
    }
}
