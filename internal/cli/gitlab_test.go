package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/draconsec/dracon/internal/gitlabnote"
	"github.com/draconsec/dracon/internal/pipeline"
	"github.com/draconsec/dracon/internal/summary"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// glNotes is GitLab's merge request notes API for project 42, MR !7, as
// the REST API answers: PRIVATE-TOKEN, X-Next-Page and Link paging.
type glNotes struct {
	mu    sync.Mutex
	token string
	notes []map[string]any
	puts  int
	posts int
}

func (g *glNotes) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if r.Header.Get("PRIVATE-TOKEN") != g.token {
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `{"message":"403 Forbidden"}`)
		return
	}
	const base = "/api/v4/projects/42/merge_requests/7/notes"
	var in struct {
		Body string `json:"body"`
	}
	switch {
	case r.Method == "GET" && r.URL.Path == base:
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		page = max(page, 1)
		const per = 2
		lo, hi := min((page-1)*per, len(g.notes)), min(page*per, len(g.notes))
		if hi < len(g.notes) {
			w.Header().Set("X-Next-Page", strconv.Itoa(page+1))
			w.Header().Set("Link", fmt.Sprintf(`<http://%s%s?page=%d&per_page=%d>; rel="next"`, r.Host, base, page+1, per))
		}
		json.NewEncoder(w).Encode(g.notes[lo:hi])
	case r.Method == "POST" && r.URL.Path == base:
		json.NewDecoder(r.Body).Decode(&in)
		g.posts++
		n := map[string]any{"id": 500 + len(g.notes), "body": in.Body, "system": false}
		g.notes = append(g.notes, n)
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(n)
	case r.Method == "PUT" && strings.HasPrefix(r.URL.Path, base+"/"):
		json.NewDecoder(r.Body).Decode(&in)
		id, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, base+"/"))
		for _, n := range g.notes {
			if n["id"] == id {
				g.puts++
				n["body"] = in.Body
				json.NewEncoder(w).Encode(n)
				return
			}
		}
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"message":"404 Not found"}`)
	default:
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"message":"404 Not found"}`)
	}
}

// savedRun writes a summary.json and a run folder with one new finding.
func savedRun(t *testing.T, verdict string) string {
	t.Helper()
	dir := t.TempDir()
	run := filepath.Join(dir, ".dracon", "runs", "scan-1")
	if err := os.MkdirAll(run, 0o755); err != nil {
		t.Fatal(err)
	}
	res := &v1.EnrichedLaunchToolResponse{
		OriginalResults: &v1.LaunchToolResponse{ToolName: "gosec"},
		Issues: []*v1.EnrichedIssue{
			{IsNew: true, RawIssue: &v1.Issue{RuleId: "G402", Title: "TLS InsecureSkipVerify set to true.", Severity: v1.Severity_SEVERITY_HIGH, Location: &v1.Location{Path: "goapp/main.go", StartLine: 35}}},
			{IsNew: false, RawIssue: &v1.Issue{RuleId: "G104", Title: "Errors unhandled", Severity: v1.Severity_SEVERITY_LOW, Location: &v1.Location{Path: "goapp/main.go", StartLine: 20}}},
		},
	}
	if err := pipeline.WriteProto(filepath.Join(run, "gosec.enriched.pb"), res); err != nil {
		t.Fatal(err)
	}
	s := summary.Summary{SchemaVersion: 1, ScanID: "scan-1", Verdict: verdict, RunDir: run,
		Counts: summary.Counts{Total: 2, New: 1, Existing: 1, BySeverity: map[string]int{"HIGH": 1, "LOW": 1}}}
	b, _ := json.Marshal(s)
	p := filepath.Join(dir, "summary.json")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestGitLabNote(t *testing.T) {
	g := &glNotes{token: "glpat-project-token", notes: []map[string]any{
		{"id": 1, "body": "LGTM", "system": false}, {"id": 2, "body": "added 1 commit", "system": true}, {"id": 3, "body": "nit", "system": false},
	}}
	srv := httptest.NewServer(g)
	defer srv.Close()
	env := map[string]string{"CI_API_V4_URL": srv.URL + "/api/v4", "CI_PROJECT_ID": "42", "CI_MERGE_REQUEST_IID": "7",
		"DRACON_GITLAB_TOKEN": g.token, "CI_PROJECT_URL": "https://gl.example/g/p", "CI_COMMIT_SHA": "abc123", "CI_PIPELINE_URL": "https://gl.example/g/p/-/pipelines/9"}
	run := func(sum string) (int, string) {
		var out, errb bytes.Buffer
		code := Main(context.Background(), []string{"gitlab", "note", "--summary", sum}, Env{Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return env[k] }})
		return code, errb.String()
	}

	code, log := run(savedRun(t, "failed"))
	if code != 0 || !strings.Contains(log, "note 503 created") {
		t.Fatalf("first run: exit %d: %s", code, log)
	}
	code, log = run(savedRun(t, "passed"))
	if code != 0 || !strings.Contains(log, "note 503 updated") {
		t.Fatalf("re-run: exit %d: %s", code, log)
	}
	if g.posts != 1 || g.puts != 1 || len(g.notes) != 4 {
		t.Fatalf("want one note created then edited: %d posts, %d puts, %d notes", g.posts, g.puts, len(g.notes))
	}
	body := g.notes[3]["body"].(string)
	for _, want := range []string{gitlabnote.Marker, "Dracon: passed", "**New findings** (1)", "G402", "[goapp/main.go:35](https://gl.example/g/p/-/blob/abc123/goapp/main.go#L35)"} {
		if !strings.Contains(body, want) {
			t.Errorf("note lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "G104") {
		t.Errorf("an existing finding is listed as new:\n%s", body)
	}

	// A token GitLab refuses: a notice, exit 0, nothing written.
	env["DRACON_GITLAB_TOKEN"] = "glpat-revoked"
	code, log = run(savedRun(t, "failed"))
	if code != 0 || !strings.Contains(log, "notice: merge request note skipped") || !strings.Contains(log, "403") {
		t.Fatalf("403: exit %d: %s", code, log)
	}
	if strings.Contains(log, "glpat-revoked") {
		t.Errorf("the token is in the log: %s", log)
	}
	// No token, or no merge request: skipped, exit 0.
	delete(env, "DRACON_GITLAB_TOKEN")
	if code, log = run(savedRun(t, "failed")); code != 0 || !strings.Contains(log, "DRACON_GITLAB_TOKEN") {
		t.Fatalf("no token: exit %d: %s", code, log)
	}
	delete(env, "CI_MERGE_REQUEST_IID")
	if code, log = run("missing.json"); code != 0 || !strings.Contains(log, "not a merge request pipeline") {
		t.Fatalf("no MR: exit %d: %s", code, log)
	}
	if g.posts != 1 || g.puts != 1 {
		t.Errorf("a skipped note wrote: %d posts, %d puts", g.posts, g.puts)
	}
}
