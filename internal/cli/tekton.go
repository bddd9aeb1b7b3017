package cli

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/draconsec/dracon/internal/config"
	"github.com/draconsec/dracon/internal/gate"
	"github.com/draconsec/dracon/internal/pipeline"
	"github.com/draconsec/dracon/internal/summary"
	"github.com/draconsec/dracon/internal/tekton"
)

// tektonFlags are run's flags over the config's tekton block.
type tektonFlags struct {
	runner, namespace, gitURL, gitRevision, secret string
}

func (t tektonFlags) apply(cfg *config.Config) {
	if t.runner != "" {
		cfg.Runner = t.runner
	}
	for dst, v := range map[*string]string{&cfg.Tekton.Namespace: t.namespace, &cfg.Tekton.GitURL: t.gitURL,
		&cfg.Tekton.GitRevision: t.gitRevision, &cfg.Tekton.Secret: t.secret} {
		if v != "" {
			*dst = v
		}
	}
}

// runTekton is `dracon run` with runner: tekton: the run as a PipelineRun
// on a cluster, followed from here, its outputs written to --out, its exit
// code this process's.
func runTekton(ctx context.Context, env Env, cfg *config.Config, cfgPath string, o runOptions) int {
	fail := func(err error) int {
		fmt.Fprintf(env.Stderr, "dracon: %v\n", err)
		return gate.ExitError
	}
	src, err := filepath.Abs(o.source)
	if err != nil {
		return fail(err)
	}
	producers, notes, err := pipeline.PlannedProducers(cfg, src)
	if err != nil {
		return fail(err)
	}
	for _, n := range notes {
		fmt.Fprintln(env.Stderr, n)
	}
	scan := pipeline.NewScanInfo(src, time.Now(), env.Getenv)
	r := tekton.Run{ScanID: scan.ScanUuid, Started: scan.ScanStartTime.AsTime(), Tags: scan.ScanTags, Producers: producers, Config: cfg.Tekton}
	if cfgPath != "" {
		rel, ok := inSource(src, cfgPath)
		if !ok {
			return fail(fmt.Errorf("the config %s is outside the source %s: the cluster's tasks read it from the source, so keep it there", cfgPath, o.source))
		}
		r.ConfigPath = rel
	}
	fmt.Fprintf(env.Stderr, "dracon: a cluster run (runner tekton) of %d producers: %s\n", len(producers), strings.Join(producers, ", "))
	if r.ReportArgs, err = o.reportArgs(src); err != nil {
		return fail(err)
	}
	if err := chooseSource(&r, src, env.Getenv, env.Stderr); err != nil {
		return fail(err)
	}
	clients, err := tekton.Connect(cfg.Tekton)
	if err != nil {
		return fail(err)
	}
	res, err := tekton.Execute(ctx, clients, r, tekton.Options{Out: o.out, Log: env.Stderr, ReportLog: env.Stderr})
	if err != nil {
		if res != nil {
			// A verdict, but its files did not come back: CI steps that
			// read them would fail further on, so this run fails here.
			fmt.Fprintf(env.Stderr, "dracon: the run's verdict was %s (exit code %d)\n", res.Verdict, res.ExitCode)
		}
		return fail(err)
	}
	printTektonVerdict(env, res)
	return res.ExitCode
}

// printTektonVerdict ends a cluster run's log as a local run's ends:
// counts, verdict and reasons from the summary.json the report task
// wrote, else from its results.
func printTektonVerdict(env Env, res *tekton.Outcome) {
	var s *summary.Summary
	for _, f := range res.Files {
		if filepath.Base(f) == "summary.json" {
			if b, err := os.ReadFile(f); err == nil {
				var v summary.Summary
				if json.Unmarshal(b, &v) == nil {
					s = &v
				}
			}
		}
	}
	if s == nil {
		fmt.Fprintf(env.Stderr, "\ndracon: %d findings (%d new); verdict: %s (PipelineRun %s/%s)\n", res.Findings, res.New, res.Verdict, res.Namespace, res.PipelineRun)
	} else {
		fmt.Fprintf(env.Stderr, "\ndracon: %d findings (%d new, %d suppressed); verdict: %s (PipelineRun %s/%s)\n", s.Counts.Total, s.Counts.New, s.Counts.Suppressed, res.Verdict, res.Namespace, res.PipelineRun)
		printListed(env.Stderr, s.Reasons, s.Warnings, listedIn(s))
	}
	for _, f := range res.Files {
		fmt.Fprintf(env.Stderr, "dracon: wrote %s\n", f)
	}
}

