//! A WeCom customer-service inbox (企业微信 · 微信客服): one customer-service account (`open_kfid`) of a corp,
//! the corp's secret for that app, the callback token and key (WeCom always encrypts), the reply window, and
//! where the API is. Credentials are taken apart to be sealed.

use crate::DomainError;
use serde::{Deserialize, Serialize};

pub const WECOM_API_BASE_URL: &str = "https://qyapi.weixin.qq.com";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WecomSettings {
    pub corp_id: String,
    /// The customer-service account this inbox answers for (`wk...`).
    pub open_kfid: String,
    #[serde(default = "wecom_api")]
    pub api_base_url: String,
    #[serde(default = "window_hours")]
    pub window_hours: u32,
    #[serde(default = "window_messages")]
    pub window_messages: u32,
    #[serde(default, skip_serializing)]
    pub secret: Option<String>,
    #[serde(default, skip_serializing)]
    pub token: Option<String>,
    #[serde(default, skip_serializing)]
    pub encoding_aes_key: Option<String>,
}

fn wecom_api() -> String {
    WECOM_API_BASE_URL.into()
}
fn window_hours() -> u32 {
    48
}
fn window_messages() -> u32 {
    5
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WecomSecrets {
    pub secret: String,
    pub token: String,
    pub encoding_aes_key: String,
}

impl WecomSettings {
    pub fn parse(
        settings: &serde_json::Value,
        previous: Option<&WecomSecrets>,
    ) -> Result<(WecomSettings, WecomSecrets), DomainError> {
        let mut s: WecomSettings =
            serde_json::from_value(settings.clone()).map_err(|e| DomainError::invalid("settings", e.to_string()))?;
        let id = |field: &'static str, v: &str| {
            let v = v.trim();
            if v.is_empty() || v.len() > 64 || !v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
                Err(DomainError::invalid(
                    field,
                    "must be the id WeCom shows (letters and digits)",
                ))
            } else {
                Ok(v.to_string())
            }
        };
        s.corp_id = id("settings.corp_id", &s.corp_id)?;
        s.open_kfid = id("settings.open_kfid", &s.open_kfid)?;
        s.api_base_url = crate::validate::base_url("settings.api_base_url", &s.api_base_url)?;
        if !(1..=168).contains(&s.window_hours) {
            return Err(DomainError::invalid("settings.window_hours", "must be 1-168"));
        }
        if !(1..=100).contains(&s.window_messages) {
            return Err(DomainError::invalid("settings.window_messages", "must be 1-100"));
        }
        let given = |v: Option<String>| v.map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let pick = |v: Option<String>, old: Option<&String>, field: &'static str| match (given(v), old) {
            (Some(v), _) => Ok(v),
            (None, Some(o)) => Ok(o.clone()),
            (None, None) => Err(DomainError::invalid(field, "is required")),
        };
        let secret = pick(s.secret.take(), previous.map(|p| &p.secret), "settings.secret")?;
        let token = pick(s.token.take(), previous.map(|p| &p.token), "settings.token")?;
        let key = pick(
            s.encoding_aes_key.take(),
            previous.map(|p| &p.encoding_aes_key),
            "settings.encoding_aes_key",
        )?;
        if !(3..=32).contains(&token.len()) || !token.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(DomainError::invalid("settings.token", "must be 3-32 letters or digits"));
        }
        if key.len() != 43 || !key.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(DomainError::invalid(
                "settings.encoding_aes_key",
                "must be 43 letters and digits",
            ));
        }
        Ok((
            s,
            WecomSecrets {
                secret,
                token,
                encoding_aes_key: key,
            },
        ))
    }

    pub fn stored(settings: &serde_json::Value) -> Result<WecomSettings, DomainError> {
        serde_json::from_value(settings.clone()).map_err(|e| DomainError::invalid("settings", e.to_string()))
    }

    pub fn redacted(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("settings serialize")
    }

    pub fn window(&self, last: Option<i64>, replies_since: u32, now_ms: i64) -> crate::wechat::ReplyWindow {
        crate::wechat::window(
            self.window_hours,
            Some(self.window_messages),
            last,
            replies_since,
            now_ms,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_key_token_and_secret_are_required_and_sealed_apart() {
        let v = json!({"corp_id": "wx49f0ab532d5d035a", "open_kfid": "wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw",
                       "secret": "s", "token": "123456", "encoding_aes_key": "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"});
        let (s, secrets) = WecomSettings::parse(&v, None).unwrap();
        assert_eq!(secrets.token, "123456");
        assert!(!s.redacted().to_string().contains("kWxPEV2"));
        let mut no_key = v.clone();
        no_key.as_object_mut().unwrap().remove("encoding_aes_key");
        assert!(
            WecomSettings::parse(&no_key, None)
                .unwrap_err()
                .to_string()
                .contains("encoding_aes_key")
        );
        assert_eq!(WecomSettings::parse(&no_key, Some(&secrets)).unwrap().1, secrets);
    }
}
