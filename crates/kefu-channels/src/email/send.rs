//! Sending agents' replies by SMTP, from the outbox. Every mail carries its own Message-ID, In-Reply-To and
//! References of the thread, a subject with the ticket tag when there is a ticket, and a Reply-To whose
//! plus-address tag names the conversation, so the customer's answer threads back whatever their client keeps.
//! A 5xx is final and its reason is shown to the agent; 4xx and connection failures are tried again later.

use kefu_core::email::Tls;
use kefu_core::model::InboxKind;
use kefu_service::{EmailJob, MediaFile, Outcome, Service};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::time::Duration;

const SEND_TIMEOUT: Duration = Duration::from_secs(30);

/// The subject of a mail in a thread: "Re: " once when it answers one, and the ticket's `[#123]` tag when the
/// conversation is a ticket.
pub fn reply_subject(thread_subject: &str, answers: bool, ticket: Option<i64>) -> String {
    let base = thread_subject.trim();
    let base = if base.is_empty() { "Your message" } else { base };
    let mut subject = if !answers || base.to_lowercase().starts_with("re:") {
        base.to_string()
    } else {
        format!("Re: {base}")
    };
    if let Some(n) = ticket {
        let tag = format!("[#{n}]");
        if !subject.contains(&tag) {
            subject = format!("{subject} {tag}");
        }
    }
    subject
}

/// `support+tag@example.com` for `support@example.com`.
pub fn tagged_address(address: &str, tag: &str) -> String {
    match address.split_once('@') {
        Some((local, domain)) => format!("{local}+{tag}@{domain}"),
        None => address.to_string(),
    }
}

fn subject(job: &EmailJob) -> String {
    reply_subject(
        &job.thread.subject,
        !job.thread.message_ids.is_empty(),
        job.ticket_number,
    )
}

fn build(job: &EmailJob, message_id: &str, files: &[MediaFile]) -> Result<lettre::Message, String> {
    let smtp = &job.inbox.settings.smtp;
    let to = job
        .to_address
        .as_deref()
        .ok_or("the contact has no email address to answer")?;
    let parse = |a: &str| a.parse().map_err(|e| format!("{a:?} is not an address: {e}"));
    let from = Mailbox::new(smtp.from_name.clone(), parse(&smtp.from_address)?);
    let reply_to = Mailbox::new(
        smtp.from_name.clone(),
        parse(&tagged_address(&smtp.from_address, &job.reply_tag))?,
    );
    let mut builder = lettre::Message::builder()
        .message_id(Some(format!("<{message_id}>")))
        .from(from)
        .reply_to(reply_to)
        .to(Mailbox::new(Some(job.to_name.clone()), parse(to)?))
        .subject(subject(job));
    if let Some(last) = job.thread.message_ids.last() {
        builder = builder.in_reply_to(format!("<{last}>"));
        let references: Vec<String> = job.thread.message_ids.iter().map(|id| format!("<{id}>")).collect();
        builder = builder.references(references.join(" "));
    }
    if files.is_empty() {
        return builder
            .header(ContentType::TEXT_PLAIN)
            .body(job.message.content.clone())
            .map_err(|e| e.to_string());
    }
    let mut parts = MultiPart::mixed().singlepart(SinglePart::plain(job.message.content.clone()));
    for f in files {
        let content_type = ContentType::parse(&f.content_type)
            .unwrap_or_else(|_| ContentType::parse("application/octet-stream").expect("a valid type"));
        parts = parts.singlepart(Attachment::new(f.filename.clone()).body(f.bytes.clone(), content_type));
    }
    builder.multipart(parts).map_err(|e| e.to_string())
}

fn transport(job: &EmailJob) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    let smtp = &job.inbox.settings.smtp;
    let builder = match smtp.tls {
        Tls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host),
        Tls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host).map_err(|e| e.to_string())?,
        Tls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host).map_err(|e| e.to_string())?,
    };
    let mut builder = builder.port(smtp.port).timeout(Some(SEND_TIMEOUT));
    if let (Some(user), Some(password)) = (&smtp.user, &job.inbox.secrets.smtp_password) {
        builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
    }
    Ok(builder.build())
}

/// Sends one reply and says how it went.
pub async fn send(service: &Service, job: &EmailJob) -> Outcome {
    let mut files = Vec::new();
    for a in &job.message.attachments {
        if let Err(reason) = kefu_core::media::outbound(InboxKind::Email, &a.content_type, a.size) {
            return Outcome::Failed(reason);
        }
        match service.attachment_bytes(a.id).await {
            Ok((meta, bytes)) => files.push(MediaFile {
                filename: meta.filename,
                content_type: meta.content_type,
                bytes,
            }),
            Err(e) => return Outcome::Retry(format!("the file could not be read: {e}")),
        }
    }
    let domain = job
        .inbox
        .settings
        .smtp
        .from_address
        .split('@')
        .nth(1)
        .unwrap_or("kefu.invalid");
    let message_id = format!("{}@{domain}", job.message.id);
    let mail = match build(job, &message_id, &files) {
        Ok(m) => m,
        Err(reason) => return Outcome::Failed(reason),
    };
    let transport = match transport(job) {
        Ok(t) => t,
        Err(reason) => return Outcome::Failed(reason),
    };
    match transport.send(mail).await {
        Ok(_) => Outcome::Sent {
            message_id,
            subject: subject(job),
        },
        Err(e) if e.is_permanent() => Outcome::Failed(format!("the mail server refused it: {e}")),
        Err(e) => Outcome::Retry(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_subjects_say_re_once_and_carry_the_ticket_tag() {
        assert_eq!(reply_subject("My order", true, None), "Re: My order");
        assert_eq!(reply_subject("RE: My order", true, Some(12)), "RE: My order [#12]");
        assert_eq!(
            reply_subject("Re: [#12] My order", true, Some(12)),
            "Re: [#12] My order"
        );
        assert_eq!(reply_subject("  ", true, None), "Re: Your message");
        assert_eq!(
            reply_subject("Refund", false, Some(7)),
            "Refund [#7]",
            "the first mail of a thread Kefu starts answers nothing"
        );
        assert_eq!(
            tagged_address("support@kefu.test", "c0ffee"),
            "support+c0ffee@kefu.test"
        );
    }
}
