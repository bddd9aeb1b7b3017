package gitlabnote

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"sync"
	"testing"
)

// fakeGitLab answers the merge request notes API as GitLab's REST API v4
// does: PRIVATE-TOKEN authentication (401 without, 403 for a token without
// access), offset pagination with X-Page/X-Next-Page/X-Total-Pages and a
// Link header (or Link alone, as keyset pagination answers), JSON bodies,
// 201 on create.
type fakeGitLab struct {
	t       *testing.T
	token   string
	project string
	iid     int64
	// linkOnly answers with a Link header and no X-Next-Page.
	linkOnly bool
	perPage  int

	mu     sync.Mutex
	notes  []note
	nextID int64
	calls  []string
}

type note struct {
	ID     int64  `json:"id"`
	Body   string `json:"body"`
	System bool   `json:"system"`
	Author struct {
		Username string `json:"username"`
	} `json:"author"`
}

var notesPath = regexp.MustCompile(`^/api/v4/projects/([^/]+)/merge_requests/(\d+)/notes(?:/(\d+))?$`)

func newFake(t *testing.T) (*fakeGitLab, *httptest.Server) {
	f := &fakeGitLab{t: t, token: "glpat-test-token", project: "42", iid: 7, nextID: 1000}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeGitLab) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery)
	w.Header().Set("Content-Type", "application/json")
	switch tok := r.Header.Get("PRIVATE-TOKEN"); {
	case tok == "":
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"message":"401 Unauthorized"}`)
		return
	case tok != f.token:
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `{"message":"403 Forbidden"}`)
		return
	}
	m := notesPath.FindStringSubmatch(r.URL.Path)
	if m == nil || m[1] != f.project || m[2] != strconv.FormatInt(f.iid, 10) {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"message":"404 Not found"}`)
		return
	}
	switch {
	case r.Method == http.MethodGet && m[3] == "":
		per := f.perPage
		if v, _ := strconv.Atoi(r.URL.Query().Get("per_page")); v > 0 && (per == 0 || v < per) {
			per = v
		}
		if per == 0 {
			per = 20
		}
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		if page < 1 {
			page = 1
		}
		lo, hi := (page-1)*per, page*per
		lo, hi = min(lo, len(f.notes)), min(hi, len(f.notes))
		total := (len(f.notes) + per - 1) / per
		if hi < len(f.notes) {
			q := r.URL.Query()
			q.Set("page", strconv.Itoa(page+1))
			q.Set("per_page", strconv.Itoa(per))
			next := "http://" + r.Host + r.URL.Path + "?" + q.Encode()
			w.Header().Set("Link", `<`+next+`>; rel="next"`)
			if !f.linkOnly {
				w.Header().Set("X-Next-Page", strconv.Itoa(page+1))
			}
		}
		if !f.linkOnly {
			w.Header().Set("X-Page", strconv.Itoa(page))
			w.Header().Set("X-Per-Page", strconv.Itoa(per))
			w.Header().Set("X-Total-Pages", strconv.Itoa(total))
			w.Header().Set("X-Total", strconv.Itoa(len(f.notes)))
		}
		json.NewEncoder(w).Encode(f.notes[lo:hi])
	case r.Method == http.MethodPost && m[3] == "":
		var in struct {
			Body string `json:"body"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Body == "" {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"message":"400 Bad request - body is missing"}`)
			return
		}
		n := note{ID: f.nextID, Body: in.Body}
		n.Author.Username = "project_42_bot"
		f.nextID++
		f.notes = append(f.notes, n)
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(n)
	case r.Method == http.MethodPut && m[3] != "":
		id, _ := strconv.ParseInt(m[3], 10, 64)
		var in struct {
			Body string `json:"body"`
		}
		json.NewDecoder(r.Body).Decode(&in)
		for i := range f.notes {
			if f.notes[i].ID == id {
				f.notes[i].Body = in.Body
				json.NewEncoder(w).Encode(f.notes[i])
				return
			}
		}
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"message":"404 Not found"}`)
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
		fmt.Fprint(w, `{"message":"405 Method Not Allowed"}`)
	}
}

// seed adds n notes by others (and GitLab's system notes).
func (f *fakeGitLab) seed(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := 0; i < n; i++ {
		nt := note{ID: f.nextID, Body: fmt.Sprintf("review comment %d", i), System: i%3 == 0}
		nt.Author.Username = "alice"
		f.nextID++
		f.notes = append(f.notes, nt)
	}
}

func (f *fakeGitLab) snapshot() ([]note, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]note(nil), f.notes...), append([]string(nil), f.calls...)
}
