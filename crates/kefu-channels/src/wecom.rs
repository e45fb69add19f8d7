//! WeCom customer service (企业微信 · 微信客服): the encrypted callback (URL check with an encrypted `echostr`;
//! a message callback carries no message, only a token to pull with), `sync_msg` pulled from the persisted cursor
//! while `has_more` — restart-safe, one pull per inbox at a time — and `send_msg` for agents' replies. The crypto is
//! WeChat's with the corp id in place of the app id.

use crate::media::FetchError;
use crate::wechat::api::{Failure, WechatApi, media_get, media_got, token_expired};
use crate::wechat::crypto::{Cipher, same, signature};
use kefu_core::media::MediaKind;
use kefu_core::model::InboxKind;
use kefu_service::{ChannelInbound, MediaFile, Outcome, Service, WecomInbox, WecomJob};
use serde::Deserialize;
use std::sync::Arc;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct HookQuery {
    #[serde(default)]
    pub msg_signature: Option<String>,
    #[serde(default)]
    pub timestamp: Option<String>,
    #[serde(default)]
    pub nonce: Option<String>,
    #[serde(default)]
    pub echostr: Option<String>,
}

pub use crate::HookError;

/// What a call's signature is checked with, as a refusal names it.
const SIGNED_WITH: &str = "token";

fn cipher(inbox: &WecomInbox) -> Result<Cipher, HookError> {
    Cipher::new(&inbox.secrets.encoding_aes_key, &inbox.settings.corp_id)
        .map_err(|e| HookError::BadRequest(e.to_string()))
}

/// Checks `msg_signature` over the encrypted text, then opens it.
fn open(inbox: &WecomInbox, q: &HookQuery, encrypted: &str) -> Result<String, HookError> {
    let part = |v: &Option<String>, name: &str| {
        v.clone()
            .filter(|v| !v.is_empty() && v.len() <= 512)
            .ok_or_else(|| HookError::BadRequest(format!("{name} is missing")))
    };
    let expected = signature(&[
        &inbox.secrets.token,
        &part(&q.timestamp, "timestamp")?,
        &part(&q.nonce, "nonce")?,
        encrypted,
    ]);
    if !same(&expected, &part(&q.msg_signature, "msg_signature")?) {
        return Err(HookError::BadSignature(SIGNED_WITH));
    }
    cipher(inbox)?
        .decrypt(encrypted)
        .map_err(|e| HookError::BadRequest(e.to_string()))
}

