package grype

import (
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/draconsec/dracon/internal/producers/producertest"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
	_ "modernc.org/sqlite" // builds the test's grype database
)

func TestCorpus(t *testing.T) {
	// check_all_fields.json: the two GHSA-v6rh-hp5x-86rv matches on Django
	// 3.2.9 are byte-for-byte the same match, so they are one issue, as in
	// DefectDojo's default mode (5).
	got := producertest.CheckCorpus(t, "anchore_grype", Parse, nil)

	r := got["anchore_grype/check_all_fields.json"]
	if r.ToolVersion != "0.28.0" {
		t.Errorf("tool version %q", r.ToolVersion)
	}
	krb := r.Issues[0]
	if krb.RuleId != "CVE-2004-0971" || krb.Cve != "CVE-2004-0971" ||
		krb.Target != "pkg:deb/debian/libgssapi-krb5-2@1.17-3+deb10u3?arch=amd64" ||
		krb.Severity != v1.Severity_SEVERITY_INFO || krb.Cvss != 2.1 ||
		krb.Location.GetPath() != "/var/lib/dpkg/status" || krb.FixedVersion != "" ||
		krb.Annotations["grype.fix_state"] != "not-fixed" || krb.Title != "CVE-2004-0971 in libgssapi-krb5-2 1.17-3+deb10u3" {
		t.Errorf("first = %v", krb)
	}
	django := r.Issues[4]
	if django.RuleId != "GHSA-v6rh-hp5x-86rv" || django.Cve != "CVE-2021-44420" ||
		strings.Join(django.Aliases, ",") != "CVE-2021-44420" || django.Severity != v1.Severity_SEVERITY_HIGH ||
		django.FixedVersion != "3.2.10" || django.PackageUrl != "pkg:pypi/Django@3.2.9" || django.PackageVersion != "3.2.9" {
		t.Errorf("django = %v", django)
	}
	redis := r.Issues[1]
	if redis.FixedVersion != "fix_1" || redis.Annotations["grype.fix_versions"] != "fix_1, fix_2" {
		t.Errorf("redis = %v", redis)
	}

	// grype 0.7: matchDetails is one object, CVSS in cvssV2/cvssV3.
	old := got["anchore_grype/many_vulns3.json"].Issues[0]
	if old.RuleId != "CVE-2019-18276" || old.Severity != v1.Severity_SEVERITY_INFO || old.Cvss != 7.2 ||
		old.Annotations["grype.match"] != "dpkg-matcher" || old.References[0] != "https://security-tracker.debian.org/tracker/CVE-2019-18276" {
		t.Errorf("many_vulns3 first = %v", old)
	}

	// EPSS and risk, grype 0.94.
	epss := got["anchore_grype/many_vulns_with_epss_values.json"].Issues
	found := false
	for _, is := range epss {
		if is.Annotations["epss"] != "" && is.Annotations["grype.risk"] != "" {
			found = true
		}
	}
	if !found {
		t.Error("no EPSS annotation")
	}
	p := got["anchore_grype/anchore_grype_epss_problem.json"].Issues[0]
	if p.RuleId != "GHSA-4374-p667-p6c8" || p.Cve != "CVE-2023-39325" || p.Cvss != 7.5 || p.Annotations["epss"] != "0.00163" {
		t.Errorf("epss_problem = %v", p)
	}
}

