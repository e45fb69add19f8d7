//! REST endpoints under `/api/v1`, plus `/healthz`, `/readyz` and the demo landing page. Each handler carries
//! its OpenAPI description, and the router is built from those descriptions, so the document cannot drift.

use crate::auth::{CSRF_COOKIE, CurrentUser, SESSION_COOKIE};
use crate::client_ip::ClientIp;
use crate::{ApiError, AppState, MAX_BODY_BYTES};
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::{Json, Router};
use kefu_core::model::*;
use kefu_service::{NewInbox, SendMessage, TransferTarget, UserChanges};
use kefu_store::ConversationFilter;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub(crate) type ApiResult<T> = Result<T, ApiError>;

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
    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Query(q.0))
            .map_err(|e: QueryRejection| ApiError::InvalidQuery(e.body_text()))
    }
}

/// Path parameters whose rejection is one of our errors.
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Path(p.0))
            .map_err(|e: PathRejection| ApiError::InvalidPath(e.body_text()))
    }
}

// ---- the OpenAPI document ----

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Kefu REST API",
        description = "Kefu 客服: self-hosted omnichannel customer support. Authenticate with `POST /api/v1/auth/login`, \
            then send `Authorization: Bearer <token>` (or use the session cookie plus `X-CSRF-Token` for writes). \
            Errors are `{\"error\": {\"code\", \"message\"}}` with a stable code. Real-time events: docs/realtime.md."
    ),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags(
        (name = "auth", description = "Sessions"),
        (name = "users", description = "Agents, supervisors and admins"),
        (name = "teams", description = "Skill groups"),
        (name = "inboxes", description = "Where customers reach you"),
        (name = "conversations", description = "Conversations and their messages"),
        (name = "contacts", description = "Customers"),
        (name = "canned_replies", description = "Ready-made answers, shared and personal"),
        (name = "tickets", description = "Tickets, their history and SLA policies"),
        (name = "webhooks", description = "Outbound webhooks: subscriptions to events, signed deliveries, the log"),
        (name = "health", description = "Probes"),
    )
)]
struct ApiDoc;

/// The API's routes and its OpenAPI document, built from the same handler descriptions.
pub fn router() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let api = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me, update_me))
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, update_user))
        .routes(routes!(deactivate_user))
        .routes(routes!(list_teams, create_team))
        .routes(routes!(get_team, rename_team, delete_team))
        .routes(routes!(add_member, remove_member))
        .routes(routes!(list_inboxes, create_inbox))
        .routes(routes!(get_inbox, update_inbox))
        .routes(routes!(rotate_identity_secret))
        .routes(routes!(list_conversations))
        .routes(routes!(get_conversation))
        .routes(routes!(get_reply_window))
        .routes(routes!(list_messages, send_message))
        .routes(routes!(transfer))
        .routes(routes!(close))
        .routes(routes!(reopen))
        .routes(routes!(get_contact, update_contact))
        .routes(routes!(search_contacts))
        .routes(routes!(get_person, merge_person, unlink_person))
        .routes(routes!(get_attachment))
        .routes(routes!(send_file))
        .routes(routes!(get_mail_html))
        .routes(routes!(get_mail_source))
        .routes(routes!(widget_config))
        .routes(routes!(list_canned_replies, create_canned_reply))
        .routes(routes!(update_canned_reply, delete_canned_reply));
    let (api, doc) = crate::webhooks::routes(crate::forms::routes(crate::tickets::routes(api))).split_for_parts();
    let api = api
        .route("/", axum::routing::get(landing))
        .route("/widget.js", axum::routing::get(web_asset))
        .route("/widget", axum::routing::get(web_asset))
        .route("/widget/", axum::routing::get(web_asset))
        .route("/widget/{*path}", axum::routing::get(web_asset))
        .route("/forms/{token}", axum::routing::get(crate::forms::page))
        .route("/media/{id}", axum::routing::get(linked_media))
        .route(
            "/app",
            axum::routing::get(|| async { axum::response::Redirect::permanent("/app/") }),
        )
        .route("/app/", axum::routing::get(web_asset))
        .route("/app/{*path}", axum::routing::get(web_asset))
        .merge(crate::hooks::routes());
    (api, doc)
}

// ---- bodies ----

#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, snake_case: clients may rely on it.
    code: String,
    /// For people; may change between versions.
    message: String,
}

#[derive(Serialize, ToSchema)]
pub struct Status {
    status: String,
}

#[derive(Serialize, ToSchema)]
pub struct LoginResult {
    /// Bearer token for `Authorization: Bearer ...` and the `/agent` Socket.IO namespace.
    token: String,
    user: User,
    /// Send as `X-CSRF-Token` on writes authenticated by the session cookie.
    csrf_token: String,
}

#[derive(Serialize, ToSchema)]
pub struct UserBody {
    user: User,
}

#[derive(Serialize, ToSchema)]
pub struct UsersBody {
    users: Vec<User>,
}

#[derive(Serialize, ToSchema)]
pub struct TeamBody {
    team: Team,
}

#[derive(Serialize, ToSchema)]
pub struct TeamsBody {
    teams: Vec<Team>,
}

#[derive(Serialize, ToSchema)]
pub struct InboxBody {
    inbox: Inbox,
}

#[derive(Serialize, ToSchema)]
pub struct InboxesBody {
    inboxes: Vec<Inbox>,
}

#[derive(Serialize, ToSchema)]
pub struct ConversationBody {
    conversation: Conversation,
}

#[derive(Serialize, ToSchema)]
pub struct ConversationPage {
    conversations: Vec<Conversation>,
    /// Pass as `cursor` for the next (older) page; null on the last page.
    next_cursor: Option<Uuid>,
}

#[derive(Serialize, ToSchema)]
pub struct MessageBody {
    message: Message,
}

