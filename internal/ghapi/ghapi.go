// Package ghapi is what the Dracon GitHub Action needs from GitHub's REST
// API, through go-github v60:
//
//   - UploadSARIF and WaitForProcessing: a code scanning upload
//     (POST /repos/{o}/{r}/code-scanning/sarifs, gzip then base64, at most
//     MaxSARIFGzipBytes) and its processing status, errors included;
//   - UpsertComment: one sticky pull-request comment found by a hidden
//     marker across every page of the comments, edited in place;
//   - PostReviewComments: inline comments, only on lines of the pull
//     request's diff, not repeated, in one review;
//   - PostCheckRunWithAnnotations: a check run and its annotations, 50 per
//     request.
//
// Every request goes through one pacer per call: requests are sequential,
// writes are at least a second apart (GitHub's "pause between mutative
// requests"), and a rate-limited answer (403 or 429 with Retry-After,
// x-ratelimit-remaining: 0 and x-ratelimit-reset, or neither) is waited
// out and retried, within a bounded total wait (WithMaxWait).
//
// Every error from GitHub is an *Error: what failed, the request, the HTTP
// status, GitHub's message and a hint. None contains the token: go-github
// sends it in a header, and the errors only hold GitHub's answers and
// URLs, which carry no credentials.
//
// Error, describe and the hints are the shared part of
// internal/githubcheck's errors made general (an operation and a request
// instead of a check run); githubcheck could wrap them.
package ghapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/go-github/v60/github"
)

// Defaults of the pacer (see Option).
const (
	// DefaultMaxWait is the most time one call spends waiting out rate
	// limits before it gives up.
	DefaultMaxWait = 2 * time.Minute
	// DefaultWriteGap is the pause between two writes (POST, PATCH, PUT,
	// DELETE) in one call: GitHub's best practices ask for a second.
	DefaultWriteGap = time.Second
	// maxRetries bounds the retries of one request.
	maxRetries = 5
)

// Option tunes a call's pacing.
type Option func(*settings)

type settings struct {
	maxWait        time.Duration
	writeGap       time.Duration
	maxReview      int           // PostReviewComments: most comments in its review
	transientDelay time.Duration // first pause before retrying a GET answered 5xx
}

func newSettings(opts []Option) settings {
	s := settings{maxWait: DefaultMaxWait, writeGap: DefaultWriteGap, maxReview: DefaultMaxReviewComments, transientDelay: time.Second}
	for _, o := range opts {
		if o != nil {
			o(&s)
		}
	}
	return s
}

// WithMaxWait bounds the total time one call waits on rate limits (and on
// retries of GitHub's 5xx answers to reads); 0 or less: never wait.
func WithMaxWait(d time.Duration) Option { return func(s *settings) { s.maxWait = max(d, 0) } }

// WithWriteGap sets the pause between two writes of one call; 0 or less:
// none.
func WithWriteGap(d time.Duration) Option { return func(s *settings) { s.writeGap = max(d, 0) } }

// WithMaxReviewComments caps the inline comments PostReviewComments posts
// in one run (DefaultMaxReviewComments); the rest are reported skipped.
func WithMaxReviewComments(n int) Option { return func(s *settings) { s.maxReview = max(n, 0) } }

// Error is GitHub's refusal of a request, or a request not sent because
// GitHub would refuse it.
type Error struct {
	Op          string // what failed, e.g. "upload SARIF"
	Owner, Repo string
	Method      string // the request, e.g. "POST"; "" when nothing was sent
	Path        string // e.g. "/repos/octo-org/octo-repo/code-scanning/sarifs"
	StatusCode  int    // the HTTP status; 0 when GitHub did not answer
	Message     string // GitHub's message and its validation errors
	Hint        string // what to change, when the answer says
	Err         error  // go-github's error, if any

	tooLarge bool // a SARIF over the limit (errors.Is ErrTooLarge)
}

