//! Outbound webhooks in the database: an organisation's subscriptions, and the delivery queue that is also the
//! log admins read. A delivery is claimed with a lease, so a worker that dies leaves it to another.

use crate::rows::{flag, opt_uuid, ts, uuid};
use crate::{Result, Store, Tx};
pub use kefu_core::webhook::{Webhook, WebhookDelivery};
use sqlx::Row;
use sqlx::any::AnyRow;
use uuid::Uuid;

const WEBHOOK_COLUMNS: &str = "id, org_id, url, events, secret, active, created_at, updated_at";
const DELIVERY_COLUMNS: &str = "id, webhook_id, event, payload, status, attempts, response_status, last_error, \
                                next_attempt_at, created_at, updated_at";

fn webhook(row: &AnyRow) -> Result<Webhook> {
    let events: String = row.try_get("events")?;
    Ok(Webhook {
        id: uuid(row, "id")?,
        org_id: uuid(row, "org_id")?,
        url: row.try_get("url")?,
        events: events.split(',').filter(|e| !e.is_empty()).map(String::from).collect(),
        secret: row.try_get("secret")?,
        active: flag(row, "active")?,
        created_at: ts(row, "created_at")?,
        updated_at: ts(row, "updated_at")?,
    })
}

fn delivery(row: &AnyRow) -> Result<WebhookDelivery> {
    Ok(WebhookDelivery {
        id: uuid(row, "id")?,
        webhook_id: uuid(row, "webhook_id")?,
        event: row.try_get("event")?,
        payload: row.try_get("payload")?,
        status: row.try_get("status")?,
        attempts: row.try_get("attempts")?,
        response_status: row.try_get("response_status")?,
        last_error: row.try_get("last_error")?,
        next_attempt_at: ts(row, "next_attempt_at")?,
        created_at: ts(row, "created_at")?,
        updated_at: ts(row, "updated_at")?,
    })
}

impl Store {
    pub async fn webhooks(&self, org_id: Uuid) -> Result<Vec<Webhook>> {
        let sql = format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE org_id = $1 ORDER BY created_at, id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org_id.to_string())
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(webhook).collect()
    }

    pub async fn webhook(&self, org_id: Uuid, id: Uuid) -> Result<Option<Webhook>> {
        let sql = format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE org_id = $1 AND id = $2");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org_id.to_string())
            .bind(id.to_string())
            .fetch_optional(&self.reader)
            .await?
            .as_ref()
            .map(webhook)
            .transpose()
    }

    /// A webhook's deliveries, newest first.
    pub async fn webhook_deliveries(&self, webhook_id: Uuid, limit: i64) -> Result<Vec<WebhookDelivery>> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE webhook_id = $1 \
             ORDER BY created_at DESC, id DESC LIMIT $2"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(webhook_id.to_string())
            .bind(limit)
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(delivery).collect()
    }

    /// Claims up to `limit` due deliveries until `lease_until`, with the webhook each goes to.
    pub async fn claim_webhook_deliveries(
        &self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> Result<Vec<(WebhookDelivery, Webhook)>> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= $1 \
             ORDER BY next_attempt_at LIMIT $2"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(now)
            .bind(limit)
            .fetch_all(&self.reader)
            .await?;
        let mut claimed = Vec::new();
        for row in rows {
            let d = delivery(&row)?;
            let org: Option<Uuid> = {
                let r = sqlx::query("SELECT org_id FROM webhooks WHERE id = $1")
                    .bind(d.webhook_id.to_string())
                    .fetch_optional(&self.reader)
                    .await?;
                r.as_ref().map(|r| opt_uuid(r, "org_id")).transpose()?.flatten()
            };
            let Some(hook) = (match org {
                Some(org) => self.webhook(org, d.webhook_id).await?,
                None => None,
            }) else {
                continue;
            };
            let mut tx = self.begin().await?;
            let done = sqlx::query(
                "UPDATE webhook_deliveries SET next_attempt_at = $2 WHERE id = $1 AND status = 'pending' \
                 AND next_attempt_at <= $3",
            )
            .bind(d.id.to_string())
            .bind(lease_until)
            .bind(now)
            .execute(tx.tx.conn().await?)
            .await?;
            tx.commit().await?;
            if done.rows_affected() == 1 {
                claimed.push((d, hook));
            }
        }
        Ok(claimed)
    }
}

