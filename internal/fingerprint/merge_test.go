package fingerprint

import (
	"math/rand"
	"testing"

	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

func at(tool, rule, path string, start, end int32, sev v1.Severity) *v1.Issue {
	return &v1.Issue{ToolName: tool, RuleId: rule, Title: rule, Severity: sev, Target: path,
		Location: &v1.Location{Path: path, StartLine: start, EndLine: end}}
}

func vuln(tool, path, purl, cve string, aliases ...string) *v1.Issue {
	is := dep(path, purl, cve, aliases...)
	is.ToolName = tool
	return is
}

func secret(tool, rule, path string, line int32, fp string) *v1.Issue {
	is := at(tool, rule, path, line, line, v1.Severity_SEVERITY_HIGH)
	is.Fingerprint = fp
	return is
}

// groups turns Group's answer into sets of member indexes, keyed by the
// representative.
func groups(issues []*v1.Issue) map[int][]int {
	out := map[int][]int{}
	for i, r := range Group(issues) {
		out[r] = append(out[r], i)
	}
	return out
}

func TestGroup(t *testing.T) {
	high, med := v1.Severity_SEVERITY_HIGH, v1.Severity_SEVERITY_MEDIUM
	for _, tc := range []struct {
		name   string
		issues []*v1.Issue
		want   [][]int // groups of more than one member; everything else alone
	}{
		{"one CVE in one package from trivy, grype, osv-scanner and govulncheck", []*v1.Issue{
			vuln("trivy", "go.mod", "pkg:golang/golang.org/x/net@v0.1.0", "CVE-2023-44487"),
			vuln("grype", "go.mod", "pkg:golang/golang.org/x/net@v0.1.0", "", "GHSA-qppj-fm5r-hxr3", "CVE-2023-44487"),
			vuln("osv-scanner", "go.mod", "pkg:golang/golang.org/x/net@v0.1.0", "", "GHSA-qppj-fm5r-hxr3", "GO-2023-2102"),
			vuln("govulncheck", "", "pkg:golang/golang.org/x/net@v0.1.0", "", "GO-2023-2102", "GHSA-qppj-fm5r-hxr3", "CVE-2023-44487"),
		}, [][]int{{0, 1, 2, 3}}},
		{"an alias chain linking two CVEs stays two findings", []*v1.Issue{
			vuln("trivy", "go.mod", "pkg:golang/x/y@v1", "CVE-2024-0001"),
			vuln("grype", "go.mod", "pkg:golang/x/y@v1", "CVE-2024-0002"),
			vuln("osv-scanner", "go.mod", "pkg:golang/x/y@v1", "", "GHSA-aaaa-bbbb-cccc", "CVE-2024-0001", "CVE-2024-0002"),
		}, nil}, // the advisory naming both CVEs is ambiguous: it joins neither
		{"an advisory joins the one CVE it names", []*v1.Issue{
			vuln("trivy", "go.mod", "pkg:golang/x/y@v1", "CVE-2024-0001"),
			vuln("grype", "go.mod", "pkg:golang/x/y@v1", "CVE-2024-0002"),
			vuln("osv-scanner", "go.mod", "pkg:golang/x/y@v1", "", "GHSA-aaaa-bbbb-cccc", "CVE-2024-0002"),
		}, [][]int{{1, 2}}},
		{"other manifests and other packages never merge", []*v1.Issue{
			vuln("trivy", "go.mod", "pkg:golang/x/y@v1", "CVE-2024-0001"),
			vuln("grype", "tools/go.mod", "pkg:golang/x/y@v1", "CVE-2024-0001"),
			vuln("osv-scanner", "go.mod", "pkg:golang/x/z@v1", "CVE-2024-0001"),
		}, nil},
		{"one tool twice is not two tools", []*v1.Issue{
			vuln("trivy", "go.mod", "pkg:golang/x/y@v1", "CVE-2024-0001"),
			vuln("trivy", "go.mod", "pkg:golang/x/y@v1", "CVE-2024-0001"),
		}, nil},
		{"an AWS key from gitleaks, trufflehog, gosec G101 and semgrep", []*v1.Issue{
			secret("gitleaks", "aws-access-token", "goapp/keys.go", 7, "sha256:aa"),
			secret("trufflehog", "AWS", "goapp/keys.go", 7, "sha256:aa"),
			at("gosec", "G101", "goapp/keys.go", 6, 8, high),
			at("semgrep", "go.lang.security.audit.hardcoded-credentials", "goapp/keys.go", 7, 7, med),
			at("gosec", "G104", "goapp/keys.go", 7, 7, med), // another weakness on the line
		}, [][]int{{0, 1, 2, 3}}},
		{"two different secrets in one file", []*v1.Issue{
			secret("gitleaks", "aws-access-token", "a.py", 3, "sha256:aa"),
			secret("trufflehog", "AWS", "a.py", 9, "sha256:bb"),
		}, nil},
		{"a weak hash from gosec and semgrep on overlapping lines", []*v1.Issue{
			at("gosec", "G401", "goapp/main.go", 42, 42, med),
			at("semgrep", "go.lang.security.audit.crypto.use_of_weak_crypto.use-of-md5", "goapp/main.go", 41, 43, med),
			at("semgrep", "go.lang.security.audit.crypto.use_of_weak_crypto.use-of-md5", "goapp/main.go", 90, 90, med),
			at("codeql", "go/sql-injection", "goapp/main.go", 42, 42, high), // same line, another weakness
		}, [][]int{{0, 1}}},
		{"CWE alone never merges", []*v1.Issue{
			func() *v1.Issue { i := at("gosec", "G999", "a.go", 5, 5, med); i.Cwe = []int32{89}; return i }(),
			func() *v1.Issue { i := at("semgrep", "some-rule", "a.go", 5, 5, med); i.Cwe = []int32{89}; return i }(),
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := groups(tc.issues)
			var multi [][]int
			for _, g := range got {
				if len(g) > 1 {
					multi = append(multi, g)
				}
			}
			if len(multi) != len(tc.want) {
				t.Fatalf("groups %v, want %v", multi, tc.want)
			}
			for _, w := range tc.want {
				r := Group(tc.issues)[w[0]]
				if len(got[r]) != len(w) {
					t.Errorf("group of %d = %v, want %v", w[0], got[r], w)
				}
				for _, m := range w {
					if Group(tc.issues)[m] != r {
						t.Errorf("%d is not with %d", m, w[0])
					}
				}
			}
		})
	}
}

// TestGroupRepresentative: the most severe member stands for the group,
// whatever the input order.
func TestGroupRepresentative(t *testing.T) {
	issues := []*v1.Issue{
		at("semgrep", "python.lang.security.audit.formatted-sql-query", "app.py", 10, 10, v1.Severity_SEVERITY_MEDIUM),
		at("bandit", "B608", "app.py", 10, 11, v1.Severity_SEVERITY_HIGH),
		at("codeql", "py/sql-injection", "app.py", 11, 11, v1.Severity_SEVERITY_HIGH),
	}
	r := rand.New(rand.NewSource(7))
	for n := 0; n < 10; n++ {
		r.Shuffle(len(issues), func(i, j int) { issues[i], issues[j] = issues[j], issues[i] })
		g := Group(issues)
		for i := range issues {
			if issues[g[i]].GetToolName() != "bandit" {
				t.Fatalf("representative %s, want bandit (HIGH, first by name)", issues[g[i]].GetToolName())
			}
		}
	}
}

func TestRuleClass(t *testing.T) {
	for _, tc := range []struct{ tool, rule, want string }{
		{"gosec", "G401", "weak-hash"},
		{"bandit", "B324", "weak-hash"},
		{"semgrep", "python.lang.security.insecure-hash-algorithms.insecure-hash-algorithm-md5", "weak-hash"},
		{"gosec", "G999", ""},
		{"bandit", "B101", ""},
		{"CodeQL", "go/sql-injection", "sql-injection"},
		{"semgrep", "generic.secrets.security.detected-aws-access-key", ""},
	} {
		if got := RuleClass(tc.tool, tc.rule); got != tc.want {
			t.Errorf("RuleClass(%s, %s) = %q, want %q", tc.tool, tc.rule, got, tc.want)
		}
	}
}
