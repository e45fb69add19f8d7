//! Kefu's HTTP adapter: the REST API under `/api/v1`, health probes, and the one router that also carries
//! Socket.IO, so everything is served on one port.

mod auth;
mod error;
mod routes;

pub use error::ApiError;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use kefu_service::Service;
use socketioxide::layer::SocketIoLayer;

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
    routes::router()
        .fallback(|| async { ApiError::NotFoundRoute })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
        .layer(socket_io)
}
