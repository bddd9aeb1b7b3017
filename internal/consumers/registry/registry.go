// Package registry lists, in one place, the consumers that send findings
// to other systems: each with its name (its key under consumers: in
// dracon.yaml), what it does, and how it is built from its config block.
// The file writers (SARIF, GitLab's reports, the table) are the
// pipeline's own and always there; this list is what a user configures.
package registry

import (
	"fmt"
	"sort"
	"strings"

	"github.com/draconsec/dracon/internal/config"
	"github.com/draconsec/dracon/internal/consumers"
)

// Consumer is one entry.
type Consumer struct {
	Name    string
	Summary string
	// Block is the consumer's common settings, and whether the config
	// has its block.
	Block func(c *config.Consumers) (config.Delivery, bool)
	// New builds it from its block (present).
	New func(c *config.Consumers, env consumers.Env) (consumers.Publisher, error)
}

// all is every consumer, in the order they are listed and run.
var all = []Consumer{}

// All lists the consumers.
func All() []Consumer { return all }

// Names are the consumers' names, sorted.
func Names() []string {
	out := make([]string, len(all))
	for i, c := range all {
		out[i] = c.Name
	}
	sort.Strings(out)
	return out
}

// Lookup finds a consumer by name ("dependency-track" and
// "dependency_track" are the same).
func Lookup(name string) (Consumer, error) {
	n := strings.ReplaceAll(strings.ToLower(name), "-", "_")
	for _, c := range all {
		if c.Name == n {
			return c, nil
		}
	}
	return Consumer{}, fmt.Errorf("unknown consumer %q (known: %s)", name, strings.Join(Names(), ", "))
}

// Build makes the publishers the config turns on; with only given, just
// those (each must have its block in the config). A consumer that cannot
// be built (its token is not in the environment) is not dropped: it comes
// back as a failed outcome, so the run reports it and fails closed unless
// its block allows failure.
func Build(c *config.Consumers, env consumers.Env, only []string) ([]consumers.Configured, []consumers.Outcome, error) {
	want := map[string]bool{}
	for _, n := range only {
		e, err := Lookup(n)
		if err != nil {
			return nil, nil, err
		}
		if _, ok := e.Block(c); !ok {
			return nil, nil, fmt.Errorf("consumer %s has no consumers.%s block in the config", e.Name, e.Name)
		}
		want[e.Name] = true
	}
	var pubs []consumers.Configured
	var failed []consumers.Outcome
	for _, e := range all {
		d, ok := e.Block(c)
		if !ok || len(want) > 0 && !want[e.Name] || len(want) == 0 && !d.On() {
			continue
		}
		p, err := e.New(c, env)
		if err != nil {
			failed = append(failed, consumers.Outcome{Name: e.Name, Status: "failed", AllowFailure: d.AllowFailure,
				Errors: []string{env.Masker.Clean(err.Error())}})
			continue
		}
		pubs = append(pubs, consumers.Configured{Publisher: p, Delivery: d})
	}
	return pubs, failed, nil
}

// present is a Block for a consumer whose block is the pointer b.
func present[T any](b *T, d func(*T) config.Delivery) (config.Delivery, bool) {
	if b == nil {
		return config.Delivery{}, false
	}
	return d(b), true
}