/// The URL check: WeCom's `echostr` is encrypted; the plain text goes back.
pub fn verify_url(inbox: &WecomInbox, q: &HookQuery) -> Result<String, HookError> {
    let echostr = q
        .echostr
        .clone()
        .filter(|e| !e.is_empty())
        .ok_or_else(|| HookError::BadRequest("echostr is missing".into()))?;
    open(inbox, q, &echostr)
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct Wire {
    encrypt: Option<String>,
    event: Option<String>,
    token: Option<String>,
    open_kf_id: Option<String>,
}

/// A callback: checked and opened. Returns the token to pull messages with, for a `kf_msg_or_event`.
pub fn callback(inbox: &WecomInbox, q: &HookQuery, body: &str) -> Result<Option<String>, HookError> {
    let wrapper: Wire =
        quick_xml::de::from_str(body).map_err(|e| HookError::BadRequest(format!("not a WeCom callback: {e}")))?;
    let encrypted = wrapper
        .encrypt
        .ok_or_else(|| HookError::BadRequest("Encrypt is missing".into()))?;
    let plain = open(inbox, q, &encrypted)?;
    let event: Wire =
        quick_xml::de::from_str(&plain).map_err(|e| HookError::BadRequest(format!("not a WeCom event: {e}")))?;
    if event.event.as_deref() != Some("kf_msg_or_event") {
        return Ok(None);
    }
    if event
        .open_kf_id
        .as_deref()
        .is_some_and(|k| k != inbox.settings.open_kfid)
    {
        // Another customer-service account of the corp: not this inbox's to pull.
        return Ok(None);
    }
    Ok(event.token.filter(|t| !t.is_empty()))
}

async fn access_token(api: &WechatApi, inbox: &WecomInbox, stale: Option<&str>) -> Result<String, Failure> {
    let s = &inbox.settings;
    let key = format!("{}\u{0}{}\u{0}{}", s.api_base_url, s.corp_id, inbox.secrets.secret);
    let request = api.http().get(format!("{}/cgi-bin/gettoken", s.api_base_url)).query(&[
        ("corpid", s.corp_id.as_str()),
        ("corpsecret", inbox.secrets.secret.as_str()),
    ]);
    // WeCom gives the same token again while it is valid: each node may keep its own.
    api.cached_token(inbox.inbox.id, key, request, stale, None).await
}

/// Calls with the corp's access token, and once more with a fresh token if the cached one is refused.
async fn with_token<T, F, Fut>(api: &WechatApi, inbox: &WecomInbox, call: F) -> Result<T, Failure>
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = Result<T, Failure>>,
{
    let token = access_token(api, inbox, None).await?;
    match call(token.clone()).await {
        Err(Failure::Code(code, _)) if token_expired(code) => {
            let fresh = access_token(api, inbox, Some(&token)).await?;
            call(fresh).await
        }
        other => other,
    }
}

/// Calls a WeCom API that takes a JSON body and the access token.
async fn call(
    api: &WechatApi,
    inbox: &WecomInbox,
    path: &str,
    body: &serde_json::Value,
) -> Result<serde_json::Value, Failure> {
    let url = format!("{}/cgi-bin/{path}", inbox.settings.api_base_url);
    with_token(api, inbox, |token| {
        api.call_json(api.http().post(&url).query(&[("access_token", &token)]).json(body))
    })
    .await
}

/// A customer's image, voice note, video or file, by the `media_id` their message came with.
async fn media(inbox: &WecomInbox, media_id: &str) -> Result<MediaFile, FetchError> {
    let api = WechatApi::shared();
    let url = format!("{}/cgi-bin/media/get", inbox.settings.api_base_url);
    let fetched = with_token(&api, inbox, |token| {
        let request = api
            .http()
            .get(&url)
            .query(&[("access_token", token.as_str()), ("media_id", media_id)]);
        media_get(request)
    })
    .await;
    media_got(fetched, "WeCom")
}

/// Uploads a file as temporary media and gives its `media_id`.
async fn upload(api: &WechatApi, inbox: &WecomInbox, kind: MediaKind, file: &MediaFile) -> Result<String, Failure> {
    let base_url = &inbox.settings.api_base_url;
    with_token(api, inbox, |token| async move {
        api.upload_media(base_url, &token, kind, file).await
    })
    .await
}

/// A customer's profile (`kf/customer/batchget`): their WeChat nickname, and the facts kept with the contact.
async fn customer(
    api: &WechatApi,
    inbox: &WecomInbox,
    external_userid: &str,
) -> Result<(Option<String>, serde_json::Value), Failure> {
    let body = serde_json::json!({ "external_userid_list": [external_userid], "need_enter_session_context": 0 });
    let reply = call(api, inbox, "kf/customer/batchget", &body).await?;
    let Some(found) = reply["customer_list"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["external_userid"].as_str() == Some(external_userid))
    else {
        return Ok((None, serde_json::json!({})));
    };
    let nickname = found["nickname"]
        .as_str()
        .filter(|n| !n.trim().is_empty())
        .map(String::from);
    let mut facts = serde_json::Map::new();
    for key in ["unionid", "gender", "avatar"] {
        if let Some(v) = found.get(key).filter(|v| !v.is_null() && v.as_str() != Some("")) {
            facts.insert(key.to_string(), v.clone());
        }
    }
    Ok((nickname, serde_json::Value::Object(facts)))
}

/// The `media_id` of a pulled message's file, for the kinds that carry one.
fn media_id(msg: &serde_json::Value) -> Option<&str> {
    let kind = msg["msgtype"].as_str()?;
    if !matches!(kind, "image" | "voice" | "video" | "file") {
        return None;
    }
    msg[kind]["media_id"]
        .as_str()
        .filter(|m| !m.is_empty() && m.len() <= 512)
}

/// What a pulled message says, for the agent; `None` for what is not the customer's (events, agents' own).
fn content(msg: &serde_json::Value) -> Option<String> {
    if msg["origin"].as_i64() != Some(3) {
        return None;
    }
    match msg["msgtype"].as_str()? {
        "text" => msg["text"]["content"]
            .as_str()
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty()),
        "image" => Some("[image]".into()),
        "voice" => Some("[voice message]".into()),
        "video" => Some("[video]".into()),
        "file" => Some("[file]".into()),
        "location" => Some(format!(
            "[location] {}",
            msg["location"]["name"].as_str().unwrap_or_default()
        )),
        "link" => Some(format!("[link] {}", msg["link"]["url"].as_str().unwrap_or_default())),
        _ => None,
    }
}

