//! Outbound webhooks: admins subscribe a URL to an organisation's events; every committed fact the bus carries
//! that matches a subscription becomes a delivery in the queue, which the delivery worker posts (signed) and
//! settles — delivered, tried again with backoff, or failed — leaving the log admins read.

use crate::{Notification, Result, Service, ServiceError, new_id};
use kefu_core::model::*;
use kefu_core::webhook::{Webhook, WebhookDelivery};
use kefu_core::{DomainError, validate};
use kefu_store::now_ms;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use uuid::Uuid;

/// How long a node trusts its copy of an organisation's subscriptions (another node may have changed them).
const CACHE_TTL: Duration = Duration::from_secs(5);
/// Tries before a delivery counts as failed.
pub const MAX_WEBHOOK_ATTEMPTS: i64 = 8;

#[derive(Debug, Clone, Default)]
pub struct NewWebhook {
    pub url: String,
    pub events: Vec<String>,
    pub active: Option<bool>,
}

#[derive(Debug, Clone, Default)]
pub struct WebhookChanges {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub active: Option<bool>,
}

/// A delivery to post: where, signed with what, and the body.
#[derive(Debug, Clone)]
pub struct WebhookJob {
    pub delivery: WebhookDelivery,
    pub url: String,
    pub secret: String,
    /// Until when this node's claim holds (see `settle_webhook`).
    pub lease_until: i64,
}

/// How posting a delivery went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookResult {
    Delivered { status: u16 },
    Retry { status: Option<u16>, error: String },
    Failed { status: Option<u16>, error: String },
}

pub(crate) struct WebhookState {
    events: mpsc::UnboundedSender<Notification>,
    pending: Mutex<Option<mpsc::UnboundedReceiver<Notification>>>,
    cache: Mutex<HashMap<Uuid, (Instant, Vec<Webhook>)>>,
}

impl Default for WebhookState {
    fn default() -> Self {
        let (events, rx) = mpsc::unbounded_channel();
        WebhookState {
            events,
            pending: Mutex::new(Some(rx)),
            cache: Mutex::default(),
        }
    }
}

impl WebhookState {
    /// Hands a committed fact to the webhook queue, if it is one webhooks carry.
    pub(crate) fn offer(&self, n: &Notification) {
        if !events_of(n).is_empty() {
            let _ = self.events.send(n.clone());
        }
    }
}

/// The webhook events a fact is: (organisation, event, data).
fn events_of(n: &Notification) -> Vec<(Uuid, &'static str, serde_json::Value)> {
    use serde_json::json;
    match n {
        Notification::MessageNew { conversation, message } => {
            let mut out = vec![(
                conversation.org_id,
                "message.created",
                json!({ "conversation": conversation, "message": message }),
            )];
            if message.seq == 1 {
                out.insert(
                    0,
                    (
                        conversation.org_id,
                        "conversation.created",
                        json!({ "conversation": conversation }),
                    ),
                );
            }
            out
        }
        Notification::ConversationUpdated { conversation, .. } => {
            let event = if conversation.status == ConversationStatus::Closed {
                "conversation.closed"
            } else {
                "conversation.updated"
            };
            vec![(conversation.org_id, event, json!({ "conversation": conversation }))]
        }
        Notification::ConversationAssigned { conversation } => vec![(
            conversation.org_id,
            "conversation.updated",
            json!({ "conversation": conversation }),
        )],
        Notification::MessageUpdated { conversation, message } => vec![(
            conversation.org_id,
            "message.updated",
            json!({ "conversation": conversation, "message": message }),
        )],
        Notification::ContactCreated { contact } => {
            vec![(contact.org_id, "contact.created", json!({ "contact": contact }))]
        }
        Notification::TicketUpdated { ticket, .. } => {
            let event = if ticket.created_at == ticket.updated_at {
                "ticket.created"
            } else {
                "ticket.updated"
            };
            vec![(ticket.org_id, event, json!({ "ticket": ticket }))]
        }
        _ => Vec::new(),
    }
}

fn require_admin(user: &User) -> Result<()> {
    if user.role == Role::Admin {
        Ok(())
    } else {
        Err(ServiceError::Forbidden("only admins manage webhooks"))
    }
}

/// A host that names this machine or a private network, when written as an address or `localhost`.
fn private_host(url: &str) -> bool {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit_once('@').map(|(_, h)| h).unwrap_or(authority);
    let host = if host.starts_with('[') {
        host.split(']').next().unwrap_or("").trim_start_matches('[')
    } else {
        host.rsplit_once(':').map(|(h, _)| h).unwrap_or(host)
    };
    if host.eq_ignore_ascii_case("localhost") || host.to_ascii_lowercase().ends_with(".localhost") {
        return true;
    }
    match host.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(v4)) => {
            v4.is_loopback() || v4.is_private() || v4.is_link_local() || v4.is_unspecified()
        }
        Ok(std::net::IpAddr::V6(v6)) => {
            v6.is_loopback()
                || v6.is_unspecified()
                || (v6.segments()[0] & 0xfe00) == 0xfc00
                || (v6.segments()[0] & 0xffc0) == 0xfe80
        }
        Err(_) => false,
    }
}

