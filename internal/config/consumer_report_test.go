package config

import (
	"strings"
	"testing"
)

// anyProducer resolves every name: these tests are about the report block.
var anyProducer = Names{Resolve: func(s string) (string, bool) { return s, true }}

func TestReportBlock(t *testing.T) {
	c, err := Parse([]byte(`
consumers:
  report:
    path: audit/scan.html
    pdf: {path: audit/scan.pdf, required: true}
    browser: /usr/bin/chromium
    allow_failure: true
    filter:
      min_severity: low
`), anyProducer)
	if err != nil {
		t.Fatal(err)
	}
	r := c.Consumers.Report
	if r == nil {
		t.Fatal("no report block")
	}
	want := ReportPDF{On: true, Path: "audit/scan.pdf", Required: true}
	if r.Path != "audit/scan.html" || r.PDF != want || r.Browser != "/usr/bin/chromium" || !r.AllowFailure || r.Filter.MinSeverity != "low" || !r.On() {
		t.Errorf("report = %+v", *r)
	}
}

// TestReportPDFForms: pdf is a switch, "required", a path or a mapping,
// and each form means what the docs say.
func TestReportPDFForms(t *testing.T) {
	for _, tc := range []struct {
		yaml string
		want ReportPDF
	}{
		{"enabled: true", ReportPDF{}}, // pdf absent: off
		{"pdf: false", ReportPDF{}},
		{"pdf: true", ReportPDF{On: true}},
		{"pdf: required", ReportPDF{On: true, Required: true}},
		{"pdf: out/evidence.pdf", ReportPDF{On: true, Path: "out/evidence.pdf"}},
		{"pdf: {required: false}", ReportPDF{On: true}},
		{"pdf:\n      path: e.PDF\n      required: true", ReportPDF{On: true, Path: "e.PDF", Required: true}},
	} {
		c, err := Parse([]byte("consumers:\n  report:\n    "+tc.yaml+"\n"), anyProducer)
		if err != nil {
			t.Errorf("%q: %v", tc.yaml, err)
			continue
		}
		if got := c.Consumers.Report.PDF; got != tc.want {
			t.Errorf("%q: pdf = %+v, want %+v", tc.yaml, got, tc.want)
		}
	}
}

func TestReportBlockErrors(t *testing.T) {
	for _, tc := range []struct {
		yaml string
		want []string
	}{
		// A browser opens file:// addresses by their ending: a report
		// named .txt would be shown as text, and printed as text.
		{"path: report.txt", []string{"line 3: consumers.report.path", `"report.txt" does not end in .html or .htm`}},
		// yes is a string in YAML 1.2: taken as a path, it is caught.
		{"pdf: yes", []string{"line 3: consumers.report.pdf", `"yes" is neither true, false, required nor a path ending in .pdf`}},
		{"pdf: {path: report.html}", []string{"consumers.report.pdf", `"report.html" is neither`}},
		{"pdf: [true]", []string{"line 3", "pdf is true, false, required, a path ending in .pdf, or {path, required}"}},
		{"pdf: {path: a.pdf, reqired: true}", []string{"field reqired not found"}},
		{"browser: 'chromium --headless'", []string{"line 3: consumers.report.browser", "without arguments"}},
		// The common block is checked too.
		{"filter: {policy: [fail]}", []string{"consumers.report.filter.policy[0]", `"fail" is not a policy result`}},
		{"pat: x.html", []string{"line 3", "field pat not found"}},
	} {
		_, err := Parse([]byte("consumers:\n  report:\n    "+tc.yaml+"\n"), anyProducer)
		if err == nil {
			t.Errorf("%q: no error", tc.yaml)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%q: error %q does not say %q", tc.yaml, err, w)
			}
		}
	}
}
