//! Delivering agents' replies to other channels: what the delivery worker needs to send one (the inbox, the
//! message, who to, the thread), and settling it afterwards — sent, failed for good with the server's reason,
//! or tried again later — with the message's delivery state pushed to the agents.

use crate::email::{EmailInbox, conversation_tag};
use crate::{Notification, Result, Service, ServiceError};
use kefu_core::email::EmailSettings;
use kefu_core::model::*;
use kefu_store::{EmailThread, NewEmailRecord, OutboxItem, now_ms};

/// Retryable failures are tried this many times in all before the delivery counts as failed.
pub const MAX_ATTEMPTS: i64 = 8;

/// Everything needed to send one reply by email.
#[derive(Debug, Clone)]
pub struct EmailJob {
    pub item: OutboxItem,
    pub inbox: EmailInbox,
    pub message: Message,
    pub to_address: Option<String>,
    pub to_name: String,
    pub thread: EmailThread,
    /// The reply address's tag, so the customer's answer finds this conversation.
    pub reply_tag: String,
    /// The ticket the conversation became, shown as `[#123]` in the subject.
    pub ticket_number: Option<i64>,
}

/// Everything needed to send one reply to a WeChat user through the customer-service API.
#[derive(Debug, Clone)]
pub struct WechatJob {
    pub item: OutboxItem,
    pub inbox: crate::WechatInbox,
    pub message: Message,
    /// The user's OpenID.
    pub open_id: String,
}

/// Everything needed to send one reply by SMS through Twilio.
#[derive(Debug, Clone)]
pub struct TwilioJob {
    pub item: OutboxItem,
    pub inbox: crate::TwilioInbox,
    pub message: Message,
    /// The customer's number.
    pub to: String,
    /// Where Twilio reports the delivery: the inbox's webhook as Twilio last called it, plus `/status`.
    pub status_callback: Option<String>,
    /// A signed link Twilio fetches the message's file from, on the address Twilio calls Kefu at.
    pub media_url: Option<String>,
}

/// Everything needed to send one reply by SMS through Aliyun.
#[derive(Debug, Clone)]
pub struct AliyunJob {
    pub item: OutboxItem,
    pub inbox: crate::AliyunInbox,
    pub message: Message,
    /// The customer's number as Aliyun writes it (mainland numbers without +86).
    pub to: String,
}

/// Everything needed to send one reply through WeCom customer service.
#[derive(Debug, Clone)]
pub struct WecomJob {
    pub item: OutboxItem,
    pub inbox: crate::WecomInbox,
    pub message: Message,
    /// The customer's `external_userid`.
    pub external_userid: String,
}

/// Everything needed to send one reply to a Weibo user.
#[derive(Debug, Clone)]
pub struct WeiboJob {
    pub item: OutboxItem,
    pub inbox: crate::WeiboInbox,
    pub message: Message,
    /// The user's Weibo id.
    pub receiver_id: String,
}

/// Everything needed to deliver one reply to an API inbox's integration.
#[derive(Debug, Clone)]
pub struct ApiJob {
    pub item: OutboxItem,
    pub inbox: Inbox,
    pub reply_url: String,
    /// Signs the delivery, so the integration knows it comes from Kefu.
    pub secret: String,
    pub message: Message,
    pub contact: Contact,
}

/// A due delivery, by the channel that sends it.
#[derive(Debug, Clone)]
pub enum DeliveryJob {
    Email(EmailJob),
    Wechat(WechatJob),
    Twilio(TwilioJob),
    Aliyun(AliyunJob),
    Weibo(WeiboJob),
    Wecom(WecomJob),
    Api(ApiJob),
}

impl DeliveryJob {
    pub fn item(&self) -> &OutboxItem {
        match self {
            DeliveryJob::Email(j) => &j.item,
            DeliveryJob::Wechat(j) => &j.item,
            DeliveryJob::Twilio(j) => &j.item,
            DeliveryJob::Aliyun(j) => &j.item,
            DeliveryJob::Weibo(j) => &j.item,
            DeliveryJob::Wecom(j) => &j.item,
            DeliveryJob::Api(j) => &j.item,
        }
    }
}

/// How a try went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Mailed, with the Message-ID and subject it went out with.
    Sent { message_id: String, subject: String },
    /// Accepted by a provider's API, with the id it gave the message when it gives one (for its reports).
    Accepted { provider_id: Option<String> },
    /// Refused for good (an SMTP 5xx, no address): the reason, as the agent will read it.
    Failed(String),
    /// Might work later (a 4xx, the server unreachable).
    Retry(String),
}

