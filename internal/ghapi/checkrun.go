package ghapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/go-github/v60/github"
)

// DefaultCheckName is a scan's check run's name when CheckRun.Name is "".
// A check run made with GITHUB_TOKEN joins whichever check suite GitHub
// picks (often another workflow's), so the name must say what it is.
const DefaultCheckName = "dracon/scan"

// MaxAnnotationsPerRequest is the most annotations GitHub takes in one
// create or update of a check run; more are added by further updates.
const MaxAnnotationsPerRequest = 50

// MaxOutputBytes is the most output.summary and output.text may hold; the
// docs say 65535 characters, GitHub counts bytes (github/docs#35252).
const MaxOutputBytes = 65535

// Limits of an annotation's fields, GitHub's: message and raw_details
// 64 KB, title 255 characters.
const (
	maxAnnotationBytes = 65535
	maxAnnotationTitle = 255
)

// The annotation levels.
const (
	Notice  = "notice"
	Warning = "warning"
	Failure = "failure"
)

// CheckRun is a check run and its annotations to post.
type CheckRun struct {
	Owner, Repo string
	HeadSHA     string // the commit, 40 hex digits
	Name        string // "" is DefaultCheckName
	Conclusion  string // success, failure or neutral
	// The output, Markdown; Summary and Text are cut to MaxOutputBytes.
	Title, Summary, Text   string
	DetailsURL, ExternalID string // optional
	Annotations            []Annotation
}

// Annotation is one annotation of a check run.
type Annotation struct {
	Path                   string // relative to the repository's root
	StartLine, EndLine     int    // EndLine 0 is StartLine
	StartColumn, EndColumn int    // optional; only on a one-line annotation (GitHub's rule), else dropped
	Level                  string // Notice, Warning or Failure ("" is Warning)
	Message                string
	Title, RawDetails      string // optional
}

// CheckRunResult is the check run posted.
type CheckRunResult struct {
	ID          int64
	URL         string // its page
	Annotations int    // annotations posted
	Updates     int    // update requests sent
}

func (r CheckRun) name() string {
	if r.Name == "" {
		return DefaultCheckName
	}
	return r.Name
}

func (r CheckRun) validate(op string) error {
	ps := []string{checkRepo(r.Owner, r.Repo), checkSHA("head SHA", r.HeadSHA)}
	switch r.Conclusion {
	case "success", "failure", "neutral":
	default:
		ps = append(ps, fmt.Sprintf("conclusion %q: want success, failure or neutral", r.Conclusion))
	}
	if r.Title == "" {
		ps = append(ps, "no title")
	}
	if r.Summary == "" {
		ps = append(ps, "no summary") // GitHub requires one with the output
	}
	for i, a := range r.Annotations {
		switch {
		case a.Path == "" || strings.HasPrefix(a.Path, "/"):
			ps = append(ps, fmt.Sprintf("annotation %d: path %q: want a path relative to the repository's root", i, a.Path))
		case a.StartLine < 1 || a.EndLine != 0 && a.EndLine < a.StartLine:
			ps = append(ps, fmt.Sprintf("annotation %d on %s: lines %d-%d", i, a.Path, a.StartLine, a.EndLine))
		case a.Level != "" && a.Level != Notice && a.Level != Warning && a.Level != Failure:
			ps = append(ps, fmt.Sprintf("annotation %d on %s: level %q: want notice, warning or failure", i, a.Path, a.Level))
		case strings.TrimSpace(a.Message) == "":
			ps = append(ps, fmt.Sprintf("annotation %d on %s:%d: no message", i, a.Path, a.StartLine))
		}
	}
	return problems(op+" "+fmt.Sprintf("%q", r.name()), r.Owner, r.Repo, ps...)
}

func (a Annotation) api() *github.CheckRunAnnotation {
	end := a.EndLine
	if end == 0 {
		end = a.StartLine
	}
	level := a.Level
	if level == "" {
		level = Warning
	}
	out := &github.CheckRunAnnotation{
		Path:            github.String(a.Path),
		StartLine:       github.Int(a.StartLine),
		EndLine:         github.Int(end),
		AnnotationLevel: github.String(level),
		Message:         github.String(cut(a.Message, maxAnnotationBytes, bytesUnit, "message")),
	}
	if end == a.StartLine && a.StartColumn > 0 {
		out.StartColumn = github.Int(a.StartColumn)
		if a.EndColumn >= a.StartColumn {
			out.EndColumn = github.Int(a.EndColumn)
		}
	}
	if a.Title != "" {
		t := a.Title
		if utf8.RuneCountInString(t) > maxAnnotationTitle {
			t = string([]rune(t)[:maxAnnotationTitle-1]) + "…"
		}
		out.Title = github.String(t)
	}
	if a.RawDetails != "" {
		out.RawDetails = github.String(cut(a.RawDetails, maxAnnotationBytes, bytesUnit, "raw details"))
	}
	return out
}

