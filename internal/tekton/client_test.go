package tekton

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	pipelinev1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	tfake "github.com/tektoncd/pipeline/pkg/client/clientset/versioned/fake"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	kfake "k8s.io/client-go/kubernetes/fake"
	ktesting "k8s.io/client-go/testing"
	"knative.dev/pkg/apis"
	duckv1 "knative.dev/pkg/apis/duck/v1"
)

// fakeLogs answers pods/log from a map of "pod/container" to text.
type fakeLogs struct {
	mu   sync.Mutex
	logs map[string]string
}

func (f *fakeLogs) Log(_ context.Context, _, pod, container string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	l, ok := f.logs[pod+"/"+container]
	if !ok {
		return nil, fmt.Errorf("container %s of pod %s not found", container, pod)
	}
	return []byte(l), nil
}

// outputsLog is what the report task's outputs step prints.
func outputsLog(t *testing.T, files map[string]string) string {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	_ = tw.WriteHeader(&tar.Header{Name: "./", Typeflag: tar.TypeDir, Mode: 0o755})
	for name, body := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(body))}); err != nil {
			t.Fatal(err)
		}
		_, _ = tw.Write([]byte(body))
	}
	_ = tw.Close()
	_ = gz.Close()
	b64 := base64.StdEncoding.EncodeToString(buf.Bytes())
	var lines []string
	for len(b64) > 76 {
		lines = append(lines, b64[:76])
		b64 = b64[76:]
	}
	lines = append(lines, b64)
	return "some earlier line\n" + beginMarker + "\n" + strings.Join(lines, "\n") + "\n" + endMarker + "\n"
}

// cluster is a fake API server and a hand-played Tekton.
type cluster struct {
	t    *testing.T
	tk   *tfake.Clientset
	kube *kfake.Clientset
	logs *fakeLogs
	c    *Clients
	ns   string
}

func newCluster(t *testing.T) *cluster {
	tk := tfake.NewSimpleClientset()
	// The fake does not honour generateName.
	tk.PrependReactor("create", "pipelineruns", func(a ktesting.Action) (bool, runtime.Object, error) {
		pr := a.(ktesting.CreateAction).GetObject().(*pipelinev1.PipelineRun)
		if pr.Name == "" {
			pr.Name = pr.GenerateName + "x7k2q"
		}
		pr.UID = "uid-of-the-run"
		return false, nil, nil
	})
	kube := kfake.NewSimpleClientset()
	logs := &fakeLogs{logs: map[string]string{}}
	return &cluster{t: t, tk: tk, kube: kube, logs: logs, c: &Clients{Tekton: tk.TektonV1(), Kube: kube.CoreV1(), Logs: logs}, ns: "dracon"}
}

// run is the PipelineRun the CLI created, once it is there.
func (k *cluster) run() *pipelinev1.PipelineRun {
	for i := 0; i < 2000; i++ {
		l, err := k.tk.TektonV1().PipelineRuns(k.ns).List(context.Background(), metav1.ListOptions{})
		if err == nil && len(l.Items) == 1 {
			return &l.Items[0]
		}
		time.Sleep(time.Millisecond)
	}
	k.t.Error("no PipelineRun was created")
	return nil
}

func cond(status corev1.ConditionStatus, reason, msg string) duckv1.Conditions {
	return duckv1.Conditions{{Type: apis.ConditionSucceeded, Status: status, Reason: reason, Message: msg}}
}

