//! Tickets: the work that is not a live chat, with a lifecycle (status, priority, who has it) and service-level
//! targets (first response, next response, resolution) counted in the team's working hours. The rules are here;
//! storage keeps the facts they are computed from.

use crate::DomainError;
use crate::model::{Assignee, Timestamp};
use crate::widget::WorkingHours;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

crate::model::string_enum!(
    /// Where a ticket stands. `solved` tickets close by themselves after a while; `closed` is final.
    TicketStatus { New => "new", Open => "open", Pending => "pending", OnHold => "on_hold", Solved => "solved", Closed => "closed" }
);

crate::model::string_enum!(
    TicketPriority { Low => "low", Normal => "normal", High => "high", Urgent => "urgent" }
);

crate::model::string_enum!(
    /// What a service-level policy promises.
    SlaTarget { FirstResponse => "first_response", NextResponse => "next_response", Resolution => "resolution" }
);

impl TicketStatus {
    /// Still being worked on: not solved and not closed.
    pub fn is_open(self) -> bool {
        !matches!(self, TicketStatus::Solved | TicketStatus::Closed)
    }
}

/// How long each target may take for tickets of one priority, in working minutes; `None` promises nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SlaPolicy {
    pub priority: TicketPriority,
    #[serde(default)]
    pub first_response_mins: Option<u32>,
    #[serde(default)]
    pub next_response_mins: Option<u32>,
    #[serde(default)]
    pub resolution_mins: Option<u32>,
}

impl SlaPolicy {
    pub fn check(&self) -> Result<(), DomainError> {
        // A year of working minutes is plenty; more is a typo.
        const MAX: u32 = 525_600;
        for (name, value) in [
            ("first_response_mins", self.first_response_mins),
            ("next_response_mins", self.next_response_mins),
            ("resolution_mins", self.resolution_mins),
        ] {
            if value.is_some_and(|v| v == 0 || v > MAX) {
                return Err(DomainError::invalid(name, "must be between 1 and 525600 minutes"));
            }
        }
        Ok(())
    }
}

/// The facts a ticket's service level is computed from (all times in ms since the epoch).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SlaClock {
    pub created_at: i64,
    pub first_response_at: Option<i64>,
    /// Since when the requester has been waiting for an answer to a later message, if they are.
    pub awaiting_reply_since: Option<i64>,
    pub solved_at: Option<i64>,
}

/// The due times a policy sets for a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SlaDue {
    pub first_response: Option<i64>,
    pub next_response: Option<i64>,
    pub resolution: Option<i64>,
}

fn add(hours: &WorkingHours, from: i64, minutes: Option<u32>) -> Option<i64> {
    let start = chrono::DateTime::from_timestamp_millis(from)?;
    Some(hours.add_working_minutes(start, i64::from(minutes?)).timestamp_millis())
}

impl SlaDue {
    pub fn compute(policy: Option<&SlaPolicy>, hours: &WorkingHours, clock: &SlaClock) -> SlaDue {
        let Some(p) = policy else {
            return SlaDue::default();
        };
        SlaDue {
            first_response: add(hours, clock.created_at, p.first_response_mins),
            next_response: clock
                .awaiting_reply_since
                .and_then(|since| add(hours, since, p.next_response_mins)),
            resolution: add(hours, clock.created_at, p.resolution_mins),
        }
    }

    /// Targets missed by `now`: not met in time, or met late.
    pub fn breached(&self, clock: &SlaClock, now: i64) -> Vec<SlaTarget> {
        let missed = |due: Option<i64>, met: Option<i64>| due.is_some_and(|d| met.unwrap_or(now) > d);
        let mut out = Vec::new();
        if missed(self.first_response, clock.first_response_at) {
            out.push(SlaTarget::FirstResponse);
        }
        if clock.awaiting_reply_since.is_some() && missed(self.next_response, None) && clock.solved_at.is_none() {
            out.push(SlaTarget::NextResponse);
        }
        if missed(self.resolution, clock.solved_at) {
            out.push(SlaTarget::Resolution);
        }
        out
    }

    /// The earliest due time still to be met: when the ticket next needs looking at.
    pub fn next_due(&self, clock: &SlaClock) -> Option<i64> {
        let pending = [
            self.first_response.filter(|_| clock.first_response_at.is_none()),
            self.next_response.filter(|_| clock.awaiting_reply_since.is_some()),
            self.resolution,
        ];
        if clock.solved_at.is_some() {
            return None;
        }
        pending.into_iter().flatten().min()
    }
}

crate::model::string_enum!(
    /// A ticket's service level at a glance, for lists and filters.
    SlaState { None => "none", Ok => "ok", DueSoon => "due_soon", Breached => "breached" }
);

/// Within this long of a due time, a ticket is "due soon".
pub const DUE_SOON_MS: i64 = 3_600_000;

/// A ticket's service level as clients see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Sla {
    pub first_response_due: Option<Timestamp>,
    pub next_response_due: Option<Timestamp>,
    pub resolution_due: Option<Timestamp>,
    pub state: SlaState,
    pub breached: Vec<SlaTarget>,
}

