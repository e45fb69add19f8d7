//! Who is calling: a bearer token, or the session cookie with its CSRF double-submit for writes.

use crate::{ApiError, AppState};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, header};
use kefu_core::model::User;
use kefu_service::ServiceError;

pub const SESSION_COOKIE: &str = "kefu_session";
pub const CSRF_COOKIE: &str = "kefu_csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The signed-in user, with the token that proved it.
pub struct CurrentUser {
    pub user: User,
    pub token: String,
}

pub(crate) fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

pub(crate) fn bearer(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = if let Some(token) = bearer(parts) {
            token.to_string()
        } else if let Some(token) = cookie(parts, SESSION_COOKIE) {
            let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
            if !safe {
                let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
                let expected = cookie(parts, CSRF_COOKIE);
                if sent.is_none() || sent != expected {
                    return Err(ApiError::Csrf);
                }
            }
            token.to_string()
        } else {
            return Err(ServiceError::Unauthorized.into());
        };
        let user = state.service.authenticate(&token).await?;
        Ok(CurrentUser { user, token })
    }
}
