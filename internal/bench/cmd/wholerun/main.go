// Command wholerun is the whole-run benchmark `make bench` ends with:
// `dracon run` importing a 100,000-result SARIF a second time (the store
// already holds every finding), through enrichment, the SARIF writer and
// summary.json, measured side by side with Python's json.load merely
// reading the same file.
//
//	go run ./internal/bench/cmd/wholerun [-n 100000] [-runs 5]
//
// It builds dracon from this tree, writes the report with
// internal/bench/synth, imports it once into a fresh SQLite store (not
// timed), then alternates runs of the two: each dracon run starts from a
// copy of that store, so every run is the same second import. It reports
// medians of wall and CPU time, the ratio of the medians, and the peak RSS
// of the dracon process (getrusage of the child). On a shared machine the
// ratio, measured side by side, is the figure; the absolute times move
// with the neighbours.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/draconsec/dracon/internal/bench/synth"
	"github.com/draconsec/dracon/internal/bench/wholerun"
)

// The targets: issue 8's.
const (
	maxRatio = 3.0
	maxRSS   = 1 << 30
)

type sample struct {
	wall, cpu time.Duration
	rss       int64 // bytes
}

func main() {
	n := flag.Int("n", 100_000, "results in the SARIF report")
	runs := flag.Int("runs", 5, "timed runs of each")
	keep := flag.Bool("keep", false, "keep the work folder (its path is printed)")
	python := flag.String("python", "python3", "Python interpreter")
	prebuilt := flag.String("dracon", "", "time this dracon binary instead of building one from the tree")
	against := flag.String("against", "", "another dracon binary (an earlier build) to time alongside, from its own copy of the store")
	flag.Parse()
	if err := run(*n, *runs, *keep, *python, *prebuilt, *against, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "wholerun:", err)
		os.Exit(1)
	}
}

