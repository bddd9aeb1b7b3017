package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	policyenricher "github.com/draconsec/dracon/internal/enrichers/policy"
	"github.com/draconsec/dracon/internal/gate"
	"github.com/draconsec/dracon/internal/pipeline"
	"github.com/draconsec/dracon/internal/policy"
	"github.com/draconsec/dracon/internal/summary"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// runPolicy: dracon policy test | eval | fmt
func runPolicy(ctx context.Context, env Env, args []string) int {
	if len(args) == 0 {
		return usageError(env, fmt.Errorf("policy needs a subcommand: test PATH..., eval --input RUN, fmt PATH..."))
	}
	switch args[0] {
	case "test":
		return policyTest(ctx, env, args[1:])
	case "eval":
		return policyEval(ctx, env, args[1:])
	case "fmt":
		return policyFmt(env, args[1:])
	}
	return usageError(env, fmt.Errorf("unknown policy subcommand %q (test, eval, fmt)", args[0]))
}

// policyTest: dracon policy test [-v] PATH... (OPA's tester)
func policyTest(ctx context.Context, env Env, args []string) int {
	fs := newFlags("policy test", env, "policy test [-v] [--rego-version v0|v1] PATH... (files, folders, bundles, builtin:default)")
	verbose := fs.Bool("v", false, "print every test, not only failures")
	ver := fs.String("rego-version", "", "read the files as this Rego version (default: v1, falling back to v0 per file)")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return usageError(env, err)
	}
	if len(rest) == 0 {
		rest = []string{"."}
	}
	var srcs []policy.Source
	for _, p := range rest {
		srcs = append(srcs, policy.Source{Path: p, RegoVersion: *ver})
	}
	res, err := policy.Test(ctx, policy.Options{Sources: srcs, Notice: func(m string) { fmt.Fprintln(env.Stderr, m) }}, env.Stdout, *verbose)
	if err != nil {
		fmt.Fprintf(env.Stderr, "dracon: %v\n", err)
		return gate.ExitError
	}
	if res.Errored > 0 {
		return gate.ExitError
	}
	if res.Failed > 0 {
		return gate.ExitFindings
	}
	return gate.ExitPass
}

// policyFmt: dracon policy fmt [-w] [-l] PATH...
func policyFmt(env Env, args []string) int {
	fs := newFlags("policy fmt", env, "policy fmt [-w | -l] PATH... (Rego files or folders)")
	write := fs.Bool("w", false, "rewrite the files in place")
	list := fs.Bool("l", false, "list the files whose formatting differs, and exit 1 if any does")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return usageError(env, err)
	}
	if len(rest) == 0 {
		return usageError(env, fmt.Errorf("policy fmt needs files or folders"))
	}
	var files []string
	for _, p := range rest {
		err := filepath.WalkDir(p, func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && strings.HasSuffix(path, ".rego") {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			fmt.Fprintf(env.Stderr, "dracon: %v\n", err)
			return gate.ExitError
		}
	}
	differs := false
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			fmt.Fprintf(env.Stderr, "dracon: %v\n", err)
			return gate.ExitError
		}
		out, fromV0, err := policy.Format(f, src)
		if err != nil {
			fmt.Fprintf(env.Stderr, "dracon: %v\n", err)
			return gate.ExitError
		}
		if fromV0 {
			fmt.Fprintf(env.Stderr, "dracon: %s is Rego v0: formatted as v1\n", f)
		}
		same := bytes.Equal(out, src)
		switch {
		case *list:
			if !same {
				fmt.Fprintln(env.Stdout, f)
				differs = true
			}
		case *write:
			if !same {
				if err := os.WriteFile(f, out, 0o644); err != nil {
					fmt.Fprintf(env.Stderr, "dracon: %v\n", err)
					return gate.ExitError
				}
			}
		default:
			env.Stdout.Write(out)
		}
	}
	if differs {
		return gate.ExitFindings
	}
	return gate.ExitPass
}

