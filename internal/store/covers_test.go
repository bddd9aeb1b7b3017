package store

import (
	"bytes"
	"context"
	"testing"
)

func TestSetDigest(t *testing.T) {
	a, b, c := Signature{"code/v1", "a"}, Signature{"hash/v0", "b"}, Signature{"legacy/dracon", "c"}
	base := setDigest([]Signature{a, b, c})
	if len(base) != 16 {
		t.Fatalf("digest of %d bytes, want 16", len(base))
	}
	for name, sigs := range map[string][]Signature{
		"another order": {c, a, b},
		"a repeat":      {a, b, b, c, a},
	} {
		if got := setDigest(sigs); !bytes.Equal(got, base) {
			t.Errorf("%s: %x, want %x", name, got, base)
		}
	}
	for name, sigs := range map[string][]Signature{
		"one fewer":          {a, b},
		"one more":           {a, b, c, {"dep/v1", "d"}},
		"a value changed":    {a, b, {"legacy/dracon", "C"}},
		"parts moved across": {a, b, {"legacy/draconc", ""}},
	} {
		if got := setDigest(sigs); bytes.Equal(got, base) {
			t.Errorf("%s: the same digest as the original set", name)
		}
	}
}

// coreOf is the shared code of a store, to reach its backend.
func coreOf(t *testing.T, s Store) *core {
	t.Helper()
	switch s := s.(type) {
	case *SQLite:
		return &s.core
	case *Postgres:
		return &s.core
	}
	t.Fatalf("store %T", s)
	return nil
}

// countingBackend counts the findings missingFrom is asked about.
type countingBackend struct {
	backendI
	checks *int
}

func (b countingBackend) beginWrite(ctx context.Context) (writeTx, error) {
	tx, err := b.backendI.beginWrite(ctx)
	return countingTx{tx, b.checks}, err
}

type countingTx struct {
	writeTx
	checks *int
}

func (t countingTx) missingFrom(ctx context.Context, repo string, checks []sigCheck) ([]bool, error) {
	*t.checks += len(checks)
	return t.writeTx.missingFrom(ctx, repo, checks)
}

func countChecks(t *testing.T, s Store) *int {
	c := coreOf(t, s)
	n := new(int)
	c.b = countingBackend{c.b, n}
	return n
}

// coversOf is the covers digest of a signature's row.
func coversOf(t *testing.T, s Store, sg Signature) []byte {
	t.Helper()
	rows, err := coreOf(t, s).b.reader().query(context.Background(),
		`SELECT covers FROM signatures WHERE repository = ? AND algorithm = ? AND value = ?`, "acme/app", sg.Algorithm, sg.Value)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if !rows.Next() {
		t.Fatalf("no row for %s", sg)
	}
	var b []byte
	if err := rows.Scan(&b); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRescanTrustsTheCoveredSet(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		s := open(t, dsn)
		checks := countChecks(t, s)
		x := sight("gosec", "a.go", "code/v1=a", "hash/v0=b", "legacy/dracon=c")
		lone := sight("gosec", "b.go", "code/v1=z")
		first := observe(t, s, scanAt("1", 0), x, lone)
		want := setDigest(x.Signatures)
		if got := coversOf(t, s, x.Signatures[0]); !bytes.Equal(got, want) {
			t.Fatalf("a new finding's first signature covers %x, want %x", got, want)
		}
		for _, sg := range append(x.Signatures[1:], lone.Signatures...) {
			if got := coversOf(t, s, sg); got != nil {
				t.Errorf("%s covers %x, want nothing (only a first signature with others covers)", sg, got)
			}
		}

		// The same set again: nothing to check.
		again := observe(t, s, scanAt("2", 1), x, lone)
		if again[0].ID != first[0].ID || again[0].New || again[1].ID != first[1].ID {
			t.Fatalf("rescan: %+v, want the findings of the first scan", again)
		}
		if *checks != 0 {
			t.Errorf("rescan of a covered set asked missingFrom about %d findings, want 0", *checks)
		}

		// A store written before covers (or one cleared): the first rescan
		// checks and records the set, the next one trusts it.
		c := coreOf(t, s)
		if err := c.write(context.Background(), func(tx writeTx) error {
			_, err := tx.exec(context.Background(), `UPDATE signatures SET covers = NULL`)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		observe(t, s, scanAt("3", 2), x)
		if *checks != 1 {
			t.Errorf("rescan with no covers asked about %d findings, want 1", *checks)
		}
		if got := coversOf(t, s, x.Signatures[0]); !bytes.Equal(got, want) {
			t.Errorf("after the checked rescan, covers %x, want %x", got, want)
		}
		observe(t, s, scanAt("4", 3), x)
		if *checks != 1 {
			t.Errorf("the rescan after asked about %d more findings, want none", *checks-1)
		}
	})
}

// A sighting that brings another finding's signature beside its own is
// never recorded as covering it: the next scan checks again and the
// signature stays the other finding's.
func TestCoversNeverTakeAnotherFindingsSignature(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		s := open(t, dsn)
		f := sight("gosec", "a.go", "code/v1=a", "hash/v0=b")
		g := sight("gosec", "a.go", "code/v1=z", "legacy/dracon=c")
		got := observe(t, s, scanAt("1", 0), f, g)
		fid, gid := got[0].ID, got[1].ID
		mixed := sight("gosec", "a.go", "code/v1=a", "hash/v0=b", "legacy/dracon=c")
		checks := countChecks(t, s)
		for i, scan := range []string{"2", "3"} {
			recs := observe(t, s, scanAt(scan, i+1), mixed)
			if recs[0].ID != fid {
				t.Fatalf("scan %s: finding %s, want %s (its first signature's)", scan, recs[0].ID, fid)
			}
			if *checks != i+1 {
				t.Errorf("scan %s: %d checks in all, want %d: a set that is not all one finding's is never trusted", scan, *checks, i+1)
			}
		}
		if cov := coversOf(t, s, mixed.Signatures[0]); !bytes.Equal(cov, setDigest(f.Signatures)) {
			t.Errorf("covers %x, want the first scan's set %x", cov, setDigest(f.Signatures))
		}
		d, err := s.Get(context.Background(), gid)
		if err != nil {
			t.Fatal(err)
		}
		if !containsSig(d.Signatures, Signature{"legacy/dracon", "c"}) {
			t.Errorf("finding %s lost legacy/dracon=c: %v", gid, d.Signatures)
		}
	})
}

func containsSig(sigs []Signature, sg Signature) bool {
	for _, s := range sigs {
		if s == sg {
			return true
		}
	}
	return false
}