impl Sla {
    pub fn view(due: &SlaDue, clock: &SlaClock, now: i64) -> Sla {
        let breached = due.breached(clock, now);
        let next = due.next_due(clock);
        let state = if !breached.is_empty() {
            SlaState::Breached
        } else if next.is_some_and(|d| d - now <= DUE_SOON_MS) {
            SlaState::DueSoon
        } else if due.first_response.or(due.next_response).or(due.resolution).is_some() {
            SlaState::Ok
        } else {
            SlaState::None
        };
        Sla {
            first_response_due: due.first_response.map(Timestamp),
            next_response_due: due.next_response.map(Timestamp),
            resolution_due: due.resolution.map(Timestamp),
            state,
            breached,
        }
    }
}

/// The requester, as a ticket shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Requester {
    pub id: Uuid,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Ticket {
    pub id: Uuid,
    pub org_id: Uuid,
    /// Per organisation, from 1; shown as `#123`.
    pub number: i64,
    pub subject: String,
    pub description: String,
    pub status: TicketStatus,
    pub priority: TicketPriority,
    pub assignee: Option<Assignee>,
    pub team_id: Option<Uuid>,
    pub requester: Option<Requester>,
    pub tags: Vec<String>,
    /// The conversation behind the ticket: the chat or mail it was made from, or the mail thread Kefu started
    /// with its requester. Public comments are posted there.
    pub conversation_id: Option<Uuid>,
    pub sla: Sla,
    pub first_response_at: Option<Timestamp>,
    pub solved_at: Option<Timestamp>,
    pub closed_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

crate::model::string_enum!(
    TicketEventKind { Created => "created", Changed => "changed", Comment => "comment", SlaBreached => "sla_breached" }
);

crate::model::string_enum!(
    ActorKind { Agent => "agent", Contact => "contact", System => "system" }
);

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Actor {
    pub kind: ActorKind,
    pub id: Option<Uuid>,
    pub name: String,
}

/// One line of a ticket's history: who changed what when, or a comment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TicketEvent {
    pub id: Uuid,
    pub ticket_id: Uuid,
    pub actor: Actor,
    pub kind: TicketEventKind,
    /// What changed (`status`, `priority`, `assignee`, `team`, `subject`, `tags`), or the SLA target missed.
    pub field: Option<String>,
    pub old: Option<String>,
    pub new: Option<String>,
    pub content: Option<String>,
    pub private: bool,
    pub created_at: Timestamp,
}

/// A ticket as stored: the facts its view (and its service level at any moment) is computed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketRecord {
    pub id: Uuid,
    pub org_id: Uuid,
    pub number: i64,
    pub subject: String,
    pub description: String,
    pub status: TicketStatus,
    pub priority: TicketPriority,
    pub assignee: Option<Assignee>,
    pub team_id: Option<Uuid>,
    pub requester: Option<Requester>,
    pub tags: Vec<String>,
    pub conversation_id: Option<Uuid>,
    pub clock: SlaClock,
    pub due: SlaDue,
    /// Breaches already announced, so each is announced once.
    pub announced: Vec<SlaTarget>,
    pub closed_at: Option<i64>,
    pub updated_at: i64,
}

impl TicketRecord {
    pub fn view(&self, now: i64) -> Ticket {
        Ticket {
            id: self.id,
            org_id: self.org_id,
            number: self.number,
            subject: self.subject.clone(),
            description: self.description.clone(),
            status: self.status,
            priority: self.priority,
            assignee: self.assignee.clone(),
            team_id: self.team_id,
            requester: self.requester.clone(),
            tags: self.tags.clone(),
            conversation_id: self.conversation_id,
            sla: Sla::view(&self.due, &self.clock, now),
            first_response_at: self.clock.first_response_at.map(Timestamp),
            solved_at: self.clock.solved_at.map(Timestamp),
            closed_at: self.closed_at.map(Timestamp),
            created_at: Timestamp(self.clock.created_at),
            updated_at: Timestamp(self.updated_at),
        }
    }

    /// When this ticket next needs a look from the SLA timer: the earliest due time still pending and not yet
    /// announced as breached.
    pub fn next_check(&self) -> Option<i64> {
        if !self.status.is_open() {
            return None;
        }
        let pending = [
            (
                SlaTarget::FirstResponse,
                self.due
                    .first_response
                    .filter(|_| self.clock.first_response_at.is_none()),
            ),
            (
                SlaTarget::NextResponse,
                self.due
                    .next_response
                    .filter(|_| self.clock.awaiting_reply_since.is_some()),
            ),
            (
                SlaTarget::Resolution,
                self.due.resolution.filter(|_| self.clock.solved_at.is_none()),
            ),
        ];
        pending
            .into_iter()
            .filter(|(t, _)| !self.announced.contains(t))
            .filter_map(|(_, d)| d)
            .min()
    }

    /// Breaches at `now` not announced before.
    pub fn new_breaches(&self, now: i64) -> Vec<SlaTarget> {
        if !self.status.is_open() {
            return Vec::new();
        }
        self.due
            .breached(&self.clock, now)
            .into_iter()
            .filter(|t| !self.announced.contains(t))
            .collect()
    }
}

