package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/draconsec/dracon/internal/config"
	"github.com/draconsec/dracon/internal/enrichers"
	"github.com/draconsec/dracon/internal/enrichers/exploits"
	"github.com/draconsec/dracon/internal/enrichers/identity"
	"github.com/draconsec/dracon/internal/enrichers/ignore"
	"github.com/draconsec/dracon/internal/enrichers/owners"
	"github.com/draconsec/dracon/internal/gate"
	"github.com/draconsec/dracon/internal/gitdiff"
	"github.com/draconsec/dracon/internal/githubcheck"
	"github.com/draconsec/dracon/internal/pipeline"
	"github.com/draconsec/dracon/internal/policy"
	"github.com/draconsec/dracon/internal/store"
	"github.com/draconsec/dracon/internal/summary"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
	"github.com/google/uuid"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// dracon gate has two modes.
//
// A saved run (FILE.enriched.pb, a run folder or its summary.json): the
// --fail-on threshold, as it always was, and with --policy, --config or
// --context the policies too, decided as `dracon run` would have.
//
// The release gate (--context release, no files): a commit judged on what
// the findings store knows of it now. It needs a scan of the commit in the
// store (an unscanned release fails, exit 2); it takes the commit's open
// findings (a triage decision or a fix at this commit leaves one out), as
// the store has them today: status, first seen (so a high finding ages
// against the SLA), times seen. The scans' own producer failures were
// their gate's business: each tool the store saw at the commit stands as
// a producer that ran. The policies decide (event release; the bundled
// builtin:default unless the config or --policy names others); --fail-on
// adds a severity threshold only when given.

type gateOptions struct {
	failOn    string
	failOnSet bool
	newOnly   bool
	summary   string
	policies  multiFlag
	config    string
	context   string
	source    string

	// The release gate's.
	ref, commit, repository, store string
	checkRun                       bool
}

// releaseOnly are the flags that name a commit in the store.
var releaseOnly = []string{"ref", "commit", "repository", "store", "check-run"}

// events are the values --context takes.
var events = []string{policy.EventPullRequest, policy.EventPush, policy.EventSchedule, policy.EventRelease, policy.EventTag, policy.EventManual}

// runGate: dracon gate [--fail-on S] [--new-only] [--policy P]... [--context EVENT] FILE.enriched.pb...
// or dracon gate --context release [--ref TAG | --commit SHA] [--store DSN] [--check-run]
func runGate(ctx context.Context, env Env, args []string) int {
	var o gateOptions
	fs := newFlags("gate", env, "gate [--fail-on high] [--new-only] [--policy PATH]... [--config dracon.yaml] [--context EVENT] [--summary summary.json] ENRICHED.pb|RUN_DIR|summary.json...\n"+
		"       dracon gate --context release [--ref TAG | --commit SHA] [--store DSN] [--repository owner/name] [--policy PATH]... [--check-run] [--summary summary.json]")
	fs.StringVar(&o.failOn, "fail-on", "high", "fail on findings at or above this severity (none never fails). With policies, default the config's gate.fail_on; in the release gate, none")
	fs.BoolVar(&o.newOnly, "new-only", false, "count only findings no earlier scan saw (not in the release gate)")
	fs.StringVar(&o.summary, "summary", "", "also write a summary.json here")
	fs.Var(&o.policies, "policy", "a Rego policy: a .rego file, a folder, an OPA bundle or builtin:default (repeatable; replaces the config's policy.paths)")
	fs.StringVar(&o.config, "config", "", "config whose policy and gate blocks apply (default: dracon.yaml in --source or here, if present)")
	fs.StringVar(&o.context, "context", "", "decide as if the scan were of this event: "+strings.Join(events, ", ")+"; release (or tag) with no files is the release gate")
	fs.StringVar(&o.source, "source", ".", "the checkout: its dracon.yaml, the config's policy paths, CODEOWNERS, and where --ref is resolved")
	fs.StringVar(&o.ref, "ref", "", "release gate: the tag (or any revision) to judge, resolved with git rev-parse TAG^{commit} in --source")
	fs.StringVar(&o.commit, "commit", "", "release gate: the commit to judge (default: --ref, else $GITHUB_SHA or $CI_COMMIT_SHA, else HEAD)")
	fs.StringVar(&o.repository, "repository", "", "release gate: the repository as its scans recorded it, owner/name (default $GITHUB_REPOSITORY or $CI_PROJECT_PATH)")
	fs.StringVar(&o.store, "store", "", "release gate: the findings store, a SQLite file or a postgres:// DSN (default $DRACON_STORE, else the config's enrichers.dedup.store)")
	fs.BoolVar(&o.checkRun, "check-run", false, "release gate: post the verdict as the check run "+githubcheck.DefaultName+" on the commit ($GITHUB_TOKEN with checks: write; $GITHUB_API_URL for GitHub Enterprise Server)")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return usageError(env, err)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	o.failOnSet = set["fail-on"]
	if o.failOnSet {
		if _, err := gate.ParseSeverity(o.failOn); err != nil {
			return usageError(env, fmt.Errorf("--fail-on: %w", err))
		}
	}
	if o.context != "" && !slices.Contains(events, o.context) {
		return usageError(env, fmt.Errorf("--context %q: want one of %s", o.context, strings.Join(events, ", ")))
	}
	if len(rest) > 0 {
		for _, name := range releaseOnly {
			if set[name] {
				return usageError(env, fmt.Errorf("--%s is for the release gate (--context release, no files); these files are a saved run", name))
			}
		}
		return savedRunGate(ctx, env, o, rest)
	}
	if o.context != policy.EventRelease && o.context != policy.EventTag {
		return usageError(env, errors.New("gate needs a saved run (enriched .pb files, a run folder or its summary.json), or --context release to judge a commit from the findings store"))
	}
	if o.newOnly {
		return usageError(env, errors.New("--new-only: the release gate judges every open finding of the commit; nothing in it is new"))
	}
	if o.ref != "" && o.commit != "" {
		return usageError(env, errors.New("--ref and --commit: give one"))
	}
	return releaseGate(ctx, env, o)
}

