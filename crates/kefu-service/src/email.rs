//! Email inboxes in the application: their settings with the passwords sealed apart, the connection state admins
//! see, and a received mail becoming a message — in the conversation it threads into (by Message-ID, then the
//! reply address's tag, then a `[#123]` ticket tag), else in a new conversation routed like any other. A mail
//! is taken in once, however often it is fetched; a machine-written one is recorded and never answered.

use crate::{Result, Service, ServiceError, new_id};
use base64::Engine;
use kefu_core::email::{EmailSecrets, EmailSettings};
use kefu_core::model::*;
use kefu_store::{NewEmailRecord, now_ms};
use uuid::Uuid;

impl Service {
    /// A file kept with a message, for someone who may read its conversation: (what it is, its bytes).
    pub async fn attachment(&self, user: &User, id: Uuid) -> Result<(Attachment, Vec<u8>)> {
        let stored = self
            .store()
            .attachment(id)
            .await?
            .filter(|a| a.org_id == user.org_id)
            .ok_or(ServiceError::NotFound("attachment"))?;
        self.readable_conversation(user, stored.conversation_id).await?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(stored.data_base64)
            .map_err(ServiceError::internal)?;
        Ok((stored.meta, bytes))
    }

    /// The mail a message came from, for someone who may read its conversation.
    async fn readable_mail(&self, user: &User, message_id: Uuid) -> Result<kefu_store::MailOriginal> {
        let message = self
            .store()
            .message(message_id)
            .await?
            .ok_or(ServiceError::NotFound("message"))?;
        // Another organisation's message, or one that is not a mail, is not found to this reader.
        self.readable_conversation(user, message.conversation_id)
            .await
            .map_err(|e| match e {
                ServiceError::NotFound(_) => ServiceError::NotFound("message"),
                other => other,
            })?;
        self.store()
            .mail_original(message_id)
            .await?
            .ok_or(ServiceError::NotFound("mail"))
    }

    /// The formatted (HTML) version of a received mail, sanitised when it was taken in.
    pub async fn mail_html(&self, user: &User, message_id: Uuid) -> Result<String> {
        self.readable_mail(user, message_id)
            .await?
            .html
            .ok_or(ServiceError::NotFound("html version"))
    }

    /// A received mail exactly as it arrived (RFC 5322), with its subject to name the download.
    pub async fn mail_source(&self, user: &User, message_id: Uuid) -> Result<(String, Vec<u8>)> {
        let mail = self.readable_mail(user, message_id).await?;
        let raw = mail.raw.ok_or(ServiceError::NotFound("original mail"))?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(raw)
            .map_err(ServiceError::internal)?;
        Ok((mail.subject, bytes))
    }
}

/// A received mail, as the email channel hands it over.
#[derive(Debug, Clone, Default)]
pub struct InboundEmail {
    pub message_id: String,
    /// The mails it answers, In-Reply-To first.
    pub answers: Vec<String>,
    pub from_address: String,
    pub from_name: Option<String>,
    pub subject: String,
    /// What agents read, quotes trimmed; at most 10,000 characters.
    pub text: String,
    /// The HTML part, sanitised: shown on request, in a sandbox.
    pub html: Option<String>,
    /// The original mail.
    pub raw: Vec<u8>,
    pub automatic: bool,
    /// `[#123]` in the subject.
    pub ticket_number: Option<i64>,
    /// The tag of a plus-address it was sent to (`support+<tag>@…`): Kefu's reply addresses carry the
    /// conversation's id there.
    pub address_tag: Option<String>,
    /// Attached files: (name, content type, bytes).
    pub attachments: Vec<(String, String, Vec<u8>)>,
}

/// The largest file kept from a mail.
pub const MAX_ATTACHMENT_BYTES: usize = 10 * 1024 * 1024;
/// The most kept from one mail, all files together.
pub const MAX_MAIL_ATTACHMENT_BYTES: usize = 25 * 1024 * 1024;
/// The most files kept from one mail.
pub const MAX_ATTACHMENTS: usize = 20;

