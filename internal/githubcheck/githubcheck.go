// Package githubcheck posts a gate's verdict on a commit as a GitHub check
// run (POST /repos/{owner}/{repo}/check-runs), so that a branch protection
// rule or a ruleset can require it by name: dracon/release-gate unless
// told otherwise.
//
// Creating check runs needs a GitHub App's token: in GitHub Actions the
// workflow's GITHUB_TOKEN with `permissions: checks: write`; a personal
// access token is refused ("You must authenticate via a GitHub App").
// A run created with GITHUB_TOKEN joins whichever check suite GitHub
// picks for the Actions app (often another workflow's), so a rule should
// require it by its name, which is why the name is fixed and unique.
package githubcheck

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/draconsec/dracon/internal/ghapi"
	"github.com/google/go-github/v60/github"
)

// DefaultName is the check run's name when Run.Name is empty.
const DefaultName = "dracon/release-gate"

// MaxOutput is the most bytes GitHub takes in output.summary and in
// output.text. Its documentation says 65535 characters; it counts bytes
// ("summary exceeds a maximum bytesize of 65535", github/docs#35252).
const MaxOutput = 65535

// The conclusions a gate posts. A required check passes on success and
// on neutral (GitHub counts neutral as passing), and fails on failure.
const (
	Success = "success" // the gate passed
	Failure = "failure" // the gate failed
	Neutral = "neutral" // the gate only reports (it passes a required check too)
)

// Run is one check run to post.
type Run struct {
	Owner, Repo string // the repository, e.g. "octo-org", "octo-repo"
	HeadSHA     string // the commit, the full 40 hex digits
	Name        string // "" is DefaultName

	Conclusion string // Success, Failure or Neutral

	// The run's output, Markdown. Summary and Text are cut to MaxOutput
	// bytes with a line saying so; Title is the line GitHub shows beside
	// the check's name.
	Title, Summary, Text string

	DetailsURL string // optional: where the details are, e.g. the CI job
	ExternalID string // optional: the scan's id

	StartedAt   time.Time // optional
	CompletedAt time.Time // zero: now
}

var fullSHA = regexp.MustCompile(`^[0-9a-fA-F]{40}$`)

func (r Run) name() string {
	if r.Name == "" {
		return DefaultName
	}
	return r.Name
}

func (r Run) validate() error {
	var problems []string
	if r.Owner == "" || r.Repo == "" || strings.Contains(r.Owner, "/") || strings.Contains(r.Repo, "/") {
		problems = append(problems, fmt.Sprintf("repository %q/%q: want an owner and a name", r.Owner, r.Repo))
	}
	if !fullSHA.MatchString(r.HeadSHA) {
		problems = append(problems, fmt.Sprintf("head SHA %q is not a full commit SHA (40 hex digits; resolve a tag or a short SHA with git rev-parse)", r.HeadSHA))
	}
	switch r.Conclusion {
	case Success, Failure, Neutral:
	default:
		problems = append(problems, fmt.Sprintf("conclusion %q: want success, failure or neutral", r.Conclusion))
	}
	if r.Title == "" {
		problems = append(problems, "no title")
	}
	if r.Summary == "" {
		problems = append(problems, "no summary") // GitHub requires one with the output
	}
	if len(problems) > 0 {
		return fmt.Errorf("github check run %q: %s", r.name(), strings.Join(problems, "; "))
	}
	return nil
}

// Options returns the request body Post sends for r: status completed,
// its conclusion and completion time, the output cut to GitHub's limits.
func (r Run) Options(now time.Time) github.CreateCheckRunOptions {
	done := r.CompletedAt
	if done.IsZero() {
		done = now
	}
	opts := github.CreateCheckRunOptions{
		Name:        r.name(),
		HeadSHA:     strings.ToLower(r.HeadSHA),
		Status:      github.String("completed"),
		Conclusion:  github.String(r.Conclusion),
		CompletedAt: &github.Timestamp{Time: done.UTC().Truncate(time.Second)},
		Output: &github.CheckRunOutput{
			Title:   github.String(r.Title),
			Summary: github.String(Cut(r.Summary, MaxOutput, "summary")),
		},
	}
	if r.Text != "" {
		opts.Output.Text = github.String(Cut(r.Text, MaxOutput, "text"))
	}
	if !r.StartedAt.IsZero() {
		opts.StartedAt = &github.Timestamp{Time: r.StartedAt.UTC().Truncate(time.Second)}
	}
	if r.DetailsURL != "" {
		opts.DetailsURL = github.String(r.DetailsURL)
	}
	if r.ExternalID != "" {
		opts.ExternalID = github.String(r.ExternalID)
	}
	return opts
}

// Cut returns s when it is at most limit bytes, else its beginning (at a
// line's end when one is near, never inside a UTF-8 character) and a line
// saying it was cut, limit bytes at most in all. what names the field in
// that line.
func Cut(s string, limit int, what string) string {
	if len(s) <= limit {
		return s
	}
	note := fmt.Sprintf("\n\n… cut: the %s was %d bytes and GitHub takes at most %d.", what, len(s), limit)
	keep := limit - len(note)
	if keep <= 0 {
		return note[:limit] // a limit too small for the note; not GitHub's
	}
	for keep > 0 && !utf8.RuneStart(s[keep]) {
		keep--
	}
	head := s[:keep]
	if i := strings.LastIndexByte(head, '\n'); i >= keep-keep/8 {
		head = head[:i] // end on a whole line (a Markdown table's row) when one ends in the last eighth
	}
	return head + note
}

