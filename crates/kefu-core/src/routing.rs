//! The router (ACD): which online agent answers which waiting conversation.
//!
//! A pure state machine. Adapters load the part of the world the decision needs (agents with their presence,
//! capacity, teams and load; the waiting queue), apply one event, and commit the returned decisions in the same
//! transaction as the event's cause. After every event the router has drained its queue, so the invariant holds:
//! no conversation waits while an eligible online agent has spare capacity.

use crate::DomainError;
use crate::model::Presence;
use std::collections::{BTreeSet, HashMap};
use uuid::Uuid;

/// An agent as routing sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agent {
    pub id: Uuid,
    pub presence: Presence,
    pub capacity: u32,
    /// Open conversations assigned to the agent right now.
    pub load: u32,
    pub teams: Vec<Uuid>,
    /// Round-robin tie-break: among equally loaded agents the one served longest ago goes first.
    pub last_assigned: i64,
}

impl Agent {
    fn has_room(&self) -> bool {
        self.presence == Presence::Online && self.load < self.capacity
    }
}

/// A conversation that needs an agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    pub conversation_id: Uuid,
    pub inbox_id: Uuid,
    /// Set when the conversation was sent to a team (skill group); otherwise the inbox's teams apply.
    pub team_id: Option<Uuid>,
    /// The agent who last served this contact: preferred when eligible (sticky routing).
    pub preferred_agent: Option<Uuid>,
    /// Queue order: earlier first. Requeued conversations keep their original place.
    pub queued_at: i64,
}

impl Waiting {
    fn key(&self) -> (i64, Uuid) {
        (self.queued_at, self.conversation_id)
    }
}

/// Something that changes who can answer what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A conversation needs an agent: it was opened, sent to a team, or reopened.
    Waiting(Waiting),
    /// An agent's presence changed. Going offline hands their open conversations back to the queue.
    Presence { agent_id: Uuid, presence: Presence },
    /// An agent's capacity changed.
    Capacity { agent_id: Uuid, capacity: u32 },
    /// A conversation no longer needs routing (closed, or taken away from its agent) and frees its place.
    Released { conversation_id: Uuid },
    /// An agent joined or left teams.
    Teams { agent_id: Uuid, teams: Vec<Uuid> },
    /// An agent was deactivated: like going offline, and they leave routing altogether.
    Removed { agent_id: Uuid },
}

/// What the router decided; each must be committed with the event that caused it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Assigned {
        conversation_id: Uuid,
        agent_id: Uuid,
    },
    /// Taken from an agent who went offline; waiting again at its original place.
    Requeued {
        conversation_id: Uuid,
        from_agent: Uuid,
    },
}

/// The routing state of one organisation (or the slice of it an adapter loaded).
#[derive(Debug, Clone, Default)]
pub struct Router {
    agents: HashMap<Uuid, Agent>,
    queue: BTreeSet<(i64, Uuid)>,
    waiting: HashMap<Uuid, Waiting>,
    /// Assigned open conversations known to the router, with what is needed to requeue them.
    assigned: HashMap<Uuid, (Uuid, Waiting)>,
    /// Teams each inbox routes to; an inbox without teams is served by every agent.
    inbox_teams: HashMap<Uuid, Vec<Uuid>>,
    clock: i64,
}

impl Router {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add_agent(&mut self, agent: Agent) {
        self.clock = self.clock.max(agent.last_assigned);
        self.agents.insert(agent.id, agent);
    }

    pub fn set_inbox_teams(&mut self, inbox_id: Uuid, teams: Vec<Uuid>) {
        self.inbox_teams.insert(inbox_id, teams);
    }

    /// Loads a conversation already waiting, without draining (use `drain` once loading is complete).
    pub fn add_waiting(&mut self, waiting: Waiting) {
        self.queue.insert(waiting.key());
        self.waiting.insert(waiting.conversation_id, waiting);
    }

    /// Loads a conversation already assigned, so that it can be requeued if its agent leaves. The agent's `load`
    /// must already count it.
    pub fn add_assigned(&mut self, agent_id: Uuid, conversation: Waiting) {
        self.assigned
            .insert(conversation.conversation_id, (agent_id, conversation));
    }

