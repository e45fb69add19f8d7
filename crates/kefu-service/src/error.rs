//! The application's error: what went wrong, in terms a client can act on. Adapters map it once to their wire.

use kefu_core::DomainError;
use kefu_store::StoreError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ServiceError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("authentication required")]
    Unauthorized,
    #[error("wrong email or password")]
    BadCredentials,
    #[error("too many failed attempts; try again in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error("{0}")]
    Conflict(String),
    /// The channel allows no reply now (WeChat's 48-hour window or its reply quota): the reason, for the agent.
    #[error("{0}")]
    ReplyWindowClosed(String),
    /// The conversation's channel cannot carry this file: the reason, with the channel's limits.
    #[error("{0}")]
    MediaNotSupported(String),
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ServiceError {
    /// The stable code clients rely on.
    pub fn code(&self) -> &'static str {
        match self {
            ServiceError::Domain(e) => e.code(),
            ServiceError::NotFound(_) => "not_found",
            ServiceError::Forbidden(_) => "forbidden",
            ServiceError::Unauthorized => "unauthorized",
            ServiceError::BadCredentials => "bad_credentials",
            ServiceError::RateLimited { .. } => "rate_limited",
            ServiceError::Conflict(_) => "conflict",
            ServiceError::ReplyWindowClosed(_) => "reply_window_closed",
            ServiceError::MediaNotSupported(_) => "attachment_not_supported",
            ServiceError::Internal(_) => "internal",
        }
    }

    pub fn internal(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        ServiceError::Internal(Box::new(e))
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(what) => ServiceError::Conflict(format!("a record with this {what} already exists")),
            other => ServiceError::Internal(Box::new(other)),
        }
    }
}
