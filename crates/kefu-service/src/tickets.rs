//! Tickets: creating them (by hand, through the API, or from a chat), changing them with every change written
//! to the history, comments and replies, bulk status changes, the SLA policies and team calendars their due
//! times are counted in, and the timers that announce breaches and close solved tickets.

use crate::{Notification, Result, Service, ServiceError, new_id};
use kefu_core::model::*;
use kefu_core::ticket::*;
use kefu_core::widget::WorkingHours;
use kefu_core::{DomainError, validate};
use kefu_store::{TicketFilter, Tx, now_ms};
use uuid::Uuid;

/// Who a new ticket is for: a known contact, or someone described by name, email and phone.
#[derive(Debug, Clone, Default)]
pub struct RequesterInput {
    pub id: Option<Uuid>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct NewTicket {
    pub subject: String,
    pub description: String,
    pub priority: Option<TicketPriority>,
    pub requester: Option<RequesterInput>,
    pub assignee_id: Option<Uuid>,
    pub team_id: Option<Uuid>,
    pub tags: Vec<String>,
}

/// A change to a ticket; `None` leaves a field as it is, `Some(None)` clears an optional one.
#[derive(Debug, Clone, Default)]
pub struct TicketChanges {
    pub subject: Option<String>,
    pub status: Option<TicketStatus>,
    pub priority: Option<TicketPriority>,
    pub assignee_id: Option<Option<Uuid>>,
    pub team_id: Option<Option<Uuid>>,
    pub tags: Option<Vec<String>>,
}

fn actor_of(user: &User) -> Actor {
    Actor {
        kind: ActorKind::Agent,
        id: Some(user.id),
        name: user.name.clone(),
    }
}

pub(crate) fn system() -> Actor {
    Actor {
        kind: ActorKind::System,
        id: None,
        name: "Kefu".into(),
    }
}

/// A new ticket's requester: found, or to be made inside the ticket's transaction.
enum RequesterPlan {
    Known(Requester),
    New {
        inbox_id: Uuid,
        label: String,
        email: Option<String>,
        phone: Option<String>,
    },
}

/// Policies, teams and a resolved assignee: what applying a change reads, loaded before the change's transaction.
struct TicketBook {
    policies: Vec<SlaPolicy>,
    teams: std::collections::HashMap<Uuid, Team>,
    /// The assignee a change names, found and active.
    assignee: Option<Option<Assignee>>,
}

impl TicketBook {
    fn team(&self, id: Uuid) -> Result<&Team> {
        self.teams.get(&id).ok_or(ServiceError::NotFound("team"))
    }
}

/// Due times from the policy for the ticket's priority, counted in its team's working hours (around the clock
/// without a calendar).
fn recompute_due(record: &mut TicketRecord, book: &TicketBook) {
    let policy = book.policies.iter().find(|p| p.priority == record.priority);
    let hours = record
        .team_id
        .and_then(|t| book.teams.get(&t))
        .and_then(|t| t.business_hours.clone())
        .unwrap_or_default();
    record.due = SlaDue::compute(policy, &hours, &record.clock);
    // A breach announced under the old terms stands only if the new terms are missed too.
    let missed = record.due.breached(&record.clock, now_ms());
    record.announced.retain(|t| missed.contains(t));
}

/// A history line.
fn line(ticket: Uuid, actor: &Actor, kind: TicketEventKind, now: i64) -> TicketEvent {
    TicketEvent {
        id: new_id(),
        ticket_id: ticket,
        actor: actor.clone(),
        kind,
        field: None,
        old: None,
        new: None,
        content: None,
        private: false,
        created_at: Timestamp(now),
    }
}

fn change(ticket: Uuid, actor: &Actor, field: &str, old: Option<String>, new: Option<String>, now: i64) -> TicketEvent {
    TicketEvent {
        field: Some(field.into()),
        old,
        new,
        ..line(ticket, actor, TicketEventKind::Changed, now)
    }
}

impl Service {
    fn ticket_view(&self, record: &TicketRecord) -> Ticket {
        record.view(now_ms())
    }

    fn publish_ticket(&self, record: &TicketRecord) {
        self.publish_ticket_change(record, None, None);
    }

