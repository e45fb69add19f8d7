//! Files in conversations beyond email: a customer's photo or voice note fetched from a provider's media API and
//! kept with their message, an agent's file sent out through the channel (refused up front when the channel
//! cannot carry it), and short-lived signed links that let a provider (Twilio) fetch a file without a login.

use crate::{Notification, Result, Service, ServiceError, new_id};
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use kefu_core::media;
use kefu_core::model::*;
use kefu_store::now_ms;
use sha2::Sha256;
use uuid::Uuid;

/// A file on its way into a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaFile {
    pub filename: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

impl MediaFile {
    /// What is stored: the listing on the message, and the bytes in base64.
    pub(crate) fn stored(&self) -> (Attachment, String) {
        let content_type = media::essence(&self.content_type);
        let content_type = if content_type.is_empty() || content_type.len() > 100 {
            "application/octet-stream".to_string()
        } else {
            content_type
        };
        let meta = Attachment {
            id: new_id(),
            filename: media::clean_filename(&self.filename, &content_type),
            content_type,
            size: self.bytes.len() as u64,
        };
        (meta, base64::engine::general_purpose::STANDARD.encode(&self.bytes))
    }
}

/// How long a signed link to a file works: long enough for a provider to fetch it after a delayed retry.
const LINK_TTL_MS: i64 = 24 * 3600 * 1000;

impl Service {
    /// Keeps files a provider handed over after their message was stored (fetched once the provider had its
    /// answer), and shows them to the agents. A message keeps the first files it got: a second fetch (a retried
    /// webhook) changes nothing.
    pub async fn attach_media(&self, message_id: Uuid, files: Vec<MediaFile>) -> Result<()> {
        let message = self
            .store()
            .message(message_id)
            .await?
            .ok_or(ServiceError::NotFound("message"))?;
        let Some(conversation) = self.store().conversation(message.conversation_id).await? else {
            return Err(ServiceError::NotFound("conversation"));
        };
        let stored: Vec<(Attachment, String)> = files
            .iter()
            .filter(|f| !f.bytes.is_empty() && f.bytes.len() as u64 <= media::MAX_INBOUND_BYTES)
            .map(MediaFile::stored)
            .collect();
        if stored.is_empty() {
            return Ok(());
        }
        let mut tx = self.store().begin().await?;
        let attached = tx.attach(conversation.org_id, &message, &stored, now_ms()).await?;
        tx.commit().await?;
        if attached && let Some(message) = self.store().message(message_id).await? {
            self.publish(vec![Notification::MessageUpdated { conversation, message }]);
        }
        Ok(())
    }

    /// Says on a customer's message that its file could not be fetched, and why: the agent then knows to ask.
    pub async fn media_missing(&self, message_id: Uuid, reason: &str) -> Result<()> {
        let Some(message) = self.store().message(message_id).await? else {
            return Err(ServiceError::NotFound("message"));
        };
        if !message.attachments.is_empty() {
            return Ok(());
        }
        let note = format!("{}\n[the file could not be fetched: {reason}]", message.content);
        let note: String = note.chars().take(kefu_core::validate::MAX_MESSAGE_CHARS).collect();
        let mut tx = self.store().begin().await?;
        tx.set_message_content(message_id, &note).await?;
        tx.commit().await?;
        if let (Some(conversation), Some(message)) = (
            self.store().conversation(message.conversation_id).await?,
            self.store().message(message_id).await?,
        ) {
            self.publish(vec![Notification::MessageUpdated { conversation, message }]);
        }
        Ok(())
    }

    /// An agent's file, sent into a conversation as a message of its own (named by the file), and out through the
    /// conversation's channel. A file the channel cannot carry is refused before anything is stored.
    pub async fn agent_send_file(
        &self,
        user: &User,
        conversation_id: Uuid,
        client_id: String,
        private: bool,
        file: MediaFile,
    ) -> Result<Message> {
        let conversation = self.readable_conversation(user, conversation_id).await?;
        let (meta, _) = file.stored();
        if meta.size == 0 || meta.size > media::MAX_UPLOAD_BYTES {
            return Err(ServiceError::MediaNotSupported(
                "files must hold 1 byte to 20 MB".into(),
            ));
        }
        if !private {
            let inbox = self
                .store()
                .inbox(conversation.org_id, conversation.inbox_id)
                .await?
                .ok_or(ServiceError::NotFound("inbox"))?;
            if inbox.kind == InboxKind::Web {
                return Err(ServiceError::MediaNotSupported(
                    "the chat widget does not show files: send it as a private note, or as a link".into(),
                ));
            }
            if self.delivers(&conversation).await? {
                media::outbound(inbox.kind, &meta.content_type, meta.size).map_err(ServiceError::MediaNotSupported)?;
            }
        }
        self.agent_send(
            user,
            crate::SendMessage {
                conversation_id: Some(conversation_id),
                client_id,
                content: meta.filename.clone(),
                private,
                files: vec![file],
            },
        )
        .await
    }

    /// A file's bytes, for a channel sending the message it belongs to.
    pub async fn attachment_bytes(&self, id: Uuid) -> Result<(Attachment, Vec<u8>)> {
        let stored = self
            .store()
            .attachment(id)
            .await?
            .ok_or(ServiceError::NotFound("attachment"))?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(stored.data_base64)
            .map_err(ServiceError::internal)?;
        Ok((stored.meta, bytes))
    }

    fn link_mac(&self, id: Uuid, expires: i64) -> String {
        let key = self.config().secrets.derived_key("media links");
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&key).expect("any key length works");
        mac.update(format!("{id}.{expires}").as_bytes());
        mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// A link to a file that works without a login for a day: `/media/{id}?expires=…&signature=…`, after `origin`.
    pub fn media_link(&self, origin: &str, id: Uuid) -> String {
        let expires = (now_ms() + LINK_TTL_MS) / 1000;
        format!(
            "{}/media/{id}?expires={expires}&signature={}",
            origin.trim_end_matches('/'),
            self.link_mac(id, expires)
        )
    }

    /// The file a signed link names, while the link holds.
    pub async fn linked_media(&self, id: Uuid, expires: i64, signature: &str) -> Result<(Attachment, Vec<u8>)> {
        let expected = self.link_mac(id, expires);
        if !subtle_eq(expected.as_bytes(), signature.as_bytes()) {
            return Err(ServiceError::Forbidden("the link's signature does not match"));
        }
        if expires * 1000 < now_ms() {
            return Err(ServiceError::Forbidden("the link has expired"));
        }
        self.attachment_bytes(id).await
    }
}

/// Equal, in time that does not depend on where they differ.
fn subtle_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_file_has_a_clean_name_and_type() {
        let f = MediaFile {
            filename: "../x/照片.PNG".into(),
            content_type: "Image/PNG; charset=binary".into(),
            bytes: vec![1, 2, 3],
        };
        let (meta, data) = f.stored();
        assert_eq!(meta.filename, "照片.PNG");
        assert_eq!(meta.content_type, "image/png");
        assert_eq!(meta.size, 3);
        assert_eq!(data, "AQID");
    }

    #[test]
    fn signatures_compare_whole() {
        assert!(subtle_eq(b"abc", b"abc"));
        assert!(!subtle_eq(b"abc", b"abd"));
        assert!(!subtle_eq(b"abc", b"ab"));
    }
}
