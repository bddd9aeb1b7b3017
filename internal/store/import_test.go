package store

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"
)

func imported(hash string, first, last time.Time, times uint64) Imported {
	return Imported{
		Repository: "acme/app", Signatures: []Signature{{"legacy/dracon", hash}},
		Tool: "dracon", Rule: "G401", Path: "main.go", Severity: "SEVERITY_MEDIUM", Title: "weak hash",
		FirstSeen: first, LastSeen: last, TimesSeen: times,
		StatusBy: "dracon-import", StatusReason: "imported", Origin: "dracon-import",
	}
}

// TestImport: findings with a history from elsewhere are written as they
// were, once however often they are imported, and the next scan that
// reports them (by the same signature, among better ones) continues
// their history.
func TestImport(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := open(t, dsn)
		first, last := t0.Add(-72*time.Hour), t0.Add(-24*time.Hour)
		a := imported("aaaa", first, last, 7)
		fp := imported("bbbb", first, last, 2)
		fp.Status, fp.StatusBy, fp.StatusReason = StatusFalsePositive, "dracon-import", "false_positive in the Dracon database"
		other := imported("cccc", time.Time{}, last, 1)
		other.Repository = "acme/other"

		// A dry run writes nothing.
		n, e, err := DryRunImport(ctx, s, []Imported{a, fp, other})
		if err != nil || n != 3 || e != 0 {
			t.Fatalf("dry run: %d created, %d existing, %v", n, e, err)
		}
		if got, err := s.List(ctx, Filter{}); err != nil || len(got) != 0 {
			t.Fatalf("after a dry run the store has %d findings (%v)", len(got), err)
		}

		n, e, err = s.Import(ctx, []Imported{a, fp, other, a})
		if err != nil || n != 3 || e != 1 {
			t.Fatalf("import: %d created, %d existing, %v; want 3, 1 (a listed twice)", n, e, err)
		}
		n, e, err = s.Import(ctx, []Imported{a, fp, other})
		if err != nil || n != 0 || e != 3 {
			t.Fatalf("import again: %d created, %d existing, %v; want 0, 3", n, e, err)
		}
		if n, e, _ := DryRunImport(ctx, s, []Imported{a, fp}); n != 0 || e != 2 {
			t.Errorf("dry run of what is there: %d created, %d existing", n, e)
		}

		all, err := s.List(ctx, Filter{Repository: "acme/app"})
		if err != nil || len(all) != 2 {
			t.Fatalf("list = %+v, %v", all, err)
		}
		byStatus := map[Status]Finding{}
		for _, f := range all {
			byStatus[f.Status] = f
		}
		fa, ffp := byStatus[StatusOpen], byStatus[StatusFalsePositive]
		if fa.ID == "" || !fa.FirstSeen.Equal(first) || !fa.LastSeen.Equal(last) || fa.TimesSeen != 7 || fa.Tool != "dracon" ||
			!slices.Equal(fa.Tools, []string{"dracon"}) || fa.Rule != "G401" || fa.Path != "main.go" || fa.Severity != "SEVERITY_MEDIUM" ||
			fa.Title != "weak hash" || fa.FirstScan != "dracon-import" || fa.LastScan != "dracon-import" || fa.StatusBy != "dracon-import" {
			t.Errorf("imported open finding = %+v", fa)
		}
		if ffp.ID == "" || ffp.StatusBy != "dracon-import" || ffp.StatusReason != "false_positive in the Dracon database" || !ffp.StatusAt.Equal(last) {
			t.Errorf("imported false positive = %+v", ffp)
		}
		d, err := s.Get(ctx, ffp.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(d.Signatures, []Signature{{"legacy/dracon", "bbbb"}}) || len(d.History) != 1 ||
			d.History[0].To != StatusFalsePositive || d.History[0].From != "" || d.History[0].By != "dracon-import" || len(d.Occurrences) != 0 {
			t.Errorf("detail = %+v", d)
		}
		o, err := s.List(ctx, Filter{Repository: "acme/other"})
		if err != nil || len(o) != 1 || !o[0].FirstSeen.Equal(last) {
			t.Errorf("a finding without first_seen = %+v (%v)", o, err)
		}

		// The next scan reports both with its better signatures first.
		scan := scanAt("s1", 0)
		recs := observe(t, s, scan,
			sight("gosec", "main.go", "code/v1=x", "hash/v0=y", "legacy/dracon=aaaa"),
			sight("gosec", "main.go", "code/v1=z", "legacy/dracon=bbbb"))
		if recs[0].ID != fa.ID || recs[0].New || recs[0].TimesSeen != 8 || !recs[0].FirstSeen.Equal(first) || !recs[0].LastSeen.Equal(scan.Started) ||
			recs[0].Status != StatusOpen || recs[0].FirstScan != "dracon-import" || recs[0].LastScan != "s1" {
			t.Errorf("imported finding seen again = %+v", recs[0])
		}
		if recs[1].ID != ffp.ID || recs[1].TimesSeen != 3 || recs[1].Status != StatusFalsePositive || recs[1].StatusBy != "dracon-import" {
			t.Errorf("imported false positive seen again = %+v", recs[1])
		}
		// It gained the scan's signatures, so a later scan matches it on
		// code/v1 alone.
		recs = observe(t, s, scanAt("s2", 1), sight("gosec", "main.go", "code/v1=x"))
		if recs[0].ID != fa.ID || recs[0].TimesSeen != 9 {
			t.Errorf("by code/v1 = %+v", recs[0])
		}
		// Importing after the scans changes nothing.
		if n, e, err := s.Import(ctx, []Imported{a, fp}); err != nil || n != 0 || e != 2 {
			t.Errorf("import after the scans: %d created, %d existing, %v", n, e, err)
		}
		if f, _ := s.Get(ctx, fa.ID); f.TimesSeen != 9 {
			t.Errorf("times seen after importing again = %d", f.TimesSeen)
		}
	})
}

// TestImportBatches: thousands of findings, in one call, over several
// statements; a second import finds them all; bad input is refused whole.
func TestImportBatches(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := open(t, dsn)
		var in []Imported
		for i := range 2500 {
			im := imported(fmt.Sprintf("h%05d", i), t0, t0, uint64(i+1))
			im.Signatures = append(im.Signatures, Signature{"hash/v0", fmt.Sprintf("v0-%05d", i)})
			if i%10 == 0 {
				im.Status, im.StatusReason = StatusFalsePositive, "fp"
			}
			in = append(in, im)
		}
		n, e, err := s.Import(ctx, in)
		if err != nil || n != 2500 || e != 0 {
			t.Fatalf("import: %d, %d, %v", n, e, err)
		}
		if n, e, err := s.Import(ctx, in); err != nil || n != 0 || e != 2500 {
			t.Fatalf("again: %d, %d, %v", n, e, err)
		}
		fps, err := s.List(ctx, Filter{Status: []Status{StatusFalsePositive}})
		if err != nil || len(fps) != 250 {
			t.Errorf("%d false positives (%v)", len(fps), err)
		}
		d, err := s.Get(ctx, fps[0].ID)
		if err != nil || len(d.Signatures) != 2 {
			t.Errorf("signatures = %+v (%v)", d, err)
		}
		bad := append([]Imported{imported("new-one", t0, t0, 1)}, Imported{Signatures: []Signature{{"legacy/dracon", "x"}}})
		if _, _, err := s.Import(ctx, bad); err == nil {
			t.Error("an imported finding without a tool was accepted")
		}
		if got, _ := s.List(ctx, Filter{}); len(got) != 2500 {
			t.Errorf("a refused import wrote: %d findings", len(got))
		}
	})
}
