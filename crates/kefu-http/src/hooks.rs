//! Webhooks providers call: `/hooks/{kind}/{inbox_id}`. The channel checks the call's signature before anything
//! is read; a refused signature is logged and answered 401, an unreadable body 400, and neither stores anything.

use crate::AppState;
use crate::error::ApiError;
use crate::routes::{Path, Query};
use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use kefu_channels::HookError;
use kefu_channels::sms::aliyun as sms_aliyun;
use kefu_channels::sms::twilio;
use kefu_channels::wechat::{self, Answer, HookQuery};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

/// The largest call a provider makes: a message, not a file (media are fetched through the provider's API).
const MAX_HOOK_BODY: usize = 64 * 1024;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/hooks/wechat/{inbox_id}", get(wechat_check).post(wechat_message))
        .route("/hooks/twilio_sms/{inbox_id}", post(twilio_message))
        .route("/hooks/twilio_sms/{inbox_id}/status", post(twilio_status))
        .route("/hooks/api/{inbox_id}", post(api_message))
        .route("/hooks/weibo/{inbox_id}", get(weibo_check).post(weibo_message))
        .route("/hooks/wecom/{inbox_id}", get(wecom_check).post(wecom_callback))
        .route("/hooks/aliyun_sms/{inbox_id}", post(aliyun_texts))
        .route("/hooks/aliyun_sms/{inbox_id}/report", post(aliyun_reports))
}

async fn wecom_check(
    State(s): State<AppState>,
    Path(inbox_id): Path<Uuid>,
    Query(q): Query<kefu_channels::wecom::HookQuery>,
) -> Result<Response, ApiError> {
    let inbox = s.service.wecom_inbox(inbox_id).await?;
    match kefu_channels::wecom::verify_url(&inbox, &q) {
        Ok(echo) => {
            s.service.webhook_called(&inbox.inbox, None).await?;
            Ok(plain(echo))
        }
        Err(e) => Ok(refused(inbox_id, e)),
    }
}

/// WeCom's callback only says there is something to pull: answered at once, pulled after (a crash in between
/// loses nothing — the next callback pulls from the stored cursor).
async fn wecom_callback(
    State(s): State<AppState>,
    Path(inbox_id): Path<Uuid>,
    Query(q): Query<kefu_channels::wecom::HookQuery>,
    body: Body,
) -> Result<Response, ApiError> {
    let bytes = hook_body(body).await?;
    let inbox = s.service.wecom_inbox(inbox_id).await?;
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return Ok(refused(inbox_id, HookError::BadRequest("the body is not UTF-8".into())));
    };
    match kefu_channels::wecom::callback(&inbox, &q, text) {
        Ok(token) => {
            s.service.webhook_called(&inbox.inbox, None).await?;
            if let Some(token) = token {
                let service = s.service.clone();
                tokio::spawn(async move {
                    if let Err(e) = kefu_channels::wecom::pull(&service, &inbox, &token).await {
                        tracing::warn!(inbox = %inbox.inbox.id, error = %e, "WeCom messages could not be pulled");
                    }
                });
            }
            Ok(plain("success".into()))
        }
        Err(e) => Ok(refused(inbox_id, e)),
    }
}

async fn weibo_check(
    State(s): State<AppState>,
    Path(inbox_id): Path<Uuid>,
    Query(q): Query<kefu_channels::weibo::HookQuery>,
) -> Result<Response, ApiError> {
    let inbox = s.service.weibo_inbox(inbox_id).await?;
    match kefu_channels::weibo::verify_url(&inbox, &q) {
        Ok(echo) => {
            s.service.webhook_called(&inbox.inbox, None).await?;
            Ok(plain(echo))
        }
        Err(e) => Ok(refused(inbox_id, e)),
    }
}

async fn weibo_message(
    State(s): State<AppState>,
    Path(inbox_id): Path<Uuid>,
    Query(q): Query<kefu_channels::weibo::HookQuery>,
    body: Body,
) -> Result<Response, ApiError> {
    let bytes = hook_body(body).await?;
    let inbox = s.service.weibo_inbox(inbox_id).await?;
    Ok(
        match kefu_channels::weibo::receive(&s.service, &inbox, &q, &bytes).await {
            // Weibo takes an empty answer as "no passive reply".
            Ok(()) => plain(String::new()),
            Err(e) => refused(inbox_id, e),
        },
    )
}

