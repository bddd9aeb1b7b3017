// Package pipeline plans and runs Dracon's stages: produce (in parallel),
// parse, enrich, consume, gate. Each stage also runs alone from the CLI,
// reading and writing the protobuf files this package writes.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/draconsec/dracon/internal/config"
	"github.com/draconsec/dracon/internal/enrichers"
	"github.com/draconsec/dracon/internal/enrichers/baseline"
	enricherreg "github.com/draconsec/dracon/internal/enrichers/registry"
	"github.com/draconsec/dracon/internal/policy"
	"github.com/draconsec/dracon/internal/produce"
	"github.com/draconsec/dracon/internal/producers"
	"github.com/draconsec/dracon/internal/producers/registry"
	"github.com/draconsec/dracon/internal/runner"
	"github.com/draconsec/dracon/internal/store"
	"github.com/draconsec/dracon/internal/summary"
	"github.com/draconsec/dracon/internal/vendored"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
	"github.com/google/uuid"
)

// Options for a whole run.
type Options struct {
	Config      *config.Config
	Source      string // folder to scan
	Out         string // where dracon.sarif and summary.json go
	RunRoot     string // runs go to RunRoot/<scan-id>; default .dracon/runs
	Concurrency int    // 0: config, then number of CPUs
	Log         io.Writer
	Stdout      io.Writer
	Runner      runner.Runner
	Version     string
	Getenv      func(string) string
	// ConfigPath is the config file Config was read from ("" for none):
	// in a pull request its policy and gate blocks are read again from
	// the target branch.
	ConfigPath string
	// Policies are --policy paths; they replace the config's.
	Policies []string
	// Produced, when set, is a folder of producers' results written
	// elsewhere (`dracon produce`, one Tekton task per producer, or
	// Dracon's own producer tasks): the run reads them instead of running
	// scanners, and does the rest as a local run does.
	Produced string
}

// Result of a run.
type Result struct {
	Summary *summary.Summary
	Results []*v1.EnrichedLaunchToolResponse
}

// planned is one producer to run with its config.
type planned struct {
	p   *producers.Producer
	cfg *config.Producer
}

