package cli

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/draconsec/dracon/internal/config"
	"github.com/draconsec/dracon/internal/gate"
	"github.com/draconsec/dracon/internal/pipeline"
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
		abs, _ := filepath.Abs(cfgPath)
		rel, err := filepath.Rel(src, abs)
		if err != nil || strings.HasPrefix(rel, "..") {
			return fail(fmt.Errorf("the config %s is outside the source %s: the cluster's tasks read it from the source, so keep it there", cfgPath, o.source))
		}
		r.ConfigPath = filepath.ToSlash(rel)
	}
	if r.ReportArgs, err = o.reportArgs(src); err != nil {
		return fail(err)
	}
	if err := chooseSource(&r, src, env.Getenv); err != nil {
		return fail(err)
	}
	clients, err := tekton.Connect(cfg.Tekton)
	if err != nil {
		return fail(err)
	}
	res, err := tekton.Execute(ctx, clients, r, tekton.Options{Out: o.out, Log: env.Stderr})
	if err != nil {
		return fail(err)
	}
	for _, f := range res.Files {
		fmt.Fprintf(env.Stderr, "dracon: wrote %s\n", f)
	}
	fmt.Fprintf(env.Stderr, "\ndracon: %d findings (%d new) in PipelineRun %s; verdict: %s\n", res.Findings, res.New, res.PipelineRun, res.Verdict)
	return res.ExitCode
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
	inSource := func(flag, p string) error {
		if strings.HasPrefix(p, "builtin:") {
			add(flag, p)
			return nil
		}
		abs, _ := filepath.Abs(p)
		rel, err := filepath.Rel(src, abs)
		if err != nil || strings.HasPrefix(rel, "..") {
			return fmt.Errorf("--%s %s is outside the source: the cluster's tasks only see the source", flag, p)
		}
		add(flag, "source-code/"+filepath.ToSlash(rel))
		return nil
	}
	for _, p := range o.policies {
		if err := inSource("policy", p); err != nil {
			return nil, err
		}
	}
	if o.baselineFile != "" {
		if err := inSource("baseline", o.baselineFile); err != nil {
			return nil, err
		}
	}
	return args, nil
}

// chooseSource decides how the source reaches the cluster: a clone
// (tekton.source git, or auto with a clone URL known) or an archive.
func chooseSource(r *tekton.Run, src string, getenv func(string) string) error {
	c := r.Config
	gitURL, rev := c.GitURL, c.GitRevision
	if gitURL == "" {
		switch {
		case getenv("GITHUB_REPOSITORY") != "" && getenv("GITHUB_SERVER_URL") != "":
			gitURL = strings.TrimSuffix(getenv("GITHUB_SERVER_URL"), "/") + "/" + getenv("GITHUB_REPOSITORY") + ".git"
		case getenv("CI_PROJECT_URL") != "":
			// Not CI_REPOSITORY_URL: it carries the job's token.
			gitURL = getenv("CI_PROJECT_URL") + ".git"
		}
	}
	if rev == "" {
		rev = firstNonEmpty(getenv("GITHUB_SHA"), getenv("CI_COMMIT_SHA"))
	}
	if rev == "" {
		if out, err := exec.Command("git", "-C", src, "rev-parse", "HEAD").Output(); err == nil {
			rev = strings.TrimSpace(string(out))
		}
	}
	mode := c.Source
	if mode == "" || mode == "auto" {
		mode = "archive"
		if gitURL != "" {
			mode = "git"
		}
	}
	switch mode {
	case "git":
		if gitURL == "" {
			return errors.New("tekton.source git needs a clone URL: tekton.git_url, --tekton-git-url, or a CI that names its repository")
		}
		u, err := url.Parse(gitURL)
		if err == nil && u.User != nil {
			// Never in a PipelineRun's params: credentials go in the
			// secret's GIT_CREDENTIALS.
			u.User = nil
			gitURL = u.String()
		}
		r.GitURL, r.GitRevision = gitURL, rev
	default:
		b, err := tekton.Archive(src)
		if err != nil {
			return err
		}
		r.Archive = b
	}
	return nil
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
