package zap

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/draconsec/dracon/internal/producers/producertest"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// perPlace is why most counts differ from DefectDojo's: DefectDojo makes
// one finding per alert and lists its URLs as endpoints; Dracon makes one
// issue per alert per place (URI, method, parameter), so each issue has
// one target. Instances at the same place that differ only in evidence
// are one issue.
const perPlace = "one issue per alert per distinct URI+method+param; DefectDojo makes one finding per alert"

var differs = map[string]producertest.Differ{
	"zap/0_zap_sample.xml":                                             {Count: 10, Reason: perPlace + " (4 alerts, 12 instances at 10 places)"},
	"zap/0_zap_sample_without_zap3.xml":                                {Count: 9, Reason: perPlace + " (3 alerts, 11 instances at 9 places; DefectDojo asserts no count)"},
	"zap/2_zap_sample_0_and_new_endpoint.xml":                          {Count: 11, Reason: perPlace + " (4 alerts, 13 instances at 11 places)"},
	"zap/3_zap_sampl_0_and_different_severities.xml":                   {Count: 10, Reason: perPlace + " (4 alerts, 12 instances at 10 places)"},
	"zap/5_zap_sample_one.xml":                                         {Count: 3, Reason: perPlace + "; the file repeats one alert (same rule, name and risk) at the same 3 places: 3 issues"},
	"zap/dvwa_baseline_dojo_fabricated_internal_duplicates.xml":        {Count: 71, Reason: perPlace + " (13 alerts, 123 instances); the repeated alerts fold into the 71 places of dvwa_baseline_dojo_subset.xml; DefectDojo asserts no count"},
	"zap/dvwa_baseline_dojo_fabricated_internal_duplicates_subset.xml": {Count: 45, Reason: perPlace + " (6 alerts, 75 instances at 45 places, repeated alerts folded); DefectDojo asserts no count"},
	"zap/dvwa_baseline_dojo_subset.xml":                                {Count: 71, Reason: perPlace + " (10 alerts, 97 instances at 71 places); DefectDojo asserts no count"},
	"zap/some_2.9.0.xml":                                               {Count: 14, Reason: perPlace + " (7 alerts, 17 instances at 14 places)"},
	"zap/zap-results-second-scan.xml":                                  {Count: 125, Reason: perPlace + " (18 alerts, 126 instances at 125 places); DefectDojo asserts no count"},
}

func TestCorpus(t *testing.T) {
	got := producertest.CheckCorpus(t, "zap", Parse, differs)

	r := got["zap/0_zap_sample.xml"]
	if r == nil {
		t.Fatal("0_zap_sample.xml not parsed")
	}
	if r.ToolVersion != "2.9.0" {
		t.Errorf("tool version %q", r.ToolVersion)
	}
	first := r.Issues[0]
	if first.RuleId != "10011" || first.Type != "10011" || first.Target != "https://mainsite.com/dashboard" ||
		first.Title != "Cookie Without Secure Flag" ||
		first.Severity != v1.Severity_SEVERITY_LOW || first.Confidence != v1.Confidence_CONFIDENCE_MEDIUM ||
		!reflect.DeepEqual(first.Cwe, []int32{614}) || !reflect.DeepEqual(first.Tags, []string{"WASC-13"}) ||
		first.Annotations["param"] != "opvc" || first.Annotations["method"] != "GET" ||
		!strings.Contains(first.Description, "Evidence: Set-Cookie: opvc") ||
		!strings.Contains(first.Description, "Solution: Whenever a cookie") {
		t.Errorf("first issue = %v", first)
	}
	// References run together in old reports: split at each scheme.
	var csp *v1.Issue
	for _, is := range r.Issues {
		if is.RuleId == "10055" {
			csp = is
		}
	}
	wantRefs := []string{
		"http://www.w3.org/TR/CSP2/", "http://www.w3.org/TR/CSP/",
		"http://caniuse.com/#search=content+security+policy",
		"http://content-security-policy.com/", "https://github.com/shapesecurity/salvation",
	}
	if csp == nil || !reflect.DeepEqual(csp.References, wantRefs) || csp.Severity != v1.Severity_SEVERITY_MEDIUM {
		t.Errorf("CSP issue = %v", csp)
	}
	// Four timestamp instances at two places: two issues, evidence kept.
	var stamps []string
	for _, is := range r.Issues {
		if is.RuleId == "10096" {
			stamps = append(stamps, is.Target)
			if is.Target == "https://mainsite.com" && (!strings.Contains(is.Description, "Evidence: 265151019") ||
				!strings.Contains(is.Description, "Evidence: 153792000")) {
				t.Errorf("merged evidence missing: %q", is.Description)
			}
		}
	}
	if !reflect.DeepEqual(stamps, []string{"https://mainsite.com", "https://mainsite.com/dashboard"}) {
		t.Errorf("timestamp targets = %v", stamps)
	}

	// Newer XML: HTML paragraphs stripped, alertRef as the rule.
	some := got["zap/dvwa_baseline_dojo_subset.xml"].Issues[0]
	if some.RuleId != "10020" || some.Target != "http://172.17.0.2/vulnerabilities/brute/" ||
		strings.Contains(some.Description, "<p>") || !strings.HasPrefix(some.Description, "X-Frame-Options header is not included") ||
		!reflect.DeepEqual(some.References, []string{"https://developer.mozilla.org/en-US/docs/Web/HTTP/Headers/X-Frame-Options"}) {
		t.Errorf("dvwa first issue = %v", some)
	}
}

