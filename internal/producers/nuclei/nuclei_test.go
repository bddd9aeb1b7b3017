package nuclei

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/draconsec/dracon/internal/producers/producertest"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

var differs = map[string]producertest.Differ{
	"nuclei/many_findings.json": {Count: 18, Reason: "DefectDojo's dedup key keeps the host without its port, so tech-detect on " +
		"127.0.0.1:8080/WebGoat and 127.0.0.1:9090/WebWolf (two services) merge; Dracon keeps every result whose template, matcher and matched-at differ"},
	"nuclei/multiple_v3.json": {Count: 6, Reason: "DefectDojo merges the two tls-version results on www.asdf.de:443; " +
		"they extracted different versions (tls12, tls13), so Dracon keeps both"},
}

func TestCorpus(t *testing.T) {
	got := producertest.CheckCorpus(t, "nuclei", Parse, differs)

	// Old JSON lines (v2.3): templateID, matched, string tags and references.
	old := got["nuclei/many_findings.json"].Issues
	first := old[0]
	if first.RuleId != "openssh5.3-detect" || first.Target != "nuclei-example.com:22" || first.Title != "OpenSSH 5.3 Detection" ||
		first.Severity != v1.Severity_SEVERITY_LOW ||
		!reflect.DeepEqual(first.Tags, []string{"network", "openssh"}) ||
		!reflect.DeepEqual(first.References, []string{"http://seclists.org/fulldisclosure/2016/Jul/51",
			"https://security-tracker.debian.org/tracker/CVE-2016-6210", "http://openwall.com/lists/oss-security/2016/08/01/2"}) ||
		first.Annotations["ip"] != "178.21.15.56" || first.Annotations["type"] != "network" {
		t.Errorf("first old issue = %v", first)
	}
	if is := old[1]; is.RuleId != "nginx-version" || !strings.Contains(is.Description, "Extracted: nginx/1.14.2") {
		t.Errorf("extracted results: %v", is)
	}
	if is := old[3]; is.Title != "Wappalyzer Technology Detection (animate.css)" || is.Target != "http://127.0.0.1:8080/WebGoat" ||
		is.Severity != v1.Severity_SEVERITY_INFO {
		t.Errorf("matcher issue = %v", is)
	}

	// v2.6+ JSON lines: template-id, classification with CVE, CWE, CVSS.
	cve := got["nuclei/many_findings_new.json"].Issues[0]
	if cve.RuleId != "CVE-2018-15473" || cve.Cve != "CVE-2018-15473" || cve.Cvss != 5.3 ||
		!reflect.DeepEqual(cve.Cwe, []int32{362}) || cve.Severity != v1.Severity_SEVERITY_MEDIUM ||
		cve.Target != "nuclei-example.com:22" ||
		!reflect.DeepEqual(cve.References, []string{"https://nvd.nist.gov/vuln/detail/cve-2018-15473",
			"https://github.com/projectdiscovery/nuclei-templates/blob/master/cves/2018/CVE-2018-15473.yaml"}) {
		t.Errorf("CVE issue = %v", cve)
	}

	// JSON array (-json-export) with two CWEs.
	multi := got["nuclei/multi_cwe_fabricated.json"].Issues[0]
	if multi.RuleId != "multi-cwe-template" || multi.Target != "https://example.com/login" || multi.Cve != "CVE-2021-0001" ||
		!reflect.DeepEqual(multi.Cwe, []int32{79, 89}) || multi.Severity != v1.Severity_SEVERITY_HIGH {
		t.Errorf("multi-CWE issue = %v", multi)
	}
	// A CWE that is not one is left out, not an error.
	if is := got["nuclei/invalid_cwe.json"].Issues[0]; len(is.Cwe) != 0 || is.Target != "nuclei-example.com:3306" {
		t.Errorf("invalid CWE issue = %v", is)
	}
	tls := got["nuclei/multiple_v3.json"].Issues
	if tls[4].RuleId != "tls-version" || !strings.Contains(tls[4].Description, "Extracted: tls12") ||
		!strings.Contains(tls[5].Description, "Extracted: tls13") {
		t.Errorf("tls issues = %v / %v", tls[4], tls[5])
	}
}

