package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
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

// beginMigration: migrations rebuild tables that others refer to (SQLite's
// way to change a table), so they run with foreign keys off, on a
// connection of their own, and check them before they commit.
func (s *SQLite) beginMigration(ctx context.Context) (sqlTx, error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := conn.ExecContext(ctx, `PRAGMA foreign_keys = OFF`); err != nil {
		conn.Close()
		return nil, err
	}
	tx, err := conn.BeginTx(ctx, nil) // BEGIN IMMEDIATE: one migrator at a time
	if err != nil {
		conn.ExecContext(ctx, `PRAGMA foreign_keys = ON`) //nolint:errcheck // closing anyway
		conn.Close()
		return nil, err
	}
	return &sqliteTx{tx: tx, checkFKs: true, done: func() {
		conn.ExecContext(context.Background(), `PRAGMA foreign_keys = ON`) //nolint:errcheck // the connection is closed next
		conn.Close()
	}}, nil
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
	tx       *sql.Tx
	stmts    map[string]*sql.Stmt
	checkFKs bool   // PRAGMA foreign_key_check before the commit
	done     func() // after the commit or rollback
}

func (t *sqliteTx) exec(ctx context.Context, q string, args ...any) (int64, error) {
	return sqlQ{t.tx}.exec(ctx, q, args...)
}
func (t *sqliteTx) query(ctx context.Context, q string, args ...any) (rowsI, error) {
	return sqlQ{t.tx}.query(ctx, q, args...)
}
func (t *sqliteTx) commit(ctx context.Context) error {
	if t.checkFKs {
		rows, err := t.tx.QueryContext(ctx, `PRAGMA foreign_key_check`)
		if err != nil {
			t.rollback(ctx) //nolint:errcheck // the check's error matters
			return err
		}
		var bad []string
		for rows.Next() {
			var table, parent string
			var rowid sql.NullInt64
			var fk int
			if err := rows.Scan(&table, &rowid, &parent, &fk); err != nil {
				rows.Close()
				t.rollback(ctx) //nolint:errcheck
				return err
			}
			bad = append(bad, fmt.Sprintf("%s row %d -> %s", table, rowid.Int64, parent))
		}
		rows.Close()
		if len(bad) > 0 {
			t.rollback(ctx) //nolint:errcheck
			return fmt.Errorf("foreign keys violated: %s", strings.Join(bad[:min(len(bad), 5)], "; "))
		}
	}
	err := t.tx.Commit()
	t.finish()
	return err
}

// unchanged: a migration transaction that migrated nothing has no
// foreign keys to check.
func (t *sqliteTx) unchanged() { t.checkFKs = false }

func (t *sqliteTx) rollback(context.Context) error {
	err := t.tx.Rollback()
	t.finish()
	return err
}

func (t *sqliteTx) finish() {
	if t.done != nil {
		t.done()
		t.done = nil
	}
}

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

func (t *sqliteTx) lookup(ctx context.Context, repo string, sigs []Signature, covers [][]byte, out map[Signature]string, covered map[Signature]bool) error {
	// In key order: consecutive probes walk neighbouring pages. A
	// statement probes one algorithm's values and returns each hit's
	// position, not its text: the driver's cost is per column read.
	order := make([]int, len(sigs))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(i, j int) bool { return compareSig(sigs[order[i]], sigs[order[j]]) < 0 })
	for len(order) > 0 {
		n := 1
		for n < len(order) && n < sqliteChunk && sigs[order[n]].Algorithm == sigs[order[0]].Algorithm {
			n++
		}
		if err := t.lookupValues(ctx, repo, sigs, covers, order[:n], out, covered); err != nil {
			return err
		}
		order = order[n:]
	}
	return nil
}

