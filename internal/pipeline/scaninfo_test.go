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

// TestScanInfoChange: a pull or merge request's number, source branch and
// the CI run's page are tagged, from GitHub's and GitLab's variables.
func TestScanInfoChange(t *testing.T) {
	event := filepath.Join(t.TempDir(), "event.json")
	if err := os.WriteFile(event, []byte(`{"number":7,"pull_request":{"number":7},"repository":{"default_branch":"main"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		env  map[string]string
		want map[string]string
	}{
		"github pull request": {
			map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "acme/app", "GITHUB_REF": "refs/pull/7/merge", "GITHUB_EVENT_NAME": "pull_request",
				"GITHUB_EVENT_PATH": event, "GITHUB_HEAD_REF": "fix-login", "GITHUB_BASE_REF": "main", "GITHUB_SERVER_URL": "https://github.com", "GITHUB_RUN_ID": "42"},
			map[string]string{"pr": "7", "head_ref": "fix-login", "base_ref": "refs/heads/main", "run_url": "https://github.com/acme/app/actions/runs/42"},
		},
		"github push": {
			map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "acme/app", "GITHUB_REF": "refs/heads/main", "GITHUB_EVENT_NAME": "push"},
			map[string]string{"pr": "", "head_ref": ""},
		},
		"gitlab merge request": {
			map[string]string{"GITLAB_CI": "true", "CI_PROJECT_PATH": "acme/app", "CI_PIPELINE_SOURCE": "merge_request_event", "CI_MERGE_REQUEST_IID": "12",
				"CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "fix-login", "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main", "CI_PIPELINE_URL": "https://gitlab.example/acme/app/-/pipelines/99"},
			map[string]string{"pr": "12", "head_ref": "fix-login", "base_ref": "refs/heads/main", "ref": "refs/merge-requests/12/head", "run_url": "https://gitlab.example/acme/app/-/pipelines/99"},
		},
	} {
		tags := NewScanInfo(t.TempDir(), time.Now(), func(k string) string { return tc.env[k] }).ScanTags
		for k, v := range tc.want {
			if tags[k] != v {
				t.Errorf("%s: tag %s = %q, want %q (tags %v)", name, k, tags[k], v, tags)
			}
		}
	}
}
