package action

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	draconv1 "github.com/draconsec/dracon/proto/dracon/v1"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/draconsec/dracon/internal/config"
	"github.com/draconsec/dracon/internal/gate"
	"github.com/draconsec/dracon/internal/gitdiff"
	"github.com/draconsec/dracon/internal/pipeline"
	"github.com/draconsec/dracon/internal/producers/registry"
	"github.com/draconsec/dracon/internal/summary"
	"github.com/draconsec/dracon/internal/toolinstall"
	"github.com/sethvargo/go-githubactions"
)

// Options is what Run needs from its caller, internal/cli's `dracon action`.
type Options struct {
	// Stdout is the step's log. Workflow commands (::group::, ::error::,
	// ::add-mask::) and every log line go here, in order.
	Stdout io.Writer
	Getenv func(string) string
	// Version is Dracon's version.
	Version string
	// ReleaseGate runs `dracon gate ARGS` (internal/cli's gate command;
	// the action calls it rather than repeating it), with getenv as its
	// environment, and returns its exit code. mode: release-gate needs it.
	ReleaseGate func(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int
	// GitHub makes the API client; nil: internal/ghapi's (ghapi.go).
	GitHub NewGitHub
	// InstallTools installs the scanners of the named producers that are
	// missing; nil: toolinstall into the tool cache (DRACON_TOOLS_DIR).
	InstallTools func(ctx context.Context, names []string, log io.Writer)
}

// defaultGitHub is internal/ghapi's client (ghapi.go sets it).
var defaultGitHub NewGitHub

// Outputs are the action's outputs (action.yml).
type Outputs struct {
	Verdict       string // passed or failed
	FindingsTotal int
	FindingsNew   int
	MaxSeverity   string // critical, high, medium, low, info or none
	SARIFFile     string
	SARIFID       string
	SummaryFile   string
	RunDir        string
}

// Run is `dracon action`: it reads the inputs and the event, masks the
// token, runs the pipeline (or the release gate), writes the outputs
// first, then the job summary and annotations, uploads the SARIF and
// comments on the pull request as the inputs ask, and returns the gate's
// exit code: nothing but the gate fails the step. Input and run errors
// exit 2.
func Run(ctx context.Context, o Options) int {
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Stdout == nil {
		o.Stdout = os.Stdout
	}
	log := &lockedWriter{w: o.Stdout}
	gha := githubactions.New(githubactions.WithWriter(log), githubactions.WithGetenv(o.Getenv))
	a := &run{o: o, log: log, gha: gha, files: fileCommands{getenv: o.Getenv, log: log}, note: newAnnotator(gha, log)}
	return a.main(ctx)
}

type run struct {
	o     Options
	log   *lockedWriter
	gha   *githubactions.Action
	files fileCommands
	note  *annotator
	in    Inputs
	ev    *Event
	env   func(string) string // o.Getenv with the inputs' variables
	gh    GitHub
	ghErr error
}

func (a *run) main(ctx context.Context) int {
	in, inErr := ReadInputs(a.o.Getenv)
	// Masked before anything is printed, input errors included.
	a.mask(in.Token, a.o.Getenv("GITHUB_TOKEN"))
	a.maskDSN(in.Store)
	a.maskDSN(a.o.Getenv("DRACON_STORE"))
	if inErr != nil {
		for _, e := range strings.Split(inErr.Error(), "\n") {
			a.note.message(LevelError, "Dracon: bad input", e)
		}
		return gate.ExitError
	}
	a.in = in
	ev, err := ReadEvent(a.o.Getenv)
	if err != nil {
		a.note.message(LevelError, "Dracon", err.Error())
		return gate.ExitError
	}
	a.ev = ev
	for _, w := range ev.Warnings {
		a.note.message(LevelWarning, "Dracon", w)
	}
	over := map[string]string{}
	if in.Store != "" {
		over["DRACON_STORE"] = in.Store
	}
	if in.Token != "" {
		over["GITHUB_TOKEN"] = in.Token
	}
	a.env = overlay(a.o.Getenv, over)
	if in.Mode == ModeReleaseGate {
		return a.releaseGate(ctx)
	}
	return a.scan(ctx)
}

// mask tells the runner to hide each value (each of its lines) in the log.
func (a *run) mask(values ...string) {
	for _, v := range values {
		for _, line := range strings.Split(v, "\n") {
			if line = strings.TrimSpace(line); line != "" {
				a.gha.AddMask(line)
			}
		}
	}
}

// maskDSN masks a store's DSN when it carries a password: the whole DSN
// and the password alone (as it may be printed URL-decoded).
func (a *run) maskDSN(dsn string) {
	dsn = strings.TrimSpace(dsn)
	if dsn == "" {
		return
	}
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" && u.Scheme != "file" {
		a.mask(dsn)
		if p, ok := u.User.Password(); ok {
			a.mask(p, url.QueryEscape(p))
		}
		if p := u.Query().Get("password"); p != "" {
			a.mask(p)
		}
		return
	}
	// key=value DSNs: "host=db password=secret dbname=dracon".
	for _, f := range strings.Fields(dsn) {
		if k, v, ok := strings.Cut(f, "="); ok && strings.EqualFold(k, "password") {
			a.mask(dsn, strings.Trim(v, `'"`))
		}
	}
}

