package config

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Jira configures consumers.jira. Jira (Cloud and Data Center): one
// ticket per finding or group, found again by a label that carries the
// finding's id.
type Jira struct {
	Delivery `yaml:",inline"`
	// URL is the Jira site: https://acme.atlassian.net (Cloud) or
	// https://jira.acme.com (Data Center, with its context path if any).
	// Unset: $DRACON_JIRA_URL.
	URL string `yaml:"url"`
	// User is the account for basic authentication: on Cloud the
	// account's email, with an API token. Unset: $DRACON_JIRA_USER. With
	// no user at all, the token is sent as a bearer token (a Data Center
	// personal access token).
	User string `yaml:"user"`
	// Token is the API token (Cloud), personal access token or password
	// (Data Center). Unset: the environment variable DRACON_JIRA_TOKEN.
	Token Secret `yaml:"token"`
	// Config is Dracon's Jira configuration file (JSON, or YAML with the
	// same keys), relative to the scanned folder. Unset:
	// $DRACON_JIRA_CONFIG_PATH. Not with dracon_config.
	Config string `yaml:"config"`
	// DraconConfig is the same configuration written here, with Dracon's
	// own keys (defaultValues, mappings, descriptionTemplate,
	// syncMappings, addToDescription). Not with config.
	DraconConfig *JiraDraconConfig `yaml:"dracon_config"`
	// Project is the project key tickets are created and searched in; it
	// overrides defaultValues.project (Dracon's consumer-jira-project-name).
	Project string `yaml:"project"`
	// IssueType overrides defaultValues.issueType (default "Task").
	IssueType string `yaml:"issue_type"`
	// Deployment is cloud or datacenter: which search API is used.
	// Default: cloud when the URL's host ends in atlassian.net, else
	// datacenter.
	Deployment string `yaml:"deployment"`
	// GroupBy is what one ticket stands for: finding (default, one ticket
	// per finding), rule (tool and rule id), file (path) or package (the
	// package URL without its version).
	GroupBy string `yaml:"group_by"`
	// Transitions name the workflow transitions Dracon takes.
	Transitions JiraTransitions `yaml:"transitions"`
}

// JiraTransitions are workflow transitions, by name (as the ticket's
// buttons say). Unset, Dracon only comments.
type JiraTransitions struct {
	// Fixed is taken when a ticket's findings are gone ("Done").
	Fixed string `yaml:"fixed"`
	// Reopen is taken when a finding whose ticket is done is found again
	// ("Reopen", "To Do").
	Reopen string `yaml:"reopen"`
}

// JiraDraconConfig is Dracon's Jira configuration (pkg/jira/config), read
// unchanged from its JSON or YAML file or from dracon_config.
type JiraDraconConfig struct {
	// DefaultValues are the fields every ticket gets.
	DefaultValues JiraDefaultValues `json:"defaultValues" yaml:"defaultValues"`
	// Mappings copy a finding's field into a Jira field.
	Mappings []JiraMapping `json:"mappings" yaml:"mappings"`
	// DescriptionTemplate is a Go text/template over the finding; empty:
	// Dracon's default ticket text.
	DescriptionTemplate string `json:"descriptionTemplate" yaml:"descriptionTemplate"`
	// SyncMappings name the closed states that are a decision about the
	// finding: such tickets are left closed.
	SyncMappings []JiraSyncMapping `json:"syncMappings" yaml:"syncMappings"`
	// AddToDescription (Dracon up to v0.54, deprecated) appends these
	// fields to the description in a {code} block.
	AddToDescription []string `json:"addToDescription" yaml:"addToDescription"`
}

// JiraDefaultValues are Dracon's defaultValues.
type JiraDefaultValues struct {
	Project         string            `json:"project" yaml:"project"`
	Environment     string            `json:"environment" yaml:"environment"`
	IssueType       string            `json:"issueType" yaml:"issueType"`
	Components      []string          `json:"components" yaml:"components"`
	AffectsVersions []string          `json:"affectsVersions" yaml:"affectsVersions"`
	Labels          []string          `json:"labels" yaml:"labels"`
	CustomFields    []JiraCustomField `json:"customFields" yaml:"customFields"`
}

// JiraCustomField is a custom field with fixed values.
type JiraCustomField struct {
	ID        string   `json:"id" yaml:"id"`
	FieldType string   `json:"fieldType" yaml:"fieldType"`
	Values    []string `json:"values" yaml:"values"`
}

// JiraMapping copies the finding's DraconField (a Dracon document key, or
// an annotation of that name, which wins) into JiraField.
type JiraMapping struct {
	DraconField string `json:"draconField" yaml:"draconField"`
	JiraField   string `json:"jiraField" yaml:"jiraField"`
	FieldType   string `json:"fieldType" yaml:"fieldType"`
}

// JiraSyncMapping says that a ticket closed in JiraStatus with
// JiraResolution means DraconStatus for its finding.
type JiraSyncMapping struct {
	JiraStatus     string `json:"jiraStatus" yaml:"jiraStatus"`
	JiraResolution string `json:"jiraResolution" yaml:"jiraResolution"`
	DraconStatus   string `json:"draconStatus" yaml:"draconStatus"`
}

