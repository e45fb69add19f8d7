//! Channel credentials at rest: sealed with a key only this installation has (`KEFU_SECRET_KEY`, or a key file
//! Kefu makes in its data directory), so a copied database alone gives away no mail or SMS passwords.
//!
//! Sealing is AES-256-CBC with a random IV, then HMAC-SHA256 over version, IV and ciphertext (encrypt-then-MAC);
//! opening checks the MAC before decrypting. The two 32-byte keys are derived from the configured key material.

use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit, block_padding::Pkcs7};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::path::Path;

type Encryptor = cbc::Encryptor<aes::Aes256>;
type Decryptor = cbc::Decryptor<aes::Aes256>;

const VERSION: &str = "k1";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretError {
    #[error("the sealed value is malformed")]
    Malformed,
    #[error("the sealed value was not made with this installation's secret key (or was altered)")]
    WrongKey,
    #[error("the secret key is too short: give at least 32 characters")]
    WeakKey,
    #[error("the secret key file {0} cannot be used: {1}")]
    KeyFile(String, String),
}

/// Seals and opens secrets with this installation's key.
#[derive(Clone)]
pub struct SecretBox {
    enc_key: [u8; 32],
    mac_key: [u8; 32],
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(..)")
    }
}

fn derive(material: &[u8], purpose: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"kefu secret box\0");
    h.update(purpose.as_bytes());
    h.update(b"\0");
    h.update(material);
    h.finalize().into()
}

impl SecretBox {
    /// From key material (at least 32 characters, e.g. 32 random bytes in base64).
    pub fn new(material: &str) -> Result<Self, SecretError> {
        let material = material.trim();
        if material.len() < 32 {
            return Err(SecretError::WeakKey);
        }
        Ok(SecretBox {
            enc_key: derive(material.as_bytes(), "encrypt"),
            mac_key: derive(material.as_bytes(), "authenticate"),
        })
    }

    /// A random key that lives as long as the process: for tests and one-off tools.
    pub fn ephemeral() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        SecretBox::new(&STANDARD.encode(bytes)).expect("44 characters")
    }

    /// The configured key, else the key file in `data_dir` (made, readable by the owner only, on first use).
    pub fn load(configured: Option<&str>, data_dir: &Path) -> Result<Self, SecretError> {
        if let Some(key) = configured.filter(|k| !k.trim().is_empty()) {
            return SecretBox::new(key);
        }
        let path = data_dir.join("secret.key");
        let fail = |e: std::io::Error| SecretError::KeyFile(path.display().to_string(), e.to_string());
        match std::fs::read_to_string(&path) {
            Ok(key) => SecretBox::new(&key),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut bytes = [0u8; 32];
                rand::rng().fill_bytes(&mut bytes);
                let key = STANDARD.encode(bytes);
                std::fs::create_dir_all(data_dir).map_err(fail)?;
                write_private(&path, &key).map_err(fail)?;
                SecretBox::new(&key)
            }
            Err(e) => Err(fail(e)),
        }
    }

    /// A key for another purpose (signing links), derived from this installation's key: the same on every node.
    pub fn derived_key(&self, purpose: &str) -> [u8; 32] {
        derive(&self.mac_key, purpose)
    }

    fn mac(&self, iv: &[u8], ciphertext: &[u8]) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.mac_key).expect("any key length works");
        mac.update(VERSION.as_bytes());
        mac.update(iv);
        mac.update(ciphertext);
        mac
    }

    /// `k1.<iv>.<ciphertext>.<mac>`, each part in base64.
    pub fn seal(&self, plain: &str) -> String {
        let mut iv = [0u8; 16];
        rand::rng().fill_bytes(&mut iv);
        let ciphertext =
            Encryptor::new(&self.enc_key.into(), &iv.into()).encrypt_padded_vec_mut::<Pkcs7>(plain.as_bytes());
        let tag = self.mac(&iv, &ciphertext).finalize().into_bytes();
        format!(
            "{VERSION}.{}.{}.{}",
            STANDARD.encode(iv),
            STANDARD.encode(&ciphertext),
            STANDARD.encode(tag)
        )
    }

    pub fn open(&self, sealed: &str) -> Result<String, SecretError> {
        let mut parts = sealed.split('.');
        let (Some(VERSION), Some(iv), Some(ciphertext), Some(tag), None) =
            (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(SecretError::Malformed);
        };
        let decode = |p: &str| STANDARD.decode(p).map_err(|_| SecretError::Malformed);
        let (iv, ciphertext, tag) = (decode(iv)?, decode(ciphertext)?, decode(tag)?);
        let iv: [u8; 16] = iv.try_into().map_err(|_| SecretError::Malformed)?;
        self.mac(&iv, &ciphertext)
            .verify_slice(&tag)
            .map_err(|_| SecretError::WrongKey)?;
        let plain = Decryptor::new(&self.enc_key.into(), &iv.into())
            .decrypt_padded_vec_mut::<Pkcs7>(&ciphertext)
            .map_err(|_| SecretError::Malformed)?;
        String::from_utf8(plain).map_err(|_| SecretError::Malformed)
    }
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn a_sealed_secret_opens_with_the_same_key_only() {
        let sealed_box = SecretBox::new(KEY).unwrap();
        let sealed = sealed_box.seal("imap-pässwörd 密码");
        assert!(!sealed.contains("pässwörd"));
        assert_ne!(sealed, sealed_box.seal("imap-pässwörd 密码"), "a fresh IV every time");
        assert_eq!(sealed_box.open(&sealed).unwrap(), "imap-pässwörd 密码");
        let other = SecretBox::new("another key, also long enough to use").unwrap();
        assert_eq!(other.open(&sealed), Err(SecretError::WrongKey));
    }

    #[test]
    fn an_altered_or_malformed_value_is_refused() {
        let b = SecretBox::new(KEY).unwrap();
        let sealed = b.seal("secret");
        let mut parts: Vec<String> = sealed.split('.').map(String::from).collect();
        let mut ct = STANDARD.decode(&parts[2]).unwrap();
        ct[0] ^= 1;
        parts[2] = STANDARD.encode(ct);
        assert_eq!(b.open(&parts.join(".")), Err(SecretError::WrongKey));
        assert_eq!(b.open("k1.abc"), Err(SecretError::Malformed));
        assert_eq!(b.open("k2.a.b.c"), Err(SecretError::Malformed));
        assert_eq!(b.open("plain text"), Err(SecretError::Malformed));
        assert!(matches!(SecretBox::new("short"), Err(SecretError::WeakKey)));
    }

    #[test]
    fn the_key_file_is_made_once_private_and_reused() {
        let dir = std::env::temp_dir().join(format!("kefu-secret-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let first = SecretBox::load(None, &dir).unwrap();
        let sealed = first.seal("x");
        let again = SecretBox::load(None, &dir).unwrap();
        assert_eq!(again.open(&sealed).unwrap(), "x");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join("secret.key")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let configured = SecretBox::load(Some(KEY), &dir).unwrap();
        assert_eq!(
            configured.open(&sealed),
            Err(SecretError::WrongKey),
            "the configured key wins"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
