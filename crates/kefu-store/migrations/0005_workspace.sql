-- The agents' workspace and verified visitor identity.
-- users.locale: the language a user chose for the workspace ('zh-CN', 'en'), NULL to follow the browser.
ALTER TABLE users ADD COLUMN locale TEXT;

-- inboxes.identity_secret: the key a customer's server signs visitor ids with (Kefu.setUser's hash).
ALTER TABLE inboxes ADD COLUMN identity_secret TEXT;

-- contacts.external_id: the customer's own id for a visitor whose identity was verified; one contact per id
-- and inbox, so the same person is one contact on every device.
ALTER TABLE contacts ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX contacts_inbox_external ON contacts (inbox_id, external_id);

-- A contact may hold several visitor tokens (one per device once the identity is verified). The old
-- contacts.visitor_token_hash column is no longer written; its tokens move here.
CREATE TABLE visitor_tokens (
    token_hash TEXT PRIMARY KEY,
    contact_id TEXT NOT NULL REFERENCES contacts (id),
    created_at BIGINT NOT NULL
);
CREATE INDEX visitor_tokens_contact ON visitor_tokens (contact_id);
INSERT INTO visitor_tokens (token_hash, contact_id, created_at)
    SELECT visitor_token_hash, id, created_at FROM contacts WHERE visitor_token_hash IS NOT NULL;
