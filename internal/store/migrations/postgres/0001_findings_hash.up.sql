-- Version 1: the single table the first (SQLite) store had, so that both
-- backends number the same schema the same way and version 2's carry-over
-- is tested on both.
CREATE TABLE IF NOT EXISTS findings (
	hash       TEXT PRIMARY KEY,
	tool       TEXT NOT NULL,
	first_seen BIGINT NOT NULL,
	last_seen  BIGINT NOT NULL,
	count      BIGINT NOT NULL,
	first_scan TEXT NOT NULL,
	last_scan  TEXT NOT NULL
);
