// Command clusterscale measures cluster mode on a real cluster and feeds
// the figures to a model of a nightly scan of many repositories
// (docs/scale.md). For each concurrency level it starts that many
// `dracon run --runner tekton` of the same source at once, as that many CI
// jobs would, then reads every TaskRun the PipelineRuns made: how long a
// task waited for its pod, how long it ran, and each run's wall time.
//
//	go run ./internal/bench/cmd/clusterscale -kubeconfig CI.kubeconfig \
//	    -admin-kubeconfig ADMIN.kubeconfig -source examples -levels 1,2,4 -repos 500
//
// The source needs a dracon.yaml with a tekton block (the claim, the
// namespace); the kubeconfig is the CI job's, the admin one reads TaskRuns.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/draconsec/dracon/internal/cli"
	"github.com/draconsec/dracon/internal/tekton"
	"github.com/google/uuid"
	pipelinev1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	tektonclient "github.com/tektoncd/pipeline/pkg/client/clientset/versioned/typed/pipeline/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
)

// run is one CI job's cluster run, as measured.
type run struct {
	scanID string
	code   int
	wall   time.Duration
	log    string
	tasks  []task
}

// task is one TaskRun of a run.
type task struct {
	name    string // the pipeline task: source, gosec, ..., report
	waited  time.Duration
	ran     time.Duration
	started time.Time
	ended   time.Time
}

