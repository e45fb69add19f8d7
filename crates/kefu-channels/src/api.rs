//! The API channel and outbound webhooks share a way to POST to a customer's server: JSON, signed with
//! HMAC-SHA256 over `"{timestamp}.{body}"` (header `X-Kefu-Signature: t=<unix seconds>,v1=<hex>`), so the receiver
//! can check it came from Kefu and refuse replays older than its window. Targets on loopback or private networks
//! are refused unless the installation allows them (an integration on the same host).

use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use kefu_service::{ApiJob, Outcome, Service};
use sha2::Sha256;
use std::net::IpAddr;
use std::time::Duration;

pub const SIGNATURE_HEADER: &str = "x-kefu-signature";

/// `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "{t}.{body}")>`.
pub fn sign(secret: &str, timestamp: u64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    format!("t={timestamp},v1={hex}")
}

/// Whether an address is one a webhook may not reach unless allowed: loopback, private, link-local, unspecified.
pub fn private_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_loopback() || v4.is_private() || v4.is_link_local() || v4.is_unspecified() || v4.is_broadcast()
                // 100.64.0.0/10, carrier-grade NAT
                || (v4.octets()[0] == 100 && (64..128).contains(&v4.octets()[1]))
        }
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || v6.is_unspecified()
                || (v6.segments()[0] & 0xfe00) == 0xfc00
                || (v6.segments()[0] & 0xffc0) == 0xfe80
                || v6.to_ipv4_mapped().is_some_and(|v4| private_address(IpAddr::V4(v4)))
        }
    }
}

/// Why a target was not posted to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unreachable {
    /// It may not be reached: a private address, or not a URL.
    Never(String),
    /// It could not be checked now (DNS failed).
    Later(String),
}

/// Refuses a target that resolves to a private address, unless allowed.
pub async fn check_target(url: &str, allow_private: bool) -> Result<(), Unreachable> {
    if allow_private {
        return Ok(());
    }
    let parsed = reqwest::Url::parse(url).map_err(|e| Unreachable::Never(format!("{url:?} is not a URL: {e}")))?;
    let host = parsed
        .host_str()
        .ok_or_else(|| Unreachable::Never("the URL has no host".into()))?
        .trim_matches(['[', ']'])
        .to_string();
    let port = parsed.port_or_known_default().unwrap_or(443);
    let addrs: Vec<IpAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => match tokio::net::lookup_host((host.as_str(), port)).await {
            Ok(found) => found.map(|a| a.ip()).collect(),
            // Not an answer about the target: DNS may be back in a minute.
            Err(e) => return Err(Unreachable::Later(format!("{host} could not be resolved: {e}"))),
        },
    };
    if addrs.iter().any(|ip| private_address(*ip)) {
        return Err(Unreachable::Never(format!(
            "{host} is on a private network or this machine; set KEFU_WEBHOOKS_ALLOW_PRIVATE=1 to allow such targets"
        )));
    }
    Ok(())
}

/// How a signed post went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Posted {
    /// A 2xx answer.
    Delivered(u16),
    /// 408, 429, 5xx, or no answer: worth trying again.
    Retry(Option<u16>, String),
    /// Any other answer, or a target that may not be reached: final.
    Refused(Option<u16>, String),
}

/// Posts signed JSON, with `extra` headers.
pub async fn post_signed(
    http: &reqwest::Client,
    url: &str,
    secret: &str,
    body: Vec<u8>,
    allow_private: bool,
    extra: &[(&str, &str)],
) -> Posted {
    match check_target(url, allow_private).await {
        Ok(()) => {}
        Err(Unreachable::Never(reason)) => return Posted::Refused(None, format!("not sent: {reason}")),
        Err(Unreachable::Later(reason)) => return Posted::Retry(None, format!("not sent yet: {reason}")),
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let mut request = http
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(reqwest::header::USER_AGENT, "Kefu-Webhooks/1")
        .header(SIGNATURE_HEADER, sign(secret, now, &body));
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    match request.body(body).send().await {
        Err(e) => Posted::Retry(None, e.to_string()),
        Ok(r) if r.status().is_success() => Posted::Delivered(r.status().as_u16()),
        Ok(r) => {
            let status = r.status();
            let said: String = r.text().await.unwrap_or_default().chars().take(200).collect();
            let reason = format!("the receiver answered HTTP {status}: {said}");
            if status.as_u16() == 408 || status.as_u16() == 429 || status.is_server_error() {
                Posted::Retry(Some(status.as_u16()), reason)
            } else {
                Posted::Refused(Some(status.as_u16()), reason)
            }
        }
    }
}

/// A client for posting to customers' servers: no redirects (one could lead to an address the check refused).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("the HTTP client builds")
}

/// Delivers API inboxes' replies to their integrations.
#[derive(Clone)]
pub struct ApiDelivery {
    http: reqwest::Client,
    allow_private: bool,
}

impl ApiDelivery {
    pub fn new(allow_private: bool) -> Self {
        ApiDelivery {
            http: client(),
            allow_private,
        }
    }

    pub async fn send(&self, service: &Service, job: &ApiJob) -> Outcome {
        // The message's files go with it, in base64: the integration needs no second call to have them.
        let mut files = Vec::new();
        for a in &job.message.attachments {
            match service.attachment_bytes(a.id).await {
                Ok((meta, bytes)) => files.push(serde_json::json!({
                    "id": meta.id,
                    "filename": meta.filename,
                    "content_type": meta.content_type,
                    "size": meta.size,
                    "data": base64::engine::general_purpose::STANDARD.encode(bytes),
                })),
                Err(e) => return Outcome::Retry(format!("the file could not be read: {e}")),
            }
        }
        let body = serde_json::json!({
            "event": "message.created",
            "inbox_id": job.inbox.id,
            "conversation_id": job.message.conversation_id,
            "contact": {
                "id": job.contact.external_id,
                "kefu_id": job.contact.id,
                "name": job.contact.name,
            },
            "message": job.message,
            "files": files,
        });
        let bytes = serde_json::to_vec(&body).expect("JSON serializes");
        match post_signed(&self.http, &job.reply_url, &job.secret, bytes, self.allow_private, &[]).await {
            Posted::Delivered(_) => Outcome::Accepted { provider_id: None },
            Posted::Retry(_, reason) => Outcome::Retry(reason),
            Posted::Refused(_, reason) => Outcome::Failed(reason),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_covers_the_timestamp_and_the_body() {
        // Recomputed with: printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac secret
        assert_eq!(
            sign("secret", 1_700_000_000, br#"{"a":1}"#),
            "t=1700000000,v1=49f24e537407743fa4a0242bb63b94b9a47ee99cbbe071ccd8a22550ae411686"
        );
    }

    #[test]
    fn private_and_loopback_addresses_are_known() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.1.1",
            "172.16.0.1",
            "169.254.1.1",
            "::1",
            "fd00::1",
            "0.0.0.0",
            "100.64.0.1",
            "::ffff:127.0.0.1",
        ] {
            assert!(private_address(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["8.8.8.8", "2001:4860:4860::8888", "172.32.0.1"] {
            assert!(!private_address(ip.parse().unwrap()), "{ip}");
        }
    }
}