#[derive(Serialize, ToSchema)]
pub struct MessagesBody {
    messages: Vec<Message>,
    /// Everything up to this seq has been returned (`sync` semantics); when 1000 messages came back, ask again
    /// with `after_seq` set to it.
    #[serde(skip_serializing_if = "Option::is_none")]
    up_to_seq: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct ContactBody {
    contact: Contact,
}

#[derive(Deserialize)]
pub struct DemoQuery {
    transports: Option<String>,
    lang: Option<String>,
}

/// The demo page: a stand-in for a customer's website, with the widget embedded the way a site would embed it.
/// `?transports=polling` and `?lang=zh-CN|en` are passed on to the widget.
async fn landing(State(state): State<AppState>, Query(q): Query<DemoQuery>) -> Response {
    let Some(token) = state.demo_widget_token.as_deref() else {
        return ApiError::NotFoundRoute.into_response();
    };
    let mut attributes = String::new();
    if q.transports.as_deref() == Some("polling") {
        attributes.push_str(r#" data-transports="polling""#);
    }
    if let Some(lang @ ("zh-CN" | "en")) = q.lang.as_deref() {
        attributes.push_str(&format!(r#" data-lang="{lang}""#));
    }
    // The token is made of URL-safe base64 characters only, so it cannot break out of the attribute.
    let tag = format!(r#"<script src="/widget.js" data-token="{token}"{attributes} async></script>"#);
    Html(include_str!("landing.html").replace("<!-- widget -->", &tag)).into_response()
}

/// The widget loader and the widget's chat page, built from web/ and embedded in the binary.
async fn web_asset(uri: axum::http::Uri) -> Response {
    let path = uri.path().trim_start_matches('/');
    let path = match path {
        "widget" | "widget/" => "widget/index.html",
        "app/" => "app/index.html",
        other => other,
    };
    // The workspace routes in the browser: any page of it that is not a file is its index, so a reload or a
    // bookmarked /app/conversations/… opens the app. A missing file under assets/ stays a 404.
    let asset = kefu_web::asset(path).or_else(|| {
        (path.starts_with("app/") && !path.starts_with("app/assets/"))
            .then(|| kefu_web::asset("app/index.html"))
            .flatten()
    });
    match asset {
        Some(asset) => (
            [
                (header::CONTENT_TYPE, asset.content_type),
                (header::CACHE_CONTROL, asset.cache_control),
            ],
            asset.body,
        )
            .into_response(),
        None => ApiError::NotFoundRoute.into_response(),
    }
}

#[utoipa::path(get, path = "/healthz", tag = "health", security(()),
    responses((status = 200, description = "The process is up", body = Status)))]
async fn healthz() -> Json<Status> {
    Json(Status { status: "up".into() })
}

#[utoipa::path(get, path = "/readyz", tag = "health", security(()), responses(
    (status = 200, description = "The database answers, and Redis carries the other nodes' pushes", body = Status),
    (status = 503, description = "The database is unreachable (`database_unavailable`), or this node no longer \
        hears the other nodes through Redis (`realtime_unavailable`)", body = ErrorBody)))]
async fn readyz(State(state): State<AppState>) -> Response {
    if !state.realtime_ready.load(std::sync::atomic::Ordering::Relaxed) {
        let body = json!({ "error": { "code": "realtime_unavailable",
            "message": "this node no longer hears the other nodes through Redis; it will restart" } });
        return (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response();
    }
    match state.service.store().ping().await {
        Ok(()) => Json(Status { status: "ready".into() }).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check: database unreachable");
            let body =
                json!({ "error": { "code": "database_unavailable", "message": "the database is not reachable" } });
            (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
        }
    }
}

// ---- auth ----

#[derive(Deserialize, ToSchema)]
pub struct Login {
    email: String,
    password: String,
}

#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", security(()), request_body = Login, responses(
    (status = 200, description = "Signed in; also sets the session and CSRF cookies", body = LoginResult),
    (status = 401, description = "Wrong email or password (`bad_credentials`)", body = ErrorBody),
    (status = 429, description = "Too many failed attempts for this account or address (`rate_limited`)", body = ErrorBody)))]
async fn login(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    Body(body): Body<Login>,
) -> ApiResult<Response> {
    let (token, user) = state.service.login(&body.email, &body.password, Some(client)).await?;
    let ttl = state.service.config().session_ttl.as_secs();
    let csrf = kefu_service::hash_token(&token)[..32].to_string();
    let mut headers = HeaderMap::new();
    let session = format!("{SESSION_COOKIE}={token}; Path=/; Max-Age={ttl}; HttpOnly; SameSite=Lax");
    let csrf_cookie = format!("{CSRF_COOKIE}={csrf}; Path=/; Max-Age={ttl}; SameSite=Lax");
    headers.append(header::SET_COOKIE, session.parse().expect("cookie is ASCII"));
    headers.append(header::SET_COOKIE, csrf_cookie.parse().expect("cookie is ASCII"));
    Ok((
        headers,
        Json(LoginResult {
            token,
            user,
            csrf_token: csrf,
        }),
    )
        .into_response())
}

#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", responses(
    (status = 204, description = "The session is revoked"),
    (status = 401, description = "Not signed in", body = ErrorBody)))]
async fn logout(State(state): State<AppState>, current: CurrentUser) -> ApiResult<Response> {
    state.service.logout(&current.token).await?;
    let mut headers = HeaderMap::new();
    let expired = format!("{SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax");
    headers.append(header::SET_COOKIE, expired.parse().expect("cookie is ASCII"));
    Ok((headers, StatusCode::NO_CONTENT).into_response())
}

#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth", responses(
    (status = 200, description = "The signed-in user", body = UserBody),
    (status = 401, description = "Not signed in", body = ErrorBody)))]
