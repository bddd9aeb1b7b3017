// Package config reads and validates dracon.yaml. Everything is checked
// before anything runs; an error names the key and its line.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/draconsec/dracon/internal/pathglob"
	"gopkg.in/yaml.v3"
)

// Config is dracon.yaml.
type Config struct {
	Version int `yaml:"version"`
	// Producers by name; an empty map means "detect from the source tree".
	Producers map[string]*Producer `yaml:"producers"`
	Enrichers Enrichers            `yaml:"enrichers"`
	Consumers Consumers            `yaml:"consumers"`
	Gate      Gate                 `yaml:"gate"`
	// Baseline says what a scan's findings are new against, and which
	// lines of a change count (a diff filter).
	Baseline Baseline `yaml:"baseline"`
	// Concurrency bounds how many producers run at once (0: number of CPUs).
	Concurrency int `yaml:"concurrency"`
	// IncludeVendored scans vendored and generated files too, with every
	// producer (a producer's own include_vendored overrides it).
	IncludeVendored bool `yaml:"include_vendored"`
	// Vendored corrects what counts as vendored or generated.
	Vendored Vendored `yaml:"vendored"`
	// Policy names the Rego policies that annotate findings and decide
	// the verdict (docs/policy.md).
	Policy Policy `yaml:"policy"`
	// Runner is where scanners run unless a producer says otherwise:
	// local (the default), container, or tekton (the whole run as a
	// PipelineRun on a cluster).
	Runner string `yaml:"runner"`
	// Container configures the container runner.
	Container Container `yaml:"container"`
	// Tekton configures the cluster runner (runner: tekton).
	Tekton Tekton `yaml:"tekton"`

	// Lines maps dotted keys ("producers.gosec.timeout") to their line,
	// for errors found after decoding.
	lines map[string]int
}

// Producer configures one producer.
type Producer struct {
	Enabled *bool    `yaml:"enabled"`
	Args    []string `yaml:"args"`
	// Paths are report files for import-only producers (sarif).
	Paths   []string `yaml:"paths"`
	Timeout Duration `yaml:"timeout"`
	// Runner is where the scanner runs: local (this machine) or container
	// (its image, through podman or docker); unset, the top-level runner.
	Runner string `yaml:"runner"`
	// Image overrides the container image (runner: container).
	Image string `yaml:"image"`
	// CPUs and Memory limit its container ("2", "1.5"; "2g", "512m").
	CPUs         string `yaml:"cpus"`
	Memory       string `yaml:"memory"`
	AllowFailure bool   `yaml:"allow_failure"`
	// IncludeVendored says whether this producer's results keep findings
	// in vendored and generated files; unset, the top-level setting and
	// the producer's kind decide (see the pipeline).
	IncludeVendored *bool `yaml:"include_vendored"`
}

// Container configures runner: container.
type Container struct {
	// Engine is the docker-compatible CLI: podman or docker, or a path;
	// unset, $DRACON_CONTAINER_ENGINE, then podman, then docker on PATH.
	Engine string `yaml:"engine"`
	// Image runs every producer in this one image (Dracon's own image
	// has the default scanners); unset, each producer's own image.
	Image string `yaml:"image"`
	// Pull is the pull policy: missing (default), always, never.
	Pull string `yaml:"pull"`
	// CPUs and Memory limit every producer's container, unless the
	// producer sets its own.
	CPUs   string `yaml:"cpus"`
	Memory string `yaml:"memory"`
}

// RunnerOf is the runner a producer uses: its own, else the top level's,
// else local.
func (c *Config) RunnerOf(p *Producer) string {
	if p != nil && p.Runner != "" {
		return p.Runner
	}
	if c.Runner != "" {
		return c.Runner
	}
	return "local"
}

// Vendored lists globs (relative to the source folder; `**` spans
// folders) that correct the built-in vendored and generated rules.
type Vendored struct {
	// Scan names the project's own files, scanned whatever the rules
	// say (a vendor/ folder of its own code). Scan wins over Skip.
	Scan []string `yaml:"scan"`
	// Skip names more files to leave out, like vendored ones.
	Skip []string `yaml:"skip"`
}

// On reports whether the producer is enabled (the default).
func (p *Producer) On() bool { return p == nil || p.Enabled == nil || *p.Enabled }

