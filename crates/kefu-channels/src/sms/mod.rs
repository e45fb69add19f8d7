//! SMS channels. Twilio: the signed webhook for incoming texts and delivery reports, and its Messages API.

pub mod twilio;
