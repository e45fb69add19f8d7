-- The visitor's satisfaction rating of a closed conversation (1-5, with an optional comment).
ALTER TABLE conversations ADD COLUMN rating BIGINT;
ALTER TABLE conversations ADD COLUMN rating_comment TEXT;
ALTER TABLE conversations ADD COLUMN rated_at BIGINT;
