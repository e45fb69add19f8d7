//! The event bus: committed facts on their way to whoever shows them. Publishing never blocks the writer;
//! one consumer (the realtime gateway) delivers them in the order they were published, which for concurrent
//! writers may differ from commit order: clients order messages by seq, never by arrival.

use kefu_core::model::{Contact, Conversation, Message, Presence, Sender};
use kefu_core::ticket::{SlaTarget, Ticket};
use tokio::sync::mpsc;
use uuid::Uuid;

#[derive(Debug, Clone)]
pub enum Notification {
    MessageNew {
        conversation: Conversation,
        message: Message,
    },
    ConversationUpdated {
        conversation: Conversation,
        previous_assignee: Option<Uuid>,
    },
    ConversationAssigned {
        conversation: Conversation,
    },
    Typing {
        conversation: Conversation,
        sender: Sender,
        is_typing: bool,
    },
    Presence {
        org_id: Uuid,
        agent_id: Uuid,
        name: String,
        presence: Presence,
    },
    QueueTimeout {
        conversation: Conversation,
    },
    /// One side has read the conversation up to `seq`: the other side shows read ticks.
    Read {
        conversation: Conversation,
        by_visitor: bool,
        seq: i64,
    },
    /// A session ended (logout): sockets opened with it must close.
    SessionEnded {
        session: String,
    },
    /// A user's access changed (deactivated, role, teams, password): their sockets must reconnect to pick it up.
    UserChanged {
        user_id: Uuid,
    },
    /// A contact was made: a new visitor, texter, follower, mail sender or ticket requester.
    ContactCreated {
        contact: Contact,
    },
    /// A message changed after it was stored: its delivery to another channel went out, or failed.
    MessageUpdated {
        conversation: Conversation,
        message: Message,
    },
    /// A ticket was created or changed.
    TicketUpdated {
        ticket: Ticket,
        /// The agent the change took the ticket from, if it did.
        previous_assignee: Option<Uuid>,
        /// The team the change took the ticket from, if it did.
        previous_team: Option<Uuid>,
    },
    /// A ticket missed a service-level target (announced once per target).
    TicketSlaBreached {
        ticket: Ticket,
        target: SlaTarget,
    },
}

#[derive(Clone)]
pub struct Bus {
    tx: mpsc::UnboundedSender<Notification>,
}

impl Bus {
    pub fn new() -> (Bus, mpsc::UnboundedReceiver<Notification>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Bus { tx }, rx)
    }

    pub fn publish(&self, n: Notification) {
        if self.tx.send(n).is_err() {
            tracing::debug!("notification dropped: the realtime gateway has stopped");
        }
    }
}
