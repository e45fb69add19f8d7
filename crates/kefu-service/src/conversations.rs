//! The message spine and the conversation lifecycle. Every change follows the same path: validate, decide
//! (the router for anything that changes who answers), commit in one transaction, then publish what committed.

use crate::identity::{ClaimedIdentity, IdentityCheck, signature_matches};
use crate::{Notification, Result, Service, ServiceError, new_id};
use kefu_core::model::*;
use kefu_core::routing::{self, Decision, Router, Waiting};
use kefu_core::{DomainError, validate};
use kefu_store::{Appender, ConversationFilter, NewMessage, Tx, now_ms};
use std::collections::HashMap;
use uuid::Uuid;

/// A message as a client sends it.
#[derive(Debug, Clone, Default)]
pub struct SendMessage {
    pub conversation_id: Option<Uuid>,
    pub client_id: String,
    pub content: String,
    pub private: bool,
    /// Files that come with it, stored in the same transaction.
    pub files: Vec<crate::MediaFile>,
}

/// Where the visitor is, as the widget reports it on connect: kept on the contact for the agent's contact panel.
#[derive(Debug, Clone, Default)]
pub struct VisitorProfile {
    pub page_url: Option<String>,
    pub page_title: Option<String>,
    pub referrer: Option<String>,
    pub user_agent: Option<String>,
    pub locale: Option<String>,
    /// Who the customer's page says the visitor is (`Kefu.setUser`), if it said.
    pub identity: Option<ClaimedIdentity>,
}

fn clip(value: &Option<String>, max: usize) -> Option<serde_json::Value> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|v| v.chars().take(max).collect::<String>().into())
}

impl VisitorProfile {
    /// `attributes` with this profile's facts written in (`page`, `referrer`, `browser`, `locale`); what the
    /// widget did not report is left as it was. Overlong values are cut, not refused.
    fn merged_into(&self, attributes: &serde_json::Value) -> serde_json::Value {
        let mut merged = attributes.as_object().cloned().unwrap_or_default();
        if let Some(url) = clip(&self.page_url, 2000) {
            let mut page = serde_json::Map::new();
            page.insert("url".into(), url);
            if let Some(title) = clip(&self.page_title, 300) {
                page.insert("title".into(), title);
            }
            merged.insert("page".into(), serde_json::Value::Object(page));
        }
        for (key, value, max) in [
            ("referrer", &self.referrer, 2000),
            ("browser", &self.user_agent, 500),
            ("locale", &self.locale, 35),
        ] {
            if let Some(v) = clip(value, max) {
                merged.insert(key.into(), v);
            }
        }
        serde_json::Value::Object(merged)
    }
}

/// What the pre-chat form sends.
#[derive(Debug, Clone, Default)]
pub struct VisitorIdentity {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub fields: std::collections::BTreeMap<String, String>,
}

/// What a visitor gets on connect.
#[derive(Debug, Clone)]
pub struct VisitorSession {
    pub inbox: Inbox,
    pub contact: Contact,
    /// Present it again to come back as the same contact. New when the one presented was unknown.
    pub visitor_token: String,
    pub conversations: Vec<Conversation>,
    /// What became of the identity the page claimed; `None` when it claimed none.
    pub identity: Option<IdentityCheck>,
}

/// A page of history. A reader may skip every seq up to `up_to_seq`: what it did not get there is not for it
/// (a private note, for a visitor). When a full page came back, sync again from `up_to_seq`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Synced {
    pub messages: Vec<Message>,
    pub up_to_seq: i64,
}

#[derive(Debug, Clone, Copy)]
pub enum TransferTarget {
    Agent(Uuid),
    Team(Uuid),
}

/// One step for the router inside a transaction.
enum Step {
    Event(routing::Event),
    AssignTo(Waiting, Uuid),
}

const SYNC_LIMIT: u32 = 1000;

impl Service {
    // ---- visitors ----

    /// Identifies a visitor of a web inbox: by a verified identity when the page claims one (the same person on
    /// every device), else by their visitor token when it is known, else as a new contact.
    pub async fn visitor_connect(
        &self,
        widget_token: &str,
        visitor_token: Option<&str>,
        profile: &VisitorProfile,
    ) -> Result<VisitorSession> {
        let inbox = self
            .store()
            .inbox_by_widget_token(widget_token)
            .await?
            .ok_or(ServiceError::NotFound("widget token"))?;
        let presented = visitor_token.filter(|t| !t.is_empty() && t.len() <= 200);
        let known = match presented {
            Some(token) => {
                self.store()
                    .contact_by_visitor_token(inbox.id, &crate::hash_token(token))
                    .await?
            }
            None => None,
        };
        let (identity, check) = match &profile.identity {
            Some(claim) => match verify(&inbox, claim) {
                Ok(identity) => (Some(identity), Some(IdentityCheck::verified())),
                Err(reason) => (None, Some(IdentityCheck::rejected(reason))),
            },
            None => (None, None),
        };
        // Two devices of a new person connecting at once race to create them: the loser finds them on a retry.
        let (contact, token) = match self
            .settle_visitor(&inbox, identity.as_ref(), known.clone(), presented, profile)
            .await
        {
            Err(e) if e.is_unique_violation() => {
                self.settle_visitor(&inbox, identity.as_ref(), known, presented, profile)
                    .await?
            }
            other => other?,
        };
        let conversations = self.contact_conversations(&contact).await?;
        Ok(VisitorSession {
            inbox,
            contact,
            visitor_token: token,
            conversations,
            identity: check,
        })
    }

