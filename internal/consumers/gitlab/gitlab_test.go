package gitlab

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

var update = flag.Bool("update", false, "rewrite golden files")

// corpusInputs are real reports of at least three tools for every report
// type, cut to a few findings each so the golden files stay readable.
var corpusInputs = []input{
	// sast: SAST and IaC
	{producer: "gosec", file: "gosec/many_vulns.json", max: 5},
	{producer: "bandit", file: "bandit/dd.json", max: 5},
	{producer: "semgrep", file: "semgrep/many_findings.json", max: 4},
	{producer: "checkov", file: "checkov/checkov-report-many-vuln.json", max: 3},
	// secret_detection (and trivy's misconfiguration to sast, its
	// vulnerable requirements to dependency_scanning)
	{producer: "gitleaks", file: "gitleaks/gitleaks8_many.json", max: 3},
	{producer: "trufflehog", file: "trufflehog/v3_git.json", max: 3},
	{producer: "trivy", file: "trivy/misconfigurations_and_secrets.json"},
	// dependency_scanning
	{producer: "osv-scanner", file: "osv_scanner/some_findings.json", max: 3},
	{producer: "pip-audit", file: "pip_audit/many_vulns.json", max: 3},
	{producer: "grype", file: "anchore_grype/check_all_fields.json", max: 6},
	// container_scanning: trivy's image OS packages, grype's debs above,
	// the vulnerabilities of an image's debs in trivy's CycloneDX BOM
	{producer: "trivy", file: "trivy/all_statuses.json", max: 4},
	{producer: "cyclonedx", file: "cyclonedx/issue_9277.json", max: 3, noSBOM: true},
	// cyclonedx: syft's BOM (CycloneDX 1.7 JSON), a 1.4 JSON BOM, a 1.2
	// XML BOM
	{producer: "syft", file: "internal/producers/syft/testdata/syft-1.57.0-go-build.json"},
	{producer: "cyclonedx", file: "cyclonedx/log4j.json"},
	{producer: "cyclonedx", file: "cyclonedx/spec1.xml"},
}

func corpusProducers() []ProducerStatus {
	return []ProducerStatus{
		status("gosec", KindSAST), status("bandit", KindSAST), status("semgrep", KindSAST),
		status("checkov", KindIaC), status("gitleaks", KindSecrets), status("trufflehog", KindSecrets),
		status("trivy", KindIaC), status("osv-scanner", KindSCA), status("pip-audit", KindSCA),
		status("grype", KindSCA), status("cyclonedx", KindSBOM), status("syft", KindSBOM),
	}
}

func corpusConsumer() Consumer {
	return Consumer{Version: "1.2.3", Producers: corpusProducers(), Commit: "0123456789abcdef0123456789abcdef01234567"}
}

// TestGolden writes every report of the corpus findings and compares each
// file with testdata/golden (go test -update rewrites them), and
// validates each against its schema.
func TestGolden(t *testing.T) {
	files := build(t, corpusConsumer(), enrich(t, parse(t, corpusInputs)))
	want := []string{
		"gl-code-quality-report.json", "gl-container-scanning-report.json", "gl-dependency-scanning-report.json",
		"gl-sast-report.json", "gl-sbom-cyclonedx-2.cdx.json", "gl-sbom-cyclonedx.cdx.json", "gl-sbom-syft.cdx.json",
		"gl-secret-detection-report.json",
	}
	var got []string
	for name := range files {
		got = append(got, name)
	}
	sort.Strings(got)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("wrote %v, want %v", got, want)
	}
	dir := filepath.Join("testdata", "golden")
	if *update {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range got {
		data := files[name]
		validate(t, name, data)
		path := filepath.Join(dir, name)
		if *update {
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		golden, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -update)", err)
		}
		if !bytes.Equal(data, golden) {
			t.Errorf("%s differs from %s (go test -update accepts it)", name, path)
		}
	}
}

// tools lists, per security report, which tools' findings it holds.
func toolsIn(t *testing.T, data []byte) map[string]int {
	t.Helper()
	var doc securityReport
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, v := range doc.Vulnerabilities {
		out[v.Details["dracon_tools"].Value]++
	}
	return out
}

