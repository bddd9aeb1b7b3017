// Package runner_test renders the charts/runner Helm chart with helm (the
// version scripts/helm.sh pins) and checks what comes out: every document
// decodes strictly into its typed object, Tekton's own validation accepts
// the Tasks and the Pipeline, the Pipeline is the one internal/tekton
// builds PipelineRuns for, and the CI job's Role allows exactly what the
// tekton client calls.
//
//	go test ./charts/runner                # needs Go and the module proxy once, to build helm
//	go test ./charts/runner -update        # rewrites testdata/default.golden.yaml
package runner_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/draconsec/dracon/internal/config"
	"github.com/draconsec/dracon/internal/producers/registry"
	"github.com/draconsec/dracon/internal/tekton"
	pipelinev1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	tfake "github.com/tektoncd/pipeline/pkg/client/clientset/versioned/fake"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	kfake "k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/kubernetes/scheme"
	ktesting "k8s.io/client-go/testing"
	"knative.dev/pkg/apis"
	duckv1 "knative.dev/pkg/apis/duck/v1"
	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite testdata/default.golden.yaml")

const (
	// namespace is the release's: the RoleBinding's subject names it.
	namespace = "dracon"
	// componentLabel is Dracon's label of a Task's part in a run.
	componentLabel = "v1.dracon.ocurity.com/component"
	networkLabel   = "dracon.draconsec.dev/network"
	helmScript     = "../../scripts/helm.sh"
	golden         = "testdata/default.golden.yaml"
)

// A case is one values file (none: the chart's defaults).
type chartCase struct {
	name   string
	values string // under testdata/
	// disabled producers, whose Tasks must be absent.
	disabled []string
	// extra: pipeline tasks of the values' extraProducers, whose Tasks
	// are the user's.
	extra  []string
	ci     string // the CI ServiceAccount
	runner string // the task pods' ServiceAccount
	// wantErr: the render must fail with this in helm's message.
	wantErr string
	check   func(t *testing.T, r *render)
}

var cases = []chartCase{
	{name: "default", check: checkDefault},
	{name: "nightly", values: "nightly.yaml", check: checkNightly},
	{name: "store-secret", values: "store-secret.yaml", check: checkStoreSecret},
	{name: "producers", values: "producers.yaml", disabled: []string{"nuclei", "zap"}, extra: []string{"acme-licences"}, ci: "ci-scanner", runner: "scanner", check: checkProducers},
	{name: "bad-store-dsn", values: "bad-store-dsn.yaml", wantErr: "store.dsn goes into the secrets Secret"},
	{name: "bad-nightly-name", values: "bad-nightly-name.yaml", wantErr: "longer than Kubernetes' 52 characters"},
	{name: "bad-extra-name", values: "bad-extra-name.yaml", wantErr: "the name gosec is one of the chart's tasks already"},
}

func TestChart(t *testing.T) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{}
			if tc.values != "" {
				args = append(args, "-f", filepath.Join("testdata", tc.values))
			}
			lintOut, lintLog, lintErr := helm(t, append([]string{"lint", ".", "--strict", "--namespace", namespace}, args...)...)
			out, _, err := helm(t, append([]string{"template", "t", ".", "--namespace", namespace}, args...)...)
			if tc.wantErr != "" {
				// helm lint reports a template's fail as INFO and passes:
				// the message must be there all the same.
				if lintErr == nil && !strings.Contains(lintLog, tc.wantErr) {
					t.Errorf("helm lint does not say %q:\n%s%s", tc.wantErr, lintOut, lintLog)
				}
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("helm template: %v, want an error with %q", err, tc.wantErr)
				}
				return
			}
			if lintErr != nil {
				t.Fatalf("helm lint: %v\n%s", lintErr, lintOut)
			}
			if err != nil {
				t.Fatalf("helm template: %v", err)
			}
			r := decode(t, out)
			if t.Failed() {
				return
			}
			if tc.ci == "" {
				tc.ci = "dracon-ci"
			}
			if tc.runner == "" {
				tc.runner = config.DefaultTektonServiceAccount
			}
			checkTekton(t, r, tc)
			checkRBAC(t, r, tc)
			if tc.check != nil {
				tc.check(t, r)
			}
			if tc.name == "default" {
				compareGolden(t, out)
			}
		})
	}
}

// helm runs scripts/helm.sh, which builds helm the first time; a helm
// that cannot be built or run fails the test (the chart is not tested
// otherwise). It returns what helm printed on stdout and on stderr.
func helm(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	helmOnce.Do(func() {
		// Built once, outside any case's clock: cold, it takes minutes.
		start := time.Now()
		cmd := exec.Command(helmScript, "version", "--short")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			helmErr = fmt.Errorf("%s version: %v\n%s", helmScript, err, stderr.String())
			return
		}
		t.Logf("helm %s (%s)", strings.TrimSpace(string(out)), time.Since(start).Round(time.Millisecond))
	})
	if helmErr != nil {
		t.Fatalf("helm cannot run, so the chart is untested: %v", helmErr)
	}
	cmd := exec.Command(helmScript, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("helm %s: %v", strings.Join(args, " "), err)
		}
		return stdout.String(), stderr.String(), fmt.Errorf("helm %s: %v: %s%s", strings.Join(args, " "), err, stderr.String(), stdout.String())
	}
	if s := strings.TrimSpace(stderr.String()); s != "" {
		t.Logf("helm %s: %s", args[0], s)
	}
	return stdout.String(), stderr.String(), nil
}

