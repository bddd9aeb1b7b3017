// Package registry lists every enricher Dracon runs, in the order they
// run, in one place. Adding an enricher is one folder under
// internal/enrichers and one line here.
package registry

import (
	"github.com/draconsec/dracon/internal/config"
	"github.com/draconsec/dracon/internal/enrichers"
	"github.com/draconsec/dracon/internal/enrichers/baseline"
	"github.com/draconsec/dracon/internal/enrichers/custom"
	"github.com/draconsec/dracon/internal/enrichers/dedup"
	"github.com/draconsec/dracon/internal/enrichers/depsdev"
	"github.com/draconsec/dracon/internal/enrichers/exploits"
	"github.com/draconsec/dracon/internal/enrichers/identity"
	"github.com/draconsec/dracon/internal/enrichers/ignore"
	"github.com/draconsec/dracon/internal/enrichers/merge"
	"github.com/draconsec/dracon/internal/enrichers/owners"
	policyenricher "github.com/draconsec/dracon/internal/enrichers/policy"
	"github.com/draconsec/dracon/internal/enrichers/reachability"
	"github.com/draconsec/dracon/internal/enrichers/toolsuppress"
	"github.com/draconsec/dracon/internal/policy"
	"github.com/draconsec/dracon/internal/store"
)

// Env is what enrichers may need from the run.
type Env struct {
	// Source is the scanned folder: where .dracon-ignore.yaml, the flagged
	// files and CODEOWNERS are. "" means the working folder (a stage run
	// alone from a checkout).
	Source string
	// Store is the findings store; nil runs without one (every finding new).
	Store store.Store
	// Notice receives what the run should tell its reader.
	Notice func(msg string)
	// Fixed receives the findings the scan marked fixed.
	Fixed func([]store.Finding)
	// Baseline is what findings are new against, and the diff filter.
	Baseline baseline.Config
	// Policy is the run's policies, prepared; nil evaluates none.
	Policy *policy.Set
	// Producers are the run's producers' outcomes, for run-level rules.
	Producers []policy.Producer
	// Decided receives the policies' decision.
	Decided func(*policy.Decision, []error)
	// Enrichers is the config's enrichers block: each enricher's settings.
	Enrichers config.Enrichers
}

// Entry is one enricher: its config name and how to build it.
type Entry struct {
	Name string
	New  func(Env) enrichers.Enricher
	// Always: the run needs it whatever the config says (every finding
	// needs a name).
	Always bool
}

// all is the chain, in order: identity first (every later step names
// findings by hash), merge before dedup (the store keeps one finding that
// several tools reported), dedup (history), baseline (new for the change:
// against the target branch, within the diff filter), then what
// suppresses, then what annotates, and last the policies, which read
// all of it.
var all = []Entry{
	{Name: "identity", New: func(Env) enrichers.Enricher { return identity.Enricher{} }, Always: true},
	{Name: "merge", New: func(Env) enrichers.Enricher { return merge.Enricher{} }},
	{Name: "dedup", New: func(e Env) enrichers.Enricher {
		return dedup.Enricher{Store: e.Store, Fixed: e.Fixed, Source: e.Source}
	}},
	{Name: "baseline", New: func(e Env) enrichers.Enricher { return baseline.New(e.Store, e.Baseline, e.Notice) }},
	{Name: "toolsuppress", New: func(Env) enrichers.Enricher { return toolsuppress.Enricher{} }},
	{Name: "ignore", New: func(e Env) enrichers.Enricher { return ignore.Enricher{Source: e.Source, Notice: e.Notice} }},
	{Name: "owners", New: func(e Env) enrichers.Enricher { return owners.Enricher{Source: e.Source} }},
	{Name: "exploits", New: func(e Env) enrichers.Enricher { return exploits.New(e.Enrichers.Exploits, e.Notice) }},
	{Name: "depsdev", New: func(e Env) enrichers.Enricher { return depsdev.New(e.Enrichers.DepsDev, e.Notice) }},
	{Name: "reachability", New: func(e Env) enrichers.Enricher {
		return reachability.New(e.Enrichers.Reachability, e.Source, e.Notice)
	}},
	// custom comes after every enricher that annotates, so it never
	// overwrites them, and before policy, which reads its annotations.
	{Name: "custom", New: func(e Env) enrichers.Enricher { return custom.New(e.Enrichers.Custom, e.Notice) }},
	{Name: "policy", New: func(e Env) enrichers.Enricher {
		return policyenricher.Enricher{Set: e.Policy, Producers: e.Producers, Decided: e.Decided}
	}},
}

// All lists the enrichers in the order they run.
func All() []Entry { return append([]Entry(nil), all...) }

// Chain builds the enrichers that on says are enabled, in order.
func Chain(env Env, on func(name string) bool) []enrichers.Enricher {
	if env.Notice == nil {
		env.Notice = func(string) {}
	}
	var out []enrichers.Enricher
	for _, e := range all {
		if e.Always || on == nil || on(e.Name) {
			out = append(out, e.New(env))
		}
	}
	return out
}
