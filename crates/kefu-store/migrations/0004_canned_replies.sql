-- Canned replies: short answers agents insert by typing "/" and a shortcut. Shared ones have no owner.
CREATE TABLE canned_replies (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organisations (id),
    owner_id TEXT REFERENCES users (id),
    shortcut TEXT NOT NULL,
    content TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX canned_replies_shortcut ON canned_replies (org_id, COALESCE(owner_id, ''), shortcut);
