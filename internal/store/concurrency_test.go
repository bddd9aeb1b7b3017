package store

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// pipelineSightings is what pipeline p of n reports in one scan: 5,000
// findings, of which 1,000 every pipeline reports (with a second
// signature), 1,000 it shares with one neighbour, and 3,000 only it has.
func pipelineSightings(p, n int) []Sighting {
	out := make([]Sighting, 0, 5000)
	for i := range 1000 {
		s := sight("gosec", fmt.Sprintf("all/%d.go", i), fmt.Sprintf("code/v1=all-%d", i), fmt.Sprintf("hash/v0=all-%d", i))
		out = append(out, s)
	}
	for i := range 500 {
		out = append(out, sight("gosec", "ring.go", fmt.Sprintf("code/v1=ring-%d-%d", p, i)))
		out = append(out, sight("bandit", "ring.py", fmt.Sprintf("code/v1=ring-%d-%d", (p+1)%n, i)))
	}
	for i := range 3000 {
		out = append(out, sight("gosec", "own.go", fmt.Sprintf("code/v1=own-%d-%d", p, i)))
	}
	return out
}

// Pipelines each with their own connection write one store at once:
// nothing fails, nothing is lost, every count is exact.
func TestConcurrentPipelines(t *testing.T) {
	for _, tc := range []struct {
		name      string
		dsn       func(t *testing.T) string
		pipelines int
		rounds    int // scans per pipeline
	}{
		{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "findings.db") }, 8, 2},
		{"postgres", func(t *testing.T) string { return postgresDSN(t) }, 20, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			dsn, n, rounds := tc.dsn(t), tc.pipelines, tc.rounds
			start := make(chan struct{})
			errs := make(chan error, n)
			var wg sync.WaitGroup
			began := time.Now()
			for p := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					s, err := Open(ctx, dsn) // every pipeline migrates a fresh store at once, too
					if err != nil {
						errs <- fmt.Errorf("pipeline %d: open: %w", p, err)
						return
					}
					defer s.Close()
					in := pipelineSightings(p, n)
					for r := range rounds {
						scan := Scan{ID: fmt.Sprintf("p%d-r%d", p, r), Repository: "acme/mono", Ref: "refs/heads/main", Started: t0.Add(time.Duration(r) * time.Hour)}
						recs, err := s.Observe(ctx, scan, in)
						if err != nil {
							errs <- fmt.Errorf("pipeline %d round %d: %w", p, r, err)
							return
						}
						if len(recs) != len(in) {
							errs <- fmt.Errorf("pipeline %d: %d records", p, len(recs))
							return
						}
					}
				}()
			}
			close(start)
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			if t.Failed() {
				return
			}
			t.Logf("%d pipelines x %d scans x 5,000 findings in %v", n, rounds, time.Since(began).Round(time.Millisecond))

			s := open(t, dsn)
			all, err := s.List(ctx, Filter{Repository: "acme/mono"})
			if err != nil {
				t.Fatal(err)
			}
			if want := 1000 + n*500 + n*3000; len(all) != want {
				t.Errorf("%d findings, want %d", len(all), want)
			}
			bad := 0
			for _, f := range all {
				want := uint64(0)
				switch {
				case strings.HasPrefix(f.Path, "all/"):
					want = uint64(rounds * n)
				case strings.HasPrefix(f.Path, "ring"):
					want = uint64(2 * rounds)
				default:
					want = uint64(rounds)
				}
				if f.TimesSeen != want && bad < 5 {
					bad++
					t.Errorf("%s (%s): seen %d times, want %d", f.ID, f.Path, f.TimesSeen, want)
				}
				if strings.HasPrefix(f.Path, "ring") && len(f.Tools) != 2 && bad < 5 {
					bad++
					t.Errorf("%s: tools %v, want gosec and bandit", f.ID, f.Tools)
				}
			}
			if got := rawInt(t, dsn, `SELECT count(*) FROM signatures`); got != int64(len(all)+1000) {
				t.Errorf("%d signatures, want %d", got, len(all)+1000)
			}
			if got := rawInt(t, dsn, `SELECT count(*) FROM occurrences`); got != int64(n*rounds*5000) {
				t.Errorf("%d occurrences, want %d", got, n*rounds*5000)
			}
		})
	}
}
