-- Files that came with messages (email attachments): kept in the database with the conversation, within
-- limits; the message lists them (name, type, size) so reading a conversation needs no join.
CREATE TABLE attachments (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organisations (id),
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    message_id TEXT NOT NULL REFERENCES messages (id),
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    -- the bytes, base64
    data TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX attachments_message ON attachments (message_id);

-- JSON [{id, filename, content_type, size}], NULL when there are none
ALTER TABLE messages ADD COLUMN attachments TEXT;