var (
	helmOnce sync.Once
	helmErr  error
)

// render is what one helm template printed, decoded.
type render struct {
	tasks           map[string]*pipelinev1.Task
	pipelines       []*pipelinev1.Pipeline
	serviceAccounts map[string]*corev1.ServiceAccount
	roles           []*rbacv1.Role
	roleBindings    []*rbacv1.RoleBinding
	secrets         []*corev1.Secret
	networkPolicies []*networkingv1.NetworkPolicy
	cronJobs        []*batchv1.CronJob
}

var docSplit = regexp.MustCompile(`(?m)^---[ \t]*$`)

// Strict decoders: an unknown or duplicate field is an error. Kubernetes'
// kinds come from client-go's scheme, Tekton's from its v1 types.
var kubeDecoder, tektonDecoder = func() (runtime.Decoder, runtime.Decoder) {
	ts := runtime.NewScheme()
	if err := pipelinev1.AddToScheme(ts); err != nil {
		panic(err)
	}
	return serializer.NewCodecFactory(scheme.Scheme, serializer.EnableStrict).UniversalDeserializer(),
		serializer.NewCodecFactory(ts, serializer.EnableStrict).UniversalDeserializer()
}()

func decodeDoc(doc []byte) (runtime.Object, error) {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return nil, err
	}
	gv, err := schema.ParseGroupVersion(tm.APIVersion)
	if err != nil {
		return nil, err
	}
	d := kubeDecoder
	if gv.Group == pipelinev1.SchemeGroupVersion.Group {
		d = tektonDecoder
	}
	obj, _, err := d.Decode(doc, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", tm.APIVersion, tm.Kind, err)
	}
	return obj, nil
}

// decode splits the render into documents and decodes each strictly;
// a kind the test does not know fails it.
func decode(t *testing.T, out string) *render {
	t.Helper()
	r := &render{tasks: map[string]*pipelinev1.Task{}, serviceAccounts: map[string]*corev1.ServiceAccount{}}
	n := 0
	for _, doc := range docSplit.Split(out, -1) {
		if isBlank(doc) {
			continue
		}
		n++
		obj, err := decodeDoc([]byte(doc))
		if err != nil {
			t.Errorf("document %d: %v\n%s", n, err, doc)
			continue
		}
		meta, err := metaOf(obj)
		if err != nil {
			t.Error(err)
			continue
		}
		if meta.GetNamespace() != "" {
			t.Errorf("%T %s sets metadata.namespace: the release's namespace is helm's to choose", obj, meta.GetName())
		}
		if meta.GetLabels()["app.kubernetes.io/instance"] != "t" {
			t.Errorf("%T %s lacks the chart's labels: %v", obj, meta.GetName(), meta.GetLabels())
		}
		switch o := obj.(type) {
		case *pipelinev1.Task:
			if r.tasks[o.Name] != nil {
				t.Errorf("two Tasks %s", o.Name)
			}
			r.tasks[o.Name] = o
		case *pipelinev1.Pipeline:
			r.pipelines = append(r.pipelines, o)
		case *corev1.ServiceAccount:
			r.serviceAccounts[o.Name] = o
		case *rbacv1.Role:
			r.roles = append(r.roles, o)
		case *rbacv1.RoleBinding:
			r.roleBindings = append(r.roleBindings, o)
		case *corev1.Secret:
			r.secrets = append(r.secrets, o)
		case *networkingv1.NetworkPolicy:
			r.networkPolicies = append(r.networkPolicies, o)
		case *batchv1.CronJob:
			r.cronJobs = append(r.cronJobs, o)
		default:
			// ClusterRoles among them: the chart grants nothing cluster-wide.
			t.Errorf("document %d: the chart renders a %T the test does not check", n, obj)
		}
	}
	if n == 0 {
		t.Error("helm template rendered nothing")
	}
	return r
}

func metaOf(obj runtime.Object) (metav1.Object, error) {
	m, ok := obj.(metav1.Object)
	if !ok {
		return nil, fmt.Errorf("%T has no metadata", obj)
	}
	return m, nil
}

func isBlank(doc string) bool {
	for _, l := range strings.Split(doc, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			return false
		}
	}
	return true
}

