package tekton

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/draconsec/dracon/internal/config"
	pipelinev1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	"github.com/tektoncd/pipeline/pkg/client/clientset/versioned"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"knative.dev/pkg/apis"
)

// Clients talk to the cluster.
type Clients struct {
	Tekton versioned.Interface
	Kube   kubernetes.Interface
	// Logs reads a container's log; nil: the Kube client's pods/log.
	Logs func(ctx context.Context, namespace, pod, container string) ([]byte, error)
}

// Connect makes the clients from the tekton block: its kubeconfig and
// context, else $KUBECONFIG or ~/.kube/config, else the pod's service
// account (a CronJob in the cluster).
func Connect(c config.Tekton) (*Clients, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if c.Kubeconfig != "" {
		rules.ExplicitPath = c.Kubeconfig
	}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: c.Context}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("tekton: no cluster to talk to (set tekton.kubeconfig or $KUBECONFIG): %w", err)
	}
	tk, err := versioned.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	kc, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &Clients{Tekton: tk, Kube: kc}, nil
}

func (c *Clients) logs(ctx context.Context, ns, pod, container string) ([]byte, error) {
	if c.Logs != nil {
		return c.Logs(ctx, ns, pod, container)
	}
	return c.Kube.CoreV1().Pods(ns).GetLogs(pod, &corev1.PodLogOptions{Container: container}).DoRaw(ctx)
}

// Outcome is how a cluster run ended.
type Outcome struct {
	PipelineRun string
	ExitCode    int
	Verdict     string
	Findings    int
	New         int
	Files       []string // written to the out folder
}

// Options of Execute.
type Options struct {
	Out  string    // folder for summary.json, dracon.sarif, ...
	Log  io.Writer // progress lines
	Poll time.Duration
	// Grace is how long past the PipelineRun's own timeout the CI side
	// waits before it cancels the run itself.
	Grace time.Duration
}

// ErrCancelled is returned when the run was cancelled from here (the CI
// job cancelled, or the wait ran out).
var ErrCancelled = errors.New("cancelled")

// Execute submits the run, follows it to its end, and brings its outputs
// back. A run that ends without a verdict (cancelled, timed out, its
// deciding task broken) is an error; a failed gate is not.
func Execute(ctx context.Context, c *Clients, r Run, o Options) (*Outcome, error) {
	if o.Poll <= 0 {
		o.Poll = 2 * time.Second
	}
	if o.Grace <= 0 {
		o.Grace = 2 * time.Minute
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	pr, cm, err := Build(r)
	if err != nil {
		return nil, err
	}
	ns := pr.Namespace
	if cm != nil {
		if _, err := c.Kube.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			return nil, fmt.Errorf("tekton: uploading the source as ConfigMap %s/%s: %w", ns, cm.Name, err)
		}
	}
	created, err := c.Tekton.TektonV1().PipelineRuns(ns).Create(ctx, pr, metav1.CreateOptions{})
	if err != nil {
		if cm != nil {
			_ = c.Kube.CoreV1().ConfigMaps(ns).Delete(context.WithoutCancel(ctx), cm.Name, metav1.DeleteOptions{})
		}
		return nil, fmt.Errorf("tekton: creating the PipelineRun in %s: %w", ns, err)
	}
	name := created.Name
	fmt.Fprintf(o.Log, "dracon: PipelineRun %s/%s created (scan %s): %s\n", ns, name, r.ScanID, strings.Join(r.Producers, ", "))
	if cm != nil {
		// Kubernetes deletes the source with the run.
		owner := []metav1.OwnerReference{{APIVersion: "tekton.dev/v1", Kind: "PipelineRun", Name: name, UID: created.UID}}
		patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"ownerReferences": owner}})
		if _, err := c.Kube.CoreV1().ConfigMaps(ns).Patch(ctx, cm.Name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
			fmt.Fprintf(o.Log, "dracon: warning: ConfigMap %s is not owned by its PipelineRun (delete it by hand): %v\n", cm.Name, err)
		}
	}
	deadline := time.Now().Add(time.Duration(Settings(r.Config).Timeout) + o.Grace)
	w := watcher{log: o.Log, seen: map[string]string{}}
	tick := time.NewTicker(o.Poll)
	defer tick.Stop()
	for {
		done, err := w.step(ctx, c, ns, name)
		if err != nil {
			return nil, err
		}
		if done != nil {
			return finish(ctx, c, ns, done, o)
		}
		select {
		case <-ctx.Done():
			return nil, cancel(c, ns, name, o, "the CI job was cancelled")
		case <-tick.C:
			if time.Now().After(deadline) {
				return nil, cancel(c, ns, name, o, "it ran past tekton.timeout")
			}
		}
	}
}

