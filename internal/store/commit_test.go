package store

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

const (
	commitX = "1111111111111111111111111111111111111111" // the release
	commitY = "2222222222222222222222222222222222222222" // a later commit on main
)

func scanOf(id, repo, ref, commit string, h int) Scan {
	return Scan{ID: id, Repository: repo, Ref: ref, Commit: commit, Event: "push", Started: t0.Add(time.Duration(h) * time.Hour)}
}

func at(s Sighting, path string, start, end int) Sighting {
	s.Path, s.StartLine, s.EndLine = path, start, end
	return s
}

func byID(t *testing.T, cf *CommitFindings) map[string]CommitFinding {
	t.Helper()
	out := map[string]CommitFinding{}
	for i, f := range cf.Findings {
		if i > 0 && cf.Findings[i-1].ID >= f.ID {
			t.Errorf("findings not in id order: %s then %s", cf.Findings[i-1].ID, f.ID)
		}
		out[f.ID] = f
	}
	return out
}

func scanIDs(ss []Scan) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.ID)
	}
	return out
}

func TestAtCommit(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := open(t, dsn)
		const repo, main = "acme/app", "refs/heads/main"

		if _, err := s.AtCommit(ctx, repo, commitX); !errors.Is(err, ErrNotFound) {
			t.Errorf("empty store: %v, want ErrNotFound", err)
		}
		if _, err := s.AtCommit(ctx, repo, " "); err == nil || errors.Is(err, ErrNotFound) {
			t.Errorf("no commit: %v, want an error other than ErrNotFound", err)
		}

		a := sight("gosec", "a.go", "code/v1=a", "hash/v0=ha")
		b := sight("gosec", "b.go", "code/v1=b")
		c := sight("semgrep", "c.go", "code/v1=c")
		d := sight("gosec", "d.go", "code/v1=d")

		// Two scans of the release commit: gosec's, then a re-run with
		// semgrep too that sees b at other lines and c, not a.
		x1 := observe(t, s, scanOf("x1", repo, main, commitX, 0), at(a, "a.go", 10, 12), at(b, "b.go", 5, 5), at(d, "d.go", 1, 1))
		x2 := observe(t, s, scanOf("x2", repo, "refs/tags/v1.0.0", commitX, 1), at(b, "b.go", 7, 8), at(c, "c.go", 3, 3), at(d, "d.go", 1, 1))
		idA, idB, idC, idD := x1[0].ID, x1[1].ID, x2[1].ID, x1[2].ID
		if x2[0].ID != idB || x2[2].ID != idD {
			t.Fatalf("b or d not matched across the scans: %+v", x2)
		}

		// After the release: a is triaged, the next commit moves d and no
		// longer has b (fixed by a scan of another commit).
		if _, err := s.SetStatus(ctx, idA, StatusAcceptedRisk, "alice", "behind the VPN"); err != nil {
			t.Fatal(err)
		}
		observe(t, s, scanOf("y1", repo, main, commitY, 2), at(a, "a.go", 20, 22), at(c, "c.go", 3, 3), at(d, "moved/d.go", 9, 9))
		fixed, err := s.MarkFixed(ctx, scanOf("y1", repo, main, commitY, 2), Scope{Repository: repo})
		if err != nil {
			t.Fatal(err)
		}
		if len(fixed) != 1 || fixed[0].ID != idB {
			t.Fatalf("fixed by y1 = %+v, want b", fixed)
		}

		// Another repository has a commit with the same SHA (a fork) and a
		// finding with the same signature.
		observe(t, s, scanOf("fork1", "someone/app", main, commitX, 3), at(a, "a.go", 10, 12))
		if _, err := s.AtCommit(ctx, "acme/other", commitX); !errors.Is(err, ErrNotFound) {
			t.Errorf("another repository: %v, want ErrNotFound", err)
		}
		if _, err := s.AtCommit(ctx, repo, "3333333333333333333333333333333333333333"); !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown commit: %v, want ErrNotFound", err)
		}

		got, err := s.AtCommit(ctx, repo, commitX)
		if err != nil {
			t.Fatal(err)
		}
		if ids := scanIDs(got.Scans); !slices.Equal(ids, []string{"x2", "x1"}) {
			t.Errorf("scans = %v, want x2, x1 (newest first)", ids)
		}
		if sc := got.Scans[0]; sc.Repository != repo || sc.Ref != "refs/tags/v1.0.0" || sc.Commit != commitX || !sc.Started.Equal(t0.Add(time.Hour)) {
			t.Errorf("scan x2 = %+v", sc)
		}
		fs := byID(t, got)
		if len(fs) != 4 {
			t.Fatalf("findings = %+v, want a, b, c and d (the union of x1 and x2)", got.Findings)
		}

		// a: triaged after the scan, returned with its status as now; where
		// it was at the release, not where y1 saw it last.
		fa := fs[idA]
		if fa.Status != StatusAcceptedRisk || fa.CommitStatus != StatusAcceptedRisk || fa.Open() || fa.StatusBy != "alice" || fa.StatusReason != "behind the VPN" {
			t.Errorf("a's status = %s/%s by %q (%q)", fa.Status, fa.CommitStatus, fa.StatusBy, fa.StatusReason)
		}
		if fa.ScanID != "x1" || fa.Path != "a.go" || fa.StartLine != 10 || fa.EndLine != 12 {
			t.Errorf("a's occurrence = %s %s:%d-%d, want x1 a.go:10-12", fa.ScanID, fa.Path, fa.StartLine, fa.EndLine)
		}
		if fa.TimesSeen != 2 || fa.FirstScan != "x1" || fa.LastScan != "y1" || !fa.FirstSeen.Equal(t0) || !fa.LastSeen.Equal(t0.Add(2*time.Hour)) {
			t.Errorf("a's history = seen %d times, %s..%s, %v..%v", fa.TimesSeen, fa.FirstScan, fa.LastScan, fa.FirstSeen, fa.LastSeen)
		}
		if fa.Repository != repo || fa.Tool != "gosec" || !slices.Equal(fa.Tools, []string{"gosec"}) || fa.Rule != "R1" || fa.Severity != "HIGH" {
			t.Errorf("a = %+v", fa.Finding)
		}
		if !slices.Equal(fa.Signatures, []Signature{{"code/v1", "a"}, {"hash/v0", "ha"}}) {
			t.Errorf("a's signatures = %v", fa.Signatures)
		}

		// b: fixed since by a scan of the next commit, so still open at the
		// release; its occurrence is the newest scan's (x2).
		fb := fs[idB]
		if fb.Status != StatusFixed || fb.FixedScan != "y1" || fb.CommitStatus != StatusOpen || !fb.Open() {
			t.Errorf("b = %s (fixed by %q), at the commit %s", fb.Status, fb.FixedScan, fb.CommitStatus)
		}
		if fb.ScanID != "x2" || fb.Path != "b.go" || fb.StartLine != 7 || fb.EndLine != 8 {
			t.Errorf("b's occurrence = %s %s:%d-%d, want x2 b.go:7-8", fb.ScanID, fb.Path, fb.StartLine, fb.EndLine)
		}
		if !slices.Equal(fb.Signatures, []Signature{{"code/v1", "b"}}) {
			t.Errorf("b's signatures = %v", fb.Signatures)
		}

		// c: only the second scan saw it; open.
		fc := fs[idC]
		if fc.Status != StatusOpen || !fc.Open() || fc.ScanID != "x2" || fc.Path != "c.go" || fc.Tool != "semgrep" || fc.TimesSeen != 2 {
			t.Errorf("c = %+v", fc)
		}

		// d: moved since; Path is where it was at the commit, the
		// Finding's where it was last seen.
		fd := fs[idD]
		if fd.Path != "d.go" || fd.Finding.Path != "moved/d.go" || fd.ScanID != "x2" || fd.TimesSeen != 3 {
			t.Errorf("d at %s (last seen at %s) in %s, seen %d times", fd.Path, fd.Finding.Path, fd.ScanID, fd.TimesSeen)
		}

		// The fork's scan of the same SHA stays in its repository.
		fork, err := s.AtCommit(ctx, "someone/app", commitX)
		if err != nil {
			t.Fatal(err)
		}
		if ids := scanIDs(fork.Scans); !slices.Equal(ids, []string{"fork1"}) || len(fork.Findings) != 1 ||
			fork.Findings[0].ID == idA || fork.Findings[0].Repository != "someone/app" {
			t.Errorf("fork = scans %v, findings %+v", ids, fork.Findings)
		}

		// A later scan of the release commit itself that no longer sees c
		// (semgrep ran, c is gone) fixes it at the commit too.
		observe(t, s, scanOf("x3", repo, main, commitX, 4), at(a, "a.go", 10, 12), at(d, "d.go", 1, 1))
		if _, err := s.MarkFixed(ctx, scanOf("x3", repo, main, commitX, 4), Scope{Repository: repo, Tools: []string{"semgrep"}}); err != nil {
			t.Fatal(err)
		}
		got, err = s.AtCommit(ctx, repo, commitX)
		if err != nil {
			t.Fatal(err)
		}
		fs = byID(t, got)
		if ids := scanIDs(got.Scans); !slices.Equal(ids, []string{"x3", "x2", "x1"}) || len(fs) != 4 {
			t.Fatalf("after x3: scans %v, %d findings", ids, len(fs))
		}
		if fc := fs[idC]; fc.Status != StatusFixed || fc.FixedScan != "x3" || fc.CommitStatus != StatusFixed || fc.Open() {
			t.Errorf("c fixed by a scan of the commit itself = %s (by %q), at the commit %s", fc.Status, fc.FixedScan, fc.CommitStatus)
		}
		if fa := fs[idA]; fa.ScanID != "x3" {
			t.Errorf("a's occurrence from %s, want the newest scan x3", fa.ScanID)
		}
	})
}

// A scan of the commit that found nothing is a clean commit, not an
// unknown one; so is a local run's (no repository).
func TestAtCommitCleanAndLocal(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := open(t, dsn)
		if _, err := s.Observe(ctx, scanOf("clean", "acme/app", "refs/heads/main", commitX, 0), nil); err != nil {
			t.Fatal(err)
		}
		got, err := s.AtCommit(ctx, "acme/app", commitX)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Scans) != 1 || got.Scans[0].ID != "clean" || len(got.Findings) != 0 {
			t.Errorf("clean commit = %+v", got)
		}

		local := observe(t, s, scanOf("local", "", "", commitY, 1), sight("gosec", "a.go", "code/v1=a"))
		got, err = s.AtCommit(ctx, "", commitY)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Findings) != 1 || got.Findings[0].ID != local[0].ID || !got.Findings[0].Open() {
			t.Errorf("local run = %+v", got)
		}
		if _, err := s.AtCommit(ctx, "acme/app", commitY); !errors.Is(err, ErrNotFound) {
			t.Errorf("a local run's commit asked of a repository: %v, want ErrNotFound", err)
		}
	})
}
