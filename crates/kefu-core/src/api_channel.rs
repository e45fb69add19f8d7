//! An API inbox: a custom integration posts its customers' messages in (with the inbox's secret as bearer token)
//! and receives agents' replies at its own URL, signed with the same secret.

use crate::DomainError;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiChannelSettings {
    /// Where agents' replies are POSTed; none: replies stay in Kefu (the integration reads them by REST).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_url: Option<String>,
}

impl ApiChannelSettings {
    pub fn parse(settings: &serde_json::Value) -> Result<ApiChannelSettings, DomainError> {
        let mut s: ApiChannelSettings =
            serde_json::from_value(settings.clone()).map_err(|e| DomainError::invalid("settings", e.to_string()))?;
        s.reply_url = match s.reply_url.take().filter(|u| !u.trim().is_empty()) {
            Some(u) => Some(crate::validate::target_url("settings.reply_url", &u)?),
            None => None,
        };
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_reply_url_is_optional_and_checked() {
        assert_eq!(ApiChannelSettings::parse(&json!({})).unwrap().reply_url, None);
        let s = ApiChannelSettings::parse(&json!({"reply_url": "https://crm.example.com/kefu?x=1"})).unwrap();
        assert_eq!(s.reply_url.as_deref(), Some("https://crm.example.com/kefu?x=1"));
        assert!(ApiChannelSettings::parse(&json!({"reply_url": "ftp://x"})).is_err());
        assert!(ApiChannelSettings::parse(&json!({"other": 1})).is_err());
    }
}