// Enrichers configures the enrichment stage.
type Enrichers struct {
	Dedup Dedup `yaml:"dedup"`
	// Merge makes one finding of several tools' reports of the same thing.
	Merge Toggle `yaml:"merge"`
	// ToolSuppress honours suppressions the tools recorded in their reports.
	ToolSuppress Toggle `yaml:"toolsuppress"`
	// Ignore applies .dracon-ignore.yaml and inline dracon:ignore comments.
	Ignore Toggle `yaml:"ignore"`
	// Owners writes each finding's CODEOWNERS owners as Owner-N annotations.
	Owners Toggle `yaml:"owners"`
	// Baseline decides what is new against the target branch (or a
	// baseline file) and applies the diff filter.
	Baseline Toggle `yaml:"baseline"`
	// Policy evaluates the Rego policies (the policy block).
	Policy Toggle `yaml:"policy"`
	// Custom puts the config's annotations on findings.
	Custom CustomAnnotations `yaml:"custom"`
	// DepsDev adds deps.dev's licences and scorecards (opt-in).
	DepsDev DepsDev `yaml:"depsdev"`
	// Exploits marks CVEs CISA lists as exploited, with their EPSS score.
	Exploits Exploits `yaml:"exploits"`
	// Reachability marks Go dependency findings reachable or not.
	Reachability Reachability `yaml:"reachability"`
}

// Toggle turns an enricher off (enabled: false); every enricher is on by
// default.
type Toggle struct {
	Enabled *bool `yaml:"enabled"`
}

// On reports whether the enricher named as in the registry is enabled.
func (e Enrichers) On(name string) bool {
	var b *bool
	switch name {
	case "dedup":
		b = e.Dedup.Enabled
	case "merge":
		b = e.Merge.Enabled
	case "toolsuppress":
		b = e.ToolSuppress.Enabled
	case "ignore":
		b = e.Ignore.Enabled
	case "owners":
		b = e.Owners.Enabled
	case "baseline":
		b = e.Baseline.Enabled
	case "policy":
		b = e.Policy.Enabled
	case "custom":
		b = e.Custom.Enabled
	case "exploits":
		b = e.Exploits.Enabled
	case "reachability":
		b = e.Reachability.Enabled
	case "depsdev":
		// It asks a service on the internet about the project's
		// dependencies: only when the config says so.
		return e.DepsDev.Enabled != nil && *e.DepsDev.Enabled
	}
	return b == nil || *b
}

// Dedup configures fingerprinting and the findings store.
type Dedup struct {
	Enabled *bool `yaml:"enabled"`
	// Store is the findings store: a SQLite file path (the default, under
	// .dracon/) or a postgres:// DSN; $DRACON_STORE overrides it.
	Store string `yaml:"store"`
}

// Baseline configures what findings are new against. With neither Ref
// nor File, a pull request's or merge request's scan is compared with its
// target branch (from the CI's environment), and any other scan with the
// findings store's history.
type Baseline struct {
	// Ref is the branch whose latest scan in the findings store is the
	// baseline: "main" or "refs/heads/main".
	Ref string `yaml:"ref"`
	// File is a SARIF or findings JSON an earlier run wrote (relative to
	// the source folder), used instead of the store.
	File string `yaml:"file"`
	// DiffFilter: added | diff_context | file | nofilter (the default).
	DiffFilter string `yaml:"diff_filter"`
	// DiffBase is the revision the change is diffed from; default: the
	// merge base of the target branch and HEAD.
	DiffBase string `yaml:"diff_base"`
}

// Consumers configures the outputs.
type Consumers struct {
	SARIF  SARIF  `yaml:"sarif"`
	Stdout Stdout `yaml:"stdout"`
	GitLab GitLab `yaml:"gitlab"`

	// The consumers that send findings elsewhere (consumers.go): each
	// runs when its block is present.
	Jira            *Jira            `yaml:"jira"`
	Slack           *Slack           `yaml:"slack"`
	Elasticsearch   *Elasticsearch   `yaml:"elasticsearch"`
	DefectDojo      *DefectDojo      `yaml:"defectdojo"`
	Phorge          *Phorge          `yaml:"phorge"`
	DependencyTrack *DependencyTrack `yaml:"dependency_track"`
	Webhook         *Webhook         `yaml:"webhook"`
	Report          *Report          `yaml:"report"`
}

