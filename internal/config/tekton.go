package config

import (
	"net/url"
	"regexp"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
)

// Tekton configures runner: tekton, the cluster mode (docs/tekton.md):
// the run becomes a PipelineRun of the charts/runner Pipeline, one task
// per producer and one that decides.
type Tekton struct {
	// Kubeconfig and Context pick the cluster; unset, $KUBECONFIG or
	// ~/.kube/config, else the pod's own service account (in-cluster).
	Kubeconfig string `yaml:"kubeconfig"`
	Context    string `yaml:"context"`
	// Namespace holds the chart's Tasks and Pipeline (default dracon).
	Namespace string `yaml:"namespace"`
	// Pipeline is the Pipeline's name (default dracon).
	Pipeline string `yaml:"pipeline"`
	// ServiceAccount is what the task pods run as (default dracon-runner).
	ServiceAccount string `yaml:"service_account"`
	// Timeout bounds the PipelineRun (default 1h); past it the run is
	// cancelled and fails.
	Timeout Duration `yaml:"timeout"`
	// Source is how the code reaches the cluster: git (a clone of GitURL
	// at GitRevision), archive (the folder uploaded as a ConfigMap, up to
	// about 900 KiB compressed), or auto (default: git when a clone URL is
	// known, from here or the CI's environment; else archive).
	Source      string `yaml:"source"`
	GitURL      string `yaml:"git_url"`
	GitRevision string `yaml:"git_revision"`
	// Secret names a Secret in the namespace whose keys become the tasks'
	// environment variables (DRACON_STORE, JIRA_TOKEN, GIT_CREDENTIALS ...).
	Secret string `yaml:"secret"`
	// Workspace is the run's shared folder: a claim made per run
	// (StorageClass, Size) or an existing one (Claim, a folder per run).
	Workspace TektonWorkspace `yaml:"workspace"`
}

// TektonWorkspace is the PipelineRun's output workspace.
type TektonWorkspace struct {
	Claim        string `yaml:"claim"`
	StorageClass string `yaml:"storage_class"`
	Size         string `yaml:"size"`
}

// Defaults of the tekton block.
const (
	DefaultTektonNamespace      = "dracon"
	DefaultTektonPipeline       = "dracon"
	DefaultTektonServiceAccount = "dracon-runner"
	DefaultTektonTimeout        = time.Hour
	DefaultTektonWorkspaceSize  = "1Gi"
)

// dnsName is a Kubernetes object's name (DNS-1123 subdomain): secrets,
// claims, service accounts; a namespace is a DNS-1123 label (no dots).
var (
	dnsName  = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`)
	dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
)

// MinTektonTimeout is the shortest tekton.timeout: a PipelineRun's pods
// take a while to start.
const MinTektonTimeout = time.Minute

func (t Tekton) validate(add func(key, format string, args ...any)) {
	for key, v := range map[string]string{
		"tekton.namespace": t.Namespace, "tekton.pipeline": t.Pipeline, "tekton.service_account": t.ServiceAccount,
		"tekton.secret": t.Secret, "tekton.workspace.claim": t.Workspace.Claim, "tekton.workspace.storage_class": t.Workspace.StorageClass,
	} {
		if v != "" && (len(v) > 253 || !dnsName.MatchString(v)) {
			add(key, "%q is not a Kubernetes name (lower-case letters, digits, '-' and '.')", v)
		}
	}
	if t.Namespace != "" && dnsName.MatchString(t.Namespace) && (len(t.Namespace) > 63 || !dnsLabel.MatchString(t.Namespace)) {
		add("tekton.namespace", "%q is not a Kubernetes namespace name (lower-case letters, digits and '-', at most 63)", t.Namespace)
	}
	if t.GitURL != "" {
		if u, err := url.Parse(t.GitURL); err == nil && u.User != nil {
			_, pw := u.User.Password()
			if pw || strings.HasPrefix(strings.ToLower(u.Scheme), "http") {
				add("tekton.git_url", "a clone URL with credentials in it: they would be in the PipelineRun for anyone to read; put a GIT_CREDENTIALS line (https://user:token@host) in the tekton.secret Secret instead")
			}
		}
	}
	if t.Source == "archive" && t.GitURL != "" {
		add("tekton.git_url", "is set, but tekton.source is archive: the cluster would not clone it")
	}
	if !oneOf(t.Source, []string{"", "auto", "git", "archive"}) {
		add("tekton.source", "%q: use auto, git or archive", t.Source)
	}
	if t.Workspace.Size != "" {
		if _, err := resource.ParseQuantity(t.Workspace.Size); err != nil {
			add("tekton.workspace.size", "%q is not a Kubernetes quantity (e.g. 1Gi)", t.Workspace.Size)
		}
	}
	if t.Workspace.Claim != "" && (t.Workspace.StorageClass != "" || t.Workspace.Size != "") {
		add("tekton.workspace", "claim names an existing claim; storage_class and size are for a claim made per run: give one or the other")
	}
	if t.Timeout != 0 && time.Duration(t.Timeout) < MinTektonTimeout {
		add("tekton.timeout", "%s is too short: at least %s (pods take a while to start)", time.Duration(t.Timeout), MinTektonTimeout)
	}
}
