package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Postgres is the shared store: an organisation's PostgreSQL database that
// every pipeline writes to.
//
// Writers do not lock the store or a repository: each statement upserts
// rows (INSERT ... ON CONFLICT), so two pipelines touching one finding
// wait on that row only, and the second one's update applies on top of
// the first one's. Rows are written in one order (signatures by
// algorithm and value, findings by id) so writers do not deadlock; a
// transaction that loses a race all the same is run again.
type Postgres struct {
	core
	pool *pgxpool.Pool
}

// OpenPostgres connects to a PostgreSQL store (a postgres:// URL or a
// key=value DSN; pgx's pool_max_conns and friends work) and migrates it.
func OpenPostgres(ctx context.Context, dsn string) (*Postgres, error) {
	p, err := dialPostgres(ctx, dsn)
	if err != nil {
		return nil, err
	}
	if err := migrateTo(ctx, p, -1); err != nil {
		p.pool.Close()
		return nil, fmt.Errorf("findings store %s: %w", redact(dsn), err)
	}
	return p, nil
}

func dialPostgres(ctx context.Context, dsn string) (*Postgres, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("findings store %s: %w", redact(dsn), err)
	}
	if !strings.Contains(dsn, "pool_max_conns") {
		cfg.MaxConns = 4
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("findings store %s: %w", redact(dsn), err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("findings store %s: %w", redact(dsn), err)
	}
	p := &Postgres{pool: pool}
	p.core.b = p
	return p, nil
}

// redact hides a password in a DSN for error messages.
func redact(dsn string) string {
	if cfg, err := pgconn.ParseConfig(dsn); err == nil && cfg.Password != "" {
		return strings.ReplaceAll(dsn, cfg.Password, "xxxxx")
	}
	return dsn
}

func (p *Postgres) backend() Backend                 { return BackendPostgres }
func (p *Postgres) closeDB() error                   { p.pool.Close(); return nil }
func (p *Postgres) ts(t time.Time) any               { return t.UTC() }
func (p *Postgres) strpos(hay, needle string) string { return "strpos(" + hay + ", " + needle + ")" }
func (p *Postgres) forUpdate() string                { return " FOR UPDATE" }
func (p *Postgres) reader() querier                  { return pgQ{p.pool} }

// updateFindings: one statement (findings_v is findings here), so the
// rows are locked as they are chosen.
func (p *Postgres) updateFindings(ctx context.Context, q querier, set, where string, args ...any) ([]Finding, error) {
	return collectFindings(ctx, q, `UPDATE findings AS f SET `+set+` WHERE `+where+` RETURNING `+findingCols, args...)
}

func (p *Postgres) retryable(err error) bool {
	var e *pgconn.PgError
	if errors.As(err, &e) {
		switch e.Code {
		case "40P01", "40001": // deadlock_detected, serialization_failure
			return true
		}
	}
	return false
}

// migrationLock serialises migrators (pg_advisory_xact_lock): two
// pipelines opening a fresh database at once must not both create it.
const migrationLock = 0x647261636f6e // "dracon"

func (p *Postgres) beginMigration(ctx context.Context) (sqlTx, error) {
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLock)); err != nil {
		tx.Rollback(ctx) //nolint:errcheck
		return nil, err
	}
	return &pgTx{tx: tx}, nil
}

func (p *Postgres) beginWrite(ctx context.Context) (writeTx, error) {
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	return &pgTx{tx: tx}, nil
}

