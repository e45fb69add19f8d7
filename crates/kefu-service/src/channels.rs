//! Messaging channels that reach Kefu through provider webhooks (WeChat first): their settings with the
//! credentials sealed apart, a provider's message becoming a message of the customer's conversation — once, however
//! often the provider retries it — and the reply window agents must answer within.

use crate::{Result, Service, ServiceError, new_id};
use kefu_core::model::*;
use kefu_core::sms::{AliyunSecrets, AliyunSettings, TwilioSecrets, TwilioSettings};
use kefu_core::wechat::{ReplyWindow, WechatSecrets, WechatSettings};
use kefu_core::wecom::{WecomSecrets, WecomSettings};
use kefu_core::weibo::{WeiboSecrets, WeiboSettings};
use kefu_store::now_ms;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::time::Duration;
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
    /// Their phone number, kept on a new contact (SMS).
    pub phone: Option<String>,
    /// Their email address, kept on a new contact.
    pub email: Option<String>,
    /// Files that came with it, when the channel hands them over at once (the API channel, WeCom's pull).
    pub files: Vec<crate::MediaFile>,
}

/// What a provider reports about a reply it accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryReport {
    /// Handed to the carrier.
    Sent,
    /// On the customer's phone.
    Delivered,
    /// Not delivered, with the reason.
    Failed(String),
}

/// An Aliyun SMS inbox with its AccessKey secret, opened.
#[derive(Debug, Clone)]
pub struct AliyunInbox {
    pub inbox: Inbox,
    pub settings: AliyunSettings,
    pub secrets: AliyunSecrets,
}

/// A WeCom customer-service inbox with its credentials, opened.
#[derive(Debug, Clone)]
pub struct WecomInbox {
    pub inbox: Inbox,
    pub settings: WecomSettings,
    pub secrets: WecomSecrets,
}

/// A Weibo inbox with its app secret and access token, opened.
#[derive(Debug, Clone)]
pub struct WeiboInbox {
    pub inbox: Inbox,
    pub settings: WeiboSettings,
    pub secrets: WeiboSecrets,
}

/// A Twilio SMS inbox with its auth token, opened.
#[derive(Debug, Clone)]
pub struct TwilioInbox {
    pub inbox: Inbox,
    pub settings: TwilioSettings,
    pub secrets: TwilioSecrets,
}

/// A WeChat Official Account inbox with its credentials, opened.
#[derive(Debug, Clone)]
pub struct WechatInbox {
    pub inbox: Inbox,
    pub settings: WechatSettings,
    pub secrets: WechatSecrets,
}

impl Service {
    fn seal<T: Serialize>(&self, secrets: &T) -> String {
        self.config()
            .secrets
            .seal(&serde_json::to_string(secrets).expect("secrets serialize"))
    }

    /// A channel inbox's credentials, opened.
    pub(crate) async fn channel_secrets<T: DeserializeOwned>(&self, inbox_id: Uuid) -> Result<Option<T>> {
        let Some(sealed) = self.store().inbox_secrets(inbox_id).await? else {
            return Ok(None);
        };
        let plain = self.config().secrets.open(&sealed).map_err(ServiceError::internal)?;
        Ok(Some(serde_json::from_str(&plain).map_err(ServiceError::internal)?))
    }

    /// Checks a channel inbox's settings and seals its credentials: (settings to store, sealed secrets). An edit
    /// that leaves a credential out keeps the stored one.
    pub(crate) async fn seal_channel_settings(
        &self,
        kind: InboxKind,
        inbox_id: Option<Uuid>,
        settings: &serde_json::Value,
    ) -> Result<(serde_json::Value, String)> {
        match kind {
            InboxKind::Wechat => {
                let previous = self.previous_secrets::<WechatSecrets>(inbox_id).await;
                let (parsed, secrets) = WechatSettings::parse(settings, previous.as_ref())?;
                Ok((parsed.redacted(), self.seal(&secrets)))
            }
            InboxKind::TwilioSms => {
                let previous = self.previous_secrets::<TwilioSecrets>(inbox_id).await;
                let (parsed, secrets) = TwilioSettings::parse(settings, previous.as_ref())?;
                Ok((parsed.redacted(), self.seal(&secrets)))
            }
            InboxKind::Wecom => {
                let previous = self.previous_secrets::<WecomSecrets>(inbox_id).await;
                let (parsed, secrets) = WecomSettings::parse(settings, previous.as_ref())?;
                Ok((parsed.redacted(), self.seal(&secrets)))
            }
            InboxKind::Weibo => {
                let previous = self.previous_secrets::<WeiboSecrets>(inbox_id).await;
                let (parsed, secrets) = WeiboSettings::parse(settings, previous.as_ref())?;
                Ok((parsed.redacted(), self.seal(&secrets)))
            }
            InboxKind::AliyunSms => {
                let previous = self.previous_secrets::<AliyunSecrets>(inbox_id).await;
                let (parsed, secrets) = AliyunSettings::parse(settings, previous.as_ref())?;
                Ok((parsed.redacted(), self.seal(&secrets)))
            }
            InboxKind::Web | InboxKind::Email | InboxKind::Api => Err(ServiceError::Conflict(
                "this inbox keeps no provider credentials".into(),
            )),
        }
    }

