package store

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// backendCase opens a fresh, empty store of one backend; reopen opens the
// same store again (another connection, as another process would).
type backendCase struct {
	name string
	dsn  func(t *testing.T) string
}

var backendCases = []backendCase{
	{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "findings.db") }},
	{"postgres", func(t *testing.T) string { return postgresDSN(t) }},
}

func eachBackend(t *testing.T, fn func(t *testing.T, dsn string)) {
	for _, b := range backendCases {
		t.Run(b.name, func(t *testing.T) { fn(t, b.dsn(t)) })
	}
}

func open(t *testing.T, dsn string) Store {
	t.Helper()
	s, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var t0 = time.UnixMilli(1_700_000_000_000).UTC()

func scanAt(id string, h int) Scan {
	return Scan{ID: id, Repository: "acme/app", Ref: "refs/heads/main", Commit: "c" + id, Event: "push", Started: t0.Add(time.Duration(h) * time.Hour)}
}

func sight(tool, path string, sigs ...string) Sighting {
	s := Sighting{Tool: tool, Rule: "R1", Path: path, StartLine: 3, EndLine: 4, Severity: "HIGH", Title: "t"}
	for _, sg := range sigs {
		a, v, _ := strings.Cut(sg, "=")
		s.Signatures = append(s.Signatures, Signature{a, v})
	}
	return s
}

func observe(t *testing.T, s Store, scan Scan, in ...Sighting) []Record {
	t.Helper()
	got, err := s.Observe(context.Background(), scan, in)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(in) {
		t.Fatalf("%d records for %d sightings", len(got), len(in))
	}
	return got
}

func TestObserveCountsEachScanOnce(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := open(t, dsn)
		a, b := sight("gosec", "a.go", "hash/v0=a"), sight("gosec", "b.go", "hash/v0=b")
		got := observe(t, s, scanAt("s1", 0), a)
		if !got[0].New || got[0].TimesSeen != 1 || got[0].ID == "" || got[0].Status != StatusOpen || !got[0].FirstSeen.Equal(t0) {
			t.Fatalf("first sighting = %+v", got[0])
		}
		id := got[0].ID
		// Re-running the same scan's stage counts nothing twice.
		got = observe(t, s, scanAt("s1", 0), a)
		if !got[0].New || got[0].TimesSeen != 1 || got[0].ID != id {
			t.Fatalf("same scan again = %+v", got[0])
		}
		s.Close()

		// The store keeps what it learned.
		s = open(t, dsn)
		got = observe(t, s, scanAt("s2", 1), a, b)
		if got[0].New || got[0].TimesSeen != 2 || got[0].ID != id || !got[0].FirstSeen.Equal(t0) || !got[0].LastSeen.Equal(t0.Add(time.Hour)) ||
			got[0].FirstScan != "s1" || got[0].LastScan != "s2" {
			t.Errorf("a in s2 = %+v", got[0])
		}
		if !got[1].New || got[1].TimesSeen != 1 || got[1].ID == id {
			t.Errorf("b in s2 = %+v", got[1])
		}
		// An older scan re-run after a newer one still counts once.
		got = observe(t, s, scanAt("s1", 0), a)
		if got[0].TimesSeen != 2 || got[0].LastScan != "s2" || got[0].FirstScan != "s1" {
			t.Errorf("s1 re-run after s2 = %+v", got[0])
		}
		// A scan may be observed in several calls (one per tool).
		observe(t, s, scanAt("s3", 2), a)
		got = observe(t, s, scanAt("s3", 2), sight("bandit", "x.py", "hash/v0=x"), a)
		if got[1].TimesSeen != 3 || !got[0].New {
			t.Errorf("second call of s3 = %+v", got)
		}
		d, err := s.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		// One occurrence per scan that saw it, however often it was observed.
		if len(d.Occurrences) != 3 || d.Occurrences[0].ScanID != "s3" || d.Occurrences[0].Path != "a.go" || d.Occurrences[0].StartLine != 3 {
			t.Errorf("occurrences = %+v", d.Occurrences)
		}
		if !slices.Equal(d.Signatures, []Signature{{"hash/v0", "a"}}) {
			t.Errorf("signatures = %+v", d.Signatures)
		}
	})
}