// outDir is a fresh folder for this step's files, under RUNNER_TEMP
// (never the workspace: the next step's scan would see them).
func (a *run) outDir() (string, error) {
	base := a.o.Getenv("RUNNER_TEMP")
	if base == "" {
		base = os.TempDir()
	}
	base = filepath.Join(base, "dracon")
	if err := os.MkdirAll(base, 0o755); err != nil {
		return "", err
	}
	return os.MkdirTemp(base, "scan-")
}

func (a *run) scan(ctx context.Context) int {
	in := a.in
	cfg, cfgPath, err := loadConfig(in.Config, in.Source)
	if err != nil {
		a.note.message(LevelError, "Dracon: config", err.Error())
		return gate.ExitError
	}
	if err := a.applyInputs(ctx, cfg); err != nil {
		a.note.message(LevelError, "Dracon", err.Error())
		return gate.ExitError
	}
	out, err := a.outDir()
	if err != nil {
		a.note.message(LevelError, "Dracon", err.Error())
		return gate.ExitError
	}
	a.installTools(ctx, cfg)

	var table bytes.Buffer
	a.gha.Group("Dracon: scan of " + in.Source)
	res, err := pipeline.Run(ctx, pipeline.Options{
		Config: cfg, Source: in.Source, Out: out, RunRoot: filepath.Join(out, "runs"),
		Log: a.log, Stdout: &table, Version: a.o.Version, Getenv: a.env,
		ConfigPath: cfgPath, Policies: in.Policies,
	})
	a.gha.EndGroup()
	if err != nil {
		a.note.message(LevelError, "Dracon: the scan failed", err.Error())
		a.writeOutputs(Outputs{Verdict: gate.Failed, MaxSeverity: "none"})
		_ = a.files.setOutput("sarif-id", "")
		_, _ = a.files.addSummary("## ❌ Dracon: the scan failed (exit 2)\n\n" + inline(err.Error()) + "\n")
		return gate.ExitError
	}
	s := res.Summary
	a.producerGroups(s)
	if table.Len() > 0 {
		a.gha.Group(fmt.Sprintf("Dracon: %s", plural(s.Counts.Total, "finding")))
		a.log.Write(table.Bytes())
		a.gha.EndGroup()
	}
	a.printVerdict(s)

	r := a.report(ctx, s, res)
	r.SARIFFile = s.Outputs["sarif"]
	if r.SARIFFile != "" {
		category := in.Category
		if category == "" {
			category = DefaultCategory(a.o.Getenv, in.Matrix)
		}
		cut, cats, err := githubSARIF(ctx, r.SARIFFile, in.Source, a.repoPrefix(), category, a.o.Version, s, res)
		for _, l := range cut {
			fmt.Fprintf(a.log, "dracon: %s\n", l)
			r.Notes = append(r.Notes, l)
		}
		switch {
		case err != nil:
			a.note.message(LevelWarning, "Dracon: SARIF", err.Error())
		case len(cats) > 0:
			fmt.Fprintf(a.log, "dracon: code scanning categories: %s\n", strings.Join(cats, ", "))
		}
	}
	outs := Outputs{Verdict: s.Verdict, FindingsTotal: s.Counts.Total, FindingsNew: s.Counts.New,
		MaxSeverity: MaxSeverity(r.Findings), SARIFFile: r.SARIFFile, SummaryFile: r.SummaryFile, RunDir: r.RunDir}
	a.writeOutputs(outs)
	a.writeSummary(r, out)
	a.annotateVerdict(s)
	a.note.annotate(r.Findings, a.in.Annotations)

	var notes []string
	if r.SARIFFile != "" {
		id, n := a.upload(ctx, r)
		notes = append(notes, n...)
		_ = a.files.setOutput("sarif-id", id)
	} else {
		_ = a.files.setOutput("sarif-id", "")
	}
	notes = append(notes, a.feedback(ctx, r)...)
	notes = append(notes, a.checkRun(ctx, r)...)
	if len(notes) > 0 {
		a.appendNotes(notes)
	}
	return s.ExitCode
}

