//! Queries that read. Each is written once, generic over the executor, so the same SQL serves the pool and a
//! transaction.

use crate::rows::{
    self, CANNED_COLUMNS, CONTACT_COLUMNS, CONVERSATION_SELECT, INBOX_COLUMNS, MESSAGE_COLUMNS, USER_COLUMNS,
};
use crate::{Result, Store, StoreError};
use kefu_core::model::*;
use sqlx::{Any, AssertSqlSafe, Executor, Row};
use uuid::Uuid;

/// A user as login sees them: with the password hash, which nothing else reads.
pub struct Credentials {
    pub user: User,
    pub password_hash: String,
}

/// Which conversations to list, newest first.
#[derive(Debug, Clone, Default)]
pub struct ConversationFilter {
    pub status: Option<ConversationStatus>,
    pub assignee_id: Option<Uuid>,
    pub team_id: Option<Uuid>,
    pub inbox_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    /// The conversations of this contact and of every contact merged with it (the person's, on any channel).
    pub person_of: Option<Uuid>,
    /// Only queued or assigned ones (ignored when `status` is given).
    pub open: bool,
    /// Only conversations older than this one (cursor pagination by id, which is time-ordered).
    pub before: Option<Uuid>,
    pub limit: u32,
}

pub(crate) async fn conversation<'c, E: Executor<'c, Database = Any>>(e: E, id: Uuid) -> Result<Option<Conversation>> {
    let sql = format!("{} WHERE c.id = $1", *CONVERSATION_SELECT);
    sqlx::query(AssertSqlSafe(sql))
        .bind(id.to_string())
        .fetch_optional(e)
        .await?
        .as_ref()
        .map(rows::conversation)
        .transpose()
}

pub(crate) async fn message_by_client_id<'c, E: Executor<'c, Database = Any>>(
    e: E,
    kind: SenderKind,
    sender_id: Uuid,
    client_id: &str,
) -> Result<Option<Message>> {
    let sql =
        format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE sender_kind = $1 AND sender_id = $2 AND client_id = $3");
    sqlx::query(AssertSqlSafe(sql))
        .bind(kind.as_str())
        .bind(sender_id.to_string())
        .bind(client_id)
        .fetch_optional(e)
        .await?
        .as_ref()
        .map(rows::message)
        .transpose()
}

pub(crate) async fn user_teams<'c, E: Executor<'c, Database = Any>>(e: E, user_id: Uuid) -> Result<Vec<Uuid>> {
    sqlx::query("SELECT team_id FROM team_members WHERE user_id = $1 ORDER BY team_id")
        .bind(user_id.to_string())
        .fetch_all(e)
        .await?
        .iter()
        .map(|r| rows::uuid(r, "team_id"))
        .collect()
}

/// A team with its members; on a connection so that a transaction and the pool share it.
pub(crate) async fn team(conn: &mut sqlx::AnyConnection, org_id: Uuid, id: Uuid) -> Result<Option<Team>> {
    let Some(row) =
        sqlx::query("SELECT id, org_id, name, business_hours, created_at FROM teams WHERE id = $1 AND org_id = $2")
            .bind(id.to_string())
            .bind(org_id.to_string())
            .fetch_optional(&mut *conn)
            .await?
    else {
        return Ok(None);
    };
    let members = sqlx::query("SELECT user_id FROM team_members WHERE team_id = $1 ORDER BY user_id")
        .bind(id.to_string())
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| rows::uuid(r, "user_id"))
        .collect::<Result<_>>()?;
    Ok(Some(Team {
        id,
        org_id,
        name: row.try_get("name")?,
        members,
        business_hours: row
            .try_get::<Option<String>, _>("business_hours")?
            .map(|j| serde_json::from_str(&j).map_err(|e| StoreError::Corrupt(format!("business_hours: {e}"))))
            .transpose()?,
        created_at: Timestamp(row.try_get("created_at")?),
    }))
}

impl Store {
    /// Whether Kefu has been set up (an organisation exists).
    pub async fn organisation(&self) -> Result<Option<Organisation>> {
        let row = sqlx::query("SELECT id, name, created_at FROM organisations ORDER BY id LIMIT 1")
            .fetch_optional(&self.reader)
            .await?;
        row.map(|r| {
            Ok(Organisation {
                id: rows::uuid(&r, "id")?,
                name: r.try_get("name")?,
                created_at: Timestamp(r.try_get("created_at")?),
            })
        })
        .transpose()
    }