func TestObserveBatchDuplicatesAndTools(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		s := open(t, dsn)
		// Two reports with one first signature in one scan are one finding,
		// seen once, with every tool that reported it.
		got := observe(t, s, scanAt("s1", 0),
			sight("gosec", "k.go", "secret/v1=k"), sight("gitleaks", "k.go", "secret/v1=k"), sight("gosec", "k.go", "secret/v1=k"))
		if got[0].ID != got[1].ID || got[1].ID != got[2].ID || got[0].TimesSeen != 1 {
			t.Fatalf("one finding thrice = %+v", got)
		}
		if !slices.Equal(got[0].Tools, []string{"gosec", "gitleaks"}) || got[0].Tool != "gosec" {
			t.Errorf("tools = %v (first %s)", got[0].Tools, got[0].Tool)
		}
		got = observe(t, s, scanAt("s2", 1), sight("trufflehog", "k.go", "secret/v1=k"))
		if !slices.Equal(got[0].Tools, []string{"gosec", "gitleaks", "trufflehog"}) || got[0].TimesSeen != 2 {
			t.Errorf("after trufflehog = %+v", got[0])
		}
	})
}

func TestObserveMatchesOnTheBestCommonAlgorithm(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := open(t, dsn)
		f := observe(t, s, scanAt("s1", 0), sight("gosec", "a.go", "code/v1=A", "hash/v0=H"))[0]

		// code/v1 is the best algorithm both have, and it differs: new,
		// however equal hash/v0 is (hash/v0=H stays with the first finding).
		other := observe(t, s, scanAt("s2", 1), sight("gosec", "a.go", "code/v1=B", "hash/v0=H"))[0]
		if !other.New || other.ID == f.ID {
			t.Errorf("code/v1 differs: %+v, want a new finding", other)
		}
		// A better algorithm the finding lacks does not decide: hash/v0 does,
		// and the finding gains the new signature.
		up := observe(t, s, scanAt("s3", 2), sight("gosec", "a.go", "code/v2=X", "code/v1=A"))[0]
		if up.New || up.ID != f.ID || up.TimesSeen != 2 {
			t.Errorf("upgrade = %+v, want %s seen twice", up, f.ID)
		}
		// From now on the new algorithm alone finds it.
		again := observe(t, s, scanAt("s4", 3), sight("gosec", "a.go", "code/v2=X"))[0]
		if again.ID != f.ID || again.TimesSeen != 3 {
			t.Errorf("by code/v2 alone = %+v", again)
		}
		d, err := s.Get(ctx, f.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := []Signature{{"code/v1", "A"}, {"code/v2", "X"}, {"hash/v0", "H"}}
		if !slices.Equal(d.Signatures, want) {
			t.Errorf("signatures = %v, want %v", d.Signatures, want)
		}
	})
}

func TestObserveScopesByRepository(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		s := open(t, dsn)
		a := observe(t, s, scanAt("s1", 0), sight("gosec", "a.go", "hash/v0=same"))[0]
		other := scanAt("s2", 1)
		other.Repository = "acme/other"
		b := observe(t, s, other, sight("gosec", "a.go", "hash/v0=same"))[0]
		if !b.New || a.ID == b.ID || b.Repository != "acme/other" {
			t.Errorf("same signature in another repository = %+v, want a new finding", b)
		}
	})
}

