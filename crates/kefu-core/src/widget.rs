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
    /// When agents answer; outside these hours the widget offers to leave a message instead.
    pub working_hours: WorkingHours,
    /// What the widget says when nobody can answer now, per language; empty means the built-in words.
    pub offline_message: Greeting,
}

/// Opening hours in a time zone: for each day, the spans (`"09:00"`-`"18:00"`) when agents answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields, default)]
pub struct WorkingHours {
    pub enabled: bool,
    /// An IANA time zone, e.g. `Asia/Shanghai`.
    pub timezone: String,
    pub mon: Vec<Span>,
    pub tue: Vec<Span>,
    pub wed: Vec<Span>,
    pub thu: Vec<Span>,
    pub fri: Vec<Span>,
    pub sat: Vec<Span>,
    pub sun: Vec<Span>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Span {
    pub from: String,
    pub to: String,
}

impl Default for WorkingHours {
    fn default() -> Self {
        let office = || {
            vec![Span {
                from: "09:00".into(),
                to: "18:00".into(),
            }]
        };
        WorkingHours {
            enabled: false,
            timezone: "Asia/Shanghai".into(),
            mon: office(),
            tue: office(),
            wed: office(),
            thu: office(),
            fri: office(),
            sat: Vec::new(),
            sun: Vec::new(),
        }
    }
}

/// Minutes since midnight of `"HH:MM"` (`"24:00"` allowed as the end of a day).
fn minutes(hhmm: &str) -> Option<u32> {
    let (h, m) = hhmm.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (m < 60 && (h < 24 || (h == 24 && m == 0))).then_some(h * 60 + m)
}

impl WorkingHours {
    fn days(&self) -> [&Vec<Span>; 7] {
        [
            &self.mon, &self.tue, &self.wed, &self.thu, &self.fri, &self.sat, &self.sun,
        ]
    }

    fn check(&self) -> Result<(), DomainError> {
        self.check_as("settings.widget.working_hours")
    }

    /// Refuses an unknown time zone or malformed spans, naming `field` in the error.
    pub fn check_as(&self, field: &'static str) -> Result<(), DomainError> {
        self.timezone
            .parse::<chrono_tz::Tz>()
            .map_err(|_| DomainError::invalid(field, format!("unknown time zone {:?}", self.timezone)))?;
        for spans in self.days() {
            if spans.len() > 4 {
                return Err(DomainError::invalid(field, "at most 4 spans a day"));
            }
            for span in spans {
                match (minutes(&span.from), minutes(&span.to)) {
                    (Some(from), Some(to)) if from < to => {}
                    _ => return Err(DomainError::invalid(field, "spans are \"HH:MM\" to a later \"HH:MM\"")),
                }
            }
        }
        Ok(())
    }

    /// The moment `minutes` of working time after `start` have passed: time outside the spans does not count,
    /// so 2 hours from Friday 17:00 on a 09:00-18:00 weekday schedule is Monday 10:00. Around the clock when
    /// hours are not enabled (or no day has a span).
    pub fn add_working_minutes(
        &self,
        start: chrono::DateTime<chrono::Utc>,
        minutes: i64,
    ) -> chrono::DateTime<chrono::Utc> {
        use chrono::{Datelike, Duration, TimeZone};
        let plain = start + Duration::minutes(minutes);
        let tz = match self.timezone.parse::<chrono_tz::Tz>() {
            Ok(tz) if self.enabled && self.days().iter().any(|d| !d.is_empty()) => tz,
            _ => return plain,
        };
        let mut left = Duration::minutes(minutes.max(0));
        let mut date = start.with_timezone(&tz).date_naive();
        // A schedule has a span at least once a week: a few years of days is far more than any SLA needs.
        for _ in 0..3660 {
            let mut spans: Vec<(u32, u32)> = self.days()[date.weekday().num_days_from_monday() as usize]
                .iter()
                .filter_map(|s| Some((self::minutes(&s.from)?, self::minutes(&s.to)?)))
                .collect();
            spans.sort_unstable();
            for (from, to) in spans {
                let at = |m: u32| {
                    let local = date.and_hms_opt(0, 0, 0).expect("midnight exists") + Duration::minutes(i64::from(m));
                    // On a DST change a local time may be ambiguous or skipped: take the earliest real instant.
                    tz.from_local_datetime(&local)
                        .earliest()
                        .unwrap_or_else(|| tz.from_utc_datetime(&local))
                        .with_timezone(&chrono::Utc)
                };
                let (begin, end) = (at(from).max(start), at(to));
                if end <= begin {
                    continue;
                }
                if end - begin >= left {
                    return begin + left;
                }
                left -= end - begin;
            }
            date = date.succ_opt().expect("dates go on");
        }
        plain
    }