    /// Also tells whoever the ticket was taken from, and the team it left, so their lists drop it.
    fn publish_ticket_change(
        &self,
        record: &TicketRecord,
        previous_assignee: Option<Uuid>,
        previous_team: Option<Uuid>,
    ) {
        let assignee = record.assignee.as_ref().map(|a| a.id);
        self.publish(vec![Notification::TicketUpdated {
            ticket: self.ticket_view(record),
            previous_assignee: previous_assignee.filter(|p| Some(*p) != assignee),
            previous_team: previous_team.filter(|p| Some(*p) != record.team_id),
        }]);
    }

    /// What a change to tickets of an organisation may need to know, read before its transaction begins (a
    /// read from the pool while a transaction holds a connection could wait on itself when the pool is busy).
    async fn ticket_book(&self, org_id: Uuid, assignee: Option<Option<Uuid>>) -> Result<TicketBook> {
        let assignee = match assignee {
            Some(Some(id)) => Some(Some(self.assignee(org_id, id).await?)),
            Some(None) => Some(None),
            None => None,
        };
        Ok(TicketBook {
            policies: self.store().sla_policies(org_id).await?,
            teams: self
                .store()
                .teams(org_id)
                .await?
                .into_iter()
                .map(|t| (t.id, t))
                .collect(),
            assignee,
        })
    }

    async fn assignee(&self, org_id: Uuid, id: Uuid) -> Result<Assignee> {
        let user = self
            .store()
            .user(org_id, id)
            .await?
            .filter(|u| u.active)
            .ok_or(ServiceError::NotFound("agent"))?;
        Ok(Assignee {
            id: user.id,
            name: user.name,
        })
    }

    /// Who a new ticket is for: a known contact (the one named, or the one with that email), or one to make in
    /// the organisation's first inbox. Only reads, so it runs before the ticket's transaction.
    async fn find_requester(&self, org_id: Uuid, input: &RequesterInput) -> Result<RequesterPlan> {
        let known = |c: Contact| {
            RequesterPlan::Known(Requester {
                id: c.id,
                name: c.name,
                email: c.email,
                phone: c.phone,
            })
        };
        if let Some(id) = input.id {
            let contact = self
                .store()
                .contact(org_id, id)
                .await?
                .ok_or(ServiceError::NotFound("contact"))?;
            return Ok(known(contact));
        }
        let trimmed = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(String::from);
        let email = trimmed(&input.email).map(|e| validate::email(&e)).transpose()?;
        let phone = trimmed(&input.phone).map(|p| validate::phone(&p)).transpose()?;
        let name = trimmed(&input.name)
            .map(|n| validate::name("requester.name", &n))
            .transpose()?;
        if let Some(e) = &email
            && let Some(c) = self.store().contact_by_email(org_id, e).await?
        {
            return Ok(known(c));
        }
        let Some(label) = name.or_else(|| email.clone()).or_else(|| phone.clone()) else {
            return Err(DomainError::invalid("requester", "give a name, an email or a phone").into());
        };
        let inbox = self
            .store()
            .inboxes(org_id)
            .await?
            .into_iter()
            .next()
            .ok_or(ServiceError::NotFound("inbox"))?;
        Ok(RequesterPlan::New {
            inbox_id: inbox.id,
            label,
            email,
            phone,
        })
    }

    pub async fn create_ticket(&self, user: &User, new: NewTicket) -> Result<Ticket> {
        self.insert_new_ticket(user.org_id, &actor_of(user), new, None).await
    }