    pub fn agent(&self, id: Uuid) -> Option<&Agent> {
        self.agents.get(&id)
    }

    pub fn agents(&self) -> impl Iterator<Item = &Agent> {
        self.agents.values()
    }

    pub fn is_waiting(&self, conversation_id: Uuid) -> bool {
        self.waiting.contains_key(&conversation_id)
    }

    /// Conversations waiting, in queue order.
    pub fn queue(&self) -> impl Iterator<Item = &Waiting> {
        self.queue.iter().map(|(_, id)| &self.waiting[id])
    }

    /// Position (from 1) of each waiting conversation among those waiting for the same team or inbox.
    pub fn queue_positions(&self) -> Vec<(Uuid, u32)> {
        let mut counters: HashMap<(Option<Uuid>, Uuid), u32> = HashMap::new();
        self.queue()
            .map(|w| {
                let scope = match w.team_id {
                    Some(team) => (Some(team), Uuid::nil()),
                    None => (None, w.inbox_id),
                };
                let n = counters.entry(scope).or_insert(0);
                *n += 1;
                (w.conversation_id, *n)
            })
            .collect()
    }

    /// Whether `agent` may take `waiting`, capacity aside.
    pub fn is_eligible(&self, agent: &Agent, waiting: &Waiting) -> bool {
        match waiting.team_id {
            Some(team) => agent.teams.contains(&team),
            None => match self.inbox_teams.get(&waiting.inbox_id) {
                Some(teams) if !teams.is_empty() => agent.teams.iter().any(|t| teams.contains(t)),
                _ => true,
            },
        }
    }

    pub fn apply(&mut self, event: Event) -> Vec<Decision> {
        let mut decisions = Vec::new();
        match event {
            Event::Waiting(w) => {
                self.release(w.conversation_id);
                self.add_waiting(w);
            }
            Event::Presence { agent_id, presence } => {
                if let Some(agent) = self.agents.get_mut(&agent_id) {
                    agent.presence = presence;
                }
                if presence == Presence::Offline {
                    self.requeue_all_of(agent_id, &mut decisions);
                }
            }
            Event::Capacity { agent_id, capacity } => {
                if let Some(agent) = self.agents.get_mut(&agent_id) {
                    agent.capacity = capacity;
                }
            }
            Event::Released { conversation_id } => self.release(conversation_id),
            Event::Teams { agent_id, teams } => {
                if let Some(agent) = self.agents.get_mut(&agent_id) {
                    agent.teams = teams;
                }
            }
            Event::Removed { agent_id } => {
                self.requeue_all_of(agent_id, &mut decisions);
                self.agents.remove(&agent_id);
            }
        }
        self.drain_into(&mut decisions);
        decisions
    }

    /// Assigns directly to a chosen agent (a transfer to a person). The agent must be online with spare capacity,
    /// so a transfer never overfills anyone.
    pub fn assign_to(&mut self, waiting: Waiting, agent_id: Uuid) -> Result<Vec<Decision>, DomainError> {
        if let Some((current, _)) = self.assigned.get(&waiting.conversation_id)
            && *current == agent_id
        {
            return Err(DomainError::AlreadyAssigned);
        }
        let agent = self.agents.get(&agent_id).ok_or(DomainError::AgentUnavailable)?;
        if agent.presence != Presence::Online {
            return Err(DomainError::AgentUnavailable);
        }
        if agent.load >= agent.capacity {
            return Err(DomainError::AgentAtCapacity);
        }
        self.release(waiting.conversation_id);
        let mut decisions = vec![self.assign(waiting, agent_id)];
        self.drain_into(&mut decisions);
        Ok(decisions)
    }

    /// Assigns every waiting conversation that an online agent can take.
    pub fn drain(&mut self) -> Vec<Decision> {
        let mut decisions = Vec::new();
        self.drain_into(&mut decisions);
        decisions
    }

