//! Writes. A `Tx` is one database transaction: the service composes these steps so that a message, the
//! conversation change and the routing decision it caused commit together or not at all.

use crate::read;
use crate::rows::{self, CONTACT_COLUMNS, CONVERSATION_SELECT};
use crate::writer::{TxConn, Writer};
use crate::{Backend, Result, StoreError};
use kefu_core::model::*;
use kefu_core::routing::{self, Router, Waiting};
use sqlx::{AssertSqlSafe, Executor, Row};
use uuid::Uuid;

/// Appending a message (`Tx::append_message`, `Store::append_alone`) in one statement or script. Parameters: `$1`
/// the conversation, `$2` the time, `$3` 1 for an agent's public reply (which sets the first response time if there
/// was none), then the message's `$4` id, `$5` sender kind, `$6` sender id, `$7` sender name, `$8` content, `$9`
/// private, `$10` client id; from `$11` on, what an `Appender`'s checks need. What comes back is the conversation as
/// it now is, with the columns `CONVERSATION_SELECT` reads, and its inbox's kind.
mod append {
    use crate::rows::conversation_columns;
    use std::sync::LazyLock;

    /// Takes the next seq of conversation `$1`, if it passes `only`.
    fn next_seq(only: &str) -> String {
        format!(
            "UPDATE conversations SET last_seq = last_seq + 1, updated_at = $2, \
             first_response_at = CASE WHEN $3 = 1 AND first_response_at IS NULL THEN $2 ELSE first_response_at END \
             WHERE id = $1{only}"
        )
    }

    /// `Appender::Contact`: `$11` the contact, writing to their own conversation while it is open.
    const CONTACTS_OPEN: &str = " AND contact_id = $11 AND status <> 'closed'";
    /// `Appender::Agent`: `$11` the organisation, `$12` 1 when the agent oversees it, `$13` the agent; a public
    /// reply only in a web chat.
    const AGENTS_WEB_CHAT: &str = " AND org_id = $11 AND status <> 'closed' AND ($12 = 1 OR assignee_id = $13) \
         AND ($9 = 1 OR (SELECT i.kind FROM inboxes i WHERE i.id = conversations.inbox_id) = 'web')";

    fn returned(table: &str) -> String {
        format!(
            "{}, (SELECT i.kind FROM inboxes i WHERE i.id = {table}.inbox_id) AS inbox_kind",
            conversation_columns(table)
        )
    }

    /// The message, at the seq the conversation's row in `from` now has.
    fn message_from(from: &str) -> String {
        format!(
            "INSERT INTO messages (id, conversation_id, seq, sender_kind, sender_id, sender_name, content, private, \
             client_id, created_at) SELECT $4, id, last_seq, $5, $6, $7, $8, $9, $10, $2 FROM {from}"
        )
    }

    /// Two statements sent as one script; the insert finds the conversation only if the update did.
    fn sqlite(only: &str) -> String {
        format!(
            "{} RETURNING {}; {}",
            next_seq(only),
            returned("conversations"),
            message_from(&format!("conversations WHERE id = $1{only}"))
        )
    }

    /// One statement, whose insert reads the row the update returned (a sibling in WITH sees the table as it was
    /// before the update).
    fn postgres(only: &str) -> String {
        format!(
            "WITH c AS ({} RETURNING *), m AS ({}) SELECT {} FROM c",
            next_seq(only),
            message_from("c"),
            returned("c")
        )
    }

    /// SQLite, inside a transaction.
    pub(super) static SQLITE: LazyLock<String> = LazyLock::new(|| sqlite(""));
    /// SQLite, as the transaction's first statements.
    pub(super) static SQLITE_BEGIN: LazyLock<String> = LazyLock::new(|| format!("BEGIN; {}", *SQLITE));
    pub(super) static POSTGRES: LazyLock<String> = LazyLock::new(|| postgres(""));
    /// A message as a whole transaction (`Store::append_alone`), for each `Appender`: on SQLite a script from BEGIN
    /// to COMMIT; on PostgreSQL one statement outside any transaction, which is atomic by itself.
    pub(super) static SQLITE_CONTACT: LazyLock<String> = LazyLock::new(|| whole_sqlite(CONTACTS_OPEN));
    pub(super) static POSTGRES_CONTACT: LazyLock<String> = LazyLock::new(|| postgres(CONTACTS_OPEN));
    pub(super) static SQLITE_AGENT: LazyLock<String> = LazyLock::new(|| whole_sqlite(AGENTS_WEB_CHAT));
    pub(super) static POSTGRES_AGENT: LazyLock<String> = LazyLock::new(|| postgres(AGENTS_WEB_CHAT));