/// Which files of a mail are kept, and a line for each one that is not, for the agent to read.
fn keep_attachments(files: &[(String, String, Vec<u8>)]) -> (Vec<(Attachment, String)>, Vec<String>) {
    let mut kept = Vec::new();
    let mut notes = Vec::new();
    let mut total = 0usize;
    for (name, content_type, bytes) in files {
        let name: String = name.chars().take(200).collect();
        let size = bytes.len();
        let why = if size > MAX_ATTACHMENT_BYTES {
            Some("larger than 10 MB")
        } else if total + size > MAX_MAIL_ATTACHMENT_BYTES {
            Some("the mail's files are over 25 MB in all")
        } else if kept.len() >= MAX_ATTACHMENTS {
            Some("more than 20 files")
        } else {
            None
        };
        match why {
            Some(reason) => notes.push(format!("[{name} ({} KB) was not kept: {reason}]", size.div_ceil(1024))),
            None => {
                total += size;
                let meta = Attachment {
                    id: new_id(),
                    filename: name,
                    content_type: content_type.chars().take(100).collect(),
                    size: size as u64,
                };
                kept.push((meta, base64::engine::general_purpose::STANDARD.encode(bytes)));
            }
        }
    }
    (kept, notes)
}

/// What became of a received mail.
#[derive(Debug, Clone)]
pub enum Taken {
    Message(Box<Message>),
    /// Taken in before (a retry, or a fetch after a restart).
    Duplicate,
    /// Written by a machine: recorded, not shown.
    Ignored,
}

/// An email inbox ready to fetch: its settings and its passwords.
#[derive(Debug, Clone)]
pub struct EmailInbox {
    pub inbox: Inbox,
    pub settings: EmailSettings,
    pub secrets: EmailSecrets,
}

/// The tag Kefu puts in a reply address for a conversation.
pub fn conversation_tag(conversation_id: Uuid) -> String {
    format!("c{}", conversation_id.simple())
}

fn tagged_conversation(tag: &str) -> Option<Uuid> {
    Uuid::parse_str(tag.strip_prefix('c')?).ok()
}

impl Service {
    /// Checks an email inbox's settings and seals its passwords: (settings to store, sealed secrets).
    pub(crate) fn seal_email_settings(
        &self,
        settings: &serde_json::Value,
        previous: Option<&EmailSecrets>,
    ) -> Result<(serde_json::Value, String)> {
        let (parsed, secrets) = EmailSettings::parse(settings, previous)?;
        let sealed = self
            .config()
            .secrets
            .seal(&serde_json::to_string(&secrets).expect("secrets serialize"));
        Ok((parsed.redacted(), sealed))
    }

    pub(crate) async fn email_secrets(&self, inbox_id: Uuid) -> Result<Option<EmailSecrets>> {
        let Some(sealed) = self.store().inbox_secrets(inbox_id).await? else {
            return Ok(None);
        };
        let plain = self.config().secrets.open(&sealed).map_err(ServiceError::internal)?;
        Ok(Some(serde_json::from_str(&plain).map_err(ServiceError::internal)?))
    }

    /// Every email inbox whose settings and passwords can be read. One that cannot (sealed with another
    /// installation's key) is marked in error, for its admin to re-enter the passwords.
    pub async fn email_inboxes(&self) -> Result<Vec<EmailInbox>> {
        let mut out = Vec::new();
        for inbox in self.store().email_inboxes().await? {
            let secrets = match self.email_secrets(inbox.id).await {
                Ok(Some(s)) => s,
                Ok(None) | Err(_) => {
                    self.mark_broken(&inbox, "the stored passwords cannot be read: enter them again")
                        .await?;
                    continue;
                }
            };
            match EmailSettings::parse(&inbox.settings, Some(&secrets)) {
                Ok((settings, secrets)) => out.push(EmailInbox {
                    inbox,
                    settings,
                    secrets,
                }),
                Err(e) => self.mark_broken(&inbox, &e.to_string()).await?,
            }
        }
        Ok(out)
    }

