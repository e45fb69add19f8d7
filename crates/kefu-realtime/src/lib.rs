//! Kefu's Socket.IO gateway: the `/visitor` and `/agent` namespaces (auth, events, acks), their rooms, and the
//! fan-out task that turns committed notifications into pushes. Every handler is generic over the adapter, so the
//! same code serves one node (in-process) and a cluster (Redis).
//!
//! Rooms. `/visitor`: `conversation:{id}` and `contact:{id}` (joined at connect, so a visitor hears about a
//! conversation opened by their own first message). `/agent`: `agent:{id}`, `team:{id}` for each team,
//! `org:{id}` (every agent: queue and presence changes) and `supervisors:{org}` (supervisors and admins: every
//! message).

/// Parses an event's payload, or acks `invalid_payload` and returns from the handler.
macro_rules! payload {
    ($req:expr, $a:expr) => {
        match $req {
            Ok(r) => r,
            Err(e) => return $crate::ack($a, Err::<(), _>($crate::bad_payload(&e))),
        }
    };
}

mod agent;
mod fanout;
mod visitor;

pub use fanout::{failed_pushes, spawn_fanout};

use kefu_core::model::Message;
use kefu_service::{Service, ServiceError};
use serde::Serialize;
use serde_json::{Value, json};
use socketioxide::adapter::Adapter;
use socketioxide::extract::AckSender;
use socketioxide::handler::ConnectHandler;
use socketioxide::{ParserError, SocketIo};
use socketioxide_core::adapter::DefinedAdapter;

/// Registers both namespaces on `io`, whichever adapter carries its rooms: one node's memory, or Redis across
/// nodes. What it gives back is nothing for the local adapter, and for Redis the subscriptions to await before
/// clients may connect (a namespace exists only once its adapter is subscribed).
pub fn register<A: Adapter + DefinedAdapter>(io: &SocketIo<A>) -> [A::InitRes; 2] {
    [
        io.ns("/visitor", visitor::on_connect::<A>.with(visitor::authenticate::<A>)),
        io.ns("/agent", agent::on_connect::<A>.with(agent::authenticate::<A>)),
    ]
}

/// The error body of a failed ack: `{ok: false, error: {code, message}}`.
pub(crate) fn error_body(code: &str, message: &str) -> Value {
    json!({ "ok": false, "error": { "code": code, "message": message } })
}

pub(crate) fn service_error(e: &ServiceError) -> Value {
    if let ServiceError::Internal(source) = e {
        tracing::error!(error = %source, "internal error in a socket handler");
    }
    error_body(e.code(), &e.to_string())
}

pub(crate) fn bad_payload(e: &ParserError) -> Value {
    error_body("invalid_payload", &format!("the event's payload is not valid: {e}"))
}

/// `{"message": ...}`, as acks and pushes carry a message: serialized from the message itself, without building
/// a JSON tree first (once per message sent, so it shows in a profile under load).
#[derive(Serialize)]
pub(crate) struct MessageBody<'a> {
    pub message: &'a Message,
}

/// Acks `Ok(value)` (an object) as `{ok: true, ...value}` and errors as `{ok: false, error}`.
pub(crate) fn ack<A: Adapter, T: Serialize>(ack: AckSender<A>, result: Result<T, Value>) {
    #[derive(Serialize)]
    struct Acked<T> {
        ok: bool,
        #[serde(flatten)]
        body: T,
    }
    let sent = match result {
        Ok(body) => ack.send(&Acked { ok: true, body }),
        Err(e) => ack.send(&e),
    };
    if let Err(e) = sent {
        tracing::debug!(error = %e, "ack not delivered; the client recovers by sync");
    }
}

/// Errors that refuse a connection; their text reaches the client in `connect_error`.
#[derive(Debug)]
pub(crate) struct ConnectRefused(pub String);

impl std::fmt::Display for ConnectRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

pub(crate) fn refused(e: ServiceError) -> ConnectRefused {
    match e {
        ServiceError::Internal(source) => {
            tracing::error!(error = %source, "internal error while authenticating a socket");
            ConnectRefused("internal: try again later".into())
        }
        ServiceError::NotFound(_) | ServiceError::Unauthorized => ConnectRefused(format!("unauthorized: {e}")),
        other => ConnectRefused(format!("{}: {other}", other.code())),
    }
}

pub(crate) type Svc = Service;
