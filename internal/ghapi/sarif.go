package ghapi

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"
)

// MaxSARIFGzipBytes is the most a SARIF upload may be gzip-compressed:
// GitHub's docs say 10 MB and answer more with 413 ("SARIF file is too
// large"); taken as 10,000,000 bytes, the stricter reading, so that
// nothing sent is refused for its size.
const MaxSARIFGzipBytes = 10_000_000

// UploadRequest is one SARIF upload to code scanning.
type UploadRequest struct {
	Owner, Repo string
	// CommitSHA is the analysed commit, 40 hex digits: GITHUB_SHA (on a
	// pull request, the merge commit of refs/pull/N/merge).
	CommitSHA string
	// Ref is refs/pull/N/merge on a pull request (PullRequestRef),
	// refs/heads/<branch> otherwise (BranchRef); refs/tags/… and
	// refs/pull/N/head are taken too.
	Ref string
	// CheckoutURI is the workspace as a file:// URI (an absolute path is
	// made one); GitHub makes the SARIF's absolute URIs relative to it.
	// Optional.
	CheckoutURI string
	ToolName    string    // optional: the tool's name, when the SARIF's runs do not say
	StartedAt   time.Time // optional: when the analysis started
	// SARIF is the log, JSON (made compact if it is not).
	SARIF []byte
	// Fork says the pull request's head is in a fork: its token is then
	// read-only, and a refusal for that is a *ForkError.
	Fork bool
}

// UploadResult is GitHub's receipt of an upload (202 Accepted).
type UploadResult struct {
	ID  string // the upload's id, for WaitForProcessing
	URL string // the REST URL of its processing status

	GzipBytes int // the SARIF's size sent, gzip-compressed
}

// ForkNotice is what to tell the user when a fork's pull request cannot
// upload: codeql-action/upload-sarif posts to GitHub's internal
// /code-scanning/analysis endpoint, which takes a fork's read-only token
// (the public /sarifs endpoint wants security-events: write, which a
// fork's token never has); from a workflow_run job the token can write.
const ForkNotice = "skipping upload: a fork's pull request has a read-only token; " +
	"use github/codeql-action/upload-sarif on the sarif-file output " +
	"(it uploads a fork's pull request with that token, in the same job), or upload from a workflow_run job"

// ForkError is an upload that a fork's pull request may not make: not a
// failure of the scan, a notice (ForkNotice) for the caller to give.
type ForkError struct{ Err *Error }

func (e *ForkError) Error() string  { return ForkNotice + " (" + e.Err.Error() + ")" }
func (e *ForkError) Unwrap() error  { return e.Err }
func (e *ForkError) Notice() string { return ForkNotice }

var refPattern = regexp.MustCompile(`^refs/(heads/.+|tags/.+|pull/[1-9][0-9]*/(merge|head))$`)

// PullRequestRef is the ref of pull request n's results: refs/pull/n/merge.
func PullRequestRef(n int) string { return fmt.Sprintf("refs/pull/%d/merge", n) }

// BranchRef is the ref of a branch's results: refs/heads/<branch> (a full
// ref is kept).
func BranchRef(branch string) string {
	if strings.HasPrefix(branch, "refs/") {
		return branch
	}
	return "refs/heads/" + branch
}

// checkoutURI returns s as a file:// URI.
func checkoutURI(s string) (string, string) {
	switch {
	case s == "":
		return "", ""
	case strings.HasPrefix(s, "file://"):
		return s, ""
	case filepath.IsAbs(s) || strings.HasPrefix(s, "/"):
		p := filepath.ToSlash(s)
		if !strings.HasPrefix(p, "/") {
			p = "/" + p // C:/a/b → /C:/a/b
		}
		return (&url.URL{Scheme: "file", Path: p}).String(), ""
	}
	return "", fmt.Sprintf("checkout URI %q: want a file:// URI or an absolute path (GITHUB_WORKSPACE)", s)
}

const opUpload = "upload SARIF"

