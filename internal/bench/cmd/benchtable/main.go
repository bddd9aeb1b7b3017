// Command benchtable runs Dracon's parser benchmarks and prints them as a
// table with the targets they are held to. `make bench` runs it.
//
// Figures are per core (-cpu 1). Besides Go's wall-clock MB/s it shows
// cpu-MB/s, bytes over the CPU time the process spent: on a shared or
// loaded machine wall time mostly measures the neighbours, so the verdict
// column judges cpu-MB/s.
package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
)

type row struct {
	pkg, name       string
	mbs, cpuMBs     float64
	peak            float64
	hasPeak, hasCPU bool
}

// targets: the SARIF benchmark must reach 100 MB/s per core with a peak
// heap under 4x its input; every parser at least 50 MB/s.
func target(r row) (float64, float64) {
	if strings.HasPrefix(r.name, "SARIF100k") {
		return 100, 4
	}
	return 50, 0
}

var line = regexp.MustCompile(`^Benchmark(\S+?)(-\d+)?\s+\d+\s+([\d.]+) ns/op(.*)$`)

func main() {
	args := []string{"test", "-run", "^$", "-bench", ".", "-cpu", "1", "-count", "1"}
	args = append(args, os.Args[1:]...)
	if len(os.Args) == 1 {
		args = append(args, "./internal/bench/", "./internal/producers/...")
	}
	cmd := exec.Command("go", args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		fail(err)
	}
	if err := cmd.Start(); err != nil {
		fail(err)
	}
	var rows []row
	pkg := ""
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		l := sc.Text()
		if strings.HasPrefix(l, "pkg: ") {
			pkg = strings.TrimPrefix(l, "pkg: github.com/draconsec/dracon/internal/")
			continue
		}
		m := line.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		r := row{pkg: pkg, name: m[1]}
		fields := strings.Fields(m[4])
		for i := 0; i+1 < len(fields); i += 2 {
			v, _ := strconv.ParseFloat(fields[i], 64)
			switch fields[i+1] {
			case "MB/s":
				r.mbs = v
			case "cpu-MB/s":
				r.cpuMBs, r.hasCPU = v, true
			case "peak/input":
				r.peak, r.hasPeak = v, true
			}
		}
		rows = append(rows, r)
	}
	waitErr := cmd.Wait()
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].pkg < rows[j].pkg })
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "package\tbenchmark\tMB/s (wall)\tMB/s (cpu)\tpeak/input\ttarget\tverdict\t")
	failed := 0
	for _, r := range rows {
		minMBs, maxPeak := target(r)
		got := r.mbs
		if r.hasCPU {
			got = r.cpuMBs
		}
		verdict := "ok"
		if got < minMBs || (maxPeak > 0 && r.hasPeak && r.peak >= maxPeak) {
			verdict, failed = "BELOW", failed+1
		}
		peak, tgt := "-", fmt.Sprintf(">=%.0f MB/s", minMBs)
		if r.hasPeak {
			peak = fmt.Sprintf("%.2fx", r.peak)
		}
		if maxPeak > 0 {
			tgt += fmt.Sprintf(", <%.0fx", maxPeak)
		}
		cpu := "-"
		if r.hasCPU {
			cpu = fmt.Sprintf("%.1f", r.cpuMBs)
		}
		fmt.Fprintf(tw, "%s\t%s\t%.1f\t%s\t%s\t%s\t%s\t\n", r.pkg, r.name, r.mbs, cpu, peak, tgt, verdict)
	}
	tw.Flush()
	if waitErr != nil {
		fail(waitErr)
	}
	fmt.Printf("\n%d benchmarks, %d below target (per core; judged on CPU time where reported).\n", len(rows), failed)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "benchtable:", err)
	os.Exit(1)
}
