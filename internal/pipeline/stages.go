package pipeline

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/draconsec/dracon/internal/consumers"
	"github.com/draconsec/dracon/internal/consumers/gitlab"
	conregistry "github.com/draconsec/dracon/internal/consumers/registry"
	"github.com/draconsec/dracon/internal/consumers/sarifout"
	"github.com/draconsec/dracon/internal/consumers/stdout"
	"github.com/draconsec/dracon/internal/enrichers/baseline"
	"github.com/draconsec/dracon/internal/gate"
	"github.com/draconsec/dracon/internal/policy"
	"github.com/draconsec/dracon/internal/produce"
	"github.com/draconsec/dracon/internal/secret"
	"github.com/draconsec/dracon/internal/store"
	"github.com/draconsec/dracon/internal/summary"
	"github.com/draconsec/dracon/internal/toolinstall"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// stages is the whole run, in order. Each stage is a small type with a
// name and a Run over the run's state; reading this list tells the run.
var stages = []stage{
	planStage{},     // the producers: named in the config, or auto-detected
	baselineStage{}, // what findings are new against; the change, for the diff filter
	policyStage{},   // the policies, read (from the target branch in a pull request) and compiled
	vendoredStage{}, // which files are the project's own
	produceStage{},  // the scanners, in parallel, and their reports parsed
	secretsStage{},  // secret values hidden in every tool's findings and files
	launchStage{},   // one LaunchToolResponse per producer; the summary's producer lines
	enrichStage{},   // the enricher chain (internal/enrichers/registry), policies last
	consumeStage{},  // SARIF, GitLab's reports, the table
	gateStage{},     // the verdict
	publishStage{},  // Jira, Slack, Elasticsearch, ... (internal/consumers/registry); a failed one fails the gate
	summaryStage{},  // summary.json
}

// stage is one step of the run.
type stage interface {
	String() string
	Run(ctx context.Context, r *runState) error
}

// runState is the state a run hands from stage to stage.
type runState struct {
	o        Options
	start    time.Time
	src      string // the source folder, absolute
	plan     []planned
	notes    []string
	scan     *v1.ScanInfo
	runDir   string
	pols     []vendorPolicy
	tree     *vendoredTree
	outcomes []produce.Outcome
	reports  []*vendorReport
	// given are the producers' own summary lines, read with their
	// results in a run over produced files (Options.Produced).
	given    []*summary.Producer
	launches []*v1.LaunchToolResponse
	failures []gate.ProducerFailure
	results  []*v1.EnrichedLaunchToolResponse
	// enrichedWritten waits for the enriched .pb files, written while
	// the consumers run, and says whether they were.
	enrichedWritten func() error
	fixed           []store.Finding // findings this scan no longer reports
	// baselineCfg is what findings are new against; baseline what the
	// comparison found (nil when the baseline enricher is off).
	baselineCfg *baseline.Config
	baseline    *baseline.Result
	// policy is the run's policies; decision what they decided.
	policy     *Policy
	decision   *policy.Decision
	policyErrs []error
	sum        *summary.Summary
	// masker masks every credential a consumer reads in the run's log
	// (o.Log writes through it) and in what summary.json reports.
	masker *secret.Masker
}

// Run runs the whole pipeline. The error is for the run itself breaking
// (bad source folder, store unreachable); producer failures are reported
// in the summary and decided by the gate.
func Run(ctx context.Context, o Options) (*Result, error) {
	o.defaults()
	masker := secret.NewMasker(o.Log, announceMask(o))
	o.Log = masker
	r := &runState{o: o, start: time.Now(), masker: masker}
	for _, s := range stages {
		// The stage's name labels its CPU samples (and its goroutines'),
		// so a profile of a whole run splits by stage.
		var err error
		pprof.Do(ctx, pprof.Labels("stage", s.String()), func(ctx context.Context) { err = s.Run(ctx, r) })
		if err != nil {
			return nil, err
		}
	}
	return &Result{Summary: r.sum, Results: r.results}, nil
}

type planStage struct{}

func (planStage) String() string { return "plan" }

