package ghapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-github/v60/github"
)

// scanRun is a failing scan's check run with n annotations; the first
// spans lines 3 to 5 with columns (which GitHub takes only on one line),
// the second has a title over 255 characters.
func scanRun(n int) CheckRun {
	r := CheckRun{
		Owner: owner, Repo: repo, HeadSHA: headSHA,
		Conclusion: "failure",
		Title:      fmt.Sprintf("Dracon: %d findings", n),
		Summary:    fmt.Sprintf("%d findings, 2 of severity high or above.", n),
		DetailsURL: "https://github.com/octo-org/octo-repo/actions/runs/8912345678",
	}
	levels := []string{Failure, Warning, Notice, ""}
	for i := 0; i < n; i++ {
		a := Annotation{Path: "cmd/server/main.go", StartLine: i + 1, Level: levels[i%4], Message: fmt.Sprintf("finding %d", i), Title: "G101"}
		switch i {
		case 0:
			a.EndLine, a.StartColumn, a.EndColumn = i+3, 2, 9
		case 1:
			a.Title = strings.Repeat("é", 300)
		}
		r.Annotations = append(r.Annotations, a)
	}
	return r
}

type checkBody struct {
	Name, Status, Conclusion, CompletedAt string
	HeadSHA                               string `json:"head_sha"`
	CompletedAtJSON                       string `json:"completed_at"`
	Output                                *struct {
		Title, Summary string
		Annotations    []map[string]any
	}
}

func decodeCheck(t *testing.T, r recorded) checkBody {
	t.Helper()
	var b checkBody
	if err := json.Unmarshal(r.body, &b); err != nil {
		t.Fatal(err)
	}
	return b
}

// 120 annotations: the run created in progress, then 50, 50 and 20 in
// three updates, the last completing it; writes at least the write gap
// apart.
func TestPostCheckRunWithAnnotations(t *testing.T) {
	f, c := newFake(t)
	const gap = 30 * time.Millisecond
	res, err := PostCheckRunWithAnnotations(context.Background(), c, scanRun(120), WithWriteGap(gap))
	if err != nil {
		t.Fatal(err)
	}
	if res.ID != checkID || res.URL != "https://github.com/octo-org/octo-repo/runs/24153367071" || res.Annotations != 120 || res.Updates != 3 {
		t.Errorf("result %+v", res)
	}
	if st := f.checkRuns[checkID]; st.status != "completed" || st.conclusion != "failure" || st.annotations != 120 {
		t.Errorf("GitHub has the run %+v", st)
	}
	reqs := f.sent()
	checkHeaders(t, reqs)
	if len(reqs) != 4 {
		t.Fatalf("%d requests, want a create and 3 updates", len(reqs))
	}
	create := decodeCheck(t, reqs[0])
	if reqs[0].method != http.MethodPost || reqs[0].path != "/repos/octo-org/octo-repo/check-runs" ||
		create.Name != DefaultCheckName || create.HeadSHA != headSHA || create.Status != "in_progress" || create.Conclusion != "" ||
		create.Output == nil || create.Output.Title != "Dracon: 120 findings" || len(create.Output.Annotations) != 0 {
		t.Errorf("create %s %s %+v", reqs[0].method, reqs[0].path, create)
	}
	for i, want := range []int{50, 50, 20} {
		r := reqs[i+1]
		b := decodeCheck(t, r)
		if r.method != http.MethodPatch || r.path != "/repos/octo-org/octo-repo/check-runs/24153367071" {
			t.Errorf("update %d: %s %s", i, r.method, r.path)
		}
		if got := r.header.Get("Accept"); got != "application/vnd.github.antiope-preview+json" {
			t.Errorf("update %d: Accept %q", i, got)
		}
		if b.Output == nil || len(b.Output.Annotations) != want || b.Output.Summary == "" || b.Name != DefaultCheckName {
			t.Errorf("update %d: %d annotations, want %d", i, len(b.Output.Annotations), want)
		}
		last := i == 2
		if last != (b.Status == "completed" && b.Conclusion == "failure" && b.CompletedAtJSON != "") {
			t.Errorf("update %d: status %q conclusion %q completed_at %q", i, b.Status, b.Conclusion, b.CompletedAtJSON)
		}
		if d := r.at.Sub(reqs[i].at); d < gap {
			t.Errorf("update %d came %s after the last write, want %s or more", i, d, gap)
		}
	}
	first := decodeCheck(t, reqs[1]).Output.Annotations
	if a := first[0]; a["start_line"] != 1.0 || a["end_line"] != 3.0 || a["start_column"] != nil || a["annotation_level"] != "failure" {
		t.Errorf("a multi-line annotation: %v", a)
	}
	if a := first[1]; utf8.RuneCountInString(a["title"].(string)) != 255 || !strings.HasSuffix(a["title"].(string), "…") {
		t.Errorf("a long title: %d characters", utf8.RuneCountInString(a["title"].(string)))
	}
	if a := first[3]; a["annotation_level"] != "warning" || a["end_line"] != 4.0 {
		t.Errorf("defaults: %v", a)
	}
}

