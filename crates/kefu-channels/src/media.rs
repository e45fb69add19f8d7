//! Media through providers' APIs, shared by the channels: downloading a customer's file within a size limit
//! (read as it streams, so an oversized one is dropped without being held), fetching it after the provider has
//! had its answer (a webhook's deadline is seconds; a download may take longer) with a few tries, and the
//! multipart body Tencent's upload APIs take.

use kefu_service::{MediaFile, Service};
use std::future::Future;
use std::time::Duration;
use uuid::Uuid;

/// Why a file could not be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// The provider refused with its error code (an expired media id, a bad token).
    #[error("{1} ({0})")]
    Code(i64, String),
    /// The network, or a busy server: worth another try.
    #[error("{0}")]
    Transport(String),
    #[error("it is larger than {} MB", .0 / (1024 * 1024))]
    TooLarge(u64),
}

/// The client that fetches customers' files: one for the process; follows a provider's redirect to where the file
/// is kept (Twilio answers a media URL that way).
pub fn client() -> reqwest::Client {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    CLIENT
        .get_or_init(|| {
            reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .redirect(reqwest::redirect::Policy::limited(5))
                .build()
                .expect("the HTTP client builds")
        })
        .clone()
}

/// Downloads a file of at most `limit` bytes. A JSON answer with a non-zero `errcode` is the provider's refusal
/// (Tencent's media APIs answer errors that way, with HTTP 200).
pub async fn download(request: reqwest::RequestBuilder, limit: u64) -> Result<MediaFile, FetchError> {
    let mut response = request.send().await.map_err(|e| FetchError::Transport(e.to_string()))?;
    let status = response.status();
    if status.is_server_error() || status.as_u16() == 429 {
        return Err(FetchError::Transport(format!("the provider answered HTTP {status}")));
    }
    if !status.is_success() {
        // A refusal says why in the provider's JSON when it can (Weibo answers 400 with its error code).
        let said = response.bytes().await.ok().and_then(|b| provider_error(&b));
        return Err(match said {
            Some((code, msg)) => FetchError::Code(code, msg),
            None => FetchError::Code(status.as_u16().into(), format!("HTTP {status}")),
        });
    }
    if response.content_length().is_some_and(|n| n > limit) {
        return Err(FetchError::TooLarge(limit));
    }
    let header = |name: reqwest::header::HeaderName| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(String::from)
    };
    let content_type = header(reqwest::header::CONTENT_TYPE).unwrap_or_default();
    let filename = header(reqwest::header::CONTENT_DISPOSITION).and_then(|d| disposition_filename(&d));
    let mut bytes = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| FetchError::Transport(e.to_string()))?
    {
        if (bytes.len() + chunk.len()) as u64 > limit {
            return Err(FetchError::TooLarge(limit));
        }
        bytes.extend_from_slice(&chunk);
    }
    if (content_type.contains("json") || bytes.starts_with(b"{\"err"))
        && let Some((code, msg)) = provider_error(&bytes)
    {
        return Err(FetchError::Code(code, msg));
    }
    if bytes.is_empty() {
        return Err(FetchError::Code(0, "the provider gave an empty file".into()));
    }
    let content_type = match kefu_core::media::essence(&content_type) {
        t if t.is_empty() || t == "application/octet-stream" => filename
            .as_deref()
            .map(kefu_core::media::guess_type)
            .unwrap_or("application/octet-stream")
            .to_string(),
        t => t,
    };
    Ok(MediaFile {
        filename: filename.unwrap_or_default(),
        content_type,
        bytes,
    })
}

/// A provider's error in JSON: Tencent's `{"errcode","errmsg"}` (non-zero) or Weibo's `{"error_code","error"}`.
fn provider_error(body: &[u8]) -> Option<(i64, String)> {
    let reply: serde_json::Value = serde_json::from_slice(body).ok()?;
    let text = |key: &str| reply[key].as_str().unwrap_or_default().to_string();
    if let Some(code) = reply["errcode"].as_i64().filter(|c| *c != 0) {
        return Some((code, text("errmsg")));
    }
    reply["error_code"].as_i64().map(|code| (code, text("error")))
}