// TestV3Lines reads testdata/v3.4.jsonl, written by hand in the shape
// nuclei v3.4 writes with -jsonl: a CVE with two CVE ids and three CWEs,
// a failed match (-matcher-status) that is not a finding, a result written
// twice, and a template of "unknown" severity.
func TestV3Lines(t *testing.T) {
	data, err := os.ReadFile("testdata/v3.4.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	r, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	producertest.CheckIssues(t, r.Issues)
	var got []string
	for _, is := range r.Issues {
		got = append(got, is.RuleId+" "+is.Target+" "+is.Severity.String()+" "+is.Cve)
	}
	want := []string{
		"CVE-2021-44228 http://127.0.0.1:8080/api/login SEVERITY_CRITICAL CVE-2021-44228",
		"git-config http://127.0.0.1:8080/.git/config SEVERITY_MEDIUM ",
		"weird-template http://127.0.0.1:8080 SEVERITY_MEDIUM ",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("issues:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	log4j := r.Issues[0]
	if log4j.Cvss != 10 || !reflect.DeepEqual(log4j.Cwe, []int32{502, 400, 20}) ||
		!reflect.DeepEqual(log4j.Aliases, []string{"CVE-2021-45046"}) ||
		!strings.Contains(log4j.Description, "Remediation: Upgrade to Log4j 2.3.1") ||
		!strings.Contains(log4j.Description, "Extracted: 172.17.0.1") {
		t.Errorf("log4j issue = %v", log4j)
	}
}

func TestParseRejects(t *testing.T) {
	for name, in := range map[string]string{
		"truncated line":  `{"template-id":"x","info":{"name":"x","severity":"low"},"matched-at":"h"}` + "\n" + `{"template-id":"y","info":{`,
		"truncated array": `[{"template-id":"x","info":{"name":"x"`,
		"gosec":           `{"Issues": [], "Stats": {}}`,
		"trufflehog":      `{"SourceMetadata":{"Data":{}},"DetectorName":"AWS","Raw":"x"}`,
		"not objects":     "1\n2\n",
		"array of junk":   `[1, 2]`,
		"xml":             `<?xml version="1.0"?><OWASPZAPReport/>`,
		"null in array":   `[null]`,
		"bad tags":        `{"template-id":"x","info":{"name":"x","tags":{"a":1}},"matched-at":"h"}`,
	} {
		if _, err := Parse([]byte(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	_, err := Parse([]byte(`{"template-id":"x","info":{"name":"x"},"host":"h"}` + "\n\n" + `{"oops": true}` + "\n"))
	if err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("error does not name line 3: %v", err)
	}
	_, err = Parse([]byte(`{"template-id":"x","info":{"name":"x"},"host":"h"}` + "\n" + `{"template-id": tru}` + "\n"))
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("syntax error does not name line 2: %v", err)
	}
}

func TestEmptyIsNoFindings(t *testing.T) {
	for _, in := range []string{"", "\n", "[]"} {
		r, err := Parse([]byte(in))
		if err != nil || len(r.Issues) != 0 {
			t.Errorf("%q: %v, %v", in, r, err)
		}
	}
}

func TestArgs(t *testing.T) {
	t.Setenv(TargetEnv, "https://staging.example.com")
	args := strings.Join(Producer.Tool.Args("/src", "/out/nuclei.report"), " ")
	if args != "-u https://staging.example.com -jsonl -o /out/nuclei.report -omit-raw -silent -no-color -disable-update-check" {
		t.Errorf("args = %q", args)
	}
	t.Setenv(TargetEnv, "")
	if args := Producer.Tool.Args("/src", "/out/nuclei.report"); args[0] != "-l" || args[1] != missingTarget {
		t.Errorf("args without a target = %q", args)
	}
	if len(Producer.Detect) != 0 {
		t.Errorf("nuclei must never be auto-detected: %v", Producer.Detect)
	}
}

func FuzzParse(f *testing.F) {
	producertest.Seed(f, []string{"nuclei"}, "testdata/*.jsonl")
	f.Fuzz(func(t *testing.T, data []byte) { producertest.FuzzParse(t, Parse, data) })
}

func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile(producertest.CorpusDir(b) + "/defectdojo/nuclei/multiple_v3.json")
	if err != nil {
		b.Fatal(err)
	}
	producertest.BenchParse(b, Parse, data)
}
