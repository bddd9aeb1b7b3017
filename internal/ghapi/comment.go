package ghapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-github/v60/github"
)

// SummaryMarker is the hidden line that marks Dracon's sticky summary
// comment on a pull request.
const SummaryMarker = "<!-- dracon:summary -->"

// MaxCommentChars is the longest comment body GitHub takes: 65,536
// characters ("body is too long (maximum is 65536 characters)", 422).
const MaxCommentChars = 65536

// perPage is the most items GitHub gives in one page of a list.
const perPage = 100

func checkMarker(marker string) string {
	m := strings.TrimSpace(marker)
	if !strings.HasPrefix(m, "<!--") || !strings.HasSuffix(m, "-->") || len(m) < len("<!-- x -->") ||
		strings.Contains(m[4:len(m)-3], "--") || strings.ContainsAny(m, "\r\n") {
		return fmt.Sprintf("marker %q: want a one-line HTML comment such as %s, which GitHub does not show", marker, SummaryMarker)
	}
	return ""
}

// hasMarkerLine reports whether one of body's lines is marker: a quote of
// the comment ("> <!-- … -->") is not the comment.
func hasMarkerLine(body, marker string) bool {
	for _, line := range strings.Split(body, "\n") {
		if strings.TrimSpace(line) == marker {
			return true
		}
	}
	return false
}

// UpsertComment keeps one comment on pull request pr identified by its
// marker line (SummaryMarker, say): it reads every page of the pull
// request's comments and edits the first that has the marker (not at all
// when the body is the same), or creates one. The body gets the marker as
// its first line when it has none, and is cut to MaxCommentChars with a
// line saying so. It returns the comment's id and whether it was created.
func UpsertComment(ctx context.Context, c *github.Client, owner, repo string, pr int, marker, body string, opts ...Option) (id int64, created bool, err error) {
	const op = "upsert pull request comment"
	if c == nil {
		return 0, false, errors.New("github: " + op + ": no GitHub client")
	}
	marker = strings.TrimSpace(marker)
	prProblem := ""
	if pr <= 0 {
		prProblem = fmt.Sprintf("pull request number %d", pr)
	}
	if err := problems(op, owner, repo, checkRepo(owner, repo), prProblem, checkMarker(marker)); err != nil {
		return 0, false, err
	}
	if !hasMarkerLine(body, marker) {
		body = marker + "\n" + body
	}
	body = cut(body, MaxCommentChars, charsUnit, "comment")

	p := newPacer(opts)
	list := request{op: "list pull request comments", owner: owner, repo: repo, method: http.MethodGet,
		path: fmt.Sprintf("repos/%s/%s/issues/%d/comments", owner, repo, pr), kind: issueComments}
	var found *github.IssueComment
	lo := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: perPage}}
	for found == nil {
		var page []*github.IssueComment
		resp, err := p.do(ctx, list, func() (resp *github.Response, err error) {
			page, resp, err = c.Issues.ListComments(ctx, owner, repo, pr, lo)
			return resp, err
		})
		if err != nil {
			return 0, false, err
		}
		for _, cm := range page {
			if cm != nil && hasMarkerLine(cm.GetBody(), marker) {
				found = cm
				break
			}
		}
		if resp.NextPage == 0 {
			break
		}
		lo.Page = resp.NextPage
	}

	if found != nil {
		if found.GetBody() == body {
			return found.GetID(), false, nil
		}
		edit := request{op: "edit pull request comment", owner: owner, repo: repo, method: http.MethodPatch,
			path: fmt.Sprintf("repos/%s/%s/issues/comments/%d", owner, repo, found.GetID()), kind: issueComments}
		var got *github.IssueComment
		if _, err := p.do(ctx, edit, func() (resp *github.Response, err error) {
			got, resp, err = c.Issues.EditComment(ctx, owner, repo, found.GetID(), &github.IssueComment{Body: github.String(body)})
			return resp, err
		}); err != nil {
			return 0, false, err
		}
		return got.GetID(), false, nil
	}
	create := request{op: "create pull request comment", owner: owner, repo: repo, method: http.MethodPost,
		path: fmt.Sprintf("repos/%s/%s/issues/%d/comments", owner, repo, pr), kind: issueComments}
	var got *github.IssueComment
	if _, err := p.do(ctx, create, func() (resp *github.Response, err error) {
		got, resp, err = c.Issues.CreateComment(ctx, owner, repo, pr, &github.IssueComment{Body: github.String(body)})
		return resp, err
	}); err != nil {
		return 0, false, err
	}
	if got.GetID() == 0 {
		return 0, false, create.fail("GitHub answered without a comment id", "")
	}
	return got.GetID(), true, nil
}
