-- Only replies a provider accepted carry its id; web chats, notes and customers' messages never do. Indexing just
-- the messages that have one spares every other message an index entry when it is stored (one page fewer to
-- write per message in SQLite's WAL), and delivery reports, which look the id up by equality, still use it.
DROP INDEX messages_provider_message;
CREATE INDEX messages_provider_message ON messages (provider_message_id) WHERE provider_message_id IS NOT NULL;