// lookupValues looks up the signatures at idx, all of one algorithm.
func (t *sqliteTx) lookupValues(ctx context.Context, repo string, sigs []Signature, covers [][]byte, idx []int, out map[Signature]string, covered map[Signature]bool) error {
	q := `SELECT v.column2, s.finding_id FROM (VALUES ` + rowsOf(len(idx), "(?, ?)") + `) AS v
CROSS JOIN signatures s ON s.repository = ? AND s.algorithm = ? AND s.value = v.column1`
	per := 2
	if covers != nil {
		q = `SELECT v.column2, s.finding_id, ifnull(s.covers = v.column3, 0) FROM (VALUES ` + rowsOf(len(idx), "(?, ?, ?)") + `) AS v
CROSS JOIN signatures s ON s.repository = ? AND s.algorithm = ? AND s.value = v.column1`
		per = 3
	}
	st, err := t.stmt(ctx, q)
	if err != nil {
		return err
	}
	args := make([]any, 0, per*len(idx)+2)
	for j, i := range idx {
		args = append(args, sigs[i].Value, int64(j))
		if covers != nil {
			args = append(args, nullBytes(covers[i]))
		}
	}
	args = append(args, repo, sigs[idx[0]].Algorithm)
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var j int64
		var id string
		var same bool
		dest := []any{&j, &id, &same}
		if err := rows.Scan(dest[:per]...); err != nil {
			return err
		}
		if j < 0 || j >= int64(len(idx)) {
			return fmt.Errorf("store: lookup returned row %d of %d", j, len(idx))
		}
		sg := sigs[idx[j]]
		out[sg] = id
		if same {
			covered[sg] = true
		}
	}
	return rows.Err()
}

// missingFrom counts, for each check, the finding's signatures that are
// lines of the check's (packLines; a stored signature holding a tab or a
// newline is never counted): fewer than the check has means some are
// missing. Only those checks come back as rows (a rescan: none), and the
// engine reads one index range per finding; the driver's cost is per row
// and column read, several times the engine's for a row of an index.
func (t *sqliteTx) missingFrom(ctx context.Context, repo string, checks []sigCheck) ([]bool, error) {
	order := make([]int, len(checks))
	for i := range order {
		order[i] = i
	}
	// In key order: neighbouring index pages, one after the other.
	sort.Slice(order, func(a, b int) bool { return checks[order[a]].findingID < checks[order[b]].findingID })
	out := make([]bool, len(checks))
	err := chunks(len(order), sqliteChunk, func(lo, hi int) error {
		st, err := t.stmt(ctx, `SELECT v.column4 FROM (VALUES `+rowsOf(hi-lo, "(?, ?, ?, ?)")+`) AS v
WHERE (SELECT count(*) FROM signatures s WHERE s.finding_id = v.column1 AND s.repository = ?
	AND instr(v.column3, char(10) || s.algorithm || char(9) || s.value || char(10)) > 0
	AND instr(s.algorithm || s.value, char(9)) = 0 AND instr(s.algorithm || s.value, char(10)) = 0) < v.column2`)
		if err != nil {
			return err
		}
		args := make([]any, 0, 4*(hi-lo)+1)
		for _, i := range order[lo:hi] {
			ch := checks[i]
			args = append(args, ch.findingID, int64(len(ch.sigs)), packLines(ch.sigs), int64(i))
		}
		args = append(args, repo)
		rows, err := st.QueryContext(ctx, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var i int64
			if err := rows.Scan(&i); err != nil {
				return err
			}
			if i < 0 || i >= int64(len(out)) {
				return fmt.Errorf("store: check %d of %d", i, len(out))
			}
			out[i] = true
		}
		return rows.Err()
	})
	return out, err
}