func TestJSON(t *testing.T) {
	data, err := os.ReadFile("testdata/traditional-2.14.0.json")
	if err != nil {
		t.Fatal(err)
	}
	r, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	producertest.CheckIssues(t, r.Issues)
	if r.ToolVersion != "2.14.0" || len(r.Issues) != 5 {
		t.Fatalf("version %q, %d issues", r.ToolVersion, len(r.Issues))
	}
	var got []string
	for _, is := range r.Issues {
		got = append(got, is.RuleId+" "+is.Target+" "+is.Severity.String()+" "+is.Confidence.String())
	}
	want := []string{
		"10020-1 http://172.17.0.2/login.php SEVERITY_MEDIUM CONFIDENCE_MEDIUM",
		"10020-1 http://172.17.0.2/setup.php SEVERITY_MEDIUM CONFIDENCE_MEDIUM",
		"10096 http://172.17.0.2/dvwa/css/main.css SEVERITY_INFO CONFIDENCE_LOW",
		"40012 http://172.17.0.2/vulnerabilities/xss_r/?name=%3CscrIpt%3Ealert%281%29%3B%3C%2FscRipt%3E SEVERITY_HIGH CONFIDENCE_INFO",
		"10035-1 https://cdn.example.com/jquery.min.js SEVERITY_LOW CONFIDENCE_HIGH",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("issues:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	xss := r.Issues[3]
	if !reflect.DeepEqual(xss.Tags, []string{"WASC-8", "false-positive"}) || !reflect.DeepEqual(xss.Cwe, []int32{79}) ||
		!strings.Contains(xss.Description, "Attack: <scrIpt>alert(1);</scRipt>") ||
		!reflect.DeepEqual(xss.References, []string{"https://owasp.org/www-community/attacks/xss/", "https://cwe.mitre.org/data/definitions/79.html"}) {
		t.Errorf("xss issue = %v", xss)
	}
	hdr := r.Issues[0]
	if !strings.Contains(hdr.Description, `Content Security Policy's "frame-ancestors" directive.`) || hdr.Annotations["site"] != "http://172.17.0.2" {
		t.Errorf("header issue = %v", hdr)
	}
	stamp := r.Issues[2]
	if strings.Count(stamp.Description, "Evidence: ") != 2 || strings.Count(stamp.Description, "Other information: ") != 2 {
		t.Errorf("timestamp description = %q", stamp.Description)
	}
}

// TestJSONLoneObjects reads a hand-made report in the shapes converted
// reports take: a lone site and a lone instance as objects, numbers as
// numbers.
func TestJSONLoneObjects(t *testing.T) {
	data, err := os.ReadFile("testdata/single-site-2.8.0.json")
	if err != nil {
		t.Fatal(err)
	}
	r, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Issues) != 1 || r.ToolVersion != "2.8.0" {
		t.Fatalf("got %d issues, version %q", len(r.Issues), r.ToolVersion)
	}
	is := r.Issues[0]
	if is.RuleId != "10016" || is.Target != "http://localhost:3000/" || is.Severity != v1.Severity_SEVERITY_LOW ||
		!reflect.DeepEqual(is.Cwe, []int32{933}) || len(is.References) != 2 {
		t.Errorf("issue = %v", is)
	}
}

func TestNoInstances(t *testing.T) {
	r, err := Parse([]byte(`<OWASPZAPReport version="2.16.1"><site name="https://app.example"><alerts><alertitem>
<pluginid>90022</pluginid><name>Application Error Disclosure</name><riskcode>9</riskcode><riskdesc>High (Low)</riskdesc>
<confidence>1</confidence><cweid>-1</cweid><wascid>0</wascid></alertitem></alerts></site></OWASPZAPReport>`))
	if err != nil {
		t.Fatal(err)
	}
	is := r.Issues[0]
	if len(r.Issues) != 1 || is.Target != "https://app.example" || is.Severity != v1.Severity_SEVERITY_HIGH ||
		len(is.Cwe) != 0 || len(is.Tags) != 0 {
		t.Errorf("issues = %v", r.Issues)
	}
}

func TestParseRejects(t *testing.T) {
	for name, in := range map[string]string{
		"empty":          " \n",
		"truncated xml":  `<?xml version="1.0"?><OWASPZAPReport version="2.9.0"><site name="x"><alerts><alertitem>`,
		"truncated json": `{"@version": "2.14.0", "site": [{"@name": "x", "alerts": [`,
		"other xml":      `<?xml version="1.0"?><checkstyle version="4.3"></checkstyle>`,
		"gosec json":     `{"Issues": [], "Stats": {}}`,
		"array":          `[]`,
		"text":           `Total of 3 alerts`,
		"bad riskcode":   `{"site": [{"alerts": [{"riskcode": {"a": 1}}]}]}`,
	} {
		if _, err := Parse([]byte(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestArgs(t *testing.T) {
	t.Setenv(TargetEnv, "https://staging.example.com")
	args := Producer.Tool.Args("/src", "/out/zap.report")
	if strings.Join(args, " ") != "-cmd -silent -quickurl https://staging.example.com -quickout /out/zap.report" {
		t.Errorf("args = %q", args)
	}
	t.Setenv(TargetEnv, "")
	if args := Producer.Tool.Args("/src", "/out/zap.report"); args[3] != missingTarget {
		t.Errorf("args without a target = %q", args)
	}
	if len(Producer.Detect) != 0 {
		t.Errorf("zap must never be auto-detected: %v", Producer.Detect)
	}
}

func FuzzParse(f *testing.F) {
	producertest.Seed(f, []string{"zap"}, "testdata/*.json")
	f.Fuzz(func(t *testing.T, data []byte) { producertest.FuzzParse(t, Parse, data) })
}

func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile(producertest.CorpusDir(b) + "/defectdojo/zap/zap-results-second-scan.xml")
	if err != nil {
		b.Fatal(err)
	}
	producertest.BenchParse(b, Parse, data)
}