func (o *Options) defaults() {
	if o.Config == nil {
		o.Config, _ = config.Parse(nil, config.Names{})
	}
	if o.Source == "" {
		o.Source = "."
	}
	if o.Out == "" {
		o.Out = "."
	}
	if o.RunRoot == "" {
		o.RunRoot = filepath.Join(".dracon", "runs")
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.Stdout == nil {
		o.Stdout = io.Discard
	}
	if o.Runner == nil {
		// Local runs the jobs that carry no container; the container
		// runner finds its engine when a job first needs one.
		o.Runner = runner.Container{Engine: o.Config.Container.Engine}
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Concurrency <= 0 {
		o.Concurrency = o.Config.Concurrency
	}
	if o.Concurrency <= 0 {
		o.Concurrency = runtime.NumCPU()
	}
}

// errNoneApplies: auto-detection found nothing to run.
var errNoneApplies = errors.New("nothing to scan")

// Plan picks the producers: those the config names (enabled), or, with
// none named, those auto-detection finds in the source tree. Its notes
// say what auto-detection left out, for the log.
func Plan(c *config.Config, src string) ([]planned, []string, error) {
	var plan []planned
	if c != nil && len(c.Producers) > 0 {
		for _, p := range registry.All() {
			pc, ok := c.Producers[p.Name]
			if ok && pc.On() {
				plan = append(plan, planned{p: p, cfg: pc})
			}
		}
		if len(plan) == 0 {
			return nil, nil, errors.New("every configured producer is disabled: nothing to run")
		}
		return plan, nil, nil
	}
	// Vendored and generated files do not make a producer apply when its
	// findings in them would be dropped.
	var own *vendored.Classifier
	if c == nil || !c.IncludeVendored {
		var err error
		if own, err = newClassifier(c); err != nil {
			return nil, nil, err
		}
	}
	d, err := detect(src, registry.All(), own)
	if err != nil {
		return nil, nil, err
	}
	for _, p := range d.found {
		plan = append(plan, planned{p: p})
	}
	var notes []string
	for _, p := range registry.All() {
		if files := d.onlyVendored[p.Name]; len(files) > 0 {
			notes = append(notes, fmt.Sprintf("dracon: auto-detection left out %s: the only files it would scan are vendored or generated (%s); set include_vendored: true to scan them",
				p.Name, describe(files, d.vendoredCount[p.Name])))
		}
	}
	if len(plan) == 0 {
		return nil, notes, fmt.Errorf("no producer applies to %s: no file matches any producer's patterns (name producers in dracon.yaml): %w", src, errNoneApplies)
	}
	return plan, notes, nil
}

func names(plan []planned) string {
	var n []string
	for _, p := range plan {
		n = append(n, p.p.Name)
	}
	return strings.Join(n, ", ")
}

// produceAll runs the producers in parallel, at most o.Concurrency at once,
// and drops each one's findings in vendored and generated files when its
// policy says so, with a report of what it left out.
func produceAll(ctx context.Context, o Options, plan []planned, pols []vendorPolicy, tree *vendoredTree, src, runDir string) ([]produce.Outcome, []*vendorReport, error) {
	prog := newProgress(o.Log)
	defer prog.close()
	outcomes := make([]produce.Outcome, len(plan))
	reports := make([]*vendorReport, len(plan))
	errs := make([]error, len(plan))
	sem := make(chan struct{}, o.Concurrency)
	var wg sync.WaitGroup
	for i, pl := range plan {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				outcomes[i] = produce.Outcome{Producer: pl.p.Name, Status: produce.Failed, Reason: "cancelled"}
				return
			}
			defer func() { <-sem }()
			prog.start(pl.p.Name)
			var exclude []string
			if pols[i].skip && pols[i].tree {
				exclude = tree.exclude(pl.p.Detect, len(o.Config.Vendored.Scan) == 0)
			}
			outcomes[i] = runOne(ctx, o.Runner, containerSpec(o.Config, pl), o.Getenv, pl, src, runDir, exclude)
			if pols[i].skip && outcomes[i].Status == produce.OK {
				reports[i], errs[i] = filterVendored(&outcomes[i], pl, pols[i], tree, runDir)
			}
			prog.finish(outcomes[i])
			if line := reports[i].logLine(pl.p.Name); line != "" {
				prog.println("%s", line)
			}
		}()
	}
	wg.Wait()
	return outcomes, reports, errors.Join(errs...)
}

// containerSpec is how the producer's container runs, when its runner is
// container (nil otherwise): its image (the producer's own setting, the
// container block's one image, else the catalogue's), limits and pull
// policy.
func containerSpec(c *config.Config, pl planned) *runner.ContainerSpec {
	if c == nil || c.RunnerOf(pl.cfg) != "container" {
		return nil
	}
	spec := &runner.ContainerSpec{Image: c.Container.Image, Pull: c.Container.Pull, CPUs: c.Container.CPUs, Memory: c.Container.Memory}
	if pc := pl.cfg; pc != nil {
		spec.Image = firstSet(pc.Image, spec.Image)
		spec.CPUs = firstSet(pc.CPUs, spec.CPUs)
		spec.Memory = firstSet(pc.Memory, spec.Memory)
	}
	return spec
}

