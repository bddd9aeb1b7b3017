// Package gitlabnote keeps one Dracon note on a GitLab merge request: the
// run's verdict, its counts, the new findings and links to the pipeline,
// found again on a re-run by a hidden marker and edited in place, through
// GitLab's official Go client (gitlab.com/gitlab-org/api/client-go/v2).
//
// CI_JOB_TOKEN cannot write notes (the notes API is not on its
// allowlist), so the token is a project access token with the api scope
// in a masked CI/CD variable, DRACON_GITLAB_TOKEN. Without one, outside a
// merge request pipeline, or when GitLab refuses the token (401, 403), the
// note is skipped with a notice: a missing note never fails the job.
package gitlabnote

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	gitlab "gitlab.com/gitlab-org/api/client-go/v2"
)

// Marker is the hidden HTML comment that identifies Dracon's note.
const Marker = "<!-- dracon:summary -->"

// MaxBody is GitLab's limit on a note's body (characters).
const MaxBody = 1_000_000

// TokenEnv is the variable that holds the project access token.
const TokenEnv = "DRACON_GITLAB_TOKEN"

// Target is the merge request whose note is kept.
type Target struct {
	// BaseURL is the API root, CI_API_V4_URL (https://gitlab.example.com/api/v4).
	BaseURL string
	Token   string
	// Project is the merge request's project: CI_MERGE_REQUEST_PROJECT_ID
	// (right for merge requests from forks), else CI_PROJECT_ID.
	Project string
	MRIID   int64
}

// Skip says why no note is posted: not an error, a notice.
type Skip struct{ Reason string }

func (s *Skip) Error() string { return "merge request note skipped: " + s.Reason }

// FromEnv reads the target from GitLab CI's variables; a *Skip when there
// is no merge request or no token.
func FromEnv(getenv func(string) string) (Target, error) {
	t := Target{BaseURL: getenv("CI_API_V4_URL"), Token: getenv(TokenEnv)}
	t.Project = getenv("CI_MERGE_REQUEST_PROJECT_ID")
	if t.Project == "" {
		t.Project = getenv("CI_PROJECT_ID")
	}
	iid := getenv("CI_MERGE_REQUEST_IID")
	switch {
	case iid == "":
		return t, &Skip{"not a merge request pipeline (no CI_MERGE_REQUEST_IID)"}
	case t.Token == "":
		return t, &Skip{"no token: set " + TokenEnv + " to a project access token with the api scope, as a masked CI/CD variable (CI_JOB_TOKEN cannot write notes)"}
	case t.BaseURL == "":
		return t, &Skip{"CI_API_V4_URL is not set"}
	case t.Project == "":
		return t, &Skip{"CI_PROJECT_ID is not set"}
	}
	n, err := strconv.ParseInt(iid, 10, 64)
	if err != nil || n <= 0 {
		return t, fmt.Errorf("CI_MERGE_REQUEST_IID %q is not a merge request number", iid)
	}
	t.MRIID = n
	return t, nil
}

// Result is what Upsert did.
type Result struct {
	// Action is "created" or "updated".
	Action string
	NoteID int64
}

// Options tune the client (tests pass their server's client).
type Options struct {
	HTTPClient *http.Client
	// PerPage is the notes listing's page size (default 100, GitLab's maximum).
	PerPage int64
}

// Upsert writes body (with the marker) as Dracon's note on the merge
// request: the existing non-system note that carries the marker is
// edited, else a note is created. A 401 or 403 is a *Skip.
func Upsert(ctx context.Context, t Target, body string, o Options) (Result, error) {
	opts := []gitlab.ClientOptionFunc{gitlab.WithBaseURL(t.BaseURL), gitlab.WithOnlyIdempotentRetries(), gitlab.WithCustomRetryMax(2)}
	if o.HTTPClient != nil {
		opts = append(opts, gitlab.WithHTTPClient(o.HTTPClient))
	}
	c, err := gitlab.NewClient(t.Token, opts...)
	if err != nil {
		return Result{}, err
	}
	if o.PerPage <= 0 {
		o.PerPage = 100
	}
	body = WithMarker(body)
	list := &gitlab.ListMergeRequestNotesOptions{ListOptions: gitlab.ListOptions{PerPage: o.PerPage}, OrderBy: gitlab.Ptr("created_at"), Sort: gitlab.Ptr("asc")}
	var found *gitlab.Note
	for n, err := range gitlab.Scan2(func(p gitlab.PaginationOptionFunc) ([]*gitlab.Note, *gitlab.Response, error) {
		ro := []gitlab.RequestOptionFunc{gitlab.WithContext(ctx)}
		if p != nil {
			ro = append(ro, p)
		}
		return c.Notes.ListMergeRequestNotes(t.Project, t.MRIID, list, ro...)
	}) {
		if err != nil {
			return Result{}, classify("list the merge request's notes", err)
		}
		if !n.System && strings.Contains(n.Body, Marker) {
			found = n
			break
		}
	}
	if found != nil {
		if found.Body == body {
			return Result{Action: "unchanged", NoteID: found.ID}, nil
		}
		n, _, err := c.Notes.UpdateMergeRequestNote(t.Project, t.MRIID, found.ID, &gitlab.UpdateMergeRequestNoteOptions{Body: gitlab.Ptr(body)}, gitlab.WithContext(ctx))
		if err != nil {
			return Result{}, classify(fmt.Sprintf("edit note %d", found.ID), err)
		}
		return Result{Action: "updated", NoteID: n.ID}, nil
	}
	n, _, err := c.Notes.CreateMergeRequestNote(t.Project, t.MRIID, &gitlab.CreateMergeRequestNoteOptions{Body: gitlab.Ptr(body)}, gitlab.WithContext(ctx))
	if err != nil {
		return Result{}, classify("create the note", err)
	}
	return Result{Action: "created", NoteID: n.ID}, nil
}

// WithMarker puts the marker first and keeps the body within GitLab's limit.
func WithMarker(body string) string {
	if !strings.Contains(body, Marker) {
		body = Marker + "\n" + body
	}
	if len(body) > MaxBody {
		const cut = "\n\n… (cut at GitLab's note limit; see the pipeline's artifacts)"
		body = strings.ToValidUTF8(body[:MaxBody-len(cut)], "") + cut
	}
	return body
}

// classify turns a refused token into a *Skip and says what failed.
func classify(what string, err error) error {
	var er *gitlab.ErrorResponse
	if errors.As(err, &er) && (er.StatusCode == http.StatusUnauthorized || er.StatusCode == http.StatusForbidden) {
		return &Skip{fmt.Sprintf("GitLab answered %d to %s: the token in %s lacks the api scope or access to this project (%s)", er.StatusCode, what, TokenEnv, strings.TrimSpace(er.Message))}
	}
	if errors.Is(err, gitlab.ErrNotFound) {
		return fmt.Errorf("%s: 404 (the project or merge request is not visible to the token): %w", what, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}