    /// The contact and visitor token a connection ends up with, committed.
    async fn settle_visitor(
        &self,
        inbox: &Inbox,
        identity: Option<&ClaimedIdentity>,
        known: Option<Contact>,
        presented: Option<&str>,
        profile: &VisitorProfile,
    ) -> kefu_store::Result<(Contact, String)> {
        let by_id = match identity {
            Some(identity) => self.store().contact_by_external_id(inbox.id, &identity.id).await?,
            None => None,
        };
        let now = now_ms();
        let mut tx = self.store().begin().await?;
        let (contact, token) = match (identity, known, presented) {
            (Some(identity), known, presented) => {
                let (contact, token) = match (by_id, known) {
                    // The person is known: this device joins them, keeping its token if it was theirs already.
                    (Some(person), known) => match (known, presented) {
                        (Some(k), Some(token)) if k.id == person.id => (person, token.to_string()),
                        _ => {
                            let token = crate::auth::new_token();
                            tx.add_visitor_token(person.id, &crate::hash_token(&token), now).await?;
                            (person, token)
                        }
                    },
                    // An anonymous visitor signs in: they become the person, with their conversation so far.
                    (None, Some(k)) if k.external_id.is_none() => {
                        tx.set_contact_external_id(k.id, &identity.id, now).await?;
                        (k, presented.unwrap_or_default().to_string())
                    }
                    // Someone else's device, or no token: the person is new.
                    (None, _) => {
                        let token = crate::auth::new_token();
                        let contact = new_contact(&mut tx, inbox, &token, profile, now).await?;
                        tx.set_contact_external_id(contact.id, &identity.id, now).await?;
                        (contact, token)
                    }
                };
                let attributes = profile.merged_into(&contact.attributes);
                let contact = tx
                    .update_contact(
                        contact.id,
                        identity.name.as_deref(),
                        identity.email.as_deref().map(Some),
                        None,
                        Some(&attributes),
                        now,
                    )
                    .await?;
                (contact, token)
            }
            (None, Some(contact), Some(token)) => {
                let attributes = profile.merged_into(&contact.attributes);
                let contact = if attributes != contact.attributes {
                    tx.update_contact(contact.id, None, None, None, Some(&attributes), now)
                        .await?
                } else {
                    contact
                };
                (contact, token.to_string())
            }
            (None, _, _) => {
                let token = crate::auth::new_token();
                let contact = new_contact(&mut tx, inbox, &token, profile, now).await?;
                (contact, token)
            }
        };
        self.commit(tx).await?;
        Ok((contact, token))
    }

    /// The visitor tells who they are (the pre-chat form): name, email, phone and the inbox's custom fields.
    pub async fn visitor_identify(&self, contact: &Contact, identity: &VisitorIdentity) -> Result<Contact> {
        let inbox = self
            .store()
            .inbox(contact.org_id, contact.inbox_id)
            .await?
            .ok_or(ServiceError::NotFound("inbox"))?;
        let form = kefu_core::widget::WidgetSettings::from_inbox_settings(&inbox.settings)?.pre_chat;
        let given = |key: &str| -> Option<&str> {
            match key {
                "name" => identity.name.as_deref(),
                "email" => identity.email.as_deref(),
                "phone" => identity.phone.as_deref(),
                other => identity.fields.get(other).map(String::as_str),
            }
            .map(str::trim)
            .filter(|v| !v.is_empty())
        };
        if form.enabled {
            for field in form.fields.iter().filter(|f| f.required) {
                if given(&field.key).is_none() {
                    return Err(DomainError::invalid("fields", format!("{} is required", field.key)).into());
                }
            }
        }
        let name = given("name").map(|n| validate::name("name", n)).transpose()?;
        let email = given("email").map(validate::email).transpose()?;
        let phone = given("phone").map(validate::phone).transpose()?;
        let mut attributes = contact.attributes.clone();
        for (key, value) in &identity.fields {
            let Some(field) = form.fields.iter().find(|f| &f.key == key && !f.is_builtin()) else {
                return Err(DomainError::invalid("fields", format!("{key} is not a field of this form")).into());
            };
            let value = value.trim();
            if value.chars().count() > 500 {
                return Err(
                    DomainError::invalid("fields", format!("{} must be at most 500 characters", field.key)).into(),
                );
            }
            if !attributes.is_object() {
                attributes = serde_json::json!({});
            }
            let fields = attributes
                .as_object_mut()
                .expect("object")
                .entry("fields")
                .or_insert(serde_json::json!({}));
            if let Some(map) = fields.as_object_mut() {
                map.insert(key.clone(), serde_json::Value::String(value.to_string()));
            }
        }
        let mut tx = self.store().begin().await?;
        let contact = tx
            .update_contact(
                contact.id,
                name.as_deref(),
                email.as_deref().map(Some),
                phone.as_deref().map(Some),
                Some(&attributes),
                now_ms(),
            )
            .await?;
        tx.commit().await?;
        Ok(contact)
    }

    async fn contact_conversations(&self, contact: &Contact) -> Result<Vec<Conversation>> {
        let filter = ConversationFilter {
            contact_id: Some(contact.id),
            limit: 50,
            ..Default::default()
        };
        Ok(self.store().conversations(contact.org_id, &filter).await?)
    }

    /// A visitor's message. The first one (or one after the conversation closed) opens a conversation and
    /// starts routing; a repeated client_id returns the message already stored.
    pub async fn visitor_send(&self, contact: &Contact, req: SendMessage) -> Result<Message> {
        self.contact_send(contact, req, false).await
    }