// reportArgs are the run flags that change the deciding task's result.
// Paths must be inside the source: the task reads them there.
func (o runOptions) reportArgs(src string) ([]string, error) {
	var args []string
	add := func(flag, v string) {
		if v != "" {
			args = append(args, "--"+flag, v)
		}
	}
	add("fail-on", o.failOn)
	if o.newOnly {
		args = append(args, "--new-only")
	}
	add("baseline-ref", o.baselineRef)
	add("diff-filter", o.diffFilter)
	add("diff-base", o.diffBase)
	add("gitlab-reports", o.gitlabReports)
	add("format", o.format)
	inside := func(flag, p string) error {
		if strings.HasPrefix(p, "builtin:") {
			add(flag, p)
			return nil
		}
		rel, ok := inSource(src, p)
		if !ok {
			return fmt.Errorf("--%s %s is outside the source: the cluster's tasks only see the source", flag, p)
		}
		add(flag, "source-code/"+rel)
		return nil
	}
	for _, p := range o.policies {
		if err := inside("policy", p); err != nil {
			return nil, err
		}
	}
	if o.baselineFile != "" {
		if err := inside("baseline", o.baselineFile); err != nil {
			return nil, err
		}
	}
	return args, nil
}

// chooseSource decides how the source reaches the cluster: a clone
// (tekton.source git, or auto with a clone URL known) or an archive.
// The clone URL is the config's (or --tekton-git-url), else the CI's
// repository: GitHub's server and repository, GitLab's project URL (not
// CI_REPOSITORY_URL, which holds the job's token). Credentials never go
// into the PipelineRun: they are cut from the URL, and the source task
// takes them from the secret's GIT_CREDENTIALS.
func chooseSource(r *tekton.Run, src string, getenv func(string) string, log io.Writer) error {
	c := r.Config
	gitURL, rev := c.GitURL, c.GitRevision
	if gitURL == "" {
		switch {
		case getenv("GITHUB_REPOSITORY") != "" && getenv("GITHUB_SERVER_URL") != "":
			gitURL = strings.TrimSuffix(getenv("GITHUB_SERVER_URL"), "/") + "/" + getenv("GITHUB_REPOSITORY") + ".git"
		case getenv("CI_PROJECT_URL") != "":
			gitURL = strings.TrimSuffix(getenv("CI_PROJECT_URL"), "/") + ".git"
		}
	}
	mode := c.Source
	if mode == "" || mode == "auto" {
		mode = "archive"
		if gitURL != "" {
			mode = "git"
		}
	}
	if mode != "git" {
		b, err := tekton.Archive(src)
		if err != nil {
			return err
		}
		r.Archive = b
		fmt.Fprintf(log, "dracon: the source goes to the cluster as an archive (%d KiB, ConfigMap %s)\n", (len(b)+1023)>>10, tekton.ArchiveName(r.ScanID))
		return nil
	}
	if gitURL == "" {
		return errors.New("tekton.source git needs a clone URL: tekton.git_url, --tekton-git-url, or a CI that names its repository (GitHub Actions, GitLab CI)")
	}
	if rev == "" {
		rev = cmp.Or(getenv("GITHUB_SHA"), getenv("CI_COMMIT_SHA"))
	}
	if rev == "" {
		if out, err := exec.Command("git", "-C", src, "rev-parse", "HEAD").Output(); err == nil {
			rev = strings.TrimSpace(string(out))
		}
	}
	clean, cut := tekton.StripCredentials(gitURL)
	if cut {
		fmt.Fprintln(log, "dracon: warning: the clone URL held credentials; they were left out of the PipelineRun (give them to the source task as GIT_CREDENTIALS in tekton.secret)")
	}
	r.GitURL, r.GitRevision = clean, rev
	at := rev
	if at == "" {
		at = "its default branch"
	}
	fmt.Fprintf(log, "dracon: the cluster clones %s at %s\n", clean, at)
	return nil
}

// inSource is p (relative to the working folder, or absolute) relative
// to the source folder src, slash-separated, if it is inside it.
func inSource(src, p string) (string, bool) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", false
	}
	rel, err := filepath.Rel(src, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", false
	}
	return filepath.ToSlash(rel), true
}

// writeTaskResults writes a run's verdict as Tekton task results when
// DRACON_RESULTS_DIR names a folder (the report task sets /tekton/results):
// exit-code, verdict, findings and new, one file each, which the CI job's
// `dracon run --runner tekton` reads back from the TaskRun's status. A run
// that ended in an error (s nil) writes exit-code 2 and verdict error.
func writeTaskResults(env Env, s *summary.Summary, code int) {
	dir := env.Getenv("DRACON_RESULTS_DIR")
	if dir == "" {
		return
	}
	results := map[string]string{"exit-code": fmt.Sprint(code), "verdict": "error"}
	if s != nil {
		results["verdict"] = s.Verdict
		results["findings"] = fmt.Sprint(s.Counts.Total)
		results["new"] = fmt.Sprint(s.Counts.New)
	}
	for name, v := range results {
		// No newline: Tekton keeps a result's bytes as they are.
		if err := os.WriteFile(filepath.Join(dir, name), []byte(v), 0o644); err != nil {
			fmt.Fprintf(env.Stderr, "dracon: writing the task result %s: %v\n", name, err)
		}
	}
}