// task records a TaskRun of the run: done with status True or False, or
// running (Unknown).
func (k *cluster) task(pr *pipelinev1.PipelineRun, task string, status corev1.ConditionStatus, reason, msg string, results map[string]string, steps ...pipelinev1.StepState) {
	start := metav1.NewTime(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC))
	tr := &pipelinev1.TaskRun{ObjectMeta: metav1.ObjectMeta{Name: pr.Name + "-" + task, Namespace: k.ns,
		Labels: map[string]string{labelPipelineRun: pr.Name, labelPipelineTask: task}}}
	tr.Status.Conditions = cond(status, reason, msg)
	tr.Status.StartTime = &start
	tr.Status.PodName = pr.Name + "-" + task + "-pod"
	tr.Status.Steps = steps
	if status != corev1.ConditionUnknown {
		end := metav1.NewTime(start.Add(1500 * time.Millisecond))
		tr.Status.CompletionTime = &end
	}
	for n, v := range results {
		tr.Status.Results = append(tr.Status.Results, pipelinev1.TaskRunResult{Name: n, Type: pipelinev1.ResultsTypeString, Value: *pipelinev1.NewStructuredValues(v)})
	}
	ctx := context.Background()
	if _, err := k.tk.TektonV1().TaskRuns(k.ns).Create(ctx, tr, metav1.CreateOptions{}); err != nil {
		if _, err := k.tk.TektonV1().TaskRuns(k.ns).Update(ctx, tr, metav1.UpdateOptions{}); err != nil {
			k.t.Error(err)
		}
	}
}

// end sets the PipelineRun's condition (and skipped tasks).
func (k *cluster) end(name string, status corev1.ConditionStatus, reason, msg string, skipped ...string) {
	ctx := context.Background()
	var pr *pipelinev1.PipelineRun
	var err error
	for try := 0; try < 10; try++ { // through the API errors a test plays
		if pr, err = k.tk.TektonV1().PipelineRuns(k.ns).Get(ctx, name, metav1.GetOptions{}); err == nil {
			break
		}
	}
	if err != nil {
		k.t.Error(err)
		return
	}
	pr.Status.Conditions = cond(status, reason, msg)
	for _, s := range skipped {
		pr.Status.SkippedTasks = append(pr.Status.SkippedTasks, pipelinev1.SkippedTask{Name: s, Reason: pipelinev1.ParentTasksSkip})
	}
	if _, err := k.tk.TektonV1().PipelineRuns(k.ns).Update(ctx, pr, metav1.UpdateOptions{}); err != nil {
		k.t.Error(err)
	}
}