    /// Whether agents answer at `now` (always, when hours are not enabled).
    pub fn is_open(&self, now: chrono::DateTime<chrono::Utc>) -> bool {
        use chrono::{Datelike, Timelike};
        if !self.enabled {
            return true;
        }
        let Ok(tz) = self.timezone.parse::<chrono_tz::Tz>() else {
            return true;
        };
        let local = now.with_timezone(&tz);
        let minute = local.hour() * 60 + local.minute();
        self.days()[local.weekday().num_days_from_monday() as usize].iter().any(|span| {
            matches!((minutes(&span.from), minutes(&span.to)), (Some(from), Some(to)) if from <= minute && minute < to)
        })
    }
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
            working_hours: WorkingHours::default(),
            offline_message: Greeting::default(),
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
        parsed.working_hours.check()?;
        for text in [&parsed.offline_message.zh_cn, &parsed.offline_message.en] {
            if text.chars().count() > MAX_GREETING_CHARS {
                return Err(DomainError::invalid(
                    "settings.widget.offline_message",
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
    use chrono::TimeZone;
    use serde_json::json;

    #[test]
    fn working_minutes_skip_nights_and_weekends_in_the_schedules_time_zone() {
        let utc = |s: &str| s.parse::<chrono::DateTime<chrono::Utc>>().unwrap();
        let office = WorkingHours {
            enabled: true,
            ..WorkingHours::default()
        };
        // Friday 2026-11-27 17:00 in Shanghai is 09:00 UTC; two working hours later it is Monday 10:00 there.
        assert_eq!(
            office.add_working_minutes(utc("2026-11-27T09:00:00Z"), 120),
            utc("2026-11-30T02:00:00Z")
        );
        // Saturday night counts from Monday's opening.
        assert_eq!(
            office.add_working_minutes(utc("2026-11-28T14:00:00Z"), 30),
            utc("2026-11-30T01:30:00Z")
        );
        // Within one span it is plain addition; zero minutes is the start itself.
        assert_eq!(
            office.add_working_minutes(utc("2026-11-26T02:00:00Z"), 60),
            utc("2026-11-26T03:00:00Z")
        );
        assert_eq!(
            office.add_working_minutes(utc("2026-11-26T02:00:00Z"), 0),
            utc("2026-11-26T02:00:00Z")
        );
        // Two spans in a day (a lunch break) and a full week of 45 h.
        let lunch = WorkingHours {
            enabled: true,
            timezone: "UTC".into(),
            mon: vec![
                Span {
                    from: "09:00".into(),
                    to: "12:00".into(),
                },
                Span {
                    from: "13:00".into(),
                    to: "18:00".into(),
                },
            ],
            ..WorkingHours::default()
        };
        assert_eq!(
            lunch.add_working_minutes(utc("2026-11-30T11:00:00Z"), 120),
            utc("2026-11-30T14:00:00Z")
        );
        assert_eq!(
            office.add_working_minutes(utc("2026-11-30T01:00:00Z"), 45 * 60),
            utc("2026-12-04T10:00:00Z")
        );
        // Not enabled, or a schedule without a single span: around the clock.
        let always = WorkingHours::default();
        assert_eq!(
            always.add_working_minutes(utc("2026-11-28T14:00:00Z"), 30),
            utc("2026-11-28T14:30:00Z")
        );
        let never = WorkingHours {
            enabled: true,
            mon: vec![],
            tue: vec![],
            wed: vec![],
            thu: vec![],
            fri: vec![],
            ..WorkingHours::default()
        };
        assert_eq!(
            never.add_working_minutes(utc("2026-11-28T14:00:00Z"), 30),
            utc("2026-11-28T14:30:00Z")
        );
    }

    #[test]
    fn working_hours_follow_the_time_zone_and_the_day() {
        let hours = WorkingHours {
            enabled: true,
            ..WorkingHours::default()
        };
        // Monday 2026-11-23 01:30 UTC is 09:30 in Shanghai: open; 10:30 UTC is 18:30 there: closed.
        assert!(hours.is_open(chrono::Utc.with_ymd_and_hms(2026, 11, 23, 1, 30, 0).unwrap()));
        assert!(!hours.is_open(chrono::Utc.with_ymd_and_hms(2026, 11, 23, 10, 30, 0).unwrap()));
        // Saturday: closed all day by default.
        assert!(!hours.is_open(chrono::Utc.with_ymd_and_hms(2026, 11, 28, 3, 0, 0).unwrap()));
        let off = WorkingHours {
            enabled: false,
            ..hours.clone()
        };
        assert!(off.is_open(chrono::Utc.with_ymd_and_hms(2026, 11, 28, 3, 0, 0).unwrap()));
        let late = WorkingHours {
            sat: vec![Span {
                from: "20:00".into(),
                to: "24:00".into(),
            }],
            ..hours
        };
        assert!(late.is_open(chrono::Utc.with_ymd_and_hms(2026, 11, 28, 15, 59, 0).unwrap()));
    }

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
            json!({ "widget": { "working_hours": { "timezone": "Mars/Olympus" } } }),
            json!({ "widget": { "working_hours": { "mon": [{ "from": "18:00", "to": "09:00" }] } } }),
            json!({ "widget": { "working_hours": { "tue": [{ "from": "9:00", "to": "18:00" }] } } }),
            json!({ "widget": { "pre_chat": { "fields": [{ "key": "email" }, { "key": "email" }] } } }),
            json!({ "widget": { "pre_chat": { "fields": [{ "key": "order_no", "label": { "en": "Order" } }] } } }),
        ] {
            assert!(WidgetSettings::from_inbox_settings(&bad).is_err(), "{bad}");
        }
    }
}
