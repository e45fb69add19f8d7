//! The outbox in the database: a delivery is written with its message, claimed by a worker with a lease (so a
//! worker that dies mid-send is replaced when the lease runs out), and settled as sent, failed, or retried later.

use crate::rows::{self, MESSAGE_COLUMNS, uuid};
use crate::{Result, Store, Tx};
use kefu_core::model::{DeliveryStatus, Message};
use sqlx::{AssertSqlSafe, Row};
use uuid::Uuid;

/// One delivery to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxItem {
    pub id: Uuid,
    pub org_id: Uuid,
    pub inbox_id: Uuid,
    pub conversation_id: Uuid,
    pub message_id: Uuid,
    pub attempts: i64,
    /// Until when this claim holds: it fences the settle, so a worker that outlived its lease (a stalled node)
    /// cannot overwrite what the worker that took over recorded.
    pub lease_until: i64,
}

/// What an email conversation's thread looks like to a reply: its subject and the Message-IDs in it, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EmailThread {
    pub subject: String,
    pub message_ids: Vec<String>,
}

impl Store {
    pub async fn message(&self, id: Uuid) -> Result<Option<Message>> {
        let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = $1");
        sqlx::query(AssertSqlSafe(sql))
            .bind(id.to_string())
            .fetch_optional(&self.reader)
            .await?
            .as_ref()
            .map(rows::message)
            .transpose()
    }

    pub async fn email_thread_of(&self, conversation_id: Uuid) -> Result<EmailThread> {
        let rows = sqlx::query(
            "SELECT message_id, subject FROM email_messages WHERE conversation_id = $1 ORDER BY created_at, message_id",
        )
        .bind(conversation_id.to_string())
        .fetch_all(&self.reader)
        .await?;
        let mut thread = EmailThread::default();
        for r in rows {
            let subject: String = r.try_get("subject")?;
            if thread.subject.is_empty() {
                thread.subject = subject;
            }
            thread.message_ids.push(r.try_get("message_id")?);
        }
        Ok(thread)
    }

    /// Claims up to `limit` deliveries due at `now` until `lease_until`; another worker skips them meanwhile.
    pub async fn claim_deliveries(&self, now: i64, lease_until: i64, limit: i64) -> Result<Vec<OutboxItem>> {
        let rows = sqlx::query(
            "SELECT id, org_id, inbox_id, conversation_id, message_id, attempts FROM outbox \
             WHERE status = 'pending' AND next_attempt_at <= $1 ORDER BY next_attempt_at LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&self.reader)
        .await?;
        let mut claimed = Vec::new();
        for r in rows {
            let item = OutboxItem {
                id: uuid(&r, "id")?,
                org_id: uuid(&r, "org_id")?,
                inbox_id: uuid(&r, "inbox_id")?,
                conversation_id: uuid(&r, "conversation_id")?,
                message_id: uuid(&r, "message_id")?,
                attempts: r.try_get("attempts")?,
                lease_until,
            };
            let mut tx = self.begin().await?;
            let done = sqlx::query(
                "UPDATE outbox SET next_attempt_at = $2 WHERE id = $1 AND status = 'pending' AND next_attempt_at <= $3",
            )
            .bind(item.id.to_string())
            .bind(lease_until)
            .bind(now)
            .execute(tx.tx.conn().await?)
            .await?;
            tx.commit().await?;
            if done.rows_affected() == 1 {
                claimed.push(item);
            }
        }
        Ok(claimed)
    }
}

impl Tx {
    /// A reply to deliver: written with the message, so it is delivered exactly when the message exists.
    pub async fn enqueue_delivery(
        &mut self,
        id: Uuid,
        org_id: Uuid,
        inbox_id: Uuid,
        conversation_id: Uuid,
        message_id: Uuid,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO outbox (id, org_id, inbox_id, conversation_id, message_id, status, next_attempt_at, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'pending', $6, $6, $6)",
        )
        .bind(id.to_string())
        .bind(org_id.to_string())
        .bind(inbox_id.to_string())
        .bind(conversation_id.to_string())
        .bind(message_id.to_string())
        .bind(now)
        .execute(self.tx.conn().await?)
        .await?;
        sqlx::query("UPDATE messages SET delivery_status = 'pending' WHERE id = $1")
            .bind(message_id.to_string())
            .execute(self.tx.conn().await?)
            .await?;
        Ok(())
    }