#[derive(Deserialize)]
struct TokenQuery {
    #[serde(default)]
    token: Option<String>,
}

fn aliyun_ok() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        sms_aliyun::PUSH_ACCEPTED,
    )
        .into_response()
}

async fn aliyun_texts(
    State(s): State<AppState>,
    Path(inbox_id): Path<Uuid>,
    Query(q): Query<TokenQuery>,
    body: Body,
) -> Result<Response, ApiError> {
    let bytes = hook_body(body).await?;
    let inbox = s.service.aliyun_inbox(inbox_id, q.token.as_deref()).await?;
    Ok(match sms_aliyun::receive(&s.service, &inbox, &bytes).await {
        Ok(()) => aliyun_ok(),
        Err(e) => refused(inbox_id, e),
    })
}

async fn aliyun_reports(
    State(s): State<AppState>,
    Path(inbox_id): Path<Uuid>,
    Query(q): Query<TokenQuery>,
    body: Body,
) -> Result<Response, ApiError> {
    let bytes = hook_body(body).await?;
    let inbox = s.service.aliyun_inbox(inbox_id, q.token.as_deref()).await?;
    Ok(match sms_aliyun::reports(&s.service, &inbox, &bytes).await {
        Ok(()) => aliyun_ok(),
        Err(e) => refused(inbox_id, e),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ApiContact {
    /// The integration's own id for the customer: one contact per inbox and id.
    id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    phone: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ApiMessage {
    /// The integration's id for the message: posting it again returns the stored one.
    id: String,
    #[serde(default)]
    content: String,
    /// Files, their bytes in base64: up to 10, each up to 10 MB.
    #[serde(default)]
    attachments: Vec<ApiFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ApiFile {
    filename: String,
    content_type: String,
    data: String,
}

/// Largest API channel call: ten files of 10 MB in base64 would not fit; 30 MB holds two, or many small ones.
const MAX_API_HOOK_BODY: usize = 30 * 1024 * 1024;
const MAX_API_FILES: usize = 10;
const MAX_API_FILE_BYTES: usize = 10 * 1024 * 1024;

/// The files of an API channel message, decoded and checked.
fn api_files(files: Vec<ApiFile>) -> Result<Vec<kefu_service::MediaFile>, ApiError> {
    use base64::Engine;
    if files.len() > MAX_API_FILES {
        return Err(kefu_core::DomainError::invalid("message.attachments", "may hold up to 10 files").into());
    }
    files
        .into_iter()
        .map(|f| {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(f.data.trim())
                .map_err(|_| kefu_core::DomainError::invalid("message.attachments.data", "must be base64"))?;
            if bytes.is_empty() || bytes.len() > MAX_API_FILE_BYTES {
                return Err(
                    kefu_core::DomainError::invalid("message.attachments.data", "must hold 1 byte to 10 MB").into(),
                );
            }
            if f.filename.trim().is_empty() || f.filename.chars().count() > 200 {
                return Err(kefu_core::DomainError::invalid(
                    "message.attachments.filename",
                    "must be 1-200 characters",
                )
                .into());
            }
            Ok(kefu_service::MediaFile {
                filename: f.filename,
                content_type: f.content_type,
                bytes,
            })
        })
        .collect()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ApiInbound {
    contact: ApiContact,
    message: ApiMessage,
}

/// A custom integration posts a customer's message, with the inbox's secret as bearer token.
async fn api_message(
    State(s): State<AppState>,
    Path(inbox_id): Path<Uuid>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| kefu_core::media::essence(t) == "application/json");
    if !json {
        return Err(ApiError::InvalidJson(
            "Expected request with `Content-Type: application/json`".into(),
        ));
    }
    let bytes = axum::body::to_bytes(body, MAX_API_HOOK_BODY)
        .await
        .map_err(|_| ApiError::PayloadTooLarge(MAX_API_HOOK_BODY))?;
    let body: ApiInbound = serde_json::from_slice(&bytes).map_err(|e| ApiError::InvalidJson(e.to_string()))?;
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let inbox = s.service.api_inbox(inbox_id, bearer).await?;
    let field = |name: &'static str, v: &str| {
        let v = v.trim();
        if v.is_empty() || v.len() > 128 {
            Err(ApiError::from(kefu_core::DomainError::invalid(
                name,
                "must be 1-128 characters",
            )))
        } else {
            Ok(v.to_string())
        }
    };
    let contact_id = field("contact.id", &body.contact.id)?;
    let message_key = field("message.id", &body.message.id)?;
    let email = body
        .contact
        .email
        .as_deref()
        .filter(|e| !e.trim().is_empty())
        .map(kefu_core::validate::email)
        .transpose()?;
    let phone = body
        .contact
        .phone
        .as_deref()
        .filter(|p| !p.trim().is_empty())
        .map(kefu_core::validate::phone)
        .transpose()?;
    let files = api_files(body.message.attachments)?;
    // A message of files alone is named by them.
    let content = match body.message.content.trim() {
        "" => files.iter().map(|f| f.filename.as_str()).collect::<Vec<_>>().join(", "),
        _ => body.message.content,
    };
    s.service.webhook_called(&inbox, None).await?;
    let inbound = kefu_service::ChannelInbound {
        external_user_id: contact_id,
        name: body.contact.name,
        message_key,
        content,
        phone,
        email,
        files,
    };
    let message = s.service.channel_received(&inbox, inbound).await?;
    Ok((StatusCode::CREATED, axum::Json(json!({ "message": message }))).into_response())
}

/// The URL the provider called, as it signed it: behind a proxy, the scheme and host it was given.
fn called_url(headers: &HeaderMap, uri: &Uri) -> String {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(',').next().unwrap_or(v).trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let scheme = header("x-forwarded-proto").unwrap_or_else(|| "http".into());
    let host = header("x-forwarded-host")
        .or_else(|| header("host"))
        .unwrap_or_else(|| "localhost".into());
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    format!("{scheme}://{host}{path}")
}

fn twiml(text: &'static str) -> Response {
    ([(header::CONTENT_TYPE, "text/xml; charset=utf-8")], text).into_response()
}

/// The signed form of a Twilio call, or the response refusing it.
async fn twilio_call(
    s: &AppState,
    inbox_id: Uuid,
    headers: &HeaderMap,
    uri: &Uri,
    body: Body,
) -> Result<Result<(kefu_service::TwilioInbox, String, Vec<(String, String)>), Response>, ApiError> {
    let bytes = hook_body(body).await?;
    let inbox = s.service.twilio_inbox(inbox_id).await?;
    let url = called_url(headers, uri);
    let given = headers.get("x-twilio-signature").and_then(|v| v.to_str().ok());
    Ok(match twilio::verified(&inbox, &url, &bytes, given) {
        Ok(params) => Ok((inbox, url, params)),
        Err(e) => Err(refused(inbox_id, e)),
    })
}

async fn twilio_message(
    State(s): State<AppState>,
    Path(inbox_id): Path<Uuid>,
    headers: HeaderMap,
    uri: Uri,
    body: Body,
) -> Result<Response, ApiError> {
    let (inbox, url, params) = match twilio_call(&s, inbox_id, &headers, &uri, body).await? {
        Ok(call) => call,
        Err(response) => return Ok(response),
    };
    Ok(match twilio::receive(&s.service, &inbox, &url, &params).await {
        Ok(()) => twiml(twilio::EMPTY_TWIML),
        Err(e) => refused(inbox_id, e),
    })
}

async fn twilio_status(
    State(s): State<AppState>,
    Path(inbox_id): Path<Uuid>,
    headers: HeaderMap,
    uri: Uri,
    body: Body,
) -> Result<Response, ApiError> {
    let (inbox, _, params) = match twilio_call(&s, inbox_id, &headers, &uri, body).await? {
        Ok(call) => call,
        Err(response) => return Ok(response),
    };
    Ok(match twilio::status(&s.service, &inbox, &params).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => refused(inbox_id, e),
    })
}

fn plain(text: String) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response()
}

/// A provider's call, read up to the size of a message (files are fetched apart through the provider's API).
async fn hook_body(body: Body) -> Result<axum::body::Bytes, ApiError> {
    axum::body::to_bytes(body, MAX_HOOK_BODY)
        .await
        .map_err(|_| ApiError::PayloadTooLarge(MAX_HOOK_BODY))
}

fn refused(inbox: Uuid, e: HookError) -> Response {
    let (status, code) = match &e {
        HookError::BadSignature(_) => {
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
            s.service.webhook_called(&inbox.inbox, None).await?;
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
    let bytes = hook_body(body).await?;
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
