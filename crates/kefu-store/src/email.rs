//! Email inboxes in the database: their sealed credentials and connection state, the IMAP cursor, and the
//! Message-ID of every mail with the conversation it threads into.

use crate::rows::{opt_uuid, uuid};
use crate::{Result, Store, Tx};
use sqlx::Row;
use uuid::Uuid;

/// A mail Kefu has taken in or sent, by Message-ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailRecord {
    pub message_id: String,
    pub conversation_id: Option<Uuid>,
    pub subject: String,
    pub direction: String,
}

/// A mail to record: taken in (`direction` "in", with the original) or sent ("out").
#[derive(Debug, Clone, Copy)]
pub struct NewEmailRecord<'a> {
    pub inbox_id: Uuid,
    pub message_id: &'a str,
    pub conversation_id: Option<Uuid>,
    pub kefu_message_id: Option<Uuid>,
    pub direction: &'a str,
    pub subject: &'a str,
    /// The original mail, base64.
    pub raw: Option<&'a str>,
    /// Its HTML part, sanitised.
    pub html: Option<&'a str>,
    pub now: i64,
}

/// The mail a message came from, as kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailOriginal {
    pub subject: String,
    /// The original mail, base64.
    pub raw: Option<String>,
    pub html: Option<String>,
}

impl Store {
    /// The mail a message was made from (the first, if it was fetched into more than one inbox).
    pub async fn mail_original(&self, message_id: Uuid) -> Result<Option<MailOriginal>> {
        sqlx::query(
            "SELECT subject, raw, html FROM email_messages WHERE kefu_message_id = $1 AND direction = 'in' \
             ORDER BY created_at LIMIT 1",
        )
        .bind(message_id.to_string())
        .fetch_optional(&self.reader)
        .await?
        .map(|r| {
            Ok(MailOriginal {
                subject: r.try_get("subject")?,
                raw: r.try_get("raw")?,
                html: r.try_get("html")?,
            })
        })
        .transpose()
    }

    pub async fn inbox_secrets(&self, inbox_id: Uuid) -> Result<Option<String>> {
        Ok(sqlx::query("SELECT secrets FROM inboxes WHERE id = $1")
            .bind(inbox_id.to_string())
            .fetch_optional(&self.reader)
            .await?
            .map(|r| r.try_get::<Option<String>, _>("secrets"))
            .transpose()?
            .flatten())
    }

    /// (uid_validity, last_uid) where fetching stopped.
    pub async fn email_cursor(&self, inbox_id: Uuid) -> Result<Option<(i64, i64)>> {
        sqlx::query("SELECT uid_validity, last_uid FROM email_cursors WHERE inbox_id = $1")
            .bind(inbox_id.to_string())
            .fetch_optional(&self.reader)
            .await?
            .map(|r| Ok((r.try_get("uid_validity")?, r.try_get("last_uid")?)))
            .transpose()
    }

    pub async fn email_record(&self, inbox_id: Uuid, message_id: &str) -> Result<Option<EmailRecord>> {
        sqlx::query(
            "SELECT message_id, conversation_id, subject, direction FROM email_messages \
             WHERE inbox_id = $1 AND message_id = $2",
        )
        .bind(inbox_id.to_string())
        .bind(message_id)
        .fetch_optional(&self.reader)
        .await?
        .map(|r| {
            Ok(EmailRecord {
                message_id: r.try_get("message_id")?,
                conversation_id: opt_uuid(&r, "conversation_id")?,
                subject: r.try_get("subject")?,
                direction: r.try_get("direction")?,
            })
        })
        .transpose()
    }

    /// The conversation of the first of `message_ids` Kefu knows in this inbox.
    pub async fn email_thread(&self, inbox_id: Uuid, message_ids: &[String]) -> Result<Option<Uuid>> {
        for id in message_ids {
            if let Some(EmailRecord {
                conversation_id: Some(c),
                ..
            }) = self.email_record(inbox_id, id).await?
            {
                return Ok(Some(c));
            }
        }
        Ok(None)
    }

