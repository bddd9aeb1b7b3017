package osvscanner

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/draconsec/dracon/internal/producers"
	"github.com/draconsec/dracon/internal/producers/depkit"
	"github.com/draconsec/dracon/internal/producers/producertest"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// corpusParse is Parse, except for a zero-byte file: DefectDojo reads
// osv_scanner/no_findings.json (0 bytes) as "no findings", Dracon rejects
// it because osv-scanner always writes {"results": [...]} when it
// finishes, so an empty report means it did not. The corpus test checks
// that rejection here and then counts the file as DefectDojo does.
func corpusParse(t *testing.T) producers.ParseFunc {
	return func(data []byte) (*producers.Parsed, error) {
		if len(bytes.TrimSpace(data)) == 0 {
			if _, err := Parse(data); !errors.Is(err, producers.ErrEmpty) {
				t.Errorf("empty report: err = %v, want ErrEmpty", err)
			}
			return &producers.Parsed{}, nil
		}
		return Parse(data)
	}
}

func TestCorpus(t *testing.T) {
	got := producertest.CheckCorpus(t, "osv_scanner", corpusParse(t), nil)

	mal := got["osv_scanner/some_findings.json"].Issues[0]
	if mal.RuleId != "MAL-2023-1035" || mal.Target != "pkg:npm/flot-axis@0.0.0" ||
		mal.Severity != v1.Severity_SEVERITY_CRITICAL || len(mal.Cwe) != 1 || mal.Cwe[0] != 506 ||
		mal.Location.GetPath() != "/tmp/components/yarn.lock" || mal.PackageVersion != "0.0.0" ||
		strings.Join(mal.Aliases, ",") != "GHSA-8348-2q94-ffjx" ||
		mal.Title != "MAL-2023-1035: Malicious code in flot-axis (npm)" {
		t.Errorf("some_findings = %v", mal)
	}
	multi := got["osv_scanner/multi_cwe_fabricated.json"].Issues[0]
	if multi.RuleId != "GHSA-multi-cwe-0001" || multi.Severity != v1.Severity_SEVERITY_MEDIUM ||
		len(multi.Cwe) != 2 || multi.Cwe[0] != 79 || multi.Cwe[1] != 89 || multi.PackageUrl != "pkg:npm/example-pkg@1.0.0" {
		t.Errorf("multi_cwe = %v", multi)
	}
}