/// Queues a message for delivery in the transaction that stores it, so it goes out exactly when it exists, and
/// marks it pending.
pub(crate) async fn enqueue(
    tx: &mut kefu_store::Tx,
    conversation: &Conversation,
    message: &mut Message,
    now: i64,
) -> Result<()> {
    tx.enqueue_delivery(
        crate::new_id(),
        conversation.org_id,
        conversation.inbox_id,
        conversation.id,
        message.id,
        now,
    )
    .await?;
    message.delivery = Some(Delivery {
        status: DeliveryStatus::Pending,
        error: None,
    });
    Ok(())
}

impl Service {
    /// Whether replies in this conversation are delivered by Kefu to another channel.
    pub(crate) async fn delivers(&self, conversation: &Conversation) -> Result<bool> {
        let inbox = self
            .store()
            .inbox(conversation.org_id, conversation.inbox_id)
            .await?
            .ok_or(ServiceError::NotFound("inbox"))?;
        Ok(match inbox.kind {
            InboxKind::Web => false,
            // Without a reply URL, the integration reads replies from Kefu.
            InboxKind::Api => inbox.settings["reply_url"].as_str().is_some(),
            InboxKind::Email
            | InboxKind::Wechat
            | InboxKind::Wecom
            | InboxKind::TwilioSms
            | InboxKind::AliyunSms
            | InboxKind::Weibo => true,
        })
    }

    /// Posts a public message into a conversation from outside the chat (a ticket comment, a notice to the
    /// requester), whatever its status; delivered like a reply when the conversation is another channel's.
    pub(crate) async fn post_to_thread(
        &self,
        conversation_id: uuid::Uuid,
        sender: Sender,
        content: &str,
    ) -> Result<Message> {
        let conversation = self
            .store()
            .conversation(conversation_id)
            .await?
            .ok_or(ServiceError::NotFound("conversation"))?;
        let delivers = self.delivers(&conversation).await?;
        let now = now_ms();
        let client_id = crate::new_id().to_string();
        let mut tx = self.store().begin().await?;
        let message = kefu_store::NewMessage {
            id: crate::new_id(),
            conversation_id,
            sender_kind: sender.kind,
            sender_id: sender.id,
            sender_name: &sender.name,
            content,
            private: false,
            client_id: Some(&client_id),
            now,
        };
        let (conversation, _, mut message) = tx
            .append_message(message, sender.kind == SenderKind::Agent)
            .await?
            .ok_or(ServiceError::NotFound("conversation"))?;
        if delivers {
            enqueue(&mut tx, &conversation, &mut message, now).await?;
        }
        tx.commit().await?;
        self.publish(vec![Notification::MessageNew {
            conversation,
            message: message.clone(),
        }]);
        Ok(message)
    }

    /// How long a claim on a delivery (a reply or a webhook) lasts, in milliseconds.
    pub(crate) fn delivery_lease_ms(&self) -> i64 {
        self.config().delivery_lease.as_millis() as i64
    }

    /// Deliveries due now, each with what sending it needs. One that cannot be prepared (its inbox gone, its
    /// credentials unreadable, the customer without an address) fails at once, with the reason.
    pub async fn due_deliveries(&self) -> Result<Vec<DeliveryJob>> {
        let now = now_ms();
        let mut jobs = Vec::new();
        let lease_until = now + self.delivery_lease_ms();
        for item in self.store().claim_deliveries(now, lease_until, 20).await? {
            match self.delivery_job(item.clone()).await {
                Ok(job) => jobs.push(job),
                Err(e) => self.settle(&item, Outcome::Failed(e.to_string())).await?,
            }
        }
        Ok(jobs)
    }