func firstSet(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

func runOne(ctx context.Context, r runner.Runner, spec *runner.ContainerSpec, getenv func(string) string, pl planned, src, runDir string, exclude []string) produce.Outcome {
	opts := produce.Options{Source: src, RunDir: runDir, Exclude: exclude, Container: spec, Getenv: getenv,
		Parse: func(b []byte) (*producers.Parsed, error) { return registry.Parse(pl.p, b) }}
	if pl.cfg != nil {
		opts.Args = pl.cfg.Args
		opts.Timeout = time.Duration(pl.cfg.Timeout)
	}
	if pl.cfg == nil || len(pl.cfg.Paths) <= 1 {
		if pl.cfg != nil && len(pl.cfg.Paths) == 1 {
			opts.Report = abs(src, pl.cfg.Paths[0])
		}
		return produce.Run(ctx, r, pl.p, opts)
	}
	// Several report files to import: one outcome, all issues.
	merged := produce.Outcome{Producer: pl.p.Name, Status: produce.OK, Parsed: &producers.Parsed{}}
	for _, path := range pl.cfg.Paths {
		opts.Report = abs(src, path)
		out := produce.Run(ctx, r, pl.p, opts)
		merged.Duration += out.Duration
		if out.Status != produce.OK {
			return out
		}
		merged.Report = strings.TrimPrefix(merged.Report+", "+out.Report, ", ")
		merged.Parsed.Issues = append(merged.Parsed.Issues, out.Parsed.Issues...)
		if merged.Parsed.ToolVersion == "" {
			merged.Parsed.ToolVersion = out.Parsed.ToolVersion
		}
	}
	return merged
}

// minSecret is the shortest value hidden across tools: a secret scanner's
// two-character match must not garble every other tool's text.
const minSecret = 6

// hideSecrets hides every secret value a secret scanner found in every
// producer's findings, failure reasons and raw files, before anything is
// written or published: the same value may be in a Dockerfile line trivy
// quotes, a key kics writes, or another tool's report.
func hideSecrets(outcomes []produce.Outcome) error {
	var secrets []string
	for _, out := range outcomes {
		if out.Parsed == nil {
			continue
		}
		for _, s := range out.Parsed.Secrets {
			if len(s) >= minSecret {
				secrets = append(secrets, s)
			}
		}
	}
	r := producers.NewRedactor(secrets)
	if r.Empty() {
		return nil
	}
	for i := range outcomes {
		out := &outcomes[i]
		out.Reason = r.String(out.Reason)
		if out.Parsed != nil {
			for _, is := range out.Parsed.Issues {
				r.Issue(is)
			}
		}
		if err := produce.ScrubFiles(r, out.Report, out.Stderr); err != nil {
			return fmt.Errorf("hiding secrets in %s's files: %w", out.Producer, err)
		}
	}
	return nil
}

func abs(src, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(src, p)
}

// launch builds a producer's LaunchToolResponse, with paths made relative
// to the scanned folder: reports then read the same on every machine, and
// findings keep their identity between checkouts in different places.
func launch(scan *v1.ScanInfo, out produce.Outcome, src string) *v1.LaunchToolResponse {
	seen := map[string]string{}
	target := src
	if repo := scan.ScanTags["repository"]; repo != "" {
		target = repo
	}
	for i, is := range out.Parsed.Issues {
		if is.ToolName == "" {
			is.ToolName = out.Producer
		}
		if is.Uuid == "" {
			// Dracon's producers gave every issue a UUID, and its
			// aggregator merges enrichers' outputs by it: one per issue of
			// the scan, the same when a stage is run again.
			is.Uuid = uuid.NewSHA1(uuid.NameSpaceOID, fmt.Appendf(nil, "dracon/issue/%s/%s/%d", scan.GetScanUuid(), out.Producer, i)).String()
		}
		if is.Source == "" {
			is.Source = target
			if c := scan.ScanTags["commit"]; c != "" {
				is.Source += "?ref=" + c
			}
		}
		if l := is.Location; l != nil && l.Path != "" {
			rel := relative(src, l.Path, seen)
			if rel = filepath.ToSlash(rel); rel != l.Path {
				is.Target = strings.Replace(is.Target, l.Path, rel, 1)
				l.Path = rel
			}
		}
	}
	return &v1.LaunchToolResponse{
		ScanInfo:    scan,
		ToolName:    out.Producer,
		Issues:      out.Parsed.Issues,
		ScanTarget:  target,
		ToolVersion: out.Parsed.ToolVersion,
	}
}

// relative makes a finding's path relative to the scanned folder. An
// absolute path under it is cut there. One from another machine's
// checkout (a report a CI step wrote under /home/runner/work/app/app, or
// C:\src\app on Windows) is cut where the rest of it names a file that
// exists here, so a finding keeps its identity whatever the checkout root.
// memo caches the answer per path.
func relative(src, p string, memo map[string]string) string {
	if r, ok := memo[p]; ok {
		return r
	}
	rel := p
	slashed := strings.ReplaceAll(p, `\`, "/")
	windowsAbs := len(slashed) > 2 && slashed[1] == ':' && slashed[2] == '/' ||
		len(slashed) > 3 && slashed[0] == '/' && slashed[2] == ':' && slashed[3] == '/'
	switch {
	case filepath.IsAbs(p) || windowsAbs:
		if r, err := filepath.Rel(src, p); err == nil && !strings.HasPrefix(r, "..") && !windowsAbs {
			rel = r
			break
		}
		segs := strings.Split(strings.Trim(slashed, "/"), "/")
		// i = 0 first: grype names files from the scanned folder's root
		// (/tools/go.mod).
		for i := 0; i < len(segs); i++ {
			cand := filepath.Join(segs[i:]...)
			if st, err := os.Stat(filepath.Join(src, cand)); err == nil && !st.IsDir() {
				rel = cand
				break
			}
		}
	case !strings.Contains(p, "://") && !strings.HasPrefix(p, "pkg:"):
		rel = filepath.Clean(p) // "./app.py" and "app.py" are one file
	}
	memo[p] = rel
	return rel
}

// EnrichOptions configure the enrichment stage.
type EnrichOptions struct {
	Config *config.Config
	// Source is the scanned folder (.dracon-ignore.yaml, inline comments,
	// CODEOWNERS); "" is the working folder.
	Source string
	Log    io.Writer // notices: expired suppressions, ...
	// Store is the findings store's DSN given on the command line; ""
	// takes $DRACON_STORE, then the config's enrichers.dedup.store.
	Store  string
	Getenv func(string) string
	// Fixed receives the findings this scan marked fixed.
	Fixed func([]store.Finding)
	// Baseline is what findings are new against; nil: PrepareBaseline
	// from the config and the scan's tags.
	Baseline *baseline.Config
	// Policy is the prepared policies (PreparePolicy); nil evaluates none.
	Policy *policy.Set
	// Producers are the producers' outcomes, for run-level rules.
	Producers []policy.Producer
	// Decided receives the policies' decision.
	Decided func(*policy.Decision, []error)
}

// Enrich wraps parsed results and runs the enrichers of
// internal/enrichers/registry that the config leaves on, in order.
func Enrich(ctx context.Context, o EnrichOptions, scan *v1.ScanInfo, launches []*v1.LaunchToolResponse) ([]*v1.EnrichedLaunchToolResponse, error) {
	c := o.Config
	log := o.Log
	if log == nil {
		log = io.Discard
	}
	results := make([]*v1.EnrichedLaunchToolResponse, len(launches))
	for i, l := range launches {
		results[i] = enrichers.Wrap(l)
	}
	env := enricherreg.Env{Source: o.Source, Fixed: o.Fixed, Notice: func(m string) { fmt.Fprintln(log, "dracon: "+m) },
		Policy: o.Policy, Producers: o.Producers, Decided: o.Decided, Enrichers: c.Enrichers}
	if c.Enrichers.On("baseline") {
		if o.Baseline == nil {
			b, err := PrepareBaseline(ctx, c, o.Source, scan, o.Getenv, log)
			if err != nil {
				return nil, err
			}
			o.Baseline = &b
		}
		env.Baseline = *o.Baseline
	}
	// The store is history for dedup, and a branch's scans for baseline.
	if c.Enrichers.On("dedup") || env.Baseline.Ref != "" && env.Baseline.File == nil {
		dsn := o.Store
		if dsn == "" {
			dsn = store.ChooseDSN(c.Enrichers.Dedup.Store, o.Getenv)
		}
		st, err := store.Open(ctx, dsn)
		if err != nil {
			return nil, fmt.Errorf("findings store: %w", err)
		}
		defer st.Close()
		env.Store = st
	}
	if err := enrichers.Run(ctx, scan, results, enricherreg.Chain(env, c.Enrichers.On)...); err != nil {
		return nil, err
	}
	return results, nil
}

func on(b *bool) bool { return b == nil || *b }

// LoadConfig reads the config file at path, else dracon.yaml in the
// source folder or the working folder; with none, the defaults
// (auto-detection). It returns the path it read ("" for none).
func LoadConfig(path, source string) (*config.Config, string, error) {
	names := ConfigNames()
	if path != "" {
		c, err := config.Load(path, names)
		return c, path, err
	}
	for _, p := range []string{filepath.Join(source, "dracon.yaml"), "dracon.yaml"} {
		if _, err := os.Stat(p); err == nil {
			c, err := config.Load(p, names)
			return c, p, err
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, "", err
		}
	}
	c, err := config.Parse(nil, names)
	return c, "", err
}

// ConfigNames tells config validation which producer names exist.
func ConfigNames() config.Names {
	return config.Names{
		Producers: registry.Names(),
		Resolve: func(n string) (string, bool) {
			p, err := registry.Lookup(n)
			if err != nil {
				return "", false
			}
			return p.Name, true
		},
	}
}