// applyInputs puts the inputs over the config, as dracon run's flags do.
func (a *run) applyInputs(ctx context.Context, cfg *config.Config) error {
	in, ev := a.in, a.ev
	if len(in.Producers) > 0 {
		named := map[string]*config.Producer{}
		for _, name := range in.Producers {
			if pc, ok := cfg.Producers[name]; ok && pc != nil {
				on := true
				pc.Enabled = &on
				named[name] = pc
			} else {
				named[name] = &config.Producer{}
			}
		}
		cfg.Producers = named
	}
	if in.FailOn != "" {
		cfg.Gate.FailOn = in.FailOn
	}
	if in.BaselineRef != "" {
		cfg.Baseline.Ref, cfg.Baseline.File = in.BaselineRef, ""
	} else if ev.MergeGroup != nil && cfg.Baseline.Ref == "" && cfg.Baseline.File == "" {
		// A merge queue's group is new against the branch it merges into.
		cfg.Baseline.Ref = ev.BaseBranch()
	}
	if in.DiffFilter != "" {
		m, err := gitdiff.ParseMode(in.DiffFilter)
		if err != nil {
			return err
		}
		cfg.Baseline.DiffFilter = string(m)
	}
	// A pull request's change is diffed from its base commit when the
	// checkout has it; else dracon run finds the merge base with
	// origin/<base>, which a shallow checkout lacks too.
	if base := ev.BaseSHA(); base != "" && cfg.Baseline.DiffBase == "" {
		if sha, err := gitdiff.Resolve(ctx, in.Source, base+"^{commit}"); err == nil {
			cfg.Baseline.DiffBase = sha
		} else if cfg.Baseline.DiffFilter != "" && cfg.Baseline.DiffFilter != string(gitdiff.NoFilter) {
			a.note.message(LevelWarning, "Dracon", fmt.Sprintf("the base commit %s is not in the checkout: check out with fetch-depth: 0 so the diff filter can see what the change touched", shortSHA(base)))
		}
	}
	if cfg.Consumers.Stdout.Format == "" || cfg.Consumers.Stdout.Format == "none" {
		cfg.Consumers.Stdout.Format = "table"
	}
	return nil
}

// installTools installs the scanners of the producers the config or the
// producers input names that are not installed yet, into the tool cache
// (DRACON_TOOLS_DIR: action.yml points it at the runner's tool cache). A
// scanner that fails to install is skipped by the scan, which says so.
func (a *run) installTools(ctx context.Context, cfg *config.Config) {
	var names []string
	for name, pc := range cfg.Producers {
		if pc == nil || !pc.On() || len(pc.Paths) > 0 {
			continue
		}
		p, err := registry.Lookup(name)
		if err != nil || p.Tool == nil {
			continue
		}
		if _, err := p.Tool.Locate(); err == nil {
			continue
		}
		names = append(names, p.Name)
	}
	if len(names) == 0 {
		return
	}
	install := a.o.InstallTools
	if install == nil {
		install = installWithToolinstall
	}
	a.gha.Group("Dracon: installing " + strings.Join(names, ", "))
	install(ctx, names, a.log)
	a.gha.EndGroup()
}

func installWithToolinstall(ctx context.Context, names []string, log io.Writer) {
	for _, name := range names {
		p, err := registry.Lookup(name)
		if err != nil {
			continue
		}
		if !toolinstall.Installable(p) {
			fmt.Fprintf(log, "dracon: %s is not installed and Dracon cannot install it: %s\n", name, p.Tool.InstallHint(name))
			continue
		}
		if _, err := toolinstall.Install(ctx, p, log); err != nil {
			fmt.Fprintf(log, "dracon: %v\n", err)
		}
	}
}

