//! WeChat Official Account (公众号): the webhook WeChat calls — URL check, plain and AES safe mode — turning a
//! user's message into a message of their conversation, and the customer-service API that delivers agents'
//! replies (`api`). Every call is checked against the account's token before anything is read or stored.

pub mod api;
pub mod crypto;

use crypto::{Cipher, same, signature};
use kefu_service::{ChannelInbound, Service, WechatInbox};
use serde::Deserialize;

/// The query WeChat adds to every call of the webhook.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct HookQuery {
    #[serde(default)]
    pub signature: Option<String>,
    #[serde(default)]
    pub timestamp: Option<String>,
    #[serde(default)]
    pub nonce: Option<String>,
    #[serde(default)]
    pub echostr: Option<String>,
    #[serde(default)]
    pub openid: Option<String>,
    #[serde(default)]
    pub encrypt_type: Option<String>,
    #[serde(default)]
    pub msg_signature: Option<String>,
}

pub use crate::HookError;

/// What a call's signature is checked with, as a refusal names it.
const SIGNED_WITH: &str = "token";

/// A message as WeChat posts it (and as safe mode wraps it: only `Encrypt` set).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct WireMessage {
    to_user_name: String,
    from_user_name: String,
    create_time: i64,
    msg_type: String,
    content: Option<String>,
    msg_id: Option<String>,
    media_id: Option<String>,
    format: Option<String>,
    recognition: Option<String>,
    event: Option<String>,
    event_key: Option<String>,
    encrypt: Option<String>,
}

fn parse(xml: &str) -> Result<WireMessage, HookError> {
    quick_xml::de::from_str(xml).map_err(|e| HookError::BadRequest(format!("not a WeChat message: {e}")))
}

fn part<'a>(v: &'a Option<String>, name: &str) -> Result<&'a str, HookError> {
    v.as_deref()
        .filter(|v| !v.is_empty() && v.len() <= 512)
        .ok_or_else(|| HookError::BadRequest(format!("{name} is missing")))
}

/// The URL check WeChat makes when the webhook is saved: the `echostr` back, unchanged, when the call is signed.
pub fn verify_url(inbox: &WechatInbox, q: &HookQuery) -> Result<String, HookError> {
    let expected = signature(&[
        &inbox.secrets.token,
        part(&q.timestamp, "timestamp")?,
        part(&q.nonce, "nonce")?,
    ]);
    if !same(&expected, part(&q.signature, "signature")?) {
        return Err(HookError::BadSignature(SIGNED_WITH));
    }
    Ok(q.echostr.clone().unwrap_or_default())
}

/// What a call carries once opened: the message, checked to come from WeChat.
fn open(inbox: &WechatInbox, q: &HookQuery, body: &str) -> Result<WireMessage, HookError> {
    let timestamp = part(&q.timestamp, "timestamp")?;
    let nonce = part(&q.nonce, "nonce")?;
    if q.encrypt_type.as_deref() == Some("aes") {
        let key = inbox.secrets.encoding_aes_key.as_deref().ok_or_else(|| {
            HookError::BadRequest("safe mode is not set up on this inbox: add the EncodingAESKey".into())
        })?;
        // The signature covers the ciphertext: check it before parsing anything else.
        let wrapper = parse(body)?;
        let encrypted = wrapper
            .encrypt
            .ok_or_else(|| HookError::BadRequest("Encrypt is missing".into()))?;
        let expected = signature(&[&inbox.secrets.token, timestamp, nonce, &encrypted]);
        if !same(&expected, part(&q.msg_signature, "msg_signature")?) {
            return Err(HookError::BadSignature(SIGNED_WITH));
        }
        let cipher = Cipher::new(key, &inbox.settings.app_id).map_err(|e| HookError::BadRequest(e.to_string()))?;
        let plain = cipher
            .decrypt(&encrypted)
            .map_err(|e| HookError::BadRequest(e.to_string()))?;
        parse(&plain)
    } else {
        let expected = signature(&[&inbox.secrets.token, timestamp, nonce]);
        if !same(&expected, part(&q.signature, "signature")?) {
            return Err(HookError::BadSignature(SIGNED_WITH));
        }
        parse(body)
    }
}

