package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The store benchmarks: one scan's Observe against a store that already
// holds a million findings (one signature and one occurrence each). The
// million rows are written by SQL inside the database (set-based, a few
// seconds), once per backend per benchmark process.

const (
	benchStored = 1_000_000
	benchRepo   = "acme/big"
)

var bigStores struct {
	sync.Mutex
	dsn  map[Backend]string
	dirs []string
}

// bigStore returns a store holding benchStored findings.
func bigStore(b *testing.B, kind Backend) string {
	bigStores.Lock()
	defer bigStores.Unlock()
	if dsn, ok := bigStores.dsn[kind]; ok {
		return dsn
	}
	var dsn, fill string
	switch kind {
	case BackendSQLite:
		dir, err := os.MkdirTemp("", "dracon-store-bench")
		if err != nil {
			b.Fatal(err)
		}
		bigStores.dirs = append(bigStores.dirs, dir)
		dsn = filepath.Join(dir, "findings.db")
		if seed := os.Getenv("DRACON_BENCH_SQLITE_SEED"); seed != "" {
			if data, err := os.ReadFile(seed); err == nil {
				if err := os.WriteFile(dsn, data, 0o644); err != nil {
					b.Fatal(err)
				}
				began := time.Now()
				s, err := Open(context.Background(), dsn) // migrates a seed an older binary wrote
				if err != nil {
					b.Fatal(err)
				}
				s.Close()
				b.Logf("%s: opened the seed %s in %v", kind, seed, time.Since(began).Round(time.Millisecond))
				if bigStores.dsn == nil {
					bigStores.dsn = map[Backend]string{}
				}
				bigStores.dsn[kind] = dsn
				return dsn
			}
		}
		fill = `
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ` + fmt.Sprint(benchStored-1) + `)
INSERT INTO findings (n, id, repository, tool, tools, rule, path, severity, title, status, status_at, first_seen, first_scan)
SELECT i + 1, printf('00000000-0000-7000-8000-%012x', i), '` + benchRepo + `', 'gosec', 'gosec', 'G' || (i % 100), printf('pkg%d/file%d.go', i % 1000, i),
	'HIGH', 'a finding', 'open', 1700000000000, 1700000000000, 'seed' FROM n;
INSERT INTO finding_seen (n, times_seen, last_seen, last_scan) SELECT n, 1, 1700000000000, 'seed' FROM findings;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ` + fmt.Sprint(benchStored-1) + `)
INSERT INTO signatures (repository, algorithm, value, finding_id)
SELECT '` + benchRepo + `', 'code/v1', printf('%064x', i), printf('00000000-0000-7000-8000-%012x', i) FROM n;
INSERT INTO occurrences (scan_id, finding_id, tool, path, start_line, end_line) SELECT 'seed', id, tool, path, 10, 12 FROM findings;
INSERT INTO scans (id, repository, ref, started) VALUES ('seed', '` + benchRepo + `', 'refs/heads/main', 1700000000000);
ANALYZE;`
	case BackendPostgres:
		dsn = postgresDSN(b)
		fill = `
INSERT INTO findings (id, repository, tool, tools, rule, path, severity, title, status, status_at, first_seen, last_seen, first_scan, last_scan, times_seen)
SELECT '00000000-0000-7000-8000-' || lpad(to_hex(i), 12, '0'), '` + benchRepo + `', 'gosec', 'gosec', 'G' || (i % 100), 'pkg' || (i % 1000) || '/file' || i || '.go',
	'HIGH', 'a finding', 'open', to_timestamp(1700000000), to_timestamp(1700000000), to_timestamp(1700000000), 'seed', 'seed', 1
FROM generate_series(0, ` + fmt.Sprint(benchStored-1) + `) AS i;
INSERT INTO signatures (repository, algorithm, value, finding_id)
SELECT '` + benchRepo + `', 'code/v1', lpad(to_hex(i), 64, '0'), '00000000-0000-7000-8000-' || lpad(to_hex(i), 12, '0')
FROM generate_series(0, ` + fmt.Sprint(benchStored-1) + `) AS i;
INSERT INTO occurrences (scan_id, finding_id, tool, path, start_line, end_line) SELECT 'seed', id, tool, path, 10, 12 FROM findings;
INSERT INTO scans (id, repository, ref, started) VALUES ('seed', '` + benchRepo + `', 'refs/heads/main', to_timestamp(1700000000));
ANALYZE;`
	}
	s, err := Open(context.Background(), dsn) // creates the schema
	if err != nil {
		b.Fatal(err)
	}
	s.Close()
	began := time.Now()
	rawExec(b, dsn, fill)
	if n := rawInt(b, dsn, `SELECT count(*) FROM signatures`); n != benchStored {
		b.Fatalf("store holds %d signatures, want %d", n, benchStored)
	}
	b.Logf("%s: wrote %d findings in %v", kind, benchStored, time.Since(began).Round(time.Millisecond))
	if seed := os.Getenv("DRACON_BENCH_SQLITE_SEED"); seed != "" && kind == BackendSQLite {
		rawExec(b, dsn, `PRAGMA wal_checkpoint(TRUNCATE)`)
		if data, err := os.ReadFile(dsn); err == nil {
			os.WriteFile(seed, data, 0o644) //nolint:errcheck // a cache
		}
	}
	if bigStores.dsn == nil {
		bigStores.dsn = map[Backend]string{}
	}
	bigStores.dsn[kind] = dsn
	return dsn
}

