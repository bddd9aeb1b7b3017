package githubcheck

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-github/v60/github"
)

// A fake of GitHub's REST API for one endpoint, POST
// /repos/{owner}/{repo}/check-runs, strict where GitHub is: the token in
// Authorization (Bearer or token), a JSON media type in Accept, a JSON
// body whose required fields are there, a known commit, output within
// 65535 bytes. It answers with the bodies in testdata/.

const (
	token   = "ghs_notARealToken0123456789abcdefghijKLMN"
	headSHA = "9f3c2a1b7e6d5c4b3a29180f7e6d5c4b3a291807"
)

type request struct {
	method, path string
	header       http.Header
	body         []byte
}

type fakeGitHub struct {
	t       *testing.T
	prefix  string // "" (GitHub.com) or "/api/v3" (GitHub Enterprise Server)
	created string // testdata file of the 201
	// refuse, when set, answers a request that passed the checks (a
	// refusal the fake cannot reproduce itself: permissions, limits).
	refuse func(w http.ResponseWriter)

	mu       sync.Mutex
	requests []request
}

func testdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// reply writes a GitHub answer: its JSON body and the headers GitHub
// sends with one.
func reply(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-GitHub-Media-Type", "github.v3; format=json")
	h.Set("X-GitHub-Api-Version-Selected", "2022-11-28")
	h.Set("X-RateLimit-Limit", "5000")
	h.Set("X-RateLimit-Remaining", "4999")
	h.Set("X-RateLimit-Used", "1")
	h.Set("X-RateLimit-Reset", "1714820400")
	h.Set("X-RateLimit-Resource", "core")
	h.Set("X-GitHub-Request-Id", "C3A8:2B3F:1A2B3C:1B2C3D:6636089B")
	w.WriteHeader(status)
	w.Write(body) //nolint:errcheck
}

func (f *fakeGitHub) fail(w http.ResponseWriter, status int, msg string) {
	b, _ := json.Marshal(map[string]string{"message": msg, "documentation_url": "https://docs.github.com/rest/checks/runs#create-a-check-run", "status": fmt.Sprint(status)})
	reply(w, status, b)
}

func (f *fakeGitHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body := new(bytes.Buffer)
	body.ReadFrom(r.Body) //nolint:errcheck
	f.mu.Lock()
	f.requests = append(f.requests, request{r.Method, r.URL.Path, r.Header.Clone(), body.Bytes()})
	f.mu.Unlock()

	owner, repo, ok := strings.Cut(strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, f.prefix+"/repos/"), "/check-runs"), "/")
	if !ok || strings.Contains(repo, "/") || r.URL.Path != f.prefix+"/repos/"+owner+"/"+repo+"/check-runs" || r.Method != http.MethodPost {
		f.fail(w, http.StatusNotFound, "Not Found")
		return
	}
	if a := r.Header.Get("Authorization"); a != "Bearer "+token && a != "token "+token {
		reply(w, http.StatusUnauthorized, testdata(f.t, "bad-credentials.401.json"))
		return
	}
	if !githubJSON(r.Header.Get("Accept")) {
		f.fail(w, http.StatusUnsupportedMediaType, "Unsupported 'Accept' header: "+r.Header.Get("Accept"))
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		f.fail(w, http.StatusUnsupportedMediaType, "Unsupported 'Content-Type' header")
		return
	}
	var in struct {
		Name        string  `json:"name"`
		HeadSHA     string  `json:"head_sha"`
		Status      *string `json:"status"`
		Conclusion  *string `json:"conclusion"`
		CompletedAt *string `json:"completed_at"`
		Output      *struct {
			Title   *string `json:"title"`
			Summary *string `json:"summary"`
			Text    *string `json:"text"`
		} `json:"output"`
	}
	if err := json.Unmarshal(body.Bytes(), &in); err != nil {
		f.fail(w, http.StatusBadRequest, "Problems parsing JSON")
		return
	}
	switch {
	case in.Name == "":
		f.fail(w, http.StatusUnprocessableEntity, "Invalid request.\n\n\"name\" wasn't supplied.")
		return
	case in.HeadSHA == "":
		f.fail(w, http.StatusUnprocessableEntity, "Invalid request.\n\n\"head_sha\" wasn't supplied.")
		return
	case in.HeadSHA != headSHA:
		reply(w, http.StatusUnprocessableEntity, bytes.ReplaceAll(testdata(f.t, "no-commit.422.json"),
			[]byte("0000000000000000000000000000000000000000"), []byte(in.HeadSHA)))
		return
	case in.Status != nil && *in.Status == "completed" && in.Conclusion == nil:
		f.fail(w, http.StatusUnprocessableEntity, "Invalid request.\n\n\"conclusion\" wasn't supplied.")
		return
	}
	if in.CompletedAt != nil {
		if _, err := time.Parse(time.RFC3339, *in.CompletedAt); err != nil {
			f.fail(w, http.StatusUnprocessableEntity, "Invalid request.\n\nInvalid completed_at.")
			return
		}
	}
	if o := in.Output; o != nil {
		if o.Title == nil || o.Summary == nil {
			f.fail(w, http.StatusUnprocessableEntity, "Invalid request.\n\n\"title\" and \"summary\" are required in output.")
			return
		}
		for field, v := range map[string]*string{"summary": o.Summary, "text": o.Text} {
			if v != nil && len(*v) > 65535 {
				reply(w, http.StatusUnprocessableEntity, bytes.ReplaceAll(testdata(f.t, "summary-too-long.422.json"), []byte("summary"), []byte(field)))
				return
			}
		}
	}
	if f.refuse != nil {
		f.refuse(w)
		return
	}
	b := testdata(f.t, f.created)
	var run struct {
		URL string `json:"url"`
	}
	json.Unmarshal(b, &run) //nolint:errcheck
	w.Header().Set("Location", run.URL)
	reply(w, http.StatusCreated, b)
}