// TestStrictDecoding: the decoders the chart's test relies on refuse a
// field no type has, for Tekton's kinds as for Kubernetes'.
func TestStrictDecoding(t *testing.T) {
	for _, doc := range []string{
		"apiVersion: tekton.dev/v1\nkind: Task\nmetadata: {name: x}\nspec:\n  steps:\n    - name: a\n      image: busybox\n      resource: {}\n",
		"apiVersion: tekton.dev/v1\nkind: Pipeline\nmetadata: {name: x}\nspec:\n  tasks:\n    - name: a\n      taskRef: {name: b}\n      when: [{input: a, operator: in, value: [a]}]\n",
		"apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: x}\nrules:\n  - apiGroups: ['']\n    resources: [pods]\n    verb: [get]\n",
		"apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: x}\nspec:\n  schedule: '* * * * *'\n  schedule: '1 * * * *'\n  jobTemplate: {}\n",
	} {
		if _, err := decodeDoc([]byte(doc)); err == nil {
			t.Errorf("decoded without error:\n%s", doc)
		}
	}
}

// checkTekton: Tekton's validation of every Task and the Pipeline, the
// producer Tasks against Dracon's catalogue, the Pipeline against its
// Tasks and against the PipelineRuns internal/tekton builds.
func checkTekton(t *testing.T, r *render, tc chartCase) {
	ctx := context.Background()
	for name, task := range r.tasks {
		if err := task.Validate(ctx); err != nil {
			t.Errorf("Task %s: Tekton's validation: %v", name, err)
		}
		if task.Labels[componentLabel] == "" {
			t.Errorf("Task %s has no %s label", name, componentLabel)
		}
		for _, p := range task.Spec.Params {
			if !strings.HasPrefix(p.Name, name+"-") {
				t.Errorf("Task %s: param %s is not prefixed with the task's name", name, p.Name)
			}
		}
		if !slices.ContainsFunc(task.Spec.Workspaces, func(w pipelinev1.WorkspaceDeclaration) bool { return w.Name == "output" && !w.Optional }) {
			t.Errorf("Task %s has no (required) output workspace", name)
		}
		for _, s := range task.Spec.Steps {
			if s.Image == "" || strings.HasSuffix(s.Image, ":") {
				t.Errorf("Task %s step %s: image %q", name, s.Name, s.Image)
			}
		}
	}

	// The producer Tasks are the catalogue, less what the values turn off.
	var want, got []string
	for _, p := range registry.All() {
		if !slices.Contains(tc.disabled, p.Name) {
			want = append(want, "dracon-producer-"+p.Name)
		}
	}
	for name, task := range r.tasks {
		if task.Labels[componentLabel] == "producer" {
			got = append(got, name)
			if task.Labels["dracon.draconsec.dev/producer"] != strings.TrimPrefix(name, "dracon-producer-") {
				t.Errorf("Task %s: producer label %q", name, task.Labels["dracon.draconsec.dev/producer"])
			}
		}
	}
	sort.Strings(got)
	if !slices.Equal(got, want) {
		t.Errorf("producer Tasks:\n got %v\nwant %v (registry.All() less %v)", got, want, tc.disabled)
	}
	for _, name := range tc.disabled {
		if r.tasks["dracon-producer-"+name] != nil {
			t.Errorf("disabled producer %s has a Task", name)
		}
	}

	if len(r.pipelines) != 1 {
		t.Fatalf("%d Pipelines, want 1", len(r.pipelines))
	}
	pl := r.pipelines[0]
	if err := pl.Validate(ctx); err != nil {
		t.Errorf("Pipeline %s: Tekton's validation: %v", pl.Name, err)
	}
	if pl.Name != config.DefaultTektonPipeline {
		t.Errorf("Pipeline %s, internal/tekton runs %s", pl.Name, config.DefaultTektonPipeline)
	}

	// Tasks of the Pipeline.
	byName := map[string]pipelinev1.PipelineTask{}
	for _, pt := range pl.Spec.Tasks {
		byName[pt.Name] = pt
	}
	if src, ok := byName[tekton.SourceTask]; !ok || src.TaskRef == nil || src.TaskRef.Name != "dracon-source" || r.tasks["dracon-source"].Labels[componentLabel] != "source" {
		t.Errorf("no source task %q running the dracon-source Task (component source)", tekton.SourceTask)
	}
	var producerTasks, extra []string
	for _, pt := range pl.Spec.Tasks {
		if pt.Name == tekton.SourceTask {
			continue
		}
		if slices.Contains(tc.extra, pt.Name) {
			// A producer of the user's: after the source, always, in the
			// output workspace.
			if !slices.Equal(pt.RunAfter, []string{tekton.SourceTask}) || len(pt.When) > 0 || pt.TaskRef == nil || r.tasks[pt.TaskRef.Name] != nil ||
				!slices.ContainsFunc(pt.Workspaces, func(w pipelinev1.WorkspacePipelineTaskBinding) bool {
					return w.Name == "output" && w.Workspace == "output"
				}) {
				t.Errorf("extra producer %s: %+v", pt.Name, pt)
			}
			extra = append(extra, pt.Name)
			continue
		}
		producerTasks = append(producerTasks, "dracon-producer-"+pt.Name)
		if pt.TaskRef == nil || pt.TaskRef.Name != "dracon-producer-"+pt.Name {
			t.Errorf("pipeline task %s does not run Task dracon-producer-%s: %+v", pt.Name, pt.Name, pt.TaskRef)
		}
		if !slices.Equal(pt.RunAfter, []string{tekton.SourceTask}) {
			t.Errorf("pipeline task %s runs after %v, want [%s]", pt.Name, pt.RunAfter, tekton.SourceTask)
		}
		wantWhen := pipelinev1.WhenExpressions{{Input: pt.Name, Operator: "in", Values: []string{"$(params.producers[*])"}}}
		if fmt.Sprint(pt.When) != fmt.Sprint(wantWhen) {
			t.Errorf("pipeline task %s: when %+v, want %+v (it runs when the producers param names it)", pt.Name, pt.When, wantWhen)
		}
	}
	sort.Strings(producerTasks)
	if !slices.Equal(extra, tc.extra) {
		t.Errorf("the Pipeline's extra producers %v, want %v", extra, tc.extra)
	}
	if !slices.Equal(producerTasks, want) {
		t.Errorf("the Pipeline's producer tasks:\n got %v\nwant %v", producerTasks, want)
	}
	if len(pl.Spec.Finally) != 1 || pl.Spec.Finally[0].Name != tekton.ReportTask || pl.Spec.Finally[0].TaskRef == nil || pl.Spec.Finally[0].TaskRef.Name != "dracon-report" {
		t.Errorf("finally %+v, want one task %q running the dracon-report Task", pl.Spec.Finally, tekton.ReportTask)
	}
	if _, ok := byName[tekton.ReportTask]; ok {
		t.Errorf("the report task %q is not a finally task", tekton.ReportTask)
	}
	if rep := r.tasks["dracon-report"]; rep != nil {
		steps := rep.Spec.Steps
		if len(steps) == 0 || "step-"+steps[len(steps)-1].Name != tekton.OutputsContainer {
			t.Errorf("the report Task's last step is not %s (tekton.OutputsContainer)", strings.TrimPrefix(tekton.OutputsContainer, "step-"))
		}
		var results []string
		for _, res := range rep.Spec.Results {
			results = append(results, res.Name)
		}
		// What internal/tekton's finish reads.
		if !slices.Equal(results, []string{"exit-code", "verdict", "findings", "new"}) {
			t.Errorf("the report Task's results %v", results)
		}
	}

	// Every pipeline task against the Task it runs: what Tekton's
	// reconciler checks when a run starts.
	for _, pt := range append(slices.Clone(pl.Spec.Tasks), pl.Spec.Finally...) {
		if pt.TaskRef == nil || slices.Contains(tc.extra, pt.Name) {
			continue
		}
		task := r.tasks[pt.TaskRef.Name]
		if task == nil {
			t.Errorf("pipeline task %s runs Task %s, which the chart does not make", pt.Name, pt.TaskRef.Name)
			continue
		}
		checkBinding(t, pl, pt, task)
	}

	// The PipelineRuns internal/tekton builds, for an archive and for git
	// with a secret, against the Pipeline's params and workspaces.
	var producers []string
	for _, p := range registry.All() {
		if !slices.Contains(tc.disabled, p.Name) {
			producers = append(producers, p.Name)
		}
	}
	for _, run := range []tekton.Run{
		{Archive: []byte("\x1f\x8b"), Config: config.Tekton{ServiceAccount: tc.runner}},
		{GitURL: "https://github.com/acme/app.git", GitRevision: "main", ReportArgs: []string{"--fail-on", "high"},
			Config: config.Tekton{Secret: "dracon-secrets", ServiceAccount: tc.runner, Workspace: config.TektonWorkspace{Claim: "work"}}},
	} {
		run.ScanID, run.Started, run.Producers = "0b4f3c2e-7a51-4c1e-9a0e-3d5b8f7c6a21", time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC), producers
		run.Tags = map[string]string{"repository": "acme/app"}
		pr, _, err := tekton.Build(run)
		if err != nil {
			t.Fatal(err)
		}
		if err := tekton.Validate(ctx, pr); err != nil {
			t.Errorf("internal/tekton's PipelineRun: %v", err)
		}
		checkRun(t, pl, pr)
		if sa := pr.Spec.TaskRunTemplate.ServiceAccountName; r.serviceAccounts[sa] == nil {
			t.Errorf("the PipelineRun's tasks run as %s, which the chart does not make", sa)
		}
	}
}

