package gitleaks

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/draconsec/dracon/internal/produce"
	"github.com/draconsec/dracon/internal/producers"
	"github.com/draconsec/dracon/internal/producers/producertest"
	"github.com/draconsec/dracon/internal/runner"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// The fake secrets in testdata/src, built here in pieces so that gitleaks
// scanning this repository does not flag the test itself.
var (
	fakeAWS    = "AKIA" + "Q2DRACONTESTFAKE"
	fakeGitHub = "ghp_" + "DraconFakeToken0123456789abcdefABCDE"
)

func TestCorpus(t *testing.T) {
	got := producertest.CheckCorpus(t, "gitleaks", Parse, map[string]producertest.Differ{
		"gitleaks/gitleaks8_many.json": {Count: 4, Reason: "two findings are the same AWS value in /conf/aws.tf line 2 " +
			"but in two different commits and columns; DefectDojo merges them in its parser (same dupe key), " +
			"Dracon keeps both and gives them the same fingerprint (a hash of the secret) for the dedup enricher"},
	})

	// gitleaks 8: rule id, location, secret fingerprint, redacted match.
	many := got["gitleaks/gitleaks8_many.json"].Issues
	aws := many[0]
	if aws.RuleId != "aws-access-token" || aws.Target != "/conf/aws.tf:2" || aws.Title != "AWS" ||
		aws.Severity != v1.Severity_SEVERITY_HIGH || aws.Fingerprint != producers.SecretFingerprint("secretAWSsecret") ||
		aws.GetContextSegment() != "****REDACTED****" || aws.Location.StartColumn != 24038 ||
		aws.Annotations["gitleaks.commit"] != "74d53286c550630f80847d37f68aa3065554ac813544072ccd1278da71fafe31" {
		t.Errorf("gitleaks8 first = %v", aws)
	}
	if many[1].Fingerprint != aws.Fingerprint {
		t.Error("the same secret in two commits has two fingerprints")
	}
	if api := many[3]; api.GetContextSegment() != `apikey = "dfjk****REDACTED****"` || api.Target != "tests/api.py:21" ||
		api.Annotations["gitleaks.entropy"] != "4.132944" {
		t.Errorf("generic api key = %v", api)
	}
	if !slices.Equal(many[2].Tags, []string{"tag1", "tag2"}) {
		t.Errorf("tags = %v", many[2].Tags)
	}

	// gitleaks 7: rule name, comma-separated tags, no line number.
	one := got["gitleaks/data_one.json"].Issues[0]
	if one.RuleId != "Asymmetric Private Key" || one.Target != "cert-key.pem" ||
		!slices.Equal(one.Tags, []string{"key", "AsymmetricPrivateKey"}) ||
		one.Fingerprint != producers.SecretFingerprint("-----BEGIN PRIVATE KEY-----") {
		t.Errorf("data_one = %v", one)
	}
	if is := got["gitleaks/issue4336.json"].Issues[0]; is.Target != "README.md:23" || is.Annotations["gitleaks.date"] != "" {
		t.Errorf("issue4336 = %v", is)
	}

	// Redacted gitleaks 7 report: no secret to hash, so rule, file, commit,
	// line number and line identify each finding; all six differ.
	red := got["gitleaks/redacted_data_many.json"].Issues
	seen := map[string]bool{}
	for _, is := range red {
		seen[is.Fingerprint] = true
		if is.Fingerprint == producers.SecretFingerprint("REDACTED") {
			t.Errorf("redacted finding fingerprinted by the marker: %v", is)
		}
	}
	if len(seen) != 6 || red[0].Target != "overlays/server/config/server-config.yml:224" ||
		red[0].GetContextSegment() != `          access-key = "REDACTED"` {
		t.Errorf("redacted: %d fingerprints, first %v", len(seen), red[0])
	}
	if n := len(got["gitleaks/no_findings.json"].Issues); n != 0 {
		t.Errorf("no_findings.json: %d issues", n)
	}
}