// githubJSON reports whether GitHub serves JSON for an Accept header:
// application/json, or one of its own JSON media types
// (application/vnd.github+json, vnd.github.v3+json, and the preview types
// such as vnd.github.antiope-preview+json, which it still takes).
func githubJSON(accept string) bool {
	for _, part := range strings.Split(accept, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		if mt == "application/json" || mt == "application/vnd.github+json" ||
			strings.HasPrefix(mt, "application/vnd.github.") && strings.HasSuffix(mt, "+json") {
			return true
		}
	}
	return false
}

func (f *fakeGitHub) only(t *testing.T) request {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.requests) != 1 {
		t.Fatalf("%d requests, want 1", len(f.requests))
	}
	return f.requests[0]
}

// serve starts the fake and returns a client of it through NewClient:
// GitHub.com's (its base URL pointed at the fake, as the real one points
// at api.github.com) or, with prefix /api/v3, an Enterprise Server's
// from its GITHUB_API_URL.
func serve(t *testing.T, f *fakeGitHub) *github.Client {
	t.Helper()
	f.t = t
	if f.created == "" {
		f.created = "create-check-run.201.json"
	}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	if f.prefix != "" {
		c, err := NewClient(token, srv.URL+f.prefix)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c, err := NewClient(token, "")
	if err != nil {
		t.Fatal(err)
	}
	c.BaseURL, _ = url.Parse(srv.URL + "/")
	return c
}

var (
	started   = time.Date(2024, 5, 4, 10, 0, 0, 0, time.UTC)
	completed = time.Date(2024, 5, 4, 10, 2, 3, 500_000_000, time.UTC)
)

func failedGate() Run {
	return Run{
		Owner: "octo-org", Repo: "octo-repo", HeadSHA: headSHA,
		Conclusion: Failure,
		Title:      "Release gate failed: 2 blocking findings",
		Summary:    "2 open findings of severity high or above at 9f3c2a1.",
		Text:       "| severity | rule | where |\n|---|---|---|\n| HIGH | G101 | config/secrets.go:12 |\n| CRITICAL | CVE-2024-3094 | go.mod |",
		DetailsURL: "https://github.com/octo-org/octo-repo/actions/runs/8912345678/job/24405112233",
		ExternalID: "0190f4a2-7c1e-7b3d-9a55-3c2f1e0d9b8a",
		StartedAt:  started, CompletedAt: completed,
	}
}

func TestPost(t *testing.T) {
	f := &fakeGitHub{}
	c := serve(t, f)
	id, htmlURL, err := Post(context.Background(), c, failedGate())
	if err != nil {
		t.Fatal(err)
	}
	if id != 24153367071 || htmlURL != "https://github.com/octo-org/octo-repo/runs/24153367071" {
		t.Errorf("Post = %d, %q", id, htmlURL)
	}

	req := f.only(t)
	if req.method != http.MethodPost || req.path != "/repos/octo-org/octo-repo/check-runs" {
		t.Errorf("request = %s %s", req.method, req.path)
	}
	if got := req.header.Get("Authorization"); got != "Bearer "+token {
		t.Errorf("Authorization = %q", got)
	}
	// go-github v60's CreateCheckRun asks for the Checks API's former
	// preview type, which GitHub still serves as its JSON (the docs
	// recommend application/vnd.github+json; both select the same answer).
	if got := req.header.Get("Accept"); got != "application/vnd.github.antiope-preview+json" || !githubJSON(got) {
		t.Errorf("Accept = %q", got)
	}
	if got := req.header.Get("X-GitHub-Api-Version"); got != "2022-11-28" {
		t.Errorf("X-GitHub-Api-Version = %q", got)
	}
	if got := req.header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q", got)
	}
	if got := req.header.Get("User-Agent"); !strings.HasPrefix(got, "go-github/") {
		t.Errorf("User-Agent = %q", got)
	}

	var body map[string]any
	if err := json.Unmarshal(req.body, &body); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"name":         "dracon/release-gate",
		"head_sha":     headSHA,
		"status":       "completed",
		"conclusion":   "failure",
		"started_at":   "2024-05-04T10:00:00Z",
		"completed_at": "2024-05-04T10:02:03Z",
		"details_url":  "https://github.com/octo-org/octo-repo/actions/runs/8912345678/job/24405112233",
		"external_id":  "0190f4a2-7c1e-7b3d-9a55-3c2f1e0d9b8a",
		"output": map[string]any{
			"title":   "Release gate failed: 2 blocking findings",
			"summary": "2 open findings of severity high or above at 9f3c2a1.",
			"text":    "| severity | rule | where |\n|---|---|---|\n| HIGH | G101 | config/secrets.go:12 |\n| CRITICAL | CVE-2024-3094 | go.mod |",
		},
	}
	gotJSON, _ := json.Marshal(body)
	wantJSON, _ := json.Marshal(want)
	if !bytes.Equal(gotJSON, wantJSON) {
		t.Errorf("body\n got %s\nwant %s", gotJSON, wantJSON)
	}
}

