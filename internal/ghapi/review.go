package ghapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/google/go-github/v60/github"
)

// DefaultMaxReviewComments is the most inline comments one run posts (in
// its one review); the rest are skipped, the summary comment has them.
const DefaultMaxReviewComments = 50

// ReviewMarker marks the body of the reviews PostReviewComments creates.
const ReviewMarker = "<!-- dracon:review -->"

// The sides of a diff a comment is on.
const (
	Right = "RIGHT" // the new side: added and unchanged lines
	Left  = "LEFT"  // the old side: deleted and unchanged lines
)

// ReviewComment is one inline comment.
type ReviewComment struct {
	Path string // the file, relative to the repository's root, "/"-separated
	Line int    // the line, in the file at the commit (Right) or at the base (Left)
	Side string // Right ("" is Right) or Left
	// Body is the comment, Markdown. A hidden marker in it (an HTML
	// comment such as <!-- dracon:finding 1f3a… -->) is what tells it from
	// other comments on the line; without one the whole body does.
	Body string
}

// SkippedComment is a comment PostReviewComments did not post, and why.
type SkippedComment struct {
	ReviewComment
	Reason string
}

// Why a comment is skipped.
const (
	NotInDiff     = "not on a line of the pull request's diff"
	NoPatch       = "GitHub gives no diff of this file (binary, or too large), so its lines cannot take comments"
	AlreadyPosted = "already commented on this line"
	Repeated      = "repeated in this run"
	OverLimit     = "over the limit of inline comments per run"
	HeadMoved     = "the pull request's head moved on"
)

// ErrHeadMoved matches (errors.Is) a PostReviewComments for a commit that
// is no longer the pull request's head: a newer run will comment.
var ErrHeadMoved = errors.New("the pull request's head is not the scanned commit")

// ReviewResult is what PostReviewComments did.
type ReviewResult struct {
	ReviewID int64           // the review posted; 0 when none was
	Posted   []ReviewComment // in it
	Skipped  []SkippedComment
}

var hiddenMarker = regexp.MustCompile(`<!--.*?-->`)

func dedupeKey(path, side string, line int, body string) string {
	id := hiddenMarker.FindString(body)
	if id == "" {
		id = strings.TrimSpace(body)
	}
	return path + "\x00" + side + "\x00" + strconv.Itoa(line) + "\x00" + id
}

// diffLines is where one file of a pull request can take comments.
type diffLines struct {
	patch       bool
	right, left map[int]bool
}

var hunkHeader = regexp.MustCompile(`^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@`)

// parsePatch reads a file's patch as GitHub gives it (hunks, no file
// headers): the new-side lines of added and context lines, the old-side
// lines of deleted and context lines. A hunk's body is read by its
// header's counts.
func parsePatch(patch string) diffLines {
	d := diffLines{patch: patch != "", right: map[int]bool{}, left: map[int]bool{}}
	lines := strings.Split(patch, "\n")
	for i := 0; i < len(lines); i++ {
		m := hunkHeader.FindStringSubmatch(lines[i])
		if m == nil {
			continue
		}
		count := func(s string) int {
			if s == "" {
				return 1
			}
			n, _ := strconv.Atoi(s)
			return n
		}
		oldLine, _ := strconv.Atoi(m[1])
		newLine, _ := strconv.Atoi(m[3])
		oldLeft, newLeft := count(m[2]), count(m[4])
		for i+1 < len(lines) && (oldLeft > 0 || newLeft > 0) {
			i++
			l := lines[i]
			switch {
			case strings.HasPrefix(l, "\\"): // \ No newline at end of file
			case strings.HasPrefix(l, "+"):
				d.right[newLine] = true
				newLine++
				newLeft--
			case strings.HasPrefix(l, "-"):
				d.left[oldLine] = true
				oldLine++
				oldLeft--
			default: // context (" ", or "" for an empty line stripped of its space)
				d.right[newLine], d.left[oldLine] = true, true
				newLine++
				oldLine++
				newLeft--
				oldLeft--
			}
		}
	}
	return d
}

