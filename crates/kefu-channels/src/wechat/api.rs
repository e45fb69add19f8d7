//! The Official Account's API as Kefu uses it: an access token per account, cached until shortly before it expires
//! and fetched by one task at a time, and the customer-service send. WeChat's error codes decide what a failure
//! means: an expired token is fetched again and the send tried once more; a closed reply window (45015) or a used
//! quota (45047) fails the message with the reason; rate limits and busy servers are tried again later.

use crate::media::{FetchError, download, multipart};
use kefu_core::media::MediaKind;
use kefu_core::model::InboxKind;
use kefu_service::{MediaFile, Outcome, Service, WechatInbox, WechatJob};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use uuid::Uuid;

const TIMEOUT: Duration = Duration::from_secs(15);
/// A token is fetched again this long before WeChat says it expires.
const EARLY: Duration = Duration::from_secs(300);
/// Not a WeChat code: a download over the size limit, on its way through the token retry.
const TOO_LARGE: i64 = -9_000_001;

#[derive(Debug, Clone)]
struct Token {
    value: String,
    /// The credentials it was fetched with: a changed secret or base URL needs a new token.
    for_key: String,
    fresh_until: Instant,
}

/// One account's slot: whoever holds it fetches; the others wait and take what they fetched.
type Slot = Arc<tokio::sync::Mutex<Option<Token>>>;

/// The API client, shared by every delivery.
#[derive(Clone)]
pub struct WechatApi {
    http: reqwest::Client,
    tokens: Arc<Mutex<HashMap<Uuid, Slot>>>,
}

#[derive(Debug, Deserialize)]
struct ApiReply {
    #[serde(default)]
    errcode: i64,
    #[serde(default)]
    errmsg: String,
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
}

/// Why a call did not work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Failure {
    /// WeChat answered with an error code.
    Code(i64, String),
    /// No usable answer: the network, a 5xx, a body that is not WeChat's JSON.
    Transport(String),
}

/// The token is missing, invalid or expired: fetch another and try again.
pub(crate) fn token_expired(code: i64) -> bool {
    matches!(code, 40001 | 40014 | 42001)
}

impl Default for WechatApi {
    fn default() -> Self {
        Self::new()
    }
}

impl WechatApi {
    pub fn new() -> Self {
        WechatApi {
            http: reqwest::Client::builder()
                .timeout(TIMEOUT)
                .build()
                .expect("the HTTP client builds"),
            tokens: Arc::default(),
        }
    }

    fn slot(&self, inbox: Uuid) -> Slot {
        self.tokens.lock().expect("token map").entry(inbox).or_default().clone()
    }

