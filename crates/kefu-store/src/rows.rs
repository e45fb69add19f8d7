//! Turning rows into domain records. Column lists live beside their mappers so the two never drift.

use crate::{Result, StoreError};
use kefu_core::model::*;
use sqlx::Row;
use sqlx::any::AnyRow;
use std::sync::LazyLock;
use uuid::Uuid;

pub(crate) fn uuid(row: &AnyRow, col: &str) -> Result<Uuid> {
    let text: String = row.try_get(col)?;
    Uuid::parse_str(&text).map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
}

pub(crate) fn opt_uuid(row: &AnyRow, col: &str) -> Result<Option<Uuid>> {
    let text: Option<String> = row.try_get(col)?;
    text.map(|t| Uuid::parse_str(&t).map_err(|e| StoreError::Corrupt(format!("{col}: {e}"))))
        .transpose()
}

pub(crate) fn parse<T: std::str::FromStr>(row: &AnyRow, col: &str) -> Result<T> {
    let text: String = row.try_get(col)?;
    text.parse()
        .map_err(|_| StoreError::Corrupt(format!("{col}: unknown value {text:?}")))
}

pub(crate) fn ts(row: &AnyRow, col: &str) -> Result<Timestamp> {
    Ok(Timestamp(row.try_get(col)?))
}

fn opt_ts(row: &AnyRow, col: &str) -> Result<Option<Timestamp>> {
    Ok(row.try_get::<Option<i64>, _>(col)?.map(Timestamp))
}

fn json(row: &AnyRow, col: &str) -> Result<serde_json::Value> {
    let text: String = row.try_get(col)?;
    serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
}

pub(crate) fn flag(row: &AnyRow, col: &str) -> Result<bool> {
    Ok(row.try_get::<i64, _>(col)? != 0)
}

pub(crate) const USER_COLUMNS: &str =
    "u.id, u.org_id, u.email, u.name, u.role, u.capacity, u.active, u.presence, u.locale, u.created_at";

/// A user without teams; callers that show teams fill them in.
pub(crate) fn user(row: &AnyRow) -> Result<User> {
    Ok(User {
        id: uuid(row, "id")?,
        org_id: uuid(row, "org_id")?,
        email: row.try_get("email")?,
        name: row.try_get("name")?,
        role: parse(row, "role")?,
        capacity: row.try_get::<i64, _>("capacity")? as u32,
        active: flag(row, "active")?,
        presence: parse(row, "presence")?,
        teams: Vec::new(),
        locale: row.try_get("locale")?,
        created_at: ts(row, "created_at")?,
    })
}

pub(crate) const INBOX_COLUMNS: &str =
    "id, org_id, kind, name, widget_token, settings, identity_secret, channel_state, created_at";

pub(crate) fn inbox(row: &AnyRow) -> Result<Inbox> {
    let id = uuid(row, "id")?;
    let kind: InboxKind = parse(row, "kind")?;
    Ok(Inbox {
        id,
        org_id: uuid(row, "org_id")?,
        kind,
        webhook_path: kind.calls_webhook().then(|| format!("/hooks/{}/{id}", kind.as_str())),
        name: row.try_get("name")?,
        widget_token: row.try_get("widget_token")?,
        settings: json(row, "settings")?,
        teams: Vec::new(),
        identity_secret: row.try_get("identity_secret")?,
        channel_state: row
            .try_get::<Option<String>, _>("channel_state")?
            .map(|j| serde_json::from_str(&j).map_err(|e| StoreError::Corrupt(format!("channel_state: {e}"))))
            .transpose()?,
        created_at: ts(row, "created_at")?,
    })
}

pub(crate) const CONTACT_COLUMNS: &str = "id, org_id, inbox_id, name, email, phone, external_id, attributes, \
     last_agent_id, created_at, updated_at, person_id";

/// A `LIKE` pattern that finds `query` anywhere, case-insensitively, with `%` and `_` meaning themselves
/// (use with `ESCAPE '!'` on a `LOWER(...)` column).
pub(crate) fn like_pattern(query: &str) -> String {
    let escaped = query
        .to_lowercase()
        .replace('!', "!!")
        .replace('%', "!%")
        .replace('_', "!_");
    format!("%{escaped}%")
}

pub(crate) fn contact(row: &AnyRow) -> Result<Contact> {
    Ok(Contact {
        id: uuid(row, "id")?,
        org_id: uuid(row, "org_id")?,
        inbox_id: uuid(row, "inbox_id")?,
        name: row.try_get("name")?,
        email: row.try_get("email")?,
        phone: row.try_get("phone")?,
        external_id: row.try_get("external_id")?,
        attributes: json(row, "attributes")?,
        last_agent_id: opt_uuid(row, "last_agent_id")?,
        person_id: opt_uuid(row, "person_id")?.unwrap_or(uuid(row, "id")?),
        created_at: ts(row, "created_at")?,
        updated_at: ts(row, "updated_at")?,
    })
}

