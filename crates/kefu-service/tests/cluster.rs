//! Several nodes on one database, told through two services that share it: leases, presence that spans nodes,
//! dead nodes, a cluster restart, first start, routing under load, and fenced deliveries. The PostgreSQL cases
//! run when KEFU_TEST_DATABASE_URL is set (CI); what holds for one node runs on SQLite too.

mod common;

use common::{Db, drain, drop_db, on_both_backends, postgres, service_with, staffed_inbox, visitor_opens};
use kefu_core::model::*;
use kefu_service::{Notification, Service, ServiceConfig};
use kefu_store::{ConversationFilter, now_ms};
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use tokio::sync::mpsc::UnboundedReceiver;
use uuid::Uuid;

type Node = (Service, UnboundedReceiver<Notification>);

fn config(grace_ms: u64, node_ttl_ms: u64) -> ServiceConfig {
    ServiceConfig {
        offline_grace: Duration::from_millis(grace_ms),
        node_ttl: Duration::from_millis(node_ttl_ms),
        node_id: Uuid::now_v7(),
        ..Default::default()
    }
}

async fn node(db: &Db, config: ServiceConfig) -> Node {
    service_with(&db.url, config).await
}

/// Time passing is what these cases are about: the grace period, a node's TTL.
async fn wait_ms(ms: u64) {
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

/// An organisation with an admin, one team of `agents` agents of capacity `capacity`, and a widget inbox
/// routed to it. Returns (org, agents, widget token).
async fn team(svc: &Service, agents: usize, capacity: u32) -> (Uuid, Vec<User>, String) {
    let org = svc.ensure_organisation().await.unwrap().organisation.id;
    let admin = svc
        .create_user(org, "admin@kefu.test", "Admin", "admin-password", Role::Admin, None)
        .await
        .unwrap();
    let (_, users, inbox) = staffed_inbox(svc, &admin, "Support", agents, capacity).await;
    (org, users, inbox.widget_token.unwrap())
}

async fn presence(svc: &Service, org: Uuid, agent: Uuid) -> Presence {
    svc.store().user(org, agent).await.unwrap().unwrap().presence
}

fn went_offline(notes: &[Notification], agent: Uuid) -> bool {
    notes.iter().any(
        |n| matches!(n, Notification::Presence { agent_id, presence: Presence::Offline, .. } if *agent_id == agent),
    )
}

async fn leases_have_one_holder(db: Db) {
    let (a, _) = node(&db, config(30_000, 20_000)).await;
    let (b, _) = node(&db, config(30_000, 20_000)).await;
    let store = a.store();
    let now = now_ms();
    let take =
        |name: &'static str, holder: Uuid, after_ms: i64| store.acquire_lease(name, holder, now + after_ms, 1_000);
    let (a_id, b_id) = (a.node_id(), b.node_id());
    assert!(take("timers", a_id, 0).await.unwrap());
    assert!(!take("timers", b_id, 10).await.unwrap(), "held by A");
    assert!(take("timers", a_id, 500).await.unwrap(), "A renews");
    assert!(
        !take("timers", b_id, 1_200).await.unwrap(),
        "the renewal moved the expiry"
    );
    assert!(take("timers", b_id, 1_501).await.unwrap(), "expired: B takes it");
    assert!(!take("timers", a_id, 1_600).await.unwrap(), "A lost it");
    assert!(take("email-fetch:x", a_id, 0).await.unwrap(), "leases are per name");
    store.release_lease("timers", b_id).await.unwrap();
    assert!(take("timers", a_id, 1_700).await.unwrap(), "released: free at once");
    a.store().close().await;
    b.store().close().await;
    drop_db(db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_has_one_holder_until_it_expires_then_another_node_takes_it() {
    on_both_backends(leases_have_one_holder).await;
}

/// A delivery claimed by a node that then stalls past its lease is claimed again by another; the stalled one's
/// late result is not recorded over the new holder's.
async fn late_settles_are_fenced(db: Db) {
    let (svc, _) = node(&db, config(30_000, 20_000)).await;
    let (org, _, widget) = team(&svc, 1, 5).await;
    let message = visitor_opens(svc.clone(), widget, "c1".into()).await;
    let conversation = svc
        .store()
        .conversation(message.conversation_id)
        .await
        .unwrap()
        .unwrap();
    let now = now_ms();
    let mut tx = svc.store().begin().await.unwrap();
    tx.enqueue_delivery(
        Uuid::now_v7(),
        org,
        conversation.inbox_id,
        conversation.id,
        message.id,
        now,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let first = svc.store().claim_deliveries(now, now + 1_000, 10).await.unwrap();
    assert_eq!(first.len(), 1);
    assert!(
        svc.store()
            .claim_deliveries(now + 500, now + 1_500, 10)
            .await
            .unwrap()
            .is_empty(),
        "leased"
    );
    let second = svc
        .store()
        .claim_deliveries(now + 1_001, now + 5_000, 10)
        .await
        .unwrap();
    assert_eq!(second.len(), 1, "the lease ran out: another worker claims it");

    let mut tx = svc.store().begin().await.unwrap();
    let stale = tx
        .settle_delivery(&first[0], DeliveryStatus::Failed, Some("late"), now, now + 2_000)
        .await
        .unwrap();
    let current = tx
        .settle_delivery(&second[0], DeliveryStatus::Sent, None, now, now + 2_100)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(!stale, "the first claim lost its lease");
    assert!(current);
    let stored = svc.store().message(message.id).await.unwrap().unwrap();
    assert_eq!(stored.delivery.map(|d| d.status), Some(DeliveryStatus::Sent));
    svc.store().close().await;
    drop_db(db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_settled_after_its_lease_was_taken_over_is_ignored() {
    on_both_backends(late_settles_are_fenced).await;
}

/// The whole cluster stops (or the one SQLite node restarts): present agents get the grace from the restart,
/// then go offline if they do not come back.
async fn restart_gives_grace(db: Db) {
    let (before, _) = node(&db, config(400, 300)).await;
    before.join_cluster().await.unwrap();
    let (org, agents, _) = team(&before, 2, 5).await;
    let user = |i: usize| agents[i].clone();
    before.agent_socket_connected(&user(0)).await.unwrap();
    before.agent_socket_connected(&user(1)).await.unwrap();
    before.set_presence(org, agents[0].id, Presence::Online).await.unwrap();
    before.set_presence(org, agents[1].id, Presence::Online).await.unwrap();
    // The node dies without a word; later, past its TTL and the grace, a new one starts.
    before.store().close().await;
    wait_ms(800).await;

    let (after, mut rx) = node(&db, config(400, 300)).await;
    assert!(!after.join_cluster().await.unwrap(), "no other node is alive");
    after.sweep_presence().await.unwrap();
    assert_eq!(
        presence(&after, org, agents[0].id).await,
        Presence::Online,
        "grace counts from the restart"
    );
    after.agent_socket_connected(&user(1)).await.unwrap();
    wait_ms(500).await;
    after.heartbeat().await.unwrap();
    after.sweep_presence().await.unwrap();
    assert_eq!(
        presence(&after, org, agents[0].id).await,
        Presence::Offline,
        "never came back"
    );
    assert_eq!(
        presence(&after, org, agents[1].id).await,
        Presence::Online,
        "came back within the grace"
    );
    assert!(went_offline(&drain(&mut rx), agents[0].id));
    after.store().close().await;
    drop_db(db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarting_every_node_gives_present_agents_the_grace_to_reconnect() {
    on_both_backends(restart_gives_grace).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_connected_on_any_node_stays_present_when_a_socket_on_another_node_closes() {
    let Some(db) = postgres().await else {
        eprintln!("KEFU_TEST_DATABASE_URL is not set: the several-node cases run in CI (.ci/run)");
        return;
    };
    let (a, mut rx_a) = node(&db, config(300, 20_000)).await;
    let (b, mut rx_b) = node(&db, config(300, 20_000)).await;
    a.join_cluster().await.unwrap();
    assert!(b.join_cluster().await.unwrap(), "A is alive");
    let (org, agents, _) = team(&a, 1, 5).await;
    let agent = agents[0].clone();
    a.agent_socket_connected(&agent).await.unwrap();
    b.agent_socket_connected(&agent).await.unwrap();
    a.set_presence(org, agent.id, Presence::Online).await.unwrap();

    a.agent_socket_disconnected(agent.id).await;
    wait_ms(400).await;
    a.sweep_presence().await.unwrap();
    b.sweep_presence().await.unwrap();
    assert_eq!(
        presence(&a, org, agent.id).await,
        Presence::Online,
        "still connected on B"
    );

    b.agent_socket_disconnected(agent.id).await;
    wait_ms(400).await;
    a.sweep_presence().await.unwrap();
    b.sweep_presence().await.unwrap();
    assert_eq!(
        presence(&a, org, agent.id).await,
        Presence::Offline,
        "gone from every node"
    );
    let offline = drain(&mut rx_a)
        .iter()
        .chain(drain(&mut rx_b).iter())
        .filter(|n| went_offline(std::slice::from_ref(n), agent.id))
        .count();
    assert_eq!(offline, 1, "taken offline once, though both nodes swept");
    a.store().close().await;
    b.store().close().await;
    drop_db(db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_nodes_sockets_stop_counting_once_it_misses_its_heartbeats() {
    let Some(db) = postgres().await else {
        return;
    };
    let (a, _) = node(&db, config(300, 400)).await;
    let (b, mut rx_b) = node(&db, config(300, 400)).await;
    let (org, agents, _) = team(&a, 1, 5).await;
    a.join_cluster().await.unwrap();
    b.join_cluster().await.unwrap();
    a.agent_socket_connected(&agents[0]).await.unwrap();
    a.set_presence(org, agents[0].id, Presence::Online).await.unwrap();

    // A stops beating (killed); B goes on.
    wait_ms(250).await;
    b.heartbeat().await.unwrap();
    b.sweep_presence().await.unwrap();
    assert_eq!(
        presence(&b, org, agents[0].id).await,
        Presence::Online,
        "A is within its TTL"
    );
    wait_ms(250).await;
    b.heartbeat().await.unwrap();
    b.sweep_presence().await.unwrap();
    assert_eq!(
        presence(&b, org, agents[0].id).await,
        Presence::Online,
        "A is dead, and the agent's grace starts now"
    );
    wait_ms(350).await;
    b.heartbeat().await.unwrap();
    b.sweep_presence().await.unwrap();
    assert_eq!(presence(&b, org, agents[0].id).await, Presence::Offline);
    assert!(went_offline(&drain(&mut rx_b), agents[0].id));

    // A was only stalled: its next beat finds it was taken for dead, and it counts its socket again.
    a.heartbeat().await.unwrap();
    b.set_presence(org, agents[0].id, Presence::Online).await.unwrap();
    wait_ms(350).await;
    a.heartbeat().await.unwrap();
    b.heartbeat().await.unwrap();
    b.sweep_presence().await.unwrap();
    assert_eq!(
        presence(&b, org, agents[0].id).await,
        Presence::Online,
        "A's socket counts again"
    );
    a.store().close().await;
    b.store().close().await;
    drop_db(db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_setting_up_an_empty_database_at_once_make_one_organisation() {
    let Some(db) = postgres().await else {
        return;
    };
    let (a, _) = node(&db, config(30_000, 20_000)).await;
    let (b, _) = node(&db, config(30_000, 20_000)).await;
    let (x, y) = tokio::join!(a.ensure_organisation(), b.ensure_organisation());
    let (x, y) = (x.unwrap(), y.unwrap());
    assert_eq!(x.organisation.id, y.organisation.id);
    assert_eq!(u8::from(x.created) + u8::from(y.created), 1, "exactly one made it");
    a.store().close().await;
    b.store().close().await;
    drop_db(db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_sharing_postgres_never_assign_a_conversation_twice_nor_overfill_an_agent() {
    let Some(db) = postgres().await else {
        return;
    };
    let (a, mut rx_a) = node(&db, config(30_000, 20_000)).await;
    let (b, mut rx_b) = node(&db, config(30_000, 20_000)).await;
    let (org, agents, widget) = team(&a, 10, 5).await;
    for (i, agent) in agents.iter().enumerate() {
        let on = if i % 2 == 0 { &a } else { &b };
        on.set_presence(org, agent.id, Presence::Online).await.unwrap();
    }
    drain(&mut rx_a);
    drain(&mut rx_b);

    let mut opens = Vec::new();
    for i in 0..200 {
        let svc = if i % 2 == 0 { a.clone() } else { b.clone() };
        let widget = widget.clone();
        opens.push(tokio::spawn(visitor_opens(svc, widget, format!("open{i}"))));
    }
    let mut opened = HashSet::new();
    for o in opens {
        opened.insert(o.await.unwrap().conversation_id);
    }
    assert_eq!(opened.len(), 200);

    let all = ConversationFilter {
        limit: 500,
        ..Default::default()
    };
    let conversations = a.store().conversations(org, &all).await.unwrap();
    let mut load: HashMap<Uuid, usize> = HashMap::new();
    let (mut assigned, mut queued) = (0, Vec::new());
    for c in &conversations {
        match c.status {
            ConversationStatus::Assigned => {
                assigned += 1;
                *load.entry(c.assignee.as_ref().expect("an assignee").id).or_default() += 1;
            }
            ConversationStatus::Queued => queued.push(c.id),
            other => panic!("unexpected status {other:?}"),
        }
    }
    assert_eq!(assigned, 50, "10 agents x capacity 5");
    assert_eq!(queued.len(), 150);
    assert!(
        load.values().all(|n| *n == 5),
        "every agent filled exactly to capacity: {load:?}"
    );
    let mut announced: HashMap<Uuid, usize> = HashMap::new();
    for n in drain(&mut rx_a).into_iter().chain(drain(&mut rx_b)) {
        if let Notification::ConversationAssigned { conversation } = n {
            *announced.entry(conversation.id).or_default() += 1;
        }
    }
    assert_eq!(announced.len(), 50);
    assert!(
        announced.values().all(|n| *n == 1),
        "each assignment announced once across both nodes"
    );
    a.store().close().await;
    b.store().close().await;
    drop_db(db).await;
}
