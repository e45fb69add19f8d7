//! Agent presence across sockets and nodes, and the timers that keep nothing stuck: an agent with no socket on
//! any node for the grace period goes offline (their conversations return to the queue), queued visitors hear
//! when they have waited too long, and expired sessions are removed.
//!
//! Sockets are counted in the database per node, so an agent is present while any node holds one of theirs. Each
//! node beats; a node that stops beating for the node TTL is dead and its sockets stop counting. The cluster-wide
//! timers run on the one node holding the "timers" lease.

use crate::Service;
use kefu_core::model::User;
use kefu_store::{Backend, now_ms};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use uuid::Uuid;

/// This node's open sockets per agent: what it writes back if the cluster took it for dead.
#[derive(Default)]
pub(crate) struct Tracker {
    agents: Mutex<HashMap<Uuid, u64>>,
}

impl Tracker {
    fn add(&self, agent: Uuid) {
        *self.agents.lock().expect("presence lock").entry(agent).or_default() += 1;
    }

    fn remove(&self, agent: Uuid) {
        let mut agents = self.agents.lock().expect("presence lock");
        if let Some(n) = agents.get_mut(&agent) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                agents.remove(&agent);
            }
        }
    }

    fn counts(&self) -> Vec<(Uuid, u64)> {
        let agents = self.agents.lock().expect("presence lock");
        agents.iter().map(|(a, n)| (*a, *n)).collect()
    }
}

/// The lease under which one node runs the cluster-wide timers.
const TIMERS_LEASE: &str = "timers";

impl Service {
    /// This process's id among the nodes sharing the database; new at every start.
    pub fn node_id(&self) -> Uuid {
        self.config().node_id
    }

    /// An agent's socket connected: they count as present on this node, and any pending offline is off.
    pub async fn agent_socket_connected(&self, user: &User) -> crate::Result<()> {
        self.inner.presence.add(user.id);
        if let Err(e) = self
            .store()
            .agent_socket_opened(self.node_id(), user.id, now_ms())
            .await
        {
            self.inner.presence.remove(user.id);
            return Err(e.into());
        }
        Ok(())
    }

    /// An agent's socket closed. When no node holds another of theirs, they go offline after the grace period
    /// unless one comes back.
    pub async fn agent_socket_disconnected(&self, agent_id: Uuid) {
        self.inner.presence.remove(agent_id);
        if let Err(e) = self
            .store()
            .agent_socket_closed(self.node_id(), agent_id, now_ms())
            .await
        {
            // The count stays one too high until this node's next start or its death: the agent stays present.
            tracing::error!(agent = %agent_id, error = %e, "could not record a closed agent socket");
        }
    }

    /// Joins the nodes sharing the database and starts the background work: the heartbeat, and the timers
    /// (queue timeout, ticket SLAs, agents gone past their grace, expired sessions) while this node holds their
    /// lease. When this node is the first alive, present agents get the grace period to reconnect.
    /// Returns the tasks, for a stopping node to end before it leaves the cluster.
    pub async fn start_timers(&self) -> crate::Result<Vec<tokio::task::JoinHandle<()>>> {
        self.join_cluster().await?;
        let heartbeat = self.spawn_heartbeat();
        let service = self.clone();
        let timers = tokio::spawn(async move {
            let mut tick = tokio::time::interval(service.config().timer_tick);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut ticks: u64 = 0;
            loop {
                tick.tick().await;
                ticks += 1;
                if ticks.is_multiple_of(600) {
                    // Login failures are counted per node.
                    service.prune_login_failures();
                }
                match service.hold_lease(TIMERS_LEASE).await {
                    Ok(true) => service.run_cluster_timers(ticks).await,
                    Ok(false) => {}
                    Err(e) => tracing::error!(error = %e, "could not renew the timers lease"),
                }
            }
        });
        Ok(vec![heartbeat, timers])
    }

    /// Records this node among those sharing the database. When no other is alive (always on SQLite), the
    /// cluster is starting: every present agent gets the grace period to reconnect from now. Returns whether
    /// another node was alive.
    pub async fn join_cluster(&self) -> crate::Result<bool> {
        let now = now_ms();
        let others = self
            .store()
            .register_node(self.node_id(), now, now - self.node_ttl_ms())
            .await?;
        tracing::info!(node = %self.node_id(), other_nodes_alive = others, "node joined");
        Ok(others)
    }

