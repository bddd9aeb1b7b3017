package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// rawExec runs SQL on a store behind the store's back (to write what an
// older binary wrote, or to read what a migration left).
func rawExec(t testing.TB, dsn string, q string, args ...any) {
	t.Helper()
	ctx := context.Background()
	kind, target, _ := ParseDSN(dsn)
	if kind == BackendPostgres {
		c, err := pgx.Connect(ctx, target)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, rebind(q), args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return
	}
	db, err := sql.Open("sqlite", target)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func rawInt(t testing.TB, dsn string, q string) int64 {
	t.Helper()
	ctx := context.Background()
	kind, target, _ := ParseDSN(dsn)
	var n int64
	if kind == BackendPostgres {
		c, err := pgx.Connect(ctx, target)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close(ctx)
		if err := c.QueryRow(ctx, q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	db, err := sql.Open("sqlite", target)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.QueryRowContext(ctx, q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func tableCount(t *testing.T, dsn string) int64 {
	kind, _, _ := ParseDSN(dsn)
	if kind == BackendPostgres {
		return rawInt(t, dsn, `SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name <> 'schema_version'`)
	}
	return rawInt(t, dsn, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name <> 'schema_version'`)
}

// Version 1's rows (the one-table store) survive the way up, and version
// 2's the way back down; every version goes up and down on both backends.
func TestMigrationsUpAndDown(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		if err := Migrate(ctx, dsn, 1); err != nil {
			t.Fatal(err)
		}
		if v, err := Version(ctx, dsn); err != nil || v != 1 {
			t.Fatalf("version = %d, %v; want 1", v, err)
		}
		hash := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
		first, last := t0.UnixMilli(), t0.Add(2*time.Hour).UnixMilli()
		rawExec(t, dsn, `INSERT INTO findings (hash, tool, first_seen, last_seen, count, first_scan, last_scan) VALUES (?, 'gosec', ?, ?, 7, 'old1', 'old7'), ('short', 'bandit', ?, ?, 1, 'old7', 'old7')`,
			hash, first, last, last, last)

		s := open(t, dsn)
		if v, _ := Version(ctx, dsn); v != SchemaVersion() || v < 2 {
			t.Fatalf("after Open: version %d, want %d", v, SchemaVersion())
		}
		all, err := s.List(ctx, Filter{})
		if err != nil || len(all) != 2 {
			t.Fatalf("carried over = %+v, %v", all, err)
		}
		// The first scan that names a repository adopts the old rows, and
		// the old hash still matches.
		got := observe(t, s, scanAt("new", 3), sight("gosec", "main.go", "hash/v0="+hash))[0]
		if got.New || got.TimesSeen != 8 || got.ID != "01234567-89ab-cdef-0123-456789abcdef" || !got.FirstSeen.Equal(t0) ||
			got.FirstScan != "old1" || got.Repository != "acme/app" || got.Tool != "gosec" {
			t.Errorf("old finding seen again = %+v", got)
		}
		if short := observe(t, s, scanAt("new", 3), sight("bandit", "x.py", "hash/v0=short"))[0]; short.New || short.ID != "hash-short" || short.TimesSeen != 2 {
			t.Errorf("old short hash = %+v", short)
		}
		s.Close()

		if err := Migrate(ctx, dsn, 1); err != nil {
			t.Fatal(err)
		}
		if n := rawInt(t, dsn, `SELECT count FROM findings WHERE hash = '`+hash+`'`); n != 8 {
			t.Errorf("down to version 1: count %d, want 8", n)
		}
		if n := rawInt(t, dsn, `SELECT last_seen FROM findings WHERE hash = '`+hash+`'`); n != t0.Add(3*time.Hour).UnixMilli() {
			t.Errorf("down to version 1: last_seen %d", n)
		}
		if err := Migrate(ctx, dsn, 0); err != nil {
			t.Fatal(err)
		}
		if n := tableCount(t, dsn); n != 0 {
			t.Errorf("down to 0: %d tables left", n)
		}
		if err := Migrate(ctx, dsn, -1); err != nil {
			t.Fatal(err)
		}
		if v, _ := Version(ctx, dsn); v != SchemaVersion() {
			t.Errorf("up again: version %d", v)
		}
		if err := Migrate(ctx, dsn, SchemaVersion()+1); err == nil {
			t.Error("migrating past the newest version: no error")
		}
	})
}

// A store file written before versioned migrations (the one table, no
// schema_version) opens, and its rows carry over.
func TestOpenPreMigrationFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "findings.db")
	rawExec(t, path, `CREATE TABLE IF NOT EXISTS findings (
	hash       TEXT PRIMARY KEY,
	tool       TEXT NOT NULL,
	first_seen INTEGER NOT NULL,
	last_seen  INTEGER NOT NULL,
	count      INTEGER NOT NULL,
	first_scan TEXT NOT NULL,
	last_scan  TEXT NOT NULL
)`)
	rawExec(t, path, `INSERT INTO findings VALUES ('aaaa', 'gosec', ?, ?, 3, 's1', 's3')`, t0.UnixMilli(), t0.UnixMilli())
	s, err := OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// A local scan (no repository) matches it too.
	got := observe(t, s, Scan{ID: "s4", Started: t0.Add(time.Hour)}, sight("gosec", "a.go", "hash/v0=aaaa"))[0]
	if got.New || got.TimesSeen != 4 || got.FirstScan != "s1" {
		t.Errorf("old row seen again = %+v", got)
	}
}

func TestNewerSchemaIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "findings.db")
	s, err := OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	rawExec(t, path, `INSERT INTO schema_version (version, name, applied_at) VALUES (99, 'future', 'x')`)
	if _, err := OpenSQLite(path); err == nil {
		t.Error("a store from a newer binary opened")
	}
}

// A store written at version 2 (every finding column in one table) moves
// to version 3 and back with all of its data: the findings, their
// signatures, history and occurrences, and what later scans add.
func TestVersion2StoreMigrates(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		if err := Migrate(ctx, dsn, 2); err != nil {
			t.Fatal(err)
		}
		kind, _, _ := ParseDSN(dsn)
		ts := func(tm time.Time) any {
			if kind == BackendPostgres {
				return tm
			}
			return tm.UnixMilli()
		}
		t1, t2, t3 := t0.Add(time.Hour), t0.Add(2*time.Hour), t0.Add(3*time.Hour)
		const a, b = "0190aaaa-0000-7000-8000-00000000000a", "0190bbbb-0000-7000-8000-00000000000b"
		rawExec(t, dsn, `INSERT INTO scans (id, repository, ref, commit_sha, event, started) VALUES
	('s1', 'acme/app', 'refs/heads/main', 'c1', 'push', ?), ('s2', 'acme/app', 'refs/heads/main', 'c2', 'push', ?)`, ts(t0), ts(t1))
		rawExec(t, dsn, `INSERT INTO findings (id, repository, tool, tools, rule, path, severity, title, status, status_by, status_reason, status_at,
	first_seen, last_seen, first_scan, last_scan, times_seen, fixed_scan, fixed_at, reopened) VALUES
	(?, 'acme/app', 'gosec', 'gosec,semgrep', 'G101', 'a.go', 'HIGH', 'creds', 'false_positive', 'alice', 'test data', ?, ?, ?, 's1', 's2', 2, 's0', ?, 1),
	(?, 'acme/app', 'bandit', 'bandit', 'B105', 'b.py', 'LOW', 'pw', 'open', '', '', ?, ?, ?, 's1', 's1', 1, '', NULL, 0)`,
			a, ts(t2), ts(t0), ts(t1), ts(t0.Add(-time.Hour)), b, ts(t0), ts(t0), ts(t0))
		rawExec(t, dsn, `INSERT INTO signatures (repository, algorithm, value, finding_id) VALUES
	('acme/app', 'code/v1', 'ca', ?), ('acme/app', 'hash/v0', 'ha', ?), ('acme/app', 'code/v1', 'cb', ?)`, a, a, b)
		rawExec(t, dsn, `INSERT INTO occurrences (scan_id, finding_id, tool, path, start_line, end_line) VALUES
	('s1', ?, 'gosec', 'a.go', 3, 4), ('s2', ?, 'semgrep', 'a.go', 3, 3), ('s1', ?, 'bandit', 'b.py', 7, 7)`, a, a, b)
		rawExec(t, dsn, `INSERT INTO status_history (finding_id, from_status, to_status, changed_by, reason, changed_at, scan_id) VALUES
	(?, 'open', 'false_positive', 'alice', 'test data', ?, '')`, a, ts(t2))

		s := open(t, dsn)
		if v, _ := Version(ctx, dsn); v != SchemaVersion() || v < 3 {
			t.Fatalf("after Open: version %d, want %d", v, SchemaVersion())
		}
		d, err := s.Get(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		want := Finding{ID: a, Repository: "acme/app", Tool: "gosec", Tools: []string{"gosec", "semgrep"}, Rule: "G101", Path: "a.go",
			Severity: "HIGH", Title: "creds", Status: StatusFalsePositive, StatusBy: "alice", StatusReason: "test data", StatusAt: t2,
			FirstSeen: t0, LastSeen: t1, FirstScan: "s1", LastScan: "s2", TimesSeen: 2, FixedScan: "s0", FixedAt: t0.Add(-time.Hour), Reopened: 1}
		if !reflect.DeepEqual(d.Finding, want) {
			t.Errorf("migrated finding\n got %+v\nwant %+v", d.Finding, want)
		}
		if len(d.Signatures) != 2 || len(d.History) != 1 || d.History[0].By != "alice" || len(d.Occurrences) != 2 {
			t.Errorf("migrated detail: signatures %v, history %+v, occurrences %+v", d.Signatures, d.History, d.Occurrences)
		}
		// Scans go on from there.
		got := observe(t, s, scanAt("s3", 3), sight("gosec", "a.go", "code/v1=ca"), sight("gosec", "c.go", "code/v1=cc"))
		if got[0].New || got[0].ID != a || got[0].TimesSeen != 3 || !got[0].LastSeen.Equal(t3) || got[0].LastScan != "s3" ||
			got[0].Status != StatusFalsePositive || !got[0].FirstSeen.Equal(t0) || !got[1].New {
			t.Errorf("seen again after the migration = %+v / %+v", got[0], got[1])
		}
		if fixed, err := s.MarkFixed(ctx, scanAt("s3", 3), Scope{Repository: "acme/app"}); err != nil || len(fixed) != 1 || fixed[0].ID != b || fixed[0].TimesSeen != 1 {
			t.Errorf("fixed after the migration = %+v, %v", fixed, err)
		}
		if l, err := s.List(ctx, Filter{Repository: "acme/app"}); err != nil || len(l) != 3 || l[0].LastScan != "s3" {
			t.Errorf("list after the migration = %+v, %v", l, err)
		}
		s.Close()

		// And back to version 2, where the counts are columns of findings again.
		if err := Migrate(ctx, dsn, 2); err != nil {
			t.Fatal(err)
		}
		if n := rawInt(t, dsn, `SELECT times_seen FROM findings WHERE id = '`+a+`'`); n != 3 {
			t.Errorf("down to version 2: times_seen %d, want 3", n)
		}
		if n := rawInt(t, dsn, `SELECT count(*) FROM findings WHERE last_scan = 's3'`); n != 2 {
			t.Errorf("down to version 2: %d findings last seen by s3, want 2", n)
		}
		if n := rawInt(t, dsn, `SELECT count(*) FROM signatures`); n != 4 {
			t.Errorf("down to version 2: %d signatures, want 4", n)
		}
		s = open(t, dsn)
		if d2, err := s.Get(ctx, b); err != nil || d2.Status != StatusFixed || d2.FixedScan != "s3" || len(d2.History) != 1 {
			t.Errorf("up again: %+v, %v", d2, err)
		}
	})
}
