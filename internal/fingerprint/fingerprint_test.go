package fingerprint

import (
	"fmt"
	"math/rand"
	"reflect"
	"runtime"
	"strings"
	"testing"

	v1 "github.com/draconsec/dracon/proto/dracon/v1"
	"google.golang.org/protobuf/proto"
)

// code builds a SAST issue as gosec's and bandit's parsers do: a rule, a
// location, a title, a severity and the tool's snippet with its line
// numbers.
func code(tool, rule, path string, line int32, snippet string) *v1.Issue {
	return &v1.Issue{
		ToolName: tool, RuleId: rule, Title: "a " + rule + " finding", Severity: v1.Severity_SEVERITY_HIGH,
		Location:       &v1.Location{Path: path, StartLine: line, EndLine: line},
		ContextSegment: proto.String(snippet),
	}
}

func one(t *testing.T, is ...*v1.Issue) []string {
	t.Helper()
	var out []string
	for _, sigs := range Compute(is) {
		if len(sigs) == 0 {
			t.Fatal("no signature")
		}
		out = append(out, sigs[0].Algorithm+":"+sigs[0].Value)
	}
	return out
}

// TestCodeSurvivesEdits: what moves code or rewords a finding keeps its
// signature; what changes the flagged code or the rule does not.
func TestCodeSurvivesEdits(t *testing.T) {
	base := code("gosec", "G201", "goapp/main.go", 25,
		"24: \tid := r.URL.Query().Get(\"id\")\n25: \tq := fmt.Sprintf(\"SELECT * FROM t WHERE id = %s\", id)\n26: \trows, _ := db.Query(q)\n")
	want := one(t, base)[0]
	same := map[string]*v1.Issue{
		"lines inserted above": code("gosec", "G201", "goapp/main.go", 31,
			"30: \tid := r.URL.Query().Get(\"id\")\n31: \tq := fmt.Sprintf(\"SELECT * FROM t WHERE id = %s\", id)\n32: \trows, _ := db.Query(q)\n"),
		"re-indented with spaces": code("gosec", "G201", "goapp/main.go", 25,
			"24:     id := r.URL.Query().Get(\"id\")\n25:     q := fmt.Sprintf(\"SELECT * FROM t WHERE id = %s\", id)\n26:     rows, _ := db.Query(q)\n"),
		"CRLF": code("gosec", "G201", "goapp/main.go", 25,
			"24: \tid := r.URL.Query().Get(\"id\")\r\n25: \tq := fmt.Sprintf(\"SELECT * FROM t WHERE id = %s\", id)\r\n26: \trows, _ := db.Query(q)\r\n"),
		"another checkout root's path form": code("gosec", "G201", "./goapp\\main.go", 25,
			"24: \tid := r.URL.Query().Get(\"id\")\n25: \tq := fmt.Sprintf(\"SELECT * FROM t WHERE id = %s\", id)\n26: \trows, _ := db.Query(q)\n"),
	}
	reworded := proto.Clone(base).(*v1.Issue)
	reworded.Title, reworded.Description, reworded.Severity, reworded.ToolVersion = "SQL string formatting (new wording)", "new", v1.Severity_SEVERITY_MEDIUM, "v2.31.0"
	same["a new release's message and severity"] = reworded
	for name, is := range same {
		if got := one(t, is)[0]; got != want {
			t.Errorf("%s: signature changed", name)
		}
	}
	// gosec shows a line of context on each side: a line added just above
	// the finding changes that context, not the finding.
	same["a line added just above"] = code("gosec", "G201", "goapp/main.go", 26,
		"25: \t// look the row up\n26: \tq := fmt.Sprintf(\"SELECT * FROM t WHERE id = %s\", id)\n27: \trows, _ := db.Query(q)\n")
	differs := map[string]*v1.Issue{
		"flagged code edited": code("gosec", "G201", "goapp/main.go", 25,
			"24: \tid := r.URL.Query().Get(\"id\")\n25: \tq := fmt.Sprintf(\"SELECT * FROM u WHERE id = %s\", id)\n26: \trows, _ := db.Query(q)\n"),
		"another rule":   code("gosec", "G202", "goapp/main.go", 25, base.GetContextSegment()),
		"another file":   code("gosec", "G201", "goapp/other.go", 25, base.GetContextSegment()),
		"another tool":   code("semgrep", "G201", "goapp/main.go", 25, base.GetContextSegment()),
		"no code at all": code("gosec", "G201", "goapp/main.go", 25, ""),
	}
	for name, is := range differs {
		if got := one(t, is)[0]; got == want {
			t.Errorf("%s: same signature as the original", name)
		}
	}
}