func TestConfidence(t *testing.T) {
	data := `{"descriptor": {"name": "grype", "version": "0.121.2"}, "matches": [
	 {"vulnerability": {"id": "CVE-1", "severity": "Unknown", "cvss": [{"version": "3.1", "metrics": {"baseScore": 9.1}}]},
	  "matchDetails": [{"type": "exact-direct-match", "matcher": "go-module-matcher"}],
	  "artifact": {"name": "a", "version": "1", "type": "go-module", "purl": "pkg:golang/a@1"}},
	 {"vulnerability": {"id": "CVE-1", "severity": "Unknown"},
	  "matchDetails": [{"type": "cpe-match", "matcher": "stock-matcher"}],
	  "artifact": {"name": "a", "version": "1", "locations": [{"path": "/bin/a"}]}}
	]}`
	got, err := Parse([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	producertest.CheckIssues(t, got.Issues)
	a, b := got.Issues[0], got.Issues[1]
	if a.Severity != v1.Severity_SEVERITY_CRITICAL || a.Confidence != v1.Confidence_CONFIDENCE_HIGH {
		t.Errorf("exact = %v", a)
	}
	if b.Severity != v1.Severity_SEVERITY_MEDIUM || b.Confidence != v1.Confidence_CONFIDENCE_LOW || b.Target != "a@1 in /bin/a" {
		t.Errorf("cpe = %v", b)
	}
}

func TestParseRejects(t *testing.T) {
	for name, in := range map[string]string{
		"empty":       "",
		"truncated":   `{"matches": [{"vulnerability": {"id": "CVE`,
		"gosec":       `{"Issues": [], "Stats": {}}`,
		"osv-scanner": `{"results": []}`,
		"array":       `[]`,
		"other tool":  `{"matches": [], "descriptor": {"name": "syft"}}`,
		"bad details": `{"matches": [{"matchDetails": 5}]}`,
	} {
		if got, err := Parse([]byte(in)); err == nil {
			t.Errorf("%s: no error, %d issues", name, len(got.Issues))
		}
	}
	got, err := Parse([]byte(`{"matches": null, "descriptor": {"name": "grype"}}`))
	if err != nil || len(got.Issues) != 0 {
		t.Errorf("null matches: %v, %v", got, err)
	}
}

func FuzzParse(f *testing.F) {
	producertest.Seed(f, []string{"anchore_grype"})
	f.Fuzz(func(t *testing.T, data []byte) { producertest.FuzzParse(t, Parse, data) })
}

func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(producertest.CorpusDir(b), "defectdojo", "anchore_grype", "many_vulns3.json"))
	if err != nil {
		b.Fatal(err)
	}
	producertest.BenchParse(b, Parse, data)
}

// TestRealGrype runs the pinned grype on testdata/src (a go.mod, a
// requirements.txt and a package-lock.json) against a vulnerability
// database built here: testdata/grypedb holds the tables of grype's
// schema v6 and four made-up advisories as SQL; the test writes them to a
// SQLite file and imports it with `grype db import`. Nothing is
// downloaded: the database neither updates nor expires.
func TestRealGrype(t *testing.T) {
	bin := producertest.RequireTool(t, Producer)
	dir := t.TempDir()
	db := filepath.Join(dir, "vulnerability.db")
	buildDB(t, db, "testdata/grypedb/schema-v6.1.10.sql", "testdata/grypedb/advisories.sql")
	t.Setenv("GRYPE_DB_CACHE_DIR", filepath.Join(dir, "cache"))
	t.Setenv("GRYPE_DB_AUTO_UPDATE", "false")
	t.Setenv("GRYPE_DB_VALIDATE_AGE", "false")
	t.Setenv("GRYPE_CHECK_FOR_APP_UPDATE", "false")
	if out, err := exec.Command(bin, "db", "import", db).CombinedOutput(); err != nil {
		t.Fatalf("grype db import: %v\n%s", err, out)
	}
	got := producertest.RunTool(t, Producer, "testdata/src")
	var lines []string
	for _, is := range got.Issues {
		lines = append(lines, fmt.Sprintf("%s %s %s %s %.1f fixed=%s cve=%s %s",
			is.RuleId, is.Target, is.Location.GetPath(), is.Severity, is.Cvss, is.FixedVersion, is.Cve, is.Confidence))
	}
	sort.Strings(lines)
	want := []string{
		"GHSA-test-djan-0002 pkg:pypi/django@3.2.0 /requirements.txt SEVERITY_CRITICAL 9.8 fixed=3.2.1 cve= CONFIDENCE_HIGH",
		"GHSA-test-uuid-0001 pkg:golang/github.com/google/uuid@v1.6.0 /go.mod SEVERITY_HIGH 0.0 fixed=1.6.1 cve=CVE-2099-2001 CONFIDENCE_HIGH",
		// no severity in the database: grype says Unknown, Dracon MEDIUM
		"GHSA-test-loda-0004 pkg:npm/lodash@4.17.11 /package-lock.json SEVERITY_MEDIUM 0.0 fixed=4.17.12 cve= CONFIDENCE_HIGH",
	}
	sort.Strings(want)
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

// buildDB writes the SQL files into a new SQLite database.
func buildDB(t *testing.T, path string, files ...string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, f := range files {
		script, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(string(script)); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
}