    pub(crate) async fn insert_new_ticket(
        &self,
        org_id: Uuid,
        actor: &Actor,
        new: NewTicket,
        conversation_id: Option<Uuid>,
    ) -> Result<Ticket> {
        let subject = subject(&new.subject)?;
        if new.description.chars().count() > 50_000 {
            return Err(DomainError::invalid("description", "at most 50000 characters").into());
        }
        let tags = tags(&new.tags)?;
        let assignee = match new.assignee_id {
            Some(id) => Some(self.assignee(org_id, id).await?),
            None => None,
        };
        let book = self.ticket_book(org_id, None).await?;
        if let Some(team) = new.team_id {
            book.team(team)?;
        }
        let mut plan = match &new.requester {
            Some(r) => Some(self.find_requester(org_id, r).await?),
            None => None,
        };
        // A ticket with no conversation behind it (made by hand, by the API, on the web form) mails its requester
        // from an email inbox: the thread their answers come back through.
        let requester_email = match &plan {
            Some(RequesterPlan::Known(r)) => r.email.clone(),
            Some(RequesterPlan::New { email, .. }) => email.clone(),
            None => None,
        };
        let mail = match (conversation_id, requester_email) {
            (None, Some(email)) => match self.ticket_mail_inbox(org_id).await? {
                Some(inbox) => {
                    if let Some(RequesterPlan::New { inbox_id, .. }) = &mut plan {
                        *inbox_id = inbox.id;
                    }
                    let contact = self.store().inbox_contact_by_email(inbox.id, &email).await?;
                    Some((inbox, contact, email))
                }
                None => None,
            },
            _ => None,
        };
        let now = now_ms();
        let mut tx = self.store().begin().await?;
        tx.lock_organisation(org_id).await?;
        let requester = match plan {
            Some(RequesterPlan::Known(r)) => Some(r),
            Some(RequesterPlan::New {
                inbox_id,
                label,
                email,
                phone,
            }) => {
                let id = new_id();
                tx.insert_contact(id, org_id, inbox_id, None, &label, &serde_json::json!({}), now)
                    .await?;
                let c = tx
                    .update_contact(id, None, Some(email.as_deref()), Some(phone.as_deref()), None, now)
                    .await?;
                Some(Requester {
                    id: c.id,
                    name: c.name,
                    email: c.email,
                    phone: c.phone,
                })
            }
            None => None,
        };
        let thread = match (&mail, &requester) {
            (Some((inbox, known, email)), Some(r)) => {
                let contact = match known {
                    Some(id) => *id,
                    None if tx.contact(r.id).await?.inbox_id == inbox.id => r.id,
                    None => {
                        let id = new_id();
                        tx.insert_contact(id, org_id, inbox.id, None, &r.name, &serde_json::json!({}), now)
                            .await?;
                        tx.update_contact(id, None, Some(Some(email)), None, None, now).await?;
                        id
                    }
                };
                // The thread is where the mails are, not live work: it waits closed until the requester answers.
                let id = new_id();
                tx.insert_conversation(id, org_id, inbox.id, contact, now).await?;
                tx.close_conversation(id, now).await?;
                Some((id, inbox.clone()))
            }
            _ => None,
        };
        let conversation_id = conversation_id.or(thread.as_ref().map(|(id, _)| *id));
        let mut record = TicketRecord {
            id: new_id(),
            org_id,
            number: tx.next_ticket_number(org_id).await?,
            subject,
            description: new.description,
            status: TicketStatus::New,
            priority: new.priority.unwrap_or(TicketPriority::Normal),
            assignee,
            team_id: new.team_id,
            requester,
            tags,
            conversation_id,
            clock: SlaClock {
                created_at: now,
                ..Default::default()
            },
            due: SlaDue::default(),
            announced: Vec::new(),
            closed_at: None,
            updated_at: now,
        };
        recompute_due(&mut record, &book);
        tx.insert_ticket(&record).await.map_err(|e| {
            if e.is_unique_violation() {
                ServiceError::Conflict("this conversation already has a ticket".into())
            } else {
                e.into()
            }
        })?;
        tx.insert_ticket_event(&line(record.id, actor, TicketEventKind::Created, now))
            .await?;
        self.commit(tx).await?;
        self.publish_ticket(&record);
        let ticket = self.ticket_view(&record);
        if let Some((conversation_id, inbox)) = thread {
            // The ticket stands whether or not the notice can be queued; the agent's first reply starts the thread.
            if let Err(e) = self.tell_requester_opened(&ticket, conversation_id, &inbox).await {
                tracing::warn!(ticket = %record.id, error = %e, "the ticket's opening notice was not queued");
            }
        }
        Ok(ticket)
    }

