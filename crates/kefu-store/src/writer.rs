//! Where writes run. PostgreSQL's write transactions take pooled connections. SQLite allows one writer at a time,
//! so its one write connection is held here, outside any pool: writers queue for it in-process (instead of failing
//! with SQLITE_BUSY), and a transaction costs no pool checkout and no ping when it ends. sqlx pings every connection
//! given back to a pool, which on SQLite is one more hand-off to the connection's thread per transaction.

use crate::Result;
use sqlx::AnyConnection;
use sqlx::{Any, AnyPool, Connection, Executor, Transaction};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, OwnedMutexGuard};

/// How long a write waits for SQLite's connection before it fails as retryable, as a pool's acquire would.
const WAIT_FOR_WRITER: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub(crate) enum Writer {
    Pooled(AnyPool),
    /// `None` once the store is closed.
    Single(Arc<Mutex<Option<AnyConnection>>>),
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Writer::Pooled(pool) => f.debug_tuple("Pooled").field(pool).finish(),
            Writer::Single(_) => f.write_str("Single"),
        }
    }
}

impl Writer {
    pub(crate) fn single(conn: AnyConnection) -> Self {
        Writer::Single(Arc::new(Mutex::new(Some(conn))))
    }

    pub(crate) async fn begin(&self) -> Result<TxConn> {
        match self {
            Writer::Pooled(pool) => Ok(TxConn::Pooled(pool.begin().await?)),
            // BEGIN is sent when the transaction's first statement is: with it, when that is `Tx::append_message`'s
            // script, so a message costs one hand-off before its COMMIT.
            Writer::Single(conn) => Ok(TxConn::Single(SingleTx {
                guard: Some(lock(conn).await?),
                begun: false,
            })),
        }
    }

    /// Runs one statement outside any transaction (SQLite commits it by itself).
    pub(crate) async fn execute<'q>(
        &self,
        query: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments>,
    ) -> Result<sqlx::any::AnyQueryResult> {
        match self {
            Writer::Pooled(pool) => Ok(query.execute(pool).await?),
            Writer::Single(conn) => {
                let mut guard = lock(conn).await?;
                Ok(query.execute(guard.conn()).await?)
            }
        }
    }

    pub(crate) async fn close(&self) {
        match self {
            Writer::Pooled(pool) => pool.close().await,
            Writer::Single(conn) => {
                if let Some(conn) = conn.lock().await.take()
                    && let Err(e) = conn.close().await
                {
                    tracing::warn!(error = %e, "closing the database's write connection");
                }
            }
        }
    }
}

/// SQLite's write connection, held: known to be open.
pub(crate) struct Held(OwnedMutexGuard<Option<AnyConnection>>);

impl Held {
    fn conn(&mut self) -> &mut AnyConnection {
        self.0.as_mut().expect("checked when locked")
    }
}

async fn lock(conn: &Arc<Mutex<Option<AnyConnection>>>) -> Result<Held> {
    let guard = tokio::time::timeout(WAIT_FOR_WRITER, conn.clone().lock_owned())
        .await
        .map_err(|_| sqlx::Error::PoolTimedOut)?;
    if guard.is_none() {
        return Err(sqlx::Error::PoolClosed.into());
    }
    Ok(Held(guard))
}

/// A write transaction's connection.
pub(crate) enum TxConn {
    Pooled(Transaction<'static, Any>),
    Single(SingleTx),
}

impl TxConn {
    /// The connection, inside the transaction.
    pub(crate) async fn conn(&mut self) -> Result<&mut AnyConnection> {
        match self {
            TxConn::Pooled(tx) => Ok(&mut **tx),
            TxConn::Single(s) => {
                if !s.begun {
                    s.begun = true;
                    let begun = s.conn().execute("BEGIN").await;
                    if let Err(e) = begun {
                        if !left_open(&e) {
                            return Err(e.into());
                        }
                        s.conn().execute("ROLLBACK").await?;
                        s.conn().execute("BEGIN").await?;
                    }
                }
                Ok(s.conn())
            }
        }
    }

    /// On SQLite before the transaction's first statement: the connection, for a script that begins the
    /// transaction itself ("BEGIN; ..."), which from then on counts as begun. `None` once begun, and on
    /// PostgreSQL, whose statements cannot be sent as one script with arguments.
    pub(crate) fn unbegun(&mut self) -> Option<&mut AnyConnection> {
        match self {
            TxConn::Single(s) if !s.begun => {
                s.begun = true;
                Some(s.conn())
            }
            _ => None,
        }
    }