// honourCancel plays Tekton's answer to spec.status: Cancelled.
func (k *cluster) honourCancel(name string) {
	for i := 0; i < 5000; i++ {
		pr, err := k.tk.TektonV1().PipelineRuns(k.ns).Get(context.Background(), name, metav1.GetOptions{})
		if err == nil && pr.Spec.Status == pipelinev1.PipelineRunSpecStatusCancelled {
			k.end(name, corev1.ConditionFalse, "Cancelled", fmt.Sprintf("PipelineRun %q was cancelled", name))
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// cancelPatch is the cancel patch the CLI sent, if any.
func (k *cluster) cancelPatch() string {
	for _, a := range k.tk.Actions() {
		if p, ok := a.(ktesting.PatchAction); ok && a.GetResource().Resource == "pipelineruns" {
			return p.GetName() + " " + string(p.GetPatch())
		}
	}
	return ""
}

func testRun() Run {
	r := baseRun()
	r.Producers = []string{"gosec", "gitleaks"}
	return r
}

func fast(out string) Options {
	return Options{Out: out, Poll: 2 * time.Millisecond, CancelWait: 2 * time.Second}
}

func TestExecuteSucceeds(t *testing.T) {
	k := newCluster(t)
	r := testRun()
	r.Archive = []byte("archive bytes")
	out := t.TempDir()
	go func() {
		pr := k.run()
		if pr == nil {
			return
		}
		k.task(pr, "source", corev1.ConditionTrue, "Succeeded", "", map[string]string{"commit": ""})
		k.task(pr, "gosec", corev1.ConditionUnknown, "Running", "", nil)
		time.Sleep(20 * time.Millisecond)
		k.task(pr, "gosec", corev1.ConditionTrue, "Succeeded", "", nil)
		k.task(pr, "gitleaks", corev1.ConditionTrue, "Succeeded", "", nil)
		k.logs.mu.Lock()
		k.logs.logs[pr.Name+"-report-pod/step-outputs"] = outputsLog(t, map[string]string{
			"./summary.json": `{"verdict":"fail","counts":{"total":3,"new":1}}`, "./dracon.sarif": "{}", "./gl/gl-sast-report.json": "{}"})
		k.logs.mu.Unlock()
		k.logs.mu.Lock()
		k.logs.logs[pr.Name+"-report-pod/step-report"] = "SEVERITY  RULE  FILE\nhigh      G101  main.go:3"
		k.logs.mu.Unlock()
		k.task(pr, "report", corev1.ConditionTrue, "Succeeded", "", map[string]string{"exit-code": "1", "verdict": "fail", "findings": "3", "new": "1"},
			pipelinev1.StepState{Name: "report", Container: "step-report"}, pipelinev1.StepState{Name: "outputs", Container: "step-outputs"})
		k.end(pr.Name, corev1.ConditionTrue, "Succeeded", "Tasks Completed: 4 (Failed: 0, Cancelled 0), Skipped: 5")
	}()
	var log, reportLog bytes.Buffer
	o := fast(out)
	o.Log, o.ReportLog = &log, &reportLog
	res, err := Execute(context.Background(), k.c, r, o)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if want := "dracon: the report task's report step (TaskRun dracon-x7k2q-report):\nSEVERITY  RULE  FILE\nhigh      G101  main.go:3\n"; reportLog.String() != want {
		t.Errorf("report log %q, want %q", reportLog.String(), want)
	}
	if res.ExitCode != 1 || res.Verdict != "fail" || res.Findings != 3 || res.New != 1 || res.PipelineRun != "dracon-x7k2q" {
		t.Errorf("outcome %+v", res)
	}
	if len(res.Files) != 3 {
		t.Errorf("files %v", res.Files)
	}
	if b, err := os.ReadFile(filepath.Join(out, "gl", "gl-sast-report.json")); err != nil || string(b) != "{}" {
		t.Errorf("gl/gl-sast-report.json: %q, %v", b, err)
	}
	for _, w := range []string{"dracon: PipelineRun dracon/dracon-x7k2q created", "dracon: source started\ndracon: source finished in 1.5s\n",
		"dracon: gosec started\n", "dracon: gosec finished in 1.5s", "dracon: gitleaks finished in 1.5s", "dracon: report finished in 1.5s"} {
		if !strings.Contains(log.String(), w) {
			t.Errorf("log does not say %q:\n%s", w, log.String())
		}
	}
	if n := strings.Count(log.String(), "gosec started"); n != 1 {
		t.Errorf("gosec started %d times", n)
	}
	// The source ConfigMap belongs to the run, so it goes with it.
	cm, err := k.kube.CoreV1().ConfigMaps("dracon").Get(context.Background(), ArchiveName(r.ScanID), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(cm.OwnerReferences) != 1 || cm.OwnerReferences[0].Name != "dracon-x7k2q" || cm.OwnerReferences[0].UID != "uid-of-the-run" || cm.OwnerReferences[0].Kind != "PipelineRun" {
		t.Errorf("owner %+v", cm.OwnerReferences)
	}
	if string(cm.BinaryData[ArchiveKey]) != "archive bytes" {
		t.Error("archive not in the ConfigMap")
	}
	for _, a := range k.kube.Actions() {
		if a.GetVerb() == "patch" {
			t.Error("the ConfigMap was patched: the CI role may only update it")
		}
	}
	if p := k.cancelPatch(); p != "" {
		t.Errorf("a finished run was cancelled: %s", p)
	}
}

func TestExecuteFailedTask(t *testing.T) {
	k := newCluster(t)
	r := testRun()
	r.GitURL = "https://github.com/acme/app.git"
	go func() {
		pr := k.run()
		if pr == nil {
			return
		}
		k.task(pr, "source", corev1.ConditionTrue, "Succeeded", "", nil)
		k.logs.mu.Lock()
		k.logs.logs[pr.Name+"-gosec-pod/step-produce"] = "dracon: gosec started\nfatal error: runtime: out of memory\n"
		k.logs.logs[pr.Name+"-report-pod/step-outputs"] = outputsLog(t, map[string]string{"summary.json": `{}`})
		k.logs.mu.Unlock()
		k.task(pr, "gosec", corev1.ConditionFalse, "Failed", "\"step-produce\" exited with code 137\nmore", nil,
			pipelinev1.StepState{Name: "produce", Container: "step-produce", ContainerState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 137}}})
		k.task(pr, "gitleaks", corev1.ConditionTrue, "Succeeded", "", nil)
		k.task(pr, "report", corev1.ConditionTrue, "Succeeded", "", map[string]string{"exit-code": "2", "verdict": "error", "findings": "0", "new": "0"})
		k.end(pr.Name, corev1.ConditionFalse, "Failed", "Tasks Completed: 4 (Failed: 1, Cancelled 0), Skipped: 0")
	}()
	var log bytes.Buffer
	o := fast(t.TempDir())
	o.Log = &log
	res, err := Execute(context.Background(), k.c, r, o)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if res.ExitCode != 2 || res.Verdict != "error" {
		t.Errorf("outcome %+v", res)
	}
	for _, w := range []string{`dracon: gosec FAILED after 1.5s: Failed: "step-produce" exited with code 137 more`, "fatal error: runtime: out of memory"} {
		if !strings.Contains(log.String(), w) {
			t.Errorf("log does not say %q:\n%s", w, log.String())
		}
	}
}

func TestExecuteNoVerdict(t *testing.T) {
	k := newCluster(t)
	r := testRun()
	r.GitURL = "https://github.com/acme/private.git"
	go func() {
		pr := k.run()
		if pr == nil {
			return
		}
		k.task(pr, "source", corev1.ConditionFalse, "Failed", `"step-clone" exited with code 128`, nil)
		k.end(pr.Name, corev1.ConditionFalse, "Failed", "Tasks Completed: 1 (Failed: 1, Cancelled 0), Skipped: 3", "gosec", "gitleaks", "trivy")
	}()
	var log bytes.Buffer
	o := fast(t.TempDir())
	o.Log = &log
	_, err := Execute(context.Background(), k.c, r, o)
	if !errors.Is(err, ErrNoVerdict) || !strings.Contains(err.Error(), "Tasks Completed: 1 (Failed: 1") || !strings.Contains(err.Error(), "report task did not run") {
		t.Errorf("error %v", err)
	}
	for _, w := range []string{"dracon: source FAILED", "dracon: gosec skipped: Parent Tasks were skipped", "dracon: gitleaks skipped"} {
		if !strings.Contains(log.String(), w) {
			t.Errorf("log does not say %q:\n%s", w, log.String())
		}
	}
	if strings.Contains(log.String(), "trivy") {
		t.Error("a producer the run did not plan was reported")
	}
}

func TestExecuteTimeout(t *testing.T) {
	k := newCluster(t)
	r := testRun()
	r.GitURL = "https://github.com/acme/app.git"
	go func() {
		pr := k.run()
		if pr == nil {
			return
		}
		k.task(pr, "source", corev1.ConditionUnknown, "Pending", "", nil)
		k.honourCancel(pr.Name)
	}()
	var log bytes.Buffer
	o := fast(t.TempDir())
	o.Log, o.Wait = &log, 80*time.Millisecond
	_, err := Execute(context.Background(), k.c, r, o)
	if !errors.Is(err, ErrCancelled) || !strings.Contains(err.Error(), "did not end within 80ms") || !strings.Contains(err.Error(), "stopped: Cancelled") {
		t.Errorf("error %v", err)
	}
	if p := k.cancelPatch(); p != `dracon-x7k2q {"spec":{"status":"Cancelled"}}` {
		t.Errorf("cancel patch %q", p)
	}
}

func TestExecuteCancelled(t *testing.T) {
	k := newCluster(t)
	r := testRun()
	r.GitURL = "https://github.com/acme/app.git"
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		pr := k.run()
		if pr == nil {
			return
		}
		k.task(pr, "source", corev1.ConditionTrue, "Succeeded", "", nil)
		k.task(pr, "gosec", corev1.ConditionUnknown, "Running", "", nil)
		time.Sleep(20 * time.Millisecond)
		cancel() // SIGTERM to the CI job
		k.honourCancel(pr.Name)
	}()
	var log bytes.Buffer
	o := fast(t.TempDir())
	o.Log = &log
	_, err := Execute(ctx, k.c, r, o)
	if !errors.Is(err, ErrCancelled) || !strings.Contains(err.Error(), "the CI job was cancelled") {
		t.Errorf("error %v", err)
	}
	if p := k.cancelPatch(); p != `dracon-x7k2q {"spec":{"status":"Cancelled"}}` {
		t.Errorf("cancel patch %q", p)
	}
	if !strings.Contains(log.String(), "dracon: the CI job was cancelled: cancelling PipelineRun dracon/dracon-x7k2q") {
		t.Errorf("log:\n%s", log.String())
	}
}

// TestExecuteRetriesReads: an API error while following the run is
// retried, not the end of the run.
func TestExecuteRetriesReads(t *testing.T) {
	k := newCluster(t)
	var mu sync.Mutex
	fails := 3
	k.tk.PrependReactor("get", "pipelineruns", func(a ktesting.Action) (bool, runtime.Object, error) {
		mu.Lock()
		defer mu.Unlock()
		if fails > 0 {
			fails--
			return true, nil, errors.New("connection refused")
		}
		return false, nil, nil
	})
	r := testRun()
	r.GitURL = "https://github.com/acme/app.git"
	go func() {
		pr := k.run()
		if pr == nil {
			return
		}
		k.logs.mu.Lock()
		k.logs.logs[pr.Name+"-report-pod/step-outputs"] = outputsLog(t, map[string]string{"summary.json": `{}`})
		k.logs.mu.Unlock()
		k.task(pr, "report", corev1.ConditionTrue, "Succeeded", "", map[string]string{"exit-code": "0", "verdict": "pass", "findings": "0", "new": "0"})
		k.end(pr.Name, corev1.ConditionTrue, "Succeeded", "")
	}()
	var log bytes.Buffer
	o := fast(t.TempDir())
	o.Log = &log
	res, err := Execute(context.Background(), k.c, r, o)
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("%+v, %v\n%s", res, err, log.String())
	}
	if strings.Count(log.String(), "connection refused") != 1 || !strings.Contains(log.String(), "reading PipelineRun dracon/dracon-x7k2q again") {
		t.Errorf("log:\n%s", log.String())
	}
}