    fn whole_sqlite(only: &str) -> String {
        format!("BEGIN; {}; COMMIT", sqlite(only))
    }
}

/// Who appends a message as a transaction of its own (`Store::append_alone`): what its statement checks before it
/// takes a seq.
#[derive(Debug, Clone, Copy)]
pub enum Appender {
    /// A contact, writing to their own conversation while it is open.
    Contact(Uuid),
    /// An agent, writing to an open conversation of their organisation that they may act on (their own, or any
    /// when they `oversee` it): a private note, or a reply in a web chat, where there is nothing to deliver.
    Agent { org_id: Uuid, id: Uuid, oversees: bool },
}

/// An append statement of `mod append` with the message's arguments.
fn append_query(
    sql: &'static str,
    m: &NewMessage<'_>,
    responding: bool,
) -> sqlx::query::Query<'static, sqlx::Any, sqlx::any::AnyArguments> {
    sqlx::query(sql)
        .bind(m.conversation_id.to_string())
        .bind(m.now)
        .bind(responding as i64)
        .bind(m.id.to_string())
        .bind(m.sender_kind.as_str())
        .bind(m.sender_id.map(|s| s.to_string()))
        .bind(m.sender_name)
        .bind(m.content)
        .bind(m.private as i64)
        .bind(m.client_id)
}

/// Runs a SQLite script that begins its own transaction, ending first one that was left open. Every statement of
/// it runs: `fetch_optional` would stop at the first row.
async fn fetch_script<F>(conn: &mut sqlx::AnyConnection, query: F) -> sqlx::Result<Vec<sqlx::any::AnyRow>>
where
    F: Fn() -> sqlx::query::Query<'static, sqlx::Any, sqlx::any::AnyArguments>,
{
    match query().fetch_all(&mut *conn).await {
        Err(e) if crate::writer::left_open(&e) => {
            (&mut *conn).execute("ROLLBACK").await?;
            query().fetch_all(&mut *conn).await
        }
        rows => rows,
    }
}

/// The conversation an append returned, with its inbox's kind, and the message as stored; `None` when no
/// conversation took it.
fn appended(
    m: &NewMessage<'_>,
    rows: sqlx::Result<Vec<sqlx::any::AnyRow>>,
) -> Result<Option<(Conversation, InboxKind, Message)>> {
    let Some(row) = rows.map_err(|e| unique(e, "client_id"))?.into_iter().next() else {
        return Ok(None);
    };
    let conversation = rows::conversation(&row)?;
    let message = Message {
        id: m.id,
        conversation_id: m.conversation_id,
        seq: conversation.last_seq,
        sender: Sender {
            kind: m.sender_kind,
            id: m.sender_id,
            name: m.sender_name.to_string(),
        },
        content: m.content.to_string(),
        private: m.private,
        client_id: m.client_id.map(str::to_string),
        created_at: Timestamp(m.now),
        delivery: None,
        attachments: Vec::new(),
        email: None,
    };
    Ok(Some((conversation, rows::parse(&row, "inbox_kind")?, message)))
}

impl crate::Store {
    /// A message as a transaction of its own, committed before this returns: as `Tx::append_message`, in one trip to
    /// the database (on SQLite one script from BEGIN to COMMIT, on PostgreSQL one statement). `None`, with nothing
    /// written, when the conversation does not exist or does not pass the appender's checks; a `client_id` the
    /// sender used already is a unique violation.
    pub async fn append_alone(
        &self,
        m: NewMessage<'_>,
        responding: bool,
        appender: Appender,
    ) -> Result<Option<(Conversation, InboxKind, Message)>> {
        let _open = crate::WriteGuard::new(&self.open_writes);
        let (sqlite, postgres) = match appender {
            Appender::Contact(_) => (&append::SQLITE_CONTACT, &append::POSTGRES_CONTACT),
            Appender::Agent { .. } => (&append::SQLITE_AGENT, &append::POSTGRES_AGENT),
        };
        let query = |sql: &'static str| {
            let q = append_query(sql, &m, responding);
            match appender {
                Appender::Contact(contact) => q.bind(contact.to_string()),
                Appender::Agent { org_id, id, oversees } => {
                    q.bind(org_id.to_string()).bind(oversees as i64).bind(id.to_string())
                }
            }
        };
        let rows = match &self.writer {
            Writer::Pooled(pool) => query(postgres.as_str()).fetch_all(pool).await,
            Writer::Single(_) => {
                let mut tx = self.writer.begin().await?;
                let conn = tx.unbegun().expect("a transaction just begun sends its own BEGIN");
                let rows = fetch_script(conn, || query(sqlite.as_str())).await;
                if rows.is_ok() {
                    tx.ended();
                }
                rows
            }
        };
        appended(&m, rows)
    }
}

