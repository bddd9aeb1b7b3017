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

// TestScanInfoMergeGroup: a merge queue's check names the branch it merges
// into as its target, from the event payload.
func TestScanInfoMergeGroup(t *testing.T) {
	event := filepath.Join(t.TempDir(), "event.json")
	payload := `{"action":"checks_requested","merge_group":{"head_sha":"ec26c3e57ca3a959ca5aad62de7213c562f8c821","head_ref":"refs/heads/gh-readonly-queue/main/pr-7-abc","base_sha":"1a2b","base_ref":"refs/heads/main"},"repository":{"default_branch":"main"}}`
	if err := os.WriteFile(event, []byte(payload), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "merge_group", "GITHUB_EVENT_PATH": event,
		"GITHUB_REF": "refs/heads/gh-readonly-queue/main/pr-7-abc"}
	tags := NewScanInfo(t.TempDir(), time.Now(), func(k string) string { return env[k] }).ScanTags
	if tags["base_ref"] != "refs/heads/main" || tags["event"] != "merge_group" || tags["default_branch"] != "main" {
		t.Errorf("tags %v", tags)
	}
}
