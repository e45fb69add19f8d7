//! Delivers committed notifications to the rooms that should see them, in commit order. A push that fails is
//! only logged: clients recover anything they missed by `sync` from the last seq they saw.

use kefu_core::model::SenderKind;
use kefu_service::Notification;
use serde_json::json;
use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::task::JoinHandle;

pub fn spawn_fanout<A: Adapter>(io: SocketIo<A>, mut rx: UnboundedReceiver<Notification>) -> JoinHandle<()> {
    tokio::spawn(async move {
        while let Some(n) = rx.recv().await {
            deliver(&io, n).await;
        }
    })
}

async fn emit<A: Adapter>(io: &SocketIo<A>, ns: &str, rooms: Vec<String>, event: &str, data: &serde_json::Value) {
    let Some(ops) = io.of(ns) else { return };
    if let Err(e) = ops.to(rooms).emit(event, data).await {
        tracing::warn!(event, error = %e, "push failed; clients will catch up by sync");
    }
}

async fn disconnect<A: Adapter>(io: &SocketIo<A>, room: String) {
    let Some(ops) = io.of("/agent") else { return };
    if let Err(e) = ops.to(room).disconnect().await {
        tracing::warn!(error = %e, "could not close sockets of an ended session");
    }
}

async fn deliver<A: Adapter>(io: &SocketIo<A>, n: Notification) {
    match n {
        Notification::SessionEnded { session } => disconnect(io, format!("session:{session}")).await,
        Notification::UserChanged { user_id } => disconnect(io, format!("agent:{user_id}")).await,
        Notification::MessageNew { conversation, message } => {
            let body = json!({ "message": message });
            if !message.private {
                let rooms = vec![
                    format!("conversation:{}", conversation.id),
                    format!("contact:{}", conversation.contact_id),
                ];
                emit(io, "/visitor", rooms, "message:new", &body).await;
            }
            let mut rooms = vec![format!("supervisors:{}", conversation.org_id)];
            if let Some(a) = &conversation.assignee {
                rooms.push(format!("agent:{}", a.id));
            }
            emit(io, "/agent", rooms, "message:new", &body).await;
        }
        Notification::ConversationUpdated {
            conversation,
            previous_assignee,
        } => {
            let body = json!({ "conversation": conversation });
            let rooms = vec![
                format!("conversation:{}", conversation.id),
                format!("contact:{}", conversation.contact_id),
            ];
            emit(io, "/visitor", rooms, "conversation:updated", &body).await;
            let mut body = body;
            if let Some(previous) = previous_assignee {
                body["previous_assignee_id"] = json!(previous);
            }
            emit(
                io,
                "/agent",
                vec![format!("org:{}", conversation.org_id)],
                "conversation:updated",
                &body,
            )
            .await;
        }
        Notification::ConversationAssigned { conversation } => {
            let Some(assignee) = &conversation.assignee else {
                return;
            };
            let rooms = vec![
                format!("agent:{}", assignee.id),
                format!("supervisors:{}", conversation.org_id),
            ];
            emit(
                io,
                "/agent",
                rooms,
                "conversation:assigned",
                &json!({ "conversation": conversation }),
            )
            .await;
        }
        Notification::Typing {
            conversation,
            sender,
            is_typing,
        } => {
            let body = json!({ "conversation_id": conversation.id, "sender": sender, "is_typing": is_typing });
            if sender.kind == SenderKind::Visitor {
                let mut rooms = vec![format!("supervisors:{}", conversation.org_id)];
                if let Some(a) = &conversation.assignee {
                    rooms.push(format!("agent:{}", a.id));
                }
                emit(io, "/agent", rooms, "typing", &body).await;
            } else {
                let rooms = vec![
                    format!("conversation:{}", conversation.id),
                    format!("contact:{}", conversation.contact_id),
                ];
                emit(io, "/visitor", rooms, "typing", &body).await;
            }
        }
        Notification::Presence {
            org_id,
            agent_id,
            name,
            presence,
        } => {
            let body = json!({ "agent_id": agent_id, "name": name, "status": presence });
            emit(io, "/agent", vec![format!("org:{org_id}")], "presence", &body).await;
        }
        Notification::QueueTimeout { conversation } => {
            let body = json!({ "conversation_id": conversation.id });
            let rooms = vec![
                format!("conversation:{}", conversation.id),
                format!("contact:{}", conversation.contact_id),
            ];
            emit(io, "/visitor", rooms, "conversation:queue_timeout", &body).await;
            emit(
                io,
                "/agent",
                vec![format!("supervisors:{}", conversation.org_id)],
                "conversation:queue_timeout",
                &body,
            )
            .await;
        }
    }
}
