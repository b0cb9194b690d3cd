//! Placeholder: routes of this resource arrive with the images API work.

use axum::Router;

use super::SharedState;

/// Routes of this resource.
pub fn router() -> Router<SharedState> {
    Router::new()
}
