package action

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestDocsWorkflows checks the example workflows in docs/github: each
// job names its permissions (contents: read, and nothing it does not
// use), the action's inputs they pass exist, and no run: interpolates an
// expression.
func TestDocsWorkflows(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "docs", "github", "*.yml"))
	if err != nil || len(files) < 4 {
		t.Fatalf("docs/github: %v %v", files, err)
	}
	inputs := readActionYML(t).Inputs
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var wf struct {
			Permissions any `yaml:"permissions"`
			Jobs        map[string]struct {
				Permissions map[string]string `yaml:"permissions"`
				Steps       []struct {
					Uses string            `yaml:"uses"`
					With map[string]string `yaml:"with"`
					Run  string            `yaml:"run"`
				} `yaml:"steps"`
			} `yaml:"jobs"`
		}
		if err := yaml.Unmarshal(data, &wf); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if m, ok := wf.Permissions.(map[string]any); !ok || len(m) != 0 {
			t.Errorf("%s: the workflow's permissions should be {} (each job asks for its own)", f)
		}
		for name, job := range wf.Jobs {
			usesDracon, comments, uploads, checks := false, false, true, false
			for _, s := range job.Steps {
				if strings.Contains(s.Run, "${{") {
					t.Errorf("%s: job %s interpolates an expression in run:", f, name)
				}
				if !strings.HasPrefix(s.Uses, "draconsec/dracon@") {
					continue
				}
				usesDracon = true
				for k, v := range s.With {
					if _, ok := inputs[k]; !ok {
						t.Errorf("%s: job %s passes %s, not an input of action.yml", f, name, k)
					}
					switch {
					case k == "pr-comment" && v != "off":
						comments = true
					case k == "mode" && v == "release-gate":
						checks, uploads = true, false
					}
				}
			}
			if !usesDracon {
				continue
			}
			p := job.Permissions
			if p["contents"] != "read" {
				t.Errorf("%s: job %s: contents: %q, want read", f, name, p["contents"])
			}
			if want := map[bool]string{true: "write", false: ""}; p["pull-requests"] != want[comments] || p["checks"] != want[checks] || p["security-events"] != want[uploads] {
				t.Errorf("%s: job %s: permissions %v: pull-requests only for comments, checks only for the release gate, security-events only for uploads", f, name, p)
			}
		}
	}
}
