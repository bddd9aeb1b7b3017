// Package cli is the dracon command line: one options struct and one run
// function per command, no globals, so each command is tested by calling
// Main with arguments and buffers.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/draconsec/dracon/internal/gate"
)

// Version is set at link time (-ldflags "-X .../cli.Version=v1.2.3").
var Version = ""

// Env is what a command may touch of the outside world.
type Env struct {
	Stdout, Stderr io.Writer
	Getenv         func(string) string
}

type command struct {
	summary string
	run     func(ctx context.Context, env Env, args []string) int
}

func commands() map[string]command {
	return map[string]command{
		"run":      {"run the whole pipeline on a folder", runRun},
		"produce":  {"run producers only and write their results for a later 'run --produced' (a Tekton task's job)", runProduce},
		"parse":    {"parse one scanner report into a LaunchToolResponse", runParse},
		"enrich":   {"deduplicate parsed results against the findings store", runEnrich},
		"consume":  {"write SARIF and print findings from enriched results", runConsume},
		"data":     {dataSummary, runData},
		"gate":     {"decide pass or fail: a saved run, or a release from the findings store (--context release)", runGate},
		"tools":    {"list, install and check scanners (list | install [NAME...] | doctor)", runTools},
		"findings": {"list, show and triage the findings store's findings (list | show ID | triage ID)", runFindings},
		"store":    {"manage the findings store (import --from-dracon DSN)", runStore},
		"action":   {actionSummary, runAction},
		"policy":   {"test, evaluate and format Rego policies (test PATH... | eval --input RUN | fmt PATH...)", runPolicy},
		"gitlab":   {"post the run's merge request note on GitLab (note --summary summary.json)", runGitLab},
		"version":  {"print Dracon's version", runVersion},
	}
}

// Main runs the command line and returns the process exit code.
func Main(ctx context.Context, args []string, env Env) int {
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(env.Stdout)
		if len(args) == 0 {
			return gate.ExitError
		}
		return 0
	}
	cmd, ok := commands()[args[0]]
	if !ok {
		fmt.Fprintf(env.Stderr, "dracon: unknown command %q\n\n", args[0])
		usage(env.Stderr)
		return gate.ExitError
	}
	return cmd.run(ctx, env, args[1:])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "dracon: security scanners in CI, normalised, deduplicated and gated.")
	fmt.Fprintln(w, "\nUsage: dracon COMMAND [flags]\n\nCommands:")
	cmds := commands()
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'dracon COMMAND -h' for a command's flags.")
	fmt.Fprintln(w, "Exit codes: 0 pass, 1 policy failure (findings), 2 usage or run error.")
}

// parseFlags parses flags wherever they stand among the arguments
// ("dracon parse FILE --tool gosec" works too) and returns the rest.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return rest, nil
		}
		rest = append(rest, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func newFlags(name string, env Env, usageLine string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.Stderr, "Usage: dracon %s\n\nFlags:\n", usageLine)
		fs.PrintDefaults()
	}
	return fs
}

// usageError prints err and returns the usage exit code.
func usageError(env Env, err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintf(env.Stderr, "dracon: %v\n", err)
	return gate.ExitError
}

func runVersion(_ context.Context, env Env, _ []string) int {
	fmt.Fprintln(env.Stdout, "dracon", version())
	return 0
}

func version() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

func joinComma(s []string) string { return strings.Join(s, ", ") }