async fn me(current: CurrentUser) -> Json<UserBody> {
    Json(UserBody { user: current.user })
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MePatch {
    /// The workspace language: `zh-CN` or `en`; `null` follows the browser.
    locale: Option<String>,
}

#[utoipa::path(patch, path = "/api/v1/auth/me", tag = "auth", request_body = MePatch, responses(
    (status = 200, description = "The signed-in user, changed", body = UserBody),
    (status = 422, description = "An unknown language (`invalid_input`)", body = ErrorBody)))]
async fn update_me(State(s): State<AppState>, c: CurrentUser, Body(b): Body<MePatch>) -> ApiResult<Json<UserBody>> {
    Ok(Json(UserBody {
        user: s.service.set_locale(&c.user, b.locale.as_deref()).await?,
    }))
}

// ---- users ----

#[derive(Deserialize, ToSchema)]
pub struct NewUser {
    email: String,
    name: String,
    /// At least 8 characters.
    password: String,
    #[serde(default = "default_role")]
    #[schema(default = "agent")]
    role: Role,
    /// Open conversations at once (0..1000, default 5).
    capacity: Option<u32>,
}

fn default_role() -> Role {
    Role::Agent
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    name: Option<String>,
    role: Option<Role>,
    capacity: Option<u32>,
    active: Option<bool>,
    password: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/users", tag = "users", responses(
    (status = 200, description = "Everyone in the organisation", body = UsersBody)))]
async fn list_users(State(s): State<AppState>, c: CurrentUser) -> ApiResult<Json<UsersBody>> {
    Ok(Json(UsersBody {
        users: s.service.users(&c.user).await?,
    }))
}

#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = NewUser, responses(
    (status = 201, description = "Created", body = UserBody),
    (status = 403, description = "Admins only", body = ErrorBody),
    (status = 409, description = "The email is taken", body = ErrorBody),
    (status = 422, description = "A field is invalid", body = ErrorBody)))]
async fn create_user(State(s): State<AppState>, c: CurrentUser, Body(b): Body<NewUser>) -> ApiResult<Response> {
    let user = s
        .service
        .admin_create_user(&c.user, &b.email, &b.name, &b.password, b.role, b.capacity)
        .await?;
    Ok((StatusCode::CREATED, Json(UserBody { user })).into_response())
}

#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", params(("id" = Uuid, Path)), responses(
    (status = 200, description = "The user", body = UserBody),
    (status = 404, description = "No such user here", body = ErrorBody)))]
async fn get_user(State(s): State<AppState>, c: CurrentUser, Path(id): Path<Uuid>) -> ApiResult<Json<UserBody>> {
    Ok(Json(UserBody {
        user: s.service.user(&c.user, id).await?,
    }))
}

#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", params(("id" = Uuid, Path)), request_body = UserPatch,
    responses(
    (status = 200, description = "Updated; deactivation or a new password ends the user's sessions", body = UserBody),
    (status = 403, description = "Admins only; an admin cannot deactivate or demote themselves", body = ErrorBody),
    (status = 404, description = "No such user here", body = ErrorBody)))]
async fn update_user(
    State(s): State<AppState>,
    c: CurrentUser,
    Path(id): Path<Uuid>,
    Body(b): Body<UserPatch>,
) -> ApiResult<Json<UserBody>> {
    let changes = UserChanges {
        name: b.name,
        role: b.role,
        capacity: b.capacity,
        active: b.active,
        password: b.password,
    };
    Ok(Json(UserBody {
        user: s.service.update_user(&c.user, id, changes).await?,
    }))
}

#[utoipa::path(post, path = "/api/v1/users/{id}/deactivate", tag = "users", params(("id" = Uuid, Path)), responses(
    (status = 200, description = "Deactivated: sessions end, open conversations return to the queue", body = UserBody),
    (status = 403, description = "Admins only", body = ErrorBody)))]
async fn deactivate_user(State(s): State<AppState>, c: CurrentUser, Path(id): Path<Uuid>) -> ApiResult<Json<UserBody>> {
    let changes = UserChanges {
        active: Some(false),
        ..Default::default()
    };
    Ok(Json(UserBody {
        user: s.service.update_user(&c.user, id, changes).await?,
    }))
}

// ---- teams ----

#[derive(Deserialize, ToSchema)]
pub struct TeamName {
    name: String,
}

#[utoipa::path(get, path = "/api/v1/teams", tag = "teams", responses((status = 200, description = "All teams", body = TeamsBody)))]
async fn list_teams(State(s): State<AppState>, c: CurrentUser) -> ApiResult<Json<TeamsBody>> {
    Ok(Json(TeamsBody {
        teams: s.service.teams(&c.user).await?,
    }))
}

#[utoipa::path(post, path = "/api/v1/teams", tag = "teams", request_body = TeamName, responses(
    (status = 201, description = "Created", body = TeamBody),
    (status = 409, description = "A team with this name exists", body = ErrorBody)))]
async fn create_team(State(s): State<AppState>, c: CurrentUser, Body(b): Body<TeamName>) -> ApiResult<Response> {
    let team = s.service.create_team(&c.user, &b.name).await?;
    Ok((StatusCode::CREATED, Json(TeamBody { team })).into_response())
}

#[utoipa::path(get, path = "/api/v1/teams/{id}", tag = "teams", params(("id" = Uuid, Path)), responses(
    (status = 200, description = "The team with its members", body = TeamBody)))]