// policyEval: dracon policy eval --input summary.json|RUN_DIR|FILE.enriched.pb... [--policy PATH]...
func policyEval(ctx context.Context, env Env, args []string) int {
	fs := newFlags("policy eval", env, "policy eval --input summary.json|RUN_DIR|FILE.enriched.pb [--policy PATH]... [--event EVENT] [--format text|json]")
	var inputs, policies multiFlag
	fs.Var(&inputs, "input", "a saved run: its summary.json, its run folder, or enriched .pb files (repeatable)")
	fs.Var(&policies, "policy", "policy to evaluate (repeatable; default: the config's, else builtin:default)")
	configPath := fs.String("config", "", "config whose policy block to use (default: dracon.yaml here, if present)")
	event := fs.String("event", "", "decide as if the scan were of this event: pull_request, push, schedule, release, tag, manual")
	format := fs.String("format", "text", "text or json (the summary's policy block)")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return usageError(env, err)
	}
	inputs = append(inputs, rest...)
	if len(inputs) == 0 {
		return usageError(env, fmt.Errorf("policy eval needs --input: a run's summary.json, run folder or enriched .pb files"))
	}
	results, producers, scan, err := readRun(inputs)
	if err != nil {
		fmt.Fprintf(env.Stderr, "dracon: %v\n", err)
		return gate.ExitError
	}
	cfg, cfgPath, err := loadConfig(*configPath, ".")
	if err != nil {
		return usageError(env, err)
	}
	tags := withEvent(scan.GetScanTags(), *event)
	src, _ := filepath.Abs(".")
	p, err := pipeline.PreparePolicy(ctx, pipeline.PolicyOptions{Config: cfg, ConfigPath: cfgPath, Paths: policies, Source: src, Tags: tags, Log: env.Stderr})
	if err != nil {
		fmt.Fprintf(env.Stderr, "dracon: %v\n", err)
		return gate.ExitError
	}
	if p.Set == nil {
		fmt.Fprintln(env.Stderr, "dracon: policies are off (enrichers.policy.enabled: false)")
		return gate.ExitError
	}
	run := policy.Run{Context: policy.ContextFromTags(scan.GetScanUuid(), tags, time.Now()), Producers: producers, Results: results}
	d, errs, err := p.Set.Evaluate(ctx, run)
	if err != nil {
		fmt.Fprintf(env.Stderr, "dracon: %v\n", err)
		return gate.ExitError
	}
	policyenricher.Mark(d, results)
	ran := 0
	for _, pr := range producers {
		if pr.Status == "ok" {
			ran++
		}
	}
	v := gate.Evaluate(results, nil, gate.Options{Policy: d, PolicyErrors: errs, Ran: ran, RequireRun: true})
	if *format == "json" {
		b, _ := json.MarshalIndent(struct {
			Verdict  string          `json:"verdict"`
			ExitCode int             `json:"exit_code"`
			Reasons  []string        `json:"reasons"`
			Warnings []string        `json:"warnings"`
			Policy   *summary.Policy `json:"policy"`
		}{v.Verdict, v.ExitCode, nonNil(v.Reasons), nonNil(v.Warnings), summary.PolicyOf(p.Revision, d, errs)}, "", "  ")
		fmt.Fprintln(env.Stdout, string(b))
		return v.ExitCode
	}
	fmt.Fprintf(env.Stdout, "event: %s; policies (%s):\n", run.Context.Event, p.Revision)
	for _, l := range d.Policies {
		fmt.Fprintf(env.Stdout, "  %s (%s, Rego %s): %s\n", l.Package, l.Kind, l.RegoVersion, strings.Join(l.Files, ", "))
	}
	counts := map[string]map[string]int{}
	for _, r := range results {
		for _, is := range r.GetIssues() {
			for k, val := range is.GetAnnotations() {
				if strings.HasPrefix(k, pfx(cfg.Policy.AnnotationPrefix)) {
					if counts[k] == nil {
						counts[k] = map[string]int{}
					}
					counts[k][val]++
				}
			}
		}
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(env.Stdout, "annotation %q: %d true, %d false\n", k, counts[k]["true"], counts[k]["false"])
	}
	fmt.Fprintf(env.Stdout, "verdict: %s (exit %d)\n", v.Verdict, v.ExitCode)
	printListed(env.Stdout, v.Reasons, v.Warnings, "--format json lists every one")
	return v.ExitCode
}

func pfx(p string) string {
	if p == "" {
		return policy.DefaultAnnotationPrefix
	}
	return p
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// readRun reads a saved run: a summary.json (its run folder's enriched
// files and its producers), a run folder, or enriched .pb files.
func readRun(inputs []string) ([]*v1.EnrichedLaunchToolResponse, []policy.Producer, *v1.ScanInfo, error) {
	var files []string
	var producers []policy.Producer
	for _, in := range inputs {
		st, err := os.Stat(in)
		if err != nil {
			return nil, nil, nil, err
		}
		dir := ""
		switch {
		case st.IsDir():
			dir = in
			if _, err := os.Stat(filepath.Join(in, "summary.json")); err == nil {
				in = filepath.Join(in, "summary.json")
			}
			fallthrough
		case strings.HasSuffix(in, ".json"):
			if strings.HasSuffix(in, ".json") {
				b, err := os.ReadFile(in)
				if err != nil {
					return nil, nil, nil, err
				}
				var s summary.Summary
				if err := json.Unmarshal(b, &s); err != nil {
					return nil, nil, nil, fmt.Errorf("%s: not a summary.json: %w", in, err)
				}
				if dir == "" {
					dir = s.RunDir
				}
				for _, p := range s.Producers {
					producers = append(producers, policy.Producer{Name: p.Name, Status: p.Status, Reason: p.Reason, AllowFailure: p.AllowFailure, Findings: p.Findings})
				}
			}
			m, err := filepath.Glob(filepath.Join(dir, "*.enriched.pb"))
			if err != nil {
				return nil, nil, nil, err
			}
			if len(m) == 0 {
				return nil, nil, nil, fmt.Errorf("%s: no *.enriched.pb files in the run folder %s", in, dir)
			}
			files = append(files, m...)
		default:
			files = append(files, in)
		}
	}
	var results []*v1.EnrichedLaunchToolResponse
	var scan *v1.ScanInfo
	named := map[string]bool{}
	for _, p := range producers {
		named[p.Name] = true
	}
	for _, f := range files {
		r, err := pipeline.ReadEnriched(f)
		if err != nil {
			return nil, nil, nil, err
		}
		if scan == nil {
			scan = r.GetOriginalResults().GetScanInfo()
		}
		results = append(results, r)
		// A file the summary does not list is a producer that ran.
		if tool := r.GetOriginalResults().GetToolName(); !named[tool] {
			named[tool] = true
			producers = append(producers, policy.Producer{Name: tool, Status: "ok", Findings: len(r.GetIssues())})
		}
	}
	if scan == nil {
		scan = &v1.ScanInfo{}
	}
	return results, producers, scan, nil
}