impl Service {
    fn webhook_url(&self, url: &str) -> Result<String> {
        let url = validate::target_url("url", url)?;
        if private_host(&url) && !self.config().allow_private_targets {
            return Err(DomainError::invalid(
                "url",
                "is on this machine or a private network; set KEFU_WEBHOOKS_ALLOW_PRIVATE=1 to allow such targets",
            )
            .into());
        }
        Ok(url)
    }

    fn forget_webhooks(&self, org_id: Uuid) {
        self.inner.webhooks.cache.lock().expect("webhook cache").remove(&org_id);
    }

    pub async fn webhooks(&self, admin: &User) -> Result<Vec<Webhook>> {
        require_admin(admin)?;
        Ok(self.store().webhooks(admin.org_id).await?)
    }

    async fn own_webhook(&self, admin: &User, id: Uuid) -> Result<Webhook> {
        require_admin(admin)?;
        self.store()
            .webhook(admin.org_id, id)
            .await?
            .ok_or(ServiceError::NotFound("webhook"))
    }

    pub async fn create_webhook(&self, admin: &User, new: NewWebhook) -> Result<Webhook> {
        require_admin(admin)?;
        let now = now_ms();
        let hook = Webhook {
            id: new_id(),
            org_id: admin.org_id,
            url: self.webhook_url(&new.url)?,
            events: kefu_core::webhook::events(&new.events)?,
            secret: crate::auth::new_token(),
            active: new.active.unwrap_or(true),
            created_at: Timestamp(now),
            updated_at: Timestamp(now),
        };
        let mut tx = self.store().begin().await?;
        tx.insert_webhook(&hook).await?;
        tx.commit().await?;
        self.forget_webhooks(admin.org_id);
        Ok(hook)
    }

    pub async fn update_webhook(&self, admin: &User, id: Uuid, changes: WebhookChanges) -> Result<Webhook> {
        let mut hook = self.own_webhook(admin, id).await?;
        if let Some(url) = &changes.url {
            hook.url = self.webhook_url(url)?;
        }
        if let Some(events) = &changes.events {
            hook.events = kefu_core::webhook::events(events)?;
        }
        if let Some(active) = changes.active {
            hook.active = active;
        }
        self.save_webhook(hook).await
    }

    pub async fn rotate_webhook_secret(&self, admin: &User, id: Uuid) -> Result<Webhook> {
        let mut hook = self.own_webhook(admin, id).await?;
        hook.secret = crate::auth::new_token();
        self.save_webhook(hook).await
    }

    async fn save_webhook(&self, mut hook: Webhook) -> Result<Webhook> {
        hook.updated_at = Timestamp(now_ms());
        let mut tx = self.store().begin().await?;
        tx.update_webhook(&hook).await?;
        tx.commit().await?;
        self.forget_webhooks(hook.org_id);
        Ok(hook)
    }

    pub async fn delete_webhook(&self, admin: &User, id: Uuid) -> Result<()> {
        require_admin(admin)?;
        let mut tx = self.store().begin().await?;
        if !tx.delete_webhook(admin.org_id, id).await? {
            return Err(ServiceError::NotFound("webhook"));
        }
        tx.commit().await?;
        self.forget_webhooks(admin.org_id);
        Ok(())
    }

    /// A webhook's latest deliveries, newest first.
    pub async fn webhook_deliveries(&self, admin: &User, id: Uuid) -> Result<Vec<WebhookDelivery>> {
        let hook = self.own_webhook(admin, id).await?;
        Ok(self.store().webhook_deliveries(hook.id, 50).await?)
    }

    /// Sends a delivery again, now (a failed one, after the receiver was fixed).
    pub async fn retry_webhook_delivery(&self, admin: &User, id: Uuid, delivery_id: Uuid) -> Result<WebhookDelivery> {
        let hook = self.own_webhook(admin, id).await?;
        let now = now_ms();
        let mut tx = self.store().begin().await?;
        if !tx.requeue_webhook_delivery(hook.id, delivery_id, now).await? {
            return Err(ServiceError::NotFound("delivery"));
        }
        tx.commit().await?;
        self.store()
            .webhook_deliveries(hook.id, 50)
            .await?
            .into_iter()
            .find(|d| d.id == delivery_id)
            .ok_or(ServiceError::NotFound("delivery"))
    }