    /// Settles a delivery: sent, failed for good, or (pending) tried again at `next_attempt_at`. False, and
    /// nothing written, when the claim's lease ran out and another worker claimed it since.
    pub async fn settle_delivery(
        &mut self,
        item: &OutboxItem,
        status: DeliveryStatus,
        error: Option<&str>,
        next_attempt_at: i64,
        now: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE outbox SET status = $2, attempts = attempts + 1, last_error = $3, next_attempt_at = $4, \
             updated_at = $5 WHERE id = $1 AND status = 'pending' AND next_attempt_at = $6",
        )
        .bind(item.id.to_string())
        .bind(status.as_str())
        .bind(error)
        .bind(next_attempt_at)
        .bind(now)
        .bind(item.lease_until)
        .execute(self.tx.conn().await?)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        self.set_delivery(item.message_id, status, error).await?;
        Ok(true)
    }

    pub async fn set_delivery(&mut self, message_id: Uuid, status: DeliveryStatus, error: Option<&str>) -> Result<()> {
        sqlx::query("UPDATE messages SET delivery_status = $2, delivery_error = $3 WHERE id = $1")
            .bind(message_id.to_string())
            .bind(status.as_str())
            .bind(error)
            .execute(self.tx.conn().await?)
            .await?;
        Ok(())
    }

    /// Keeps the id the provider gave an accepted reply; returns the report that came before it, if one did
    /// (status, error), and forgets it.
    pub async fn set_provider_message_id(
        &mut self,
        inbox_id: Uuid,
        message_id: Uuid,
        provider_id: &str,
    ) -> Result<Option<(DeliveryStatus, Option<String>)>> {
        sqlx::query("UPDATE messages SET provider_message_id = $2 WHERE id = $1")
            .bind(message_id.to_string())
            .bind(provider_id)
            .execute(self.tx.conn().await?)
            .await?;
        let early = sqlx::query(
            "DELETE FROM early_delivery_reports WHERE inbox_id = $1 AND provider_message_id = $2 \
             RETURNING status, error",
        )
        .bind(inbox_id.to_string())
        .bind(provider_id)
        .fetch_optional(self.tx.conn().await?)
        .await?;
        match early {
            Some(row) => {
                let status: String = row.try_get("status")?;
                let status = status
                    .parse()
                    .map_err(|_| crate::StoreError::Corrupt(format!("early report status: {status:?}")))?;
                Ok(Some((status, row.try_get("error")?)))
            }
            None => Ok(None),
        }
    }

    /// Whether a reply with this provider id is recorded in one of the inbox's conversations (read in the
    /// transaction, after `lock_inbox`, so a send being recorded at the same moment is seen or waits).
    pub async fn provider_message_recorded(&mut self, inbox_id: Uuid, provider_id: &str) -> Result<bool> {
        Ok(sqlx::query(
            "SELECT m.id FROM messages m JOIN conversations c ON c.id = m.conversation_id \
             WHERE m.provider_message_id = $1 AND c.inbox_id = $2",
        )
        .bind(provider_id)
        .bind(inbox_id.to_string())
        .fetch_optional(self.tx.conn().await?)
        .await?
        .is_some())
    }

    pub async fn has_early_report(&mut self, inbox_id: Uuid, provider_id: &str) -> Result<bool> {
        Ok(
            sqlx::query("SELECT 1 FROM early_delivery_reports WHERE inbox_id = $1 AND provider_message_id = $2")
                .bind(inbox_id.to_string())
                .bind(provider_id)
                .fetch_optional(self.tx.conn().await?)
                .await?
                .is_some(),
        )
    }

    /// Keeps a report on a reply whose provider id is not recorded yet; a later report replaces an earlier one.
    pub async fn keep_early_report(
        &mut self,
        inbox_id: Uuid,
        provider_id: &str,
        status: DeliveryStatus,
        error: Option<&str>,
        now: i64,
    ) -> Result<()> {
        sqlx::query("DELETE FROM early_delivery_reports WHERE inbox_id = $1 AND provider_message_id = $2")
            .bind(inbox_id.to_string())
            .bind(provider_id)
            .execute(self.tx.conn().await?)
            .await?;
        sqlx::query(
            "INSERT INTO early_delivery_reports (inbox_id, provider_message_id, status, error, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(inbox_id.to_string())
        .bind(provider_id)
        .bind(status.as_str())
        .bind(error)
        .bind(now)
        .execute(self.tx.conn().await?)
        .await?;
        Ok(())
    }
}