// TestNoSecretInIssues marshals every issue of every corpus and testdata
// report and looks for each secret value the report holds.
func TestNoSecretInIssues(t *testing.T) {
	var files []string
	for _, row := range producertest.Expected(t, "gitleaks") {
		files = append(files, row.File)
	}
	td, _ := filepath.Glob("testdata/*.json")
	files = append(files, td...)
	td, _ = filepath.Glob("testdata/*.sarif")
	files = append(files, td...)
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		var raw []map[string]any
		if !strings.HasSuffix(file, ".sarif") {
			if err := json.Unmarshal(data, &raw); err != nil {
				t.Fatal(err)
			}
		}
		var secrets []string
		for _, r := range raw {
			for _, k := range []string{"Secret", "offender"} {
				if s, _ := r[k].(string); s != "" && !strings.Contains(s, "REDACTED") {
					secrets = append(secrets, strings.TrimSuffix(s, "..."))
				}
			}
		}
		for _, is := range got.Issues {
			b, err := protojson.Marshal(is)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range append(secrets, fakeAWS, fakeGitHub) {
				if strings.Contains(string(b), s) {
					t.Errorf("%s: secret %q in issue %s", filepath.Base(file), s, b)
				}
			}
		}
	}
}

// TestRecordedRuns reads reports gitleaks v8.30.1 wrote for testdata/src:
// unredacted, --redact and --redact=50.
func TestRecordedRuns(t *testing.T) {
	read := func(file string) map[string]*v1.Issue {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		producertest.CheckIssues(t, got.Issues)
		byRule := map[string]*v1.Issue{}
		for _, is := range got.Issues {
			byRule[is.RuleId] = is
		}
		if len(byRule) != 2 {
			t.Fatalf("%s: rules %v", file, byRule)
		}
		return byRule
	}
	plain := read("testdata/v8.30.1.json")
	full := read("testdata/v8.30.1-redacted.json")
	half := read("testdata/v8.30.1-redact50.json")

	aws := plain["aws-access-token"]
	if aws.Target != "settings.py:3" || aws.Fingerprint != producers.SecretFingerprint(fakeAWS) ||
		aws.GetContextSegment() != "AKIA****REDACTED****" || aws.Location.StartColumn != 23 || aws.Location.EndColumn != 42 {
		t.Errorf("unredacted aws = %v", aws)
	}
	if gh := plain["github-pat"]; gh.Target != "settings.py:6" || gh.Fingerprint != producers.SecretFingerprint(fakeGitHub) {
		t.Errorf("unredacted github = %v", gh)
	}
	for rule := range plain {
		f, h := full[rule], half[rule]
		if f.Target != plain[rule].Target || h.Target != plain[rule].Target {
			t.Errorf("%s: targets %s / %s / %s", rule, plain[rule].Target, f.Target, h.Target)
		}
		// Redacted reports hold no secret to hash: their fingerprints differ
		// from the unredacted one and from each other's rules.
		if f.Fingerprint == plain[rule].Fingerprint || f.Fingerprint == "" || h.Fingerprint == "" {
			t.Errorf("%s: fingerprints %q %q %q", rule, plain[rule].Fingerprint, f.Fingerprint, h.Fingerprint)
		}
	}
	if full["aws-access-token"].Fingerprint == full["github-pat"].Fingerprint {
		t.Error("two redacted findings in one file share a fingerprint")
	}
	if s := half["aws-access-token"].GetContextSegment(); s != "****REDACTED****..." {
		t.Errorf("partly redacted match shown as %q", s)
	}
}

// TestSARIF reads gitleaks' SARIF, whose snippets are the secrets.
func TestSARIF(t *testing.T) {
	read := func(file string) []*v1.Issue {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		producertest.CheckIssues(t, got.Issues)
		sort.Slice(got.Issues, func(i, j int) bool { return got.Issues[i].RuleId < got.Issues[j].RuleId })
		if len(got.Issues) != 2 {
			t.Fatalf("%s: %d issues", file, len(got.Issues))
		}
		return got.Issues
	}
	plain, red := read("testdata/v8.30.1.sarif"), read("testdata/v8.30.1-redacted.sarif")
	aws := plain[0]
	if aws.RuleId != "aws-access-token" || aws.Target != "settings.py:3" || aws.Severity != v1.Severity_SEVERITY_HIGH ||
		aws.Fingerprint != producers.SecretFingerprint(fakeAWS) || aws.GetContextSegment() != "AKIA****REDACTED****" ||
		aws.ToolName != "gitleaks" || len(aws.Annotations) != 0 {
		t.Errorf("aws = %v", aws)
	}
	if plain[1].Fingerprint != producers.SecretFingerprint(fakeGitHub) {
		t.Errorf("github = %v", plain[1])
	}
	if red[0].Fingerprint == red[1].Fingerprint || red[0].Fingerprint == aws.Fingerprint || red[0].Target != "settings.py:3" {
		t.Errorf("redacted = %v", red)
	}
}

