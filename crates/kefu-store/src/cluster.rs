//! What nodes sharing one database agree through it: which nodes are alive (heartbeats), how many sockets each
//! agent has open on each node (presence that spans nodes), leases on work one node at a time does, locks on a
//! channel's calls, and providers' tokens they share.
//!
//! On SQLite there is only ever one node; the same tables serve it, so one code path is tested everywhere.

use crate::writer::Writer;
use crate::{Backend, Result, Store, Tx, rows};
use sqlx::{Any, Row, Transaction};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use uuid::Uuid;

/// Held while one node (one task) does something to a channel no other may do at the same time, such as pulling
/// from a cursor. Released when dropped.
pub struct ChannelLock {
    _held: Held,
}

enum Held {
    /// SQLite serves one process: a lock in memory.
    Process(#[allow(dead_code)] tokio::sync::OwnedMutexGuard<()>),
    /// PostgreSQL: a transaction-scoped advisory lock, released by the rollback when dropped, or by the server
    /// when a dead node's connection goes.
    Database(#[allow(dead_code)] Transaction<'static, Any>),
}

/// The row that keeps present agents' grace when the whole cluster starts: no node holds their sockets yet.
const RESTART: &str = "-";

impl Store {
    /// Records a starting node. When no other node is alive (always on SQLite, where one node serves), the
    /// cluster is starting: sockets counted by earlier nodes no longer exist, and every present agent gets the
    /// grace to reconnect from now. Returns whether another node was alive.
    pub async fn register_node(&self, node: Uuid, now: i64, alive_since: i64) -> Result<bool> {
        let mut tx = self.begin().await?;
        // Two nodes starting at once must not both decide they are the first.
        tx.lock_setup().await?;
        let others: i64 = if self.backend == Backend::Postgres {
            sqlx::query("SELECT COUNT(*) AS n FROM nodes WHERE id <> $1 AND seen_at >= $2")
                .bind(node.to_string())
                .bind(alive_since)
                .fetch_one(tx.tx.conn().await?)
                .await?
                .try_get("n")?
        } else {
            0
        };
        if others == 0 {
            sqlx::query("UPDATE agent_sockets SET sockets = 0, changed_at = $1 WHERE sockets > 0")
                .bind(now)
                .execute(tx.tx.conn().await?)
                .await?;
            sqlx::query("DELETE FROM nodes").execute(tx.tx.conn().await?).await?;
            sqlx::query(
                "INSERT INTO agent_sockets (node_id, user_id, sockets, changed_at) \
                 SELECT $1, id, 0, $2 FROM users WHERE presence <> 'offline' \
                 ON CONFLICT (node_id, user_id) DO UPDATE SET changed_at = excluded.changed_at",
            )
            .bind(RESTART)
            .bind(now)
            .execute(tx.tx.conn().await?)
            .await?;
        }
        sqlx::query("INSERT INTO nodes (id, started_at, seen_at) VALUES ($1, $2, $2)")
            .bind(node.to_string())
            .bind(now)
            .execute(tx.tx.conn().await?)
            .await?;
        tx.commit().await?;
        Ok(others > 0)
    }

    /// A node's heartbeat. False when its row is gone: other nodes took it for dead (it stalled past the TTL)
    /// and zeroed its sockets, which `rejoin_node` puts back.
    pub async fn beat(&self, node: Uuid, now: i64) -> Result<bool> {
        let done = self
            .writer
            .execute(
                sqlx::query("UPDATE nodes SET seen_at = $1 WHERE id = $2")
                    .bind(now)
                    .bind(node.to_string()),
            )
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Brings back a node that was taken for dead, with the sockets it still holds per agent.
    pub async fn rejoin_node(&self, node: Uuid, now: i64, sockets: &[(Uuid, u64)]) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO nodes (id, started_at, seen_at) VALUES ($1, $2, $2) \
             ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at",
        )
        .bind(node.to_string())
        .bind(now)
        .execute(tx.tx.conn().await?)
        .await?;
        for (user, count) in sockets {
            sqlx::query(
                "INSERT INTO agent_sockets (node_id, user_id, sockets, changed_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (node_id, user_id) DO UPDATE SET sockets = excluded.sockets, \
                 changed_at = excluded.changed_at",
            )
            .bind(node.to_string())
            .bind(user.to_string())
            .bind(*count as i64)
            .bind(now)
            .execute(tx.tx.conn().await?)
            .await?;
        }
        tx.commit().await
    }

    /// A node stopping on purpose: its sockets are closed, its leases free at once.
    pub async fn forget_node(&self, node: Uuid, now: i64) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE agent_sockets SET sockets = 0, changed_at = $1 WHERE node_id = $2 AND sockets > 0")
            .bind(now)
            .bind(node.to_string())
            .execute(tx.tx.conn().await?)
            .await?;
        sqlx::query("DELETE FROM nodes WHERE id = $1")
            .bind(node.to_string())
            .execute(tx.tx.conn().await?)
            .await?;
        sqlx::query("DELETE FROM leases WHERE holder = $1")
            .bind(node.to_string())
            .execute(tx.tx.conn().await?)
            .await?;
        tx.commit().await
    }

