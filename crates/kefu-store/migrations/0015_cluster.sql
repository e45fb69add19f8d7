-- Several nodes on one database. A node is alive while it beats; its id is new at every start.
CREATE TABLE nodes (
    id TEXT PRIMARY KEY,
    started_at BIGINT NOT NULL,
    seen_at BIGINT NOT NULL
);

-- Agents' open sockets, counted per node: an agent is connected while some live node counts one. When the count
-- falls to zero (or the node dies), changed_at is when the agent's grace to come back starts.
CREATE TABLE agent_sockets (
    node_id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    sockets BIGINT NOT NULL,
    changed_at BIGINT NOT NULL,
    PRIMARY KEY (node_id, user_id)
);
CREATE INDEX agent_sockets_user ON agent_sockets (user_id);

-- Work that one node at a time does (the timers, an inbox's mail fetcher): the holder renews it before it expires;
-- another node takes it once it has.
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