func TestParseRejects(t *testing.T) {
	for name, in := range map[string]string{
		"empty":        "",
		"truncated":    `[{"RuleID": "aws-access-token", "Secret": "AKIA`,
		"object":       `{"results": []}`,
		"gosec":        `{"Issues": []}`,
		"other list":   `[{"vulnerabilityID": "CVE-2020-1"}]`,
		"trufflehog":   `{"SourceMetadata": {}, "DetectorName": "AWS", "Raw": "x"}` + "\n",
		"codeql sarif": `{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "CodeQL"}}, "results": []}]}`,
	} {
		if _, err := Parse([]byte(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	for _, in := range []string{"[]", "null", " null\n"} {
		got, err := Parse([]byte(in))
		if err != nil || len(got.Issues) != 0 {
			t.Errorf("%q: %v, %v", in, got, err)
		}
	}
}

func TestRedactEdgeCases(t *testing.T) {
	// No Secret: the match itself is hidden. No offender: the line is.
	got, err := Parse([]byte(`[{"RuleID": "r", "Match": "password=hunter2hunter2", "File": "a"},
		{"rule": "Password", "line": "pw = swordfish", "file": "b", "lineNumber": 2}]`))
	if err != nil {
		t.Fatal(err)
	}
	for _, is := range got.Issues {
		b, _ := protojson.Marshal(is)
		if strings.Contains(string(b), "hunter2") || strings.Contains(string(b), "swordfish") {
			t.Errorf("secret shown: %s", b)
		}
	}
}

func FuzzParse(f *testing.F) {
	producertest.Seed(f, []string{"gitleaks"}, "testdata/*.json")
	f.Fuzz(func(t *testing.T, data []byte) { producertest.FuzzParse(t, Parse, data) })
}

func BenchmarkParse(b *testing.B) {
	// The corpus files are tiny; a report of 500 findings built from the
	// largest one times what a real history scan writes.
	data, err := os.ReadFile(filepath.Join(producertest.CorpusDir(b), "defectdojo", "gitleaks", "redacted_data_many.json"))
	if err != nil {
		b.Fatal(err)
	}
	var items []json.RawMessage
	if err := json.Unmarshal(data, &items); err != nil {
		b.Fatal(err)
	}
	var big []json.RawMessage
	for len(big) < 500 {
		big = append(big, items...)
	}
	data, _ = json.Marshal(big)
	producertest.BenchParse(b, Parse, data)
}

// TestRealGitleaks runs the pinned gitleaks on testdata/src and asserts
// the exact findings, and that neither the issues nor the raw report on
// disk (rewritten with the values hidden once parsed) hold a secret.
func TestRealGitleaks(t *testing.T) {
	producertest.RequireTool(t, Producer)
	runDir := t.TempDir()
	out := produce.Run(context.Background(), runner.Local{}, Producer, produce.Options{
		Source: "testdata/src", RunDir: runDir, Timeout: 5 * time.Minute,
	})
	if out.Status != produce.OK {
		t.Fatalf("gitleaks %s: %s", out.Status, out.Reason)
	}
	producertest.CheckIssues(t, out.Parsed.Issues)
	report, err := os.ReadFile(out.Report)
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{fakeAWS, fakeGitHub, fakeAWS[4:14], fakeGitHub[4:20]}
	for _, s := range secrets {
		if strings.Contains(string(report), s) {
			t.Errorf("raw report holds %q", s)
		}
	}
	var lines []string
	for _, is := range out.Parsed.Issues {
		lines = append(lines, fmt.Sprintf("%s %s:%d %s", is.RuleId, is.Location.Path, is.Location.StartLine, is.Severity))
		b, err := protojson.Marshal(is)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range secrets {
			if strings.Contains(string(b), s) {
				t.Errorf("secret %q in %s", s, b)
			}
		}
		if is.Fingerprint == "" {
			t.Errorf("no fingerprint: %v", is)
		}
	}
	sort.Strings(lines)
	want := []string{
		"aws-access-token settings.py:3 SEVERITY_HIGH",
		"github-pat settings.py:6 SEVERITY_HIGH",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}