func TestMarkFixedAndReopen(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := open(t, dsn)
		a, b, c := sight("gosec", "a.go", "hash/v0=a"), sight("gosec", "b.go", "hash/v0=b"), sight("bandit", "c.py", "hash/v0=c")
		first := observe(t, s, scanAt("s1", 0), a, b, c)
		observe(t, s, scanAt("s2", 1), a)
		// Only gosec ran in s2: bandit's finding is out of scope.
		fixed, err := s.MarkFixed(ctx, scanAt("s2", 1), Scope{Repository: "acme/app", Tools: []string{"gosec"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(fixed) != 1 || fixed[0].ID != first[1].ID || fixed[0].Status != StatusFixed || fixed[0].FixedScan != "s2" || !fixed[0].FixedAt.Equal(t0.Add(time.Hour)) {
			t.Fatalf("fixed = %+v, want b fixed by s2", fixed)
		}
		// Nothing is fixed twice.
		if again, err := s.MarkFixed(ctx, scanAt("s2", 1), Scope{Repository: "acme/app", Tools: []string{"gosec"}}); err != nil || len(again) != 0 {
			t.Errorf("MarkFixed again = %v, %v", again, err)
		}
		// b comes back: reopened.
		got := observe(t, s, scanAt("s3", 2), a, b)
		if got[1].Status != StatusOpen || !got[1].WasReopened || got[1].Reopened != 1 || got[1].TimesSeen != 2 || got[1].New {
			t.Errorf("b in s3 = %+v, want reopened", got[1])
		}
		if got[0].WasReopened {
			t.Errorf("a in s3 = %+v, never fixed", got[0])
		}
		// Every tool: c is fixed now (not seen by s3).
		fixed, err = s.MarkFixed(ctx, scanAt("s3", 2), Scope{Repository: "acme/app"})
		if err != nil || len(fixed) != 1 || fixed[0].ID != first[2].ID {
			t.Errorf("MarkFixed all tools = %+v, %v; want c", fixed, err)
		}
		d, err := s.Get(ctx, first[1].ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(d.History) != 2 || d.History[0].To != StatusFixed || d.History[0].ScanID != "s2" || d.History[0].By != Actor ||
			d.History[1].From != StatusFixed || d.History[1].To != StatusOpen || d.History[1].ScanID != "s3" {
			t.Errorf("history = %+v", d.History)
		}
		if d.FixedScan != "s2" || d.Reopened != 1 {
			t.Errorf("detail = %+v", d.Finding)
		}
	})
}

func TestSetStatusListGet(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := open(t, dsn)
		recs := observe(t, s, scanAt("s1", 0),
			sight("gosec", "cmd/a.go", "hash/v0=a"), sight("bandit", "py/b.py", "hash/v0=b"), sight("gosec", "cmd/c.go", "hash/v0=c"))
		if _, err := s.SetStatus(ctx, recs[0].ID, StatusFalsePositive, "alice", ""); err == nil {
			t.Error("a false positive without a reason: no error")
		}
		if _, err := s.SetStatus(ctx, "nope", StatusOpen, "alice", ""); !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown finding: %v, want ErrNotFound", err)
		}
		f, err := s.SetStatus(ctx, recs[0].ID, StatusFalsePositive, "alice", "test fixture")
		if err != nil {
			t.Fatal(err)
		}
		if f.Status != StatusFalsePositive || f.StatusBy != "alice" || f.StatusReason != "test fixture" || f.StatusAt.IsZero() {
			t.Errorf("after SetStatus = %+v", f)
		}
		// A decision survives later scans.
		got := observe(t, s, scanAt("s2", 1), sight("gosec", "cmd/a.go", "hash/v0=a"))
		if got[0].Status != StatusFalsePositive || got[0].TimesSeen != 2 {
			t.Errorf("a in s2 = %+v", got[0])
		}
		// and MarkFixed leaves it alone.
		if fixed, _ := s.MarkFixed(ctx, scanAt("s2", 1), Scope{Repository: "acme/app"}); len(fixed) != 2 {
			t.Errorf("fixed = %+v, want b and c", fixed)
		}

		ids := func(fs []Finding) (out []string) {
			for _, f := range fs {
				out = append(out, f.Path)
			}
			slices.Sort(out)
			return out
		}
		for _, tc := range []struct {
			f    Filter
			want []string
		}{
			{Filter{}, []string{"cmd/a.go", "cmd/c.go", "py/b.py"}},
			{Filter{Repository: "acme/app", Status: []Status{StatusFixed}}, []string{"cmd/c.go", "py/b.py"}},
			{Filter{Repository: "elsewhere"}, nil},
			{Filter{Tool: "gosec"}, []string{"cmd/a.go", "cmd/c.go"}},
			{Filter{Tool: "gose"}, nil},
			{Filter{PathPrefix: "cmd/", Status: []Status{StatusFalsePositive}}, []string{"cmd/a.go"}},
			{Filter{Severity: []string{"HIGH"}, Rule: "R1"}, []string{"cmd/a.go", "cmd/c.go", "py/b.py"}},
			{Filter{IDPrefix: recs[1].ID[:len(recs[1].ID)-2]}, []string{"py/b.py"}},
		} {
			got, err := s.List(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if g := ids(got); !slices.Equal(g, tc.want) {
				t.Errorf("List(%+v) = %v, want %v", tc.f, g, tc.want)
			}
		}
		page, err := s.List(ctx, Filter{Limit: 1, Offset: 0})
		if err != nil || len(page) != 1 || page[0].Path != "cmd/a.go" { // most recently seen first
			t.Errorf("first page = %+v, %v", page, err)
		}
		d, err := s.Get(ctx, recs[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(d.History) != 1 || d.History[0].From != StatusOpen || d.History[0].To != StatusFalsePositive || d.History[0].By != "alice" {
			t.Errorf("history = %+v", d.History)
		}
		if _, err := s.Get(ctx, "nope"); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get unknown: %v", err)
		}
	})
}

func TestBaseline(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := open(t, dsn)
		if _, err := s.Baseline(ctx, "acme/app", "refs/heads/main"); !errors.Is(err, ErrNotFound) {
			t.Errorf("empty store: %v, want ErrNotFound", err)
		}
		observe(t, s, scanAt("m1", 0), sight("gosec", "a.go", "code/v1=a", "hash/v0=ha"))
		main2 := observe(t, s, scanAt("m2", 1), sight("gosec", "a.go", "code/v1=a"), sight("gosec", "b.go", "code/v1=b"))
		pr := scanAt("pr", 2)
		pr.Ref = "refs/pull/7/merge"
		observe(t, s, pr, sight("gosec", "c.go", "code/v1=c"))
		b, err := s.Baseline(ctx, "acme/app", "refs/heads/main")
		if err != nil {
			t.Fatal(err)
		}
		if b.Scan.ID != "m2" || b.Scan.Commit != "cm2" || !b.Scan.Started.Equal(t0.Add(time.Hour)) || len(b.Findings) != 2 {
			t.Fatalf("baseline = %+v", b)
		}
		for _, f := range b.Findings {
			switch f.ID {
			case main2[0].ID:
				if !slices.Equal(f.Signatures, []Signature{{"code/v1", "a"}, {"hash/v0", "ha"}}) {
					t.Errorf("a's signatures = %v", f.Signatures)
				}
			case main2[1].ID:
				if !slices.Equal(f.Signatures, []Signature{{"code/v1", "b"}}) || f.Status != StatusOpen {
					t.Errorf("b = %+v", f)
				}
			default:
				t.Errorf("unexpected finding %+v", f)
			}
		}
	})
}

