//! Outbound webhooks: an organisation's subscriptions to its events, the events there are, and a delivery as the
//! log shows it.

use crate::DomainError;
use crate::model::Timestamp;
use serde::Serialize;
use uuid::Uuid;

/// The events a webhook can subscribe to.
pub const EVENTS: &[&str] = &[
    "conversation.created",
    "conversation.updated",
    "conversation.closed",
    "message.created",
    "message.updated",
    "contact.created",
    "ticket.created",
    "ticket.updated",
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Webhook {
    pub id: Uuid,
    pub org_id: Uuid,
    pub url: String,
    pub events: Vec<String>,
    /// Signs every delivery: `X-Kefu-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "{t}.{body}")>`.
    pub secret: String,
    pub active: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookDelivery {
    pub id: Uuid,
    pub webhook_id: Uuid,
    pub event: String,
    /// The JSON that was (or will be) posted.
    #[serde(skip)]
    pub payload: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    pub attempts: i64,
    /// The HTTP status of the last try, if it got an answer.
    pub response_status: Option<i64>,
    pub last_error: Option<String>,
    pub next_attempt_at: Timestamp,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Checks a subscription's events: known names, at least one, each once.
pub fn events(given: &[String]) -> Result<Vec<String>, DomainError> {
    let mut out: Vec<String> = Vec::new();
    for e in given {
        let e = e.trim();
        if !EVENTS.contains(&e) {
            return Err(DomainError::invalid(
                "events",
                format!("{e:?} is not an event; the events are {}", EVENTS.join(", ")),
            ));
        }
        if !out.iter().any(|o| o == e) {
            out.push(e.to_string());
        }
    }
    if out.is_empty() {
        return Err(DomainError::invalid("events", "subscribe to at least one event"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_must_be_known_and_are_kept_once() {
        let given = vec![
            "message.created".to_string(),
            " message.created".into(),
            "ticket.updated".into(),
        ];
        assert_eq!(events(&given).unwrap(), vec!["message.created", "ticket.updated"]);
        assert!(events(&[]).is_err());
        assert!(
            events(&["message.deleted".into()])
                .unwrap_err()
                .to_string()
                .contains("message.deleted")
        );
    }
}
