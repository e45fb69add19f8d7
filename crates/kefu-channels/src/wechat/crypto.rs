//! The message crypto WeChat's platforms share (Official Account safe mode, WeCom callbacks): the SHA-1 signature
//! over the sorted parts, and AES-256-CBC with a 32-byte PKCS#7 block over `random16 ‖ len ‖ message ‖ app id`.
//! Locked to the official vectors in the tests below.

use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit, block_padding::NoPadding};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha1::{Digest, Sha1};

type Encryptor = cbc::Encryptor<aes::Aes256>;
type Decryptor = cbc::Decryptor<aes::Aes256>;

/// WeChat pads to 32 bytes, not AES's 16.
const BLOCK: usize = 32;

/// `hex(sha1(sorted parts, concatenated))`: the URL check's `signature` and safe mode's `msg_signature`.
pub fn signature(parts: &[&str]) -> String {
    let mut sorted = parts.to_vec();
    sorted.sort_unstable();
    let digest = Sha1::digest(sorted.concat().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares in time independent of where the strings differ.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("the EncodingAESKey must be 43 characters of base64")]
    BadKey,
    #[error("the encrypted message is not valid base64 or not whole AES blocks")]
    BadCiphertext,
    #[error("the decrypted message is malformed")]
    Malformed,
    #[error("the message was encrypted for another app id")]
    WrongAppId,
}

/// An app's (or corp's) cipher: its EncodingAESKey and the id every message ends with.
#[derive(Clone)]
pub struct Cipher {
    key: [u8; 32],
    app_id: String,
}

impl std::fmt::Debug for Cipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cipher")
            .field("app_id", &self.app_id)
            .finish_non_exhaustive()
    }
}

impl Cipher {
    pub fn new(encoding_aes_key: &str, app_id: &str) -> Result<Self, CryptoError> {
        if encoding_aes_key.len() != 43 {
            return Err(CryptoError::BadKey);
        }
        // WeChat generates keys whose last character carries spare bits a strict decoder refuses.
        let lenient = base64::engine::GeneralPurpose::new(
            &base64::alphabet::STANDARD,
            base64::engine::GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
        );
        let bytes = lenient
            .decode(format!("{encoding_aes_key}="))
            .map_err(|_| CryptoError::BadKey)?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| CryptoError::BadKey)?;
        Ok(Cipher {
            key,
            app_id: app_id.to_string(),
        })
    }

    fn iv(&self) -> [u8; 16] {
        self.key[..16].try_into().expect("16 of 32 bytes")
    }

    /// Base64 of the encrypted message, with the 16 random bytes WeChat puts first.
    pub fn encrypt_with(&self, random: &[u8; 16], message: &str) -> String {
        let mut plain = Vec::with_capacity(16 + 4 + message.len() + self.app_id.len() + BLOCK);
        plain.extend_from_slice(random);
        plain.extend_from_slice(&(message.len() as u32).to_be_bytes());
        plain.extend_from_slice(message.as_bytes());
        plain.extend_from_slice(self.app_id.as_bytes());
        let pad = BLOCK - plain.len() % BLOCK;
        plain.extend(std::iter::repeat_n(pad as u8, pad));
        let sealed = Encryptor::new(&self.key.into(), &self.iv().into()).encrypt_padded_vec_mut::<NoPadding>(&plain);
        STANDARD.encode(sealed)
    }

    pub fn encrypt(&self, message: &str) -> String {
        let mut random = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut random);
        self.encrypt_with(&random, message)
    }

    /// The message inside, after checking it was sealed for this app id.
    pub fn decrypt(&self, encrypted: &str) -> Result<String, CryptoError> {
        let sealed = STANDARD
            .decode(encrypted.trim())
            .map_err(|_| CryptoError::BadCiphertext)?;
        if sealed.is_empty() || sealed.len() % 16 != 0 {
            return Err(CryptoError::BadCiphertext);
        }
        let plain = Decryptor::new(&self.key.into(), &self.iv().into())
            .decrypt_padded_vec_mut::<NoPadding>(&sealed)
            .map_err(|_| CryptoError::BadCiphertext)?;
        let pad = *plain.last().ok_or(CryptoError::Malformed)? as usize;
        if !(1..=BLOCK).contains(&pad) || pad > plain.len() || plain.len() < 20 + pad {
            return Err(CryptoError::Malformed);
        }
        let content = &plain[16..plain.len() - pad];
        let len = u32::from_be_bytes(content[..4].try_into().expect("4 bytes")) as usize;
        let rest = &content[4..];
        if len > rest.len() {
            return Err(CryptoError::Malformed);
        }
        let (message, app_id) = rest.split_at(len);
        if app_id != self.app_id.as_bytes() {
            return Err(CryptoError::WrongAppId);
        }
        String::from_utf8(message.to_vec()).map_err(|_| CryptoError::Malformed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_check_signature_matches_wechatpys_vector() {
        assert_eq!(
            signature(&["test", "1410685589", "test"]),
            "f21891de399b4e33a1a93c9a7b8a8fffb5a443ff"
        );
    }

    #[test]
    fn encryption_matches_wxjavas_vector_and_decrypts_back() {
        let cipher = Cipher::new("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFE", "wxb11529c136998cb6").unwrap();
        let sealed = cipher.encrypt_with(b"aaaabbbbccccdddd", "我是中文abcd123");
        assert_eq!(
            sealed,
            "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg=="
        );
        assert_eq!(cipher.decrypt(&sealed).unwrap(), "我是中文abcd123");
        let other = Cipher::new("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFE", "wx0000000000000000").unwrap();
        assert_eq!(other.decrypt(&sealed), Err(CryptoError::WrongAppId));
    }

    #[test]
    fn the_wecom_url_check_vector_verifies_and_decrypts() {
        let echostr = "4ByGGj+sVCYcvGeQYhaKIk1o0pQRNbRjxybjTGblXrBaXlTXeOo1+bXFXDQQb1o6co6Yh9Bv41n7hOchLF6p+Q==";
        assert_eq!(
            signature(&["123456", "1411443780", "437374425", echostr]),
            "dd6b9c95b495b3f7e2901bfbc76c664930ffdb96"
        );
        let cipher = Cipher::new("kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR", "wx49f0ab532d5d035a").unwrap();
        assert_eq!(cipher.decrypt(echostr).unwrap(), "5927782489442352469");
    }

    #[test]
    fn garbage_is_refused_without_panicking() {
        let cipher = Cipher::new("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFE", "wxb11529c136998cb6").unwrap();
        for input in [
            "",
            "%%%",
            "AAAA",
            "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmk=",
            &STANDARD.encode([7u8; 64]),
        ] {
            assert!(cipher.decrypt(input).is_err(), "{input:?}");
        }
        assert_eq!(Cipher::new("short", "x").unwrap_err(), CryptoError::BadKey);
    }
}
