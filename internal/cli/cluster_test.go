package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/draconsec/dracon/internal/summary"
	tektonv1 "github.com/tektoncd/pipeline/pkg/client/clientset/versioned/typed/pipeline/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/clientcmd"
	"knative.dev/pkg/apis"
)

// These tests run `dracon run --runner tekton` against a real cluster:
// the single-node Kubernetes with Tekton that scripts/cluster/up.sh
// starts, with charts/runner installed by scripts/cluster/install-dracon.sh
// (.ci/run does both). DRACON_TEST_KUBECONFIG is the CI ServiceAccount's
// kubeconfig (the chart's least-privilege Role), DRACON_TEST_ADMIN_KUBECONFIG
// the cluster admin's, to look at what the runs left. Without them the
// tests skip, unless DRACON_REQUIRE_CLUSTER=1 (CI) makes that a failure.

type testCluster struct {
	kubeconfig string
	runs       tektonv1.PipelineRunInterface
	kube       corev1client.CoreV1Interface
}

func needCluster(t *testing.T) testCluster {
	t.Helper()
	kc, admin := os.Getenv("DRACON_TEST_KUBECONFIG"), os.Getenv("DRACON_TEST_ADMIN_KUBECONFIG")
	if kc == "" || admin == "" {
		if os.Getenv("DRACON_REQUIRE_CLUSTER") == "1" {
			t.Fatal("DRACON_REQUIRE_CLUSTER=1 but DRACON_TEST_KUBECONFIG and DRACON_TEST_ADMIN_KUBECONFIG are not set (scripts/cluster/up.sh and install-dracon.sh print them)")
		}
		t.Skip("no test cluster: set DRACON_TEST_KUBECONFIG and DRACON_TEST_ADMIN_KUBECONFIG (scripts/cluster/up.sh, install-dracon.sh)")
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", admin)
	if err != nil {
		t.Fatal(err)
	}
	tk, err := tektonv1.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	kube, err := corev1client.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return testCluster{kubeconfig: kc, runs: tk.PipelineRuns(clusterNamespace), kube: kube}
}

const clusterNamespace = "dracon"

// clusterSource copies examples/ into a new folder with a dracon.yaml that
// adds the tekton block to the demo's config, then makes each edit: old
// and new text, in pairs.
func clusterSource(t *testing.T, c testCluster, edits ...string) string {
	t.Helper()
	src := filepath.Join(t.TempDir(), "examples")
	if err := os.CopyFS(src, os.DirFS("../../examples")); err != nil {
		t.Fatal(err)
	}
	base, err := os.ReadFile("../../examples/dracon.yaml")
	if err != nil {
		t.Fatal(err)
	}
	yaml := string(base) + fmt.Sprintf(`
tekton:
  kubeconfig: %s
  namespace: %s
  timeout: 10m
  workspace:
    claim: dracon-workspace
`, c.kubeconfig, clusterNamespace)
	for i := 0; i+1 < len(edits); i += 2 {
		if !strings.Contains(yaml, edits[i]) {
			t.Fatalf("dracon.yaml has no %q to replace", edits[i])
		}
		yaml = strings.Replace(yaml, edits[i], edits[i+1], 1)
	}
	if err := os.WriteFile(filepath.Join(src, "dracon.yaml"), []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return src
}

type clusterResult struct {
	code    int
	log     string
	summary *summary.Summary
}

func runDracon(t *testing.T, ctx context.Context, src string, getenv map[string]string, args ...string) clusterResult {
	t.Helper()
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	args = append([]string{"run", "--source", src, "--out", out, "--run-dir", filepath.Join(t.TempDir(), "runs"), "--format", "none"}, args...)
	code := Main(ctx, args, Env{Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return getenv[k] }})
	r := clusterResult{code: code, log: stderr.String()}
	if b, err := os.ReadFile(filepath.Join(out, "summary.json")); err == nil {
		var s summary.Summary
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatalf("summary.json: %v", err)
		}
		r.summary = &s
	}
	return r
}

