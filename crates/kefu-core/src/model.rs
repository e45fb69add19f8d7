//! The nouns of customer support, as the rest of Kefu sees them.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.as_str()) }
        }

        impl std::str::FromStr for $name {
            type Err = crate::DomainError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(crate::DomainError::invalid(
                        stringify!($name),
                        format!("unknown value {other:?}"),
                    )),
                }
            }
        }
    };
}
pub(crate) use string_enum;

string_enum!(
    /// What a user may do. Admins configure; supervisors see and act on every conversation; agents answer.
    Role { Admin => "admin", Supervisor => "supervisor", Agent => "agent" }
);

impl Role {
    /// Supervisors and admins may act on any conversation of their organisation.
    pub fn oversees(self) -> bool {
        matches!(self, Role::Admin | Role::Supervisor)
    }
}

string_enum!(
    /// An agent's presence as they chose it. Only `online` agents receive new conversations.
    Presence { Online => "online", Away => "away", Offline => "offline" }
);

string_enum!(
    ConversationStatus { Queued => "queued", Assigned => "assigned", Closed => "closed" }
);

string_enum!(
    SenderKind { Visitor => "visitor", Agent => "agent", System => "system" }
);

string_enum!(
    InboxKind { Web => "web", Email => "email", Wechat => "wechat", TwilioSms => "twilio_sms", AliyunSms => "aliyun_sms", Weibo => "weibo", Wecom => "wecom", Api => "api" }
);

impl InboxKind {
    /// Whether the provider reaches Kefu by calling its webhook.
    pub fn calls_webhook(self) -> bool {
        matches!(
            self,
            InboxKind::Wechat
                | InboxKind::Wecom
                | InboxKind::TwilioSms
                | InboxKind::AliyunSms
                | InboxKind::Weibo
                | InboxKind::Api
        )
    }
}

/// Who wrote a message, as shown to readers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Sender {
    pub kind: SenderKind,
    pub id: Option<Uuid>,
    pub name: String,
}

/// Default number of open conversations an agent handles at once.
pub const DEFAULT_CAPACITY: u32 = 5;

/// A moment, in milliseconds since the Unix epoch; shown to clients as RFC 3339 UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn to_rfc3339(self) -> String {
        chrono::DateTime::from_timestamp_millis(self.0)
            .unwrap_or_default()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Timestamp {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Timestamp {}

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Organisation {
    pub id: Uuid,
    pub name: String,
    pub created_at: Timestamp,
}

/// A person who works in Kefu: an agent, a supervisor or an admin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    pub id: Uuid,
    pub org_id: Uuid,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub capacity: u32,
    pub active: bool,
    pub presence: Presence,
    pub teams: Vec<Uuid>,
    /// The workspace language the user chose (`zh-CN` or `en`); `null` follows the browser.
    pub locale: Option<String>,
    pub created_at: Timestamp,
}

/// A skill group: the agents who can answer a kind of question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Team {
    pub id: Uuid,
    pub org_id: Uuid,
    pub name: String,
    pub members: Vec<Uuid>,
    /// The working hours the team's tickets count their SLA targets in; `null` counts around the clock.
    pub business_hours: Option<crate::widget::WorkingHours>,
    pub created_at: Timestamp,
}

/// Where customers reach the organisation; a `web` inbox is a chat widget with its token.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Inbox {
    pub id: Uuid,
    pub org_id: Uuid,
    pub kind: InboxKind,
    /// Where the provider calls Kefu (`/hooks/{kind}/{id}`, to put after Kefu's public address); `null` for the
    /// web and email.
    pub webhook_path: Option<String>,
    pub name: String,
    pub widget_token: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub settings: serde_json::Value,
    pub teams: Vec<Uuid>,
    /// The key a customer's server signs visitor ids with for `Kefu.setUser`. Shown to admins only: `null` for
    /// everyone else.
    pub identity_secret: Option<String>,
    /// How the channel's connection is doing (email: `{status, message, since}`); `null` for the web.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub channel_state: Option<serde_json::Value>,
    pub created_at: Timestamp,
}