    async fn delivery_job(&self, item: OutboxItem) -> Result<DeliveryJob> {
        let inbox = self
            .store()
            .inbox(item.org_id, item.inbox_id)
            .await?
            .ok_or(ServiceError::NotFound("inbox"))?;
        match inbox.kind {
            InboxKind::Email => Ok(DeliveryJob::Email(self.email_job(item).await?)),
            InboxKind::Wechat => Ok(DeliveryJob::Wechat(self.wechat_job(item).await?)),
            InboxKind::TwilioSms => Ok(DeliveryJob::Twilio(self.twilio_job(item).await?)),
            InboxKind::Wecom => {
                let inbox = self.wecom_inbox(item.inbox_id).await?;
                let (message, contact) = self.message_and_contact(&item).await?;
                let external_userid = contact.external_id.ok_or(ServiceError::Conflict(
                    "the contact has no WeCom external_userid".into(),
                ))?;
                Ok(DeliveryJob::Wecom(WecomJob {
                    item,
                    inbox,
                    message,
                    external_userid,
                }))
            }
            InboxKind::Weibo => {
                let inbox = self.weibo_inbox(item.inbox_id).await?;
                let (message, contact) = self.message_and_contact(&item).await?;
                let receiver_id = contact
                    .external_id
                    .ok_or(ServiceError::Conflict("the contact has no Weibo id".into()))?;
                Ok(DeliveryJob::Weibo(WeiboJob {
                    item,
                    inbox,
                    message,
                    receiver_id,
                }))
            }
            InboxKind::AliyunSms => {
                let secrets = self
                    .channel_secrets::<kefu_core::sms::AliyunSecrets>(inbox.id)
                    .await?
                    .ok_or(ServiceError::Conflict("the inbox's credentials are not set".into()))?;
                let settings = kefu_core::sms::AliyunSettings::stored(&inbox.settings)?;
                let (message, contact) = self.message_and_contact(&item).await?;
                let to = contact
                    .external_id
                    .or(contact.phone)
                    .ok_or(ServiceError::Conflict("the contact has no phone number".into()))?;
                Ok(DeliveryJob::Aliyun(AliyunJob {
                    inbox: crate::AliyunInbox {
                        inbox,
                        settings,
                        secrets,
                    },
                    message,
                    to,
                    item,
                }))
            }
            InboxKind::Api => {
                let reply_url = kefu_core::api_channel::ApiChannelSettings::parse(&inbox.settings)?
                    .reply_url
                    .ok_or(ServiceError::Conflict("the inbox has no reply URL".into()))?;
                let (message, contact) = self.message_and_contact(&item).await?;
                Ok(DeliveryJob::Api(ApiJob {
                    secret: inbox.identity_secret.clone().unwrap_or_default(),
                    inbox,
                    reply_url,
                    message,
                    contact,
                    item,
                }))
            }
            InboxKind::Web => Err(ServiceError::Conflict("web chat replies are not delivered".into())),
        }
    }

    /// The message to deliver and the contact it goes to.
    async fn message_and_contact(&self, item: &OutboxItem) -> Result<(Message, Contact)> {
        let message = self
            .store()
            .message(item.message_id)
            .await?
            .ok_or(ServiceError::NotFound("message"))?;
        let conversation = self
            .store()
            .conversation(item.conversation_id)
            .await?
            .ok_or(ServiceError::NotFound("conversation"))?;
        let contact = self
            .store()
            .contact(item.org_id, conversation.contact_id)
            .await?
            .ok_or(ServiceError::NotFound("contact"))?;
        Ok((message, contact))
    }

    async fn wechat_job(&self, item: OutboxItem) -> Result<WechatJob> {
        let inbox = self.wechat_inbox(item.inbox_id).await?;
        let (message, contact) = self.message_and_contact(&item).await?;
        let open_id = contact
            .external_id
            .ok_or(ServiceError::Conflict("the contact has no WeChat OpenID".into()))?;
        Ok(WechatJob {
            item,
            inbox,
            message,
            open_id,
        })
    }

    async fn twilio_job(&self, item: OutboxItem) -> Result<TwilioJob> {
        let inbox = self.twilio_inbox(item.inbox_id).await?;
        let (message, contact) = self.message_and_contact(&item).await?;
        let to = contact
            .external_id
            .or(contact.phone)
            .ok_or(ServiceError::Conflict("the contact has no phone number".into()))?;
        let webhook_url = inbox
            .inbox
            .channel_state
            .as_ref()
            .and_then(|s| s["webhook_url"].as_str())
            .map(String::from);
        let status_callback = webhook_url.as_ref().map(|url| format!("{url}/status"));
        let media_url = match (&webhook_url, message.attachments.first()) {
            (Some(url), Some(file)) => origin(url).map(|o| self.media_link(o, file.id)),
            _ => None,
        };
        Ok(TwilioJob {
            item,
            inbox,
            message,
            to,
            status_callback,
            media_url,
        })
    }