    /// The credentials an edited inbox has now (kept for those the edit leaves out); none for a new one.
    async fn previous_secrets<T: DeserializeOwned>(&self, inbox_id: Option<Uuid>) -> Option<T> {
        match inbox_id {
            Some(id) => self.channel_secrets::<T>(id).await.ok().flatten(),
            None => None,
        }
    }

    /// The inbox a provider's webhook names, of the kind the URL says; "not found" for any other.
    async fn hook_inbox<T: DeserializeOwned>(&self, inbox_id: Uuid, kind: InboxKind) -> Result<(Inbox, T)> {
        let inbox = self
            .store()
            .inbox_by_id(inbox_id)
            .await?
            .filter(|i| i.kind == kind)
            .ok_or(ServiceError::NotFound("inbox"))?;
        let secrets = self
            .channel_secrets::<T>(inbox.id)
            .await?
            .ok_or(ServiceError::Conflict("the inbox's credentials are not set".into()))?;
        Ok((inbox, secrets))
    }

    /// The Aliyun SMS inbox a push names, when the push carries the inbox's token (Aliyun signs nothing it
    /// pushes: the URL's `token` is the proof).
    pub async fn aliyun_inbox(&self, inbox_id: Uuid, token: Option<&str>) -> Result<AliyunInbox> {
        let (inbox, secrets) = self.hook_inbox::<AliyunSecrets>(inbox_id, InboxKind::AliyunSms).await?;
        let expected = inbox.identity_secret.as_deref().unwrap_or_default();
        match token {
            Some(t) if !expected.is_empty() && crate::identity::constant_time_eq(t.as_bytes(), expected.as_bytes()) => {
            }
            _ => return Err(ServiceError::Unauthorized),
        }
        let settings = AliyunSettings::stored(&inbox.settings)?;
        Ok(AliyunInbox {
            inbox,
            settings,
            secrets,
        })
    }

    /// The WeCom inbox a callback names, with its credentials.
    pub async fn wecom_inbox(&self, inbox_id: Uuid) -> Result<WecomInbox> {
        let (inbox, secrets) = self.hook_inbox::<WecomSecrets>(inbox_id, InboxKind::Wecom).await?;
        let settings = WecomSettings::stored(&inbox.settings)?;
        Ok(WecomInbox {
            inbox,
            settings,
            secrets,
        })
    }

    pub async fn channel_cursor(&self, inbox_id: Uuid) -> Result<Option<String>> {
        Ok(self.store().channel_cursor(inbox_id).await?)
    }

    /// Holds the lock named `key` across every node until the guard drops (one pull per cursor at a time).
    pub async fn channel_lock(&self, key: &str) -> Result<kefu_store::ChannelLock> {
        Ok(self.store().channel_lock(key).await?)
    }

    /// Whether nodes share providers' tokens through the database (PostgreSQL; SQLite serves one node).
    pub fn shares_channel_tokens(&self) -> bool {
        self.store().backend() == kefu_store::Backend::Postgres
    }

    /// The token the nodes share for an inbox, if it was fetched with the credentials `key` names and is still
    /// fresh: (token, how long it stays fresh).
    pub async fn shared_channel_token(&self, inbox_id: Uuid, key: &str) -> Result<Option<(String, Duration)>> {
        let Some((key_hash, sealed, fresh_until)) = self.store().channel_token(inbox_id).await? else {
            return Ok(None);
        };
        let left = fresh_until - now_ms();
        if key_hash != crate::hash_token(key) || left <= 0 {
            return Ok(None);
        }
        match self.config().secrets.open(&sealed) {
            Ok(token) => Ok(Some((token, Duration::from_millis(left as u64)))),
            // Sealed under another key (KEFU_SECRET_KEY changed): fetch a new one.
            Err(_) => Ok(None),
        }
    }

    /// Keeps a token the other nodes will use, sealed, with the credentials it was fetched with.
    pub async fn save_shared_channel_token(
        &self,
        inbox_id: Uuid,
        key: &str,
        token: &str,
        fresh_for: Duration,
    ) -> Result<()> {
        let sealed = self.config().secrets.seal(token);
        let now = now_ms();
        let fresh_until = now + fresh_for.as_millis() as i64;
        self.store()
            .save_channel_token(inbox_id, &crate::hash_token(key), &sealed, fresh_until, now)
            .await?;
        Ok(())
    }

