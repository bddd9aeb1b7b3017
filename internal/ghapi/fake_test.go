package ghapi

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-github/v60/github"
)

// fakeGitHub is GitHub's REST API for the endpoints this package calls,
// strict where GitHub is: the token in Authorization, a JSON media type in
// Accept, API version 2022-11-28 when one is asked for, a JSON body with
// the required fields, GitHub's limits (10 MB of gzip-compressed SARIF,
// 65,536 characters of comment, 50 annotations a request, 65535 bytes of
// check run summary), comments only on lines of the diff, and lists in
// pages (per_page up to 100, a Link header). It answers with the bodies
// in testdata/, as GitHub's REST docs show them.

const (
	token     = "ghs_notARealToken0123456789abcdefghijKLMN"
	owner     = "octo-org"
	repo      = "octo-repo"
	prNumber  = 1347
	headSHA   = "9f3c2a1b7e6d5c4b3a29180f7e6d5c4b3a291807"
	mergeSHA  = "e5bd3914e2e596debea16f433f57875b5b90bcd6"
	sarifID   = "47177e22-5596-11eb-80a1-c1e54ef945c6"
	checkID   = 24153367071
	repoID    = 1296269
	apiHeader = "2022-11-28"
)

type recorded struct {
	method, path string
	query        url.Values
	header       http.Header
	body         []byte
	at           time.Time
}

type checkRunState struct {
	status, conclusion string
	annotations        int
}

type fakeGitHub struct {
	t   *testing.T
	srv *httptest.Server

	// intercept, when set, may answer a request that passed the common
	// checks (a refusal the fake cannot reproduce: permissions, limits);
	// n counts the requests so far, this one included.
	intercept func(w http.ResponseWriter, r *http.Request, n int) bool

	mu             sync.Mutex
	requests       []recorded
	issueComments  []map[string]any
	reviewComments []map[string]any
	nextID         int64
	uploads        map[string][]byte // id → the SARIF, decoded
	statuses       []string          // what GET …/sarifs/{id} answers, in turn (the last repeats)
	polls          int
	checkRuns      map[int64]*checkRunState
}

func newFake(t *testing.T) (*fakeGitHub, *github.Client) {
	t.Helper()
	f := &fakeGitHub{t: t, nextID: 5000, uploads: map[string][]byte{}, statuses: []string{"complete"}, checkRuns: map[int64]*checkRunState{}}
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	// As internal/githubcheck's tests do: the real client, its base URL
	// pointed at the fake as the real one points at api.github.com.
	c := github.NewClient(nil).WithAuthToken(token)
	c.BaseURL, _ = url.Parse(f.srv.URL + "/")
	return f, c
}

func testdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func object(t *testing.T, name string) map[string]any {
	var m map[string]any
	if err := json.Unmarshal(testdata(t, name), &m); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return m
}

// reply writes a GitHub answer: its JSON body and the headers GitHub
// sends with one.
func reply(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-GitHub-Media-Type", "github.v3; format=json")
	h.Set("X-GitHub-Api-Version-Selected", apiHeader)
	if h.Get("X-RateLimit-Remaining") == "" {
		h.Set("X-RateLimit-Limit", "5000")
		h.Set("X-RateLimit-Remaining", "4999")
		h.Set("X-RateLimit-Used", "1")
		h.Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10))
		h.Set("X-RateLimit-Resource", "core")
	}
	h.Set("X-GitHub-Request-Id", "C3A8:2B3F:1A2B3C:1B2C3D:6636089B")
	w.WriteHeader(status)
	w.Write(body) //nolint:errcheck
}

func replyJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	reply(w, status, b)
}

func fail(w http.ResponseWriter, status int, msg string) {
	replyJSON(w, status, map[string]string{"message": msg, "documentation_url": "https://docs.github.com/rest", "status": fmt.Sprint(status)})
}

