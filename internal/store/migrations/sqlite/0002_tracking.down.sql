-- Back to version 1: one row per hash/v0 signature (the newest finding
-- wins when two repositories share a hash); everything else is dropped.
CREATE TABLE findings_v1 (
	hash       TEXT PRIMARY KEY,
	tool       TEXT NOT NULL,
	first_seen INTEGER NOT NULL,
	last_seen  INTEGER NOT NULL,
	count      INTEGER NOT NULL,
	first_scan TEXT NOT NULL,
	last_scan  TEXT NOT NULL
);
INSERT OR IGNORE INTO findings_v1 (hash, tool, first_seen, last_seen, count, first_scan, last_scan)
SELECT s.value, f.tool, f.first_seen, f.last_seen, f.times_seen, f.first_scan, f.last_scan
FROM findings f JOIN signatures s ON s.finding_id = f.id AND s.algorithm = 'hash/v0'
ORDER BY f.last_seen DESC;

DROP TABLE status_history;
DROP TABLE occurrences;
DROP TABLE signatures;
DROP TABLE findings;
DROP TABLE scans;
DROP TABLE meta;
ALTER TABLE findings_v1 RENAME TO findings;
