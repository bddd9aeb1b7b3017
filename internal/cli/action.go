package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/draconsec/dracon/action"
)

// actionSummary is the action command's line in `dracon help`.
const actionSummary = "run as the GitHub Action (inputs from INPUT_*, the event payload; outputs, job summary, annotations, uploads)"

// runAction: dracon action, the GitHub Action's step (action.yml). It
// takes no flags: the inputs come from INPUT_* variables and the event
// from GITHUB_EVENT_PATH (package action).
//
// The command lives here, and package action does not import this one:
// the release gate, which mode: release-gate runs, is this package's
// gate command, handed to action.Run as a function. cli → action →
// pipeline then has no cycle (action → cli → action would).
func runAction(ctx context.Context, env Env, args []string) int {
	fs := newFlags("action", env, "action   (in a GitHub Actions step; inputs from INPUT_* variables: see action.yml)")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return usageError(env, err)
	}
	if len(rest) > 0 {
		return usageError(env, fmt.Errorf("action takes no arguments (got %q): its inputs are INPUT_* variables", rest))
	}
	return action.Run(ctx, action.Options{
		Stdout:  env.Stdout,
		Getenv:  env.Getenv,
		Version: version(),
		ReleaseGate: func(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
			return runGate(ctx, Env{Stdout: stdout, Stderr: stderr, Getenv: getenv}, args)
		},
	})
}
