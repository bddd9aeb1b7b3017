// Package jira is the Jira consumer: one ticket per finding (or per
// rule, file or package), created once and kept up to date from run to
// run. Each ticket carries a label made from its finding's id; a run
// finds the tickets of all its findings with a few JQL searches before it
// creates any, so a re-run, or a run retried after a partial failure,
// creates no ticket twice. It reads Dracon's Jira configuration (default
// values, mappings with their four field types, description template,
// sync mappings) unchanged, and talks to Jira Cloud and Data Center
// through go-jira (REST v2) and the run's retrying HTTP client.
package jira

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	jira "github.com/andygrunwald/go-jira"
	"github.com/draconsec/dracon/internal/config"
	"github.com/draconsec/dracon/internal/consumers"
	"github.com/draconsec/dracon/internal/consumers/tmpl"
)

// Dracon's environment variables, read when the config leaves a key out.
const (
	EnvURL        = "DRACON_JIRA_URL"
	EnvUser       = "DRACON_JIRA_USER"
	EnvToken      = "DRACON_JIRA_TOKEN"
	EnvConfigPath = "DRACON_JIRA_CONFIG_PATH"
)

const (
	// bulkSize is how many tickets one create call makes: Jira's bulk
	// create takes up to 50.
	bulkSize = 50
	// workers is how many calls are in flight at once: enough that a
	// thousand tickets do not wait on one another, few enough not to be
	// rate limited.
	workers = 4
)

// Consumer sends findings to Jira.
type Consumer struct {
	// client is nil in a dry run without credentials; offline says why.
	client  *jira.Client
	offline string
	site    string
	cloud   bool

	project, issueType string
	groupBy            string
	transitions        config.JiraTransitions
	dracon             config.JiraDraconConfig
	template           *tmpl.Template
	// defaultFields are defaultValues.customFields as Jira takes them.
	defaultFields map[string]any
	log           io.Writer

	// batch and workers are bulkSize and workers; tests make them small.
	batch, workers int
}

// New builds the consumer from its block. The Jira URL and a token are
// required (the config's keys or Dracon's environment variables); so is a
// project key, except in a dry run (env.DryRun).
func New(cfg *config.Jira, env consumers.Env) (*Consumer, error) {
	return build(cfg, env, env.DryRun)
}

// NewDryRun builds the consumer for a dry run: without a URL or token it
// searches nothing and shows every ticket as one it would create.
func NewDryRun(cfg *config.Jira, env consumers.Env) (*Consumer, error) {
	return build(cfg, env, true)
}

// String is the consumer's config key.
func (c *Consumer) String() string { return "jira" }

func build(cfg *config.Jira, env consumers.Env, dryRun bool) (*Consumer, error) {
	getenv := env.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	c := &Consumer{log: env.Log, groupBy: cfg.GroupBy, transitions: cfg.Transitions, batch: bulkSize, workers: workers}
	if c.log == nil {
		c.log = io.Discard
	}
	if c.groupBy == "" {
		c.groupBy = "finding"
	}
	if err := c.readDracon(cfg, env.Source, getenv); err != nil {
		return nil, err
	}
	dv := c.dracon.DefaultValues
	c.project = firstOf(cfg.Project, dv.Project)
	if c.project == "" {
		return nil, errors.New("jira: no project: set consumers.jira.project (or defaultValues.project in Dracon's Jira config)")
	}
	c.issueType = firstOf(cfg.IssueType, dv.IssueType, "Task")
	var err error
	if c.template, err = tmpl.Parse("jira: descriptionTemplate", firstOf(c.dracon.DescriptionTemplate, defaultTemplate)); err != nil {
		return nil, err
	}
	c.defaultFields = map[string]any{}
	for _, cf := range dv.CustomFields {
		v, ok, err := fieldValue(cf.FieldType, cf.Values)
		if err != nil {
			return nil, fmt.Errorf("jira: defaultValues.customFields %s: %w", cf.ID, err)
		}
		if ok {
			c.defaultFields[cf.ID] = v
		}
	}
	if len(c.dracon.AddToDescription) > 0 {
		fmt.Fprintln(c.log, "dracon: jira: addToDescription is deprecated (Dracon v0.55 replaced it with descriptionTemplate); its {code} block is still added to each description")
	}

	site := strings.TrimRight(strings.TrimSpace(firstOf(cfg.URL, getenv(EnvURL))), "/")
	user := firstOf(cfg.User, getenv(EnvUser))
	token, err := env.Secret(cfg.Token, EnvToken)
	if err != nil {
		return nil, fmt.Errorf("jira: consumers.jira.token: %w", err)
	}
	var host string
	if site != "" {
		u, err := url.Parse(site)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("jira: %q (consumers.jira.url or %s) is not an http(s) URL", site, EnvURL)
		}
		host = strings.ToLower(u.Hostname())
	}
	c.site = site
	switch cfg.Deployment {
	case "cloud":
		c.cloud = true
	case "datacenter":
	default:
		c.cloud = strings.HasSuffix(host, ".atlassian.net")
	}
	var missing string
	switch {
	case site == "":
		missing = fmt.Sprintf("no Jira URL: set consumers.jira.url or %s", EnvURL)
	case token == "" && cfg.Token != "":
		missing = fmt.Sprintf("no token: consumers.jira.token (%s) is empty", cfg.Token)
	case token == "":
		missing = fmt.Sprintf("no token: set consumers.jira.token (env:NAME or file:PATH) or %s", EnvToken)
	case user == "" && strings.HasSuffix(host, ".atlassian.net"):
		missing = fmt.Sprintf("no user: Jira Cloud takes the account's email with its API token: set consumers.jira.user or %s", EnvUser)
	}
	if missing != "" {
		if !dryRun {
			return nil, errors.New("jira: " + missing)
		}
		c.offline = missing
		return c, nil
	}

	// Authentication sits on top of the retrying client, so a retried
	// request carries it too. No user: a Data Center personal access
	// token, sent as a bearer token.
	var rt http.RoundTripper = userAgent{next: env.HTTPClient("jira").Transport, value: "dracon/" + firstOf(env.Version, "dev")}
	if user != "" {
		rt = &jira.BasicAuthTransport{Username: user, Password: token, Transport: rt}
	} else {
		rt = &jira.PATAuthTransport{Token: token, Transport: rt}
	}
	if c.client, err = jira.NewClient(&http.Client{Transport: rt}, site); err != nil {
		return nil, fmt.Errorf("jira: %w", err)
	}
	return c, nil
}

