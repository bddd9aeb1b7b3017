package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/draconsec/dracon/internal/config"
	"github.com/draconsec/dracon/internal/produce"
	"github.com/draconsec/dracon/internal/producers"
	"github.com/draconsec/dracon/internal/producers/registry"
	"github.com/draconsec/dracon/internal/summary"
)

// A producer's results, written where it ran (a Tekton task of its own)
// for the run that enriches and decides (Options.Produced), in Dracon's
// layout (.dracon/producers/<tool>.pb) plus two files of ours:
//
//	<tool>.pb            the LaunchToolResponse, as Dracon's producers write it
//	<tool>.outcome.json  its line of summary.json: status, reason, duration, vendored files left out
//	<tool>.secrets.json  the secret values it found, so that the deciding run hides
//	                     them in every other tool's findings too; deleted once read
//
// The secret values are no more exposed there than in the source they
// came from, which sits in the same workspace.
const (
	outcomeSuffix = ".outcome.json"
	secretsSuffix = ".secrets.json"
	launchSuffix  = ".pb"
)

// PlannedProducers names the producers a run of src with config c would
// run, with auto-detection's notes: what a cluster run plans before it
// sends one task per producer.
func PlannedProducers(c *config.Config, src string) ([]string, []string, error) {
	plan, notes, err := Plan(c, src)
	if err != nil {
		return nil, notes, err
	}
	names := make([]string, len(plan))
	for i, pl := range plan {
		names[i] = pl.p.Name
	}
	return names, notes, nil
}

// produceOnly is a run's first half: the producers run and their results
// are written to a folder, for a run elsewhere to decide on.
var produceOnly = []stage{planStage{}, vendoredStage{}, produceStage{}, secretsStage{}, launchStage{}}

// Produce runs the producers the config plans (one, in a Tekton task) and
// writes each one's results to dir. A scanner that fails is a result
// like any other (its outcome says so, and the deciding run's gate
// decides); the error is for what kept a result from being written.
func Produce(ctx context.Context, o Options, dir string) ([]summary.Producer, error) {
	o.defaults()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	r := &runState{o: o, start: time.Now()}
	for _, s := range produceOnly {
		if err := s.Run(ctx, r); err != nil {
			return nil, err
		}
	}
	launches := map[string]int{}
	for i, lr := range r.launches {
		launches[lr.ToolName] = i
	}
	for i, ps := range r.sum.Producers {
		if i, ok := launches[ps.Name]; ok {
			if err := WriteProto(filepath.Join(dir, ps.Name+launchSuffix), r.launches[i]); err != nil {
				return nil, err
			}
		}
		if err := writeJSON(filepath.Join(dir, ps.Name+outcomeSuffix), ps); err != nil {
			return nil, err
		}
		if p := r.outcomes[i].Parsed; p != nil && len(p.Secrets) > 0 {
			if err := writeJSON(filepath.Join(dir, ps.Name+secretsSuffix), p.Secrets); err != nil {
				return nil, err
			}
		}
	}
	return r.sum.Producers, nil
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o600)
}

// noResult is a planned producer's reason when its task left nothing.
const noResult = "its task produced no result (it failed, timed out or was cancelled before it wrote one)"

// loadProduced reads the planned producers' results from dir, in plan
// order. A planned producer with no files failed; a LaunchToolResponse
// no plan names (a Dracon producer task beside ours) is a producer that
// ran, named by its tool.
func loadProduced(dir string, r *runState) ([]produce.Outcome, []*vendorReport, []*summary.Producer, error) {
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, nil, nil, fmt.Errorf("--produced %s is not a folder", dir)
	}
	planned := map[string]bool{}
	for _, pl := range r.plan {
		planned[pl.p.Name] = true
	}
	files, err := filepath.Glob(filepath.Join(dir, "*"+launchSuffix))
	if err != nil {
		return nil, nil, nil, err
	}
	sort.Strings(files)
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), launchSuffix)
		if !planned[name] {
			if p, err := registry.Lookup(name); err == nil {
				r.plan = append(r.plan, planned1(p))
			} else {
				r.plan = append(r.plan, planned1(&producers.Producer{Name: name}))
			}
			planned[name] = true
		}
	}
	if len(r.plan) == 0 {
		return nil, nil, nil, fmt.Errorf("--produced %s holds no producer's results (*%s) and no producer applies to the source", dir, launchSuffix)
	}
	outcomes := make([]produce.Outcome, len(r.plan))
	given := make([]*summary.Producer, len(r.plan))
	var errs []error
	for i, pl := range r.plan {
		outcomes[i], given[i], err = loadOne(dir, pl.p.Name)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return outcomes, make([]*vendorReport, len(r.plan)), given, errors.Join(errs...)
}

func planned1(p *producers.Producer) planned { return planned{p: p} }

// loadOne reads one producer's files. Missing files are a failed
// producer, not an error; unreadable ones are an error naming the file.
func loadOne(dir, name string) (produce.Outcome, *summary.Producer, error) {
	out := produce.Outcome{Producer: name, Status: produce.Failed, Reason: noResult, ExitCode: -1}
	var ps *summary.Producer
	b, err := os.ReadFile(filepath.Join(dir, name+outcomeSuffix))
	switch {
	case err == nil:
		ps = &summary.Producer{}
		if err := json.Unmarshal(b, ps); err != nil {
			return out, nil, fmt.Errorf("%s: %w", filepath.Join(dir, name+outcomeSuffix), err)
		}
		out.Status, out.Reason = produce.Status(ps.Status), ps.Reason
		out.Duration = time.Duration(ps.DurationSeconds * float64(time.Second))
		out.Report, out.Stderr = ps.Report, ps.Stderr
	case !errors.Is(err, fs.ErrNotExist):
		return out, nil, err
	}
	lpath := filepath.Join(dir, name+launchSuffix)
	lr, err := ReadLaunch(lpath)
	switch {
	case err == nil:
		if ps == nil {
			// Dracon's producer tasks write only the LaunchToolResponse.
			out.Status, out.Reason = produce.OK, ""
		}
		if out.Status == produce.OK {
			out.Parsed = &producers.Parsed{Issues: lr.Issues, ToolVersion: lr.ToolVersion}
		}
	case !errors.Is(err, fs.ErrNotExist):
		return out, ps, err
	case out.Status == produce.OK:
		return out, ps, fmt.Errorf("%s: its outcome says ok, but %s is missing", name, lpath)
	}
	spath := filepath.Join(dir, name+secretsSuffix)
	if b, err := os.ReadFile(spath); err == nil {
		var secrets []string
		if err := json.Unmarshal(b, &secrets); err != nil {
			return out, ps, fmt.Errorf("%s: %w", spath, err)
		}
		if out.Parsed != nil {
			out.Parsed.Secrets = secrets
		}
		// Read once, kept nowhere: the findings carry them hidden.
		if err := os.Remove(spath); err != nil {
			return out, ps, err
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return out, ps, err
	}
	return out, ps, nil
}