// TestCorpusRouting: each finding lands in its report by its producer's
// kind and its signature, with findings of three tools at least in each.
func TestCorpusRouting(t *testing.T) {
	files := build(t, corpusConsumer(), enrich(t, parse(t, corpusInputs)))
	for name, want := range map[string][]string{
		"gl-sast-report.json":                {"gosec", "bandit", "semgrep", "checkov", "trivy"},
		"gl-secret-detection-report.json":    {"gitleaks", "trufflehog", "trivy"},
		"gl-dependency-scanning-report.json": {"osv-scanner", "pip-audit", "grype", "trivy", "cyclonedx"},
		"gl-container-scanning-report.json":  {"trivy", "grype", "cyclonedx"},
	} {
		got := toolsIn(t, files[name])
		for _, tool := range want {
			if got[tool] == 0 {
				t.Errorf("%s has no finding of %s (has %v)", name, tool, got)
			}
		}
		if len(got) != len(want) {
			t.Errorf("%s has findings of %v, want only %v", name, got, want)
		}
	}
	var cs securityReport
	if err := json.Unmarshal(files["gl-container-scanning-report.json"], &cs); err != nil {
		t.Fatal(err)
	}
	images := map[string]bool{}
	for _, v := range cs.Vulnerabilities {
		images[v.Location.Image+" on "+v.Location.OperatingSystem] = true
	}
	// trivy names its image and OS in the target; grype's and the BOM's
	// OS comes from the distro namespace and the package URL's distro.
	if !images["noppaknopsta/example-app:main-159 on debian:10.13"] {
		t.Errorf("trivy's image is not in the container report: %v", images)
	}
	var bom map[string]any
	if err := json.Unmarshal(files["gl-sbom-syft.cdx.json"], &bom); err != nil {
		t.Fatal(err)
	}
	if n := len(bom["components"].([]any)); n != 8 {
		t.Errorf("syft's BOM has %d components, want its 8", n)
	}
	if _, ok := bom["vulnerabilities"]; ok {
		t.Error("the BOM keeps its vulnerabilities; they belong in dependency scanning")
	}
}

// TestPrimaryIdentifier: identifiers[0] is the tool's rule, typed as
// GitLab's analyzers type it; CVE, CWE and OWASP follow; no empty url.
func TestPrimaryIdentifier(t *testing.T) {
	files := build(t, corpusConsumer(), enrich(t, parse(t, corpusInputs)))
	want := map[string]*regexp.Regexp{
		"gosec":      regexp.MustCompile(`^gosec_rule_id:G\d+$`),
		"bandit":     regexp.MustCompile(`^bandit_test_id:B\d+$`),
		"semgrep":    regexp.MustCompile(`^semgrep_id:\S+$`),
		"checkov":    regexp.MustCompile(`^checkov_rule_id:CKV\S+$`),
		"gitleaks":   regexp.MustCompile(`^gitleaks_rule_id:\S+$`),
		"trufflehog": regexp.MustCompile(`^trufflehog_rule_id:\S+$`),
		"trivy":      regexp.MustCompile(`^(trivy_rule_id:\S+|cve:CVE-\d+-\d+)$`),
		"grype":      regexp.MustCompile(`^(cve:CVE-\d+-\d+|ghsa:GHSA-\S+)$`),
	}
	for _, name := range []string{"gl-sast-report.json", "gl-secret-detection-report.json",
		"gl-dependency-scanning-report.json", "gl-container-scanning-report.json"} {
		var doc securityReport
		if err := json.Unmarshal(files[name], &doc); err != nil {
			t.Fatal(err)
		}
		for _, v := range doc.Vulnerabilities {
			tool := v.Details["dracon_tools"].Value
			first := v.Identifiers[0].Type + ":" + v.Identifiers[0].Value
			if re := want[tool]; re != nil && !re.MatchString(first) {
				t.Errorf("%s: %s's primary identifier is %s", name, tool, first)
			}
			order := map[string]int{}
			for i, id := range v.Identifiers {
				if i > 0 && (id.Type == "cwe" || id.Type == "owasp") {
					order[id.Type] = i
				}
				if id.Type == "cve" && i > 0 {
					order["cve"] = i
				}
			}
			if c, ok := order["cve"]; ok {
				if w, ok := order["cwe"]; ok && w < c {
					t.Errorf("%s: CWE before CVE in %v", name, v.Identifiers)
				}
			}
		}
		if bytes.Contains(files[name], []byte(`"url": ""`)) {
			t.Errorf("%s has an empty url", name)
		}
	}
	// gosec's CWE comes second.
	var sast securityReport
	if err := json.Unmarshal(files["gl-sast-report.json"], &sast); err != nil {
		t.Fatal(err)
	}
	cwes := 0
	for _, v := range sast.Vulnerabilities {
		if v.Identifiers[0].Type == "gosec_rule_id" && len(v.Identifiers) > 1 {
			if v.Identifiers[1].Type != "cwe" {
				t.Errorf("gosec finding whose second identifier is not its CWE: %v", v.Identifiers)
			}
			cwes++
		}
	}
	if cwes == 0 {
		t.Error("no gosec finding with a CWE")
	}
}

