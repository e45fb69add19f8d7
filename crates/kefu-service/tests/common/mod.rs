//! What the service's integration suites share: a fresh database on SQLite (always) or PostgreSQL (when
//! KEFU_TEST_DATABASE_URL is set, as in CI), and a service over it.
#![allow(dead_code)]

use kefu_core::model::{Inbox, InboxKind, Message, Role, Team, User};
use kefu_service::{Bus, NewInbox, Notification, SendMessage, Service, ServiceConfig};
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

/// A plain message (no files, not private).
pub fn send(conversation_id: Option<Uuid>, client_id: &str, content: &str) -> SendMessage {
    SendMessage {
        conversation_id,
        client_id: client_id.into(),
        content: content.into(),
        private: false,
        files: Vec::new(),
    }
}

/// A team named `team` of `agents` agents ("Agent 0", ... with `capacity`) and a web inbox, "Shop", routed to it.
pub async fn staffed_inbox(
    svc: &Service,
    admin: &User,
    team: &str,
    agents: usize,
    capacity: u32,
) -> (Team, Vec<User>, Inbox) {
    let team = svc.create_team(admin, team).await.unwrap();
    let mut users = Vec::new();
    for i in 0..agents {
        let a = svc
            .admin_create_user(
                admin,
                &format!("agent{i}@kefu.test"),
                &format!("Agent {i}"),
                "agent-password",
                Role::Agent,
                Some(capacity),
            )
            .await
            .unwrap();
        svc.add_team_member(admin, team.id, a.id).await.unwrap();
        users.push(svc.user(admin, a.id).await.unwrap());
    }
    let inbox = svc
        .create_inbox(
            admin,
            NewInbox {
                kind: InboxKind::Web,
                name: "Shop".into(),
                settings: serde_json::json!({}),
                teams: vec![team.id],
            },
        )
        .await
        .unwrap();
    (team, users, inbox)
}

/// A new visitor of the widget writes "hello": their conversation opens (and is routed).
pub async fn visitor_opens(svc: Service, widget: String, client_id: String) -> Message {
    let visitor = svc.visitor_connect(&widget, None, &Default::default()).await.unwrap();
    svc.visitor_send(&visitor.contact, send(None, &client_id, "hello"))
        .await
        .unwrap()
}

/// Runs a case on a fresh SQLite database, then on a fresh PostgreSQL one when KEFU_TEST_DATABASE_URL is set.
pub async fn on_both_backends<F, Fut>(case: F)
where
    F: Fn(Db) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    case(sqlite().await).await;
    if let Some(db) = postgres().await {
        case(db).await;
    }
}
