//! REST endpoints for tickets, their SLA policies and the teams' working hours.

use crate::AppState;
use crate::auth::CurrentUser;
use crate::routes::{ApiResult, Body, ErrorBody, Path, Query};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kefu_core::DomainError;
use kefu_core::ticket::*;
use kefu_service::{NewTicket, RequesterInput, TicketChanges};
use kefu_store::TicketFilter;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub(crate) fn routes(router: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    router
        .routes(routes!(list_tickets, create_ticket))
        .routes(routes!(get_ticket, update_ticket))
        .routes(routes!(comment))
        .routes(routes!(bulk))
        .routes(routes!(convert))
        .routes(routes!(get_sla_policies, put_sla_policies))
}

/// Tells a field that was sent as `null` (`Some(None)`) from one that was left out (`None`).
pub(crate) fn present<'de, T: Deserialize<'de>, D: Deserializer<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Serialize, ToSchema)]
pub struct TicketBody {
    ticket: Ticket,
}

#[derive(Serialize, ToSchema)]
pub struct TicketDetail {
    ticket: Ticket,
    /// The history, oldest first.
    events: Vec<TicketEvent>,
}

#[derive(Serialize, ToSchema)]
pub struct TicketPage {
    tickets: Vec<Ticket>,
    /// Pass as `cursor` for the next (older) page; null on the last page.
    next_cursor: Option<Uuid>,
}

#[derive(Serialize, ToSchema)]
pub struct TicketsBody {
    tickets: Vec<Ticket>,
}

#[derive(Serialize, ToSchema)]
pub struct EventBody {
    event: TicketEvent,
}

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SlaPolicies {
    /// One per priority at most; a priority left out has no SLA.
    policies: Vec<SlaPolicy>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TicketQuery {
    /// One status, or several separated by commas.
    status: Option<String>,
    priority: Option<TicketPriority>,
    /// An agent's id, or `none` for unassigned tickets.
    assignee_id: Option<String>,
    team_id: Option<Uuid>,
    tag: Option<String>,
    /// `ok`, `due_soon`, `breached` or `none`.
    sla: Option<SlaState>,
    /// Only tickets still being worked on (not solved or closed); ignored when `status` is given.
    open: Option<bool>,
    /// Words of the subject, or a ticket number (`123` or `#123`).
    q: Option<String>,
    cursor: Option<Uuid>,
    /// 1..200, default 50.
    limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/tickets", tag = "tickets", params(TicketQuery), responses(
    (status = 200, description = "Newest first", body = TicketPage),
    (status = 400, description = "A filter is malformed (`invalid_query`)", body = ErrorBody)))]
async fn list_tickets(
    State(s): State<AppState>,
    c: CurrentUser,
    Query(q): Query<TicketQuery>,
) -> ApiResult<Json<TicketPage>> {
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    let mut statuses = Vec::new();
    for part in q
        .status
        .iter()
        .flat_map(|s| s.split(','))
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        statuses.push(
            part.parse::<TicketStatus>()
                .map_err(|_| DomainError::invalid("status", format!("unknown status {part:?}")))?,
        );
    }
    if statuses.is_empty() && q.open == Some(true) {
        statuses = TicketStatus::ALL.iter().copied().filter(|s| s.is_open()).collect();
    }
    let assignee_id = match q.assignee_id.as_deref() {
        None | Some("") => None,
        Some("none") => Some(None),
        Some(id) => {
            Some(Some(Uuid::parse_str(id).map_err(|_| {
                DomainError::invalid("assignee_id", "is not an id or \"none\"")
            })?))
        }
    };
    let filter = TicketFilter {
        statuses,
        priority: q.priority,
        assignee_id,
        team_id: q.team_id,
        tag: q.tag.map(|t| t.trim().to_lowercase()).filter(|t| !t.is_empty()),
        sla: q.sla,
        query: q.q,
        before: q.cursor,
        limit,
    };
    let tickets = s.service.tickets(&c.user, filter).await?;
    let next_cursor = (tickets.len() == limit as usize)
        .then(|| tickets.last().map(|t| t.id))
        .flatten();
    Ok(Json(TicketPage { tickets, next_cursor }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequesterBody {
    name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTicketBody {
    /// 1-200 characters.
    subject: String,
    #[serde(default)]
    description: String,
    priority: Option<TicketPriority>,
    /// A known contact; or give `requester` to find one by email or create one.
    requester_id: Option<Uuid>,
    requester: Option<RequesterBody>,
    assignee_id: Option<Uuid>,
    team_id: Option<Uuid>,
    #[serde(default)]
    tags: Vec<String>,
}

#[utoipa::path(post, path = "/api/v1/tickets", tag = "tickets", request_body = NewTicketBody, responses(
    (status = 201, description = "Created, with the next number of the organisation", body = TicketBody),
    (status = 422, description = "A field is invalid (`invalid_input`)", body = ErrorBody)))]
async fn create_ticket(State(s): State<AppState>, c: CurrentUser, Body(b): Body<NewTicketBody>) -> ApiResult<Response> {
    let requester = match (b.requester_id, b.requester) {
        (Some(id), _) => Some(RequesterInput {
            id: Some(id),
            ..Default::default()
        }),
        (None, Some(r)) => Some(RequesterInput {
            id: None,
            name: r.name,
            email: r.email,
            phone: r.phone,
        }),
        (None, None) => None,
    };
    let new = NewTicket {
        subject: b.subject,
        description: b.description,
        priority: b.priority,
        requester,
        assignee_id: b.assignee_id,
        team_id: b.team_id,
        tags: b.tags,
    };
    let ticket = s.service.create_ticket(&c.user, new).await?;
    Ok((StatusCode::CREATED, Json(TicketBody { ticket })).into_response())
}

