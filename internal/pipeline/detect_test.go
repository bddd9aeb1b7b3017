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
		"govulncheck",      // go.mod
		"grype",            // lockfiles, Dockerfile
		"hadolint",         // Dockerfile
		"kics",             // *.tf, Dockerfile
		"osv-scanner",      // go.mod, requirements.txt
		"pip-audit",        // requirements.txt
		"safety",           // requirements.txt
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

// TestDetectSkipsDependencies: files under node_modules, vendor, .git or
// .dracon do not make a producer apply.
func TestDetectSkipsDependencies(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"node_modules/dep/a.py", "vendor/x/y.go", ".git/hooks/pre-commit.sh", "README.md"} {
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