// cancel asks Tekton to stop the run, and waits a little for it to.
func cancel(c *Clients, ns, name string, o Options, why string) error {
	ctx, stop := context.WithTimeout(context.Background(), 30*time.Second)
	defer stop()
	patch := []byte(`{"spec":{"status":"` + string(pipelinev1.PipelineRunSpecStatusCancelled) + `"}}`)
	if _, err := c.Tekton.TektonV1().PipelineRuns(ns).Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		return fmt.Errorf("tekton: %s; cancelling PipelineRun %s/%s failed: %w", why, ns, name, err)
	}
	fmt.Fprintf(o.Log, "dracon: %s: PipelineRun %s/%s cancelled\n", why, ns, name)
	for ctx.Err() == nil {
		pr, err := c.Tekton.TektonV1().PipelineRuns(ns).Get(ctx, name, metav1.GetOptions{})
		if err == nil && pr.IsDone() {
			break
		}
		time.Sleep(o.Poll)
	}
	return fmt.Errorf("tekton: PipelineRun %s/%s: %w (%s)", ns, name, ErrCancelled, why)
}

// watcher prints each task's start and end once.
type watcher struct {
	log  io.Writer
	seen map[string]string // TaskRun name → "started" | "done"
}

// step reads the run once; it returns the PipelineRun when it is done.
func (w *watcher) step(ctx context.Context, c *Clients, ns, name string) (*pipelinev1.PipelineRun, error) {
	pr, err := c.Tekton.TektonV1().PipelineRuns(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil // the caller sees the cancel
		}
		return nil, fmt.Errorf("tekton: reading PipelineRun %s/%s: %w", ns, name, err)
	}
	trs, err := c.Tekton.TektonV1().TaskRuns(ns).List(ctx, metav1.ListOptions{LabelSelector: "tekton.dev/pipelineRun=" + name})
	if err != nil && ctx.Err() == nil {
		return nil, fmt.Errorf("tekton: listing the TaskRuns of %s/%s: %w", ns, name, err)
	}
	if trs != nil {
		items := trs.Items
		sort.Slice(items, func(i, j int) bool { return items[i].Name < items[j].Name })
		for i := range items {
			w.report(&items[i])
		}
	}
	if pr.IsDone() {
		return pr, nil
	}
	return nil, nil
}

