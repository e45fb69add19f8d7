//! SMS channels: Twilio (signed webhooks, the Messages API) and Aliyun (SendSms, SmsUp and SmsReport pushes).

pub mod aliyun;
pub mod twilio;
