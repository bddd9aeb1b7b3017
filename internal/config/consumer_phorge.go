package config

import (
	"fmt"
	"sort"
	"strings"
)

// Phorge configures consumers.phorge. Phabricator or Phorge: Maniphest
// tasks through Conduit, one per finding, found again by the finding's
// id (a custom field, or a marker in the title).
type Phorge struct {
	Delivery `yaml:",inline"`
	// URL is the install's address (https://phorge.example.com); Conduit
	// answers under /api/. Unset: $DRACON_PHORGE_URL.
	URL string `yaml:"url"`
	// Token is a Conduit API token (api-...) of the account tasks are
	// written as. Unset: the environment variable DRACON_PHORGE_TOKEN.
	Token Secret `yaml:"token"`
	// IDField is a Maniphest custom field that holds the finding's id,
	// by its Conduit key ("custom.dracon.id"): a "link" field with
	// "search": true, which Conduit can look up exactly and many at a
	// time. Unset: the id goes in the title as "[dracon:<12 hex>]" and
	// each finding is looked up by a title search.
	IDField string `yaml:"id_field"`
	// Projects are project tags or PHIDs every new task is tagged with.
	Projects []string `yaml:"projects"`
	// OwnerProjects maps an owner (a CODEOWNERS name, "@acme/payments")
	// to the project tags its findings' new tasks also get.
	OwnerProjects map[string][]string `yaml:"owner_projects"`
	// Subscribers are usernames or PHIDs subscribed to every new task.
	Subscribers []string `yaml:"subscribers"`
	// Priorities maps a severity (info, low, medium, high, critical) to a
	// priority keyword; unset ones: critical unbreak, high high, medium
	// normal, low low, info wish. A task's priority is set when it is
	// created; later triage is left alone.
	Priorities map[string]string `yaml:"priorities"`
	// OpenStatus and ResolvedStatus are the statuses a task is reopened
	// to and closed with (defaults: the install's default and "closed"
	// special statuses, open and resolved).
	OpenStatus     string `yaml:"open_status"`
	ResolvedStatus string `yaml:"resolved_status"`
	// DescriptionTemplate is a Go text/template over the finding
	// (consumers/tmpl's view), in Remarkup; unset: Dracon's own.
	DescriptionTemplate string `yaml:"description_template"`
}

// phorgeSeverities are the keys priorities takes.
var phorgeSeverities = []string{"info", "low", "medium", "high", "critical"}

// validate checks what is particular to this consumer; the common block
// is checked by Delivery.validate.
func (c *Phorge) validate(key string, add func(key, format string, args ...any)) {
	if c.URL != "" {
		if msg := checkConsumerURL(c.URL); msg != "" {
			add(key+".url", "%s", msg)
		}
	}
	if c.IDField != "" && (!strings.HasPrefix(c.IDField, "custom.") || len(c.IDField) == len("custom.") || strings.ContainsAny(c.IDField, " \t\"")) {
		add(key+".id_field", "%q is not a custom field's Conduit key (custom.<key>, as maniphest.custom-field-definitions names it)", c.IDField)
	}
	for i, p := range c.Projects {
		if strings.TrimSpace(p) == "" {
			add(fmt.Sprintf("%s.projects[%d]", key, i), "is blank")
		}
	}
	for i, s := range c.Subscribers {
		if strings.TrimSpace(s) == "" || strings.ContainsAny(s, " \t,") {
			add(fmt.Sprintf("%s.subscribers[%d]", key, i), "%q is not a username or PHID", s)
		}
	}
	owners := make([]string, 0, len(c.OwnerProjects))
	for o := range c.OwnerProjects {
		owners = append(owners, o)
	}
	sort.Strings(owners)
	for _, o := range owners {
		if strings.TrimSpace(o) == "" {
			add(key+".owner_projects", "an owner's name is empty")
		}
		if len(c.OwnerProjects[o]) == 0 {
			add(key+".owner_projects."+o, "lists no project")
		}
		for i, p := range c.OwnerProjects[o] {
			if strings.TrimSpace(p) == "" {
				add(fmt.Sprintf("%s.owner_projects.%s[%d]", key, o, i), "is blank")
			}
		}
	}
	sevs := make([]string, 0, len(c.Priorities))
	for s := range c.Priorities {
		sevs = append(sevs, s)
	}
	sort.Strings(sevs)
	for _, s := range sevs {
		if !oneOf(s, phorgeSeverities) {
			add(key+".priorities."+s, "%q is not a severity (info, low, medium, high, critical)", s)
		}
		if v := c.Priorities[s]; strings.TrimSpace(v) == "" || strings.ContainsAny(v, " \t") {
			add(key+".priorities."+s, "%q is not a priority keyword (unbreak, triage, high, normal, low, wish)", v)
		}
	}
	for _, s := range []struct{ k, v string }{{"open_status", c.OpenStatus}, {"resolved_status", c.ResolvedStatus}} {
		if s.v != "" && (strings.TrimSpace(s.v) == "" || strings.ContainsAny(s.v, " \t")) {
			add(key+"."+s.k, "%q is not a status constant (open, resolved, ...)", s.v)
		}
	}
	if c.OpenStatus != "" && c.OpenStatus == c.ResolvedStatus {
		add(key+".resolved_status", "is the same as open_status")
	}
	checkConsumerTemplate(key+".description_template", c.DescriptionTemplate, add)
}