// producerGroups folds each producer's outcome into a group of its own
// (the producers ran in parallel, so their log lines interleave in the
// scan's group).
func (a *run) producerGroups(s *summary.Summary) {
	for _, p := range s.Producers {
		title := fmt.Sprintf("%s: %s", p.Name, p.Status)
		if p.Status == "ok" {
			title += fmt.Sprintf(", %s in %s", plural(p.Findings, "finding"), duration(p.DurationSeconds))
		}
		if p.ToolVersion != "" {
			title += " (" + p.ToolVersion + ")"
		}
		a.gha.Group(title)
		if p.Reason != "" {
			fmt.Fprintf(a.log, "reason: %s\n", p.Reason)
		}
		if p.Report != "" {
			fmt.Fprintf(a.log, "report: %s\n", p.Report)
		}
		if p.Stderr != "" {
			fmt.Fprintf(a.log, "stderr: %s\n", p.Stderr)
			if tail := tailLines(p.Stderr, 20); tail != "" {
				fmt.Fprintf(a.log, "%s\n", tail)
			}
		}
		if v := p.Vendored; v != nil {
			fmt.Fprintf(a.log, "vendored or generated files left out: %d (%d findings dropped), listed in %s\n", v.SkippedFiles, v.DroppedFindings, v.List)
		}
		a.gha.EndGroup()
	}
}

func (a *run) printVerdict(s *summary.Summary) {
	fmt.Fprintf(a.log, "dracon: %d findings (%d new, %d suppressed); verdict: %s (exit %d)\n", s.Counts.Total, s.Counts.New, s.Counts.Suppressed, s.Verdict, s.ExitCode)
	for _, r := range s.Reasons {
		fmt.Fprintf(a.log, "  - %s\n", r)
	}
	for _, w := range s.Warnings {
		fmt.Fprintf(a.log, "  ~ warning: %s\n", w)
	}
}

// report is what the summary, the annotations and the comments show.
func (a *run) report(ctx context.Context, s *summary.Summary, res *pipeline.Result) *Report {
	r := a.baseReport(s, ModeScan)
	r.SummaryFile, r.RunDir = s.Outputs["summary"], s.RunDir
	prefix := a.repoPrefix()
	var diff *gitdiff.Diff
	if a.ev.IsPullRequest() || a.ev.MergeGroup != nil {
		base := ""
		if s.Baseline != nil {
			base = s.Baseline.DiffBase
		}
		if base == "" {
			if b := a.ev.BaseSHA(); b != "" {
				base, _ = gitdiff.Resolve(ctx, a.in.Source, b+"^{commit}")
			}
		}
		if base != "" {
			if d, err := gitdiff.Run(ctx, a.in.Source, base); err == nil {
				diff = d
			}
		}
	}
	r.Findings = collect(res.Results, prefix, diff)
	if prefix != "." {
		r.Source = prefix
	}
	return r
}

func (a *run) baseReport(s *summary.Summary, mode string) *Report {
	r := &Report{Summary: s, Event: a.ev, Mode: mode}
	r.Repository = firstNonEmpty(a.o.Getenv("GITHUB_REPOSITORY"), s.Tags["repository"], a.ev.Repository)
	r.ServerURL = firstNonEmpty(a.o.Getenv("GITHUB_SERVER_URL"), s.Tags["server_url"])
	if r.ServerURL == "" && r.Repository != "" && s.Tags["ci"] == "github" {
		r.ServerURL = "https://github.com"
	}
	r.Commit = s.Tags["commit"]
	if pr := a.ev.PullRequest; pr != nil && pr.HeadSHA != "" {
		r.Commit = pr.HeadSHA
	}
	if id := a.o.Getenv("GITHUB_RUN_ID"); id != "" && r.ServerURL != "" && r.Repository != "" {
		r.RunURL = strings.TrimSuffix(r.ServerURL, "/") + "/" + r.Repository + "/actions/runs/" + id
		if n := a.o.Getenv("GITHUB_RUN_ATTEMPT"); n != "" && n != "1" {
			r.RunURL += "/attempts/" + n
		}
	}
	return r
}

// repoPrefix is the scanned folder's path from the repository's root
// (the workspace): finding paths are relative to the scanned folder,
// annotations and links to the repository.
func (a *run) repoPrefix() string {
	ws := a.o.Getenv("GITHUB_WORKSPACE")
	if ws == "" {
		ws, _ = os.Getwd()
	}
	src, err := filepath.Abs(a.in.Source)
	if err != nil || ws == "" {
		return ""
	}
	wsAbs, _ := filepath.Abs(ws)
	if ev, err := filepath.EvalSymlinks(wsAbs); err == nil {
		wsAbs = ev
	}
	if ev, err := filepath.EvalSymlinks(src); err == nil {
		src = ev
	}
	rel, err := filepath.Rel(wsAbs, src)
	if err != nil || strings.HasPrefix(rel, "..") {
		return ""
	}
	return filepath.ToSlash(rel)
}

