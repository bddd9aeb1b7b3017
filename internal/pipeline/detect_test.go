package pipeline

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/draconsec/dracon/internal/producers/registry"
)

func detected(t *testing.T, dir string) []string {
	t.Helper()
	found, err := Detect(dir, registry.All())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range found {
		names = append(names, p.Name)
	}
	sort.Strings(names)
	return names
}

// TestDetectPolyglot: a repository with Go, Python, Java, JavaScript,
// Terraform and a Dockerfile gets the scanners for each of them.
func TestDetectPolyglot(t *testing.T) {
	got := detected(t, "testdata/polyglot")
	want := []string{
		"bandit",           // *.py
		"checkov",          // *.tf, Dockerfile
		"dependency-check", // pom.xml
		"eslint",           // package.json, *.js
		"gitleaks",         // any file
		"gosec",            // go.mod, *.go
		"grype",            // lockfiles, Dockerfile
		"hadolint",         // Dockerfile
		"kics",             // *.tf, Dockerfile
		"osv-scanner",      // go.mod, requirements.txt
		"semgrep",          // source files
		"spotbugs",         // pom.xml, *.java
		"syft",             // manifests
		"tfsec",            // *.tf
		"trivy",            // Dockerfile, *.tf
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("detected:\n%v\nwant:\n%v", got, want)
	}
}

// TestDetectAtRoot: scanners that read only the project at the top of the
// folder (govulncheck, npm audit, pip-audit, ...) apply when its manifest
// is there, not when one sits deeper in the tree, where they would fail.
// (The polyglot tree above is such a monorepo: its go.mod and
// requirements.txt are in sub-folders.)
func TestDetectAtRoot(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"go.mod", "web/package-lock.json", "svc/requirements.txt"} {
		p := filepath.Join(dir, f)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got := " " + strings.Join(detected(t, dir), " ") + " "
	for _, want := range []string{" govulncheck ", " gosec ", " osv-scanner "} {
		if !strings.Contains(got, want) {
			t.Errorf("detected%s: lacks%s", got, want)
		}
	}
	for _, not := range []string{" npm-audit ", " pip-audit ", " safety "} {
		if strings.Contains(got, not) {
			t.Errorf("detected%s: has%s for a manifest below the top", got, not)
		}
	}
}

// TestDetectSkipsDependencies: files under node_modules, vendor, .git,
// .dracon or testdata do not make a producer apply.
func TestDetectSkipsDependencies(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"node_modules/dep/a.py", "vendor/x/y.go", ".git/hooks/pre-commit.sh", "pkg/testdata/fixture.tf", "README.md"} {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if got := detected(t, dir); strings.Join(got, " ") != "gitleaks" {
		t.Errorf("detected %v, want only gitleaks (any file may hold a secret)", got)
	}
}
