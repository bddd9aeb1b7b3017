package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/draconsec/dracon/internal/config"
	"github.com/draconsec/dracon/internal/consumers"
	"github.com/draconsec/dracon/internal/consumers/gitlab"
	conregistry "github.com/draconsec/dracon/internal/consumers/registry"
	"github.com/draconsec/dracon/internal/consumers/sarifout"
	"github.com/draconsec/dracon/internal/consumers/stdout"
	"github.com/draconsec/dracon/internal/gate"
	"github.com/draconsec/dracon/internal/pipeline"
	"github.com/draconsec/dracon/internal/producers"
	"github.com/draconsec/dracon/internal/producers/registry"
	"github.com/draconsec/dracon/internal/secret"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

// runParse: dracon parse --tool NAME FILE [--out FILE.pb]
func runParse(_ context.Context, env Env, args []string) int {
	fs := newFlags("parse", env, "parse --tool NAME FILE [--out results.pb]")
	tool := fs.String("tool", "", "producer whose report FILE is (see 'dracon tools list')")
	out := fs.String("out", "", "write a binary LaunchToolResponse here instead of protojson to stdout")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return usageError(env, err)
	}
	if *tool == "" || len(rest) != 1 {
		return usageError(env, fmt.Errorf("parse needs --tool NAME and one report file"))
	}
	p, err := registry.Lookup(*tool)
	if err != nil {
		return usageError(env, err)
	}
	data, err := os.ReadFile(rest[0])
	if err != nil {
		fmt.Fprintf(env.Stderr, "dracon: %v\n", err)
		return gate.ExitError
	}
	parsed, err := registry.Parse(p, data)
	if err != nil {
		var pe *producers.ParseError
		if errors.As(err, &pe) && pe.File == "" {
			pe.File = rest[0]
		}
		fmt.Fprintf(env.Stderr, "dracon: %v\n", err)
		return gate.ExitError
	}
	scan := pipeline.NewScanInfo(filepath.Dir(rest[0]), time.Now(), env.Getenv)
	lr := &v1.LaunchToolResponse{ScanInfo: scan, ToolName: p.Name, Issues: parsed.Issues, ToolVersion: parsed.ToolVersion, ScanTarget: rest[0]}
	for _, is := range lr.Issues {
		if is.ToolName == "" {
			is.ToolName = p.Name
		}
	}
	if *out != "" {
		if err := pipeline.WriteProto(*out, lr); err != nil {
			fmt.Fprintf(env.Stderr, "dracon: %v\n", err)
			return gate.ExitError
		}
		fmt.Fprintf(env.Stderr, "dracon: %s: %d issues written to %s\n", p.Name, len(lr.Issues), *out)
		return 0
	}
	b, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(lr)
	if err != nil {
		fmt.Fprintf(env.Stderr, "dracon: %v\n", err)
		return gate.ExitError
	}
	fmt.Fprintln(env.Stdout, string(b))
	return 0
}

// runEnrich: dracon enrich [--store PATH] [--source DIR] [--out-dir DIR] FILE.pb...
func runEnrich(ctx context.Context, env Env, args []string) int {
	fs := newFlags("enrich", env, "enrich [--store .dracon/findings.db] [--source DIR] [--out-dir DIR] RESULTS.pb...")
	storePath := fs.String("store", "", "findings store: a SQLite file or a postgres:// DSN (default $DRACON_STORE, else .dracon/findings.db)")
	source := fs.String("source", ".", "the scanned folder: its .dracon-ignore.yaml, inline dracon:ignore comments and CODEOWNERS")
	outDir := fs.String("out-dir", ".", "folder for the <tool>.enriched.pb files")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return usageError(env, err)
	}
	if len(rest) == 0 {
		return usageError(env, fmt.Errorf("enrich needs at least one LaunchToolResponse file"))
	}
	var launches []*v1.LaunchToolResponse
	var scan *v1.ScanInfo
	for _, f := range rest {
		l, err := pipeline.ReadLaunch(f)
		if err != nil {
			fmt.Fprintf(env.Stderr, "dracon: %v\n", err)
			return gate.ExitError
		}
		if scan == nil && l.ScanInfo != nil {
			scan = l.ScanInfo
		}
		launches = append(launches, l)
	}
	if scan == nil {
		scan = pipeline.NewScanInfo(".", time.Now(), env.Getenv)
	}
	cfg, _ := config.Parse(nil, config.Names{})
	results, err := pipeline.Enrich(ctx, pipeline.EnrichOptions{Config: cfg, Source: *source, Log: env.Stderr, Store: *storePath, Getenv: env.Getenv}, scan, launches)
	if err != nil {
		fmt.Fprintf(env.Stderr, "dracon: %v\n", err)
		return gate.ExitError
	}
	for _, r := range results {
		path := filepath.Join(*outDir, r.OriginalResults.ToolName+".enriched.pb")
		if err := pipeline.WriteProto(path, r); err != nil {
			fmt.Fprintf(env.Stderr, "dracon: %v\n", err)
			return gate.ExitError
		}
		fmt.Fprintf(env.Stderr, "dracon: %s: %d issues enriched to %s\n", r.OriginalResults.ToolName, len(r.Issues), path)
	}
	return 0
}