func (d diffLines) has(side string, line int) bool {
	if side == Left {
		return d.left[line]
	}
	return d.right[line]
}

// PostReviewComments posts comments on pull request pr at commitSHA (the
// pull request's head: github.event.pull_request.head.sha, not
// GITHUB_SHA) as one review (event COMMENT), so that N comments cost one
// write. It posts only:
//
//   - comments on lines of the pull request's diff. The caller passes what
//     its diff holds; this reads the pull request's files from GitHub (all
//     pages) and checks each line against their patches too, because one
//     line GitHub cannot place fails the whole review (422) and a local
//     diff may differ from GitHub's (base, renames, a file too large);
//   - comments not already there: every page of the pull request's review
//     comments is read, and one with the same path, side, line and marker
//     (see ReviewComment.Body) is not posted again, nor a repeat in
//     comments;
//   - the first WithMaxReviewComments (DefaultMaxReviewComments).
//
// The rest are in the result's Skipped, with why. When commitSHA is no
// longer the head, nothing is posted and the error errors.Is ErrHeadMoved.
func PostReviewComments(ctx context.Context, c *github.Client, owner, repo string, pr int, commitSHA string, comments []ReviewComment, opts ...Option) (ReviewResult, error) {
	const op = "post review comments"
	if c == nil {
		return ReviewResult{}, errors.New("github: " + op + ": no GitHub client")
	}
	ps := []string{checkRepo(owner, repo), checkSHA("commit SHA", commitSHA)}
	if pr <= 0 {
		ps = append(ps, fmt.Sprintf("pull request number %d", pr))
	}
	pending := make([]ReviewComment, 0, len(comments))
	for i, cm := range comments {
		cm.Side = strings.ToUpper(strings.TrimSpace(cm.Side))
		if cm.Side == "" {
			cm.Side = Right
		}
		switch {
		case cm.Path == "" || strings.HasPrefix(cm.Path, "/") || strings.Contains(cm.Path, "\\"):
			ps = append(ps, fmt.Sprintf("comment %d: path %q: want a path relative to the repository's root, /-separated", i, cm.Path))
		case cm.Line < 1:
			ps = append(ps, fmt.Sprintf("comment %d on %s: line %d", i, cm.Path, cm.Line))
		case cm.Side != Right && cm.Side != Left:
			ps = append(ps, fmt.Sprintf("comment %d on %s: side %q: want RIGHT or LEFT", i, cm.Path, cm.Side))
		case strings.TrimSpace(cm.Body) == "":
			ps = append(ps, fmt.Sprintf("comment %d on %s:%d: no body", i, cm.Path, cm.Line))
		}
		cm.Body = cut(cm.Body, MaxCommentChars, charsUnit, "comment")
		pending = append(pending, cm)
	}
	if err := problems(op, owner, repo, ps...); err != nil {
		return ReviewResult{}, err
	}
	var res ReviewResult
	if len(pending) == 0 {
		return res, nil
	}
	commitSHA = strings.ToLower(commitSHA)
	p := newPacer(opts)

	// The pull request's head.
	get := request{op: "read pull request", owner: owner, repo: repo, method: http.MethodGet,
		path: fmt.Sprintf("repos/%s/%s/pulls/%d", owner, repo, pr), kind: pullRequests}
	var pull *github.PullRequest
	if _, err := p.do(ctx, get, func() (resp *github.Response, err error) {
		pull, resp, err = c.PullRequests.Get(ctx, owner, repo, pr)
		return resp, err
	}); err != nil {
		return res, err
	}
	if head := strings.ToLower(pull.GetHead().GetSHA()); head != commitSHA {
		if strings.EqualFold(pull.GetMergeCommitSHA(), commitSHA) {
			return res, get.fail(fmt.Sprintf("commit %s is the pull request's merge commit, not its head %s", commitSHA, head),
				"pass github.event.pull_request.head.sha, not GITHUB_SHA")
		}
		for _, cm := range pending {
			res.Skipped = append(res.Skipped, SkippedComment{cm, HeadMoved})
		}
		return res, fmt.Errorf("github: %s on %s/%s: pull request #%d: %w: its head is %s, the scan's commit %s (hint: a run for the new head comments)",
			op, owner, repo, pr, ErrHeadMoved, head, commitSHA)
	}

	// Where the diff can take comments.
	files := map[string]diffLines{}
	lf := request{op: "list pull request files", owner: owner, repo: repo, method: http.MethodGet,
		path: fmt.Sprintf("repos/%s/%s/pulls/%d/files", owner, repo, pr), kind: pullRequests}
	lo := &github.ListOptions{PerPage: perPage}
	for {
		var page []*github.CommitFile
		resp, err := p.do(ctx, lf, func() (resp *github.Response, err error) {
			page, resp, err = c.PullRequests.ListFiles(ctx, owner, repo, pr, lo)
			return resp, err
		})
		if err != nil {
			return res, err
		}
		for _, f := range page {
			files[f.GetFilename()] = parsePatch(f.GetPatch())
		}
		if resp.NextPage == 0 {
			break
		}
		lo.Page = resp.NextPage
	}

	// What is already there.
	seen := map[string]bool{}
	lc := request{op: "list review comments", owner: owner, repo: repo, method: http.MethodGet,
		path: fmt.Sprintf("repos/%s/%s/pulls/%d/comments", owner, repo, pr), kind: pullRequests}
	co := &github.PullRequestListCommentsOptions{ListOptions: github.ListOptions{PerPage: perPage}}
	for {
		var page []*github.PullRequestComment
		resp, err := p.do(ctx, lc, func() (resp *github.Response, err error) {
			page, resp, err = c.PullRequests.ListComments(ctx, owner, repo, pr, co)
			return resp, err
		})
		if err != nil {
			return res, err
		}
		for _, cm := range page {
			line := cm.GetLine()
			if cm.Line == nil { // outdated: where it was
				line = cm.GetOriginalLine()
			}
			side := cm.GetSide()
			if side == "" {
				side = Right
			}
			seen[dedupeKey(cm.GetPath(), side, line, cm.GetBody())] = true
		}
		if resp.NextPage == 0 {
			break
		}
		co.Page = resp.NextPage
	}

	var post []ReviewComment
	thisRun := map[string]bool{}
	for _, cm := range pending {
		key := dedupeKey(cm.Path, cm.Side, cm.Line, cm.Body)
		d, inPR := files[cm.Path]
		reason := ""
		switch {
		case !inPR:
			reason = NotInDiff
		case !d.patch:
			reason = NoPatch
		case !d.has(cm.Side, cm.Line):
			reason = NotInDiff
		case seen[key]:
			reason = AlreadyPosted
		case thisRun[key]:
			reason = Repeated
		case len(post) >= p.maxReview:
			reason = OverLimit
		}
		if reason != "" {
			res.Skipped = append(res.Skipped, SkippedComment{cm, reason})
			continue
		}
		thisRun[key] = true
		post = append(post, cm)
	}
	if len(post) == 0 {
		return res, nil
	}

	review := &github.PullRequestReviewRequest{
		CommitID: github.String(commitSHA),
		Event:    github.String("COMMENT"),
		Body:     github.String(fmt.Sprintf("%s\nDracon: %d %s on lines this pull request changes.", ReviewMarker, len(post), plural(len(post), "finding", "findings"))),
	}
	for _, cm := range post {
		review.Comments = append(review.Comments, &github.DraftReviewComment{
			Path: github.String(cm.Path), Line: github.Int(cm.Line), Side: github.String(cm.Side), Body: github.String(cm.Body),
		})
	}
	cr := request{op: "create pull request review", owner: owner, repo: repo, method: http.MethodPost,
		path: fmt.Sprintf("repos/%s/%s/pulls/%d/reviews", owner, repo, pr), kind: pullRequests}
	var got *github.PullRequestReview
	if _, err := p.do(ctx, cr, func() (resp *github.Response, err error) {
		got, resp, err = c.PullRequests.CreateReview(ctx, owner, repo, pr, review)
		return resp, err
	}); err != nil {
		return res, err
	}
	res.ReviewID, res.Posted = got.GetID(), post
	return res, nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
