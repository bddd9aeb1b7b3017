package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/draconsec/dracon/internal/gate"
	"github.com/draconsec/dracon/internal/gitlabnote"
	"github.com/draconsec/dracon/internal/summary"
)

// gitlabHTTPClient is the client the note is posted with (tests swap it).
var gitlabHTTPClient = &http.Client{Timeout: 30 * time.Second}

// runGitLab: dracon gitlab note --summary summary.json [--run-dir DIR]
//
// The merge request note: one note with the run's verdict, counts, new
// findings and links, edited on re-runs (internal/gitlabnote). It reads
// CI_API_V4_URL, CI_MERGE_REQUEST_PROJECT_ID (else CI_PROJECT_ID),
// CI_MERGE_REQUEST_IID and DRACON_GITLAB_TOKEN. Outside a merge request,
// without a token, or when GitLab refuses it (401/403), it says so and
// exits 0: the note never fails a job. It exits 2 only on a summary it
// cannot read or an error GitLab gave for another reason.
func runGitLab(ctx context.Context, env Env, args []string) int {
	if len(args) == 0 || args[0] != "note" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprintln(env.Stdout, "Usage: dracon gitlab note --summary summary.json [--run-dir DIR]")
			return 0
		}
		return usageError(env, errors.New("gitlab: want a subcommand: note"))
	}
	fs := newFlags("gitlab note", env, "gitlab note --summary summary.json [--run-dir DIR]")
	sumPath := fs.String("summary", "summary.json", "the run's summary.json")
	runDir := fs.String("run-dir", "", "the run folder whose new findings are listed (default: summary.json's run_dir)")
	rest, err := parseFlags(fs, args[1:])
	if err != nil {
		return usageError(env, err)
	}
	if len(rest) > 0 {
		return usageError(env, fmt.Errorf("gitlab note: unexpected arguments %q", rest))
	}
	target, err := gitlabnote.FromEnv(env.Getenv)
	var skip *gitlabnote.Skip
	if errors.As(err, &skip) {
		fmt.Fprintf(env.Stderr, "dracon: notice: %v\n", skip)
		return 0
	} else if err != nil {
		return usageError(env, err)
	}
	b, err := os.ReadFile(*sumPath)
	if err != nil {
		fmt.Fprintf(env.Stderr, "dracon: gitlab note: %v\n", err)
		return gate.ExitError
	}
	var s summary.Summary
	if err := json.Unmarshal(b, &s); err != nil {
		fmt.Fprintf(env.Stderr, "dracon: gitlab note: %s is not a summary.json: %v\n", *sumPath, err)
		return gate.ExitError
	}
	dir := *runDir
	if dir == "" {
		dir = s.RunDir
	}
	findings, err := gitlabnote.NewFindings(dir)
	if err != nil {
		// The counts still say what the run found.
		fmt.Fprintf(env.Stderr, "dracon: gitlab note: the new findings are not listed: %v\n", err)
	}
	body := gitlabnote.Body(&s, findings, gitlabnote.LinksFromEnv(env.Getenv))
	res, err := gitlabnote.Upsert(ctx, target, body, gitlabnote.Options{HTTPClient: gitlabHTTPClient})
	if errors.As(err, &skip) {
		fmt.Fprintf(env.Stderr, "dracon: notice: %v\n", skip)
		return 0
	} else if err != nil {
		fmt.Fprintf(env.Stderr, "dracon: gitlab note: %v\n", err)
		return gate.ExitError
	}
	fmt.Fprintf(env.Stderr, "dracon: merge request !%d: note %d %s\n", target.MRIID, res.NoteID, res.Action)
	return 0
}