func readEnriched(env Env, files []string) ([]*v1.EnrichedLaunchToolResponse, *v1.ScanInfo, bool) {
	var out []*v1.EnrichedLaunchToolResponse
	var scan *v1.ScanInfo
	var expanded []string
	for _, f := range files {
		// A run folder (.dracon/runs/<scan-id>) stands for its enriched
		// results.
		if st, err := os.Stat(f); err == nil && st.IsDir() {
			m, _ := filepath.Glob(filepath.Join(f, "*.enriched.pb"))
			if len(m) == 0 {
				fmt.Fprintf(env.Stderr, "dracon: %s: no *.enriched.pb files in this folder\n", f)
				return nil, nil, false
			}
			expanded = append(expanded, m...)
			continue
		}
		expanded = append(expanded, f)
	}
	for _, f := range expanded {
		r, err := pipeline.ReadEnriched(f)
		if err != nil {
			fmt.Fprintf(env.Stderr, "dracon: %v\n", err)
			return nil, nil, false
		}
		if scan == nil {
			scan = r.GetOriginalResults().GetScanInfo()
		}
		out = append(out, r)
	}
	return out, scan, true
}

// runConsume: dracon consume [--sarif PATH] [--format table|json|none]
// [--consumer NAME --dry-run] FILE.enriched.pb...
func runConsume(ctx context.Context, env Env, args []string) int {
	fs := newFlags("consume", env, "consume [--sarif dracon.sarif] [--gitlab-reports DIR] [--format table] [--consumer NAME [--dry-run]] ENRICHED.pb...")
	sarifPath := fs.String("sarif", "dracon.sarif", "SARIF file to write (empty: none)")
	gitlabDir := fs.String("gitlab-reports", "", "also write GitLab's security reports (gl-*-report.json, gl-code-quality-report.json) into this folder")
	format := fs.String("format", "table", "findings on stdout: table, json, dracon-json or none")
	var named multiFlag
	fs.Var(&named, "consumer", "send the results with this consumer of the config's consumers block (jira, slack, ...; repeatable, or comma-separated); with it, no SARIF or table unless asked for")
	dryRun := fs.Bool("dry-run", false, "with --consumer: print what would be sent, send nothing")
	configPath := fs.String("config", "", "config file with the consumers' blocks (default: dracon.yaml here, if present)")
	out := fs.String("out", ".", "folder for files a consumer writes (the report)")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return usageError(env, err)
	}
	if len(rest) == 0 {
		return usageError(env, fmt.Errorf("consume needs at least one enriched results file"))
	}
	results, scan, ok := readEnriched(env, rest)
	if !ok {
		return gate.ExitError
	}
	if *dryRun && len(named) == 0 {
		return usageError(env, fmt.Errorf("--dry-run goes with --consumer NAME"))
	}
	if len(named) > 0 {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if !set["sarif"] {
			*sarifPath = ""
		}
		if !set["format"] {
			*format = "none"
		}
		if code := publishNamed(ctx, env, *configPath, *out, splitList(named), *dryRun, scan, results); code != 0 {
			return code
		}
	}
	if *sarifPath != "" {
		if err := (sarifout.Consumer{Path: *sarifPath, Version: version()}).Consume(ctx, scan, results); err != nil {
			fmt.Fprintf(env.Stderr, "dracon: %v\n", err)
			return gate.ExitError
		}
		fmt.Fprintf(env.Stderr, "dracon: wrote %s\n", *sarifPath)
	}
	if *gitlabDir != "" {
		var prods []gitlab.ProducerStatus
		for _, r := range results {
			name := r.GetOriginalResults().GetToolName()
			kind := ""
			if p, err := registry.Lookup(name); err == nil {
				kind = string(p.Kind)
			}
			prods = append(prods, gitlab.ProducerStatus{Name: name, Kind: kind, Status: "ok", Version: r.GetOriginalResults().GetToolVersion()})
		}
		c := gitlab.Consumer{Dir: *gitlabDir, Version: version(), Producers: prods, Commit: scan.GetScanTags()["commit"]}
		written, err := c.Write(ctx, scan, results)
		if err != nil {
			fmt.Fprintf(env.Stderr, "dracon: %v\n", err)
			return gate.ExitError
		}
		for _, w := range written {
			fmt.Fprintf(env.Stderr, "dracon: wrote %s (%d)\n", w.Path, w.Findings)
		}
	}
	if err := (stdout.Consumer{W: env.Stdout, Format: *format}).Consume(ctx, scan, results); err != nil {
		fmt.Fprintf(env.Stderr, "dracon: %v\n", err)
		return gate.ExitError
	}
	return 0
}