// githubJSON reports whether GitHub answers a JSON endpoint for an Accept
// header: application/json, application/vnd.github+json, the v3 type, or
// one of its (former) preview types, which go-github still sends for some
// endpoints (vnd.github.squirrel-girl-preview, antiope-preview+json,
// comfort-fade-preview+json) and GitHub still serves as JSON. A raw or
// diff type (vnd.github.v3.diff, .raw) is not JSON.
func githubJSON(accept string) bool {
	for _, part := range strings.Split(accept, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch {
		case mt == "application/json", mt == "application/vnd.github+json", mt == "application/vnd.github.v3+json":
			return true
		case strings.HasPrefix(mt, "application/vnd.github.") && strings.HasSuffix(strings.TrimSuffix(mt, "+json"), "-preview"):
			return true
		}
	}
	return false
}

var (
	reSarifs      = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)/code-scanning/sarifs$`)
	reSarif       = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)/code-scanning/sarifs/([^/]+)$`)
	reIssueCmts   = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)/issues/(\d+)/comments$`)
	reIssueCmt    = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)/issues/comments/(\d+)$`)
	rePull        = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)/pulls/(\d+)$`)
	rePullFiles   = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)/pulls/(\d+)/files$`)
	rePullCmts    = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)/pulls/(\d+)/comments$`)
	rePullReviews = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)/pulls/(\d+)/reviews$`)
	reCheckRuns   = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)/check-runs$`)
	reCheckRun    = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)/check-runs/(\d+)$`)
)

func (f *fakeGitHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.requests = append(f.requests, recorded{r.Method, r.URL.Path, r.URL.Query(), r.Header.Clone(), body, time.Now()})
	n := len(f.requests)
	f.mu.Unlock()

	if a := r.Header.Get("Authorization"); a != "Bearer "+token && a != "token "+token {
		reply(w, http.StatusUnauthorized, testdata(f.t, "bad-credentials.401.json"))
		return
	}
	if !githubJSON(r.Header.Get("Accept")) {
		fail(w, http.StatusUnsupportedMediaType, "Unsupported 'Accept' header: "+r.Header.Get("Accept"))
		return
	}
	if v := r.Header.Get("X-GitHub-Api-Version"); v != "" && v != apiHeader {
		fail(w, http.StatusBadRequest, fmt.Sprintf("API version '%s' is not supported.", v))
		return
	}
	if len(body) > 0 {
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
			fail(w, http.StatusUnsupportedMediaType, "Unsupported 'Content-Type' header")
			return
		}
		if !json.Valid(body) {
			fail(w, http.StatusBadRequest, "Problems parsing JSON")
			return
		}
	}
	if f.intercept != nil && f.intercept(w, r, n) {
		return
	}

	p := r.URL.Path
	var m []string
	match := func(re *regexp.Regexp, method string) bool {
		m = re.FindStringSubmatch(p)
		return m != nil && r.Method == method
	}
	known := func() bool {
		if m[1] != owner || m[2] != repo {
			reply(w, http.StatusNotFound, testdata(f.t, "not-found.404.json"))
			return false
		}
		if len(m) > 3 && re(m[0], `/(issues|pulls)/\d+`) && m[3] != strconv.Itoa(prNumber) {
			reply(w, http.StatusNotFound, testdata(f.t, "not-found.404.json"))
			return false
		}
		return true
	}
	switch {
	case match(reSarifs, http.MethodPost):
		if known() {
			f.uploadSARIF(w, body)
		}
	case match(reSarif, http.MethodGet):
		if known() {
			f.sarifStatus(w, m[3])
		}
	case match(reIssueCmts, http.MethodGet):
		if known() {
			f.mu.Lock()
			list := append([]map[string]any(nil), f.issueComments...)
			f.mu.Unlock()
			f.page(w, r, list, fmt.Sprintf("/repositories/%d/issues/%d/comments", repoID, prNumber))
		}
	case match(reIssueCmts, http.MethodPost):
		if known() {
			f.createIssueComment(w, body)
		}
	case match(reIssueCmt, http.MethodPatch):
		if known() {
			f.editIssueComment(w, m[3], body)
		}
	case match(rePull, http.MethodGet):
		if known() {
			reply(w, http.StatusOK, testdata(f.t, "pull.json"))
		}
	case match(rePullFiles, http.MethodGet):
		if known() {
			var files []map[string]any
			json.Unmarshal(testdata(f.t, "pull-files.json"), &files) //nolint:errcheck
			f.page(w, r, files, fmt.Sprintf("/repositories/%d/pulls/%d/files", repoID, prNumber))
		}
	case match(rePullCmts, http.MethodGet):
		if known() {
			f.mu.Lock()
			list := append([]map[string]any(nil), f.reviewComments...)
			f.mu.Unlock()
			f.page(w, r, list, fmt.Sprintf("/repositories/%d/pulls/%d/comments", repoID, prNumber))
		}
	case match(rePullReviews, http.MethodPost):
		if known() {
			f.createReview(w, body)
		}
	case match(reCheckRuns, http.MethodPost):
		if known() {
			f.checkRun(w, 0, body)
		}
	case match(reCheckRun, http.MethodPatch):
		if known() {
			id, _ := strconv.ParseInt(m[3], 10, 64)
			f.checkRun(w, id, body)
		}
	default:
		reply(w, http.StatusNotFound, testdata(f.t, "not-found.404.json"))
	}
}

