package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// SQLite is the embedded default store: one file, no server.
//
// Every write runs in a BEGIN IMMEDIATE transaction (the driver's
// _txlock=immediate), so a writer takes the file's write lock before it
// reads anything and a second writer waits for it (busy timeout) instead
// of failing with SQLITE_BUSY when it tries to upgrade a read. The file is
// in WAL mode: readers never wait for the writer.
type SQLite struct {
	core
	db   *sql.DB
	path string
}

// BusyTimeout is how long a SQLite writer waits for another to finish.
const BusyTimeout = 2 * time.Minute

// Observe's multi-row statements: rows per statement (SQLite allows
// 32766 parameters per statement).
const sqliteChunk = 1000

// OpenSQLite opens (creating and migrating as needed) a store file.
func OpenSQLite(path string) (*SQLite, error) {
	return OpenSQLiteContext(context.Background(), path)
}

// OpenSQLiteContext is OpenSQLite with a context.
func OpenSQLiteContext(ctx context.Context, path string) (*SQLite, error) {
	s, err := dialSQLite(path)
	if err != nil {
		return nil, err
	}
	if err := migrateTo(ctx, s, -1); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("findings store %s: %w", path, err)
	}
	return s, nil
}

func dialSQLite(path string) (*SQLite, error) {
	if path == "" {
		return nil, errors.New("findings store: empty SQLite path")
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
	}
	q := url.Values{}
	q.Set("_txlock", "immediate")
	q.Set("_busy_timeout", fmt.Sprint(BusyTimeout.Milliseconds()))
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", "NORMAL") // with WAL: durable across a crash of the process, not of the machine
	q.Set("_foreign_keys", "1")
	q.Add("_pragma", "cache_size(-262144)") // up to 256 MiB of pages: a store of a million findings stays hot
	q.Add("_pragma", "mmap_size(1073741824)")
	q.Add("_pragma", "temp_store(memory)")
	u := url.URL{Scheme: "file", Opaque: (&url.URL{Path: path}).EscapedPath(), RawQuery: q.Encode()}
	db, err := sql.Open("sqlite", u.String())
	if err != nil {
		return nil, err
	}
	// One connection: one writer per process anyway, and a transaction's
	// statements all run on it.
	db.SetMaxOpenConns(1)
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("findings store %s: %w", path, err)
	}
	s := &SQLite{db: db, path: path}
	s.core.b = s
	return s, nil
}

func (s *SQLite) backend() Backend { return BackendSQLite }
func (s *SQLite) closeDB() error   { return s.db.Close() }
func (s *SQLite) ts(t time.Time) any {
	if t.IsZero() {
		return int64(0)
	}
	return t.UnixMilli()
}
func (s *SQLite) strpos(hay, needle string) string { return "instr(" + hay + ", " + needle + ")" }
func (s *SQLite) forUpdate() string                { return "" } // the transaction holds the write lock
func (s *SQLite) reader() querier                  { return sqlQ{s.db} }

func (s *SQLite) retryable(err error) bool {
	var e *sqlite.Error
	if errors.As(err, &e) {
		switch e.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return true
		}
	}
	return false
}

func (s *SQLite) beginMigration(ctx context.Context) (sqlTx, error) {
	tx, err := s.db.BeginTx(ctx, nil) // BEGIN IMMEDIATE: one migrator at a time
	if err != nil {
		return nil, err
	}
	return &sqliteTx{tx: tx}, nil
}

func (s *SQLite) beginWrite(ctx context.Context) (writeTx, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	return &sqliteTx{tx: tx, stmts: map[string]*sql.Stmt{}}, nil
}

// sqlQ runs shared SQL on a *sql.DB or *sql.Tx.
type sqlQ struct {
	db interface {
		ExecContext(context.Context, string, ...any) (sql.Result, error)
		QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	}
}

func (q sqlQ) exec(ctx context.Context, query string, args ...any) (int64, error) {
	r, err := q.db.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return r.RowsAffected()
}

func (q sqlQ) query(ctx context.Context, query string, args ...any) (rowsI, error) {
	r, err := q.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return sqlRows{r}, nil
}

type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { r.Rows.Close() }

type sqliteTx struct {
	tx    *sql.Tx
	stmts map[string]*sql.Stmt
}

func (t *sqliteTx) exec(ctx context.Context, q string, args ...any) (int64, error) {
	return sqlQ{t.tx}.exec(ctx, q, args...)
}
func (t *sqliteTx) query(ctx context.Context, q string, args ...any) (rowsI, error) {
	return sqlQ{t.tx}.query(ctx, q, args...)
}
func (t *sqliteTx) commit(context.Context) error   { return t.tx.Commit() }
func (t *sqliteTx) rollback(context.Context) error { return t.tx.Rollback() }

// stmt prepares a statement once per transaction (the same multi-row
// statement serves every full chunk).
func (t *sqliteTx) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	if st, ok := t.stmts[q]; ok {
		return st, nil
	}
	st, err := t.tx.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	t.stmts[q] = st
	return st, nil
}

func rowsOf(n int, row string) string {
	var b strings.Builder
	b.Grow(n * (len(row) + 2))
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	return b.String()
}