    fn drain_into(&mut self, decisions: &mut Vec<Decision>) {
        if !self.agents.values().any(Agent::has_room) {
            return;
        }
        let keys: Vec<(i64, Uuid)> = self.queue.iter().copied().collect();
        for key in keys {
            let waiting = &self.waiting[&key.1];
            if let Some(agent_id) = self.pick(waiting) {
                let waiting = self.waiting.remove(&key.1).expect("queued conversation is waiting");
                self.queue.remove(&key);
                decisions.push(self.assign(waiting, agent_id));
                if !self.agents.values().any(Agent::has_room) {
                    return;
                }
            }
        }
    }

    /// Sticky first, then least loaded, then the one who waited longest since their last assignment.
    fn pick(&self, waiting: &Waiting) -> Option<Uuid> {
        if let Some(preferred) = waiting.preferred_agent.and_then(|id| self.agents.get(&id))
            && preferred.has_room()
            && self.is_eligible(preferred, waiting)
        {
            return Some(preferred.id);
        }
        self.agents
            .values()
            .filter(|a| a.has_room() && self.is_eligible(a, waiting))
            .min_by_key(|a| (a.load, a.last_assigned, a.id))
            .map(|a| a.id)
    }

    fn assign(&mut self, waiting: Waiting, agent_id: Uuid) -> Decision {
        self.clock += 1;
        let agent = self.agents.get_mut(&agent_id).expect("assignee is known");
        agent.load += 1;
        agent.last_assigned = self.clock;
        let conversation_id = waiting.conversation_id;
        self.assigned.insert(conversation_id, (agent_id, waiting));
        Decision::Assigned {
            conversation_id,
            agent_id,
        }
    }

    fn release(&mut self, conversation_id: Uuid) {
        if let Some(w) = self.waiting.remove(&conversation_id) {
            self.queue.remove(&w.key());
        }
        if let Some((agent_id, _)) = self.assigned.remove(&conversation_id)
            && let Some(agent) = self.agents.get_mut(&agent_id)
        {
            agent.load = agent.load.saturating_sub(1);
        }
    }

    fn requeue_all_of(&mut self, agent_id: Uuid, decisions: &mut Vec<Decision>) {
        let mut theirs: Vec<Uuid> = self
            .assigned
            .iter()
            .filter(|(_, (a, _))| *a == agent_id)
            .map(|(c, _)| *c)
            .collect();
        theirs.sort();
        for conversation_id in theirs {
            let (_, waiting) = self.assigned.remove(&conversation_id).expect("listed above");
            if let Some(agent) = self.agents.get_mut(&agent_id) {
                agent.load = agent.load.saturating_sub(1);
            }
            self.add_waiting(waiting);
            decisions.push(Decision::Requeued {
                conversation_id,
                from_agent: agent_id,
            });
        }
    }