// judgment is what the policies decided on a run.
type judgment struct {
	policy   *pipeline.Policy
	run      policy.Run
	decision *policy.Decision
	errs     []error
}

// judgeInput is a run for the policies.
type judgeInput struct {
	cfg       *config.Config
	cfgPath   string
	paths     []string
	source    string
	tags      map[string]string
	scanID    string
	now       time.Time
	producers []policy.Producer
	results   []*v1.EnrichedLaunchToolResponse
}

// judge prepares the policies (the config's or --policy's, builtin:default
// when none is named) and evaluates them over the run.
func judge(ctx context.Context, env Env, in judgeInput) (*judgment, error) {
	src, err := filepath.Abs(in.source)
	if err != nil {
		return nil, err
	}
	p, err := pipeline.PreparePolicy(ctx, pipeline.PolicyOptions{Config: in.cfg, ConfigPath: in.cfgPath, Paths: in.paths, Source: src, Tags: in.tags, Log: env.Stderr})
	if err != nil {
		return nil, err
	}
	if p.Set == nil {
		return nil, errors.New("policies are off (enrichers.policy.enabled: false): the gate cannot judge by policy")
	}
	run := policy.Run{Context: policy.ContextFromTags(in.scanID, in.tags, in.now), Producers: in.producers, Results: in.results}
	d, errs, err := p.Set.Evaluate(ctx, run)
	if err != nil {
		return nil, err
	}
	return &judgment{policy: p, run: run, decision: d, errs: errs}, nil
}

// withEvent is tags as a scan of event would have them ("" keeps them):
// only a pull request has a target branch.
func withEvent(tags map[string]string, event string) map[string]string {
	out := maps.Clone(tags)
	if out == nil {
		out = map[string]string{}
	}
	if event != "" {
		out["event"] = event
		if event != policy.EventPullRequest {
			delete(out, "base_ref")
		}
	}
	return out
}

// gateThresholds are the severity thresholds of a gate block, with
// --fail-on over its fail_on when given.
func gateThresholds(g config.Gate, o gateOptions) (v1.Severity, map[string]v1.Severity, error) {
	s := g.FailOn
	if o.failOnSet {
		s = o.failOn
	}
	failOn, err := gate.ParseSeverity(s)
	if err != nil {
		return 0, nil, fmt.Errorf("gate.fail_on: %w", err)
	}
	teams := map[string]v1.Severity{}
	for name, t := range g.Teams {
		if teams[name], err = gate.ParseSeverity(t.FailOn); err != nil {
			return 0, nil, fmt.Errorf("gate.teams.%s: %w", name, err)
		}
	}
	return failOn, teams, nil
}