func TestObserveRejectsBadInput(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "f.db"))
	ctx := context.Background()
	if _, err := s.Observe(ctx, Scan{}, []Sighting{sight("gosec", "a", "hash/v0=a")}); err == nil {
		t.Error("scan without id: no error")
	}
	if _, err := s.Observe(ctx, scanAt("s", 0), []Sighting{{Tool: "gosec"}}); err == nil {
		t.Error("sighting without signature: no error")
	}
	if _, err := s.Observe(ctx, scanAt("s", 0), []Sighting{sight("gosec", "a", "hash/v0=")}); err == nil {
		t.Error("empty signature value: no error")
	}
	if recs, err := s.Observe(ctx, scanAt("s", 0), nil); err != nil || len(recs) != 0 {
		t.Errorf("no sightings = %v, %v", recs, err)
	}
}

func TestParseDSN(t *testing.T) {
	for _, tc := range []struct {
		dsn    string
		kind   Backend
		target string
	}{
		{".dracon/findings.db", BackendSQLite, ".dracon/findings.db"},
		{"/var/lib/dracon/f.db", BackendSQLite, "/var/lib/dracon/f.db"},
		{"sqlite:store.db", BackendSQLite, "store.db"},
		{"sqlite:///abs/store.db", BackendSQLite, "/abs/store.db"},
		{"file:rel/store.db", BackendSQLite, "rel/store.db"},
		{"C:\\dracon\\f.db", BackendSQLite, "C:\\dracon\\f.db"},
		{"postgres://u:p@db:5432/dracon?sslmode=require", BackendPostgres, "postgres://u:p@db:5432/dracon?sslmode=require"},
		{"PostgreSQL://db/dracon", BackendPostgres, "PostgreSQL://db/dracon"},
		{"host=db dbname=dracon", BackendPostgres, "host=db dbname=dracon"},
	} {
		kind, target, err := ParseDSN(tc.dsn)
		if err != nil || kind != tc.kind || target != tc.target {
			t.Errorf("ParseDSN(%q) = %s, %q, %v; want %s, %q", tc.dsn, kind, target, err, tc.kind, tc.target)
		}
	}
	for _, bad := range []string{"", "  ", "mysql://db/x", "sqlite:"} {
		if _, _, err := ParseDSN(bad); err == nil {
			t.Errorf("ParseDSN(%q): no error", bad)
		}
	}
}

func TestChooseDSN(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == EnvDSN {
				return v
			}
			return ""
		}
	}
	if got := ChooseDSN("", env("")); got != DefaultDSN {
		t.Errorf("nothing set: %q", got)
	}
	if got := ChooseDSN("x.db", env("")); got != "x.db" {
		t.Errorf("configured: %q", got)
	}
	if got := ChooseDSN("x.db", env("postgres://db/d")); got != "postgres://db/d" {
		t.Errorf("DRACON_STORE set: %q", got)
	}
}

func TestParseStatus(t *testing.T) {
	for in, want := range map[string]Status{"false-positive": StatusFalsePositive, "Accepted Risk": StatusAcceptedRisk, "open": StatusOpen} {
		if got, err := ParseStatus(in); err != nil || got != want {
			t.Errorf("ParseStatus(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseStatus("wontfix"); err == nil {
		t.Error("ParseStatus(wontfix): no error")
	}
}