// rebind turns the shared SQL's ? placeholders into $1, $2, ...
func rebind(q string) string {
	if !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n, inStr := 0, false
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'':
			inStr = !inStr
		case c == '?' && !inStr:
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

type pgConn interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

type pgQ struct{ c pgConn }

func (q pgQ) exec(ctx context.Context, sql string, args ...any) (int64, error) {
	tag, err := q.c.Exec(ctx, rebind(sql), args...)
	return tag.RowsAffected(), err
}

func (q pgQ) query(ctx context.Context, sql string, args ...any) (rowsI, error) {
	r, err := q.c.Query(ctx, rebind(sql), args...)
	if err != nil {
		return nil, err
	}
	return r, nil
}

type pgTx struct{ tx pgx.Tx }

func (t *pgTx) exec(ctx context.Context, q string, args ...any) (int64, error) {
	return pgQ{t.tx}.exec(ctx, q, args...)
}
func (t *pgTx) query(ctx context.Context, q string, args ...any) (rowsI, error) {
	return pgQ{t.tx}.query(ctx, q, args...)
}
func (t *pgTx) commit(ctx context.Context) error   { return t.tx.Commit(ctx) }
func (t *pgTx) rollback(ctx context.Context) error { return t.tx.Rollback(ctx) }

func (t *pgTx) lookup(ctx context.Context, repo string, sigs []Signature, covers [][]byte, out map[Signature]string, covered map[Signature]bool) error {
	algos, vals := make([]string, len(sigs)), make([]string, len(sigs))
	for i, sg := range sigs {
		algos[i], vals[i] = sg.Algorithm, sg.Value
	}
	if covers == nil {
		covers = make([][]byte, len(sigs)) // all NULL: nothing matches
	}
	rows, err := t.tx.Query(ctx, `SELECT v.a, v.v, s.finding_id, coalesce(s.covers = v.c, false)
FROM unnest($2::text[], $3::text[], $4::bytea[]) AS v(a, v, c)
JOIN signatures s ON s.repository = $1 AND s.algorithm = v.a AND s.value = v.v`, repo, algos, vals, covers)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var sg Signature
		var id string
		var same bool
		if err := rows.Scan(&sg.Algorithm, &sg.Value, &id, &same); err != nil {
			return err
		}
		out[sg] = id
		if same {
			covered[sg] = true
		}
	}
	return rows.Err()
}

// missingFrom: as SQLite's, over arrays.
func (t *pgTx) missingFrom(ctx context.Context, repo string, checks []sigCheck) ([]bool, error) {
	ids, ks, packed := make([]string, len(checks)), make([]int64, len(checks)), make([]string, len(checks))
	for i, ch := range checks {
		ids[i], ks[i], packed[i] = ch.findingID, int64(len(ch.sigs)), packLines(ch.sigs)
	}
	rows, err := t.tx.Query(ctx, `SELECT u.i FROM unnest($2::text[], $3::bigint[], $4::text[]) WITH ORDINALITY AS u(id, k, packed, i)
WHERE (SELECT count(*) FROM signatures s WHERE s.finding_id = u.id AND s.repository = $1
	AND strpos(u.packed, E'\n' || s.algorithm || E'\t' || s.value || E'\n') > 0
	AND strpos(s.algorithm || s.value, E'\t') = 0 AND strpos(s.algorithm || s.value, E'\n') = 0) < u.k`, repo, ids, ks, packed)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]bool, len(checks))
	for rows.Next() {
		var i int64
		if err := rows.Scan(&i); err != nil {
			return nil, err
		}
		if i < 1 || i > int64(len(out)) {
			return nil, fmt.Errorf("store: check %d of %d", i, len(out))
		}
		out[i-1] = true // ORDINALITY counts from 1
	}
	return out, rows.Err()
}

func (t *pgTx) insertSignatures(ctx context.Context, repo string, in []sigRow) (map[Signature]bool, error) {
	algos, vals, ids, covers := sigColumns(in)
	rows, err := t.tx.Query(ctx, `INSERT INTO signatures (repository, algorithm, value, finding_id, covers)
SELECT $1, u.a, u.v, u.f, u.c FROM unnest($2::text[], $3::text[], $4::text[], $5::bytea[]) WITH ORDINALITY AS u(a, v, f, c, n) ORDER BY u.n
ON CONFLICT DO NOTHING RETURNING algorithm, value`, repo, algos, vals, ids, covers)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[Signature]bool, len(in))
	for rows.Next() {
		var sg Signature
		if err := rows.Scan(&sg.Algorithm, &sg.Value); err != nil {
			return nil, err
		}
		out[sg] = true
	}
	return out, rows.Err()
}