// UploadSARIF uploads r.SARIF to code scanning: compact, gzip-compressed,
// base64-encoded, refused before sending when it is over
// MaxSARIFGzipBytes compressed (an *Error that errors.Is ErrTooLarge).
// Its errors are *Error, or *ForkError for a fork's pull request.
func UploadSARIF(ctx context.Context, c *github.Client, r UploadRequest, opts ...Option) (UploadResult, error) {
	if c == nil {
		return UploadResult{}, errors.New("github: upload SARIF: no GitHub client")
	}
	uri, uriProblem := checkoutURI(r.CheckoutURI)
	refProblem := ""
	if !refPattern.MatchString(r.Ref) {
		refProblem = fmt.Sprintf("ref %q: want refs/pull/N/merge on a pull request, refs/heads/<branch> otherwise (or refs/tags/…, refs/pull/N/head)", r.Ref)
	}
	emptyProblem := ""
	if len(bytes.TrimSpace(r.SARIF)) == 0 {
		emptyProblem = "no SARIF"
	}
	if err := problems(opUpload, r.Owner, r.Repo, checkRepo(r.Owner, r.Repo), checkSHA("commit SHA", r.CommitSHA), refProblem, uriProblem, emptyProblem); err != nil {
		return UploadResult{}, err
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, r.SARIF); err != nil {
		return UploadResult{}, &Error{Op: opUpload, Owner: r.Owner, Repo: r.Repo, Message: "the SARIF is not JSON: " + err.Error()}
	}
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw.Write(compact.Bytes()) //nolint:errcheck // a bytes.Buffer does not fail
	if err := zw.Close(); err != nil {
		return UploadResult{}, &Error{Op: opUpload, Owner: r.Owner, Repo: r.Repo, Message: "gzip: " + err.Error()}
	}
	if gz.Len() > MaxSARIFGzipBytes {
		return UploadResult{}, &Error{Op: opUpload, Owner: r.Owner, Repo: r.Repo, tooLarge: true,
			Message: fmt.Sprintf("not sent: the SARIF is %d bytes gzip-compressed (%d bytes of JSON), over GitHub's %d", gz.Len(), compact.Len(), MaxSARIFGzipBytes),
			Hint:    hint(codeScanning, http.StatusRequestEntityTooLarge, "")}
	}
	body := &github.SarifAnalysis{
		CommitSHA: github.String(strings.ToLower(r.CommitSHA)),
		Ref:       github.String(r.Ref),
		Sarif:     github.String(base64.StdEncoding.EncodeToString(gz.Bytes())),
	}
	if uri != "" {
		body.CheckoutURI = github.String(uri)
	}
	if r.ToolName != "" {
		body.ToolName = github.String(r.ToolName)
	}
	if !r.StartedAt.IsZero() {
		body.StartedAt = &github.Timestamp{Time: r.StartedAt.UTC().Truncate(time.Second)}
	}

	req := request{op: opUpload, owner: r.Owner, repo: r.Repo, method: http.MethodPost,
		path: fmt.Sprintf("repos/%s/%s/code-scanning/sarifs", r.Owner, r.Repo), kind: codeScanning}
	var id *github.SarifID
	p := newPacer(opts)
	_, err := p.do(ctx, req, func() (resp *github.Response, err error) {
		id, resp, err = c.CodeScanning.UploadSarif(ctx, r.Owner, r.Repo, body)
		return resp, err
	})
	if err != nil {
		var e *Error
		if errors.As(err, &e) && r.Fork && e.StatusCode == http.StatusForbidden &&
			strings.Contains(strings.ToLower(e.Message), "resource not accessible by integration") {
			return UploadResult{}, &ForkError{Err: e}
		}
		return UploadResult{}, err
	}
	if id.GetID() == "" {
		return UploadResult{}, &Error{Op: opUpload, Owner: r.Owner, Repo: r.Repo, Method: req.method, Path: "/" + req.path,
			StatusCode: http.StatusAccepted, Message: "GitHub answered without an upload id"}
	}
	return UploadResult{ID: id.GetID(), URL: id.GetURL(), GzipBytes: gz.Len()}, nil
}

// The processing statuses of an upload.
const (
	Pending  = "pending"
	Complete = "complete"
	Failed   = "failed"
)

// WaitOptions bound WaitForProcessing.
type WaitOptions struct {
	// FirstDelay is the pause before the first poll, and the first pause
	// between polls; 0: 5s, codeql-action's.
	FirstDelay time.Duration
	// MaxDelay caps the pause between polls, which doubles after each
	// pending answer; 0: 1 minute.
	MaxDelay time.Duration
	// Timeout bounds the whole wait; 0: 5 minutes. A deadline of the
	// context ends it sooner.
	Timeout time.Duration
}

// Processing is an upload's processing status.
type Processing struct {
	Status      string   // Pending, Complete or Failed
	AnalysesURL string   // the REST URL of its analyses (complete)
	Errors      []string // what went wrong (failed)
	Polls       int      // the status requests made
}

// sarifStatus is GET /repos/{o}/{r}/code-scanning/sarifs/{id}'s answer;
// go-github v60's SARIFUpload has no errors field.
type sarifStatus struct {
	ProcessingStatus string   `json:"processing_status"`
	AnalysesURL      *string  `json:"analyses_url"`
	Errors           []string `json:"errors"`
}

// ErrStillPending matches (errors.Is) a WaitForProcessing that ran out of
// time: GitHub goes on processing; codeql-action warns and goes on.
var ErrStillPending = errors.New("code scanning is still processing the upload")