func main() {
	kubeconfig := flag.String("kubeconfig", os.Getenv("DRACON_TEST_KUBECONFIG"), "the CI job's kubeconfig")
	admin := flag.String("admin-kubeconfig", os.Getenv("DRACON_TEST_ADMIN_KUBECONFIG"), "a kubeconfig that may list TaskRuns")
	namespace := flag.String("namespace", "dracon", "the chart's namespace")
	source := flag.String("source", "examples", "the folder each run scans (its dracon.yaml names the tekton block)")
	levels := flag.String("levels", "1,2,4", "concurrent runs to measure, comma-separated")
	repos := flag.Int("repos", 500, "repositories of the modelled nightly scan")
	window := flag.Duration("window", 6*time.Hour, "the nightly window the model spreads them over")
	flag.Parse()
	if *kubeconfig == "" || *admin == "" {
		fmt.Fprintln(os.Stderr, "clusterscale: -kubeconfig and -admin-kubeconfig are needed (scripts/cluster/up.sh, install-dracon.sh)")
		os.Exit(2)
	}
	// The runs connect as a CI job does: through $KUBECONFIG.
	if err := os.Setenv("KUBECONFIG", *kubeconfig); err != nil {
		fail(err)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", *admin)
	if err != nil {
		fail(err)
	}
	tk, err := tektonclient.NewForConfig(cfg)
	if err != nil {
		fail(err)
	}
	var ks []int
	for _, f := range strings.Split(*levels, ",") {
		k, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || k < 1 {
			fail(fmt.Errorf("-levels: %q is not a positive number", f))
		}
		ks = append(ks, k)
	}

	fmt.Printf("| concurrent runs | makespan | run wall p50 | run wall max | task pod wait p50 | task pod wait max | runs/hour |\n|---|---|---|---|---|---|---|\n")
	best := 0.0
	var all []run
	for _, k := range ks {
		runs, makespan := measure(k, *source)
		for i := range runs {
			if runs[i].code != 0 && runs[i].code != 1 {
				fail(fmt.Errorf("run %s exited %d:\n%s", runs[i].scanID, runs[i].code, runs[i].log))
			}
			if runs[i].tasks, err = tasksOf(tk.TaskRuns(*namespace), runs[i].scanID, tk.PipelineRuns(*namespace)); err != nil {
				fail(err)
			}
		}
		var walls, waits []time.Duration
		for _, r := range runs {
			walls = append(walls, r.wall)
			for _, t := range r.tasks {
				waits = append(waits, t.waited)
			}
		}
		perHour := float64(k) / makespan.Hours()
		best = math.Max(best, perHour)
		fmt.Printf("| %d | %s | %s | %s | %s | %s | %.0f |\n", k, round(makespan), round(pct(walls, 50)), round(pct(walls, 100)),
			round(pct(waits, 50)), round(pct(waits, 100)), perHour)
		all = append(all, runs...)
	}

	// Per pipeline task, over every run: what a run is made of.
	byTask := map[string][]time.Duration{}
	for _, r := range all {
		for _, t := range r.tasks {
			byTask[t.name] = append(byTask[t.name], t.ran)
		}
	}
	var names []string
	for n := range byTask {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Printf("\n| task | runs | ran p50 | ran max |\n|---|---|---|---|\n")
	for _, n := range names {
		fmt.Printf("| %s | %d | %s | %s |\n", n, len(byTask[n]), round(pct(byTask[n], 50)), round(pct(byTask[n], 100)))
	}

	// The model: the best measured throughput of one node, scaled.
	nodes := math.Ceil(float64(*repos) / (best * window.Hours()))
	fmt.Printf("\nmodel: %d repositories in %s at %.0f runs/hour per node (the best level above) need %.0f node(s) like this one;\n",
		*repos, *window, best, nodes)
	fmt.Printf("       one node alone takes %.1f h. CronJobs staggered every %s keep the queue at the measured concurrency.\n",
		float64(*repos)/best, round(time.Duration(float64(*window)/float64(*repos))))
}

// measure starts k runs at once and waits for them all.
func measure(k int, source string) ([]run, time.Duration) {
	runs := make([]run, k)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range runs {
		runs[i].scanID = uuid.NewString()
		wg.Add(1)
		go func(r *run) {
			defer wg.Done()
			out, err := os.MkdirTemp("", "clusterscale-")
			if err != nil {
				fail(err)
			}
			defer os.RemoveAll(out)
			env := map[string]string{"DRACON_SCAN_ID": r.scanID}
			var log bytes.Buffer
			t0 := time.Now()
			r.code = cli.Main(context.Background(), []string{"run", "--runner", "tekton", "--source", source, "--out", out,
				"--run-dir", filepath.Join(out, "runs"), "--format", "none"},
				cli.Env{Stdout: io.Discard, Stderr: &log, Getenv: func(k string) string { return env[k] }})
			r.wall, r.log = time.Since(t0), log.String()
		}(&runs[i])
	}
	wg.Wait()
	return runs, time.Since(start)
}

// tasksOf reads the TaskRuns of the PipelineRun labelled with the scan.
func tasksOf(trs tektonclient.TaskRunInterface, scanID string, prs tektonclient.PipelineRunInterface) ([]task, error) {
	l, err := prs.List(context.Background(), metav1.ListOptions{LabelSelector: tekton.LabelScanID + "=" + scanID})
	if err != nil || len(l.Items) != 1 {
		return nil, fmt.Errorf("the PipelineRun of scan %s: %d found, %v", scanID, len(l.Items), err)
	}
	tl, err := trs.List(context.Background(), metav1.ListOptions{LabelSelector: "tekton.dev/pipelineRun=" + l.Items[0].Name})
	if err != nil {
		return nil, err
	}
	var out []task
	for _, tr := range tl.Items {
		out = append(out, taskOf(&tr))
	}
	return out, nil
}

func taskOf(tr *pipelinev1.TaskRun) task {
	t := task{name: tr.Labels["tekton.dev/pipelineTask"]}
	// Waited: from the TaskRun's creation to its first step's start (the
	// pod scheduled, its images and init containers done).
	created := tr.CreationTimestamp.Time
	for _, st := range tr.Status.Steps {
		if st.Terminated != nil && (t.started.IsZero() || st.Terminated.StartedAt.Time.Before(t.started)) {
			t.started = st.Terminated.StartedAt.Time
		}
		if st.Terminated != nil && st.Terminated.FinishedAt.Time.After(t.ended) {
			t.ended = st.Terminated.FinishedAt.Time
		}
	}
	if !t.started.IsZero() {
		t.waited = t.started.Sub(created)
		t.ran = t.ended.Sub(t.started)
	}
	return t
}

func pct(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := (len(s) - 1) * p / 100
	return s[i]
}

func round(d time.Duration) time.Duration { return d.Round(100 * time.Millisecond) }

func fail(err error) {
	fmt.Fprintf(os.Stderr, "clusterscale: %v\n", err)
	os.Exit(2)
}