// checkBinding: a pipeline task passes every param its Task needs, with
// its type, and binds its workspaces as the Task declares them.
func checkBinding(t *testing.T, pl *pipelinev1.Pipeline, pt pipelinev1.PipelineTask, task *pipelinev1.Task) {
	t.Helper()
	declared := map[string]pipelinev1.ParamSpec{}
	for _, p := range task.Spec.Params {
		declared[p.Name] = p
	}
	passed := map[string]bool{}
	for _, p := range pt.Params {
		passed[p.Name] = true
		d, ok := declared[p.Name]
		switch {
		case !ok:
			t.Errorf("pipeline task %s passes %s, which Task %s does not declare", pt.Name, p.Name, task.Name)
		case d.Type != p.Value.Type:
			t.Errorf("pipeline task %s passes %s as %s, Task %s takes %s", pt.Name, p.Name, p.Value.Type, task.Name, d.Type)
		}
	}
	for _, d := range task.Spec.Params {
		if d.Default == nil && !passed[d.Name] {
			t.Errorf("pipeline task %s does not pass %s, which Task %s needs", pt.Name, d.Name, task.Name)
		}
	}
	plWs := map[string]pipelinev1.PipelineWorkspaceDeclaration{}
	for _, w := range pl.Spec.Workspaces {
		plWs[w.Name] = w
	}
	taskWs := map[string]pipelinev1.WorkspaceDeclaration{}
	for _, w := range task.Spec.Workspaces {
		taskWs[w.Name] = w
	}
	bound := map[string]bool{}
	for _, b := range pt.Workspaces {
		bound[b.Name] = true
		tw, ok := taskWs[b.Name]
		if !ok {
			t.Errorf("pipeline task %s binds workspace %s, which Task %s does not declare", pt.Name, b.Name, task.Name)
			continue
		}
		if pw, ok := plWs[b.Workspace]; !ok {
			t.Errorf("pipeline task %s binds %s to the Pipeline's workspace %s, which it does not declare", pt.Name, b.Name, b.Workspace)
		} else if pw.Optional && !tw.Optional {
			t.Errorf("pipeline task %s: the Pipeline's workspace %s is optional, Task %s's %s is not", pt.Name, b.Workspace, task.Name, b.Name)
		}
	}
	for _, w := range task.Spec.Workspaces {
		if !w.Optional && !bound[w.Name] {
			t.Errorf("pipeline task %s does not bind workspace %s, which Task %s needs", pt.Name, w.Name, task.Name)
		}
	}
}