func re(s, pattern string) bool { return regexp.MustCompile(pattern).MatchString(s) }

// page answers one page of list as GitHub does: per_page (default 30, at
// most 100), page (from 1), and a Link header to the next, last, first
// and previous pages, its URLs by the repository's id as GitHub's are.
func (f *fakeGitHub) page(w http.ResponseWriter, r *http.Request, list []map[string]any, linkPath string) {
	q := r.URL.Query()
	per, page := 30, 1
	if v := q.Get("per_page"); v != "" {
		per, _ = strconv.Atoi(v)
	}
	if v := q.Get("page"); v != "" {
		page, _ = strconv.Atoi(v)
	}
	per = min(max(per, 1), 100)
	page = max(page, 1)
	last := max((len(list)+per-1)/per, 1)
	from, to := min((page-1)*per, len(list)), min(page*per, len(list))
	link := func(n int, rel string) string {
		return fmt.Sprintf(`<%s%s?per_page=%d&page=%d>; rel="%s"`, f.srv.URL, linkPath, per, n, rel)
	}
	var links []string
	if page > 1 {
		links = append(links, link(page-1, "prev"))
	}
	if page < last {
		links = append(links, link(page+1, "next"), link(last, "last"))
	}
	if page > 1 {
		links = append(links, link(1, "first"))
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, ", "))
	}
	out := list[from:to]
	if out == nil {
		out = []map[string]any{}
	}
	replyJSON(w, http.StatusOK, out)
}

var refRE = regexp.MustCompile(`^refs/(heads|tags)/.+$|^refs/pull/\d+/(merge|head)$`)