    /// Puts an inbox that cannot run in the error state, once: this is looked at every few seconds, and the
    /// state's `since` must say when the trouble began.
    async fn mark_broken(&self, inbox: &Inbox, message: &str) -> Result<()> {
        let state = inbox.channel_state.as_ref();
        let already = state.is_some_and(|s| s["status"] == "error" && s["message"] == message);
        if already {
            return Ok(());
        }
        self.set_channel_state(inbox.id, "error", message).await
    }

    /// Records how the inbox's connection is doing, for its admins.
    pub async fn set_channel_state(&self, inbox_id: Uuid, status: &str, message: &str) -> Result<()> {
        let state = serde_json::json!({ "status": status, "message": message, "since": Timestamp(now_ms()) });
        let mut tx = self.store().begin().await?;
        tx.set_channel_state(inbox_id, &state).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn email_cursor(&self, inbox_id: Uuid) -> Result<Option<(i64, i64)>> {
        Ok(self.store().email_cursor(inbox_id).await?)
    }

    pub async fn set_email_cursor(&self, inbox_id: Uuid, uid_validity: i64, last_uid: i64) -> Result<()> {
        let mut tx = self.store().begin().await?;
        tx.set_email_cursor(inbox_id, uid_validity, last_uid).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The conversation a mail continues, if any: by the mails it answers, the reply address's tag, or the
    /// ticket number in its subject — so a changed subject does not break the thread.
    async fn email_thread(&self, inbox: &Inbox, mail: &InboundEmail) -> Result<Option<Uuid>> {
        if let Some(c) = self.store().email_thread(inbox.id, &mail.answers).await? {
            return Ok(Some(c));
        }
        if let Some(c) = mail.address_tag.as_deref().and_then(tagged_conversation)
            && self
                .store()
                .conversation(c)
                .await?
                .is_some_and(|c| c.inbox_id == inbox.id)
        {
            return Ok(Some(c));
        }
        if let Some(n) = mail.ticket_number {
            let filter = kefu_store::TicketFilter {
                query: Some(format!("#{n}")),
                limit: 5,
                ..Default::default()
            };
            let found = self.store().tickets(inbox.org_id, &filter, now_ms()).await?;
            return Ok(found
                .into_iter()
                .find(|t| t.number == n)
                .and_then(|t| t.conversation_id));
        }
        Ok(None)
    }

    /// The inbox's contact with the sender's address, made on the first mail.
    async fn email_contact(&self, inbox: &Inbox, mail: &InboundEmail) -> Result<Contact> {
        if let Some(id) = self
            .store()
            .inbox_contact_by_email(inbox.id, &mail.from_address)
            .await?
        {
            return self
                .store()
                .contact(inbox.org_id, id)
                .await?
                .ok_or(ServiceError::NotFound("contact"));
        }
        let now = now_ms();
        let name = mail
            .from_name
            .clone()
            .filter(|n| kefu_core::validate::name("name", n).is_ok())
            .unwrap_or_else(|| mail.from_address.clone());
        let mut tx = self.store().begin().await?;
        let id = new_id();
        tx.insert_contact(id, inbox.org_id, inbox.id, None, &name, &serde_json::json!({}), now)
            .await?;
        let contact = tx
            .update_contact(id, None, Some(Some(&mail.from_address)), None, None, now)
            .await?;
        self.commit(tx).await?;
        Ok(contact)
    }

    /// Takes in one received mail.
    pub async fn email_received(&self, inbox: &Inbox, mail: InboundEmail) -> Result<Taken> {
        if self.store().email_record(inbox.id, &mail.message_id).await?.is_some() {
            return Ok(Taken::Duplicate);
        }
        let now = now_ms();
        let raw = base64::engine::general_purpose::STANDARD.encode(&mail.raw);
        // Kefu's own mail coming back (a copy, a loop through a forwarding rule) is never a customer's.
        let own = inbox.settings["smtp"]["from_address"].as_str() == Some(mail.from_address.as_str());
        if mail.automatic || own {
            let mut tx = self.store().begin().await?;
            tx.insert_email_record(NewEmailRecord {
                inbox_id: inbox.id,
                message_id: &mail.message_id,
                conversation_id: None,
                kefu_message_id: None,
                direction: "in",
                subject: &mail.subject,
                raw: Some(&raw),
                html: None,
                now,
            })
            .await?;
            tx.commit().await?;
            return Ok(Taken::Ignored);
        }
        let contact = self.email_contact(inbox, &mail).await?;
        let mut thread = self.email_thread(inbox, &mail).await?;
        let mut ticket = match thread {
            Some(c) => self.store().ticket_for_conversation(c).await?,
            None => None,
        };
        // A closed ticket is final: a mail about it starts over, as a new thread.
        if ticket
            .as_ref()
            .is_some_and(|t| t.status == kefu_core::ticket::TicketStatus::Closed)
        {
            thread = None;
            ticket = None;
        }
        // A reply by mail to a closed conversation opens it again: the thread goes on.
        if let Some(c) = thread
            && self
                .store()
                .conversation(c)
                .await?
                .is_some_and(|c| c.status == ConversationStatus::Closed)
        {
            self.reopen_conversation(inbox.org_id, c, None).await?;
        }
        let (files, dropped) = keep_attachments(&mail.attachments);
        let mut content = match mail.text.trim() {
            "" if !files.is_empty() => "(attachments)".to_string(),
            "" if mail.subject.trim().is_empty() => "(empty mail)".to_string(),
            "" => mail.subject.trim().to_string(),
            _ => mail.text.clone(),
        };
        for note in dropped {
            content = format!("{content}\n{note}");
        }
        let content: String = content.chars().take(kefu_core::validate::MAX_MESSAGE_CHARS).collect();
        // The Message-ID is the idempotency key: fetching the mail again after a crash returns the stored message.
        let client_id = if mail.message_id.len() <= 120 {
            format!("email:{}", mail.message_id)
        } else {
            format!("email:{}", crate::hash_token(&mail.message_id))
        };
        let send = |conversation_id| crate::SendMessage {
            conversation_id,
            client_id: client_id.clone(),
            content: content.clone(),
            private: false,
            files: Vec::new(),
        };
        let message = match self.contact_send(&contact, send(thread), thread.is_none()).await {
            // The thread is another contact's (someone in Cc answered): a conversation of their own.
            Err(ServiceError::NotFound(_)) if thread.is_some() => self.contact_send(&contact, send(None), true).await?,
            other => other?,
        };
        let conversation = self.store().conversation(message.conversation_id).await?;
        let mut tx = self.store().begin().await?;
        // Kept once: a mail fetched again returns the stored message, which has its files already.
        let attach = !files.is_empty() && message.attachments.is_empty();
        if attach {
            tx.attach(inbox.org_id, &message, &files, now).await?;
        }
        // The subject shows with the message, and a formatted version when the mail had one.
        let described = message.email.is_none();
        if described {
            let info = EmailInfo {
                subject: mail.subject.trim().to_string(),
                html: mail.html.is_some(),
            };
            tx.set_message_email(message.id, &info).await?;
        }
        let recorded = tx
            .insert_email_record(NewEmailRecord {
                inbox_id: inbox.id,
                message_id: &mail.message_id,
                conversation_id: Some(message.conversation_id),
                kefu_message_id: Some(message.id),
                direction: "in",
                subject: &mail.subject,
                raw: Some(&raw),
                html: mail.html.as_deref(),
                now,
            })
            .await;
        match recorded {
            Ok(()) => tx.commit().await?,
            // Fetched twice at once: the other fetch recorded it; the message itself exists once (client_id).
            Err(e) if e.is_unique_violation() => {}
            Err(e) => return Err(e.into()),
        }
        let message = match (attach || described, conversation) {
            (true, Some(conversation)) => {
                let message = self.store().message(message.id).await?.unwrap_or(message);
                self.publish(vec![crate::Notification::MessageUpdated {
                    conversation,
                    message: message.clone(),
                }]);
                message
            }
            _ => message,
        };
        match ticket {
            Some(t) => self.requester_wrote(inbox.org_id, t.id, &contact).await?,
            None if message.seq == 1 && inbox.settings["tickets"].as_bool() == Some(true) => {
                self.open_mail_ticket(inbox, &contact, &mail, message.conversation_id)
                    .await?
            }
            None => {}
        }
        Ok(Taken::Message(Box::new(message)))
    }

    /// A new thread in an inbox that makes tickets: the ticket, and a mail to the requester with its number.
    async fn open_mail_ticket(
        &self,
        inbox: &Inbox,
        contact: &Contact,
        mail: &InboundEmail,
        conversation_id: Uuid,
    ) -> Result<()> {
        let subject = match mail.subject.trim() {
            "" => "(no subject)".to_string(),
            s => s.chars().take(200).collect(),
        };
        let actor = kefu_core::ticket::Actor {
            kind: kefu_core::ticket::ActorKind::Contact,
            id: Some(contact.id),
            name: contact.name.clone(),
        };
        let new = crate::NewTicket {
            subject,
            description: mail.text.clone(),
            requester: Some(crate::RequesterInput {
                id: Some(contact.id),
                ..Default::default()
            }),
            team_id: inbox.teams.first().copied(),
            ..Default::default()
        };
        let ticket = self
            .insert_new_ticket(inbox.org_id, &actor, new, Some(conversation_id))
            .await?;
        self.tell_requester_opened(&ticket, conversation_id, inbox).await
    }

    /// Who Kefu's own notices are from: the inbox's sender name.
    pub(crate) fn inbox_sender(&self, inbox: &Inbox) -> Sender {
        let name = inbox.settings["smtp"]["from_name"]
            .as_str()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or(&inbox.name);
        Sender {
            kind: SenderKind::System,
            id: None,
            name: name.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_over_the_limits_are_named_not_kept() {
        let file = |name: &str, size: usize| (name.to_string(), "application/pdf".to_string(), vec![0u8; size]);
        let (kept, notes) = keep_attachments(&[file("a.pdf", 1000), file("huge.pdf", MAX_ATTACHMENT_BYTES + 1)]);
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].0.filename, "a.pdf");
        assert_eq!(kept[0].0.size, 1000);
        assert_eq!(
            notes,
            vec![format!(
                "[huge.pdf ({} KB) was not kept: larger than 10 MB]",
                (MAX_ATTACHMENT_BYTES + 1).div_ceil(1024)
            )]
        );
        let three: Vec<_> = (0..3).map(|i| file(&format!("{i}.bin"), 9 * 1024 * 1024)).collect();
        let (kept, notes) = keep_attachments(&three);
        assert_eq!(kept.len(), 2, "25 MB in all");
        assert!(notes[0].contains("over 25 MB"));
        let many: Vec<_> = (0..21).map(|i| file(&format!("{i}.txt"), 10)).collect();
        assert_eq!(keep_attachments(&many).0.len(), MAX_ATTACHMENTS);
    }

    #[test]
    fn a_conversation_tag_names_the_conversation() {
        let id = Uuid::now_v7();
        assert_eq!(tagged_conversation(&conversation_tag(id)), Some(id));
        assert_eq!(tagged_conversation("x123"), None);
        assert_eq!(tagged_conversation("cnot-a-uuid"), None);
    }
}
