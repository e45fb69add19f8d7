//! Files in conversations: what kind of media a file is, and whether a channel can carry it out to the customer.
//! Each provider takes only some types and sizes; a file it would refuse is refused when the agent attaches it,
//! with the channel's own limits in the words, rather than queued to fail.

use crate::model::InboxKind;

/// How a provider's API classes a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    Image,
    Voice,
    Video,
    File,
}

impl MediaKind {
    /// The `type`/`msgtype` word Tencent's APIs use.
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Image => "image",
            MediaKind::Voice => "voice",
            MediaKind::Video => "video",
            MediaKind::File => "file",
        }
    }
}

/// The largest file an agent may attach, whatever the channel.
pub const MAX_UPLOAD_BYTES: u64 = 20 * 1024 * 1024;
/// The largest file kept from a customer's message, whatever the channel.
pub const MAX_INBOUND_BYTES: u64 = 20 * 1024 * 1024;

const MB: u64 = 1024 * 1024;

/// The content type without parameters, lower-cased.
pub fn essence(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// A content type guessed from a file name, for providers that send none.
pub fn guess_type(filename: &str) -> &'static str {
    let ext = filename
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "amr" => "audio/amr",
        "mp3" => "audio/mpeg",
        "speex" => "audio/speex",
        "silk" => "audio/silk",
        "mp4" => "video/mp4",
        "pdf" => "application/pdf",
        "txt" => "text/plain",
        _ => "application/octet-stream",
    }
}

/// A file name's extension for a content type, for files that come without a name.
pub fn extension(content_type: &str) -> &'static str {
    match essence(content_type).as_str() {
        "image/jpeg" | "image/jpg" => "jpg",
        "image/png" => "png",
        "image/gif" => "gif",
        "image/webp" => "webp",
        "audio/amr" => "amr",
        "audio/mpeg" | "audio/mp3" => "mp3",
        "audio/speex" => "speex",
        "video/mp4" => "mp4",
        "application/pdf" => "pdf",
        "text/plain" => "txt",
        _ => "bin",
    }
}

fn over(size: u64, limit_mb: u64) -> bool {
    size > limit_mb * MB
}

/// How `channel` would carry a file of this type and size to the customer, or why it cannot, in words for the
/// agent.
pub fn outbound(channel: InboxKind, content_type: &str, size: u64) -> Result<MediaKind, String> {
    let ty = essence(content_type);
    if size == 0 {
        return Err("the file is empty".into());
    }
    if size > MAX_UPLOAD_BYTES {
        return Err("files larger than 20 MB cannot be sent".into());
    }
    match channel {
        InboxKind::Wechat => match ty.as_str() {
            "image/jpeg" | "image/png" | "image/gif" if !over(size, 10) => Ok(MediaKind::Image),
            "audio/amr" | "audio/mpeg" if !over(size, 2) => Ok(MediaKind::Voice),
            _ => Err("WeChat takes images (JPEG, PNG, GIF up to 10 MB) and voice (AMR, MP3 up to 2 MB)".into()),
        },
        InboxKind::Wecom => match ty.as_str() {
            "image/jpeg" | "image/png" if !over(size, 10) => Ok(MediaKind::Image),
            "audio/amr" if !over(size, 2) => Ok(MediaKind::Voice),
            "video/mp4" if !over(size, 10) => Ok(MediaKind::Video),
            _ if size <= 5 => Err("WeCom does not take files of 5 bytes or less".into()),
            "image/jpeg" | "image/png" | "audio/amr" | "video/mp4" => {
                Err("WeCom takes images (JPEG, PNG) and videos (MP4) up to 10 MB, voice (AMR) up to 2 MB".into())
            }
            _ if !over(size, 20) => Ok(MediaKind::File),
            _ => Err("WeCom takes files up to 20 MB".into()),
        },
        InboxKind::TwilioSms => match ty.as_str() {
            "image/jpeg" | "image/png" | "image/gif" | "application/pdf" if !over(size, 5) => {
                Ok(if ty.starts_with("image/") {
                    MediaKind::Image
                } else {
                    MediaKind::File
                })
            }
            _ => Err("MMS through Twilio takes images (JPEG, PNG, GIF) and PDF up to 5 MB".into()),
        },
        InboxKind::Email | InboxKind::Api => {
            if over(size, 10) {
                Err("files sent by this channel can be up to 10 MB".into())
            } else {
                Ok(kind_of(&ty))
            }
        }
        InboxKind::AliyunSms => Err("Aliyun SMS carries text only".into()),
        InboxKind::Weibo => Err("Weibo's reply API carries text only".into()),
        InboxKind::Web => Err("the chat widget does not show files".into()),
    }
}

