//! Twilio SMS: `X-Twilio-Signature` checked on every call (HMAC-SHA1 over the URL and the sorted form fields, with
//! the URL's default port both left out and written, as Twilio's own validators accept), an incoming text becoming
//! a message of the texter's conversation once however often Twilio retries, the Messages API for replies, and
//! status callbacks that move a reply from sent to delivered or failed.

use crate::media::download;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use kefu_core::model::InboxKind;
use kefu_service::{ChannelInbound, DeliveryReport, Outcome, Service, TwilioInbox, TwilioJob};
use serde::Deserialize;
use sha1::Sha1;
use std::time::Duration;

/// The answer to an incoming text: empty TwiML, no automatic reply.
pub const EMPTY_TWIML: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>";

/// `base64(HMAC-SHA1(auth_token, url + key1 + value1 + key2 + value2 ...))`, keys sorted; a repeated key's values
/// sorted too.
pub fn signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    sorted.dedup();
    let mut mac = Hmac::<Sha1>::new_from_slice(auth_token.as_bytes()).expect("HMAC takes any key");
    mac.update(url.as_bytes());
    for (k, v) in sorted {
        mac.update(k.as_bytes());
        mac.update(v.as_bytes());
    }
    STANDARD.encode(mac.finalize().into_bytes())
}

/// The URL as written, and with its default port added or removed: Twilio signs the URL it was given, which
/// may or may not name the port.
fn url_variants(url: &str) -> Vec<String> {
    let mut out = vec![url.to_string()];
    let Some((scheme, rest)) = url.split_once("://") else {
        return out;
    };
    let default = match scheme {
        "https" => "443",
        "http" => "80",
        _ => return out,
    };
    let split = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(split);
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (format!("{u}@"), h),
        None => (String::new(), authority),
    };
    // `[::1]` is a host without a port; `[::1]:443` and `example.com:443` have one.
    let port = if hostport.ends_with(']') {
        None
    } else {
        hostport.rsplit_once(':')
    };
    let other = match port {
        Some((host, port)) if port == default => format!("{scheme}://{userinfo}{host}{path}"),
        Some(_) => return out,
        None => format!("{scheme}://{userinfo}{hostport}:{default}{path}"),
    };
    out.push(other);
    out
}

/// Whether the call was signed by Twilio with this auth token, for this URL and these fields.
pub fn signed(auth_token: &str, url: &str, params: &[(String, String)], given: &str) -> bool {
    url_variants(url)
        .iter()
        .any(|u| crate::wechat::crypto::same(&signature(auth_token, u, params), given))
}

pub use crate::HookError;

/// What a call's signature is checked with, as a refusal names it.
const SIGNED_WITH: &str = "auth token";

fn field<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// Reads a form body, checking the signature before anything in it is used.
pub fn verified(
    inbox: &TwilioInbox,
    url: &str,
    body: &[u8],
    given: Option<&str>,
) -> Result<Vec<(String, String)>, HookError> {
    let params: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
    let given = given.ok_or(HookError::BadSignature(SIGNED_WITH))?;
    if !signed(&inbox.secrets.auth_token, url, &params, given) {
        return Err(HookError::BadSignature(SIGNED_WITH));
    }
    Ok(params)
}

/// A picture or other file an MMS came with: where Twilio keeps it, and its type.
type MediaRef = (String, String);