// savedRunGate gates a saved run: enriched files, a run folder or its
// summary.json (whose failed producers fail the gate as they failed the run).
func savedRunGate(ctx context.Context, env Env, o gateOptions, inputs []string) int {
	started := time.Now()
	results, producers, scan, err := readRun(inputs)
	if err != nil {
		fmt.Fprintf(env.Stderr, "dracon: %v\n", err)
		return gate.ExitError
	}
	var failures []gate.ProducerFailure
	ran := 0
	for _, p := range producers {
		switch p.Status {
		case "ok":
			ran++
		case "failed":
			failures = append(failures, gate.ProducerFailure{Name: p.Name, Reason: p.Reason, Allowed: p.AllowFailure})
		}
	}
	tags := scan.GetScanTags()
	opts := gate.Options{NewOnly: o.newOnly}
	var j *judgment
	if len(o.policies) > 0 || o.config != "" || o.context != "" {
		// Judged as the run's own gate would have: the config's gate
		// block and the policies, over the run's producers.
		cfg, cfgPath, err := loadConfig(o.config, o.source)
		if err != nil {
			return usageError(env, err)
		}
		if opts.FailOn, opts.Teams, err = gateThresholds(cfg.Gate, o); err != nil {
			return usageError(env, err)
		}
		opts.NewOnly = o.newOnly || cfg.Gate.NewOnly
		tags = withEvent(tags, o.context)
		j, err = judge(ctx, env, judgeInput{cfg: cfg, cfgPath: cfgPath, paths: o.policies, source: o.source, tags: tags,
			scanID: scan.GetScanUuid(), now: started, producers: producers, results: results})
		if err != nil {
			fmt.Fprintf(env.Stderr, "dracon: %v\n", err)
			return gate.ExitError
		}
		opts.Policy, opts.PolicyErrors, opts.Ran, opts.RequireRun = j.decision, j.errs, ran, true
		fmt.Fprintf(env.Stdout, "event: %s; %s\n", j.run.Context.Event, policiesLine(j))
	} else {
		opts.FailOn, _ = gate.ParseSeverity(o.failOn)
	}
	v := gate.Evaluate(results, failures, opts)
	printVerdict(env.Stdout, v, o.listedIn())
	if o.summary != "" {
		s := gateSummary(v, j, results, producers, scan.GetScanUuid(), scan.GetScanStartTime().AsTime(), tags)
		if err := writeSummary(o.summary, s, v.ExitCode, nil); err != nil {
			fmt.Fprintf(env.Stderr, "dracon: %v\n", err)
			return gate.ExitError
		}
	}
	return v.ExitCode
}

