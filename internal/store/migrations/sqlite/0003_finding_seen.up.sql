-- Version 3: what every scan rewrites (times seen, last seen, last scan)
-- moves to a narrow table of its own, finding_seen, keyed by the
-- finding's new integer key n. A scan that sees 100,000 of a million
-- findings then rewrites the pages of that small table (about 70 rows a
-- page) rather than nearly every page of the wide findings table (about
-- 15 rows a page); the findings row itself is written only when its
-- attributes change. findings_v is the finding as readers know it (the
-- columns of version 2); inserting into it writes both tables.
-- Run with foreign keys off (the rebuild keeps every id), checked after.
CREATE TABLE findings_new (
	n             INTEGER PRIMARY KEY,
	id            TEXT NOT NULL UNIQUE,
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
	first_scan    TEXT NOT NULL,
	fixed_scan    TEXT NOT NULL DEFAULT '',
	fixed_at      INTEGER,
	reopened      INTEGER NOT NULL DEFAULT 0
);
INSERT INTO findings_new (n, id, repository, tool, tools, rule, path, severity, title, status, status_by, status_reason,
	status_at, first_seen, first_scan, fixed_scan, fixed_at, reopened)
SELECT rowid, id, repository, tool, tools, rule, path, severity, title, status, status_by, status_reason,
	status_at, first_seen, first_scan, fixed_scan, fixed_at, reopened
FROM findings ORDER BY rowid;

CREATE TABLE finding_seen (
	n          INTEGER PRIMARY KEY,
	times_seen INTEGER NOT NULL,
	last_seen  INTEGER NOT NULL,
	last_scan  TEXT NOT NULL
);
INSERT INTO finding_seen (n, times_seen, last_seen, last_scan)
SELECT rowid, times_seen, last_seen, last_scan FROM findings ORDER BY rowid;

DROP TABLE findings;
ALTER TABLE findings_new RENAME TO findings;
CREATE INDEX findings_repository_status ON findings (repository, status);

CREATE VIEW findings_v AS
SELECT f.id, f.repository, f.tool, f.tools, f.rule, f.path, f.severity, f.title, f.status, f.status_by, f.status_reason,
	f.status_at, f.first_seen, s.last_seen, f.first_scan, s.last_scan, s.times_seen, f.fixed_scan, f.fixed_at, f.reopened
FROM findings f JOIN finding_seen s ON s.n = f.n;

CREATE TRIGGER findings_v_insert INSTEAD OF INSERT ON findings_v
BEGIN
	INSERT INTO findings (id, repository, tool, tools, rule, path, severity, title, status, status_by, status_reason,
		status_at, first_seen, first_scan, fixed_scan, fixed_at, reopened)
	VALUES (NEW.id, coalesce(NEW.repository, ''), NEW.tool, coalesce(NEW.tools, NEW.tool), coalesce(NEW.rule, ''),
		coalesce(NEW.path, ''), coalesce(NEW.severity, ''), coalesce(NEW.title, ''), coalesce(NEW.status, 'open'),
		coalesce(NEW.status_by, ''), coalesce(NEW.status_reason, ''), NEW.status_at, NEW.first_seen, NEW.first_scan,
		coalesce(NEW.fixed_scan, ''), NEW.fixed_at, coalesce(NEW.reopened, 0));
	INSERT INTO finding_seen (n, times_seen, last_seen, last_scan)
	VALUES ((SELECT n FROM findings WHERE id = NEW.id), NEW.times_seen, NEW.last_seen, NEW.last_scan);
END;
