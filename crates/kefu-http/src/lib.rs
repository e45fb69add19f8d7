//! Kefu's HTTP adapter: the REST API under `/api/v1`, health probes, and the one router that also carries
//! Socket.IO, so everything is served on one port.

mod auth;
mod error;
mod routes;

pub use error::ApiError;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue};
use kefu_service::Service;
use socketioxide::layer::SocketIoLayer;
use tower_http::request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

/// Largest JSON body the API accepts.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub service: Service,
    /// When set, `/` serves the demo landing page.
    pub demo: bool,
}

/// The whole HTTP surface: REST, health, and Socket.IO at `/socket.io/`.
pub fn router(state: AppState, socket_io: SocketIoLayer) -> Router {
    let (api, doc) = routes::router();
    api.merge(utoipa_swagger_ui::SwaggerUi::new("/api/docs").url("/api/openapi.json", doc))
        .fallback(|| async { ApiError::NotFoundRoute })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
        .layer(PropagateRequestIdLayer::new(REQUEST_ID.clone()))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
                let id = req
                    .headers()
                    .get(&REQUEST_ID)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
            }),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID.clone(), NewRequestId))
        .layer(socket_io)
}

static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Every request gets an id (kept if the client or a proxy sent one), logged with its errors and echoed back.
#[derive(Clone, Copy)]
struct NewRequestId;

impl MakeRequestId for NewRequestId {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        HeaderValue::from_str(&uuid::Uuid::now_v7().to_string())
            .ok()
            .map(RequestId::new)
    }
}
