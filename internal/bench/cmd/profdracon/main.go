// Command profdracon is dracon with profiles, for the whole-run benchmark
// (wholerun -profile DIR): the same CLI, plus a CPU profile of the whole
// process in $DRACON_CPUPROFILE, a heap profile (allocations) at exit in
// $DRACON_MEMPROFILE, and the garbage collector's totals on stderr when
// $DRACON_GCSTATS is set.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"

	"github.com/draconsec/dracon/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	if p := os.Getenv("DRACON_CPUPROFILE"); p != "" {
		f, err := os.Create(p)
		if err != nil {
			fmt.Fprintln(os.Stderr, "profdracon:", err)
			os.Exit(2)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "profdracon:", err)
			os.Exit(2)
		}
	}
	code := cli.Main(ctx, os.Args[1:], cli.Env{Stdout: os.Stdout, Stderr: os.Stderr})
	stop()
	pprof.StopCPUProfile()
	if p := os.Getenv("DRACON_MEMPROFILE"); p != "" {
		if f, err := os.Create(p); err == nil {
			pprof.Lookup("allocs").WriteTo(f, 0) //nolint:errcheck // a profile for a person
			f.Close()
		}
	}
	if os.Getenv("DRACON_GCSTATS") != "" {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		fmt.Fprintf(os.Stderr, "profdracon: %d GCs, %.2f s of pauses, %.0f MB allocated, %.0f MB peak heap (sys %.0f MB), GC CPU fraction %.2f\n",
			m.NumGC, float64(m.PauseTotalNs)/1e9, float64(m.TotalAlloc)/1e6, float64(m.HeapSys)/1e6, float64(m.Sys)/1e6, m.GCCPUFraction)
	}
	os.Exit(code)
}