// TestEmptyReports: with no findings and no producer named, every report
// named is still written and valid (an empty BOM, an empty array).
func TestEmptyReports(t *testing.T) {
	files := build(t, Consumer{Reports: AllReports}, nil)
	if len(files) != len(AllReports) {
		t.Fatalf("wrote %d files, want one per report", len(files))
	}
	for name, data := range files {
		validate(t, name, data)
	}
	if got := strings.TrimSpace(string(files["gl-code-quality-report.json"])); got != "[]" {
		t.Errorf("empty Code Quality report is %s, want []", got)
	}
	// By default: Code Quality always, nothing else without a reason.
	files = build(t, Consumer{}, nil)
	if len(files) != 1 || files["gl-code-quality-report.json"] == nil {
		t.Errorf("default with nothing found wrote %v, want only Code Quality", keys(files))
	}
	// A producer that ran and found nothing gets its empty report, so
	// GitLab sees the scan ran.
	files = build(t, Consumer{Producers: []ProducerStatus{status("gosec", KindSAST), status("grype", KindSCA)}}, nil)
	for _, name := range []string{"gl-sast-report.json", "gl-dependency-scanning-report.json", "gl-code-quality-report.json"} {
		if files[name] == nil {
			t.Errorf("%s not written for a producer that ran (wrote %v)", name, keys(files))
		}
		validate(t, name, files[name])
	}
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestFailedProducer: a failed producer is a warning in its report's
// scan messages; its report fails when no producer of it ran.
func TestFailedProducer(t *testing.T) {
	results := enrich(t, parse(t, []input{{producer: "gosec", file: "gosec/many_vulns.json", max: 2}}))
	semgrep := status("semgrep", KindSAST)
	semgrep.Status, semgrep.Reason = "failed", "exit code 2: semgrep: out of memory"
	gitleaks := status("gitleaks", KindSecrets)
	gitleaks.Status, gitleaks.Reason = "failed", "timed out after 10m0s"
	c := Consumer{Producers: []ProducerStatus{status("gosec", KindSAST), semgrep, gitleaks}}
	files := build(t, c, results)
	var sast, secrets securityReport
	for name, doc := range map[string]*securityReport{"gl-sast-report.json": &sast, "gl-secret-detection-report.json": &secrets} {
		validate(t, name, files[name])
		if err := json.Unmarshal(files[name], doc); err != nil {
			t.Fatal(err)
		}
	}
	if sast.Scan.Status != "success" || len(sast.Scan.Messages) != 1 || sast.Scan.Messages[0].Level != "warn" ||
		!strings.Contains(sast.Scan.Messages[0].Value, "semgrep failed: exit code 2") {
		t.Errorf("sast scan: %+v", sast.Scan)
	}
	if sast.Scan.Scanner.ID != draconID {
		t.Errorf("two SAST tools ran or failed; scanner is %+v, want Dracon", sast.Scan.Scanner)
	}
	if secrets.Scan.Status != "failure" || len(secrets.Vulnerabilities) != 0 || secrets.Scan.Scanner.ID != "gitleaks" {
		t.Errorf("secret detection scan with only a failed producer: %+v", secrets.Scan)
	}
	if sast.Scan.StartTime != "2026-03-01T12:00:00" || sast.Scan.EndTime != "2026-03-01T12:01:00" {
		t.Errorf("times %s .. %s", sast.Scan.StartTime, sast.Scan.EndTime)
	}
}

// TestDeterministic: the same findings in another order give the same
// bytes, and ids are UUID v5 of the finding's hash.
func TestDeterministic(t *testing.T) {
	a := build(t, corpusConsumer(), enrich(t, parse(t, corpusInputs)))
	rev := append([]input(nil), corpusInputs...)
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	b := build(t, corpusConsumer(), enrich(t, parse(t, rev)))
	for name, data := range a {
		if strings.HasPrefix(name, "gl-sbom-cyclonedx") {
			continue // the two cyclonedx BOMs are numbered in input order
		}
		if !bytes.Equal(data, b[name]) {
			t.Errorf("%s depends on the order of the results", name)
		}
	}
	uuid5 := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	var doc securityReport
	if err := json.Unmarshal(a["gl-sast-report.json"], &doc); err != nil {
		t.Fatal(err)
	}
	for _, v := range doc.Vulnerabilities {
		if !uuid5.MatchString(v.ID) {
			t.Errorf("id %s is not a UUID v5", v.ID)
		}
	}
}

// TestLineShift: moving code down keeps every id, tracking signature and
// Code Quality fingerprint (GitLab's own location fingerprint moves; the
// hash signature is what advanced tracking and the widget go by).
func TestLineShift(t *testing.T) {
	ins := []input{{producer: "gosec", file: "gosec/many_vulns.json", max: 4}, {producer: "bandit", file: "bandit/dd.json", max: 4}}
	before := build(t, Consumer{}, enrich(t, parse(t, ins)))
	shifted := parse(t, ins)
	// Seven lines added above every finding: its lines and the line
	// numbers gosec and bandit print in the snippet move.
	numbered := regexp.MustCompile(`(?m)^(\s*)(\d+)([: \t|])`)
	for _, l := range shifted {
		for _, is := range l.Issues {
			is.Location.StartLine += 7
			is.Location.EndLine += 7
			if is.ContextSegment != nil {
				s := numbered.ReplaceAllStringFunc(*is.ContextSegment, func(m string) string {
					p := numbered.FindStringSubmatch(m)
					n, _ := strconv.Atoi(p[2])
					return p[1] + strconv.Itoa(n+7) + p[3]
				})
				is.ContextSegment = &s
			}
		}
	}
	after := build(t, Consumer{}, enrich(t, shifted))
	ids := func(data []byte) []string {
		var doc securityReport
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, v := range doc.Vulnerabilities {
			out = append(out, v.ID+" "+v.Tracking.Items[0].Signatures[0].Value)
		}
		sort.Strings(out)
		return out
	}
	if a, b := ids(before["gl-sast-report.json"]), ids(after["gl-sast-report.json"]); strings.Join(a, ",") != strings.Join(b, ",") {
		t.Errorf("a line shift changed ids or signatures:\n%v\n%v", a, b)
	}
	fps := func(data []byte) []string {
		var cq []codeQualityIssue
		if err := json.Unmarshal(data, &cq); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range cq {
			out = append(out, e.Fingerprint)
		}
		sort.Strings(out)
		return out
	}
	if a, b := fps(before["gl-code-quality-report.json"]), fps(after["gl-code-quality-report.json"]); strings.Join(a, ",") != strings.Join(b, ",") {
		t.Error("a line shift changed Code Quality fingerprints")
	}
}

// TestCodeQualityFields checks each Code Quality entry of the corpus for
// GitLab's documented fields and the severity mapping.
func TestCodeQualityFields(t *testing.T) {
	files := build(t, Consumer{Reports: []string{CodeQuality}}, enrich(t, parse(t, corpusInputs)))
	data := files["gl-code-quality-report.json"]
	checkCodeQuality(t, "gl-code-quality-report.json", data)
	if len(files) != 1 {
		t.Errorf("Reports: [codequality] wrote %v", keys(files))
	}
	var cq []codeQualityIssue
	if err := json.Unmarshal(data, &cq); err != nil {
		t.Fatal(err)
	}
	if len(cq) < 40 {
		t.Errorf("%d entries, want every corpus finding", len(cq))
	}
	for s, want := range map[v1.Severity]string{v1.Severity_SEVERITY_INFO: "info", v1.Severity_SEVERITY_LOW: "minor",
		v1.Severity_SEVERITY_MEDIUM: "major", v1.Severity_SEVERITY_HIGH: "critical", v1.Severity_SEVERITY_CRITICAL: "blocker",
		v1.Severity_SEVERITY_UNSPECIFIED: "major"} {
		if got := codeQualitySeverity(s); got != want {
			t.Errorf("%v -> %s, want %s", s, got, want)
		}
	}
	for _, e := range cq {
		if !strings.HasPrefix(e.CheckName, e.EngineName+":") || !strings.HasPrefix(e.Description, "[") {
			t.Errorf("entry %+v", e)
		}
	}
}

// TestSecretsNeverWritten: a secret's value, in the snippet or an
// annotation, is never copied into any report; secrets carry a commit.
func TestSecretsNeverWritten(t *testing.T) {
	const value = "AKIAZZZZZZZZZZZZZZZZ-do-not-copy"
	snippet := "aws_key = " + value
	is := &v1.Issue{ToolName: "gitleaks", RuleId: "aws-access-token", Type: "aws-access-token", Title: "AWS key",
		Severity: v1.Severity_SEVERITY_HIGH, Location: &v1.Location{Path: "config/prod.env", StartLine: 3, EndLine: 3},
		ContextSegment: &snippet, Fingerprint: "sha256:0badc0de",
		Annotations: map[string]string{"secret": value, "match": snippet, "gitleaks.commit": "feedface"},
		Description: "gitleaks found an AWS key in config/prod.env:3"}
	trivySecret := &v1.Issue{ToolName: "trivy", RuleId: "aws-secret-access-key", Title: "AWS secret",
		Location: &v1.Location{Path: "secret.txt", StartLine: 1}, Fingerprint: "sha256:feed", ContextSegment: &snippet}
	results := enrich(t, []*v1.LaunchToolResponse{
		{ToolName: "gitleaks", Issues: []*v1.Issue{is}},
		{ToolName: "trivy", Issues: []*v1.Issue{trivySecret}},
	})
	files := build(t, Consumer{Reports: AllReports, Commit: "c0ffee"}, results)
	for name, data := range files {
		validate(t, name, data)
		if bytes.Contains(data, []byte("AKIAZZZZ")) {
			t.Errorf("%s holds the secret", name)
		}
	}
	var doc securityReport
	if err := json.Unmarshal(files["gl-secret-detection-report.json"], &doc); err != nil {
		t.Fatal(err)
	}
	commits := map[string]bool{}
	for _, v := range doc.Vulnerabilities {
		commits[v.Location.Commit.SHA] = true
		if v.Tracking == nil || v.Tracking.Items[0].Signatures[0].Algorithm != "hash" {
			t.Errorf("secret without a hash tracking signature: %+v", v)
		}
	}
	// gitleaks' own commit; trivy names none, so the scanned commit.
	if !commits["feedface"] || !commits["c0ffee"] || len(doc.Vulnerabilities) != 2 {
		t.Errorf("commits %v", commits)
	}
}

// TestDuplicatesAndSuppressed: another tool's report of a finding is left
// out (the finding names both tools), a suppressed finding is left out,
// and the scan messages count both.
func TestDuplicatesAndSuppressed(t *testing.T) {
	code := "password := \"hunter2-but-redacted\""
	gosec := &v1.Issue{ToolName: "gosec", RuleId: "G101", Type: "G101", Title: "Potential hardcoded credentials",
		Severity: v1.Severity_SEVERITY_HIGH, Location: &v1.Location{Path: "main.go", StartLine: 10, EndLine: 10},
		ContextSegment: &code, Cwe: []int32{798}}
	gitleaks := &v1.Issue{ToolName: "gitleaks", RuleId: "generic-api-key", Title: "Generic API key",
		Severity: v1.Severity_SEVERITY_HIGH, Location: &v1.Location{Path: "main.go", StartLine: 10, EndLine: 10},
		Fingerprint: "sha256:abcd"}
	bandit := &v1.Issue{ToolName: "bandit", RuleId: "B303", Title: "Use of insecure MD5", Severity: v1.Severity_SEVERITY_MEDIUM,
		Location: &v1.Location{Path: "app.py", StartLine: 4}}
	results := enrich(t, []*v1.LaunchToolResponse{
		{ToolName: "gosec", Issues: []*v1.Issue{gosec}},
		{ToolName: "gitleaks", Issues: []*v1.Issue{gitleaks}},
		{ToolName: "bandit", Issues: []*v1.Issue{bandit}},
	})
	for _, r := range results {
		for _, ei := range r.Issues {
			if ei.RawIssue.ToolName == "bandit" {
				ei.Suppressed, ei.SuppressionReason, ei.Status = true, "accepted risk", "accepted_risk"
			}
		}
	}
	if results[0].Issues[0].DuplicateOf == "" && results[1].Issues[0].DuplicateOf == "" {
		t.Fatal("merge did not make one of gosec's G101 and gitleaks' key a duplicate")
	}
	c := Consumer{Producers: []ProducerStatus{status("gosec", KindSAST), status("gitleaks", KindSecrets), status("bandit", KindSAST)}}
	files := build(t, c, results)
	total := 0
	var msgs []string
	for _, name := range []string{"gl-sast-report.json", "gl-secret-detection-report.json"} {
		validate(t, name, files[name])
		var doc securityReport
		if err := json.Unmarshal(files[name], &doc); err != nil {
			t.Fatal(err)
		}
		total += len(doc.Vulnerabilities)
		for _, v := range doc.Vulnerabilities {
			if v.Details["dracon_tools"].Value != "gitleaks, gosec" && v.Details["dracon_tools"].Value != "gosec, gitleaks" {
				t.Errorf("the finding does not name both tools: %v", v.Details)
			}
		}
		for _, m := range doc.Scan.Messages {
			msgs = append(msgs, m.Value)
		}
	}
	if total != 1 {
		t.Errorf("%d vulnerabilities, want the one finding once", total)
	}
	joined := strings.Join(msgs, "\n")
	if !strings.Contains(joined, "1 suppressed in Dracon") || !strings.Contains(joined, "1 reported by another tool too") {
		t.Errorf("messages %q", joined)
	}
	var cq []codeQualityIssue
	if err := json.Unmarshal(files["gl-code-quality-report.json"], &cq); err != nil {
		t.Fatal(err)
	}
	if len(cq) != 1 {
		t.Errorf("Code Quality has %d entries, want 1", len(cq))
	}
}

// TestImageProducer: the pipeline's image for a producer sends its
// dependency findings to container scanning with that image.
func TestImageProducer(t *testing.T) {
	results := enrich(t, parse(t, []input{{producer: "grype", file: "anchore_grype/check_all_fields.json"}}))
	g := status("grype", KindSCA)
	g.Image = "registry.example.com/app:1.0"
	files := build(t, Consumer{Producers: []ProducerStatus{g}}, results)
	if files["gl-dependency-scanning-report.json"] != nil {
		t.Error("an image scan wrote a dependency scanning report")
	}
	data := files["gl-container-scanning-report.json"]
	validate(t, "gl-container-scanning-report.json", data)
	var doc securityReport
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Vulnerabilities) == 0 {
		t.Fatal("no container findings")
	}
	oses := map[string]bool{}
	for _, v := range doc.Vulnerabilities {
		if v.Location.Image != g.Image {
			t.Errorf("image %q", v.Location.Image)
		}
		oses[v.Location.OperatingSystem] = true
	}
	if !oses["debian:10"] {
		t.Errorf("grype's distro namespace gave %v, want debian:10", oses)
	}
}