// ErrTooLarge matches (errors.Is) an upload refused for its size, before
// sending (over MaxSARIFGzipBytes) or by GitHub (413).
var ErrTooLarge = errors.New("too large for GitHub")

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "github: %s on %s/%s: ", e.Op, e.Owner, e.Repo)
	if e.Method != "" {
		fmt.Fprintf(&b, "%s %s: ", e.Method, e.Path)
	}
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, "HTTP %d %s: ", e.StatusCode, http.StatusText(e.StatusCode))
	}
	b.WriteString(e.Message)
	if e.Hint != "" {
		b.WriteString(" (hint: " + e.Hint + ")")
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Is reports whether e is an upload refused for its size (ErrTooLarge).
func (e *Error) Is(target error) bool {
	return target == ErrTooLarge && (e.tooLarge || e.StatusCode == http.StatusRequestEntityTooLarge)
}

// request is one REST call: what it does and which hints apply.
type request struct {
	op          string
	owner, repo string
	method      string
	path        string // "repos/o/r/...", as go-github's NewRequest takes it
	kind        kind
}

func (r request) write() bool { return r.method != http.MethodGet && r.method != http.MethodHead }

func (r request) fail(msg, hint string) *Error {
	return &Error{Op: r.op, Owner: r.owner, Repo: r.repo, Message: msg, Hint: hint}
}

// kind says which permission a request needs, for the hints.
type kind int

const (
	codeScanning kind = iota
	issueComments
	pullRequests
	checkRuns
)

func statusOf(resp *github.Response) int {
	if resp != nil && resp.Response != nil {
		return resp.StatusCode
	}
	return 0
}

// Message is what GitHub said in go-github's error: the message of a
// rate limit or an error response, with an error response's field
// details; with no answer from GitHub (or one that was not JSON), the
// transport's error, which names the URL and no credentials (the token
// is a header). internal/githubcheck says its errors with it too.
func Message(err error) string {
	var er *github.ErrorResponse
	var rl *github.RateLimitError
	var ab *github.AbuseRateLimitError
	msg := ""
	switch {
	case errors.As(err, &rl):
		msg = rl.Message
	case errors.As(err, &ab):
		msg = ab.Message
	case errors.As(err, &er):
		msg = er.Message
		var details []string
		for _, fe := range er.Errors {
			switch {
			case fe.Message != "":
				details = append(details, fe.Message)
			case fe.Field != "":
				details = append(details, fe.Field+" "+fe.Code)
			}
		}
		if len(details) > 0 {
			msg += ": " + strings.Join(details, "; ")
		}
	default:
		msg = err.Error()
	}
	if msg == "" {
		msg = "no message"
	}
	return msg
}

// describe turns go-github's error for r into an *Error.
func describe(r request, resp *github.Response, err error) *Error {
	e := &Error{Op: r.op, Owner: r.owner, Repo: r.repo, Method: r.method, Path: "/" + r.path, StatusCode: statusOf(resp), Err: err}
	e.Message = Message(err)
	var rl *github.RateLimitError
	if errors.As(err, &rl) {
		e.Hint = "rate limit exhausted until " + rl.Rate.Reset.UTC().Format(time.RFC3339)
	}
	// A secondary rate limit: the hint below says what it is; the pacer,
	// how long GitHub asks to wait.
	e.Hint = joinHint(e.Hint, hint(r.kind, e.StatusCode, e.Message))
	return e
}

func joinHint(a, b string) string {
	if a == "" || b == "" {
		return a + b
	}
	return a + "; " + b
}

// Hints shared by the kinds of request.
const (
	hintNotEnabled = "code scanning is not enabled for this repository, or the token lacks `security-events: write`"
	hintFork       = "a pull request from a fork gets a read-only token whatever the workflow asks for"
)

func hint(k kind, status int, msg string) string {
	lower := strings.ToLower(msg)
	notAccessible := strings.Contains(lower, "resource not accessible by integration")
	switch {
	case status == http.StatusUnauthorized:
		return "the token is missing, expired or revoked"
	case status == http.StatusForbidden && strings.Contains(lower, "secondary rate limit"),
		status == http.StatusTooManyRequests:
		return "GitHub's secondary rate limit: fewer writes per minute (at most 80 content-creating requests a minute, 500 an hour)"
	}
	switch k {
	case codeScanning:
		switch status {
		case http.StatusForbidden, http.StatusNotFound:
			h := hintNotEnabled + " (enable code scanning, or GitHub Advanced Security for a private repository, and give the job `permissions: security-events: write`)"
			if notAccessible {
				h += "; " + hintFork
			}
			return h
		case http.StatusRequestEntityTooLarge:
			return fmt.Sprintf("the SARIF is too large: GitHub takes at most %d bytes gzip-compressed; drop the lowest-severity results or upload each tool on its own", MaxSARIFGzipBytes)
		case http.StatusBadRequest, http.StatusUnprocessableEntity:
			return "GitHub could not read the upload: check the SARIF against the 2.1.0 schema, and that ref is refs/heads/…, refs/tags/… or refs/pull/N/merge and commit_sha a full SHA"
		}
	case issueComments, pullRequests:
		switch {
		case status == http.StatusForbidden && notAccessible:
			return "the token may not write to the pull request: give the job `permissions: pull-requests: write`; " + hintFork
		case status == http.StatusNotFound:
			return "no such pull request or comment, or the token cannot see the repository"
		case status == http.StatusUnprocessableEntity && (strings.Contains(lower, "line could not be resolved") || strings.Contains(lower, "part of the diff")):
			return "a comment's line is not in the pull request's diff at that commit"
		case status == http.StatusUnprocessableEntity && strings.Contains(lower, "commit_id"):
			return "the commit is not the pull request's head: pass github.event.pull_request.head.sha, not GITHUB_SHA (the merge commit)"
		case status == http.StatusUnprocessableEntity && strings.Contains(lower, "too long"):
			return fmt.Sprintf("the body is over GitHub's %d characters", MaxCommentChars)
		}
	case checkRuns:
		switch {
		case status == http.StatusForbidden && notAccessible:
			return "the token may not write checks: give the job `permissions: checks: write`; " + hintFork
		case status == http.StatusForbidden && strings.Contains(lower, "must authenticate via a github app"):
			return "only a GitHub App's token can create check runs: use the workflow's GITHUB_TOKEN or an app installation token, not a personal access token"
		case status == http.StatusNotFound:
			return "no such repository or check run, or the token cannot see it"
		case status == http.StatusUnprocessableEntity && strings.Contains(lower, "no commit found"):
			return "the commit is not in this repository on GitHub: push it first, and post on the repository it was pushed to"
		case status == http.StatusUnprocessableEntity && strings.Contains(lower, "bytesize"):
			return "the output is over GitHub's limit"
		}
	}
	return ""
}

// pacer runs one call's requests: one at a time, writes writeGap apart,
// rate limits waited out within maxWait in all.
type pacer struct {
	settings
	waited    time.Duration
	lastWrite time.Time
}

func newPacer(opts []Option) *pacer { return &pacer{settings: newSettings(opts)} }

// do sends r by f, retrying it when GitHub says to wait. Its error is an
// *Error (or the context's, wrapped in one).
func (p *pacer) do(ctx context.Context, r request, f func() (*github.Response, error)) (*github.Response, error) {
	for attempt := 0; ; attempt++ {
		if r.write() && !p.lastWrite.IsZero() && p.writeGap > 0 {
			if err := sleep(ctx, time.Until(p.lastWrite.Add(p.writeGap))); err != nil {
				return nil, r.cancelled(err)
			}
		}
		resp, err := f()
		if r.write() {
			p.lastWrite = time.Now()
		}
		if err == nil {
			return resp, nil
		}
		if ctx.Err() != nil {
			return resp, r.cancelled(ctx.Err())
		}
		wait, retry := retryDelay(r, resp, err, attempt, p.transientDelay)
		if !retry {
			return resp, describe(r, resp, err)
		}
		if attempt >= maxRetries || p.waited+wait > p.maxWait {
			e := describe(r, resp, err)
			e.Hint = joinHint(e.Hint, fmt.Sprintf("GitHub asks to wait %s more; this call waits at most %s in all and has waited %s (%d retries)",
				wait.Round(time.Second), p.maxWait, p.waited.Round(time.Second), attempt))
			return resp, e
		}
		if err := sleep(ctx, wait); err != nil {
			return resp, r.cancelled(err)
		}
		p.waited += wait
	}
}

func (r request) cancelled(err error) *Error {
	return &Error{Op: r.op, Owner: r.owner, Repo: r.repo, Method: r.method, Path: "/" + r.path, Message: err.Error(), Err: err}
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// retryDelay says whether GitHub's answer asks to retry r, and after how
// long, as GitHub's REST best practices say: after Retry-After seconds
// when it is there; else, when x-ratelimit-remaining is 0, after
// x-ratelimit-reset (UTC epoch seconds); else, on a secondary rate limit,
// after a minute, doubled on each retry. A read answered 5xx is retried
// after transient, doubled on each retry.
func retryDelay(r request, resp *github.Response, err error, attempt int, transient time.Duration) (time.Duration, bool) {
	status := statusOf(resp)
	var rl *github.RateLimitError
	var ab *github.AbuseRateLimitError
	limited := errors.As(err, &rl) || errors.As(err, &ab) || status == http.StatusTooManyRequests
	if !limited && status == http.StatusForbidden {
		var er *github.ErrorResponse
		limited = errors.As(err, &er) && strings.Contains(strings.ToLower(er.Message), "rate limit")
	}
	if !limited {
		if !r.write() && (status >= 500 || status == 0 && isTransport(err)) {
			return transient << attempt, true
		}
		return 0, false
	}
	const margin = 250 * time.Millisecond // past the reset, not on it
	if resp != nil && resp.Response != nil {
		h := resp.Header
		if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
			if s, err := strconv.Atoi(v); err == nil && s >= 0 {
				return time.Duration(s)*time.Second + margin, true
			}
			if t, err := http.ParseTime(v); err == nil {
				return max(time.Until(t), 0) + margin, true
			}
		}
		if h.Get("X-RateLimit-Remaining") == "0" {
			if s, err := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64); err == nil && s > 0 {
				return max(time.Until(time.Unix(s, 0)), 0) + margin, true
			}
		}
	}
	switch {
	case rl != nil && !rl.Rate.Reset.IsZero():
		return max(time.Until(rl.Rate.Reset.Time), 0) + margin, true
	case ab != nil && ab.RetryAfter != nil && *ab.RetryAfter > 0:
		// go-github's own gate after an earlier secondary limit (its answer
		// has no headers), or its reading of x-ratelimit-reset.
		return *ab.RetryAfter + margin, true
	}
	return time.Minute << attempt, true
}