async fn get_team(State(s): State<AppState>, c: CurrentUser, Path(id): Path<Uuid>) -> ApiResult<Json<TeamBody>> {
    Ok(Json(TeamBody {
        team: s.service.team(&c.user, id).await?,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamPatch {
    name: Option<String>,
    /// The working hours the team's tickets count their SLA targets in (the widget's working-hours format);
    /// `null` counts around the clock.
    #[serde(default, deserialize_with = "crate::tickets::present")]
    #[schema(value_type = Option<Object>)]
    business_hours: Option<Option<kefu_core::widget::WorkingHours>>,
}

#[utoipa::path(patch, path = "/api/v1/teams/{id}", tag = "teams", params(("id" = Uuid, Path)), request_body = TeamPatch,
    responses((status = 200, description = "Changed", body = TeamBody),
    (status = 422, description = "An invalid name or working hours (`invalid_input`)", body = ErrorBody)))]
async fn rename_team(
    State(s): State<AppState>,
    c: CurrentUser,
    Path(id): Path<Uuid>,
    Body(b): Body<TeamPatch>,
) -> ApiResult<Json<TeamBody>> {
    // Checked before anything is written, so a bad request changes nothing.
    if let Some(Some(hours)) = &b.business_hours {
        hours.check_as("business_hours")?;
    }
    let mut team = None;
    if let Some(name) = &b.name {
        team = Some(s.service.rename_team(&c.user, id, name).await?);
    }
    if let Some(hours) = &b.business_hours {
        team = Some(s.service.set_team_business_hours(&c.user, id, hours.as_ref()).await?);
    }
    let team = match team {
        Some(t) => t,
        None => s.service.team(&c.user, id).await?,
    };
    Ok(Json(TeamBody { team }))
}

#[utoipa::path(delete, path = "/api/v1/teams/{id}", tag = "teams", params(("id" = Uuid, Path)), responses(
    (status = 204, description = "Deleted; its conversations fall back to their inbox's teams")))]
async fn delete_team(State(s): State<AppState>, c: CurrentUser, Path(id): Path<Uuid>) -> ApiResult<StatusCode> {
    s.service.delete_team(&c.user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(put, path = "/api/v1/teams/{id}/members/{user_id}", tag = "teams",
    params(("id" = Uuid, Path), ("user_id" = Uuid, Path)),
    responses((status = 200, description = "The user is a member", body = TeamBody)))]
async fn add_member(
    State(s): State<AppState>,
    c: CurrentUser,
    Path((id, user)): Path<(Uuid, Uuid)>,
) -> ApiResult<Json<TeamBody>> {
    Ok(Json(TeamBody {
        team: s.service.add_team_member(&c.user, id, user).await?,
    }))
}

#[utoipa::path(delete, path = "/api/v1/teams/{id}/members/{user_id}", tag = "teams",
    params(("id" = Uuid, Path), ("user_id" = Uuid, Path)),
    responses((status = 200, description = "The user left the team", body = TeamBody)))]
async fn remove_member(
    State(s): State<AppState>,
    c: CurrentUser,
    Path((id, user)): Path<(Uuid, Uuid)>,
) -> ApiResult<Json<TeamBody>> {
    Ok(Json(TeamBody {
        team: s.service.remove_team_member(&c.user, id, user).await?,
    }))
}

// ---- inboxes ----

#[derive(Deserialize, ToSchema)]
pub struct NewInboxBody {
    kind: InboxKind,
    name: String,
    /// Free-form settings the widget reads.
    #[serde(default = "empty_object")]
    #[schema(value_type = Object)]
    settings: Value,
    /// Teams that answer this inbox; none means every agent.
    #[serde(default)]
    teams: Vec<Uuid>,
}

fn empty_object() -> Value {
    json!({})
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InboxPatch {
    name: Option<String>,
    #[schema(value_type = Option<Object>)]
    settings: Option<Value>,
    teams: Option<Vec<Uuid>>,
}

#[utoipa::path(get, path = "/api/v1/inboxes", tag = "inboxes", responses(
    (status = 200, description = "All inboxes; web inboxes carry their widget_token", body = InboxesBody)))]
async fn list_inboxes(State(s): State<AppState>, c: CurrentUser) -> ApiResult<Json<InboxesBody>> {
    Ok(Json(InboxesBody {
        inboxes: s.service.inboxes(&c.user).await?,
    }))
}

#[utoipa::path(post, path = "/api/v1/inboxes", tag = "inboxes", request_body = NewInboxBody, responses(
    (status = 201, description = "Created", body = InboxBody),
    (status = 403, description = "Admins only", body = ErrorBody)))]
async fn create_inbox(State(s): State<AppState>, c: CurrentUser, Body(b): Body<NewInboxBody>) -> ApiResult<Response> {
    let new = NewInbox {
        kind: b.kind,
        name: b.name,
        settings: b.settings,
        teams: b.teams,
    };
    let inbox = s.service.create_inbox(&c.user, new).await?;
    Ok((StatusCode::CREATED, Json(InboxBody { inbox })).into_response())
}

#[utoipa::path(get, path = "/api/v1/inboxes/{id}", tag = "inboxes", params(("id" = Uuid, Path)),
    responses((status = 200, description = "The inbox", body = InboxBody)))]
async fn get_inbox(State(s): State<AppState>, c: CurrentUser, Path(id): Path<Uuid>) -> ApiResult<Json<InboxBody>> {
    Ok(Json(InboxBody {
        inbox: s.service.inbox(&c.user, id).await?,
    }))
}

#[utoipa::path(patch, path = "/api/v1/inboxes/{id}", tag = "inboxes", params(("id" = Uuid, Path)),
    request_body = InboxPatch, responses((status = 200, description = "Updated", body = InboxBody)))]
async fn update_inbox(
    State(s): State<AppState>,
    c: CurrentUser,
    Path(id): Path<Uuid>,
    Body(b): Body<InboxPatch>,
) -> ApiResult<Json<InboxBody>> {
    let inbox = s
        .service
        .update_inbox(&c.user, id, b.name.as_deref(), b.settings.as_ref(), b.teams.as_deref())
        .await?;
    Ok(Json(InboxBody { inbox }))
}

