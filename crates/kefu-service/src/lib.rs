//! Kefu's application layer: the message spine (validate, decide, commit, then fan out), routing on every cause,
//! agent presence with its offline grace, the queue-timeout timer, authentication and administration.
//! Adapters (Socket.IO, REST) call `Service`; it talks to the store and publishes committed facts on the `Bus`.

mod admin;
mod auth;
mod bus;
mod channels;
mod conversations;
mod email;
mod error;
mod forms;
mod identity;
mod media;
mod outbox;
mod presence;
mod secret;
mod tickets;
mod webhooks;

pub use admin::{NewInbox, UserChanges, WidgetState};
pub use auth::{LoginLimits, hash_token, session_key};
pub use bus::{Bus, Notification};
pub use channels::{AliyunInbox, ChannelInbound, DeliveryReport, TwilioInbox, WechatInbox, WecomInbox, WeiboInbox};
pub use conversations::{SendMessage, Synced, TransferTarget, VisitorIdentity, VisitorProfile, VisitorSession};
pub use email::{EmailInbox, InboundEmail, Taken, conversation_tag};
pub use error::ServiceError;
pub use forms::{FormInfo, FormSubmission};
pub use identity::{ClaimedIdentity, IdentityCheck, signature_matches};
pub use media::MediaFile;
pub use outbox::{
    AliyunJob, ApiJob, DeliveryJob, EmailJob, MAX_ATTEMPTS, Outcome, TwilioJob, WechatJob, WecomJob, WeiboJob,
};
pub use secret::{SecretBox, SecretError};
pub use tickets::{NewTicket, RequesterInput, TicketChanges};
pub use webhooks::{MAX_WEBHOOK_ATTEMPTS, NewWebhook, WebhookChanges, WebhookJob, WebhookResult};

use kefu_store::Store;
use std::sync::Arc;
use std::time::Duration;

pub type Result<T, E = ServiceError> = std::result::Result<T, E>;

#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// How long an agent whose last socket closed stays present before going offline (their work is requeued).
    pub offline_grace: Duration,
    /// How long a visitor waits in the queue before being offered to leave a message.
    pub queue_timeout: Duration,
    /// How long a login session lasts.
    pub session_ttl: Duration,
    /// How often timers (queue timeout, session expiry) are checked.
    pub timer_tick: Duration,
    /// How long a solved ticket stays solved before it closes by itself.
    pub ticket_autoclose: Duration,
    /// Seals channel credentials at rest.
    pub secrets: SecretBox,
    /// Webhooks may target this machine or private networks (an integration running next to Kefu).
    pub allow_private_targets: bool,
    pub login_limits: LoginLimits,
    /// This node among those sharing the database: new at every start.
    pub node_id: uuid::Uuid,
    /// A node that has not beaten for this long is dead: its sockets stop counting and its leases (the timers)
    /// go to another node.
    pub node_ttl: Duration,
    /// How long a node's claim on an outgoing delivery lasts: if the node dies mid-send, another sends it after
    /// this (so a provider may see it twice: deliveries are at least once).
    pub delivery_lease: Duration,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        ServiceConfig {
            offline_grace: Duration::from_secs(30),
            queue_timeout: Duration::from_secs(600),
            session_ttl: Duration::from_secs(30 * 24 * 3600),
            timer_tick: Duration::from_secs(1),
            ticket_autoclose: Duration::from_secs(7 * 24 * 3600),
            // Tests and tools that seal nothing lasting: a key of the moment. The server always loads its own.
            secrets: SecretBox::ephemeral(),
            login_limits: LoginLimits::default(),
            allow_private_targets: false,
            node_id: uuid::Uuid::now_v7(),
            node_ttl: Duration::from_secs(20),
            delivery_lease: Duration::from_secs(300),
        }
    }
}

/// The application. Cheap to clone.
#[derive(Clone)]
pub struct Service {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    bus: Bus,
    config: ServiceConfig,
    presence: presence::Tracker,
    limiter: auth::LoginLimiter,
    /// How often the public ticket forms may be used.
    form_limits: forms::FormLimits,
    /// Each organisation's queue pace, for the expected wait visitors are shown. Learned as this node routes.
    pace: std::sync::Mutex<std::collections::HashMap<uuid::Uuid, kefu_core::wait::WaitEstimator>>,
    /// Committed facts on their way to webhook subscriptions.
    webhooks: webhooks::WebhookState,
    /// What channels do when a conversation closes (WeCom ends its session).
    closed_hooks: std::sync::RwLock<Vec<ClosedHook>>,
}

/// Called with each conversation that closed, after the close is committed. Must not block: spawn the work.
pub type ClosedHook = Arc<dyn Fn(&kefu_core::model::Conversation) + Send + Sync>;

impl Service {
    pub fn new(store: Store, bus: Bus, config: ServiceConfig) -> Self {
        let limiter = auth::LoginLimiter::new(config.login_limits.clone());
        Service {
            inner: Arc::new(Inner {
                store,
                bus,
                config,
                presence: Default::default(),
                limiter,
                pace: Default::default(),
                form_limits: Default::default(),
                webhooks: Default::default(),
                closed_hooks: Default::default(),
            }),
        }
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn config(&self) -> &ServiceConfig {
        &self.inner.config
    }

    /// Commits, then announces the contacts the transaction made (for `contact.created` webhooks).
    pub(crate) async fn commit(&self, tx: kefu_store::Tx) -> kefu_store::Result<()> {
        let created = tx.created_contacts().to_vec();
        tx.commit().await?;
        for (org_id, id) in created {
            // The contact is committed: a failed read only costs the announcement, which is logged.
            match self.store().contact(org_id, id).await {
                Ok(Some(contact)) => self.publish(vec![Notification::ContactCreated { contact }]),
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, contact = %id, "a new contact was not announced"),
            }
        }
        Ok(())
    }

    /// Lets a channel act when one of its conversations closes.
    pub fn on_conversation_closed(&self, hook: ClosedHook) {
        self.inner.closed_hooks.write().expect("closed hooks").push(hook);
    }

    pub(crate) fn publish(&self, notifications: Vec<Notification>) {
        for n in notifications {
            if let Notification::ConversationUpdated { conversation, .. } = &n
                && conversation.status == kefu_core::model::ConversationStatus::Closed
            {
                for hook in self.inner.closed_hooks.read().expect("closed hooks").iter() {
                    hook(conversation);
                }
            }
            self.inner.webhooks.offer(&n);
            self.inner.bus.publish(n);
        }
    }
}

/// Fresh ids are UUIDv7: sortable by creation time and safe to make on any node.
pub(crate) fn new_id() -> uuid::Uuid {
    uuid::Uuid::now_v7()
}
