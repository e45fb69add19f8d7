-- The outbox: agents' replies to deliver to external channels (email first), written in the same transaction
-- as the message, delivered by a worker with retries and backoff; the delivery's state is kept on the message.

CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organisations (id),
    inbox_id TEXT NOT NULL REFERENCES inboxes (id),
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    message_id TEXT NOT NULL REFERENCES messages (id),
    -- pending, sent or failed
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX outbox_message ON outbox (message_id);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);

-- pending, sent or failed; NULL for messages nobody delivers (the web chat, private notes)
ALTER TABLE messages ADD COLUMN delivery_status TEXT;
ALTER TABLE messages ADD COLUMN delivery_error TEXT;
