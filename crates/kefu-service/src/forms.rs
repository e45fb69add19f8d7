//! The public ticket form of a web inbox: customers open a ticket themselves, without an account. It is open
//! to the whole internet, so it is off unless the inbox turns it on, limited per address and per inbox, and has
//! a honeypot field that people never see and form-filling robots fill in.

use crate::tickets::{NewTicket, RequesterInput};
use crate::{Result, Service, ServiceError};
use kefu_core::DomainError;
use kefu_core::model::*;
use kefu_core::ticket::{Actor, ActorKind, Ticket};
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// At most `max` events per key in any `window`.
pub(crate) struct Window {
    max: usize,
    window: Duration,
    hits: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl Window {
    pub(crate) fn new(max: usize, window: Duration) -> Self {
        Window {
            max,
            window,
            hits: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one event for `key`, or says how many seconds until another is allowed.
    pub(crate) fn hit(&self, key: &str) -> std::result::Result<(), u64> {
        let now = Instant::now();
        let mut hits = self.hits.lock().unwrap_or_else(|e| e.into_inner());
        // Keys whose events all aged out are dropped, so the map cannot grow without bound.
        hits.retain(|_, times| times.back().is_some_and(|t| now.duration_since(*t) < self.window));
        let times = hits.entry(key.to_string()).or_default();
        while times.front().is_some_and(|t| now.duration_since(*t) >= self.window) {
            times.pop_front();
        }
        if times.len() >= self.max {
            let oldest = *times.front().expect("at the limit, there are events");
            return Err((self.window - now.duration_since(oldest)).as_secs().max(1));
        }
        times.push_back(now);
        Ok(())
    }
}

/// What a customer sends with the form.
#[derive(Debug, Clone, Default)]
pub struct FormSubmission {
    pub name: String,
    pub email: String,
    pub subject: String,
    pub message: String,
    /// The field people never see: anything in it means a robot filled the form.
    pub honeypot: String,
}

/// What the form page needs to show itself.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FormInfo {
    pub name: String,
    pub color: String,
}

fn form_enabled(inbox: &Inbox) -> bool {
    inbox.kind == InboxKind::Web && inbox.settings["ticket_form"]["enabled"].as_bool() == Some(true)
}

impl Service {
    async fn form_inbox(&self, token: &str) -> Result<Inbox> {
        self.store()
            .inbox_by_widget_token(token)
            .await?
            .filter(form_enabled)
            .ok_or(ServiceError::NotFound("ticket form"))
    }

    pub async fn ticket_form(&self, token: &str) -> Result<FormInfo> {
        let inbox = self.form_inbox(token).await?;
        let widget = kefu_core::widget::WidgetSettings::from_inbox_settings(&inbox.settings)?;
        Ok(FormInfo {
            name: inbox.name,
            color: widget.color,
        })
    }

    /// Opens a ticket from the public form: the requester is the inbox's contact with that email.
    pub async fn submit_ticket_form(&self, token: &str, form: FormSubmission, ip: Option<IpAddr>) -> Result<Ticket> {
        let inbox = self.form_inbox(token).await?;
        if !form.honeypot.trim().is_empty() {
            return Err(DomainError::invalid("form", "refused: it was filled in by a robot").into());
        }
        let name = kefu_core::validate::name("name", &form.name)?;
        let email = kefu_core::validate::email(&form.email)?;
        let message = form.message.trim();
        kefu_core::validate::message_content(message)?;
        kefu_core::ticket::subject(&form.subject)?;
        let limits = &self.inner.form_limits;
        let limited =
            |r: std::result::Result<(), u64>| r.map_err(|s| ServiceError::RateLimited { retry_after_secs: s });
        if let Some(ip) = ip {
            limited(limits.per_address.hit(&ip.to_string()))?;
        }
        limited(limits.per_inbox.hit(&inbox.id.to_string()))?;
        let contact = match self.store().inbox_contact_by_email(inbox.id, &email).await? {
            Some(id) => id,
            None => {
                let now = kefu_store::now_ms();
                let id = crate::new_id();
                let mut tx = self.store().begin().await?;
                tx.insert_contact(id, inbox.org_id, inbox.id, None, &name, &serde_json::json!({}), now)
                    .await?;
                tx.update_contact(id, None, Some(Some(&email)), None, None, now).await?;
                self.commit(tx).await?;
                id
            }
        };
        let actor = Actor {
            kind: ActorKind::Contact,
            id: Some(contact),
            name: name.clone(),
        };
        let new = NewTicket {
            subject: form.subject,
            description: message.to_string(),
            requester: Some(RequesterInput {
                id: Some(contact),
                ..Default::default()
            }),
            team_id: inbox.teams.first().copied(),
            ..Default::default()
        };
        self.insert_new_ticket(inbox.org_id, &actor, new, None).await
    }
}

/// The form's limits: per sender address, and per inbox (a flood from many addresses).
pub(crate) struct FormLimits {
    pub(crate) per_address: Window,
    pub(crate) per_inbox: Window,
}

impl Default for FormLimits {
    fn default() -> Self {
        FormLimits {
            per_address: Window::new(5, Duration::from_secs(600)),
            per_inbox: Window::new(200, Duration::from_secs(3600)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_allows_its_maximum_then_says_when_to_come_back() {
        let w = Window::new(2, Duration::from_secs(60));
        assert_eq!(w.hit("a"), Ok(()));
        assert_eq!(w.hit("a"), Ok(()));
        let wait = w.hit("a").unwrap_err();
        assert!((1..=60).contains(&wait));
        assert_eq!(w.hit("b"), Ok(()), "each key has its own count");
    }
}