// releaseGate judges a commit on what the findings store knows of it.
func releaseGate(ctx context.Context, env Env, o gateOptions) int {
	started := time.Now()
	cfg, cfgPath, err := loadConfig(o.config, o.source)
	if err != nil {
		return usageError(env, err)
	}
	failOn := v1.Severity_SEVERITY_UNSPECIFIED // the policies decide; --fail-on adds a threshold
	if o.failOnSet {
		failOn, _ = gate.ParseSeverity(o.failOn)
	}
	commit, from, err := resolveCommit(ctx, env, o)
	if err != nil {
		fmt.Fprintf(env.Stderr, "dracon: %v\n", err)
		return gate.ExitError
	}
	runID := uuid.NewString()
	tags := releaseTags(env, o, commit)
	repo := tags["repository"]

	dsn := strings.TrimSpace(o.store)
	if dsn == "" {
		dsn = store.ChooseDSN(cfg.Enrichers.Dedup.Store, env.Getenv)
	}
	st, shown, err := storeOptions{dsn: dsn}.open(ctx, env, true)
	if err != nil {
		fmt.Fprintf(env.Stderr, "dracon: %v\n", err)
		return gate.ExitError
	}
	defer st.Close()
	fmt.Fprintf(env.Stdout, "release gate: %s at %s (%s)\n", repoLabel(repo), commit, from)

	r := &release{runID: runID, started: started, tags: tags, commit: commit, repo: repo}
	cf, err := st.AtCommit(ctx, repo, commit)
	switch {
	case errors.Is(err, store.ErrNotFound):
		// An unscanned release is not a pass.
		msg := fmt.Sprintf("no scan of %s in the findings store: run dracon run on it before releasing", commit)
		fmt.Fprintf(env.Stdout, "  store: %s: no scan of %s at this commit\n", shown, repoLabel(repo))
		r.verdict = gate.Verdict{Verdict: gate.Failed, ExitCode: gate.ExitError, Reasons: []string{msg}}
	case err != nil:
		fmt.Fprintf(env.Stderr, "dracon: findings store: %v\n", err)
		return gate.ExitError
	default:
		r.scans = cf.Scans
		newest := cf.Scans[0]
		fmt.Fprintf(env.Stdout, "  store: %s: %s of this commit, the newest %s at %s (%s)\n",
			shown, plural(len(cf.Scans), "scan"), newest.ID, stamp(newest.Started), dash(newest.Ref))
		scan := &v1.ScanInfo{ScanUuid: runID, ScanStartTime: timestamppb.New(started), ScanTags: tags}
		r.results, r.producers, r.left = commitResults(cf, scan)
		// What the checkout says of its findings, as a scan of it would:
		// suppressions kept as code, and the owners whose SLAs apply.
		var checkout []enrichers.Enricher
		if cfg.Enrichers.On("ignore") {
			checkout = append(checkout, ignore.Enricher{Source: o.source, Notice: func(m string) { fmt.Fprintln(env.Stderr, "dracon: "+m) }})
		}
		if cfg.Enrichers.On("owners") {
			checkout = append(checkout, owners.Enricher{Source: o.source})
		}
		// Known exploitation today, not at scan time: the store keeps a
		// finding's rule, which is its CVE for trivy's and grype's
		// dependency findings (a finding known only by a GHSA or GO id is
		// not matched: the store keeps no aliases).
		if cfg.Enrichers.On("exploits") {
			checkout = append(checkout, exploits.New(cfg.Enrichers.Exploits, func(m string) { fmt.Fprintln(env.Stderr, "dracon: "+m) }))
		}
		if err := enrichers.Run(ctx, scan, r.results, checkout...); err != nil {
			fmt.Fprintf(env.Stderr, "dracon: %v\n", err)
			return gate.ExitError
		}
		fmt.Fprintf(env.Stdout, "  judged: %s of %s%s%s\n", plural(r.open(), "open finding"), toolList(r.producers), r.suppressed(), r.leftOut())
		r.judgment, err = judge(ctx, env, judgeInput{cfg: cfg, cfgPath: cfgPath, paths: o.policies, source: o.source, tags: tags,
			scanID: runID, now: started, producers: r.producers, results: r.results})
		if err != nil {
			fmt.Fprintf(env.Stderr, "dracon: %v\n", err)
			return gate.ExitError
		}
		fmt.Fprintf(env.Stdout, "  event: %s; %s\n", r.judgment.run.Context.Event, policiesLine(r.judgment))
		r.verdict = gate.Evaluate(r.results, nil, gate.Options{FailOn: failOn, Policy: r.judgment.decision, PolicyErrors: r.judgment.errs,
			Ran: len(r.producers), RequireRun: false})
	}
	fmt.Fprintln(env.Stdout, r.title())
	printVerdict(env.Stdout, r.verdict, o.listedIn())

	exit := r.verdict.ExitCode
	outputs := map[string]string{}
	if o.checkRun {
		url, err := r.post(ctx, env)
		if err != nil {
			fmt.Fprintf(env.Stderr, "dracon: %v\n", err)
			exit = gate.ExitError
		} else {
			outputs["check_run"] = url
			fmt.Fprintf(env.Stderr, "dracon: posted the check run %s (%s) on %s: %s\n", githubcheck.DefaultName, r.conclusion(), commit, url)
		}
	}
	if o.summary != "" {
		s := gateSummary(r.verdict, r.judgment, r.results, r.producers, runID, started, tags)
		s.Source, _ = filepath.Abs(o.source)
		if err := writeSummary(o.summary, s, exit, outputs); err != nil {
			fmt.Fprintf(env.Stderr, "dracon: %v\n", err)
			return gate.ExitError
		}
	}
	return exit
}

var fullSHA = regexp.MustCompile(`^[0-9a-fA-F]{40}$`)

// resolveCommit is the commit to judge and where it came from: --commit,
// else --ref resolved in the checkout, else the CI's commit, else HEAD.
func resolveCommit(ctx context.Context, env Env, o gateOptions) (string, string, error) {
	switch {
	case o.commit != "":
		c := strings.TrimSpace(o.commit)
		if fullSHA.MatchString(c) {
			return strings.ToLower(c), "--commit", nil
		}
		full, err := gitdiff.Resolve(ctx, o.source, c)
		if err != nil {
			return "", "", fmt.Errorf("--commit %q is not a full commit SHA (40 hex digits), and %v", c, err)
		}
		return full, "--commit " + c, nil
	case o.ref != "":
		full, err := gitdiff.Resolve(ctx, o.source, o.ref)
		if err != nil {
			return "", "", fmt.Errorf("--ref %s: %v (fetch the tags: git fetch --tags, or actions/checkout with fetch-tags: true)", o.ref, err)
		}
		return full, "--ref " + o.ref, nil
	}
	for _, k := range []string{"GITHUB_SHA", "CI_COMMIT_SHA"} {
		if c := strings.TrimSpace(env.Getenv(k)); c != "" {
			if !fullSHA.MatchString(c) {
				return "", "", fmt.Errorf("$%s %q is not a full commit SHA", k, c)
			}
			return strings.ToLower(c), "$" + k, nil
		}
	}
	full, err := gitdiff.Resolve(ctx, o.source, "HEAD")
	if err != nil {
		return "", "", fmt.Errorf("no commit to judge: give --commit or --ref, or run in a git checkout (%v)", err)
	}
	return full, "HEAD", nil
}