func (planStage) Run(_ context.Context, r *runState) error {
	src, err := filepath.Abs(r.o.Source)
	if err != nil {
		return err
	}
	if st, err := os.Stat(src); err != nil || !st.IsDir() {
		return fmt.Errorf("source %s is not a folder", r.o.Source)
	}
	r.src = src
	// Deciding on results produced elsewhere, the results are the plan
	// when detection finds nothing: Dracon's own producer tasks may have
	// scanned what none of ours would.
	if r.plan, r.notes, err = Plan(r.o.Config, src); err != nil && (r.o.Produced == "" || !errors.Is(err, errNoneApplies)) {
		return err
	}
	if _, err := ScanFromEnv(r.o.Getenv); err != nil {
		return err
	}
	r.scan = NewScanInfo(src, r.start, r.o.Getenv)
	// A scan started elsewhere (the CI job that created a PipelineRun)
	// started then: its duration counts from there.
	r.start = r.scan.ScanStartTime.AsTime()
	r.runDir = filepath.Join(r.o.RunRoot, r.scan.ScanUuid)
	if err := os.MkdirAll(r.runDir, 0o755); err != nil {
		return err
	}
	with := names(r.plan)
	if with == "" {
		with = "the results in " + r.o.Produced
	}
	fmt.Fprintf(r.o.Log, "dracon: scan %s of %s with %s\n", r.scan.ScanUuid, r.o.Source, with)
	for _, n := range r.notes {
		fmt.Fprintln(r.o.Log, n)
	}
	return nil
}

type vendoredStage struct{}

func (vendoredStage) String() string { return "vendored" }

func (vendoredStage) Run(_ context.Context, r *runState) error {
	if r.o.Produced != "" {
		return nil // the producers' own runs left vendored files out
	}
	cl, err := newClassifier(r.o.Config)
	if err != nil {
		return err
	}
	r.pols = make([]vendorPolicy, len(r.plan))
	for i, pl := range r.plan {
		r.pols[i] = policyFor(r.o.Config, pl)
	}
	r.tree, err = scanVendored(r.src, cl, r.plan, r.pols)
	return err
}

type produceStage struct{}

func (produceStage) String() string { return "produce" }

func (produceStage) Run(ctx context.Context, r *runState) error {
	var err error
	if r.o.Produced != "" {
		r.outcomes, r.reports, r.given, err = loadProduced(r.o.Produced, r)
		return err
	}
	r.outcomes, r.reports, err = produceAll(ctx, r.o, r.plan, r.pols, r.tree, r.src, r.runDir)
	if err != nil {
		return err
	}
	if ctx.Err() != nil {
		return fmt.Errorf("run cancelled: %w", ctx.Err())
	}
	return nil
}

type secretsStage struct{}

func (secretsStage) String() string { return "secrets" }

func (secretsStage) Run(_ context.Context, r *runState) error { return hideSecrets(r.outcomes) }

type launchStage struct{}

func (launchStage) String() string { return "launch" }

func (launchStage) Run(ctx context.Context, r *runState) error {
	r.sum = &summary.Summary{
		SchemaVersion: summary.SchemaVersion,
		DraconVersion: r.o.Version,
		ScanID:        r.scan.ScanUuid,
		StartedAt:     r.start.UTC(),
		Source:        r.o.Source,
		Tags:          r.scan.ScanTags,
		RunDir:        r.runDir,
		Outputs:       map[string]string{},
	}
	for i, out := range r.outcomes {
		pl := r.plan[i]
		ps := summary.Producer{
			Name: out.Producer, Status: string(out.Status), Reason: out.Reason,
			AllowFailure:    pl.cfg != nil && pl.cfg.AllowFailure,
			DurationSeconds: out.Duration.Seconds(), Report: out.Report, Stderr: out.Stderr,
			Vendored: r.reports[i].summary(),
		}
		if g := r.given; g != nil && g[i] != nil {
			// Written by the producer's own run, which knew.
			ps.Vendored = g[i].Vendored
		}
		if out.Status == produce.Failed {
			r.failures = append(r.failures, gate.ProducerFailure{Name: out.Producer, Reason: out.Reason, Allowed: ps.AllowFailure})
		}
		if out.Status == produce.OK {
			lr := launch(r.scan, out, r.src)
			if (lr.ToolVersion == "" || lr.ToolVersion == "dev") && pl.p.Tool != nil {
				// Go-built scanners report "dev"; their binary knows better.
				lr.ToolVersion = toolinstall.Inspect(ctx, pl.p).Version
			}
			ps.Findings, ps.ToolVersion = len(lr.Issues), lr.ToolVersion
			r.launches = append(r.launches, lr)
			if err := WriteProto(filepath.Join(r.runDir, out.Producer+".launch.pb"), lr); err != nil {
				return err
			}
		}
		r.sum.Producers = append(r.sum.Producers, ps)
	}
	return nil
}

type enrichStage struct{}

func (enrichStage) String() string { return "enrich" }

