-- Version 1: the single table the first store had (one row per dedup
-- hash). IF NOT EXISTS: a file written before versioned migrations
-- already has it, and is then at version 1 as it stands.
CREATE TABLE IF NOT EXISTS findings (
	hash       TEXT PRIMARY KEY,
	tool       TEXT NOT NULL,
	first_seen INTEGER NOT NULL,
	last_seen  INTEGER NOT NULL,
	count      INTEGER NOT NULL,
	first_scan TEXT NOT NULL,
	last_scan  TEXT NOT NULL
);
