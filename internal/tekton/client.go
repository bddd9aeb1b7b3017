package tekton

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
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
	tektonv1 "github.com/tektoncd/pipeline/pkg/client/clientset/versioned/typed/pipeline/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/clientcmd"
	"knative.dev/pkg/apis"
)

// Names of the Pipeline's parts the CLI reads.
const (
	// SourceTask is the task that puts the source in the workspace.
	SourceTask = "source"
	// OutputsContainer is the report task's last step (outputs), which
	// prints the out folder between the markers.
	OutputsContainer = "step-outputs"
	beginMarker      = "dracon-outputs-begin"
	endMarker        = "dracon-outputs-end"
	// labels Tekton puts on a PipelineRun's TaskRuns.
	labelPipelineRun  = "tekton.dev/pipelineRun"
	labelPipelineTask = "tekton.dev/pipelineTask"
)

// LogReader reads a container's log. The fake clientset's pods/log
// always answers "fake logs", so tests give their own.
type LogReader interface {
	Log(ctx context.Context, namespace, pod, container string) ([]byte, error)
}

// PodLogs reads logs through the API server's pods/log.
type PodLogs struct{ Kube corev1client.CoreV1Interface }

// Log reads one container's whole log.
func (p PodLogs) Log(ctx context.Context, ns, pod, container string) ([]byte, error) {
	return p.Kube.Pods(ns).GetLogs(pod, &corev1.PodLogOptions{Container: container}).DoRaw(ctx)
}

// Clients talk to the cluster: Tekton's v1 API and Kubernetes' core
// one, not their whole clientsets (every API group would be linked into
// the binary).
type Clients struct {
	Tekton tektonv1.TektonV1Interface
	Kube   corev1client.CoreV1Interface
	// Logs reads containers' logs; nil: PodLogs over Kube.
	Logs LogReader
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
		return nil, fmt.Errorf("no cluster to talk to (tekton.kubeconfig, $KUBECONFIG, ~/.kube/config, or a pod's service account): %w", err)
	}
	cfg.UserAgent = "dracon"
	tk, err := tektonv1.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	kc, err := corev1client.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &Clients{Tekton: tk, Kube: kc}, nil
}

func (c *Clients) logs() LogReader {
	if c.Logs != nil {
		return c.Logs
	}
	return PodLogs{Kube: c.Kube}
}

// Outcome is how a cluster run ended.
type Outcome struct {
	Namespace, PipelineRun string
	ExitCode               int
	Verdict                string
	Findings, New          int
	// Files are what was written to the out folder.
	Files []string
}

// Options of Execute.
type Options struct {
	Out string    // folder for summary.json, dracon.sarif, gl-*.json
	Log io.Writer // progress lines
	// Poll is how often the run is read (default 2s).
	Poll time.Duration
	// Wait bounds the wait for the run; past it the run is cancelled.
	// Default: tekton.timeout and Grace.
	Wait time.Duration
	// Grace is how long past the PipelineRun's own timeout the CLI
	// waits for Tekton to end it before cancelling it (default 2m).
	Grace time.Duration
	// CancelWait bounds the wait for a cancel to take (default 30s).
	CancelWait time.Duration
	// ReportLog, when set, receives the report task's log (all its steps
	// but outputs): the deciding run's lines and the findings it prints,
	// which a local run shows too.
	ReportLog io.Writer
}

// Errors of a run that ended without a verdict.
var (
	// ErrCancelled: the CI job was cancelled, or the wait ran out.
	ErrCancelled = errors.New("cancelled")
	// ErrNoVerdict: the report task did not run or gave no results.
	ErrNoVerdict = errors.New("no verdict")
)