    /// An organisation's active subscriptions, from this node's copy while it is fresh.
    async fn subscriptions(&self, org_id: Uuid) -> Result<Vec<Webhook>> {
        if let Some((at, hooks)) = self.inner.webhooks.cache.lock().expect("webhook cache").get(&org_id)
            && at.elapsed() < CACHE_TTL
        {
            return Ok(hooks.clone());
        }
        let hooks: Vec<Webhook> = self
            .store()
            .webhooks(org_id)
            .await?
            .into_iter()
            .filter(|h| h.active)
            .collect();
        self.inner
            .webhooks
            .cache
            .lock()
            .expect("webhook cache")
            .insert(org_id, (Instant::now(), hooks.clone()));
        Ok(hooks)
    }

    /// Queues the deliveries a committed fact makes, one per matching subscription.
    async fn enqueue_webhooks(&self, n: &Notification) -> Result<()> {
        for (org_id, event, data) in events_of(n) {
            let hooks: Vec<Webhook> = self
                .subscriptions(org_id)
                .await?
                .into_iter()
                .filter(|h| h.events.iter().any(|e| e == event))
                .collect();
            if hooks.is_empty() {
                continue;
            }
            let now = now_ms();
            let mut tx = self.store().begin().await?;
            for hook in &hooks {
                let id = new_id();
                let payload = serde_json::json!({
                    "id": id, "event": event, "created_at": Timestamp(now), "data": data,
                });
                tx.enqueue_webhook_delivery(id, hook, event, &payload.to_string(), now)
                    .await?;
            }
            tx.commit().await?;
        }
        Ok(())
    }

    /// Turns committed facts into webhook deliveries as they are published. Runs once per node.
    pub fn start_webhook_queue(&self) -> Option<tokio::task::JoinHandle<()>> {
        let mut rx = self.inner.webhooks.pending.lock().expect("webhook queue").take()?;
        let service = self.clone();
        Some(tokio::spawn(async move {
            while let Some(n) = rx.recv().await {
                if let Err(e) = service.enqueue_webhooks(&n).await {
                    tracing::error!(error = %e, "webhook deliveries could not be queued");
                }
            }
        }))
    }

    /// Deliveries due now. Those of a webhook turned off since they were queued are not sent.
    pub async fn due_webhook_deliveries(&self) -> Result<Vec<WebhookJob>> {
        let now = now_ms();
        let mut jobs = Vec::new();
        // A claim never outlasts two minutes: a delivery's POST gives up well before.
        let lease_until = now + self.delivery_lease_ms().min(120_000);
        for (delivery, hook) in self.store().claim_webhook_deliveries(now, lease_until, 20).await? {
            let job = WebhookJob {
                delivery,
                url: hook.url,
                secret: hook.secret,
                lease_until,
            };
            if hook.active {
                jobs.push(job);
            } else {
                let off = WebhookResult::Failed {
                    status: None,
                    error: "not sent: the webhook was turned off".into(),
                };
                self.settle_webhook(&job, off).await?;
            }
        }
        Ok(jobs)
    }

    /// Records how a try went: delivered, tried again later (5 s, 10 s, ... up to 10 minutes), or failed.
    pub async fn settle_webhook(&self, job: &WebhookJob, result: WebhookResult) -> Result<()> {
        let now = now_ms();
        let attempts = job.delivery.attempts + 1;
        let (status, code, error, next) = match result {
            WebhookResult::Delivered { status } => ("delivered", Some(status), None, now),
            WebhookResult::Failed { status, error } => ("failed", status, Some(error), now),
            WebhookResult::Retry { status, error } if attempts >= MAX_WEBHOOK_ATTEMPTS => (
                "failed",
                status,
                Some(format!("gave up after {attempts} tries: {error}")),
                now,
            ),
            WebhookResult::Retry { status, error } => {
                let wait = (5_000i64 << (attempts - 1).min(7)).min(600_000);
                ("pending", status, Some(error), now + wait)
            }
        };
        let mut tx = self.store().begin().await?;
        let settled = tx
            .settle_webhook_delivery(
                job.delivery.id,
                status,
                code.map(i64::from),
                error.as_deref(),
                next,
                job.lease_until,
                now,
            )
            .await?;
        tx.commit().await?;
        if !settled {
            tracing::warn!(delivery = %job.delivery.id, "webhook delivery outlived its lease: another node owns it now");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_hosts_are_recognised_in_urls() {
        for url in [
            "http://127.0.0.1:8080/x",
            "https://localhost/x",
            "http://[::1]:9/x",
            "http://10.0.0.5/",
            "http://u:p@192.168.1.2/",
        ] {
            assert!(private_host(url), "{url}");
        }
        for url in [
            "https://hooks.example.com/x",
            "http://8.8.8.8/",
            "https://[2001:db8::1]/",
        ] {
            assert!(!private_host(url), "{url}");
        }
    }
}
