//! Kefu's HTTP adapter: the REST API under `/api/v1`, health probes, and the one router that also carries
//! Socket.IO, so everything is served on one port.

mod auth;
mod client_ip;
mod error;
mod forms;
mod hooks;
mod routes;
mod tickets;
mod webhooks;

pub use client_ip::TrustedProxies;
pub use error::ApiError;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue};
use kefu_service::Service;
use socketioxide::adapter::Adapter;
use socketioxide::layer::SocketIoLayer;
use tower_http::request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

/// Largest JSON body the API accepts.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub service: Service,
    /// In demo mode, the widget token of the inbox the demo page at `/` embeds.
    pub demo_widget_token: Option<String>,
    /// False while this node cannot hear the other nodes of its cluster (Redis lost): `/readyz` answers 503.
    pub realtime_ready: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// Load balancers whose `X-Forwarded-For` names the client (`KEFU_TRUSTED_PROXIES`).
    pub trusted_proxies: TrustedProxies,
}

/// The whole HTTP surface: REST, health, and Socket.IO at `/socket.io/`.
pub fn router<A: Adapter>(state: AppState, socket_io: SocketIoLayer<A>) -> Router {
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
        .layer(tower::util::MapRequestLayer::new(detach_socket_request))
}

/// Socket.IO keeps each connection's request head (headers, URI) for the connection's lifetime. As parsed by
/// hyper, those share one allocation with the whole HTTP read buffer (8-16 KiB), which a long-lived WebSocket
/// would then keep alive. Copying the head into allocations of its own lets that buffer go: it is the largest
/// part of an idle connection's memory.
fn detach_socket_request(mut req: axum::http::Request<axum::body::Body>) -> axum::http::Request<axum::body::Body> {
    if !req.uri().path().starts_with("/socket.io") {
        return req;
    }
    let headers = std::mem::take(req.headers_mut());
    let mut own = axum::http::HeaderMap::with_capacity(headers.len());
    for (name, value) in &headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_str().as_bytes()),
            HeaderValue::from_bytes(value.as_bytes()),
        ) {
            own.append(name, value);
        }
    }
    *req.headers_mut() = own;
    if let Ok(uri) = req.uri().to_string().parse() {
        *req.uri_mut() = uri;
    }
    req
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