// Execute submits the run, follows it to its end, and brings its outputs
// back. A run that ends without a verdict (cancelled, timed out, its
// report task broken) is an error; a failed gate is not.
func Execute(ctx context.Context, c *Clients, r Run, o Options) (*Outcome, error) {
	if o.Poll <= 0 {
		o.Poll = 2 * time.Second
	}
	if o.Grace <= 0 {
		o.Grace = 2 * time.Minute
	}
	if o.CancelWait <= 0 {
		o.CancelWait = 30 * time.Second
	}
	if o.Wait <= 0 {
		o.Wait = time.Duration(Settings(r.Config).Timeout) + o.Grace
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	pr, cm, err := Build(r)
	if err != nil {
		return nil, err
	}
	if err := Validate(ctx, pr); err != nil {
		return nil, fmt.Errorf("the PipelineRun is not valid: %w", err)
	}
	name, err := submit(ctx, c, pr, cm, o.Log)
	if err != nil {
		return nil, err
	}
	ns := pr.Namespace
	w := &watcher{c: c, ns: ns, name: name, log: o.Log, seen: map[string]string{},
		tasks: map[string]bool{SourceTask: true, ReportTask: true}}
	for _, p := range r.Producers {
		w.tasks[p] = true
	}
	done, err := w.wait(ctx, o)
	if err != nil {
		return nil, err
	}
	return finish(ctx, c, done, o)
}

// submit creates the source ConfigMap (for an archive) and the
// PipelineRun, then makes the PipelineRun the ConfigMap's owner so that
// Kubernetes deletes the source with the run.
func submit(ctx context.Context, c *Clients, pr *pipelinev1.PipelineRun, cm *corev1.ConfigMap, log io.Writer) (string, error) {
	ns := pr.Namespace
	var made *corev1.ConfigMap
	if cm != nil {
		var err error
		if made, err = c.Kube.ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			return "", fmt.Errorf("uploading the source as ConfigMap %s/%s: %w", ns, cm.Name, err)
		}
	}
	created, err := c.Tekton.PipelineRuns(ns).Create(ctx, pr, metav1.CreateOptions{})
	if err != nil {
		if cm != nil {
			fresh, stop := context.WithTimeout(context.Background(), 30*time.Second)
			_ = c.Kube.ConfigMaps(ns).Delete(fresh, cm.Name, metav1.DeleteOptions{})
			stop()
		}
		return "", fmt.Errorf("creating the PipelineRun in namespace %s: %w", ns, err)
	}
	name := created.Name
	fmt.Fprintf(log, "dracon: PipelineRun %s/%s created (scan %s); follow it with: tkn pipelinerun logs -f -n %s %s\n",
		ns, name, pr.Labels[LabelScanID], ns, name)
	if made != nil {
		// Update, not patch: the CI role may update ConfigMaps, not patch
		// them.
		own := metav1.OwnerReference{APIVersion: "tekton.dev/v1", Kind: "PipelineRun", Name: name, UID: created.UID}
		var err error
		for try := 0; try < 3; try++ {
			made.OwnerReferences = []metav1.OwnerReference{own}
			if _, err = c.Kube.ConfigMaps(ns).Update(ctx, made, metav1.UpdateOptions{}); !apierrors.IsConflict(err) {
				break
			}
			if made, err = c.Kube.ConfigMaps(ns).Get(ctx, cm.Name, metav1.GetOptions{}); err != nil {
				break
			}
		}
		if err != nil {
			fmt.Fprintf(log, "dracon: warning: ConfigMap %s/%s could not be given to its PipelineRun, so it stays when the run is deleted (delete it by hand): %v\n", ns, cm.Name, err)
		}
	}
	return name, nil
}

// watcher follows a PipelineRun and prints each task's start and end
// once, in the local run's progress style.
type watcher struct {
	c        *Clients
	ns, name string
	log      io.Writer
	tasks    map[string]bool   // the tasks worth a line: source, planned producers, report
	seen     map[string]string // TaskRun (or skipped task) → "started" | "done"
	failing  error             // the last error reading the run, while it lasts
}

