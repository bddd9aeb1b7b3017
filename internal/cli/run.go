package cli

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/draconsec/dracon/internal/config"
	"github.com/draconsec/dracon/internal/gate"
	"github.com/draconsec/dracon/internal/gitdiff"
	"github.com/draconsec/dracon/internal/pipeline"
	"github.com/draconsec/dracon/internal/producers/registry"
)

type runOptions struct {
	config, source, out, runDir, failOn, format string
	concurrency                                 int
	newOnly                                     bool
	baselineRef, baselineFile, diffFilter       string
	diffBase                                    string
	policies                                    multiFlag
	producers                                   string
	gitlabReports                               string
	produced                                    string
	tekton                                      tektonFlags
}

// multiFlag is a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func runRun(ctx context.Context, env Env, args []string) int {
	var o runOptions
	fs := newFlags("run", env, "run [--config dracon.yaml] [--source DIR] [--out DIR]")
	fs.StringVar(&o.config, "config", "", "config file (default: dracon.yaml in the source folder or here, if present)")
	fs.StringVar(&o.source, "source", ".", "folder to scan")
	fs.StringVar(&o.out, "out", ".", "folder for dracon.sarif and summary.json")
	fs.StringVar(&o.runDir, "run-dir", filepath.Join(".dracon", "runs"), "folder that keeps each run's raw outputs and protobuf files")
	fs.IntVar(&o.concurrency, "concurrency", 0, "producers run at once (default: config, then the number of CPUs)")
	fs.StringVar(&o.failOn, "fail-on", "", "fail on findings at or above this severity: none, info, low, medium, high, critical (overrides gate.fail_on)")
	fs.BoolVar(&o.newOnly, "new-only", false, "fail only on findings no earlier scan saw")
	fs.StringVar(&o.format, "format", "", "findings printed at the end: table, json or none (overrides consumers.stdout.format)")
	fs.StringVar(&o.baselineRef, "baseline-ref", "", "new against the latest scan of this branch in the findings store, e.g. main (default on pull and merge requests: their target branch; overrides baseline.ref)")
	fs.StringVar(&o.baselineFile, "baseline", "", "new against this SARIF file or findings JSON (--format json) an earlier run wrote, instead of the store (overrides baseline.file)")
	fs.StringVar(&o.diffFilter, "diff-filter", "", "only findings on what the change touched count: added, diff_context, file or nofilter (overrides baseline.diff_filter)")
	fs.StringVar(&o.diffBase, "diff-base", "", "revision the change is diffed from (default: the merge base of the target branch and HEAD; overrides baseline.diff_base)")
	fs.StringVar(&o.gitlabReports, "gitlab-reports", "", "GitLab's security reports: auto (in a GitLab pipeline, those the findings call for), none, or a comma-separated list (sast,secret_detection,codequality,...); overrides consumers.gitlab")
	fs.StringVar(&o.producers, "producers", "", "run these producers, comma-separated (names or aliases; replaces the config's list and auto-detection, keeping each one's config)")
	fs.StringVar(&o.produced, "produced", "", "decide on the producers' results in this folder (written by 'dracon produce', one Tekton task per producer, or Dracon's producer tasks) instead of running scanners")
	fs.StringVar(&o.tekton.runner, "runner", "", "where the run happens: local or container (per producer, as the config says), or tekton (the whole run as a PipelineRun on a cluster; overrides runner)")
	fs.StringVar(&o.tekton.namespace, "tekton-namespace", "", "runner tekton: the namespace of the charts/runner Pipeline (overrides tekton.namespace)")
	fs.StringVar(&o.tekton.gitURL, "tekton-git-url", "", "runner tekton: clone this URL in the cluster instead of uploading the source (overrides tekton.git_url)")
	fs.StringVar(&o.tekton.gitRevision, "tekton-git-revision", "", "runner tekton: the commit or ref to clone (overrides tekton.git_revision)")
	fs.StringVar(&o.tekton.secret, "tekton-secret", "", "runner tekton: the Secret whose keys become the tasks' environment (overrides tekton.secret)")
	fs.Var(&o.policies, "policy", "a Rego policy: a .rego file, a folder, an OPA bundle (.tar.gz) or builtin:default (repeatable; replaces policy.paths)")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return usageError(env, err)
	}
	if len(rest) > 0 {
		return usageError(env, fmt.Errorf("run takes no arguments (got %q); use --source", rest))
	}
	cfg, cfgPath, err := loadConfig(o.config, o.source)
	if err != nil {
		return usageError(env, err)
	}
	if o.failOn != "" {
		if _, err := gate.ParseSeverity(o.failOn); err != nil {
			return usageError(env, fmt.Errorf("--fail-on: %w", err))
		}
		cfg.Gate.FailOn = o.failOn
	}
	if o.newOnly {
		cfg.Gate.NewOnly = true
	}
	if err := o.applyBaseline(cfg); err != nil {
		return usageError(env, err)
	}
	if o.producers != "" {
		if err := selectProducers(cfg, o.producers); err != nil {
			return usageError(env, fmt.Errorf("--producers: %w", err))
		}
	}
	if o.gitlabReports != "" {
		if err := selectGitLabReports(cfg, o.gitlabReports); err != nil {
			return usageError(env, fmt.Errorf("--gitlab-reports: %w", err))
		}
	}
	if o.format != "" {
		switch o.format {
		case "table", "json", "dracon-json", "none":
			cfg.Consumers.Stdout.Format = o.format
		default:
			return usageError(env, fmt.Errorf("--format %q: use table, json, dracon-json or none", o.format))
		}
	}
	switch o.tekton.runner {
	case "", "local", "container", "tekton":
	default:
		return usageError(env, fmt.Errorf("--runner %q: use local, container or tekton", o.tekton.runner))
	}
	o.tekton.apply(cfg)
	// The deciding task of a cluster run (--produced) runs here, in the
	// cluster, whatever the config's runner says.
	if cfg.Runner == "tekton" && o.produced == "" {
		return runTekton(ctx, env, cfg, cfgPath, o)
	}
	res, err := pipeline.Run(ctx, pipeline.Options{
		Config: cfg, Source: o.source, Out: o.out, RunRoot: o.runDir, Concurrency: o.concurrency,
		Log: env.Stderr, Stdout: env.Stdout, Version: version(), Getenv: env.Getenv,
		ConfigPath: cfgPath, Policies: o.policies, Produced: o.produced,
	})
	if err != nil {
		fmt.Fprintf(env.Stderr, "dracon: %v\n", err)
		writeTaskResults(env, nil, gate.ExitError)
		return gate.ExitError
	}
	s := res.Summary
	writeTaskResults(env, s, s.ExitCode)
	fmt.Fprintf(env.Stderr, "\ndracon: %d findings (%d new, %d suppressed); verdict: %s\n", s.Counts.Total, s.Counts.New, s.Counts.Suppressed, s.Verdict)
	printListed(env.Stderr, s.Reasons, s.Warnings, listedIn(s))
	if s.Policy != nil {
		var pk []string
		for _, p := range s.Policy.Policies {
			pk = append(pk, p.Package)
		}
		fmt.Fprintf(env.Stderr, "dracon: policies (%s): %s\n", s.Policy.Revision, strings.Join(pk, ", "))
	}
	for _, k := range []string{"sarif", "summary"} {
		if v, ok := s.Outputs[k]; ok {
			fmt.Fprintf(env.Stderr, "dracon: wrote %s\n", v)
		}
	}
	return s.ExitCode
}