    /// The email inbox tickets without a conversation mail their requesters from: the one that makes tickets,
    /// else the organisation's first.
    async fn ticket_mail_inbox(&self, org_id: Uuid) -> Result<Option<Inbox>> {
        let mut inboxes: Vec<Inbox> = self
            .store()
            .inboxes(org_id)
            .await?
            .into_iter()
            .filter(|i| i.kind == InboxKind::Email)
            .collect();
        let preferred = inboxes
            .iter()
            .position(|i| i.settings["tickets"].as_bool() == Some(true))
            .unwrap_or(0);
        Ok((!inboxes.is_empty()).then(|| inboxes.swap_remove(preferred)))
    }

    /// Mails the requester the new ticket's number, in the language they wrote in.
    pub(crate) async fn tell_requester_opened(
        &self,
        ticket: &Ticket,
        conversation_id: Uuid,
        inbox: &Inbox,
    ) -> Result<()> {
        let chinese = kefu_core::email::writes_chinese(&format!("{} {}", ticket.subject, ticket.description));
        let text = kefu_core::email::notice(
            kefu_core::email::Notice::Opened,
            chinese,
            ticket.number,
            &ticket.subject,
        );
        self.post_to_thread(conversation_id, self.inbox_sender(inbox), &text)
            .await?;
        Ok(())
    }

    /// Turns a chat into a ticket: the chat's contact asks, its first visitor message says what about.
    pub async fn convert_to_ticket(
        &self,
        user: &User,
        conversation_id: Uuid,
        subject: Option<String>,
        priority: Option<TicketPriority>,
    ) -> Result<Ticket> {
        let conversation = self.readable_conversation(user, conversation_id).await?;
        if let Some(existing) = self.store().ticket_for_conversation(conversation_id).await? {
            return Err(ServiceError::Conflict(format!(
                "this conversation is already ticket #{}",
                existing.number
            )));
        }
        let first = self
            .agent_sync(user, conversation_id, 0)
            .await?
            .messages
            .into_iter()
            .find(|m| m.sender.kind == SenderKind::Visitor);
        let contact = self
            .store()
            .contact(user.org_id, conversation.contact_id)
            .await?
            .ok_or(ServiceError::NotFound("contact"))?;
        let subject = subject
            .filter(|s| !s.trim().is_empty())
            .or_else(|| {
                first
                    .as_ref()
                    .and_then(|m| m.content.lines().map(str::trim).find(|l| !l.is_empty()))
                    .map(|l| l.chars().take(200).collect())
            })
            .unwrap_or_else(|| format!("Chat with {}", contact.name));
        let new = NewTicket {
            subject,
            description: first.map(|m| m.content).unwrap_or_default(),
            priority,
            requester: Some(RequesterInput {
                id: Some(contact.id),
                ..Default::default()
            }),
            assignee_id: match conversation.assignee.as_ref() {
                // Whoever had the chat has the ticket, unless they have left since.
                Some(a) if conversation.status != ConversationStatus::Queued => {
                    self.assignee(user.org_id, a.id).await.ok().map(|a| a.id)
                }
                _ => None,
            },
            team_id: conversation.team_id,
            tags: Vec::new(),
        };
        self.insert_new_ticket(user.org_id, &actor_of(user), new, Some(conversation_id))
            .await
    }

    pub async fn ticket(&self, user: &User, id: Uuid) -> Result<(Ticket, Vec<TicketEvent>)> {
        let record = self
            .store()
            .ticket(user.org_id, id)
            .await?
            .ok_or(ServiceError::NotFound("ticket"))?;
        let events = self.store().ticket_events(id).await?;
        Ok((self.ticket_view(&record), events))
    }

    pub async fn tickets(&self, user: &User, filter: TicketFilter) -> Result<Vec<Ticket>> {
        let now = now_ms();
        let records = self.store().tickets(user.org_id, &filter, now).await?;
        Ok(records.iter().map(|r| r.view(now)).collect())
    }