func run(n, runs int, keep bool, python, prebuilt, against string, w io.Writer) error {
	dir, err := os.MkdirTemp("", "dracon-wholerun-")
	if err != nil {
		return err
	}
	if keep {
		fmt.Fprintln(os.Stderr, "wholerun: work folder", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	bin := prebuilt
	if bin == "" {
		bin = filepath.Join(dir, "dracon")
		build := exec.Command("go", "build", "-trimpath", "-o", bin, "./cmd/dracon")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("building dracon: %w", err)
		}
	}
	report := filepath.Join(dir, "results.sarif")
	data := synth.SARIF(n)
	if err := os.WriteFile(report, data, 0o644); err != nil {
		return err
	}
	size := len(data)
	data = nil
	cfg := filepath.Join(dir, "dracon.yaml")
	if err := os.WriteFile(cfg, []byte(wholerun.Config(report)), 0o644); err != nil {
		return err
	}
	for _, d := range []string{"src", "out"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	seed := filepath.Join(dir, "seed.db")
	store := filepath.Join(dir, "findings.db")
	draconRun := func(bin, db string) (sample, error) {
		defer os.RemoveAll(filepath.Join(dir, "runs"))
		cmd := exec.Command(bin, "run", "--config", cfg, "--source", "src", "--out", "out", "--run-dir", "runs")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "DRACON_STORE="+db)
		return measure(cmd)
	}
	fmt.Fprintf(os.Stderr, "wholerun: first import of %d results (%.0f MB) into the store\n", n, float64(size)/1e6)
	if _, err := draconRun(bin, seed); err != nil {
		return fmt.Errorf("first import: %w", err)
	}
	// An earlier build gets its own store: its schema may be older.
	otherSeed := filepath.Join(dir, "other-seed.db")
	if against != "" {
		if _, err := draconRun(against, otherSeed); err != nil {
			return fmt.Errorf("first import with %s: %w", against, err)
		}
	}
	var dr, py, ag []sample
	for i := 0; i < runs; i++ {
		if against != "" {
			if err := copyStore(otherSeed, store); err != nil {
				return err
			}
			s, err := draconRun(against, store)
			if err != nil {
				return err
			}
			ag = append(ag, s)
		}
		if err := copyStore(seed, store); err != nil {
			return err
		}
		s, err := draconRun(bin, store)
		if err != nil {
			return err
		}
		dr = append(dr, s)
		p, err := measure(exec.Command(python, "-c", "import json,sys; json.load(open(sys.argv[1]))", report))
		if err != nil {
			return fmt.Errorf("python: %w", err)
		}
		py = append(py, p)
		fmt.Fprintf(os.Stderr, "wholerun: run %d: dracon %.2f s (%.0f MB), python %.2f s\n", i+1, s.wall.Seconds(), float64(s.rss)/1e6, p.wall.Seconds())
		if against != "" {
			fmt.Fprintf(os.Stderr, "wholerun: run %d: %s %.2f s (%.0f MB)\n", i+1, filepath.Base(against), ag[i].wall.Seconds(), float64(ag[i].rss)/1e6)
		}
	}
	out, err := os.Stat(filepath.Join(dir, "out", "dracon.sarif"))
	if err != nil {
		return err
	}
	dw, dc, drss := medians(dr)
	pw, pc, _ := medians(py)
	peak := maxRSSOf(dr)
	ratio := dw.Seconds() / pw.Seconds()
	fmt.Fprintf(w, "\nWhole run: %d SARIF results (%.0f MB in, %.0f MB of SARIF out), imported a second time; %d runs each, alternated, medians.\n\n",
		n, float64(size)/1e6, float64(out.Size())/1e6, runs)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\twall\tCPU (user+sys)\tpeak RSS\t")
	fmt.Fprintf(tw, "%s run\t%.2f s\t%.2f s\t%.0f MB (median %.0f)\t\n", filepath.Base(bin), dw.Seconds(), dc.Seconds(), float64(peak)/1e6, float64(drss)/1e6)
	fmt.Fprintf(tw, "python3 json.load\t%.2f s\t%.2f s\t\t\n", pw.Seconds(), pc.Seconds())
	fmt.Fprintf(tw, "ratio\t%.1fx\t%.1fx\t\t\n", ratio, dc.Seconds()/pc.Seconds())
	if against != "" {
		aw, ac, arss := medians(ag)
		fmt.Fprintf(tw, "%s\t%.2f s\t%.2f s\t%.0f MB (median %.0f)\t\n", filepath.Base(against), aw.Seconds(), ac.Seconds(), float64(maxRSSOf(ag))/1e6, float64(arss)/1e6)
		fmt.Fprintf(tw, "its ratio\t%.1fx\t%.1fx\t\t\n", aw.Seconds()/pw.Seconds(), ac.Seconds()/pc.Seconds())
	}
	tw.Flush()
	verdict := "ok"
	if ratio > maxRatio || peak >= maxRSS {
		verdict = "BELOW TARGET"
	}
	fmt.Fprintf(w, "\nTarget: at most %.0fx Python's wall time, peak RSS under 1 GB: %s.\n", maxRatio, verdict)
	return nil
}

// measure runs cmd and returns its wall time, CPU time and peak RSS.
func measure(cmd *exec.Cmd) (sample, error) {
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		return sample{}, fmt.Errorf("%s: %v: %s", cmd.Path, err, tail(stderr.String()))
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return sample{}, fmt.Errorf("no resource usage for %s", cmd.Path)
	}
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return sample{wall: wall, cpu: cpu, rss: ru.Maxrss * 1024}, nil // Linux: KiB
}

func maxRSSOf(ss []sample) int64 {
	return slices.MaxFunc(ss, func(a, b sample) int { return int(a.rss - b.rss) }).rss
}

func medians(ss []sample) (wall, cpu time.Duration, rss int64) {
	var ws, cs []time.Duration
	var rs []int64
	for _, s := range ss {
		ws, cs, rs = append(ws, s.wall), append(cs, s.cpu), append(rs, s.rss)
	}
	slices.Sort(ws)
	slices.Sort(cs)
	slices.Sort(rs)
	m := len(ss) / 2
	return ws[m], cs[m], rs[m]
}

// copyStore copies the SQLite store seed (and its WAL, if any) to dst.
func copyStore(seed, dst string) error {
	for _, suffix := range []string{"", "-wal", "-shm"} {
		_ = os.Remove(dst + suffix)
		data, err := os.ReadFile(seed + suffix)
		if os.IsNotExist(err) && suffix != "" {
			continue
		}
		if err != nil {
			return err
		}
		if err := os.WriteFile(dst+suffix, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func tail(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	return strings.Join(lines, " | ")
}
