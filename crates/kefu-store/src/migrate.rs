//! Schema migrations, embedded in the binary and applied in order, each in its own transaction.
//! An applied migration is never edited: changes come as new files.

use crate::{Backend, Result, Store, StoreError, now_ms};
use sqlx::Row;

const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("../migrations/0001_init.sql")),
    (2, "ratings", include_str!("../migrations/0002_ratings.sql")),
    (
        3,
        "read_positions",
        include_str!("../migrations/0003_read_positions.sql"),
    ),
    (
        4,
        "canned_replies",
        include_str!("../migrations/0004_canned_replies.sql"),
    ),
    (5, "workspace", include_str!("../migrations/0005_workspace.sql")),
    (6, "tickets", include_str!("../migrations/0006_tickets.sql")),
    (7, "email", include_str!("../migrations/0007_email.sql")),
    (8, "outbox", include_str!("../migrations/0008_outbox.sql")),
    (9, "attachments", include_str!("../migrations/0009_attachments.sql")),
    (
        10,
        "email_display",
        include_str!("../migrations/0010_email_display.sql"),
    ),
    (11, "provider_ids", include_str!("../migrations/0011_provider_ids.sql")),
    (12, "webhooks", include_str!("../migrations/0012_webhooks.sql")),
    (13, "people", include_str!("../migrations/0013_people.sql")),
    (
        14,
        "channel_cursors",
        include_str!("../migrations/0014_channel_cursors.sql"),
    ),
    (15, "cluster", include_str!("../migrations/0015_cluster.sql")),
    (
        16,
        "channel_tokens",
        include_str!("../migrations/0016_channel_tokens.sql"),
    ),
    (
        17,
        "provider_id_index",
        include_str!("../migrations/0017_provider_id_index.sql"),
    ),
];

impl Store {
    /// Applies the migrations this database lacks; returns how many ran.
    pub async fn migrate(&self) -> Result<usize> {
        let mut tx = self.begin().await?;
        if self.backend == Backend::Postgres {
            // Nodes starting at once: CREATE TABLE IF NOT EXISTS is not safe against itself on PostgreSQL.
            sqlx::query("SELECT pg_advisory_xact_lock(7270)")
                .execute(tx.tx.conn().await?)
                .await?;
        }
        sqlx::raw_sql(
            "CREATE TABLE IF NOT EXISTS kefu_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, \
             applied_at BIGINT NOT NULL)",
        )
        .execute(tx.tx.conn().await?)
        .await?;
        tx.commit().await?;
        let mut applied = 0;
        for (version, name, sql) in MIGRATIONS {
            let mut tx = self.begin().await?;
            if self.backend == Backend::Postgres {
                // Several nodes may start at once: one migrates, the others wait here and then find it done.
                sqlx::query("SELECT pg_advisory_xact_lock(7270)")
                    .execute(tx.tx.conn().await?)
                    .await?;
            }
            let done = sqlx::query("SELECT COUNT(*) FROM kefu_migrations WHERE version = $1")
                .bind(*version)
                .fetch_one(tx.tx.conn().await?)
                .await?
                .try_get::<i64, _>(0)?;
            if done > 0 {
                continue;
            }
            sqlx::raw_sql(*sql).execute(tx.tx.conn().await?).await?;
            sqlx::query("INSERT INTO kefu_migrations (version, name, applied_at) VALUES ($1, $2, $3)")
                .bind(*version)
                .bind(*name)
                .bind(now_ms())
                .execute(tx.tx.conn().await?)
                .await?;
            tx.commit().await?;
            applied += 1;
        }
        let latest: i64 = sqlx::query("SELECT COALESCE(MAX(version), 0) FROM kefu_migrations")
            .fetch_one(&self.reader)
            .await?
            .try_get(0)?;
        let known = MIGRATIONS.last().map_or(0, |m| m.0);
        if latest > known {
            return Err(StoreError::Corrupt(format!(
                "the database is at schema version {latest}, newer than this Kefu knows ({known}): upgrade Kefu"
            )));
        }
        Ok(applied)
    }
}
