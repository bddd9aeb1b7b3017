// Package tekton runs a whole Dracon run on a Kubernetes cluster as a
// Tekton PipelineRun of the charts/runner Pipeline: one task puts the
// source in the run's workspace, one task per producer runs `dracon
// produce`, and a finally task runs `dracon run --produced` (enrich,
// policy, gate, SARIF, summary.json, consumers) and prints its outputs,
// which the CI job reads back. docs/tekton.md tells the whole contract.
package tekton

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/draconsec/dracon/internal/config"
	pipelinev1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Labels Dracon puts on what it creates. The component label is
// Dracon's own (v1.dracon.ocurity.com/component); the scan id lets a
// person find a CI job's PipelineRun.
const (
	LabelScanID    = "v1.dracon.ocurity.com/scan-id"
	LabelManagedBy = "app.kubernetes.io/managed-by"
	ArchiveKey     = "source.tar.gz"
	// ReportTask is the finally task's name in the Pipeline.
	ReportTask = "report"
)

// Run is what a PipelineRun is built from.
type Run struct {
	ScanID    string
	Started   time.Time
	Tags      map[string]string
	Producers []string // the planned producers, in order
	// ConfigPath is dracon.yaml's path relative to the source ("" for
	// the default lookup).
	ConfigPath string
	// ReportArgs are `dracon run` flags the deciding task passes on.
	ReportArgs []string
	// GitURL and GitRevision, or Archive (a gzip tar of the source), say
	// where the source comes from.
	GitURL, GitRevision string
	Archive             []byte
	Config              config.Tekton
}

// Settings is the tekton block with its defaults filled in.
func Settings(c config.Tekton) config.Tekton {
	set := func(v *string, d string) {
		if *v == "" {
			*v = d
		}
	}
	set(&c.Namespace, config.DefaultTektonNamespace)
	set(&c.Pipeline, config.DefaultTektonPipeline)
	set(&c.ServiceAccount, config.DefaultTektonServiceAccount)
	if c.Workspace.Claim == "" {
		set(&c.Workspace.Size, config.DefaultTektonWorkspaceSize)
	}
	if c.Timeout == 0 {
		c.Timeout = config.Duration(config.DefaultTektonTimeout)
	}
	return c
}

