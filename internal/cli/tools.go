package cli

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/draconsec/dracon/internal/gate"
	"github.com/draconsec/dracon/internal/producers"
	"github.com/draconsec/dracon/internal/producers/registry"
	"github.com/draconsec/dracon/internal/toolinstall"
)

// runTools: dracon tools list | install [NAME...] | doctor
func runTools(ctx context.Context, env Env, args []string) int {
	if len(args) == 0 {
		return usageError(env, fmt.Errorf("tools needs a subcommand: list, install [NAME...], doctor"))
	}
	switch args[0] {
	case "list":
		return toolsList(ctx, env)
	case "install":
		return toolsInstall(ctx, env, args[1:])
	case "doctor":
		return toolsDoctor(ctx, env)
	default:
		return usageError(env, fmt.Errorf("unknown tools subcommand %q (list, install, doctor)", args[0]))
	}
}

func toolsList(ctx context.Context, env Env) int {
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PRODUCER\tKIND\tLANGUAGES\tFORMATS\tPINNED\tINSTALLED\tGET IT\tALSO NAMED")
	for _, p := range registry.All() {
		pinned, installed, get := "-", "built in", "-"
		if p.Tool != nil {
			pinned = p.Tool.Version
			st := toolinstall.Inspect(ctx, p)
			installed = st.Version
			if st.Err != nil {
				installed = "missing"
			}
			get = p.Tool.InstallHint(p.Name)
		}
		aliases := strings.Join(p.Aliases, ",")
		if aliases == "" {
			aliases = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.Name, p.Kind, strings.Join(p.Languages, ","),
			strings.Join(p.Formats, ","), pinned, installed, get, aliases)
	}
	tw.Flush()
	return 0
}

func toolsInstall(ctx context.Context, env Env, names []string) int {
	var targets []*producers.Producer
	if len(names) == 0 {
		for _, p := range registry.All() {
			if toolinstall.Installable(p) {
				targets = append(targets, p)
			}
		}
	}
	for _, n := range names {
		p, err := registry.Lookup(n)
		if err != nil {
			return usageError(env, err)
		}
		targets = append(targets, p)
	}
	code := 0
	for _, p := range targets {
		if p.Tool == nil {
			fmt.Fprintf(env.Stderr, "%s: nothing to install (built in)\n", p.Name)
			continue
		}
		if !toolinstall.Installable(p) {
			fmt.Fprintf(env.Stderr, "%s: not a Go program; install it with: %s\n", p.Name, p.Tool.Install)
			code = gate.ExitError
			continue
		}
		if _, err := toolinstall.Install(ctx, p, env.Stderr); err != nil {
			fmt.Fprintf(env.Stderr, "dracon: %v\n", err)
			code = gate.ExitError
		}
	}
	return code
}

func toolsDoctor(ctx context.Context, env Env) int {
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PRODUCER\tSTATUS\tVERSION\tPATH")
	missing := 0
	for _, p := range registry.All() {
		if p.Tool == nil {
			fmt.Fprintf(tw, "%s\tok\tbuilt in\t-\n", p.Name)
			continue
		}
		st := toolinstall.Inspect(ctx, p)
		if st.Err != nil {
			missing++
			fmt.Fprintf(tw, "%s\tmissing\t-\tinstall: %s\n", p.Name, p.Tool.InstallHint(p.Name))
			continue
		}
		fmt.Fprintf(tw, "%s\tok\t%s\t%s\n", p.Name, st.Version, st.Path)
	}
	tw.Flush()
	fmt.Fprintf(env.Stdout, "\n%d of %d scanners missing; Dracon skips a missing scanner and says so in the run's summary.\n", missing, len(registry.All()))
	return 0
}