func isTransport(err error) bool {
	var er *github.ErrorResponse
	return err != nil && !errors.As(err, &er)
}

var fullSHA = regexp.MustCompile(`^[0-9a-fA-F]{40}$`)

func checkRepo(owner, repo string) string {
	if owner == "" || repo == "" || strings.ContainsAny(owner, "/ ") || strings.ContainsAny(repo, "/ ") {
		return fmt.Sprintf("repository %q/%q: want an owner and a name", owner, repo)
	}
	return ""
}

func checkSHA(what, sha string) string {
	if !fullSHA.MatchString(sha) {
		return fmt.Sprintf("%s %q is not a full commit SHA (40 hex digits; resolve a tag or a short SHA with git rev-parse)", what, sha)
	}
	return ""
}

// problems joins the non-empty ones into an error for op, or nil.
func problems(op, owner, repo string, ps ...string) error {
	var keep []string
	for _, p := range ps {
		if p != "" {
			keep = append(keep, p)
		}
	}
	if len(keep) == 0 {
		return nil
	}
	return &Error{Op: op, Owner: owner, Repo: repo, Message: strings.Join(keep, "; ")}
}

// Unit is how a limit counts text.
type unit int

const (
	bytesUnit unit = iota // UTF-8 bytes (check run output)
	charsUnit             // characters, code points (comment bodies)
)

