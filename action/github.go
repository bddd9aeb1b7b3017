package action

import (
	"context"
	"time"
)

// GitHub is what the action asks of GitHub's REST API. ghapi.go
// implements it with internal/ghapi; tests give a fake.
type GitHub interface {
	// UploadSARIF uploads a SARIF log to code scanning.
	UploadSARIF(ctx context.Context, r Upload) (UploadReceipt, error)
	// WaitForProcessing waits for upload id to be processed.
	WaitForProcessing(ctx context.Context, owner, repo, id string) (ProcessingStatus, error)
	// UpsertComment keeps one comment on pull request pr, the one with
	// the hidden marker line (an HTML comment).
	UpsertComment(ctx context.Context, owner, repo string, pr int, marker, body string) (CommentResult, error)
	// PostReviewComments posts inline comments on pull request pr's diff
	// at commit, not repeating those already there.
	PostReviewComments(ctx context.Context, owner, repo string, pr int, commit string, comments []InlineComment) (ReviewOutcome, error)
	// PostCheckRun posts a completed check run with its annotations.
	PostCheckRun(ctx context.Context, c CheckRun) (CheckRunResult, error)
}

// CheckRun is the dracon/scan check run.
type CheckRun struct {
	Owner, Repo, HeadSHA, Name string
	Conclusion, Title, Summary string
	DetailsURL, ExternalID     string
	Annotations                []CheckAnnotation
}

// CheckAnnotation is one finding on a check run.
type CheckAnnotation struct {
	Path               string
	StartLine, EndLine int
	Level              string // notice, warning or failure
	Title, Message     string
}

// CheckRunResult is the check run posted.
type CheckRunResult struct {
	ID          int64
	URL         string
	Annotations int
}

// NewGitHub makes the client for a token and an API URL
// (GITHUB_API_URL; "" is api.github.com).
type NewGitHub func(token, apiURL string) (GitHub, error)

// Upload is one SARIF upload.
type Upload struct {
	Owner, Repo string
	CommitSHA   string // GITHUB_SHA: on a pull request, its merge commit
	Ref         string // GITHUB_REF: refs/pull/N/merge on a pull request
	CheckoutURI string // the workspace
	StartedAt   time.Time
	SARIF       []byte
	Fork        bool
}

// UploadReceipt is GitHub's receipt of an upload.
type UploadReceipt struct {
	ID, URL   string
	GzipBytes int
}

// ProcessingStatus is an upload's processing status.
type ProcessingStatus struct {
	Status      string // pending, complete or failed
	AnalysesURL string
	Errors      []string
}

// CommentResult is the sticky comment written.
type CommentResult struct {
	ID      int64
	Created bool
}

// InlineComment is one comment on a line of a pull request's diff.
type InlineComment struct {
	Path string // from the repository's root
	Line int
	Body string // with a hidden marker naming the finding
}

// ReviewOutcome is what PostReviewComments did.
type ReviewOutcome struct {
	Posted  int
	Skipped map[string]int // why → how many
}

// Notifier is an error that is a notice for the user rather than a
// failure (an upload a fork's pull request may not make).
type Notifier interface {
	error
	Notice() string
}
