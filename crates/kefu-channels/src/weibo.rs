//! Weibo private messages (粉丝服务平台): the signed URL check and JSON pushes (`sha1(sort([app_secret,
//! timestamp, nonce]))`, Weibo's own scheme with the app secret in place of a token), a user's message becoming a
//! message of their conversation once (Weibo retries, with no message id: sender and time are the key), and the
//! customer-service reply API for agents' answers.

use crate::wechat::crypto::{same, signature};
use kefu_service::{ChannelInbound, Outcome, Service, WeiboInbox, WeiboJob};
use serde::Deserialize;
use std::time::Duration;

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
}

pub use crate::HookError;

/// What a call's signature is checked with, as a refusal names it.
const SIGNED_WITH: &str = "app secret";

fn signed(inbox: &WeiboInbox, q: &HookQuery) -> Result<(), HookError> {
    let part = |v: &Option<String>, name: &str| {
        v.clone()
            .filter(|v| !v.is_empty() && v.len() <= 128)
            .ok_or_else(|| HookError::BadRequest(format!("{name} is missing")))
    };
    let expected = signature(&[
        &inbox.secrets.app_secret,
        &part(&q.timestamp, "timestamp")?,
        &part(&q.nonce, "nonce")?,
    ]);
    if same(&expected, &part(&q.signature, "signature")?) {
        Ok(())
    } else {
        Err(HookError::BadSignature(SIGNED_WITH))
    }
}

/// The URL check: the `echostr` back when the call is signed.
pub fn verify_url(inbox: &WeiboInbox, q: &HookQuery) -> Result<String, HookError> {
    signed(inbox, q)?;
    Ok(q.echostr.clone().unwrap_or_default())
}

#[derive(Debug, Deserialize)]
struct Push {
    #[serde(rename = "type")]
    kind: String,
    sender_id: serde_json::Value,
    #[serde(default)]
    created_at: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    data: serde_json::Value,
}

/// A picture or voice note a push names: Weibo's file id for the account (`tovfid`), and what it is.
type MediaRef = (String, &'static str);

fn id_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::String(s) if !s.is_empty() && s.len() <= 64 && s.chars().all(|c| c.is_ascii_digit()) => {
            Some(s.clone())
        }
        _ => None,
    }
}

/// Reads a push: the message it carries and the file it names, `None` for what opens nothing (events, unknown
/// types).
fn message(body: &[u8]) -> Result<Option<(ChannelInbound, Option<MediaRef>)>, HookError> {
    let push: Push =
        serde_json::from_slice(body).map_err(|e| HookError::BadRequest(format!("not a Weibo push: {e}")))?;
    let sender = id_text(&push.sender_id).ok_or_else(|| HookError::BadRequest("sender_id is missing".into()))?;
    let content = match push.kind.as_str() {
        "text" => push.text.trim().to_string(),
        "image" => "[image]".to_string(),
        "voice" => "[voice message]".to_string(),
        "position" => "[location]".to_string(),
        _ => return Ok(None),
    };
    // The account's copy of the file is `tovfid` (`vfid` is the sender's).
    let media = match push.kind.as_str() {
        kind @ ("image" | "voice") => {
            id_text(&push.data["tovfid"]).map(|fid| (fid, if kind == "image" { "image" } else { "voice" }))
        }
        _ => None,
    };
    if content.is_empty() {
        return Err(HookError::BadRequest("the message is empty".into()));
    }
    // Weibo gives no message id: the sender and the time are the key, with what the push carries, since the time
    // is to the second and a user can send a picture and a line within one (a retry carries the same).
    let carried = kefu_service::hash_token(&format!("{}\u{0}{}\u{0}{}", push.kind, push.text, push.data));
    let message_key = format!("{sender}:{}:{}", push.created_at.trim(), &carried[..16]);
    let inbound = ChannelInbound {
        message_key,
        external_user_id: sender,
        name: None,
        content,
        phone: None,
        email: None,
        files: Vec::new(),
    };
    Ok(Some((inbound, media)))
}