// releaseTags are the scan tags the release gate decides with: the CI's
// (pipeline.NewScanInfo's), the commit, --repository, the event, and the
// tag's ref when --ref names one.
func releaseTags(env Env, o gateOptions, commit string) map[string]string {
	tags := withEvent(pipeline.NewScanInfo(o.source, time.Now(), env.Getenv).GetScanTags(), o.context)
	tags["commit"] = commit
	if r := strings.TrimSpace(o.repository); r != "" {
		tags["repository"] = r
	}
	switch {
	case strings.HasPrefix(o.ref, "refs/"):
		tags["ref"] = o.ref
	case o.ref != "":
		tags["ref"] = "refs/tags/" + o.ref
	case o.commit != "" && commit != strings.ToLower(firstOf(env.Getenv("GITHUB_SHA"), env.Getenv("CI_COMMIT_SHA"))):
		// Another commit than the CI's or the checkout's: their ref is not its.
		delete(tags, "ref")
	}
	// Links to findings: the code host the check run goes to.
	if u := strings.TrimSpace(env.Getenv("GITHUB_SERVER_URL")); u != "" {
		tags["server_url"] = u
	} else if o.checkRun {
		tags["server_url"] = serverOf(env.Getenv("GITHUB_API_URL"))
	}
	return tags
}

// serverOf is the web address of a GitHub API: github.com's, or an
// Enterprise Server's (https://HOST/api/v3 -> https://HOST).
func serverOf(apiURL string) string {
	u := strings.TrimSuffix(strings.TrimSpace(apiURL), "/")
	switch {
	case u == "" || strings.EqualFold(u, "https://api.github.com"):
		return "https://github.com"
	case strings.HasSuffix(u, "/api/v3"):
		return strings.TrimSuffix(u, "/api/v3")
	}
	return ""
}

// release is one judgment of a commit.
type release struct {
	runID     string
	started   time.Time
	tags      map[string]string
	commit    string
	repo      string
	scans     []store.Scan
	results   []*v1.EnrichedLaunchToolResponse
	producers []policy.Producer
	left      map[string]int // findings left out, by status
	judgment  *judgment
	verdict   gate.Verdict
}

// commitResults turns the commit's open findings into enriched results,
// one per tool the store saw at the commit (each a producer that ran),
// and counts the findings left out by their status at the commit.
func commitResults(cf *store.CommitFindings, scan *v1.ScanInfo) ([]*v1.EnrichedLaunchToolResponse, []policy.Producer, map[string]int) {
	byTool := map[string]*v1.EnrichedLaunchToolResponse{}
	left := map[string]int{}
	for _, f := range cf.Findings {
		r := byTool[f.Tool]
		if r == nil {
			r = &v1.EnrichedLaunchToolResponse{OriginalResults: &v1.LaunchToolResponse{ScanInfo: scan, ToolName: f.Tool, ScanTarget: scan.GetScanTags()["repository"]}}
			byTool[f.Tool] = r
		}
		if !f.Open() {
			left[string(f.CommitStatus)]++
			continue
		}
		is := commitIssue(f)
		r.OriginalResults.Issues = append(r.OriginalResults.Issues, is.RawIssue)
		r.Issues = append(r.Issues, is)
	}
	tools := make([]string, 0, len(byTool))
	for t := range byTool {
		tools = append(tools, t)
	}
	sort.Strings(tools)
	results := make([]*v1.EnrichedLaunchToolResponse, len(tools))
	producers := make([]policy.Producer, len(tools))
	for i, t := range tools {
		results[i] = byTool[t]
		producers[i] = policy.Producer{Name: t, Status: "ok", Findings: len(byTool[t].Issues)}
	}
	return results, producers, left
}

