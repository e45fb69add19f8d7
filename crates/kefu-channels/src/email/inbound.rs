//! A received mail in Kefu's terms: who wrote, what they wrote (plain text when there is any, else the HTML made
//! safe and turned to text), which thread it answers, and whether a person wrote it at all (auto-replies and
//! bounces must never open conversations, or two auto-responders would mail each other forever).

use mail_parser::{HeaderValue, MessageParser, MimeHeaders};

/// The longest text kept as the message shown to agents; the original mail is kept whole beside it.
pub const MAX_TEXT_CHARS: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundMail {
    /// Without angle brackets. Made up from the content when the mail has none, so a retry is still recognised.
    pub message_id: String,
    /// The mails this one answers: In-Reply-To first, then References from newest to oldest.
    pub answers: Vec<String>,
    pub from_address: String,
    pub from_name: Option<String>,
    /// Every address the mail was sent to (To, Cc, Delivered-To), lower case: a plus-address tag is found here.
    pub recipients: Vec<String>,
    pub subject: String,
    /// What the agent reads: the new text, with quoted history trimmed off.
    pub text: String,
    /// The whole text, quotes included.
    pub full_text: String,
    /// The HTML body, sanitised, when the mail had one.
    pub html: Option<String>,
    /// Written by a machine (auto-reply, bounce, delivery report, list traffic): never answered, never opens
    /// a conversation.
    pub automatic: bool,
    /// Files attached to it: (name, content type, bytes).
    pub attachments: Vec<(String, String, Vec<u8>)>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MailError {
    #[error("not a mail: the message cannot be parsed")]
    Unparsable,
    #[error("the mail has no sender address")]
    NoSender,
}

fn ids(value: &HeaderValue<'_>) -> Vec<String> {
    match value {
        HeaderValue::Text(t) => vec![t.to_string()],
        HeaderValue::TextList(list) => list.iter().map(|t| t.to_string()).collect(),
        _ => Vec::new(),
    }
}

fn clean_id(id: &str) -> String {
    id.trim().trim_start_matches('<').trim_end_matches('>').to_string()
}

pub fn parse(raw: &[u8]) -> Result<InboundMail, MailError> {
    let message = MessageParser::default().parse(raw).ok_or(MailError::Unparsable)?;
    let from = message.from().and_then(|a| a.first()).ok_or(MailError::NoSender)?;
    let from_address = from
        .address()
        .map(|a| a.trim().to_lowercase())
        .filter(|a| a.contains('@'))
        .ok_or(MailError::NoSender)?;
    let from_name = from.name().map(str::trim).filter(|n| !n.is_empty()).map(String::from);

    let message_id = match message.message_id() {
        Some(id) if !id.trim().is_empty() => clean_id(id),
        _ => {
            use sha2::Digest;
            let digest = sha2::Sha256::digest(raw);
            format!("kefu-{}@no-message-id", &hex(&digest)[..32])
        }
    };
    let mut answers: Vec<String> = ids(message.in_reply_to()).iter().map(|i| clean_id(i)).collect();
    let mut references: Vec<String> = ids(message.references()).iter().map(|i| clean_id(i)).collect();
    references.reverse();
    for r in references {
        if !answers.contains(&r) {
            answers.push(r);
        }
    }

    let mut recipients = Vec::new();
    for list in [message.to(), message.cc()].into_iter().flatten() {
        for a in list.iter() {
            if let Some(addr) = a.address() {
                recipients.push(addr.trim().to_lowercase());
            }
        }
    }
    for (name, value) in message.headers_raw() {
        if name.eq_ignore_ascii_case("Delivered-To") || name.eq_ignore_ascii_case("X-Original-To") {
            recipients.push(value.trim().trim_matches(['<', '>']).to_lowercase());
        }
    }

    // mail-parser offers a plain-text mail as HTML too: only a real text/html part counts.
    let has_html = message.html_bodies().any(|p| {
        p.content_type()
            .and_then(|ct| ct.subtype())
            .is_some_and(|s| s.eq_ignore_ascii_case("html"))
    });
    let html = message.body_html(0).filter(|_| has_html).map(|h| {
        ammonia::Builder::default()
            .link_rel(Some("noopener noreferrer nofollow"))
            .clean(&h)
            .to_string()
    });
    let full_text = message
        .body_text(0)
        .map(|t| t.replace("\r\n", "\n"))
        .unwrap_or_default();
    let text = shown(&full_text);

    let header = |name: &str| message.header_raw(name).map(|v| v.trim().to_lowercase());
    let auto_submitted = header("Auto-Submitted").is_some_and(|v| v != "no");
    let precedence =
        header("Precedence").is_some_and(|v| matches!(v.as_str(), "bulk" | "junk" | "list" | "auto_reply"));
    let flagged = ["X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress"]
        .iter()
        .any(|h| header(h).is_some_and(|v| v.contains("all") || v.contains("oof") || v == "yes" || v == "true"))
        || header("List-Id").is_some();
    let local = from_address.split('@').next().unwrap_or_default();
    let daemon = matches!(
        local,
        "mailer-daemon" | "postmaster" | "noreply" | "no-reply" | "donotreply" | "do-not-reply"
    );
    let report = message.root_part().content_type().is_some_and(|ct| {
        ct.c_type.eq_ignore_ascii_case("multipart") && ct.subtype().is_some_and(|s| s.eq_ignore_ascii_case("report"))
    });

    let attachments = message
        .attachments()
        .map(|part| {
            let name = part
                .attachment_name()
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .unwrap_or("attachment");
            let content_type = part
                .content_type()
                .map(|ct| match ct.subtype() {
                    Some(sub) => format!("{}/{}", ct.ctype(), sub),
                    None => ct.ctype().to_string(),
                })
                .unwrap_or_else(|| "application/octet-stream".into())
                .to_lowercase();
            (name.to_string(), content_type, part.contents().to_vec())
        })
        .collect();
    Ok(InboundMail {
        attachments,
        message_id,
        answers,
        from_address,
        from_name,
        recipients,
        subject: message.subject().map(str::trim).unwrap_or_default().to_string(),
        text,
        full_text,
        html,
        automatic: auto_submitted || precedence || flagged || daemon || report,
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The new part of a reply: everything before the quoted history ("On … wrote:", "-----Original Message-----",
/// "在 … 写道：", a trailing run of "> " lines), cut to [`MAX_TEXT_CHARS`]. Falls back to the whole text when the
/// cut would leave nothing.
pub fn shown(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut end = lines.len();
    for (i, line) in lines.iter().enumerate() {
        let l = line.trim();
        let header = (l.starts_with("On ") && l.ends_with("wrote:"))
            || l.starts_with("-----Original Message-----")
            || l.starts_with("------------------ 原始邮件")
            || (l.starts_with('在') && (l.ends_with("写道：") || l.ends_with("写道:")))
            || (l.starts_with("From: ")
                && i > 0
                && lines[i - 1].trim().is_empty()
                && lines
                    .get(i + 1)
                    .is_some_and(|n| n.starts_with("Sent: ") || n.starts_with("Date: ")));
        if header {
            end = i;
            break;
        }
    }
    // A quote at the very end with no header line: drop the trailing "> " block.
    while end > 0 && lines[end - 1].trim_start().starts_with('>') {
        end -= 1;
    }
    let kept = lines[..end].join("\n").trim().to_string();
    let kept = if kept.is_empty() { text.trim().to_string() } else { kept };
    kept.chars().take(MAX_TEXT_CHARS).collect()
}

/// `[#123]` in a subject: the ticket a mail is about.
pub fn ticket_number(subject: &str) -> Option<i64> {
    let start = subject.find("[#")? + 2;
    let end = start + subject[start..].find(']')?;
    subject[start..end].trim().parse().ok()
}

/// The tag after `+` in a recipient at the inbox's address (`support+c3f2…@example.com`), if any.
pub fn address_tag(recipients: &[String], inbox_address: &str) -> Option<String> {
    let (local, domain) = inbox_address
        .to_lowercase()
        .split_once('@')
        .map(|(l, d)| (l.to_string(), d.to_string()))?;
    recipients.iter().find_map(|r| {
        let (l, d) = r.split_once('@')?;
        let (base, tag) = l.split_once('+')?;
        (base == local && d == domain && !tag.is_empty()).then(|| tag.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail(headers: &str, body: &[u8]) -> Vec<u8> {
        let mut raw = headers.replace('\n', "\r\n").into_bytes();
        raw.extend_from_slice(b"\r\n");
        raw.extend_from_slice(body);
        raw
    }

    #[test]
    fn a_plain_mail_gives_sender_subject_text_and_thread() {
        let raw = mail(
            "From: Li Lei <Li.Lei@Example.COM>\nTo: support@kefu.test\nSubject: Re: My order\n\
             Message-ID: <abc@example.com>\nIn-Reply-To: <k2@kefu.test>\nReferences: <k1@kefu.test> <k2@kefu.test>\n\
             Content-Type: text/plain; charset=utf-8\n",
            b"Still waiting.\r\n\r\nOn Mon, 1 Jan 2026, Support <support@kefu.test> wrote:\r\n> We are on it.\r\n",
        );
        let m = parse(&raw).unwrap();
        assert_eq!(m.message_id, "abc@example.com");
        assert_eq!(m.answers, vec!["k2@kefu.test", "k1@kefu.test"]);
        assert_eq!(m.from_address, "li.lei@example.com");
        assert_eq!(m.from_name.as_deref(), Some("Li Lei"));
        assert_eq!(m.subject, "Re: My order");
        assert_eq!(m.text, "Still waiting.");
        assert!(m.full_text.contains("> We are on it."));
        assert!(!m.automatic);
        assert_eq!(m.html, None);
    }

    #[test]
    fn chinese_and_western_charsets_decode() {
        // "你好，我的订单" in GBK, in Big5 ("你好" only), and "Grüße" in ISO-8859-1, each quoted-printable or 8-bit.
        let gbk = mail(
            "From: a@example.cn\nSubject: =?GBK?B?tqm1pQ==?=\nContent-Type: text/plain; charset=GBK\nContent-Transfer-Encoding: 8bit\n",
            &[
                0xc4, 0xe3, 0xba, 0xc3, 0xa3, 0xac, 0xce, 0xd2, 0xb5, 0xc4, 0xb6, 0xa9, 0xb5, 0xa5,
            ],
        );
        let m = parse(&gbk).unwrap();
        assert_eq!(m.text, "你好，我的订单");
        assert_eq!(m.subject, "订单");
        let gb2312 = mail(
            "From: a@example.cn\nSubject: x\nContent-Type: text/plain; charset=gb2312\nContent-Transfer-Encoding: quoted-printable\n",
            b"=C4=E3=BA=C3",
        );
        assert_eq!(parse(&gb2312).unwrap().text, "你好");
        let big5 = mail(
            "From: a@example.tw\nSubject: x\nContent-Type: text/plain; charset=big5\nContent-Transfer-Encoding: 8bit\n",
            &[0xa7, 0x41, 0xa6, 0x6e],
        );
        assert_eq!(parse(&big5).unwrap().text, "你好");
        let latin = mail(
            "From: a@example.de\nSubject: x\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n",
            b"Gr=FC=DFe",
        );
        assert_eq!(parse(&latin).unwrap().text, "Grüße");
    }

    #[test]
    fn html_is_sanitised_and_read_as_text_when_there_is_no_plain_part() {
        let raw = mail(
            "From: a@example.com\nSubject: x\nContent-Type: text/html; charset=utf-8\n",
            b"<p>Hello <b>there</b><script>alert(1)</script><img src=x onerror=alert(2)></p>",
        );
        let m = parse(&raw).unwrap();
        let html = m.html.unwrap();
        assert!(!html.contains("script") && !html.contains("onerror"), "{html}");
        assert!(html.contains("<b>there</b>"));
        assert!(m.text.contains("Hello") && m.text.contains("there"), "{}", m.text);
        assert!(!m.text.contains("alert"));
    }

    #[test]
    fn auto_replies_bounces_and_lists_are_machine_written() {
        let cases = [
            "From: a@example.com\nAuto-Submitted: auto-replied\nSubject: Out of office\n",
            "From: a@example.com\nX-Autoreply: yes\nSubject: Away\n",
            "From: MAILER-DAEMON@example.com\nSubject: Undelivered Mail Returned to Sender\n",
            "From: a@example.com\nPrecedence: bulk\nSubject: News\n",
            "From: a@example.com\nList-Id: <team.lists.example.com>\nSubject: digest\n",
            "From: postmaster@example.com\nSubject: Delivery Status Notification\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\n",
        ];
        for headers in cases {
            assert!(parse(&mail(headers, b"x")).unwrap().automatic, "{headers}");
        }
        let person = mail("From: a@example.com\nAuto-Submitted: no\nSubject: hi\n", b"x");
        assert!(!parse(&person).unwrap().automatic);
    }

    #[test]
    fn a_mail_without_a_sender_or_message_id() {
        assert_eq!(parse(&mail("Subject: x\n", b"x")), Err(MailError::NoSender));
        let raw = mail("From: a@example.com\nSubject: x\n", b"same");
        let (a, b) = (parse(&raw).unwrap(), parse(&raw).unwrap());
        assert_eq!(
            a.message_id, b.message_id,
            "a made-up id is stable, so a retry is recognised"
        );
        assert!(a.message_id.ends_with("@no-message-id"));
    }

    #[test]
    fn quoted_history_is_trimmed_for_display_in_several_styles() {
        assert_eq!(shown("Thanks!\n\n-----Original Message-----\nFrom: x"), "Thanks!");
        assert_eq!(shown("好的\n\n在 2026年11月27日 写道：\n> 请问"), "好的");
        assert_eq!(shown("Yes\n> quoted\n> more"), "Yes");
        assert_eq!(shown("> only a quote"), "> only a quote", "never empty");
        assert_eq!(shown(&"x".repeat(20_000)).chars().count(), MAX_TEXT_CHARS);
    }

    #[test]
    fn attachments_come_with_their_name_type_and_bytes() {
        let raw = mail(
            "From: a@example.com\nSubject: invoice\nContent-Type: multipart/mixed; boundary=b\n",
            b"--b\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n--b\r\nContent-Type: application/pdf; name=\"=?UTF-8?B?5Y+R56WoLnBkZg==?=\"\r\nContent-Disposition: attachment; filename=\"=?UTF-8?B?5Y+R56WoLnBkZg==?=\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b--\r\n",
        );
        let m = parse(&raw).unwrap();
        assert_eq!(m.text, "See attached.");
        assert_eq!(
            m.attachments,
            vec![(
                "发票.pdf".to_string(),
                "application/pdf".to_string(),
                b"%PDF-1.4\n".to_vec()
            )]
        );
    }

    #[test]
    fn ticket_numbers_and_address_tags() {
        assert_eq!(ticket_number("Re: [#123] Refund"), Some(123));
        assert_eq!(ticket_number("Re: Refund [#12a]"), None);
        assert_eq!(ticket_number("no tag"), None);
        let to = vec!["someone@else.com".to_string(), "support+c0ffee@kefu.test".to_string()];
        assert_eq!(address_tag(&to, "Support@kefu.test").as_deref(), Some("c0ffee"));
        assert_eq!(address_tag(&to, "help@kefu.test"), None);
    }
}
