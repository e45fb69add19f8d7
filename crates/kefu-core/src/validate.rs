//! Input rules shared by every adapter, so a message is judged the same whether it came by socket or REST.

use crate::DomainError;

pub const MAX_MESSAGE_CHARS: usize = 10_000;
pub const MAX_CLIENT_ID_CHARS: usize = 128;
pub const MAX_NAME_CHARS: usize = 200;
pub const MIN_PASSWORD_CHARS: usize = 8;
pub const MAX_CAPACITY: u32 = 1000;

/// Message content: 1..=10,000 characters once surrounding whitespace is ignored. The content is kept as sent.
pub fn message_content(content: &str) -> Result<(), DomainError> {
    if content.trim().is_empty() {
        return Err(DomainError::EmptyMessage);
    }
    if content.chars().count() > MAX_MESSAGE_CHARS {
        return Err(DomainError::MessageTooLong { max: MAX_MESSAGE_CHARS });
    }
    Ok(())
}

/// A client's idempotency key: non-empty, short, printable.
pub fn client_id(client_id: &str) -> Result<(), DomainError> {
    if client_id.is_empty() || client_id.chars().count() > MAX_CLIENT_ID_CHARS {
        return Err(DomainError::invalid("client_id", "must be 1 to 128 characters"));
    }
    if client_id.chars().any(char::is_control) {
        return Err(DomainError::invalid("client_id", "must not contain control characters"));
    }
    Ok(())
}

/// A display name (agent, team, inbox, contact).
pub fn name(field: &'static str, value: &str) -> Result<String, DomainError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(DomainError::invalid(field, "must not be empty"));
    }
    if trimmed.chars().count() > MAX_NAME_CHARS {
        return Err(DomainError::invalid(field, "must be at most 200 characters"));
    }
    Ok(trimmed.to_string())
}

/// An email address, normalized to lower case. Deliberately loose: one `@`, something on each side, a dot after it.
pub fn email(value: &str) -> Result<String, DomainError> {
    let v = value.trim().to_lowercase();
    let valid = v.len() <= 254
        && !v.chars().any(char::is_whitespace)
        && matches!(v.split_once('@'), Some((local, domain))
            if !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.') && !domain.contains('@'));
    if valid {
        Ok(v)
    } else {
        Err(DomainError::invalid("email", "is not an email address"))
    }
}

/// A phone number as people write it: digits, spaces and + - ( ), at most 40 characters.
pub fn phone(value: &str) -> Result<String, DomainError> {
    let v = value.trim();
    if v.is_empty() || v.len() > 40 || !v.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c)) {
        return Err(DomainError::invalid(
            "phone",
            "may hold digits, spaces and + - ( ) only",
        ));
    }
    Ok(v.to_string())
}

/// A provider base URL: http(s), no query, no trailing slash.
pub fn base_url(field: &'static str, v: &str) -> Result<String, DomainError> {
    let v = v.trim().trim_end_matches('/');
    let rest = v.strip_prefix("https://").or_else(|| v.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !v.contains(['?', '#', ' ']) && v.len() <= 300 => Ok(v.to_string()),
        _ => Err(DomainError::invalid(field, "must be an http(s) URL without query")),
    }
}

/// A URL Kefu will POST to (a webhook target): http(s), with a host, at most 2000 characters.
pub fn target_url(field: &'static str, v: &str) -> Result<String, DomainError> {
    let v = v.trim();
    let rest = v.strip_prefix("https://").or_else(|| v.strip_prefix("http://"));
    let host = rest.map(|r| r.split(['/', '?', '#']).next().unwrap_or(""));
    match host {
        Some(h) if !h.is_empty() && v.len() <= 2000 && !v.contains(char::is_whitespace) => Ok(v.to_string()),
        _ => Err(DomainError::invalid(field, "must be an http(s) URL")),
    }
}

/// A canned reply's shortcut: 1 to 40 characters, no spaces (it is typed after "/").
pub fn shortcut(value: &str) -> Result<String, DomainError> {
    let v = value.trim().trim_start_matches('/');
    if v.is_empty() || v.chars().count() > 40 || v.chars().any(char::is_whitespace) {
        return Err(DomainError::invalid(
            "shortcut",
            "must be 1 to 40 characters without spaces",
        ));
    }
    Ok(v.to_string())
}

pub fn password(value: &str) -> Result<(), DomainError> {
    if value.chars().count() < MIN_PASSWORD_CHARS {
        return Err(DomainError::invalid("password", "must be at least 8 characters"));
    }
    if value.len() > 1024 {
        return Err(DomainError::invalid("password", "must be at most 1024 bytes"));
    }
    Ok(())
}

pub fn capacity(value: u32) -> Result<(), DomainError> {
    if value > MAX_CAPACITY {
        return Err(DomainError::invalid("capacity", "must be between 0 and 1000"));
    }
    Ok(())
}

/// The languages Kefu's screens speak.
pub const LOCALES: [&str; 2] = ["zh-CN", "en"];

pub fn locale(value: &str) -> Result<&'static str, DomainError> {
    LOCALES
        .into_iter()
        .find(|l| *l == value)
        .ok_or_else(|| DomainError::invalid("locale", "must be \"zh-CN\" or \"en\""))
}

/// A customer's own id for one of their users (`Kefu.setUser`): what their system calls the person.
pub fn external_id(value: &str) -> Result<&str, DomainError> {
    if value.is_empty() || value.len() > 200 || value.chars().any(char::is_control) {
        return Err(DomainError::invalid(
            "id",
            "must be 1-200 bytes without control characters",
        ));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_two_screen_languages_are_locales() {
        assert_eq!(locale("zh-CN"), Ok("zh-CN"));
        assert_eq!(locale("en"), Ok("en"));
        assert!(locale("zh-cn").is_err());
        assert!(locale("fr").is_err());
        assert!(external_id("").is_err());
        assert!(external_id("user\n1").is_err());
        assert!(external_id(&"x".repeat(201)).is_err());
        assert_eq!(external_id("user-42"), Ok("user-42"));
    }

    #[test]
    fn message_content_rejects_blank_and_overlong_text() {
        assert_eq!(message_content(""), Err(DomainError::EmptyMessage));
        assert_eq!(message_content(" \n\t"), Err(DomainError::EmptyMessage));
        assert!(message_content("你好").is_ok());
        let max = "字".repeat(MAX_MESSAGE_CHARS);
        assert!(message_content(&max).is_ok(), "the limit counts characters, not bytes");
        let over = "a".repeat(MAX_MESSAGE_CHARS + 1);
        assert_eq!(
            message_content(&over),
            Err(DomainError::MessageTooLong { max: MAX_MESSAGE_CHARS })
        );
    }

    #[test]
    fn email_is_normalized_and_checked() {
        assert_eq!(email(" Li.Lei@Example.COM ").unwrap(), "li.lei@example.com");
        for bad in ["", "a", "a@b", "@b.c", "a@.c", "a b@c.d", "a@b.c.", "a@b@c.d"] {
            assert!(email(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn client_id_must_be_short_and_printable() {
        assert!(client_id("c-1").is_ok());
        assert!(client_id("").is_err());
        assert!(client_id(&"x".repeat(129)).is_err());
        assert!(client_id("a\nb").is_err());
    }
}
