//! A WeChat Official Account inbox's settings (its app id, where the API is, the reply window's terms) with its
//! credentials taken apart to be sealed, and the customer-service reply window: after a customer writes, the
//! account may answer a few times within 48 hours, then must wait for them to write again.

use crate::DomainError;
use serde::{Deserialize, Serialize};

pub const DEFAULT_API_BASE_URL: &str = "https://api.weixin.qq.com";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WechatSettings {
    pub app_id: String,
    /// Where the account's API is: WeChat's, or a stand-in.
    #[serde(default = "default_api_base_url")]
    pub api_base_url: String,
    /// How long after a customer's message replies are allowed, in hours.
    #[serde(default = "window_hours")]
    pub window_hours: u32,
    /// How many replies that window allows.
    #[serde(default = "window_messages")]
    pub window_messages: u32,
    /// Credentials: given when the inbox is made or changed, sealed apart, never stored or shown here.
    #[serde(default, skip_serializing)]
    pub app_secret: Option<String>,
    #[serde(default, skip_serializing)]
    pub token: Option<String>,
    #[serde(default, skip_serializing)]
    pub encoding_aes_key: Option<String>,
    /// Whether messages arrive AES-encrypted (safe mode): set when an EncodingAESKey is kept. Shown, not given.
    #[serde(default)]
    pub safe_mode: bool,
    /// Sent back at once to whoever follows the account (a passive reply to the follow event); none when empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub welcome_message: Option<String>,
}

fn default_api_base_url() -> String {
    DEFAULT_API_BASE_URL.into()
}
fn window_hours() -> u32 {
    48
}
fn window_messages() -> u32 {
    5
}

/// An Official Account's credentials, sealed by the service.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WechatSecrets {
    pub app_secret: String,
    /// The token WeChat signs its calls with (set on the account's server configuration page).
    pub token: String,
    /// Safe mode's key: 43 characters. Absent in plain mode.
    #[serde(default)]
    pub encoding_aes_key: Option<String>,
}

impl WechatSettings {
    /// Reads and checks the settings; `previous` keeps credentials an edit leaves out.
    pub fn parse(
        settings: &serde_json::Value,
        previous: Option<&WechatSecrets>,
    ) -> Result<(WechatSettings, WechatSecrets), DomainError> {
        let mut s: WechatSettings =
            serde_json::from_value(settings.clone()).map_err(|e| DomainError::invalid("settings", e.to_string()))?;
        let app_id = s.app_id.trim();
        if app_id.is_empty() || app_id.len() > 64 || !app_id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(DomainError::invalid(
                "settings.app_id",
                "must be the account's AppID (letters and digits)",
            ));
        }
        s.app_id = app_id.to_string();
        s.api_base_url = crate::validate::base_url("settings.api_base_url", &s.api_base_url)?;
        if !(1..=168).contains(&s.window_hours) {
            return Err(DomainError::invalid("settings.window_hours", "must be 1-168"));
        }
        if !(1..=100).contains(&s.window_messages) {
            return Err(DomainError::invalid("settings.window_messages", "must be 1-100"));
        }
        s.welcome_message = s
            .welcome_message
            .take()
            .map(|w| w.trim().to_string())
            .filter(|w| !w.is_empty());
        if s.welcome_message.as_ref().is_some_and(|w| w.chars().count() > 600) {
            return Err(DomainError::invalid(
                "settings.welcome_message",
                "at most 600 characters",
            ));
        }
        let given = |v: Option<String>| v.map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let app_secret = match (given(s.app_secret.take()), previous) {
            (Some(v), _) => v,
            (None, Some(p)) => p.app_secret.clone(),
            (None, None) => return Err(DomainError::invalid("settings.app_secret", "is required")),
        };
        let token = match (given(s.token.take()), previous) {
            (Some(v), _) => v,
            (None, Some(p)) => p.token.clone(),
            (None, None) => return Err(DomainError::invalid("settings.token", "is required")),
        };
        if !(3..=32).contains(&token.len()) || !token.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(DomainError::invalid("settings.token", "must be 3-32 letters or digits"));
        }
        // `""` turns safe mode off; leaving it out keeps what was there.
        let encoding_aes_key = match (s.encoding_aes_key.take(), previous) {
            (Some(v), _) if v.trim().is_empty() => None,
            (Some(v), _) => Some(v.trim().to_string()),
            (None, Some(p)) => p.encoding_aes_key.clone(),
            (None, None) => None,
        };
        if let Some(k) = &encoding_aes_key
            && (k.len() != 43 || !k.chars().all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '/'))
        {
            return Err(DomainError::invalid(
                "settings.encoding_aes_key",
                "must be 43 characters (letters and digits)",
            ));
        }
        s.safe_mode = encoding_aes_key.is_some();
        Ok((
            s,
            WechatSecrets {
                app_secret,
                token,
                encoding_aes_key,
            },
        ))
    }

    /// The settings as stored (checked when they were saved), without credentials.
    pub fn stored(settings: &serde_json::Value) -> Result<WechatSettings, DomainError> {
        serde_json::from_value(settings.clone()).map_err(|e| DomainError::invalid("settings", e.to_string()))
    }

    /// The settings as stored and shown: without credentials.
    pub fn redacted(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("settings serialize")
    }

    /// Whether the account may still answer, given when the customer last wrote and how many replies went out
    /// since.
    pub fn window(&self, last_customer_message_ms: Option<i64>, replies_since: u32, now_ms: i64) -> ReplyWindow {
        window(
            self.window_hours,
            Some(self.window_messages),
            last_customer_message_ms,
            replies_since,
            now_ms,
        )
    }
}

