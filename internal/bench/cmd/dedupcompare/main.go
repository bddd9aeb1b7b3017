// Command dedupcompare times Dracon's own deduplication enricher
// (github.com/ocurity/dracon, components/enrichers/deduplication, built
// separately: nothing of Dracon is in this repository) against
// `dracon enrich --store postgres://...` on the same findings and the same
// PostgreSQL server, side by side, and prints the medians and their ratio:
//
//	go run ./internal/bench/cmd/dedupcompare -enricher /tmp/dedup \
//	    -migrations /tmp/ocurity-dracon/pkg/enrichment/migrations
//
// The findings are a gosec report of -n issues (internal/bench/synth, the
// same the parser benchmarks use) parsed by `dracon parse` into a
// LaunchToolResponse. Dracon's enricher reads it as <read_path>/gosec.tagged.pb
// (putil.LoadTaggedToolResponse walks read_path for *.tagged.pb) and keeps
// its table `issues` (created here from its pkg/enrichment/migrations);
// ours keeps its findings store in another database of the server. Every
// run is a new scan (a new scan UUID and start time in the .pb). Two modes:
//
//   - empty: the table / the store holds nothing (emptied, untimed, before
//     each run);
//   - steady: both already hold these findings from one earlier run.
//
// Runs alternate between the two programs so both see the same machine
// load. Wall time is each process's; CPU is the child process's own (user +
// system), not the server's.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/draconsec/dracon/internal/bench/synth"
	"github.com/draconsec/dracon/internal/store"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