// wait polls the run until it is done, cancelling it when ctx is
// cancelled or the wait runs out.
func (w *watcher) wait(ctx context.Context, o Options) (*pipelinev1.PipelineRun, error) {
	deadline := time.Now().Add(o.Wait)
	tick := time.NewTicker(o.Poll)
	defer tick.Stop()
	for {
		done, err := w.step(ctx)
		if err != nil {
			return nil, err
		}
		if done != nil {
			return done, nil
		}
		select {
		case <-ctx.Done():
			return nil, w.cancel(o, "the CI job was cancelled")
		case <-tick.C:
			if time.Now().After(deadline) {
				return nil, w.cancel(o, fmt.Sprintf("it did not end within %s (tekton.timeout and a grace of %s)", o.Wait, o.Grace))
			}
		}
	}
}

// step reads the run once and prints what changed; it returns the
// PipelineRun when it is done. A failed read is retried on the next step
// (the API server restarts, a token is refreshed): only a deleted run
// ends the wait.
func (w *watcher) step(ctx context.Context) (*pipelinev1.PipelineRun, error) {
	pr, err := w.c.Tekton.PipelineRuns(w.ns).Get(ctx, w.name, metav1.GetOptions{})
	gone := apierrors.IsNotFound(err)
	if err == nil {
		var trs *pipelinev1.TaskRunList
		if trs, err = w.c.Tekton.TaskRuns(w.ns).List(ctx, metav1.ListOptions{LabelSelector: labelPipelineRun + "=" + w.name}); err == nil {
			w.report(ctx, pr, trs.Items)
		}
	}
	switch {
	case err == nil:
		if w.failing != nil {
			fmt.Fprintf(w.log, "dracon: reading PipelineRun %s/%s again\n", w.ns, w.name)
			w.failing = nil
		}
	case ctx.Err() != nil:
		return nil, nil // the caller cancels
	case gone:
		return nil, fmt.Errorf("PipelineRun %s/%s was deleted before it ended: %w", w.ns, w.name, ErrNoVerdict)
	default:
		if w.failing == nil {
			fmt.Fprintf(w.log, "dracon: reading PipelineRun %s/%s failed (retrying): %v\n", w.ns, w.name, err)
		}
		w.failing = err
		return nil, nil
	}
	if pr.IsDone() {
		return pr, nil
	}
	return nil, nil
}

// report prints the lines of what changed since the last step.
func (w *watcher) report(ctx context.Context, pr *pipelinev1.PipelineRun, trs []pipelinev1.TaskRun) {
	sort.Slice(trs, func(i, j int) bool {
		a, b := trs[i].Status.StartTime, trs[j].Status.StartTime
		if a != nil && b != nil && !a.Equal(b) {
			return a.Before(b)
		}
		return trs[i].Name < trs[j].Name
	})
	for i := range trs {
		w.taskRun(ctx, &trs[i])
	}
	for _, s := range pr.Status.SkippedTasks {
		if !w.tasks[s.Name] || w.seen["skipped/"+s.Name] != "" {
			continue
		}
		w.seen["skipped/"+s.Name] = "done"
		fmt.Fprintf(w.log, "dracon: %s skipped: %s\n", s.Name, s.Reason)
	}
}

func (w *watcher) taskRun(ctx context.Context, tr *pipelinev1.TaskRun) {
	task := tr.Labels[labelPipelineTask]
	if task == "" {
		task = tr.Name
	}
	if w.seen[tr.Name] == "" {
		fmt.Fprintf(w.log, "dracon: %s started\n", task)
		w.seen[tr.Name] = "started"
	}
	cond := tr.Status.GetCondition(apis.ConditionSucceeded)
	if w.seen[tr.Name] == "done" || cond == nil || cond.Status == corev1.ConditionUnknown {
		return
	}
	w.seen[tr.Name] = "done"
	var d time.Duration
	if tr.Status.StartTime != nil && tr.Status.CompletionTime != nil {
		d = tr.Status.CompletionTime.Sub(tr.Status.StartTime.Time).Round(10 * time.Millisecond)
	}
	if cond.Status == corev1.ConditionTrue {
		fmt.Fprintf(w.log, "dracon: %s finished in %s\n", task, d)
		return
	}
	fmt.Fprintf(w.log, "dracon: %s FAILED after %s: %s: %s\n", task, d, cond.Reason, oneLine(cond.Message))
	w.tail(ctx, tr)
}