    pub async fn set_channel_cursor(&self, inbox_id: Uuid, cursor: &str) -> Result<()> {
        let mut tx = self.store().begin().await?;
        tx.set_channel_cursor(inbox_id, cursor, now_ms()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The Weibo inbox a webhook names, with its credentials.
    pub async fn weibo_inbox(&self, inbox_id: Uuid) -> Result<WeiboInbox> {
        let (inbox, secrets) = self.hook_inbox::<WeiboSecrets>(inbox_id, InboxKind::Weibo).await?;
        let settings = WeiboSettings::stored(&inbox.settings)?;
        Ok(WeiboInbox {
            inbox,
            settings,
            secrets,
        })
    }

    /// The Twilio SMS inbox a webhook names, with its auth token.
    pub async fn twilio_inbox(&self, inbox_id: Uuid) -> Result<TwilioInbox> {
        let (inbox, secrets) = self.hook_inbox::<TwilioSecrets>(inbox_id, InboxKind::TwilioSms).await?;
        let settings = TwilioSettings::stored(&inbox.settings)?;
        Ok(TwilioInbox {
            inbox,
            settings,
            secrets,
        })
    }

    /// The API inbox a call names, when the call carries its secret; "not found" for any other, "unauthorized"
    /// for a wrong secret.
    pub async fn api_inbox(&self, inbox_id: Uuid, bearer: Option<&str>) -> Result<Inbox> {
        let inbox = self
            .store()
            .inbox_by_id(inbox_id)
            .await?
            .filter(|i| i.kind == InboxKind::Api)
            .ok_or(ServiceError::NotFound("inbox"))?;
        let secret = inbox.identity_secret.as_deref().unwrap_or_default();
        match bearer {
            Some(given)
                if !secret.is_empty() && crate::identity::constant_time_eq(given.as_bytes(), secret.as_bytes()) =>
            {
                Ok(inbox)
            }
            _ => Err(ServiceError::Unauthorized),
        }
    }

    /// The WeChat inbox a webhook names, with its credentials; "not found" for any other id or kind.
    pub async fn wechat_inbox(&self, inbox_id: Uuid) -> Result<WechatInbox> {
        let (inbox, secrets) = self.hook_inbox::<WechatSecrets>(inbox_id, InboxKind::Wechat).await?;
        let settings = WechatSettings::stored(&inbox.settings)?;
        Ok(WechatInbox {
            inbox,
            settings,
            secrets,
        })
    }

    /// A provider called the inbox's webhook, signed: the inbox is connected. `url` is the address the call was
    /// signed for, where the provider reaches Kefu (kept for status callbacks). Written once, not on every call.
    pub async fn webhook_called(&self, inbox: &Inbox, url: Option<&str>) -> Result<()> {
        let state = inbox.channel_state.as_ref();
        let known = state.is_some_and(|s| s["status"] == "ok" && (url.is_none() || s["webhook_url"].as_str() == url));
        // A call in does not prove the credentials replies are sent with: an error stays until a send succeeds.
        let broken = state.is_some_and(|s| s["status"] == "error");
        if known || (broken && url.is_none()) {
            return Ok(());
        }
        let mut state = if broken {
            inbox.channel_state.clone().unwrap_or_default()
        } else {
            serde_json::json!({
                "status": "ok", "message": "the provider is calling the webhook", "since": Timestamp(now_ms()),
            })
        };
        if let Some(url) = url {
            state["webhook_url"] = url.into();
        }
        let mut tx = self.store().begin().await?;
        tx.set_channel_state(inbox.id, &state).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A provider accepted a reply: an inbox in error (refused credentials) works again.
    pub(crate) async fn channel_sent(&self, org_id: Uuid, inbox_id: Uuid) -> Result<()> {
        let Some(inbox) = self.store().inbox(org_id, inbox_id).await? else {
            return Ok(());
        };
        if inbox.channel_state.as_ref().is_some_and(|s| s["status"] == "error") && inbox.kind != InboxKind::Email {
            self.set_channel_state(inbox.id, "ok", "the provider accepted a reply")
                .await?;
        }
        Ok(())
    }

    /// A provider's report on a reply it accepted (by the id it gave the reply): the message's delivery moves
    /// forward — sent, then delivered — or fails with the reason, and the agents are told.
    pub async fn delivery_reported(&self, inbox: &Inbox, provider_id: &str, report: DeliveryReport) -> Result<()> {
        let (status, error) = match report {
            DeliveryReport::Sent => (DeliveryStatus::Sent, None),
            DeliveryReport::Delivered => (DeliveryStatus::Delivered, None),
            DeliveryReport::Failed(reason) => (DeliveryStatus::Failed, Some(reason)),
        };
        // The provider may report before the send is recorded: both take the inbox's lock, so either the send is
        // recorded and seen here, or the report is kept and the send, recorded after, applies it.
        let mut tx = self.store().begin().await?;
        tx.lock_inbox(inbox.id).await?;
        if !tx.provider_message_recorded(inbox.id, provider_id).await? {
            // A later report replaces an earlier one, unless it would step back to sent.
            if status != DeliveryStatus::Sent || !tx.has_early_report(inbox.id, provider_id).await? {
                tx.keep_early_report(inbox.id, provider_id, status, error.as_deref(), now_ms())
                    .await?;
            }
            tx.commit().await?;
            return Ok(());
        }
        drop(tx);
        let Some(message) = self.store().message_by_provider_id(inbox.id, provider_id).await? else {
            return Ok(());
        };
        let current = message.delivery.as_ref().map(|d| d.status);
        // Reports can arrive out of order: never back from delivered or failed to sent.
        let forward = match (current, status) {
            (Some(DeliveryStatus::Delivered | DeliveryStatus::Failed), DeliveryStatus::Sent) => false,
            (Some(c), s) => c != s,
            (None, _) => false,
        };
        if !forward {
            return Ok(());
        }
        let mut tx = self.store().begin().await?;
        tx.set_delivery(message.id, status, error.as_deref()).await?;
        tx.commit().await?;
        if let (Some(conversation), Some(message)) = (
            self.store().conversation(message.conversation_id).await?,
            self.store().message(message.id).await?,
        ) {
            self.publish(vec![crate::Notification::MessageUpdated { conversation, message }]);
        }
        Ok(())
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
        let stored = match tx.set_contact_external_id(id, &inbound.external_user_id, now).await {
            Ok(()) if inbound.phone.is_some() || inbound.email.is_some() => {
                let (email, phone) = (inbound.email.as_deref(), inbound.phone.as_deref());
                tx.update_contact(id, None, email.map(Some), phone.map(Some), None, now)
                    .await
                    .map(|_| ())
            }
            Ok(()) => Ok(()),
            Err(e) => Err(e),
        };
        match stored {
            Ok(()) => self.commit(tx).await?,
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
            files: inbound.files,
        };
        self.contact_send(&contact, send, false).await
    }

    /// Whether the inbox already has a contact for this provider id (a first message makes one).
    pub async fn knows_channel_user(&self, inbox: &Inbox, external_id: &str) -> Result<bool> {
        Ok(self
            .store()
            .contact_by_external_id(inbox.id, external_id)
            .await?
            .is_some())
    }

    /// What a provider tells of a customer, fetched after their first message: a name for a contact still under
    /// its placeholder (an agent's choice is kept), and the provider's facts under `attributes.profile`.
    pub async fn channel_profile(
        &self,
        inbox: &Inbox,
        external_id: &str,
        name: Option<&str>,
        facts: serde_json::Value,
    ) -> Result<()> {
        let Some(contact) = self.store().contact_by_external_id(inbox.id, external_id).await? else {
            return Err(ServiceError::NotFound("contact"));
        };
        let name = name
            .map(str::trim)
            .filter(|_| contact.name == fallback_name(inbox.kind, external_id))
            .filter(|n| kefu_core::validate::name("name", n).is_ok());
        let mut attributes = match &contact.attributes {
            serde_json::Value::Object(_) => contact.attributes.clone(),
            _ => serde_json::json!({}),
        };
        attributes["profile"] = facts;
        let mut tx = self.store().begin().await?;
        tx.update_contact(contact.id, name, None, None, Some(&attributes), now_ms())
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Where a conversation stands with its channel's reply window; `None` for channels without one.
    pub async fn reply_window(&self, conversation: &Conversation) -> Result<Option<ReplyWindow>> {
        let Some(inbox) = self.store().inbox(conversation.org_id, conversation.inbox_id).await? else {
            return Ok(None);
        };
        let (hours, messages) = match inbox.kind {
            InboxKind::Wechat => {
                let s = WechatSettings::stored(&inbox.settings)?;
                (s.window_hours, Some(s.window_messages))
            }
            InboxKind::Wecom => {
                let s = WecomSettings::stored(&inbox.settings)?;
                (s.window_hours, Some(s.window_messages))
            }
            // Weibo takes any number of replies within its hours.
            InboxKind::Weibo => (WeiboSettings::stored(&inbox.settings)?.window_hours, None),
            _ => return Ok(None),
        };
        let (last, replies) = self.store().since_customer_wrote(conversation.id).await?;
        Ok(Some(kefu_core::wechat::window(
            hours,
            messages,
            last,
            replies,
            now_ms(),
        )))
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
        InboxKind::Weibo => format!("Weibo user {tail}"),
        InboxKind::Wecom => format!("WeChat customer {tail}"),
        // A phone number is the name people know a texter by.
        InboxKind::TwilioSms | InboxKind::AliyunSms => external_id.to_string(),
        _ => format!("Customer {tail}"),
    }
}