/// Pulls what the callback announced: page after page from the stored cursor, each page stored before the
/// cursor moves past it, so a crash in between pulls that page again (and its messages are kept once).
pub async fn pull(service: &Service, inbox: &WecomInbox, token: &str) -> Result<usize, String> {
    let api = WechatApi::shared();
    // One pull per inbox across every node: two pulls from the same cursor would each store what the other does.
    // A callback that finds one running waits and pulls after it (what arrived meanwhile is still to take).
    let _held = service
        .channel_lock(&format!("wecom-pull:{}", inbox.inbox.id))
        .await
        .map_err(|e| e.to_string())?;
    let mut taken = 0;
    for _ in 0..100 {
        let cursor = service
            .channel_cursor(inbox.inbox.id)
            .await
            .map_err(|e| e.to_string())?;
        let mut body = serde_json::json!({ "token": token, "limit": 1000, "open_kfid": inbox.settings.open_kfid });
        if let Some(c) = &cursor {
            body["cursor"] = c.clone().into();
        }
        let page = call(&api, inbox, "kf/sync_msg", &body)
            .await
            .map_err(|e| format!("{e:?}"))?;
        for msg in page["msg_list"].as_array().into_iter().flatten() {
            let (Some(text), Some(user), Some(id)) =
                (content(msg), msg["external_userid"].as_str(), msg["msgid"].as_str())
            else {
                continue;
            };
            // A new customer's profile first, so their conversation arrives under their WeChat nickname.
            let profile = if service
                .knows_channel_user(&inbox.inbox, user)
                .await
                .map_err(|e| e.to_string())?
            {
                None
            } else {
                match customer(&api, inbox, user).await {
                    Ok(p) => Some(p),
                    Err(e) => {
                        tracing::warn!(inbox = %inbox.inbox.id, error = ?e, "a customer's profile was not fetched");
                        None
                    }
                }
            };
            let inbound = ChannelInbound {
                external_user_id: user.to_string(),
                name: profile.as_ref().and_then(|(name, _)| name.clone()),
                message_key: id.to_string(),
                content: text,
                phone: None,
                email: None,
                files: Vec::new(),
            };
            let message = service
                .channel_received(&inbox.inbox, inbound)
                .await
                .map_err(|e| e.to_string())?;
            if let Some((_, facts)) = profile
                && let Err(e) = service.channel_profile(&inbox.inbox, user, None, facts).await
            {
                tracing::warn!(inbox = %inbox.inbox.id, error = %e, "a customer's profile was not kept");
            }
            // The page moves on; the file follows (a page pulled again finds it kept).
            if message.attachments.is_empty()
                && let Some(media_id) = media_id(msg)
            {
                let (inbox, media_id) = (inbox.clone(), media_id.to_string());
                crate::media::fetch_later(service.clone(), message.id, move || {
                    let (inbox, media_id) = (inbox.clone(), media_id.clone());
                    async move { Ok(vec![media(&inbox, &media_id).await?]) }
                });
            }
            taken += 1;
        }
        if let Some(next) = page["next_cursor"].as_str().filter(|c| !c.is_empty()) {
            service
                .set_channel_cursor(inbox.inbox.id, next)
                .await
                .map_err(|e| e.to_string())?;
        }
        // Go on while WeCom says there is more, even when this page was empty.
        if page["has_more"].as_i64() != Some(1) {
            return Ok(taken);
        }
    }
    Ok(taken)
}

/// Sends one reply with `kf/send_msg`.
pub async fn send(service: &Service, job: &WecomJob) -> Outcome {
    let api = WechatApi::shared();
    let mut body = serde_json::json!({
        "touser": job.external_userid,
        "open_kfid": job.inbox.settings.open_kfid,
        "msgtype": "text",
        "text": { "content": job.message.content },
    });
    // A message with a file is the file (its text is the file's name).
    if let Some(a) = job.message.attachments.first() {
        let kind = match kefu_core::media::outbound(InboxKind::Wecom, &a.content_type, a.size) {
            Ok(kind) => kind,
            Err(reason) => return Outcome::Failed(reason),
        };
        let file = match service.attachment_bytes(a.id).await {
            Ok((meta, bytes)) => MediaFile {
                filename: meta.filename,
                content_type: meta.content_type,
                bytes,
            },
            Err(e) => return Outcome::Retry(format!("the file could not be read: {e}")),
        };
        let media_id = match upload(&api, &job.inbox, kind, &file).await {
            Ok(id) => id,
            Err(e) => return outcome(service, job, Err(e)).await,
        };
        body = serde_json::json!({
            "touser": job.external_userid,
            "open_kfid": job.inbox.settings.open_kfid,
            "msgtype": kind.as_str(),
            kind.as_str(): { "media_id": media_id },
        });
    }
    let result = call(&api, &job.inbox, "kf/send_msg", &body).await;
    outcome(service, job, result).await
}