// TestBanditSnippet: bandit numbers its lines with spaces, not a colon.
func TestBanditSnippet(t *testing.T) {
	a := code("bandit", "B303", "pyapp/app.py", 31, "30 def digest(s):\n31     return hashlib.md5(s).hexdigest()\n32 \n")
	b := code("bandit", "B303", "pyapp/app.py", 131, "130 def digest(s):\n131     return hashlib.md5(s).hexdigest()\n132\n")
	if one(t, a)[0] != one(t, b)[0] {
		t.Errorf("a bandit finding moved 100 lines down changed its signature: %q vs %q", Code(a.GetContextSegment(), 31, 31), Code(b.GetContextSegment(), 131, 131))
	}
	for _, tc := range []struct {
		snippet    string
		start, end int32
		want       string
	}{
		{"30 def digest(s):\n31     return 1\n", 30, 31, "defdigest(s):return1"},
		{"30 def digest(s):\n31     return 1\n", 31, 0, "return1"},           // only the flagged line
		{"42: \n43: q := f(x)\n44: \n", 43, 43, "q:=f(x)"},                   // gosec's context lines dropped
		{"q := f(x)\nrows := db.Query(q)", 7, 7, "q:=f(x)rows:=db.Query(q)"}, // not numbered: all of it
		{"43: q := f(x)\n", 99, 99, "q:=f(x)"},                               // numbers that do not match: all of it
		{"12345678901: x\n", 1, 1, "12345678901:x"},                          // too long to be a line number
	} {
		if got := Code(tc.snippet, tc.start, tc.end); got != tc.want {
			t.Errorf("Code(%q, %d, %d) = %q, want %q", tc.snippet, tc.start, tc.end, got, tc.want)
		}
	}
}

// TestDuplicateAndOrder: duplicating a vulnerable snippet makes exactly
// one new signature; shuffling the tool's order changes none.
func TestDuplicateAndOrder(t *testing.T) {
	snip := "10: \th := md5.New()\n"
	before := one(t, code("gosec", "G401", "a.go", 10, snip), code("gosec", "G401", "b.go", 3, "3: x := 1\n"))
	after := one(t, code("gosec", "G401", "a.go", 10, snip), code("gosec", "G401", "b.go", 3, "3: x := 1\n"),
		code("gosec", "G401", "a.go", 40, "40: \th := md5.New()\n"))
	seen := map[string]bool{}
	for _, s := range before {
		seen[s] = true
	}
	fresh := 0
	for _, s := range after {
		if !seen[s] {
			fresh++
		}
	}
	if fresh != 1 {
		t.Errorf("duplicating one snippet made %d new signatures, want 1", fresh)
	}
	if after[0] == after[2] {
		t.Error("two copies of one snippet share a signature")
	}

	issues := []*v1.Issue{
		code("gosec", "G401", "a.go", 10, snip), code("gosec", "G401", "a.go", 40, "40: \th := md5.New()\n"),
		code("gosec", "G104", "a.go", 12, "12: f()\n"), code("bandit", "B303", "x.py", 5, "5 md5()\n"),
	}
	want := map[*v1.Issue]string{}
	for i, s := range one(t, issues...) {
		want[issues[i]] = s
	}
	r := rand.New(rand.NewSource(1))
	for n := 0; n < 20; n++ {
		r.Shuffle(len(issues), func(i, j int) { issues[i], issues[j] = issues[j], issues[i] })
		for i, s := range one(t, issues...) {
			if want[issues[i]] != s {
				t.Fatalf("shuffled input changed %v's signature", issues[i].GetLocation())
			}
		}
	}
}