    /// The contact of this inbox with this (lower-case) email, oldest first.
    pub async fn inbox_contact_by_email(&self, inbox_id: Uuid, email: &str) -> Result<Option<Uuid>> {
        sqlx::query("SELECT id FROM contacts WHERE inbox_id = $1 AND email = $2 ORDER BY id LIMIT 1")
            .bind(inbox_id.to_string())
            .bind(email)
            .fetch_optional(&self.reader)
            .await?
            .map(|r| uuid(&r, "id"))
            .transpose()
    }
}

impl Tx {
    pub async fn set_inbox_secrets(&mut self, inbox_id: Uuid, sealed: &str) -> Result<()> {
        sqlx::query("UPDATE inboxes SET secrets = $2 WHERE id = $1")
            .bind(inbox_id.to_string())
            .bind(sealed)
            .execute(self.tx.conn().await?)
            .await?;
        Ok(())
    }

    pub async fn set_channel_state(&mut self, inbox_id: Uuid, state: &serde_json::Value) -> Result<()> {
        sqlx::query("UPDATE inboxes SET channel_state = $2 WHERE id = $1")
            .bind(inbox_id.to_string())
            .bind(state.to_string())
            .execute(self.tx.conn().await?)
            .await?;
        Ok(())
    }

    pub async fn set_email_cursor(&mut self, inbox_id: Uuid, uid_validity: i64, last_uid: i64) -> Result<()> {
        let done = sqlx::query("UPDATE email_cursors SET uid_validity = $2, last_uid = $3 WHERE inbox_id = $1")
            .bind(inbox_id.to_string())
            .bind(uid_validity)
            .bind(last_uid)
            .execute(self.tx.conn().await?)
            .await?;
        if done.rows_affected() == 0 {
            sqlx::query("INSERT INTO email_cursors (inbox_id, uid_validity, last_uid) VALUES ($1, $2, $3)")
                .bind(inbox_id.to_string())
                .bind(uid_validity)
                .bind(last_uid)
                .execute(self.tx.conn().await?)
                .await?;
        }
        Ok(())
    }

    pub async fn insert_email_record(&mut self, r: NewEmailRecord<'_>) -> Result<()> {
        sqlx::query(
            "INSERT INTO email_messages (inbox_id, message_id, conversation_id, kefu_message_id, direction, subject, \
             raw, html, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(r.inbox_id.to_string())
        .bind(r.message_id)
        .bind(r.conversation_id.map(|c| c.to_string()))
        .bind(r.kefu_message_id.map(|m| m.to_string()))
        .bind(r.direction)
        .bind(r.subject)
        .bind(r.raw)
        .bind(r.html)
        .bind(r.now)
        .execute(self.tx.conn().await?)
        .await?;
        Ok(())
    }

    /// Marks a message as a mail: its subject, and whether an HTML version is kept.
    pub async fn set_message_email(&mut self, message_id: Uuid, email: &kefu_core::model::EmailInfo) -> Result<()> {
        sqlx::query("UPDATE messages SET email = $2 WHERE id = $1")
            .bind(message_id.to_string())
            .bind(serde_json::to_string(email).expect("email info serializes"))
            .execute(self.tx.conn().await?)
            .await?;
        Ok(())
    }
}

impl Store {
    /// Every email inbox of every organisation: the mail fetchers run for all of them.
    pub async fn email_inboxes(&self) -> Result<Vec<kefu_core::model::Inbox>> {
        let sql = format!(
            "SELECT {} FROM inboxes WHERE kind = 'email' ORDER BY created_at, id",
            crate::rows::INBOX_COLUMNS
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.reader).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            out.push(self.with_inbox_teams(crate::rows::inbox(&row)?).await?);
        }
        Ok(out)
    }
}