// Build makes the PipelineRun and, for an archive, the ConfigMap that
// carries the source (nil for git). Neither is sent anywhere.
func Build(r Run) (*pipelinev1.PipelineRun, *corev1.ConfigMap, error) {
	c := Settings(r.Config)
	if errs := validation.IsValidLabelValue(r.ScanID); r.ScanID == "" || len(errs) > 0 || len(validation.IsDNS1123Subdomain(ArchiveName(r.ScanID))) > 0 {
		return nil, nil, fmt.Errorf("the scan id %q cannot name Kubernetes objects (lower-case letters, digits and '-', at most 63)", r.ScanID)
	}
	if len(r.Producers) == 0 {
		return nil, nil, fmt.Errorf("no producer to run")
	}
	if (r.GitURL == "") == (r.Archive == nil) {
		return nil, nil, fmt.Errorf("the source needs a git URL or an archive, not both or neither")
	}
	tags, err := json.Marshal(r.Tags)
	if err != nil {
		return nil, nil, err
	}
	gitURL, _ := StripCredentials(r.GitURL)
	labels := map[string]string{LabelScanID: r.ScanID, LabelManagedBy: "dracon"}
	str := func(name, v string) pipelinev1.Param {
		return pipelinev1.Param{Name: name, Value: pipelinev1.ParamValue{Type: pipelinev1.ParamTypeString, StringVal: v}}
	}
	arr := func(name string, vs []string) pipelinev1.Param {
		if vs == nil {
			vs = []string{}
		}
		return pipelinev1.Param{Name: name, Value: pipelinev1.ParamValue{Type: pipelinev1.ParamTypeArray, ArrayVal: vs}}
	}
	pr := &pipelinev1.PipelineRun{
		TypeMeta:   metav1.TypeMeta{APIVersion: "tekton.dev/v1", Kind: "PipelineRun"},
		ObjectMeta: metav1.ObjectMeta{GenerateName: "dracon-", Namespace: c.Namespace, Labels: labels},
		Spec: pipelinev1.PipelineRunSpec{
			PipelineRef: &pipelinev1.PipelineRef{Name: c.Pipeline},
			Params: pipelinev1.Params{
				arr("producers", r.Producers),
				str("producers-csv", strings.Join(r.Producers, ",")),
				str("scan-id", r.ScanID),
				str("scan-time", r.Started.UTC().Format(time.RFC3339)),
				str("scan-tags", string(tags)),
				str("config", r.ConfigPath),
				str("git-url", gitURL),
				str("git-revision", r.GitRevision),
				arr("report-args", r.ReportArgs),
			},
			Timeouts:        Timeouts(time.Duration(c.Timeout)),
			TaskRunTemplate: pipelinev1.PipelineTaskRunTemplate{ServiceAccountName: c.ServiceAccount},
		},
	}
	output := pipelinev1.WorkspaceBinding{Name: "output"}
	if c.Workspace.Claim != "" {
		// One claim for every run: each run works in its own folder.
		output.PersistentVolumeClaim = &corev1.PersistentVolumeClaimVolumeSource{ClaimName: c.Workspace.Claim}
		output.SubPath = r.ScanID
	} else {
		size, err := resource.ParseQuantity(c.Workspace.Size)
		if err != nil {
			return nil, nil, fmt.Errorf("tekton.workspace.size: %w", err)
		}
		claim := &corev1.PersistentVolumeClaim{
			Spec: corev1.PersistentVolumeClaimSpec{
				AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: size}},
			},
		}
		if c.Workspace.StorageClass != "" {
			sc := c.Workspace.StorageClass
			claim.Spec.StorageClassName = &sc
		}
		output.VolumeClaimTemplate = claim
	}
	pr.Spec.Workspaces = append(pr.Spec.Workspaces, output)
	var cm *corev1.ConfigMap
	if r.Archive != nil {
		immutable := true
		cm = &corev1.ConfigMap{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
			ObjectMeta: metav1.ObjectMeta{Name: ArchiveName(r.ScanID), Namespace: c.Namespace, Labels: labels},
			BinaryData: map[string][]byte{ArchiveKey: r.Archive},
			// Written once; kubelets need not watch it.
			Immutable: &immutable,
		}
		pr.Spec.Workspaces = append(pr.Spec.Workspaces, pipelinev1.WorkspaceBinding{
			Name: "source-archive", ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: cm.Name}},
		})
	}
	if c.Secret != "" {
		pr.Spec.Workspaces = append(pr.Spec.Workspaces, pipelinev1.WorkspaceBinding{
			Name: "secrets", Secret: &corev1.SecretVolumeSource{SecretName: c.Secret},
		})
	}
	return pr, cm, nil
}

// Timeouts bounds the whole run by t, and its tasks by a little less, so
// that when a producer hangs Tekton stops it and the finally task (the
// report) still has time to decide: the producer is then reported
// failed, as a local run reports a producer past its timeout. At t
// Tekton stops everything, report included.
func Timeouts(t time.Duration) *pipelinev1.TimeoutFields {
	tf := &pipelinev1.TimeoutFields{Pipeline: &metav1.Duration{Duration: t}}
	if t >= 2*time.Minute {
		tf.Tasks = &metav1.Duration{Duration: t - ReportReserve(t)}
	}
	return tf
}

// ReportReserve is the part of the timeout kept for the report task: a
// sixth, at least a minute, at most ten.
func ReportReserve(t time.Duration) time.Duration {
	return min(max(t/6, time.Minute), 10*time.Minute)
}

// ArchiveName is the source ConfigMap's name for a scan.
func ArchiveName(scanID string) string { return "dracon-source-" + scanID }

// StripCredentials cuts what a clone URL says of who clones it: the
// user and password of an http(s) URL (a token is often the user:
// https://TOKEN@host/...), the password of any other. It reports whether
// it cut anything. What url.Parse cannot read (scp-like git@host:path)
// is left as it is: it holds no secret.
func StripCredentials(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw, false
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https", "ftp", "ftps":
		u.User = nil
	default:
		if _, ok := u.User.Password(); !ok {
			return raw, false
		}
		u.User = url.User(u.User.Username())
	}
	return u.String(), true
}

// Validate runs Tekton's own validation of a PipelineRun (what its
// admission webhook runs, where one is installed), on a copy named as the
// API server will name it from generateName.
func Validate(ctx context.Context, pr *pipelinev1.PipelineRun) error {
	c := pr.DeepCopy()
	if c.Name == "" {
		c.Name = c.GenerateName + "x7k2q"
	}
	if err := c.Validate(ctx); err != nil {
		return err
	}
	return nil
}
