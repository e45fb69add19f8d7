-- The id a provider gave a reply it accepted (a Twilio message SID), so its delivery reports find the message.
ALTER TABLE messages ADD COLUMN provider_message_id TEXT;
CREATE INDEX messages_provider_message ON messages (provider_message_id);

-- A provider's report that arrived before Kefu had recorded the id the provider gave the reply (the provider
-- answered the send and reported on it at once): kept until the id is recorded, then applied.
CREATE TABLE early_delivery_reports (
    inbox_id TEXT NOT NULL REFERENCES inboxes (id),
    provider_message_id TEXT NOT NULL,
    status TEXT NOT NULL,
    error TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (inbox_id, provider_message_id)
);
