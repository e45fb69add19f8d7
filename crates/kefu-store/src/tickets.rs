//! Tickets in the database: numbering per organisation, the stored SLA facts, tags, the history, the policies,
//! and the queries the SLA and auto-close timers run.

use crate::rows::{flag, opt_uuid, parse, uuid};
use crate::{Result, Store, StoreError, Tx};
use kefu_core::model::Assignee;
use kefu_core::ticket::*;
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};
use uuid::Uuid;

const TICKET_SELECT: &str = "SELECT t.id, t.org_id, t.number, t.subject, t.description, t.status, t.priority, \
     t.assignee_id, u.name AS assignee_name, t.team_id, t.requester_id, k.name AS requester_name, \
     k.email AS requester_email, k.phone AS requester_phone, t.conversation_id, t.first_response_at, \
     t.awaiting_reply_since, t.solved_at, t.closed_at, t.first_response_due, t.next_response_due, \
     t.resolution_due, t.announced, t.created_at, t.updated_at \
     FROM tickets t LEFT JOIN users u ON u.id = t.assignee_id LEFT JOIN contacts k ON k.id = t.requester_id";

fn record(row: &AnyRow) -> Result<TicketRecord> {
    let assignee = match opt_uuid(row, "assignee_id")? {
        Some(id) => Some(Assignee {
            id,
            name: row.try_get::<Option<String>, _>("assignee_name")?.unwrap_or_default(),
        }),
        None => None,
    };
    let requester = match opt_uuid(row, "requester_id")? {
        Some(id) => Some(Requester {
            id,
            name: row.try_get::<Option<String>, _>("requester_name")?.unwrap_or_default(),
            email: row.try_get("requester_email")?,
            phone: row.try_get("requester_phone")?,
        }),
        None => None,
    };
    let announced: String = row.try_get("announced")?;
    Ok(TicketRecord {
        id: uuid(row, "id")?,
        org_id: uuid(row, "org_id")?,
        number: row.try_get("number")?,
        subject: row.try_get("subject")?,
        description: row.try_get("description")?,
        status: parse(row, "status")?,
        priority: parse(row, "priority")?,
        assignee,
        team_id: opt_uuid(row, "team_id")?,
        requester,
        tags: Vec::new(),
        conversation_id: opt_uuid(row, "conversation_id")?,
        clock: SlaClock {
            created_at: row.try_get("created_at")?,
            first_response_at: row.try_get("first_response_at")?,
            awaiting_reply_since: row.try_get("awaiting_reply_since")?,
            solved_at: row.try_get("solved_at")?,
        },
        due: SlaDue {
            first_response: row.try_get("first_response_due")?,
            next_response: row.try_get("next_response_due")?,
            resolution: row.try_get("resolution_due")?,
        },
        announced: announced
            .split(',')
            .filter(|t| !t.is_empty())
            .map(|t| t.parse().map_err(|_| StoreError::Corrupt(format!("announced: {t:?}"))))
            .collect::<Result<_>>()?,
        closed_at: row.try_get("closed_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn event(row: &AnyRow) -> Result<TicketEvent> {
    Ok(TicketEvent {
        id: uuid(row, "id")?,
        ticket_id: uuid(row, "ticket_id")?,
        actor: Actor {
            kind: parse(row, "actor_kind")?,
            id: opt_uuid(row, "actor_id")?,
            name: row.try_get("actor_name")?,
        },
        kind: parse(row, "kind")?,
        field: row.try_get("field")?,
        old: row.try_get("old_value")?,
        new: row.try_get("new_value")?,
        content: row.try_get("content")?,
        private: flag(row, "private")?,
        created_at: kefu_core::model::Timestamp(row.try_get("created_at")?),
    })
}

/// What a ticket list asks for. Every field narrows it; `sla` needs `now`.
#[derive(Debug, Clone, Default)]
pub struct TicketFilter {
    pub statuses: Vec<TicketStatus>,
    pub priority: Option<TicketPriority>,
    /// `Some(None)`: unassigned only.
    pub assignee_id: Option<Option<Uuid>>,
    pub team_id: Option<Uuid>,
    pub tag: Option<String>,
    pub sla: Option<SlaState>,
    /// Matches the subject (case-insensitively) or, when a number, the ticket number.
    pub query: Option<String>,
    pub before: Option<Uuid>,
    pub limit: u32,
}

async fn with_tags<'c, E: sqlx::Executor<'c, Database = sqlx::Any>>(e: E, mut t: TicketRecord) -> Result<TicketRecord> {
    t.tags = sqlx::query("SELECT tag FROM ticket_tags WHERE ticket_id = $1 ORDER BY tag")
        .bind(t.id.to_string())
        .fetch_all(e)
        .await?
        .iter()
        .map(|r| r.try_get::<String, _>("tag").map_err(StoreError::from))
        .collect::<Result<_>>()?;
    Ok(t)
}

fn join_targets(targets: &[SlaTarget]) -> String {
    targets.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(",")
}

impl Store {
    pub async fn ticket(&self, org_id: Uuid, id: Uuid) -> Result<Option<TicketRecord>> {
        let sql = format!("{TICKET_SELECT} WHERE t.id = $1 AND t.org_id = $2");
        match sqlx::query(AssertSqlSafe(sql))
            .bind(id.to_string())
            .bind(org_id.to_string())
            .fetch_optional(&self.reader)
            .await?
        {
            Some(row) => Ok(Some(with_tags(&self.reader, record(&row)?).await?)),
            None => Ok(None),
        }
    }

    pub async fn ticket_for_conversation(&self, conversation_id: Uuid) -> Result<Option<TicketRecord>> {
        let sql = format!("{TICKET_SELECT} WHERE t.conversation_id = $1");
        match sqlx::query(AssertSqlSafe(sql))
            .bind(conversation_id.to_string())
            .fetch_optional(&self.reader)
            .await?
        {
            Some(row) => Ok(Some(with_tags(&self.reader, record(&row)?).await?)),
            None => Ok(None),
        }
    }

    /// Newest first.
    pub async fn tickets(&self, org_id: Uuid, filter: &TicketFilter, now: i64) -> Result<Vec<TicketRecord>> {
        let mut sql = format!("{TICKET_SELECT} WHERE t.org_id = $1");
        let mut args: Vec<Option<String>> = vec![Some(org_id.to_string())];
        let arg = |args: &mut Vec<Option<String>>, v: Option<String>| {
            args.push(v);
            format!("${}", args.len())
        };
        if !filter.statuses.is_empty() {
            let list: Vec<String> = filter
                .statuses
                .iter()
                .map(|s| arg(&mut args, Some(s.as_str().into())))
                .collect();
            sql.push_str(&format!(" AND t.status IN ({})", list.join(", ")));
        }
        if let Some(p) = filter.priority {
            sql.push_str(&format!(
                " AND t.priority = {}",
                arg(&mut args, Some(p.as_str().into()))
            ));
        }
        match filter.assignee_id {
            Some(Some(a)) => sql.push_str(&format!(" AND t.assignee_id = {}", arg(&mut args, Some(a.to_string())))),
            Some(None) => sql.push_str(" AND t.assignee_id IS NULL"),
            None => {}
        }
        if let Some(team) = filter.team_id {
            sql.push_str(&format!(" AND t.team_id = {}", arg(&mut args, Some(team.to_string()))));
        }
        if let Some(tag) = &filter.tag {
            let p = arg(&mut args, Some(tag.clone()));
            sql.push_str(&format!(
                " AND EXISTS (SELECT 1 FROM ticket_tags g WHERE g.ticket_id = t.id AND g.tag = {p})"
            ));
        }
        if let Some(q) = filter.query.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
            let number = q.trim_start_matches('#').parse::<i64>().ok();
            let like = arg(&mut args, Some(crate::rows::like_pattern(q)));
            match number {
                Some(n) => {
                    let n = arg(&mut args, Some(n.to_string()));
                    sql.push_str(&format!(
                        " AND (LOWER(t.subject) LIKE {like} ESCAPE '!' OR CAST(t.number AS TEXT) = {n})"
                    ));
                }
                None => sql.push_str(&format!(" AND LOWER(t.subject) LIKE {like} ESCAPE '!'")),
            }
        }
        // The SLA state at `now`, in SQL terms of the stored facts (see kefu_core::ticket::Sla::view).
        let soon = now + DUE_SOON_MS;
        let breached = format!(
            "(t.announced <> '' OR (t.first_response_due IS NOT NULL AND t.first_response_due < COALESCE(t.first_response_at, {now})) \
             OR (t.awaiting_reply_since IS NOT NULL AND t.solved_at IS NULL AND t.next_response_due < {now}) \
             OR (t.resolution_due IS NOT NULL AND t.resolution_due < COALESCE(t.solved_at, {now})))"
        );
        match filter.sla {
            Some(SlaState::Breached) => sql.push_str(&format!(" AND {breached}")),
            Some(SlaState::DueSoon) => sql.push_str(&format!(
                " AND NOT {breached} AND t.next_check IS NOT NULL AND t.next_check <= {soon}"
            )),
            Some(SlaState::Ok) => sql.push_str(&format!(
                " AND NOT {breached} AND (t.first_response_due IS NOT NULL OR t.resolution_due IS NOT NULL \
                 OR t.next_response_due IS NOT NULL) AND (t.next_check IS NULL OR t.next_check > {soon})"
            )),
            Some(SlaState::None) => sql.push_str(
                " AND t.first_response_due IS NULL AND t.next_response_due IS NULL AND t.resolution_due IS NULL",
            ),
            None => {}
        }
        if let Some(b) = filter.before {
            sql.push_str(&format!(" AND t.id < {}", arg(&mut args, Some(b.to_string()))));
        }
        sql.push_str(&format!(" ORDER BY t.id DESC LIMIT {}", filter.limit.clamp(1, 500)));
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for a in args {
            query = query.bind(a);
        }
        let rows = query.fetch_all(&self.reader).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            out.push(with_tags(&self.reader, record(&row)?).await?);
        }
        Ok(out)
    }

    /// Oldest first.
    pub async fn ticket_events(&self, ticket_id: Uuid) -> Result<Vec<TicketEvent>> {
        sqlx::query(
            "SELECT id, ticket_id, actor_kind, actor_id, actor_name, kind, field, old_value, new_value, content, \
             private, created_at FROM ticket_events WHERE ticket_id = $1 ORDER BY id",
        )
        .bind(ticket_id.to_string())
        .fetch_all(&self.reader)
        .await?
        .iter()
        .map(event)
        .collect()
    }

    pub async fn sla_policies(&self, org_id: Uuid) -> Result<Vec<SlaPolicy>> {
        let rows = sqlx::query(
            "SELECT priority, first_response_mins, next_response_mins, resolution_mins FROM sla_policies \
             WHERE org_id = $1",
        )
        .bind(org_id.to_string())
        .fetch_all(&self.reader)
        .await?;
        let mut out = rows
            .iter()
            .map(|r| {
                let mins = |c: &str| -> Result<Option<u32>> { Ok(r.try_get::<Option<i64>, _>(c)?.map(|v| v as u32)) };
                Ok(SlaPolicy {
                    priority: parse(r, "priority")?,
                    first_response_mins: mins("first_response_mins")?,
                    next_response_mins: mins("next_response_mins")?,
                    resolution_mins: mins("resolution_mins")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        out.sort_by_key(|p| TicketPriority::ALL.iter().position(|q| *q == p.priority));
        Ok(out)
    }

    /// Ids of open tickets whose SLA needs a look at `now`, oldest due first.
    pub async fn tickets_to_check(&self, now: i64) -> Result<Vec<(Uuid, Uuid)>> {
        self.ticket_ids(
            "SELECT id, org_id FROM tickets WHERE next_check IS NOT NULL AND next_check <= $1 ORDER BY next_check LIMIT 200",
            now,
        )
        .await
    }

    /// Solved tickets left alone since before `cutoff`: due to close.
    pub async fn tickets_to_close(&self, cutoff: i64) -> Result<Vec<(Uuid, Uuid)>> {
        self.ticket_ids(
            "SELECT id, org_id FROM tickets WHERE status = 'solved' AND solved_at < $1 ORDER BY solved_at LIMIT 200",
            cutoff,
        )
        .await
    }

    /// (id, org_id) of the tickets a timer's query picks, by one time bound.
    async fn ticket_ids(&self, sql: &'static str, bound: i64) -> Result<Vec<(Uuid, Uuid)>> {
        sqlx::query(sql)
            .bind(bound)
            .fetch_all(&self.reader)
            .await?
            .iter()
            .map(|r| Ok((uuid(r, "id")?, uuid(r, "org_id")?)))
            .collect()
    }
}

impl Tx {
    /// The next number in the organisation. Callers lock the organisation first, so two tickets never share one.
    pub async fn next_ticket_number(&mut self, org_id: Uuid) -> Result<i64> {
        let row = sqlx::query("SELECT COALESCE(MAX(number), 0) + 1 AS n FROM tickets WHERE org_id = $1")
            .bind(org_id.to_string())
            .fetch_one(self.tx.conn().await?)
            .await?;
        Ok(row.try_get("n")?)
    }

    pub async fn insert_ticket(&mut self, t: &TicketRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO tickets (id, org_id, number, subject, description, status, priority, assignee_id, team_id, \
             requester_id, conversation_id, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(t.id.to_string())
        .bind(t.org_id.to_string())
        .bind(t.number)
        .bind(&t.subject)
        .bind(&t.description)
        .bind(t.status.as_str())
        .bind(t.priority.as_str())
        .bind(t.assignee.as_ref().map(|a| a.id.to_string()))
        .bind(t.team_id.map(|id| id.to_string()))
        .bind(t.requester.as_ref().map(|r| r.id.to_string()))
        .bind(t.conversation_id.map(|id| id.to_string()))
        .bind(t.clock.created_at)
        .bind(t.updated_at)
        .execute(self.tx.conn().await?)
        .await?;
        self.save_ticket(t).await
    }

    /// Writes every changeable field of the ticket, its SLA facts and its tags.
    pub async fn save_ticket(&mut self, t: &TicketRecord) -> Result<()> {
        sqlx::query(
            "UPDATE tickets SET subject = $2, description = $3, status = $4, priority = $5, assignee_id = $6, \
             team_id = $7, requester_id = $8, first_response_at = $9, awaiting_reply_since = $10, solved_at = $11, \
             closed_at = $12, first_response_due = $13, next_response_due = $14, resolution_due = $15, \
             next_check = $16, announced = $17, updated_at = $18 WHERE id = $1",
        )
        .bind(t.id.to_string())
        .bind(&t.subject)
        .bind(&t.description)
        .bind(t.status.as_str())
        .bind(t.priority.as_str())
        .bind(t.assignee.as_ref().map(|a| a.id.to_string()))
        .bind(t.team_id.map(|id| id.to_string()))
        .bind(t.requester.as_ref().map(|r| r.id.to_string()))
        .bind(t.clock.first_response_at)
        .bind(t.clock.awaiting_reply_since)
        .bind(t.clock.solved_at)
        .bind(t.closed_at)
        .bind(t.due.first_response)
        .bind(t.due.next_response)
        .bind(t.due.resolution)
        .bind(t.next_check())
        .bind(join_targets(&t.announced))
        .bind(t.updated_at)
        .execute(self.tx.conn().await?)
        .await?;
        sqlx::query("DELETE FROM ticket_tags WHERE ticket_id = $1")
            .bind(t.id.to_string())
            .execute(self.tx.conn().await?)
            .await?;
        for tag in &t.tags {
            sqlx::query("INSERT INTO ticket_tags (ticket_id, tag) VALUES ($1, $2)")
                .bind(t.id.to_string())
                .bind(tag)
                .execute(self.tx.conn().await?)
                .await?;
        }
        Ok(())
    }

    /// Reads a ticket and, on PostgreSQL, locks it until commit, so concurrent changes apply one after another.
    pub async fn ticket_for_update(&mut self, org_id: Uuid, id: Uuid) -> Result<Option<TicketRecord>> {
        let lock = if self.backend == crate::Backend::Postgres {
            " FOR UPDATE OF t"
        } else {
            ""
        };
        let sql = format!("{TICKET_SELECT} WHERE t.id = $1 AND t.org_id = $2{lock}");
        match sqlx::query(AssertSqlSafe(sql))
            .bind(id.to_string())
            .bind(org_id.to_string())
            .fetch_optional(self.tx.conn().await?)
            .await?
        {
            Some(row) => Ok(Some(with_tags(self.tx.conn().await?, record(&row)?).await?)),
            None => Ok(None),
        }
    }

    pub async fn insert_ticket_event(&mut self, e: &TicketEvent) -> Result<()> {
        sqlx::query(
            "INSERT INTO ticket_events (id, ticket_id, actor_kind, actor_id, actor_name, kind, field, old_value, \
             new_value, content, private, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(e.id.to_string())
        .bind(e.ticket_id.to_string())
        .bind(e.actor.kind.as_str())
        .bind(e.actor.id.map(|id| id.to_string()))
        .bind(&e.actor.name)
        .bind(e.kind.as_str())
        .bind(e.field.as_deref())
        .bind(e.old.as_deref())
        .bind(e.new.as_deref())
        .bind(e.content.as_deref())
        .bind(e.private as i64)
        .bind(e.created_at.0)
        .execute(self.tx.conn().await?)
        .await?;
        Ok(())
    }

    /// Replaces the organisation's policies.
    pub async fn set_sla_policies(&mut self, org_id: Uuid, policies: &[SlaPolicy]) -> Result<()> {
        sqlx::query("DELETE FROM sla_policies WHERE org_id = $1")
            .bind(org_id.to_string())
            .execute(self.tx.conn().await?)
            .await?;
        for p in policies {
            sqlx::query(
                "INSERT INTO sla_policies (org_id, priority, first_response_mins, next_response_mins, resolution_mins) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(org_id.to_string())
            .bind(p.priority.as_str())
            .bind(p.first_response_mins.map(i64::from))
            .bind(p.next_response_mins.map(i64::from))
            .bind(p.resolution_mins.map(i64::from))
            .execute(self.tx.conn().await?)
            .await?;
        }
        Ok(())
    }

    pub async fn set_team_business_hours(&mut self, org_id: Uuid, team_id: Uuid, hours: Option<&str>) -> Result<bool> {
        let done = sqlx::query("UPDATE teams SET business_hours = $3 WHERE id = $1 AND org_id = $2")
            .bind(team_id.to_string())
            .bind(org_id.to_string())
            .bind(hours)
            .execute(self.tx.conn().await?)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}