// Values of the Jira block, checked at load.
var (
	// JiraFieldTypes are Dracon's field types: single-value {"value":v},
	// multi-value [{"value":v}...], float (a number), simple-value ("v").
	JiraFieldTypes  = []string{"single-value", "multi-value", "float", "simple-value"}
	jiraDeployments = []string{"cloud", "datacenter"}
	jiraGroupBy     = []string{"finding", "rule", "file", "package"}
	// JiraDocumentKeys are the keys of Dracon's Jira document
	// (pkg/jira/document): what draconField and addToDescription name.
	JiraDocumentKeys = []string{"annotations", "confidence_text", "count", "cve", "cvss", "description", "false_positive",
		"first_found", "hash", "scan_id", "scan_start_time", "severity_text", "source", "target", "title", "tool_name", "type"}
	// JiraDraconStatuses are the draconStatus values: Dracon's
	// (FalsePositive, Duplicate, Resolved) and the findings store's
	// triage statuses.
	JiraDraconStatuses = []string{"FalsePositive", "Duplicate", "Resolved", "AcceptedRisk", "Suppressed"}
)

// validate checks what is particular to this consumer; the common block
// is checked by Delivery.validate.
func (c *Jira) validate(key string, add func(key, format string, args ...any)) {
	if c.URL != "" {
		if u, err := url.Parse(c.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			add(key+".url", "%q is not an http(s) URL of a Jira site", c.URL)
		}
	}
	if c.Config != "" && c.DraconConfig != nil {
		add(key+".dracon_config", "give config (a file) or dracon_config (inline), not both")
	}
	if c.Deployment != "" && !oneOf(c.Deployment, jiraDeployments) {
		add(key+".deployment", "%q is not a deployment (cloud, datacenter)", c.Deployment)
	}
	if c.GroupBy != "" && !oneOf(c.GroupBy, jiraGroupBy) {
		add(key+".group_by", "%q is not a grouping (finding, rule, file, package)", c.GroupBy)
	}
	if c.Project != "" && strings.ContainsAny(c.Project, " \"'") {
		add(key+".project", "%q is not a project key", c.Project)
	}
	if c.DraconConfig != nil {
		c.DraconConfig.Check(key+".dracon_config", add)
	}
}

// Check reports what is wrong in a Dracon Jira configuration, each under
// key and the offending key's path. The Jira consumer checks a file with
// it too.
func (d *JiraDraconConfig) Check(key string, add func(key, format string, args ...any)) {
	dv := d.DefaultValues
	if strings.ContainsAny(dv.Project, " \"'") {
		add(key+".defaultValues.project", "%q is not a project key", dv.Project)
	}
	for i, l := range dv.Labels {
		if l == "" || strings.ContainsAny(l, " \t\n") {
			add(fmt.Sprintf("%s.defaultValues.labels[%d]", key, i), "%q: a Jira label is one word (no spaces)", l)
		}
	}
	for i, cf := range dv.CustomFields {
		k := fmt.Sprintf("%s.defaultValues.customFields[%d]", key, i)
		if cf.ID == "" {
			add(k+".id", "a custom field needs its id (customfield_10050)")
		}
		checkJiraFieldType(k+".fieldType", cf.FieldType, add)
		if len(cf.Values) == 0 {
			add(k+".values", "a default custom field needs a value")
		}
		if cf.FieldType == "float" {
			for j, v := range cf.Values {
				if _, err := strconv.ParseFloat(v, 64); err != nil {
					add(fmt.Sprintf("%s.values[%d]", k, j), "%q is not a number (fieldType float)", v)
				}
			}
		}
	}
	for i, m := range d.Mappings {
		k := fmt.Sprintf("%s.mappings[%d]", key, i)
		if m.DraconField == "" {
			add(k+".draconField", "a mapping needs the field it copies (%s, or an annotation's name)", strings.Join(JiraDocumentKeys, ", "))
		}
		if m.JiraField == "" {
			add(k+".jiraField", "a mapping needs the Jira field it fills (customfield_10001)")
		}
		checkJiraFieldType(k+".fieldType", m.FieldType, add)
	}
	for i, s := range d.SyncMappings {
		k := fmt.Sprintf("%s.syncMappings[%d]", key, i)
		if s.JiraStatus == "" {
			add(k+".jiraStatus", "a sync mapping needs the Jira status it matches")
		}
		if !oneOf(s.DraconStatus, JiraDraconStatuses) {
			add(k+".draconStatus", "%q is not a Dracon status (%s)", s.DraconStatus, strings.Join(JiraDraconStatuses, ", "))
		}
	}
	for i, f := range d.AddToDescription {
		if !oneOf(f, JiraDocumentKeys) {
			add(fmt.Sprintf("%s.addToDescription[%d]", key, i), "%q is not a Dracon document field (%s)", f, strings.Join(JiraDocumentKeys, ", "))
		}
	}
}

func checkJiraFieldType(key, t string, add func(key, format string, args ...any)) {
	if !oneOf(t, JiraFieldTypes) {
		add(key, "%q is not a field type (%s)", t, strings.Join(JiraFieldTypes, ", "))
	}
}
