//! Glance's resources as one table of routes, matched by path segments:
//! what an axum `Router` did for them, without what it does that nobody
//! here reads.
//!
//! Each resource module lists its routes ([`Routes`], built as a `Router`
//! is, from a path pattern and an axum [`MethodRouter`]); [`Resources`]
//! gives them a server's state and answers requests. A request's route
//! template is put among its extensions ([`RouteTemplate`]), from which
//! the path parameters are read, as Glance's WSGI server decodes them
//! ([`super::wsgi::WsgiParams`]) or as UTF-8 ([`super::wsgi::Param`]).
//!
//! Why not axum's `Router`: for every request it percent-decoded each
//! path parameter into shared strings, recorded the matched path, looked
//! the route up by id in a SipHash map, and moved the request in and out
//! of its parts: a ninth of the mock's instructions for a
//! `GET /v2/images/{id}` (BENCHMARKS.md, section 3). Glance's own route
//! rules still run first ([`super::routes::screen`]).

use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use tower::Service;

use super::ApiState;
use super::error::ApiError;
use super::segments::{Pattern, Table};

/// Routes being listed: path patterns (`/v2/images/{id}`: a `{name}`
/// segment matches any one non-empty segment) and what answers each.
#[derive(Default)]
pub struct Routes(Vec<(String, MethodRouter<ApiState>)>);

impl std::fmt::Debug for Routes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(p, _)| p))
            .finish()
    }
}

impl Routes {
    /// No routes yet.
    pub fn new() -> Routes {
        Routes::default()
    }

    /// `methods` at `pattern`.
    pub fn route(mut self, pattern: &str, methods: MethodRouter<ApiState>) -> Routes {
        self.0.push((pattern.to_owned(), methods));
        self
    }

    /// These routes and `other`'s.
    pub fn merge(mut self, other: Routes) -> Routes {
        self.0.extend(other.0);
        self
    }
}

/// The route template a request matched (`/v2/images/{id}`), among its
/// extensions.
#[derive(Debug, Clone)]
pub struct RouteTemplate(pub Arc<str>);

/// One route with a server's state.
struct Entry {
    template: RouteTemplate,
    /// Held under a lock rather than cloned for each request: calling it
    /// takes `&mut`, only to pick the method's handler and start it, and a
    /// clone copied every method's handler (a thirtieth of a record GET).
    methods: Mutex<MethodRouter>,
}

/// The resources' routes with a server's state, filed by their resource,
/// the segment after `/v2` (a literal in every route: a test checks), and
/// in the order axum's router (matchit) prefers them: at the first
/// segment where two differ, a literal before a parameter.
pub struct Resources(Table<Entry>);

/// Which segment names the resource: `""`, `v2`, then this one.
const RESOURCE: usize = 2;

impl std::fmt::Debug for Resources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let templates = self.0.iter().map(|(_, e)| &*e.template.0);
        f.debug_list().entries(templates).finish()
    }
}

impl Resources {
    /// `routes` given `state`.
    pub fn new(routes: &Routes, state: &ApiState) -> Resources {
        let mut table = Table::new(RESOURCE);
        for (pattern, methods) in &routes.0 {
            let entry = Entry {
                template: RouteTemplate(pattern.as_str().into()),
                methods: Mutex::new(methods.clone().with_state(state.clone())),
            };
            // A route the table cannot file answers nothing (a test keeps
            // this from happening).
            table.push(Pattern::parse(pattern), entry);
        }
        // Stable: routes of the same shape keep their order.
        table.sort_by(|a, b| a.shape().cmp(&b.shape()));
        Resources(table)
    }

    fn find(&self, path: &str) -> Option<&Entry> {
        self.0.matching(path).next()
    }

    /// The answer of the route `req` matches; Glance's 404 when none does.
    pub async fn answer(&self, mut req: Request) -> Response {
        let Some(entry) = self.find(req.uri().path()) else {
            return ApiError::not_found_default().into_response();
        };
        req.extensions_mut().insert(entry.template.clone());
        let answer = {
            // Nothing panics while it is held; were it poisoned, the
            // router inside is still whole.
            let mut methods = entry.methods.lock().unwrap_or_else(PoisonError::into_inner);
            methods.call(req)
        };
        answer.await.unwrap_or_else(|never| match never {})
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::segments::MAX_SEGMENTS;
    use axum::routing::get;

    fn table() -> Resources {
        let app = Arc::new(crate::state::AppState::new(crate::Config::default()));
        let routes = Routes::new()
            .route("/v2/cache/{image_id}", get(|| async { "param" }))
            .route("/v2/cache/clean", get(|| async { "literal" }))
            .route("/v2/images", get(|| async { "images" }))
            .route("/v2/images/{id}/tags/{tag}", get(|| async { "tag" }));
        Resources::new(&routes, &ApiState::new(app))
    }

    fn found(t: &Resources, path: &str) -> Option<String> {
        t.find(path).map(|e| e.template.0.to_string())
    }

    #[test]
    fn literals_win_over_parameters_and_parameters_are_never_empty() {
        let t = table();
        assert_eq!(
            found(&t, "/v2/cache/clean").as_deref(),
            Some("/v2/cache/clean")
        );
        assert_eq!(
            found(&t, "/v2/cache/x").as_deref(),
            Some("/v2/cache/{image_id}")
        );
        assert_eq!(found(&t, "/v2/cache/"), None);
        assert_eq!(found(&t, "/v2/images").as_deref(), Some("/v2/images"));
        assert_eq!(found(&t, "/v2/images/"), None);
        assert_eq!(
            found(&t, "/v2/images/a/tags/b").as_deref(),
            Some("/v2/images/{id}/tags/{tag}")
        );
        assert_eq!(found(&t, "/v2/images//tags/b"), None);
        assert_eq!(found(&t, "/v2/images/a/tags/b/c"), None);
        assert_eq!(found(&t, &"/x".repeat(40)), None);
    }

    #[test]
    fn every_route_of_the_mock_fits_the_table() {
        for (pattern, _) in &super::super::Routers::get().resources.0 {
            let segments: Vec<&str> = pattern.split('/').collect();
            assert!(segments.len() <= MAX_SEGMENTS, "{pattern}: too long");
            // Filed by its resource: a literal, the segment after `/v2`.
            assert_eq!(segments.get(1), Some(&"v2"), "{pattern}");
            let resource = segments.get(RESOURCE).copied().unwrap_or_default();
            assert!(
                !resource.is_empty() && !resource.starts_with('{'),
                "{pattern}"
            );
        }
    }
}