// producerLines are a summary's producers as "name status findings".
func producerLines(s *summary.Summary) []string {
	var lines []string
	for _, p := range s.Producers {
		lines = append(lines, fmt.Sprintf("%s %s %d", p.Name, p.Status, p.Findings))
	}
	sort.Strings(lines)
	return lines
}

// localRun is the same scan on this machine, with a store of its own so
// that its new counts start from nothing as the cluster run's do.
func localRun(t *testing.T, src string) clusterResult {
	t.Helper()
	r := runDracon(t, context.Background(), src, map[string]string{"DRACON_STORE": filepath.Join(t.TempDir(), "findings.db")}, "--runner", "local")
	if r.summary == nil {
		t.Fatalf("the local run wrote no summary.json (exit %d):\n%s", r.code, r.log)
	}
	return r
}

// The demo scanned through real PipelineRuns: one task per producer, then
// the report; the verdict, exit code and counts equal a local run's, and
// the outputs come back to --out.
func TestClusterRunEqualsLocal(t *testing.T) {
	c := needCluster(t)
	src := clusterSource(t, c)
	got := runDracon(t, context.Background(), src, nil, "--runner", "tekton")
	if got.summary == nil {
		t.Fatalf("the cluster run brought back no summary.json (exit %d):\n%s", got.code, got.log)
	}
	want := localRun(t, src)
	t.Logf("cluster run: exit %d, verdict %s, %d findings (%d new); producers %v", got.code, got.summary.Verdict, got.summary.Counts.Total, got.summary.Counts.New, producerLines(got.summary))
	if got.code != want.code || got.summary.Verdict != want.summary.Verdict {
		t.Errorf("cluster: exit %d verdict %s; local: exit %d verdict %s\ncluster log:\n%s", got.code, got.summary.Verdict, want.code, want.summary.Verdict, got.log)
	}
	if got.summary.Counts.Total != want.summary.Counts.Total || got.summary.Counts.New != want.summary.Counts.New ||
		got.summary.Counts.Suppressed != want.summary.Counts.Suppressed {
		t.Errorf("cluster counts %+v, local %+v", got.summary.Counts, want.summary.Counts)
	}
	if g, w := strings.Join(producerLines(got.summary), "; "), strings.Join(producerLines(want.summary), "; "); g != w {
		t.Errorf("cluster producers %s, local %s", g, w)
	}
	if got.summary.Counts.Total == 0 {
		t.Error("no findings: the demo hides some in every producer's files")
	}
	for _, line := range []string{"dracon: a cluster run (runner tekton) of 3 producers", "verdict: " + want.summary.Verdict} {
		if !strings.Contains(got.log, line) {
			t.Errorf("the CI log lacks %q:\n%s", line, got.log)
		}
	}
}

// A producer whose scanner fails fails its part of the run as a local run
// does: the report still runs, names it, and the run ends in error.
func TestClusterRunFailedTask(t *testing.T) {
	c := needCluster(t)
	// The demo's gosec, with a flag gosec refuses.
	src := clusterSource(t, c, "  gosec: {}", "  gosec: {args: [\"-no-such-flag\"]}")
	got := runDracon(t, context.Background(), src, nil, "--runner", "tekton")
	t.Logf("the CI job's log ends:\n%s", lastLines(got.log, 8))
	want := localRun(t, src)
	if want.code != 2 {
		t.Fatalf("the local run with a failing gosec exited %d, want 2:\n%s", want.code, want.log)
	}
	if got.code != want.code {
		t.Errorf("cluster exit %d, local %d:\n%s", got.code, want.code, got.log)
	}
	if got.summary == nil {
		t.Fatalf("no summary.json came back:\n%s", got.log)
	}
	if g, w := strings.Join(producerLines(got.summary), "; "), strings.Join(producerLines(want.summary), "; "); g != w {
		t.Errorf("cluster producers %s, local %s", g, w)
	}
	if !strings.Contains(got.log, "gosec") {
		t.Errorf("the CI log does not name the failed producer:\n%s", got.log)
	}
}