// commitIssue is a stored finding as the enrichers would have left it at
// the commit: its identity (id, signatures, hash), its history (first and
// last seen, times seen, status), where it was at the commit; never new.
func commitIssue(f store.CommitFinding) *v1.EnrichedIssue {
	raw := &v1.Issue{ToolName: f.Tool, RuleId: f.Rule, Type: f.Rule, Title: f.Title, Severity: storedSeverity(f.Severity), Target: f.Path}
	if f.Path != "" && !strings.Contains(f.Path, "://") && !strings.HasPrefix(f.Path, "pkg:") {
		// A file (a finding with no file has its target stored instead: a
		// URL or a package, which is no location).
		raw.Location = &v1.Location{Path: f.Path, StartLine: int32(f.StartLine), EndLine: int32(f.EndLine)}
		switch {
		case f.StartLine > 0 && f.EndLine > f.StartLine:
			raw.Target = fmt.Sprintf("%s:%d-%d", f.Path, f.StartLine, f.EndLine)
		case f.StartLine > 0:
			raw.Target = fmt.Sprintf("%s:%d", f.Path, f.StartLine)
		}
	}
	is := &v1.EnrichedIssue{
		RawIssue: raw, FindingId: f.ID, Count: f.TimesSeen,
		FirstSeen: timestamppb.New(f.FirstSeen), LastSeen: timestamppb.New(f.LastSeen),
		Status: string(store.StatusOpen), Signatures: map[string]string{},
	}
	if f.Reopened > 0 {
		is.Status = "reopened"
	}
	if len(f.Tools) > 1 {
		is.SeenBy = f.Tools
	}
	for _, s := range f.Signatures {
		// Several values of one algorithm (a renamed file's old name):
		// the first, as the store orders them, stands.
		if _, ok := is.Signatures[s.Algorithm]; !ok {
			is.Signatures[s.Algorithm] = s.Value
		}
	}
	if best := identity.Ordered(is); len(best) > 0 {
		is.Hash = best[0].Value
	} else if len(f.Signatures) > 0 {
		is.Hash = f.Signatures[0].Value
	}
	return is
}

// storedSeverity reads a stored severity: the enum's name as the dedup
// enricher stores it ("SEVERITY_HIGH"), or the bare level ("HIGH", "high")
// an import or an older writer left.
func storedSeverity(s string) v1.Severity {
	u := strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(s)), "SEVERITY_")
	if v, ok := v1.Severity_value["SEVERITY_"+u]; ok {
		return v1.Severity(v)
	}
	return v1.Severity_SEVERITY_UNSPECIFIED
}

func (r *release) open() int {
	n := 0
	for _, res := range r.results {
		n += len(res.GetIssues())
	}
	return n
}

// suppressed says how many of the open findings the checkout suppresses
// (.dracon-ignore.yaml, dracon:ignore comments): judged as suppressed.
func (r *release) suppressed() string {
	n := 0
	for _, res := range r.results {
		for _, is := range res.GetIssues() {
			if is.GetSuppressed() {
				n++
			}
		}
	}
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(", %d suppressed in the checkout", n)
}

func (r *release) leftOut() string {
	if len(r.left) == 0 {
		return ""
	}
	var parts []string
	n := 0
	for _, s := range store.Statuses {
		if c := r.left[string(s)]; c > 0 {
			n += c
			what := string(s)
			if s == store.StatusFixed {
				what = "fixed at this commit"
			}
			parts = append(parts, fmt.Sprintf("%d %s", c, what))
		}
	}
	return fmt.Sprintf(" (left out: %d triaged or fixed: %s)", n, strings.Join(parts, ", "))
}

func (r *release) conclusion() string {
	if r.verdict.Verdict == gate.Passed {
		return githubcheck.Success
	}
	return githubcheck.Failure
}