func TestUnpackRefuses(t *testing.T) {
	for name, entry := range map[string]tar.Header{
		"dotdot":   {Name: "../escape.json", Typeflag: tar.TypeReg},
		"inner":    {Name: "gl/../../escape.json", Typeflag: tar.TypeReg},
		"absolute": {Name: "/etc/passwd", Typeflag: tar.TypeReg},
		"symlink":  {Name: "link", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"},
		"device":   {Name: "dev", Typeflag: tar.TypeChar},
	} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			gz := gzip.NewWriter(&buf)
			tw := tar.NewWriter(gz)
			entry.Mode = 0o644
			if err := tw.WriteHeader(&entry); err != nil {
				t.Fatal(err)
			}
			_ = tw.Close()
			_ = gz.Close()
			log := beginMarker + "\n" + base64.StdEncoding.EncodeToString(buf.Bytes()) + "\n" + endMarker + "\n"
			dir := filepath.Join(t.TempDir(), "out")
			if _, err := Unpack([]byte(log), dir); err == nil || !strings.Contains(err.Error(), "refusing") {
				t.Errorf("error %v", err)
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(dir), "escape.json")); err == nil {
				t.Error("a file was written outside the out folder")
			}
		})
	}
	if _, err := Unpack([]byte(beginMarker+"\nAAAA\n"), t.TempDir()); err == nil || !strings.Contains(err.Error(), "no complete") {
		t.Errorf("cut log: %v", err)
	}
}