    /// Applies `changes` to a locked ticket, recording each one. Returns the history lines written.
    async fn apply_changes(
        &self,
        tx: &mut Tx,
        record: &mut TicketRecord,
        actor: &Actor,
        changes: &TicketChanges,
        book: &TicketBook,
        now: i64,
    ) -> Result<Vec<TicketEvent>> {
        check_changeable(record.status)?;
        let mut events = Vec::new();
        let mut due_changed = false;
        if let Some(s) = &changes.subject {
            let s = subject(s)?;
            if s != record.subject {
                events.push(change(
                    record.id,
                    actor,
                    "subject",
                    Some(record.subject.clone()),
                    Some(s.clone()),
                    now,
                ));
                record.subject = s;
            }
        }
        if let Some(p) = changes.priority.filter(|p| *p != record.priority) {
            events.push(change(
                record.id,
                actor,
                "priority",
                Some(record.priority.to_string()),
                Some(p.to_string()),
                now,
            ));
            record.priority = p;
            due_changed = true;
        }
        if changes.assignee_id.is_some() {
            let assignee = book.assignee.clone().flatten();
            if assignee.as_ref().map(|a| a.id) != record.assignee.as_ref().map(|a| a.id) {
                let name = |a: &Option<Assignee>| a.as_ref().map(|a| a.name.clone());
                events.push(change(
                    record.id,
                    actor,
                    "assignee",
                    name(&record.assignee),
                    name(&assignee),
                    now,
                ));
                record.assignee = assignee;
            }
        }
        if let Some(t) = changes.team_id.filter(|t| *t != record.team_id) {
            let old = record
                .team_id
                .and_then(|id| book.teams.get(&id))
                .map(|t| t.name.clone());
            let new = match t {
                Some(id) => Some(book.team(id)?.name.clone()),
                None => None,
            };
            events.push(change(record.id, actor, "team", old, new, now));
            record.team_id = t;
            due_changed = true;
        }
        if let Some(t) = &changes.tags {
            let t = tags(t)?;
            if t != record.tags {
                events.push(change(
                    record.id,
                    actor,
                    "tags",
                    Some(record.tags.join(",")),
                    Some(t.join(",")),
                    now,
                ));
                record.tags = t;
            }
        }
        if let Some(s) = changes.status.filter(|s| *s != record.status) {
            events.push(change(
                record.id,
                actor,
                "status",
                Some(record.status.to_string()),
                Some(s.to_string()),
                now,
            ));
            match s {
                TicketStatus::Solved => record.clock.solved_at = Some(now),
                TicketStatus::Closed => {
                    record.clock.solved_at.get_or_insert(now);
                    record.closed_at = Some(now);
                }
                _ => record.clock.solved_at = None,
            }
            record.status = s;
        }
        if due_changed {
            recompute_due(record, book);
        }
        if !events.is_empty() {
            record.updated_at = now;
            tx.save_ticket(record).await?;
            for e in &events {
                tx.insert_ticket_event(e).await?;
            }
        }
        Ok(events)
    }

    pub async fn update_ticket(&self, user: &User, id: Uuid, changes: TicketChanges) -> Result<Ticket> {
        let book = self.ticket_book(user.org_id, changes.assignee_id).await?;
        let now = now_ms();
        let mut tx = self.store().begin().await?;
        let mut record = tx
            .ticket_for_update(user.org_id, id)
            .await?
            .ok_or(ServiceError::NotFound("ticket"))?;
        let (before_assignee, before_team) = (record.assignee.as_ref().map(|a| a.id), record.team_id);
        let events = self
            .apply_changes(&mut tx, &mut record, &actor_of(user), &changes, &book, now)
            .await?;
        tx.commit().await?;
        if !events.is_empty() {
            self.publish_ticket_change(&record, before_assignee, before_team);
        }
        self.tell_requester_if_solved(&record, &events).await?;
        Ok(self.ticket_view(&record))
    }

    /// Sets the status of several tickets at once: all of them, or none when one cannot change.
    pub async fn bulk_ticket_status(&self, user: &User, ids: &[Uuid], status: TicketStatus) -> Result<Vec<Ticket>> {
        if ids.is_empty() || ids.len() > 200 {
            return Err(DomainError::invalid("ids", "give 1-200 tickets").into());
        }
        let now = now_ms();
        let changes = TicketChanges {
            status: Some(status),
            ..Default::default()
        };
        let book = self.ticket_book(user.org_id, None).await?;
        let mut tx = self.store().begin().await?;
        let mut changed = Vec::with_capacity(ids.len());
        for id in ids {
            let mut record = tx
                .ticket_for_update(user.org_id, *id)
                .await?
                .ok_or(ServiceError::NotFound("ticket"))?;
            let events = self
                .apply_changes(&mut tx, &mut record, &actor_of(user), &changes, &book, now)
                .await
                .map_err(|e| match e {
                    ServiceError::Domain(DomainError::TicketClosed) => ServiceError::Domain(DomainError::invalid(
                        "ids",
                        format!("ticket #{} is closed", record.number),
                    )),
                    other => other,
                })?;
            changed.push((record, events));
        }
        tx.commit().await?;
        for (r, events) in &changed {
            self.publish_ticket(r);
            self.tell_requester_if_solved(r, events).await?;
        }
        Ok(changed.iter().map(|(r, _)| self.ticket_view(r)).collect())
    }

