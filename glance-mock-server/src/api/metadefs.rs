//! `/v2/metadefs/...`: namespaces, their objects, properties, tags and
//! resource type associations, and the resource type list. HTTP only: the
//! use cases are in [`crate::app::metadefs`], the rules in
//! [`crate::domain::metadefs`]; Glance's router rules (405s, bodies refused
//! with `body_reject`) are applied before these handlers by
//! [`super::routes`].

use super::resources::Routes;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{delete, get};
use serde_json::Value;

use super::error::ApiError;
use super::identity::Caller;
use super::versions::base_url;
use super::wsgi::{self, WsgiParams};
use crate::app;
use crate::app::metadefs::{namespaces, objects, properties, tags};
use crate::domain::metadefs::namespaces::{ListQuery, NamespaceBody};
use crate::domain::metadefs::objects::ObjectBody;
use crate::domain::metadefs::properties::PropertyBody;
use crate::domain::metadefs::resource_types::AssociationBody;
use crate::domain::metadefs::tags::{TagBody, TagsBody, append_header};
use crate::domain::metadefs::wsme;
use crate::domain::python::Py;
use crate::state::SharedState;

const NS: &str = "/v2/metadefs/namespaces/{namespace}";

/// Routes of this resource.
pub fn router() -> Routes {
    Routes::new()
        .route("/v2/metadefs/resource_types", get(list_resource_types))
        .route(
            "/v2/metadefs/namespaces",
            get(list_namespaces).post(create_namespace),
        )
        .route(
            NS,
            get(show_namespace)
                .put(update_namespace)
                .delete(delete_namespace),
        )
        .route(
            &format!("{NS}/objects"),
            get(list_objects).post(create_object).delete(delete_objects),
        )
        .route(
            &format!("{NS}/objects/{{object_name}}"),
            get(show_object).put(update_object).delete(delete_object),
        )
        .route(
            &format!("{NS}/properties"),
            get(list_properties)
                .post(create_property)
                .delete(delete_properties),
        )
        .route(
            &format!("{NS}/properties/{{property_name}}"),
            get(show_property)
                .put(update_property)
                .delete(delete_property),
        )
        .route(
            &format!("{NS}/tags"),
            get(list_tags).post(create_tags).delete(delete_tags),
        )
        .route(
            &format!("{NS}/tags/{{tag_name}}"),
            get(show_tag)
                .post(create_tag)
                .put(update_tag)
                .delete(delete_tag),
        )
        .route(
            &format!("{NS}/resource_types"),
            get(list_associations).post(create_association),
        )
        .route(
            &format!("{NS}/resource_types/{{resource_type}}"),
            delete(delete_association),
        )
}

/// The request body as Glance's JSON deserializer reads it (`None` without
/// one), keys in the order sent.
fn body(method: &Method, headers: &HeaderMap, bytes: &Bytes) -> Result<Option<Py>, ApiError> {
    Ok(wsgi::json_body(method, headers, bytes)?.map(|_| wsme::ordered(bytes)))
}

fn created(v: Value) -> Response {
    (StatusCode::CREATED, Json(v)).into_response()
}

type Reply = Result<Response, ApiError>;

fn ok(v: Value) -> Reply {
    Ok(Json(v).into_response())
}

