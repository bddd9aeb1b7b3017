package action

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Event is what the action reads of the workflow's event: its name
// (GITHUB_EVENT_NAME) and the payload GitHub writes to GITHUB_EVENT_PATH.
type Event struct {
	Name          string // pull_request, push, schedule, workflow_dispatch, merge_group, release, ...
	Action        string // the payload's action: opened, synchronize, published, checks_requested, ...
	Repository    string // owner/name, from the payload (GITHUB_REPOSITORY is preferred)
	DefaultBranch string

	PullRequest *PullRequest // pull_request and pull_request_target
	Push        *Push
	MergeGroup  *MergeGroup
	Release     *Release
	Schedule    string // the cron line of a schedule event

	// Warnings are what the user should know of this event.
	Warnings []string
}

// PullRequest is a pull request's part of the payload.
type PullRequest struct {
	Number           int
	BaseRef, BaseSHA string // the target branch (main) and its commit when the event fired
	HeadRef, HeadSHA string // the pull request's branch and its last commit
	HeadRepo         string // owner/name of the head; "" when the fork was deleted
	BaseRepo         string
	// Fork says the head is in another repository: the workflow's token
	// is read-only and secrets are not passed (on pull_request).
	Fork  bool
	Draft bool
	URL   string
}

// Push is a push's part of the payload.
type Push struct {
	Ref, Before, After string
	Created, Deleted   bool
}

// MergeGroup is a merge queue's group (merge_group).
type MergeGroup struct {
	HeadSHA, HeadRef string // the queue's temporary branch (refs/heads/gh-readonly-queue/...)
	BaseSHA, BaseRef string // the branch merged into (refs/heads/main)
}

// Release is a release's part of the payload.
type Release struct {
	TagName, TargetCommitish, Name, URL string
	Draft, Prerelease                   bool
}

// The events the action knows; any other is scanned as a manual run.
const (
	EventPullRequest       = "pull_request"
	EventPullRequestTarget = "pull_request_target"
	EventPush              = "push"
	EventSchedule          = "schedule"
	EventWorkflowDispatch  = "workflow_dispatch"
	EventMergeGroup        = "merge_group"
	EventRelease           = "release"
)

// payload is the part of the event payloads the action reads
// (docs.github.com "Webhook events and payloads").
type payload struct {
	Action      string `json:"action"`
	Number      int    `json:"number"`
	Ref         string `json:"ref"`
	Before      string `json:"before"`
	After       string `json:"after"`
	Created     bool   `json:"created"`
	Deleted     bool   `json:"deleted"`
	Schedule    string `json:"schedule"`
	PullRequest *struct {
		Number  int    `json:"number"`
		Draft   bool   `json:"draft"`
		HTMLURL string `json:"html_url"`
		Head    prEnd  `json:"head"`
		Base    prEnd  `json:"base"`
	} `json:"pull_request"`
	MergeGroup *struct {
		HeadSHA string `json:"head_sha"`
		HeadRef string `json:"head_ref"`
		BaseSHA string `json:"base_sha"`
		BaseRef string `json:"base_ref"`
	} `json:"merge_group"`
	Release *struct {
		TagName         string `json:"tag_name"`
		TargetCommitish string `json:"target_commitish"`
		Name            string `json:"name"`
		HTMLURL         string `json:"html_url"`
		Draft           bool   `json:"draft"`
		Prerelease      bool   `json:"prerelease"`
	} `json:"release"`
	Repository *struct {
		FullName      string `json:"full_name"`
		DefaultBranch string `json:"default_branch"`
	} `json:"repository"`
}

type prEnd struct {
	Ref  string `json:"ref"`
	SHA  string `json:"sha"`
	Repo *struct {
		FullName string `json:"full_name"`
	} `json:"repo"`
}

// PullRequestTargetWarning is said on a pull_request_target event.
const PullRequestTargetWarning = "pull_request_target runs with the base repository's write token and secrets: " +
	"a checkout of the pull request's head puts its files (dracon.yaml, scanner configs, build scripts a scanner may run) " +
	"next to them. Use the pull_request event to scan pull requests; " +
	"Dracon reads policies and the gate from the target branch either way"

// ReadEvent reads the event: its name from GITHUB_EVENT_NAME, the payload
// from GITHUB_EVENT_PATH. No payload (a run outside Actions) is an Event
// with only its name.
func ReadEvent(getenv func(string) string) (*Event, error) {
	ev := &Event{Name: strings.TrimSpace(getenv("GITHUB_EVENT_NAME"))}
	path := strings.TrimSpace(getenv("GITHUB_EVENT_PATH"))
	if path == "" {
		return ev, nil
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return ev, nil
	}
	if err != nil {
		return nil, fmt.Errorf("event payload: %w", err)
	}
	if err := ev.parse(data); err != nil {
		return nil, fmt.Errorf("event payload %s: %w", path, err)
	}
	return ev, nil
}

// ParseEvent reads a payload of event name.
func ParseEvent(name string, data []byte) (*Event, error) {
	ev := &Event{Name: name}
	if err := ev.parse(data); err != nil {
		return nil, err
	}
	return ev, nil
}