    /// One client for the process: the webhook (WeCom's pull) and the delivery worker share its tokens.
    pub fn shared() -> WechatApi {
        static SHARED: std::sync::OnceLock<WechatApi> = std::sync::OnceLock::new();
        SHARED.get_or_init(WechatApi::new).clone()
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// A call to a Tencent API: `errcode` 0 or the failure, its JSON for the caller to read.
    pub(crate) async fn call_json(&self, request: reqwest::RequestBuilder) -> Result<serde_json::Value, Failure> {
        let response = request.send().await.map_err(|e| Failure::Transport(e.to_string()))?;
        let status = response.status();
        if status.is_server_error() {
            return Err(Failure::Transport(format!("the API answered HTTP {status}")));
        }
        let reply: serde_json::Value = response
            .json()
            .await
            .map_err(|e| Failure::Transport(format!("the answer could not be read (HTTP {status}): {e}")))?;
        match reply["errcode"].as_i64().unwrap_or(0) {
            0 => Ok(reply),
            code => Err(Failure::Code(
                code,
                reply["errmsg"].as_str().unwrap_or_default().to_string(),
            )),
        }
    }

    async fn call(&self, request: reqwest::RequestBuilder) -> Result<ApiReply, Failure> {
        let response = request.send().await.map_err(|e| Failure::Transport(e.to_string()))?;
        let status = response.status();
        if status.is_server_error() {
            return Err(Failure::Transport(format!("WeChat answered HTTP {status}")));
        }
        let reply: ApiReply = response
            .json()
            .await
            .map_err(|e| Failure::Transport(format!("WeChat's answer could not be read (HTTP {status}): {e}")))?;
        if reply.errcode != 0 {
            return Err(Failure::Code(reply.errcode, reply.errmsg));
        }
        Ok(reply)
    }

    /// The account's access token: the cached one while it is fresh, unless `stale` is the one just refused.
    /// Shared by the nodes through the database: each fetch invalidates WeChat's previous token.
    async fn token(&self, service: &Service, inbox: &WechatInbox, stale: Option<&str>) -> Result<String, Failure> {
        let s = &inbox.settings;
        let key = format!("{}\u{0}{}\u{0}{}", s.api_base_url, s.app_id, inbox.secrets.app_secret);
        let request = self.http.get(format!("{}/cgi-bin/token", s.api_base_url)).query(&[
            ("grant_type", "client_credential"),
            ("appid", s.app_id.as_str()),
            ("secret", inbox.secrets.app_secret.as_str()),
        ]);
        self.cached_token(inbox.inbox.id, key, request, stale, Some(service))
            .await
    }

    /// A token from the cache while it is fresh and not `stale`; else fetched with `request`, one fetch per inbox
    /// at a time (the others wait and take it). `key` names the credentials it is for. With `shared`, nodes on
    /// one PostgreSQL database share it: one fetches under a lock across nodes, the others read it.
    pub(crate) async fn cached_token(
        &self,
        inbox: Uuid,
        key: String,
        request: reqwest::RequestBuilder,
        stale: Option<&str>,
        shared: Option<&Service>,
    ) -> Result<String, Failure> {
        let slot = self.slot(inbox);
        let mut held = slot.lock().await;
        if let Some(t) = held.as_ref()
            && t.for_key == key
            && t.fresh_until > Instant::now()
            && Some(t.value.as_str()) != stale
        {
            return Ok(t.value.clone());
        }
        let database = |e: kefu_service::ServiceError| Failure::Transport(format!("the shared token: {e}"));
        let shared = shared.filter(|s| s.shares_channel_tokens());
        let _across_nodes = match shared {
            Some(service) => {
                let lock = service
                    .channel_lock(&format!("wechat-token:{inbox}"))
                    .await
                    .map_err(database)?;
                if let Some((value, fresh_for)) = service.shared_channel_token(inbox, &key).await.map_err(database)?
                    && Some(value.as_str()) != stale
                {
                    *held = Some(Token {
                        value: value.clone(),
                        for_key: key,
                        fresh_until: Instant::now() + fresh_for,
                    });
                    return Ok(value);
                }
                Some(lock)
            }
            None => None,
        };
        let reply = self.call(request).await?;
        let value = reply
            .access_token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| Failure::Transport("no access_token in the answer".into()))?;
        let lifetime = Duration::from_secs(reply.expires_in.unwrap_or(7200));
        let fresh_for = lifetime.checked_sub(EARLY).unwrap_or(lifetime / 2);
        if let Some(service) = shared
            && let Err(e) = service.save_shared_channel_token(inbox, &key, &value, fresh_for).await
        {
            // Other nodes fetch their own, invalidating this one: the next refused call fetches again.
            tracing::warn!(%inbox, error = %e, "a new access token could not be shared with the other nodes");
        }
        *held = Some(Token {
            value: value.clone(),
            for_key: key,
            fresh_until: Instant::now() + fresh_for,
        });
        Ok(value)
    }

    /// Uploads a file as temporary media to a Tencent API at `base_url` (WeChat's and WeCom's `media/upload` are
    /// the same call: multipart field `media`, kept three days) and gives its `media_id`.
    pub(crate) async fn upload_media(
        &self,
        base_url: &str,
        token: &str,
        kind: MediaKind,
        file: &MediaFile,
    ) -> Result<String, Failure> {
        let url = format!("{base_url}/cgi-bin/media/upload");
        let (content_type, body) = multipart("media", &file.filename, &file.content_type, &file.bytes);
        let reply = self
            .call_json(
                self.http
                    .post(url)
                    .query(&[("access_token", token), ("type", kind.as_str())])
                    .header(reqwest::header::CONTENT_TYPE, content_type)
                    .body(body),
            )
            .await?;
        reply["media_id"]
            .as_str()
            .filter(|m| !m.is_empty())
            .map(String::from)
            .ok_or_else(|| Failure::Transport("no media_id in the upload's answer".into()))
    }

