package config

import (
	"bytes"
	"encoding/json"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"
	"os"
	"strings"
	"testing"
	"time"
)

var testNames = Names{
	Producers: []string{"bandit", "gosec", "sarif"},
	Resolve: func(n string) (string, bool) {
		switch n {
		case "gosec", "bandit", "sarif":
			return n, true
		}
		return "", false
	},
}

func TestFull(t *testing.T) {
	c, err := Load("testdata/full.yaml", testNames)
	if err != nil {
		t.Fatal(err)
	}
	g := c.Producers["gosec"]
	if time.Duration(g.Timeout) != 5*time.Minute || g.Args[0] != "-exclude=G104" || !g.On() {
		t.Errorf("gosec = %+v", g)
	}
	if c.Producers["bandit"].On() {
		t.Error("bandit should be disabled")
	}
	if s := c.Producers["sarif"]; len(s.Paths) != 2 || !s.AllowFailure {
		t.Errorf("sarif = %+v", s)
	}
	if g.IncludeVendored == nil || !*g.IncludeVendored || c.Producers["bandit"].IncludeVendored != nil || c.IncludeVendored ||
		strings.Join(c.Vendored.Scan, " ") != "static/app/**" || strings.Join(c.Vendored.Skip, " ") != "legacy/** **/*.bundle.js" {
		t.Errorf("vendored settings: gosec %v, top %v, %+v", g.IncludeVendored, c.IncludeVendored, c.Vendored)
	}
	if c.Gate.FailOn != "high" || !c.Gate.NewOnly || c.Consumers.Stdout.Format != "json" ||
		c.Consumers.SARIF.Path != "out/dracon.sarif" || c.Concurrency != 2 {
		t.Errorf("config = %+v", c)
	}
	if c.Baseline != (Baseline{Ref: "main", DiffFilter: "added", DiffBase: "origin/main"}) || !c.Enrichers.On("baseline") {
		t.Errorf("baseline = %+v", c.Baseline)
	}
	if c.Gate.Teams["@acme/payments"].FailOn != "medium" {
		t.Errorf("teams = %+v", c.Gate.Teams)
	}
}

func TestDefaults(t *testing.T) {
	c, err := Parse(nil, testNames)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Producers) != 0 || c.Enrichers.Dedup.Store != ".dracon/findings.db" || c.Consumers.SARIF.Path != "dracon.sarif" || c.Consumers.Stdout.Format != "table" {
		t.Errorf("defaults = %+v", c)
	}
}

// TestErrors: each bad config names the key and the line.
func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		file string
		want []string
	}{
		{"typo.yaml", []string{"line 4", "timout"}},
		{"unknown-producer.yaml", []string{"line 3", "producers.gosecc", `unknown producer "gosecc"`, "known: bandit, gosec, sarif"}},
		{"bad-values.yaml", []string{"line 3: producers.gosec.runner", "runner tekton is for the whole run", "line 5: gate.fail_on", `"severe"`, "line 8: consumers.stdout.format", "tekton.namespace: \"Dracon_NS\" is not a Kubernetes name", "tekton.source: \"ftp\"", "tekton.workspace.size: \"lots\"", "tekton.workspace: claim names an existing claim"}},
		{"bad-tekton.yaml", []string{`line 3: tekton.namespace: "dracon.ci" is not a Kubernetes namespace name`, "line 4: tekton.timeout: 10s is too short",
			"line 6: tekton.git_url: a clone URL with credentials", "tekton.git_url: is set, but tekton.source is archive"}},
		{"bad-duration.yaml", []string{"line 3", `"five minutes" is not a duration`}},
		{"not-yaml.yaml", []string{"did not find expected"}},
		{"bad-vendored.yaml", []string{`line 5: vendored.scan[1]: "/abs/path/**": globs are relative to the source folder`,
			`line 6: vendored.skip[0]: "legacy/[old" is not a valid glob`}},
		{"vendored-typo.yaml", []string{"line 3", "field include not found"}},
		{"bad-include-vendored.yaml", []string{"line 4", "sometimes", "bool"}},
		{"bad-teams.yaml", []string{`line 6: gate.teams.@acme/payments.fail_on: "sometimes" is not a severity`, `gate.teams.@acme/docs.fail_on: "" is not a severity`}},
		{"bad-baseline.yaml", []string{`line 5: baseline.diff_filter: "changed" is not a diff filter`, "line 4: baseline.file: give baseline.ref or baseline.file, not both"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			_, err := Load("testdata/"+tc.file, testNames)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if !strings.Contains(err.Error(), tc.file) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

// TestSchemaKnowsEveryKey keeps docs/dracon.schema.json in step with the
// config: every key of the full example must be in the schema.
func TestSchemaKnowsEveryKey(t *testing.T) {
	b, err := os.ReadFile("../../docs/dracon.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	full, _ := os.ReadFile("testdata/full.yaml")
	for _, line := range strings.Split(string(full), "\n") {
		key, _, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || strings.HasPrefix(key, "#") || key == "gosec" || key == "bandit" || key == "sarif" && !strings.HasPrefix(line, "  sarif") ||
			strings.HasPrefix(key, `"@`) || // a team's name, not a key
			strings.HasPrefix(key, "- builtin") || key == "acme" || key == "banned" { // a value; policy data
			continue
		}
		key = strings.TrimPrefix(key, "- ") // a list item's first key
		if false {
			continue
		}
		if !strings.Contains(string(b), `"`+key+`"`) {
			t.Errorf("schema lacks key %q", key)
		}
	}
}

// TestSchemaAcceptsFull validates the full example against the schema.
func TestSchemaAcceptsFull(t *testing.T) {
	var doc any
	data, _ := os.ReadFile("testdata/full.yaml")
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	// Round-trip through JSON: the validator wants JSON types.
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	sch, err := jsonschema.NewCompiler().Compile("../../docs/dracon.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(inst); err != nil {
		t.Error(err)
	}
	for _, doc := range []string{
		`{"gate": {"fail_on": "severe"}}`,
		`{"vendored": {"include": ["a/**"]}}`,
		`{"vendored": {"skip": ["/abs/**"]}}`,
		`{"vendored": {"scan": ["../up"]}}`,
		`{"include_vendored": "yes"}`,
		`{"producers": {"gosec": {"include_vendored": 1}}}`,
		`{"baseline": {"diff_filter": "changed"}}`,
		`{"baseline": {"ref": "main", "file": "main.sarif"}}`,
		`{"tekton": {"source": "ftp"}}`,
		`{"tekton": {"namespace": "Dracon"}}`,
		`{"tekton": {"workspace": {"size": "lots"}}}`,
		`{"tekton": {"nmespace": "dracon"}}`,
	} {
		bad, _ := jsonschema.UnmarshalJSON(strings.NewReader(doc))
		if sch.Validate(bad) == nil {
			t.Errorf("schema accepts %s", doc)
		}
	}
}
