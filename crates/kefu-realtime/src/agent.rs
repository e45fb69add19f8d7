//! The `/agent` namespace: the agents' workspace.

use crate::{ConnectRefused, MessageBody, Svc, ack, error_body, refused, service_error};
use kefu_core::model::{Presence, User};
use kefu_service::{SendMessage, TransferTarget};
use serde::Deserialize;
use serde_json::json;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, Data, Extension, SocketRef, State, TryData};
use std::sync::Arc;
use uuid::Uuid;

#[derive(Debug, Deserialize)]
pub(crate) struct Auth {
    token: String,
}

#[derive(Debug, Deserialize)]
struct Status {
    status: Presence,
}

#[derive(Debug, Deserialize)]
struct Send {
    conversation_id: Uuid,
    client_id: String,
    content: String,
    #[serde(default)]
    private: bool,
}

#[derive(Debug, Deserialize)]
struct Transfer {
    conversation_id: Uuid,
    #[serde(default)]
    to_agent_id: Option<Uuid>,
    #[serde(default)]
    to_team_id: Option<Uuid>,
}

#[derive(Debug, Deserialize)]
struct ConversationRef {
    conversation_id: Uuid,
}

#[derive(Debug, Deserialize)]
struct Sync {
    conversation_id: Uuid,
    #[serde(default)]
    after_seq: i64,
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

/// Authenticates, joins the agent's rooms and registers the event handlers, all before the server confirms the
/// connection: a client may emit the moment it is connected, and nothing it sends may find no handler.
pub(crate) async fn authenticate<A: Adapter>(
    s: SocketRef<A>,
    Data(auth): Data<Auth>,
    State(service): State<Svc>,
) -> Result<(), ConnectRefused> {
    let user = service.authenticate(&auth.token).await.map_err(refused)?;
    s.join(format!("agent:{}", user.id));
    s.join(format!("org:{}", user.org_id));
    s.join(format!("session:{}", kefu_service::session_key(&auth.token)));
    for team in &user.teams {
        s.join(format!("team:{team}"));
    }
    if user.role.oversees() {
        s.join(format!("supervisors:{}", user.org_id));
    }
    service.agent_socket_connected(&user).await.map_err(refused)?;
    s.extensions.insert(Arc::new(user));
    register_handlers(&s);
    Ok(())
}

pub(crate) async fn on_connect<A: Adapter>(s: SocketRef<A>, Extension(user): Extension<Arc<User>>) {
    if let Err(e) = s.emit("session", &json!({ "user": &*user })) {
        tracing::debug!(error = %e, "session event not delivered");
    }
}

fn register_handlers<A: Adapter>(s: &SocketRef<A>) {
    s.on_disconnect(
        async |Extension(user): Extension<Arc<User>>, State(service): State<Svc>| {
            service.agent_socket_disconnected(user.id).await;
        },
    );

    s.on(
        "status:set",
        async |TryData(req): TryData<Status>,
               a: AckSender<A>,
               State(service): State<Svc>,
               Extension(user): Extension<Arc<User>>| {
            let req = payload!(req, a);
            let done = service.set_presence(user.org_id, user.id, req.status).await;
            ack(
                a,
                done.map(|()| json!({ "status": req.status }))
                    .map_err(|e| service_error(&e)),
            );
        },
    );

    s.on(
        "message:send",
        async |TryData(req): TryData<Send>,
               a: AckSender<A>,
               State(service): State<Svc>,
               Extension(user): Extension<Arc<User>>| {
            let req = payload!(req, a);
            let sent = service
                .agent_send(
                    &user,
                    SendMessage {
                        conversation_id: Some(req.conversation_id),
                        client_id: req.client_id,
                        content: req.content,
                        private: req.private,
                        files: Vec::new(),
                    },
                )
                .await;
            ack(
                a,
                sent.as_ref()
                    .map(|message| MessageBody { message })
                    .map_err(service_error),
            );
        },
    );

    s.on(
        "conversation:transfer",
        async |TryData(req): TryData<Transfer>,
               a: AckSender<A>,
               State(service): State<Svc>,
               Extension(user): Extension<Arc<User>>| {
            let req = payload!(req, a);
            let target = match (req.to_agent_id, req.to_team_id) {
                (Some(agent), None) => TransferTarget::Agent(agent),
                (None, Some(team)) => TransferTarget::Team(team),
                _ => {
                    let msg = "give exactly one of to_agent_id and to_team_id";
                    return ack(a, Err::<(), _>(error_body("invalid_input", msg)));
                }
            };
            let done = service.transfer(&user, req.conversation_id, target).await;
            ack(
                a,
                done.map(|c| json!({ "conversation": c }))
                    .map_err(|e| service_error(&e)),
            );
        },
    );

    s.on(
        "conversation:close",
        async |TryData(req): TryData<ConversationRef>,
               a: AckSender<A>,
               State(service): State<Svc>,
               Extension(user): Extension<Arc<User>>| {
            let req = payload!(req, a);
            let done = service.close(&user, req.conversation_id).await;
            ack(
                a,
                done.map(|c| json!({ "conversation": c }))
                    .map_err(|e| service_error(&e)),
            );
        },
    );

    s.on(
        "conversation:reopen",
        async |TryData(req): TryData<ConversationRef>,
               a: AckSender<A>,
               State(service): State<Svc>,
               Extension(user): Extension<Arc<User>>| {
            let req = payload!(req, a);
            let done = service.reopen(&user, req.conversation_id).await;
            ack(
                a,
                done.map(|c| json!({ "conversation": c }))
                    .map_err(|e| service_error(&e)),
            );
        },
    );

    s.on(
        "sync",
        async |TryData(req): TryData<Sync>,
               a: AckSender<A>,
               State(service): State<Svc>,
               Extension(user): Extension<Arc<User>>| {
            let req = payload!(req, a);
            let messages = service.agent_sync(&user, req.conversation_id, req.after_seq).await;
            ack(a, messages.map_err(|e| service_error(&e)));
        },
    );

    s.on(
        "conversation:read",
        async |TryData(req): TryData<Read>,
               a: AckSender<A>,
               State(service): State<Svc>,
               Extension(user): Extension<Arc<User>>| {
            let req = payload!(req, a);
            let read = service.agent_read(&user, req.conversation_id, req.seq).await;
            ack(a, read.map(|seq| json!({ "seq": seq })).map_err(|e| service_error(&e)));
        },
    );

    s.on(
        "typing",
        async |TryData(req): TryData<Typing>,
               a: AckSender<A>,
               State(service): State<Svc>,
               Extension(user): Extension<Arc<User>>| {
            let req = payload!(req, a);
            let done = service.agent_typing(&user, req.conversation_id, req.is_typing).await;
            ack(a, done.map(|()| json!({})).map_err(|e| service_error(&e)));
        },
    );
}
