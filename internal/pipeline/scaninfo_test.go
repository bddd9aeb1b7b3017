package pipeline

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestScanInfoDefaultBranch: the default branch comes from GitLab's
// variable, or from the event payload GitHub Actions writes.
func TestScanInfoDefaultBranch(t *testing.T) {
	event := filepath.Join(t.TempDir(), "event.json")
	if err := os.WriteFile(event, []byte(`{"ref":"refs/heads/feature","repository":{"full_name":"acme/app","default_branch":"trunk"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, env := range map[string]map[string]string{
		"github": {"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "acme/app", "GITHUB_REF": "refs/heads/feature", "GITHUB_EVENT_NAME": "push", "GITHUB_EVENT_PATH": event},
		"gitlab": {"GITLAB_CI": "true", "CI_PROJECT_PATH": "acme/app", "CI_COMMIT_BRANCH": "feature", "CI_PIPELINE_SOURCE": "push", "CI_DEFAULT_BRANCH": "trunk"},
	} {
		tags := NewScanInfo(t.TempDir(), time.Now(), func(k string) string { return env[k] }).ScanTags
		if tags["default_branch"] != "trunk" || tags["ref"] != "refs/heads/feature" {
			t.Errorf("%s: tags %v", name, tags)
		}
	}
}