/// A conversation's columns as `conversation` reads them, from the conversations row named `table` (an alias in a
/// query, the table's own name in SQLite's RETURNING, which cannot name an alias). The contact's and assignee's
/// names are subqueries rather than joins, so that a RETURNING list can read them too.
pub(crate) fn conversation_columns(table: &str) -> String {
    format!(
        "{table}.id, {table}.org_id, {table}.inbox_id, {table}.contact_id, \
         (SELECT k.name FROM contacts k WHERE k.id = {table}.contact_id) AS contact_name, {table}.status, \
         {table}.assignee_id, (SELECT u.name FROM users u WHERE u.id = {table}.assignee_id) AS assignee_name, \
         {table}.team_id, {table}.last_seq, {table}.queued_at, {table}.created_at, {table}.first_response_at, \
         {table}.closed_at, {table}.updated_at, {table}.rating, {table}.rating_comment, {table}.rated_at, \
         {table}.visitor_read_seq, {table}.agent_read_seq"
    )
}

/// Conversations are always read with their contact's and assignee's names; `c` is the conversation.
pub(crate) static CONVERSATION_SELECT: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {} FROM conversations c", conversation_columns("c")));

pub(crate) fn conversation(row: &AnyRow) -> Result<Conversation> {
    let assignee = match opt_uuid(row, "assignee_id")? {
        Some(id) => Some(Assignee {
            id,
            name: row.try_get::<Option<String>, _>("assignee_name")?.unwrap_or_default(),
        }),
        None => None,
    };
    Ok(Conversation {
        id: uuid(row, "id")?,
        org_id: uuid(row, "org_id")?,
        inbox_id: uuid(row, "inbox_id")?,
        contact_id: uuid(row, "contact_id")?,
        contact_name: row.try_get("contact_name")?,
        status: parse(row, "status")?,
        assignee,
        team_id: opt_uuid(row, "team_id")?,
        last_seq: row.try_get("last_seq")?,
        queue_position: None,
        expected_wait_secs: None,
        created_at: ts(row, "created_at")?,
        first_response_at: opt_ts(row, "first_response_at")?,
        closed_at: opt_ts(row, "closed_at")?,
        updated_at: ts(row, "updated_at")?,
        rating: match (row.try_get::<Option<i64>, _>("rating")?, opt_ts(row, "rated_at")?) {
            (Some(score), Some(rated_at)) => Some(Rating {
                score: score as u8,
                comment: row.try_get("rating_comment")?,
                rated_at,
            }),
            _ => None,
        },
        visitor_read_seq: row.try_get("visitor_read_seq")?,
        agent_read_seq: row.try_get("agent_read_seq")?,
        queued_at: row.try_get("queued_at")?,
    })
}

pub(crate) const MESSAGE_COLUMNS: &str = "id, conversation_id, seq, sender_kind, sender_id, sender_name, content, private, client_id, created_at, \
     delivery_status, delivery_error, attachments, email";

pub(crate) fn message(row: &AnyRow) -> Result<Message> {
    Ok(Message {
        id: uuid(row, "id")?,
        conversation_id: uuid(row, "conversation_id")?,
        seq: row.try_get("seq")?,
        sender: Sender {
            kind: parse(row, "sender_kind")?,
            id: opt_uuid(row, "sender_id")?,
            name: row.try_get("sender_name")?,
        },
        content: row.try_get("content")?,
        private: flag(row, "private")?,
        client_id: row.try_get("client_id")?,
        created_at: ts(row, "created_at")?,
        delivery: match row.try_get::<Option<String>, _>("delivery_status")? {
            Some(status) => Some(Delivery {
                status: status
                    .parse()
                    .map_err(|_| StoreError::Corrupt(format!("delivery_status: {status:?}")))?,
                error: row.try_get("delivery_error")?,
            }),
            None => None,
        },
        attachments: match row.try_get::<Option<String>, _>("attachments")? {
            Some(j) => serde_json::from_str(&j).map_err(|e| StoreError::Corrupt(format!("attachments: {e}")))?,
            None => Vec::new(),
        },
        email: match row.try_get::<Option<String>, _>("email")? {
            Some(j) => Some(serde_json::from_str(&j).map_err(|e| StoreError::Corrupt(format!("email: {e}")))?),
            None => None,
        },
    })
}

pub(crate) const CANNED_COLUMNS: &str = "id, shortcut, content, owner_id, created_at, updated_at";

pub(crate) fn canned(row: &AnyRow) -> Result<CannedReply> {
    let owner_id = opt_uuid(row, "owner_id")?;
    Ok(CannedReply {
        id: uuid(row, "id")?,
        shortcut: row.try_get("shortcut")?,
        content: row.try_get("content")?,
        owner_id,
        shared: owner_id.is_none(),
        created_at: ts(row, "created_at")?,
        updated_at: ts(row, "updated_at")?,
    })
}