// ProcessingError is an upload that GitHub failed to process.
type ProcessingError struct {
	Owner, Repo, ID string
	Errors          []string // GitHub's
	Hint            string
}

func (e *ProcessingError) Error() string {
	msg := fmt.Sprintf("github: code scanning could not process SARIF upload %s on %s/%s: %s", e.ID, e.Owner, e.Repo, strings.Join(e.Errors, "; "))
	if len(e.Errors) == 0 {
		msg += "no errors given"
	}
	if e.Hint != "" {
		msg += " (hint: " + e.Hint + ")"
	}
	return msg
}

func processingHint(errs []string) string {
	all := strings.ToLower(strings.Join(errs, "\n"))
	switch {
	case strings.Contains(all, "multiple runs with the same category"):
		return "give each run its own runs[].automationDetails.id (its category is the part before the last /)"
	case strings.Contains(all, "too many logical alerts"):
		return "the repository has too many alerts: upload fewer results (the highest severities first)"
	case strings.Contains(all, "did not match the checkout uri scheme"):
		return "make the SARIF's artifact URIs relative to the repository, or file:// URIs under checkout_uri"
	case strings.Contains(all, "default setup is enabled"):
		return "CodeQL's default setup is on: switch it to advanced setup to upload CodeQL analyses"
	}
	return ""
}

// WaitForProcessing polls upload id's processing status, after
// FirstDelay and then at pauses doubling up to MaxDelay, until it is
// complete (Processing with its AnalysesURL, nil error), failed
// (Processing with GitHub's errors and a *ProcessingError), or the time
// is up (Processing pending and an error that errors.Is ErrStillPending;
// warn and go on). A 5xx answer or no answer is polled again; another
// refusal is an *Error.
func WaitForProcessing(ctx context.Context, c *github.Client, owner, repo, id string, opts WaitOptions) (Processing, error) {
	const op = "read SARIF processing status"
	if c == nil {
		return Processing{}, errors.New("github: " + op + ": no GitHub client")
	}
	idProblem := ""
	if strings.TrimSpace(id) == "" || strings.ContainsAny(id, "/?#") {
		idProblem = fmt.Sprintf("upload id %q: want the id UploadSARIF returned", id)
	}
	if err := problems(op, owner, repo, checkRepo(owner, repo), idProblem); err != nil {
		return Processing{}, err
	}
	first, maxDelay, timeout := opts.FirstDelay, opts.MaxDelay, opts.Timeout
	if first <= 0 {
		first = 5 * time.Second
	}
	if maxDelay <= 0 {
		maxDelay = time.Minute
	}
	if timeout <= 0 {
		timeout = 5 * time.Minute
	}
	start := time.Now()
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	req := request{op: op, owner: owner, repo: repo, method: http.MethodGet,
		path: fmt.Sprintf("repos/%s/%s/code-scanning/sarifs/%s", owner, repo, url.PathEscape(id)), kind: codeScanning}
	// The pacer's retries (rate limits, 5xx) wait within this wait's time.
	p := newPacer([]Option{WithMaxWait(timeout), func(s *settings) { s.transientDelay = first }})
	res := Processing{Status: Pending}
	pending := func(cause error) (Processing, error) {
		return res, fmt.Errorf("github: SARIF upload %s on %s/%s: %w after %s and %d polls (%w)",
			id, owner, repo, ErrStillPending, time.Since(start).Round(time.Millisecond), res.Polls, cause)
	}
	delay := first
	for {
		if err := sleep(wctx, delay); err != nil {
			return pending(err)
		}
		var st sarifStatus
		_, err := p.do(wctx, req, func() (*github.Response, error) {
			hr, err := c.NewRequest(http.MethodGet, req.path, nil)
			if err != nil {
				return nil, err
			}
			res.Polls++
			st = sarifStatus{}
			return c.Do(wctx, hr, &st)
		})
		if err != nil {
			if wctx.Err() != nil {
				return pending(wctx.Err())
			}
			return res, err
		}
		res.Status = st.ProcessingStatus
		if st.AnalysesURL != nil {
			res.AnalysesURL = *st.AnalysesURL
		}
		res.Errors = st.Errors
		switch st.ProcessingStatus {
		case Complete:
			return res, nil
		case Failed:
			return res, &ProcessingError{Owner: owner, Repo: repo, ID: id, Errors: st.Errors, Hint: processingHint(st.Errors)}
		case Pending:
		default:
			return res, &Error{Op: op, Owner: owner, Repo: repo, Method: req.method, Path: "/" + req.path, StatusCode: http.StatusOK,
				Message: fmt.Sprintf("unknown processing_status %q", st.ProcessingStatus)}
		}
		delay = min(delay*2, maxDelay)
	}
}
