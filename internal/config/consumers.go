package config

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// Delivery is what every consumer that sends findings somewhere (Jira,
// Slack, Elasticsearch, ...) has in common. Each consumer's block inlines
// it.
type Delivery struct {
	// Enabled: a consumer is on when its block is present, unless this
	// says false.
	Enabled *bool `yaml:"enabled"`
	// Filter picks the findings this consumer sends.
	Filter Filter `yaml:"filter"`
	// AllowFailure: a failed delivery is reported but does not fail the
	// run. Unset, a consumer that could not deliver fails the run (fail
	// closed): a finding no one was told of is a finding lost.
	AllowFailure bool `yaml:"allow_failure"`
	// Timeout bounds the whole delivery, retries included (default 2m).
	Timeout Duration `yaml:"timeout"`
}

// On reports whether a consumer configured with this block runs.
func (d Delivery) On() bool { return d.Enabled == nil || *d.Enabled }

// Filter picks findings. Every criterion given must hold; none given
// passes every finding that is not suppressed, a false positive, or a
// duplicate of another tool's report of the same finding.
type Filter struct {
	// MinSeverity is the lowest severity sent: info, low, medium, high,
	// critical.
	MinSeverity string `yaml:"min_severity"`
	// MinConfidence is the lowest confidence sent: info, low, medium,
	// high, critical. A finding whose tool gives no confidence passes.
	MinConfidence string `yaml:"min_confidence"`
	// NewOnly sends only findings no earlier scan (or the baseline) had.
	NewOnly bool `yaml:"new_only"`
	// Tools sends only what these producers found (any of them).
	Tools []string `yaml:"tools"`
	// Teams sends only findings these owners own (CODEOWNERS names,
	// "@acme/payments").
	Teams []string `yaml:"teams"`
	// Policy sends only findings with this policy result: deny (the
	// policies fail the run on it), warn, or pass (neither).
	Policy []string `yaml:"policy"`
	// Status sends only findings in this state: new, existing, or
	// outside_diff (kept but outside the change's lines).
	Status []string `yaml:"status"`
	// Suppressed also sends suppressed findings (Dracon's -allow-fp sent
	// false positives; this sends both).
	Suppressed bool `yaml:"suppressed"`
}

// Secret is where a credential is read from: "env:NAME" (an environment
// variable) or "file:PATH" (a file, such as a mounted Kubernetes secret).
// A credential written in the config itself is refused: configs are
// committed, credentials must not be.
type Secret string

// UnmarshalYAML refuses anything but env: and file: references.
func (s *Secret) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: a secret is a string: env:NAME or file:PATH", n.Line)
	}
	if err := CheckSecret(n.Value); err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*s = Secret(n.Value)
	return nil
}

// CheckSecret says whether ref is a secret reference.
func CheckSecret(ref string) error {
	kind, rest, ok := strings.Cut(ref, ":")
	if !ok || rest == "" || kind != "env" && kind != "file" {
		return fmt.Errorf("secrets are read from env:NAME or file:PATH, never written in the config (got a value that is neither)")
	}
	return nil
}

// Filter values, checked at load.
var (
	filterPolicies = []string{"deny", "warn", "pass"}
	filterStatuses = []string{"new", "existing", "outside_diff"}
)

// validate checks the common block of the consumer at key.
func (d Delivery) validate(key string, add func(key, format string, args ...any)) {
	f := d.Filter
	for _, s := range []struct{ k, v string }{{"min_severity", f.MinSeverity}, {"min_confidence", f.MinConfidence}} {
		if s.v != "" && (!oneOf(strings.ToLower(s.v), severities) || strings.ToLower(s.v) == "none") {
			add(key+".filter."+s.k, "%q is not a level (info, low, medium, high, critical)", s.v)
		}
	}
	for i, p := range f.Policy {
		if !oneOf(p, filterPolicies) {
			add(fmt.Sprintf("%s.filter.policy[%d]", key, i), "%q is not a policy result (deny, warn, pass)", p)
		}
	}
	for i, s := range f.Status {
		if !oneOf(s, filterStatuses) {
			add(fmt.Sprintf("%s.filter.status[%d]", key, i), "%q is not a status (new, existing, outside_diff)", s)
		}
	}
}

// validateConsumers checks every consumer block that is present.
func (c *Config) validateConsumers(add func(key, format string, args ...any)) {
	cs := c.Consumers
	for _, b := range cs.blocks() {
		b.delivery.validate("consumers."+b.name, add)
		if b.check != nil {
			b.check("consumers."+b.name, add)
		}
	}
}

// block is one present consumer block: its name, common part and own
// checks.
type block struct {
	name     string
	delivery Delivery
	check    func(key string, add func(key, format string, args ...any))
}

// blocks lists the consumer blocks present in the config, in a fixed
// order.
func (cs Consumers) blocks() []block {
	var out []block
	if j := cs.Jira; j != nil {
		out = append(out, block{"jira", j.Delivery, j.validate})
	}
	if s := cs.Slack; s != nil {
		out = append(out, block{"slack", s.Delivery, s.validate})
	}
	if e := cs.Elasticsearch; e != nil {
		out = append(out, block{"elasticsearch", e.Delivery, e.validate})
	}
	if d := cs.DefectDojo; d != nil {
		out = append(out, block{"defectdojo", d.Delivery, d.validate})
	}
	if p := cs.Phorge; p != nil {
		out = append(out, block{"phorge", p.Delivery, p.validate})
	}
	if d := cs.DependencyTrack; d != nil {
		out = append(out, block{"dependency_track", d.Delivery, d.validate})
	}
	if w := cs.Webhook; w != nil {
		out = append(out, block{"webhook", w.Delivery, w.validate})
	}
	if r := cs.Report; r != nil {
		out = append(out, block{"report", r.Delivery, r.validate})
	}
	return out
}
