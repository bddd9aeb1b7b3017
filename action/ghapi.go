package action

import (
	"context"
	"errors"

	"github.com/draconsec/dracon/internal/ghapi"
	"github.com/draconsec/dracon/internal/githubcheck"
	"github.com/google/go-github/v60/github"
)

// The action's GitHub is internal/ghapi over go-github.
func init() { defaultGitHub = newGhapi }

// newGhapi is a client for token at apiURL (GITHUB_API_URL: GitHub
// Enterprise Server's; "" is api.github.com).
func newGhapi(token, apiURL string) (GitHub, error) {
	c, err := githubcheck.NewClient(token, apiURL)
	if err != nil {
		return nil, err
	}
	return ghapiClient{c: c}, nil
}

type ghapiClient struct {
	c    *github.Client
	wait ghapi.WaitOptions
}

func (g ghapiClient) UploadSARIF(ctx context.Context, r Upload) (UploadReceipt, error) {
	res, err := ghapi.UploadSARIF(ctx, g.c, ghapi.UploadRequest{Owner: r.Owner, Repo: r.Repo, CommitSHA: r.CommitSHA, Ref: r.Ref,
		CheckoutURI: r.CheckoutURI, StartedAt: r.StartedAt, SARIF: r.SARIF, Fork: r.Fork})
	if err != nil {
		return UploadReceipt{}, err // a *ghapi.ForkError is a Notifier
	}
	return UploadReceipt{ID: res.ID, URL: res.URL, GzipBytes: res.GzipBytes}, nil
}

func (g ghapiClient) WaitForProcessing(ctx context.Context, owner, repo, id string) (ProcessingStatus, error) {
	p, err := ghapi.WaitForProcessing(ctx, g.c, owner, repo, id, g.wait)
	st := ProcessingStatus{Status: p.Status, AnalysesURL: p.AnalysesURL, Errors: p.Errors}
	if errors.Is(err, ghapi.ErrStillPending) {
		st.Status = ghapi.Pending
	}
	return st, err
}

func (g ghapiClient) UpsertComment(ctx context.Context, owner, repo string, pr int, marker, body string) (CommentResult, error) {
	if marker == "" {
		marker = ghapi.SummaryMarker
	}
	id, created, err := ghapi.UpsertComment(ctx, g.c, owner, repo, pr, marker, body)
	return CommentResult{ID: id, Created: created}, err
}

func (g ghapiClient) PostReviewComments(ctx context.Context, owner, repo string, pr int, commit string, cs []InlineComment) (ReviewOutcome, error) {
	in := make([]ghapi.ReviewComment, len(cs))
	for i, c := range cs {
		in[i] = ghapi.ReviewComment{Path: c.Path, Line: c.Line, Side: ghapi.Right, Body: c.Body}
	}
	res, err := ghapi.PostReviewComments(ctx, g.c, owner, repo, pr, commit, in)
	out := ReviewOutcome{Posted: len(res.Posted), Skipped: map[string]int{}}
	for _, s := range res.Skipped {
		out.Skipped[s.Reason]++
	}
	if errors.Is(err, ghapi.ErrHeadMoved) {
		// A newer push is being scanned: its run will comment.
		return out, nil
	}
	return out, err
}

func (g ghapiClient) PostCheckRun(ctx context.Context, c CheckRun) (CheckRunResult, error) {
	anns := make([]ghapi.Annotation, len(c.Annotations))
	for i, a := range c.Annotations {
		anns[i] = ghapi.Annotation{Path: a.Path, StartLine: a.StartLine, EndLine: a.EndLine, Level: a.Level, Title: a.Title, Message: a.Message}
	}
	res, err := ghapi.PostCheckRunWithAnnotations(ctx, g.c, ghapi.CheckRun{Owner: c.Owner, Repo: c.Repo, HeadSHA: c.HeadSHA, Name: c.Name,
		Conclusion: c.Conclusion, Title: c.Title, Summary: c.Summary, DetailsURL: c.DetailsURL, ExternalID: c.ExternalID, Annotations: anns})
	return CheckRunResult{ID: res.ID, URL: res.URL, Annotations: res.Annotations}, err
}