// A task that outlives its share of tekton.timeout is stopped by Tekton
// and the report, kept a minute of the run's time, still runs and
// decides: the CI job gets a verdict (error) and exit 2, not a run that
// vanished. The source task clones from a server that takes the
// connection and never answers, so it hangs until Tekton stops it.
func TestClusterRunTimeout(t *testing.T) {
	c := needCluster(t)
	// Two minutes: the tasks get one, the report the other.
	src := clusterSource(t, c, "timeout: 10m", "timeout: 2m")
	url := c.silentGitServer(t)
	got := runDracon(t, context.Background(), src, nil, "--runner", "tekton", "--tekton-git-url", url, "--tekton-git-revision", "main")
	t.Logf("the CI job's log ends:\n%s", lastLines(got.log, 8))
	if got.code != 2 {
		t.Errorf("exit %d, want 2:\n%s", got.code, got.log)
	}
	for _, want := range []string{"source FAILED", "timed out", "the report task's report step", "verdict: error"} {
		if !strings.Contains(got.log, want) {
			t.Errorf("the CI log lacks %q:\n%s", want, got.log)
		}
	}
	c.requireStopped(t, got.log)
}

// silentGitServer listens on the node's address, which the cluster's pods
// reach, accepts connections and never answers; it returns a clone URL.
func (c testCluster) silentGitServer(t *testing.T) string {
	t.Helper()
	nodes, err := c.kube.Nodes().List(context.Background(), metav1.ListOptions{})
	if err != nil || len(nodes.Items) == 0 {
		t.Fatalf("the cluster's nodes: %v", err)
	}
	var ip string
	for _, a := range nodes.Items[0].Status.Addresses {
		if a.Type == corev1.NodeInternalIP {
			ip = a.Address
		}
	}
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatalf("listening on the node's address %q: %v", ip, err)
	}
	var conns []net.Conn
	var mu sync.Mutex
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, conn)
			mu.Unlock()
		}
	}()
	return "http://" + l.Addr().String() + "/acme/app.git"
}

// Cancelling the CI job (its context) cancels the PipelineRun.
func TestClusterRunCancelled(t *testing.T) {
	c := needCluster(t)
	src := clusterSource(t, c)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		// Until the PipelineRun exists and its tasks are starting.
		deadline := time.Now().Add(time.Minute)
		for time.Now().Before(deadline) {
			l, err := c.runs.List(context.Background(), metav1.ListOptions{})
			if err == nil {
				for _, pr := range l.Items {
					if pr.Status.StartTime != nil && !pr.IsDone() && time.Since(pr.CreationTimestamp.Time) < time.Minute {
						time.Sleep(2 * time.Second)
						cancel()
						return
					}
				}
			}
			time.Sleep(200 * time.Millisecond)
		}
		cancel()
	}()
	got := runDracon(t, ctx, src, nil, "--runner", "tekton")
	t.Logf("the CI job's log ends:\n%s", lastLines(got.log, 6))
	if got.code != 2 {
		t.Errorf("exit %d, want 2:\n%s", got.code, got.log)
	}
	c.requireStopped(t, got.log)
}

// requireStopped checks that the PipelineRun the log names was stopped
// in the cluster (cancelled, or failed on its timeout), not left running.
func (c testCluster) requireStopped(t *testing.T, log string) {
	t.Helper()
	i := strings.Index(log, "PipelineRun "+clusterNamespace+"/")
	if i < 0 {
		t.Fatalf("the log names no PipelineRun:\n%s", log)
	}
	name := strings.FieldsFunc(log[i+len("PipelineRun "+clusterNamespace+"/"):], func(r rune) bool {
		return !(r == '-' || r == '.' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	})[0]
	name = strings.TrimRight(name, ".-")
	deadline := time.Now().Add(2 * time.Minute)
	for {
		pr, err := c.runs.Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("PipelineRun %s: %v", name, err)
		}
		cond := pr.Status.GetCondition(apis.ConditionSucceeded)
		if pr.IsDone() {
			if !pr.IsCancelled() && (cond == nil || cond.IsTrue()) {
				t.Errorf("PipelineRun %s ended %v, spec.status %q: want it stopped (cancelled or failed), not succeeded", name, cond, pr.Spec.Status)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("PipelineRun %s still running 2 minutes after the CI job stopped (spec.status %q, %v)", name, pr.Spec.Status, cond)
		}
		time.Sleep(time.Second)
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