func (a *run) writeOutputs(o Outputs) {
	set := func(k, v string) {
		if err := a.files.setOutput(k, v); err != nil {
			a.note.message(LevelWarning, "Dracon", fmt.Sprintf("output %s: %v", k, err))
		}
	}
	set("verdict", o.Verdict)
	set("findings-total", strconv.Itoa(o.FindingsTotal))
	set("findings-new", strconv.Itoa(o.FindingsNew))
	set("max-severity", o.MaxSeverity)
	set("sarif-file", o.SARIFFile)
	set("summary-file", o.SummaryFile)
	set("run-dir", o.RunDir)
}

// writeSummary writes the job summary, and a copy beside the outputs
// (job-summary.md) for a run outside Actions or an artifact.
func (a *run) writeSummary(r *Report, out string) {
	md := RenderSummary(r, MaxSummaryBytes-a.files.summaryBytes())
	if out != "" {
		_ = os.WriteFile(filepath.Join(out, "job-summary.md"), []byte(md), 0o644)
	}
	ok, err := a.files.addSummary(md)
	switch {
	case err != nil:
		a.note.message(LevelWarning, "Dracon", "job summary: "+err.Error())
	case !ok:
		fmt.Fprintf(a.log, "dracon: GITHUB_STEP_SUMMARY is not set: the job summary is in %s\n", filepath.Join(out, "job-summary.md"))
	}
}

func (a *run) appendNotes(notes []string) {
	var b strings.Builder
	b.WriteString("\n")
	for _, n := range notes {
		fmt.Fprintf(&b, "> %s\n", inline(n))
	}
	_, _ = a.files.addSummary(b.String())
}

// annotateVerdict is one error annotation when the gate fails, with its
// first reason.
func (a *run) annotateVerdict(s *summary.Summary) {
	if s.Verdict == gate.Passed {
		return
	}
	msg := "the gate failed"
	if len(s.Reasons) > 0 {
		msg = s.Reasons[0]
		if n := len(s.Reasons) - 1; n > 0 {
			msg += fmt.Sprintf(" (and %s: see the job summary)", plural(n, "more reason"))
		}
	}
	a.note.message(LevelError, fmt.Sprintf("Dracon: %s (exit %d)", s.Verdict, s.ExitCode), msg)
}

// github is the API client, made once.
func (a *run) github() (GitHub, error) {
	if a.gh != nil || a.ghErr != nil {
		return a.gh, a.ghErr
	}
	mk := a.o.GitHub
	if mk == nil {
		mk = defaultGitHub
	}
	if mk == nil {
		a.ghErr = errors.New("this build of Dracon has no GitHub API client")
		return nil, a.ghErr
	}
	a.gh, a.ghErr = mk(a.in.Token, a.o.Getenv("GITHUB_API_URL"))
	return a.gh, a.ghErr
}

// repo is the repository's owner and name.
func (a *run) repo(r *Report) (string, string, bool) {
	owner, name, ok := strings.Cut(r.Repository, "/")
	return owner, name, ok && owner != "" && name != ""
}