// publishNamed sends the results through the consumers named, as their
// blocks in the config say. A dry run prints each one's payloads to
// stdout and sends nothing.
func publishNamed(ctx context.Context, env Env, configPath, out string, names []string, dryRun bool, scan *v1.ScanInfo, results []*v1.EnrichedLaunchToolResponse) int {
	cfg, _, err := loadConfig(configPath, ".")
	if err != nil {
		fmt.Fprintf(env.Stderr, "dracon: %v\n", err)
		return gate.ExitError
	}
	masker := secret.NewMasker(env.Stderr, nil)
	cenv := consumers.Env{Getenv: env.Getenv, Source: ".", Log: masker, Masker: masker, Version: version(), Out: out, DryRun: dryRun,
		PolicyExceptions: cfg.Policy.Exceptions}
	pubs, broken, err := conregistry.Build(&cfg.Consumers, cenv, names)
	if err != nil {
		return usageError(env, err)
	}
	run := &consumers.Run{Scan: scan, Results: results}
	if dryRun {
		run.DryRun = env.Stdout
	}
	code := 0
	for _, o := range append(broken, consumers.PublishAll(ctx, run, pubs, masker)...) {
		fmt.Fprintln(masker, "dracon: "+consumers.Describe(o))
		if o.Status == "failed" && !o.AllowFailure {
			code = gate.ExitError
		}
	}
	return code
}

// splitList flattens repeated, comma-separated values.
func splitList(vs []string) []string {
	var out []string
	for _, v := range vs {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// runProduce: dracon produce --tool NAME[,NAME] [--source DIR] [--config FILE] [--out-dir DIR]
func runProduce(ctx context.Context, env Env, args []string) int {
	fs := newFlags("produce", env, "produce --tool NAME [--source DIR] [--config dracon.yaml] [--out-dir .dracon/producers]")
	tool := fs.String("tool", "", "the producer(s) to run, comma-separated (default: those the config or auto-detection picks)")
	source := fs.String("source", ".", "folder to scan")
	cfgPath := fs.String("config", "", "config file (default: dracon.yaml in the source folder or here, if present)")
	outDir := fs.String("out-dir", filepath.Join(".dracon", "producers"), "folder for <tool>.pb, <tool>.outcome.json (and <tool>.secrets.json)")
	runDir := fs.String("run-dir", filepath.Join(".dracon", "runs"), "folder that keeps each run's raw outputs")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return usageError(env, err)
	}
	if len(rest) > 0 {
		return usageError(env, fmt.Errorf("produce takes no arguments (got %q); use --tool and --source", rest))
	}
	cfg, _, err := loadConfig(*cfgPath, *source)
	if err != nil {
		return usageError(env, err)
	}
	if *tool != "" {
		if err := selectProducers(cfg, *tool); err != nil {
			return usageError(env, fmt.Errorf("--tool: %w", err))
		}
	}
	lines, err := pipeline.Produce(ctx, pipeline.Options{Config: cfg, Source: *source, RunRoot: *runDir,
		Log: env.Stderr, Version: version(), Getenv: env.Getenv}, *outDir)
	if err != nil {
		fmt.Fprintf(env.Stderr, "dracon: %v\n", err)
		return gate.ExitError
	}
	for _, p := range lines {
		fmt.Fprintf(env.Stderr, "dracon: %s: %s, %d findings written to %s\n", p.Name, p.Status, p.Findings, *outDir)
	}
	return 0
}
