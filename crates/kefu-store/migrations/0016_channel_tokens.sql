-- A provider's access token shared by the nodes: WeChat invalidates the previous token whenever one is fetched,
-- so nodes keeping their own would keep breaking each other's. The token is sealed like channel secrets.
CREATE TABLE channel_tokens (
    inbox_id TEXT PRIMARY KEY REFERENCES inboxes (id),
    -- A hash of the credentials it was fetched with: changed credentials need a new token.
    key_hash TEXT NOT NULL,
    token TEXT NOT NULL,
    fresh_until BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