// checkRun: a PipelineRun of internal/tekton passes params the Pipeline
// declares, with their types, every param the Pipeline needs, and binds
// every workspace it needs.
func checkRun(t *testing.T, pl *pipelinev1.Pipeline, pr *pipelinev1.PipelineRun) {
	t.Helper()
	if pr.Spec.PipelineRef == nil || pr.Spec.PipelineRef.Name != pl.Name {
		t.Errorf("the PipelineRun refers to %+v, the chart's Pipeline is %s", pr.Spec.PipelineRef, pl.Name)
	}
	declared := map[string]pipelinev1.ParamSpec{}
	for _, p := range pl.Spec.Params {
		declared[p.Name] = p
	}
	passed := map[string]bool{}
	for _, p := range pr.Spec.Params {
		passed[p.Name] = true
		d, ok := declared[p.Name]
		switch {
		case !ok:
			t.Errorf("internal/tekton passes param %s, which the Pipeline does not declare", p.Name)
		case d.Type != p.Value.Type:
			t.Errorf("internal/tekton passes %s as %s, the Pipeline takes %s", p.Name, p.Value.Type, d.Type)
		}
	}
	for _, d := range pl.Spec.Params {
		if d.Default == nil && !passed[d.Name] {
			t.Errorf("internal/tekton does not pass %s, which the Pipeline needs", d.Name)
		}
	}
	ws := map[string]bool{}
	for _, w := range pl.Spec.Workspaces {
		ws[w.Name] = true
	}
	bound := map[string]bool{}
	for _, b := range pr.Spec.Workspaces {
		bound[b.Name] = true
		if !ws[b.Name] {
			t.Errorf("internal/tekton binds workspace %s, which the Pipeline does not declare", b.Name)
		}
	}
	for _, w := range pl.Spec.Workspaces {
		if !w.Optional && !bound[w.Name] {
			t.Errorf("internal/tekton does not bind workspace %s, which the Pipeline needs", w.Name)
		}
	}
}