// readDracon reads Dracon's Jira configuration: inline, from the file
// the config names, or from $DRACON_JIRA_CONFIG_PATH. None at all is
// allowed: the project and issue type can come from the block.
func (c *Consumer) readDracon(cfg *config.Jira, source string, getenv func(string) string) error {
	if cfg.DraconConfig != nil {
		c.dracon = *cfg.DraconConfig // checked when the config was loaded
		return nil
	}
	path, key := cfg.Config, "consumers.jira.config"
	if path == "" {
		path, key = getenv(EnvConfigPath), EnvConfigPath
	}
	if path == "" {
		return nil
	}
	dc, err := readDraconConfig(path, source)
	if err != nil {
		return fmt.Errorf("jira: Dracon's Jira config (%s %s): %w", key, path, err)
	}
	if err := checkDraconConfig(path, dc); err != nil {
		return fmt.Errorf("jira: Dracon's Jira config: %w", err)
	}
	c.dracon = *dc
	return nil
}

func firstOf(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// Publish creates, updates, comments on and transitions the tickets of
// the run's findings, and of the findings it fixed.
func (c *Consumer) Publish(ctx context.Context, run *consumers.Run, findings []consumers.Finding) (consumers.Delivery, error) {
	var d consumers.Delivery
	groups := c.groups(run, findings, &d)
	fixed := c.fixedGroups(run)
	if c.client == nil {
		if run.DryRun == nil {
			return d, errors.New("jira: " + c.offline)
		}
		c.dryRunOffline(run.DryRun, groups, fixed, &d)
		return d, nil
	}
	var labels []string
	for _, g := range append(append([]*group(nil), groups...), fixed...) {
		labels = append(labels, g.label)
	}
	found, err := c.search(ctx, labels)
	if err != nil {
		// Not knowing which tickets exist, creating any could make a
		// second one: nothing is sent.
		return d, fmt.Errorf("jira: looking for the tickets of earlier runs: %w", err)
	}
	p := c.plan(groups, fixed, found)
	if run.DryRun != nil {
		c.dryRun(ctx, run.DryRun, run, p, &d)
		return d, nil
	}
	err = c.execute(ctx, run, p, &d)
	return d, err
}

// groups gathers the findings into their tickets and renders each. A
// finding whose ticket cannot be rendered is failed; the others go on.
func (c *Consumer) groups(run *consumers.Run, findings []consumers.Finding, d *consumers.Delivery) []*group {
	repo := run.Scan.GetScanTags()["repository"]
	byKey := map[string]*group{}
	var all []*group
	for _, f := range findings {
		key, what, single := c.keyOf(repo, f)
		g := byKey[key]
		if g == nil {
			g = &group{key: key, label: labelOf(key), what: what, single: single}
			byKey[key] = g
			all = append(all, g)
		}
		g.findings = append(g.findings, f)
	}
	var out []*group
	for _, g := range all {
		if err := c.render(run.Scan, g); err != nil {
			fail(d, g, err.Error())
			continue
		}
		out = append(out, g)
	}
	return out
}

// fixedGroups are the tickets of the findings the store saw fixed. A
// group some finding of this run still belongs to (sent or filtered out)
// is not fixed.
func (c *Consumer) fixedGroups(run *consumers.Run) []*group {
	if len(run.Fixed) == 0 {
		return nil
	}
	repo := run.Scan.GetScanTags()["repository"]
	present := map[string]bool{}
	for _, f := range consumers.Flatten(run.Results) {
		key, _, _ := c.keyOf(repo, f)
		present[key] = true
	}
	byKey := map[string]*group{}
	var out []*group
	for _, fx := range run.Fixed {
		key, what, ok := c.fixedKeyOf(repo, fx)
		if !ok || present[key] {
			continue
		}
		g := byKey[key]
		if g == nil {
			g = &group{key: key, label: labelOf(key), what: what}
			byKey[key] = g
			out = append(out, g)
		}
		g.fixed = append(g.fixed, fx)
	}
	return out
}

// fail counts a group's findings as failed, with an error each.
func fail(d *consumers.Delivery, g *group, msg string) {
	for _, f := range g.findings {
		d.Failed++
		d.Errors = append(d.Errors, consumers.Errorf(f, "jira: %s", msg))
	}
	for _, fx := range g.fixed {
		d.Failed++
		d.Errors = append(d.Errors, fmt.Sprintf("%s %s at %s: jira: %s", fx.Tool, fx.Rule, fx.Path, msg))
	}
}

// count is how many findings a group's outcome counts for.
func (g *group) count() int { return len(g.findings) + len(g.fixed) }
