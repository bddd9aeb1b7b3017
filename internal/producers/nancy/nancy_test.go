package nancy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/draconsec/dracon/internal/producers/producertest"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

func TestCorpus(t *testing.T) {
	got := producertest.CheckCorpus(t, "nancy", Parse, nil)
	r := got["nancy/issue_12860.json"]
	first := r.Issues[0]
	if first.RuleId != "CVE-2025-58058" || first.Cve != "CVE-2025-58058" || len(first.Aliases) != 0 ||
		first.Target != "pkg:golang/github.com/ulikunitz/xz@v0.5.9" || first.PackageVersion != "v0.5.9" ||
		first.Severity != v1.Severity_SEVERITY_MEDIUM || first.Cvss != 5.3 || len(first.Cwe) != 1 || first.Cwe[0] != 770 ||
		first.Title != "[CVE-2025-58058] CWE-770: Allocation of Resources Without Limits or Throttling in github.com/ulikunitz/xz@v0.5.9" ||
		first.Annotations["cvss_vector"] != "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L" ||
		!strings.HasPrefix(first.References[0], "https://ossindex.sonatype.org/vulnerability/CVE-2025-58058") ||
		r.ToolVersion != "1.0.52-next-c4870647da6f9c6f78060307eacc7267a8d81b4d" {
		t.Errorf("first issue = %v", first)
	}
	if noinfo := r.Issues[1]; noinfo.Severity != v1.Severity_SEVERITY_HIGH || len(noinfo.Cwe) != 0 {
		t.Errorf("CWE-noinfo issue = %v", noinfo)
	}
	// nancy < 1.0.20 wrote "Id" and OSS Index UUIDs.
	old := got["nancy/nancy_one_findings.json"].Issues[0]
	if old.RuleId != "CVE-2017-1000070" || strings.Join(old.Aliases, ",") != "9eb9a5bc-8310-4104-bf85-3a820d28ba79" ||
		old.Title != `[CVE-2017-1000070] URL Redirection to Untrusted Site ("Open Redirect") in github.com/bitly/oauth2_proxy@0.1` {
		t.Errorf("old-format issue = %v", old)
	}
}

func TestExcluded(t *testing.T) {
	in := `{"audited": [], "vulnerable": [], "version": "1.0.46", "excluded": [{"Coordinates": "pkg:golang/golang.org/x/net@v0.0.1",
	  "Vulnerabilities": [{"ID": "sonatype-2022-1", "Title": "Denial of service", "CvssScore": "0.0", "Excluded": true}]}]}`
	got, err := Parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	producertest.CheckIssues(t, got.Issues)
	if len(got.Issues) != 1 || got.Issues[0].Annotations["suppressed"] != "true" || got.Issues[0].RuleId != "sonatype-2022-1" ||
		got.Issues[0].Severity != v1.Severity_SEVERITY_INFO || got.Issues[0].Cve != "" {
		t.Errorf("issues = %v", got.Issues)
	}
}

func TestParseRejects(t *testing.T) {
	for name, in := range map[string]string{
		"empty":       "",
		"truncated":   `{"audited": [], "vulnerable": [{"Coordinates": "pkg:golang/a@v1"`,
		"govulncheck": `{"config": {"protocol_version": "v1.0.0"}}`,
		"array":       `[]`,
		"not a purl":  `{"audited": [], "vulnerable": [{"Coordinates": "golang.org/x/net", "Vulnerabilities": []}]}`,
		"text output": `Audited dependencies: 3, Vulnerable: 0`,
	} {
		if _, err := Parse([]byte(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func FuzzParse(f *testing.F) {
	producertest.Seed(f, []string{"nancy"})
	f.Fuzz(func(t *testing.T, data []byte) { producertest.FuzzParse(t, Parse, data) })
}

func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(producertest.CorpusDir(b), "defectdojo", "nancy", "issue_12860.json"))
	if err != nil {
		b.Fatal(err)
	}
	producertest.BenchParse(b, Parse, data)
}
