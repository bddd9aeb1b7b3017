package tekton

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/draconsec/dracon/internal/config"
	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var started = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func baseRun() Run {
	return Run{
		ScanID:    "0b4f3c2e-7a51-4c1e-9a0e-3d5b8f7c6a21",
		Started:   started,
		Tags:      map[string]string{"repository": "acme/app", "commit": "4f1e2d3c", "ci": "github", "ref": "refs/heads/main"},
		Producers: []string{"gosec", "gitleaks", "osv-scanner"},
	}
}

// TestBuildGolden: the PipelineRuns and ConfigMaps the CLI sends, as
// YAML, and each one passes Tekton's own validation.
func TestBuildGolden(t *testing.T) {
	archive := []byte("\x1f\x8b not really a tarball")
	for _, tc := range []struct {
		name string
		run  func(r *Run)
	}{
		{"archive-defaults", func(r *Run) { r.Archive = archive }},
		{"git-claim-secret", func(r *Run) {
			r.GitURL, r.GitRevision = "https://github.com/acme/app.git", "4f1e2d3c"
			r.ConfigPath = "ci/dracon.yaml"
			r.ReportArgs = []string{"--fail-on", "high", "--baseline-ref", "main", "--policy", "source-code/policies"}
			r.Config = config.Tekton{Namespace: "security", Pipeline: "dracon-v2", ServiceAccount: "scanner", Secret: "dracon-secrets",
				Timeout: config.Duration(20 * time.Minute), Workspace: config.TektonWorkspace{Claim: "dracon-work"}}
		}},
		{"git-storage-class", func(r *Run) {
			r.GitURL = "https://x-access-token:ghs_secret@github.com/acme/app.git"
			r.Config = config.Tekton{Timeout: config.Duration(90 * time.Second), Workspace: config.TektonWorkspace{StorageClass: "fast", Size: "5Gi"}}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := baseRun()
			tc.run(&r)
			pr, cm, err := Build(r)
			if err != nil {
				t.Fatal(err)
			}
			if err := Validate(context.Background(), pr); err != nil {
				t.Fatalf("Tekton's validation: %v", err)
			}
			objs := []any{pr}
			if cm != nil {
				objs = append(objs, cm)
			}
			var docs []string
			for _, o := range objs {
				b, err := yaml.Marshal(o)
				if err != nil {
					t.Fatal(err)
				}
				docs = append(docs, string(b))
			}
			got := strings.Join(docs, "---\n")
			if strings.Contains(got, "ghs_secret") {
				t.Fatal("a credential went into the PipelineRun")
			}
			golden := filepath.Join("testdata", tc.name+".yaml")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if got != string(want) {
				t.Errorf("%s differs (go test -update rewrites it):\n%s", golden, got)
			}
		})
	}
}

func TestBuildChecks(t *testing.T) {
	r := baseRun()
	if _, _, err := Build(r); err == nil || !strings.Contains(err.Error(), "git URL or an archive") {
		t.Errorf("no source: %v", err)
	}
	r.GitURL = "https://github.com/acme/app.git"
	r.ScanID = "Not A Label!"
	if _, _, err := Build(r); err == nil || !strings.Contains(err.Error(), "cannot name Kubernetes objects") {
		t.Errorf("bad scan id: %v", err)
	}
	r = baseRun()
	r.GitURL, r.Producers = "https://github.com/acme/app.git", nil
	if _, _, err := Build(r); err == nil {
		t.Error("no producers: no error")
	}
}

func TestTimeouts(t *testing.T) {
	for _, tc := range []struct {
		total, tasks time.Duration
	}{
		{time.Hour, 50 * time.Minute},
		{3 * time.Hour, 170 * time.Minute},
		{5 * time.Minute, 4 * time.Minute},
		{time.Minute, 0},
	} {
		tf := Timeouts(tc.total)
		got := time.Duration(0)
		if tf.Tasks != nil {
			got = tf.Tasks.Duration
		}
		if tf.Pipeline.Duration != tc.total || got != tc.tasks {
			t.Errorf("Timeouts(%s) = pipeline %s, tasks %s; want tasks %s", tc.total, tf.Pipeline.Duration, got, tc.tasks)
		}
	}
}

func TestStripCredentials(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		cut      bool
	}{
		{"https://github.com/acme/app.git", "https://github.com/acme/app.git", false},
		{"https://gitlab-ci-token:glcbt-xyz@gitlab.example.com/acme/app.git", "https://gitlab.example.com/acme/app.git", true},
		{"https://ghp_token@github.com/acme/app.git", "https://github.com/acme/app.git", true},
		{"ssh://git@github.com/acme/app.git", "ssh://git@github.com/acme/app.git", false},
		{"ssh://git:pw@host/app.git", "ssh://git@host/app.git", true},
		{"git@github.com:acme/app.git", "git@github.com:acme/app.git", false},
	} {
		got, cut := StripCredentials(tc.in)
		if got != tc.want || cut != tc.cut {
			t.Errorf("StripCredentials(%q) = %q, %v; want %q, %v", tc.in, got, cut, tc.want, tc.cut)
		}
	}
}