// A passing gate with another name and no optional fields: only what was
// given is sent, completed now.
func TestPostMinimal(t *testing.T) {
	f := &fakeGitHub{}
	c := serve(t, f)
	before := time.Now().UTC().Truncate(time.Second)
	_, _, err := Post(context.Background(), c, Run{Owner: "octo-org", Repo: "octo-repo", HeadSHA: strings.ToUpper(headSHA), Name: "security/release",
		Conclusion: Success, Title: "Release gate passed", Summary: "No open findings block this release."})
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	json.Unmarshal(f.only(t).body, &body) //nolint:errcheck
	for _, k := range []string{"details_url", "external_id", "started_at"} {
		if _, ok := body[k]; ok {
			t.Errorf("%s sent: %v", k, body[k])
		}
	}
	if _, ok := body["output"].(map[string]any)["text"]; ok {
		t.Error("an empty text was sent")
	}
	at, err := time.Parse(time.RFC3339, body["completed_at"].(string))
	if err != nil || at.Before(before) || at.After(time.Now().Add(time.Second)) {
		t.Errorf("completed_at = %v (%v), want now", body["completed_at"], err)
	}
	if body["name"] != "security/release" || body["conclusion"] != "success" || body["head_sha"] != headSHA {
		t.Errorf("body = %v", body)
	}
}

func refuseWith(t *testing.T, status int, file string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) { reply(w, status, testdata(t, file)) }
}

