//! What the service's integration suites share: a fresh database on SQLite (always) or PostgreSQL (when
//! KEFU_TEST_DATABASE_URL is set, as in CI), and a service over it.
#![allow(dead_code)]

use kefu_service::{Bus, Notification, Service, ServiceConfig};
use kefu_store::Store;
use sqlx::Connection;
use tokio::sync::mpsc::UnboundedReceiver;
use uuid::Uuid;

pub struct Db {
    pub url: String,
    cleanup: Option<(String, String)>,
}

pub async fn sqlite() -> Db {
    let dir = std::env::temp_dir().join(format!("kefu-story-{}", Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    Db {
        url: format!("sqlite:{}", dir.join("kefu.db").display()),
        cleanup: None,
    }
}

/// A fresh PostgreSQL database, or None without KEFU_TEST_DATABASE_URL.
pub async fn postgres() -> Option<Db> {
    let base = std::env::var("KEFU_TEST_DATABASE_URL").ok()?;
    let name = format!("kefu_story_{}", Uuid::now_v7().simple());
    let mut conn = sqlx::PgConnection::connect(&base)
        .await
        .expect("KEFU_TEST_DATABASE_URL is reachable");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .unwrap();
    let (prefix, _) = base.rsplit_once('/').expect("URL has a database");
    Some(Db {
        url: format!("{prefix}/{name}"),
        cleanup: Some((base, name)),
    })
}

pub async fn drop_db(db: Db) {
    if let Some((base, name)) = db.cleanup {
        let mut conn = sqlx::PgConnection::connect(&base).await.unwrap();
        let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut conn)
            .await
            .unwrap();
    }
}

/// A service over the database at `url` (migrated), with its bus.
pub async fn service_with(url: &str, config: ServiceConfig) -> (Service, UnboundedReceiver<Notification>) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let store = Store::connect(url).await.unwrap();
    store.migrate().await.unwrap();
    let (bus, rx) = Bus::new();
    (Service::new(store, bus, config), rx)
}

pub fn drain(rx: &mut UnboundedReceiver<Notification>) -> Vec<Notification> {
    let mut out = Vec::new();
    while let Ok(n) = rx.try_recv() {
        out.push(n);
    }
    out
}