pub struct Tx {
    pub(crate) tx: TxConn,
    pub(crate) backend: Backend,
    _open: crate::WriteGuard,
    /// Contacts this transaction made, (organisation, contact): announced once it commits.
    created_contacts: Vec<(Uuid, Uuid)>,
}

/// What a new user is made of.
pub struct NewUser<'a> {
    pub id: Uuid,
    pub org_id: Uuid,
    pub email: &'a str,
    pub name: &'a str,
    pub password_hash: &'a str,
    pub role: Role,
    pub capacity: u32,
}

/// What a new message is made of; `seq` is taken by `append_message`.
pub struct NewMessage<'a> {
    pub id: Uuid,
    pub conversation_id: Uuid,
    pub sender_kind: SenderKind,
    pub sender_id: Option<Uuid>,
    pub sender_name: &'a str,
    pub content: &'a str,
    pub private: bool,
    pub client_id: Option<&'a str>,
    pub now: i64,
}

fn unique(e: sqlx::Error, what: &'static str) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(what),
        _ => StoreError::Database(e),
    }
}

impl Tx {
    pub(crate) fn new(tx: TxConn, backend: Backend, open: crate::WriteGuard) -> Self {
        Tx {
            tx,
            backend,
            _open: open,
            created_contacts: Vec::new(),
        }
    }

