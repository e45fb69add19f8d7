-- Where pulling a channel's messages stopped (WeCom's sync_msg cursor): a restart goes on from there, neither
-- skipping nor repeating.
CREATE TABLE channel_cursors (
    inbox_id TEXT PRIMARY KEY REFERENCES inboxes (id),
    cursor TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