/// The customer: for the web, a visitor recognised by their visitor token.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Contact {
    pub id: Uuid,
    pub org_id: Uuid,
    pub inbox_id: Uuid,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// The customer's own id for this person, set when their identity was verified (`Kefu.setUser`).
    pub external_id: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub attributes: serde_json::Value,
    pub last_agent_id: Option<Uuid>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// The person this contact is: contacts merged across channels share it (the id of one of them).
    pub person_id: Uuid,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Assignee {
    pub id: Uuid,
    pub name: String,
}

/// One support exchange with a contact, from first message to close.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Conversation {
    pub id: Uuid,
    pub org_id: Uuid,
    pub inbox_id: Uuid,
    pub contact_id: Uuid,
    /// The contact's current name, for lists.
    pub contact_name: String,
    pub status: ConversationStatus,
    pub assignee: Option<Assignee>,
    pub team_id: Option<Uuid>,
    /// The highest message seq so far: a client that has seen it is up to date.
    pub last_seq: i64,
    /// Position (from 1) in the queue while queued; filled in by whoever knows the queue.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue_position: Option<u32>,
    /// Seconds the visitor can expect to wait at that position, judged from the queue's recent pace; only with a
    /// `queue_position`, and only once the pace is known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_wait_secs: Option<u32>,
    pub created_at: Timestamp,
    pub first_response_at: Option<Timestamp>,
    pub closed_at: Option<Timestamp>,
    pub updated_at: Timestamp,
    /// The visitor's satisfaction rating, once given (after the conversation closed).
    pub rating: Option<Rating>,
    /// The highest seq the visitor has seen on screen.
    pub visitor_read_seq: i64,
    /// The highest seq an agent has seen on screen.
    pub agent_read_seq: i64,
    #[serde(skip)]
    pub queued_at: Option<i64>,
}

/// How satisfied the visitor was: 1 (not at all) to 5 (very), with an optional comment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Rating {
    pub score: u8,
    pub comment: Option<String>,
    pub rated_at: Timestamp,
}

/// One message of a conversation. `seq` is gapless per conversation, starting at 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Message {
    pub id: Uuid,
    pub conversation_id: Uuid,
    pub seq: i64,
    pub sender: Sender,
    pub content: String,
    pub private: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    pub created_at: Timestamp,
    /// For a reply Kefu delivers to another channel (email): whether it went out. Omitted otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery: Option<Delivery>,
    /// Files that came with it (a mail's attachments, a customer's photo, an agent's file), fetched by id. Omitted
    /// when there are none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
    /// For a mail: its subject, and whether its formatted (HTML) original can be shown. Omitted otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<EmailInfo>,
}

/// What a message that is a mail shows besides its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EmailInfo {
    pub subject: String,
    /// A sanitised HTML version exists (`GET /api/v1/messages/{id}/html`).
    #[serde(default)]
    pub html: bool,
}

/// A file kept with a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Attachment {
    pub id: Uuid,
    pub filename: String,
    pub content_type: String,
    /// Bytes.
    pub size: u64,
}

string_enum!(
    /// Where the delivery of a reply to an external channel stands.
    DeliveryStatus { Pending => "pending", Sent => "sent", Delivered => "delivered", Failed => "failed" }
);

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Delivery {
    pub status: DeliveryStatus,
    /// Why it failed, in the words of the server that refused it; or why the last try did not work.
    pub error: Option<String>,
}

/// A ready-made answer an agent inserts by its shortcut. Shared ones (no owner) are the team's; personal ones are
/// their owner's alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CannedReply {
    pub id: Uuid,
    pub shortcut: String,
    pub content: String,
    pub owner_id: Option<Uuid>,
    pub shared: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}
