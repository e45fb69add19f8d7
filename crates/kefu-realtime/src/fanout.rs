//! Delivers committed notifications to the rooms that should see them, in the order they were published. A push
//! that fails (a socket whose outgoing queue is full, say) is counted and logged at most every few seconds:
//! clients recover anything they missed by `sync` from the last seq they saw.

use crate::MessageBody;
use kefu_core::model::{Conversation, ConversationStatus, SenderKind};
use kefu_service::Notification;
use serde::Serialize;
use serde_json::json;
use socketioxide::adapter::Adapter;
use socketioxide::{BroadcastError, SocketIo};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::task::JoinHandle;
use uuid::Uuid;

pub fn spawn_fanout<A: Adapter>(io: SocketIo<A>, mut rx: UnboundedReceiver<Notification>) -> JoinHandle<()> {
    tokio::spawn(async move {
        while let Some(n) = rx.recv().await {
            deliver(&io, n).await;
        }
    })
}

/// Failed pushes since start, and when they were last reported.
static FAILED_PUSHES: AtomicU64 = AtomicU64::new(0);
static REPORTED_AT: Mutex<Option<Instant>> = Mutex::new(None);

/// How many pushes could not be handed to a socket since start.
pub fn failed_pushes() -> u64 {
    FAILED_PUSHES.load(Ordering::Relaxed)
}

fn count_failure(event: &str, error: &dyn std::fmt::Display) {
    let total = FAILED_PUSHES.fetch_add(1, Ordering::Relaxed) + 1;
    let mut last = REPORTED_AT.lock().expect("report lock");
    if last.is_none_or(|t| t.elapsed() >= Duration::from_secs(10)) {
        *last = Some(Instant::now());
        tracing::warn!(event, error = %error, failed_pushes = total, "pushes failed; clients will catch up by sync");
    }
}

/// Pushes to the rooms on every node. When the other nodes cannot be reached (Redis is down) the adapter sends
/// nothing at all, so this node's own sockets are served on their own: theirs is the part of the push it can make.
async fn emit<A: Adapter, T: Serialize + ?Sized>(
    io: &SocketIo<A>,
    ns: &str,
    rooms: Vec<String>,
    event: &str,
    data: &T,
) {
    let Some(ops) = io.of(ns) else { return };
    match ops.to(rooms.clone()).emit(event, data).await {
        Ok(()) => {}
        Err(BroadcastError::Adapter(e)) => {
            count_failure(event, &e);
            if let Some(ops) = io.of(ns)
                && let Err(e) = ops.local().to(rooms).emit(event, data).await
            {
                count_failure(event, &e);
            }
        }
        Err(e) => count_failure(event, &e),
    }
}

async fn disconnect<A: Adapter>(io: &SocketIo<A>, room: String) {
    let Some(ops) = io.of("/agent") else { return };
    if let Err(e) = ops.to(room.clone()).disconnect().await {
        tracing::warn!(error = %e, "could not close sockets of an ended session on every node");
        if let Some(ops) = io.of("/agent")
            && let Err(e) = ops.local().to(room).disconnect().await
        {
            tracing::warn!(error = %e, "could not close sockets of an ended session");
        }
    }
}

/// Agents who need a conversation's change: whoever has or had it and the supervisors; while it waits, everyone
/// who could take it (its team, or the whole organisation when it has none).
fn agent_rooms_for_update(conversation: &Conversation, previous_assignee: Option<Uuid>) -> Vec<String> {
    let mut rooms = vec![format!("supervisors:{}", conversation.org_id)];
    if let Some(a) = &conversation.assignee {
        rooms.push(format!("agent:{}", a.id));
    }
    if let Some(previous) = previous_assignee {
        rooms.push(format!("agent:{previous}"));
    }
    if conversation.status == ConversationStatus::Queued {
        rooms.push(match conversation.team_id {
            Some(team) => format!("team:{team}"),
            None => format!("org:{}", conversation.org_id),
        });
    }
    rooms
}

async fn deliver<A: Adapter>(io: &SocketIo<A>, n: Notification) {
    match n {
        Notification::Read {
            conversation,
            by_visitor,
            seq,
        } => {
            let reader = if by_visitor { "visitor" } else { "agent" };
            let body = json!({ "conversation_id": conversation.id, "reader": reader, "seq": seq });
            if by_visitor {
                let mut rooms = vec![format!("supervisors:{}", conversation.org_id)];
                if let Some(a) = &conversation.assignee {
                    rooms.push(format!("agent:{}", a.id));
                }
                emit(io, "/agent", rooms, "conversation:read", &body).await;
            } else {
                let rooms = vec![
                    format!("conversation:{}", conversation.id),
                    format!("contact:{}", conversation.contact_id),
                ];
                emit(io, "/visitor", rooms, "conversation:read", &body).await;
            }
        }
        Notification::SessionEnded { session } => disconnect(io, format!("session:{session}")).await,
        Notification::UserChanged { user_id } => disconnect(io, format!("agent:{user_id}")).await,
        Notification::MessageNew { conversation, message } => {
            let body = MessageBody { message: &message };
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
                agent_rooms_for_update(&conversation, previous_assignee),
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
            let (ns, rooms) = if sender.kind == SenderKind::Visitor {
                let mut rooms = vec![format!("supervisors:{}", conversation.org_id)];
                if let Some(a) = &conversation.assignee {
                    rooms.push(format!("agent:{}", a.id));
                }
                ("/agent", rooms)
            } else {
                (
                    "/visitor",
                    vec![
                        format!("conversation:{}", conversation.id),
                        format!("contact:{}", conversation.contact_id),
                    ],
                )
            };
            // Typing is volatile: a socket that cannot take it now simply misses it; it is never worth a retry.
            if let Some(ops) = io.of(ns) {
                let _ = ops.to(rooms).volatile().emit("typing", &body).await;
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
        Notification::MessageUpdated { conversation, message } => {
            let mut rooms = vec![format!("supervisors:{}", conversation.org_id)];
            if let Some(a) = &conversation.assignee {
                rooms.push(format!("agent:{}", a.id));
            }
            emit(io, "/agent", rooms, "message:updated", &json!({ "message": message })).await;
        }
        Notification::TicketUpdated {
            ticket,
            previous_assignee,
            previous_team,
        } => {
            let mut rooms = vec![format!("supervisors:{}", ticket.org_id)];
            let agents = ticket
                .assignee
                .as_ref()
                .map(|a| a.id)
                .into_iter()
                .chain(previous_assignee);
            rooms.extend(agents.map(|a| format!("agent:{a}")));
            rooms.extend(
                ticket
                    .team_id
                    .into_iter()
                    .chain(previous_team)
                    .map(|t| format!("team:{t}")),
            );
            emit(io, "/agent", rooms, "ticket:updated", &json!({ "ticket": ticket })).await;
        }
        Notification::TicketSlaBreached { ticket, target } => {
            let rooms = vec![format!("supervisors:{}", ticket.org_id)];
            let body = json!({ "ticket": ticket, "target": target });
            emit(io, "/agent", rooms, "ticket:sla_breached", &body).await;
        }
        // For webhooks: the workspace shows a contact with their conversation.
        Notification::ContactCreated { .. } => {}
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