func removeBenchStores() {
	for _, d := range bigStores.dirs {
		os.RemoveAll(d)
	}
}

// benchSightings is one scan: n findings, 90% of them already in the big
// store (spread over it), 10% new to it (new in every iteration). A known
// finding comes back as a rescan reports it: its rule, path, severity and
// title as stored (they are what its code/v1 signature was made of).
func benchSightings(n, iter int) []Sighting {
	out := make([]Sighting, n)
	known := n * 9 / 10
	for i := range n {
		var v, rule, path string
		if i < known {
			j := (i * 9973) % benchStored
			v, rule, path = fmt.Sprintf("%064x", j), fmt.Sprintf("G%d", j%100), fmt.Sprintf("pkg%d/file%d.go", j%1000, j)
		} else {
			v = fmt.Sprintf("new-%d-%d-%d", time.Now().UnixNano(), iter, i)
			rule, path = fmt.Sprintf("G%d", i%100), fmt.Sprintf("pkg%d/new%d.go", i%1000, i)
		}
		out[i] = Sighting{
			Signatures: []Signature{{Algorithm: "code/v1", Value: v}},
			Tool:       "gosec", Rule: rule, Path: path,
			StartLine: 10, EndLine: 12, Severity: "HIGH", Title: "a finding",
		}
	}
	return out
}

// cpuSeconds is the CPU time this process and, for PostgreSQL on this
// machine, the server process serving the store's one connection have
// used: on a shared, loaded machine wall time mostly measures the
// neighbours.
func cpuSeconds(b *testing.B, backendPID int) float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	secs := float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
	if backendPID > 0 {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", backendPID))
		if err != nil {
			b.Fatalf("reading the PostgreSQL backend's CPU time: %v", err)
		}
		f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
		ut, _ := strconv.ParseFloat(f[11], 64) // utime, stime: fields 14 and 15, in clock ticks
		st, _ := strconv.ParseFloat(f[12], 64)
		secs += (ut + st) / 100
	}
	return secs
}

func benchObserve(b *testing.B, kind Backend, n int) {
	dsn := bigStore(b, kind)
	ctx := context.Background()
	if kind == BackendPostgres {
		dsn = withParam(dsn, "pool_max_conns", "1")
	}
	s, err := Open(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	pid := 0
	if p, ok := s.(*Postgres); ok {
		if err := p.pool.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
			b.Fatal(err)
		}
		if _, err := os.Stat(fmt.Sprintf("/proc/%d/stat", pid)); err != nil {
			pid = 0 // a server elsewhere: wall time only
		}
	}
	cpu := 0.0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		in := benchSightings(n, i)
		scan := Scan{ID: fmt.Sprintf("bench-%d-%d", time.Now().UnixNano(), i), Repository: benchRepo, Ref: "refs/heads/main", Started: time.Now()}
		c0 := cpuSeconds(b, pid)
		b.StartTimer()
		recs, err := s.Observe(ctx, scan, in)
		b.StopTimer()
		cpu += cpuSeconds(b, pid) - c0
		b.StartTimer()
		if err != nil {
			b.Fatal(err)
		}
		if len(recs) != n || recs[0].New || !recs[n-1].New {
			b.Fatalf("records: %d, first new %v, last new %v", len(recs), recs[0].New, recs[n-1].New)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "findings/s")
	b.ReportMetric(cpu/float64(b.N), "cpu-s/op")
}

