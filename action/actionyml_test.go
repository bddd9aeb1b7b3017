package action

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

type actionYML struct {
	Inputs  map[string]struct{ Default string } `yaml:"inputs"`
	Outputs map[string]struct{ Value string }   `yaml:"outputs"`
	Runs    struct {
		Using string `yaml:"using"`
		Steps []struct {
			ID    string            `yaml:"id"`
			Uses  string            `yaml:"uses"`
			Shell string            `yaml:"shell"`
			Run   string            `yaml:"run"`
			Env   map[string]string `yaml:"env"`
		} `yaml:"steps"`
	} `yaml:"runs"`
}

func readActionYML(t *testing.T) actionYML {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var a actionYML
	if err := yaml.Unmarshal(data, &a); err != nil {
		t.Fatal(err)
	}
	return a
}

// TestActionYML holds action.yml to its rules: a composite of bash
// steps that fetches no other action, no expression inside run: (script
// injection), every input passed to the binary through env: under the
// name ReadInputs reads, every output the binary writes.
func TestActionYML(t *testing.T) {
	a := readActionYML(t)
	if a.Runs.Using != "composite" {
		t.Errorf("runs.using %q", a.Runs.Using)
	}
	var run map[string]string
	for _, s := range a.Runs.Steps {
		if s.Uses != "" {
			t.Errorf("step %s uses %s: no other action may be fetched", s.ID, s.Uses)
		}
		if s.Shell != "bash" {
			t.Errorf("step %s: shell %q, want bash", s.ID, s.Shell)
		}
		if strings.Contains(s.Run, "${{") {
			t.Errorf("step %s interpolates an expression in run: %q", s.ID, s.Run)
		}
		if s.ID == "run" {
			run = s.Env
		}
	}
	if run == nil {
		t.Fatal("no step with id run")
	}
	for name := range a.Inputs {
		if name == "install" {
			continue // the install step's
		}
		env := "INPUT_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
		if got, want := run[env], "${{ inputs."+name+" }}"; got != want {
			t.Errorf("input %s: env %s = %q, want %q", name, env, got, want)
		}
	}
	if got := a.Inputs["token"].Default; got != "${{ github.token }}" {
		t.Errorf("token default %q", got)
	}
	if got := a.Inputs["pr-comment"].Default; got != CommentOff {
		t.Errorf("pr-comment default %q", got)
	}
	want := []string{"verdict", "findings-total", "findings-new", "max-severity", "sarif-file", "sarif-id", "summary-file", "run-dir"}
	var got []string
	for name, o := range a.Outputs {
		got = append(got, name)
		if o.Value != "${{ steps.run.outputs."+name+" }}" {
			t.Errorf("output %s = %q", name, o.Value)
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("outputs %q, want %q", got, want)
	}
	// Every output is one writeOutputs (or the upload) sets.
	src, _ := os.ReadFile("run.go")
	for _, name := range want {
		if !regexp.MustCompile(`"` + name + `"`).Match(src) {
			t.Errorf("run.go never sets output %s", name)
		}
	}
}