// GitLab configures GitLab's security reports (gl-*-report.json).
type GitLab struct {
	// Enabled: unset, the reports are written in a GitLab pipeline
	// (GITLAB_CI=true) and not elsewhere.
	Enabled *bool `yaml:"enabled"`
	// Reports names which to write (sast, dependency_scanning,
	// secret_detection, container_scanning, codequality, cyclonedx);
	// none named: every one a producer or finding calls for, and Code
	// Quality always.
	Reports []string `yaml:"reports"`
	// Dir is where they go, relative to --out.
	Dir string `yaml:"dir"`
}

// SARIF configures the SARIF file.
type SARIF struct {
	Enabled *bool  `yaml:"enabled"`
	Path    string `yaml:"path"`
}

// Stdout configures the findings printed at the end of a run.
type Stdout struct {
	// Format: table, json (the enriched results as protojson), dracon-json
	// (one JSON document per finding per line, in the shape of Dracon's
	// stdout-json consumer, for log pipelines) or none.
	Format string `yaml:"format"`
}

// Gate configures the pass/fail verdict.
type Gate struct {
	// FailOn is the lowest severity that fails the run; "" or "none" never
	// fails on findings.
	FailOn string `yaml:"fail_on"`
	// NewOnly fails only on findings not seen in an earlier scan.
	NewOnly bool `yaml:"new_only"`
	// Teams are per-team thresholds, by owner as CODEOWNERS names it
	// ("@acme/payments"): the findings a team owns fail at its fail_on.
	Teams map[string]Team `yaml:"teams"`
}

// Team is one team's gate.
type Team struct {
	FailOn string `yaml:"fail_on"`
}

// Policy configures the Rego policies.
type Policy struct {
	// Paths are .rego files, folders of them (with data.json/data.yaml)
	// or OPA bundles (.tar.gz), relative to the source folder, and
	// "builtin:default" for the bundled defaults. None named: the
	// defaults. Any named replaces them; name builtin:default too to keep
	// them beside.
	Paths []PolicyPath `yaml:"paths"`
	// Base64 is a policy as Dracon's policy enricher took it
	// (enricher-policy-base64-policy).
	Base64 string `yaml:"base64"`
	// RegoVersion pins the syntax of every path that does not pin its
	// own: v0 or v1. Unset, a file only v0 parses is read as v0.
	RegoVersion string `yaml:"rego_version"`
	// AnnotationPrefix is the prefix of the annotation an allow policy
	// writes on each finding; default Dracon's "Policy Pass: ".
	AnnotationPrefix string `yaml:"annotation_prefix"`
	// Exceptions exempt findings from the bundled policies' denials:
	// data.dracon.exceptions.
	Exceptions []Exception `yaml:"exceptions"`
	// SLA is how long high findings may stay open before a release
	// fails: data.dracon.sla.
	SLA *SLA `yaml:"sla"`
	// Data is more data for policies, under data.
	Data map[string]any `yaml:"data"`
}

// PolicyPath is one policy path: a string, or {path, rego_version}.
type PolicyPath struct {
	Path        string `yaml:"path"`
	RegoVersion string `yaml:"rego_version"`
}

// UnmarshalYAML reads a plain path or a mapping.
func (p *PolicyPath) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		p.Path = n.Value
		return nil
	}
	type plain PolicyPath
	var v plain
	if err := n.Decode(&v); err != nil {
		return err
	}
	*p = PolicyPath(v)
	return nil
}

// Exception exempts the findings it matches from the bundled policies'
// denials until it expires. Every selector given must match; at least
// one is needed.
type Exception struct {
	ID      string `yaml:"id" json:"id,omitempty"`
	Rule    string `yaml:"rule" json:"rule,omitempty"`
	Tool    string `yaml:"tool" json:"tool,omitempty"`
	Path    string `yaml:"path" json:"path,omitempty"` // a glob
	Owner   string `yaml:"owner" json:"owner"`
	Reason  string `yaml:"reason" json:"reason"`
	Expires string `yaml:"expires" json:"expires"` // YYYY-MM-DD
}

// SLA is how many days a high finding may stay open, per team.
type SLA struct {
	HighDays int            `yaml:"high_days" json:"high_days,omitempty"`
	Teams    map[string]SLA `yaml:"teams" json:"teams,omitempty"`
}

