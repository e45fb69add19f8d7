//! The store story suite: one story of a support team's day, told through the service against SQLite (always)
//! and PostgreSQL (when KEFU_TEST_DATABASE_URL is set, as in CI). Both backends must behave the same.

mod common;

use common::{drain, drop_db, postgres, send, sqlite, staffed_inbox, visitor_opens};
use kefu_core::model::*;
use kefu_service::{Bus, Notification, Service, ServiceConfig, ServiceError, TransferTarget};
use kefu_store::{ConversationFilter, Store};
use std::collections::HashSet;
use tokio::sync::mpsc::UnboundedReceiver;

async fn service(url: &str) -> (Service, UnboundedReceiver<Notification>) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let store = Store::connect(url).await.unwrap();
    assert!(store.migrate().await.unwrap() >= 1, "a new database gets the schema");
    assert_eq!(store.migrate().await.unwrap(), 0, "migrating again does nothing");
    let (bus, rx) = Bus::new();
    (Service::new(store, bus, ServiceConfig::default()), rx)
}

async fn story(url: &str) {
    let (svc, mut rx) = service(url).await;

    // First run: one organisation with its Website inbox.
    let setup = svc.ensure_organisation().await.unwrap();
    assert!(setup.created);
    assert!(!svc.ensure_organisation().await.unwrap().created);
    let org = setup.organisation.id;

    let admin = svc
        .create_user(org, "Admin@Kefu.Test", "Admin", "admin-password", Role::Admin, None)
        .await
        .unwrap();
    assert_eq!(admin.email, "admin@kefu.test");
    let dup = svc
        .create_user(org, "admin@kefu.test", "Again", "admin-password", Role::Agent, None)
        .await;
    assert!(matches!(dup, Err(ServiceError::Conflict(_))), "{dup:?}");
    let (token, _) = svc.login("admin@kefu.test", "admin-password", None).await.unwrap();
    assert_eq!(svc.authenticate(&token).await.unwrap().id, admin.id);
    assert!(matches!(
        svc.login("admin@kefu.test", "nope-nope", None).await,
        Err(ServiceError::BadCredentials)
    ));
    svc.logout(&token).await.unwrap();
    assert!(matches!(
        svc.authenticate(&token).await,
        Err(ServiceError::Unauthorized)
    ));

    let (_, agents, inbox) = staffed_inbox(&svc, &admin, "售前 Pre-sales", 2, 5).await;
    let widget = inbox.widget_token.clone().unwrap();

    // Visitors: a token brings the same contact back; an unknown one makes a new contact.
    let v = svc.visitor_connect(&widget, None, &Default::default()).await.unwrap();
    let again = svc
        .visitor_connect(&widget, Some(&v.visitor_token), &Default::default())
        .await
        .unwrap();
    assert_eq!(again.contact.id, v.contact.id);
    let stranger = svc
        .visitor_connect(&widget, Some("made-up"), &Default::default())
        .await
        .unwrap();
    assert_ne!(stranger.contact.id, v.contact.id);
    assert!(matches!(
        svc.visitor_connect("wrong", None, &Default::default()).await,
        Err(ServiceError::NotFound(_))
    ));
    drain(&mut rx);

    // Nobody online: the first message queues the conversation at position 1.
    let first = svc.visitor_send(&v.contact, send(None, "c1", "你好")).await.unwrap();
    assert_eq!(first.seq, 1);
    let cid = first.conversation_id;
    let notes = drain(&mut rx);
    assert!(
        notes
            .iter()
            .any(|n| matches!(n, Notification::ConversationUpdated { conversation, .. }
        if conversation.id == cid && conversation.queue_position == Some(1))),
        "{notes:?}"
    );
    assert_eq!(
        svc.visitor_send(&v.contact, send(None, "c1", "你好")).await.unwrap().id,
        first.id,
        "idempotent"
    );

    // An agent comes online and takes it.
    svc.set_presence(org, agents[0].id, Presence::Online).await.unwrap();
    let notes = drain(&mut rx);
    assert!(
        notes
            .iter()
            .any(|n| matches!(n, Notification::ConversationAssigned { conversation }
        if conversation.id == cid && conversation.assignee.as_ref().map(|a| a.id) == Some(agents[0].id))),
        "{notes:?}"
    );
    let agent0 = svc.user(&admin, agents[0].id).await.unwrap();

    // A private note is not a response; the first public reply is, and the conversation announced with it says
    // so, with its new seq and the names a workspace shows.
    let mut note = send(Some(cid), "n0", "checking the order");
    note.private = true;
    assert_eq!(svc.agent_send(&agent0, note).await.unwrap().seq, 2);
    let c = svc.store().conversation(cid).await.unwrap().unwrap();
    assert_eq!((c.last_seq, c.first_response_at), (2, None));
    drain(&mut rx);
    let reply = svc.agent_send(&agent0, send(Some(cid), "r0", "您好")).await.unwrap();
    assert_eq!(reply.seq, 3);
    let announced = drain(&mut rx)
        .into_iter()
        .find_map(|n| match n {
            Notification::MessageNew { conversation, message } if message.id == reply.id => Some(conversation),
            _ => None,
        })
        .expect("the reply is announced");
    assert_eq!(announced.last_seq, 3);
    assert_eq!(announced.first_response_at, Some(reply.created_at));
    assert_eq!(announced.updated_at, reply.created_at);
    assert_eq!(announced.contact_name, v.contact.name);
    assert_eq!(
        announced.assignee.as_ref().map(|a| a.name.as_str()),
        Some(agent0.name.as_str())
    );
    let c = svc.store().conversation(cid).await.unwrap().unwrap();
    assert_eq!((c.last_seq, c.first_response_at), (3, Some(reply.created_at)));

    // Concurrent writers keep seq gapless, and concurrent resends of one client_id store one message.
    let mut tasks = Vec::new();
    for i in 0..30 {
        let svc = svc.clone();
        let contact = v.contact.clone();
        let agent = agent0.clone();
        tasks.push(tokio::spawn(async move {
            if i % 2 == 0 {
                svc.visitor_send(&contact, send(Some(cid), &format!("v{i}"), "visitor"))
                    .await
            } else {
                svc.agent_send(&agent, send(Some(cid), &format!("a{i}"), "agent")).await
            }
        }));
    }
    for i in 0..8 {
        let svc = svc.clone();
        let contact = v.contact.clone();
        tasks.push(tokio::spawn(async move {
            let _ = i;
            svc.visitor_send(&contact, send(Some(cid), "same-one", "once")).await
        }));
    }
    let mut ids = HashSet::new();
    for t in tasks {
        ids.insert(t.await.unwrap().unwrap().id);
    }
    assert_eq!(
        ids.len(),
        31,
        "30 distinct messages plus one for the 8 identical resends"
    );
    let all = svc.agent_sync(&agent0, cid, 0).await.unwrap().messages;
    assert_eq!(
        all.iter().map(|m| m.seq).collect::<Vec<_>>(),
        (1..=34).collect::<Vec<_>>()
    );
    assert_eq!(
        all.iter()
            .filter(|m| m.client_id.as_deref() == Some("same-one"))
            .count(),
        1
    );

    // Private notes stay with agents; first response is recorded once.
    let mut note = send(Some(cid), "note", "internal");
    note.private = true;
    svc.agent_send(&agent0, note).await.unwrap();
    assert!(
        svc.visitor_sync(&v.contact, cid, 0)
            .await
            .unwrap()
            .messages
            .iter()
            .all(|m| !m.private)
    );
    assert_eq!(svc.agent_sync(&agent0, cid, 34).await.unwrap().messages.len(), 1);
    let c = svc.store().conversation(cid).await.unwrap().unwrap();
    assert_eq!(c.first_response_at, Some(reply.created_at), "recorded once");

    // Someone else's conversation is forbidden to an agent; transfer hands it over.
    let agent1 = agents[1].clone();
    assert!(matches!(
        svc.agent_send(&agent1, send(Some(cid), "x", "mine?")).await,
        Err(ServiceError::Forbidden(_))
    ));
    let after = svc
        .visitor_send(&v.contact, send(Some(cid), "after-refusal", "还在吗"))
        .await
        .unwrap();
    assert_eq!(after.seq, 36, "a refused reply takes no seq");
    // A visitor cannot write into someone else's conversation, and the attempt takes no seq.
    assert!(matches!(
        svc.visitor_send(&stranger.contact, send(Some(cid), "intruder", "hello?"))
            .await,
        Err(ServiceError::NotFound(_))
    ));
    assert_eq!(svc.store().conversation(cid).await.unwrap().unwrap().last_seq, 36);
    assert!(matches!(
        svc.transfer(&agent0, cid, TransferTarget::Agent(agent1.id)).await,
        Err(ServiceError::Domain(kefu_core::DomainError::AgentUnavailable))
    ));
    svc.set_presence(org, agent1.id, Presence::Online).await.unwrap();
    let moved = svc
        .transfer(&agent0, cid, TransferTarget::Agent(agent1.id))
        .await
        .unwrap();
    assert_eq!(moved.assignee.unwrap().id, agent1.id);

    // Going offline hands work back to the queue, and an online colleague takes it at once.
    svc.set_presence(org, agent1.id, Presence::Offline).await.unwrap();
    let c = svc.store().conversation(cid).await.unwrap().unwrap();
    assert_eq!(c.assignee.map(|a| a.id), Some(agents[0].id));

    // Close and reopen.
    let closed = svc.close(&agent0, cid).await.unwrap();
    assert_eq!(closed.status, ConversationStatus::Closed);
    assert!(matches!(svc.close(&agent0, cid).await, Err(ServiceError::Domain(_))));
    assert!(matches!(
        svc.agent_send(&agent0, send(Some(cid), "late", "还有问题吗")).await,
        Err(ServiceError::Domain(kefu_core::DomainError::ConversationClosed))
    ));
    assert_eq!(
        svc.store().conversation(cid).await.unwrap().unwrap().last_seq,
        closed.last_seq,
        "a reply refused for a closed conversation takes no seq"
    );
    let reopened = svc.reopen(&agent0, cid).await.unwrap();
    assert_eq!(reopened.status, ConversationStatus::Assigned);

    // Many conversations opened at once: nobody above capacity, the rest queued in order.
    svc.set_presence(org, agent1.id, Presence::Online).await.unwrap();
    let mut opens = Vec::new();
    for i in 0..25 {
        let svc = svc.clone();
        let widget = widget.clone();
        opens.push(tokio::spawn(visitor_opens(svc, widget, format!("open{i}"))));
    }
    for o in opens {
        o.await.unwrap();
    }
    let assigned = |id| ConversationFilter {
        assignee_id: Some(id),
        status: Some(ConversationStatus::Assigned),
        limit: 100,
        ..Default::default()
    };
    let load0 = svc
        .store()
        .conversations(org, &assigned(agents[0].id))
        .await
        .unwrap()
        .len();
    let load1 = svc
        .store()
        .conversations(org, &assigned(agent1.id))
        .await
        .unwrap()
        .len();
    assert_eq!((load0, load1), (5, 5), "both agents filled exactly to capacity");
    let queued = ConversationFilter {
        status: Some(ConversationStatus::Queued),
        limit: 100,
        ..Default::default()
    };
    assert_eq!(svc.store().conversations(org, &queued).await.unwrap().len(), 16);

    // A visitor writing to their closed conversation opens a new one; the closed one takes no seq.
    let closed = svc.close(&admin, cid).await.unwrap();
    let later = svc
        .visitor_send(&v.contact, send(Some(cid), "after-close", "又来了"))
        .await
        .unwrap();
    assert_ne!(later.conversation_id, cid);
    assert_eq!(later.seq, 1);
    assert_eq!(
        svc.store().conversation(cid).await.unwrap().unwrap().last_seq,
        closed.last_seq,
        "a visitor's message to a closed conversation takes no seq there"
    );

    svc.store().close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_story_holds_on_sqlite() {
    let db = sqlite().await;
    story(&db.url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_story_holds_on_postgres() {
    let Some(db) = postgres().await else {
        eprintln!("KEFU_TEST_DATABASE_URL is not set: the PostgreSQL story runs in CI (.ci/run)");
        return;
    };
    story(&db.url).await;
    drop_db(db).await;
}
