-- Tickets: work with a lifecycle and service-level targets, a history of every change, per-priority SLA
-- policies, and a working-hours calendar per team that the targets are counted in.

-- JSON working hours (the widget's format); NULL counts around the clock.
ALTER TABLE teams ADD COLUMN business_hours TEXT;

CREATE TABLE sla_policies (
    org_id TEXT NOT NULL REFERENCES organisations (id),
    priority TEXT NOT NULL,
    first_response_mins BIGINT,
    next_response_mins BIGINT,
    resolution_mins BIGINT,
    PRIMARY KEY (org_id, priority)
);

CREATE TABLE tickets (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organisations (id),
    number BIGINT NOT NULL,
    subject TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    priority TEXT NOT NULL,
    assignee_id TEXT REFERENCES users (id),
    team_id TEXT REFERENCES teams (id),
    requester_id TEXT REFERENCES contacts (id),
    conversation_id TEXT REFERENCES conversations (id),
    first_response_at BIGINT,
    -- the requester wrote after the last answer: the next response is owed since then
    awaiting_reply_since BIGINT,
    solved_at BIGINT,
    closed_at BIGINT,
    first_response_due BIGINT,
    next_response_due BIGINT,
    resolution_due BIGINT,
    -- when the SLA timer must look again (the earliest pending due time not yet announced as breached)
    next_check BIGINT,
    -- targets whose breach was announced, comma-separated
    announced TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX tickets_org_number ON tickets (org_id, number);
CREATE UNIQUE INDEX tickets_conversation ON tickets (conversation_id);
CREATE INDEX tickets_org_id ON tickets (org_id, id);
CREATE INDEX tickets_next_check ON tickets (next_check);
CREATE INDEX tickets_solved ON tickets (status, solved_at);

CREATE TABLE ticket_tags (
    ticket_id TEXT NOT NULL REFERENCES tickets (id),
    tag TEXT NOT NULL,
    PRIMARY KEY (ticket_id, tag)
);
CREATE INDEX ticket_tags_tag ON ticket_tags (tag, ticket_id);

CREATE TABLE ticket_events (
    id TEXT PRIMARY KEY,
    ticket_id TEXT NOT NULL REFERENCES tickets (id),
    actor_kind TEXT NOT NULL,
    actor_id TEXT,
    actor_name TEXT NOT NULL,
    kind TEXT NOT NULL,
    field TEXT,
    old_value TEXT,
    new_value TEXT,
    content TEXT,
    private BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE INDEX ticket_events_ticket ON ticket_events (ticket_id, id);
