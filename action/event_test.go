package action

import (
	"strings"
	"testing"
)

func TestPullRequestEvent(t *testing.T) {
	ev := readEventFile(t, "pull_request", "pull_request.synchronize.json")
	pr := ev.PullRequest
	if pr == nil {
		t.Fatal("no pull request")
	}
	if pr.Number != 42 || pr.BaseRef != "main" || pr.BaseSHA != "6dcb09b5b57875f334f61aebed695e2e4193db5e" ||
		pr.HeadRef != "refunds" || pr.HeadSHA != "8f2d3c1e0b9a7f6e5d4c3b2a19081726354a5b6c" {
		t.Errorf("pull request: %+v", pr)
	}
	if pr.Fork || ev.ForkPR() {
		t.Error("a branch of the repository is not a fork")
	}
	if ev.Action != "synchronize" || ev.Repository != "acme/payments" || ev.DefaultBranch != "main" || len(ev.Warnings) != 0 {
		t.Errorf("event: %+v", ev)
	}
	if ev.BaseBranch() != "main" || ev.BaseSHA() != pr.BaseSHA {
		t.Errorf("base %q %q", ev.BaseBranch(), ev.BaseSHA())
	}
	if got := ev.Describe(); got != "pull_request #42 (refunds → main)" {
		t.Errorf("Describe: %q", got)
	}
}

func TestForkPullRequest(t *testing.T) {
	ev := readEventFile(t, "pull_request", "pull_request.fork.json")
	if !ev.PullRequest.Fork || !ev.ForkPR() || ev.PullRequest.HeadRepo != "mallory/payments" {
		t.Errorf("fork: %+v", ev.PullRequest)
	}
	if !strings.HasSuffix(ev.Describe(), "from a fork") {
		t.Errorf("Describe: %q", ev.Describe())
	}
}

func TestPullRequestTargetWarns(t *testing.T) {
	ev := readEventFile(t, "pull_request_target", "pull_request_target.opened.json")
	if len(ev.Warnings) != 1 || ev.Warnings[0] != PullRequestTargetWarning {
		t.Errorf("warnings: %q", ev.Warnings)
	}
	// The token of pull_request_target can write: it is not a read-only fork PR.
	if ev.ForkPR() || !ev.PullRequest.Fork {
		t.Errorf("pull_request_target: fork %v, ForkPR %v", ev.PullRequest.Fork, ev.ForkPR())
	}
}

func TestPushEvent(t *testing.T) {
	ev := readEventFile(t, "push", "push.json")
	if ev.Push == nil || ev.Push.Ref != "refs/heads/main" || ev.Push.After != "b7e1c2d3f4a5968778695a4b3c2d1e0f9a8b7c6d" || ev.Push.Deleted {
		t.Errorf("push: %+v", ev.Push)
	}
	if ev.IsPullRequest() || ev.BaseBranch() != "" || ev.Describe() != "push to main" {
		t.Errorf("push event: %+v %q", ev, ev.Describe())
	}
	del := readEventFile(t, "push", "push.deleted.json")
	if !del.Push.Deleted || len(del.Warnings) != 1 {
		t.Errorf("deleting push: %+v %q", del.Push, del.Warnings)
	}
}

func TestOtherEvents(t *testing.T) {
	sched := readEventFile(t, "schedule", "schedule.json")
	if sched.Schedule != "17 3 * * *" || sched.Describe() != "schedule (17 3 * * *)" || sched.DefaultBranch != "main" {
		t.Errorf("schedule: %+v", sched)
	}
	wd := readEventFile(t, "workflow_dispatch", "workflow_dispatch.json")
	if wd.Describe() != "workflow_dispatch" || wd.Repository != "acme/payments" {
		t.Errorf("workflow_dispatch: %+v", wd)
	}
	mg := readEventFile(t, "merge_group", "merge_group.json")
	if mg.MergeGroup == nil || mg.BaseBranch() != "main" || mg.BaseSHA() != "6dcb09b5b57875f334f61aebed695e2e4193db5e" ||
		!strings.HasPrefix(mg.MergeGroup.HeadRef, "refs/heads/gh-readonly-queue/main/") {
		t.Errorf("merge_group: %+v", mg.MergeGroup)
	}
	rel := readEventFile(t, "release", "release.published.json")
	if rel.Release == nil || rel.Release.TagName != "v1.4.0" || rel.Action != "published" || rel.Describe() != "release v1.4.0 (published)" {
		t.Errorf("release: %+v", rel.Release)
	}
}

func TestReadEventWithoutPayload(t *testing.T) {
	ev, err := ReadEvent(envMap(map[string]string{"GITHUB_EVENT_NAME": "push", "GITHUB_EVENT_PATH": "testdata/events/none.json"}))
	if err != nil || ev.Name != "push" || ev.Push != nil {
		t.Errorf("missing payload: %+v, %v", ev, err)
	}
	ev, err = ReadEvent(envMap(nil))
	if err != nil || ev.Describe() != "a local run" {
		t.Errorf("no event: %+v, %v", ev, err)
	}
	if _, err := ParseEvent("pull_request", []byte(`{"number": 3}`)); err == nil {
		t.Error("a pull_request payload without pull_request parsed")
	}
	if _, err := ParseEvent("push", []byte(`{`)); err == nil {
		t.Error("a broken payload parsed")
	}
	// act's payload: a top-level number and a minimal pull_request.
	ev, err = ParseEvent("pull_request", []byte(`{"number": 7, "pull_request": {"head": {"ref": "f", "sha": "a"}, "base": {"ref": "main", "sha": "b"}}}`))
	if err != nil || ev.PullRequest.Number != 7 || !ev.PullRequest.Fork {
		// No repositories named: GitHub always names them; without them the
		// action takes the careful reading, a fork.
		t.Errorf("minimal payload: %+v, %v", ev.PullRequest, err)
	}
}