func dep(path, purl, cve string, aliases ...string) *v1.Issue {
	return &v1.Issue{
		ToolName: "trivy", RuleId: cve, Cve: cve, Aliases: aliases, Title: cve, Severity: v1.Severity_SEVERITY_HIGH,
		Target: path, Location: &v1.Location{Path: path}, PackageUrl: purl,
	}
}

func TestDependency(t *testing.T) {
	a := one(t, dep("go.mod", "pkg:golang/golang.org/x/net@v0.1.0", "CVE-2023-44487", "GHSA-qppj-fm5r-hxr3"))[0]
	if !strings.HasPrefix(a, DepV1+":") {
		t.Fatalf("algorithm: %s", a)
	}
	// A bump that stays vulnerable keeps the finding; osv-scanner naming it
	// by its GHSA with the CVE as an alias is the same vulnerability.
	for name, is := range map[string]*v1.Issue{
		"version bumped": dep("go.mod", "pkg:golang/golang.org/x/net@v0.7.0", "CVE-2023-44487"),
		"GHSA first":     dep("go.mod", "pkg:golang/golang.org/x/net@v0.1.0", "", "GHSA-qppj-fm5r-hxr3", "cve-2023-44487"),
	} {
		if got := one(t, is)[0]; got != a {
			t.Errorf("%s: signature changed", name)
		}
	}
	for name, is := range map[string]*v1.Issue{
		"another CVE":      dep("go.mod", "pkg:golang/golang.org/x/net@v0.1.0", "CVE-2022-41723"),
		"another manifest": dep("tools/go.mod", "pkg:golang/golang.org/x/net@v0.1.0", "CVE-2023-44487"),
		"another package":  dep("go.mod", "pkg:golang/golang.org/x/text@v0.1.0", "CVE-2023-44487"),
	} {
		if got := one(t, is)[0]; got == a {
			t.Errorf("%s: same signature", name)
		}
	}
}

func TestSecret(t *testing.T) {
	sec := func(rule string, line int32, fp string) *v1.Issue {
		return &v1.Issue{ToolName: "gitleaks", RuleId: rule, Title: "secret", Severity: v1.Severity_SEVERITY_HIGH,
			Location: &v1.Location{Path: "pyapp/settings.py", StartLine: line}, Fingerprint: fp}
	}
	a := one(t, sec("aws-access-token", 4, "sha256:aa"))[0]
	if !strings.HasPrefix(a, SecretV1+":") {
		t.Fatalf("algorithm: %s", a)
	}
	if one(t, sec("aws-access-token", 40, "sha256:aa"))[0] != a || one(t, sec("generic-api-key", 4, "sha256:aa"))[0] != a {
		t.Error("a secret moved in its file, or matched by another rule, changed its signature")
	}
	if one(t, sec("aws-access-token", 4, "sha256:bb"))[0] == a {
		t.Error("a rotated secret kept its signature")
	}
}

