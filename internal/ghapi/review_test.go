package ghapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"
)

// seedReviewComments gives the pull request 120 review comments (two
// pages of 100), people's, and on page 2 Dracon's earlier comment on the
// secret at internal/auth/token.go:12.
func seedReviewComments(f *fakeGitHub) {
	for i := 0; i < 120; i++ {
		id := int64(2001 + i)
		if i == 110 {
			f.reviewComments = append(f.reviewComments, f.reviewComment(id, "github-actions[bot]", "internal/auth/token.go", 12, "RIGHT",
				"<!-- dracon:finding f-secret -->\n**G101** hardcoded credentials (high)"))
			continue
		}
		f.reviewComments = append(f.reviewComments, f.reviewComment(id, "octocat", "cmd/server/main.go", 42, "RIGHT", "nit: name this "+strconv.Itoa(i)))
	}
}

func findings() []ReviewComment {
	return []ReviewComment{
		{Path: "cmd/server/main.go", Line: 44, Side: "RIGHT", Body: "<!-- dracon:finding f-pass -->\n**G101** hardcoded password"},       // posted
		{Path: "cmd/server/main.go", Line: 30, Body: "<!-- dracon:finding f-old -->\nG104 unchecked error"},                              // not in the diff
		{Path: "internal/auth/token.go", Line: 12, Body: "<!-- dracon:finding f-secret -->\n**G101** hardcoded credentials (critical)"},  // already there
		{Path: "internal/auth/token.go", Line: 7, Side: "right", Body: "<!-- dracon:finding f-md5 -->\n**G401** weak hash (MD5)"},        // posted
		{Path: "cmd/server/main.go", Line: 44, Body: "<!-- dracon:finding f-pass -->\n**G101** again"},                                   // repeated
		{Path: "assets/logo.png", Line: 1, Body: "<!-- dracon:finding f-png -->\nbinary"},                                                // no patch
		{Path: "cmd/server/main.go", Line: 13, Side: "LEFT", Body: "<!-- dracon:finding f-legacy -->\nthe legacy driver was vulnerable"}, // posted: a deleted line
		{Path: "docs/README.md", Line: 1, Body: "<!-- dracon:finding f-doc -->\nnot in the pull request"},                                // not in the diff
	}
}

func reasons(res ReviewResult) string {
	var b []string
	for _, s := range res.Skipped {
		b = append(b, fmt.Sprintf("%s:%d %s", s.Path, s.Line, s.Reason))
	}
	return strings.Join(b, "\n")
}

// Only lines of the diff (checked against GitHub's patches), nothing
// already there (two pages of review comments read), nothing twice; one
// review with the rest. The next run posts nothing.
func TestPostReviewComments(t *testing.T) {
	f, c := newFake(t)
	seedReviewComments(f)
	res, err := PostReviewComments(context.Background(), c, owner, repo, prNumber, headSHA, findings(), fast...)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"cmd/server/main.go:30 " + NotInDiff,
		"internal/auth/token.go:12 " + AlreadyPosted,
		"cmd/server/main.go:44 " + Repeated,
		"assets/logo.png:1 " + NoPatch,
		"docs/README.md:1 " + NotInDiff,
	}, "\n")
	if got := reasons(res); got != want {
		t.Errorf("skipped:\n%s\nwant:\n%s", got, want)
	}
	if res.ReviewID != 80 || len(res.Posted) != 3 {
		t.Errorf("review %d with %d comments", res.ReviewID, len(res.Posted))
	}

	reqs := f.sent()
	checkHeaders(t, reqs)
	var got []string
	for _, r := range reqs {
		got = append(got, r.method+" "+r.path+" "+r.query.Encode())
	}
	wantReqs := []string{
		"GET /repos/octo-org/octo-repo/pulls/1347 ",
		"GET /repos/octo-org/octo-repo/pulls/1347/files per_page=100",
		"GET /repos/octo-org/octo-repo/pulls/1347/comments per_page=100",
		"GET /repos/octo-org/octo-repo/pulls/1347/comments page=2&per_page=100",
		"POST /repos/octo-org/octo-repo/pulls/1347/reviews ",
	}
	if strings.Join(got, "\n") != strings.Join(wantReqs, "\n") {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantReqs, "\n"))
	}
	post := reqs[len(reqs)-1]
	// go-github asks for the multi-line comments' former preview type when
	// comments have line and side (GitHub serves it as its JSON).
	if a := post.header.Get("Accept"); a != "application/vnd.github.comfort-fade-preview+json" {
		t.Errorf("Accept %q", a)
	}
	var body struct {
		CommitID string `json:"commit_id"`
		Event    string `json:"event"`
		Body     string `json:"body"`
		Comments []map[string]any
	}
	if err := json.Unmarshal(post.body, &body); err != nil {
		t.Fatal(err)
	}
	if body.CommitID != headSHA || body.Event != "COMMENT" || !strings.HasPrefix(body.Body, ReviewMarker+"\n") || !strings.Contains(body.Body, "3 findings") {
		t.Errorf("review %+v", body)
	}
	wantComments := `[{"body":"\u003c!-- dracon:finding f-pass --\u003e\n**G101** hardcoded password","line":44,"path":"cmd/server/main.go","side":"RIGHT"},` +
		`{"body":"\u003c!-- dracon:finding f-md5 --\u003e\n**G401** weak hash (MD5)","line":7,"path":"internal/auth/token.go","side":"RIGHT"},` +
		`{"body":"\u003c!-- dracon:finding f-legacy --\u003e\nthe legacy driver was vulnerable","line":13,"path":"cmd/server/main.go","side":"LEFT"}]`
	if b, _ := json.Marshal(body.Comments); string(b) != wantComments {
		t.Errorf("comments %s\nwant     %s", b, wantComments)
	}

	// The next run: they are all there now.
	res, err = PostReviewComments(context.Background(), c, owner, repo, prNumber, headSHA, findings(), fast...)
	if err != nil || res.ReviewID != 0 || len(res.Posted) != 0 || len(res.Skipped) != 8 {
		t.Errorf("next run: %+v, %v", res, err)
	}
	if last := f.sent()[len(f.sent())-1]; last.method != http.MethodGet {
		t.Errorf("the next run wrote: %s %s", last.method, last.path)
	}
	for _, s := range res.Skipped {
		if strings.Contains(s.Body, "f-pass") && s.Reason != AlreadyPosted {
			t.Errorf("next run: %s:%d %s", s.Path, s.Line, s.Reason)
		}
	}
}