func main() {
	enricher := flag.String("enricher", os.Getenv("DRACON_DEDUP_BIN"), "Dracon's built deduplication enricher (default $DRACON_DEDUP_BIN)")
	migrations := flag.String("migrations", os.Getenv("DRACON_DEDUP_MIGRATIONS"), "Dracon's pkg/enrichment/migrations folder (default $DRACON_DEDUP_MIGRATIONS)")
	ours := flag.String("dracon", "", "our dracon binary (default: built from ./cmd/dracon)")
	server := flag.String("pg", envOr("DRACON_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"), "PostgreSQL server to create the two databases on")
	n := flag.Int("n", 10_000, "findings")
	runs := flag.Int("runs", 5, "timed runs per program and mode")
	flag.Parse()
	if *enricher == "" || *migrations == "" {
		fmt.Fprintln(os.Stderr, "dedupcompare: skipped: give -enricher (Dracon's built components/enrichers/deduplication) and -migrations (its pkg/enrichment/migrations)")
		os.Exit(0)
	}
	if err := run(context.Background(), *enricher, *migrations, *ours, *server, *n, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "dedupcompare:", err)
		os.Exit(1)
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

type sample struct{ wall, cpu time.Duration }

func run(ctx context.Context, enricher, migrations, ours, server string, n, runs int) error {
	work, err := os.MkdirTemp("", "dedupcompare")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	if ours == "" {
		ours = filepath.Join(work, "dracon")
		if out, err := exec.Command("go", "build", "-o", ours, "./cmd/dracon").CombinedOutput(); err != nil {
			return fmt.Errorf("building dracon: %v\n%s", err, out)
		}
	}

	// The findings: a gosec report, parsed.
	report := filepath.Join(work, "gosec.json")
	if err := os.WriteFile(report, synth.Gosec(n), 0o644); err != nil {
		return err
	}
	parsed := filepath.Join(work, "parsed.pb")
	if out, err := exec.Command(ours, "parse", "--tool", "gosec", report, "--out", parsed).CombinedOutput(); err != nil {
		return fmt.Errorf("dracon parse: %v\n%s", err, out)
	}
	raw, err := os.ReadFile(parsed)
	if err != nil {
		return err
	}
	var launch v1.LaunchToolResponse
	if err := proto.Unmarshal(raw, &launch); err != nil {
		return err
	}
	if len(launch.Issues) != n {
		return fmt.Errorf("parsed %d issues, want %d", len(launch.Issues), n)
	}

	// Two databases on the server.
	admin, err := pgx.Connect(ctx, server)
	if err != nil {
		return fmt.Errorf("PostgreSQL at %s: %w", server, err)
	}
	defer admin.Close(ctx)
	suffix := fmt.Sprintf("%d", os.Getpid())
	dbs := map[string]string{}
	for _, name := range []string{"dracon", "ours"} {
		db := "dedupcmp_" + name + "_" + suffix
		if _, err := admin.Exec(ctx, "CREATE DATABASE "+db); err != nil {
			return err
		}
		defer admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)") //nolint:errcheck // cleanup
		cfg, err := pgx.ParseConfig(server)
		if err != nil {
			return err
		}
		dsn := fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", cfg.User, cfg.Host, cfg.Port, db)
		if cfg.Password != "" {
			dsn = fmt.Sprintf("postgres://%s:%s@%s:%d/%s?sslmode=disable", cfg.User, cfg.Password, cfg.Host, cfg.Port, db)
		}
		dbs[name] = dsn
	}
	ups, err := filepath.Glob(filepath.Join(migrations, "*.up.sql"))
	if err != nil || len(ups) == 0 {
		return fmt.Errorf("no *.up.sql in %s", migrations)
	}
	sort.Strings(ups)
	dc, err := pgx.Connect(ctx, dbs["dracon"])
	if err != nil {
		return err
	}
	defer dc.Close(ctx)
	for _, f := range ups {
		q, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		if _, err := dc.Exec(ctx, string(q)); err != nil {
			return fmt.Errorf("%s: %w", filepath.Base(f), err)
		}
	}
	emptyOurs := func() error { // an empty store at the newest schema
		if err := store.Migrate(ctx, dbs["ours"], 0); err != nil {
			return err
		}
		return store.Migrate(ctx, dbs["ours"], -1)
	}
	if err := emptyOurs(); err != nil {
		return err
	}
	source := filepath.Join(work, "source") // no CODEOWNERS, no ignore file
	if err := os.MkdirAll(source, 0o755); err != nil {
		return err
	}

	// One run of each: a fresh scan of the same findings.
	seq := 0
	runDracon := func() (sample, error) {
		seq++
		dir := filepath.Join(work, fmt.Sprintf("d%d", seq))
		in, out := filepath.Join(dir, "in"), filepath.Join(dir, "out")
		if err := writeScan(&launch, filepath.Join(in, "gosec.tagged.pb")); err != nil {
			return sample{}, err
		}
		if err := os.MkdirAll(out, 0o755); err != nil {
			return sample{}, err
		}
		cmd := exec.Command(enricher, "-read_path", in, "-write_path", out, "-db_connection", dbs["dracon"])
		s, err := timed(cmd)
		if err != nil {
			return s, fmt.Errorf("Dracon's enricher: %w", err)
		}
		if err := checkEnriched(filepath.Join(out, "gosec.deduplication.enriched.pb"), n); err != nil {
			return s, err
		}
		return s, os.RemoveAll(dir)
	}
	runOurs := func() (sample, error) {
		seq++
		dir := filepath.Join(work, fmt.Sprintf("o%d", seq))
		pb := filepath.Join(dir, "gosec.pb")
		if err := writeScan(&launch, pb); err != nil {
			return sample{}, err
		}
		cmd := exec.Command(ours, "enrich", "--store", dbs["ours"], "--source", source, "--out-dir", dir, pb)
		cmd.Env = append(os.Environ(), "DRACON_STORE=")
		s, err := timed(cmd)
		if err != nil {
			return s, fmt.Errorf("dracon enrich: %w", err)
		}
		if err := checkEnriched(filepath.Join(dir, "gosec.enriched.pb"), n); err != nil {
			return s, err
		}
		return s, os.RemoveAll(dir)
	}

	results := map[string][2][]sample{}
	for _, mode := range []string{"empty", "steady"} {
		if mode == "steady" { // one earlier run each
			if _, err := dc.Exec(ctx, "TRUNCATE issues"); err != nil {
				return err
			}
			if err := emptyOurs(); err != nil {
				return err
			}
			if _, err := runDracon(); err != nil {
				return err
			}
			if _, err := runOurs(); err != nil {
				return err
			}
		}
		var d, o []sample
		for i := 0; i < runs; i++ {
			if mode == "empty" {
				if _, err := dc.Exec(ctx, "TRUNCATE issues"); err != nil {
					return err
				}
				if err := emptyOurs(); err != nil {
					return err
				}
			}
			sd, err := runDracon()
			if err != nil {
				return err
			}
			so, err := runOurs()
			if err != nil {
				return err
			}
			d, o = append(d, sd), append(o, so)
			fmt.Fprintf(os.Stderr, "%s run %d: Dracon %.2f s wall (%.2f CPU-s), dracon enrich %.2f s wall (%.2f CPU-s)\n",
				mode, i+1, sd.wall.Seconds(), sd.cpu.Seconds(), so.wall.Seconds(), so.cpu.Seconds())
		}
		results[mode] = [2][]sample{d, o}
	}
	var rows int64
	if err := dc.QueryRow(ctx, "SELECT count(*) FROM issues").Scan(&rows); err != nil {
		return err
	}
	if rows != int64(n) {
		return fmt.Errorf("Dracon's table holds %d issues, want %d", rows, n)
	}

	fmt.Printf("%d findings (gosec), PostgreSQL %s, median of %d runs\n\n", n, strings.SplitN(strings.TrimPrefix(server, "postgres://"), "/", 2)[0], runs)
	fmt.Println("| store holds | Dracon's deduplication enricher | dracon enrich --store postgres:// | ratio of the medians | median ratio of paired runs |")
	fmt.Println("|---|---|---|---|---|")
	for _, mode := range []string{"empty", "steady"} {
		r := results[mode]
		dw, dcpu := median(r[0])
		ow, ocpu := median(r[1])
		what := "nothing"
		if mode == "steady" {
			what = "these findings (one earlier run)"
		}
		ratios := make([]float64, len(r[0]))
		for i := range r[0] {
			ratios[i] = r[0][i].wall.Seconds() / r[1][i].wall.Seconds()
		}
		sort.Float64s(ratios)
		fmt.Printf("| %s | %.2f s (%.2f CPU-s) | %.2f s (%.2f CPU-s) | %.1fx | %.1fx |\n", what, dw.Seconds(), dcpu.Seconds(), ow.Seconds(), ocpu.Seconds(),
			dw.Seconds()/ow.Seconds(), ratios[len(ratios)/2])
	}
	return nil
}