// tail prints the end of a failed task's failed steps' logs: why a pod
// failed is rarely in its condition alone.
func (w *watcher) tail(ctx context.Context, tr *pipelinev1.TaskRun) {
	if tr.Status.PodName == "" {
		return
	}
	for _, s := range tr.Status.Steps {
		if s.Terminated == nil || s.Terminated.ExitCode == 0 || s.Container == "" {
			continue
		}
		lctx, stop := context.WithTimeout(ctx, 10*time.Second)
		b, err := w.c.logs().Log(lctx, w.ns, tr.Status.PodName, s.Container)
		stop()
		if err != nil || len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
		if len(lines) > 20 {
			lines = lines[len(lines)-20:]
		}
		fmt.Fprintf(w.log, "  %s (%s), last lines:\n", s.Name, s.Container)
		for _, l := range lines {
			fmt.Fprintf(w.log, "    %s\n", l)
		}
	}
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// cancel asks Tekton to stop the run (spec.status: Cancelled), with a
// context of its own since the caller's may be the one cancelled, and
// waits a little for it to take.
func (w *watcher) cancel(o Options, why string) error {
	ctx, stop := context.WithTimeout(context.Background(), o.CancelWait)
	defer stop()
	patch := []byte(`{"spec":{"status":"` + pipelinev1.PipelineRunSpecStatusCancelled + `"}}`)
	if _, err := w.c.Tekton.PipelineRuns(w.ns).Patch(ctx, w.name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		return fmt.Errorf("%s, and cancelling PipelineRun %s/%s failed (cancel it by hand): %v: %w", why, w.ns, w.name, err, ErrCancelled)
	}
	fmt.Fprintf(w.log, "dracon: %s: cancelling PipelineRun %s/%s\n", why, w.ns, w.name)
	state := "did not confirm the cancel within " + o.CancelWait.String()
	for ctx.Err() == nil {
		pr, err := w.c.Tekton.PipelineRuns(w.ns).Get(ctx, w.name, metav1.GetOptions{})
		if err == nil && pr.IsDone() {
			state = "stopped"
			if cond := pr.Status.GetCondition(apis.ConditionSucceeded); cond != nil {
				state = "stopped: " + cond.Reason
			}
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(o.Poll):
		}
	}
	return fmt.Errorf("PipelineRun %s/%s cancelled because %s; Tekton %s: %w", w.ns, w.name, why, state, ErrCancelled)
}

// finish reads the report task's results and outputs.
func finish(ctx context.Context, c *Clients, pr *pipelinev1.PipelineRun, o Options) (*Outcome, error) {
	ns := pr.Namespace
	out := &Outcome{Namespace: ns, PipelineRun: pr.Name, ExitCode: -1}
	why := "no condition"
	if cond := pr.Status.GetCondition(apis.ConditionSucceeded); cond != nil {
		why = cond.Reason + ": " + oneLine(cond.Message)
	}
	trs, err := c.Tekton.TaskRuns(ns).List(ctx, metav1.ListOptions{LabelSelector: labelPipelineRun + "=" + pr.Name + "," + labelPipelineTask + "=" + ReportTask})
	if err != nil {
		return nil, fmt.Errorf("reading the report task of PipelineRun %s/%s: %w", ns, pr.Name, err)
	}
	if len(trs.Items) == 0 {
		return nil, fmt.Errorf("PipelineRun %s/%s ended (%s) and its report task did not run: %w", ns, pr.Name, why, ErrNoVerdict)
	}
	// The last attempt, should Tekton have retried it.
	tr := &trs.Items[0]
	for i := range trs.Items {
		if trs.Items[i].CreationTimestamp.After(tr.CreationTimestamp.Time) {
			tr = &trs.Items[i]
		}
	}
	for _, res := range tr.Status.Results {
		v := strings.TrimSpace(res.Value.StringVal)
		switch res.Name {
		case "exit-code":
			if n, err := strconv.Atoi(v); err == nil && n >= 0 {
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
	if o.ReportLog != nil && tr.Status.PodName != "" {
		for _, st := range tr.Status.Steps {
			if st.Container == "" || st.Container == OutputsContainer {
				continue
			}
			if b, err := c.logs().Log(ctx, ns, tr.Status.PodName, st.Container); err == nil && len(bytes.TrimSpace(b)) > 0 {
				fmt.Fprintf(o.ReportLog, "dracon: the report task's %s step (TaskRun %s):\n%s", st.Name, tr.Name, b)
				if !bytes.HasSuffix(b, []byte("\n")) {
					fmt.Fprintln(o.ReportLog)
				}
			}
		}
	}
	if out.ExitCode < 0 {
		return nil, fmt.Errorf("PipelineRun %s/%s ended (%s) and its report task (TaskRun %s) gave no exit-code: %w", ns, pr.Name, why, tr.Name, ErrNoVerdict)
	}
	if tr.Status.PodName == "" {
		return out, fmt.Errorf("the report task (TaskRun %s) names no pod to read its outputs from", tr.Name)
	}
	log, err := c.logs().Log(ctx, ns, tr.Status.PodName, OutputsContainer)
	if err != nil {
		return out, fmt.Errorf("reading the outputs of PipelineRun %s/%s (pod %s, container %s): %w", ns, pr.Name, tr.Status.PodName, OutputsContainer, err)
	}
	if out.Files, err = Unpack(log, o.Out); err != nil {
		return out, fmt.Errorf("the outputs of PipelineRun %s/%s: %w", ns, pr.Name, err)
	}
	return out, nil
}

// maxOutputs bounds what Unpack writes: a report's files are megabytes.
const maxOutputs = 1 << 30

// Unpack finds the base64 gzip tar between the markers of a log and
// writes its regular files under dir, refusing any path that would leave
// it and any entry that is not a file or a folder.
func Unpack(log []byte, dir string) ([]string, error) {
	var b64 strings.Builder
	state := 0
	sc := bufio.NewScanner(bytes.NewReader(log))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == beginMarker:
			state = 1 // the last block wins
			b64.Reset()
		case state == 1 && line == endMarker:
			state = 2
		case state == 1:
			b64.WriteString(line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if state != 2 {
		return nil, fmt.Errorf("no complete %s … %s block in the outputs step's log (a log cut short by the node's log rotation?)", beginMarker, endMarker)
	}
	raw, err := base64.StdEncoding.DecodeString(b64.String())
	if err != nil {
		return nil, fmt.Errorf("the outputs block is not base64: %w", err)
	}
	gz, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("the outputs block is not gzip: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	tr := tar.NewReader(gz)
	var files []string
	var total int64
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return files, err
		}
		name := h.Name
		if strings.HasPrefix(name, "/") || filepath.IsAbs(name) {
			return files, fmt.Errorf("refusing %q in the outputs: an absolute path", h.Name)
		}
		for _, part := range strings.Split(name, "/") {
			if part == ".." {
				return files, fmt.Errorf("refusing %q in the outputs: it leaves the out folder", h.Name)
			}
		}
		name = filepath.Clean(filepath.FromSlash(name))
		switch h.Typeflag {
		case tar.TypeDir:
			if name != "." {
				if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
					return files, err
				}
			}
			continue
		case tar.TypeReg:
		default:
			return files, fmt.Errorf("refusing %q in the outputs: not a regular file", h.Name)
		}
		if total += h.Size; total > maxOutputs {
			return files, fmt.Errorf("the outputs pass %d MiB", maxOutputs>>20)
		}
		dst := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return files, err
		}
		if st, err := os.Lstat(dst); err == nil && !st.Mode().IsRegular() {
			return files, fmt.Errorf("refusing to write %s: it exists and is not a regular file", dst)
		}
		f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			return files, err
		}
		_, err = io.Copy(f, io.LimitReader(tr, h.Size))
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
