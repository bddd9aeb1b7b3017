package ghapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-github/v60/github"
)

// seedIssueComments gives the pull request n comments by people, ids
// 1001…, and Dracon's summary at index at (or none when at < 0), plus a
// reply on the first page that quotes the summary, marker and all.
func seedIssueComments(f *fakeGitHub, n, at int) (summaryID int64) {
	for i := 0; i < n; i++ {
		id := int64(1001 + i)
		switch {
		case i == at:
			f.issueComments = append(f.issueComments, f.issueComment(id, "github-actions[bot]", SummaryMarker+"\n## Dracon\n5 findings"))
			summaryID = id
		case i == 3:
			f.issueComments = append(f.issueComments, f.issueComment(id, "octocat", "> "+SummaryMarker+"\n> ## Dracon\n> 5 findings\n\nWhy does this fail?"))
		default:
			f.issueComments = append(f.issueComments, f.issueComment(id, "octocat", fmt.Sprintf("comment %d", i)))
		}
	}
	return summaryID
}

func bodyOf(t *testing.T, r recorded) string {
	t.Helper()
	var in struct{ Body string }
	if err := json.Unmarshal(r.body, &in); err != nil {
		t.Fatal(err)
	}
	return in.Body
}

// The summary is on page 3 of 3 (250 comments, 100 a page): UpsertComment
// follows the Link header to it and edits it in place; a quote of it on
// page 1 is not it. Run again with the same body, it writes nothing.
func TestUpsertCommentEditsAcrossPages(t *testing.T) {
	f, c := newFake(t)
	summary := seedIssueComments(f, 250, 240)
	id, created, err := UpsertComment(context.Background(), c, owner, repo, prNumber, SummaryMarker, "## Dracon\n3 findings", fast...)
	if err != nil {
		t.Fatal(err)
	}
	if id != summary || created {
		t.Errorf("UpsertComment = %d, %v; want %d, false", id, created, summary)
	}
	reqs := f.sent()
	checkHeaders(t, reqs)
	if len(reqs) != 4 {
		t.Fatalf("%d requests, want 3 pages and an edit", len(reqs))
	}
	for i, page := range []string{"", "2", "3"} {
		r := reqs[i]
		if r.method != http.MethodGet || r.path != "/repos/octo-org/octo-repo/issues/1347/comments" || r.query.Get("per_page") != "100" || r.query.Get("page") != page {
			t.Errorf("request %d: %s %s?%s, want page %q of 100", i, r.method, r.path, r.query.Encode(), page)
		}
	}
	edit := reqs[3]
	if edit.method != http.MethodPatch || edit.path != fmt.Sprintf("/repos/octo-org/octo-repo/issues/comments/%d", summary) {
		t.Errorf("edit: %s %s", edit.method, edit.path)
	}
	if got := bodyOf(t, edit); got != SummaryMarker+"\n## Dracon\n3 findings" {
		t.Errorf("edited body %q", got)
	}
	if !strings.HasPrefix(f.issueComments[3]["body"].(string), "> "+SummaryMarker) {
		t.Error("the quote was edited")
	}

	// Again, the same body: the comment is as it should be.
	id2, created, err := UpsertComment(context.Background(), c, owner, repo, prNumber, SummaryMarker, SummaryMarker+"\n## Dracon\n3 findings", fast...)
	if err != nil || id2 != summary || created {
		t.Errorf("again: %d, %v, %v", id2, created, err)
	}
	if n := len(f.sent()) - len(reqs); n != 3 {
		t.Errorf("again: %d requests, want the 3 pages and no edit", n)
	}
}

// No summary yet (2 pages of others' comments): one is created, and the
// next run edits it.
func TestUpsertCommentCreates(t *testing.T) {
	f, c := newFake(t)
	seedIssueComments(f, 150, -1)
	id, created, err := UpsertComment(context.Background(), c, owner, repo, prNumber, SummaryMarker, "## Dracon\nno findings", fast...)
	if err != nil || !created || id == 0 {
		t.Fatalf("UpsertComment = %d, %v, %v", id, created, err)
	}
	reqs := f.sent()
	if len(reqs) != 3 || reqs[2].method != http.MethodPost || reqs[2].path != "/repos/octo-org/octo-repo/issues/1347/comments" {
		t.Fatalf("requests %v", reqs)
	}
	if got := bodyOf(t, reqs[2]); got != SummaryMarker+"\n## Dracon\nno findings" {
		t.Errorf("body %q", got)
	}
	id2, created, err := UpsertComment(context.Background(), c, owner, repo, prNumber, SummaryMarker, "## Dracon\n1 finding", fast...)
	if err != nil || created || id2 != id {
		t.Errorf("next run: %d, %v, %v; want %d edited", id2, created, err, id)
	}
	if last := f.sent()[len(f.sent())-1]; last.method != http.MethodPatch {
		t.Errorf("next run ended with %s %s", last.method, last.path)
	}
}

