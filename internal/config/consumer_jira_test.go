package config

import (
	"reflect"
	"strings"
	"testing"
)

// jiraNames resolves every producer name: these tests are about the Jira
// block.
var jiraNames = Names{Resolve: func(s string) (string, bool) { return s, true }}

func TestJiraBlock(t *testing.T) {
	c, err := Parse([]byte(`
consumers:
  jira:
    url: https://acme.atlassian.net
    user: security-bot@acme.example
    token: env:JIRA_API_TOKEN
    project: SEC
    issue_type: Vulnerability
    deployment: cloud
    group_by: rule
    transitions: {fixed: Done, reopen: Reopen}
    allow_failure: true
    filter: {min_severity: high}
    dracon_config:
      defaultValues:
        project: OLD
        issueType: Task
        components: [Backend]
        affectsVersions: ["1.0"]
        labels: [security]
        customFields:
          - {id: customfield_10050, fieldType: single-value, values: [Foo]}
          - {id: customfield_10051, fieldType: float, values: ["7.5"]}
      mappings:
        - {draconField: cvss, jiraField: customfield_10001, fieldType: float}
      descriptionTemplate: "{{.RawIssue.Title}}"
      syncMappings:
        - {jiraStatus: Done, jiraResolution: "Won't Do", draconStatus: FalsePositive}
      addToDescription: [tool_name, hash]
`), jiraNames)
	if err != nil {
		t.Fatal(err)
	}
	j := c.Consumers.Jira
	if j == nil {
		t.Fatal("no jira block")
	}
	if j.URL != "https://acme.atlassian.net" || j.User != "security-bot@acme.example" || j.Token != "env:JIRA_API_TOKEN" || j.Project != "SEC" ||
		j.IssueType != "Vulnerability" || j.Deployment != "cloud" || j.GroupBy != "rule" || j.Transitions != (JiraTransitions{Fixed: "Done", Reopen: "Reopen"}) ||
		!j.AllowFailure || j.Filter.MinSeverity != "high" || !j.On() {
		t.Errorf("jira = %+v", *j)
	}
	want := &JiraDraconConfig{
		DefaultValues: JiraDefaultValues{Project: "OLD", IssueType: "Task", Components: []string{"Backend"}, AffectsVersions: []string{"1.0"}, Labels: []string{"security"},
			CustomFields: []JiraCustomField{{"customfield_10050", "single-value", []string{"Foo"}}, {"customfield_10051", "float", []string{"7.5"}}}},
		Mappings:            []JiraMapping{{"cvss", "customfield_10001", "float"}},
		DescriptionTemplate: "{{.RawIssue.Title}}",
		SyncMappings:        []JiraSyncMapping{{"Done", "Won't Do", "FalsePositive"}},
		AddToDescription:    []string{"tool_name", "hash"},
	}
	if !reflect.DeepEqual(j.DraconConfig, want) {
		t.Errorf("dracon_config = %+v\nwant %+v", *j.DraconConfig, *want)
	}
}

// TestJiraBlockErrors: each mistake is reported under its key.
func TestJiraBlockErrors(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"url: jira.acme.example", `consumers.jira.url: "jira.acme.example" is not an http(s) URL`},
		{"deployment: server", `consumers.jira.deployment: "server" is not a deployment (cloud, datacenter)`},
		{"group_by: team", `consumers.jira.group_by: "team" is not a grouping`},
		{"project: SEC KEY", `consumers.jira.project: "SEC KEY" is not a project key`},
		{"token: abc123", "secrets are read from env:NAME or file:PATH"},
		{"config: jira.json\n    dracon_config: {}", "consumers.jira.dracon_config: give config (a file) or dracon_config (inline), not both"},
		{"dracon_config: {mappings: [{draconField: cvss, jiraField: customfield_1, fieldType: number}]}",
			`consumers.jira.dracon_config.mappings[0].fieldType: "number" is not a field type (single-value, multi-value, float, simple-value)`},
		{"dracon_config: {mappings: [{fieldType: float}]}", "consumers.jira.dracon_config.mappings[0].jiraField: a mapping needs the Jira field"},
		{"dracon_config: {defaultValues: {customFields: [{id: customfield_1, fieldType: single-value}]}}",
			"consumers.jira.dracon_config.defaultValues.customFields[0].values: a default custom field needs a value"},
		{"dracon_config: {defaultValues: {customFields: [{id: customfield_1, fieldType: float, values: [high]}]}}",
			`consumers.jira.dracon_config.defaultValues.customFields[0].values[0]: "high" is not a number`},
		{"dracon_config: {defaultValues: {labels: [two words]}}", `consumers.jira.dracon_config.defaultValues.labels[0]: "two words": a Jira label is one word`},
		{"dracon_config: {syncMappings: [{jiraStatus: Done, draconStatus: WontFix}]}",
			`consumers.jira.dracon_config.syncMappings[0].draconStatus: "WontFix" is not a Dracon status`},
		{"dracon_config: {addToDescription: [severity]}", `consumers.jira.dracon_config.addToDescription[0]: "severity" is not a Dracon document field`},
		{"dracon_config: {defaultValue: {project: X}}", "field defaultValue not found"},
	} {
		_, err := Parse([]byte("consumers:\n  jira:\n    "+tc.yaml+"\n"), jiraNames)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.yaml, err, tc.want)
		}
	}
}