func (ev *Event) parse(data []byte) error {
	if len(strings.TrimSpace(string(data))) == 0 {
		return nil
	}
	var p payload
	if err := json.Unmarshal(data, &p); err != nil {
		return err
	}
	ev.Action = p.Action
	if p.Repository != nil {
		ev.Repository, ev.DefaultBranch = p.Repository.FullName, p.Repository.DefaultBranch
	}
	switch ev.Name {
	case EventPullRequest, EventPullRequestTarget:
		if p.PullRequest == nil {
			return fmt.Errorf("a %s event without pull_request", ev.Name)
		}
		pr := &PullRequest{
			Number: p.PullRequest.Number, Draft: p.PullRequest.Draft, URL: p.PullRequest.HTMLURL,
			BaseRef: p.PullRequest.Base.Ref, BaseSHA: p.PullRequest.Base.SHA,
			HeadRef: p.PullRequest.Head.Ref, HeadSHA: p.PullRequest.Head.SHA,
		}
		if pr.Number == 0 {
			pr.Number = p.Number
		}
		if r := p.PullRequest.Head.Repo; r != nil {
			pr.HeadRepo = r.FullName
		}
		if r := p.PullRequest.Base.Repo; r != nil {
			pr.BaseRepo = r.FullName
		}
		if pr.BaseRepo == "" {
			pr.BaseRepo = ev.Repository
		}
		// A head repository that is not the base (or that no longer
		// exists) is a fork. A repository that is itself a fork has
		// repo.fork set on its own pull requests too: compare names.
		pr.Fork = pr.HeadRepo == "" || !strings.EqualFold(pr.HeadRepo, pr.BaseRepo)
		ev.PullRequest = pr
		if ev.Name == EventPullRequestTarget {
			ev.Warnings = append(ev.Warnings, PullRequestTargetWarning)
		}
	case EventPush:
		ev.Push = &Push{Ref: p.Ref, Before: p.Before, After: p.After, Created: p.Created, Deleted: p.Deleted}
		if p.Deleted {
			ev.Warnings = append(ev.Warnings, "this push deleted "+p.Ref+": there is nothing of it to scan")
		}
	case EventMergeGroup:
		if p.MergeGroup == nil {
			return errors.New("a merge_group event without merge_group")
		}
		ev.MergeGroup = &MergeGroup{HeadSHA: p.MergeGroup.HeadSHA, HeadRef: p.MergeGroup.HeadRef,
			BaseSHA: p.MergeGroup.BaseSHA, BaseRef: p.MergeGroup.BaseRef}
	case EventRelease:
		if p.Release != nil {
			ev.Release = &Release{TagName: p.Release.TagName, TargetCommitish: p.Release.TargetCommitish,
				Name: p.Release.Name, URL: p.Release.HTMLURL, Draft: p.Release.Draft, Prerelease: p.Release.Prerelease}
		}
	case EventSchedule:
		ev.Schedule = p.Schedule
	}
	return nil
}

// IsPullRequest says the event is a pull request's.
func (ev *Event) IsPullRequest() bool { return ev != nil && ev.PullRequest != nil }

// ForkPR says the event is a pull request from a fork, whose token
// cannot write (on pull_request).
func (ev *Event) ForkPR() bool {
	return ev.IsPullRequest() && ev.PullRequest.Fork && ev.Name == EventPullRequest
}

// BaseBranch is the branch a change is new against: a pull request's
// target, a merge group's base; "" for the others.
func (ev *Event) BaseBranch() string {
	switch {
	case ev == nil:
		return ""
	case ev.PullRequest != nil:
		return ev.PullRequest.BaseRef
	case ev.MergeGroup != nil:
		return strings.TrimPrefix(ev.MergeGroup.BaseRef, "refs/heads/")
	}
	return ""
}

// BaseSHA is the commit a change is diffed from: a pull request's base,
// a merge group's base; "" for the others.
func (ev *Event) BaseSHA() string {
	switch {
	case ev == nil:
		return ""
	case ev.PullRequest != nil:
		return ev.PullRequest.BaseSHA
	case ev.MergeGroup != nil:
		return ev.MergeGroup.BaseSHA
	}
	return ""
}

// Describe is the event in a few words, for the job summary.
func (ev *Event) Describe() string {
	switch {
	case ev == nil || ev.Name == "":
		return "a local run"
	case ev.PullRequest != nil:
		s := fmt.Sprintf("%s #%d (%s → %s)", ev.Name, ev.PullRequest.Number, ev.PullRequest.HeadRef, ev.PullRequest.BaseRef)
		if ev.PullRequest.Fork {
			s += " from a fork"
		}
		return s
	case ev.MergeGroup != nil:
		return fmt.Sprintf("merge_group into %s", strings.TrimPrefix(ev.MergeGroup.BaseRef, "refs/heads/"))
	case ev.Release != nil:
		return fmt.Sprintf("release %s (%s)", ev.Release.TagName, ev.Action)
	case ev.Push != nil:
		return "push to " + strings.TrimPrefix(strings.TrimPrefix(ev.Push.Ref, "refs/heads/"), "refs/tags/")
	case ev.Name == EventSchedule && ev.Schedule != "":
		return fmt.Sprintf("schedule (%s)", ev.Schedule)
	}
	return ev.Name
}
