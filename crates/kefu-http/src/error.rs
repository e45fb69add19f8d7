//! The API's error type, mapped once to `{"error": {"code", "message"}}` and a status. Internal details are
//! logged with the request, never sent.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kefu_service::ServiceError;
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Service(#[from] ServiceError),
    #[error("the request body is not valid JSON for this endpoint: {0}")]
    InvalidJson(String),
    #[error("the request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    #[error("{0}")]
    InvalidQuery(String),
    #[error("{0}")]
    InvalidPath(String),
    #[error("no such endpoint")]
    NotFoundRoute,
    #[error("the CSRF token is missing or wrong")]
    Csrf,
}

impl ApiError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::Service(e) => {
                let status = match e {
                    ServiceError::Domain(_) | ServiceError::MediaNotSupported(_) => StatusCode::UNPROCESSABLE_ENTITY,
                    ServiceError::NotFound(_) => StatusCode::NOT_FOUND,
                    ServiceError::Forbidden(_) => StatusCode::FORBIDDEN,
                    ServiceError::Unauthorized | ServiceError::BadCredentials => StatusCode::UNAUTHORIZED,
                    ServiceError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
                    ServiceError::Conflict(_) | ServiceError::ReplyWindowClosed(_) => StatusCode::CONFLICT,
                    ServiceError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
                };
                (status, e.code())
            }
            ApiError::InvalidJson(_) => (StatusCode::BAD_REQUEST, "invalid_json"),
            ApiError::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            ApiError::InvalidQuery(_) => (StatusCode::BAD_REQUEST, "invalid_query"),
            ApiError::InvalidPath(_) => (StatusCode::BAD_REQUEST, "invalid_path"),
            ApiError::NotFoundRoute => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Csrf => (StatusCode::FORBIDDEN, "csrf"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let message = match &self {
            ApiError::Service(ServiceError::Internal(source)) => {
                tracing::error!(error = %source, "internal error");
                "internal error".to_string()
            }
            other => other.to_string(),
        };
        let mut response = (status, Json(json!({ "error": { "code": code, "message": message } }))).into_response();
        if let ApiError::Service(ServiceError::RateLimited { retry_after_secs }) = self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        response
    }
}

impl From<kefu_core::DomainError> for ApiError {
    fn from(e: kefu_core::DomainError) -> Self {
        ApiError::Service(e.into())
    }
}
