//! Email inboxes: mail fetched over IMAP becomes conversations, agents' replies go out over SMTP, and threads
//! hold together through Message-ID, In-Reply-To and References, a plus-address tag, or a `[#123]` ticket tag.

pub mod fetch;
pub mod inbound;
pub mod send;