// writeScan writes launch as a new scan: a new scan UUID, started now.
func writeScan(launch *v1.LaunchToolResponse, path string) error {
	l := proto.Clone(launch).(*v1.LaunchToolResponse)
	if l.ScanInfo == nil {
		l.ScanInfo = &v1.ScanInfo{}
	}
	l.ScanInfo.ScanUuid = uuid.NewString()
	l.ScanInfo.ScanStartTime = timestamppb.Now()
	b, err := proto.Marshal(l)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

func timed(cmd *exec.Cmd) (sample, error) {
	var errs strings.Builder
	cmd.Stderr = &tail{b: &errs}
	began := time.Now()
	err := cmd.Run()
	s := sample{wall: time.Since(began)}
	if cmd.ProcessState != nil {
		s.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	if err != nil {
		return s, fmt.Errorf("%v\n%s", err, errs.String())
	}
	return s, nil
}

// tail keeps the last 4 KiB a process writes (Dracon's enricher logs a
// line per issue).
type tail struct{ b *strings.Builder }

func (t *tail) Write(p []byte) (int, error) {
	s := t.b.String() + string(p)
	if len(s) > 4096 {
		s = s[len(s)-4096:]
	}
	t.b.Reset()
	t.b.WriteString(s)
	return len(p), nil
}

func checkEnriched(path string, n int) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var r v1.EnrichedLaunchToolResponse
	if err := proto.Unmarshal(raw, &r); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if len(r.Issues) != n {
		return fmt.Errorf("%s: %d enriched issues, want %d", path, len(r.Issues), n)
	}
	return nil
}

func median(s []sample) (wall, cpu time.Duration) {
	w := make([]time.Duration, len(s))
	c := make([]time.Duration, len(s))
	for i, x := range s {
		w[i], c[i] = x.wall, x.cpu
	}
	sort.Slice(w, func(i, j int) bool { return w[i] < w[j] })
	sort.Slice(c, func(i, j int) bool { return c[i] < c[j] })
	return w[len(w)/2], c[len(c)/2]
}
