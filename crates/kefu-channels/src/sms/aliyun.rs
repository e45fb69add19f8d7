//! Aliyun SMS (阿里云短信): `SendSms` signed with the RPC v1 scheme (HMAC-SHA1 over the sorted, RFC 3986-encoded
//! query) for replies, and the two pushes Aliyun makes in its "HTTP batch push" mode — incoming texts (SmsUp) and
//! delivery reports (SmsReport), each a JSON array. Aliyun signs neither push: the webhook URL carries the inbox's
//! token, and a push without it stores nothing.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use kefu_service::{AliyunInbox, AliyunJob, ChannelInbound, DeliveryReport, Outcome, Service};
use serde::Deserialize;
use sha1::Sha1;
use std::time::Duration;

/// What Aliyun expects back from a push it delivered.
pub const PUSH_ACCEPTED: &str = r#"{"code":0,"msg":"接收成功"}"#;

/// RFC 3986 percent-encoding, as Aliyun's signature wants it (space as %20, `~` kept).
pub fn pct(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The RPC v1 signature of a GET with these parameters (all but `Signature`).
pub fn signature(secret: &str, params: &[(&str, String)]) -> String {
    let mut sorted: Vec<(String, String)> = params.iter().map(|(k, v)| (pct(k), pct(v))).collect();
    sorted.sort();
    let canonical: Vec<String> = sorted.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let to_sign = format!("GET&{}&{}", pct("/"), pct(&canonical.join("&")));
    let mut mac = Hmac::<Sha1>::new_from_slice(format!("{secret}&").as_bytes()).expect("HMAC takes any key");
    mac.update(to_sign.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

/// A number as Kefu keeps it (E.164): Aliyun writes mainland numbers without the country code.
pub fn to_e164(aliyun: &str) -> Option<String> {
    let digits: String = aliyun.trim().trim_start_matches('+').chars().collect();
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let full = if digits.len() == 11 && digits.starts_with('1') {
        format!("+86{digits}")
    } else {
        format!("+{digits}")
    };
    kefu_core::sms::e164("phone_number", &full).ok()
}

/// A number as Aliyun wants it: mainland without +86, others with their country code and no `+`.
pub fn from_e164(number: &str) -> String {
    match number.strip_prefix("+86") {
        Some(mainland) => mainland.to_string(),
        None => number.trim_start_matches('+').to_string(),
    }
}

pub use crate::HookError;

#[derive(Debug, Deserialize)]
struct SmsUp {
    phone_number: String,
    content: String,
    #[serde(default)]
    send_time: Option<String>,
    #[serde(default)]
    sequence_id: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct SmsReport {
    #[serde(default)]
    success: bool,
    #[serde(default)]
    err_code: Option<String>,
    #[serde(default)]
    err_msg: Option<String>,
    biz_id: String,
}

/// Reads an SmsUp batch into (phone, text, message key) for each text; one bad text refuses the batch.
fn texts(body: &[u8]) -> Result<Vec<ChannelInbound>, HookError> {
    let batch: Vec<SmsUp> = serde_json::from_slice(body)
        .map_err(|e| HookError::BadRequest(format!("not an Aliyun SmsUp batch (a JSON array): {e}")))?;
    let mut texts = Vec::with_capacity(batch.len());
    for up in batch {
        let phone = to_e164(&up.phone_number)
            .ok_or_else(|| HookError::BadRequest(format!("{:?} is not a phone number", up.phone_number)))?;
        let content = up.content.trim().to_string();
        if content.is_empty() {
            return Err(HookError::BadRequest("a text is empty".into()));
        }
        // Aliyun pushes again what got no answer: its sequence id (or number and time) is the same each time.
        let key = match &up.sequence_id {
            Some(serde_json::Value::Number(n)) => n.to_string(),
            Some(serde_json::Value::String(s)) if !s.is_empty() => s.clone(),
            _ => format!(
                "{phone}:{}:{}",
                up.send_time.as_deref().unwrap_or(""),
                kefu_service::hash_token(&content)
            ),
        };
        texts.push(ChannelInbound {
            external_user_id: phone.clone(),
            name: None,
            message_key: key,
            content,
            phone: Some(phone),
            email: None,
            files: Vec::new(),
        });
    }
    Ok(texts)
}

/// Incoming texts: the whole batch is checked before any of it is stored.
pub async fn receive(service: &Service, inbox: &AliyunInbox, body: &[u8]) -> Result<(), HookError> {
    let texts = texts(body)?;
    service.webhook_called(&inbox.inbox, None).await?;
    for inbound in texts {
        service.channel_received(&inbox.inbox, inbound).await?;
    }
    Ok(())
}

/// Delivery reports: each moves its reply to delivered, or failed with Aliyun's code.
pub async fn reports(service: &Service, inbox: &AliyunInbox, body: &[u8]) -> Result<(), HookError> {
    let batch: Vec<SmsReport> = serde_json::from_slice(body)
        .map_err(|e| HookError::BadRequest(format!("not an Aliyun SmsReport batch (a JSON array): {e}")))?;
    for r in batch {
        let report = if r.success {
            DeliveryReport::Delivered
        } else {
            let code = r.err_code.unwrap_or_default();
            let msg = r.err_msg.unwrap_or_default();
            DeliveryReport::Failed(format!("the carrier did not deliver it: {msg} ({code})"))
        };
        service.delivery_reported(&inbox.inbox, &r.biz_id, report).await?;
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SendReply {
    code: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    biz_id: Option<String>,
}

/// Sends replies through `SendSms`.
#[derive(Clone)]
pub struct AliyunApi {
    http: reqwest::Client,
}

impl Default for AliyunApi {
    fn default() -> Self {
        Self::new()
    }
}

impl AliyunApi {
    pub fn new() -> Self {
        AliyunApi {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(15))
                .build()
                .expect("the HTTP client builds"),
        }
    }

    pub async fn send(&self, service: &Service, job: &AliyunJob) -> Outcome {
        let s = &job.inbox.settings;
        let param = serde_json::json!({ s.template_param.clone(): job.message.content }).to_string();
        let mut params: Vec<(&str, String)> = vec![
            ("AccessKeyId", s.access_key_id.clone()),
            ("Action", "SendSms".into()),
            ("Format", "JSON".into()),
            ("OutId", job.message.id.simple().to_string()),
            ("PhoneNumbers", from_e164(&job.to)),
            ("RegionId", s.region_id.clone()),
            ("SignName", s.sign_name.clone()),
            ("SignatureMethod", "HMAC-SHA1".into()),
            ("SignatureNonce", uuid::Uuid::now_v7().to_string()),
            ("SignatureVersion", "1.0".into()),
            ("TemplateCode", s.template_code.clone()),
            ("TemplateParam", param),
            ("Timestamp", chrono_now()),
            ("Version", "2017-05-25".into()),
        ];
        let sig = signature(&job.inbox.secrets.access_key_secret, &params);
        params.push(("Signature", sig));
        let query: Vec<String> = params.iter().map(|(k, v)| format!("{}={}", pct(k), pct(v))).collect();
        let url = format!("{}/?{}", s.api_base_url, query.join("&"));
        let response = match self.http.get(url).send().await {
            Ok(r) => r,
            Err(e) => return Outcome::Retry(e.to_string()),
        };
        let status = response.status();
        let body = response.bytes().await.unwrap_or_default();
        let reply: SendReply = match serde_json::from_slice(&body) {
            Ok(r) => r,
            Err(_) if status.is_server_error() => return Outcome::Retry(format!("Aliyun answered HTTP {status}")),
            Err(e) => return Outcome::Retry(format!("Aliyun's answer could not be read (HTTP {status}): {e}")),
        };
        if reply.code == "OK" {
            return Outcome::Accepted {
                provider_id: reply.biz_id,
            };
        }
        let credentials = matches!(
            reply.code.as_str(),
            "InvalidAccessKeyId.NotFound" | "InvalidAccessKeyId.Inactive" | "SignatureDoesNotMatch" | "Forbidden.RAM"
        );
        if credentials {
            let reason = format!("Aliyun refused the AccessKey: {} ({})", reply.message, reply.code);
            if let Err(e) = service.set_channel_state(job.inbox.inbox.id, "error", &reason).await {
                tracing::warn!(error = %e, "could not record the inbox's state");
            }
        }
        outcome(status.as_u16(), &reply.code, &reply.message)
    }
}

fn outcome(status: u16, code: &str, message: &str) -> Outcome {
    let said = format!("Aliyun refused it: {message} ({code})");
    let later = status >= 500
        || code.starts_with("Throttling")
        || code == "isv.BUSINESS_LIMIT_CONTROL"
        || code == "isp.SYSTEM_ERROR"
        || code == "ServiceUnavailable";
    if later {
        Outcome::Retry(said)
    } else {
        Outcome::Failed(said)
    }
}

/// ISO 8601 in UTC, to the second, as Aliyun's `Timestamp` wants.
fn chrono_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil from days (Howard Hinnant's algorithm), so no date crate is needed for one timestamp.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_matches_aliyuns_documented_example() {
        let params: Vec<(&str, String)> = vec![
            ("AccessKeyId", "testId".into()),
            ("Action", "SendSms".into()),
            ("Format", "XML".into()),
            ("OutId", "123".into()),
            ("PhoneNumbers", "15300000001".into()),
            ("RegionId", "cn-hangzhou".into()),
            ("SignName", "阿里云短信测试专用".into()),
            ("SignatureMethod", "HMAC-SHA1".into()),
            ("SignatureNonce", "45e25e9b-0a6f-4070-8c85-2956eda1b466".into()),
            ("SignatureVersion", "1.0".into()),
            ("TemplateCode", "SMS_71390007".into()),
            ("TemplateParam", r#"{"customer":"test"}"#.into()),
            ("Timestamp", "2017-07-12T02:42:19Z".into()),
            ("Version", "2017-05-25".into()),
        ];
        assert_eq!(signature("testSecret", &params), "zJDF+Lrzhj/ThnlvIToysFRq6t4=");
    }

    #[test]
    fn percent_encoding_follows_rfc_3986() {
        assert_eq!(pct("a b*c~d/é"), "a%20b%2Ac~d%2F%C3%A9");
    }

    #[test]
    fn mainland_numbers_gain_and_lose_their_country_code() {
        assert_eq!(to_e164("13800138000").as_deref(), Some("+8613800138000"));
        assert_eq!(to_e164("85261234567").as_deref(), Some("+85261234567"));
        assert_eq!(to_e164("abc"), None);
        assert_eq!(from_e164("+8613800138000"), "13800138000");
        assert_eq!(from_e164("+85261234567"), "85261234567");
    }

    #[test]
    fn throttling_is_tried_again_and_refusals_are_final() {
        assert!(matches!(
            outcome(200, "isv.BUSINESS_LIMIT_CONTROL", "limit"),
            Outcome::Retry(_)
        ));
        assert!(matches!(
            outcome(200, "Throttling.User", "slow down"),
            Outcome::Retry(_)
        ));
        assert!(
            matches!(outcome(200, "isv.MOBILE_NUMBER_ILLEGAL", "bad"), Outcome::Failed(r) if r.contains("MOBILE_NUMBER_ILLEGAL"))
        );
    }

    #[test]
    fn the_timestamp_is_iso_8601_in_utc() {
        let t = chrono_now();
        assert_eq!(t.len(), 20);
        assert!(t.ends_with('Z') && t.as_bytes()[10] == b'T', "{t}");
    }

    proptest::proptest! {
        #[test]
        fn any_push_body_is_read_or_refused_without_panicking(body in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let _ = texts(&body);
        }

        #[test]
        fn a_batch_of_texts_with_any_fields_is_read_whole_or_refused(
            phone in "\\PC{0,20}", content in "\\PC{0,40}", seq in proptest::option::of(0u64..u64::MAX),
        ) {
            let body = serde_json::json!([{ "phone_number": phone, "content": content, "sequence_id": seq }]);
            if let Ok(read) = texts(body.to_string().as_bytes()) {
                proptest::prop_assert_eq!(read.len(), 1);
                proptest::prop_assert!(read[0].phone.as_deref().is_some_and(|p| p.starts_with('+')));
                proptest::prop_assert!(!read[0].content.is_empty());
            }
        }
    }
}
