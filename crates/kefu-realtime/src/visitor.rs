//! The `/visitor` namespace: a website visitor's chat.

use crate::{ConnectRefused, MessageBody, Svc, ack, refused, service_error};
use kefu_core::model::Contact;
use kefu_service::{ClaimedIdentity, SendMessage, VisitorIdentity, VisitorProfile, VisitorSession};
use serde::Deserialize;
use serde_json::json;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, Data, Extension, SocketRef, State, TryData};
use std::sync::Arc;
use uuid::Uuid;

#[derive(Debug, Deserialize)]
pub(crate) struct Auth {
    widget_token: String,
    #[serde(default)]
    visitor_token: Option<String>,
    /// The host page the widget is on, as the loader saw it.
    #[serde(default)]
    page: Option<Page>,
    #[serde(default)]
    locale: Option<String>,
    /// Who the customer's page says the visitor is (`Kefu.setUser`), signed by the customer's server.
    #[serde(default)]
    identity: Option<Identity>,
}

#[derive(Debug, Deserialize)]
struct Identity {
    id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    email: Option<String>,
    hash: String,
}

#[derive(Debug, Deserialize)]
struct Page {
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    referrer: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Identify {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    fields: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
struct Send {
    client_id: String,
    content: String,
    #[serde(default)]
    conversation_id: Option<Uuid>,
}

#[derive(Debug, Deserialize)]
struct Sync {
    conversation_id: Uuid,
    #[serde(default)]
    after_seq: i64,
}

#[derive(Debug, Deserialize)]
struct Rate {
    conversation_id: Uuid,
    score: u8,
    #[serde(default)]
    comment: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Read {
    conversation_id: Uuid,
    seq: i64,
}

#[derive(Debug, Deserialize)]
struct Typing {
    conversation_id: Uuid,
    is_typing: bool,
}

/// Authenticates, joins the visitor's rooms and registers the event handlers, all before the server confirms
/// the connection: a client may emit the moment it is connected, and nothing it sends may find no handler.
pub(crate) async fn authenticate<A: Adapter>(
    s: SocketRef<A>,
    Data(auth): Data<Auth>,
    State(service): State<Svc>,
) -> Result<(), ConnectRefused> {
    let page = auth.page.unwrap_or(Page {
        url: None,
        title: None,
        referrer: None,
    });
    let user_agent = s
        .req_parts()
        .headers
        .get("user-agent")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let profile = VisitorProfile {
        page_url: page.url,
        page_title: page.title,
        referrer: page.referrer,
        user_agent,
        locale: auth.locale,
        identity: auth.identity.map(|i| ClaimedIdentity {
            id: i.id,
            name: i.name,
            email: i.email,
            hash: i.hash,
        }),
    };
    let session = service
        .visitor_connect(&auth.widget_token, auth.visitor_token.as_deref(), &profile)
        .await
        .map_err(refused)?;
    let contact = Arc::new(session.contact.clone());
    s.extensions.insert(contact.clone());
    s.join(format!("contact:{}", contact.id));
    for c in &session.conversations {
        s.join(format!("conversation:{}", c.id));
    }
    s.extensions.insert(Arc::new(session));
    register_handlers(&s);
    Ok(())
}

pub(crate) async fn on_connect<A: Adapter>(s: SocketRef<A>, Extension(session): Extension<Arc<VisitorSession>>) {
    let hello = json!({
        "visitor_token": session.visitor_token,
        "contact_id": session.contact.id,
        "inbox_id": session.inbox.id,
        "conversations": session.conversations,
        "identity": session.identity,
    });
    if let Err(e) = s.emit("session", &hello) {
        tracing::debug!(error = %e, "session event not delivered");
    }
    // Only the contact is needed from here on; an idle visitor's connection should weigh as little as possible.
    s.extensions.remove::<Arc<VisitorSession>>();
}

fn register_handlers<A: Adapter>(s: &SocketRef<A>) {
    s.on(
        "message:send",
        async |s: SocketRef<A>,
               TryData(req): TryData<Send>,
               a: AckSender<A>,
               State(service): State<Svc>,
               Extension(contact): Extension<Arc<Contact>>| {
            let req = payload!(req, a);
            let sent = service
                .visitor_send(
                    &contact,
                    SendMessage {
                        conversation_id: req.conversation_id,
                        client_id: req.client_id,
                        content: req.content,
                        private: false,
                        files: Vec::new(),
                    },
                )
                .await;
            if let Ok(m) = &sent {
                s.join(format!("conversation:{}", m.conversation_id));
            }
            ack(
                a,
                sent.as_ref()
                    .map(|message| MessageBody { message })
                    .map_err(service_error),
            );
        },
    );

    s.on(
        "sync",
        async |TryData(req): TryData<Sync>,
               a: AckSender<A>,
               State(service): State<Svc>,
               Extension(contact): Extension<Arc<Contact>>| {
            let req = payload!(req, a);
            let messages = service.visitor_sync(&contact, req.conversation_id, req.after_seq).await;
            ack(a, messages.map_err(|e| service_error(&e)));
        },
    );

    s.on(
        "visitor:identify",
        async |s: SocketRef<A>,
               TryData(req): TryData<Identify>,
               a: AckSender<A>,
               State(service): State<Svc>,
               Extension(contact): Extension<Arc<Contact>>| {
            let req = payload!(req, a);
            let identity = VisitorIdentity {
                name: req.name,
                email: req.email,
                phone: req.phone,
                fields: req.fields,
            };
            let identified = service.visitor_identify(&contact, &identity).await;
            if let Ok(updated) = &identified {
                // Later events (a first message) carry the name the visitor just gave.
                s.extensions.insert(Arc::new(updated.clone()));
            }
            ack(
                a,
                identified
                    .map(|c| json!({ "contact": c }))
                    .map_err(|e| service_error(&e)),
            );
        },
    );

    s.on(
        "conversation:rate",
        async |TryData(req): TryData<Rate>,
               a: AckSender<A>,
               State(service): State<Svc>,
               Extension(contact): Extension<Arc<Contact>>| {
            let req = payload!(req, a);
            let rated = service
                .visitor_rate(&contact, req.conversation_id, req.score, req.comment.as_deref())
                .await;
            ack(
                a,
                rated
                    .map(|c| json!({ "conversation": c }))
                    .map_err(|e| service_error(&e)),
            );
        },
    );

    s.on(
        "conversation:read",
        async |TryData(req): TryData<Read>,
               a: AckSender<A>,
               State(service): State<Svc>,
               Extension(contact): Extension<Arc<Contact>>| {
            let req = payload!(req, a);
            let read = service.visitor_read(&contact, req.conversation_id, req.seq).await;
            ack(a, read.map(|seq| json!({ "seq": seq })).map_err(|e| service_error(&e)));
        },
    );

    s.on(
        "typing",
        async |TryData(req): TryData<Typing>,
               a: AckSender<A>,
               State(service): State<Svc>,
               Extension(contact): Extension<Arc<Contact>>| {
            let req = payload!(req, a);
            let done = service
                .visitor_typing(&contact, req.conversation_id, req.is_typing)
                .await;
            ack(a, done.map(|()| json!({})).map_err(|e| service_error(&e)));
        },
    );
}