#[utoipa::path(post, path = "/api/v1/inboxes/{id}/identity_secret", tag = "inboxes", params(("id" = Uuid, Path)),
    responses((status = 200, description = "The inbox with a new identity secret; hashes made with the old one \
        no longer verify", body = InboxBody),
        (status = 403, description = "Admins only", body = ErrorBody)))]
async fn rotate_identity_secret(
    State(s): State<AppState>,
    c: CurrentUser,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<InboxBody>> {
    Ok(Json(InboxBody {
        inbox: s.service.rotate_identity_secret(&c.user, id).await?,
    }))
}

// ---- attachments ----

#[utoipa::path(get, path = "/api/v1/attachments/{id}", tag = "conversations", params(("id" = Uuid, Path)),
    responses((status = 200, description = "The file, as a download", content_type = "application/octet-stream"),
        (status = 403, description = "Its conversation is another agent's", body = ErrorBody),
        (status = 404, description = "No such file", body = ErrorBody)))]
async fn get_attachment(State(s): State<AppState>, c: CurrentUser, Path(id): Path<Uuid>) -> ApiResult<Response> {
    let (meta, bytes) = s.service.attachment(&c.user, id).await?;
    Ok(download(&meta.filename, download_type(&meta.content_type), bytes))
}

#[derive(Deserialize, IntoParams)]
pub struct FileQuery {
    /// The file's name, as the customer will see it.
    filename: String,
    /// The client's id for the message (1..64 characters): sending again returns the stored one.
    client_id: String,
    /// A private note, never shown to the customer.
    #[serde(default)]
    private: bool,
}

#[utoipa::path(post, path = "/api/v1/conversations/{id}/attachments", tag = "conversations",
    params(("id" = Uuid, Path), FileQuery),
    request_body(content = Vec<u8>, description = "The file's bytes; its type in Content-Type",
        content_type = "application/octet-stream"),
    responses((status = 201, description = "Stored as a message of its own, pushed, and queued for the channel",
            body = MessageBody),
        (status = 403, description = "Only the assignee, a supervisor or an admin may send", body = ErrorBody),
        (status = 413, description = "Over 20 MB", body = ErrorBody),
        (status = 409, description = "`reply_window_closed`", body = ErrorBody),
        (status = 422, description = "`attachment_not_supported`: the channel cannot carry this file, with its \
            limits", body = ErrorBody)))]
async fn send_file(
    State(s): State<AppState>,
    c: CurrentUser,
    Path(id): Path<Uuid>,
    Query(q): Query<FileQuery>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> ApiResult<Response> {
    const LIMIT: usize = kefu_core::media::MAX_UPLOAD_BYTES as usize;
    let bytes = axum::body::to_bytes(body, LIMIT)
        .await
        .map_err(|_| ApiError::PayloadTooLarge(LIMIT))?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(kefu_core::media::essence)
        .filter(|t| !t.is_empty() && t != "application/octet-stream")
        .unwrap_or_else(|| kefu_core::media::guess_type(&q.filename).to_string());
    let file = kefu_service::MediaFile {
        filename: q.filename,
        content_type,
        bytes: bytes.to_vec(),
    };
    let message = s
        .service
        .agent_send_file(&c.user, id, q.client_id, q.private, file)
        .await?;
    Ok((StatusCode::CREATED, Json(MessageBody { message })).into_response())
}

#[derive(Deserialize)]
struct LinkQuery {
    expires: i64,
    signature: String,
}

/// A file by a signed link, for a provider that fetches what Kefu sends (Twilio's MediaUrl): no login, a day.
async fn linked_media(
    State(s): State<AppState>,
    Path(id): Path<Uuid>,
    Query(q): Query<LinkQuery>,
) -> ApiResult<Response> {
    let (meta, bytes) = s.service.linked_media(id, q.expires, &q.signature).await?;
    Ok(download(&meta.filename, download_type(&meta.content_type), bytes))
}

/// Always a download, never shown inline: a file from a stranger must not run as a page of this site.
fn download(filename: &str, content_type: String, bytes: Vec<u8>) -> Response {
    let encoded: String = filename
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    (
        [
            (header::CONTENT_TYPE, content_type),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename*=UTF-8''{encoded}"),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        bytes,
    )
        .into_response()
}

/// A mail's HTML may only lay itself out: no script, no plugin, no remote image (a tracking pixel would tell
/// the sender when an agent read it), no form, shown in a sandbox; links open in a new tab.
const MAIL_HTML_POLICY: &str = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; \
     sandbox allow-popups allow-popups-to-escape-sandbox; frame-ancestors 'self'; base-uri 'none'; form-action 'none'";

#[utoipa::path(get, path = "/api/v1/messages/{id}/html", tag = "conversations", params(("id" = Uuid, Path)),
    responses((status = 200, description = "The mail's HTML part, sanitised when it was received, as a page to show \
        in a sandboxed frame", content_type = "text/html"),
        (status = 403, description = "Its conversation is another agent's", body = ErrorBody),
        (status = 404, description = "No such message, or it was not a mail with an HTML part", body = ErrorBody)))]
async fn get_mail_html(State(s): State<AppState>, c: CurrentUser, Path(id): Path<Uuid>) -> ApiResult<Response> {
    let html = s.service.mail_html(&c.user, id).await?;
    let page = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><base target=\"_blank\">\
         <style>body{{font:14px/1.5 system-ui,sans-serif;margin:12px;color:#222;word-wrap:break-word}}\
         img{{max-width:100%}}</style></head><body>{html}</body></html>"
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, MAIL_HTML_POLICY),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::CACHE_CONTROL, "private, no-store"),
        ],
        page,
    )
        .into_response())
}

