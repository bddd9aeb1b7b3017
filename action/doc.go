// Package action is the Dracon GitHub Action's Go side: `dracon action`,
// which the composite action.yml at the repository's root runs after it
// has installed the binary.
//
// It reads the inputs (INPUT_* variables, which action.yml maps from
// its inputs through env:) and the event payload (GITHUB_EVENT_PATH),
// masks the token, runs the pipeline in-process (internal/pipeline), and
// then, in this order: writes the step's outputs (GITHUB_OUTPUT, each
// value between a random delimiter), the job summary
// (GITHUB_STEP_SUMMARY, under GitHub's 1 MiB), annotations (within
// GitHub's 10 per level per step), uploads the SARIF file to code
// scanning and comments on the pull request (through GitHub, an
// interface internal/ghapi implements). Its exit code is the gate's:
// nothing else fails the step. mode: release-gate runs internal/cli's
// `dracon gate --context release` instead of a scan.
//
// It uses github.com/sethvargo/go-githubactions for workflow commands
// and the inputs, and writes the file commands itself: the library
// panics when GITHUB_OUTPUT or GITHUB_STEP_SUMMARY is unset and uses one
// fixed heredoc delimiter a value could contain.
package action
