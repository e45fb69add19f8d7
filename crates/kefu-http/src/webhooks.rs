//! REST endpoints for outbound webhooks: admins' subscriptions, their secrets, and the delivery log.

use crate::AppState;
use crate::auth::CurrentUser;
use crate::routes::{ApiResult, Body, ErrorBody, Path};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use kefu_core::webhook::{Webhook, WebhookDelivery};
use kefu_service::{NewWebhook, WebhookChanges};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub(crate) fn routes(router: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    router
        .routes(routes!(list_webhooks, create_webhook))
        .routes(routes!(update_webhook, delete_webhook))
        .routes(routes!(rotate_secret))
        .routes(routes!(list_deliveries))
        .routes(routes!(retry_delivery))
}

#[derive(Serialize, ToSchema)]
pub struct WebhookBody {
    webhook: Webhook,
}

#[derive(Serialize, ToSchema)]
pub struct WebhookList {
    webhooks: Vec<Webhook>,
}

#[derive(Serialize, ToSchema)]
pub struct DeliveryBody {
    delivery: WebhookDelivery,
}

#[derive(Serialize, ToSchema)]
pub struct DeliveryList {
    /// Newest first, at most 50.
    deliveries: Vec<WebhookDelivery>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookCreate {
    /// Where deliveries are POSTed (http or https). Addresses on this machine or a private network are refused
    /// unless the installation sets KEFU_WEBHOOKS_ALLOW_PRIVATE.
    url: String,
    /// Any of `conversation.created`, `conversation.updated`, `conversation.closed`, `message.created`,
    /// `message.updated`, `ticket.created`, `ticket.updated`.
    events: Vec<String>,
    active: Option<bool>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookPatch {
    url: Option<String>,
    events: Option<Vec<String>>,
    active: Option<bool>,
}

#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks", responses(
    (status = 200, description = "The organisation's webhooks", body = WebhookList),
    (status = 403, description = "Not an admin", body = ErrorBody)))]
async fn list_webhooks(State(s): State<AppState>, c: CurrentUser) -> ApiResult<Json<WebhookList>> {
    Ok(Json(WebhookList {
        webhooks: s.service.webhooks(&c.user).await?,
    }))
}

#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", request_body = WebhookCreate, responses(
    (status = 201, description = "Subscribed; the secret signs every delivery", body = WebhookBody),
    (status = 422, description = "The URL or an event is invalid", body = ErrorBody)))]
async fn create_webhook(
    State(s): State<AppState>,
    c: CurrentUser,
    Body(b): Body<WebhookCreate>,
) -> ApiResult<(StatusCode, Json<WebhookBody>)> {
    let new = NewWebhook {
        url: b.url,
        events: b.events,
        active: b.active,
    };
    let webhook = s.service.create_webhook(&c.user, new).await?;
    Ok((StatusCode::CREATED, Json(WebhookBody { webhook })))
}

#[utoipa::path(patch, path = "/api/v1/webhooks/{id}", tag = "webhooks", params(("id" = Uuid, Path)),
    request_body = WebhookPatch, responses(
    (status = 200, description = "Changed", body = WebhookBody),
    (status = 404, description = "No such webhook", body = ErrorBody)))]
async fn update_webhook(
    State(s): State<AppState>,
    c: CurrentUser,
    Path(id): Path<Uuid>,
    Body(b): Body<WebhookPatch>,
) -> ApiResult<Json<WebhookBody>> {
    let changes = WebhookChanges {
        url: b.url,
        events: b.events,
        active: b.active,
    };
    Ok(Json(WebhookBody {
        webhook: s.service.update_webhook(&c.user, id, changes).await?,
    }))
}

#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "webhooks", params(("id" = Uuid, Path)), responses(
    (status = 204, description = "Deleted, with its delivery log")))]
async fn delete_webhook(State(s): State<AppState>, c: CurrentUser, Path(id): Path<Uuid>) -> ApiResult<StatusCode> {
    s.service.delete_webhook(&c.user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/webhooks/{id}/rotate_secret", tag = "webhooks", params(("id" = Uuid, Path)),
    responses((status = 200, description = "A new secret signs deliveries from now on", body = WebhookBody)))]
async fn rotate_secret(
    State(s): State<AppState>,
    c: CurrentUser,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<WebhookBody>> {
    Ok(Json(WebhookBody {
        webhook: s.service.rotate_webhook_secret(&c.user, id).await?,
    }))
}

#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "webhooks", params(("id" = Uuid, Path)),
    responses((status = 200, description = "The delivery log, newest first", body = DeliveryList)))]
async fn list_deliveries(
    State(s): State<AppState>,
    c: CurrentUser,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<DeliveryList>> {
    Ok(Json(DeliveryList {
        deliveries: s.service.webhook_deliveries(&c.user, id).await?,
    }))
}

#[utoipa::path(post, path = "/api/v1/webhooks/{id}/deliveries/{delivery_id}/retry", tag = "webhooks",
    params(("id" = Uuid, Path), ("delivery_id" = Uuid, Path)),
    responses((status = 200, description = "Queued to be sent again now", body = DeliveryBody)))]
async fn retry_delivery(
    State(s): State<AppState>,
    c: CurrentUser,
    Path((id, delivery_id)): Path<(Uuid, Uuid)>,
) -> ApiResult<Json<DeliveryBody>> {
    Ok(Json(DeliveryBody {
        delivery: s.service.retry_webhook_delivery(&c.user, id, delivery_id).await?,
    }))
}