#[utoipa::path(get, path = "/api/v1/messages/{id}/source", tag = "conversations", params(("id" = Uuid, Path)),
    responses((status = 200, description = "The mail exactly as it arrived, as an .eml download",
        content_type = "message/rfc822"),
        (status = 403, description = "Its conversation is another agent's", body = ErrorBody),
        (status = 404, description = "No such message, or it was not a received mail", body = ErrorBody)))]
async fn get_mail_source(State(s): State<AppState>, c: CurrentUser, Path(id): Path<Uuid>) -> ApiResult<Response> {
    let (subject, bytes) = s.service.mail_source(&c.user, id).await?;
    let name: String = subject
        .chars()
        .filter(|c| !c.is_control() && !"/\\".contains(*c))
        .take(80)
        .collect();
    let name = match name.trim() {
        "" => "mail".to_string(),
        n => n.to_string(),
    };
    Ok(download(&format!("{name}.eml"), "message/rfc822".into(), bytes))
}

/// A stored content type if it is a plain `type/subtype`, else the safe default.
fn download_type(content_type: &str) -> String {
    let ok = content_type.split_once('/').is_some_and(|(t, s)| {
        !t.is_empty()
            && !s.is_empty()
            && content_type
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "/.+-_".contains(c))
    });
    if ok {
        content_type.to_string()
    } else {
        "application/octet-stream".to_string()
    }
}

// ---- conversations ----

#[derive(Serialize, ToSchema)]
pub struct ReplyWindowBody {
    /// `null` for channels that allow replies at any time (web, email).
    reply_window: Option<kefu_core::wechat::ReplyWindow>,
}

#[utoipa::path(get, path = "/api/v1/conversations/{id}/reply_window", tag = "conversations",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "Whether the channel allows a reply now (WeChat: within 48 hours of the \
        customer's last message, a few replies at most), when that ends and how many replies are left",
        body = ReplyWindowBody),
    (status = 403, description = "Another agent's conversation", body = ErrorBody)))]
async fn get_reply_window(
    State(s): State<AppState>,
    c: CurrentUser,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<ReplyWindowBody>> {
    let conversation = s.service.readable_conversation(&c.user, id).await?;
    Ok(Json(ReplyWindowBody {
        reply_window: s.service.reply_window(&conversation).await?,
    }))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ConversationQuery {
    status: Option<ConversationStatus>,
    assignee_id: Option<Uuid>,
    team_id: Option<Uuid>,
    inbox_id: Option<Uuid>,
    contact_id: Option<Uuid>,
    /// Conversations of this contact and of every contact merged with it: the person's, on any channel.
    person_of: Option<Uuid>,
    /// Only queued or assigned conversations (ignored when `status` is given).
    open: Option<bool>,
    /// `next_cursor` of the previous page.
    cursor: Option<Uuid>,
    /// 1..200, default 50.
    limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/conversations", tag = "conversations", params(ConversationQuery), responses(
    (status = 200, description = "Newest first. Agents see their own, or the queue with status=queued; \
        supervisors and admins see all", body = ConversationPage),
    (status = 400, description = "A filter is malformed (`invalid_query`)", body = ErrorBody)))]
async fn list_conversations(
    State(s): State<AppState>,
    c: CurrentUser,
    Query(q): Query<ConversationQuery>,
) -> ApiResult<Json<ConversationPage>> {
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    let filter = ConversationFilter {
        status: q.status,
        assignee_id: q.assignee_id,
        team_id: q.team_id,
        inbox_id: q.inbox_id,
        contact_id: q.contact_id,
        person_of: q.person_of,
        open: q.open.unwrap_or(false),
        before: q.cursor,
        limit,
    };
    let conversations = s.service.conversations(&c.user, filter).await?;
    let next_cursor = (conversations.len() == limit as usize)
        .then(|| conversations.last().map(|c| c.id))
        .flatten();
    Ok(Json(ConversationPage {
        conversations,
        next_cursor,
    }))
}

#[utoipa::path(get, path = "/api/v1/conversations/{id}", tag = "conversations", params(("id" = Uuid, Path)),
    responses((status = 200, description = "The conversation", body = ConversationBody),
    (status = 403, description = "Another agent's conversation", body = ErrorBody)))]