// upload sends the SARIF file to code scanning as the upload-sarif input
// says, and waits for its processing when asked. It returns the upload's
// id and notes for the job summary; nothing here fails the step.
func (a *run) upload(ctx context.Context, r *Report) (string, []string) {
	in, ev := a.in, a.ev
	if in.UploadSARIF == "false" {
		return "", nil
	}
	explicit := in.UploadSARIF == "true"
	skip := func(why string) (string, []string) {
		level := LevelNotice
		if explicit {
			level = LevelWarning
		}
		a.note.message(level, "Dracon: SARIF not uploaded", why)
		return "", []string{"SARIF not uploaded: " + why}
	}
	switch {
	case !explicit && a.o.Getenv("ACT") == "true":
		fmt.Fprintln(a.log, "dracon: running under act: the SARIF file is not uploaded (upload-sarif: auto)")
		return "", nil
	case !explicit && a.o.Getenv("GITHUB_ACTIONS") != "true":
		fmt.Fprintln(a.log, "dracon: not in GitHub Actions: the SARIF file is not uploaded (upload-sarif: auto)")
		return "", nil
	case ev.ForkPR():
		return skip(forkUploadNotice)
	case in.Token == "":
		return skip("no token (the token input is empty)")
	}
	owner, name, ok := a.repo(r)
	if !ok {
		return skip("no repository (GITHUB_REPOSITORY)")
	}
	commit, ref := a.o.Getenv("GITHUB_SHA"), a.o.Getenv("GITHUB_REF")
	if commit == "" || ref == "" {
		return skip("no commit or ref (GITHUB_SHA, GITHUB_REF)")
	}
	data, err := os.ReadFile(r.SARIFFile)
	if err != nil {
		return skip(err.Error())
	}
	// One upload per category and job: a second would overwrite the first
	// (codeql-action refuses it the same way).
	sentinel := "DRACON_SARIF_UPLOADED_" + sentinelKey(owner+"/"+name, in.Category, DefaultCategory(a.o.Getenv, in.Matrix))
	if prev := a.o.Getenv(sentinel); prev != "" {
		return skip(fmt.Sprintf("an earlier step of this job uploaded SARIF with the same category (upload %s): give each step its own category input", prev))
	}
	gh, err := a.github()
	if err != nil {
		return skip(err.Error())
	}
	ws := a.o.Getenv("GITHUB_WORKSPACE")
	receipt, err := gh.UploadSARIF(ctx, Upload{Owner: owner, Repo: name, CommitSHA: commit, Ref: ref, CheckoutURI: ws,
		StartedAt: r.Summary.StartedAt, SARIF: data, Fork: ev.IsPullRequest() && ev.PullRequest.Fork})
	if err != nil {
		var n Notifier
		if errors.As(err, &n) {
			return skip(n.Notice())
		}
		level := LevelWarning
		if explicit {
			level = LevelError
		}
		a.note.message(level, "Dracon: SARIF upload failed", err.Error())
		return "", []string{"SARIF upload failed: " + err.Error()}
	}
	_ = a.files.setEnv(sentinel, receipt.ID)
	fmt.Fprintf(a.log, "dracon: uploaded %s to code scanning (%d bytes gzip-compressed): upload %s\n", r.SARIFFile, receipt.GzipBytes, receipt.ID)
	notes := []string{fmt.Sprintf("SARIF uploaded to code scanning: upload %s", receipt.ID)}
	if !in.WaitForProcessing {
		return receipt.ID, notes
	}
	fmt.Fprintln(a.log, "dracon: waiting for code scanning to process the upload")
	st, err := gh.WaitForProcessing(ctx, owner, name, receipt.ID)
	switch {
	case err == nil && st.Status == "complete":
		fmt.Fprintf(a.log, "dracon: code scanning processed upload %s\n", receipt.ID)
		notes[0] += ", processed"
	case st.Status == "failed":
		msg := "code scanning could not process the upload"
		if err != nil {
			msg = err.Error()
		} else if len(st.Errors) > 0 {
			msg += ": " + strings.Join(st.Errors, "; ")
		}
		a.note.message(LevelError, "Dracon: SARIF processing failed", msg)
		notes[0] += ", but processing failed: " + msg
	default:
		msg := "code scanning is still processing the upload: its alerts will show later"
		if err != nil {
			msg = err.Error()
		}
		a.note.message(LevelWarning, "Dracon", msg)
		notes[0] += ", still processing"
	}
	return receipt.ID, notes
}

// forkUploadNotice is why a fork's pull request does not upload.
const forkUploadNotice = "a fork's pull request has a read-only token: " +
	"upload the sarif-file output with github/codeql-action/upload-sarif (it takes that token), or from a workflow_run job"

func sentinelKey(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return strings.ToUpper(hex.EncodeToString(h[:8]))
}

// feedback writes the pull request comment and inline comments as the
// pr-comment input asks.
func (a *run) feedback(ctx context.Context, r *Report) []string {
	in, ev := a.in, a.ev
	if in.PRComment == CommentOff || !ev.IsPullRequest() {
		return nil
	}
	skip := func(why string) []string {
		a.note.message(LevelNotice, "Dracon: no pull request comment", why)
		return []string{"No pull request comment: " + why}
	}
	switch {
	case ev.ForkPR():
		return skip("a fork's pull request has a read-only token")
	case in.Token == "":
		return skip("no token (the token input is empty)")
	case ev.PullRequest.Number <= 0:
		return skip("the event has no pull request number")
	}
	owner, name, ok := a.repo(r)
	if !ok {
		return skip("no repository (GITHUB_REPOSITORY)")
	}
	gh, err := a.github()
	if err != nil {
		return skip(err.Error())
	}
	var notes []string
	pr := ev.PullRequest.Number
	res, err := gh.UpsertComment(ctx, owner, name, pr, commentMarker(in), RenderComment(r, MaxCommentBytes))
	if err != nil {
		a.note.message(LevelWarning, "Dracon: pull request comment failed", err.Error())
		notes = append(notes, "Pull request comment failed: "+err.Error())
	} else {
		verb := "updated"
		if res.Created {
			verb = "posted"
		}
		fmt.Fprintf(a.log, "dracon: %s the summary comment on #%d\n", verb, pr)
	}
	if in.PRComment != CommentInline {
		return notes
	}
	comments := inlineComments(r)
	if len(comments) == 0 {
		return notes
	}
	out, err := gh.PostReviewComments(ctx, owner, name, pr, ev.PullRequest.HeadSHA, comments)
	if err != nil {
		a.note.message(LevelWarning, "Dracon: inline comments failed", err.Error())
		return append(notes, "Inline comments failed: "+err.Error())
	}
	fmt.Fprintf(a.log, "dracon: %s on #%d", plural(out.Posted, "inline comment"), pr)
	for why, n := range out.Skipped {
		fmt.Fprintf(a.log, "; %d skipped: %s", n, why)
	}
	fmt.Fprintln(a.log)
	return notes
}