    /// One heartbeat of this node. A node the others took for dead (it stalled past the node TTL) rejoins with
    /// the sockets it still holds.
    pub async fn heartbeat(&self) -> crate::Result<()> {
        let node = self.node_id();
        let now = now_ms();
        if !self.store().beat(node, now).await? {
            tracing::warn!(%node, "this node was taken for dead (it stalled past the node TTL): rejoining");
            let counts = self.inner.presence.counts();
            self.store().rejoin_node(node, now, &counts).await?;
        }
        Ok(())
    }

    /// A node stopping on purpose (its sockets already closed): its sockets stop counting and its leases free
    /// now, not after the node TTL.
    pub async fn leave_cluster(&self) {
        if let Err(e) = self.store().forget_node(self.node_id(), now_ms()).await {
            tracing::warn!(error = %e, "could not leave the cluster; other nodes will notice after the node TTL");
        }
    }

    /// Takes or renews a lease for this node. SQLite serves one node, which always holds everything.
    pub async fn hold_lease(&self, name: &str) -> crate::Result<bool> {
        if self.store().backend() == Backend::Sqlite {
            return Ok(true);
        }
        let ttl = self.node_ttl_ms();
        Ok(self.store().acquire_lease(name, self.node_id(), now_ms(), ttl).await?)
    }

    /// Gives up a lease this node holds, so another node can take the work at once.
    pub async fn release_lease(&self, name: &str) {
        if self.store().backend() == Backend::Sqlite {
            return;
        }
        if let Err(e) = self.store().release_lease(name, self.node_id()).await {
            tracing::warn!(lease = name, error = %e, "could not release a lease; it will expire");
        }
    }

    fn node_ttl_ms(&self) -> i64 {
        self.config().node_ttl.as_millis() as i64
    }

    fn spawn_heartbeat(&self) -> tokio::task::JoinHandle<()> {
        let service = self.clone();
        let every = (self.config().node_ttl / 4).max(Duration::from_millis(100));
        tokio::spawn(async move {
            let mut beat = tokio::time::interval(every);
            beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                beat.tick().await;
                if let Err(e) = service.heartbeat().await {
                    tracing::error!(error = %e, "heartbeat failed");
                }
            }
        })
    }

    async fn run_cluster_timers(&self, ticks: u64) {
        if let Err(e) = self.notify_queue_timeouts().await {
            tracing::error!(error = %e, "queue timeout check failed");
        }
        if let Err(e) = self.run_ticket_timers().await {
            tracing::error!(error = %e, "ticket SLA and auto-close check failed");
        }
        if let Err(e) = self.sweep_presence().await {
            tracing::error!(error = %e, "presence sweep failed");
        }
        if ticks.is_multiple_of(600) {
            let swept = async {
                let mut tx = self.store().begin().await?;
                let n = tx.delete_expired_sessions(now_ms()).await?;
                tx.commit().await?;
                self.store().prune_agent_sockets().await?;
                Ok::<u64, kefu_store::StoreError>(n)
            };
            if let Err(e) = swept.await {
                tracing::error!(error = %e, "expired session sweep failed");
            }
        }
    }

    /// One pass of the presence timer: stops counting dead nodes' sockets, then takes offline the agents gone
    /// from every node for the grace period.
    pub async fn sweep_presence(&self) -> crate::Result<()> {
        let now = now_ms();
        let reaped = self.store().reap_dead_nodes(now - self.node_ttl_ms(), now).await?;
        if reaped > 0 {
            tracing::warn!(
                agents = reaped,
                "a node stopped beating: its agents' sockets no longer count"
            );
        }
        let gone_before = now - self.config().offline_grace.as_millis() as i64;
        for (agent_id, org_id) in self.store().agents_gone(gone_before).await? {
            match self.take_offline_if_gone(org_id, agent_id, gone_before).await {
                Ok(true) => {
                    tracing::info!(agent = %agent_id, "agent gone for the grace period: offline, work requeued")
                }
                Ok(false) => {}
                Err(e) => tracing::error!(agent = %agent_id, error = %e, "could not take the agent offline"),
            }
        }
        Ok(())
    }
}