async fn get_conversation(
    State(s): State<AppState>,
    c: CurrentUser,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<ConversationBody>> {
    Ok(Json(ConversationBody {
        conversation: s.service.readable_conversation(&c.user, id).await?,
    }))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MessagesQuery {
    /// Only messages with a greater seq (default 0: from the start). At most 1000 per call.
    after_seq: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/conversations/{id}/messages", tag = "conversations",
    params(("id" = Uuid, Path), MessagesQuery),
    responses((status = 200, description = "Messages in seq order, private notes included", body = MessagesBody)))]
async fn list_messages(
    State(s): State<AppState>,
    c: CurrentUser,
    Path(id): Path<Uuid>,
    Query(q): Query<MessagesQuery>,
) -> ApiResult<Json<MessagesBody>> {
    let synced = s.service.agent_sync(&c.user, id, q.after_seq.unwrap_or(0)).await?;
    Ok(Json(MessagesBody {
        messages: synced.messages,
        up_to_seq: Some(synced.up_to_seq),
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct NewMessage {
    /// Idempotency key: sending the same one again returns the stored message.
    client_id: String,
    /// 1..10,000 characters.
    content: String,
    /// A private note, never shown to the customer.
    #[serde(default)]
    private: bool,
}

#[utoipa::path(post, path = "/api/v1/conversations/{id}/messages", tag = "conversations", params(("id" = Uuid, Path)),
    request_body = NewMessage, responses(
    (status = 201, description = "Stored and pushed", body = MessageBody),
    (status = 403, description = "Only the assignee, a supervisor or an admin may send", body = ErrorBody),
    (status = 422, description = "`empty_message`, `message_too_long`, `conversation_closed`", body = ErrorBody)))]
async fn send_message(
    State(s): State<AppState>,
    c: CurrentUser,
    Path(id): Path<Uuid>,
    Body(b): Body<NewMessage>,
) -> ApiResult<Response> {
    let req = SendMessage {
        conversation_id: Some(id),
        client_id: b.client_id,
        content: b.content,
        private: b.private,
        files: Vec::new(),
    };
    let message = s.service.agent_send(&c.user, req).await?;
    Ok((StatusCode::CREATED, Json(MessageBody { message })).into_response())
}

#[derive(Deserialize, ToSchema)]
pub struct TransferBody {
    /// To a person, who must be online with spare capacity.
    to_agent_id: Option<Uuid>,
    /// Or to a team's queue.
    to_team_id: Option<Uuid>,
}

#[utoipa::path(post, path = "/api/v1/conversations/{id}/transfer", tag = "conversations", params(("id" = Uuid, Path)),
    request_body = TransferBody, responses(
    (status = 200, description = "Transferred", body = ConversationBody),
    (status = 422, description = "`agent_unavailable`, `agent_at_capacity`, `already_assigned`, `invalid_input`", body = ErrorBody)))]
async fn transfer(
    State(s): State<AppState>,
    c: CurrentUser,
    Path(id): Path<Uuid>,
    Body(b): Body<TransferBody>,
) -> ApiResult<Json<ConversationBody>> {
    let target = match (b.to_agent_id, b.to_team_id) {
        (Some(a), None) => TransferTarget::Agent(a),
        (None, Some(t)) => TransferTarget::Team(t),
        _ => {
            let e = kefu_core::DomainError::invalid("to_agent_id", "give exactly one of to_agent_id and to_team_id");
            return Err(e.into());
        }
    };
    Ok(Json(ConversationBody {
        conversation: s.service.transfer(&c.user, id, target).await?,
    }))
}

#[utoipa::path(post, path = "/api/v1/conversations/{id}/close", tag = "conversations", params(("id" = Uuid, Path)),
    responses((status = 200, description = "Closed; the agent's place goes to the next in the queue", body = ConversationBody)))]
async fn close(State(s): State<AppState>, c: CurrentUser, Path(id): Path<Uuid>) -> ApiResult<Json<ConversationBody>> {
    Ok(Json(ConversationBody {
        conversation: s.service.close(&c.user, id).await?,
    }))
}

#[utoipa::path(post, path = "/api/v1/conversations/{id}/reopen", tag = "conversations", params(("id" = Uuid, Path)),
    responses((status = 200, description = "Reopened: back to its last agent if they have room, else queued", body = ConversationBody)))]
async fn reopen(State(s): State<AppState>, c: CurrentUser, Path(id): Path<Uuid>) -> ApiResult<Json<ConversationBody>> {
    Ok(Json(ConversationBody {
        conversation: s.service.reopen(&c.user, id).await?,
    }))
}

// ---- widget ----

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WidgetQuery {
    /// The widget token the site embeds.
    token: String,
}

#[derive(Serialize, ToSchema)]
pub struct WidgetConfig {
    /// The inbox's name, shown as the chat's title.
    name: String,
    #[serde(flatten)]
    settings: kefu_core::widget::WidgetSettings,
    /// Now is within the working hours (always true when they are not enabled).
    within_hours: bool,
    /// An agent who may answer this inbox is online.
    agents_online: bool,
}

#[utoipa::path(get, path = "/api/v1/widget/config", tag = "inboxes", security(()), params(WidgetQuery), responses(
    (status = 200, description = "The widget's look, greeting and forms, and whether anyone can answer now (public; \
        cached for 30 s)", body = WidgetConfig),
    (status = 404, description = "Unknown widget token", body = ErrorBody)))]
async fn widget_config(State(s): State<AppState>, Query(q): Query<WidgetQuery>) -> ApiResult<Response> {
    let state = s.service.widget_config(&q.token).await?;
    let headers = [(header::CACHE_CONTROL, "public, max-age=30")];
    let config = WidgetConfig {
        name: state.inbox.name,
        settings: state.settings,
        within_hours: state.within_hours,
        agents_online: state.agents_online,
    };
    Ok((headers, Json(config)).into_response())
}

// ---- canned replies ----

#[derive(Serialize, ToSchema)]
pub struct CannedReplyBody {
    canned_reply: CannedReply,
}

#[derive(Serialize, ToSchema)]
pub struct CannedRepliesBody {
    canned_replies: Vec<CannedReply>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CannedQuery {
    /// Only those whose shortcut or text contains this (case-insensitive).
    q: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct NewCannedReply {
    /// Typed after "/" in the composer: 1 to 40 characters without spaces.
    shortcut: String,
    /// 1..10,000 characters.
    content: String,
    /// For the whole team (admins only); otherwise the caller's own.
    #[serde(default)]
    shared: bool,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CannedReplyPatch {
    shortcut: Option<String>,
    content: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/canned_replies", tag = "canned_replies", params(CannedQuery), responses(
    (status = 200, description = "The shared canned replies and the caller's own, by shortcut", body = CannedRepliesBody)))]
async fn list_canned_replies(
    State(s): State<AppState>,
    c: CurrentUser,
    Query(q): Query<CannedQuery>,
) -> ApiResult<Json<CannedRepliesBody>> {
    Ok(Json(CannedRepliesBody {
        canned_replies: s.service.canned_replies(&c.user, q.q.as_deref()).await?,
    }))
}

#[utoipa::path(post, path = "/api/v1/canned_replies", tag = "canned_replies", request_body = NewCannedReply, responses(
    (status = 201, description = "Created", body = CannedReplyBody),
    (status = 403, description = "Shared replies are for admins to make", body = ErrorBody),
    (status = 409, description = "The shortcut is taken", body = ErrorBody)))]