/// One push: checked, read, stored once. Events (follow, unfollow, menu) open nothing; unknown types are ignored
/// as Weibo asks.
pub async fn receive(service: &Service, inbox: &WeiboInbox, q: &HookQuery, body: &[u8]) -> Result<(), HookError> {
    signed(inbox, q)?;
    let read = message(body)?;
    service.webhook_called(&inbox.inbox, None).await?;
    if let Some((inbound, media)) = read {
        let message = service.channel_received(&inbox.inbox, inbound).await?;
        // Answered now; the file follows from Weibo's media API (a retried push finds it kept).
        if let Some((fid, kind)) = media.filter(|_| message.attachments.is_empty()) {
            let inbox = inbox.clone();
            crate::media::fetch_later(service.clone(), message.id, move || {
                let (inbox, fid) = (inbox.clone(), fid.clone());
                async move {
                    let request = crate::media::client()
                        .get(format!("{}/2/mss/msget", inbox.settings.media_base_url))
                        .query(&[
                            ("access_token", inbox.secrets.access_token.as_str()),
                            ("fid", fid.as_str()),
                        ]);
                    let mut file = crate::media::download(request, kefu_core::media::MAX_INBOUND_BYTES).await?;
                    if file.filename.is_empty() {
                        let ext = kefu_core::media::extension(&file.content_type);
                        file.filename = format!("{kind}-{fid}.{ext}");
                    }
                    Ok(vec![file])
                }
            });
        }
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
struct ApiError {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_code: Option<i64>,
}

/// Sends replies through Weibo's customer-service reply API.
#[derive(Clone)]
pub struct WeiboApi {
    http: reqwest::Client,
}

impl Default for WeiboApi {
    fn default() -> Self {
        Self::new()
    }
}

impl WeiboApi {
    pub fn new() -> Self {
        WeiboApi {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(15))
                .build()
                .expect("the HTTP client builds"),
        }
    }

    pub async fn send(&self, service: &Service, job: &WeiboJob) -> Outcome {
        let url = format!("{}/2/messages/reply.json", job.inbox.settings.api_base_url);
        let data = serde_json::json!({ "text": job.message.content }).to_string();
        let form = [
            ("access_token", job.inbox.secrets.access_token.as_str()),
            ("type", "text"),
            ("data", data.as_str()),
            ("receiver_id", job.receiver_id.as_str()),
            ("save_sender_box", "0"),
        ];
        let response = match self.http.post(url).form(&form).send().await {
            Ok(r) => r,
            Err(e) => return Outcome::Retry(e.to_string()),
        };
        let status = response.status();
        let body = response.bytes().await.unwrap_or_default();
        if status.is_success() {
            return Outcome::Accepted { provider_id: None };
        }
        let error: ApiError = serde_json::from_slice(&body).unwrap_or(ApiError {
            error: String::from_utf8_lossy(&body).chars().take(200).collect(),
            error_code: None,
        });
        if matches!(
            error.error_code,
            Some(21301 | 21314 | 21315 | 21316 | 21317 | 21327 | 21332)
        ) {
            let reason = format!(
                "Weibo refused the access token: {} ({})",
                error.error,
                error.error_code.unwrap_or_default()
            );
            if let Err(e) = service.set_channel_state(job.inbox.inbox.id, "error", &reason).await {
                tracing::warn!(error = %e, "could not record the inbox's state");
            }
        }
        outcome(status.as_u16(), error.error_code, &error.error)
    }
}

fn outcome(status: u16, code: Option<i64>, message: &str) -> Outcome {
    let said = match code {
        Some(c) => format!("Weibo refused it: {message} ({c})"),
        None => format!("Weibo refused it: {message} (HTTP {status})"),
    };
    // 10022-10024: request-rate limits.
    if status >= 500 || status == 429 || matches!(code, Some(10022..=10024)) {
        Outcome::Retry(said)
    } else {
        Outcome::Failed(said)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_check_signature_matches_weibos_documented_example() {
        assert_eq!(
            signature(&["xyz123xyz", "1397022061823", "57155157"]),
            "90e4c22c90a58f26526c2dd5b6c56c8822edeaa1"
        );
    }

    #[test]
    fn rate_limits_are_tried_again_and_refusals_are_final() {
        assert!(matches!(
            outcome(403, Some(10023), "User requests out of rate limit!"),
            Outcome::Retry(_)
        ));
        assert!(matches!(outcome(400, Some(21327), "expired_token"), Outcome::Failed(r) if r.contains("21327")));
        assert!(matches!(outcome(502, None, "bad gateway"), Outcome::Retry(_)));
    }

    #[test]
    fn sender_ids_are_digits_whether_numbers_or_strings() {
        assert_eq!(
            id_text(&serde_json::json!(2489518277u64)).as_deref(),
            Some("2489518277")
        );
        assert_eq!(id_text(&serde_json::json!("2489518277")).as_deref(), Some("2489518277"));
        assert_eq!(id_text(&serde_json::json!("x1")), None);
        assert_eq!(id_text(&serde_json::json!(null)), None);
    }

    #[test]
    fn a_picture_names_the_accounts_copy_of_the_file() {
        let push =
            br#"{"type":"image","sender_id":2489518277,"created_at":"x","data":{"vfid":821804459,"tovfid":821804469}}"#;
        let (m, media) = message(push).unwrap().unwrap();
        assert_eq!(m.content, "[image]");
        assert_eq!(media, Some(("821804469".to_string(), "image")));
        let voice = br#"{"type":"voice","sender_id":2489518277,"created_at":"y","data":{}}"#;
        assert_eq!(message(voice).unwrap().unwrap().1, None, "no file id: nothing to fetch");
    }

    proptest::proptest! {
        #[test]
        fn any_push_body_is_read_or_refused_without_panicking(body in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let _ = message(&body);
        }

        #[test]
        fn a_text_push_with_any_fields_names_a_numeric_sender_and_some_text(
            sender in "\\PC{0,12}", text in "\\PC{0,40}", at in "\\PC{0,30}",
        ) {
            let body = serde_json::json!({ "type": "text", "sender_id": sender, "text": text, "created_at": at });
            if let Ok(Some((m, _))) = message(body.to_string().as_bytes()) {
                proptest::prop_assert!(m.external_user_id.chars().all(|c| c.is_ascii_digit()));
                proptest::prop_assert!(!m.content.is_empty());
            }
        }
    }
}
