//! Domain errors: the rule that was broken, with a stable code clients can rely on.

use thiserror::Error;

/// A rule of the domain that a request broke. Every variant has a stable snake_case code.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DomainError {
    #[error("message content is empty")]
    EmptyMessage,
    #[error("message content is longer than {max} characters")]
    MessageTooLong { max: usize },
    #[error("{field} is invalid: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("the conversation is closed")]
    ConversationClosed,
    #[error("the conversation is already open")]
    ConversationOpen,
    #[error("the agent is not online")]
    AgentUnavailable,
    #[error("the agent has no spare capacity")]
    AgentAtCapacity,
    #[error("the conversation is already assigned to this agent")]
    AlreadyAssigned,
    #[error("the ticket is closed")]
    TicketClosed,
}

impl DomainError {
    pub fn code(&self) -> &'static str {
        match self {
            DomainError::EmptyMessage => "empty_message",
            DomainError::MessageTooLong { .. } => "message_too_long",
            DomainError::Invalid { .. } => "invalid_input",
            DomainError::ConversationClosed => "conversation_closed",
            DomainError::ConversationOpen => "conversation_open",
            DomainError::AgentUnavailable => "agent_unavailable",
            DomainError::AgentAtCapacity => "agent_at_capacity",
            DomainError::AlreadyAssigned => "already_assigned",
            DomainError::TicketClosed => "ticket_closed",
        }
    }

    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        DomainError::Invalid {
            field,
            reason: reason.into(),
        }
    }
}