fn no_content() -> Reply {
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn list_resource_types(State(state): State<SharedState>, Caller(who): Caller) -> Reply {
    ok(app::metadefs::list_resource_types(&state, &who)?)
}

async fn list_namespaces(
    State(state): State<SharedState>,
    Caller(who): Caller,
    RawQuery(query): RawQuery,
) -> Reply {
    let q = ListQuery::parse(
        query.as_deref().unwrap_or_default(),
        state.config.limit_param_default,
        state.config.api_limit_max,
    )?;
    ok(namespaces::list(&state, &who, &q)?)
}

async fn create_namespace(
    State(state): State<SharedState>,
    Caller(who): Caller,
    method: Method,
    headers: HeaderMap,
    wsgi::Body(bytes): wsgi::Body,
) -> Reply {
    let ns = NamespaceBody::read(body(&method, &headers, &bytes)?.as_ref())?;
    let (doc, href) = namespaces::create(&state, &who, &ns)?;
    let mut resp = created(doc);
    if let Ok(v) = HeaderValue::from_str(&format!("{}{href}", base_url(&headers))) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    Ok(resp)
}

async fn show_namespace(
    State(state): State<SharedState>,
    Caller(who): Caller,
    params: WsgiParams,
    RawQuery(query): RawQuery,
) -> Reply {
    ok(namespaces::show(
        &state,
        &who,
        params.get("namespace"),
        query.as_deref().unwrap_or_default(),
    )?)
}

async fn update_namespace(
    State(state): State<SharedState>,
    Caller(who): Caller,
    params: WsgiParams,
    method: Method,
    headers: HeaderMap,
    wsgi::Body(bytes): wsgi::Body,
) -> Reply {
    let ns = NamespaceBody::read(body(&method, &headers, &bytes)?.as_ref())?;
    ok(namespaces::update(
        &state,
        &who,
        params.get("namespace"),
        &ns,
    )?)
}

async fn delete_namespace(
    State(state): State<SharedState>,
    Caller(who): Caller,
    params: WsgiParams,
) -> Reply {
    namespaces::delete(&state, &who, params.get("namespace"))?;
    no_content()
}

async fn list_objects(
    State(state): State<SharedState>,
    Caller(who): Caller,
    params: WsgiParams,
    RawQuery(query): RawQuery,
) -> Reply {
    ok(objects::list(
        &state,
        &who,
        params.get("namespace"),
        query.as_deref().unwrap_or_default(),
    )?)
}

async fn create_object(
    State(state): State<SharedState>,
    Caller(who): Caller,
    params: WsgiParams,
    method: Method,
    headers: HeaderMap,
    wsgi::Body(bytes): wsgi::Body,
) -> Reply {
    let object = ObjectBody::read_create(body(&method, &headers, &bytes)?.as_ref())?;
    Ok(created(objects::create(
        &state,
        &who,
        params.get("namespace"),
        &object,
    )?))
}

async fn delete_objects(
    State(state): State<SharedState>,
    Caller(who): Caller,
    params: WsgiParams,
) -> Reply {
    namespaces::delete_objects(&state, &who, params.get("namespace"))?;
    no_content()
}

async fn show_object(
    State(state): State<SharedState>,
    Caller(who): Caller,
    params: WsgiParams,
) -> Reply {
    ok(objects::show(
        &state,
        &who,
        params.get("namespace"),
        params.get("object_name"),
    )?)
}

async fn update_object(
    State(state): State<SharedState>,
    Caller(who): Caller,
    params: WsgiParams,
    method: Method,
    headers: HeaderMap,
    wsgi::Body(bytes): wsgi::Body,
) -> Reply {
    let object = ObjectBody::read_update(body(&method, &headers, &bytes)?.as_ref())?;
    ok(objects::update(
        &state,
        &who,
        params.get("namespace"),
        params.get("object_name"),
        &object,
    )?)
}

async fn delete_object(
    State(state): State<SharedState>,
    Caller(who): Caller,
    params: WsgiParams,
) -> Reply {
    objects::delete(
        &state,
        &who,
        params.get("namespace"),
        params.get("object_name"),
    )?;
    no_content()
}

async fn list_properties(
    State(state): State<SharedState>,
    Caller(who): Caller,
    params: WsgiParams,
) -> Reply {
    ok(properties::list(&state, &who, params.get("namespace"))?)
}

async fn create_property(
    State(state): State<SharedState>,
    Caller(who): Caller,
    params: WsgiParams,
    method: Method,
    headers: HeaderMap,
    wsgi::Body(bytes): wsgi::Body,
) -> Reply {
    let property = PropertyBody::read(body(&method, &headers, &bytes)?.as_ref())?;
    Ok(created(properties::create(
        &state,
        &who,
        params.get("namespace"),
        &property,
    )?))
}

async fn delete_properties(
    State(state): State<SharedState>,
    Caller(who): Caller,
    params: WsgiParams,
) -> Reply {
    namespaces::delete_properties(&state, &who, params.get("namespace"))?;
    no_content()
}

async fn show_property(
    State(state): State<SharedState>,
    Caller(who): Caller,
    params: WsgiParams,
    RawQuery(query): RawQuery,
) -> Reply {
    ok(properties::show(
        &state,
        &who,
        params.get("namespace"),
        params.get("property_name"),
        query.as_deref().unwrap_or_default(),
    )?)
}

async fn update_property(
    State(state): State<SharedState>,
    Caller(who): Caller,
    params: WsgiParams,
    method: Method,
    headers: HeaderMap,
    wsgi::Body(bytes): wsgi::Body,
) -> Reply {
    let property = PropertyBody::read(body(&method, &headers, &bytes)?.as_ref())?;
    ok(properties::update(
        &state,
        &who,
        params.get("namespace"),
        params.get("property_name"),
        &property,
    )?)
}

async fn delete_property(
    State(state): State<SharedState>,
    Caller(who): Caller,
    params: WsgiParams,
) -> Reply {
    properties::delete(
        &state,
        &who,
        params.get("namespace"),
        params.get("property_name"),
    )?;
    no_content()
}

async fn list_tags(
    State(state): State<SharedState>,
    Caller(who): Caller,
    params: WsgiParams,
    RawQuery(query): RawQuery,
) -> Reply {
    ok(tags::list(
        &state,
        &who,
        params.get("namespace"),
        query.as_deref().unwrap_or_default(),
    )?)
}

async fn create_tags(
    State(state): State<SharedState>,
    Caller(who): Caller,
    params: WsgiParams,
    method: Method,
    headers: HeaderMap,
    wsgi::Body(bytes): wsgi::Body,
) -> Reply {
    let list = TagsBody::read(body(&method, &headers, &bytes)?.as_ref())?;
    let append = append_header(
        headers
            .get("x-openstack-append")
            .and_then(|v| v.to_str().ok()),
    );
    Ok(created(tags::create_many(
        &state,
        &who,
        params.get("namespace"),
        &list,
        append,
    )?))
}

async fn delete_tags(
    State(state): State<SharedState>,
    Caller(who): Caller,
    params: WsgiParams,
) -> Reply {
    namespaces::delete_tags(&state, &who, params.get("namespace"))?;
    no_content()
}

async fn show_tag(
    State(state): State<SharedState>,
    Caller(who): Caller,
    params: WsgiParams,
) -> Reply {
    ok(tags::show(
        &state,
        &who,
        params.get("namespace"),
        params.get("tag_name"),
    )?)
}

async fn create_tag(
    State(state): State<SharedState>,
    Caller(who): Caller,
    params: WsgiParams,
) -> Reply {
    Ok(created(tags::create(
        &state,
        &who,
        params.get("namespace"),
        params.get("tag_name"),
    )?))
}

async fn update_tag(
    State(state): State<SharedState>,
    Caller(who): Caller,
    params: WsgiParams,
    method: Method,
    headers: HeaderMap,
    wsgi::Body(bytes): wsgi::Body,
) -> Reply {
    let tag = TagBody::read(body(&method, &headers, &bytes)?.as_ref())?;
    ok(tags::update(
        &state,
        &who,
        params.get("namespace"),
        params.get("tag_name"),
        &tag,
    )?)
}

async fn delete_tag(
    State(state): State<SharedState>,
    Caller(who): Caller,
    params: WsgiParams,
) -> Reply {
    tags::delete(
        &state,
        &who,
        params.get("namespace"),
        params.get("tag_name"),
    )?;
    no_content()
}

async fn list_associations(
    State(state): State<SharedState>,
    Caller(who): Caller,
    params: WsgiParams,
) -> Reply {
    ok(app::metadefs::list_associations(
        &state,
        &who,
        params.get("namespace"),
    )?)
}

async fn create_association(
    State(state): State<SharedState>,
    Caller(who): Caller,
    params: WsgiParams,
    method: Method,
    headers: HeaderMap,
    wsgi::Body(bytes): wsgi::Body,
) -> Reply {
    let association = AssociationBody::read(body(&method, &headers, &bytes)?.as_ref())?;
    Ok(created(app::metadefs::create_association(
        &state,
        &who,
        params.get("namespace"),
        &association,
    )?))
}

async fn delete_association(
    State(state): State<SharedState>,
    Caller(who): Caller,
    params: WsgiParams,
) -> Reply {
    app::metadefs::delete_association(
        &state,
        &who,
        params.get("namespace"),
        params.get("resource_type"),
    )?;
    no_content()
}
