//! Kefu's domain core: the support vocabulary (organisations, agents, teams, inboxes, contacts, conversations,
//! messages), the rules that validate them and the router (ACD) that decides who answers what.
//! It does no IO: adapters (storage, realtime, HTTP, channels) load state, ask the core, and commit its answer.

pub mod api_channel;
pub mod email;
pub mod error;
pub mod media;
pub mod model;
pub mod routing;
pub mod sms;
pub mod ticket;
pub mod validate;
pub mod wait;
pub mod webhook;
pub mod wechat;
pub mod wecom;
pub mod weibo;
pub mod widget;

pub use error::DomainError;