func TestPackageWithoutVersion(t *testing.T) {
	for in, want := range map[string]string{
		"pkg:golang/golang.org/x/net@v0.1.0":         "pkg:golang/golang.org/x/net",
		"pkg:npm/%40babel/core@7.0.0?foo=bar":        "pkg:npm/%40babel/core",
		"pkg:pypi/Django@4.2":                        "pkg:pypi/django",
		"pkg:maven/org.apache/log4j-core@2.14.1#sub": "pkg:maven/org.apache/log4j-core",
		"pkg:npm/@scope/name":                        "pkg:npm/@scope/name",
	} {
		if got := PackageWithoutVersion(in); got != want {
			t.Errorf("PackageWithoutVersion(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestLegacyHash pins the hash Dracon's dedup wrote before signatures
// (values computed by that code, dedup.Hash at commit 46487d6): a store it
// wrote keeps matching.
func TestLegacyHash(t *testing.T) {
	ctx := "42: exec.Command(name)"
	a := &v1.Issue{ToolName: "gosec", RuleId: "G204", Type: "G204", Title: "Subprocess launched with variable",
		Location: &v1.Location{Path: "main.go", StartLine: 42}, Target: "main.go:42", ContextSegment: &ctx}
	b := &v1.Issue{ToolName: "gitleaks", RuleId: "aws-access-token", Target: "a.py:4", Fingerprint: "sha256:ab", Location: &v1.Location{Path: "a.py", StartLine: 4}}
	for is, want := range map[*v1.Issue]string{
		a: "066b61c288bb435b545189ab13e3aab1fb378a44906b25e1a2f7913dd289d05b",
		b: "7eb45c9e110612573a9cdce3c8786804878ecd7db6a793ecdedf828e68ca59e7",
	} {
		if got := LegacyHash(is); got != want {
			t.Errorf("LegacyHash(%s) = %s, want %s", is.ToolName, got, want)
		}
	}
}

// TestDraconHash: the original Dracon's recipe, checked against an
// independent computation of it (Python's hashlib over the same
// concatenation); the ?ref= part of the source does not count.
func TestDraconHash(t *testing.T) {
	is := &v1.Issue{Target: "main.go:42", Type: "G204", Title: "Subprocess launched with variable",
		Source: "https://github.com/acme/app?ref=0123abc", Severity: v1.Severity_SEVERITY_MEDIUM, Cvss: 7.5,
		Confidence: v1.Confidence_CONFIDENCE_HIGH, Description: "Audit use of command execution", Cve: "CVE-2021-1"}
	if got, want := DraconHash(is), "18f0dd5dc34a9443b15a869ee3da793fb012bb5d6d1a4a1cbf88a1cdea1f9e9e"; got != want {
		t.Errorf("DraconHash = %s, want %s", got, want)
	}
}

func TestIaC(t *testing.T) {
	check := func(rule, resource string, line int32) *v1.Issue {
		return &v1.Issue{ToolName: "checkov", RuleId: rule, Title: "S3 bucket without encryption", Severity: v1.Severity_SEVERITY_HIGH,
			Location: &v1.Location{Path: "infra/main.tf", StartLine: line, EndLine: line + 8}, Annotations: map[string]string{"resource": resource}}
	}
	a := one(t, check("CKV_AWS_19", "aws_s3_bucket.logs", 10))[0]
	if !strings.HasPrefix(a, IaCV1+":") {
		t.Fatalf("algorithm: %s", a)
	}
	if one(t, check("CKV_AWS_19", "aws_s3_bucket.logs", 60))[0] != a {
		t.Error("the resource block moved down the file: signature changed")
	}
	if one(t, check("CKV_AWS_19", "aws_s3_bucket.data", 10))[0] == a || one(t, check("CKV_AWS_18", "aws_s3_bucket.logs", 10))[0] == a {
		t.Error("another resource or check: same signature")
	}
	kics := &v1.Issue{ToolName: "kics", RuleId: "q1", Location: &v1.Location{Path: "Dockerfile", StartLine: 3},
		Annotations: map[string]string{"search_key": "FROM={{ubuntu:latest}}"}}
	if s := one(t, kics)[0]; !strings.HasPrefix(s, IaCV1+":") {
		t.Errorf("kics' search key is its resource: %s", s)
	}
}

func TestDAST(t *testing.T) {
	alert := func(target, method, param string) *v1.Issue {
		return &v1.Issue{ToolName: "zap", RuleId: "40012", Title: "Cross Site Scripting (Reflected)", Severity: v1.Severity_SEVERITY_HIGH,
			Target: target, Annotations: map[string]string{"method": method, "param": param}}
	}
	a := one(t, alert("https://staging.example.com/users/42/profile?q=x&lang=en", "GET", "q"))[0]
	if !strings.HasPrefix(a, DastV1+":") {
		t.Fatalf("algorithm: %s", a)
	}
	for name, is := range map[string]*v1.Issue{
		"another host and id": alert("http://prod.example.com:8080/users/7/profile?lang=de&q=y", "get", "q"),
		"another payload":     alert("https://staging.example.com/users/42/profile?lang=en&q=%3Cscript%3E", "GET", "q"),
	} {
		if one(t, is)[0] != a {
			t.Errorf("%s: signature changed", name)
		}
	}
	for name, is := range map[string]*v1.Issue{
		"another parameter": alert("https://staging.example.com/users/42/profile?q=x&lang=en", "GET", "lang"),
		"another method":    alert("https://staging.example.com/users/42/profile?q=x&lang=en", "POST", "q"),
		"another endpoint":  alert("https://staging.example.com/users/42/settings?q=x&lang=en", "GET", "q"),
	} {
		if one(t, is)[0] == a {
			t.Errorf("%s: same signature", name)
		}
	}
	for in, want := range map[string]string{
		"https://h/users/42/orders/9f1c2b3a-0d4e-4f5a-8b6c-7d8e9f0a1b2c": "/users/{n}/orders/{id}",
		"https://h/blob/0123456789abcdef0123":                            "/blob/{id}",
		"https://h/":                                                     "/",
		"https://h":                                                      "/",
		"https://h/a?b=1&a=2":                                            "/a?a&b",
		"https://h/api/v2/items":                                         "/api/v2/items",
	} {
		if got := PathTemplate(in); got != want {
			t.Errorf("PathTemplate(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestDraconLocation: a row Dracon wrote in its Tekton workspace and a
// finding scanned here at the same file and line share the location
// signature.
func TestDraconLocation(t *testing.T) {
	here := DraconLocationOf(&v1.Issue{Type: "G204", Location: &v1.Location{Path: "goapp/main.go", StartLine: 19, EndLine: 19}})
	for _, target := range []string{
		"file:///workspace/output/source-code/goapp/main.go:19-19",
		"/home/runner/work/app/app/goapp/main.go:19",
		"goapp/main.go:19-22",
		`C:\src\app\goapp\main.go:19`,
	} {
		if got := DraconLocation("G204", target); got != here {
			t.Errorf("%s: another signature than the scan's", target)
		}
	}
	for _, target := range []string{"goapp/main.go:20", "other/main.go:19", "goapp/main.go", "pkg:golang/x@v1"} {
		if got := DraconLocation("G204", target); got == here {
			t.Errorf("%s: the same signature as goapp/main.go:19", target)
		}
	}
	if DraconLocation("G201", "goapp/main.go:19") == here {
		t.Error("another type: the same signature")
	}
}

// BenchmarkCompute: the signatures of 10,000 gosec-like findings in 500
// files, as the identity enricher computes them for every scan.
func BenchmarkCompute(b *testing.B) {
	issues := make([]*v1.Issue, 10000)
	for i := range issues {
		line := int32(i%200 + 1)
		issues[i] = code("gosec", fmt.Sprintf("G%03d", i%40), fmt.Sprintf("pkg%d/file%d.go", i%50, i%500), line,
			fmt.Sprintf("%d: \tq := fmt.Sprintf(\"SELECT * FROM t%d WHERE id = %%s\", id)\n", line, i))
	}
	b.ReportAllocs()
	for b.Loop() {
		Compute(issues)
	}
}

// A scan large enough to be split over CPUs gets the signatures one CPU
// would compute: the occurrence index is counted over the whole scan.
func TestComputeOnManyCPUsEqualsOne(t *testing.T) {
	var issues []*v1.Issue
	for i := range 12_000 {
		// Every snippet three times in its file: the occurrence index
		// tells them apart, wherever the chunks of the scan are cut.
		snippet := fmt.Sprintf("query := %q + id", fmt.Sprint("SELECT ", i/3))
		path := fmt.Sprintf("pkg%d/db.go", i/3%7)
		issues = append(issues, &v1.Issue{ToolName: "gosec", RuleId: "G202", Type: "G202", Target: fmt.Sprintf("%s:%d", path, i),
			Location: &v1.Location{Path: path, StartLine: int32(i + 1)}, ContextSegment: &snippet})
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	one := Compute(issues)
	runtime.GOMAXPROCS(4)
	many := Compute(issues)
	if !reflect.DeepEqual(one, many) {
		t.Fatal("signatures differ between one CPU and four")
	}
	distinct := map[string]bool{}
	for i, sigs := range many {
		if len(sigs) == 0 {
			t.Fatalf("issue %d: no signature", i)
		}
		distinct[sigs[0].Value] = true
	}
	if len(distinct) != len(issues) {
		t.Errorf("%d distinct first signatures for %d distinct findings", len(distinct), len(issues))
	}
}
