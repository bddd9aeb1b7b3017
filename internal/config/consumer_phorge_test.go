package config

import (
	"strings"
	"testing"
)

func parsePhorge(t *testing.T, block string) (*Phorge, error) {
	t.Helper()
	c, err := Parse([]byte("consumers:\n  phorge:\n"+block), Names{Resolve: func(s string) (string, bool) { return s, true }})
	if err != nil {
		return nil, err
	}
	return c.Consumers.Phorge, nil
}

func TestPhorgeBlock(t *testing.T) {
	p, err := parsePhorge(t, `    url: https://phorge.example.com
    token: env:PHORGE_TOKEN
    id_field: custom.dracon.id
    projects: [security, PHID-PROJ-abcdefghijklmnopqrst]
    owner_projects:
      "@acme/payments": [payments]
    subscribers: [alice]
    priorities: {critical: unbreak, info: low}
    open_status: open
    resolved_status: resolved
    description_template: "{{.RawIssue.Description}}"
    filter: {policy: [deny]}
`)
	if err != nil {
		t.Fatal(err)
	}
	if p.URL != "https://phorge.example.com" || p.Token != "env:PHORGE_TOKEN" || p.IDField != "custom.dracon.id" ||
		strings.Join(p.Projects, ",") != "security,PHID-PROJ-abcdefghijklmnopqrst" || strings.Join(p.OwnerProjects["@acme/payments"], ",") != "payments" ||
		strings.Join(p.Subscribers, ",") != "alice" || p.Priorities["critical"] != "unbreak" || p.Priorities["info"] != "low" ||
		p.OpenStatus != "open" || p.ResolvedStatus != "resolved" || p.DescriptionTemplate == "" || p.Filter.Policy[0] != "deny" {
		t.Errorf("phorge = %+v", *p)
	}
}

func TestPhorgeBlockRefused(t *testing.T) {
	for _, tc := range []struct{ block, want string }{
		{"    token: api-aaaabbbbccccddddeeeeffffgggg\n", "env:NAME or file:PATH"},
		{"    url: phorge.example.com/api\n", "consumers.phorge.url: not an http or https URL"},
		{"    id_field: dracon.id\n", `consumers.phorge.id_field: "dracon.id" is not a custom field's Conduit key`},
		{"    id_field: custom.\n", `consumers.phorge.id_field: "custom." is not a custom field's Conduit key`},
		{"    subscribers: [\"alice, bob\"]\n", `consumers.phorge.subscribers[0]: "alice, bob" is not a username`},
		{"    projects: [\"\"]\n", "consumers.phorge.projects[0]: is blank"},
		{"    owner_projects: {\"@acme/payments\": []}\n", "consumers.phorge.owner_projects.@acme/payments: lists no project"},
		{"    priorities: {severe: high}\n", `consumers.phorge.priorities.severe: "severe" is not a severity`},
		{"    priorities: {high: \"very high\"}\n", `consumers.phorge.priorities.high: "very high" is not a priority keyword`},
		{"    open_status: open\n    resolved_status: open\n", "consumers.phorge.resolved_status: is the same as open_status"},
		{"    description_template: \"{{end}}\"\n", "consumers.phorge.description_template:"},
		{"    project: security\n", "field project not found"},
	} {
		_, err := parsePhorge(t, tc.block)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want %q", tc.block, err, tc.want)
		}
	}
}