impl Tx {
    pub async fn insert_webhook(&mut self, w: &Webhook) -> Result<()> {
        sqlx::query(
            "INSERT INTO webhooks (id, org_id, url, events, secret, active, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(w.id.to_string())
        .bind(w.org_id.to_string())
        .bind(&w.url)
        .bind(w.events.join(","))
        .bind(&w.secret)
        .bind(w.active as i64)
        .bind(w.created_at.0)
        .bind(w.updated_at.0)
        .execute(self.tx.conn().await?)
        .await?;
        Ok(())
    }

    pub async fn update_webhook(&mut self, w: &Webhook) -> Result<()> {
        sqlx::query(
            "UPDATE webhooks SET url = $2, events = $3, active = $4, secret = $5, updated_at = $6 WHERE id = $1",
        )
        .bind(w.id.to_string())
        .bind(&w.url)
        .bind(w.events.join(","))
        .bind(w.active as i64)
        .bind(&w.secret)
        .bind(w.updated_at.0)
        .execute(self.tx.conn().await?)
        .await?;
        Ok(())
    }

    pub async fn delete_webhook(&mut self, org_id: Uuid, id: Uuid) -> Result<bool> {
        sqlx::query("DELETE FROM webhook_deliveries WHERE webhook_id = $1")
            .bind(id.to_string())
            .execute(self.tx.conn().await?)
            .await?;
        let done = sqlx::query("DELETE FROM webhooks WHERE id = $1 AND org_id = $2")
            .bind(id.to_string())
            .bind(org_id.to_string())
            .execute(self.tx.conn().await?)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn enqueue_webhook_delivery(
        &mut self,
        id: Uuid,
        hook: &Webhook,
        event: &str,
        payload: &str,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO webhook_deliveries (id, webhook_id, org_id, event, payload, status, attempts, \
             next_attempt_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $6, $6)",
        )
        .bind(id.to_string())
        .bind(hook.id.to_string())
        .bind(hook.org_id.to_string())
        .bind(event)
        .bind(payload)
        .bind(now)
        .execute(self.tx.conn().await?)
        .await?;
        Ok(())
    }

    /// Puts a delivery back in the queue, due now; false when it is not this webhook's.
    pub async fn requeue_webhook_delivery(&mut self, webhook_id: Uuid, id: Uuid, now: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = $3, updated_at = $3 \
             WHERE id = $1 AND webhook_id = $2",
        )
        .bind(id.to_string())
        .bind(webhook_id.to_string())
        .bind(now)
        .execute(self.tx.conn().await?)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records how a try went, if the claim made until `lease_until` still holds (false: another worker took the
    /// delivery over after the lease ran out, and its result stands).
    #[allow(clippy::too_many_arguments)]
    pub async fn settle_webhook_delivery(
        &mut self,
        id: Uuid,
        status: &str,
        response_status: Option<i64>,
        error: Option<&str>,
        next_attempt_at: i64,
        lease_until: i64,
        now: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE webhook_deliveries SET status = $2, attempts = attempts + 1, response_status = $3, \
             last_error = $4, next_attempt_at = $5, updated_at = $6 \
             WHERE id = $1 AND status = 'pending' AND next_attempt_at = $7",
        )
        .bind(id.to_string())
        .bind(status)
        .bind(response_status)
        .bind(error)
        .bind(next_attempt_at)
        .bind(now)
        .bind(lease_until)
        .execute(self.tx.conn().await?)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