func (f *fakeGitHub) uploadSARIF(w http.ResponseWriter, body []byte) {
	var in struct {
		CommitSHA   *string `json:"commit_sha"`
		Ref         *string `json:"ref"`
		Sarif       *string `json:"sarif"`
		CheckoutURI *string `json:"checkout_uri"`
		ToolName    *string `json:"tool_name"`
		Category    *string `json:"category"` // not a field of this endpoint
	}
	json.Unmarshal(body, &in) //nolint:errcheck
	switch {
	case in.CommitSHA == nil || !regexp.MustCompile(`^[0-9a-f]{40}$`).MatchString(*in.CommitSHA):
		fail(w, http.StatusUnprocessableEntity, "Invalid request.\n\n\"commit_sha\" wasn't supplied or is not a 40-character SHA.")
		return
	case in.Ref == nil || !refRE.MatchString(*in.Ref):
		fail(w, http.StatusUnprocessableEntity, "Invalid request.\n\n\"ref\" wasn't supplied or is not a valid ref.")
		return
	case in.Sarif == nil:
		fail(w, http.StatusUnprocessableEntity, "Invalid request.\n\n\"sarif\" wasn't supplied.")
		return
	case in.CheckoutURI != nil && !strings.HasPrefix(*in.CheckoutURI, "file://"):
		fail(w, http.StatusUnprocessableEntity, "Invalid request.\n\n\"checkout_uri\" is not a file URI.")
		return
	case in.Category != nil:
		fail(w, http.StatusUnprocessableEntity, "Invalid request.\n\nNo subschema in \"oneOf\" matched: category is not a permitted key.")
		return
	}
	gz, err := base64.StdEncoding.DecodeString(*in.Sarif)
	if err != nil {
		fail(w, http.StatusBadRequest, "Invalid SARIF: the sarif field is not base64")
		return
	}
	if len(gz) > MaxSARIFGzipBytes {
		reply(w, http.StatusRequestEntityTooLarge, testdata(f.t, "sarif-too-large.413.json"))
		return
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		fail(w, http.StatusBadRequest, "Invalid SARIF: the sarif field is not gzip-compressed")
		return
	}
	sarif, err := io.ReadAll(zr)
	if err != nil {
		fail(w, http.StatusBadRequest, "Invalid SARIF: "+err.Error())
		return
	}
	var log struct {
		Version string            `json:"version"`
		Runs    []json.RawMessage `json:"runs"`
	}
	if err := json.Unmarshal(sarif, &log); err != nil || log.Version != "2.1.0" || log.Runs == nil {
		fail(w, http.StatusBadRequest, "Invalid SARIF: want a SARIF 2.1.0 log with runs")
		return
	}
	f.mu.Lock()
	f.uploads[sarifID] = sarif
	f.mu.Unlock()
	reply(w, http.StatusAccepted, bytes.ReplaceAll(testdata(f.t, "sarif-upload.202.json"), []byte("https://api.github.com"), []byte(f.srv.URL)))
}

func (f *fakeGitHub) sarifStatus(w http.ResponseWriter, id string) {
	f.mu.Lock()
	_, ok := f.uploads[id]
	s := f.statuses[min(f.polls, len(f.statuses)-1)]
	if ok {
		f.polls++
	}
	f.mu.Unlock()
	if !ok {
		reply(w, http.StatusNotFound, testdata(f.t, "not-found.404.json"))
		return
	}
	if s == "502" {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		io.WriteString(w, "<html><body><h1>502 Bad Gateway</h1></body></html>") //nolint:errcheck
		return
	}
	reply(w, http.StatusOK, testdata(f.t, "sarif-status."+s+".json"))
}

// issueComment is the testdata comment with id, author and body.
func (f *fakeGitHub) issueComment(id int64, login, body string) map[string]any {
	c := object(f.t, "issue-comment.json")
	c["id"] = id
	c["url"] = fmt.Sprintf("https://api.github.com/repos/%s/%s/issues/comments/%d", owner, repo, id)
	c["html_url"] = fmt.Sprintf("https://github.com/%s/%s/pull/%d#issuecomment-%d", owner, repo, prNumber, id)
	c["body"] = body
	c["user"].(map[string]any)["login"] = login
	if strings.HasSuffix(login, "[bot]") {
		c["user"].(map[string]any)["type"] = "Bot"
	}
	return c
}

func (f *fakeGitHub) commentBody(w http.ResponseWriter, body []byte) (string, bool) {
	var in struct {
		Body *string `json:"body"`
	}
	json.Unmarshal(body, &in) //nolint:errcheck
	switch {
	case in.Body == nil:
		fail(w, http.StatusUnprocessableEntity, "Invalid request.\n\n\"body\" wasn't supplied.")
		return "", false
	case utf8.RuneCountInString(*in.Body) > MaxCommentChars:
		reply(w, http.StatusUnprocessableEntity, testdata(f.t, "body-too-long.422.json"))
		return "", false
	}
	return *in.Body, true
}