// Duration is a time.Duration written as "90s" or "5m".
type Duration time.Duration

// UnmarshalYAML reads "5m"-style durations.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil || v < 0 {
		return fmt.Errorf("line %d: %q is not a duration (e.g. 90s, 5m)", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// Names of things a config may refer to, given by the caller so that this
// package stays free of the registry.
type Names struct {
	Producers []string
	// Resolve maps an alias to the producer's name.
	Resolve func(string) (string, bool)
}

var (
	severities = []string{"", "none", "info", "low", "medium", "high", "critical"}
	runners    = []string{"", "local", "container"}
	pulls      = []string{"", "missing", "always", "never"}
	formats    = []string{"", "table", "json", "dracon-json", "none"}
	filters    = []string{"", "added", "diff_context", "file", "nofilter"}
	// gitlabReports are internal/consumers/gitlab's report names.
	gitlabReports = []string{"sast", "dependency_scanning", "secret_detection", "container_scanning", "codequality", "cyclonedx"}
)

// GitLabReports are the names consumers.gitlab.reports takes.
func GitLabReports() []string { return append([]string(nil), gitlabReports...) }

// Load reads and validates a config file.
func Load(path string, names Names) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	c, err := Parse(data, names)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Parse reads and validates a config document.
func Parse(data []byte, names Names) (*Config, error) {
	c := &Config{}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(data)) == 0 || len(root.Content) == 0 {
		return c.defaults(), nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true) // a typo is an error, not an ignored key
	if err := dec.Decode(c); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			return nil, errors.New(strings.Join(te.Errors, "; "))
		}
		return nil, err
	}
	c.lines = map[string]int{}
	collectLines(root.Content[0], "", c.lines)
	if err := c.validate(names); err != nil {
		return nil, err
	}
	return c.defaults(), nil
}

func (c *Config) defaults() *Config {
	if c.Enrichers.Dedup.Store == "" {
		c.Enrichers.Dedup.Store = ".dracon/findings.db"
	}
	if c.Consumers.SARIF.Path == "" {
		c.Consumers.SARIF.Path = "dracon.sarif"
	}
	if c.Consumers.Stdout.Format == "" {
		c.Consumers.Stdout.Format = "table"
	}
	return c
}

