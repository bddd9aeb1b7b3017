package registry

import (
	"os"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
)

// TestSecretSARIFThroughGenericImporter: gitleaks' SARIF imported as plain
// "sarif" still goes through gitleaks' own parser, which hides the secret.
func TestSecretSARIFThroughGenericImporter(t *testing.T) {
	data, err := os.ReadFile("../gitleaks/testdata/v8.30.1.sarif")
	if err != nil {
		t.Fatal(err)
	}
	p, _ := Lookup("sarif")
	got, err := Parse(p, data)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Issues) == 0 || len(got.Secrets) == 0 {
		t.Fatalf("%d issues, %d secrets", len(got.Issues), len(got.Secrets))
	}
	for _, is := range got.Issues {
		b, _ := protojson.Marshal(is)
		for _, s := range got.Secrets {
			if strings.Contains(string(b), s) {
				t.Errorf("issue holds a secret: %s", b)
			}
		}
	}
}

func TestEveryProducerIsComplete(t *testing.T) {
	owner := map[string]string{}
	for _, p := range All() {
		if p.Name == "" || p.Parse == nil || p.Kind == "" || p.Description == "" || len(p.Formats) == 0 {
			t.Errorf("%s: incomplete: %+v", p.Name, p)
		}
		for _, n := range append([]string{p.Name}, p.Aliases...) {
			if o, ok := owner[normalise(n)]; ok && o != p.Name {
				t.Errorf("%s: name %q is %s's already", p.Name, n, o)
			}
			owner[normalise(n)] = p.Name
		}
		if tool := p.Tool; tool != nil && (tool.Binary == "" || tool.Version == "" || tool.Args == nil || tool.InstallHint(p.Name) == "") {
			t.Errorf("%s: a tool without binary, version, args or install hint", p.Name)
		}
		if _, err := os.Stat("../../../docs/producers/" + p.Name + ".md"); err != nil {
			t.Errorf("%s has no docs/producers page", p.Name)
		}
	}
}

// TestNamesUsersKnow: the original Dracon's component names (its
// components/producers folders, and the older producers/ ones) and the
// common short names each resolve to one producer, whatever the case and
// "_" or "-".
func TestNamesUsersKnow(t *testing.T) {
	for name, want := range map[string]string{
		// Dracon's component names
		"golang-gosec":          "gosec",
		"golang_gosec":          "gosec",
		"golang-nancy":          "nancy",
		"python-bandit":         "bandit",
		"python-pip-safety":     "safety",
		"terraform-tfsec":       "tfsec",
		"docker-trivy":          "trivy",
		"java-findsecbugs":      "spotbugs",
		"java_spotbugs":         "spotbugs",
		"typescript-eslint":     "eslint",
		"typescript-yarn-audit": "yarn-audit",
		"typescript-npm-audit":  "npm-audit",
		"snyk-docker":           "snyk",
		"snyk-node":             "snyk",
		"snyk-python":           "snyk",
		"zaproxy":               "zap",
		"dependency-check":      "dependency-check",
		"brakeman":              "brakeman",
		"checkov":               "checkov",
		"kics":                  "kics",
		"semgrep":               "semgrep",
		"trufflehog":            "trufflehog",
		// common short names
		"pip-safety":             "safety",
		"pipsafety":              "safety",
		"osv":                    "osv-scanner",
		"owasp-dependency-check": "dependency-check",
		"Dependency_Check":       "dependency-check",
		"find-sec-bugs":          "spotbugs",
		"owasp-zap":              "zap",
		"anchore-grype":          "grype",
	} {
		p, err := Lookup(name)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if p.Name != want {
			t.Errorf("%s resolves to %s, want %s", name, p.Name, want)
		}
	}
	if _, err := Lookup("golang-gosecc"); err == nil || !strings.Contains(err.Error(), "unknown producer") {
		t.Errorf("a misspelt name: %v", err)
	}
}
