//! Kefu's channels beyond the web widget. Each channel turns provider input into the core's terms on the way in
//! and delivers agents' replies on the way out; provider specifics stay here.

pub mod api;
pub mod delivery;
pub mod email;
pub mod media;
pub mod sms;
pub mod webhooks;
pub mod wechat;
pub mod wecom;
pub mod weibo;

/// Why a provider's call to a webhook was refused: one error for every channel, mapped once to a response.
#[derive(Debug, thiserror::Error)]
pub enum HookError {
    /// Not signed with the inbox's secret (named here: token, app secret, auth token): nothing was read.
    #[error("the signature does not match the inbox's {0}")]
    BadSignature(&'static str),
    /// Signed, but not something Kefu can read: nothing was stored.
    #[error("{0}")]
    BadRequest(String),
    #[error(transparent)]
    Service(#[from] kefu_service::ServiceError),
}
