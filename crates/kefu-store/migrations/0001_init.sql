-- Kefu's first schema. One file serves SQLite and PostgreSQL: ids are TEXT (UUIDv7), times are BIGINT
-- milliseconds since the epoch, flags are BIGINT 0/1, JSON is TEXT.

CREATE TABLE organisations (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organisations (id),
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    capacity BIGINT NOT NULL,
    active BIGINT NOT NULL DEFAULT 1,
    presence TEXT NOT NULL DEFAULT 'offline',
    last_assigned BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX users_email ON users (email);
CREATE INDEX users_org ON users (org_id);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE teams (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organisations (id),
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX teams_org_name ON teams (org_id, name);

CREATE TABLE team_members (
    team_id TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id),
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_user ON team_members (user_id);

CREATE TABLE inboxes (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organisations (id),
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    widget_token TEXT UNIQUE,
    settings TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX inboxes_org ON inboxes (org_id);

CREATE TABLE inbox_teams (
    inbox_id TEXT NOT NULL REFERENCES inboxes (id) ON DELETE CASCADE,
    team_id TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    PRIMARY KEY (inbox_id, team_id)
);

CREATE TABLE contacts (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organisations (id),
    inbox_id TEXT NOT NULL REFERENCES inboxes (id),
    visitor_token_hash TEXT UNIQUE,
    name TEXT NOT NULL,
    email TEXT,
    phone TEXT,
    attributes TEXT NOT NULL DEFAULT '{}',
    last_agent_id TEXT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX contacts_org ON contacts (org_id, id);

CREATE TABLE conversations (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organisations (id),
    inbox_id TEXT NOT NULL REFERENCES inboxes (id),
    contact_id TEXT NOT NULL REFERENCES contacts (id),
    status TEXT NOT NULL,
    assignee_id TEXT REFERENCES users (id),
    team_id TEXT REFERENCES teams (id),
    -- queue order: set when first queued, kept when requeued so nobody loses their place
    queued_at BIGINT,
    -- when this wait began: the queue timeout counts from here
    waiting_since BIGINT,
    queue_timeout_notified BIGINT NOT NULL DEFAULT 0,
    last_seq BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    first_response_at BIGINT,
    closed_at BIGINT,
    updated_at BIGINT NOT NULL
);
CREATE INDEX conversations_org_status ON conversations (org_id, status, id);
CREATE INDEX conversations_assignee ON conversations (assignee_id, status);
CREATE INDEX conversations_contact ON conversations (contact_id, id);

CREATE TABLE messages (
    id TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    seq BIGINT NOT NULL,
    sender_kind TEXT NOT NULL,
    sender_id TEXT,
    sender_name TEXT NOT NULL,
    content TEXT NOT NULL,
    private BIGINT NOT NULL DEFAULT 0,
    client_id TEXT,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX messages_conversation_seq ON messages (conversation_id, seq);
CREATE UNIQUE INDEX messages_client_id ON messages (sender_kind, sender_id, client_id);