// checkRBAC: the CI job's Role allows exactly what the tekton client
// calls (recorded from internal/tekton's Execute against fake API
// servers), in the namespace, bound to the CI ServiceAccount only; the
// task pods' ServiceAccount has no token.
func checkRBAC(t *testing.T, r *render, tc chartCase) {
	if len(r.roles) != 1 || len(r.roleBindings) != 1 {
		t.Fatalf("%d Roles and %d RoleBindings, want one each", len(r.roles), len(r.roleBindings))
	}
	role, rb := r.roles[0], r.roleBindings[0]
	allowed := map[string]bool{}
	for _, rule := range role.Rules {
		if len(rule.ResourceNames) > 0 || len(rule.NonResourceURLs) > 0 {
			t.Errorf("Role %s: rule %+v: resourceNames or nonResourceURLs", role.Name, rule)
		}
		for _, g := range rule.APIGroups {
			for _, res := range rule.Resources {
				for _, v := range rule.Verbs {
					if g == "*" || res == "*" || v == "*" || strings.Contains(res, "/*") {
						t.Errorf("Role %s: a wildcard in %+v", role.Name, rule)
					}
					allowed[permission(g, res, v)] = true
				}
			}
		}
	}
	needed := clientPermissions(t)
	if got, want := sortedKeys(allowed), sortedKeys(needed); !slices.Equal(got, want) {
		t.Errorf("Role %s is not what the tekton client calls:\n  it allows  %v\n  the client %v", role.Name, got, want)
	}
	wantSubjects := []rbacv1.Subject{{Kind: "ServiceAccount", Name: tc.ci, Namespace: namespace}}
	if rb.RoleRef != (rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name}) || !slices.Equal(rb.Subjects, wantSubjects) {
		t.Errorf("RoleBinding %s: %+v to %+v, want the Role %s to %+v", rb.Name, rb.RoleRef, rb.Subjects, role.Name, wantSubjects)
	}
	if r.serviceAccounts[tc.ci] == nil {
		t.Errorf("no ServiceAccount %s", tc.ci)
	}
	if sa := r.serviceAccounts[tc.runner]; sa == nil || sa.AutomountServiceAccountToken == nil || *sa.AutomountServiceAccountToken {
		t.Errorf("ServiceAccount %s missing or mounts its token: %+v", tc.runner, sa)
	}
	if len(r.serviceAccounts) != 2 {
		t.Errorf("ServiceAccounts %v, want %s and %s", sortedKeys(r.serviceAccounts), tc.ci, tc.runner)
	}
}

func permission(group, resource, verb string) string {
	if group == "" {
		group = "core"
	}
	return group + "/" + resource + ":" + verb
}

func sortedKeys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

var (
	permOnce sync.Once
	perms    map[string]bool
)

// clientPermissions runs internal/tekton's Execute against fake API
// servers down each of its paths and returns every (group, resource,
// verb) it called: a run to its verdict (the source uploaded, its owner
// set after a conflict, the run followed, the report's results and
// outputs read), a run past its wait (cancelled), and a run Kubernetes
// refused (the upload deleted).
func clientPermissions(t *testing.T) map[string]bool {
	permOnce.Do(func() {
		perms = map[string]bool{}
		for _, path := range []string{"verdict", "cancel", "refused"} {
			tk, kube := executeOnFakes(t, path)
			for _, a := range append(tk.Actions(), kube.Actions()...) {
				res := a.GetResource().Resource
				if a.GetSubresource() != "" {
					res += "/" + a.GetSubresource()
				}
				perms[permission(a.GetResource().Group, res, a.GetVerb())] = true
			}
		}
	})
	if !perms[permission("tekton.dev", "pipelineruns", "create")] || !perms[permission("", "pods/log", "get")] {
		t.Fatalf("the fake runs did not reach the client's calls: %v", sortedKeys(perms))
	}
	return perms
}

func executeOnFakes(t *testing.T, path string) (*tfake.Clientset, *kfake.Clientset) {
	const runName = "dracon-x7k2q"
	report := &pipelinev1.TaskRun{ObjectMeta: metav1.ObjectMeta{Name: runName + "-report", Namespace: namespace,
		Labels: map[string]string{"tekton.dev/pipelineRun": runName, "tekton.dev/pipelineTask": tekton.ReportTask}}}
	report.Status.PodName = runName + "-report-pod"
	report.Status.Results = []pipelinev1.TaskRunResult{{Name: "exit-code", Type: pipelinev1.ResultsTypeString, Value: *pipelinev1.NewStructuredValues("0")}}
	report.Status.Conditions = duckv1.Conditions{{Type: apis.ConditionSucceeded, Status: corev1.ConditionTrue}}
	tk := tfake.NewSimpleClientset(report)
	tk.PrependReactor("create", "pipelineruns", func(a ktesting.Action) (bool, runtime.Object, error) {
		if path == "refused" {
			return true, nil, apierrors.NewForbidden(schema.GroupResource{Group: "tekton.dev", Resource: "pipelineruns"}, "", errors.New("no"))
		}
		pr := a.(ktesting.CreateAction).GetObject().(*pipelinev1.PipelineRun)
		pr.Name, pr.UID = runName, "uid-of-the-run"
		if path == "verdict" {
			pr.Status.Conditions = duckv1.Conditions{{Type: apis.ConditionSucceeded, Status: corev1.ConditionTrue, Reason: "Succeeded"}}
		}
		return false, nil, nil
	})
	kube := kfake.NewSimpleClientset()
	conflicted := false
	kube.PrependReactor("update", "configmaps", func(ktesting.Action) (bool, runtime.Object, error) {
		if !conflicted {
			conflicted = true
			return true, nil, apierrors.NewConflict(schema.GroupResource{Resource: "configmaps"}, "dracon-source-x", errors.New("changed"))
		}
		return false, nil, nil
	})
	run := tekton.Run{ScanID: "0b4f3c2e-7a51-4c1e-9a0e-3d5b8f7c6a21", Started: time.Now(), Producers: []string{"gosec"},
		Archive: []byte("\x1f\x8b"), Config: config.Tekton{Namespace: namespace}}
	opts := tekton.Options{Out: t.TempDir(), Poll: time.Millisecond, Wait: 20 * time.Millisecond, CancelWait: 20 * time.Millisecond}
	// Logs unset: pods/log through the Kubernetes client, as on a cluster.
	_, err := tekton.Execute(context.Background(), &tekton.Clients{Tekton: tk.TektonV1(), Kube: kube.CoreV1()}, run, opts)
	if err == nil {
		// The fake's pods/log is not an outputs block: every path errs.
		t.Errorf("%s: Execute on the fakes did not fail", path)
	}
	t.Logf("the tekton client on fakes, %s: %v", path, err)
	return tk, kube
}