    async fn email_job(&self, item: OutboxItem) -> Result<EmailJob> {
        let inbox = self
            .store()
            .inbox(item.org_id, item.inbox_id)
            .await?
            .ok_or(ServiceError::NotFound("inbox"))?;
        let secrets = self
            .email_secrets(inbox.id)
            .await?
            .ok_or(ServiceError::Conflict("the inbox's passwords are not set".into()))?;
        let (settings, secrets) = EmailSettings::parse(&inbox.settings, Some(&secrets))?;
        let message = self
            .store()
            .message(item.message_id)
            .await?
            .ok_or(ServiceError::NotFound("message"))?;
        let conversation = self
            .store()
            .conversation(item.conversation_id)
            .await?
            .ok_or(ServiceError::NotFound("conversation"))?;
        let contact = self
            .store()
            .contact(item.org_id, conversation.contact_id)
            .await?
            .ok_or(ServiceError::NotFound("contact"))?;
        let ticket = self.store().ticket_for_conversation(conversation.id).await?;
        let mut thread = self.store().email_thread_of(conversation.id).await?;
        // A thread Kefu starts (a ticket opened by an agent or on the web form) is about the ticket's subject.
        if thread.subject.trim().is_empty()
            && let Some(t) = &ticket
        {
            thread.subject = t.subject.clone();
        }
        Ok(EmailJob {
            thread,
            reply_tag: conversation_tag(conversation.id),
            ticket_number: ticket.map(|t| t.number),
            to_address: contact.email,
            to_name: contact.name,
            inbox: EmailInbox {
                inbox,
                settings,
                secrets,
            },
            message,
            item,
        })
    }

    /// Records how a delivery went and tells the agents.
    pub async fn settle(&self, item: &OutboxItem, outcome: Outcome) -> Result<()> {
        let now = now_ms();
        let attempts = item.attempts + 1;
        let (status, error, next) = match &outcome {
            Outcome::Sent { .. } | Outcome::Accepted { .. } => (DeliveryStatus::Sent, None, now),
            Outcome::Failed(reason) => (DeliveryStatus::Failed, Some(reason.clone()), now),
            Outcome::Retry(reason) if attempts >= MAX_ATTEMPTS => (
                DeliveryStatus::Failed,
                Some(format!("gave up after {attempts} tries: {reason}")),
                now,
            ),
            // 5 s, 10 s, 20 s, … up to 10 minutes between tries.
            Outcome::Retry(reason) => {
                let wait = (5_000i64 << (attempts - 1).min(7)).min(600_000);
                (DeliveryStatus::Pending, Some(reason.clone()), now + wait)
            }
        };
        let mut tx = self.store().begin().await?;
        if matches!(outcome, Outcome::Accepted { provider_id: Some(_) }) {
            // Against a report on this reply arriving at the same moment (see `delivery_reported`).
            tx.lock_inbox(item.inbox_id).await?;
        }
        if !tx.settle_delivery(item, status, error.as_deref(), next, now).await? {
            // This node stalled past its lease and another took the delivery over: that one's result stands.
            tracing::warn!(delivery = %item.id, "delivery outlived its lease: another node owns it now");
            return Ok(());
        }
        if let Outcome::Accepted {
            provider_id: Some(id),
        } = &outcome
            // The provider reported on it before this was recorded: its report stands.
            && let Some((status, error)) = tx.set_provider_message_id(item.inbox_id, item.message_id, id).await?
        {
            tx.set_delivery(item.message_id, status, error.as_deref()).await?;
        }
        if let Outcome::Sent { message_id, subject } = &outcome {
            tx.insert_email_record(NewEmailRecord {
                inbox_id: item.inbox_id,
                message_id,
                conversation_id: Some(item.conversation_id),
                kefu_message_id: Some(item.message_id),
                direction: "out",
                subject,
                raw: None,
                html: None,
                now,
            })
            .await?;
            // The agent sees the subject their reply went out with.
            let info = EmailInfo {
                subject: subject.clone(),
                html: false,
            };
            tx.set_message_email(item.message_id, &info).await?;
        }
        tx.commit().await?;
        if let Outcome::Accepted { .. } = &outcome {
            self.channel_sent(item.org_id, item.inbox_id).await?;
        }
        if let (Some(conversation), Some(message)) = (
            self.store().conversation(item.conversation_id).await?,
            self.store().message(item.message_id).await?,
        ) {
            self.publish(vec![Notification::MessageUpdated { conversation, message }]);
        }
        Ok(())
    }
}

/// `scheme://host[:port]` of a URL.
fn origin(url: &str) -> Option<&str> {
    let (scheme, rest) = url.split_once("://")?;
    let host_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    Some(&url[..scheme.len() + 3 + host_len])
}