// Post creates the check run on r.HeadSHA and returns its id and its page.
// Its errors say what was refused and why (an *Error for an answer from
// GitHub); they never contain the token.
func Post(ctx context.Context, c *github.Client, r Run) (id int64, htmlURL string, err error) {
	if c == nil {
		return 0, "", errors.New("github check run: no GitHub client")
	}
	if err := r.validate(); err != nil {
		return 0, "", err
	}
	run, resp, err := c.Checks.CreateCheckRun(ctx, r.Owner, r.Repo, r.Options(time.Now()))
	if err != nil {
		return 0, "", describe(r, resp, err)
	}
	if run.GetID() == 0 {
		return 0, "", &Error{Name: r.name(), Owner: r.Owner, Repo: r.Repo, StatusCode: statusOf(resp), Message: "GitHub answered without a check run id"}
	}
	return run.GetID(), run.GetHTMLURL(), nil
}

// Error is GitHub's refusal of a check run.
type Error struct {
	Name, Owner, Repo string
	StatusCode        int    // the HTTP status; 0 when GitHub did not answer
	Message           string // GitHub's message and its validation errors
	Hint              string // what to change, when the answer says
	Err               error  // go-github's error
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "github check run %q on %s/%s: ", e.Name, e.Owner, e.Repo)
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, "POST /repos/%s/%s/check-runs: HTTP %d %s: ", e.Owner, e.Repo, e.StatusCode, http.StatusText(e.StatusCode))
	}
	b.WriteString(e.Message)
	if e.Hint != "" {
		b.WriteString(" (hint: " + e.Hint + ")")
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

func statusOf(resp *github.Response) int {
	if resp != nil && resp.Response != nil {
		return resp.StatusCode
	}
	return 0
}

func describe(r Run, resp *github.Response, err error) error {
	e := &Error{Name: r.name(), Owner: r.Owner, Repo: r.Repo, StatusCode: statusOf(resp), Err: err}
	e.Message = ghapi.Message(err)
	var rl *github.RateLimitError
	var ab *github.AbuseRateLimitError
	switch {
	case errors.As(err, &rl):
		e.Hint = "rate limit exhausted until " + rl.Rate.Reset.UTC().Format(time.RFC3339)
	case errors.As(err, &ab):
		e.Hint = "secondary rate limit"
		if ab.RetryAfter != nil {
			e.Hint += fmt.Sprintf(": retry after %s", *ab.RetryAfter)
		}
	}
	e.Hint = joinHint(e.Hint, hint(e.StatusCode, e.Message))
	return e
}

func joinHint(a, b string) string {
	if a == "" || b == "" {
		return a + b
	}
	return a + "; " + b
}

func hint(status int, msg string) string {
	lower := strings.ToLower(msg)
	switch {
	case status == http.StatusForbidden && strings.Contains(lower, "resource not accessible by integration"):
		return "the token may not write checks: give the workflow or job `permissions: checks: write`; " +
			"a pull request from a fork gets a read-only token whatever it asks for"
	case status == http.StatusForbidden && strings.Contains(lower, "must authenticate via a github app"):
		return "only a GitHub App's token can create check runs: use the workflow's GITHUB_TOKEN or an app installation token, not a personal access token"
	case status == http.StatusUnauthorized:
		return "the token is missing, expired or revoked"
	case status == http.StatusNotFound:
		return "no such repository, or the token cannot see it"
	case status == http.StatusUnprocessableEntity && strings.Contains(lower, "no commit found"):
		return "the commit is not in this repository on GitHub: push it first, and post on the repository it was pushed to"
	case status == http.StatusUnprocessableEntity && strings.Contains(lower, "bytesize"):
		return "the output is over GitHub's limit"
	}
	return ""
}

// NewClient returns a client for GitHub's REST API authenticated with
// token (sent as a Bearer token). apiURL is "" or https://api.github.com
// for GitHub.com, else the API of a GitHub Enterprise Server (its
// GITHUB_API_URL, https://HOST/api/v3) or of GHE.com
// (https://api.SUBDOMAIN.ghe.com).
func NewClient(token, apiURL string) (*github.Client, error) {
	token = strings.TrimSpace(token)
	if token == "" {
		return nil, errors.New("github: no token (set GITHUB_TOKEN; in GitHub Actions pass ${{ github.token }} with `permissions: checks: write`)")
	}
	c := github.NewClient(&http.Client{Timeout: 60 * time.Second}).WithAuthToken(token)
	apiURL = strings.TrimSpace(apiURL)
	if apiURL == "" {
		return c, nil
	}
	u, err := url.Parse(apiURL)
	if err != nil {
		return nil, errors.New("github: the API URL does not parse") // url's error would repeat it, secrets and all
	}
	shown := *u // for errors: without a password, a query or a fragment
	shown.RawQuery, shown.Fragment = "", ""
	switch {
	case u.Scheme != "https" && u.Scheme != "http", u.Host == "":
		return nil, fmt.Errorf("github: API URL %q: want https://HOST/api/v3 (GitHub Enterprise Server) or https://api.github.com", shown.Redacted())
	case u.User != nil || u.RawQuery != "" || u.Fragment != "":
		// The URL appears in the errors of a failed request: keep secrets out of it.
		return nil, fmt.Errorf("github: API URL %q: no credentials, query or fragment please (the token is passed on its own)", shown.Redacted())
	}
	if strings.EqualFold(u.Host, "api.github.com") {
		return c, nil
	}
	base := strings.TrimSuffix(u.String(), "/") + "/"
	upload := base
	if p := strings.TrimSuffix(u.Path, "/"); strings.HasSuffix(p, "/api/v3") {
		uu := *u
		uu.Path = strings.TrimSuffix(p, "/api/v3") + "/api/uploads/"
		upload = uu.String()
	}
	return c.WithEnterpriseURLs(base, upload)
}