func checkError(t *testing.T, err error, status int, wants ...string) *Error {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	var ge *Error
	if !errors.As(err, &ge) || ge.StatusCode != status {
		t.Fatalf("error %v (%T), want an *Error with status %d", err, err, status)
	}
	var er *github.ErrorResponse
	if status != 0 && !errors.As(err, &er) && !errors.As(err, new(*github.RateLimitError)) {
		t.Errorf("go-github's error is not wrapped: %v", err)
	}
	msg := err.Error()
	for _, w := range wants {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q does not say %q", msg, w)
		}
	}
	if strings.Contains(msg, token) || strings.Contains(fmt.Sprintf("%+v", err), token) {
		t.Errorf("the token is in the error: %q", msg)
	}
	return ge
}

func TestPostNotAccessible(t *testing.T) {
	t.Parallel()
	f := &fakeGitHub{}
	c := serve(t, f)
	f.refuse = refuseWith(t, http.StatusForbidden, "resource-not-accessible.403.json")
	_, _, err := Post(context.Background(), c, failedGate())
	checkError(t, err, 403, `"dracon/release-gate" on octo-org/octo-repo`, "POST /repos/octo-org/octo-repo/check-runs", "HTTP 403 Forbidden",
		"Resource not accessible by integration", "permissions: checks: write")
}

func TestPostPersonalToken(t *testing.T) {
	t.Parallel()
	f := &fakeGitHub{}
	c := serve(t, f)
	f.refuse = refuseWith(t, http.StatusForbidden, "personal-token.403.json")
	_, _, err := Post(context.Background(), c, failedGate())
	checkError(t, err, 403, "You must authenticate via a GitHub App", "not a personal access token")
}

func TestPostValidationFailed(t *testing.T) {
	t.Parallel()
	f := &fakeGitHub{}
	c := serve(t, f)
	// An Enterprise Server that counts the limit otherwise, say.
	f.refuse = refuseWith(t, http.StatusUnprocessableEntity, "summary-too-long.422.json")
	_, _, err := Post(context.Background(), c, failedGate())
	checkError(t, err, 422, "HTTP 422 Unprocessable Entity", "Validation Failed: summary exceeds a maximum bytesize of 65535", "over GitHub's limit")
}

func TestPostUnknownCommit(t *testing.T) {
	t.Parallel()
	f := &fakeGitHub{}
	c := serve(t, f)
	r := failedGate()
	r.HeadSHA = "0123456789abcdef0123456789abcdef01234567"
	_, _, err := Post(context.Background(), c, r)
	checkError(t, err, 422, "No commit found for SHA: "+r.HeadSHA, "push it first")
}

func TestPostBadCredentials(t *testing.T) {
	t.Parallel()
	f := &fakeGitHub{}
	srv := httptest.NewServer(f)
	defer srv.Close()
	f.t, f.created = t, "create-check-run.201.json"
	c, err := NewClient("ghs_expired", "")
	if err != nil {
		t.Fatal(err)
	}
	c.BaseURL, _ = url.Parse(srv.URL + "/")
	_, _, err = Post(context.Background(), c, failedGate())
	ge := checkError(t, err, 401, "Bad credentials", "expired")
	if strings.Contains(ge.Error(), "ghs_expired") {
		t.Errorf("the token is in the error: %v", ge)
	}
}

func TestPostRateLimited(t *testing.T) {
	t.Parallel()
	f := &fakeGitHub{}
	c := serve(t, f)
	f.refuse = func(w http.ResponseWriter) {
		reply(remainingZero{w}, http.StatusForbidden, []byte(`{"message":"API rate limit exceeded for installation ID 4242.","documentation_url":"https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting","status":"403"}`))
	}
	_, _, err := Post(context.Background(), c, failedGate())
	checkError(t, err, 403, "API rate limit exceeded", "rate limit exhausted until "+time.Unix(1714820400, 0).UTC().Format(time.RFC3339))
}

// remainingZero makes an answer say the rate limit is used up (reply sets
// the usual headers, then writes the status).
type remainingZero struct{ http.ResponseWriter }

func (w remainingZero) WriteHeader(code int) {
	w.Header().Set("X-RateLimit-Remaining", "0")
	w.ResponseWriter.WriteHeader(code)
}