func (enrichStage) Run(ctx context.Context, r *runState) error {
	var err error
	eo := EnrichOptions{Config: r.o.Config, Source: r.src, Log: r.o.Log, Getenv: r.o.Getenv,
		Fixed: func(f []store.Finding) { r.fixed = append(r.fixed, f...) }, Baseline: r.baselineCfg}
	if r.policy != nil {
		eo.Policy = r.policy.Set
		for _, p := range r.sum.Producers {
			eo.Producers = append(eo.Producers, policy.Producer{Name: p.Name, Status: p.Status, Reason: p.Reason, AllowFailure: p.AllowFailure, Findings: p.Findings})
		}
		eo.Decided = func(d *policy.Decision, errs []error) { r.decision, r.policyErrs = d, errs }
	}
	r.results, err = Enrich(ctx, eo, r.scan, r.launches)
	if err != nil {
		return err
	}
	if n := len(r.fixed); n > 0 {
		fmt.Fprintf(r.o.Log, "dracon: %d findings the store knew are gone from this scan: marked fixed\n", n)
	}
	// What the enrichers built (the store's rows, the policies' input) is
	// garbage now, and the last collection saw it live: without one more
	// here, the heap may grow to twice that before the next, while the
	// consumers run (100,000 findings: 1 GB peak instead of 0.9).
	debug.FreeOSMemory()
	// The enriched files (Dracon's layout, for its consumers) are written
	// on another CPU while the consumers read the same results: neither
	// changes them. The consume stage waits for them.
	done := make(chan error, 1)
	go func() {
		var err error
		for _, res := range r.results {
			if err = WriteProto(filepath.Join(r.runDir, res.OriginalResults.ToolName+".enriched.pb"), res); err != nil {
				break
			}
		}
		done <- err
	}()
	r.enrichedWritten = func() error { return <-done }
	return nil
}

type consumeStage struct{}

func (consumeStage) String() string { return "consume" }

func (consumeStage) Run(ctx context.Context, r *runState) error {
	c := r.o.Config.Consumers
	var cons []consumers.Consumer
	if on(c.SARIF.Enabled) {
		path := c.SARIF.Path
		if !filepath.IsAbs(path) {
			path = filepath.Join(r.o.Out, path)
		}
		var tools []string
		for _, p := range r.sum.Producers {
			if p.Status == string(produce.OK) {
				tools = append(tools, p.Name)
			}
		}
		// GitHub's limits where the file is for GitHub (a run in GitHub
		// Actions): what code scanning would refuse is dropped, lowest
		// severity first, and said. Elsewhere the file keeps everything.
		limits := &sarifout.Limits{}
		if r.scan.GetScanTags()["ci"] == "github" {
			limits = nil
		}
		cons = append(cons, sarifout.Consumer{Path: path, Version: r.o.Version, Source: r.src, Tools: tools, Limits: limits,
			Reported: func(rep sarifout.Report) {
				for _, l := range rep.Lines() {
					fmt.Fprintln(r.o.Log, "dracon: "+l)
				}
				r.sum.SARIF = summary.SARIFOf(rep.Results, rep.Kept, rep.GzipBytes, rep.DroppedBySeverity(), append(rep.Warnings, rep.Errors...))
			}})
		r.sum.Outputs["sarif"] = path
	}
	if gl := c.GitLab; gl.Enabled != nil && *gl.Enabled || gl.Enabled == nil && r.scan.GetScanTags()["ci"] == "gitlab" {
		dir := filepath.Join(r.o.Out, gl.Dir)
		cons = append(cons, gitlab.Consumer{Dir: dir, Reports: gl.Reports, Version: r.o.Version, Producers: r.gitlabProducers(),
			Commit: r.scan.GetScanTags()["commit"], Written: func(ws []gitlab.Written) {
				for _, w := range ws {
					r.sum.Outputs["gitlab_"+w.Report] = w.Path
				}
			}})
	}
	cons = append(cons, stdout.Consumer{W: r.o.Stdout, Format: c.Stdout.Format})
	for _, con := range cons {
		if err := con.Consume(ctx, r.scan, r.results); err != nil {
			// A consumer that fails must not hide the verdict: report it
			// and fail closed.
			r.failures = append(r.failures, gate.ProducerFailure{Stage: "consumer", Name: con.String(), Reason: err.Error()})
			fmt.Fprintf(r.o.Log, "dracon: consumer %s failed: %v\n", con, err)
		}
	}
	// Later stages may change the results (the gate, the publishers):
	// the enriched files are written first.
	if r.enrichedWritten != nil {
		if err := r.enrichedWritten(); err != nil {
			return fmt.Errorf("writing the enriched results: %w", err)
		}
	}
	return nil
}

// count puts the findings' counts and the baseline in the summary.
func (r *runState) count() {
	r.sum.Counts = summary.Count(r.results)
	r.sum.Counts.Fixed = len(r.fixed)
	if r.sum.Baseline = baselineSummary(r.baseline); r.baseline != nil && r.baseline.Kind != baseline.KindPrevious {
		r.sum.Counts.Fixed = r.baseline.Fixed // what the change fixes, against its baseline
	}
}

type publishStage struct{}

func (publishStage) String() string { return "publish" }