// PostCheckRunWithAnnotations creates check run r in progress (its
// output, no annotations), then adds its annotations in updates of
// MaxAnnotationsPerRequest each, the last of which completes it with its
// conclusion (one update when there are none). When an update is refused,
// it still completes the run, its summary saying how many annotations
// made it, and returns the refusal.
func PostCheckRunWithAnnotations(ctx context.Context, c *github.Client, r CheckRun, opts ...Option) (CheckRunResult, error) {
	const op = "post check run"
	if c == nil {
		return CheckRunResult{}, errors.New("github: " + op + ": no GitHub client")
	}
	if err := r.validate(op); err != nil {
		return CheckRunResult{}, err
	}
	name := r.name()
	output := func(summary string, batch []*github.CheckRunAnnotation) *github.CheckRunOutput {
		o := &github.CheckRunOutput{
			Title:       github.String(r.Title),
			Summary:     github.String(cut(summary, MaxOutputBytes, bytesUnit, "summary")),
			Annotations: batch,
		}
		if r.Text != "" {
			o.Text = github.String(cut(r.Text, MaxOutputBytes, bytesUnit, "text"))
		}
		return o
	}
	p := newPacer(opts)
	create := github.CreateCheckRunOptions{
		Name:      name,
		HeadSHA:   strings.ToLower(r.HeadSHA),
		Status:    github.String("in_progress"),
		StartedAt: &github.Timestamp{Time: time.Now().UTC().Truncate(time.Second)},
		Output:    output(r.Summary, nil),
	}
	if r.DetailsURL != "" {
		create.DetailsURL = github.String(r.DetailsURL)
	}
	if r.ExternalID != "" {
		create.ExternalID = github.String(r.ExternalID)
	}
	cr := request{op: fmt.Sprintf("create check run %q", name), owner: r.Owner, repo: r.Repo, method: http.MethodPost,
		path: fmt.Sprintf("repos/%s/%s/check-runs", r.Owner, r.Repo), kind: checkRuns}
	var run *github.CheckRun
	if _, err := p.do(ctx, cr, func() (resp *github.Response, err error) {
		run, resp, err = c.Checks.CreateCheckRun(ctx, r.Owner, r.Repo, create)
		return resp, err
	}); err != nil {
		return CheckRunResult{}, err
	}
	res := CheckRunResult{ID: run.GetID(), URL: run.GetHTMLURL()}
	if res.ID == 0 {
		return res, cr.fail("GitHub answered without a check run id", "")
	}

	up := request{op: fmt.Sprintf("update check run %q", name), owner: r.Owner, repo: r.Repo, method: http.MethodPatch,
		path: fmt.Sprintf("repos/%s/%s/check-runs/%d", r.Owner, r.Repo, res.ID), kind: checkRuns}
	update := func(o github.UpdateCheckRunOptions) error {
		_, err := p.do(ctx, up, func() (resp *github.Response, err error) {
			_, resp, err = c.Checks.UpdateCheckRun(ctx, r.Owner, r.Repo, res.ID, o)
			return resp, err
		})
		res.Updates++
		return err
	}
	complete := func(o *github.UpdateCheckRunOptions) {
		o.Status = github.String("completed")
		o.Conclusion = github.String(r.Conclusion)
		o.CompletedAt = &github.Timestamp{Time: time.Now().UTC().Truncate(time.Second)}
	}
	n := len(r.Annotations)
	for start := 0; start == 0 || start < n; start += MaxAnnotationsPerRequest {
		end := min(start+MaxAnnotationsPerRequest, n)
		var batch []*github.CheckRunAnnotation
		for _, a := range r.Annotations[start:end] {
			batch = append(batch, a.api())
		}
		o := github.UpdateCheckRunOptions{Name: name, Output: output(r.Summary, batch)}
		last := end == n
		if last {
			complete(&o)
		}
		if err := update(o); err != nil {
			// Complete it all the same, without annotations, saying what is
			// missing: a run left in progress holds a required check pending.
			o := github.UpdateCheckRunOptions{Name: name, Output: output(fmt.Sprintf("%s\n\n… %d of %d annotations were posted; GitHub refused the rest: %v", r.Summary, res.Annotations, n, err), nil)}
			complete(&o)
			update(o) //nolint:errcheck // the refusal above is the error to return
			return res, err
		}
		res.Annotations += len(batch)
	}
	return res, nil
}