/// Reads an incoming text's fields: who sent it, what it says, its MessageSid, and the media it came with.
fn text(params: &[(String, String)]) -> Result<(ChannelInbound, Vec<MediaRef>), HookError> {
    let sid = field(params, "MessageSid")
        .or_else(|| field(params, "SmsMessageSid"))
        .filter(|s| !s.is_empty() && s.len() <= 64)
        .ok_or_else(|| HookError::BadRequest("MessageSid is missing".into()))?;
    let from = field(params, "From").ok_or_else(|| HookError::BadRequest("From is missing".into()))?;
    let from = kefu_core::sms::e164("From", from).map_err(|e| HookError::BadRequest(e.to_string()))?;
    let mut content = field(params, "Body").unwrap_or_default().trim().to_string();
    let count: usize = field(params, "NumMedia").and_then(|n| n.parse().ok()).unwrap_or(0);
    let mut media = Vec::new();
    for i in 0..count.min(10) {
        if let Some(url) = field(params, &format!("MediaUrl{i}")).filter(|u| u.starts_with("http")) {
            let kind = field(params, &format!("MediaContentType{i}")).unwrap_or("application/octet-stream");
            media.push((url.to_string(), kefu_core::media::essence(kind)));
        }
    }
    // An MMS without words is named by what it carries; the files follow, fetched from Twilio.
    if content.is_empty() {
        content = media
            .iter()
            .map(|(_, kind)| match kefu_core::media::kind_of(kind) {
                kefu_core::media::MediaKind::Image => "[image]",
                kefu_core::media::MediaKind::Voice => "[audio]",
                kefu_core::media::MediaKind::Video => "[video]",
                kefu_core::media::MediaKind::File => "[file]",
            })
            .collect::<Vec<_>>()
            .join(" ");
    }
    if content.is_empty() {
        return Err(HookError::BadRequest("the text is empty".into()));
    }
    let inbound = ChannelInbound {
        external_user_id: from.clone(),
        name: None,
        message_key: sid.to_string(),
        content,
        phone: Some(from),
        email: None,
        files: Vec::new(),
    };
    Ok((inbound, media))
}

/// An incoming text, signed: stored once (by its MessageSid) in the texter's conversation.
pub async fn receive(
    service: &Service,
    inbox: &TwilioInbox,
    url: &str,
    params: &[(String, String)],
) -> Result<(), HookError> {
    let (inbound, media) = text(params)?;
    service.webhook_called(&inbox.inbox, Some(url)).await?;
    let message = service.channel_received(&inbox.inbox, inbound).await?;
    if !media.is_empty() && message.attachments.is_empty() {
        let (inbox, http) = (inbox.clone(), crate::media::client());
        crate::media::fetch_later(service.clone(), message.id, move || {
            let (inbox, media, http) = (inbox.clone(), media.clone(), http.clone());
            async move {
                let mut files = Vec::new();
                for (url, kind) in &media {
                    let mut request = http.get(url);
                    // Twilio's media may need the account's credentials; they go to Twilio's own host only.
                    if same_host(url, &inbox.settings.api_base_url) {
                        request = request.basic_auth(&inbox.settings.account_sid, Some(&inbox.secrets.auth_token));
                    }
                    let mut file = download(request, kefu_core::media::MAX_INBOUND_BYTES).await?;
                    if file.content_type == "application/octet-stream" {
                        file.content_type = kind.clone();
                    }
                    files.push(file);
                }
                Ok(files)
            }
        });
    }
    Ok(())
}

/// Whether two URLs name the same scheme, host and port.
fn same_host(a: &str, b: &str) -> bool {
    let origin = |u: &str| -> Option<String> {
        let (scheme, rest) = u.split_once("://")?;
        let host = rest.split(['/', '?', '#']).next()?;
        Some(format!(
            "{}://{}",
            scheme.to_ascii_lowercase(),
            host.to_ascii_lowercase()
        ))
    };
    origin(a).is_some_and(|o| Some(o) == origin(b))
}