// A body over 65,536 characters: GitHub (the fake) refuses it whole;
// UpsertComment cuts it, marker kept, with a line saying so.
func TestUpsertCommentCapsBody(t *testing.T) {
	f, c := newFake(t)
	line := strings.Repeat("€", 99) + "\n" // 100 characters, 298 bytes
	body := "## Dracon\n" + strings.Repeat(line, 700)
	if n := utf8.RuneCountInString(body); n <= MaxCommentChars {
		t.Fatalf("the body is %d characters", n)
	}
	_, resp, err := c.Issues.CreateComment(context.Background(), owner, repo, prNumber, &github.IssueComment{Body: github.String(body)})
	if er := new(github.ErrorResponse); !errors.As(err, &er) || resp.StatusCode != 422 || len(er.Errors) != 1 || !strings.Contains(er.Errors[0].Message, "maximum is 65536 characters") {
		t.Fatalf("the whole body: %v, want a 422 saying it is too long", err)
	}
	// What describe makes of that refusal.
	ge := describe(request{op: "create pull request comment", owner: owner, repo: repo, method: "POST", path: "repos/octo-org/octo-repo/issues/1347/comments", kind: issueComments}, resp, err)
	checkError(t, ge, 422, "Validation Failed: body is too long (maximum is 65536 characters)", "over GitHub's 65536 characters")

	if _, _, err := UpsertComment(context.Background(), c, owner, repo, prNumber, SummaryMarker, body, fast...); err != nil {
		t.Fatal(err)
	}
	sent := bodyOf(t, f.sent()[len(f.sent())-1])
	full := SummaryMarker + "\n" + body
	if n := utf8.RuneCountInString(sent); n > MaxCommentChars || !utf8.ValidString(sent) {
		t.Fatalf("sent %d characters (valid UTF-8: %v)", n, utf8.ValidString(sent))
	}
	if !strings.HasPrefix(sent, SummaryMarker+"\n## Dracon\n€") {
		t.Errorf("the body starts %q", sent[:60])
	}
	if want := fmt.Sprintf("\n\n… cut: the comment was %d characters and GitHub takes at most 65536.", utf8.RuneCountInString(full)); !strings.HasSuffix(sent, want) {
		t.Errorf("the body ends %q, want %q", sent[len(sent)-120:], want)
	}
	if head, _, _ := strings.Cut(sent, "\n\n… cut"); !strings.HasPrefix(full, head+"\n") || utf8.RuneCountInString(head) < MaxCommentChars-200 {
		t.Errorf("kept %d characters; want whole lines of the original, near the limit", utf8.RuneCountInString(head))
	}
}

func TestUpsertCommentRefused(t *testing.T) {
	f, c := newFake(t)
	seedIssueComments(f, 5, -1)
	f.intercept = refuseWith(t, "POST", "/issues/1347/comments", 403, "resource-not-accessible.403.json")
	_, _, err := UpsertComment(context.Background(), c, owner, repo, prNumber, SummaryMarker, "x", fast...)
	checkError(t, err, 403, "create pull request comment on octo-org/octo-repo: POST /repos/octo-org/octo-repo/issues/1347/comments: HTTP 403 Forbidden: Resource not accessible by integration",
		"`permissions: pull-requests: write`", "fork")

	_, _, err = UpsertComment(context.Background(), c, owner, repo, 999, SummaryMarker, "x", fast...)
	checkError(t, err, 404, "list pull request comments", "GET /repos/octo-org/octo-repo/issues/999/comments", "no such pull request")

	before := len(f.sent())
	for _, m := range []string{"dracon:summary", "<!-- -->", "<!-- a -- b -->", "<!-- a\nb -->"} {
		if _, _, err := UpsertComment(context.Background(), c, owner, repo, prNumber, m, "x"); err == nil || !strings.Contains(err.Error(), "want a one-line HTML comment") {
			t.Errorf("marker %q: %v", m, err)
		}
	}
	if _, _, err := UpsertComment(context.Background(), c, owner, repo, 0, SummaryMarker, "x"); err == nil {
		t.Error("pull request 0: no error")
	}
	if n := len(f.sent()) - before; n != 0 {
		t.Errorf("%d requests for bad arguments", n)
	}
}

func TestCut(t *testing.T) {
	exact := strings.Repeat("a", 100)
	if cut(exact, 100, bytesUnit, "summary") != exact || cut("", 100, charsUnit, "comment") != "" {
		t.Error("a text within the limit was changed")
	}
	for _, s := range []string{strings.Repeat("a", 400), strings.Repeat("é", 300), strings.Repeat("😀", 300), strings.Repeat("ab\n", 300)} {
		got := cut(s, 250, bytesUnit, "text")
		if len(got) > 250 || !utf8.ValidString(got) || !strings.Contains(got, "cut: the text was") {
			t.Errorf("cut(%d bytes of %q, 250 bytes) = %d bytes %q", len(s), s[:4], len(got), got)
		}
		got = cut(s, 250, charsUnit, "text")
		if n := utf8.RuneCountInString(got); n > 250 || !utf8.ValidString(got) || (utf8.RuneCountInString(s) > 250) != strings.Contains(got, "characters and GitHub") {
			t.Errorf("cut(%d characters of %q, 250 characters) = %d characters %q", utf8.RuneCountInString(s), s[:4], n, got)
		}
	}
	if got := cut(strings.Repeat("ab\n", 300), 250, bytesUnit, "text"); !strings.HasPrefix(got, "ab\nab\n") || strings.Contains(got, "ab\na\n") || !strings.Contains(got, "ab\n\n… cut") {
		t.Errorf("cut did not end on a whole line: %q", got)
	}
}