    pub async fn count_users(&self, org_id: Uuid) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM users WHERE org_id = $1")
            .bind(org_id.to_string())
            .fetch_one(&self.reader)
            .await?;
        Ok(row.try_get("n")?)
    }

    pub async fn credentials(&self, email: &str) -> Result<Option<Credentials>> {
        let sql = format!("SELECT {USER_COLUMNS}, u.password_hash FROM users u WHERE u.email = $1");
        let Some(row) = sqlx::query(AssertSqlSafe(sql))
            .bind(email)
            .fetch_optional(&self.reader)
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(Credentials {
            user: rows::user(&row)?,
            password_hash: row.try_get("password_hash")?,
        }))
    }

    /// The active user holding an unexpired session.
    pub async fn session_user(&self, token_hash: &str, now: i64) -> Result<Option<User>> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.active = 1"
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(token_hash)
            .bind(now)
            .fetch_optional(&self.reader)
            .await?;
        match row {
            Some(row) => {
                let mut user = rows::user(&row)?;
                user.teams = user_teams(&self.reader, user.id).await?;
                Ok(Some(user))
            }
            None => Ok(None),
        }
    }

    pub async fn user(&self, org_id: Uuid, id: Uuid) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1 AND u.org_id = $2");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(id.to_string())
            .bind(org_id.to_string())
            .fetch_optional(&self.reader)
            .await?;
        match row {
            Some(row) => {
                let mut user = rows::user(&row)?;
                user.teams = user_teams(&self.reader, user.id).await?;
                Ok(Some(user))
            }
            None => Ok(None),
        }
    }

    pub async fn users(&self, org_id: Uuid) -> Result<Vec<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.org_id = $1 ORDER BY u.created_at, u.id");
        let mut users: Vec<User> = sqlx::query(AssertSqlSafe(sql))
            .bind(org_id.to_string())
            .fetch_all(&self.reader)
            .await?
            .iter()
            .map(rows::user)
            .collect::<Result<_>>()?;
        let memberships = sqlx::query(
            "SELECT tm.user_id, tm.team_id FROM team_members tm JOIN teams t ON t.id = tm.team_id \
             WHERE t.org_id = $1 ORDER BY tm.team_id",
        )
        .bind(org_id.to_string())
        .fetch_all(&self.reader)
        .await?;
        for row in memberships {
            let (user_id, team_id) = (rows::uuid(&row, "user_id")?, rows::uuid(&row, "team_id")?);
            if let Some(u) = users.iter_mut().find(|u| u.id == user_id) {
                u.teams.push(team_id);
            }
        }
        Ok(users)
    }

    /// Agents whose chosen presence is online or away: at start-up they get the grace period to reconnect.
    pub async fn present_agents(&self) -> Result<Vec<(Uuid, Uuid)>> {
        sqlx::query("SELECT id, org_id FROM users WHERE presence <> 'offline'")
            .fetch_all(&self.reader)
            .await?
            .iter()
            .map(|r| Ok((rows::uuid(r, "id")?, rows::uuid(r, "org_id")?)))
            .collect()
    }

    pub async fn team(&self, org_id: Uuid, id: Uuid) -> Result<Option<Team>> {
        team(&mut *self.reader.acquire().await?, org_id, id).await
    }

    pub async fn teams(&self, org_id: Uuid) -> Result<Vec<Team>> {
        let ids = sqlx::query("SELECT id FROM teams WHERE org_id = $1 ORDER BY name")
            .bind(org_id.to_string())
            .fetch_all(&self.reader)
            .await?;
        let mut teams = Vec::with_capacity(ids.len());
        for row in ids {
            if let Some(t) = team(&mut *self.reader.acquire().await?, org_id, rows::uuid(&row, "id")?).await? {
                teams.push(t);
            }
        }
        Ok(teams)
    }

    pub(crate) async fn with_inbox_teams(&self, mut inbox: Inbox) -> Result<Inbox> {
        inbox.teams = sqlx::query("SELECT team_id FROM inbox_teams WHERE inbox_id = $1 ORDER BY team_id")
            .bind(inbox.id.to_string())
            .fetch_all(&self.reader)
            .await?
            .iter()
            .map(|r| rows::uuid(r, "team_id"))
            .collect::<Result<_>>()?;
        Ok(inbox)
    }

    pub async fn inbox_by_widget_token(&self, widget_token: &str) -> Result<Option<Inbox>> {
        let sql = format!("SELECT {INBOX_COLUMNS} FROM inboxes WHERE widget_token = $1");
        match sqlx::query(AssertSqlSafe(sql))
            .bind(widget_token)
            .fetch_optional(&self.reader)
            .await?
        {
            Some(row) => Ok(Some(self.with_inbox_teams(rows::inbox(&row)?).await?)),
            None => Ok(None),
        }
    }

    pub async fn inbox(&self, org_id: Uuid, id: Uuid) -> Result<Option<Inbox>> {
        let sql = format!("SELECT {INBOX_COLUMNS} FROM inboxes WHERE id = $1 AND org_id = $2");
        match sqlx::query(AssertSqlSafe(sql))
            .bind(id.to_string())
            .bind(org_id.to_string())
            .fetch_optional(&self.reader)
            .await?
        {
            Some(row) => Ok(Some(self.with_inbox_teams(rows::inbox(&row)?).await?)),
            None => Ok(None),
        }
    }

    pub async fn inboxes(&self, org_id: Uuid) -> Result<Vec<Inbox>> {
        let sql = format!("SELECT {INBOX_COLUMNS} FROM inboxes WHERE org_id = $1 ORDER BY created_at, id");
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(org_id.to_string())
            .fetch_all(&self.reader)
            .await?;
        let mut inboxes = Vec::with_capacity(rows.len());
        for row in rows {
            inboxes.push(self.with_inbox_teams(rows::inbox(&row)?).await?);
        }
        Ok(inboxes)
    }

    /// One row of an organisation by id, mapped; `sql` selects with `id = $1 AND org_id = $2`.
    async fn one_in_org<T>(
        &self,
        sql: String,
        org_id: Uuid,
        id: Uuid,
        map: fn(&sqlx::any::AnyRow) -> Result<T>,
    ) -> Result<Option<T>> {
        sqlx::query(AssertSqlSafe(sql))
            .bind(id.to_string())
            .bind(org_id.to_string())
            .fetch_optional(&self.reader)
            .await?
            .as_ref()
            .map(map)
            .transpose()
    }

    pub async fn contact(&self, org_id: Uuid, id: Uuid) -> Result<Option<Contact>> {
        let sql = format!("SELECT {CONTACT_COLUMNS} FROM contacts WHERE id = $1 AND org_id = $2");
        self.one_in_org(sql, org_id, id, rows::contact).await
    }

    pub async fn contact_by_visitor_token(&self, inbox_id: Uuid, token_hash: &str) -> Result<Option<Contact>> {
        let sql = format!(
            "SELECT {CONTACT_COLUMNS} FROM contacts WHERE inbox_id = $2 \
             AND id = (SELECT contact_id FROM visitor_tokens WHERE token_hash = $1)"
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(token_hash)
            .bind(inbox_id.to_string())
            .fetch_optional(&self.reader)
            .await?
            .as_ref()
            .map(rows::contact)
            .transpose()
    }

    /// The contact a customer's server identified as `external_id` (a verified `Kefu.setUser`).
    /// The organisation's oldest contact with this (lower-case) email.
    pub async fn contact_by_email(&self, org_id: Uuid, email: &str) -> Result<Option<Contact>> {
        let sql =
            format!("SELECT {CONTACT_COLUMNS} FROM contacts WHERE org_id = $1 AND email = $2 ORDER BY id LIMIT 1");
        sqlx::query(AssertSqlSafe(sql))
            .bind(org_id.to_string())
            .bind(email)
            .fetch_optional(&self.reader)
            .await?
            .as_ref()
            .map(rows::contact)
            .transpose()
    }

    pub async fn contact_by_external_id(&self, inbox_id: Uuid, external_id: &str) -> Result<Option<Contact>> {
        let sql = format!("SELECT {CONTACT_COLUMNS} FROM contacts WHERE inbox_id = $1 AND external_id = $2");
        sqlx::query(AssertSqlSafe(sql))
            .bind(inbox_id.to_string())
            .bind(external_id)
            .fetch_optional(&self.reader)
            .await?
            .as_ref()
            .map(rows::contact)
            .transpose()
    }

    pub async fn conversation(&self, id: Uuid) -> Result<Option<Conversation>> {
        conversation(&self.reader, id).await
    }

    pub async fn conversations(&self, org_id: Uuid, filter: &ConversationFilter) -> Result<Vec<Conversation>> {
        let mut sql = format!("{} WHERE c.org_id = $1", *CONVERSATION_SELECT);
        let mut args: Vec<String> = vec![org_id.to_string()];
        let mut add = |sql: &mut String, column: &str, op: &str, value: String| {
            args.push(value);
            sql.push_str(&format!(" AND {column} {op} ${}", args.len()));
        };
        if filter.open && filter.status.is_none() {
            sql.push_str(" AND c.status <> 'closed'");
        }
        if let Some(s) = filter.status {
            add(&mut sql, "c.status", "=", s.as_str().to_string());
        }
        if let Some(a) = filter.assignee_id {
            add(&mut sql, "c.assignee_id", "=", a.to_string());
        }
        if let Some(t) = filter.team_id {
            add(&mut sql, "c.team_id", "=", t.to_string());
        }
        if let Some(i) = filter.inbox_id {
            add(&mut sql, "c.inbox_id", "=", i.to_string());
        }
        if let Some(c) = filter.contact_id {
            add(&mut sql, "c.contact_id", "=", c.to_string());
        }
        if let Some(b) = filter.before {
            add(&mut sql, "c.id", "<", b.to_string());
        }
        if let Some(p) = filter.person_of {
            args.push(p.to_string());
            sql.push_str(&format!(
                " AND c.contact_id IN (SELECT id FROM contacts WHERE COALESCE(person_id, id) = \
                 (SELECT COALESCE(person_id, id) FROM contacts WHERE id = ${}))",
                args.len()
            ));
        }
        sql.push_str(&format!(" ORDER BY c.id DESC LIMIT {}", filter.limit.clamp(1, 500)));
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for a in args {
            query = query.bind(a);
        }
        query
            .fetch_all(&self.reader)
            .await?
            .iter()
            .map(rows::conversation)
            .collect()
    }

    /// Messages after `after_seq`, in seq order, at most `limit`.
    pub async fn messages_after(
        &self,
        conversation_id: Uuid,
        after_seq: i64,
        include_private: bool,
        limit: u32,
    ) -> Result<Vec<Message>> {
        let private = if include_private { "" } else { " AND private = 0" };
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $1 AND seq > $2{private} \
             ORDER BY seq LIMIT {}",
            limit.clamp(1, 1000)
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(conversation_id.to_string())
            .bind(after_seq)
            .fetch_all(&self.reader)
            .await?
            .iter()
            .map(rows::message)
            .collect()
    }

    pub async fn message_by_client_id(
        &self,
        kind: SenderKind,
        sender_id: Uuid,
        client_id: &str,
    ) -> Result<Option<Message>> {
        message_by_client_id(&self.reader, kind, sender_id, client_id).await
    }

    /// The shared canned replies of an organisation and the user's own, optionally matching `query` in the
    /// shortcut or the content (case-insensitive), by shortcut.
    pub async fn canned_replies(&self, org_id: Uuid, user_id: Uuid, query: Option<&str>) -> Result<Vec<CannedReply>> {
        let pattern = query.map(rows::like_pattern);
        let filter = if pattern.is_some() {
            " AND (LOWER(shortcut) LIKE $3 ESCAPE '!' OR LOWER(content) LIKE $3 ESCAPE '!')"
        } else {
            ""
        };
        let sql = format!(
            "SELECT {CANNED_COLUMNS} FROM canned_replies WHERE org_id = $1 AND (owner_id IS NULL OR owner_id = $2)\
             {filter} ORDER BY shortcut, owner_id LIMIT 200"
        );
        let mut query = sqlx::query(AssertSqlSafe(sql))
            .bind(org_id.to_string())
            .bind(user_id.to_string());
        if let Some(p) = pattern {
            query = query.bind(p);
        }
        query.fetch_all(&self.reader).await?.iter().map(rows::canned).collect()
    }

    pub async fn canned_reply(&self, org_id: Uuid, id: Uuid) -> Result<Option<CannedReply>> {
        let sql = format!("SELECT {CANNED_COLUMNS} FROM canned_replies WHERE id = $1 AND org_id = $2");
        self.one_in_org(sql, org_id, id, rows::canned).await
    }

    /// Whether an active agent who may answer this inbox is online.
    pub async fn agents_online_for(&self, org_id: Uuid, inbox_id: Uuid) -> Result<bool> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM users u WHERE u.org_id = $1 AND u.active = 1 AND u.presence = 'online' \
             AND (NOT EXISTS (SELECT 1 FROM inbox_teams it WHERE it.inbox_id = $2) \
                  OR EXISTS (SELECT 1 FROM team_members tm JOIN inbox_teams it ON it.team_id = tm.team_id \
                             WHERE it.inbox_id = $2 AND tm.user_id = u.id))",
        )
        .bind(org_id.to_string())
        .bind(inbox_id.to_string())
        .fetch_one(&self.reader)
        .await?;
        Ok(row.try_get::<i64, _>("n")? > 0)
    }

    /// Conversations queued since before `waiting_before` whose visitors have not been told of the timeout.
    pub async fn queue_timeouts(&self, waiting_before: i64) -> Result<Vec<Conversation>> {
        let sql = format!(
            "{} WHERE c.status = 'queued' AND c.queue_timeout_notified = 0 \
             AND c.waiting_since < $1 ORDER BY c.id LIMIT 500",
            *CONVERSATION_SELECT
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(waiting_before)
            .fetch_all(&self.reader)
            .await?
            .iter()
            .map(rows::conversation)
            .collect()
    }
}
