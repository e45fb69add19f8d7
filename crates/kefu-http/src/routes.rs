//! REST endpoints under `/api/v1`, plus `/healthz`, `/readyz` and the demo landing page.

use crate::auth::{CSRF_COOKIE, CurrentUser, SESSION_COOKIE};
use crate::{ApiError, AppState, MAX_BODY_BYTES};
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use kefu_core::model::*;
use kefu_service::{NewInbox, SendMessage, TransferTarget, UserChanges};
use kefu_store::ConversationFilter;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::net::SocketAddr;
use uuid::Uuid;

type ApiResult<T = Json<Value>> = Result<T, ApiError>;

/// A JSON body whose every rejection is one of our errors.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Body(v)),
            Err(JsonRejection::BytesRejection(_)) => Err(ApiError::PayloadTooLarge(MAX_BODY_BYTES)),
            Err(e) => Err(ApiError::InvalidJson(e.body_text())),
        }
    }
}

/// A query string whose rejection is one of our errors.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Query(q.0))
            .map_err(|e: QueryRejection| ApiError::InvalidQuery(e.body_text()))
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(landing))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/api/v1/auth/login", post(login))
        .route("/api/v1/auth/logout", post(logout))
        .route("/api/v1/auth/me", get(me))
        .route("/api/v1/users", get(list_users).post(create_user))
        .route("/api/v1/users/{id}", get(get_user).patch(update_user))
        .route("/api/v1/users/{id}/deactivate", post(deactivate_user))
        .route("/api/v1/teams", get(list_teams).post(create_team))
        .route(
            "/api/v1/teams/{id}",
            get(get_team).patch(rename_team).delete(delete_team),
        )
        .route(
            "/api/v1/teams/{id}/members/{user_id}",
            put(add_member).delete(remove_member),
        )
        .route("/api/v1/inboxes", get(list_inboxes).post(create_inbox))
        .route("/api/v1/inboxes/{id}", get(get_inbox).patch(update_inbox))
        .route("/api/v1/conversations", get(list_conversations))
        .route("/api/v1/conversations/{id}", get(get_conversation))
        .route(
            "/api/v1/conversations/{id}/messages",
            get(list_messages).post(send_message),
        )
        .route("/api/v1/conversations/{id}/transfer", post(transfer))
        .route("/api/v1/conversations/{id}/close", post(close))
        .route("/api/v1/conversations/{id}/reopen", post(reopen))
        .route(
            "/api/v1/contacts/{id}",
            get(get_contact).patch(update_contact),
        )
}

async fn landing(State(state): State<AppState>) -> Response {
    if !state.demo {
        return ApiError::NotFoundRoute.into_response();
    }
    Html(include_str!("landing.html")).into_response()
}

async fn healthz() -> Json<Value> {
    Json(json!({ "status": "up" }))
}

async fn readyz(State(state): State<AppState>) -> Response {
    match state.service.store().ping().await {
        Ok(()) => Json(json!({ "status": "ready" })).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check: database unreachable");
            let body = json!({ "error": { "code": "database_unavailable", "message": "the database is not reachable" } });
            (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
        }
    }
}

// ---- auth ----

#[derive(Deserialize)]
struct Login {
    email: String,
    password: String,
}

async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Body(body): Body<Login>,
) -> ApiResult<Response> {
    let (token, user) = state
        .service
        .login(&body.email, &body.password, Some(peer.ip()))
        .await?;
    let ttl = state.service.config().session_ttl.as_secs();
    let csrf = kefu_service::hash_token(&token)[..32].to_string();
    let mut headers = HeaderMap::new();
    let session =
        format!("{SESSION_COOKIE}={token}; Path=/; Max-Age={ttl}; HttpOnly; SameSite=Lax");
    let csrf_cookie = format!("{CSRF_COOKIE}={csrf}; Path=/; Max-Age={ttl}; SameSite=Lax");
    headers.append(
        header::SET_COOKIE,
        session.parse().expect("cookie is ASCII"),
    );
    headers.append(
        header::SET_COOKIE,
        csrf_cookie.parse().expect("cookie is ASCII"),
    );
    Ok((
        headers,
        Json(json!({ "token": token, "user": user, "csrf_token": csrf })),
    )
        .into_response())
}

async fn logout(State(state): State<AppState>, current: CurrentUser) -> ApiResult<Response> {
    state.service.logout(&current.token).await?;
    let mut headers = HeaderMap::new();
    let expired = format!("{SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax");
    headers.append(
        header::SET_COOKIE,
        expired.parse().expect("cookie is ASCII"),
    );
    Ok((headers, StatusCode::NO_CONTENT).into_response())
}

async fn me(current: CurrentUser) -> Json<Value> {
    Json(json!({ "user": current.user }))
}

// ---- users ----

#[derive(Deserialize)]
struct NewUser {
    email: String,
    name: String,
    password: String,
    #[serde(default = "default_role")]
    role: Role,
    capacity: Option<u32>,
}

