//! Webhooks providers call: `/hooks/{kind}/{inbox_id}`. The channel checks the call's signature before anything
//! is read; a refused signature is logged and answered 401, an unreadable body 400, and neither stores anything.

use crate::AppState;
use crate::error::ApiError;
use crate::routes::{Path, Query};
use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use kefu_channels::wechat::{self, Answer, HookError, HookQuery};
use serde_json::json;
use uuid::Uuid;

/// The largest call a provider makes: a message, not a file (media are fetched through the provider's API).
const MAX_HOOK_BODY: usize = 64 * 1024;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/hooks/wechat/{inbox_id}", get(wechat_check).post(wechat_message))
}

fn plain(text: String) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response()
}

fn refused(inbox: Uuid, e: HookError) -> Response {
    let (status, code) = match &e {
        HookError::BadSignature => {
            tracing::warn!(%inbox, "webhook call refused: bad signature");
            (StatusCode::UNAUTHORIZED, "bad_signature")
        }
        HookError::BadRequest(reason) => {
            tracing::warn!(%inbox, %reason, "webhook call refused: unreadable");
            (StatusCode::BAD_REQUEST, "bad_request")
        }
        HookError::Service(_) => {
            let HookError::Service(e) = e else { unreachable!() };
            return ApiError::Service(e).into_response();
        }
    };
    (
        status,
        axum::Json(json!({ "error": { "code": code, "message": e.to_string() } })),
    )
        .into_response()
}

async fn wechat_check(
    State(s): State<AppState>,
    Path(inbox_id): Path<Uuid>,
    Query(q): Query<HookQuery>,
) -> Result<Response, ApiError> {
    let inbox = s.service.wechat_inbox(inbox_id).await?;
    match wechat::verify_url(&inbox, &q) {
        Ok(echo) => {
            s.service.webhook_called(&inbox.inbox).await?;
            Ok(plain(echo))
        }
        Err(e) => Ok(refused(inbox_id, e)),
    }
}

async fn wechat_message(
    State(s): State<AppState>,
    Path(inbox_id): Path<Uuid>,
    Query(q): Query<HookQuery>,
    body: Body,
) -> Result<Response, ApiError> {
    let bytes = axum::body::to_bytes(body, MAX_HOOK_BODY)
        .await
        .map_err(|_| ApiError::PayloadTooLarge(MAX_HOOK_BODY))?;
    let inbox = s.service.wechat_inbox(inbox_id).await?;
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return Ok(refused(inbox_id, HookError::BadRequest("the body is not UTF-8".into())));
    };
    match wechat::receive(&s.service, &inbox, &q, text).await {
        Ok(Answer::Success) => Ok(plain("success".into())),
        Ok(Answer::Xml(xml)) => Ok(([(header::CONTENT_TYPE, "application/xml; charset=utf-8")], xml).into_response()),
        Err(e) => Ok(refused(inbox_id, e)),
    }
}
