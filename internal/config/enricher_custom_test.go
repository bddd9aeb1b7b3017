package config

import (
	"reflect"
	"strings"
	"testing"
)

func parseCustom(t *testing.T, block string) (CustomAnnotations, error) {
	t.Helper()
	c, err := Parse([]byte("enrichers:\n  custom:\n"+block), Names{Resolve: func(s string) (string, bool) { return s, true }})
	if err != nil {
		return CustomAnnotations{}, err
	}
	return c.Enrichers.Custom, nil
}

func TestCustomBlock(t *testing.T) {
	c, err := parseCustom(t, `    annotations: {team: payments, env: prod, port: 8080}
    annotations_json: '{"cost-centre":"cc-17","tier":"1"}'
    rules:
      - path: "services/pay/**"
        tool: gosec
        annotations: {pci: "true"}
      - tool: trivy
        annotations: {team: platform}
`)
	if err != nil {
		t.Fatal(err)
	}
	// YAML's 8080 is read as the text it was written as: annotations are strings.
	want := map[string]string{"team": "payments", "env": "prod", "port": "8080", "cost-centre": "cc-17", "tier": "1"}
	if got := c.Base(); !reflect.DeepEqual(got, want) {
		t.Errorf("Base() = %v, want %v", got, want)
	}
	if len(c.Rules) != 2 || c.Rules[0].Path != "services/pay/**" || c.Rules[0].Tool != "gosec" || c.Rules[0].Annotations["pci"] != "true" ||
		c.Rules[1].Tool != "trivy" || c.Rules[1].Annotations["team"] != "platform" {
		t.Errorf("rules = %+v", c.Rules)
	}
	if !(Enrichers{Custom: c}).On("custom") {
		t.Error("custom is on by default")
	}

	// Built in code, not parsed: Base reads both maps the same way.
	built := CustomAnnotations{Annotations: map[string]string{"a": "1"}, AnnotationsJSON: `{"b":"2"}`}
	if got := built.Base(); !reflect.DeepEqual(got, map[string]string{"a": "1", "b": "2"}) {
		t.Errorf("Base() of a built block = %v", got)
	}
	empty, err := parseCustom(t, "    enabled: false\n")
	if err != nil || len(empty.Base()) != 0 || (Enrichers{Custom: empty}).On("custom") {
		t.Errorf("enabled: false = %+v, %v", empty, err)
	}
}

func TestCustomBlockRefused(t *testing.T) {
	for _, tc := range []struct{ block, want string }{
		{`    annotations_json: '{"a": 1}'` + "\n", `enrichers.custom.annotations_json: annotation values must be strings: "a" is a number, not a string`},
		{`    annotations_json: '{"a": "x", "b": {"c": "d"}, "e": null, "f": true, "g": [1]}'` + "\n",
			`"b" is an object, not a string; "e" is null, not a string; "f" is a boolean, not a string; "g" is an array, not a string`},
		{`    annotations_json: '["a", "b"]'` + "\n", "enrichers.custom.annotations_json: not a JSON object of strings"},
		{`    annotations_json: 'team:payments,env:prod'` + "\n", "enrichers.custom.annotations_json: not a JSON object of strings"},
		{`    annotations_json: 'null'` + "\n", "not a JSON object of strings ({\"key\": \"value\"}): null"},
		{"    annotations: {team: a}\n    annotations_json: '{\"team\":\"b\"}'\n", `enrichers.custom.annotations_json: "team" is in annotations too`},
		{"    annotations: {known_exploited: \"true\"}\n", `enrichers.custom.annotations.known_exploited: "known_exploited" is an annotation Dracon's own enrichers write`},
		{"    annotations_json: '{\"Owner-0\":\"@me\"}'\n", `enrichers.custom.annotations_json.Owner-0: "Owner-0"`},
		{"    annotations: {\"\": x}\n", "enrichers.custom.annotations: an annotation needs a key"},
		{"    rules:\n      - annotations: {a: b}\n", "line 4: enrichers.custom.rules[0]: a rule needs a path or a tool"},
		{"    rules:\n      - tool: gosec\n", "enrichers.custom.rules[0].annotations: a rule needs annotations"},
		{"    rules:\n      - path: /abs/**\n        annotations: {a: b}\n", `enrichers.custom.rules[0].path: "/abs/**": globs are relative to the source folder`},
		{"    rules:\n      - path: \"src/[a\"\n        annotations: {a: b}\n", "is not a valid glob"},
		{"    rules:\n      - tool: gosec\n        annotations: {epss: \"1\"}\n", `enrichers.custom.rules[0].annotations.epss: "epss" is an annotation`},
		{"    annotation: {a: b}\n", "field annotation not found"},
	} {
		_, err := parseCustom(t, tc.block)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q", tc.block, err, tc.want)
		}
	}
}
