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
	"github.com/draconsec/dracon/internal/consumers/defectdojo"
	"github.com/draconsec/dracon/internal/consumers/dependencytrack"
	"github.com/draconsec/dracon/internal/consumers/elasticsearch"
	"github.com/draconsec/dracon/internal/consumers/jira"
	"github.com/draconsec/dracon/internal/consumers/phorge"
	"github.com/draconsec/dracon/internal/consumers/report"
	"github.com/draconsec/dracon/internal/consumers/slack"
	"github.com/draconsec/dracon/internal/consumers/webhook"
)

// Consumer is one entry.
type Consumer struct {
	Name    string
	Summary string
	// Block is the consumer's common settings, and whether the config
	// has its block.
	Block func(c *config.Consumers) (config.Delivery, bool)
	// New builds it from its block (present); with env.DryRun, without
	// its credentials too.
	New func(c *config.Consumers, env consumers.Env) (consumers.Publisher, error)
}

// all is every consumer, in the order they are listed and run.
var all = []Consumer{
	{Name: "jira", Summary: "Jira Cloud or Data Center: a ticket per finding (or rule, file, package), found again by its label, commented and transitioned when fixed, reopened when back",
		Block: func(c *config.Consumers) (config.Delivery, bool) {
			return present(c.Jira, func(j *config.Jira) config.Delivery { return j.Delivery })
		},
		New: func(c *config.Consumers, env consumers.Env) (consumers.Publisher, error) {
			return publisher(jira.New(c.Jira, env))
		}},
	{Name: "elasticsearch", Summary: "Elasticsearch or OpenSearch: a history (a document per finding per scan) and a current state (a document per finding, marked fixed when gone), bulk-indexed with deterministic ids under an index template; a Kibana dashboard",
		Block: func(c *config.Consumers) (config.Delivery, bool) {
			return present(c.Elasticsearch, func(e *config.Elasticsearch) config.Delivery { return e.Delivery })
		},
		New: func(c *config.Consumers, env consumers.Env) (consumers.Publisher, error) {
			return publisher(elasticsearch.New(c.Elasticsearch, env))
		}},
	{Name: "slack", Summary: "Slack: one message per run (incoming webhook or bot token); per-team channels; a re-run of the commit edits it",
		Block: func(c *config.Consumers) (config.Delivery, bool) {
			return present(c.Slack, func(s *config.Slack) config.Delivery { return s.Delivery })
		},
		New: func(c *config.Consumers, env consumers.Env) (consumers.Publisher, error) {
			return publisher(slack.New(c.Slack, env))
		}},
	{Name: "defectdojo", Summary: "DefectDojo: reimport-scan per producer (Generic Findings Import, the finding's id as unique_id_from_tool) into an engagement per branch; gone from a full scan: closed",
		Block: func(c *config.Consumers) (config.Delivery, bool) {
			return present(c.DefectDojo, func(d *config.DefectDojo) config.Delivery { return d.Delivery })
		},
		New: func(c *config.Consumers, env consumers.Env) (consumers.Publisher, error) {
			return publisher(defectdojo.New(c.DefectDojo, env))
		}},
	{Name: "dependency_track", Summary: "Dependency-Track: each SBOM uploaded to a project by repository and branch (or UUID), owner tags merged",
		Block: func(c *config.Consumers) (config.Delivery, bool) {
			return present(c.DependencyTrack, func(d *config.DependencyTrack) config.Delivery { return d.Delivery })
		},
		New: func(c *config.Consumers, env consumers.Env) (consumers.Publisher, error) {
			return publisher(dependencytrack.New(c.DependencyTrack, env))
		}},
	{Name: "phorge", Summary: "Phorge/Phabricator: a Maniphest task per finding, found again by a custom field or title marker, resolved when fixed, reopened when back",
		Block: func(c *config.Consumers) (config.Delivery, bool) {
			return present(c.Phorge, func(p *config.Phorge) config.Delivery { return p.Delivery })
		},
		New: func(c *config.Consumers, env consumers.Env) (consumers.Publisher, error) {
			return publisher(phorge.New(c.Phorge, env))
		}},
	{Name: "report", Summary: "Auditors' report: one self-contained HTML file (verdict, policies, exceptions, producers, counts, every finding, the suppressed with their reasons), and a PDF where a headless Chromium is found",
		Block: func(c *config.Consumers) (config.Delivery, bool) {
			return present(c.Report, func(r *config.Report) config.Delivery { return r.Delivery })
		},
		New: func(c *config.Consumers, env consumers.Env) (consumers.Publisher, error) {
			r, err := report.New(c.Report, env)
			if r != nil {
				r.Exceptions = env.PolicyExceptions
			}
			return publisher(r, err)
		}},
	{Name: "webhook", Summary: "Webhook: the enriched results POSTed as JSON, signed with HMAC-SHA256, with a delivery id receivers drop repeats by",
		Block: func(c *config.Consumers) (config.Delivery, bool) {
			return present(c.Webhook, func(w *config.Webhook) config.Delivery { return w.Delivery })
		},
		New: func(c *config.Consumers, env consumers.Env) (consumers.Publisher, error) {
			return publisher(webhook.New(c.Webhook, env))
		}},
}

// publisher turns a constructor's (*T, error) into a Publisher, keeping a
// nil pointer nil.
func publisher[T any, P interface {
	*T
	consumers.Publisher
}](p P, err error) (consumers.Publisher, error) {
	if err != nil || p == nil {
		return nil, err
	}
	return p, nil
}

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