func measure(s string, u unit) int {
	if u == charsUnit {
		return utf8.RuneCountInString(s)
	}
	return len(s)
}

// cut returns s when it is within limit (counted in u), else its
// beginning (at a line's end when one is near, never inside a character)
// and a line saying it was cut, within limit in all. what names the text
// in that line.
func cut(s string, limit int, u unit, what string) string {
	n := measure(s, u)
	if n <= limit {
		return s
	}
	units := "bytes"
	if u == charsUnit {
		units = "characters"
	}
	note := fmt.Sprintf("\n\n… cut: the %s was %d %s and GitHub takes at most %d.", what, n, units, limit)
	keep := limit - measure(note, u) // in units
	if keep <= 0 {
		return ""
	}
	// keep units from the start, as a byte offset.
	end := keep
	if u == charsUnit {
		end = 0
		for i := 0; i < keep; i++ {
			_, size := utf8.DecodeRuneInString(s[end:])
			end += size
		}
	} else {
		for end > 0 && !utf8.RuneStart(s[end]) {
			end--
		}
	}
	head := s[:end]
	if i := strings.LastIndexByte(head, '\n'); i >= 0 && i >= end-end/8 {
		head = head[:i] // end on a whole line (a table's row) when one ends in the last eighth
	}
	return head + note
}