/// A status callback, signed: the reply's delivery moves on.
pub async fn status(service: &Service, inbox: &TwilioInbox, params: &[(String, String)]) -> Result<(), HookError> {
    let sid = field(params, "MessageSid")
        .or_else(|| field(params, "SmsSid"))
        .ok_or_else(|| HookError::BadRequest("MessageSid is missing".into()))?;
    let status = field(params, "MessageStatus")
        .or_else(|| field(params, "SmsStatus"))
        .ok_or_else(|| HookError::BadRequest("MessageStatus is missing".into()))?;
    let report = match status {
        "sent" => DeliveryReport::Sent,
        "delivered" | "read" => DeliveryReport::Delivered,
        "undelivered" | "failed" => {
            DeliveryReport::Failed(match field(params, "ErrorCode").filter(|c| !c.is_empty()) {
                Some(code) => format!(
                    "the carrier did not deliver it (Twilio error {code}){}",
                    error_hint(code)
                ),
                None => "the carrier did not deliver it".to_string(),
            })
        }
        // queued, accepted, scheduled, sending: nothing the agent needs to see.
        _ => return Ok(()),
    };
    service.delivery_reported(&inbox.inbox, sid, report).await?;
    Ok(())
}

fn error_hint(code: &str) -> &'static str {
    match code {
        "30003" => ": the phone is off or unreachable",
        "30004" => ": the recipient blocked the message",
        "30005" => ": unknown or inactive number",
        "30006" => ": a landline or unreachable carrier",
        "30007" => ": filtered as spam by the carrier",
        _ => "",
    }
}

#[derive(Debug, Deserialize)]
struct ApiMessage {
    sid: String,
}

#[derive(Debug, Deserialize)]
struct ApiError {
    #[serde(default)]
    code: Option<i64>,
    #[serde(default)]
    message: String,
}

/// Sends SMS replies through Twilio's Messages API.
#[derive(Clone)]
pub struct TwilioApi {
    http: reqwest::Client,
}

impl Default for TwilioApi {
    fn default() -> Self {
        Self::new()
    }
}

impl TwilioApi {
    pub fn new() -> Self {
        TwilioApi {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(15))
                .build()
                .expect("the HTTP client builds"),
        }
    }

    pub async fn send(&self, service: &Service, job: &TwilioJob) -> Outcome {
        let s = &job.inbox.settings;
        let url = format!("{}/2010-04-01/Accounts/{}/Messages.json", s.api_base_url, s.account_sid);
        let mut form = vec![("To", job.to.as_str())];
        // A message with a file is the file (its text is the file's name): Twilio fetches it from Kefu's link.
        match job.message.attachments.first() {
            None => form.push(("Body", job.message.content.as_str())),
            Some(a) => {
                if let Err(reason) = kefu_core::media::outbound(InboxKind::TwilioSms, &a.content_type, a.size) {
                    return Outcome::Failed(reason);
                }
                match &job.media_url {
                    Some(url) => form.push(("MediaUrl", url)),
                    None => {
                        return Outcome::Failed(
                            "Twilio has not called this inbox's webhook yet, so Kefu does not know the public \
                             address to give Twilio the file from"
                                .into(),
                        );
                    }
                }
            }
        }
        match (&s.messaging_service_sid, &s.from_number) {
            (Some(m), _) => form.push(("MessagingServiceSid", m)),
            (None, Some(f)) => form.push(("From", f)),
            (None, None) => return Outcome::Failed("the inbox has no number to send from".into()),
        }
        if let Some(cb) = &job.status_callback {
            form.push(("StatusCallback", cb));
        }
        let request = self
            .http
            .post(url)
            .basic_auth(&s.account_sid, Some(&job.inbox.secrets.auth_token))
            .form(&form);
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) => return Outcome::Retry(e.to_string()),
        };
        let status = response.status();
        let body = response.bytes().await.unwrap_or_default();
        if status.is_success() {
            return match serde_json::from_slice::<ApiMessage>(&body) {
                Ok(m) => Outcome::Accepted {
                    provider_id: Some(m.sid),
                },
                Err(e) => Outcome::Retry(format!("Twilio's answer could not be read: {e}")),
            };
        }
        let error: ApiError = serde_json::from_slice(&body).unwrap_or(ApiError {
            code: None,
            message: String::from_utf8_lossy(&body).chars().take(200).collect(),
        });
        let outcome = outcome(status.as_u16(), error.code, &error.message);
        if status.as_u16() == 401 || error.code == Some(20003) {
            let reason = format!(
                "Twilio refused the credentials: {} — check the account SID and auth token",
                error.message
            );
            if let Err(e) = service.set_channel_state(job.inbox.inbox.id, "error", &reason).await {
                tracing::warn!(error = %e, "could not record the inbox's state");
            }
        }
        outcome
    }
}