/// A subject: trimmed, 1-200 characters.
pub fn subject(value: &str) -> Result<String, DomainError> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > 200 {
        return Err(DomainError::invalid("subject", "must be 1-200 characters"));
    }
    Ok(v.to_string())
}

/// Tags: trimmed, lower-cased, 1-40 characters without commas, at most 20, duplicates dropped, in order.
pub fn tags(values: &[String]) -> Result<Vec<String>, DomainError> {
    let mut out: Vec<String> = Vec::new();
    for v in values {
        let t = v.trim().to_lowercase();
        if t.is_empty() || t.chars().count() > 40 || t.contains(',') || t.chars().any(char::is_control) {
            return Err(DomainError::invalid(
                "tags",
                format!("{v:?} is not a tag (1-40 characters, no commas)"),
            ));
        }
        if !out.contains(&t) {
            out.push(t);
        }
    }
    if out.len() > 20 {
        return Err(DomainError::invalid("tags", "at most 20 tags"));
    }
    Ok(out)
}

/// Whether a ticket in `from` may be changed at all: a closed ticket is final.
pub fn check_changeable(from: TicketStatus) -> Result<(), DomainError> {
    if from == TicketStatus::Closed {
        return Err(DomainError::TicketClosed);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;
    const MIN: i64 = 60_000;

    fn policy() -> SlaPolicy {
        SlaPolicy {
            priority: TicketPriority::High,
            first_response_mins: Some(60),
            next_response_mins: Some(120),
            resolution_mins: Some(8 * 60),
        }
    }

    #[test]
    fn due_times_follow_the_policy_around_the_clock_without_working_hours() {
        let clock = SlaClock {
            created_at: 0,
            ..Default::default()
        };
        let due = SlaDue::compute(Some(&policy()), &WorkingHours::default(), &clock);
        assert_eq!(due.first_response, Some(H));
        assert_eq!(due.next_response, None, "nobody is waiting for a next answer yet");
        assert_eq!(due.resolution, Some(8 * H));
        assert_eq!(
            SlaDue::compute(None, &WorkingHours::default(), &clock),
            SlaDue::default()
        );
    }

    #[test]
    fn a_target_is_breached_when_missed_or_met_late_and_the_state_says_so() {
        let mut clock = SlaClock {
            created_at: 0,
            ..Default::default()
        };
        let hours = WorkingHours::default();
        let due = SlaDue::compute(Some(&policy()), &hours, &clock);
        assert_eq!(Sla::view(&due, &clock, 10 * MIN).state, SlaState::DueSoon);
        assert!(due.breached(&clock, H).is_empty(), "exactly at the due time is in time");
        assert_eq!(due.breached(&clock, H + 1), vec![SlaTarget::FirstResponse]);
        clock.first_response_at = Some(30 * MIN);
        assert!(due.breached(&clock, 2 * H).is_empty());
        assert_eq!(Sla::view(&due, &clock, 2 * H).state, SlaState::Ok);
        assert_eq!(due.next_due(&clock), Some(8 * H), "now only the resolution is pending");
        clock.first_response_at = Some(2 * H);
        assert_eq!(
            due.breached(&clock, 3 * H),
            vec![SlaTarget::FirstResponse],
            "answered late"
        );

        // The requester writes again: the next response is due two hours later.
        let mut clock = SlaClock {
            created_at: 0,
            first_response_at: Some(10 * MIN),
            awaiting_reply_since: Some(3 * H),
            solved_at: None,
        };
        let due = SlaDue::compute(Some(&policy()), &hours, &clock);
        assert_eq!(due.next_response, Some(5 * H));
        assert_eq!(due.next_due(&clock), Some(5 * H));
        assert_eq!(Sla::view(&due, &clock, 6 * H).breached, vec![SlaTarget::NextResponse]);
        clock.solved_at = Some(7 * H);
        assert_eq!(due.next_due(&clock), None, "nothing is pending once solved");
        assert!(
            due.breached(&clock, 9 * H).is_empty(),
            "solved within the resolution time"
        );
    }

    #[test]
    fn without_a_policy_the_state_is_none() {
        let clock = SlaClock::default();
        assert_eq!(Sla::view(&SlaDue::default(), &clock, 0).state, SlaState::None);
    }

    #[test]
    fn tags_are_normalised_and_checked() {
        let t = |v: &[&str]| tags(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(t(&[" VIP ", "refund", "vip"]).unwrap(), vec!["vip", "refund"]);
        assert!(t(&["a,b"]).is_err());
        assert!(t(&[""]).is_err());
        assert!(
            t(&(0..21)
                .map(|i| Box::leak(format!("t{i}").into_boxed_str()) as &str)
                .collect::<Vec<_>>())
            .is_err()
        );
        assert!(subject("  ").is_err());
        assert_eq!(subject(" Refund ").unwrap(), "Refund");
        assert_eq!(check_changeable(TicketStatus::Closed), Err(DomainError::TicketClosed));
        assert!(check_changeable(TicketStatus::Solved).is_ok());
    }
}