// commentMarker is the hidden line that tells this step's pull request
// comment from others: "" (internal/ghapi's <!-- dracon:summary -->) for
// a job's one scan; with a category input or a matrix, one per category,
// so each leg of a matrix (a team's folder) keeps its own comment.
func commentMarker(in Inputs) string {
	key := in.Category
	if key == "" {
		if m := strings.TrimSpace(in.Matrix); m != "" && m != "null" && m != "{}" {
			key = m
		}
	}
	if key == "" {
		return ""
	}
	h := sha256.Sum256([]byte(key))
	return "<!-- dracon:summary " + hex.EncodeToString(h[:6]) + " -->"
}

// inlineComments are the new findings that are not suppressed, each a
// comment on its first line, marked with its hash so a later run does
// not post it again.
func inlineComments(r *Report) []InlineComment {
	var out []InlineComment
	for _, f := range r.Findings {
		if !f.New || f.Suppressed || f.OutsideDiff || f.Path == "" || f.Start <= 0 || strings.Contains(f.Path, "://") {
			continue
		}
		body := fmt.Sprintf("<!-- dracon:finding %s -->\n**%s** %s %s: %s", f.Hash, SeverityWord(f.Severity), inline(f.Tool), code(f.Rule), inline(f.Title))
		if f.Message != "" && oneLine(f.Message) != f.Title {
			body += "\n\n" + inline(cut(f.Message, 1000))
		}
		if f.Gate == "deny" {
			body += "\n\nA policy fails the run on this finding."
		}
		out = append(out, InlineComment{Path: f.Path, Line: f.Start, Body: neutralizeMentions(body)})
	}
	return out
}

// releaseGate is mode: release-gate: `dracon gate --context release` on
// the commit (GITHUB_SHA, the tag's on a release or tag push), posting the
// dracon/release-gate check run when there is a token.
func (a *run) releaseGate(ctx context.Context) int {
	in := a.in
	if a.o.ReleaseGate == nil {
		a.note.message(LevelError, "Dracon", "this build of Dracon cannot run the release gate")
		return gate.ExitError
	}
	out, err := a.outDir()
	if err != nil {
		a.note.message(LevelError, "Dracon", err.Error())
		return gate.ExitError
	}
	sumPath := filepath.Join(out, "summary.json")
	args := []string{"--context", "release", "--source", in.Source, "--summary", sumPath}
	if in.Config != "" {
		args = append(args, "--config", in.Config)
	}
	for _, p := range in.Policies {
		args = append(args, "--policy", p)
	}
	if in.FailOn != "" {
		args = append(args, "--fail-on", in.FailOn)
	}
	if in.Token != "" {
		args = append(args, "--check-run")
	} else {
		a.note.message(LevelNotice, "Dracon", "no token: the release gate's verdict is not posted as the dracon/release-gate check run")
	}
	a.gha.Group("Dracon: release gate")
	code := a.o.ReleaseGate(ctx, args, a.env, a.log, a.log)
	a.gha.EndGroup()
	s, err := readSummary(sumPath)
	if err != nil {
		a.note.message(LevelError, "Dracon: release gate", fmt.Sprintf("the gate wrote no summary (exit %d): %v", code, err))
		a.writeOutputs(Outputs{Verdict: gate.Failed, MaxSeverity: "none"})
		return max(code, gate.ExitError)
	}
	r := a.baseReport(s, ModeReleaseGate)
	r.SummaryFile = sumPath
	if cr := s.Outputs["check_run"]; cr != "" {
		r.Notes = append(r.Notes, "Check run: "+cr)
	}
	a.writeOutputs(Outputs{Verdict: s.Verdict, FindingsTotal: s.Counts.Total, MaxSeverity: maxSeverityOfCounts(s.Counts.BySeverity), SummaryFile: sumPath})
	_ = a.files.setOutput("sarif-id", "")
	a.writeSummary(r, out)
	a.annotateVerdict(s)
	return code
}