func (t *sqliteTx) lookup(ctx context.Context, repo string, sigs []Signature) (map[Signature]string, error) {
	out := make(map[Signature]string, len(sigs))
	err := chunks(len(sigs), sqliteChunk, func(lo, hi int) error {
		st, err := t.stmt(ctx, `SELECT v.column1, v.column2, s.finding_id FROM (VALUES `+rowsOf(hi-lo, "(?, ?)")+`) AS v
CROSS JOIN signatures s ON s.repository = ? AND s.algorithm = v.column1 AND s.value = v.column2`)
		if err != nil {
			return err
		}
		args := make([]any, 0, 2*(hi-lo)+1)
		for _, sg := range sigs[lo:hi] {
			args = append(args, sg.Algorithm, sg.Value)
		}
		args = append(args, repo)
		rows, err := st.QueryContext(ctx, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var sg Signature
			var id string
			if err := rows.Scan(&sg.Algorithm, &sg.Value, &id); err != nil {
				return err
			}
			out[sg] = id
		}
		return rows.Err()
	})
	return out, err
}

func (t *sqliteTx) insertSignatures(ctx context.Context, repo string, in []sigRow) (map[Signature]bool, error) {
	out := make(map[Signature]bool, len(in))
	err := chunks(len(in), sqliteChunk, func(lo, hi int) error {
		st, err := t.stmt(ctx, `INSERT INTO signatures (repository, algorithm, value, finding_id)
SELECT ?1, v.column1, v.column2, v.column3 FROM (VALUES `+rowsOf(hi-lo, "(?, ?, ?)")+`) AS v WHERE true
ON CONFLICT DO NOTHING RETURNING algorithm, value`)
		if err != nil {
			return err
		}
		args := make([]any, 0, 3*(hi-lo)+1)
		args = append(args, repo)
		for _, r := range in[lo:hi] {
			args = append(args, r.sig.Algorithm, r.sig.Value, r.findingID)
		}
		rows, err := st.QueryContext(ctx, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var sg Signature
			if err := rows.Scan(&sg.Algorithm, &sg.Value); err != nil {
				return err
			}
			out[sg] = true
		}
		return rows.Err()
	})
	return out, err
}

// upsertFindings inserts the new findings and updates the known ones
// (an UPDATE ... FROM for those: cheaper in SQLite than an INSERT that
// conflicts). Rows without a finding yet are those whose id Observe
// made up; the transaction holds the write lock, so nothing else can
// have created them meanwhile.
func (t *sqliteTx) upsertFindings(ctx context.Context, scan Scan, in []findingRow) (map[string]Finding, error) {
	out := make(map[string]Finding, len(in))
	at := scan.Started.UnixMilli()
	var fresh, known []findingRow
	for _, r := range in {
		if r.isNew {
			fresh = append(fresh, r)
		} else {
			known = append(known, r)
		}
	}
	run := func(rows []findingRow, q func(n int) string) error {
		return chunks(len(rows), sqliteChunk, func(lo, hi int) error {
			st, err := t.stmt(ctx, q(hi-lo))
			if err != nil {
				return err
			}
			args := make([]any, 0, 7*(hi-lo)+3)
			args = append(args, scan.Repository, at, scan.ID)
			for _, r := range rows[lo:hi] {
				args = append(args, r.id, r.tool, r.rule, r.path, r.severity, r.title, r.inc)
			}
			rs, err := st.QueryContext(ctx, args...)
			if err != nil {
				return err
			}
			defer rs.Close()
			for rs.Next() {
				f, err := scanFinding(sqlRows{rs})
				if err != nil {
					return err
				}
				out[f.ID] = f
			}
			return rs.Err()
		})
	}
	if err := run(fresh, func(n int) string {
		return `INSERT INTO findings (id, repository, tool, tools, rule, path, severity, title, status, status_at,
	first_seen, last_seen, first_scan, last_scan, times_seen)
SELECT v.column1, ?1, v.column2, v.column2, v.column3, v.column4, v.column5, v.column6, 'open', ?2, ?2, ?2, ?3, ?3, v.column7
FROM (VALUES ` + rowsOf(n, "(?, ?, ?, ?, ?, ?, ?)") + `) AS v
RETURNING ` + findingCols
	}); err != nil {
		return nil, err
	}
	err := run(known, func(n int) string {
		return `UPDATE findings SET
	times_seen = times_seen + CASE WHEN last_scan = ?3 THEN 0 ELSE v.column7 END,
	first_seen = min(first_seen, ?2),
	first_scan = CASE WHEN ?2 < first_seen THEN ?3 ELSE first_scan END,
	last_seen = max(last_seen, ?2),
	last_scan = CASE WHEN ?2 >= last_seen THEN ?3 ELSE last_scan END,
	tools = CASE WHEN instr(',' || tools || ',', ',' || v.column2 || ',') > 0 THEN tools ELSE tools || ',' || v.column2 END,
	rule = v.column3, path = v.column4, severity = v.column5, title = v.column6
FROM (VALUES ` + rowsOf(n, "(?, ?, ?, ?, ?, ?, ?)") + `) AS v
WHERE findings.id = v.column1 AND ?1 = ?1
RETURNING ` + findingCols
	})
	return out, err
}

func (t *sqliteTx) insertOccurrences(ctx context.Context, scan Scan, in []occRow) error {
	return chunks(len(in), sqliteChunk, func(lo, hi int) error {
		st, err := t.stmt(ctx, `INSERT INTO occurrences (scan_id, finding_id, tool, path, start_line, end_line)
SELECT ?1, v.column1, v.column2, v.column3, v.column4, v.column5 FROM (VALUES `+rowsOf(hi-lo, "(?, ?, ?, ?, ?)")+`) AS v`)
		if err != nil {
			return err
		}
		args := make([]any, 0, 5*(hi-lo)+1)
		args = append(args, scan.ID)
		for _, r := range in[lo:hi] {
			args = append(args, r.findingID, r.tool, r.path, r.start, r.end)
		}
		_, err = st.ExecContext(ctx, args...)
		return err
	})
}