/// What a refused send means for the message.
fn outcome(status: u16, code: Option<i64>, message: &str) -> Outcome {
    let said = match code {
        Some(c) => format!("Twilio refused it: {message} ({c})"),
        None => format!("Twilio refused it: {message} (HTTP {status})"),
    };
    if status == 429 || status >= 500 || code == Some(20429) {
        Outcome::Retry(said)
    } else {
        Outcome::Failed(said)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> Vec<(String, String)> {
        [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+14158675309"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    #[test]
    fn signatures_match_twilio_pythons_vectors_with_and_without_the_port() {
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        assert_eq!(signature("12345", url, &params()), "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
        assert_eq!(
            signature("12345", "https://mycompany.com:443/myapp.php?foo=1&bar=2", &params()),
            "kvajT1Ptam85bY51eRf/AJRuM3w="
        );
        assert_eq!(
            signature("12345", "http://mycompany.com:80/myapp.php?foo=1&bar=2", &params()),
            "0ZXoZLH/DfblKGATFgpif+LLRf4="
        );
        // Signed with the port, checked against the URL without it, and the other way round.
        assert!(signed("12345", url, &params(), "kvajT1Ptam85bY51eRf/AJRuM3w="));
        assert!(signed(
            "12345",
            "https://mycompany.com:443/myapp.php?foo=1&bar=2",
            &params(),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
        assert!(signed(
            "12345",
            "http://mycompany.com/myapp.php?foo=1&bar=2",
            &params(),
            "0ZXoZLH/DfblKGATFgpif+LLRf4="
        ));
        assert!(!signed("12346", url, &params(), "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
        let mut changed = params();
        changed[2].1 = "1235".into();
        assert!(!signed("12345", url, &changed, "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
    }

    #[test]
    fn a_json_body_is_signed_through_its_hash_in_the_url() {
        use sha2::{Digest, Sha256};
        let body = r#"{"property": "value", "boolean": true}"#;
        let hash: String = Sha256::digest(body.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(hash, "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620");
        let url = format!("https://mycompany.com/myapp.php?foo=1&bar=2&bodySHA256={hash}");
        assert_eq!(signature("12345", &url, &[]), "a9nBmqA0ju/hNViExpshrM61xv4=");
    }

    #[test]
    fn refusals_are_final_but_rate_limits_and_outages_are_tried_again() {
        assert!(
            matches!(outcome(400, Some(21211), "Invalid 'To' Phone Number"), Outcome::Failed(r) if r.contains("21211"))
        );
        assert!(matches!(
            outcome(429, Some(20429), "Too Many Requests"),
            Outcome::Retry(_)
        ));
        assert!(matches!(outcome(503, None, "down"), Outcome::Retry(_)));
        assert!(matches!(outcome(401, Some(20003), "Authenticate"), Outcome::Failed(_)));
    }

    #[test]
    fn url_variants_add_or_drop_only_the_default_port() {
        assert_eq!(
            url_variants("https://a.example/x?y=1")[1],
            "https://a.example:443/x?y=1"
        );
        assert_eq!(url_variants("http://a.example:80/x")[1], "http://a.example/x");
        assert_eq!(url_variants("http://a.example:8080/x").len(), 1);
    }

    proptest::proptest! {
        #[test]
        fn any_form_body_is_read_or_refused_without_panicking(body in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let params: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
            if let Ok((m, _)) = text(&params) {
                proptest::prop_assert!(m.phone.as_deref().is_some_and(|p| p.starts_with('+')));
                proptest::prop_assert!(!m.content.is_empty() && !m.message_key.is_empty());
            }
        }
    }
}