    /// Nodes not seen since `alive_since` are dead: their sockets stop counting as of now (their agents' grace
    /// starts), and their rows go. Returns how many sockets stopped counting.
    pub async fn reap_dead_nodes(&self, alive_since: i64, now: i64) -> Result<u64> {
        let mut tx = self.begin().await?;
        let zeroed = sqlx::query(
            "UPDATE agent_sockets SET sockets = 0, changed_at = $1 WHERE sockets > 0 \
             AND node_id NOT IN (SELECT id FROM nodes WHERE seen_at >= $2)",
        )
        .bind(now)
        .bind(alive_since)
        .execute(tx.tx.conn().await?)
        .await?
        .rows_affected();
        sqlx::query("DELETE FROM nodes WHERE seen_at < $1")
            .bind(alive_since)
            .execute(tx.tx.conn().await?)
            .await?;
        tx.commit().await?;
        Ok(zeroed)
    }

    /// An agent's socket opened on this node.
    pub async fn agent_socket_opened(&self, node: Uuid, user: Uuid, now: i64) -> Result<()> {
        self.writer
            .execute(
                sqlx::query(
                    "INSERT INTO agent_sockets (node_id, user_id, sockets, changed_at) VALUES ($1, $2, 1, $3) \
             ON CONFLICT (node_id, user_id) DO UPDATE SET sockets = agent_sockets.sockets + 1, \
             changed_at = excluded.changed_at",
                )
                .bind(node.to_string())
                .bind(user.to_string())
                .bind(now),
            )
            .await?;
        Ok(())
    }

    /// An agent's socket closed on this node.
    pub async fn agent_socket_closed(&self, node: Uuid, user: Uuid, now: i64) -> Result<()> {
        self.writer
            .execute(
                sqlx::query(
                    "UPDATE agent_sockets SET sockets = CASE WHEN sockets > 0 THEN sockets - 1 ELSE 0 END, \
             changed_at = $1 WHERE node_id = $2 AND user_id = $3",
                )
                .bind(now)
                .bind(node.to_string())
                .bind(user.to_string()),
            )
            .await?;
        Ok(())
    }

    /// Present agents (online or away) with no socket on any node since before `gone_before`, as
    /// (agent, organisation). Agents no node ever counted are not among them.
    pub async fn agents_gone(&self, gone_before: i64) -> Result<Vec<(Uuid, Uuid)>> {
        sqlx::query(
            "SELECT u.id, u.org_id FROM users u WHERE u.presence <> 'offline' \
             AND EXISTS (SELECT 1 FROM agent_sockets s WHERE s.user_id = u.id) \
             AND NOT EXISTS (SELECT 1 FROM agent_sockets s WHERE s.user_id = u.id \
                 AND (s.sockets > 0 OR s.changed_at >= $1))",
        )
        .bind(gone_before)
        .fetch_all(&self.reader)
        .await?
        .iter()
        .map(|r| Ok((rows::uuid(r, "id")?, rows::uuid(r, "org_id")?)))
        .collect()
    }

    /// Forgets closed sockets of agents who are offline: nothing waits on them any more.
    pub async fn prune_agent_sockets(&self) -> Result<u64> {
        Ok(self
            .writer
            .execute(sqlx::query(
                "DELETE FROM agent_sockets WHERE sockets = 0 \
             AND user_id IN (SELECT id FROM users WHERE presence = 'offline')",
            ))
            .await?
            .rows_affected())
    }