/// A stored file and the conversation it belongs to.
#[derive(Debug, Clone)]
pub struct StoredAttachment {
    pub meta: kefu_core::model::Attachment,
    pub org_id: Uuid,
    pub conversation_id: Uuid,
    pub data_base64: String,
}

impl Store {
    pub async fn attachment(&self, id: Uuid) -> Result<Option<StoredAttachment>> {
        sqlx::query(
            "SELECT id, org_id, conversation_id, filename, content_type, size, data FROM attachments WHERE id = $1",
        )
        .bind(id.to_string())
        .fetch_optional(&self.reader)
        .await?
        .map(|r| {
            Ok(StoredAttachment {
                meta: kefu_core::model::Attachment {
                    id: uuid(&r, "id")?,
                    filename: r.try_get("filename")?,
                    content_type: r.try_get("content_type")?,
                    size: r.try_get::<i64, _>("size")? as u64,
                },
                org_id: uuid(&r, "org_id")?,
                conversation_id: uuid(&r, "conversation_id")?,
                data_base64: r.try_get("data")?,
            })
        })
        .transpose()
    }
}

impl Tx {
    /// Keeps files with a message and lists them on it; `false` (and nothing kept) when it has files already.
    pub async fn attach(
        &mut self,
        org_id: Uuid,
        message: &Message,
        files: &[(kefu_core::model::Attachment, String)],
        now: i64,
    ) -> Result<bool> {
        let list: Vec<&kefu_core::model::Attachment> = files.iter().map(|(m, _)| m).collect();
        let listed = sqlx::query("UPDATE messages SET attachments = $2 WHERE id = $1 AND attachments IS NULL")
            .bind(message.id.to_string())
            .bind(serde_json::to_string(&list).expect("attachments serialize"))
            .execute(self.tx.conn().await?)
            .await?;
        if listed.rows_affected() == 0 {
            return Ok(false);
        }
        for (meta, data) in files {
            sqlx::query(
                "INSERT INTO attachments (id, org_id, conversation_id, message_id, filename, content_type, size, data, \
                 created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(meta.id.to_string())
            .bind(org_id.to_string())
            .bind(message.conversation_id.to_string())
            .bind(message.id.to_string())
            .bind(&meta.filename)
            .bind(&meta.content_type)
            .bind(meta.size as i64)
            .bind(data)
            .bind(now)
            .execute(self.tx.conn().await?)
            .await?;
        }
        Ok(true)
    }

    /// Rewrites what a message says (a note that its file could not be fetched).
    pub async fn set_message_content(&mut self, id: Uuid, content: &str) -> Result<()> {
        sqlx::query("UPDATE messages SET content = $2 WHERE id = $1")
            .bind(id.to_string())
            .bind(content)
            .execute(self.tx.conn().await?)
            .await?;
        Ok(())
    }
}
