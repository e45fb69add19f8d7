//! An SMS inbox on Twilio: its account, the number (or messaging service) it sends from, and where the API is,
//! with the auth token taken apart to be sealed. Numbers are E.164 (`+8613800138000`).

use crate::DomainError;
use serde::{Deserialize, Serialize};

pub const TWILIO_API_BASE_URL: &str = "https://api.twilio.com";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TwilioSettings {
    /// `AC` and 32 hex digits.
    pub account_sid: String,
    /// The number replies are sent from; or leave it out and give `messaging_service_sid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_number: Option<String>,
    /// `MG` and 32 hex digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messaging_service_sid: Option<String>,
    #[serde(default = "twilio_api")]
    pub api_base_url: String,
    /// Given, sealed apart, never stored or shown here.
    #[serde(default, skip_serializing)]
    pub auth_token: Option<String>,
}

fn twilio_api() -> String {
    TWILIO_API_BASE_URL.into()
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TwilioSecrets {
    pub auth_token: String,
}

/// A phone number in E.164: `+`, then 7 to 15 digits, the first not 0.
pub fn e164(field: &'static str, v: &str) -> Result<String, DomainError> {
    let digits: String = v.trim().chars().filter(|c| !" -()".contains(*c)).collect();
    let ok = digits.len() >= 8
        && digits.len() <= 16
        && digits.starts_with('+')
        && digits[1..].chars().all(|c| c.is_ascii_digit())
        && !digits[1..].starts_with('0');
    if ok {
        Ok(digits)
    } else {
        Err(DomainError::invalid(
            field,
            "must be a phone number in international form, like +8613800138000",
        ))
    }
}

fn sid(field: &'static str, prefix: &str, v: &str) -> Result<String, DomainError> {
    let v = v.trim();
    let ok = v.len() == 34 && v.starts_with(prefix) && v[2..].chars().all(|c| c.is_ascii_hexdigit());
    if ok {
        Ok(v.to_string())
    } else {
        Err(DomainError::invalid(
            field,
            format!("must be {prefix} followed by 32 hex digits"),
        ))
    }
}

impl TwilioSettings {
    /// Reads and checks the settings; `previous` keeps the auth token an edit leaves out.
    pub fn parse(
        settings: &serde_json::Value,
        previous: Option<&TwilioSecrets>,
    ) -> Result<(TwilioSettings, TwilioSecrets), DomainError> {
        let mut s: TwilioSettings =
            serde_json::from_value(settings.clone()).map_err(|e| DomainError::invalid("settings", e.to_string()))?;
        s.account_sid = sid("settings.account_sid", "AC", &s.account_sid)?;
        s.from_number = s.from_number.take().filter(|n| !n.trim().is_empty());
        s.messaging_service_sid = s.messaging_service_sid.take().filter(|n| !n.trim().is_empty());
        if let Some(n) = &s.from_number {
            s.from_number = Some(e164("settings.from_number", n)?);
        }
        if let Some(m) = &s.messaging_service_sid {
            s.messaging_service_sid = Some(sid("settings.messaging_service_sid", "MG", m)?);
        }
        if s.from_number.is_none() && s.messaging_service_sid.is_none() {
            return Err(DomainError::invalid(
                "settings.from_number",
                "give the number to send from, or a messaging_service_sid",
            ));
        }
        s.api_base_url = crate::validate::base_url("settings.api_base_url", &s.api_base_url)?;
        let auth_token = match (
            s.auth_token
                .take()
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty()),
            previous,
        ) {
            (Some(t), _) => t,
            (None, Some(p)) => p.auth_token.clone(),
            (None, None) => return Err(DomainError::invalid("settings.auth_token", "is required")),
        };
        if auth_token.len() > 128 {
            return Err(DomainError::invalid("settings.auth_token", "is too long"));
        }
        Ok((s, TwilioSecrets { auth_token }))
    }

    /// The settings as stored (checked when they were saved).
    pub fn stored(settings: &serde_json::Value) -> Result<TwilioSettings, DomainError> {
        serde_json::from_value(settings.clone()).map_err(|e| DomainError::invalid("settings", e.to_string()))
    }

    pub fn redacted(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("settings serialize")
    }
}

pub const ALIYUN_API_BASE_URL: &str = "https://dysmsapi.aliyuncs.com";

/// An SMS inbox on Aliyun (阿里云短信). Aliyun sends only approved templates: replies go out as `template_code`
/// with the agent's words in its `${template_param}` variable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AliyunSettings {
    pub access_key_id: String,
    /// The approved signature (签名) texts go out under.
    pub sign_name: String,
    /// The approved template replies are sent as, e.g. `SMS_123456`.
    pub template_code: String,
    /// The template's variable that carries the agent's words.
    #[serde(default = "template_param")]
    pub template_param: String,
    #[serde(default = "region")]
    pub region_id: String,
    #[serde(default = "aliyun_api")]
    pub api_base_url: String,
    /// Given, sealed apart, never stored or shown here.
    #[serde(default, skip_serializing)]
    pub access_key_secret: Option<String>,
}