    /// Takes or renews a lease: true while `holder` has it, until `now + ttl_ms` unless renewed. A lease whose
    /// holder let it expire goes to the next node that asks.
    pub async fn acquire_lease(&self, name: &str, holder: Uuid, now: i64, ttl_ms: i64) -> Result<bool> {
        let done = self
            .writer
            .execute(
                sqlx::query(
                    "INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
             WHERE leases.holder = excluded.holder OR leases.expires_at < $4",
                )
                .bind(name)
                .bind(holder.to_string())
                .bind(now + ttl_ms)
                .bind(now),
            )
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Gives a lease up before it expires (a stopping fetcher), so another node takes it at once.
    pub async fn release_lease(&self, name: &str, holder: Uuid) -> Result<()> {
        self.writer
            .execute(
                sqlx::query("DELETE FROM leases WHERE name = $1 AND holder = $2")
                    .bind(name)
                    .bind(holder.to_string()),
            )
            .await?;
        Ok(())
    }
}

impl Store {
    /// Waits for, then holds, the lock named `key` across every node.
    pub async fn channel_lock(&self, key: &str) -> Result<ChannelLock> {
        if let Writer::Pooled(pool) = &self.writer {
            // Not `begin`: shutdown waits for writes, and a lock held while calling a provider is not one.
            let mut tx = pool.begin().await?;
            sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                .bind(key)
                .execute(&mut *tx)
                .await?;
            return Ok(ChannelLock {
                _held: Held::Database(tx),
            });
        }
        static LOCKS: OnceLock<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>> = OnceLock::new();
        let lock = LOCKS
            .get_or_init(Mutex::default)
            .lock()
            .expect("channel locks")
            .entry(key.to_string())
            .or_default()
            .clone();
        Ok(ChannelLock {
            _held: Held::Process(lock.lock_owned().await),
        })
    }

    /// The provider token the nodes share for an inbox: (credentials hash, sealed token, fresh until).
    pub async fn channel_token(&self, inbox_id: Uuid) -> Result<Option<(String, String, i64)>> {
        sqlx::query("SELECT key_hash, token, fresh_until FROM channel_tokens WHERE inbox_id = $1")
            .bind(inbox_id.to_string())
            .fetch_optional(&self.reader)
            .await?
            .map(|r| Ok((r.try_get("key_hash")?, r.try_get("token")?, r.try_get("fresh_until")?)))
            .transpose()
    }

    pub async fn save_channel_token(
        &self,
        inbox_id: Uuid,
        key_hash: &str,
        sealed: &str,
        fresh_until: i64,
        now: i64,
    ) -> Result<()> {
        self.writer
            .execute(
                sqlx::query(
                    "INSERT INTO channel_tokens (inbox_id, key_hash, token, fresh_until, updated_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (inbox_id) DO UPDATE SET key_hash = excluded.key_hash, \
             token = excluded.token, fresh_until = excluded.fresh_until, updated_at = excluded.updated_at",
                )
                .bind(inbox_id.to_string())
                .bind(key_hash)
                .bind(sealed)
                .bind(fresh_until)
                .bind(now),
            )
            .await?;
        Ok(())
    }
}

impl Tx {
    /// Whether the agent is still present with no socket on any node since before `gone_before`: checked again
    /// inside the transaction that takes them offline, under their row lock.
    pub async fn agent_gone(&mut self, user: Uuid, gone_before: i64) -> Result<bool> {
        let lock = if self.backend == Backend::Postgres {
            " FOR UPDATE"
        } else {
            ""
        };
        let presence: Option<String> = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT presence FROM users WHERE id = $1{lock}"
        )))
        .bind(user.to_string())
        .fetch_optional(self.tx.conn().await?)
        .await?
        .map(|r| r.try_get("presence"))
        .transpose()?;
        if presence.is_none_or(|p| p == "offline") {
            return Ok(false);
        }
        let live: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM agent_sockets WHERE user_id = $1 AND (sockets > 0 OR changed_at >= $2)",
        )
        .bind(user.to_string())
        .bind(gone_before)
        .fetch_one(self.tx.conn().await?)
        .await?
        .try_get("n")?;
        Ok(live == 0)
    }

    /// Whether any organisation exists (seen inside the setup lock).
    pub async fn has_organisation(&mut self) -> Result<bool> {
        let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM organisations")
            .fetch_one(self.tx.conn().await?)
            .await?
            .try_get("n")?;
        Ok(n > 0)
    }

    /// Serialises what nodes do once when they start on a database (the first organisation, the first admin,
    /// deciding the cluster is starting). PostgreSQL: a transaction-scoped advisory lock; SQLite has one writer.
    pub async fn lock_setup(&mut self) -> Result<()> {
        if self.backend == Backend::Postgres {
            // 7270 is the migrations' lock.
            sqlx::query("SELECT pg_advisory_xact_lock(7271)")
                .execute(self.tx.conn().await?)
                .await?;
        }
        Ok(())
    }
}