/// What a user's message says, for the agent. `None` for what is not a message (events).
fn content(m: &WireMessage) -> Option<String> {
    match m.msg_type.as_str() {
        "text" => m.content.clone(),
        // The picture itself is fetched by its MediaId and kept with the message.
        "image" => Some("[image]".into()),
        "voice" => Some(match m.recognition.as_deref().filter(|r| !r.is_empty()) {
            Some(words) => format!("[voice] {words}"),
            None => format!("[voice message, {}]", m.format.as_deref().unwrap_or("audio")),
        }),
        "video" | "shortvideo" => Some("[video]".into()),
        "location" => Some("[location]".into()),
        "link" => Some("[link]".into()),
        _ => None,
    }
}

/// What the webhook answers WeChat within its 5 seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// `success`: received, no passive reply, no retry.
    Success,
    /// A passive reply, as XML (encrypted in safe mode).
    Xml(String),
}

fn cdata(text: &str) -> String {
    format!("<![CDATA[{}]]>", text.replace("]]>", "]]]]><![CDATA[>"))
}

/// A passive text reply to `m`, encrypted and signed in safe mode.
fn passive_text(inbox: &WechatInbox, q: &HookQuery, m: &WireMessage, text: &str) -> Result<String, HookError> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let reply = format!(
        "<xml><ToUserName>{}</ToUserName><FromUserName>{}</FromUserName><CreateTime>{now}</CreateTime>\
         <MsgType><![CDATA[text]]></MsgType><Content>{}</Content></xml>",
        cdata(&m.from_user_name),
        cdata(&m.to_user_name),
        cdata(text)
    );
    let Some(key) = inbox
        .secrets
        .encoding_aes_key
        .as_deref()
        .filter(|_| q.encrypt_type.as_deref() == Some("aes"))
    else {
        return Ok(reply);
    };
    let cipher = Cipher::new(key, &inbox.settings.app_id).map_err(|e| HookError::BadRequest(e.to_string()))?;
    let encrypted = cipher.encrypt(&reply);
    let timestamp = now.to_string();
    let nonce = q.nonce.clone().unwrap_or_default();
    let signed = signature(&[&inbox.secrets.token, &timestamp, &nonce, &encrypted]);
    Ok(format!(
        "<xml><Encrypt>{}</Encrypt><MsgSignature>{}</MsgSignature><TimeStamp>{timestamp}</TimeStamp>\
         <Nonce>{}</Nonce></xml>",
        cdata(&encrypted),
        cdata(&signed),
        cdata(&nonce)
    ))
}

