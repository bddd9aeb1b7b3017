package action

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDefaultCategory(t *testing.T) {
	env := map[string]string{
		"GITHUB_REPOSITORY":   "acme/payments",
		"GITHUB_WORKFLOW_REF": "acme/payments/.github/workflows/security.yml@refs/pull/42/merge",
		"GITHUB_JOB":          "scan",
	}
	if got := DefaultCategory(envMap(env), ""); got != ".github/workflows/security.yml:scan/" {
		t.Errorf("no matrix: %q", got)
	}
	if got := DefaultCategory(envMap(env), "null"); got != ".github/workflows/security.yml:scan/" {
		t.Errorf("null matrix: %q", got)
	}
	// Sorted by key; numbers and booleans kept, objects empty (codeql-action keeps only strings).
	got := DefaultCategory(envMap(env), `{"team":"payments","go":1.26,"race":true,"include":{"x":1}}`)
	if want := ".github/workflows/security.yml:scan/go:1.26/include:/race:true/team:payments/"; got != want {
		t.Errorf("matrix: %q, want %q", got, want)
	}
	if got := DefaultCategory(envMap(map[string]string{"GITHUB_WORKFLOW": "Security", "GITHUB_JOB": "scan"}), ""); got != "Security:scan/" {
		t.Errorf("no workflow ref: %q", got)
	}
	if got := DefaultCategory(envMap(nil), ""); got != "dracon/" {
		t.Errorf("outside Actions: %q", got)
	}
}

func TestPrefixURIs(t *testing.T) {
	doc := `{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"gosec"}},"results":[{"message":{"text":"a <b> & c"},` +
		`"locations":[{"physicalLocation":{"artifactLocation":{"uri":"goapp/main.go","uriBaseId":"%SRCROOT%"},"region":{"startLine":3}}}],` +
		`"relatedLocations":[{"physicalLocation":{"artifactLocation":{"uri":"file:///abs/x.go"}}}]}],` +
		`"artifacts":[{"location":{"uri":"goapp/main.go","uriBaseId":"%SRCROOT%"}}]}]}`
	path := filepath.Join(t.TempDir(), "dracon.sarif")
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := prefixURIs(path, "services/payments/"); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if strings.Count(string(data), `"uri":"services/payments/goapp/main.go"`) != 2 || !strings.Contains(string(data), `"uri":"file:///abs/x.go"`) {
		t.Errorf("URIs: %s", data)
	}
	if !strings.Contains(string(data), `"a <b> & c"`) || !strings.Contains(string(data), `"startLine":3`) {
		t.Errorf("other values changed: %s", data)
	}
	var v map[string]any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
}