func (w *watcher) report(tr *pipelinev1.TaskRun) {
	task := tr.Labels["tekton.dev/pipelineTask"]
	if task == "" {
		task = tr.Name
	}
	cond := tr.Status.GetCondition(apis.ConditionSucceeded)
	if w.seen[tr.Name] == "" && tr.Status.StartTime != nil {
		fmt.Fprintf(w.log, "dracon: %s started (TaskRun %s)\n", task, tr.Name)
		w.seen[tr.Name] = "started"
	}
	if w.seen[tr.Name] == "done" || cond == nil || cond.Status == corev1.ConditionUnknown {
		return
	}
	took := ""
	if tr.Status.StartTime != nil && tr.Status.CompletionTime != nil {
		took = fmt.Sprintf(" (%.1fs)", tr.Status.CompletionTime.Sub(tr.Status.StartTime.Time).Seconds())
	}
	if cond.Status == corev1.ConditionTrue {
		fmt.Fprintf(w.log, "dracon: %s ok%s\n", task, took)
	} else {
		fmt.Fprintf(w.log, "dracon: %s failed%s: %s: %s\n", task, took, cond.Reason, firstLine(cond.Message))
	}
	w.seen[tr.Name] = "done"
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// finish reads the deciding task's results and outputs.
func finish(ctx context.Context, c *Clients, ns string, pr *pipelinev1.PipelineRun, o Options) (*Outcome, error) {
	out := &Outcome{PipelineRun: pr.Name, ExitCode: -1}
	runCond := pr.Status.GetCondition(apis.ConditionSucceeded)
	why := "no condition"
	if runCond != nil {
		why = runCond.Reason + ": " + firstLine(runCond.Message)
	}
	trs, err := c.Tekton.TektonV1().TaskRuns(ns).List(ctx, metav1.ListOptions{LabelSelector: "tekton.dev/pipelineRun=" + pr.Name + ",tekton.dev/pipelineTask=" + ReportTask})
	if err != nil {
		return nil, fmt.Errorf("tekton: reading the report task of %s/%s: %w", ns, pr.Name, err)
	}
	if len(trs.Items) == 0 {
		return nil, fmt.Errorf("tekton: PipelineRun %s/%s ended (%s) before its report task ran: no verdict", ns, pr.Name, why)
	}
	tr := &trs.Items[0]
	for _, res := range tr.Status.Results {
		v := strings.TrimSpace(res.Value.StringVal)
		switch res.Name {
		case "exit-code":
			if n, err := strconv.Atoi(v); err == nil {
				out.ExitCode = n
			}
		case "verdict":
			out.Verdict = v
		case "findings":
			out.Findings, _ = strconv.Atoi(v)
		case "new":
			out.New, _ = strconv.Atoi(v)
		}
	}
	if tr.Status.PodName != "" {
		log, err := c.logs(ctx, ns, tr.Status.PodName, "step-outputs")
		if err != nil {
			return out, fmt.Errorf("tekton: reading the outputs of %s/%s (pod %s): %w", ns, pr.Name, tr.Status.PodName, err)
		}
		if out.Files, err = Unpack(log, o.Out); err != nil {
			return out, fmt.Errorf("tekton: the outputs of %s/%s: %w", ns, pr.Name, err)
		}
	}
	if out.ExitCode < 0 {
		return out, fmt.Errorf("tekton: PipelineRun %s/%s ended (%s) and its report task gave no exit code", ns, pr.Name, why)
	}
	return out, nil
}

// Markers around the outputs in the report task's log.
const (
	beginMarker = "dracon-outputs-begin"
	endMarker   = "dracon-outputs-end"
)

// Unpack finds the base64 gzip tar between the markers of a log and
// writes its regular files under dir, refusing any path that leaves it.
func Unpack(log []byte, dir string) ([]string, error) {
	var b64 strings.Builder
	state := 0
	sc := bufio.NewScanner(bytes.NewReader(log))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case state == 0 && line == beginMarker:
			state = 1
		case state == 1 && line == endMarker:
			state = 2
		case state == 1:
			b64.WriteString(line)
		}
	}
	if state != 2 {
		return nil, fmt.Errorf("no complete %s … %s block in the log", beginMarker, endMarker)
	}
	raw, err := base64.StdEncoding.DecodeString(b64.String())
	if err != nil {
		return nil, fmt.Errorf("the outputs block is not base64: %w", err)
	}
	gz, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	tr := tar.NewReader(gz)
	var files []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return files, err
		}
		name := filepath.Clean(filepath.FromSlash(strings.TrimPrefix(h.Name, "./")))
		if h.Typeflag == tar.TypeDir || name == "." {
			continue
		}
		if h.Typeflag != tar.TypeReg || filepath.IsAbs(name) || name == ".." || strings.HasPrefix(name, ".."+string(filepath.Separator)) {
			return files, fmt.Errorf("refusing %q in the outputs (only regular files inside the out folder)", h.Name)
		}
		dst := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return files, err
		}
		f, err := os.Create(dst)
		if err != nil {
			return files, err
		}
		_, err = io.Copy(f, tr)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return files, err
		}
		files = append(files, dst)
	}
	sort.Strings(files)
	return files, nil
}