    /// A contact's message. In a chat, one without a conversation continues the contact's open one; a mail that
    /// threads into nothing (`new_thread`) is a new conversation, as a new subject is a new thread by email.
    pub(crate) async fn contact_send(&self, contact: &Contact, req: SendMessage, new_thread: bool) -> Result<Message> {
        validate::client_id(&req.client_id)?;
        validate::message_content(&req.content)?;
        if let Some(id) = req.conversation_id
            && let Some(sent) = self.send_to_open_conversation(contact, id, &req).await?
        {
            return Ok(sent);
        }
        // A resend is recognised by the unique (sender, client_id) index when the insert fails, so the first
        // send costs no extra read; a resend to a closed conversation is caught below before anything opens.
        let named = match req.conversation_id {
            Some(id) => {
                let c = self
                    .store()
                    .conversation(id)
                    .await?
                    .filter(|c| c.contact_id == contact.id);
                Some(c.ok_or(ServiceError::NotFound("conversation"))?)
            }
            None => None,
        };
        // Writing to a closed conversation (or to none) continues the visitor's open one, if any, else opens one.
        let current = match named.filter(|c| c.status != ConversationStatus::Closed) {
            Some(c) => Some(c),
            None if new_thread => None,
            None => {
                let open = ConversationFilter {
                    contact_id: Some(contact.id),
                    open: true,
                    limit: 1,
                    ..Default::default()
                };
                self.store()
                    .conversations(contact.org_id, &open)
                    .await?
                    .into_iter()
                    .next()
            }
        };
        if current.is_none()
            && let Some(existing) = self
                .store()
                .message_by_client_id(SenderKind::Visitor, contact.id, &req.client_id)
                .await?
        {
            return Ok(existing);
        }
        // The visitor's open conversation (found here when none was named) takes the message; if it closed
        // in the meantime, a new one opens below.
        if let Some(open) = current.filter(|c| c.status != ConversationStatus::Closed)
            && let Some(sent) = self.send_to_open_conversation(contact, open.id, &req).await?
        {
            return Ok(sent);
        }
        let now = now_ms();
        let mut tx = self.store().begin().await?;
        tx.lock_organisation(contact.org_id).await?;
        let conversation_id = new_id();
        tx.insert_conversation(conversation_id, contact.org_id, contact.inbox_id, contact.id, now)
            .await?;
        let appended = append_contact_message(&mut tx, contact_message(contact, conversation_id, &req, now)).await?;
        let Some((_, message)) = appended else {
            drop(tx);
            return self.resent(SenderKind::Visitor, contact.id, &req).await;
        };
        let message = with_files(&mut tx, contact.org_id, message, &req.files, now).await?;
        let mut router = tx.load_router(contact.org_id, None).await?;
        // The new conversation is already in the queue the router loaded: drain it.
        let routed = self.route(&mut tx, contact.org_id, &mut router, None, now).await?;
        let conversation = self.with_position(tx.conversation(conversation_id).await?, &router);
        let mut notifications = vec![Notification::MessageNew {
            conversation: conversation.clone(),
            message: message.clone(),
        }];
        notifications.extend(routed);
        if conversation.status == ConversationStatus::Queued {
            notifications.push(Notification::ConversationUpdated {
                conversation,
                previous_assignee: None,
            });
        }
        tx.commit().await?;
        notifications.dedup_by(same_update);
        self.publish(notifications);
        Ok(message)
    }

    /// The common case, a message to the contact's own open conversation. Without files it is a transaction of
    /// its own, one trip to the database, whose statements take it only if the conversation is theirs and open;
    /// with files, they are stored in the same transaction. `None` when the conversation is someone else's,
    /// missing or closed: the general path decides what to do then.
    async fn send_to_open_conversation(
        &self,
        contact: &Contact,
        conversation_id: Uuid,
        req: &SendMessage,
    ) -> Result<Option<Message>> {
        let now = now_ms();
        let new = contact_message(contact, conversation_id, req, now);
        let appended = if req.files.is_empty() {
            self.store()
                .append_alone(new, false, Appender::Contact(contact.id))
                .await
        } else {
            let mut tx = self.store().begin().await?;
            match tx.append_message(new, false).await {
                Ok(Some((c, kind, m))) if c.contact_id == contact.id && c.status != ConversationStatus::Closed => {
                    let m = with_files(&mut tx, contact.org_id, m, &req.files, now).await?;
                    tx.commit().await?;
                    Ok(Some((c, kind, m)))
                }
                Ok(_) => Ok(None),
                Err(e) => Err(e),
            }
        };
        let (conversation, _, message) = match appended {
            Ok(Some(stored)) => stored,
            Ok(None) => return Ok(None),
            Err(e) if e.is_unique_violation() => {
                return self.resent(SenderKind::Visitor, contact.id, req).await.map(Some);
            }
            Err(e) => return Err(e.into()),
        };
        self.publish(vec![Notification::MessageNew {
            conversation,
            message: message.clone(),
        }]);
        Ok(Some(message))
    }

    async fn resent(&self, kind: SenderKind, sender: Uuid, req: &SendMessage) -> Result<Message> {
        self.store()
            .message_by_client_id(kind, sender, &req.client_id)
            .await?
            .ok_or_else(|| ServiceError::Conflict("client_id is already used".into()))
    }

    /// One of the visitor's own conversations; any other is "not found" to them.
    async fn visitors_conversation(&self, contact: &Contact, conversation_id: Uuid) -> Result<Conversation> {
        self.store()
            .conversation(conversation_id)
            .await?
            .filter(|c| c.contact_id == contact.id)
            .ok_or(ServiceError::NotFound("conversation"))
    }

    /// Messages of a visitor's own conversation after `after_seq`, without private notes.
    pub async fn visitor_sync(&self, contact: &Contact, conversation_id: Uuid, after_seq: i64) -> Result<Synced> {
        let conversation = self.visitors_conversation(contact, conversation_id).await?;
        self.synced(&conversation, after_seq, false).await
    }