/// The kind a content type falls in.
pub fn kind_of(content_type: &str) -> MediaKind {
    let ty = essence(content_type);
    if ty.starts_with("image/") {
        MediaKind::Image
    } else if ty.starts_with("audio/") {
        MediaKind::Voice
    } else if ty.starts_with("video/") {
        MediaKind::Video
    } else {
        MediaKind::File
    }
}

/// A file name fit to store and to put in a download header: no path, no control characters, not empty.
pub fn clean_filename(name: &str, content_type: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .take(200)
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_string();
    if cleaned.is_empty() {
        format!("file.{}", extension(content_type))
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wechat_takes_images_and_voice_within_its_limits() {
        assert_eq!(outbound(InboxKind::Wechat, "image/png", 1000), Ok(MediaKind::Image));
        assert_eq!(
            outbound(InboxKind::Wechat, "IMAGE/JPEG; x=y", 10 * MB),
            Ok(MediaKind::Image)
        );
        assert!(outbound(InboxKind::Wechat, "image/png", 10 * MB + 1).is_err());
        assert_eq!(outbound(InboxKind::Wechat, "audio/amr", 2 * MB), Ok(MediaKind::Voice));
        assert!(outbound(InboxKind::Wechat, "audio/amr", 2 * MB + 1).is_err());
        assert!(
            outbound(InboxKind::Wechat, "application/pdf", 10)
                .unwrap_err()
                .contains("WeChat takes images")
        );
    }

    #[test]
    fn wecom_takes_any_file_up_to_twenty_megabytes() {
        assert_eq!(outbound(InboxKind::Wecom, "application/pdf", 6), Ok(MediaKind::File));
        assert_eq!(outbound(InboxKind::Wecom, "video/mp4", 5 * MB), Ok(MediaKind::Video));
        assert!(outbound(InboxKind::Wecom, "application/pdf", 5).is_err());
        assert!(outbound(InboxKind::Wecom, "video/mp4", 11 * MB).is_err());
        assert!(outbound(InboxKind::Wecom, "application/zip", 20 * MB + 1).is_err());
    }

    #[test]
    fn text_only_channels_refuse_files_with_the_reason() {
        assert_eq!(
            outbound(InboxKind::AliyunSms, "image/png", 10).unwrap_err(),
            "Aliyun SMS carries text only"
        );
        assert!(outbound(InboxKind::Weibo, "image/png", 10).is_err());
        assert!(outbound(InboxKind::TwilioSms, "image/png", 5 * MB + 1).is_err());
        assert_eq!(
            outbound(InboxKind::TwilioSms, "image/gif", 5 * MB),
            Ok(MediaKind::Image)
        );
        assert!(outbound(InboxKind::Email, "application/zip", 0).is_err());
    }

    #[test]
    fn file_names_lose_paths_and_control_characters() {
        assert_eq!(clean_filename("../../etc/passwd", "text/plain"), "passwd");
        assert_eq!(clean_filename("C:\\x\\发票.pdf", "application/pdf"), "发票.pdf");
        assert_eq!(clean_filename("a\r\nb\".png", "image/png"), "ab.png");
        assert_eq!(clean_filename("", "image/png"), "file.png");
        assert_eq!(clean_filename("...", "audio/amr"), "file.amr");
        assert_eq!(guess_type("Photo.JPG"), "image/jpeg");
        assert_eq!(kind_of("audio/amr"), MediaKind::Voice);
    }
}