    /// Checks the router's promises; returns the first one broken. Used by tests and debug assertions.
    pub fn check_invariants(&self) -> Result<(), String> {
        for agent in self.agents.values() {
            if agent.load > agent.capacity {
                return Err(format!(
                    "agent {} holds {} over capacity {}",
                    agent.id, agent.load, agent.capacity
                ));
            }
        }
        for waiting in self.queue() {
            if let Some(agent) = self
                .agents
                .values()
                .find(|a| a.has_room() && self.is_eligible(a, waiting))
            {
                return Err(format!(
                    "conversation {} waits while agent {} is online with room",
                    waiting.conversation_id, agent.id
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn agent(n: u128, teams: &[u128]) -> Agent {
        Agent {
            id: id(n),
            presence: Presence::Offline,
            capacity: 2,
            load: 0,
            teams: teams.iter().map(|t| id(*t)).collect(),
            last_assigned: 0,
        }
    }

    fn waiting(n: u128, inbox: u128, at: i64) -> Waiting {
        Waiting {
            conversation_id: id(n),
            inbox_id: id(inbox),
            team_id: None,
            preferred_agent: None,
            queued_at: at,
        }
    }

    fn online(r: &mut Router, n: u128) -> Vec<Decision> {
        r.apply(Event::Presence {
            agent_id: id(n),
            presence: Presence::Online,
        })
    }

    #[test]
    fn a_conversation_waits_until_an_agent_comes_online_then_goes_to_them() {
        let mut r = Router::new();
        r.add_agent(agent(1, &[]));
        assert!(r.apply(Event::Waiting(waiting(100, 9, 1))).is_empty());
        assert_eq!(r.queue_positions(), vec![(id(100), 1)]);
        assert_eq!(
            online(&mut r, 1),
            vec![Decision::Assigned {
                conversation_id: id(100),
                agent_id: id(1)
            }]
        );
        assert!(r.queue_positions().is_empty());
    }

    #[test]
    fn least_loaded_wins_and_ties_go_round_robin() {
        let mut r = Router::new();
        for n in 1..=3 {
            r.add_agent(Agent {
                capacity: 5,
                ..agent(n, &[])
            });
            online(&mut r, n);
        }
        let mut got = Vec::new();
        for c in 0..6 {
            for d in r.apply(Event::Waiting(waiting(100 + c, 9, c as i64))) {
                if let Decision::Assigned { agent_id, .. } = d {
                    got.push(agent_id);
                }
            }
        }
        // Every agent gets one before anyone gets two, and the order repeats.
        assert_eq!(got[0..3].iter().collect::<BTreeSet<_>>().len(), 3);
        assert_eq!(got[0..3], got[3..6]);
    }

    #[test]
    fn sticky_agent_is_preferred_when_eligible_even_if_busier() {
        let mut r = Router::new();
        r.add_agent(Agent {
            capacity: 5,
            load: 3,
            ..agent(1, &[])
        });
        r.add_agent(Agent {
            capacity: 5,
            ..agent(2, &[])
        });
        online(&mut r, 1);
        online(&mut r, 2);
        let w = Waiting {
            preferred_agent: Some(id(1)),
            ..waiting(100, 9, 0)
        };
        assert_eq!(
            r.apply(Event::Waiting(w)),
            vec![Decision::Assigned {
                conversation_id: id(100),
                agent_id: id(1)
            }]
        );
    }

    #[test]
    fn team_and_inbox_teams_restrict_who_is_eligible() {
        let mut r = Router::new();
        r.add_agent(agent(1, &[50]));
        r.add_agent(agent(2, &[60]));
        r.set_inbox_teams(id(9), vec![id(60)]);
        online(&mut r, 1);
        online(&mut r, 2);
        let d = r.apply(Event::Waiting(waiting(100, 9, 0)));
        assert_eq!(
            d,
            vec![Decision::Assigned {
                conversation_id: id(100),
                agent_id: id(2)
            }]
        );
        let d = r.apply(Event::Waiting(Waiting {
            team_id: Some(id(50)),
            ..waiting(101, 9, 1)
        }));
        assert_eq!(
            d,
            vec![Decision::Assigned {
                conversation_id: id(101),
                agent_id: id(1)
            }]
        );
    }

    #[test]
    fn going_offline_requeues_at_the_original_place_and_hands_over() {
        let mut r = Router::new();
        r.add_agent(agent(1, &[]));
        r.add_agent(agent(2, &[]));
        online(&mut r, 1);
        r.apply(Event::Waiting(waiting(100, 9, 5)));
        r.apply(Event::Waiting(waiting(101, 9, 6)));
        r.apply(Event::Waiting(waiting(102, 9, 7)));
        assert_eq!(r.queue_positions(), vec![(id(102), 1)]);
        let d = r.apply(Event::Presence {
            agent_id: id(1),
            presence: Presence::Offline,
        });
        assert_eq!(d.len(), 2);
        assert_eq!(r.queue_positions(), vec![(id(100), 1), (id(101), 2), (id(102), 3)]);
        let d = online(&mut r, 2);
        assert_eq!(
            d,
            vec![
                Decision::Assigned {
                    conversation_id: id(100),
                    agent_id: id(2)
                },
                Decision::Assigned {
                    conversation_id: id(101),
                    agent_id: id(2)
                },
            ]
        );
    }

    #[test]
    fn away_agents_keep_their_conversations_but_get_no_new_ones() {
        let mut r = Router::new();
        r.add_agent(agent(1, &[]));
        online(&mut r, 1);
        r.apply(Event::Waiting(waiting(100, 9, 0)));
        let d = r.apply(Event::Presence {
            agent_id: id(1),
            presence: Presence::Away,
        });
        assert!(d.is_empty());
        assert!(r.apply(Event::Waiting(waiting(101, 9, 1))).is_empty());
        assert_eq!(r.agent(id(1)).unwrap().load, 1);
    }

    #[test]
    fn transfer_to_a_person_refuses_offline_or_full_agents() {
        let mut r = Router::new();
        r.add_agent(agent(1, &[]));
        r.add_agent(Agent {
            capacity: 0,
            ..agent(2, &[])
        });
        let w = waiting(100, 9, 0);
        assert_eq!(r.assign_to(w.clone(), id(1)), Err(DomainError::AgentUnavailable));
        online(&mut r, 2);
        assert_eq!(r.assign_to(w.clone(), id(2)), Err(DomainError::AgentAtCapacity));
        online(&mut r, 1);
        let d = r.assign_to(w.clone(), id(1)).unwrap();
        assert_eq!(
            d,
            vec![Decision::Assigned {
                conversation_id: id(100),
                agent_id: id(1)
            }]
        );
        assert_eq!(r.assign_to(w, id(1)), Err(DomainError::AlreadyAssigned));
    }

    /// A small deterministic generator, so the property test needs no extra crate and replays from its seed.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    #[test]
    fn no_conversation_waits_for_a_free_agent_and_nobody_is_overfilled_over_random_events() {
        for seed in 1..=4u64 {
            let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ seed);
            let mut r = Router::new();
            let teams = [id(1000), id(1001), id(1002)];
            let inboxes = [id(2000), id(2001)];
            r.set_inbox_teams(inboxes[1], vec![teams[0], teams[1]]);
            for n in 0..8u128 {
                let member_of: Vec<Uuid> = teams.iter().copied().filter(|_| rng.below(2) == 0).collect();
                r.add_agent(Agent {
                    capacity: rng.below(4) as u32,
                    ..agent(n, &[])
                });
                r.apply(Event::Teams {
                    agent_id: id(n),
                    teams: member_of,
                });
            }
            let mut open: Vec<Uuid> = Vec::new();
            let mut next_conversation = 10_000u128;
            for step in 0..12_000i64 {
                let event = match rng.below(10) {
                    0..=3 => {
                        next_conversation += 1;
                        open.push(id(next_conversation));
                        Event::Waiting(Waiting {
                            conversation_id: id(next_conversation),
                            inbox_id: inboxes[rng.below(2) as usize],
                            team_id: (rng.below(3) == 0).then(|| teams[rng.below(3) as usize]),
                            preferred_agent: (rng.below(2) == 0).then(|| id(rng.below(8) as u128)),
                            queued_at: step,
                        })
                    }
                    4..=5 if !open.is_empty() => {
                        let i = rng.below(open.len() as u64) as usize;
                        Event::Released {
                            conversation_id: open.swap_remove(i),
                        }
                    }
                    6 => {
                        let agent_id = id(rng.below(8) as u128);
                        let current = r.agent(agent_id).map_or(0, |a| a.capacity);
                        Event::Capacity {
                            agent_id,
                            capacity: current + rng.below(2) as u32,
                        }
                    }
                    7 => Event::Teams {
                        agent_id: id(rng.below(8) as u128),
                        teams: teams.iter().copied().filter(|_| rng.below(2) == 0).collect(),
                    },
                    _ => Event::Presence {
                        agent_id: id(rng.below(8) as u128),
                        presence: Presence::ALL[rng.below(3) as usize],
                    },
                };
                let described = format!("{event:?}");
                r.apply(event);
                if let Err(broken) = r.check_invariants() {
                    panic!("seed {seed}, step {step}, after {described}: {broken}");
                }
            }
        }
    }
}
