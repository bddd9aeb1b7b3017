package pipeline

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/draconsec/dracon/internal/enrichers/baseline"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
	"github.com/google/uuid"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// NewScanInfo names a scan: a fresh UUID, its start time, and tags
// (repository, ref, commit, event; base_ref, a pull or merge request's
// target branch) from the CI system's environment, or from git when run
// by hand.
func NewScanInfo(src string, now time.Time, getenv func(string) string) *v1.ScanInfo {
	tags := map[string]string{}
	set := func(k string, vals ...string) {
		for _, v := range vals {
			if v != "" {
				tags[k] = v
				return
			}
		}
	}
	if getenv("GITHUB_ACTIONS") == "true" {
		tags["ci"] = "github"
	} else if getenv("GITLAB_CI") == "true" {
		tags["ci"] = "gitlab"
	}
	set("repository", getenv("GITHUB_REPOSITORY"), getenv("CI_PROJECT_PATH"))
	set("ref", getenv("GITHUB_REF"), refFromGitLab(getenv))
	set("commit", getenv("GITHUB_SHA"), getenv("CI_COMMIT_SHA"))
	set("event", getenv("GITHUB_EVENT_NAME"), getenv("CI_PIPELINE_SOURCE"))
	// The code host, for links to findings (GitHub Enterprise, a GitLab
	// instance).
	set("server_url", getenv("GITHUB_SERVER_URL"), getenv("CI_SERVER_URL"))
	if tags["commit"] == "" {
		set("commit", git(src, "rev-parse", "HEAD"))
	}
	if tags["ref"] == "" {
		if b := git(src, "rev-parse", "--abbrev-ref", "HEAD"); b != "" && b != "HEAD" {
			tags["ref"] = "refs/heads/" + b
		}
	}
	if tags["event"] == "" {
		tags["event"] = "manual"
	}
	// A pull or merge request's target branch: what its findings are new
	// against (internal/enrichers/baseline).
	switch getenv("GITHUB_EVENT_NAME") {
	case "pull_request", "pull_request_target":
		set("base_ref", baseline.NormalizeRef(getenv("GITHUB_BASE_REF")))
	case "merge_group":
		// A merge queue's check of a change: gated as the pull request it
		// is, against the branch it merges into.
		set("base_ref", baseline.NormalizeRef(githubEvent(getenv("GITHUB_EVENT_PATH")).MergeGroup.BaseRef))
	}
	set("base_ref", baseline.NormalizeRef(getenv("CI_MERGE_REQUEST_TARGET_BRANCH_NAME")))
	// The change under review, for consumers that link to it or key a
	// message on it (Slack edits the message of the same pull request):
	// its number, its source branch, and the CI run's page.
	ev := githubEvent(getenv("GITHUB_EVENT_PATH"))
	if n := ev.PullRequest.Number; n > 0 {
		set("pr", strconv.Itoa(n))
	}
	if m := prRef.FindStringSubmatch(getenv("GITHUB_REF")); m != nil {
		set("pr", m[1])
	}
	set("pr", getenv("CI_MERGE_REQUEST_IID"))
	set("head_ref", getenv("GITHUB_HEAD_REF"), getenv("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME"))
	if id := getenv("GITHUB_RUN_ID"); id != "" && tags["repository"] != "" {
		set("run_url", strings.TrimSuffix(getenv("GITHUB_SERVER_URL"), "/")+"/"+tags["repository"]+"/actions/runs/"+id)
	}
	set("run_url", getenv("CI_PIPELINE_URL"))
	// The repository's default branch: the one whose scans say what is
	// fixed (internal/enrichers/dedup).
	set("default_branch", getenv("CI_DEFAULT_BRANCH"), githubEvent(getenv("GITHUB_EVENT_PATH")).Repository.DefaultBranch,
		strings.TrimPrefix(git(src, "symbolic-ref", "--quiet", "refs/remotes/origin/HEAD"), "refs/remotes/origin/"))
	id := uuid.NewString()
	// A scan that runs in several places (a Tekton PipelineRun's tasks,
	// Dracon's DRACON_SCAN_* convention) is named once, by whoever started
	// it: its id, start time and tags win over what this process sees.
	given, _ := ScanFromEnv(getenv)
	if given.ID != "" {
		id = given.ID
	}
	if !given.Time.IsZero() {
		now = given.Time
	}
	for k, v := range given.Tags {
		tags[k] = v
	}
	return &v1.ScanInfo{
		ScanUuid:      id,
		ScanStartTime: timestamppb.New(now),
		ScanTags:      tags,
	}
}

// githubEvent reads what Dracon uses of the event payload GitHub Actions
// writes for every workflow run; a missing or unreadable one is empty.
func githubEvent(eventPath string) (ev struct {
	Repository struct {
		DefaultBranch string `json:"default_branch"`
	} `json:"repository"`
	MergeGroup struct {
		BaseRef string `json:"base_ref"`
	} `json:"merge_group"`
	PullRequest struct {
		Number int `json:"number"`
	} `json:"pull_request"`
}) {
	if eventPath == "" {
		return ev
	}
	b, err := os.ReadFile(eventPath)
	if err != nil {
		return ev
	}
	_ = json.Unmarshal(b, &ev)
	return ev
}

// prRef is a pull request's ref in GitHub Actions (refs/pull/7/merge).
var prRef = regexp.MustCompile(`^refs/pull/([0-9]+)/(merge|head)$`)

func refFromGitLab(getenv func(string) string) string {
	if mr := getenv("CI_MERGE_REQUEST_IID"); mr != "" {
		return "refs/merge-requests/" + mr + "/head"
	}
	if t := getenv("CI_COMMIT_TAG"); t != "" {
		return "refs/tags/" + t
	}
	if b := getenv("CI_COMMIT_BRANCH"); b != "" {
		return "refs/heads/" + b
	}
	return ""
}

func git(dir string, args ...string) string {
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	out, err := cmd.Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// GivenScan is a scan's name as its starter passed it on, in Dracon's
// DRACON_SCAN_ID, DRACON_SCAN_TIME (RFC 3339) and DRACON_SCAN_TAGS (a
// JSON object of strings) environment variables.
type GivenScan struct {
	ID   string
	Time time.Time
	Tags map[string]string
}

// ScanFromEnv reads DRACON_SCAN_*; the error names a variable whose value
// is malformed (the rest are still read).
func ScanFromEnv(getenv func(string) string) (GivenScan, error) {
	var g GivenScan
	var errs []error
	g.ID = getenv("DRACON_SCAN_ID")
	if v := getenv("DRACON_SCAN_TIME"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			errs = append(errs, fmt.Errorf("DRACON_SCAN_TIME %q is not an RFC 3339 time", v))
		}
		g.Time = t
	}
	if v := getenv("DRACON_SCAN_TAGS"); v != "" {
		if err := json.Unmarshal([]byte(v), &g.Tags); err != nil {
			errs = append(errs, fmt.Errorf("DRACON_SCAN_TAGS is not a JSON object of strings: %v", err))
		}
	}
	return g, errors.Join(errs...)
}
