//! What provider channels read: an inbox by the id in its webhook URL, and where a conversation stands with the
//! provider's reply window (when the customer last wrote, and how many replies went out since).

use crate::rows::{self, INBOX_COLUMNS, MESSAGE_COLUMNS};
use crate::{Result, Store};
use kefu_core::model::{Inbox, Message};
use sqlx::{AssertSqlSafe, Row};
use uuid::Uuid;

impl Store {
    /// An inbox of any organisation: a provider's webhook names it by id alone.
    pub async fn inbox_by_id(&self, id: Uuid) -> Result<Option<Inbox>> {
        let sql = format!("SELECT {INBOX_COLUMNS} FROM inboxes WHERE id = $1");
        match sqlx::query(AssertSqlSafe(sql))
            .bind(id.to_string())
            .fetch_optional(&self.reader)
            .await?
        {
            Some(row) => Ok(Some(self.with_inbox_teams(rows::inbox(&row)?).await?)),
            None => Ok(None),
        }
    }

    /// When the customer last wrote in this conversation, and how many public replies (not failed ones) followed.
    pub async fn since_customer_wrote(&self, conversation_id: Uuid) -> Result<(Option<i64>, u32)> {
        let last = sqlx::query(
            "SELECT seq, created_at FROM messages WHERE conversation_id = $1 AND sender_kind = 'visitor' \
             ORDER BY seq DESC LIMIT 1",
        )
        .bind(conversation_id.to_string())
        .fetch_optional(&self.reader)
        .await?;
        let Some(last) = last else {
            return Ok((None, 0));
        };
        let seq: i64 = last.try_get("seq")?;
        let replies: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM messages WHERE conversation_id = $1 AND seq > $2 AND sender_kind <> 'visitor' \
             AND private = 0 AND (delivery_status IS NULL OR delivery_status <> 'failed')",
        )
        .bind(conversation_id.to_string())
        .bind(seq)
        .fetch_one(&self.reader)
        .await?
        .try_get("n")?;
        Ok((Some(last.try_get("created_at")?), replies as u32))
    }

    /// The reply a provider accepted under this id, in one of the inbox's conversations.
    pub async fn message_by_provider_id(&self, inbox_id: Uuid, provider_id: &str) -> Result<Option<Message>> {
        let columns = MESSAGE_COLUMNS
            .split(", ")
            .map(|c| format!("m.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {columns} FROM messages m JOIN conversations c ON c.id = m.conversation_id \
             WHERE m.provider_message_id = $1 AND c.inbox_id = $2"
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(provider_id)
            .bind(inbox_id.to_string())
            .fetch_optional(&self.reader)
            .await?
            .as_ref()
            .map(rows::message)
            .transpose()
    }

    /// Where pulling this inbox's messages stopped.
    pub async fn channel_cursor(&self, inbox_id: Uuid) -> Result<Option<String>> {
        Ok(sqlx::query("SELECT cursor FROM channel_cursors WHERE inbox_id = $1")
            .bind(inbox_id.to_string())
            .fetch_optional(&self.reader)
            .await?
            .map(|r| r.try_get("cursor"))
            .transpose()?)
    }
}

impl crate::Tx {
    pub async fn set_channel_cursor(&mut self, inbox_id: Uuid, cursor: &str, now: i64) -> Result<()> {
        let done = sqlx::query("UPDATE channel_cursors SET cursor = $2, updated_at = $3 WHERE inbox_id = $1")
            .bind(inbox_id.to_string())
            .bind(cursor)
            .bind(now)
            .execute(self.tx.conn().await?)
            .await?;
        if done.rows_affected() == 0 {
            sqlx::query("INSERT INTO channel_cursors (inbox_id, cursor, updated_at) VALUES ($1, $2, $3)")
                .bind(inbox_id.to_string())
                .bind(cursor)
                .bind(now)
                .execute(self.tx.conn().await?)
                .await?;
        }
        Ok(())
    }
}