func readSummary(path string) (*summary.Summary, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s summary.Summary
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &s, nil
}

// loadConfig reads the config input, else dracon.yaml in the source
// folder or the working folder, else the defaults, as dracon run does.
func loadConfig(path, source string) (*config.Config, string, error) {
	return pipeline.LoadConfig(path, source)
}

// overlay is getenv with some variables set.
func overlay(getenv func(string) string, vars map[string]string) func(string) string {
	if len(vars) == 0 {
		return getenv
	}
	return func(k string) string {
		if v, ok := vars[k]; ok {
			return v
		}
		return getenv(k)
	}
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// tailLines is the last n lines of a file, "" when it has none.
func tailLines(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

// lockedWriter serialises writes: the producers log from goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// checkRunName is the check run check-run posts.
const checkRunName = "dracon/scan"

// checkRun posts the dracon/scan check run when the check-run input asks:
// the verdict as its conclusion, every finding with a location as an
// annotation, new ones first. A failure to post is a warning, never the
// step's failure.
func (a *run) checkRun(ctx context.Context, r *Report) []string {
	if !a.in.CheckRun {
		return nil
	}
	skip := func(why string) []string {
		a.note.message(LevelNotice, "Dracon: no check run", why)
		return []string{"No check run: " + why}
	}
	if a.in.Token == "" {
		return skip("no token (the token input is empty)")
	}
	if a.ev.ForkPR() {
		return skip("a fork's pull request has a read-only token")
	}
	owner, name, ok := a.repo(r)
	if !ok {
		return skip("no repository (GITHUB_REPOSITORY)")
	}
	if r.Commit == "" {
		return skip("no commit to post it on")
	}
	gh, err := a.github()
	if err != nil {
		return skip(err.Error())
	}
	conclusion, title := "success", "Dracon: passed"
	if r.Summary != nil && r.Summary.Verdict != "passed" {
		conclusion, title = "failure", "Dracon: failed"
	}
	var body strings.Builder
	if r.Summary != nil {
		fmt.Fprintf(&body, "%d findings (%d new, %d suppressed).\n", r.Summary.Counts.Total, r.Summary.Counts.New, r.Summary.Counts.Suppressed)
		for _, reason := range r.Summary.Reasons {
			fmt.Fprintf(&body, "\n- %s", inline(reason))
		}
	}
	var anns []CheckAnnotation
	for _, f := range r.Findings {
		if f.Path == "" || f.Start <= 0 || strings.Contains(f.Path, "://") {
			continue
		}
		level := "notice"
		switch {
		case f.Gate == "deny" || f.Severity >= draconv1.Severity_SEVERITY_HIGH:
			level = "failure"
		case f.Severity == draconv1.Severity_SEVERITY_MEDIUM:
			level = "warning"
		}
		end := f.End
		if end < f.Start {
			end = f.Start
		}
		anns = append(anns, CheckAnnotation{Path: f.Path, StartLine: f.Start, EndLine: end, Level: level,
			Title: fmt.Sprintf("%s %s %s (%s)", SeverityWord(f.Severity), f.Tool, f.Rule, f.Status()), Message: cut(oneLine(f.Title+" "+f.Message), 1000)})
	}
	res, err := gh.PostCheckRun(ctx, CheckRun{Owner: owner, Repo: name, HeadSHA: r.Commit, Name: checkRunName, Conclusion: conclusion,
		Title: title, Summary: body.String(), DetailsURL: r.RunURL, ExternalID: scanID(r), Annotations: anns})
	if err != nil {
		a.note.message(LevelWarning, "Dracon: check run failed", err.Error())
		return []string{"Check run failed: " + err.Error()}
	}
	fmt.Fprintf(a.log, "dracon: posted the %s check run (%s) with %s\n", checkRunName, conclusion, plural(res.Annotations, "annotation"))
	return []string{fmt.Sprintf("Check run [%s](%s): %s, %s", checkRunName, res.URL, conclusion, plural(res.Annotations, "annotation"))}
}

func scanID(r *Report) string {
	if r.Summary == nil {
		return ""
	}
	return r.Summary.ScanID
}
