package wholerun

import (
	"context"
	"os"
	"path/filepath"
	"runtime/pprof"
	"testing"

	"github.com/draconsec/dracon/internal/bench/synth"
	"github.com/draconsec/dracon/internal/config"
	"github.com/draconsec/dracon/internal/pipeline"
)

// BenchmarkWholeRun is `dracon run` in process, importing a 100,000-result
// SARIF the store already holds: for profiling (go test -cpuprofile,
// -memprofile). cmd/wholerun times the real binary against Python.
func BenchmarkWholeRun(b *testing.B) {
	dir := b.TempDir()
	report := filepath.Join(dir, "big.sarif")
	if err := os.WriteFile(report, synth.SARIF(100_000), 0o644); err != nil {
		b.Fatal(err)
	}
	src := filepath.Join(dir, "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		b.Fatal(err)
	}
	cfg, err := config.Parse([]byte(Config(report)), pipeline.ConfigNames())
	if err != nil {
		b.Fatal(err)
	}
	store := filepath.Join(dir, "findings.db")
	getenv := func(k string) string {
		if k == "DRACON_STORE" {
			return store
		}
		return ""
	}
	o := pipeline.Options{Config: cfg, Source: src, Out: filepath.Join(dir, "out"), RunRoot: filepath.Join(dir, "runs"), Getenv: getenv}
	if _, err := pipeline.Run(context.Background(), o); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	// The runs measured carry a profile label: go tool pprof
	// -tagfocus=run=again leaves the first import out.
	pprof.Do(context.Background(), pprof.Labels("run", "again"), func(ctx context.Context) {
		for b.Loop() {
			if _, err := pipeline.Run(ctx, o); err != nil {
				b.Fatal(err)
			}
		}
	})
}
