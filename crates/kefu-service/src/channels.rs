//! Messaging channels that reach Kefu through provider webhooks (WeChat first): their settings with the
//! credentials sealed apart, a provider's message becoming a message of the customer's conversation — once, however
//! often the provider retries it — and the reply window agents must answer within.

use crate::{Result, Service, ServiceError, new_id};
use kefu_core::model::*;
use kefu_core::wechat::{ReplyWindow, WechatSecrets, WechatSettings};
use kefu_store::now_ms;
use uuid::Uuid;

/// A message a provider delivered, in the words every channel shares.
#[derive(Debug, Clone, Default)]
pub struct ChannelInbound {
    /// The customer's id at the provider (an OpenID, a phone number): one contact per inbox and id.
    pub external_user_id: String,
    /// Their name, when the provider gives one.
    pub name: Option<String>,
    /// The provider's message id, or its documented fallback: what makes a retried delivery a duplicate.
    pub message_key: String,
    pub content: String,
}

/// A WeChat Official Account inbox with its credentials, opened.
#[derive(Debug, Clone)]
pub struct WechatInbox {
    pub inbox: Inbox,
    pub settings: WechatSettings,
    pub secrets: WechatSecrets,
}

impl Service {
    /// Checks a WeChat inbox's settings and seals its credentials: (settings to store, sealed secrets).
    pub(crate) fn seal_wechat_settings(
        &self,
        settings: &serde_json::Value,
        previous: Option<&WechatSecrets>,
    ) -> Result<(serde_json::Value, String)> {
        let (parsed, secrets) = WechatSettings::parse(settings, previous)?;
        let sealed = self
            .config()
            .secrets
            .seal(&serde_json::to_string(&secrets).expect("secrets serialize"));
        Ok((parsed.redacted(), sealed))
    }

    pub(crate) async fn wechat_secrets(&self, inbox_id: Uuid) -> Result<Option<WechatSecrets>> {
        let Some(sealed) = self.store().inbox_secrets(inbox_id).await? else {
            return Ok(None);
        };
        let plain = self.config().secrets.open(&sealed).map_err(ServiceError::internal)?;
        Ok(Some(serde_json::from_str(&plain).map_err(ServiceError::internal)?))
    }

    /// The WeChat inbox a webhook names, with its credentials; "not found" for any other id or kind.
    pub async fn wechat_inbox(&self, inbox_id: Uuid) -> Result<WechatInbox> {
        let inbox = self
            .store()
            .inbox_by_id(inbox_id)
            .await?
            .filter(|i| i.kind == InboxKind::Wechat)
            .ok_or(ServiceError::NotFound("inbox"))?;
        let secrets = self
            .wechat_secrets(inbox.id)
            .await?
            .ok_or(ServiceError::Conflict("the inbox's credentials are not set".into()))?;
        let (settings, secrets) = WechatSettings::parse(&inbox.settings, Some(&secrets))?;
        Ok(WechatInbox {
            inbox,
            settings,
            secrets,
        })
    }

    /// A provider called the inbox's webhook, signed: the inbox is connected. Written once, not on every call.
    pub async fn webhook_called(&self, inbox: &Inbox) -> Result<()> {
        if inbox.channel_state.as_ref().is_some_and(|s| s["status"] == "ok") {
            return Ok(());
        }
        self.set_channel_state(inbox.id, "ok", "the provider is calling the webhook")
            .await
    }

    /// The inbox's contact for a provider's user id, made on their first message.
    async fn channel_contact(&self, inbox: &Inbox, inbound: &ChannelInbound) -> Result<Contact> {
        if let Some(c) = self
            .store()
            .contact_by_external_id(inbox.id, &inbound.external_user_id)
            .await?
        {
            return Ok(c);
        }
        let now = now_ms();
        let name = inbound
            .name
            .clone()
            .filter(|n| kefu_core::validate::name("name", n).is_ok())
            .unwrap_or_else(|| fallback_name(inbox.kind, &inbound.external_user_id));
        let id = new_id();
        let mut tx = self.store().begin().await?;
        tx.insert_contact(id, inbox.org_id, inbox.id, None, &name, &serde_json::json!({}), now)
            .await?;
        match tx.set_contact_external_id(id, &inbound.external_user_id, now).await {
            Ok(()) => tx.commit().await?,
            // Two first messages at once: the other made the contact.
            Err(e) if e.is_unique_violation() => {
                drop(tx);
                return self
                    .store()
                    .contact_by_external_id(inbox.id, &inbound.external_user_id)
                    .await?
                    .ok_or(ServiceError::NotFound("contact"));
            }
            Err(e) => return Err(e.into()),
        }
        self.store()
            .contact(inbox.org_id, id)
            .await?
            .ok_or(ServiceError::NotFound("contact"))
    }

    /// Takes in one provider message: into the customer's open conversation, or a new one routed like any
    /// other. A delivery the provider retries returns the message stored the first time.
    pub async fn channel_received(&self, inbox: &Inbox, inbound: ChannelInbound) -> Result<Message> {
        kefu_core::validate::message_content(&inbound.content)?;
        let contact = self.channel_contact(inbox, &inbound).await?;
        let key = format!("{}:{}", inbox.kind.as_str(), inbound.message_key);
        let client_id = if key.len() <= 120 {
            key
        } else {
            format!("{}:{}", inbox.kind.as_str(), crate::hash_token(&inbound.message_key))
        };
        let send = crate::SendMessage {
            conversation_id: None,
            client_id,
            content: inbound.content,
            private: false,
        };
        self.contact_send(&contact, send, false).await
    }

    /// Where a conversation stands with its channel's reply window; `None` for channels without one.
    pub async fn reply_window(&self, conversation: &Conversation) -> Result<Option<ReplyWindow>> {
        let Some(inbox) = self.store().inbox(conversation.org_id, conversation.inbox_id).await? else {
            return Ok(None);
        };
        if inbox.kind != InboxKind::Wechat {
            return Ok(None);
        }
        let settings = WechatSettings::stored(&inbox.settings)?;
        let (last, replies) = self.store().since_customer_wrote(conversation.id).await?;
        Ok(Some(settings.window(last, replies, now_ms())))
    }

    /// Refuses a reply the channel would refuse: better said before the agent's words are queued.
    pub(crate) async fn check_reply_window(&self, conversation: &Conversation) -> Result<()> {
        match self.reply_window(conversation).await? {
            Some(w) if !w.open => Err(ServiceError::ReplyWindowClosed(window_reason(&w))),
            _ => Ok(()),
        }
    }
}

fn window_reason(w: &ReplyWindow) -> String {
    match w.reason.as_deref() {
        Some("quota") => "the customer must write again before more replies can be sent (reply quota used)".into(),
        Some("never_written") => "the customer has not written yet".into(),
        _ => "the reply window closed: the customer must write again before a reply can be sent".into(),
    }
}

fn fallback_name(kind: InboxKind, external_id: &str) -> String {
    let tail: String = external_id
        .chars()
        .rev()
        .take(6)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    match kind {
        InboxKind::Wechat => format!("WeChat user {tail}"),
        _ => format!("Customer {tail}"),
    }
}
