//! A Weibo inbox (粉丝服务平台, private messages to an account): the app secret Weibo signs its calls with and the
//! fans-service access token replies are sent with, both sealed apart, and where the API is.

use crate::DomainError;
use serde::{Deserialize, Serialize};

pub const WEIBO_API_BASE_URL: &str = "https://m.api.weibo.com";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeiboSettings {
    #[serde(default = "weibo_api")]
    pub api_base_url: String,
    /// Where Weibo keeps users' pictures and voice notes (`/2/mss/msget`).
    #[serde(default = "weibo_media")]
    pub media_base_url: String,
    /// Hours after the user last wrote that Weibo takes replies (48 by Weibo's rules; less to be careful).
    #[serde(default = "window_hours")]
    pub window_hours: u32,
    #[serde(default, skip_serializing)]
    pub app_secret: Option<String>,
    #[serde(default, skip_serializing)]
    pub access_token: Option<String>,
}

fn weibo_api() -> String {
    WEIBO_API_BASE_URL.into()
}

fn window_hours() -> u32 {
    48
}

/// Weibo's upload host, which also serves the files users send.
pub const WEIBO_MEDIA_BASE_URL: &str = "https://upload.api.weibo.com";

fn weibo_media() -> String {
    WEIBO_MEDIA_BASE_URL.into()
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeiboSecrets {
    pub app_secret: String,
    pub access_token: String,
}

impl WeiboSettings {
    pub fn parse(
        settings: &serde_json::Value,
        previous: Option<&WeiboSecrets>,
    ) -> Result<(WeiboSettings, WeiboSecrets), DomainError> {
        let mut s: WeiboSettings =
            serde_json::from_value(settings.clone()).map_err(|e| DomainError::invalid("settings", e.to_string()))?;
        s.api_base_url = crate::validate::base_url("settings.api_base_url", &s.api_base_url)?;
        s.media_base_url = crate::validate::base_url("settings.media_base_url", &s.media_base_url)?;
        if !(1..=48).contains(&s.window_hours) {
            return Err(DomainError::invalid("settings.window_hours", "must be 1-48"));
        }
        let given = |v: Option<String>| v.map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let app_secret = match (given(s.app_secret.take()), previous) {
            (Some(v), _) => v,
            (None, Some(p)) => p.app_secret.clone(),
            (None, None) => return Err(DomainError::invalid("settings.app_secret", "is required")),
        };
        let access_token = match (given(s.access_token.take()), previous) {
            (Some(v), _) => v,
            (None, Some(p)) => p.access_token.clone(),
            (None, None) => return Err(DomainError::invalid("settings.access_token", "is required")),
        };
        if app_secret.len() > 128 || access_token.len() > 512 {
            return Err(DomainError::invalid("settings", "a credential is too long"));
        }
        Ok((
            s,
            WeiboSecrets {
                app_secret,
                access_token,
            },
        ))
    }

    pub fn stored(settings: &serde_json::Value) -> Result<WeiboSettings, DomainError> {
        serde_json::from_value(settings.clone()).map_err(|e| DomainError::invalid("settings", e.to_string()))
    }

    pub fn redacted(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("settings serialize")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn credentials_are_required_kept_and_never_shown() {
        let (s, secrets) =
            WeiboSettings::parse(&json!({"app_secret": "xyz123xyz", "access_token": "2.00tok"}), None).unwrap();
        assert_eq!(s.api_base_url, WEIBO_API_BASE_URL);
        assert!(!s.redacted().to_string().contains("xyz123xyz"));
        let (_, kept) = WeiboSettings::parse(&json!({}), Some(&secrets)).unwrap();
        assert_eq!(kept, secrets);
        assert!(
            WeiboSettings::parse(&json!({"app_secret": "x"}), None)
                .unwrap_err()
                .to_string()
                .contains("access_token")
        );
    }
}