/// Takes in one call of the webhook: checked, opened, stored once; then the answer WeChat waits for. Events
/// (follow, unfollow, menu, scan) open no conversation; a follow gets the inbox's welcome message, if it has one.
pub async fn receive(service: &Service, inbox: &WechatInbox, q: &HookQuery, body: &str) -> Result<Answer, HookError> {
    let m = open(inbox, q, body)?;
    if m.from_user_name.is_empty() || m.from_user_name.len() > 128 {
        return Err(HookError::BadRequest("FromUserName is missing".into()));
    }
    if m.to_user_name.is_empty() {
        return Err(HookError::BadRequest("ToUserName is missing".into()));
    }
    service.webhook_called(&inbox.inbox, None).await?;
    let Some(text) = content(&m) else {
        tracing::debug!(inbox = %inbox.inbox.id, kind = %m.msg_type, event = ?m.event, key = ?m.event_key,
            media = ?m.media_id, "WeChat event taken");
        if m.msg_type == "event"
            && m.event.as_deref() == Some("subscribe")
            && let Some(welcome) = &inbox.settings.welcome_message
        {
            return Ok(Answer::Xml(passive_text(inbox, q, &m, welcome)?));
        }
        return Ok(Answer::Success);
    };
    let text = text.trim().to_string();
    if text.is_empty() {
        return Err(HookError::BadRequest("the message is empty".into()));
    }
    // WeChat retries a call it got no answer to within 5 s: MsgId makes the retry a duplicate.
    let message_key = match &m.msg_id {
        Some(id) if !id.is_empty() => id.clone(),
        _ => format!("{}:{}", m.from_user_name, m.create_time),
    };
    let new_follower = !service.knows_channel_user(&inbox.inbox, &m.from_user_name).await?;
    let inbound = ChannelInbound {
        external_user_id: m.from_user_name.clone(),
        name: None,
        message_key,
        content: text,
        phone: None,
        email: None,
        files: Vec::new(),
    };
    let message = service.channel_received(&inbox.inbox, inbound).await?;
    // A new follower's profile is asked for after the answer: the remark names them, the rest is kept.
    if new_follower {
        let (service, inbox, open_id) = (service.clone(), inbox.clone(), m.from_user_name.clone());
        tokio::spawn(async move {
            let fetched = api::WechatApi::shared().follower(&service, &inbox, &open_id).await;
            let kept = match fetched {
                Ok((remark, facts)) => service
                    .channel_profile(&inbox.inbox, &open_id, remark.as_deref(), facts)
                    .await
                    .map_err(|e| e.to_string()),
                Err(e) => Err(format!("{e:?}")),
            };
            if let Err(e) = kept {
                tracing::warn!(inbox = %inbox.inbox.id, error = %e, "a follower's profile was not kept");
            }
        });
    }
    // The answer goes back now; the file follows, fetched from WeChat's media API (a retried call finds it kept).
    if matches!(m.msg_type.as_str(), "image" | "voice")
        && message.attachments.is_empty()
        && let Some(media_id) = m.media_id.filter(|id| !id.is_empty() && id.len() <= 256)
    {
        let inbox = inbox.clone();
        let fetching = service.clone();
        crate::media::fetch_later(service.clone(), message.id, move || {
            let (service, inbox, media_id) = (fetching.clone(), inbox.clone(), media_id.clone());
            async move { Ok(vec![api::WechatApi::shared().media(&service, &inbox, &media_id).await?]) }
        });
    }
    Ok(Answer::Success)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_message_and_its_fields_are_read() {
        let m = parse(
            "<xml><ToUserName><![CDATA[gh_123]]></ToUserName><FromUserName><![CDATA[oUser1]]></FromUserName>\
             <CreateTime>1348831860</CreateTime><MsgType><![CDATA[text]]></MsgType>\
             <Content><![CDATA[你好 <b>]]></Content><MsgId>1234567890123456</MsgId></xml>",
        )
        .unwrap();
        assert_eq!(m.from_user_name, "oUser1");
        assert_eq!(m.create_time, 1348831860);
        assert_eq!(m.msg_id.as_deref(), Some("1234567890123456"));
        assert_eq!(content(&m).as_deref(), Some("你好 <b>"));
    }

    #[test]
    fn events_are_not_messages_and_voice_carries_its_recognition() {
        let event = parse(
            "<xml><ToUserName>gh</ToUserName><FromUserName>o1</FromUserName><CreateTime>1</CreateTime>\
             <MsgType>event</MsgType><Event>subscribe</Event><EventKey>qrscene_123</EventKey></xml>",
        )
        .unwrap();
        assert_eq!(content(&event), None);
        let voice = parse(
            "<xml><ToUserName>gh</ToUserName><FromUserName>o1</FromUserName><CreateTime>1</CreateTime>\
             <MsgType>voice</MsgType><MediaId>m</MediaId><Format>amr</Format><Recognition>你好</Recognition>\
             <MsgId>9</MsgId></xml>",
        )
        .unwrap();
        assert_eq!(content(&voice).as_deref(), Some("[voice] 你好"));
    }

    #[test]
    fn garbage_is_refused_or_read_as_a_message_from_nobody() {
        for body in [
            "",
            "not xml",
            "<xml><CreateTime>soon</CreateTime></xml>",
            "<xml",
            "\u{0}\u{1}",
            "<a><b></a>",
        ] {
            match parse(body) {
                Err(HookError::BadRequest(_)) => {}
                Ok(m) => assert!(m.from_user_name.is_empty(), "{body:?} named a sender"),
                Err(e) => panic!("{body:?}: {e}"),
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        #[test]
        fn any_text_is_read_or_refused_without_panicking(body in "\\PC{0,300}") {
            let _ = parse(&body).map(|m| content(&m));
        }

        #[test]
        fn a_message_cut_or_spliced_anywhere_is_read_or_refused_without_panicking(
            cut in 0usize..260, at in 0usize..260, splice in "[<>/!\\[\\]CDAT&#;x0-9 ]{0,12}",
        ) {
            let valid = "<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[o1]]></FromUserName>\
                         <CreateTime>1348831860</CreateTime><MsgType><![CDATA[text]]></MsgType>\
                         <Content><![CDATA[hi]]></Content><MsgId>1</MsgId></xml>";
            let mut body: Vec<char> = valid.chars().take(cut.max(1)).collect();
            let at = at.min(body.len());
            body.splice(at..at, splice.chars());
            let body: String = body.into_iter().collect();
            let _ = parse(&body).map(|m| content(&m));
        }

        #[test]
        fn any_ciphertext_is_opened_or_refused_without_panicking(sealed in "[A-Za-z0-9+/=]{0,200}") {
            let cipher = Cipher::new("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFE", "wxb11529c136998cb6").unwrap();
            let _ = cipher.decrypt(&sealed);
        }
    }
}