// compareGolden: the default render as it stands in testdata.
func compareGolden(t *testing.T, out string) {
	if *update {
		if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (go test ./charts/runner -update writes it)", err)
	}
	if out != string(want) {
		t.Errorf("the default render differs from %s (go test ./charts/runner -update rewrites it); first difference:\n%s", golden, firstDiff(string(want), out))
	}
}

func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(w), len(g)); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return fmt.Sprintf("line %d:\n-%s\n+%s", i+1, a, b)
		}
	}
	return ""
}

// Case-specific checks.

func producerStep(t *testing.T, r *render, name string) *pipelinev1.Step {
	t.Helper()
	task := r.tasks["dracon-producer-"+name]
	if task == nil || len(task.Spec.Steps) != 1 {
		t.Fatalf("no producer Task %s with one step", name)
	}
	return &task.Spec.Steps[0]
}

func checkDefault(t *testing.T, r *render) {
	if s := producerStep(t, r, "gosec"); s.Image != "ghcr.io/draconsec/dracon:0.1.0" || s.ComputeResources.Requests.Cpu().String() != "250m" {
		t.Errorf("gosec: image %s, resources %+v", s.Image, s.ComputeResources)
	}
	if len(r.secrets)+len(r.networkPolicies)+len(r.cronJobs) != 0 {
		t.Errorf("defaults render %d Secrets, %d NetworkPolicies, %d CronJobs; want none", len(r.secrets), len(r.networkPolicies), len(r.cronJobs))
	}
	for _, s := range r.tasks["dracon-report"].Spec.Steps {
		for _, e := range s.Env {
			if e.Name == "DRACON_STORE" {
				t.Errorf("the report task reads DRACON_STORE from %+v with no store set", e.ValueFrom)
			}
		}
	}
}

