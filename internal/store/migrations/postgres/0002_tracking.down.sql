-- Back to version 1: one row per hash/v0 signature (the newest finding
-- wins when two repositories share a hash); everything else is dropped.
CREATE TABLE findings_v1 (
	hash       TEXT PRIMARY KEY,
	tool       TEXT NOT NULL,
	first_seen BIGINT NOT NULL,
	last_seen  BIGINT NOT NULL,
	count      BIGINT NOT NULL,
	first_scan TEXT NOT NULL,
	last_scan  TEXT NOT NULL
);
INSERT INTO findings_v1 (hash, tool, first_seen, last_seen, count, first_scan, last_scan)
SELECT s.value, f.tool,
	(extract(epoch FROM f.first_seen) * 1000)::bigint, (extract(epoch FROM f.last_seen) * 1000)::bigint,
	f.times_seen, f.first_scan, f.last_scan
FROM findings f JOIN signatures s ON s.finding_id = f.id AND s.algorithm = 'hash/v0'
ORDER BY f.last_seen DESC
ON CONFLICT (hash) DO NOTHING;

DROP TABLE status_history;
DROP TABLE occurrences;
DROP TABLE signatures;
DROP TABLE findings;
DROP TABLE scans;
DROP TABLE meta;
ALTER TABLE findings_v1 RENAME TO findings;