// GitHub (the fake) refuses a whole review for one line outside the diff,
// which is why PostReviewComments checks the lines first.
func TestReviewLineOutsideDiff(t *testing.T) {
	_, c := newFake(t)
	_, resp, err := c.PullRequests.CreateReview(context.Background(), owner, repo, prNumber, &github.PullRequestReviewRequest{
		CommitID: github.String(headSHA), Event: github.String("COMMENT"), Body: github.String("x"),
		Comments: []*github.DraftReviewComment{
			{Path: github.String("cmd/server/main.go"), Line: github.Int(44), Side: github.String("RIGHT"), Body: github.String("in the diff")},
			{Path: github.String("cmd/server/main.go"), Line: github.Int(30), Side: github.String("RIGHT"), Body: github.String("not")},
		},
	})
	ge := describe(request{op: "create pull request review", owner: owner, repo: repo, method: "POST", path: "repos/octo-org/octo-repo/pulls/1347/reviews", kind: pullRequests}, resp, err)
	checkError(t, ge, 422, "Unprocessable Entity: Line could not be resolved", "not in the pull request's diff")
}

func TestPostReviewCommentsLimit(t *testing.T) {
	f, c := newFake(t)
	res, err := PostReviewComments(context.Background(), c, owner, repo, prNumber, headSHA, findings(), WithWriteGap(0), WithMaxReviewComments(2))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Posted) != 2 || !strings.Contains(reasons(res), "cmd/server/main.go:13 "+OverLimit) {
		t.Errorf("posted %d; skipped:\n%s", len(res.Posted), reasons(res))
	}
	if n := len(f.reviewComments); n != 2 {
		t.Errorf("%d comments on the pull request", n)
	}
}

