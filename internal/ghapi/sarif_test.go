package ghapi

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"
)

var fast = []Option{WithWriteGap(0)} // tests that do not time the pacing

// checkError checks err is an *Error with status and wants in its text,
// go-github's error wrapped, and no token anywhere in it.
func checkError(t *testing.T, err error, status int, wants ...string) *Error {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	var ge *Error
	if !errors.As(err, &ge) || ge.StatusCode != status {
		t.Fatalf("error %v (%T), want an *Error with status %d", err, err, status)
	}
	if status != 0 && ge.Err == nil {
		t.Errorf("go-github's error is not wrapped: %v", err)
	}
	msg := err.Error()
	for _, w := range wants {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q does not say %q", msg, w)
		}
	}
	noToken(t, err)
	return ge
}

func noToken(t *testing.T, err error) {
	t.Helper()
	for _, s := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
		if strings.Contains(s, token) {
			t.Errorf("the token is in the error: %q", s)
		}
	}
}

func compactSARIF(t *testing.T) []byte {
	var b bytes.Buffer
	if err := json.Compact(&b, testdata(t, "dracon.sarif")); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func upload(t *testing.T) UploadRequest {
	return UploadRequest{
		Owner: owner, Repo: repo,
		CommitSHA:   strings.ToUpper(mergeSHA),
		Ref:         PullRequestRef(prNumber),
		CheckoutURI: "/home/runner/work/octo-repo/octo-repo",
		ToolName:    "dracon",
		StartedAt:   time.Date(2024, 5, 4, 10, 0, 0, 0, time.UTC),
		SARIF:       testdata(t, "dracon.sarif"), // indented: UploadSARIF makes it compact
	}
}

func gunzipBase64(t *testing.T, s string) []byte {
	t.Helper()
	gz, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("sarif is not base64: %v", err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatalf("sarif is not gzip: %v", err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The upload: one POST of the compact SARIF, gzip-compressed and
// base64-encoded, on the pull request's merge ref, with the workspace's
// file:// URI; GitHub's 202 gives the id and the status URL.
func TestUploadSARIF(t *testing.T) {
	f, c := newFake(t)
	res, err := UploadSARIF(context.Background(), c, upload(t), fast...)
	if err != nil {
		t.Fatal(err)
	}
	if res.ID != sarifID || res.URL != f.srv.URL+"/repos/octo-org/octo-repo/code-scanning/sarifs/"+sarifID || res.GzipBytes == 0 {
		t.Errorf("result %+v", res)
	}
	reqs := f.sent()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	checkHeaders(t, reqs)
	r := reqs[0]
	if r.method != http.MethodPost || r.path != "/repos/octo-org/octo-repo/code-scanning/sarifs" {
		t.Errorf("request %s %s", r.method, r.path)
	}
	if got := r.header.Get("Accept"); got != "application/vnd.github.v3+json" {
		t.Errorf("Accept %q", got)
	}
	var body map[string]any
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"commit_sha":   mergeSHA, // lower case
		"ref":          "refs/pull/1347/merge",
		"checkout_uri": "file:///home/runner/work/octo-repo/octo-repo",
		"tool_name":    "dracon",
		"started_at":   "2024-05-04T10:00:00Z",
	}
	for k, v := range want {
		if body[k] != v {
			t.Errorf("%s = %v, want %v", k, body[k], v)
		}
	}
	for k := range body {
		if _, ok := want[k]; !ok && k != "sarif" {
			t.Errorf("unexpected field %s (the endpoint has no category: it is in runs[].automationDetails.id)", k)
		}
	}
	if got := gunzipBase64(t, body["sarif"].(string)); !bytes.Equal(got, compactSARIF(t)) {
		t.Errorf("the SARIF sent is not the compact input:\n%s", got)
	}
	if !bytes.Equal(f.uploads[sarifID], compactSARIF(t)) {
		t.Error("the fake did not store the upload")
	}
}

func TestRefs(t *testing.T) {
	if PullRequestRef(12) != "refs/pull/12/merge" || BranchRef("main") != "refs/heads/main" || BranchRef("refs/tags/v1") != "refs/tags/v1" {
		t.Error("refs")
	}
	f, c := newFake(t)
	for _, ref := range []string{"refs/heads/main", "refs/heads/release/1.x", "refs/tags/v1.2.0", "refs/pull/12/head"} {
		r := upload(t)
		r.Ref = ref
		if _, err := UploadSARIF(context.Background(), c, r, fast...); err != nil {
			t.Errorf("%s: %v", ref, err)
		}
	}
	for ref, want := range map[string]string{
		"main":               `ref "main": want refs/pull/N/merge`,
		"":                   `ref ""`,
		"refs/pull/12":       `ref "refs/pull/12"`,
		"refs/pull/x/merge":  `ref "refs/pull/x/merge"`,
		"refs/remotes/o/mai": `ref "refs/remotes/o/mai"`,
	} {
		r := upload(t)
		r.Ref = ref
		if _, err := UploadSARIF(context.Background(), c, r, fast...); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", ref, err, want)
		}
	}
	if n := len(f.sent()); n != 4 {
		t.Errorf("%d requests, want 4 (none for the bad refs)", n)
	}
}

// UploadSARIF checks a request before it sends anything.
func TestUploadSARIFRejects(t *testing.T) {
	f, c := newFake(t)
	for name, tc := range map[string]struct {
		edit func(*UploadRequest)
		want string
	}{
		"short SHA":    {func(r *UploadRequest) { r.CommitSHA = "e5bd391" }, "not a full commit SHA"},
		"repo":         {func(r *UploadRequest) { r.Owner, r.Repo = "", "octo-org/octo-repo" }, "want an owner and a name"},
		"no SARIF":     {func(r *UploadRequest) { r.SARIF = nil }, "no SARIF"},
		"not JSON":     {func(r *UploadRequest) { r.SARIF = []byte(`{"version":`) }, "the SARIF is not JSON"},
		"relative URI": {func(r *UploadRequest) { r.CheckoutURI = "work/repo" }, "want a file:// URI"},
	} {
		r := upload(t)
		tc.edit(&r)
		if _, err := UploadSARIF(context.Background(), c, r); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
	if _, err := UploadSARIF(context.Background(), nil, upload(t)); err == nil {
		t.Error("no client: no error")
	}
	if n := len(f.sent()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

// bigSARIF is a SARIF log of about n bytes of JSON that gzip cannot
// shrink much (random base64 text compresses to about 3/4).
func bigSARIF(n int) []byte {
	rnd := rand.New(rand.NewSource(1))
	raw := make([]byte, n*3/4)
	rnd.Read(raw)
	return []byte(`{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"gosec"}},"results":[{"ruleId":"G101","message":{"text":"` +
		base64.StdEncoding.EncodeToString(raw) + `"}}]}]}`)
}

// A SARIF over 10 MB gzip-compressed: GitHub (the fake) answers 413 ...
// and UploadSARIF does not send it.
func TestUploadSARIFTooLarge(t *testing.T) {
	f, c := newFake(t)
	sarif := bigSARIF(14_000_000)
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw.Write(sarif) //nolint:errcheck
	zw.Close()
	if gz.Len() <= MaxSARIFGzipBytes {
		t.Fatalf("the SARIF is only %d bytes gzip-compressed", gz.Len())
	}
	_, resp, err := c.CodeScanning.UploadSarif(context.Background(), owner, repo, &github.SarifAnalysis{
		CommitSHA: github.String(mergeSHA), Ref: github.String("refs/heads/main"),
		Sarif: github.String(base64.StdEncoding.EncodeToString(gz.Bytes())),
	})
	if er := new(github.ErrorResponse); !errors.As(err, &er) || resp.StatusCode != 413 || er.Message != "SARIF file is too large" {
		t.Fatalf("the fake took %d bytes: %v", gz.Len(), err)
	}

	before := len(f.sent())
	r := upload(t)
	r.SARIF = sarif
	_, err = UploadSARIF(context.Background(), c, r, fast...)
	ge := checkError(t, err, 0, "not sent", fmt.Sprintf("%d bytes gzip-compressed", gz.Len()), "over GitHub's 10000000", "too large")
	if !errors.Is(err, ErrTooLarge) || ge.Method != "" {
		t.Errorf("error %v: want errors.Is ErrTooLarge and no request", err)
	}
	if n := len(f.sent()) - before; n != 0 {
		t.Errorf("%d requests sent for a SARIF over the limit", n)
	}
}

func refuseWith(t *testing.T, method, pathSuffix string, status int, file string) func(http.ResponseWriter, *http.Request, int) bool {
	return func(w http.ResponseWriter, r *http.Request, _ int) bool {
		if r.Method != method || !strings.HasSuffix(r.URL.Path, pathSuffix) {
			return false
		}
		reply(w, status, testdata(t, file))
		return true
	}
}

// GitHub's refusals of an upload, explained.
func TestUploadSARIFRefused(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		file   string
		wants  []string
	}{
		{"advanced security off", 403, "advanced-security.403.json", []string{"Advanced Security must be enabled", "code scanning is not enabled for this repository, or the token lacks `security-events: write`"}},
		{"no permission", 403, "resource-not-accessible.403.json", []string{"Resource not accessible by integration", "`security-events: write`", "fork"}},
		{"not found", 404, "not-found.404.json", []string{"HTTP 404 Not Found: Not Found", "code scanning is not enabled for this repository, or the token lacks `security-events: write`"}},
		{"too large", 413, "sarif-too-large.413.json", []string{"HTTP 413 Request Entity Too Large: SARIF file is too large", "the SARIF is too large"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, c := newFake(t)
			f.intercept = refuseWith(t, "POST", "/code-scanning/sarifs", tc.status, tc.file)
			_, err := UploadSARIF(context.Background(), c, upload(t), fast...)
			checkError(t, err, tc.status, append([]string{"github: upload SARIF on octo-org/octo-repo: POST /repos/octo-org/octo-repo/code-scanning/sarifs"}, tc.wants...)...)
			if errors.Is(err, ErrTooLarge) != (tc.status == 413) {
				t.Errorf("errors.Is(%v, ErrTooLarge) = %v", err, !(tc.status == 413))
			}
			var fe *ForkError
			if errors.As(err, &fe) {
				t.Errorf("not a fork's pull request, yet a *ForkError: %v", err)
			}
		})
	}
}

// A fork's pull request has a read-only token: the upload's 403 is a
// *ForkError, a notice to give rather than a failure.
func TestUploadSARIFFork(t *testing.T) {
	f, c := newFake(t)
	f.intercept = refuseWith(t, "POST", "/code-scanning/sarifs", 403, "resource-not-accessible.403.json")
	r := upload(t)
	r.Fork = true
	_, err := UploadSARIF(context.Background(), c, r, fast...)
	var fe *ForkError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v (%T), want a *ForkError", err, err)
	}
	if fe.Notice() != ForkNotice || !strings.HasPrefix(ForkNotice, "skipping upload: a fork's pull request has a read-only token; use github/codeql-action/upload-sarif on the sarif-file output") {
		t.Errorf("notice %q", fe.Notice())
	}
	checkError(t, err, 403, ForkNotice, "Resource not accessible by integration")

	// A fork's pull request refused for another reason is not skipped.
	f.intercept = refuseWith(t, "POST", "/code-scanning/sarifs", 403, "advanced-security.403.json")
	_, err = UploadSARIF(context.Background(), c, r, fast...)
	if errors.As(err, &fe) {
		t.Errorf("code scanning off, yet a *ForkError: %v", err)
	}
}

func TestUploadSARIFBadCredentials(t *testing.T) {
	f, _ := newFake(t)
	c := github.NewClient(nil).WithAuthToken("ghs_expired0123456789")
	c.BaseURL, _ = url.Parse(f.srv.URL + "/")
	_, err := UploadSARIF(context.Background(), c, upload(t), fast...)
	ge := checkError(t, err, 401, "Bad credentials", "expired")
	if strings.Contains(fmt.Sprintf("%+v", ge), "ghs_expired") {
		t.Errorf("the token is in the error: %v", ge)
	}
}

func TestUploadSARIFNoAnswer(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close() // nothing listens there now
	c := github.NewClient(nil).WithAuthToken(token)
	c.BaseURL, _ = url.Parse(srv.URL + "/")
	_, err := UploadSARIF(context.Background(), c, upload(t), fast...)
	checkError(t, err, 0, "upload SARIF on octo-org/octo-repo", "/repos/octo-org/octo-repo/code-scanning/sarifs")
}

func uploaded(t *testing.T, f *fakeGitHub, c *github.Client) string {
	t.Helper()
	res, err := UploadSARIF(context.Background(), c, upload(t), fast...)
	if err != nil {
		t.Fatal(err)
	}
	return res.ID
}

var quick = WaitOptions{FirstDelay: 10 * time.Millisecond, MaxDelay: 40 * time.Millisecond, Timeout: 5 * time.Second}

// pending → pending → complete: three polls, each pause twice the last
// (up to MaxDelay), and the analyses' URL.
func TestWaitForProcessingComplete(t *testing.T) {
	f, c := newFake(t)
	id := uploaded(t, f, c)
	f.statuses = []string{"pending", "pending", "pending", "complete"}
	start := time.Now()
	p, err := WaitForProcessing(context.Background(), c, owner, repo, id, quick)
	if err != nil {
		t.Fatal(err)
	}
	want := "https://api.github.com/repos/octo-org/octo-repo/code-scanning/analyses?sarif_id=" + sarifID
	if p.Status != Complete || p.AnalysesURL != want || p.Polls != 4 || len(p.Errors) != 0 {
		t.Errorf("processing %+v", p)
	}
	reqs := f.sent()[1:]
	checkHeaders(t, reqs)
	if len(reqs) != 4 {
		t.Fatalf("%d polls", len(reqs))
	}
	prev := start
	for i, r := range reqs {
		if r.method != http.MethodGet || r.path != "/repos/octo-org/octo-repo/code-scanning/sarifs/"+sarifID {
			t.Errorf("poll %d: %s %s", i, r.method, r.path)
		}
		// Pauses of 10, 20, 40 and 40 ms (MaxDelay).
		if min := []time.Duration{10, 20, 40, 40}[i] * time.Millisecond; r.at.Sub(prev) < min {
			t.Errorf("poll %d came %s after the last, want %s or more", i, r.at.Sub(prev), min)
		}
		prev = r.at
	}
}

// pending → failed: GitHub's errors list (which go-github's SARIFUpload
// does not have), and a hint.
func TestWaitForProcessingFailed(t *testing.T) {
	f, c := newFake(t)
	id := uploaded(t, f, c)
	f.statuses = []string{"pending", "failed"}
	p, err := WaitForProcessing(context.Background(), c, owner, repo, id, quick)
	var pe *ProcessingError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T), want a *ProcessingError", err, err)
	}
	wantErrs := []string{
		"A delivery cannot contain multiple runs with the same category. Please upload each run with its own category.",
		`SARIF URI scheme "git" did not match the checkout URI scheme "file"`,
	}
	if p.Status != Failed || p.Polls != 2 || fmt.Sprint(p.Errors) != fmt.Sprint(wantErrs) || fmt.Sprint(pe.Errors) != fmt.Sprint(wantErrs) {
		t.Errorf("processing %+v, error %+v", p, pe)
	}
	for _, w := range append(wantErrs, "could not process SARIF upload "+sarifID+" on octo-org/octo-repo", "automationDetails.id") {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
	noToken(t, err)
}

// Still pending when the time is up, by Timeout or by the context's
// deadline: ErrStillPending (warn and go on).
func TestWaitForProcessingTimeout(t *testing.T) {
	f, c := newFake(t)
	id := uploaded(t, f, c)
	f.statuses = []string{"pending"}
	start := time.Now()
	p, err := WaitForProcessing(context.Background(), c, owner, repo, id, WaitOptions{FirstDelay: 10 * time.Millisecond, Timeout: 150 * time.Millisecond})
	if !errors.Is(err, ErrStillPending) || p.Status != Pending || p.Polls < 2 {
		t.Errorf("processing %+v, error %v: want pending and ErrStillPending", p, err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("waited %s for a timeout of 150ms", d)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start = time.Now()
	p, err = WaitForProcessing(ctx, c, owner, repo, id, WaitOptions{FirstDelay: 10 * time.Millisecond}) // Timeout: 5 minutes
	if !errors.Is(err, ErrStillPending) || !errors.Is(err, context.DeadlineExceeded) || p.Status != Pending {
		t.Errorf("processing %+v, error %v: want pending, ErrStillPending and the deadline", p, err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("the context's deadline of 100ms stopped it after %s", d)
	}
}

// A 502 from GitHub's front end (HTML, not JSON) is polled again.
func TestWaitForProcessingBadGateway(t *testing.T) {
	f, c := newFake(t)
	id := uploaded(t, f, c)
	f.statuses = []string{"502", "complete"}
	p, err := WaitForProcessing(context.Background(), c, owner, repo, id, quick)
	if err != nil || p.Status != Complete || p.Polls != 2 {
		t.Errorf("processing %+v, error %v", p, err)
	}
}

func TestWaitForProcessingUnknown(t *testing.T) {
	_, c := newFake(t)
	_, err := WaitForProcessing(context.Background(), c, owner, repo, "00000000-0000-0000-0000-000000000000", quick)
	checkError(t, err, 404, "read SARIF processing status on octo-org/octo-repo: GET /repos/octo-org/octo-repo/code-scanning/sarifs/00000000-0000-0000-0000-000000000000",
		"HTTP 404 Not Found", "security-events")
	if _, err := WaitForProcessing(context.Background(), c, owner, repo, "a/b", quick); err == nil || !strings.Contains(err.Error(), "upload id") {
		t.Errorf("id a/b: %v", err)
	}
}