// setCovers upserts rather than updates: an INSERT takes its rows' locks
// in the order given (sorted, the same for every writer), an UPDATE in
// whatever order its join reads them. Every row exists; should one not,
// the WHERE keeps it out.
func (t *pgTx) setCovers(ctx context.Context, repo string, in []sigRow) error {
	algos, vals, ids, covers := sigColumns(in)
	_, err := t.tx.Exec(ctx, `INSERT INTO signatures AS s (repository, algorithm, value, finding_id, covers)
SELECT $1, u.a, u.v, u.f, u.c FROM unnest($2::text[], $3::text[], $4::text[], $5::bytea[]) WITH ORDINALITY AS u(a, v, f, c, n)
WHERE EXISTS (SELECT 1 FROM signatures x WHERE x.repository = $1 AND x.algorithm = u.a AND x.value = u.v) ORDER BY u.n
ON CONFLICT (repository, algorithm, value) DO UPDATE SET covers = EXCLUDED.covers WHERE s.finding_id = EXCLUDED.finding_id`,
		repo, algos, vals, ids, covers)
	return err
}

// sigColumns is rows as the columns of an unnest.
func sigColumns(rows []sigRow) (algos, vals, ids []string, covers [][]byte) {
	n := len(rows)
	algos, vals, ids, covers = make([]string, n), make([]string, n), make([]string, n), make([][]byte, n)
	for i, r := range rows {
		algos[i], vals[i], ids[i], covers[i] = r.sig.Algorithm, r.sig.Value, r.findingID, r.covers
	}
	return algos, vals, ids, covers
}

func (t *pgTx) upsertFindings(ctx context.Context, scan Scan, in []findingRow) (map[string]Finding, error) {
	n := len(in)
	ids, tools, rules, paths, sevs, titles := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	incs := make([]int64, n)
	for i, r := range in {
		ids[i], tools[i], rules[i], paths[i], sevs[i], titles[i], incs[i] = r.id, r.tool, r.rule, r.path, r.severity, r.title, int64(r.inc)
	}
	rows, err := t.tx.Query(ctx, `INSERT INTO findings (id, repository, tool, tools, rule, path, severity, title, status, status_at,
	first_seen, last_seen, first_scan, last_scan, times_seen)
SELECT u.id, $1, u.tool, u.tool, u.rule, u.path, u.severity, u.title, 'open', $2, $2, $2, $3, $3, u.inc
FROM unnest($4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::bigint[]) WITH ORDINALITY AS u(id, tool, rule, path, severity, title, inc, n)
ORDER BY u.n
ON CONFLICT (id) DO UPDATE SET
	times_seen = findings.times_seen + CASE WHEN findings.last_scan = EXCLUDED.last_scan THEN 0 ELSE EXCLUDED.times_seen END,
	first_seen = LEAST(findings.first_seen, EXCLUDED.first_seen),
	first_scan = CASE WHEN EXCLUDED.first_seen < findings.first_seen THEN EXCLUDED.first_scan ELSE findings.first_scan END,
	last_seen = GREATEST(findings.last_seen, EXCLUDED.last_seen),
	last_scan = CASE WHEN EXCLUDED.last_seen >= findings.last_seen THEN EXCLUDED.last_scan ELSE findings.last_scan END,
	tools = CASE WHEN strpos(',' || findings.tools || ',', ',' || EXCLUDED.tool || ',') > 0 THEN findings.tools
		ELSE findings.tools || ',' || EXCLUDED.tool END,
	rule = EXCLUDED.rule, path = EXCLUDED.path, severity = EXCLUDED.severity, title = EXCLUDED.title
RETURNING `+findingCols, scan.Repository, scan.Started.UTC(), scan.ID, ids, tools, rules, paths, sevs, titles, incs)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[string]Finding, n)
	for rows.Next() {
		f, err := scanFinding(rows)
		if err != nil {
			return nil, err
		}
		out[f.ID] = f
	}
	return out, rows.Err()
}

func (t *pgTx) insertOccurrences(ctx context.Context, scan Scan, in []occRow) error {
	_, err := t.tx.CopyFrom(ctx, pgx.Identifier{"occurrences"},
		[]string{"scan_id", "finding_id", "tool", "path", "start_line", "end_line"},
		pgx.CopyFromSlice(len(in), func(i int) ([]any, error) {
			r := in[i]
			return []any{scan.ID, r.findingID, r.tool, r.path, int32(r.start), int32(r.end)}, nil
		}))
	return err
}
