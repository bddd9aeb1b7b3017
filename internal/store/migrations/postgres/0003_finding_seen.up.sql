-- Version 3: findings_v, the finding as readers know it. On SQLite the
-- columns every scan rewrites live in a narrow table of their own and the
-- view joins them back; PostgreSQL's row-level upserts keep one table (an
-- UPDATE writes a new row version wherever the columns are), so here the
-- view is the table, and inserting into it inserts into findings.
CREATE VIEW findings_v AS
SELECT id, repository, tool, tools, rule, path, severity, title, status, status_by, status_reason,
	status_at, first_seen, last_seen, first_scan, last_scan, times_seen, fixed_scan, fixed_at, reopened
FROM findings;