/// WeCom's session states (`service_state`): 3 is a servicer answering in the WeCom app, 4 ended.
const SESSION_HUMAN: i64 = 3;
const SESSION_ENDED: i64 = 4;

/// Ends the customer's WeCom session when Kefu closes their conversation (`kf/service_state/trans` to 4), so
/// WeCom says goodbye as configured and their next message starts a new session. Tried three times over about
/// ten seconds; a session already ended, or taken by a servicer in the WeCom app, is left as it is.
pub fn end_session_on_close(service: &Service) {
    let for_hook = service.clone();
    service.on_conversation_closed(Arc::new(move |conversation| {
        let (service, conversation) = (for_hook.clone(), conversation.clone());
        tokio::spawn(async move {
            // Any other channel's conversation is not WeCom's: nothing to do.
            let Ok(inbox) = service.wecom_inbox(conversation.inbox_id).await else {
                return;
            };
            if let Err(e) = end_session(&service, &inbox, &conversation).await {
                tracing::warn!(conversation = %conversation.id, error = %e, "the WeCom session was not ended");
            }
        });
    }));
}

async fn end_session(
    service: &Service,
    inbox: &WecomInbox,
    conversation: &kefu_core::model::Conversation,
) -> Result<(), String> {
    let contact = service
        .store()
        .contact(conversation.org_id, conversation.contact_id)
        .await
        .map_err(|e| e.to_string())?
        .and_then(|c| c.external_id)
        .ok_or("the contact has no WeCom id")?;
    let api = WechatApi::shared();
    let who = serde_json::json!({ "open_kfid": inbox.settings.open_kfid, "external_userid": contact });
    let mut wait = std::time::Duration::from_secs(1);
    for attempt in 1..=3 {
        let state = call(&api, inbox, "kf/service_state/get", &who).await;
        let result = match state {
            Ok(s) if matches!(s["service_state"].as_i64(), Some(SESSION_ENDED | SESSION_HUMAN)) => return Ok(()),
            Ok(_) => {
                let mut end = who.clone();
                end["service_state"] = SESSION_ENDED.into();
                call(&api, inbox, "kf/service_state/trans", &end).await.map(|_| ())
            }
            Err(e) => Err(e),
        };
        match result {
            Ok(()) => return Ok(()),
            Err(Failure::Transport(e)) if attempt < 3 => {
                tracing::debug!(error = %e, "WeCom did not answer; ending the session again shortly");
                tokio::time::sleep(wait).await;
                wait *= 4;
            }
            Err(e) => return Err(format!("{e:?}")),
        }
    }
    Ok(())
}

/// What a call's result means for the message.
async fn outcome(service: &Service, job: &WecomJob, result: Result<serde_json::Value, Failure>) -> Outcome {
    match result {
        Ok(reply) => Outcome::Accepted {
            provider_id: reply["msgid"].as_str().map(String::from),
        },
        Err(Failure::Transport(e)) => Outcome::Retry(e),
        Err(Failure::Code(code, msg)) => {
            if matches!(code, 40013 | 40001 | 42001 | 40014 | 60020 | 41004) {
                let reason = format!(
                    "WeCom refused the credentials: {msg} ({code}); check the corp id, secret and IP whitelist"
                );
                if let Err(e) = service.set_channel_state(job.inbox.inbox.id, "error", &reason).await {
                    tracing::warn!(error = %e, "could not record the inbox's state");
                }
            }
            match code {
                95001 => Outcome::Failed(format!(
                    "WeCom refused it: the replies allowed since the customer last wrote are used up, or 48 hours have passed ({code})"
                )),
                95018 => Outcome::Failed(format!(
                    "WeCom refused it: the session is with a servicer in the WeCom app, or has ended, so Kefu may not \
                     send in it ({code})"
                )),
                -1 | 45009 | 45033 => Outcome::Retry(format!("WeCom asked to wait: {msg} ({code})")),
                _ => Outcome::Failed(format!("WeCom refused it: {msg} ({code})")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_the_customers_messages_are_taken() {
        let text = json!({"origin": 3, "msgtype": "text", "text": {"content": " 你好 "}});
        assert_eq!(content(&text).as_deref(), Some("你好"));
        assert_eq!(
            content(&json!({"origin": 5, "msgtype": "text", "text": {"content": "agent"}})),
            None
        );
        assert_eq!(content(&json!({"origin": 4, "msgtype": "event", "event": {}})), None);
        assert_eq!(
            content(&json!({"origin": 3, "msgtype": "text", "text": {"content": "  "}})),
            None
        );
    }
}