    /// Messages after `after_seq`, and the seq up to which the reader now has everything they may see.
    async fn synced(&self, conversation: &Conversation, after_seq: i64, include_private: bool) -> Result<Synced> {
        let messages = self
            .store()
            .messages_after(conversation.id, after_seq, include_private, SYNC_LIMIT)
            .await?;
        let up_to_seq = match messages.last() {
            Some(last) if messages.len() == SYNC_LIMIT as usize => last.seq,
            Some(last) => last.seq.max(conversation.last_seq),
            None => after_seq.max(conversation.last_seq),
        };
        Ok(Synced { messages, up_to_seq })
    }

    /// The visitor has seen their conversation up to `seq`.
    pub async fn visitor_read(&self, contact: &Contact, conversation_id: Uuid, seq: i64) -> Result<i64> {
        let conversation = self.visitors_conversation(contact, conversation_id).await?;
        self.mark_read(conversation, true, seq).await
    }

    /// An agent (the assignee, or a supervisor or admin) has seen the conversation up to `seq`.
    pub async fn agent_read(&self, user: &User, conversation_id: Uuid, seq: i64) -> Result<i64> {
        let conversation = self.actionable_conversation(user, conversation_id).await?;
        self.mark_read(conversation, false, seq).await
    }

    /// Moves a read position forward (capped at the last message) and tells the other side; returns where it is.
    async fn mark_read(&self, conversation: Conversation, by_visitor: bool, seq: i64) -> Result<i64> {
        if seq < 0 {
            return Err(DomainError::invalid("seq", "must not be negative").into());
        }
        let seq = seq.min(conversation.last_seq);
        let mut tx = self.store().begin().await?;
        let moved = tx.mark_read(conversation.id, by_visitor, seq).await?;
        let conversation = tx.conversation(conversation.id).await?;
        tx.commit().await?;
        let now = if by_visitor {
            conversation.visitor_read_seq
        } else {
            conversation.agent_read_seq
        };
        if moved {
            self.publish(vec![Notification::Read {
                conversation,
                by_visitor,
                seq: now,
            }]);
        }
        Ok(now)
    }

    /// The visitor rates a closed conversation of theirs (again, if they change their mind).
    pub async fn visitor_rate(
        &self,
        contact: &Contact,
        conversation_id: Uuid,
        score: u8,
        comment: Option<&str>,
    ) -> Result<Conversation> {
        if !(1..=5).contains(&score) {
            return Err(DomainError::invalid("score", "must be 1 to 5").into());
        }
        let comment = comment.map(str::trim).filter(|c| !c.is_empty());
        if comment.is_some_and(|c| c.chars().count() > 1000) {
            return Err(DomainError::invalid("comment", "must be at most 1,000 characters").into());
        }
        let conversation = self.visitors_conversation(contact, conversation_id).await?;
        if conversation.status != ConversationStatus::Closed {
            return Err(DomainError::ConversationOpen.into());
        }
        let mut tx = self.store().begin().await?;
        tx.rate(conversation_id, score, comment, now_ms()).await?;
        let conversation = tx.conversation(conversation_id).await?;
        tx.commit().await?;
        self.publish(vec![Notification::ConversationUpdated {
            conversation: conversation.clone(),
            previous_assignee: None,
        }]);
        Ok(conversation)
    }

    pub async fn visitor_typing(&self, contact: &Contact, conversation_id: Uuid, is_typing: bool) -> Result<()> {
        let conversation = self.visitors_conversation(contact, conversation_id).await?;
        if conversation.status == ConversationStatus::Closed {
            return Err(DomainError::ConversationClosed.into());
        }
        let sender = Sender {
            kind: SenderKind::Visitor,
            id: Some(contact.id),
            name: contact.name.clone(),
        };
        self.publish(vec![Notification::Typing {
            conversation,
            sender,
            is_typing,
        }]);
        Ok(())
    }

    // ---- agents ----

    /// A conversation the user may read: their own, any queued one of their organisation, or any at all for
    /// supervisors and admins.
    pub async fn readable_conversation(&self, user: &User, id: Uuid) -> Result<Conversation> {
        let c = self
            .store()
            .conversation(id)
            .await?
            .filter(|c| c.org_id == user.org_id)
            .ok_or(ServiceError::NotFound("conversation"))?;
        let own = c.assignee.as_ref().is_some_and(|a| a.id == user.id);
        if user.role.oversees()
            || own
            || c.status == ConversationStatus::Queued
            || self.serves(user, c.contact_id).await?
        {
            Ok(c)
        } else {
            Err(ServiceError::Forbidden("this conversation belongs to another agent"))
        }
    }

    /// A conversation the user may act on: their own, or any for supervisors and admins.
    async fn actionable_conversation(&self, user: &User, id: Uuid) -> Result<Conversation> {
        let c = self
            .store()
            .conversation(id)
            .await?
            .filter(|c| c.org_id == user.org_id)
            .ok_or(ServiceError::NotFound("conversation"))?;
        if can_act(user, &c) {
            Ok(c)
        } else {
            Err(ServiceError::Forbidden(
                "only the assignee, a supervisor or an admin may do this",
            ))
        }
    }