// BenchmarkObserve100kInto1M: one scan of 100,000 findings against a store
// of 1,000,000. Targets: under 3 s on SQLite, under 5 s on PostgreSQL.
func BenchmarkObserve100kInto1M(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchObserve(b, BackendSQLite, 100_000) })
	b.Run("postgres", func(b *testing.B) { benchObserve(b, BackendPostgres, 100_000) })
}

// BenchmarkObserve10kInto1M: 10,000 findings (the size Dracon's own
// deduplication enricher takes about 8 s for on this machine's
// PostgreSQL).
func BenchmarkObserve10kInto1M(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchObserve(b, BackendSQLite, 10_000) })
	b.Run("postgres", func(b *testing.B) { benchObserve(b, BackendPostgres, 10_000) })
}

// rescanSightings is a scan as the whole-run benchmark (and a rescan of
// unchanged code) sends it: n findings, each with the four signatures the
// identity enricher gives a SARIF result (code/v1 first, then hash/v0 and
// Dracon's two), the same in every scan.
func rescanSightings(n int) []Sighting {
	out := make([]Sighting, n)
	for i := range n {
		path := fmt.Sprintf("pkg%d/file%d.go", i%1000, i)
		out[i] = Sighting{
			Signatures: []Signature{
				{Algorithm: "code/v1", Value: fmt.Sprintf("%064x", i)},
				{Algorithm: "hash/v0", Value: fmt.Sprintf("%064x", i*7+1)},
				{Algorithm: "legacy/dracon-loc/v1", Value: fmt.Sprintf("%s:%d", path, 10+i%50)},
				{Algorithm: "legacy/dracon", Value: fmt.Sprintf("%064x", i*13+5)},
			},
			Tool: "sarif", Rule: fmt.Sprintf("rule-%d", i%100), Path: path,
			StartLine: 10 + i%50, EndLine: 12 + i%50, Severity: "HIGH", Title: "a finding",
		}
	}
	return out
}

// benchRescan observes the same n findings (four signatures each) again,
// as a new scan, in a store that holds just them (the whole-run
// benchmark's store part).
func benchRescan(b *testing.B, kind Backend, n int) {
	ctx := context.Background()
	var dsn string
	if kind == BackendSQLite {
		dsn = filepath.Join(b.TempDir(), "findings.db")
	} else {
		dsn = withParam(postgresDSN(b), "pool_max_conns", "1")
	}
	s, err := Open(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	in := rescanSightings(n)
	if _, err := s.Observe(ctx, Scan{ID: "first", Repository: benchRepo, Ref: "refs/heads/main", Started: time.Now()}, in); err != nil {
		b.Fatal(err)
	}
	pid := 0
	if p, ok := s.(*Postgres); ok {
		if err := p.pool.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
			b.Fatal(err)
		}
		if _, err := os.Stat(fmt.Sprintf("/proc/%d/stat", pid)); err != nil {
			pid = 0
		}
	}
	cpu := 0.0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		scan := Scan{ID: fmt.Sprintf("rescan-%d-%d", time.Now().UnixNano(), i), Repository: benchRepo, Ref: "refs/heads/main", Started: time.Now()}
		b.StopTimer()
		c0 := cpuSeconds(b, pid)
		b.StartTimer()
		var recs []Record
		// go tool pprof -tagfocus=observe=again: the timed Observes only.
		pprof.Do(ctx, pprof.Labels("observe", "again"), func(ctx context.Context) { recs, err = s.Observe(ctx, scan, in) })
		b.StopTimer()
		cpu += cpuSeconds(b, pid) - c0
		b.StartTimer()
		if err != nil {
			b.Fatal(err)
		}
		if len(recs) != n || recs[0].New || recs[n-1].New || recs[0].TimesSeen != uint64(i+2) {
			b.Fatalf("records: %d, first new %v, last new %v, seen %d", len(recs), recs[0].New, recs[n-1].New, recs[0].TimesSeen)
		}
	}
	b.ReportMetric(cpu/float64(b.N), "cpu-s/op")
}

// BenchmarkObserveRescan100k: the store part of the whole run, 100,000
// findings with four signatures each, observed again.
func BenchmarkObserveRescan100k(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchRescan(b, BackendSQLite, 100_000) })
	b.Run("postgres", func(b *testing.B) { benchRescan(b, BackendPostgres, 100_000) })
}