    /// A reply to the requester (public) or an internal note (private). The first reply is the first response;
    /// a reply answers whatever the requester wrote last; a reply to a new ticket opens it.
    pub async fn comment_ticket(&self, user: &User, id: Uuid, content: &str, private: bool) -> Result<TicketEvent> {
        validate::message_content(content)?;
        let now = now_ms();
        let actor = actor_of(user);
        let book = self.ticket_book(user.org_id, None).await?;
        let mut tx = self.store().begin().await?;
        let mut record = tx
            .ticket_for_update(user.org_id, id)
            .await?
            .ok_or(ServiceError::NotFound("ticket"))?;
        check_changeable(record.status)?;
        let comment = TicketEvent {
            content: Some(content.to_string()),
            private,
            ..line(id, &actor, TicketEventKind::Comment, now)
        };
        tx.insert_ticket_event(&comment).await?;
        if !private {
            record.clock.first_response_at.get_or_insert(now);
            record.clock.awaiting_reply_since = None;
            record.due.next_response = None;
            if record.status == TicketStatus::New {
                let open = TicketChanges {
                    status: Some(TicketStatus::Open),
                    ..Default::default()
                };
                self.apply_changes(&mut tx, &mut record, &actor, &open, &book, now)
                    .await?;
            }
        }
        record.updated_at = now;
        tx.save_ticket(&record).await?;
        tx.commit().await?;
        self.publish_ticket(&record);
        // A reply to a ticket that came from a conversation goes to the requester there (by mail, for email).
        if let (false, Some(conversation_id)) = (private, record.conversation_id) {
            let sender = Sender {
                kind: SenderKind::Agent,
                id: Some(user.id),
                name: user.name.clone(),
            };
            self.post_to_thread(conversation_id, sender, content).await?;
        }
        Ok(comment)
    }

    /// The requester wrote again (a mail into the ticket's thread): the next response is owed from now, and a
    /// solved or pending ticket opens again.
    pub(crate) async fn requester_wrote(&self, org_id: Uuid, id: Uuid, contact: &Contact) -> Result<()> {
        let now = now_ms();
        let actor = Actor {
            kind: ActorKind::Contact,
            id: Some(contact.id),
            name: contact.name.clone(),
        };
        let book = self.ticket_book(org_id, None).await?;
        let mut tx = self.store().begin().await?;
        let Some(mut record) = tx.ticket_for_update(org_id, id).await? else {
            return Ok(());
        };
        if record.status == TicketStatus::Closed {
            return Ok(());
        }
        record.clock.awaiting_reply_since.get_or_insert(now);
        if matches!(record.status, TicketStatus::Solved | TicketStatus::Pending) {
            let open = TicketChanges {
                status: Some(TicketStatus::Open),
                ..Default::default()
            };
            self.apply_changes(&mut tx, &mut record, &actor, &open, &book, now)
                .await?;
        }
        recompute_due(&mut record, &book);
        record.updated_at = now;
        tx.save_ticket(&record).await?;
        tx.commit().await?;
        self.publish_ticket(&record);
        Ok(())
    }

    /// A ticket just solved tells its requester, when it came from an email thread.
    async fn tell_requester_if_solved(&self, record: &TicketRecord, events: &[TicketEvent]) -> Result<()> {
        let solved = events
            .iter()
            .any(|e| e.field.as_deref() == Some("status") && e.new.as_deref() == Some(TicketStatus::Solved.as_str()));
        let Some(conversation_id) = record.conversation_id.filter(|_| solved) else {
            return Ok(());
        };
        let Some(conversation) = self.store().conversation(conversation_id).await? else {
            return Ok(());
        };
        let Some(inbox) = self.store().inbox(record.org_id, conversation.inbox_id).await? else {
            return Ok(());
        };
        if inbox.kind != InboxKind::Email {
            return Ok(());
        }
        let chinese = kefu_core::email::writes_chinese(&format!("{} {}", record.subject, record.description));
        let text = kefu_core::email::notice(
            kefu_core::email::Notice::Solved,
            chinese,
            record.number,
            &record.subject,
        );
        self.post_to_thread(conversation_id, self.inbox_sender(&inbox), &text)
            .await?;
        Ok(())
    }