// title is the verdict in one line: the check run's title.
func (r *release) title() string {
	short := r.commit[:min(12, len(r.commit))]
	if ref := strings.TrimPrefix(r.tags["ref"], "refs/tags/"); ref != r.tags["ref"] {
		short = ref + " (" + short + ")"
	}
	if r.verdict.Verdict == gate.Passed {
		return fmt.Sprintf("Release gate passed: %s, %s, none blocks the release", short, plural(r.open(), "open finding"))
	}
	if r.judgment == nil {
		return fmt.Sprintf("Release gate failed: %s has no scan in the findings store", short)
	}
	return fmt.Sprintf("Release gate failed: %s, %s (%s)", short, plural(len(r.verdict.Reasons), "reason"), plural(r.open(), "open finding"))
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// post sends the verdict to GitHub as a check run on the commit.
func (r *release) post(ctx context.Context, env Env) (string, error) {
	owner, name, ok := strings.Cut(r.repo, "/")
	if !ok || r.repo == "" {
		return "", fmt.Errorf("--check-run needs the GitHub repository: --repository owner/name, or $GITHUB_REPOSITORY (got %q)", r.repo)
	}
	c, err := githubcheck.NewClient(env.Getenv("GITHUB_TOKEN"), env.Getenv("GITHUB_API_URL"))
	if err != nil {
		return "", err
	}
	run := githubcheck.Run{
		Owner: owner, Repo: name, HeadSHA: r.commit, Name: githubcheck.DefaultName,
		Conclusion: r.conclusion(), Title: r.title(), Summary: r.markdownSummary(), Text: r.markdownTable(),
		ExternalID: r.runID, StartedAt: r.started,
	}
	if id, repo := env.Getenv("GITHUB_RUN_ID"), env.Getenv("GITHUB_REPOSITORY"); id != "" && repo != "" {
		server := strings.TrimSuffix(env.Getenv("GITHUB_SERVER_URL"), "/")
		if server == "" {
			server = "https://github.com"
		}
		run.DetailsURL = server + "/" + repo + "/actions/runs/" + id
	}
	_, url, err := githubcheck.Post(ctx, c, run)
	return url, err
}

// markdownSummary is the check run's summary: the verdict, what was
// judged, and each reason with its findings' links.
func (r *release) markdownSummary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "## %s\n\n", r.title())
	fmt.Fprintf(&b, "`%s` at `%s`", repoLabel(r.repo), r.commit)
	if ref := r.tags["ref"]; ref != "" {
		fmt.Fprintf(&b, " (%s)", md(ref))
	}
	if r.judgment == nil {
		fmt.Fprintf(&b, ": the findings store has no scan of this commit. An unscanned release is not a pass: run `dracon run` on it (the branch's scan of this commit, with the same store), then gate again.\n")
		return b.String()
	}
	fmt.Fprintf(&b, ", judged on what the findings store knows of it now: %s from %s of this commit%s.\n\n",
		plural(r.open(), "open finding"), plural(len(r.scans), "scan"), md(r.leftOut()))
	var pk []string
	for _, l := range r.judgment.decision.Policies {
		pk = append(pk, "`"+l.Package+"`")
	}
	fmt.Fprintf(&b, "Event `%s`; policies (%s): %s.\n\n", r.judgment.run.Context.Event, md(r.judgment.policy.Revision), strings.Join(pk, ", "))
	d := r.judgment.decision
	if r.verdict.Verdict == gate.Passed {
		fmt.Fprintf(&b, "### Why it passed\n\nNo policy denies a release of this commit with its %s.\n", plural(r.open(), "open finding"))
	} else {
		b.WriteString("### Why it failed\n\n")
		denied := map[string]bool{}
		for _, v := range d.Deny {
			denied[gate.Describe(v)] = true
			fmt.Fprintf(&b, "- %s (`%s`)\n", md(v.Message), strings.TrimPrefix(v.Rule, "data."))
			for _, f := range v.Findings {
				fmt.Fprintf(&b, "  - %s\n", findingLink(f))
			}
		}
		for _, reason := range r.verdict.Reasons {
			if !denied[reason] {
				fmt.Fprintf(&b, "- %s\n", md(reason))
			}
		}
	}
	if len(r.verdict.Warnings) > 0 {
		b.WriteString("\n### Warnings\n\n")
		for _, w := range r.verdict.Warnings {
			fmt.Fprintf(&b, "- %s\n", md(w))
		}
	}
	return b.String()
}

func findingLink(f policy.FindingRef) string {
	what := strings.TrimSpace(fmt.Sprintf("%s %s %s", strings.ToLower(f.Severity), f.Tool, f.Rule))
	where := f.Path
	if where != "" && f.Line > 0 {
		where = fmt.Sprintf("%s:%d", f.Path, f.Line)
	}
	s := md(what)
	switch {
	case f.Link != "" && where != "":
		s += " in [" + md(where) + "](" + f.Link + ")"
	case f.Link != "":
		s += " [" + f.Link + "](" + f.Link + ")"
	case where != "":
		s += " in `" + where + "`"
	}
	return s + " (`" + f.ID + "`)"
}

