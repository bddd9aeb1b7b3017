package pipaudit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/draconsec/dracon/internal/producers/producertest"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

func TestCorpus(t *testing.T) {
	got := producertest.CheckCorpus(t, "pip_audit", Parse, nil)
	issues := got["pip_audit/many_vulns.json"].Issues
	first := issues[0]
	if first.RuleId != "PYSEC-2021-76" || first.Target != "pkg:pypi/aiohttp@3.6.2" || first.PackageVersion != "3.6.2" ||
		first.FixedVersion != "3.7.4" || first.Severity != v1.Severity_SEVERITY_MEDIUM || first.ToolName != "pip-audit" ||
		first.Title != "PYSEC-2021-76 in aiohttp 3.6.2" || first.References[0] != "https://osv.dev/vulnerability/PYSEC-2021-76" {
		t.Errorf("first issue = %v", first)
	}
	// django 3.2.9 is fixed in 2.2.25, 3.1.14 and 3.2.10: the upgrade is 3.2.10.
	if dj := issues[1]; dj.RuleId != "PYSEC-2021-439" || dj.FixedVersion != "3.2.10" || dj.Annotations["fix_versions"] != "2.2.25, 3.1.14, 3.2.10" {
		t.Errorf("django issue = %v", dj)
	}
	if lx := issues[2]; lx.FixedVersion != "" || lx.Target != "pkg:pypi/lxml@4.6.4" {
		t.Errorf("lxml issue (no fix listed) = %v", lx)
	}
}

func TestAliases(t *testing.T) {
	data, err := os.ReadFile("testdata/aliases.json")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	producertest.CheckIssues(t, got.Issues)
	if len(got.Issues) != 2 {
		t.Fatalf("%d issues, want 2", len(got.Issues))
	}
	c, j := got.Issues[0], got.Issues[1]
	if c.Cve != "CVE-2023-37920" || strings.Join(c.Aliases, ",") != "GHSA-xqr8-7jwr-rhp7" || c.FixedVersion != "2023.7.22" ||
		len(c.References) != 2 {
		t.Errorf("certifi issue = %v", c)
	}
	if j.RuleId != "GHSA-h5c8-rqwp-cp95" || j.Cve != "CVE-2024-22195" || len(j.Aliases) != 0 || j.Target != "pkg:pypi/jinja2@3.1.2" {
		t.Errorf("jinja2 issue = %v", j)
	}
}

func TestArgs(t *testing.T) {
	dir := t.TempDir()
	if got := strings.Join(Producer.Tool.Args(dir, "/o/r.json"), " "); got != "--format json --output /o/r.json --progress-spinner off ." {
		t.Errorf("args without requirements = %s", got)
	}
	if err := os.WriteFile(filepath.Join(dir, "requirements.txt"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(Producer.Tool.Args(dir, "/o/r.json"), " "); got != "--format json --output /o/r.json --progress-spinner off --requirement requirements.txt" {
		t.Errorf("args = %s", got)
	}
}

func TestParseRejects(t *testing.T) {
	for name, in := range map[string]string{
		"empty":      "",
		"truncated":  `{"dependencies": [{"name": "a", "version": "1", "vulns": [`,
		"safety 1.x": `[["django", "<1.2.7", "1.2.2", "advisory", "33063"]]`,
		"safety 2.x": `{"report_meta": {}, "vulnerabilities": []}`,
		"bandit":     `{"errors": [], "results": []}`,
		"no name":    `[{"version": "1", "vulns": []}]`,
		"bad vulns":  `{"dependencies": [{"name": "a", "vulns": {}}]}`,
	} {
		if _, err := Parse([]byte(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func FuzzParse(f *testing.F) {
	producertest.Seed(f, []string{"pip_audit"}, "testdata/*.json")
	f.Fuzz(func(t *testing.T, data []byte) { producertest.FuzzParse(t, Parse, data) })
}

func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(producertest.CorpusDir(b), "defectdojo", "pip_audit", "many_vulns.json"))
	if err != nil {
		b.Fatal(err)
	}
	producertest.BenchParse(b, Parse, data)
}
