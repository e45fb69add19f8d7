-- Email inboxes: sealed credentials, the connection state admins see, where fetching stopped, and every mail's
-- Message-ID with the conversation it belongs to (threading, and dropping a mail fetched twice).

-- Channel credentials, sealed with the installation's secret key; never returned by the API.
ALTER TABLE inboxes ADD COLUMN secrets TEXT;
-- JSON {status: "connecting"|"ok"|"error", message, since}: how the channel's connection is doing.
ALTER TABLE inboxes ADD COLUMN channel_state TEXT;

-- IMAP: the mailbox's UIDVALIDITY and the last UID taken in; mail above it is new.
CREATE TABLE email_cursors (
    inbox_id TEXT PRIMARY KEY REFERENCES inboxes (id),
    uid_validity BIGINT NOT NULL,
    last_uid BIGINT NOT NULL
);

CREATE TABLE email_messages (
    inbox_id TEXT NOT NULL REFERENCES inboxes (id),
    -- the mail's Message-ID, without angle brackets
    message_id TEXT NOT NULL,
    -- NULL for a mail that was ignored (an auto-reply, a bounce)
    conversation_id TEXT REFERENCES conversations (id),
    kefu_message_id TEXT REFERENCES messages (id),
    direction TEXT NOT NULL,
    subject TEXT NOT NULL DEFAULT '',
    -- the original mail, base64, for inbound mail
    raw TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (inbox_id, message_id)
);
CREATE INDEX email_messages_conversation ON email_messages (conversation_id, created_at);