// A scan of a commit that is no longer the head posts nothing; the merge
// commit (GITHUB_SHA on a pull request) is a mistake, said so.
func TestPostReviewCommentsHead(t *testing.T) {
	f, c := newFake(t)
	res, err := PostReviewComments(context.Background(), c, owner, repo, prNumber, "0123456789abcdef0123456789abcdef01234567", findings(), fast...)
	if !errors.Is(err, ErrHeadMoved) || len(res.Skipped) != 8 || res.Skipped[0].Reason != HeadMoved || len(res.Posted) != 0 {
		t.Errorf("old head: %+v, %v", res, err)
	}
	_, err = PostReviewComments(context.Background(), c, owner, repo, prNumber, mergeSHA, findings(), fast...)
	if err == nil || !strings.Contains(err.Error(), "merge commit") || !strings.Contains(err.Error(), "github.event.pull_request.head.sha") {
		t.Errorf("merge commit: %v", err)
	}
	if n := len(f.sent()); n != 2 {
		t.Errorf("%d requests, want one read of the pull request each", n)
	}
	for name, cm := range map[string]ReviewComment{
		"absolute": {Path: "/src/a.go", Line: 1, Body: "x"},
		"line 0":   {Path: "a.go", Body: "x"},
		"side":     {Path: "a.go", Line: 1, Side: "BOTH", Body: "x"},
		"no body":  {Path: "a.go", Line: 1, Body: " "},
	} {
		if _, err := PostReviewComments(context.Background(), c, owner, repo, prNumber, headSHA, []ReviewComment{cm}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if res, err := PostReviewComments(context.Background(), c, owner, repo, prNumber, headSHA, nil); err != nil || res.ReviewID != 0 {
		t.Errorf("no comments: %+v, %v", res, err)
	}
	if n := len(f.sent()); n != 2 {
		t.Errorf("%d requests for bad or no comments", n)
	}
}

func TestParsePatch(t *testing.T) {
	var files []struct{ Filename, Patch string }
	json.Unmarshal(testdata(t, "pull-files.json"), &files) //nolint:errcheck
	d := parsePatch(files[0].Patch)
	var right, left []int
	for i := 1; i <= 60; i++ {
		if d.has(Right, i) {
			right = append(right, i)
		}
		if d.has(Left, i) {
			left = append(left, i)
		}
	}
	if fmt.Sprint(right) != "[10 11 12 13 14 15 16 17 18 42 43 44 45 46 47 48]" || fmt.Sprint(left) != "[10 11 12 13 14 15 16 40 41 42 43 44]" {
		t.Errorf("right %v, left %v", right, left)
	}
	if d := parsePatch(files[1].Patch); !d.has(Right, 1) || !d.has(Right, 12) || d.has(Right, 13) || d.has(Left, 1) {
		t.Errorf("new file: %v", d)
	}
	if d := parsePatch(""); d.patch || d.has(Right, 1) {
		t.Error("no patch")
	}
	// A removed line reading "-- x" and an added "++ y" are body lines,
	// read by the hunk's counts.
	d = parsePatch("@@ -1,2 +1,2 @@\n--- x\n+++ y\n same\n\\ No newline at end of file")
	if !d.has(Left, 1) || !d.has(Right, 1) || !d.has(Right, 2) || !d.has(Left, 2) || d.has(Right, 3) {
		t.Errorf("tricky hunk: %+v", d)
	}
}

// A secondary rate limit (403, Retry-After: 1) on the review: waited out,
// then the review is sent again, once.
func TestSecondaryRateLimitRetryAfter(t *testing.T) {
	f, c := newFake(t)
	refused := 0
	f.intercept = func(w http.ResponseWriter, r *http.Request, _ int) bool {
		if r.Method != http.MethodPost || refused > 0 {
			return false
		}
		refused++
		w.Header().Set("Retry-After", "1")
		reply(w, http.StatusForbidden, testdata(t, "secondary-rate-limit.403.json"))
		return true
	}
	res, err := PostReviewComments(context.Background(), c, owner, repo, prNumber, headSHA, findings(), fast...)
	if err != nil || res.ReviewID != 80 {
		t.Fatalf("%+v, %v", res, err)
	}
	var posts []recorded
	for _, r := range f.sent() {
		if r.method == http.MethodPost {
			posts = append(posts, r)
		}
	}
	if len(posts) != 2 {
		t.Fatalf("%d reviews sent, want 2 (refused, then taken)", len(posts))
	}
	if d := posts[1].at.Sub(posts[0].at); d < time.Second || d > 3*time.Second {
		t.Errorf("sent again after %s; Retry-After said 1s", d)
	}
}

// A 429 with x-ratelimit-remaining: 0 and x-ratelimit-reset: waited out
// until the reset.
func TestRateLimit429Reset(t *testing.T) {
	f, c := newFake(t)
	var reset time.Time
	f.intercept = func(w http.ResponseWriter, r *http.Request, n int) bool {
		if r.Method != http.MethodPost || !reset.IsZero() {
			return false
		}
		reset = time.Unix(time.Now().Unix()+2, 0) // 1 to 2 seconds on
		h := w.Header()
		h.Set("X-RateLimit-Limit", "5000")
		h.Set("X-RateLimit-Remaining", "0")
		h.Set("X-RateLimit-Used", "5000")
		h.Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
		reply(w, http.StatusTooManyRequests, testdata(t, "too-many-requests.429.json"))
		return true
	}
	res, err := PostCheckRunWithAnnotations(context.Background(), c, scanRun(3), fast...)
	if err != nil || res.ID != checkID {
		t.Fatalf("%+v, %v", res, err)
	}
	var posts []recorded
	for _, r := range f.sent() {
		if r.method == http.MethodPost {
			posts = append(posts, r)
		}
	}
	if len(posts) != 2 || posts[1].at.Before(reset) {
		t.Errorf("%d creates, the second at %s; the reset was %s", len(posts), posts[len(posts)-1].at.Format(time.StampMilli), reset.Format(time.StampMilli))
	}
}

// GitHub asks to wait longer than the call may: it gives up at once,
// saying so, rather than sleep past its bound.
func TestRateLimitBoundedWait(t *testing.T) {
	f, c := newFake(t)
	f.intercept = func(w http.ResponseWriter, r *http.Request, _ int) bool {
		if r.Method != http.MethodPost {
			return false
		}
		w.Header().Set("Retry-After", "60")
		reply(w, http.StatusForbidden, testdata(t, "secondary-rate-limit.403.json"))
		return true
	}
	start := time.Now()
	_, err := PostReviewComments(context.Background(), c, owner, repo, prNumber, headSHA, findings(), WithWriteGap(0), WithMaxWait(2*time.Second))
	if d := time.Since(start); d > time.Second {
		t.Errorf("gave up after %s", d)
	}
	checkError(t, err, 403, "create pull request review", "You have exceeded a secondary rate limit", "GitHub asks to wait 1m0s more; this call waits at most 2s")
	if errors.As(err, new(*github.AbuseRateLimitError)) == false {
		t.Errorf("go-github's AbuseRateLimitError is not wrapped: %v", err)
	}
}