func (f *fakeGitHub) createIssueComment(w http.ResponseWriter, body []byte) {
	text, ok := f.commentBody(w, body)
	if !ok {
		return
	}
	f.mu.Lock()
	f.nextID++
	c := f.issueComment(f.nextID, "github-actions[bot]", text)
	f.issueComments = append(f.issueComments, c)
	f.mu.Unlock()
	w.Header().Set("Location", c["url"].(string))
	replyJSON(w, http.StatusCreated, c)
}

func (f *fakeGitHub) editIssueComment(w http.ResponseWriter, id string, body []byte) {
	text, ok := f.commentBody(w, body)
	if !ok {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.issueComments {
		if fmt.Sprint(c["id"]) == id {
			c["body"] = text
			c["updated_at"] = time.Now().UTC().Format(time.RFC3339)
			replyJSON(w, http.StatusOK, c)
			return
		}
	}
	reply(w, http.StatusNotFound, testdata(f.t, "not-found.404.json"))
}

func (f *fakeGitHub) reviewComment(id int64, login, path string, line int, side, body string) map[string]any {
	c := object(f.t, "review-comment.json")
	c["id"] = id
	c["url"] = fmt.Sprintf("https://api.github.com/repos/%s/%s/pulls/comments/%d", owner, repo, id)
	c["path"], c["line"], c["original_line"], c["side"], c["body"] = path, line, line, side, body
	c["user"].(map[string]any)["login"] = login
	return c
}

// commentable is where GitHub lets a review comment go: the lines of each
// file's patch in pull-files.json, by side.
func (f *fakeGitHub) commentable() map[string]diffLines {
	var files []struct {
		Filename string `json:"filename"`
		Patch    string `json:"patch"`
	}
	json.Unmarshal(testdata(f.t, "pull-files.json"), &files) //nolint:errcheck
	out := map[string]diffLines{}
	for _, fl := range files {
		d := diffLines{right: map[int]bool{}, left: map[int]bool{}}
		// The fake's own reading of the hunks, simpler than parsePatch:
		// every line after a header, by its first character.
		var o, n int
		for _, l := range strings.Split(fl.Patch, "\n") {
			if h := regexp.MustCompile(`^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@`).FindStringSubmatch(l); h != nil {
				o, _ = strconv.Atoi(h[1])
				n, _ = strconv.Atoi(h[2])
				continue
			}
			switch {
			case strings.HasPrefix(l, "+"):
				d.right[n] = true
				n++
			case strings.HasPrefix(l, "-"):
				d.left[o] = true
				o++
			case strings.HasPrefix(l, " "):
				d.right[n], d.left[o] = true, true
				n++
				o++
			}
		}
		out[fl.Filename] = d
	}
	return out
}

func (f *fakeGitHub) createReview(w http.ResponseWriter, body []byte) {
	var in struct {
		CommitID *string `json:"commit_id"`
		Body     *string `json:"body"`
		Event    *string `json:"event"`
		Comments []struct {
			Path     *string `json:"path"`
			Position *int    `json:"position"`
			Body     *string `json:"body"`
			Line     *int    `json:"line"`
			Side     *string `json:"side"`
		} `json:"comments"`
	}
	json.Unmarshal(body, &in) //nolint:errcheck
	switch {
	case in.CommitID != nil && *in.CommitID != headSHA:
		fail(w, http.StatusUnprocessableEntity, "Unprocessable Entity: commit_id is not part of the pull request")
		return
	case in.Event != nil && *in.Event != "COMMENT" && *in.Event != "APPROVE" && *in.Event != "REQUEST_CHANGES":
		fail(w, http.StatusUnprocessableEntity, "Invalid request.\n\n\"event\" is not one of APPROVE, REQUEST_CHANGES, COMMENT.")
		return
	case in.Event != nil && *in.Event != "APPROVE" && (in.Body == nil || *in.Body == ""):
		fail(w, http.StatusUnprocessableEntity, "Unprocessable Entity: body is required for a review with this event")
		return
	}
	lines := f.commentable()
	for _, c := range in.Comments {
		switch {
		case c.Path == nil || c.Body == nil:
			fail(w, http.StatusUnprocessableEntity, "Invalid request.\n\n\"path\" and \"body\" are required in comments.")
			return
		case c.Position != nil && c.Line != nil:
			fail(w, http.StatusUnprocessableEntity, "Invalid request.\n\nposition and line cannot both be given.")
			return
		case utf8.RuneCountInString(*c.Body) > MaxCommentChars:
			reply(w, http.StatusUnprocessableEntity, testdata(f.t, "body-too-long.422.json"))
			return
		}
		side := "RIGHT"
		if c.Side != nil {
			side = *c.Side
		}
		d, ok := lines[*c.Path]
		if !ok || c.Line == nil || (side == "RIGHT" && !d.right[*c.Line]) || (side == "LEFT" && !d.left[*c.Line]) || (side != "RIGHT" && side != "LEFT") {
			reply(w, http.StatusUnprocessableEntity, testdata(f.t, "line-not-in-diff.422.json"))
			return
		}
	}
	f.mu.Lock()
	for _, c := range in.Comments {
		f.nextID++
		side := "RIGHT"
		if c.Side != nil {
			side = *c.Side
		}
		f.reviewComments = append(f.reviewComments, f.reviewComment(f.nextID, "github-actions[bot]", *c.Path, *c.Line, side, *c.Body))
	}
	f.mu.Unlock()
	rv := object(f.t, "review.200.json")
	if in.Body != nil {
		rv["body"] = *in.Body
	}
	replyJSON(w, http.StatusOK, rv)
}

// checkRun creates (id 0) or updates check run id.
func (f *fakeGitHub) checkRun(w http.ResponseWriter, id int64, body []byte) {
	var in struct {
		Name        *string `json:"name"`
		HeadSHA     *string `json:"head_sha"`
		Status      *string `json:"status"`
		Conclusion  *string `json:"conclusion"`
		StartedAt   *string `json:"started_at"`
		CompletedAt *string `json:"completed_at"`
		Output      *struct {
			Title       *string `json:"title"`
			Summary     *string `json:"summary"`
			Text        *string `json:"text"`
			Annotations []struct {
				Path            *string `json:"path"`
				StartLine       *int    `json:"start_line"`
				EndLine         *int    `json:"end_line"`
				StartColumn     *int    `json:"start_column"`
				EndColumn       *int    `json:"end_column"`
				AnnotationLevel *string `json:"annotation_level"`
				Message         *string `json:"message"`
				Title           *string `json:"title"`
			} `json:"annotations"`
		} `json:"output"`
	}
	json.Unmarshal(body, &in) //nolint:errcheck
	create := id == 0
	f.mu.Lock()
	st := f.checkRuns[id]
	f.mu.Unlock()
	switch {
	case !create && st == nil:
		reply(w, http.StatusNotFound, testdata(f.t, "not-found.404.json"))
		return
	case create && (in.Name == nil || *in.Name == ""):
		fail(w, http.StatusUnprocessableEntity, "Invalid request.\n\n\"name\" wasn't supplied.")
		return
	case create && in.HeadSHA == nil:
		fail(w, http.StatusUnprocessableEntity, "Invalid request.\n\n\"head_sha\" wasn't supplied.")
		return
	case create && *in.HeadSHA != headSHA:
		reply(w, http.StatusUnprocessableEntity, bytes.ReplaceAll(testdata(f.t, "no-commit.422.json"), []byte("0000000000000000000000000000000000000000"), []byte(*in.HeadSHA)))
		return
	case in.Status != nil && *in.Status != "queued" && *in.Status != "in_progress" && *in.Status != "completed":
		fail(w, http.StatusUnprocessableEntity, "Invalid request.\n\nstatus is not a valid status.")
		return
	case in.Status != nil && *in.Status == "completed" && in.Conclusion == nil:
		fail(w, http.StatusUnprocessableEntity, "Invalid request.\n\n\"conclusion\" wasn't supplied.")
		return
	}
	for _, ts := range []*string{in.StartedAt, in.CompletedAt} {
		if ts != nil {
			if _, err := time.Parse(time.RFC3339, *ts); err != nil {
				fail(w, http.StatusUnprocessableEntity, "Invalid request.\n\nInvalid timestamp.")
				return
			}
		}
	}
	annotations := 0
	if o := in.Output; o != nil {
		switch {
		case o.Title == nil || o.Summary == nil:
			fail(w, http.StatusUnprocessableEntity, "Invalid request.\n\n\"title\" and \"summary\" are required in output.")
			return
		case len(*o.Summary) > MaxOutputBytes:
			fail(w, http.StatusUnprocessableEntity, "Validation Failed: summary exceeds a maximum bytesize of 65535")
			return
		case o.Text != nil && len(*o.Text) > MaxOutputBytes:
			fail(w, http.StatusUnprocessableEntity, "Validation Failed: text exceeds a maximum bytesize of 65535")
			return
		case len(o.Annotations) > 50:
			fail(w, http.StatusUnprocessableEntity, "Invalid request.\n\nOnly 50 annotations may be specified per request.")
			return
		}
		for _, a := range o.Annotations {
			switch {
			case a.Path == nil || a.StartLine == nil || a.EndLine == nil || a.AnnotationLevel == nil || a.Message == nil:
				fail(w, http.StatusUnprocessableEntity, "Invalid request.\n\n\"path\", \"start_line\", \"end_line\", \"annotation_level\" and \"message\" are required in annotations.")
				return
			case *a.AnnotationLevel != "notice" && *a.AnnotationLevel != "warning" && *a.AnnotationLevel != "failure":
				fail(w, http.StatusUnprocessableEntity, "Invalid request.\n\nannotation_level is not notice, warning or failure.")
				return
			case (a.StartColumn != nil || a.EndColumn != nil) && *a.StartLine != *a.EndLine:
				fail(w, http.StatusUnprocessableEntity, "Invalid request.\n\nstart_column and end_column may only be given when start_line and end_line are the same.")
				return
			case a.Title != nil && utf8.RuneCountInString(*a.Title) > 255:
				fail(w, http.StatusUnprocessableEntity, "Invalid request.\n\ntitle is too long (maximum is 255 characters).")
				return
			}
		}
		annotations = len(o.Annotations)
	}
	f.mu.Lock()
	if create {
		id = checkID
		st = &checkRunState{status: "queued"}
		f.checkRuns[id] = st
	}
	if in.Status != nil {
		st.status = *in.Status
	}
	if in.Conclusion != nil {
		st.conclusion = *in.Conclusion
		st.status = "completed"
	}
	st.annotations += annotations
	run := object(f.t, "check-run.json")
	run["id"], run["status"] = id, st.status
	if st.conclusion != "" {
		run["conclusion"] = st.conclusion
	}
	run["output"].(map[string]any)["annotations_count"] = st.annotations
	f.mu.Unlock()
	if create {
		w.Header().Set("Location", run["url"].(string))
		replyJSON(w, http.StatusCreated, run)
		return
	}
	replyJSON(w, http.StatusOK, run)
}

// sent returns the requests the fake received.
func (f *fakeGitHub) sent() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.requests...)
}

// checkHeaders checks what every request carries, as GitHub wants it.
func checkHeaders(t *testing.T, reqs []recorded) {
	t.Helper()
	for _, r := range reqs {
		if got := r.header.Get("Authorization"); got != "Bearer "+token {
			t.Errorf("%s %s: Authorization %q", r.method, r.path, got)
		}
		if got := r.header.Get("X-GitHub-Api-Version"); got != apiHeader {
			t.Errorf("%s %s: X-GitHub-Api-Version %q", r.method, r.path, got)
		}
		if got := r.header.Get("Accept"); !githubJSON(got) {
			t.Errorf("%s %s: Accept %q", r.method, r.path, got)
		}
		if got := r.header.Get("User-Agent"); !strings.HasPrefix(got, "go-github/") {
			t.Errorf("%s %s: User-Agent %q", r.method, r.path, got)
		}
	}
}
