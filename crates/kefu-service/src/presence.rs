//! Agent presence across sockets, and the timers that keep nothing stuck: an agent whose last socket is gone for
//! the grace period goes offline (their conversations return to the queue), queued visitors hear when they have
//! waited too long, and expired sessions are removed.

use crate::Service;
use kefu_core::model::{Presence, User};
use std::collections::HashMap;
use std::sync::Mutex;
use uuid::Uuid;

#[derive(Default)]
pub(crate) struct Tracker {
    agents: Mutex<HashMap<Uuid, Sockets>>,
}

#[derive(Default)]
struct Sockets {
    count: usize,
    /// Bumped on every change, so a grace timer started before a reconnect knows it is stale.
    generation: u64,
}

impl Service {
    /// An agent's socket connected: cancels any pending offline.
    pub fn agent_socket_connected(&self, user: &User) {
        let mut agents = self.inner.presence.agents.lock().expect("presence lock");
        let s = agents.entry(user.id).or_default();
        s.count += 1;
        s.generation += 1;
    }

    /// An agent's socket closed. When it was their last, they go offline after the grace period unless one
    /// comes back.
    pub fn agent_socket_disconnected(&self, org_id: Uuid, agent_id: Uuid) {
        let generation = {
            let mut agents = self.inner.presence.agents.lock().expect("presence lock");
            let s = agents.entry(agent_id).or_default();
            s.count = s.count.saturating_sub(1);
            s.generation += 1;
            if s.count > 0 {
                return;
            }
            s.generation
        };
        self.schedule_offline(org_id, agent_id, generation);
    }

    /// Whether the agent has a socket on this node.
    pub fn agent_connected(&self, agent_id: Uuid) -> bool {
        self.inner
            .presence
            .agents
            .lock()
            .expect("presence lock")
            .get(&agent_id)
            .is_some_and(|s| s.count > 0)
    }

    fn schedule_offline(&self, org_id: Uuid, agent_id: Uuid, generation: u64) {
        let service = self.clone();
        let grace = self.config().offline_grace;
        tokio::spawn(async move {
            tokio::time::sleep(grace).await;
            let still_gone = {
                let agents = service.inner.presence.agents.lock().expect("presence lock");
                agents
                    .get(&agent_id)
                    .is_none_or(|s| s.count == 0 && s.generation == generation)
            };
            if !still_gone {
                return;
            }
            match service.store().user(org_id, agent_id).await {
                Ok(Some(user)) if user.presence != Presence::Offline => {
                    tracing::info!(agent = %agent_id, "agent gone for the grace period: offline, work requeued");
                    if let Err(e) = service.set_presence(org_id, agent_id, Presence::Offline).await {
                        tracing::error!(agent = %agent_id, error = %e, "could not take the agent offline");
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::error!(agent = %agent_id, error = %e, "could not read the agent")
                }
            }
        });
    }

    /// Starts the background timers. Agents marked present in the database get the grace period to reconnect
    /// to this process (after a restart nobody is connected yet).
    pub async fn start_timers(&self) -> crate::Result<()> {
        for (agent_id, org_id) in self.store().present_agents().await? {
            if !self.agent_connected(agent_id) {
                let generation = {
                    let mut agents = self.inner.presence.agents.lock().expect("presence lock");
                    let s = agents.entry(agent_id).or_default();
                    s.generation += 1;
                    s.generation
                };
                self.schedule_offline(org_id, agent_id, generation);
            }
        }
        let service = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(service.config().timer_tick);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut ticks: u64 = 0;
            loop {
                tick.tick().await;
                ticks += 1;
                if let Err(e) = service.notify_queue_timeouts().await {
                    tracing::error!(error = %e, "queue timeout check failed");
                }
                if let Err(e) = service.run_ticket_timers().await {
                    tracing::error!(error = %e, "ticket SLA and auto-close check failed");
                }
                if ticks.is_multiple_of(600) {
                    service.prune_login_failures();
                    let swept = async {
                        let mut tx = service.store().begin().await?;
                        let n = tx.delete_expired_sessions(kefu_store::now_ms()).await?;
                        tx.commit().await?;
                        Ok::<u64, kefu_store::StoreError>(n)
                    };
                    if let Err(e) = swept.await {
                        tracing::error!(error = %e, "expired session sweep failed");
                    }
                }
            }
        });
        Ok(())
    }
}