// loadConfig reads --config, else dracon.yaml in the source folder or the
// working folder (pipeline.LoadConfig).
func loadConfig(path, source string) (*config.Config, string, error) {
	return pipeline.LoadConfig(path, source)
}

// applyBaseline puts the baseline flags over the config's baseline block.
func (o runOptions) applyBaseline(cfg *config.Config) error {
	switch {
	case o.baselineRef != "" && o.baselineFile != "":
		return errors.New("--baseline-ref and --baseline: give one")
	case o.baselineRef != "":
		cfg.Baseline.Ref, cfg.Baseline.File = o.baselineRef, ""
	case o.baselineFile != "":
		// Relative to the working folder, as a user typed it.
		p, err := filepath.Abs(o.baselineFile)
		if err != nil {
			return err
		}
		cfg.Baseline.File, cfg.Baseline.Ref = p, ""
	}
	if o.diffFilter != "" {
		m, err := gitdiff.ParseMode(o.diffFilter)
		if err != nil {
			return fmt.Errorf("--diff-filter: %w", err)
		}
		cfg.Baseline.DiffFilter = string(m)
	}
	if o.diffBase != "" {
		cfg.Baseline.DiffBase = o.diffBase
	}
	return nil
}

// selectGitLabReports puts --gitlab-reports over consumers.gitlab: auto
// leaves the config's choice, none turns the reports off, a list writes
// exactly those (in any pipeline, not only GitLab's).
func selectGitLabReports(cfg *config.Config, v string) error {
	switch v {
	case "auto":
		return nil
	case "none":
		off := false
		cfg.Consumers.GitLab.Enabled = &off
		return nil
	}
	known := map[string]bool{}
	for _, r := range config.GitLabReports() {
		known[r] = true
	}
	var list []string
	for _, r := range splitList([]string{v}) {
		if !known[r] {
			return fmt.Errorf("%q is not a GitLab report (%s, or auto, none)", r, strings.Join(config.GitLabReports(), ", "))
		}
		list = append(list, r)
	}
	on := true
	cfg.Consumers.GitLab.Enabled, cfg.Consumers.GitLab.Reports = &on, list
	return nil
}

// selectProducers makes the config run exactly the named producers, each
// with its config when it has one.
func selectProducers(cfg *config.Config, list string) error {
	chosen := map[string]*config.Producer{}
	for _, n := range strings.Split(list, ",") {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		p, err := registry.Lookup(n)
		if err != nil {
			return err
		}
		pc := cfg.Producers[p.Name]
		if pc == nil {
			pc = &config.Producer{}
		}
		on := true
		pc.Enabled = &on
		chosen[p.Name] = pc
	}
	if len(chosen) == 0 {
		return errors.New("no producer named")
	}
	cfg.Producers = chosen
	return nil
}