    async fn send_once(
        &self,
        job: &WechatJob,
        token: &str,
        media: Option<&(MediaKind, MediaFile)>,
    ) -> Result<(), Failure> {
        let url = format!("{}/cgi-bin/message/custom/send", job.inbox.settings.api_base_url);
        let body = match media {
            None => serde_json::json!({
                "touser": job.open_id,
                "msgtype": "text",
                "text": { "content": job.message.content },
            }),
            Some((kind, file)) => {
                let media_id = self
                    .upload_media(&job.inbox.settings.api_base_url, token, *kind, file)
                    .await?;
                serde_json::json!({
                    "touser": job.open_id,
                    "msgtype": kind.as_str(),
                    kind.as_str(): { "media_id": media_id },
                })
            }
        };
        self.call(self.http.post(url).query(&[("access_token", token)]).json(&body))
            .await
            .map(|_| ())
    }

    /// Calls with the account's token, and once more with a fresh one if WeChat says it expired early (another
    /// system fetched a newer one).
    async fn with_token<T, F, Fut>(&self, service: &Service, inbox: &WechatInbox, call: F) -> Result<T, Failure>
    where
        F: Fn(String) -> Fut,
        Fut: std::future::Future<Output = Result<T, Failure>>,
    {
        let token = self.token(service, inbox, None).await?;
        match call(token.clone()).await {
            Err(Failure::Code(code, _)) if token_expired(code) => {
                let fresh = self.token(service, inbox, Some(&token)).await?;
                call(fresh).await
            }
            other => other,
        }
    }

    /// A customer's image or voice note, by the `MediaId` their message came with.
    pub async fn media(&self, service: &Service, inbox: &WechatInbox, media_id: &str) -> Result<MediaFile, FetchError> {
        let url = format!("{}/cgi-bin/media/get", inbox.settings.api_base_url);
        let fetched = self
            .with_token(service, inbox, |token| {
                let request = self
                    .http
                    .get(&url)
                    .query(&[("access_token", token.as_str()), ("media_id", media_id)]);
                media_get(request)
            })
            .await;
        media_got(fetched, "WeChat")
    }

    /// A follower's profile (`cgi-bin/user/info`): the remark the account gave them (their name here, when set),
    /// and the facts WeChat still gives (it no longer gives nicknames): language, when and how they followed, and
    /// the UnionID that is the same across the company's accounts.
    pub(crate) async fn follower(
        &self,
        service: &Service,
        inbox: &WechatInbox,
        open_id: &str,
    ) -> Result<(Option<String>, serde_json::Value), Failure> {
        let url = format!("{}/cgi-bin/user/info", inbox.settings.api_base_url);
        let info = self
            .with_token(service, inbox, |token| {
                self.call_json(self.http.get(&url).query(&[
                    ("access_token", token.as_str()),
                    ("openid", open_id),
                    ("lang", "zh_CN"),
                ]))
            })
            .await?;
        let remark = info["remark"]
            .as_str()
            .filter(|r| !r.trim().is_empty())
            .map(String::from);
        let mut facts = serde_json::Map::new();
        for key in ["unionid", "language", "subscribe_time", "subscribe_scene"] {
            if let Some(v) = info.get(key).filter(|v| !v.is_null() && v.as_str() != Some("")) {
                facts.insert(key.to_string(), v.clone());
            }
        }
        Ok((remark, serde_json::Value::Object(facts)))
    }

    /// Sends one reply and says how it went.
    pub async fn send(&self, service: &Service, job: &WechatJob) -> Outcome {
        // A message with a file is the file (its text is the file's name).
        let media = match job.message.attachments.first() {
            None => None,
            Some(a) => match kefu_core::media::outbound(InboxKind::Wechat, &a.content_type, a.size) {
                Err(reason) => return Outcome::Failed(reason),
                Ok(kind) => match service.attachment_bytes(a.id).await {
                    Ok((meta, bytes)) => Some((
                        kind,
                        MediaFile {
                            filename: meta.filename,
                            content_type: meta.content_type,
                            bytes,
                        },
                    )),
                    Err(e) => return Outcome::Retry(format!("the file could not be read: {e}")),
                },
            },
        };
        let mut result = self
            .with_token(service, &job.inbox, |token| {
                let media = media.as_ref();
                async move { self.send_once(job, &token, media).await }
            })
            .await;
        if let Err(Failure::Code(code, _)) = &result
            && matches!(code, 40013 | 40125 | 40164 | 41002 | 41004)
        {
            // The account's credentials or server address are refused: the admin must act.
            let (code, msg) = match &result {
                Err(Failure::Code(c, m)) => (*c, m.clone()),
                _ => unreachable!(),
            };
            let reason =
                format!("WeChat refused the credentials: {msg} ({code}); check the AppID, AppSecret and IP whitelist");
            if let Err(e) = service.set_channel_state(job.inbox.inbox.id, "error", &reason).await {
                tracing::warn!(error = %e, "could not record the inbox's state");
            }
            result = Err(Failure::Code(code, reason));
        }
        outcome(result)
    }
}