/// Where a conversation stands with a provider's reply window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReplyWindow {
    pub open: bool,
    /// When it closes (or closed); `null` when the customer has never written.
    pub closes_at: Option<crate::model::Timestamp>,
    /// Replies left before the customer must write again; `null` where the channel counts none (Weibo).
    pub remaining: Option<u32>,
    /// Why it is closed, for the agent: `expired`, `quota` or `never_written`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A window of `hours` after the customer last wrote, allowing `messages` replies (any number when `None`).
pub fn window(hours: u32, messages: Option<u32>, last: Option<i64>, replies_since: u32, now_ms: i64) -> ReplyWindow {
    let Some(last) = last else {
        return ReplyWindow {
            open: false,
            closes_at: None,
            remaining: Some(0),
            reason: Some("never_written".into()),
        };
    };
    let closes = last + i64::from(hours) * 3_600_000;
    let remaining = messages.map(|m| m.saturating_sub(replies_since));
    let reason = if now_ms >= closes {
        Some("expired")
    } else if remaining == Some(0) {
        Some("quota")
    } else {
        None
    };
    ReplyWindow {
        open: reason.is_none(),
        closes_at: Some(crate::model::Timestamp(closes)),
        remaining: if reason.is_some() { Some(0) } else { remaining },
        reason: reason.map(String::from),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn settings() -> serde_json::Value {
        json!({"app_id": "wx1234567890abcdef", "app_secret": "s3cret", "token": "tok123",
               "encoding_aes_key": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFE",
               "api_base_url": "http://127.0.0.1:9000/"})
    }

    #[test]
    fn credentials_are_taken_apart_and_never_shown() {
        let (s, secrets) = WechatSettings::parse(&settings(), None).unwrap();
        assert_eq!(secrets.app_secret, "s3cret");
        assert_eq!(secrets.token, "tok123");
        assert!(s.safe_mode);
        assert_eq!(s.api_base_url, "http://127.0.0.1:9000");
        let shown = s.redacted().to_string();
        assert!(
            !shown.contains("s3cret") && !shown.contains("tok123") && !shown.contains("ABCDEFE"),
            "{shown}"
        );
        assert_eq!(s.window_hours, 48);
        assert_eq!(s.window_messages, 5);
    }

    #[test]
    fn an_edit_keeps_credentials_it_leaves_out_and_an_empty_key_ends_safe_mode() {
        let (_, old) = WechatSettings::parse(&settings(), None).unwrap();
        let (s, kept) = WechatSettings::parse(&json!({"app_id": "wx1234567890abcdef"}), Some(&old)).unwrap();
        assert_eq!(kept, old);
        assert!(s.safe_mode);
        assert_eq!(s.api_base_url, DEFAULT_API_BASE_URL);
        let (s, plain) = WechatSettings::parse(
            &json!({"app_id": "wx1234567890abcdef", "encoding_aes_key": ""}),
            Some(&old),
        )
        .unwrap();
        assert!(!s.safe_mode);
        assert_eq!(plain.encoding_aes_key, None);
    }

    #[test]
    fn bad_settings_name_the_field() {
        let with = |k: &str, v: serde_json::Value| {
            let mut s = settings();
            s[k] = v;
            WechatSettings::parse(&s, None).unwrap_err().to_string()
        };
        assert!(with("app_id", json!("")).contains("app_id"));
        assert!(with("token", json!("a b")).contains("token"));
        assert!(with("encoding_aes_key", json!("short")).contains("encoding_aes_key"));
        assert!(with("api_base_url", json!("ftp://x")).contains("api_base_url"));
        assert!(with("window_hours", json!(0)).contains("window_hours"));
        assert!(with("colour", json!("red")).contains("settings"));
        let mut no_secret = settings();
        no_secret.as_object_mut().unwrap().remove("app_secret");
        assert!(
            WechatSettings::parse(&no_secret, None)
                .unwrap_err()
                .to_string()
                .contains("app_secret")
        );
    }

    #[test]
    fn the_reply_window_closes_after_its_hours_or_its_replies() {
        let h = 3_600_000;
        assert_eq!(window(48, Some(5), None, 0, 0).reason.as_deref(), Some("never_written"));
        let open = window(48, Some(5), Some(0), 2, 47 * h);
        assert!(open.open);
        assert_eq!(open.remaining, Some(3));
        assert_eq!(open.closes_at, Some(crate::model::Timestamp(48 * h)));
        let expired = window(48, Some(5), Some(0), 0, 48 * h);
        assert_eq!((expired.open, expired.reason.as_deref()), (false, Some("expired")));
        let used = window(48, Some(5), Some(0), 5, h);
        assert_eq!(
            (used.open, used.remaining, used.reason.as_deref()),
            (false, Some(0), Some("quota"))
        );
        // Weibo counts no replies: open until the hours pass, however many went out.
        let weibo = window(48, None, Some(0), 500, 47 * h);
        assert_eq!((weibo.open, weibo.remaining), (true, None));
        assert_eq!(window(48, None, Some(0), 0, 48 * h).reason.as_deref(), Some("expired"));
    }
}