async fn create_canned_reply(
    State(s): State<AppState>,
    c: CurrentUser,
    Body(b): Body<NewCannedReply>,
) -> ApiResult<Response> {
    let reply = s
        .service
        .create_canned_reply(&c.user, &b.shortcut, &b.content, b.shared)
        .await?;
    Ok((StatusCode::CREATED, Json(CannedReplyBody { canned_reply: reply })).into_response())
}

#[utoipa::path(patch, path = "/api/v1/canned_replies/{id}", tag = "canned_replies", params(("id" = Uuid, Path)),
    request_body = CannedReplyPatch, responses(
    (status = 200, description = "Updated", body = CannedReplyBody),
    (status = 403, description = "Shared replies are for admins to change", body = ErrorBody),
    (status = 404, description = "No such reply among the caller's", body = ErrorBody)))]
async fn update_canned_reply(
    State(s): State<AppState>,
    c: CurrentUser,
    Path(id): Path<Uuid>,
    Body(b): Body<CannedReplyPatch>,
) -> ApiResult<Json<CannedReplyBody>> {
    let reply = s
        .service
        .update_canned_reply(&c.user, id, b.shortcut.as_deref(), b.content.as_deref())
        .await?;
    Ok(Json(CannedReplyBody { canned_reply: reply }))
}

#[utoipa::path(delete, path = "/api/v1/canned_replies/{id}", tag = "canned_replies", params(("id" = Uuid, Path)),
    responses((status = 204, description = "Deleted")))]
async fn delete_canned_reply(State(s): State<AppState>, c: CurrentUser, Path(id): Path<Uuid>) -> ApiResult<StatusCode> {
    s.service.delete_canned_reply(&c.user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- contacts ----

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactPatch {
    name: Option<String>,
    /// null clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    email: Option<Option<String>>,
    /// null clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    phone: Option<Option<String>>,
    #[schema(value_type = Option<Object>)]
    attributes: Option<Value>,
}

/// Tells "absent" (None) from "null" (Some(None)).
fn nullable<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Ok(Some(Option::deserialize(d)?))
}

#[utoipa::path(get, path = "/api/v1/contacts/{id}", tag = "contacts", params(("id" = Uuid, Path)),
    responses((status = 200, description = "The contact", body = ContactBody)))]
async fn get_contact(State(s): State<AppState>, c: CurrentUser, Path(id): Path<Uuid>) -> ApiResult<Json<ContactBody>> {
    Ok(Json(ContactBody {
        contact: s.service.contact(&c.user, id).await?,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct ContactList {
    contacts: Vec<Contact>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ContactSearch {
    /// Part of a name, email, phone or channel id (1-100 characters).
    q: String,
}

#[utoipa::path(get, path = "/api/v1/contacts", tag = "contacts", params(ContactSearch),
    responses((status = 200, description = "Up to 20 contacts, most recently active first", body = ContactList),
    (status = 422, description = "No search text", body = ErrorBody)))]
async fn search_contacts(
    State(s): State<AppState>,
    c: CurrentUser,
    Query(q): Query<ContactSearch>,
) -> ApiResult<Json<ContactList>> {
    Ok(Json(ContactList {
        contacts: s.service.search_contacts(&c.user, &q.q).await?,
    }))
}

#[utoipa::path(get, path = "/api/v1/contacts/{id}/person", tag = "contacts", params(("id" = Uuid, Path)),
    responses((status = 200, description = "The contacts that are the same person, on every channel", body = ContactList)))]
async fn get_person(State(s): State<AppState>, c: CurrentUser, Path(id): Path<Uuid>) -> ApiResult<Json<ContactList>> {
    Ok(Json(ContactList {
        contacts: s.service.person_contacts(&c.user, id).await?,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeBody {
    /// The other contact: it (and any it was merged with) becomes the same person.
    contact_id: Uuid,
}

#[utoipa::path(post, path = "/api/v1/contacts/{id}/person", tag = "contacts", params(("id" = Uuid, Path)),
    request_body = MergeBody, responses(
    (status = 200, description = "Merged: the person's contacts", body = ContactList),
    (status = 409, description = "Already the same person", body = ErrorBody)))]
async fn merge_person(
    State(s): State<AppState>,
    c: CurrentUser,
    Path(id): Path<Uuid>,
    Body(b): Body<MergeBody>,
) -> ApiResult<Json<ContactList>> {
    Ok(Json(ContactList {
        contacts: s.service.merge_contacts(&c.user, id, b.contact_id).await?,
    }))
}

#[utoipa::path(delete, path = "/api/v1/contacts/{id}/person", tag = "contacts", params(("id" = Uuid, Path)),
    responses((status = 200, description = "The contact is a person of its own again", body = ContactBody),
    (status = 409, description = "It was not merged", body = ErrorBody)))]
async fn unlink_person(
    State(s): State<AppState>,
    c: CurrentUser,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<ContactBody>> {
    Ok(Json(ContactBody {
        contact: s.service.unlink_contact(&c.user, id).await?,
    }))
}

#[utoipa::path(patch, path = "/api/v1/contacts/{id}", tag = "contacts", params(("id" = Uuid, Path)),
    request_body = ContactPatch, responses((status = 200, description = "Updated", body = ContactBody),
    (status = 422, description = "A field is invalid", body = ErrorBody)))]
async fn update_contact(
    State(s): State<AppState>,
    c: CurrentUser,
    Path(id): Path<Uuid>,
    Body(b): Body<ContactPatch>,
) -> ApiResult<Json<ContactBody>> {
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
    Ok(Json(ContactBody { contact }))
}