func (t *sqliteTx) insertSignatures(ctx context.Context, repo string, in []sigRow) (map[Signature]bool, error) {
	out := make(map[Signature]bool, len(in))
	err := chunks(len(in), sqliteChunk, func(lo, hi int) error {
		st, err := t.stmt(ctx, `INSERT INTO signatures (repository, algorithm, value, finding_id, covers)
SELECT ?1, v.column1, v.column2, v.column3, v.column4 FROM (VALUES `+rowsOf(hi-lo, "(?, ?, ?, ?)")+`) AS v WHERE true
ON CONFLICT DO NOTHING RETURNING algorithm, value`)
		if err != nil {
			return err
		}
		args := make([]any, 0, 4*(hi-lo)+1)
		args = append(args, repo)
		for _, r := range in[lo:hi] {
			args = append(args, r.sig.Algorithm, r.sig.Value, r.findingID, nullBytes(r.covers))
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

func (t *sqliteTx) setCovers(ctx context.Context, repo string, in []sigRow) error {
	return chunks(len(in), sqliteChunk, func(lo, hi int) error {
		st, err := t.stmt(ctx, `UPDATE signatures SET covers = v.column4 FROM (VALUES `+rowsOf(hi-lo, "(?, ?, ?, ?)")+`) AS v
WHERE signatures.repository = ? AND signatures.algorithm = v.column1 AND signatures.value = v.column2
	AND signatures.finding_id = v.column3`)
		if err != nil {
			return err
		}
		args := make([]any, 0, 4*(hi-lo)+1)
		for _, r := range in[lo:hi] {
			args = append(args, r.sig.Algorithm, r.sig.Value, r.findingID, nullBytes(r.covers))
		}
		_, err = st.ExecContext(ctx, append(args, repo)...)
		return err
	})
}

// nullBytes is b as an argument: NULL when nil (the driver would bind an
// empty blob).
func nullBytes(b []byte) any {
	if b == nil {
		return nil
	}
	return b
}

// packedFinding is the finding as findings_v has it (findingCols'
// order), then its key n, packed into one string: each column as its
// length in bytes, a colon and its text (NULL: empty). One column instead
// of 21 costs the driver a fifth as much, and one format call the engine
// little.
var packedFinding = packSQL(`f.id`, `f.repository`, `f.tool`, `f.tools`, `f.rule`, `f.path`, `f.severity`, `f.title`,
	`f.status`, `f.status_by`, `f.status_reason`, `f.status_at`, `f.first_seen`, `s.last_seen`, `f.first_scan`, `s.last_scan`,
	`s.times_seen`, `f.fixed_scan`, `f.fixed_at`, `f.reopened`, `f.n`)

func packSQL(cols ...string) string {
	args := make([]string, 0, 2*len(cols))
	for _, c := range cols {
		args = append(args, `octet_length(`+c+`)`, c)
	}
	return `format('` + strings.Repeat(`%d:%s`, len(cols)) + `', ` + strings.Join(args, ", ") + `)`
}

// unpack splits what packSQL packed into fields.
func unpack(s string, fields []string) error {
	for i := range fields {
		colon := strings.IndexByte(s, ':')
		if colon < 0 {
			return fmt.Errorf("store: packed row: %d fields, want %d", i, len(fields))
		}
		n, err := strconv.Atoi(s[:colon])
		if err != nil || n < 0 || colon+1+n > len(s) {
			return fmt.Errorf("store: packed row: bad length %q", s[:colon])
		}
		fields[i] = s[colon+1 : colon+1+n]
		s = s[colon+1+n:]
	}
	if s != "" {
		return fmt.Errorf("store: packed row: %d bytes left over", len(s))
	}
	return nil
}

// packedInt reads an integer column (NULL, empty, is 0).
func packedInt(v string) (int64, error) {
	if v == "" {
		return 0, nil
	}
	return strconv.ParseInt(v, 10, 64)
}

// packedTime reads a time column as tsScan does: NULL is the zero time.
func packedTime(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	ms, err := strconv.ParseInt(v, 10, 64)
	return time.UnixMilli(ms).UTC(), err
}

// unpackFinding reads a packedFinding.
func unpackFinding(s string) (keyedFinding, error) {
	var fs [21]string
	if err := unpack(s, fs[:]); err != nil {
		return keyedFinding{}, err
	}
	var k keyedFinding
	f := &k.f
	f.ID, f.Repository, f.Tool, f.Tools, f.Rule, f.Path, f.Severity, f.Title = fs[0], fs[1], fs[2], splitTools(fs[3]), fs[4], fs[5], fs[6], fs[7]
	f.Status, f.StatusBy, f.StatusReason = Status(fs[8]), fs[9], fs[10]
	f.FirstScan, f.LastScan, f.FixedScan = fs[14], fs[15], fs[17]
	var errs [7]error
	f.StatusAt, errs[0] = packedTime(fs[11])
	f.FirstSeen, errs[1] = packedTime(fs[12])
	f.LastSeen, errs[2] = packedTime(fs[13])
	f.FixedAt, errs[3] = packedTime(fs[18])
	var times, reopened int64
	times, errs[4] = packedInt(fs[16])
	reopened, errs[5] = packedInt(fs[19])
	k.n, errs[6] = packedInt(fs[20])
	f.TimesSeen, f.Reopened = uint64(times), uint64(reopened)
	return k, errors.Join(errs[:]...)
}

type keyedFinding struct {
	n int64
	f Finding
}

// upsertFindings inserts the new findings and records the sighting of the
// known ones. The transaction holds the write lock (BEGIN IMMEDIATE), so
// what it reads no other writer can change before it commits: the known
// findings are read, their new state computed here, and written back as
// values — the narrow finding_seen row of each (times seen, last seen and
// last scan, in key order), the wide findings row only when its
// attributes, tools or first sighting changed. Rows without a finding yet
// are those whose id Observe made up; nothing else can have created them
// meanwhile.
func (t *sqliteTx) upsertFindings(ctx context.Context, scan Scan, in []findingRow) (map[string]Finding, error) {
	out := make(map[string]Finding, len(in))
	at := scan.Started.UnixMilli()
	atT := time.UnixMilli(at).UTC()
	var fresh, known []findingRow
	for _, r := range in {
		if r.isNew {
			fresh = append(fresh, r)
		} else {
			known = append(known, r)
		}
	}

	// The known findings as they are.
	cur := make(map[string]keyedFinding, len(known))
	err := chunks(len(known), sqliteChunk, func(lo, hi int) error {
		st, err := t.stmt(ctx, `SELECT `+packedFinding+` FROM (VALUES `+rowsOf(hi-lo, "(?)")+`) AS v
JOIN findings f ON f.id = v.column1 JOIN finding_seen s ON s.n = f.n`)
		if err != nil {
			return err
		}
		args := make([]any, hi-lo)
		for i, r := range known[lo:hi] {
			args[i] = r.id
		}
		rows, err := st.QueryContext(ctx, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var packed string
			if err := rows.Scan(&packed); err != nil {
				return err
			}
			k, err := unpackFinding(packed)
			if err != nil {
				return err
			}
			cur[k.f.ID] = k
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}

	// Their new state.
	type seenRow struct {
		n, times, last int64
		scan           string
	}
	type wideRow struct {
		n                                             int64
		tools, rule, path, severity, title, firstScan string
		first                                         int64
	}
	var hot []seenRow
	var wide []wideRow
	for _, r := range known {
		k, ok := cur[r.id]
		if !ok {
			return nil, fmt.Errorf("store: finding %s is not in the store", r.id)
		}
		f := k.f
		before := seenRow{k.n, int64(f.TimesSeen), f.LastSeen.UnixMilli(), f.LastScan}
		if f.LastScan != scan.ID {
			f.TimesSeen += uint64(r.inc)
		}
		changed := false
		if at < f.FirstSeen.UnixMilli() {
			f.FirstSeen, f.FirstScan, changed = atT, scan.ID, true
		}
		if at >= f.LastSeen.UnixMilli() {
			f.LastSeen, f.LastScan = atT, scan.ID
		}
		if !contains(f.Tools, r.tool) {
			f.Tools, changed = append(f.Tools, r.tool), true
		}
		if f.Rule != r.rule || f.Path != r.path || f.Severity != r.severity || f.Title != r.title {
			f.Rule, f.Path, f.Severity, f.Title, changed = r.rule, r.path, r.severity, r.title, true
		}
		if after := (seenRow{k.n, int64(f.TimesSeen), f.LastSeen.UnixMilli(), f.LastScan}); after != before {
			hot = append(hot, after)
		}
		if changed {
			wide = append(wide, wideRow{k.n, strings.Join(f.Tools, ","), f.Rule, f.Path, f.Severity, f.Title, f.FirstScan, f.FirstSeen.UnixMilli()})
		}
		out[f.ID] = f
	}
	sort.Slice(hot, func(i, j int) bool { return hot[i].n < hot[j].n })
	sort.Slice(wide, func(i, j int) bool { return wide[i].n < wide[j].n })
	if err := chunks(len(hot), sqliteChunk, func(lo, hi int) error {
		st, err := t.stmt(ctx, `UPDATE OR FAIL finding_seen SET times_seen = v.column2, last_seen = v.column3, last_scan = v.column4
FROM (VALUES `+rowsOf(hi-lo, "(?, ?, ?, ?)")+`) AS v WHERE finding_seen.n = v.column1`)
		if err != nil {
			return err
		}
		args := make([]any, 0, 4*(hi-lo))
		for _, h := range hot[lo:hi] {
			args = append(args, h.n, h.times, h.last, h.scan)
		}
		_, err = st.ExecContext(ctx, args...)
		return err
	}); err != nil {
		return nil, err
	}
	if err := chunks(len(wide), sqliteChunk, func(lo, hi int) error {
		st, err := t.stmt(ctx, `UPDATE OR FAIL findings SET tools = v.column2, rule = v.column3, path = v.column4, severity = v.column5,
	title = v.column6, first_scan = v.column7, first_seen = v.column8
FROM (VALUES `+rowsOf(hi-lo, "(?, ?, ?, ?, ?, ?, ?, ?)")+`) AS v WHERE findings.n = v.column1`)
		if err != nil {
			return err
		}
		args := make([]any, 0, 8*(hi-lo))
		for _, w := range wide[lo:hi] {
			args = append(args, w.n, w.tools, w.rule, w.path, w.severity, w.title, w.firstScan, w.first)
		}
		_, err = st.ExecContext(ctx, args...)
		return err
	}); err != nil {
		return nil, err
	}

	// The new ones, keyed after the last.
	if len(fresh) == 0 {
		return out, nil
	}
	var maxN int64
	if err := t.tx.QueryRowContext(ctx, `SELECT coalesce(max(n), 0) FROM findings`).Scan(&maxN); err != nil {
		return nil, err
	}
	if err := chunks(len(fresh), sqliteChunk, func(lo, hi int) error {
		st, err := t.stmt(ctx, `INSERT OR FAIL INTO findings (n, id, repository, tool, tools, rule, path, severity, title, status, status_at,
	first_seen, first_scan)
SELECT v.column1, v.column2, ?1, v.column3, v.column3, v.column4, v.column5, v.column6, v.column7, 'open', ?2, ?2, ?3
FROM (VALUES `+rowsOf(hi-lo, "(?, ?, ?, ?, ?, ?, ?)")+`) AS v`)
		if err != nil {
			return err
		}
		args := make([]any, 0, 7*(hi-lo)+3)
		args = append(args, scan.Repository, at, scan.ID)
		for i, r := range fresh[lo:hi] {
			args = append(args, maxN+1+int64(lo+i), r.id, r.tool, r.rule, r.path, r.severity, r.title)
		}
		if _, err := st.ExecContext(ctx, args...); err != nil {
			return err
		}
		st, err = t.stmt(ctx, `INSERT OR FAIL INTO finding_seen (n, times_seen, last_seen, last_scan)
SELECT v.column1, v.column2, ?1, ?2 FROM (VALUES `+rowsOf(hi-lo, "(?, ?)")+`) AS v`)
		if err != nil {
			return err
		}
		args = append(args[:0], at, scan.ID)
		for i, r := range fresh[lo:hi] {
			args = append(args, maxN+1+int64(lo+i), r.inc)
		}
		_, err = st.ExecContext(ctx, args...)
		return err
	}); err != nil {
		return nil, err
	}
	for _, r := range fresh {
		out[r.id] = Finding{ID: r.id, Repository: scan.Repository, Tool: r.tool, Tools: []string{r.tool}, Rule: r.rule, Path: r.path,
			Severity: r.severity, Title: r.title, Status: StatusOpen, StatusAt: atT, FirstSeen: atT, LastSeen: atT,
			FirstScan: scan.ID, LastScan: scan.ID, TimesSeen: uint64(r.inc)}
	}
	return out, nil
}

// updateFindings: the rows are chosen through findings_v, updated in
// findings, and read back through findings_v (the transaction holds the
// write lock).
func (s *SQLite) updateFindings(ctx context.Context, q querier, set, where string, args ...any) ([]Finding, error) {
	var ids []string
	if err := each(ctx, q, func(r rowsI) error {
		var id string
		err := r.Scan(&id)
		ids = append(ids, id)
		return err
	}, `UPDATE findings SET `+set+` WHERE id IN (SELECT f.id FROM findings_v f WHERE `+where+`) RETURNING id`, args...); err != nil {
		return nil, err
	}
	out := make([]Finding, 0, len(ids))
	err := chunks(len(ids), 500, func(lo, hi int) error {
		args := make([]any, hi-lo)
		for i, id := range ids[lo:hi] {
			args[i] = id
		}
		got, err := collectFindings(ctx, q, `SELECT `+findingCols+` FROM findings_v WHERE id IN (`+placeholders(hi-lo)+`)`, args...)
		out = append(out, got...)
		return err
	})
	return out, err
}

func (t *sqliteTx) insertOccurrences(ctx context.Context, scan Scan, in []occRow) error {
	// In key order: the rows of one scan are appended to one place in the
	// table's b-tree, page after page.
	in = append([]occRow(nil), in...)
	sort.Slice(in, func(i, j int) bool {
		a, b := &in[i], &in[j]
		if a.findingID != b.findingID {
			return a.findingID < b.findingID
		}
		if a.tool != b.tool {
			return a.tool < b.tool
		}
		if a.path != b.path {
			return a.path < b.path
		}
		if a.start != b.start {
			return a.start < b.start
		}
		return a.end < b.end
	})
	return chunks(len(in), sqliteChunk, func(lo, hi int) error {
		st, err := t.stmt(ctx, `INSERT OR FAIL INTO occurrences (scan_id, finding_id, tool, path, start_line, end_line)
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