    pub async fn agent_send(&self, user: &User, req: SendMessage) -> Result<Message> {
        validate::client_id(&req.client_id)?;
        validate::message_content(&req.content)?;
        let conversation_id = req
            .conversation_id
            .ok_or(DomainError::invalid("conversation_id", "is required"))?;
        let responding = !req.private;
        // The common case, a reply or a note in a web chat the user may act on, is checked and stored as one
        // statement. Anything else (someone else's conversation, a closed one, a channel to deliver to, files to
        // store) is sorted out below, with reads a transaction must not wait on.
        if req.files.is_empty() {
            let appender = Appender::Agent {
                org_id: user.org_id,
                id: user.id,
                oversees: user.role.oversees(),
            };
            match self
                .store()
                .append_alone(agent_message(user, &req, conversation_id), responding, appender)
                .await
            {
                Ok(Some((conversation, _, message))) => {
                    self.publish(vec![Notification::MessageNew {
                        conversation,
                        message: message.clone(),
                    }]);
                    return Ok(message);
                }
                Ok(None) => {}
                Err(e) if e.is_unique_violation() => return self.resent(SenderKind::Agent, user.id, &req).await,
                Err(e) => return Err(e.into()),
            }
        }
        let allowed = self.actionable_conversation(user, conversation_id).await.and_then(|c| {
            if c.status == ConversationStatus::Closed {
                Err(DomainError::ConversationClosed.into())
            } else {
                Ok(c)
            }
        });
        let conversation = match allowed {
            Ok(c) => c,
            // A resend of a message stored before the conversation closed (or changed hands) is still a resend.
            Err(e) => {
                return match self
                    .store()
                    .message_by_client_id(SenderKind::Agent, user.id, &req.client_id)
                    .await?
                {
                    Some(existing) => Ok(existing),
                    None => Err(e),
                };
            }
        };
        // Read before the transaction: a pool read while it holds a connection could wait on itself.
        let delivered = !req.private && self.delivers(&conversation).await?;
        // A reply the channel would refuse (WeChat's window) is refused now, not queued to fail; a resend of one
        // stored while the window was open is still a resend.
        if delivered && let Err(e) = self.check_reply_window(&conversation).await {
            return match self
                .store()
                .message_by_client_id(SenderKind::Agent, user.id, &req.client_id)
                .await?
            {
                Some(existing) => Ok(existing),
                None => Err(e),
            };
        }
        let mut tx = self.store().begin().await?;
        match tx
            .append_message(agent_message(user, &req, conversation_id), responding)
            .await
        {
            Ok(Some((conversation, _, message))) => {
                self.finish_agent_message(tx, &req, conversation, message, delivered)
                    .await
            }
            Ok(None) => Err(ServiceError::NotFound("conversation")),
            Err(e) if e.is_unique_violation() => {
                drop(tx);
                self.resent(SenderKind::Agent, user.id, &req).await
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Completes an agent's message appended in `tx`: its files, the outbox when it is to be `delivered` (committed
    /// with it), the commit, and the announcement.
    async fn finish_agent_message(
        &self,
        mut tx: Tx,
        req: &SendMessage,
        conversation: Conversation,
        message: Message,
        delivered: bool,
    ) -> Result<Message> {
        let now = message.created_at.0;
        let mut message = with_files(&mut tx, conversation.org_id, message, &req.files, now).await?;
        if delivered {
            crate::outbox::enqueue(&mut tx, &conversation, &mut message, now).await?;
        }
        tx.commit().await?;
        self.publish(vec![Notification::MessageNew {
            conversation,
            message: message.clone(),
        }]);
        Ok(message)
    }

    /// Messages after `after_seq` for an agent, private notes included.
    pub async fn agent_sync(&self, user: &User, conversation_id: Uuid, after_seq: i64) -> Result<Synced> {
        let conversation = self.readable_conversation(user, conversation_id).await?;
        self.synced(&conversation, after_seq, true).await
    }

    pub async fn agent_typing(&self, user: &User, conversation_id: Uuid, is_typing: bool) -> Result<()> {
        let conversation = self.actionable_conversation(user, conversation_id).await?;
        if conversation.status == ConversationStatus::Closed {
            return Err(DomainError::ConversationClosed.into());
        }
        let sender = Sender {
            kind: SenderKind::Agent,
            id: Some(user.id),
            name: user.name.clone(),
        };
        self.publish(vec![Notification::Typing {
            conversation,
            sender,
            is_typing,
        }]);
        Ok(())
    }

    /// Sends a conversation to a person (who must be online with room) or to a team's queue.
    pub async fn transfer(&self, user: &User, conversation_id: Uuid, target: TransferTarget) -> Result<Conversation> {
        let before = self.actionable_conversation(user, conversation_id).await?;
        if before.status == ConversationStatus::Closed {
            return Err(DomainError::ConversationClosed.into());
        }
        let now = now_ms();
        let mut tx = self.store().begin().await?;
        tx.lock_organisation(user.org_id).await?;
        let current = tx
            .conversation_for_update(conversation_id)
            .await?
            .ok_or(ServiceError::NotFound("conversation"))?;
        let previous = current.assignee.as_ref().map(|a| a.id);
        let mut router = tx.load_router(user.org_id, previous).await?;
        let waiting = |team_id| Waiting {
            conversation_id,
            inbox_id: current.inbox_id,
            team_id,
            preferred_agent: None,
            queued_at: now,
        };
        let step = match target {
            TransferTarget::Agent(agent_id) => {
                if router.agent(agent_id).is_none() {
                    return Err(ServiceError::NotFound("agent"));
                }
                Step::AssignTo(waiting(current.team_id), agent_id)
            }
            TransferTarget::Team(team_id) => {
                if tx.team(user.org_id, team_id).await?.is_none() {
                    return Err(ServiceError::NotFound("team"));
                }
                tx.queue_conversation(conversation_id, Some(team_id), now, now).await?;
                Step::Event(routing::Event::Waiting(waiting(Some(team_id))))
            }
        };
        let mut notes = self.route(&mut tx, user.org_id, &mut router, Some(step), now).await?;
        let conversation = self.with_position(tx.conversation(conversation_id).await?, &router);
        notes.insert(
            0,
            Notification::ConversationUpdated {
                conversation: conversation.clone(),
                previous_assignee: previous,
            },
        );
        tx.commit().await?;
        notes.dedup_by(same_update);
        self.publish(notes);
        Ok(conversation)
    }

    pub async fn close(&self, user: &User, conversation_id: Uuid) -> Result<Conversation> {
        let before = self.actionable_conversation(user, conversation_id).await?;
        if before.status == ConversationStatus::Closed {
            return Err(DomainError::ConversationClosed.into());
        }
        let now = now_ms();
        let mut tx = self.store().begin().await?;
        tx.lock_organisation(user.org_id).await?;
        let current = tx
            .conversation_for_update(conversation_id)
            .await?
            .ok_or(ServiceError::NotFound("conversation"))?;
        if current.status == ConversationStatus::Closed {
            return Err(DomainError::ConversationClosed.into());
        }
        let mut router = tx.load_router(user.org_id, None).await?;
        tx.close_conversation(conversation_id, now).await?;
        // The router loaded the agent's load including this conversation; releasing it frees the place.
        if let Some(a) = &current.assignee {
            router.add_assigned(
                a.id,
                Waiting {
                    conversation_id,
                    inbox_id: current.inbox_id,
                    team_id: current.team_id,
                    preferred_agent: None,
                    queued_at: now,
                },
            );
        }
        let step = routing::Event::Released { conversation_id };
        let mut notes = self
            .route(&mut tx, user.org_id, &mut router, Some(Step::Event(step)), now)
            .await?;
        let conversation = tx.conversation(conversation_id).await?;
        notes.insert(
            0,
            Notification::ConversationUpdated {
                conversation: conversation.clone(),
                previous_assignee: None,
            },
        );
        tx.commit().await?;
        self.publish(notes);
        Ok(conversation)
    }

    /// Opens a closed conversation again: back to its last agent if they have room (or to the agent reopening it,
    /// if it never had one), else the queue.
    pub async fn reopen(&self, user: &User, conversation_id: Uuid) -> Result<Conversation> {
        let before = self.actionable_conversation(user, conversation_id).await?;
        if before.status != ConversationStatus::Closed {
            return Err(DomainError::ConversationOpen.into());
        }
        self.reopen_conversation(user.org_id, conversation_id, Some(user.id))
            .await
    }

    /// Reopens a closed conversation and routes it, preferring whoever last served it, else `fallback`.
    pub(crate) async fn reopen_conversation(
        &self,
        org_id: Uuid,
        conversation_id: Uuid,
        fallback: Option<Uuid>,
    ) -> Result<Conversation> {
        let now = now_ms();
        let mut tx = self.store().begin().await?;
        tx.lock_organisation(org_id).await?;
        let current = tx
            .conversation_for_update(conversation_id)
            .await?
            .ok_or(ServiceError::NotFound("conversation"))?;
        if current.status != ConversationStatus::Closed {
            return Err(DomainError::ConversationOpen.into());
        }
        tx.queue_conversation(conversation_id, current.team_id, now, now)
            .await?;
        let mut router = tx.load_router(org_id, None).await?;
        let waiting = Waiting {
            conversation_id,
            inbox_id: current.inbox_id,
            team_id: current.team_id,
            // Back to whoever last served it, if they can take it.
            preferred_agent: current.assignee.as_ref().map(|a| a.id).or(fallback),
            queued_at: now,
        };
        let step = Step::Event(routing::Event::Waiting(waiting));
        let mut notes = self.route(&mut tx, org_id, &mut router, Some(step), now).await?;
        let conversation = self.with_position(tx.conversation(conversation_id).await?, &router);
        notes.insert(
            0,
            Notification::ConversationUpdated {
                conversation: conversation.clone(),
                previous_assignee: None,
            },
        );
        tx.commit().await?;
        notes.dedup_by(same_update);
        self.publish(notes);
        Ok(conversation)
    }

    /// Sets an agent's presence and routes accordingly: online pulls from the queue, offline hands work back.
    pub async fn set_presence(&self, org_id: Uuid, agent_id: Uuid, presence: Presence) -> Result<()> {
        self.change_presence(org_id, agent_id, presence, None).await.map(|_| ())
    }

    /// Takes an agent offline if, once their organisation is locked, they are still present with no socket on
    /// any node since before `gone_before`. Returns whether they went offline.
    pub(crate) async fn take_offline_if_gone(&self, org_id: Uuid, agent_id: Uuid, gone_before: i64) -> Result<bool> {
        self.change_presence(org_id, agent_id, Presence::Offline, Some(gone_before))
            .await
    }

    async fn change_presence(
        &self,
        org_id: Uuid,
        agent_id: Uuid,
        presence: Presence,
        only_if_gone_before: Option<i64>,
    ) -> Result<bool> {
        let now = now_ms();
        let mut tx = self.store().begin().await?;
        tx.lock_organisation(org_id).await?;
        if let Some(gone_before) = only_if_gone_before
            && !tx.agent_gone(agent_id, gone_before).await?
        {
            return Ok(false);
        }
        tx.set_presence(agent_id, presence, now).await?;
        let mut router = tx.load_router(org_id, Some(agent_id)).await?;
        let step = routing::Event::Presence { agent_id, presence };
        let notes = self
            .route(&mut tx, org_id, &mut router, Some(Step::Event(step)), now)
            .await?;
        tx.commit().await?;
        let name = self
            .store()
            .user(org_id, agent_id)
            .await?
            .map(|u| u.name)
            .unwrap_or_default();
        let mut all = vec![Notification::Presence {
            org_id,
            agent_id,
            name,
            presence,
        }];
        all.extend(notes);
        self.publish(all);
        Ok(true)
    }

    /// Re-runs routing for an organisation after a change outside the router's events (capacity, teams).
    pub async fn reroute(&self, org_id: Uuid) -> Result<()> {
        let now = now_ms();
        let mut tx = self.store().begin().await?;
        tx.lock_organisation(org_id).await?;
        let mut router = tx.load_router(org_id, None).await?;
        let notes = self.route(&mut tx, org_id, &mut router, None, now).await?;
        tx.commit().await?;
        self.publish(notes);
        Ok(())
    }

    /// Applies one routing step (or just drains), writes the decisions, and returns what to announce after commit:
    /// assignments, requeues, and queue positions that changed.
    async fn route(
        &self,
        tx: &mut Tx,
        org_id: Uuid,
        router: &mut Router,
        step: Option<Step>,
        now: i64,
    ) -> Result<Vec<Notification>> {
        let before: HashMap<Uuid, u32> = router.queue_positions().into_iter().collect();
        let queued_since: HashMap<Uuid, i64> = router.queue().map(|w| (w.conversation_id, w.queued_at)).collect();
        let decisions = match step {
            None => router.drain(),
            Some(Step::Event(e)) => router.apply(e),
            Some(Step::AssignTo(w, agent)) => router.assign_to(w, agent)?,
        };
        debug_assert!(router.check_invariants().is_ok(), "{:?}", router.check_invariants());
        let mut notes = Vec::new();
        for d in &decisions {
            match *d {
                Decision::Assigned {
                    conversation_id,
                    agent_id,
                } => {
                    let last = router.agent(agent_id).map_or(now, |a| a.last_assigned);
                    tx.assign(conversation_id, agent_id, last, now).await?;
                    let conversation = tx.conversation(conversation_id).await?;
                    // Only a conversation that was already waiting tells how fast the queue moves.
                    if let Some(queued_at) = queued_since.get(&conversation_id) {
                        let mut pace = self.inner.pace.lock().unwrap_or_else(|e| e.into_inner());
                        pace.entry(org_id).or_default().taken(now, now - queued_at);
                    }
                    notes.push(Notification::ConversationAssigned {
                        conversation: conversation.clone(),
                    });
                    notes.push(Notification::ConversationUpdated {
                        conversation,
                        previous_assignee: None,
                    });
                }
                Decision::Requeued {
                    conversation_id,
                    from_agent,
                } => {
                    tx.requeue(conversation_id, now).await?;
                    let conversation = tx.conversation(conversation_id).await?;
                    notes.push(Notification::ConversationUpdated {
                        conversation,
                        previous_assignee: Some(from_agent),
                    });
                }
            }
        }
        let after = router.queue_positions();
        let moved: Vec<(Uuid, u32)> = after.into_iter().filter(|(id, p)| before.get(id) != Some(p)).collect();
        if !moved.is_empty() {
            let queued: HashMap<Uuid, Conversation> = tx
                .queued_conversations(org_id)
                .await?
                .into_iter()
                .map(|c| (c.id, c))
                .collect();
            for (id, position) in moved {
                if let Some(c) = queued.get(&id) {
                    let conversation = self.placed(c.clone(), Some(position));
                    let previous = decisions.iter().find_map(|d| match d {
                        Decision::Requeued {
                            conversation_id,
                            from_agent,
                        } if *conversation_id == id => Some(*from_agent),
                        _ => None,
                    });
                    notes.push(Notification::ConversationUpdated {
                        conversation,
                        previous_assignee: previous,
                    });
                }
            }
        }
        Ok(notes)
    }

    /// The conversation with its place in the queue and the wait that place means, while it is queued.
    fn with_position(&self, conversation: Conversation, router: &Router) -> Conversation {
        let position = router
            .queue_positions()
            .into_iter()
            .find(|(id, _)| *id == conversation.id)
            .map(|(_, p)| p);
        self.placed(conversation, position)
    }

    fn placed(&self, conversation: Conversation, position: Option<u32>) -> Conversation {
        let expected_wait_secs = position.and_then(|p| {
            let pace = self.inner.pace.lock().unwrap_or_else(|e| e.into_inner());
            pace.get(&conversation.org_id)?.expected_wait_secs(p)
        });
        Conversation {
            queue_position: position,
            expected_wait_secs,
            ..conversation
        }
    }

    /// Tells visitors who have waited too long that nobody is free, once per wait.
    pub(crate) async fn notify_queue_timeouts(&self) -> Result<()> {
        let cutoff = now_ms() - self.config().queue_timeout.as_millis() as i64;
        for conversation in self.store().queue_timeouts(cutoff).await? {
            let mut tx = self.store().begin().await?;
            let first = tx.mark_queue_timeout_notified(conversation.id).await?;
            tx.commit().await?;
            if first {
                self.publish(vec![Notification::QueueTimeout { conversation }]);
            }
        }
        Ok(())
    }

    /// Whether an agent is serving the contact now: then the contact's earlier conversations, whoever served
    /// them, are theirs to read, as the history of the person in front of them.
    async fn serves(&self, user: &User, contact_id: Uuid) -> Result<bool> {
        let filter = ConversationFilter {
            contact_id: Some(contact_id),
            assignee_id: Some(user.id),
            status: Some(ConversationStatus::Assigned),
            limit: 1,
            ..Default::default()
        };
        Ok(!self.store().conversations(user.org_id, &filter).await?.is_empty())
    }

    pub async fn conversations(&self, user: &User, mut filter: ConversationFilter) -> Result<Vec<Conversation>> {
        let history = match filter.contact_id {
            Some(contact_id) if filter.assignee_id.is_none() => self.serves(user, contact_id).await?,
            _ => false,
        };
        if !user.role.oversees() && !history && filter.status != Some(ConversationStatus::Queued) {
            match filter.assignee_id {
                Some(id) if id != user.id => {
                    return Err(ServiceError::Forbidden("agents list their own or queued conversations"));
                }
                _ => filter.assignee_id = Some(user.id),
            }
        }
        Ok(self.store().conversations(user.org_id, &filter).await?)
    }
}

fn can_act(user: &User, c: &Conversation) -> bool {
    user.org_id == c.org_id && (user.role.oversees() || c.assignee.as_ref().is_some_and(|a| a.id == user.id))
}

/// Two updates of the same conversation in a row say the same thing: keep one, with whatever the later adds.
fn same_update(later: &mut Notification, earlier: &mut Notification) -> bool {
    let same = match (&*later, &*earlier) {
        (
            Notification::ConversationUpdated { conversation: a, .. },
            Notification::ConversationUpdated { conversation: b, .. },
        ) => a.id == b.id && a.status == b.status && a.assignee == b.assignee && a.queue_position == b.queue_position,
        _ => false,
    };
    if same {
        // `dedup_by` drops `later`: the one that stays takes its content, and keeps who had the conversation before.
        if let (
            Notification::ConversationUpdated {
                previous_assignee: kept,
                ..
            },
            Notification::ConversationUpdated {
                previous_assignee: newer,
                ..
            },
        ) = (&*earlier, &mut *later)
        {
            *newer = newer.or(*kept);
        }
        std::mem::swap(later, earlier);
    }
    same
}

/// A claimed identity the inbox's secret vouches for, with its name and email checked; otherwise why not.
fn verify(inbox: &Inbox, claim: &ClaimedIdentity) -> std::result::Result<ClaimedIdentity, String> {
    let Some(secret) = inbox.identity_secret.as_deref() else {
        return Err("this inbox has no identity secret".into());
    };
    validate::external_id(&claim.id).map_err(|e| e.to_string())?;
    if !signature_matches(secret, &claim.id, &claim.hash) {
        return Err("hash is not HMAC-SHA256(id, the inbox's identity secret)".into());
    }
    let text = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let name = text(&claim.name)
        .map(|n| validate::name("name", &n))
        .transpose()
        .map_err(|e| e.to_string())?;
    let email = text(&claim.email)
        .map(|e| validate::email(&e))
        .transpose()
        .map_err(|e| e.to_string())?;
    Ok(ClaimedIdentity {
        id: claim.id.clone(),
        name,
        email,
        hash: String::new(),
    })
}

/// A new anonymous contact of a web inbox, recognised from now on by `token`.
async fn new_contact(
    tx: &mut Tx,
    inbox: &Inbox,
    token: &str,
    profile: &VisitorProfile,
    now: i64,
) -> kefu_store::Result<Contact> {
    let id = new_id();
    let name = format!("Visitor {}", &id.simple().to_string()[28..]);
    let attributes = profile.merged_into(&serde_json::json!({}));
    tx.insert_contact(
        id,
        inbox.org_id,
        inbox.id,
        Some(&crate::hash_token(token)),
        &name,
        &attributes,
        now,
    )
    .await
}

/// Appends a contact's message in `tx` (its files are the caller's, once it has checked the conversation it got
/// back). `None` when the contact already used this client_id: a resend, which the caller answers with the stored
/// message once the transaction is dropped.
/// An agent's message, sent now.
fn agent_message<'a>(user: &'a User, req: &'a SendMessage, conversation_id: Uuid) -> NewMessage<'a> {
    NewMessage {
        id: new_id(),
        conversation_id,
        sender_kind: SenderKind::Agent,
        sender_id: Some(user.id),
        sender_name: &user.name,
        content: &req.content,
        private: req.private,
        client_id: Some(&req.client_id),
        now: now_ms(),
    }
}

/// What a contact's message is stored as.
fn contact_message<'a>(contact: &'a Contact, conversation_id: Uuid, req: &'a SendMessage, now: i64) -> NewMessage<'a> {
    NewMessage {
        id: new_id(),
        conversation_id,
        sender_kind: SenderKind::Visitor,
        sender_id: Some(contact.id),
        sender_name: &contact.name,
        content: &req.content,
        private: false,
        client_id: Some(&req.client_id),
        now,
    }
}

/// Appends a contact's message in `tx`; `None` when its client id was used already (a resend).
async fn append_contact_message(tx: &mut Tx, message: NewMessage<'_>) -> Result<Option<(Conversation, Message)>> {
    match tx.append_message(message, false).await {
        Ok(Some((conversation, _, message))) => Ok(Some((conversation, message))),
        Ok(None) => Err(ServiceError::NotFound("conversation")),
        Err(e) if e.is_unique_violation() => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Stores a message's files in its transaction and lists them on it.
async fn with_files(
    tx: &mut Tx,
    org_id: Uuid,
    mut message: Message,
    files: &[crate::MediaFile],
    now: i64,
) -> Result<Message> {
    if !files.is_empty() {
        let stored: Vec<(Attachment, String)> = files.iter().map(crate::MediaFile::stored).collect();
        tx.attach(org_id, &message, &stored, now).await?;
        message.attachments = stored.into_iter().map(|(meta, _)| meta).collect();
    }
    Ok(message)
}
