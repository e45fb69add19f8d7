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
