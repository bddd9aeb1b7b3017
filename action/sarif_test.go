package action

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
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

func TestApplyCategory(t *testing.T) {
	doc := `{"version":"2.1.0","$schema":"https://json.schemastore.org/sarif-2.1.0.json","runs":[` +
		`{"tool":{"driver":{"name":"gosec"}},"automationDetails":{"id":"dracon/gosec/7d45d94b"},"results":[{"message":{"text":"a <b> & c"}}]},` +
		`{"tool":{"driver":{"name":"gitleaks"}},"results":[]}]}`
	path := filepath.Join(t.TempDir(), "dracon.sarif")
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	cats, err := ApplyCategory(path, ".github/workflows/pr.yml:scan")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{".github/workflows/pr.yml:scan/dracon/gosec", ".github/workflows/pr.yml:scan/dracon/gitleaks"}
	if !reflect.DeepEqual(cats, want) {
		t.Errorf("categories %q, want %q", cats, want)
	}
	data, _ := os.ReadFile(path)
	var got struct {
		Runs []struct {
			AutomationDetails struct{ ID string } `json:"automationDetails"`
			Results           []json.RawMessage
		}
	}
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if got.Runs[0].AutomationDetails.ID != ".github/workflows/pr.yml:scan/dracon/gosec/7d45d94b" ||
		got.Runs[1].AutomationDetails.ID != ".github/workflows/pr.yml:scan/dracon/gitleaks/" {
		t.Errorf("ids: %+v", got.Runs)
	}
	if !strings.Contains(string(data), `"a <b> & c"`) {
		t.Errorf("HTML got escaped: %s", data)
	}
	// Twice is once.
	before, _ := os.ReadFile(path)
	if _, err := ApplyCategory(path, ".github/workflows/pr.yml:scan/"); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(path)
	if string(before) != string(after) {
		t.Errorf("a second ApplyCategory changed the file:\n%s\n%s", before, after)
	}
	if _, err := ApplyCategory(path, ""); err != nil {
		t.Fatal(err)
	}
}