// TestSBOMFallback: with no SBOM producer, the BOM is made of the
// dependency findings' package URLs, one per tool, and says so.
func TestSBOMFallback(t *testing.T) {
	results := enrich(t, parse(t, []input{
		{producer: "grype", file: "anchore_grype/many_vulns4.json"},
		{producer: "osv-scanner", file: "osv_scanner/some_findings.json"},
		{producer: "pip-audit", file: "pip_audit/many_vulns.json"},
	}))
	files := build(t, Consumer{Reports: []string{CycloneDX}}, results)
	for _, tool := range []string{"grype", "osv-scanner", "pip-audit"} {
		name := SBOMFileName(tool)
		data := files[name]
		if data == nil {
			t.Fatalf("no %s (wrote %v)", name, keys(files))
		}
		validate(t, name, data)
		if !bytes.Contains(data, []byte(`"value": "findings"`)) || !bytes.Contains(data, []byte(`"purl": "pkg:`)) {
			t.Errorf("%s does not say it is made of findings, or has no package", name)
		}
	}
}

// TestUnknownReport: a report name GitLab has no artifact type for is an
// error, not a silent skip.
func TestUnknownReport(t *testing.T) {
	if _, err := (Consumer{Dir: t.TempDir(), Reports: []string{"dast"}}).Write(t.Context(), testScan(), nil); err == nil {
		t.Error("no error for an unknown report")
	}
}

