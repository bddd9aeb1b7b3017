// Package registry lists every enricher Dracon runs, in the order they
// run, in one place. Adding an enricher is one folder under
// internal/enrichers and one line here.
package registry

import (
	"github.com/draconsec/dracon/internal/enrichers"
	"github.com/draconsec/dracon/internal/enrichers/dedup"
	"github.com/draconsec/dracon/internal/enrichers/ignore"
	"github.com/draconsec/dracon/internal/enrichers/merge"
	"github.com/draconsec/dracon/internal/enrichers/owners"
	"github.com/draconsec/dracon/internal/enrichers/toolsuppress"
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
}

// Entry is one enricher: its config name and how to build it.
type Entry struct {
	Name string
	New  func(Env) enrichers.Enricher
}

// all is the chain, in order: identity and history first (dedup names
// each finding, merge needs those names), then what suppresses, then
// what annotates.
var all = []Entry{
	{"dedup", func(e Env) enrichers.Enricher { return dedup.Enricher{Store: e.Store} }},
	{"merge", func(Env) enrichers.Enricher { return merge.Enricher{} }},
	{"toolsuppress", func(Env) enrichers.Enricher { return toolsuppress.Enricher{} }},
	{"ignore", func(e Env) enrichers.Enricher { return ignore.Enricher{Source: e.Source, Notice: e.Notice} }},
	{"owners", func(e Env) enrichers.Enricher { return owners.Enricher{Source: e.Source} }},
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
		if on == nil || on(e.Name) {
			out = append(out, e.New(env))
		}
	}
	return out
}