func TestPostNoAnswer(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close() // nothing listens there now
	c, err := NewClient(token, srv.URL+"/api/v3")
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = Post(context.Background(), c, failedGate())
	checkError(t, err, 0, `"dracon/release-gate" on octo-org/octo-repo`, "/api/v3/repos/octo-org/octo-repo/check-runs")
}

// Post checks a run before it sends anything.
func TestPostRejectsBadRuns(t *testing.T) {
	f := &fakeGitHub{}
	c := serve(t, f)
	for name, tc := range map[string]struct {
		edit func(*Run)
		want string
	}{
		"short SHA":       {func(r *Run) { r.HeadSHA = "9f3c2a1" }, "not a full commit SHA"},
		"tag":             {func(r *Run) { r.HeadSHA = "v1.2.0" }, "git rev-parse"},
		"conclusion":      {func(r *Run) { r.Conclusion = "cancelled" }, `conclusion "cancelled"`},
		"no conclusion":   {func(r *Run) { r.Conclusion = "" }, "want success, failure or neutral"},
		"owner/name repo": {func(r *Run) { r.Owner, r.Repo = "", "octo-org/octo-repo" }, "want an owner and a name"},
		"no title":        {func(r *Run) { r.Title = "" }, "no title"},
		"no summary":      {func(r *Run) { r.Summary = "" }, "no summary"},
	} {
		r := failedGate()
		tc.edit(&r)
		if _, _, err := Post(context.Background(), c, r); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error saying %q", name, err, tc.want)
		}
	}
	if _, _, err := Post(context.Background(), nil, failedGate()); err == nil {
		t.Error("no client: no error")
	}
	if len(f.requests) != 0 {
		t.Errorf("%d requests sent for runs that were not valid", len(f.requests))
	}
}

func TestOutputCut(t *testing.T) {
	// Over the limit in bytes, not in characters: 30,000 three-byte
	// characters on lines of 100.
	line := strings.Repeat("€", 99) + "\n"
	summary := strings.Repeat(line, 300)
	text := strings.Repeat("x", 80_000)
	if utf8.RuneCountInString(summary) > MaxOutput || len(summary) <= MaxOutput {
		t.Fatalf("the summary is %d characters, %d bytes", utf8.RuneCountInString(summary), len(summary))
	}

	f := &fakeGitHub{}
	c := serve(t, f)
	r := failedGate()
	r.Summary, r.Text = summary, text

	// GitHub (the fake) refuses the whole summary ...
	opts := r.Options(completed)
	opts.Output.Summary = github.String(summary)
	_, resp, err := c.Checks.CreateCheckRun(context.Background(), r.Owner, r.Repo, opts)
	if er := new(github.ErrorResponse); !errors.As(err, &er) || resp.StatusCode != 422 || len(er.Errors) != 1 ||
		er.Errors[0].Message != "summary exceeds a maximum bytesize of 65535" {
		t.Fatalf("the whole summary: %v, want a 422 saying it is too long", err)
	}

	// ... and takes it cut.
	if _, _, err := Post(context.Background(), c, r); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	req := f.requests[len(f.requests)-1]
	f.mu.Unlock()
	var body struct {
		Output struct{ Summary, Text string } `json:"output"`
	}
	if err := json.Unmarshal(req.body, &body); err != nil {
		t.Fatal(err)
	}
	s, x := body.Output.Summary, body.Output.Text
	if len(s) > MaxOutput || len(x) > MaxOutput || !utf8.ValidString(s) {
		t.Fatalf("sent a summary of %d bytes (valid UTF-8: %v), a text of %d", len(s), utf8.ValidString(s), len(x))
	}
	if !strings.HasSuffix(s, fmt.Sprintf("… cut: the summary was %d bytes and GitHub takes at most 65535.", len(summary))) {
		t.Errorf("the summary ends %q", s[len(s)-200:])
	}
	if head, _, _ := strings.Cut(s, "\n\n… cut"); !strings.HasPrefix(summary, head) || !strings.HasSuffix(head, "€") || len(head) < MaxOutput-len(line)-200 {
		t.Errorf("the summary kept %d bytes ending %q; want whole lines of the original, near the limit", len(head), head[len(head)-10:])
	}
	if !strings.HasPrefix(x, strings.Repeat("x", 65_000)) || !strings.Contains(x, "the text was 80000 bytes") || len(x) != MaxOutput {
		t.Errorf("the text is %d bytes, ending %q", len(x), x[len(x)-120:])
	}
}