// GitHub (the fake) takes at most 50 annotations in a request.
func TestCheckRunFiftyAnnotations(t *testing.T) {
	f, c := newFake(t)
	f.checkRuns[checkID] = &checkRunState{status: "in_progress"}
	var batch []*github.CheckRunAnnotation
	for i := 0; i < 51; i++ {
		batch = append(batch, Annotation{Path: "a.go", StartLine: 1, Message: "m"}.api())
	}
	_, resp, err := c.Checks.UpdateCheckRun(context.Background(), owner, repo, checkID, github.UpdateCheckRunOptions{
		Name: DefaultCheckName, Output: &github.CheckRunOutput{Title: github.String("t"), Summary: github.String("s"), Annotations: batch},
	})
	if err == nil || resp.StatusCode != 422 || !strings.Contains(err.Error(), "Only 50 annotations") {
		t.Errorf("51 annotations: %v", err)
	}
}

func TestPostCheckRunNoAnnotations(t *testing.T) {
	f, c := newFake(t)
	r := scanRun(0)
	r.Conclusion, r.Name = "success", "dracon/scan (linux)"
	res, err := PostCheckRunWithAnnotations(context.Background(), c, r, fast...)
	if err != nil || res.Updates != 1 || res.Annotations != 0 {
		t.Fatalf("%+v, %v", res, err)
	}
	reqs := f.sent()
	if len(reqs) != 2 {
		t.Fatalf("%d requests", len(reqs))
	}
	if b := decodeCheck(t, reqs[1]); b.Status != "completed" || b.Conclusion != "success" || b.Name != "dracon/scan (linux)" {
		t.Errorf("update %+v", b)
	}
}

// An update refused half-way: the run is completed all the same, its
// summary saying how many annotations made it, and the refusal returned.
func TestPostCheckRunRefusedUpdate(t *testing.T) {
	f, c := newFake(t)
	f.intercept = func(w http.ResponseWriter, r *http.Request, n int) bool {
		if r.Method == http.MethodPatch && n == 3 { // the second update
			fail(w, http.StatusUnprocessableEntity, "Validation Failed")
			return true
		}
		return false
	}
	res, err := PostCheckRunWithAnnotations(context.Background(), c, scanRun(120), fast...)
	checkError(t, err, 422, `update check run "dracon/scan" on octo-org/octo-repo: PATCH /repos/octo-org/octo-repo/check-runs/24153367071: HTTP 422 Unprocessable Entity: Validation Failed`)
	if res.Annotations != 50 {
		t.Errorf("%d annotations posted, want 50", res.Annotations)
	}
	reqs := f.sent()
	last := decodeCheck(t, reqs[len(reqs)-1])
	if len(reqs) != 4 || last.Status != "completed" || last.Conclusion != "failure" || len(last.Output.Annotations) != 0 ||
		!strings.Contains(last.Output.Summary, "50 of 120 annotations were posted") {
		t.Errorf("%d requests, the last %+v", len(reqs), last)
	}
	if st := f.checkRuns[checkID]; st.status != "completed" {
		t.Errorf("the run is %s", st.status)
	}
}

func TestPostCheckRunRefused(t *testing.T) {
	f, c := newFake(t)
	f.intercept = refuseWith(t, "POST", "/check-runs", 403, "resource-not-accessible.403.json")
	_, err := PostCheckRunWithAnnotations(context.Background(), c, scanRun(2), fast...)
	checkError(t, err, 403, `create check run "dracon/scan" on octo-org/octo-repo: POST /repos/octo-org/octo-repo/check-runs: HTTP 403 Forbidden: Resource not accessible by integration`, "`permissions: checks: write`")

	f.intercept = nil
	r := scanRun(2)
	r.HeadSHA = "0123456789abcdef0123456789abcdef01234567"
	_, err = PostCheckRunWithAnnotations(context.Background(), c, r, fast...)
	checkError(t, err, 422, "No commit found for SHA: "+r.HeadSHA, "push it first")
}

// PostCheckRunWithAnnotations checks a run before it sends anything.
func TestPostCheckRunRejects(t *testing.T) {
	f, c := newFake(t)
	for name, tc := range map[string]struct {
		edit func(*CheckRun)
		want string
	}{
		"short SHA":  {func(r *CheckRun) { r.HeadSHA = "9f3c2a1" }, "not a full commit SHA"},
		"conclusion": {func(r *CheckRun) { r.Conclusion = "cancelled" }, `conclusion "cancelled"`},
		"no title":   {func(r *CheckRun) { r.Title = "" }, "no title"},
		"no summary": {func(r *CheckRun) { r.Summary = "" }, "no summary"},
		"path":       {func(r *CheckRun) { r.Annotations[0].Path = "" }, "annotation 0: path"},
		"lines":      {func(r *CheckRun) { r.Annotations[1].StartLine = 0 }, "annotation 1 on cmd/server/main.go: lines 0-0"},
		"level":      {func(r *CheckRun) { r.Annotations[1].Level = "error" }, `level "error"`},
		"message":    {func(r *CheckRun) { r.Annotations[1].Message = "" }, "no message"},
	} {
		r := scanRun(2)
		tc.edit(&r)
		if _, err := PostCheckRunWithAnnotations(context.Background(), c, r); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
	if n := len(f.sent()); n != 0 {
		t.Errorf("%d requests for runs that were not valid", n)
	}
}