fn default_role() -> Role {
    Role::Agent
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserPatch {
    name: Option<String>,
    role: Option<Role>,
    capacity: Option<u32>,
    active: Option<bool>,
    password: Option<String>,
}

async fn list_users(State(s): State<AppState>, c: CurrentUser) -> ApiResult {
    Ok(Json(json!({ "users": s.service.users(&c.user).await? })))
}

async fn create_user(
    State(s): State<AppState>,
    c: CurrentUser,
    Body(b): Body<NewUser>,
) -> ApiResult<Response> {
    let user = s
        .service
        .admin_create_user(&c.user, &b.email, &b.name, &b.password, b.role, b.capacity)
        .await?;
    Ok((StatusCode::CREATED, Json(json!({ "user": user }))).into_response())
}

async fn get_user(State(s): State<AppState>, c: CurrentUser, Path(id): Path<Uuid>) -> ApiResult {
    Ok(Json(json!({ "user": s.service.user(&c.user, id).await? })))
}

async fn update_user(
    State(s): State<AppState>,
    c: CurrentUser,
    Path(id): Path<Uuid>,
    Body(b): Body<UserPatch>,
) -> ApiResult {
    let changes = UserChanges {
        name: b.name,
        role: b.role,
        capacity: b.capacity,
        active: b.active,
        password: b.password,
    };
    Ok(Json(
        json!({ "user": s.service.update_user(&c.user, id, changes).await? }),
    ))
}

async fn deactivate_user(
    State(s): State<AppState>,
    c: CurrentUser,
    Path(id): Path<Uuid>,
) -> ApiResult {
    let changes = UserChanges {
        active: Some(false),
        ..Default::default()
    };
    Ok(Json(
        json!({ "user": s.service.update_user(&c.user, id, changes).await? }),
    ))
}

// ---- teams ----

#[derive(Deserialize)]
struct TeamBody {
    name: String,
}

async fn list_teams(State(s): State<AppState>, c: CurrentUser) -> ApiResult {
    Ok(Json(json!({ "teams": s.service.teams(&c.user).await? })))
}

async fn create_team(
    State(s): State<AppState>,
    c: CurrentUser,
    Body(b): Body<TeamBody>,
) -> ApiResult<Response> {
    let team = s.service.create_team(&c.user, &b.name).await?;
    Ok((StatusCode::CREATED, Json(json!({ "team": team }))).into_response())
}

async fn get_team(State(s): State<AppState>, c: CurrentUser, Path(id): Path<Uuid>) -> ApiResult {
    Ok(Json(json!({ "team": s.service.team(&c.user, id).await? })))
}

async fn rename_team(
    State(s): State<AppState>,
    c: CurrentUser,
    Path(id): Path<Uuid>,
    Body(b): Body<TeamBody>,
) -> ApiResult {
    Ok(Json(
        json!({ "team": s.service.rename_team(&c.user, id, &b.name).await? }),
    ))
}

async fn delete_team(
    State(s): State<AppState>,
    c: CurrentUser,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    s.service.delete_team(&c.user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn add_member(
    State(s): State<AppState>,
    c: CurrentUser,
    Path((id, user)): Path<(Uuid, Uuid)>,
) -> ApiResult {
    Ok(Json(
        json!({ "team": s.service.add_team_member(&c.user, id, user).await? }),
    ))
}

async fn remove_member(
    State(s): State<AppState>,
    c: CurrentUser,
    Path((id, user)): Path<(Uuid, Uuid)>,
) -> ApiResult {
    Ok(Json(
        json!({ "team": s.service.remove_team_member(&c.user, id, user).await? }),
    ))
}

// ---- inboxes ----

#[derive(Deserialize)]
struct InboxBody {
    kind: InboxKind,
    name: String,
    #[serde(default = "empty_object")]
    settings: Value,
    #[serde(default)]
    teams: Vec<Uuid>,
}

fn empty_object() -> Value {
    json!({})
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InboxPatch {
    name: Option<String>,
    settings: Option<Value>,
    teams: Option<Vec<Uuid>>,
}

async fn list_inboxes(State(s): State<AppState>, c: CurrentUser) -> ApiResult {
    Ok(Json(
        json!({ "inboxes": s.service.inboxes(&c.user).await? }),
    ))
}

async fn create_inbox(
    State(s): State<AppState>,
    c: CurrentUser,
    Body(b): Body<InboxBody>,
) -> ApiResult<Response> {
    let new = NewInbox {
        kind: b.kind,
        name: b.name,
        settings: b.settings,
        teams: b.teams,
    };
    let inbox = s.service.create_inbox(&c.user, new).await?;
    Ok((StatusCode::CREATED, Json(json!({ "inbox": inbox }))).into_response())
}

async fn get_inbox(State(s): State<AppState>, c: CurrentUser, Path(id): Path<Uuid>) -> ApiResult {
    Ok(Json(
        json!({ "inbox": s.service.inbox(&c.user, id).await? }),
    ))
}

async fn update_inbox(
    State(s): State<AppState>,
    c: CurrentUser,
    Path(id): Path<Uuid>,
    Body(b): Body<InboxPatch>,
) -> ApiResult {
    let inbox = s
        .service
        .update_inbox(
            &c.user,
            id,
            b.name.as_deref(),
            b.settings.as_ref(),
            b.teams.as_deref(),
        )
        .await?;
    Ok(Json(json!({ "inbox": inbox })))
}

// ---- conversations ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConversationQuery {
    status: Option<ConversationStatus>,
    assignee_id: Option<Uuid>,
    team_id: Option<Uuid>,
    inbox_id: Option<Uuid>,
    contact_id: Option<Uuid>,
    cursor: Option<Uuid>,
    limit: Option<u32>,
}

async fn list_conversations(
    State(s): State<AppState>,
    c: CurrentUser,
    Query(q): Query<ConversationQuery>,
) -> ApiResult {
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    let filter = ConversationFilter {
        status: q.status,
        assignee_id: q.assignee_id,
        team_id: q.team_id,
        inbox_id: q.inbox_id,
        contact_id: q.contact_id,
        before: q.cursor,
        limit,
    };
    let conversations = s.service.conversations(&c.user, filter).await?;
    let next_cursor = (conversations.len() == limit as usize)
        .then(|| conversations.last().map(|c| c.id))
        .flatten();
    Ok(Json(
        json!({ "conversations": conversations, "next_cursor": next_cursor }),
    ))
}

async fn get_conversation(
    State(s): State<AppState>,
    c: CurrentUser,
    Path(id): Path<Uuid>,
) -> ApiResult {
    Ok(Json(
        json!({ "conversation": s.service.readable_conversation(&c.user, id).await? }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MessagesQuery {
    after_seq: Option<i64>,
}

async fn list_messages(
    State(s): State<AppState>,
    c: CurrentUser,
    Path(id): Path<Uuid>,
    Query(q): Query<MessagesQuery>,
) -> ApiResult {
    let messages = s
        .service
        .agent_sync(&c.user, id, q.after_seq.unwrap_or(0))
        .await?;
    Ok(Json(json!({ "messages": messages })))
}

#[derive(Deserialize)]
struct MessageBody {
    client_id: String,
    content: String,
    #[serde(default)]
    private: bool,
}

async fn send_message(
    State(s): State<AppState>,
    c: CurrentUser,
    Path(id): Path<Uuid>,
    Body(b): Body<MessageBody>,
) -> ApiResult<Response> {
    let req = SendMessage {
        conversation_id: Some(id),
        client_id: b.client_id,
        content: b.content,
        private: b.private,
    };
    let message = s.service.agent_send(&c.user, req).await?;
    Ok((StatusCode::CREATED, Json(json!({ "message": message }))).into_response())
}

#[derive(Deserialize)]
struct TransferBody {
    to_agent_id: Option<Uuid>,
    to_team_id: Option<Uuid>,
}

async fn transfer(
    State(s): State<AppState>,
    c: CurrentUser,
    Path(id): Path<Uuid>,
    Body(b): Body<TransferBody>,
) -> ApiResult {
    let target = match (b.to_agent_id, b.to_team_id) {
        (Some(a), None) => TransferTarget::Agent(a),
        (None, Some(t)) => TransferTarget::Team(t),
        _ => {
            return Err(kefu_core::DomainError::invalid(
                "to_agent_id",
                "give exactly one of to_agent_id and to_team_id",
            )
            .into());
        }
    };
    Ok(Json(
        json!({ "conversation": s.service.transfer(&c.user, id, target).await? }),
    ))
}

async fn close(State(s): State<AppState>, c: CurrentUser, Path(id): Path<Uuid>) -> ApiResult {
    Ok(Json(
        json!({ "conversation": s.service.close(&c.user, id).await? }),
    ))
}

async fn reopen(State(s): State<AppState>, c: CurrentUser, Path(id): Path<Uuid>) -> ApiResult {
    Ok(Json(
        json!({ "conversation": s.service.reopen(&c.user, id).await? }),
    ))
}

// ---- contacts ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ContactPatch {
    name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    email: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    phone: Option<Option<String>>,
    attributes: Option<Value>,
}

/// Tells "absent" (None) from "null" (Some(None)).
fn nullable<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Ok(Some(Option::deserialize(d)?))
}

async fn get_contact(State(s): State<AppState>, c: CurrentUser, Path(id): Path<Uuid>) -> ApiResult {
    Ok(Json(
        json!({ "contact": s.service.contact(&c.user, id).await? }),
    ))
}

async fn update_contact(
    State(s): State<AppState>,
    c: CurrentUser,
    Path(id): Path<Uuid>,
    Body(b): Body<ContactPatch>,
) -> ApiResult {
    let contact = s
        .service
        .update_contact(
            &c.user,
            id,
            b.name.as_deref(),
            b.email.as_ref().map(|e| e.as_deref()),
            b.phone.as_ref().map(|p| p.as_deref()),
            b.attributes.as_ref(),
        )
        .await?;
    Ok(Json(json!({ "contact": contact })))
}