// markdownTable is the check run's text: every open finding judged, the
// ones a policy denies first.
func (r *release) markdownTable() string {
	type row struct {
		blocks bool
		is     *v1.EnrichedIssue
	}
	denied := map[string]bool{}
	if r.judgment != nil {
		for _, v := range r.judgment.decision.Deny {
			for _, f := range v.Findings {
				denied[f.ID] = true
			}
		}
	}
	var rows []row
	for _, res := range r.results {
		for _, is := range res.GetIssues() {
			rows = append(rows, row{denied[policy.ID(is)], is})
		}
	}
	if len(rows) == 0 {
		return ""
	}
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.blocks != b.blocks {
			return a.blocks
		}
		if sa, sb := a.is.GetRawIssue().GetSeverity(), b.is.GetRawIssue().GetSeverity(); sa != sb {
			return sa > sb
		}
		return a.is.GetRawIssue().GetTarget() < b.is.GetRawIssue().GetTarget()
	})
	c := policy.Context{}
	if r.judgment != nil {
		c = r.judgment.run.Context
	}
	var b strings.Builder
	fmt.Fprintf(&b, "### The %d open findings at %s\n\n", len(rows), r.commit)
	b.WriteString("| blocks | severity | kind | tool | rule | location | first seen | age (days) | seen | id |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, x := range rows {
		raw := x.is.GetRawIssue()
		loc := raw.GetLocation()
		where := md(dash(raw.GetTarget()))
		if link := c.Link(loc.GetPath(), loc.GetStartLine(), loc.GetEndLine()); link != "" {
			where = "[" + where + "](" + link + ")"
		}
		age := "-"
		first := x.is.GetFirstSeen().AsTime()
		if x.is.GetFirstSeen() != nil && c.Now.After(first) {
			age = fmt.Sprint(int(c.Now.Sub(first).Hours() / 24))
		}
		blocks := ""
		if x.blocks {
			blocks = "**yes**"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %d | `%s` |\n", blocks, dash(severityName(raw.GetSeverity().String())),
			policy.Kind(x.is), md(raw.GetToolName()), md(dash(raw.GetRuleId())), where, day(first), age, x.is.GetCount(), policy.ID(x.is))
	}
	return b.String()
}

// md is s as one line of Markdown text in a table cell or a list item.
func md(s string) string {
	return strings.NewReplacer("|", `\|`, "\r", " ", "\n", " ").Replace(s)
}

// policiesLine names the policies that decided and where they were read.
func policiesLine(j *judgment) string {
	var pk []string
	for _, l := range j.decision.Policies {
		pk = append(pk, l.Package)
	}
	return fmt.Sprintf("policies (%s): %s", j.policy.Revision, strings.Join(pk, ", "))
}

func toolList(ps []policy.Producer) string {
	if len(ps) == 0 {
		return "no tool"
	}
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.Name
	}
	return strings.Join(names, ", ")
}

// listedIn says where the reasons and warnings a verdict does not print
// are.
func (o gateOptions) listedIn() string {
	if o.summary != "" {
		return o.summary + " lists every one"
	}
	return "--summary FILE writes every one"
}

// printVerdict writes the verdict, its reasons and its warnings (where:
// where the ones past maxListed are).
func printVerdict(w io.Writer, v gate.Verdict, where string) {
	fmt.Fprintf(w, "verdict: %s (exit %d)\n", v.Verdict, v.ExitCode)
	printListed(w, v.Reasons, v.Warnings, where)
}

// gateSummary is the summary.json of a gate's verdict.
func gateSummary(v gate.Verdict, j *judgment, results []*v1.EnrichedLaunchToolResponse, producers []policy.Producer,
	scanID string, started time.Time, tags map[string]string) *summary.Summary {
	s := &summary.Summary{
		SchemaVersion: summary.SchemaVersion, DraconVersion: version(),
		ScanID: scanID, StartedAt: started.UTC(), Tags: tags,
		Verdict: v.Verdict, Reasons: v.Reasons, ExitCode: v.ExitCode, Warnings: v.Warnings,
		Counts: summary.Count(results),
	}
	for _, p := range producers {
		s.Producers = append(s.Producers, summary.Producer{Name: p.Name, Status: p.Status, Reason: p.Reason, AllowFailure: p.AllowFailure, Findings: p.Findings})
	}
	if j != nil {
		s.Policy = summary.PolicyOf(j.policy.Revision, j.decision, j.errs)
	}
	return s
}

// writeSummary writes s to path, with the process's exit code and the
// outputs beside it.
func writeSummary(path string, s *summary.Summary, exit int, outputs map[string]string) error {
	s.FinishedAt, s.ExitCode = time.Now().UTC(), exit
	s.Outputs = map[string]string{"summary": path}
	maps.Copy(s.Outputs, outputs)
	return summary.Write(path, s)
}

// repoLabel names a repository in a message.
func repoLabel(repository string) string {
	if repository == "" {
		return "the local repository"
	}
	return repository
}

func firstOf(vals ...string) string {
	for _, v := range vals {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}
