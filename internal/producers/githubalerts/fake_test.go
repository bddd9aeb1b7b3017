package githubalerts

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	testToken = "ghs_16C7e42F292c6912E7710c838347Ae178B4a"
	testRepo  = "octocat/hello-world"
	// testCursor is a cursor as GitHub writes them (base64 of
	// "cursor:v2:..."), percent-encoded in the Link header.
	testCursor = "Y3Vyc29yOnYyOpLPAAABgW4vKzDOA0Kufg=="
)

// fakeGitHub answers as GitHub's REST API does for the two alert lists
// (recorded shapes in testdata): 2022-11-28 JSON, the Link header GitHub
// writes (page numbers for code scanning, after/before cursors for
// Dependabot; the links name the repository by id, as GitHub's do), and
// its refusals: 401 for a bad token, 404 for a repository the token
// cannot see, and whatever refuse says for a path.
type fakeGitHub struct {
	t      *testing.T
	srv    *httptest.Server
	prefix string // "/api/v3" to play GitHub Enterprise Server

	mu       sync.Mutex
	requests []*http.Request
	// refuse answers a path's request with status and the testdata file;
	// times is how many requests it refuses (0: all).
	refuse map[string]refusal
}

type refusal struct {
	status  int
	file    string
	header  map[string]string
	times   int
	refused int
}

func newFakeGitHub(t *testing.T, prefix string) *fakeGitHub {
	f := &fakeGitHub{t: t, prefix: prefix, refuse: map[string]refusal{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeGitHub) apiURL() string { return f.srv.URL + f.prefix }

func (f *fakeGitHub) seen() []*http.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*http.Request(nil), f.requests...)
}

func (f *fakeGitHub) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests = append(f.requests, r)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-GitHub-Media-Type", "github.v3; format=json")
	path, ok := strings.CutPrefix(r.URL.Path, f.prefix)
	if !ok || r.Method != http.MethodGet {
		f.answer(w, 404, "", nil)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+testToken {
		f.answer(w, 401, "", nil)
		return
	}
	f.mu.Lock()
	ref, refused := f.refuse[path]
	if refused && (ref.times == 0 || ref.refused < ref.times) {
		ref.refused++
		f.refuse[path] = ref
		f.mu.Unlock()
		f.answer(w, ref.status, ref.file, ref.header)
		return
	}
	f.mu.Unlock()
	q := r.URL.Query()
	if q.Get("state") != "open" || q.Get("per_page") != "100" {
		f.answer(w, 422, "", nil)
		return
	}
	// Links name the repository by id, as GitHub's do.
	link := f.srv.URL + f.prefix + "/repositories/1296269"
	switch path {
	case "/repos/" + testRepo + "/code-scanning/alerts":
		base := link + "/code-scanning/alerts?per_page=100&state=open"
		switch q.Get("page") {
		case "", "1":
			w.Header().Set("Link", fmt.Sprintf(`<%s&page=2>; rel="next", <%s&page=2>; rel="last"`, base, base))
			f.answer(w, 200, "testdata/code-scanning/page1.json", nil)
		case "2":
			w.Header().Set("Link", fmt.Sprintf(`<%s&page=1>; rel="prev", <%s&page=1>; rel="first"`, base, base))
			f.answer(w, 200, "testdata/code-scanning/page2.json", nil)
		default:
			f.answer(w, 200, "", nil)
		}
	case "/repos/" + testRepo + "/dependabot/alerts":
		if q.Get("page") != "" {
			// GitHub deprecated page on this list for the after
			// cursor: the fake refuses it, so a fetch that sends it fails.
			w.WriteHeader(400)
			fmt.Fprint(w, `{"message":"Pagination using the `+"`page`"+` parameter is not supported.","documentation_url":"https://docs.github.com/rest/dependabot/alerts#list-dependabot-alerts-for-a-repository","status":"400"}`)
			return
		}
		base := link + "/dependabot/alerts?per_page=100&state=open"
		switch q.Get("after") {
		case "":
			w.Header().Set("Link", fmt.Sprintf(`<%s&after=%s>; rel="next"`, base, urlQueryEscape(testCursor)))
			f.answer(w, 200, "testdata/dependabot/page1.json", nil)
		case testCursor:
			w.Header().Set("Link", fmt.Sprintf(`<%s&before=%s>; rel="prev"`, base, urlQueryEscape("Y3Vyc29yOnYyOpLPAAABgW4vKzDOA0Kufw==")))
			f.answer(w, 200, "testdata/dependabot/page2.json", nil)
		default:
			f.answer(w, 200, "", nil)
		}
	default:
		f.answer(w, 404, "", nil)
	}
}

// answer writes status with the file's body; without a file, GitHub's
// body for the status.
func (f *fakeGitHub) answer(w http.ResponseWriter, status int, file string, header map[string]string) {
	for k, v := range header {
		w.Header().Set(k, v)
	}
	if file == "" {
		w.WriteHeader(status)
		switch status {
		case 200:
			fmt.Fprint(w, "[]")
		case 401:
			fmt.Fprint(w, `{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest","status":"401"}`)
		case 404:
			fmt.Fprint(w, `{"message":"Not Found","documentation_url":"https://docs.github.com/rest","status":"404"}`)
		case 422:
			fmt.Fprint(w, `{"message":"Validation Failed","documentation_url":"https://docs.github.com/rest","status":"422"}`)
		}
		return
	}
	data, err := os.ReadFile(file)
	if err != nil {
		f.t.Errorf("fake GitHub: %v", err)
		w.WriteHeader(500)
		return
	}
	w.WriteHeader(status)
	w.Write(data)
}

// rateLimited is GitHub's primary rate limit answer: 403 with
// X-RateLimit-Remaining: 0 and the reset in epoch seconds.
func rateLimited(reset time.Time) refusal {
	return refusal{status: 403, file: "testdata/code-scanning/rate-limit.json", times: 1, header: map[string]string{
		"X-RateLimit-Limit":     "5000",
		"X-RateLimit-Remaining": "0",
		"X-RateLimit-Used":      "5000",
		"X-RateLimit-Reset":     strconv.FormatInt(reset.Unix(), 10),
		"X-RateLimit-Resource":  "core",
	}}
}

func urlQueryEscape(s string) string {
	return strings.NewReplacer("=", "%3D", "+", "%2B", "/", "%2F").Replace(s)
}