    /// Contacts made in this transaction, as (organisation, contact).
    pub fn created_contacts(&self) -> &[(Uuid, Uuid)] {
        &self.created_contacts
    }

    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        Ok(())
    }

    /// Serializes routing decisions of one organisation across every node. On SQLite the single writer already
    /// does; on PostgreSQL the organisation's row lock does, held until commit.
    pub async fn lock_organisation(&mut self, org_id: Uuid) -> Result<()> {
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT id FROM organisations WHERE id = $1 FOR UPDATE")
                .bind(org_id.to_string())
                .fetch_optional(self.tx.conn().await?)
                .await?;
        }
        Ok(())
    }

    /// Serialises work on one inbox's deliveries (a send being recorded, a report on it) until commit.
    pub async fn lock_inbox(&mut self, inbox_id: Uuid) -> Result<()> {
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT id FROM inboxes WHERE id = $1 FOR UPDATE")
                .bind(inbox_id.to_string())
                .fetch_optional(self.tx.conn().await?)
                .await?;
        }
        Ok(())
    }

    pub async fn insert_organisation(&mut self, id: Uuid, name: &str, now: i64) -> Result<()> {
        sqlx::query("INSERT INTO organisations (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(id.to_string())
            .bind(name)
            .bind(now)
            .execute(self.tx.conn().await?)
            .await?;
        Ok(())
    }

    pub async fn insert_user(&mut self, u: NewUser<'_>, now: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO users (id, org_id, email, name, password_hash, role, capacity, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
        )
        .bind(u.id.to_string())
        .bind(u.org_id.to_string())
        .bind(u.email)
        .bind(u.name)
        .bind(u.password_hash)
        .bind(u.role.as_str())
        .bind(u.capacity as i64)
        .bind(now)
        .execute(self.tx.conn().await?)
        .await
        .map_err(|e| unique(e, "email"))?;
        Ok(())
    }

    /// The workspace language a user chose; `None` follows the browser.
    pub async fn set_user_locale(&mut self, id: Uuid, locale: Option<&str>, now: i64) -> Result<()> {
        sqlx::query("UPDATE users SET locale = $2, updated_at = $3 WHERE id = $1")
            .bind(id.to_string())
            .bind(locale)
            .bind(now)
            .execute(self.tx.conn().await?)
            .await?;
        Ok(())
    }

    /// A new key for verifying visitors' identities: the old one stops verifying at once.
    pub async fn set_inbox_identity_secret(&mut self, id: Uuid, secret: &str, now: i64) -> Result<()> {
        sqlx::query("UPDATE inboxes SET identity_secret = $2, updated_at = $3 WHERE id = $1")
            .bind(id.to_string())
            .bind(secret)
            .bind(now)
            .execute(self.tx.conn().await?)
            .await?;
        Ok(())
    }

    /// Changes the fields given; returns false when no such user is in the organisation.
    #[allow(clippy::too_many_arguments)]
    pub async fn update_user(
        &mut self,
        org_id: Uuid,
        id: Uuid,
        name: Option<&str>,
        role: Option<Role>,
        capacity: Option<u32>,
        active: Option<bool>,
        password_hash: Option<&str>,
        now: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE users SET name = COALESCE($3, name), role = COALESCE($4, role), \
             capacity = COALESCE($5, capacity), active = COALESCE($6, active), \
             password_hash = COALESCE($7, password_hash), updated_at = $8 WHERE id = $1 AND org_id = $2",
        )
        .bind(id.to_string())
        .bind(org_id.to_string())
        .bind(name)
        .bind(role.map(|r| r.as_str()))
        .bind(capacity.map(|c| c as i64))
        .bind(active.map(|a| a as i64))
        .bind(password_hash)
        .bind(now)
        .execute(self.tx.conn().await?)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn set_presence(&mut self, user_id: Uuid, presence: Presence, now: i64) -> Result<()> {
        sqlx::query("UPDATE users SET presence = $2, updated_at = $3 WHERE id = $1")
            .bind(user_id.to_string())
            .bind(presence.as_str())
            .bind(now)
            .execute(self.tx.conn().await?)
            .await?;
        Ok(())
    }

    pub async fn insert_session(&mut self, token_hash: &str, user_id: Uuid, now: i64, expires_at: i64) -> Result<()> {
        sqlx::query("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(token_hash)
            .bind(user_id.to_string())
            .bind(now)
            .bind(expires_at)
            .execute(self.tx.conn().await?)
            .await?;
        Ok(())
    }

    pub async fn delete_session(&mut self, token_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(self.tx.conn().await?)
            .await?;
        Ok(())
    }

    /// Ends every session of a user (deactivation, password change).
    pub async fn delete_sessions_of(&mut self, user_id: Uuid) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id.to_string())
            .execute(self.tx.conn().await?)
            .await?;
        Ok(())
    }

    pub async fn delete_expired_sessions(&mut self, now: i64) -> Result<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(self.tx.conn().await?)
            .await?;
        Ok(done.rows_affected())
    }

    pub async fn insert_team(&mut self, id: Uuid, org_id: Uuid, name: &str, now: i64) -> Result<()> {
        sqlx::query("INSERT INTO teams (id, org_id, name, created_at) VALUES ($1, $2, $3, $4)")
            .bind(id.to_string())
            .bind(org_id.to_string())
            .bind(name)
            .bind(now)
            .execute(self.tx.conn().await?)
            .await
            .map_err(|e| unique(e, "team name"))?;
        Ok(())
    }

    pub async fn rename_team(&mut self, org_id: Uuid, id: Uuid, name: &str) -> Result<bool> {
        let done = sqlx::query("UPDATE teams SET name = $3 WHERE id = $1 AND org_id = $2")
            .bind(id.to_string())
            .bind(org_id.to_string())
            .bind(name)
            .execute(self.tx.conn().await?)
            .await
            .map_err(|e| unique(e, "team name"))?;
        Ok(done.rows_affected() > 0)
    }

    /// Deletes a team; its conversations fall back to their inbox's teams.
    pub async fn delete_team(&mut self, org_id: Uuid, id: Uuid) -> Result<bool> {
        sqlx::query("UPDATE conversations SET team_id = NULL WHERE team_id = $1 AND org_id = $2")
            .bind(id.to_string())
            .bind(org_id.to_string())
            .execute(self.tx.conn().await?)
            .await?;
        sqlx::query("UPDATE tickets SET team_id = NULL WHERE team_id = $1 AND org_id = $2")
            .bind(id.to_string())
            .bind(org_id.to_string())
            .execute(self.tx.conn().await?)
            .await?;
        sqlx::query("DELETE FROM team_members WHERE team_id = $1")
            .bind(id.to_string())
            .execute(self.tx.conn().await?)
            .await?;
        sqlx::query("DELETE FROM inbox_teams WHERE team_id = $1")
            .bind(id.to_string())
            .execute(self.tx.conn().await?)
            .await?;
        let done = sqlx::query("DELETE FROM teams WHERE id = $1 AND org_id = $2")
            .bind(id.to_string())
            .bind(org_id.to_string())
            .execute(self.tx.conn().await?)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn add_team_member(&mut self, team_id: Uuid, user_id: Uuid) -> Result<()> {
        let exists = sqlx::query("SELECT 1 FROM team_members WHERE team_id = $1 AND user_id = $2")
            .bind(team_id.to_string())
            .bind(user_id.to_string())
            .fetch_optional(self.tx.conn().await?)
            .await?;
        if exists.is_none() {
            sqlx::query("INSERT INTO team_members (team_id, user_id) VALUES ($1, $2)")
                .bind(team_id.to_string())
                .bind(user_id.to_string())
                .execute(self.tx.conn().await?)
                .await?;
        }
        Ok(())
    }

    pub async fn remove_team_member(&mut self, team_id: Uuid, user_id: Uuid) -> Result<bool> {
        let done = sqlx::query("DELETE FROM team_members WHERE team_id = $1 AND user_id = $2")
            .bind(team_id.to_string())
            .bind(user_id.to_string())
            .execute(self.tx.conn().await?)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn team(&mut self, org_id: Uuid, id: Uuid) -> Result<Option<Team>> {
        read::team(self.tx.conn().await?, org_id, id).await
    }

    pub async fn user_teams(&mut self, user_id: Uuid) -> Result<Vec<Uuid>> {
        read::user_teams(self.tx.conn().await?, user_id).await
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn insert_inbox(
        &mut self,
        id: Uuid,
        org_id: Uuid,
        kind: InboxKind,
        name: &str,
        widget_token: Option<&str>,
        settings: &serde_json::Value,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO inboxes (id, org_id, kind, name, widget_token, settings, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
        )
        .bind(id.to_string())
        .bind(org_id.to_string())
        .bind(kind.as_str())
        .bind(name)
        .bind(widget_token)
        .bind(settings.to_string())
        .bind(now)
        .execute(self.tx.conn().await?)
        .await?;
        Ok(())
    }

    pub async fn update_inbox(
        &mut self,
        org_id: Uuid,
        id: Uuid,
        name: Option<&str>,
        settings: Option<&serde_json::Value>,
        now: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE inboxes SET name = COALESCE($3, name), settings = COALESCE($4, settings), updated_at = $5 \
             WHERE id = $1 AND org_id = $2",
        )
        .bind(id.to_string())
        .bind(org_id.to_string())
        .bind(name)
        .bind(settings.map(|s| s.to_string()))
        .bind(now)
        .execute(self.tx.conn().await?)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn set_inbox_teams(&mut self, inbox_id: Uuid, teams: &[Uuid]) -> Result<()> {
        sqlx::query("DELETE FROM inbox_teams WHERE inbox_id = $1")
            .bind(inbox_id.to_string())
            .execute(self.tx.conn().await?)
            .await?;
        for team in teams {
            sqlx::query("INSERT INTO inbox_teams (inbox_id, team_id) VALUES ($1, $2)")
                .bind(inbox_id.to_string())
                .bind(team.to_string())
                .execute(self.tx.conn().await?)
                .await?;
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn insert_contact(
        &mut self,
        id: Uuid,
        org_id: Uuid,
        inbox_id: Uuid,
        visitor_token_hash: Option<&str>,
        name: &str,
        attributes: &serde_json::Value,
        now: i64,
    ) -> Result<Contact> {
        sqlx::query(
            "INSERT INTO contacts (id, org_id, inbox_id, name, attributes, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6)",
        )
        .bind(id.to_string())
        .bind(org_id.to_string())
        .bind(inbox_id.to_string())
        .bind(name)
        .bind(attributes.to_string())
        .bind(now)
        .execute(self.tx.conn().await?)
        .await?;
        if let Some(hash) = visitor_token_hash {
            self.add_visitor_token(id, hash, now).await?;
        }
        self.created_contacts.push((org_id, id));
        self.contact(id).await
    }

    /// Lets one more visitor token (another device) come back as this contact.
    pub async fn add_visitor_token(&mut self, contact_id: Uuid, token_hash: &str, now: i64) -> Result<()> {
        sqlx::query("INSERT INTO visitor_tokens (token_hash, contact_id, created_at) VALUES ($1, $2, $3)")
            .bind(token_hash)
            .bind(contact_id.to_string())
            .bind(now)
            .execute(self.tx.conn().await?)
            .await?;
        Ok(())
    }

    /// Records the customer's own id for a contact whose identity was verified.
    pub async fn set_contact_external_id(&mut self, contact_id: Uuid, external_id: &str, now: i64) -> Result<()> {
        sqlx::query("UPDATE contacts SET external_id = $2, updated_at = $3 WHERE id = $1")
            .bind(contact_id.to_string())
            .bind(external_id)
            .bind(now)
            .execute(self.tx.conn().await?)
            .await?;
        Ok(())
    }

    pub async fn contact(&mut self, id: Uuid) -> Result<Contact> {
        let sql = format!("SELECT {CONTACT_COLUMNS} FROM contacts WHERE id = $1");
        rows::contact(
            &sqlx::query(AssertSqlSafe(sql))
                .bind(id.to_string())
                .fetch_one(self.tx.conn().await?)
                .await?,
        )
    }

    /// Updates the given fields. `Some(None)` clears an optional field.
    pub async fn update_contact(
        &mut self,
        id: Uuid,
        name: Option<&str>,
        email: Option<Option<&str>>,
        phone: Option<Option<&str>>,
        attributes: Option<&serde_json::Value>,
        now: i64,
    ) -> Result<Contact> {
        sqlx::query(
            "UPDATE contacts SET name = COALESCE($2, name), \
             email = CASE WHEN $3 = 1 THEN $4 ELSE email END, \
             phone = CASE WHEN $5 = 1 THEN $6 ELSE phone END, \
             attributes = COALESCE($7, attributes), updated_at = $8 WHERE id = $1",
        )
        .bind(id.to_string())
        .bind(name)
        .bind(email.is_some() as i64)
        .bind(email.flatten())
        .bind(phone.is_some() as i64)
        .bind(phone.flatten())
        .bind(attributes.map(|a| a.to_string()))
        .bind(now)
        .execute(self.tx.conn().await?)
        .await?;
        self.contact(id).await
    }

    /// Opens a conversation waiting in the queue.
    pub async fn insert_conversation(
        &mut self,
        id: Uuid,
        org_id: Uuid,
        inbox_id: Uuid,
        contact_id: Uuid,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO conversations (id, org_id, inbox_id, contact_id, status, queued_at, waiting_since, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, 'queued', $5, $5, $5, $5)",
        )
        .bind(id.to_string())
        .bind(org_id.to_string())
        .bind(inbox_id.to_string())
        .bind(contact_id.to_string())
        .bind(now)
        .execute(self.tx.conn().await?)
        .await?;
        Ok(())
    }

    /// Reads a conversation and, on PostgreSQL, locks its row until commit.
    pub async fn conversation_for_update(&mut self, id: Uuid) -> Result<Option<Conversation>> {
        let lock = if self.backend == Backend::Postgres {
            " FOR UPDATE OF c"
        } else {
            ""
        };
        let sql = format!("{} WHERE c.id = $1{lock}", *CONVERSATION_SELECT);
        sqlx::query(AssertSqlSafe(sql))
            .bind(id.to_string())
            .fetch_optional(self.tx.conn().await?)
            .await?
            .as_ref()
            .map(rows::conversation)
            .transpose()
    }

    pub async fn conversation(&mut self, id: Uuid) -> Result<Conversation> {
        read::conversation(self.tx.conn().await?, id)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("conversation {id} vanished")))
    }

    pub async fn message_by_client_id(
        &mut self,
        kind: SenderKind,
        sender_id: Uuid,
        client_id: &str,
    ) -> Result<Option<Message>> {
        read::message_by_client_id(self.tx.conn().await?, kind, sender_id, client_id).await
    }

    /// Appends a message to its conversation: takes the conversation's next seq (the row lock this takes keeps seq
    /// gapless under concurrent writers), inserts the message there, and returns the conversation as it now is,
    /// with its inbox's kind, and the message. `responding` (an agent's public reply) also sets the first response
    /// time if there was none. `None` when there is no such conversation; a `client_id` the sender used already is
    /// a unique violation. The caller checks the conversation (whose it is, its status) and drops the transaction
    /// when the message may not go in.
    ///
    /// One trip to the database: on SQLite a script (with BEGIN when it is the transaction's first, so one
    /// hand-off to SQLite's thread where three would be), on PostgreSQL one statement.
    pub async fn append_message(
        &mut self,
        m: NewMessage<'_>,
        responding: bool,
    ) -> Result<Option<(Conversation, InboxKind, Message)>> {
        let query = |sql: &'static str| append_query(sql, &m, responding);
        let rows = if let Some(conn) = self.tx.unbegun() {
            fetch_script(conn, || query(append::SQLITE_BEGIN.as_str())).await
        } else if self.backend == Backend::Sqlite {
            query(append::SQLITE.as_str()).fetch_all(self.tx.conn().await?).await
        } else {
            query(append::POSTGRES.as_str()).fetch_all(self.tx.conn().await?).await
        };
        appended(&m, rows)
    }

    pub async fn close_conversation(&mut self, id: Uuid, now: i64) -> Result<()> {
        sqlx::query(
            "UPDATE conversations SET status = 'closed', closed_at = $2, queued_at = NULL, waiting_since = NULL, \
             updated_at = $2 WHERE id = $1",
        )
        .bind(id.to_string())
        .bind(now)
        .execute(self.tx.conn().await?)
        .await?;
        Ok(())
    }

    /// Puts a conversation (back) in the queue. `queued_at` is its place in line, `now` starts its wait.
    pub async fn queue_conversation(
        &mut self,
        id: Uuid,
        team_id: Option<Uuid>,
        queued_at: i64,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE conversations SET status = 'queued', assignee_id = NULL, team_id = $2, queued_at = $3, \
             waiting_since = $4, queue_timeout_notified = 0, closed_at = NULL, updated_at = $4 WHERE id = $1",
        )
        .bind(id.to_string())
        .bind(team_id.map(|t| t.to_string()))
        .bind(queued_at)
        .bind(now)
        .execute(self.tx.conn().await?)
        .await?;
        Ok(())
    }

    /// Hands a conversation back to the queue at its original place (its agent left).
    pub async fn requeue(&mut self, id: Uuid, now: i64) -> Result<()> {
        sqlx::query(
            "UPDATE conversations SET status = 'queued', assignee_id = NULL, queued_at = created_at, \
             waiting_since = $2, queue_timeout_notified = 0, updated_at = $2 WHERE id = $1",
        )
        .bind(id.to_string())
        .bind(now)
        .execute(self.tx.conn().await?)
        .await?;
        Ok(())
    }

    pub async fn insert_canned_reply(
        &mut self,
        id: Uuid,
        org_id: Uuid,
        owner_id: Option<Uuid>,
        shortcut: &str,
        content: &str,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO canned_replies (id, org_id, owner_id, shortcut, content, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6)",
        )
        .bind(id.to_string())
        .bind(org_id.to_string())
        .bind(owner_id.map(|o| o.to_string()))
        .bind(shortcut)
        .bind(content)
        .bind(now)
        .execute(self.tx.conn().await?)
        .await
        .map_err(|e| unique(e, "shortcut"))?;
        Ok(())
    }

    pub async fn update_canned_reply(
        &mut self,
        id: Uuid,
        shortcut: Option<&str>,
        content: Option<&str>,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE canned_replies SET shortcut = COALESCE($2, shortcut), content = COALESCE($3, content), \
             updated_at = $4 WHERE id = $1",
        )
        .bind(id.to_string())
        .bind(shortcut)
        .bind(content)
        .bind(now)
        .execute(self.tx.conn().await?)
        .await
        .map_err(|e| unique(e, "shortcut"))?;
        Ok(())
    }

    pub async fn delete_canned_reply(&mut self, id: Uuid) -> Result<()> {
        sqlx::query("DELETE FROM canned_replies WHERE id = $1")
            .bind(id.to_string())
            .execute(self.tx.conn().await?)
            .await?;
        Ok(())
    }

    /// Moves one side's read position forward to `seq` (never back); returns whether it moved.
    pub async fn mark_read(&mut self, id: Uuid, by_visitor: bool, seq: i64) -> Result<bool> {
        let sql = if by_visitor {
            "UPDATE conversations SET visitor_read_seq = $2 WHERE id = $1 AND visitor_read_seq < $2"
        } else {
            "UPDATE conversations SET agent_read_seq = $2 WHERE id = $1 AND agent_read_seq < $2"
        };
        let done = sqlx::query(sql)
            .bind(id.to_string())
            .bind(seq)
            .execute(self.tx.conn().await?)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Records (or replaces) the visitor's rating of a conversation.
    pub async fn rate(&mut self, id: Uuid, score: u8, comment: Option<&str>, now: i64) -> Result<()> {
        sqlx::query("UPDATE conversations SET rating = $2, rating_comment = $3, rated_at = $4 WHERE id = $1")
            .bind(id.to_string())
            .bind(score as i64)
            .bind(comment)
            .bind(now)
            .execute(self.tx.conn().await?)
            .await?;
        Ok(())
    }

    pub async fn mark_queue_timeout_notified(&mut self, id: Uuid) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE conversations SET queue_timeout_notified = 1 WHERE id = $1 AND status = 'queued' \
             AND queue_timeout_notified = 0",
        )
        .bind(id.to_string())
        .execute(self.tx.conn().await?)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Loads the routing state of an organisation: its active agents with load and teams, the inboxes' teams,
    /// the queue, and the assigned conversations of `assigned_of` (whose owner may be about to leave).
    pub async fn load_router(&mut self, org_id: Uuid, assigned_of: Option<Uuid>) -> Result<Router> {
        let org = org_id.to_string();
        let mut router = Router::new();
        let agents = sqlx::query(
            "SELECT u.id, u.presence, u.capacity, u.last_assigned, \
             (SELECT COUNT(*) FROM conversations c WHERE c.assignee_id = u.id AND c.status = 'assigned') AS load \
             FROM users u WHERE u.org_id = $1 AND u.active = 1",
        )
        .bind(&org)
        .fetch_all(self.tx.conn().await?)
        .await?;
        let memberships = sqlx::query(
            "SELECT tm.user_id, tm.team_id FROM team_members tm JOIN teams t ON t.id = tm.team_id WHERE t.org_id = $1",
        )
        .bind(&org)
        .fetch_all(self.tx.conn().await?)
        .await?;
        for row in &agents {
            let id = rows::uuid(row, "id")?;
            let teams = memberships
                .iter()
                .filter(|m| rows::uuid(m, "user_id").is_ok_and(|u| u == id))
                .map(|m| rows::uuid(m, "team_id"))
                .collect::<Result<Vec<_>>>()?;
            router.add_agent(routing::Agent {
                id,
                presence: rows::parse(row, "presence")?,
                capacity: row.try_get::<i64, _>("capacity")? as u32,
                load: row.try_get::<i64, _>("load")? as u32,
                teams,
                last_assigned: row.try_get("last_assigned")?,
            });
        }
        let inbox_teams = sqlx::query(
            "SELECT it.inbox_id, it.team_id FROM inbox_teams it JOIN inboxes i ON i.id = it.inbox_id \
             WHERE i.org_id = $1",
        )
        .bind(&org)
        .fetch_all(self.tx.conn().await?)
        .await?;
        let mut by_inbox: std::collections::HashMap<Uuid, Vec<Uuid>> = Default::default();
        for row in &inbox_teams {
            by_inbox
                .entry(rows::uuid(row, "inbox_id")?)
                .or_default()
                .push(rows::uuid(row, "team_id")?);
        }
        for (inbox, teams) in by_inbox {
            router.set_inbox_teams(inbox, teams);
        }
        let queued = sqlx::query(
            "SELECT c.id, c.inbox_id, c.team_id, c.queued_at, ct.last_agent_id FROM conversations c \
             JOIN contacts ct ON ct.id = c.contact_id WHERE c.org_id = $1 AND c.status = 'queued'",
        )
        .bind(&org)
        .fetch_all(self.tx.conn().await?)
        .await?;
        for row in &queued {
            router.add_waiting(waiting(row)?);
        }
        if let Some(agent) = assigned_of {
            let assigned = sqlx::query(
                "SELECT c.id, c.inbox_id, c.team_id, c.created_at AS queued_at, ct.last_agent_id \
                 FROM conversations c JOIN contacts ct ON ct.id = c.contact_id \
                 WHERE c.assignee_id = $1 AND c.status = 'assigned'",
            )
            .bind(agent.to_string())
            .fetch_all(self.tx.conn().await?)
            .await?;
            for row in &assigned {
                let mut w = waiting(row)?;
                // Requeued work should go to someone else if anyone can take it.
                w.preferred_agent = None;
                router.add_assigned(agent, w);
            }
        }
        Ok(router)
    }

    /// Records an assignment decided by the router.
    pub async fn assign(&mut self, conversation_id: Uuid, agent_id: Uuid, last_assigned: i64, now: i64) -> Result<()> {
        sqlx::query(
            "UPDATE conversations SET status = 'assigned', assignee_id = $2, queued_at = NULL, waiting_since = NULL, \
             updated_at = $3 WHERE id = $1",
        )
        .bind(conversation_id.to_string())
        .bind(agent_id.to_string())
        .bind(now)
        .execute(self.tx.conn().await?)
        .await?;
        sqlx::query("UPDATE users SET last_assigned = $2 WHERE id = $1")
            .bind(agent_id.to_string())
            .bind(last_assigned)
            .execute(self.tx.conn().await?)
            .await?;
        sqlx::query(
            "UPDATE contacts SET last_agent_id = $2 WHERE id = (SELECT contact_id FROM conversations WHERE id = $1)",
        )
        .bind(conversation_id.to_string())
        .bind(agent_id.to_string())
        .execute(self.tx.conn().await?)
        .await?;
        Ok(())
    }

    /// Queued conversations of an organisation with their positions, for telling visitors where they stand.
    pub async fn queued_conversations(&mut self, org_id: Uuid) -> Result<Vec<Conversation>> {
        let sql = format!("{} WHERE c.org_id = $1 AND c.status = 'queued'", *CONVERSATION_SELECT);
        sqlx::query(AssertSqlSafe(sql))
            .bind(org_id.to_string())
            .fetch_all(self.tx.conn().await?)
            .await?
            .iter()
            .map(rows::conversation)
            .collect()
    }
}

fn waiting(row: &sqlx::any::AnyRow) -> Result<Waiting> {
    Ok(Waiting {
        conversation_id: rows::uuid(row, "id")?,
        inbox_id: rows::uuid(row, "inbox_id")?,
        team_id: rows::opt_uuid(row, "team_id")?,
        preferred_agent: rows::opt_uuid(row, "last_agent_id")?,
        queued_at: row.try_get::<Option<i64>, _>("queued_at")?.unwrap_or_default(),
    })
}
