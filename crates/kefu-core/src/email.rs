//! An email inbox's settings: where its mail is fetched (IMAP) and sent from (SMTP). Passwords arrive with the
//! settings but are never stored or shown with them: the service seals them apart (see `redacted`).

use crate::DomainError;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tls {
    /// Plain text: only for a server on the same machine or network.
    None,
    /// Plain connection upgraded with STARTTLS.
    Starttls,
    /// TLS from the first byte (IMAPS 993, SMTPS 465).
    Tls,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImapSettings {
    pub host: String,
    pub port: u16,
    pub tls: Tls,
    pub user: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(default = "inbox_folder")]
    pub folder: String,
}

fn inbox_folder() -> String {
    "INBOX".into()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: Tls,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    pub from_address: String,
    #[serde(default)]
    pub from_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailSettings {
    pub imap: ImapSettings,
    pub smtp: SmtpSettings,
    /// How often to look for new mail when the server offers no IDLE, in seconds (5-3600, default 60).
    #[serde(default = "poll_interval")]
    pub poll_interval_secs: u32,
    /// Every new thread becomes a ticket, whose requester is mailed when it is opened and when it is solved.
    #[serde(default)]
    pub tickets: bool,
}

/// The two mails a requester gets about their ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    Opened,
    Solved,
}

/// Whether to write to someone in Chinese: they wrote in it (any CJK ideograph in what they sent).
pub fn writes_chinese(text: &str) -> bool {
    text.chars()
        .any(|c| matches!(c as u32, 0x4E00..=0x9FFF | 0x3400..=0x4DBF))
}

/// The text of a notice mail about ticket `number`, in Chinese or English.
pub fn notice(kind: Notice, chinese: bool, number: i64, subject: &str) -> String {
    match (kind, chinese) {
        (Notice::Opened, true) => format!(
            "您好，\n\n我们已收到您的请求“{subject}”，工单号为 #{number}。客服会尽快回复您。\n\
             如需补充信息，请直接回复本邮件（请保留主题中的 [#{number}]）。"
        ),
        (Notice::Opened, false) => format!(
            "Hello,\n\nWe have received your request \"{subject}\" as ticket #{number}. An agent will answer you \
             soon.\nTo add anything, reply to this email (keep [#{number}] in the subject)."
        ),
        (Notice::Solved, true) => format!(
            "您好，\n\n您的工单 #{number}“{subject}”已解决。如果问题仍未解决，请直接回复本邮件，工单会重新打开。"
        ),
        (Notice::Solved, false) => format!(
            "Hello,\n\nYour ticket #{number} \"{subject}\" has been solved. If anything is still wrong, reply to \
             this email and the ticket opens again."
        ),
    }
}

fn poll_interval() -> u32 {
    60
}

/// The passwords of an email inbox, kept sealed apart from its settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailSecrets {
    pub imap_password: String,
    #[serde(default)]
    pub smtp_password: Option<String>,
}

fn host(field: &'static str, v: &str) -> Result<(), DomainError> {
    let ok = !v.is_empty() && v.len() <= 253 && v.chars().all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c));
    if ok {
        Ok(())
    } else {
        Err(DomainError::invalid(field, "must be a host name or address"))
    }
}