func checkNightly(t *testing.T, r *render) {
	if len(r.cronJobs) != 3 {
		t.Fatalf("%d CronJobs, want 3", len(r.cronJobs))
	}
	// Three repositories over two hours from 3:00: 0, 40 (its own), 80 minutes in.
	wantSchedule := map[string]string{"dracon-nightly-app": "0 3 * * *", "dracon-nightly-api": "45 4 * * 1-5", "dracon-nightly-web": "20 4 * * *"}
	for _, cj := range r.cronJobs {
		if cj.Spec.Schedule != wantSchedule[cj.Name] {
			t.Errorf("CronJob %s: schedule %q, want %q", cj.Name, cj.Spec.Schedule, wantSchedule[cj.Name])
		}
		if cj.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent {
			t.Errorf("CronJob %s: concurrency %s", cj.Name, cj.Spec.ConcurrencyPolicy)
		}
		js := cj.Spec.JobTemplate.Spec
		if js.ActiveDeadlineSeconds == nil || *js.ActiveDeadlineSeconds != 5400 {
			t.Errorf("CronJob %s: activeDeadlineSeconds %v", cj.Name, js.ActiveDeadlineSeconds)
		}
		pod := js.Template.Spec
		if pod.ServiceAccountName != "dracon-ci" || pod.NodeSelector["kubernetes.io/os"] != "linux" || len(pod.Tolerations) != 1 {
			t.Errorf("CronJob %s: pod as %s on %v, %v", cj.Name, pod.ServiceAccountName, pod.NodeSelector, pod.Tolerations)
		}
		script := strings.Join(pod.Containers[0].Args, " ")
		for _, want := range []string{"--runner tekton", "--tekton-namespace " + namespace, "--tekton-secret acme-dracon"} {
			if !strings.Contains(script, want) {
				t.Errorf("CronJob %s: the scan does not run with %q:\n%s", cj.Name, want, script)
			}
		}
	}
	// The store from its own Secret, in the report task.
	var found bool
	for _, e := range r.tasks["dracon-report"].Spec.Steps[0].Env {
		if e.Name == "DRACON_STORE" && e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil &&
			e.ValueFrom.SecretKeyRef.Name == "dracon-store" && e.ValueFrom.SecretKeyRef.Key == "dsn" {
			found = true
		}
	}
	if !found {
		t.Error("the report task does not read DRACON_STORE from Secret dracon-store, key dsn")
	}
	// The NetworkPolicy selects exactly the producers without network.
	if len(r.networkPolicies) != 1 {
		t.Fatalf("%d NetworkPolicies, want 1", len(r.networkPolicies))
	}
	np := r.networkPolicies[0]
	sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(np.Spec.PolicyTypes, []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}) || len(np.Spec.Egress) != 0 {
		t.Errorf("NetworkPolicy %s: %v, egress %v; want Egress, none allowed", np.Name, np.Spec.PolicyTypes, np.Spec.Egress)
	}
	var isolated int
	for name, task := range r.tasks {
		// Tekton gives a Task's labels to its TaskRuns' pods.
		selected := sel.Matches(labels.Set(task.Labels))
		wantSelected := task.Labels[componentLabel] == "producer" && task.Labels[networkLabel] != "true"
		if selected != wantSelected {
			t.Errorf("NetworkPolicy %s selects Task %s's pods: %v, want %v", np.Name, name, selected, wantSelected)
		}
		if selected {
			isolated++
		}
	}
	if isolated == 0 || isolated == len(registry.All()) {
		t.Errorf("the NetworkPolicy isolates %d producers", isolated)
	}
	for _, name := range []string{"gosec", "gitleaks", "semgrep"} {
		if !sel.Matches(labels.Set(r.tasks["dracon-producer-"+name].Labels)) {
			t.Errorf("%s, which needs no network, is not isolated", name)
		}
	}
	for _, name := range []string{"osv-scanner", "trivy", "snyk"} {
		if sel.Matches(labels.Set(r.tasks["dracon-producer-"+name].Labels)) {
			t.Errorf("%s, which needs the network, is isolated", name)
		}
	}
}

func checkStoreSecret(t *testing.T, r *render) {
	if len(r.secrets) != 1 {
		t.Fatalf("%d Secrets, want 1", len(r.secrets))
	}
	s := r.secrets[0]
	if s.Name != "dracon-secrets" || s.Type != corev1.SecretTypeOpaque {
		t.Errorf("Secret %s of type %s", s.Name, s.Type)
	}
	want := map[string]string{
		"DRACON_STORE":    "postgres://dracon:not-a-real-password@postgres.dracon.svc:5432/dracon?sslmode=require",
		"JIRA_TOKEN":      "not-a-real-token",
		"GIT_CREDENTIALS": "https://x-access-token:not-a-real-token@github.com",
	}
	if fmt.Sprint(s.StringData) != fmt.Sprint(want) {
		t.Errorf("Secret %s: %v, want %v", s.Name, s.StringData, want)
	}
	// Nothing of the Secret in the Tasks: they read it from the workspace.
	for name, task := range r.tasks {
		b, _ := yaml.Marshal(task)
		if bytes.Contains(b, []byte("not-a-real")) {
			t.Errorf("Task %s holds a secret's value", name)
		}
	}
}

func checkProducers(t *testing.T, r *render) {
	trivy := producerStep(t, r, "trivy")
	if !strings.HasPrefix(trivy.Image, "registry.example.com/security/dracon-trivy@sha256:") ||
		trivy.ComputeResources.Limits.Memory().String() != "4Gi" || trivy.ComputeResources.Requests.Cpu().String() != "1" {
		t.Errorf("trivy: image %s, resources %+v", trivy.Image, trivy.ComputeResources)
	}
	semgrep := producerStep(t, r, "semgrep")
	if semgrep.Image != "registry.example.com/security/dracon:1.4.2" || semgrep.ComputeResources.Requests.Cpu().String() != "2" {
		t.Errorf("semgrep: image %s, resources %+v", semgrep.Image, semgrep.ComputeResources)
	}
	gosec := producerStep(t, r, "gosec")
	if gosec.Image != "registry.example.com/security/dracon:1.4.2" || gosec.ImagePullPolicy != corev1.PullAlways ||
		gosec.ComputeResources.Requests.Memory().String() != "512Mi" || gosec.ComputeResources.Limits.Memory().String() != "1Gi" {
		t.Errorf("gosec: image %s (%s), resources %+v", gosec.Image, gosec.ImagePullPolicy, gosec.ComputeResources)
	}
	if img := r.tasks["dracon-report"].Spec.Steps[0].Image; img != "registry.example.com/security/dracon:1.4.2" {
		t.Errorf("report: image %s", img)
	}
}