// TestSchemaVersionDeclared is what the reports declare and what this
// package vendors to validate against.
func TestSchemaVersionDeclared(t *testing.T) {
	files := build(t, Consumer{Reports: []string{SAST}}, nil)
	if !bytes.Contains(files["gl-sast-report.json"], []byte(`"version": "`+SchemaVersion+`"`)) {
		t.Error("the report does not declare SchemaVersion")
	}
	if _, ok := compiled(t)[SAST+"@"+SchemaVersion]; !ok {
		t.Errorf("no vendored schema for %s", SchemaVersion)
	}
	_ = time.Second
}

// TestCorpusValid writes the reports of whole corpus files (no cut),
// many findings of each tool, and validates every file.
func TestCorpusValid(t *testing.T) {
	ins := []input{
		{producer: "gosec", file: "gosec/many_vulns.json"},
		{producer: "bandit", file: "bandit/dd2.json"},
		{producer: "semgrep", file: "semgrep/semgrep_version_1_30_0_line_26.json"},
		{producer: "semgrep", file: "semgrep/multiple_cwes_fabricated.json"},
		{producer: "checkov", file: "checkov/checkov-report-severity.json"},
		{producer: "tfsec", file: "tfsec/many_findings_legacy.json"},
		{producer: "hadolint", file: "hadolint/one_dockerfile.json"},
		{producer: "gitleaks", file: "gitleaks/redacted_data_many.json"},
		{producer: "trufflehog", file: "trufflehog/v3_github.json"},
		{producer: "trivy", file: "trivy/issue_9333.json"},
		{producer: "trivy", file: "trivy/legacy_trivy_mix.json"},
		{producer: "trivy", file: "trivy/kubernetes_fabricated_subset.json"},
		{producer: "trivy", file: "trivy/license_scheme.json"},
		{producer: "grype", file: "anchore_grype/many_vulns3.json"},
		{producer: "grype", file: "anchore_grype/many_vulns_with_epss_values.json"},
		{producer: "npm-audit", file: "npm_audit/many_vuln_npm7.json"},
		{producer: "govulncheck", file: "govulncheck/many_vulns.json"},
		{producer: "osv-scanner", file: "osv_scanner/multi_cwe_fabricated.json"},
		{producer: "cyclonedx", file: "cyclonedx/grype.xml"},
		{producer: "cyclonedx", file: "cyclonedx/jake2.json"},
		{producer: "cyclonedx", file: "cyclonedx/issue_9277.json"},
		{producer: "syft", file: "internal/producers/syft/testdata/syft-1.57.0-go-build.xml"},
		{producer: "zap", file: "zap/0_zap_sample.xml"},
	}
	files := build(t, corpusConsumer(), enrich(t, parse(t, ins)))
	for name, data := range files {
		validate(t, name, data)
	}
	for _, r := range []string{SAST, DependencyScanning, SecretDetection, ContainerScanning, CodeQuality} {
		if files[FileName(r)] == nil {
			t.Errorf("no %s report", r)
		}
	}
	if files[SBOMFileName("syft")] == nil || files[SBOMFileName("cyclonedx")] == nil {
		t.Errorf("BOMs missing: %v", keys(files))
	}
}