impl EmailSettings {
    /// Reads and checks an inbox's settings. `previous` supplies passwords the new settings leave out (an edit
    /// that does not retype them); a new inbox must give the IMAP password.
    pub fn parse(
        settings: &serde_json::Value,
        previous: Option<&EmailSecrets>,
    ) -> Result<(EmailSettings, EmailSecrets), DomainError> {
        let mut s: EmailSettings =
            serde_json::from_value(settings.clone()).map_err(|e| DomainError::invalid("settings", e.to_string()))?;
        host("settings.imap.host", &s.imap.host)?;
        host("settings.smtp.host", &s.smtp.host)?;
        if s.imap.port == 0 || s.smtp.port == 0 {
            return Err(DomainError::invalid("settings", "ports are 1-65535"));
        }
        if s.imap.user.trim().is_empty() {
            return Err(DomainError::invalid("settings.imap.user", "must not be empty"));
        }
        if s.imap.folder.trim().is_empty() {
            s.imap.folder = inbox_folder();
        }
        s.smtp.from_address = crate::validate::email(&s.smtp.from_address)
            .map_err(|_| DomainError::invalid("settings.smtp.from_address", "is not an email address"))?;
        if !(5..=3600).contains(&s.poll_interval_secs) {
            return Err(DomainError::invalid("settings.poll_interval_secs", "must be 5-3600"));
        }
        let imap_password = match (s.imap.password.take(), previous) {
            (Some(p), _) if !p.is_empty() => p,
            (_, Some(prev)) => prev.imap_password.clone(),
            _ => return Err(DomainError::invalid("settings.imap.password", "is required")),
        };
        let smtp_password = match (s.smtp.password.take(), previous) {
            (Some(p), _) if !p.is_empty() => Some(p),
            (_, Some(prev)) => prev.smtp_password.clone(),
            _ => None,
        };
        Ok((
            s,
            EmailSecrets {
                imap_password,
                smtp_password,
            },
        ))
    }

    /// The settings as stored and shown: without passwords.
    pub fn redacted(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("settings serialize")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn settings() -> serde_json::Value {
        json!({
            "imap": {"host": "127.0.0.1", "port": 143, "tls": "none", "user": "support", "password": "pw"},
            "smtp": {"host": "mail.example.com", "port": 587, "tls": "starttls", "user": "support",
                     "password": "smtp-pw", "from_address": "Support@Example.com", "from_name": "Support"}
        })
    }

    #[test]
    fn passwords_are_taken_apart_and_never_stored_with_the_settings() {
        let (s, secrets) = EmailSettings::parse(&settings(), None).unwrap();
        assert_eq!(secrets.imap_password, "pw");
        assert_eq!(secrets.smtp_password.as_deref(), Some("smtp-pw"));
        assert_eq!(s.imap.folder, "INBOX");
        assert_eq!(s.smtp.from_address, "support@example.com");
        assert_eq!(s.poll_interval_secs, 60);
        let shown = s.redacted().to_string();
        assert!(!shown.contains("pw"), "{shown}");
    }

    #[test]
    fn an_edit_without_passwords_keeps_the_old_ones() {
        let mut edit = settings();
        edit["imap"].as_object_mut().unwrap().remove("password");
        edit["smtp"]["password"] = json!(null);
        assert!(
            EmailSettings::parse(&edit, None).is_err(),
            "a new inbox needs the IMAP password"
        );
        let old = EmailSecrets {
            imap_password: "old".into(),
            smtp_password: Some("old-smtp".into()),
        };
        let (_, kept) = EmailSettings::parse(&edit, Some(&old)).unwrap();
        assert_eq!(kept, old);
    }

    #[test]
    fn notices_speak_the_requesters_language_and_name_the_ticket() {
        assert!(writes_chinese("我的订单没到"));
        assert!(!writes_chinese("Where is my order? Grüße"));
        let zh = notice(Notice::Opened, true, 12, "订单");
        assert!(zh.contains("#12") && zh.contains("订单") && zh.contains("[#12]"));
        let en = notice(Notice::Solved, false, 7, "Refund");
        assert!(en.contains("ticket #7") && en.contains("\"Refund\""));
    }

    #[test]
    fn bad_settings_name_the_field() {
        let cases = [
            (
                json!({"imap": {"host": "", "port": 143, "tls": "none", "user": "u", "password": "p"}, "smtp": settings()["smtp"]}),
                "imap.host",
            ),
            (
                json!({"imap": settings()["imap"], "smtp": {"host": "h", "port": 25, "tls": "none", "from_address": "nope"}}),
                "from_address",
            ),
            (
                json!({"imap": settings()["imap"], "smtp": settings()["smtp"], "poll_interval_secs": 1}),
                "poll_interval",
            ),
            (
                json!({"imap": {"host": "h", "port": 143, "tls": "ssl", "user": "u"}, "smtp": settings()["smtp"]}),
                "settings",
            ),
        ];
        for (value, field) in cases {
            let err = EmailSettings::parse(&value, None).unwrap_err().to_string();
            assert!(err.contains(field), "{err} should name {field}");
        }
    }
}
