//! How a web inbox's widget looks and greets: the settings an admin may set under `settings.widget`, checked,
//! with defaults for whatever is left out.

use crate::DomainError;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields, default)]
pub struct WidgetSettings {
    /// The launcher's and header's colour, `#rrggbb`.
    pub color: String,
    pub position: WidgetPosition,
    /// The language the widget speaks; `auto` follows the visitor's browser.
    pub language: WidgetLanguage,
    pub greeting: Greeting,
    /// A form the visitor fills in before their first message.
    pub pre_chat: PreChat,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields, default)]
pub struct PreChat {
    pub enabled: bool,
    pub fields: Vec<PreChatField>,
}

/// One field of the pre-chat form: `name`, `email` and `phone` fill the contact's own fields; any other key (a-z,
/// 0-9, _) is kept in the contact's attributes under `fields`, and needs a label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PreChatField {
    pub key: String,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub label: Greeting,
}

impl PreChatField {
    pub fn is_builtin(&self) -> bool {
        matches!(self.key.as_str(), "name" | "email" | "phone")
    }
}

pub const MAX_PRE_CHAT_FIELDS: usize = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum WidgetPosition {
    Right,
    Left,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum WidgetLanguage {
    #[serde(rename = "auto")]
    Auto,
    #[serde(rename = "zh-CN")]
    ZhCn,
    #[serde(rename = "en")]
    En,
}

/// The first words a visitor sees, per language; empty means the widget's built-in greeting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields, default)]
pub struct Greeting {
    #[serde(rename = "zh-CN")]
    pub zh_cn: String,
    pub en: String,
}

impl Default for WidgetSettings {
    fn default() -> Self {
        WidgetSettings {
            color: "#1677ff".into(),
            position: WidgetPosition::Right,
            language: WidgetLanguage::Auto,
            greeting: Greeting::default(),
            pre_chat: PreChat::default(),
        }
    }
}

pub const MAX_GREETING_CHARS: usize = 500;

impl WidgetSettings {
    /// The widget settings inside an inbox's settings object (`settings.widget`), checked.
    pub fn from_inbox_settings(settings: &serde_json::Value) -> Result<Self, DomainError> {
        let Some(widget) = settings.get("widget") else {
            return Ok(Self::default());
        };
        let parsed: WidgetSettings = serde_json::from_value(widget.clone())
            .map_err(|e| DomainError::invalid("settings.widget", e.to_string()))?;
        let hex = parsed.color.strip_prefix('#').unwrap_or_default();
        if hex.len() != 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(DomainError::invalid(
                "settings.widget.color",
                "must be a colour like #1677ff",
            ));
        }
        for text in [&parsed.greeting.zh_cn, &parsed.greeting.en] {
            if text.chars().count() > MAX_GREETING_CHARS {
                return Err(DomainError::invalid(
                    "settings.widget.greeting",
                    "must be at most 500 characters",
                ));
            }
        }
        let fields = &parsed.pre_chat.fields;
        if fields.len() > MAX_PRE_CHAT_FIELDS {
            return Err(DomainError::invalid(
                "settings.widget.pre_chat.fields",
                "at most 10 fields",
            ));
        }
        for (i, field) in fields.iter().enumerate() {
            let key_ok = !field.key.is_empty()
                && field.key.len() <= 40
                && field
                    .key
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !key_ok {
                return Err(DomainError::invalid(
                    "settings.widget.pre_chat.fields",
                    "keys are a-z, 0-9 and _",
                ));
            }
            if fields[..i].iter().any(|f| f.key == field.key) {
                return Err(DomainError::invalid(
                    "settings.widget.pre_chat.fields",
                    "keys must be unique",
                ));
            }
            if !field.is_builtin() && (field.label.en.trim().is_empty() || field.label.zh_cn.trim().is_empty()) {
                return Err(DomainError::invalid(
                    "settings.widget.pre_chat.fields",
                    "custom fields need both labels",
                ));
            }
        }
        Ok(parsed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn missing_settings_mean_the_defaults_and_given_ones_are_checked() {
        assert_eq!(
            WidgetSettings::from_inbox_settings(&json!({})).unwrap(),
            WidgetSettings::default()
        );
        let custom = json!({ "widget": { "color": "#00A870", "position": "left", "greeting": { "zh-CN": "欢迎" } } });
        let parsed = WidgetSettings::from_inbox_settings(&custom).unwrap();
        assert_eq!(
            (parsed.color.as_str(), parsed.position),
            ("#00A870", WidgetPosition::Left)
        );
        assert_eq!(
            (parsed.greeting.zh_cn.as_str(), parsed.greeting.en.as_str()),
            ("欢迎", "")
        );
        for bad in [
            json!({ "widget": { "color": "red" } }),
            json!({ "widget": { "colour": "#000000" } }),
            json!({ "widget": { "position": "top" } }),
            json!({ "widget": { "greeting": { "en": "x".repeat(501) } } }),
            json!({ "widget": { "pre_chat": { "fields": [{ "key": "Order No" }] } } }),
            json!({ "widget": { "pre_chat": { "fields": [{ "key": "email" }, { "key": "email" }] } } }),
            json!({ "widget": { "pre_chat": { "fields": [{ "key": "order_no", "label": { "en": "Order" } }] } } }),
        ] {
            assert!(WidgetSettings::from_inbox_settings(&bad).is_err(), "{bad}");
        }
    }
}
