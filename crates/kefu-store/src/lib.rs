//! Kefu's storage adapter: one `Store` over SQLite (default, WAL, a single writer) or PostgreSQL, chosen by URL.
//!
//! Both backends run the same SQL through sqlx's `Any` driver: `$n` placeholders, TEXT ids, BIGINT times and flags.
//! Writes go through `Tx`, whose methods the service composes into one transaction per decision; reads go through
//! the `Store` itself.

mod channels;
mod cluster;
mod email;
mod migrate;
mod outbox;
mod people;
mod read;
mod rows;
mod tickets;
mod tx;
mod webhooks;
mod writer;

pub use cluster::ChannelLock;
pub use email::{EmailRecord, MailOriginal, NewEmailRecord};
pub use outbox::{EmailThread, OutboxItem, StoredAttachment};
pub use read::{ConversationFilter, Credentials};
pub use tickets::TicketFilter;
pub use tx::{Appender, NewMessage, NewUser, Tx};
pub use webhooks::{Webhook, WebhookDelivery};

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyConnection, AnyPool, Connection, Executor};
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;
use tokio::sync::watch;
use writer::Writer;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("unsupported database URL {0:?}: use sqlite:PATH or postgres://...")]
    UnsupportedUrl(String),
    #[error("a record with this {0} already exists")]
    Conflict(&'static str),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

impl StoreError {
    /// A unique constraint refused the write: the caller decides which duplicate it was.
    pub fn is_unique_violation(&self) -> bool {
        match self {
            StoreError::Conflict(_) => true,
            StoreError::Database(sqlx::Error::Database(e)) => e.is_unique_violation(),
            _ => false,
        }
    }

    /// A lock conflict the database resolved by aborting us; the whole transaction may be retried.
    pub fn is_retryable(&self) -> bool {
        match self {
            StoreError::Database(sqlx::Error::Database(e)) => {
                matches!(e.code().as_deref(), Some("40001" | "40P01" | "5" | "6" | "517"))
            }
            StoreError::Database(sqlx::Error::PoolTimedOut) => true,
            _ => false,
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The database. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    backend: Backend,
    /// SQLite's one write connection, or (PostgreSQL) the same pool as `reader`.
    writer: Writer,
    reader: AnyPool,
    /// Write transactions begun and not yet finished, so that shutdown can let them end.
    open_writes: Arc<watch::Sender<usize>>,
}

impl Store {
    /// Connects by URL: `sqlite:path/to/file.db` (created if missing) or `postgres://...`.
    pub async fn connect(url: &str) -> Result<Self> {
        install_default_drivers();
        if url.starts_with("sqlite:") {
            let url = sqlite_url(url);
            let mut writer = AnyConnection::connect(&url).await?;
            writer
                .execute(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
                     PRAGMA busy_timeout = 10000;",
                )
                .await?;
            let writer = Writer::single(writer);
            let reader = AnyPoolOptions::new()
                // Readers run in parallel under WAL; more of them than cores only adds page caches.
                .max_connections(4)
                .test_before_acquire(false)
                .acquire_timeout(Duration::from_secs(30))
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        conn.execute(
                            "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; PRAGMA cache_size = -1024;",
                        )
                        .await?;
                        Ok(())
                    })
                })
                .connect(&url)
                .await?;
            Ok(Store {
                backend: Backend::Sqlite,
                writer,
                reader,
                open_writes: Arc::new(watch::Sender::new(0)),
            })
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = AnyPoolOptions::new()
                .max_connections(32)
                .acquire_timeout(Duration::from_secs(30))
                // A connection back from use within the last second is alive; one that sat idle longer may have
                // been dropped by a restarted server or a firewall, so only that one is pinged before use. Pinging
                // every time (sqlx's default) costs a network round trip per transaction under load.
                .test_before_acquire(false)
                .before_acquire(|conn, meta| {
                    Box::pin(async move {
                        if meta.idle_for >= Duration::from_secs(1) {
                            conn.ping().await?;
                        }
                        Ok(true)
                    })
                })
                .connect(url)
                .await?;
            Ok(Store {
                backend: Backend::Postgres,
                writer: Writer::Pooled(pool.clone()),
                reader: pool,
                open_writes: Arc::new(watch::Sender::new(0)),
            })
        } else {
            Err(StoreError::UnsupportedUrl(url.to_string()))
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.reader).await?;
        Ok(())
    }

    pub async fn begin(&self) -> Result<Tx> {
        let guard = WriteGuard::new(&self.open_writes);
        Ok(Tx::new(self.writer.begin().await?, self.backend, guard))
    }

    /// Waits (at most `limit`) until no write transaction is open: on shutdown, work that has started writing
    /// finishes, and is acked, before the pools close.
    pub async fn wait_for_writes(&self, limit: Duration) -> bool {
        let mut open = self.open_writes.subscribe();
        matches!(tokio::time::timeout(limit, open.wait_for(|n| *n == 0)).await, Ok(Ok(_)))
    }

    pub async fn close(&self) {
        self.writer.close().await;
        self.reader.close().await;
    }
}

/// Counts a write transaction from `begin` until it is committed or dropped.
pub(crate) struct WriteGuard(Arc<watch::Sender<usize>>);

impl WriteGuard {
    fn new(counter: &Arc<watch::Sender<usize>>) -> Self {
        counter.send_modify(|n| *n += 1);
        WriteGuard(counter.clone())
    }
}

impl Drop for WriteGuard {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n -= 1);
    }
}

/// `sqlite:path` with the file created when missing.
fn sqlite_url(url: &str) -> String {
    if url.contains("mode=") || url.contains(":memory:") {
        url.to_string()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}

/// Milliseconds since the epoch, the unit of every stored time.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_create_the_file_unless_told_otherwise() {
        assert_eq!(sqlite_url("sqlite:data/kefu.db"), "sqlite:data/kefu.db?mode=rwc");
        assert_eq!(
            sqlite_url("sqlite:kefu.db?cache=shared"),
            "sqlite:kefu.db?cache=shared&mode=rwc"
        );
        assert_eq!(sqlite_url("sqlite:kefu.db?mode=ro"), "sqlite:kefu.db?mode=ro");
        assert_eq!(sqlite_url("sqlite::memory:"), "sqlite::memory:");
    }

    #[test]
    fn shutdown_waits_for_open_writes_and_no_longer() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let store = Store::connect("sqlite::memory:").await.unwrap();
            let tx = store.begin().await.unwrap();
            assert!(
                !store.wait_for_writes(Duration::from_millis(50)).await,
                "a write is still open"
            );
            let waiting = tokio::spawn({
                let store = store.clone();
                async move { store.wait_for_writes(Duration::from_secs(10)).await }
            });
            tx.commit().await.unwrap();
            assert!(waiting.await.unwrap(), "the wait ends when the last write does");
        });
    }

    #[test]
    fn unknown_database_schemes_are_refused_with_the_url() {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let err = runtime.block_on(Store::connect("mysql://localhost/kefu")).unwrap_err();
        assert!(
            matches!(err, StoreError::UnsupportedUrl(ref u) if u == "mysql://localhost/kefu"),
            "{err}"
        );
    }
}