func TestCut(t *testing.T) {
	exact := strings.Repeat("a", 100)
	if Cut(exact, 100, "summary") != exact || Cut("", 100, "summary") != "" {
		t.Error("a string within the limit was changed")
	}
	for _, s := range []string{strings.Repeat("a", 400), strings.Repeat("é", 300), strings.Repeat("😀", 300), strings.Repeat("ab\n", 300)} {
		got := Cut(s, 250, "text")
		if len(got) > 250 || !utf8.ValidString(got) || !strings.Contains(got, "cut: the text was") {
			t.Errorf("Cut(%d bytes of %q) = %d bytes %q", len(s), s[:4], len(got), got)
		}
	}
	if got := Cut(strings.Repeat("ab\n", 300), 250, "text"); !strings.HasPrefix(got, "ab\nab\n") || strings.Contains(got, "ab\na\n") || !strings.Contains(got, "ab\n\n… cut") {
		t.Errorf("Cut did not end on a whole line: %q", got)
	}
}

func TestEnterprise(t *testing.T) {
	for _, suffix := range []string{"/api/v3", "/api/v3/"} {
		f := &fakeGitHub{prefix: "/api/v3", created: "ghes-create-check-run.201.json"}
		srv := httptest.NewServer(f)
		f.t = t
		c, err := NewClient(token, srv.URL+suffix) // GITHUB_API_URL
		if err != nil {
			t.Fatal(err)
		}
		if got := c.UploadURL.String(); got != srv.URL+"/api/uploads/" {
			t.Errorf("%s: upload URL %s", suffix, got)
		}
		r := failedGate()
		r.Conclusion = Success
		id, htmlURL, err := Post(context.Background(), c, r)
		if err != nil {
			t.Fatalf("%s: %v", suffix, err)
		}
		if id != 4187 || htmlURL != "https://ghe.example.com/octo-org/octo-repo/runs/4187" {
			t.Errorf("%s: Post = %d, %q", suffix, id, htmlURL)
		}
		if req := f.only(t); req.path != "/api/v3/repos/octo-org/octo-repo/check-runs" || req.header.Get("Authorization") != "Bearer "+token {
			t.Errorf("%s: request to %s with %q", suffix, req.path, req.header.Get("Authorization"))
		}
		srv.Close()
	}
}

func TestNewClientURLs(t *testing.T) {
	for in, want := range map[string]string{
		"":                               "https://api.github.com/",
		"https://api.github.com":         "https://api.github.com/",
		"https://api.github.com/":        "https://api.github.com/",
		"https://ghe.example.com/api/v3": "https://ghe.example.com/api/v3/",
		"https://ghe.example.com":        "https://ghe.example.com/api/v3/", // go-github adds /api/v3/
		"https://api.octocorp.ghe.com":   "https://api.octocorp.ghe.com/",   // GHE.com: the API at the root
	} {
		c, err := NewClient(token, in)
		if err != nil {
			t.Errorf("NewClient(%q): %v", in, err)
			continue
		}
		if got := c.BaseURL.String(); got != want {
			t.Errorf("NewClient(%q): base URL %s, want %s", in, got, want)
		}
	}
	if _, err := NewClient("  ", ""); err == nil || !strings.Contains(err.Error(), "GITHUB_TOKEN") {
		t.Errorf("no token: %v", err)
	}
	for _, bad := range []string{"ghe.example.com/api/v3", "ftp://ghe.example.com/", "https://x-access-token:s3cr3t@ghe.example.com/api/v3", "https://ghe.example.com/api/v3?access_token=s3cr3t"} {
		_, err := NewClient(token, bad)
		if err == nil {
			t.Errorf("NewClient(%q): no error", bad)
		} else if strings.Contains(err.Error(), "s3cr3t") || strings.Contains(err.Error(), token) {
			t.Errorf("NewClient(%q): the secret is in the error %q", bad, err)
		}
	}
}
