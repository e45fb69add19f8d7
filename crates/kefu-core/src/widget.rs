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
}

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
        ] {
            assert!(WidgetSettings::from_inbox_settings(&bad).is_err(), "{bad}");
        }
    }
}
