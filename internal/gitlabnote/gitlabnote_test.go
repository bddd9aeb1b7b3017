package gitlabnote

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/draconsec/dracon/internal/summary"
)

func target(srv string, f *fakeGitLab) Target {
	return Target{BaseURL: srv + "/api/v4", Token: f.token, Project: f.project, MRIID: f.iid}
}

func TestUpsertCreatesThenEdits(t *testing.T) {
	for _, linkOnly := range []bool{false, true} {
		name := map[bool]string{false: "x-next-page", true: "link"}[linkOnly]
		t.Run(name, func(t *testing.T) {
			f, srv := newFake(t)
			f.linkOnly = linkOnly
			f.seed(7)
			// A quote of Dracon's note in a system note is not its note.
			f.notes[0].Body = "mentioned " + Marker
			ctx := context.Background()
			o := Options{PerPage: 3}
			r1, err := Upsert(ctx, target(srv.URL, f), "first body", o)
			if err != nil || r1.Action != "created" {
				t.Fatalf("first run: %+v, %v", r1, err)
			}
			f.seed(5) // more comments after Dracon's: its note is on page 3 of 5
			r2, err := Upsert(ctx, target(srv.URL, f), "second body", o)
			if err != nil || r2.Action != "updated" || r2.NoteID != r1.NoteID {
				t.Fatalf("re-run: %+v, %v (first %+v)", r2, err, r1)
			}
			r3, err := Upsert(ctx, target(srv.URL, f), "second body", o)
			if err != nil || r3.Action != "unchanged" {
				t.Fatalf("same body: %+v, %v", r3, err)
			}
			notes, calls := f.snapshot()
			var ours []note
			for _, n := range notes {
				if strings.Contains(n.Body, Marker) && !n.System {
					ours = append(ours, n)
				}
			}
			if len(ours) != 1 || !strings.HasPrefix(ours[0].Body, Marker+"\n") || !strings.Contains(ours[0].Body, "second body") {
				t.Fatalf("want one note with the marker and the second body, got %+v", ours)
			}
			pages := 0
			for _, c := range calls {
				if strings.HasPrefix(c, "GET ") {
					pages++
				}
			}
			// First run: 3 pages of 8 notes (7 + none); re-runs stop at the page holding the note.
			if pages < 5 {
				t.Errorf("the listing was not paged (%d GETs): %v", pages, calls)
			}
		})
	}
}

func TestUpsertRefusedIsSkip(t *testing.T) {
	f, srv := newFake(t)
	tg := target(srv.URL, f)
	tg.Token = "glpat-no-access"
	_, err := Upsert(context.Background(), tg, "x", Options{})
	var s *Skip
	if !errors.As(err, &s) || !strings.Contains(s.Reason, "403") {
		t.Fatalf("want a Skip for 403, got %v", err)
	}
	tg.Token = ""
	if _, err := Upsert(context.Background(), tg, "x", Options{}); !errors.As(err, &s) || !strings.Contains(s.Reason, "401") {
		t.Fatalf("want a Skip for 401, got %v", err)
	}
	tg = target(srv.URL, f)
	tg.MRIID = 99
	if _, err := Upsert(context.Background(), tg, "x", Options{}); err == nil || errors.As(err, &s) {
		t.Fatalf("a 404 is an error, not a skip: %v", err)
	}
}

func TestFromEnv(t *testing.T) {
	env := map[string]string{"CI_API_V4_URL": "https://gl.example/api/v4", "CI_PROJECT_ID": "1", "CI_MERGE_REQUEST_PROJECT_ID": "2", "CI_MERGE_REQUEST_IID": "7", TokenEnv: "tok"}
	get := func(k string) string { return env[k] }
	tg, err := FromEnv(get)
	if err != nil || tg.Project != "2" || tg.MRIID != 7 || tg.Token != "tok" {
		t.Fatalf("%+v %v", tg, err)
	}
	var s *Skip
	delete(env, TokenEnv)
	if _, err := FromEnv(get); !errors.As(err, &s) || !strings.Contains(s.Reason, "CI_JOB_TOKEN") {
		t.Fatalf("no token: %v", err)
	}
	env[TokenEnv] = "tok"
	delete(env, "CI_MERGE_REQUEST_IID")
	if _, err := FromEnv(get); !errors.As(err, &s) {
		t.Fatalf("no MR: %v", err)
	}
}

func TestBody(t *testing.T) {
	s := &summary.Summary{ScanID: "scan-1", DraconVersion: "v1.2.3", Verdict: "failed", Reasons: []string{"secret aws-access-token | in a|b"},
		Counts:   summary.Counts{Total: 3, New: 2, Existing: 1, BySeverity: map[string]int{"HIGH": 2, "LOW": 1}},
		Baseline: &summary.Baseline{Kind: "branch", Ref: "refs/heads/main"}}
	fs := []Finding{{Severity: "HIGH", Tool: "gosec", Rule: "G402", Title: "TLS <script>", Path: "goapp/main.go", Line: 35}}
	b := Body(s, fs, Links{Project: "https://gl.example/g/p", Pipeline: "https://gl.example/g/p/-/pipelines/9", Job: "https://gl.example/g/p/-/jobs/5", Commit: "abc"})
	for _, want := range []string{Marker, "Dracon: failed", "3 findings", "2 new", "new against `main`", "| 0 | 2 | 0 | 1 | 0 |",
		`secret aws-access-token \| in a\|b`, "[goapp/main.go:35](https://gl.example/g/p/-/blob/abc/goapp/main.go#L35)", "TLS &lt;script&gt;",
		"[pipeline](https://gl.example/g/p/-/pipelines/9)", "/-/jobs/5/artifacts/browse"} {
		if !strings.Contains(b, want) {
			t.Errorf("body lacks %q:\n%s", want, b)
		}
	}
	long := WithMarker(strings.Repeat("é", MaxBody))
	if len(long) > MaxBody || !strings.HasPrefix(long, Marker) {
		t.Errorf("not capped: %d", len(long))
	}
}