    /// After a script that ended its transaction itself (with COMMIT): nothing is left to roll back.
    pub(crate) fn ended(mut self) {
        if let TxConn::Single(s) = &mut self {
            s.begun = false;
        }
    }

    pub(crate) async fn commit(self) -> Result<()> {
        match self {
            TxConn::Pooled(tx) => tx.commit().await?,
            TxConn::Single(mut s) => {
                if s.begun {
                    s.conn().execute("COMMIT").await?;
                    s.begun = false;
                }
            }
        }
        Ok(())
    }
}

/// SQLite's answer to a BEGIN on a connection already inside a transaction: one was left open (its rollback could
/// not be spawned, no runtime at the time), and is ended rather than blocking every later write.
pub(crate) fn left_open(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.message().contains("within a transaction"))
}

/// A transaction on SQLite's write connection. One dropped before it committed (an error, a refused write, a
/// cancelled request) is rolled back before the connection serves the next writer, as sqlx does for pooled ones.
pub(crate) struct SingleTx {
    guard: Option<Held>,
    /// BEGIN was sent (or is on its way with a statement) and neither COMMIT nor ROLLBACK since.
    begun: bool,
}

impl SingleTx {
    fn conn(&mut self) -> &mut AnyConnection {
        self.guard.as_mut().expect("held until dropped").conn()
    }
}

impl Drop for SingleTx {
    fn drop(&mut self) {
        let Some(mut held) = self.guard.take().filter(|_| self.begun) else {
            return;
        };
        // The lock moves into the task, so the next writer waits until the rollback is done. A script whose
        // BEGIN failed left nothing to roll back: SQLite says so, which is no news.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(e) = held.conn().execute("ROLLBACK").await {
                    tracing::debug!(error = %e, "rolling back an abandoned write transaction");
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::Store;

    /// A store on a new SQLite file with a `notes` table, and the directory to remove after.
    async fn store_with_notes() -> (Store, std::path::PathBuf) {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("kefu-writer-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let store = Store::connect(&format!("sqlite:{}", dir.join("kefu.db").display()))
            .await
            .unwrap();
        let mut tx = store.begin().await.unwrap();
        sqlx::query("CREATE TABLE notes (body TEXT NOT NULL)")
            .execute(tx.tx.conn().await.unwrap())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        (store, dir)
    }

    async fn note(tx: &mut crate::Tx, body: &str) {
        sqlx::query("INSERT INTO notes (body) VALUES ($1)")
            .bind(body.to_string())
            .execute(tx.tx.conn().await.unwrap())
            .await
            .unwrap();
    }

    async fn notes(store: &Store) -> Vec<String> {
        sqlx::query_scalar("SELECT body FROM notes ORDER BY body")
            .fetch_all(&store.reader)
            .await
            .unwrap()
    }

    /// A write commits, and it is all the table holds; then the store is closed and its directory removed.
    async fn the_next_write_is_kept_alone(store: Store, dir: std::path::PathBuf) {
        let mut tx = store.begin().await.unwrap();
        note(&mut tx, "kept").await;
        tx.commit().await.unwrap();
        assert_eq!(notes(&store).await, ["kept"]);
        store.close().await;
        std::fs::remove_dir_all(dir).unwrap();
    }

    fn run(test: impl Future<Output = ()>) {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(test);
    }

    #[test]
    fn a_write_dropped_before_its_commit_leaves_nothing_and_the_next_write_proceeds() {
        run(async {
            let (store, dir) = store_with_notes().await;
            let mut tx = store.begin().await.unwrap();
            note(&mut tx, "abandoned").await;
            drop(tx);
            the_next_write_is_kept_alone(store, dir).await;
        });
    }

    #[test]
    fn a_transaction_left_open_on_the_write_connection_is_ended_by_the_next_write() {
        run(async {
            let (store, dir) = store_with_notes().await;
            store.writer.execute(sqlx::query("BEGIN")).await.unwrap();
            store
                .writer
                .execute(sqlx::query("INSERT INTO notes (body) VALUES ('orphaned')"))
                .await
                .unwrap();
            the_next_write_is_kept_alone(store, dir).await;
        });
    }

    #[test]
    fn a_closed_store_refuses_writes() {
        run(async {
            let (store, dir) = store_with_notes().await;
            store.close().await;
            assert!(matches!(
                store.begin().await,
                Err(crate::StoreError::Database(sqlx::Error::PoolClosed))
            ));
            std::fs::remove_dir_all(dir).unwrap();
        });
    }
}
