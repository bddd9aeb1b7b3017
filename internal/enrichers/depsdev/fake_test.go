package depsdev

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// routes are the answers the fake deps.dev gives, by escaped path: what
// api.deps.dev answers for these package versions and projects (bodies
// in testdata/api, in the JSON of api/v3/api.proto). Every other path
// is a 404, as deps.dev answers for a package version it does not know.
var routes = map[string]string{
	"/v3/systems/go/packages/github.com%2Fgorilla%2Fmux/versions/v1.8.0":               "version-go-gorilla-mux-v1.8.0.json",
	"/v3/systems/npm/packages/lodash/versions/4.17.20":                                 "version-npm-lodash-4.17.20.json",
	"/v3/systems/pypi/packages/django/versions/3.2":                                    "version-pypi-django-3.2.json",
	"/v3/systems/maven/packages/org.apache.logging.log4j%3Alog4j-core/versions/2.14.1": "version-maven-log4j-core-2.14.1.json",
	"/v3/systems/cargo/packages/serde/versions/1.0.190":                                "version-cargo-serde-1.0.190.json",
	"/v3/systems/nuget/packages/Newtonsoft.Json/versions/13.0.1":                       "version-nuget-newtonsoft.json-13.0.1.json",
	"/v3/systems/pypi/packages/requests/versions/2.31.0":                               "version-pypi-requests-2.31.0.json",
	"/v3/projects/github.com%2Fgorilla%2Fmux":                                          "project-gorilla-mux.json",
	"/v3/projects/github.com%2Flodash%2Flodash":                                        "project-lodash.json",
	"/v3/projects/github.com%2Fdjango%2Fdjango":                                        "project-django.json",
	"/v3/projects/github.com%2Fapache%2Flogging-log4j2":                                "project-log4j2.json",
	"/v3/projects/github.com%2Fserde-rs%2Fserde":                                       "project-serde.json",
	"/v3/projects/github.com%2Fpsf%2Frequests":                                         "project-requests.json",
}

// fakeDepsDev answers as deps.dev's API v3 does: JSON bodies, 404 with
// its error body for what it does not know, and, for the paths in
// throttle, a 429 with Retry-After first.
type fakeDepsDev struct {
	t   *testing.T
	srv *httptest.Server

	mu          sync.Mutex
	requests    []string
	inFlight    int
	maxInFlight int
	throttle    map[string]int // path: 429s still to answer
	delay       time.Duration  // before each answer
	hang        bool           // never answer (the request's context ends it)
}

func newFakeDepsDev(t testing.TB) *fakeDepsDev {
	f := &fakeDepsDev{throttle: map[string]int{}}
	if tt, ok := t.(*testing.T); ok {
		f.t = tt
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeDepsDev) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.requests)
}

func (f *fakeDepsDev) reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests, f.maxInFlight = nil, 0
}

func (f *fakeDepsDev) serve(w http.ResponseWriter, r *http.Request) {
	path := r.URL.EscapedPath()
	// deps.dev takes the system in any case ("go", "GO").
	if rest, ok := strings.CutPrefix(path, "/v3/systems/"); ok {
		if sys, tail, ok := strings.Cut(rest, "/"); ok {
			path = "/v3/systems/" + strings.ToLower(sys) + "/" + tail
		}
	}
	f.mu.Lock()
	f.requests = append(f.requests, path)
	f.inFlight++
	f.maxInFlight = max(f.maxInFlight, f.inFlight)
	throttled := f.throttle[path] > 0
	if throttled {
		f.throttle[path]--
	}
	delay, hang := f.delay, f.hang
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.inFlight--
		f.mu.Unlock()
	}()
	if hang {
		<-r.Context().Done()
		return
	}
	if delay > 0 {
		time.Sleep(delay)
	}
	w.Header().Set("Content-Type", "application/json")
	switch file, ok := routes[path]; {
	case r.Method != http.MethodGet:
		w.WriteHeader(http.StatusMethodNotAllowed)
	case throttled:
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
		f.body(w, "rate-limited.json")
	case ok:
		f.body(w, file)
	default:
		w.WriteHeader(http.StatusNotFound)
		f.body(w, "not-found.json")
	}
}

func (f *fakeDepsDev) body(w http.ResponseWriter, file string) {
	data, err := os.ReadFile(filepath.Join("testdata", "api", file))
	if err != nil && f.t != nil {
		f.t.Errorf("fake deps.dev: %v", err)
	}
	w.Write(data)
}
