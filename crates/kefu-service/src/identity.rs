//! Verified visitor identity (`Kefu.setUser`): the customer's server signs its own user id with the inbox's
//! identity secret, so a visitor can be recognised as the same person on every device without Kefu trusting
//! whatever a browser claims.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// Who the customer's page says the visitor is, with the signature its server made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClaimedIdentity {
    /// The customer's own id for the person.
    pub id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    /// Lower- or upper-case hex of HMAC-SHA256(key = the inbox's identity secret, message = `id`).
    pub hash: String,
}

/// What became of a claimed identity, told back to the widget so a wrong setup is visible to the site's developer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct IdentityCheck {
    pub verified: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl IdentityCheck {
    pub(crate) fn verified() -> Self {
        IdentityCheck {
            verified: true,
            reason: None,
        }
    }

    pub(crate) fn rejected(reason: impl Into<String>) -> Self {
        IdentityCheck {
            verified: false,
            reason: Some(reason.into()),
        }
    }
}

/// Whether `hash` is the HMAC-SHA256 of `id` under `secret`. The comparison takes the same time wherever the
/// first wrong byte is, so the hash cannot be guessed byte by byte.
pub fn signature_matches(secret: &str, id: &str, hash: &str) -> bool {
    let Some(expected) = decode_hex(hash.trim()) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(id.as_bytes());
    mac.verify_slice(&expected).is_ok()
}

/// Compares secrets in time independent of where they differ.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() != 64 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_4231_test_case_2_verifies() {
        // RFC 4231, test case 2: key "Jefe", data "what do ya want for nothing?".
        let hash = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
        assert!(signature_matches("Jefe", "what do ya want for nothing?", hash));
        assert!(signature_matches(
            "Jefe",
            "what do ya want for nothing?",
            &hash.to_uppercase()
        ));
    }

    #[test]
    fn a_changed_id_secret_or_hash_does_not_verify() {
        let hash = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
        assert!(!signature_matches("Jefe", "what do ya want for nothing!", hash));
        assert!(!signature_matches("jefe", "what do ya want for nothing?", hash));
        let mut wrong = hash.to_string();
        wrong.replace_range(63..64, "4");
        assert!(!signature_matches("Jefe", "what do ya want for nothing?", &wrong));
        assert!(!signature_matches("Jefe", "what do ya want for nothing?", &hash[..62]));
        assert!(!signature_matches("Jefe", "what do ya want for nothing?", "zz"));
        assert!(!signature_matches("Jefe", "what do ya want for nothing?", ""));
    }
}