/// The file name a `Content-Disposition` header gives (`filename="…"`, or RFC 5987 `filename*=UTF-8''…`).
fn disposition_filename(header: &str) -> Option<String> {
    let mut plain = None;
    for part in header.split(';').map(str::trim) {
        if let Some(v) = part.strip_prefix("filename*=") {
            let encoded = v.split_once("''").map(|(_, e)| e).unwrap_or(v);
            let decoded: String = form_urlencoded::parse(format!("x={}", encoded.replace('+', "%2B")).as_bytes())
                .map(|(_, v)| v.into_owned())
                .next()
                .unwrap_or_default();
            if !decoded.is_empty() {
                return Some(decoded);
            }
        } else if let Some(v) = part.strip_prefix("filename=") {
            plain = Some(v.trim_matches('"').to_string()).filter(|v| !v.is_empty());
        }
    }
    plain
}

/// How many times a file is tried, and the wait before the first retry (each next wait is four times longer).
const TRIES: u32 = 4;
const FIRST_WAIT: Duration = Duration::from_secs(2);

/// Fetches a customer's files for a message already stored, and keeps them with it; a network failure is tried
/// again, a refusal (or the last failure) is written on the message for the agent.
pub fn fetch_later<F, Fut>(service: Service, message_id: Uuid, fetch: F)
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = Result<Vec<MediaFile>, FetchError>> + Send,
{
    tokio::spawn(async move {
        let mut wait = FIRST_WAIT;
        for attempt in 1..=TRIES {
            match fetch().await {
                Ok(files) => {
                    if let Err(e) = service.attach_media(message_id, files).await {
                        tracing::error!(error = %e, message = %message_id, "could not keep a customer's file");
                    }
                    return;
                }
                Err(FetchError::Transport(e)) if attempt < TRIES => {
                    tracing::warn!(error = %e, message = %message_id, "a customer's file could not be fetched yet");
                    tokio::time::sleep(wait).await;
                    wait *= 4;
                }
                Err(e) => {
                    tracing::warn!(error = %e, message = %message_id, "a customer's file could not be fetched");
                    if let Err(e) = service.media_missing(message_id, &e.to_string()).await {
                        tracing::error!(error = %e, "could not note the missing file");
                    }
                    return;
                }
            }
        }
    });
}

/// A `multipart/form-data` body with one file in `field`: (the Content-Type header, the body).
pub fn multipart(field: &str, filename: &str, content_type: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = format!("----kefu{}", Uuid::now_v7().simple());
    // Quotes and line breaks would end the header early; the stored name has none, but be sure.
    let name: String = filename
        .chars()
        .map(|c| if c == '"' || c.is_control() { '_' } else { c })
        .collect();
    let mut body = Vec::with_capacity(bytes.len() + 256);
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{name}\"; \
             filelength={}\r\nContent-Type: {content_type}\r\n\r\n",
            bytes.len()
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn providers_errors_are_read_in_either_form() {
        assert_eq!(
            provider_error(br#"{"errcode":40007,"errmsg":"invalid media_id"}"#),
            Some((40007, "invalid media_id".into()))
        );
        assert_eq!(provider_error(br#"{"errcode":0,"errmsg":"ok"}"#), None);
        assert_eq!(
            provider_error(br#"{"error":"expired_token","error_code":21327,"request":"/2/mss/msget"}"#),
            Some((21327, "expired_token".into()))
        );
        assert_eq!(provider_error(b"\x89PNG"), None);
    }

    #[test]
    fn file_names_are_read_from_content_disposition() {
        assert_eq!(
            disposition_filename(r#"attachment; filename="MEDIA_ID.jpg""#).as_deref(),
            Some("MEDIA_ID.jpg")
        );
        assert_eq!(
            disposition_filename("attachment; filename=\"x.pdf\"; filename*=UTF-8''%E5%8F%91%E7%A5%A8.pdf").as_deref(),
            Some("发票.pdf")
        );
        assert_eq!(disposition_filename("inline"), None);
    }

    #[test]
    fn a_multipart_body_holds_the_file_between_boundaries() {
        let (ty, body) = multipart("media", "a\"b.png", "image/png", b"\x89PNG");
        let boundary = ty.strip_prefix("multipart/form-data; boundary=").unwrap();
        let text = String::from_utf8_lossy(&body);
        assert!(text.starts_with(&format!("--{boundary}\r\n")));
        assert!(text.contains("name=\"media\"; filename=\"a_b.png\""));
        assert!(text.contains("Content-Type: image/png\r\n\r\n"));
        assert!(text.ends_with(&format!("\r\n--{boundary}--\r\n")));
    }
}