fn template_param() -> String {
    "content".into()
}
fn region() -> String {
    "cn-hangzhou".into()
}
fn aliyun_api() -> String {
    ALIYUN_API_BASE_URL.into()
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AliyunSecrets {
    pub access_key_secret: String,
}

impl AliyunSettings {
    pub fn parse(
        settings: &serde_json::Value,
        previous: Option<&AliyunSecrets>,
    ) -> Result<(AliyunSettings, AliyunSecrets), DomainError> {
        let mut s: AliyunSettings =
            serde_json::from_value(settings.clone()).map_err(|e| DomainError::invalid("settings", e.to_string()))?;
        let word = |field: &'static str, v: &str, max: usize| {
            let v = v.trim();
            if v.is_empty() || v.chars().count() > max || v.chars().any(char::is_control) {
                Err(DomainError::invalid(field, format!("must be 1-{max} characters")))
            } else {
                Ok(v.to_string())
            }
        };
        s.access_key_id = word("settings.access_key_id", &s.access_key_id, 64)?;
        s.sign_name = word("settings.sign_name", &s.sign_name, 30)?;
        s.template_code = word("settings.template_code", &s.template_code, 40)?;
        s.template_param = word("settings.template_param", &s.template_param, 40)?;
        s.region_id = word("settings.region_id", &s.region_id, 40)?;
        s.api_base_url = crate::validate::base_url("settings.api_base_url", &s.api_base_url)?;
        let secret = match (
            s.access_key_secret
                .take()
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty()),
            previous,
        ) {
            (Some(t), _) => t,
            (None, Some(p)) => p.access_key_secret.clone(),
            (None, None) => return Err(DomainError::invalid("settings.access_key_secret", "is required")),
        };
        Ok((
            s,
            AliyunSecrets {
                access_key_secret: secret,
            },
        ))
    }

    pub fn stored(settings: &serde_json::Value) -> Result<AliyunSettings, DomainError> {
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

    const SID: &str = "AC0123456789abcdef0123456789abcdef";

    #[test]
    fn the_token_is_taken_apart_and_numbers_are_normalised() {
        let (s, secrets) = TwilioSettings::parse(
            &json!({"account_sid": SID, "from_number": "+1 (415) 867-5309", "auth_token": "tok"}),
            None,
        )
        .unwrap();
        assert_eq!(s.from_number.as_deref(), Some("+14158675309"));
        assert_eq!(secrets.auth_token, "tok");
        assert!(!s.redacted().to_string().contains("tok"));
        assert_eq!(s.api_base_url, TWILIO_API_BASE_URL);
        let (_, kept) = TwilioSettings::parse(
            &json!({"account_sid": SID, "from_number": "+14158675309"}),
            Some(&secrets),
        )
        .unwrap();
        assert_eq!(kept, secrets);
    }

    #[test]
    fn bad_settings_name_the_field() {
        let err = |v: serde_json::Value| TwilioSettings::parse(&v, None).unwrap_err().to_string();
        assert!(
            err(json!({"account_sid": "AC12", "from_number": "+14158675309", "auth_token": "t"}))
                .contains("account_sid")
        );
        assert!(err(json!({"account_sid": SID, "auth_token": "t"})).contains("from_number"));
        assert!(err(json!({"account_sid": SID, "from_number": "0415", "auth_token": "t"})).contains("from_number"));
        assert!(err(json!({"account_sid": SID, "from_number": "+14158675309"})).contains("auth_token"));
        assert!(e164("to", "+8613800138000").is_ok());
        let aliyun = |v: serde_json::Value| AliyunSettings::parse(&v, None).map(|(s, _)| s);
        let ok = aliyun(
            json!({"access_key_id": "LTAI1", "access_key_secret": "s", "sign_name": "客服", "template_code": "SMS_1"}),
        )
        .unwrap();
        assert_eq!(
            (ok.template_param.as_str(), ok.region_id.as_str()),
            ("content", "cn-hangzhou")
        );
        assert!(!ok.redacted().to_string().contains("\"s\""));
        assert!(
            aliyun(json!({"access_key_id": "LTAI1", "sign_name": "客服", "template_code": "SMS_1"}))
                .unwrap_err()
                .to_string()
                .contains("access_key_secret")
        );
        assert!(e164("to", "+0123456789").is_err());
    }
}