func TestGroups(t *testing.T) {
	data, err := os.ReadFile("testdata/groups.json")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	producertest.CheckIssues(t, got.Issues)
	var lines []string
	for _, is := range got.Issues {
		lines = append(lines, fmt.Sprintf("%s %s %s %.1f %s fixed=%s aliases=%s cve=%s conf=%s",
			is.RuleId, is.Target, is.Severity, is.Cvss, strings.Join(is.Tags, "|"), is.FixedVersion,
			strings.Join(is.Aliases, "|"), is.Cve, is.Confidence))
	}
	want := []string{
		// two entries, one group: one issue carrying both ids
		"GHSA-jfh8-c2jp-5v3q pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1 SEVERITY_CRITICAL 10.0 not called|Maven fixed=2.15.0 aliases=CVE-2021-44228 cve=CVE-2021-44228 conf=CONFIDENCE_LOW",
		// no max_severity: GitHub's word; a second range picks the right fix
		"GHSA-xxxx-yyyy-zzzz pkg:npm/%40babel/traverse@7.22.0 SEVERITY_HIGH 0.0 called|npm fixed=7.23.2 aliases= cve= conf=CONFIDENCE_HIGH",
		// an entry no group names still becomes an issue
		"PYSEC-2021-1 pkg:pypi/jinja2@2.10 SEVERITY_MEDIUM 0.0 PyPI fixed=2.11.3 aliases= cve= conf=CONFIDENCE_UNSPECIFIED",
		// Debian ecosystem: deb purl with the release
		"DSA-5000-1 pkg:deb/debian/openssl@1.1.1k-1?distro=11 SEVERITY_LOW 0.0 Debian:11 fixed=1.1.1n-0+deb11u1 aliases= cve= conf=CONFIDENCE_UNSPECIFIED",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("issues:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

func TestParseRejects(t *testing.T) {
	for name, in := range map[string]string{
		"empty":     "",
		"truncated": `{"results": [{"source": {"path": "a"`,
		"gosec":     `{"Issues": [], "Stats": {}}`,
		"grype":     `{"matches": [], "source": {}, "descriptor": {"name": "grype"}}`,
		"array":     `[]`,
		"null":      `null`,
		"wrong":     `{"results": {"a": 1}}`,
	} {
		if got, err := Parse([]byte(in)); err == nil {
			t.Errorf("%s: no error, %d issues", name, len(got.Issues))
		}
	}
	got, err := Parse([]byte(`{"results": []}`))
	if err != nil || len(got.Issues) != 0 {
		t.Errorf("no results: %v, %v", got, err)
	}
}

func TestCompareVersions(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"0", "4.17.11", -1}, {"4.17.11", "4.17.12", -1}, {"3.2", "3.2.0", 0}, {"3.2.1", "3.2", 1},
		{"1.0.0-rc.1", "1.0.0", -1}, {"1.10", "1.9", 1}, {"v2.0.0", "2.0.0", 0},
		{"1.1.1k-1", "1.1.1n-0", -1},
	} {
		if got := depkit.CompareVersions(tc.a, tc.b); got != tc.want {
			t.Errorf("compare(%s, %s) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestPackageURL(t *testing.T) {
	for _, tc := range []struct{ eco, name, version, want string }{
		{"npm", "lodash", "4.17.11", "pkg:npm/lodash@4.17.11"},
		{"npm", "@babel/core", "7.0.0", "pkg:npm/%40babel/core@7.0.0"},
		{"Go", "golang.org/x/text", "v0.3.5", "pkg:golang/golang.org/x/text@v0.3.5"},
		{"Maven", "com.example:lib", "1.0", "pkg:maven/com.example/lib@1.0"},
		{"crates.io", "time", "0.1.0", "pkg:cargo/time@0.1.0"},
		{"Alpine:v3.18", "musl", "1.2.4-r0", "pkg:apk/alpine/musl@1.2.4-r0?distro=v3.18"},
		{"Unknown", "x", "1", ""},
	} {
		if got := packageURL(tc.eco, tc.name, tc.version); got != tc.want {
			t.Errorf("packageURL(%s, %s) = %s, want %s", tc.eco, tc.name, got, tc.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	producertest.Seed(f, []string{"osv_scanner"}, "testdata/*.json")
	f.Fuzz(func(t *testing.T, data []byte) { producertest.FuzzParse(t, Parse, data) })
}

// BenchmarkParse reads the largest report: the corpus files are tiny, so
// testdata/groups.json's packages are repeated to make a report of about
// 1 MB, the size of a monorepo's scan.
func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile("testdata/groups.json")
	if err != nil {
		b.Fatal(err)
	}
	data = bigReport(b, data, 1<<20)
	producertest.BenchParse(b, Parse, data)
}

// bigReport repeats the one result of a report until it is size bytes.
func bigReport(b *testing.B, data []byte, size int) []byte {
	start := bytes.Index(data, []byte(`"results": [`))
	end := bytes.LastIndex(data, []byte("]"))
	if start < 0 || end < 0 {
		b.Fatal("testdata/groups.json has no results list")
	}
	one := bytes.TrimSpace(data[start+len(`"results": [`) : end])
	var buf bytes.Buffer
	buf.WriteString(`{"results": [`)
	for buf.Len() < size {
		if buf.Len() > len(`{"results": [`) {
			buf.WriteByte(',')
		}
		buf.Write(one)
	}
	buf.WriteString("]}")
	if _, err := Parse(buf.Bytes()); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// TestRealOSVScanner runs the pinned osv-scanner offline on testdata/src
// (a requirements.txt and a package-lock.json) against a database built
// here from the OSV files in testdata/osvdb: osv-scanner's offline layout
// is <dir>/osv-scanner/<Ecosystem>/all.zip. The advisories: django 3.2.0
// is hit by a GHSA entry that aliases a PYSEC entry (osv-scanner keeps
// one), lodash 4.17.11 by a critical one, and requests 2.31.0 is past its
// advisory's fix.
func TestRealOSVScanner(t *testing.T) {
	db := t.TempDir()
	for _, eco := range []string{"PyPI", "npm"} {
		buildZip(t, filepath.Join("testdata", "osvdb", eco), filepath.Join(db, "osv-scanner", eco, "all.zip"))
	}
	t.Setenv(DBEnv, db)
	got := producertest.RunTool(t, Producer, "testdata/src")
	var lines []string
	for _, is := range got.Issues {
		lines = append(lines, fmt.Sprintf("%s %s %s %s %.1f fixed=%s cve=%s cwe=%v",
			is.RuleId, is.Target, filepath.Base(is.Location.GetPath()), is.Severity, is.Cvss, is.FixedVersion, is.Cve, is.Cwe))
	}
	want := []string{
		"GHSA-test-loda-sh01 pkg:npm/lodash@4.17.11 package-lock.json SEVERITY_CRITICAL 9.8 fixed=4.17.12 cve=CVE-2099-1003 cwe=[1321 20]",
		"GHSA-test-djan-go01 pkg:pypi/django@3.2.0 requirements.txt SEVERITY_HIGH 7.5 fixed=3.2.1 cve=CVE-2099-1001 cwe=[89]",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if dj := got.Issues[1]; strings.Join(dj.Aliases, ",") != "CVE-2099-1001,PYSEC-2099-1" {
		t.Errorf("django aliases = %v", dj.Aliases)
	}
}

// buildZip writes every .json file of dir into a zip at dst.
func buildZip(t *testing.T, dir, dst string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no OSV files in %s: %v", dir, err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		w, err := zw.Create(filepath.Base(file))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