#[utoipa::path(get, path = "/api/v1/tickets/{id}", tag = "tickets", params(("id" = Uuid, Path)),
    responses((status = 200, description = "The ticket and its history", body = TicketDetail)))]
async fn get_ticket(State(s): State<AppState>, c: CurrentUser, Path(id): Path<Uuid>) -> ApiResult<Json<TicketDetail>> {
    let (ticket, events) = s.service.ticket(&c.user, id).await?;
    Ok(Json(TicketDetail { ticket, events }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketPatch {
    subject: Option<String>,
    status: Option<TicketStatus>,
    priority: Option<TicketPriority>,
    /// `null` unassigns.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Uuid>)]
    assignee_id: Option<Option<Uuid>>,
    /// `null` clears the team.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Uuid>)]
    team_id: Option<Option<Uuid>>,
    tags: Option<Vec<String>>,
}

#[utoipa::path(patch, path = "/api/v1/tickets/{id}", tag = "tickets", params(("id" = Uuid, Path)),
    request_body = TicketPatch, responses(
    (status = 200, description = "Changed; every change is in the history", body = TicketBody),
    (status = 422, description = "A field is invalid, or the ticket is closed (`ticket_closed`)", body = ErrorBody)))]
async fn update_ticket(
    State(s): State<AppState>,
    c: CurrentUser,
    Path(id): Path<Uuid>,
    Body(b): Body<TicketPatch>,
) -> ApiResult<Json<TicketBody>> {
    let changes = TicketChanges {
        subject: b.subject,
        status: b.status,
        priority: b.priority,
        assignee_id: b.assignee_id,
        team_id: b.team_id,
        tags: b.tags,
    };
    Ok(Json(TicketBody {
        ticket: s.service.update_ticket(&c.user, id, changes).await?,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentBody {
    content: String,
    /// An internal note, never sent to the requester.
    #[serde(default)]
    private: bool,
}

#[utoipa::path(post, path = "/api/v1/tickets/{id}/comments", tag = "tickets", params(("id" = Uuid, Path)),
    request_body = CommentBody, responses(
    (status = 201, description = "Added to the history. A public comment is a reply to the requester: the first \
        one is the first response", body = EventBody)))]
async fn comment(
    State(s): State<AppState>,
    c: CurrentUser,
    Path(id): Path<Uuid>,
    Body(b): Body<CommentBody>,
) -> ApiResult<Response> {
    let event = s.service.comment_ticket(&c.user, id, &b.content, b.private).await?;
    Ok((StatusCode::CREATED, Json(EventBody { event })).into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkBody {
    /// 1-200 tickets.
    ids: Vec<Uuid>,
    status: TicketStatus,
}

#[utoipa::path(post, path = "/api/v1/tickets/bulk", tag = "tickets", request_body = BulkBody, responses(
    (status = 200, description = "Every ticket changed", body = TicketsBody),
    (status = 422, description = "None changed: one is closed (the message names it)", body = ErrorBody)))]
async fn bulk(State(s): State<AppState>, c: CurrentUser, Body(b): Body<BulkBody>) -> ApiResult<Json<TicketsBody>> {
    Ok(Json(TicketsBody {
        tickets: s.service.bulk_ticket_status(&c.user, &b.ids, b.status).await?,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConvertBody {
    /// Defaults to the first line of the visitor's first message.
    subject: Option<String>,
    priority: Option<TicketPriority>,
}

#[utoipa::path(post, path = "/api/v1/conversations/{id}/ticket", tag = "tickets", params(("id" = Uuid, Path)),
    request_body = ConvertBody, responses(
    (status = 201, description = "The chat as a ticket: its contact is the requester", body = TicketBody),
    (status = 409, description = "The conversation already has a ticket (`conflict`, naming its number)", body = ErrorBody)))]
async fn convert(
    State(s): State<AppState>,
    c: CurrentUser,
    Path(id): Path<Uuid>,
    Body(b): Body<ConvertBody>,
) -> ApiResult<Response> {
    let ticket = s.service.convert_to_ticket(&c.user, id, b.subject, b.priority).await?;
    Ok((StatusCode::CREATED, Json(TicketBody { ticket })).into_response())
}

#[utoipa::path(get, path = "/api/v1/sla_policies", tag = "tickets",
    responses((status = 200, description = "The policies, by priority", body = SlaPolicies)))]
async fn get_sla_policies(State(s): State<AppState>, c: CurrentUser) -> ApiResult<Json<SlaPolicies>> {
    Ok(Json(SlaPolicies {
        policies: s.service.sla_policies(&c.user).await?,
    }))
}

#[utoipa::path(put, path = "/api/v1/sla_policies", tag = "tickets", request_body = SlaPolicies, responses(
    (status = 200, description = "Replaced; tickets get the new due times when next created or re-prioritised", body = SlaPolicies),
    (status = 403, description = "Admins only", body = ErrorBody)))]
async fn put_sla_policies(
    State(s): State<AppState>,
    c: CurrentUser,
    Body(b): Body<SlaPolicies>,
) -> ApiResult<Json<SlaPolicies>> {
    Ok(Json(SlaPolicies {
        policies: s.service.set_sla_policies(&c.user, &b.policies).await?,
    }))
}
