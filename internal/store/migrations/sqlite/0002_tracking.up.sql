-- Version 2: scans, findings with a stable id and a status, several
-- signatures per finding, occurrences, and the status history. The rows
-- of version 1 are carried over: each hash becomes a finding (its id
-- derived from the hash, so the same file migrates to the same ids) with
-- one hash/v0 signature. Times are Unix milliseconds.
ALTER TABLE findings RENAME TO findings_v1;

CREATE TABLE scans (
	id         TEXT PRIMARY KEY,
	repository TEXT NOT NULL DEFAULT '',
	ref        TEXT NOT NULL DEFAULT '',
	commit_sha TEXT NOT NULL DEFAULT '',
	event      TEXT NOT NULL DEFAULT '',
	started    INTEGER NOT NULL
);
CREATE INDEX scans_branch ON scans (repository, ref, started);

CREATE TABLE findings (
	id            TEXT PRIMARY KEY,
	repository    TEXT NOT NULL DEFAULT '',
	tool          TEXT NOT NULL,
	tools         TEXT NOT NULL,
	rule          TEXT NOT NULL DEFAULT '',
	path          TEXT NOT NULL DEFAULT '',
	severity      TEXT NOT NULL DEFAULT '',
	title         TEXT NOT NULL DEFAULT '',
	status        TEXT NOT NULL DEFAULT 'open'
	              CHECK (status IN ('open', 'fixed', 'suppressed', 'false_positive', 'accepted_risk')),
	status_by     TEXT NOT NULL DEFAULT '',
	status_reason TEXT NOT NULL DEFAULT '',
	status_at     INTEGER NOT NULL,
	first_seen    INTEGER NOT NULL,
	last_seen     INTEGER NOT NULL,
	first_scan    TEXT NOT NULL,
	last_scan     TEXT NOT NULL,
	times_seen    INTEGER NOT NULL,
	fixed_scan    TEXT NOT NULL DEFAULT '',
	fixed_at      INTEGER,
	reopened      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX findings_repository_status ON findings (repository, status);

CREATE TABLE signatures (
	repository TEXT NOT NULL,
	algorithm  TEXT NOT NULL,
	value      TEXT NOT NULL,
	finding_id TEXT NOT NULL REFERENCES findings (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
	PRIMARY KEY (repository, algorithm, value)
) WITHOUT ROWID;
CREATE INDEX signatures_finding ON signatures (finding_id, algorithm);

CREATE TABLE occurrences (
	scan_id    TEXT NOT NULL,
	finding_id TEXT NOT NULL,
	tool       TEXT NOT NULL,
	path       TEXT NOT NULL DEFAULT '',
	start_line INTEGER NOT NULL DEFAULT 0,
	end_line   INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (scan_id, finding_id, tool, path, start_line, end_line)
) WITHOUT ROWID;

CREATE TABLE status_history (
	id          INTEGER PRIMARY KEY,
	finding_id  TEXT NOT NULL REFERENCES findings (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
	from_status TEXT NOT NULL DEFAULT '',
	to_status   TEXT NOT NULL,
	changed_by  TEXT NOT NULL,
	reason      TEXT NOT NULL DEFAULT '',
	changed_at  INTEGER NOT NULL,
	scan_id     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX status_history_finding ON status_history (finding_id, id);

CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);

INSERT INTO scans (id, started)
SELECT scan, MIN(at) FROM (
	SELECT first_scan AS scan, first_seen AS at FROM findings_v1
	UNION ALL
	SELECT last_scan, last_seen FROM findings_v1
) GROUP BY scan;

INSERT INTO findings (id, repository, tool, tools, status, status_at, first_seen, last_seen, first_scan, last_scan, times_seen)
SELECT
	CASE WHEN length(hash) >= 32 AND lower(hash) NOT GLOB '*[^0-9a-f]*'
		THEN lower(substr(hash, 1, 8) || '-' || substr(hash, 9, 4) || '-' || substr(hash, 13, 4) || '-' || substr(hash, 17, 4) || '-' || substr(hash, 21, 12))
		ELSE 'hash-' || hash END,
	'', tool, tool, 'open', first_seen, first_seen, last_seen, first_scan, last_scan, count
FROM findings_v1;

INSERT INTO signatures (repository, algorithm, value, finding_id)
SELECT '', 'hash/v0', hash,
	CASE WHEN length(hash) >= 32 AND lower(hash) NOT GLOB '*[^0-9a-f]*'
		THEN lower(substr(hash, 1, 8) || '-' || substr(hash, 9, 4) || '-' || substr(hash, 13, 4) || '-' || substr(hash, 17, 4) || '-' || substr(hash, 21, 12))
		ELSE 'hash-' || hash END
FROM findings_v1;

-- The first scan that names its repository adopts these rows (they were
-- written before findings belonged to a repository).
INSERT INTO meta (key, value) SELECT 'unclaimed_legacy', '1' WHERE EXISTS (SELECT 1 FROM findings_v1);

DROP TABLE findings_v1;