    pub async fn sla_policies(&self, user: &User) -> Result<Vec<SlaPolicy>> {
        Ok(self.store().sla_policies(user.org_id).await?)
    }

    /// Replaces the organisation's SLA policies. Tickets opened from now on get the new due times.
    pub async fn set_sla_policies(&self, admin: &User, policies: &[SlaPolicy]) -> Result<Vec<SlaPolicy>> {
        crate::auth::require_admin(admin)?;
        for (i, p) in policies.iter().enumerate() {
            p.check()?;
            if policies[..i].iter().any(|q| q.priority == p.priority) {
                return Err(DomainError::invalid("policies", format!("{} is given twice", p.priority)).into());
            }
        }
        let mut tx = self.store().begin().await?;
        tx.set_sla_policies(admin.org_id, policies).await?;
        tx.commit().await?;
        self.sla_policies(admin).await
    }

    /// The working hours a team's tickets count their SLA in; `None` counts around the clock.
    pub async fn set_team_business_hours(
        &self,
        admin: &User,
        team_id: Uuid,
        hours: Option<&WorkingHours>,
    ) -> Result<Team> {
        crate::auth::require_admin(admin)?;
        if let Some(h) = hours {
            h.check_as("business_hours")?;
        }
        let json = hours.map(|h| serde_json::to_string(h).expect("working hours serialize"));
        let mut tx = self.store().begin().await?;
        if !tx
            .set_team_business_hours(admin.org_id, team_id, json.as_deref())
            .await?
        {
            return Err(ServiceError::NotFound("team"));
        }
        tx.commit().await?;
        self.team(admin, team_id).await
    }

    /// Announces SLA targets missed since the last look (once each, in the history and to supervisors) and
    /// closes tickets that have stayed solved for the configured time (counted from when they were solved).
    pub(crate) async fn run_ticket_timers(&self) -> Result<()> {
        let now = now_ms();
        for (id, org_id) in self.store().tickets_to_check(now).await? {
            let mut tx = self.store().begin().await?;
            let Some(mut record) = tx.ticket_for_update(org_id, id).await? else {
                continue;
            };
            let breaches = record.new_breaches(now);
            let breached_any = !breaches.is_empty();
            for target in &breaches {
                let mut e = line(id, &system(), TicketEventKind::SlaBreached, now);
                e.field = Some(target.to_string());
                tx.insert_ticket_event(&e).await?;
                record.announced.push(*target);
            }
            // Saving also moves the next look past what was just announced.
            tx.save_ticket(&record).await?;
            tx.commit().await?;
            let ticket = self.ticket_view(&record);
            self.publish(
                breaches
                    .into_iter()
                    .map(|target| Notification::TicketSlaBreached {
                        ticket: ticket.clone(),
                        target,
                    })
                    .collect(),
            );
            if breached_any {
                self.publish_ticket(&record);
            }
        }
        let cutoff = now - self.config().ticket_autoclose.as_millis() as i64;
        let close = TicketChanges {
            status: Some(TicketStatus::Closed),
            ..Default::default()
        };
        for (id, org_id) in self.store().tickets_to_close(cutoff).await? {
            let book = self.ticket_book(org_id, None).await?;
            let mut tx = self.store().begin().await?;
            let Some(mut record) = tx.ticket_for_update(org_id, id).await? else {
                continue;
            };
            // Another node's timer (or an agent) got there first while this one waited for the row.
            if record.status != TicketStatus::Solved {
                continue;
            }
            self.apply_changes(&mut tx, &mut record, &system(), &close, &book, now)
                .await?;
            tx.commit().await?;
            self.publish_ticket(&record);
        }
        Ok(())
    }
}