func (c *Config) validate(names Names) error {
	var errs []string
	add := func(key, format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		if l := c.lines[key]; l > 0 {
			errs = append(errs, fmt.Sprintf("line %d: %s: %s", l, key, msg))
		} else {
			errs = append(errs, fmt.Sprintf("%s: %s", key, msg))
		}
	}
	if c.Version != 0 && c.Version != 1 {
		add("version", "unsupported version %d (this Dracon reads version 1)", c.Version)
	}
	resolved := map[string]*Producer{}
	keys := make([]string, 0, len(c.Producers))
	for k := range c.Producers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, name := range keys {
		p := c.Producers[name]
		key := "producers." + name
		canonical, ok := names.Resolve(name)
		if !ok {
			add(key, "unknown producer %q (known: %s)", name, strings.Join(names.Producers, ", "))
			continue
		}
		if _, dup := resolved[canonical]; dup {
			add(key, "%s is configured twice (under another of its names)", canonical)
		}
		if p == nil {
			p = &Producer{}
		}
		if p.Runner == "tekton" {
			add(key+".runner", "runner tekton is for the whole run (the top-level runner); a producer runs local or container")
		} else if !oneOf(p.Runner, runners) {
			add(key+".runner", "runner %q is not available (use: local or container)", p.Runner)
		}
		resolved[canonical] = p
	}
	c.Producers = resolved
	if !oneOf(strings.ToLower(c.Gate.FailOn), severities) {
		add("gate.fail_on", "%q is not a severity (one of: %s)", c.Gate.FailOn, strings.Join(severities[1:], ", "))
	}
	teams := make([]string, 0, len(c.Gate.Teams))
	for name := range c.Gate.Teams {
		teams = append(teams, name)
	}
	sort.Strings(teams)
	for _, name := range teams {
		if !oneOf(strings.ToLower(c.Gate.Teams[name].FailOn), severities) || c.Gate.Teams[name].FailOn == "" {
			add("gate.teams."+name+".fail_on", "%q is not a severity (one of: %s)", c.Gate.Teams[name].FailOn, strings.Join(severities[1:], ", "))
		}
	}
	if !oneOf(c.Consumers.Stdout.Format, formats) {
		add("consumers.stdout.format", "%q is not a format (table, json, dracon-json, none)", c.Consumers.Stdout.Format)
	}
	if c.Concurrency < 0 {
		add("concurrency", "must not be negative")
	}
	if !oneOf(c.Baseline.DiffFilter, filters) {
		add("baseline.diff_filter", "%q is not a diff filter (added, diff_context, file, nofilter)", c.Baseline.DiffFilter)
	}
	if c.Baseline.Ref != "" && c.Baseline.File != "" {
		add("baseline.file", "give baseline.ref or baseline.file, not both")
	}
	for _, list := range []struct {
		key   string
		globs []string
	}{{"vendored.scan", c.Vendored.Scan}, {"vendored.skip", c.Vendored.Skip}} {
		for i, g := range list.globs {
			if err := pathglob.Valid(g); err != nil {
				key := fmt.Sprintf("%s[%d]", list.key, i)
				if c.lines[key] == 0 {
					key = list.key
				}
				add(key, "%v", err)
			}
		}
	}
	for i, r := range c.Consumers.GitLab.Reports {
		if !oneOf(r, gitlabReports) {
			add(fmt.Sprintf("consumers.gitlab.reports[%d]", i), "%q is not a GitLab report (%s)", r, strings.Join(gitlabReports, ", "))
		}
	}
	if !oneOf(c.Runner, append(runners, "tekton")) {
		add("runner", "runner %q is not available (use: local, container or tekton)", c.Runner)
	}
	c.Tekton.validate(add)
	if !oneOf(c.Container.Pull, pulls) {
		add("container.pull", "%q is not a pull policy (missing, always, never)", c.Container.Pull)
	}
	c.validateConsumers(add)
	c.Enrichers.Custom.validate("enrichers.custom", add)
	c.Enrichers.DepsDev.validate("enrichers.depsdev", add)
	c.Enrichers.Exploits.validate("enrichers.exploits", add)
	c.Enrichers.Reachability.validate("enrichers.reachability", add)
	versions := []string{"", "v0", "v1"}
	if !oneOf(c.Policy.RegoVersion, versions) {
		add("policy.rego_version", "%q: use v0 or v1", c.Policy.RegoVersion)
	}
	for i, p := range c.Policy.Paths {
		key := fmt.Sprintf("policy.paths[%d]", i)
		if strings.TrimSpace(p.Path) == "" {
			add(key, "an empty policy path")
		}
		if !oneOf(p.RegoVersion, versions) {
			add(key, "rego_version %q: use v0 or v1", p.RegoVersion)
		}
	}
	for i, e := range c.Policy.Exceptions {
		key := fmt.Sprintf("policy.exceptions[%d]", i)
		switch {
		case e.ID == "" && e.Rule == "" && e.Tool == "" && e.Path == "":
			add(key, "an exception needs id, rule, tool or path to say what it exempts")
		case e.Owner == "" || e.Reason == "" || e.Expires == "":
			add(key, "an exception needs an owner, a reason and an expiry date (expires: YYYY-MM-DD)")
		default:
			if _, err := time.Parse("2006-01-02", e.Expires); err != nil {
				add(key+".expires", "%q is not a date (YYYY-MM-DD)", e.Expires)
			}
			if e.Path != "" {
				if err := pathglob.Valid(e.Path); err != nil {
					add(key+".path", "%v", err)
				}
			}
		}
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "\n"))
	}
	return nil
}

func oneOf(s string, set []string) bool {
	for _, v := range set {
		if s == v {
			return true
		}
	}
	return false
}

// collectLines records the line of every mapping key under a dotted path,
// and of every list item as path[i].
func collectLines(n *yaml.Node, prefix string, out map[string]int) {
	if n.Kind == yaml.SequenceNode {
		for i, item := range n.Content {
			key := fmt.Sprintf("%s[%d]", prefix, i)
			out[key] = item.Line
			collectLines(item, key, out)
		}
		return
	}
	if n.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := k.Value
		if prefix != "" {
			key = prefix + "." + k.Value
		}
		out[key] = k.Line
		collectLines(v, key, out)
	}
}