func (publishStage) Run(ctx context.Context, r *runState) error {
	env := consumers.Env{Getenv: r.o.Getenv, Source: r.src, Log: r.o.Log, Masker: r.masker, Version: r.o.Version, Out: r.o.Out,
		PolicyExceptions: r.o.Config.Policy.Exceptions}
	pubs, broken, err := conregistry.Build(&r.o.Config.Consumers, env, nil)
	if err != nil {
		return err
	}
	if len(pubs)+len(broken) == 0 {
		return nil
	}
	// The scan is over when consumers run: what they show of it (the
	// report's "finished") is its end; summary.json's is set again, later.
	r.sum.FinishedAt = time.Now().UTC()
	r.count()
	run := &consumers.Run{Scan: r.scan, Results: r.results, Summary: r.sum, Fixed: fixedOf(r.fixed)}
	outcomes := append(broken, consumers.PublishAll(ctx, run, pubs, r.masker)...)
	r.sum.Consumers = outcomes
	failed := false
	for _, o := range outcomes {
		fmt.Fprintln(r.o.Log, "dracon: "+consumers.Describe(o))
		if o.Status == "failed" {
			failed = true
			r.failures = append(r.failures, gate.ProducerFailure{Stage: "consumer", Name: o.Name, Allowed: o.AllowFailure,
				Reason: strings.Join(o.Errors, "; ")})
		}
	}
	if failed {
		return r.decide() // a finding no one was told of fails closed
	}
	return nil
}

// fixedOf is the store's fixed findings as consumers see them.
func fixedOf(fs []store.Finding) []consumers.Fixed {
	out := make([]consumers.Fixed, len(fs))
	for i, f := range fs {
		out[i] = consumers.Fixed{ID: f.ID, Tool: f.Tool, Rule: f.Rule, Path: f.Path, Title: f.Title, Severity: f.Severity}
	}
	return out
}

// announceMask tells GitHub Actions' runner of each credential read, so
// it masks it in the job's log even where Dracon's own masker is not in
// the way (a scanner's output, say). Elsewhere nothing is announced.
func announceMask(o Options) func(string) {
	if o.Getenv("GITHUB_ACTIONS") != "true" {
		return nil
	}
	return func(v string) { fmt.Fprintf(o.Stdout, "::add-mask::%s\n", v) }
}

// gitlabProducers are the producers' outcomes as GitLab's reports name
// them (scan.scanner, status, messages).
func (r *runState) gitlabProducers() []gitlab.ProducerStatus {
	out := make([]gitlab.ProducerStatus, len(r.outcomes))
	for i, o := range r.outcomes {
		version := ""
		for _, p := range r.sum.Producers {
			if p.Name == o.Producer {
				version = p.ToolVersion
			}
		}
		// Producers run in parallel from the run's start; each one's own
		// start is not kept, so its window is the run's start plus its
		// duration.
		out[i] = gitlab.ProducerStatus{Name: o.Producer, Kind: string(r.plan[i].p.Kind), Status: string(o.Status),
			Version: version, Start: r.start, End: r.start.Add(o.Duration), Reason: o.Reason}
	}
	return out
}

type gateStage struct{}

func (gateStage) String() string { return "gate" }

func (gateStage) Run(_ context.Context, r *runState) error { return r.decide() }

// decide sets the verdict from the findings, the policies' decision and
// every failure so far.
func (r *runState) decide() error {
	failOn, err := gate.ParseSeverity(r.o.Config.Gate.FailOn)
	if err != nil {
		return err
	}
	teams := map[string]v1.Severity{}
	for name, t := range r.o.Config.Gate.Teams {
		if teams[name], err = gate.ParseSeverity(t.FailOn); err != nil {
			return fmt.Errorf("gate.teams.%s: %w", name, err)
		}
	}
	ran := 0
	for _, p := range r.sum.Producers {
		if p.Status == string(produce.OK) {
			ran++
		}
	}
	v := gate.Evaluate(r.results, r.failures, gate.Options{FailOn: failOn, NewOnly: r.o.Config.Gate.NewOnly, Teams: teams,
		Policy: r.decision, PolicyErrors: r.policyErrs, Ran: ran, RequireRun: true})
	r.sum.Verdict, r.sum.Reasons, r.sum.ExitCode, r.sum.Warnings = v.Verdict, v.Reasons, v.ExitCode, v.Warnings
	if r.policy != nil {
		r.sum.Policy = summary.PolicyOf(r.policy.Revision, r.decision, r.policyErrs)
	}
	return nil
}

type summaryStage struct{}

func (summaryStage) String() string { return "summary" }

func (summaryStage) Run(_ context.Context, r *runState) error {
	r.count()
	r.sum.FinishedAt = time.Now().UTC()
	path := filepath.Join(r.o.Out, "summary.json")
	r.sum.Outputs["summary"] = path
	if err := summary.Write(path, r.sum); err != nil {
		return err
	}
	return summary.Write(filepath.Join(r.runDir, "summary.json"), r.sum)
}
