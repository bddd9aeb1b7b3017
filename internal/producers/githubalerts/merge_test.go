package githubalerts

import (
	"os"
	"testing"

	"github.com/draconsec/dracon/internal/fingerprint"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// TestMergesWithOtherTools: what these producers are for. A CodeQL
// alert and gosec's finding of the same SQL injection on the same line
// are one finding; a Dependabot alert and osv-scanner's finding of the
// same advisory in the same manifest are one finding, though Dependabot
// names no version.
func TestMergesWithOtherTools(t *testing.T) {
	read := func(file string, parse func([]byte) ([]*v1.Issue, error)) []*v1.Issue {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		is, err := parse(data)
		if err != nil {
			t.Fatal(err)
		}
		return is
	}
	cs := read("testdata/code-scanning/page1.json", func(b []byte) ([]*v1.Issue, error) {
		p, err := ParseCodeScanning(b)
		if err != nil {
			return nil, err
		}
		return p.Issues, nil
	})
	sqli := cs[1] // go/sql-injection at goapp/store.go:42
	gosec := &v1.Issue{ToolName: "gosec", RuleId: "G201", Type: "G201", Title: "SQL string formatting", Severity: v1.Severity_SEVERITY_MEDIUM,
		Target: "goapp/store.go:42", Location: &v1.Location{Path: "goapp/store.go", StartLine: 42, EndLine: 42}}
	other := &v1.Issue{ToolName: "gosec", RuleId: "G401", Type: "G401", Title: "weak hash", Severity: v1.Severity_SEVERITY_MEDIUM,
		Target: "goapp/store.go:42", Location: &v1.Location{Path: "goapp/store.go", StartLine: 42, EndLine: 42}}
	if g := fingerprint.Group([]*v1.Issue{sqli, gosec, other}); g[0] != g[1] || g[2] == g[0] {
		t.Errorf("groups %v: want the CodeQL alert and gosec's G201 together, G401 apart", g)
	}

	db := read("testdata/dependabot/page2.json", func(b []byte) ([]*v1.Issue, error) {
		p, err := ParseDependabot(b)
		if err != nil {
			return nil, err
		}
		return p.Issues, nil
	})
	xnet := db[1] // golang.org/x/net in goapp/go.mod, CVE-2023-39325 / GHSA-4374-p667-p6c8
	osv := &v1.Issue{ToolName: "osv-scanner", RuleId: "GHSA-4374-p667-p6c8", Type: "GHSA-4374-p667-p6c8", Aliases: []string{"CVE-2023-39325", "GO-2023-2102"},
		Title: "HTTP/2 rapid reset", Severity: v1.Severity_SEVERITY_HIGH, PackageUrl: "pkg:golang/golang.org/x/net@v0.8.0", PackageVersion: "v0.8.0",
		Target: "pkg:golang/golang.org/x/net@v0.8.0", Location: &v1.Location{Path: "goapp/go.mod"}}
	elsewhere := &v1.Issue{ToolName: "osv-scanner", RuleId: "GHSA-4374-p667-p6c8", Aliases: []string{"CVE-2023-39325"}, Title: "HTTP/2 rapid reset",
		Severity: v1.Severity_SEVERITY_HIGH, PackageUrl: "pkg:golang/golang.org/x/net@v0.8.0", Location: &v1.Location{Path: "tools/go.mod"}}
	if g := fingerprint.Group([]*v1.Issue{xnet, osv, elsewhere}); g[0] != g[1] || g[2] == g[0] {
		t.Errorf("groups %v: want the Dependabot alert and osv-scanner's finding in goapp/go.mod together, tools/go.mod apart", g)
	}
}