/// Tencent's `media/get`, as a call the token retry understands: a download over the size limit is carried through
/// as a code of our own, so the retry does not take it for an expired token.
pub(crate) async fn media_get(request: reqwest::RequestBuilder) -> Result<MediaFile, Failure> {
    match download(request, kefu_core::media::MAX_INBOUND_BYTES).await {
        Err(FetchError::Code(code, msg)) => Err(Failure::Code(code, msg)),
        Err(FetchError::Transport(e)) => Err(Failure::Transport(e)),
        Err(FetchError::TooLarge(_)) => Err(Failure::Code(TOO_LARGE, String::new())),
        Ok(file) => Ok(file),
    }
}

/// What `media_get` came to, after the token retry, in the words the message will carry.
pub(crate) fn media_got(fetched: Result<MediaFile, Failure>, provider: &str) -> Result<MediaFile, FetchError> {
    match fetched {
        Ok(file) => Ok(file),
        Err(Failure::Code(TOO_LARGE, _)) => Err(FetchError::TooLarge(kefu_core::media::MAX_INBOUND_BYTES)),
        Err(Failure::Code(code, msg)) => Err(FetchError::Code(code, format!("{provider} refused it: {msg}"))),
        Err(Failure::Transport(e)) => Err(FetchError::Transport(e)),
    }
}

/// What a send's result means for the message.
fn outcome(result: Result<(), Failure>) -> Outcome {
    match result {
        Ok(()) => Outcome::Accepted { provider_id: None },
        Err(Failure::Transport(e)) => Outcome::Retry(e),
        Err(Failure::Code(code, msg)) => match code {
            45015 => Outcome::Failed(
                "WeChat refused it: the customer has not written in the last 48 hours, so the reply window is \
                 closed (45015)"
                    .into(),
            ),
            45047 => Outcome::Failed(
                "WeChat refused it: the replies allowed since the customer last wrote are used up (45047)".into(),
            ),
            // Busy, rate-limited, or the token expired again right away: later.
            -1 | 45009 | 45011 => Outcome::Retry(format!("WeChat asked to wait: {msg} ({code})")),
            c if token_expired(c) => Outcome::Retry(format!("WeChat refused the access token twice: {msg} ({code})")),
            40003 => Outcome::Failed(format!("WeChat does not know this follower (40003): {msg}")),
            43004 => Outcome::Failed("WeChat refused it: the customer has unfollowed the account (43004)".into()),
            _ => Outcome::Failed(if msg.contains(&format!("({code})")) {
                msg
            } else {
                format!("WeChat refused it: {msg} ({code})")
            }),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wechat_error_codes_decide_between_failing_and_trying_again() {
        assert_eq!(outcome(Ok(())), Outcome::Accepted { provider_id: None });
        assert!(matches!(outcome(Err(Failure::Code(45015, "x".into()))), Outcome::Failed(r) if r.contains("48 hours")));
        assert!(matches!(outcome(Err(Failure::Code(45047, "x".into()))), Outcome::Failed(r) if r.contains("45047")));
        assert!(matches!(
            outcome(Err(Failure::Code(45009, "x".into()))),
            Outcome::Retry(_)
        ));
        assert!(matches!(
            outcome(Err(Failure::Code(-1, "busy".into()))),
            Outcome::Retry(_)
        ));
        assert!(matches!(
            outcome(Err(Failure::Code(42001, "x".into()))),
            Outcome::Retry(_)
        ));
        assert!(matches!(
            outcome(Err(Failure::Transport("reset".into()))),
            Outcome::Retry(_)
        ));
        assert!(matches!(outcome(Err(Failure::Code(48001, "api unauthorized".into()))),
            Outcome::Failed(r) if r == "WeChat refused it: api unauthorized (48001)"));
    }
}
