-- Back to version 2: one findings table with every column (keyed by id).
DROP TRIGGER findings_v_insert;
DROP VIEW findings_v;
CREATE TABLE findings_old (
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
INSERT INTO findings_old (id, repository, tool, tools, rule, path, severity, title, status, status_by, status_reason,
	status_at, first_seen, last_seen, first_scan, last_scan, times_seen, fixed_scan, fixed_at, reopened)
SELECT f.id, f.repository, f.tool, f.tools, f.rule, f.path, f.severity, f.title, f.status, f.status_by, f.status_reason,
	f.status_at, f.first_seen, s.last_seen, f.first_scan, s.last_scan, s.times_seen, f.fixed_scan, f.fixed_at, f.reopened
FROM findings f JOIN finding_seen s ON s.n = f.n ORDER BY f.n;
DROP TABLE finding_seen;
DROP TABLE findings;
ALTER TABLE findings_old RENAME TO findings;
CREATE INDEX findings_repository_status ON findings (repository, status);
