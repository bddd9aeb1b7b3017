package brakeman

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/draconsec/dracon/internal/producers/producertest"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

func TestCorpus(t *testing.T) {
	got := producertest.CheckCorpus(t, "brakeman", Parse, nil)
	r := got["brakeman/two_findings.json"]
	if r.ToolVersion != "4.7.2" {
		t.Errorf("tool version %q", r.ToolVersion)
	}
	first := r.Issues[0]
	if first.RuleId != "BRAKE0015" || first.Type != "BRAKE0015" ||
		first.Title != "Dynamic Render Path: Render path contains parameter value" ||
		first.Target != "app/views/users/show_follow.html.erb:25" ||
		first.Location.Path != "app/views/users/show_follow.html.erb" || first.Location.StartLine != 25 ||
		first.Severity != v1.Severity_SEVERITY_LOW || first.Confidence != v1.Confidence_CONFIDENCE_LOW ||
		first.Fingerprint != "518c8b9dc22e0e30a72f5e39e79c33ec6c3640f86bf95c5ce2472e6399072f71" ||
		first.GetContextSegment() != "render(action => User.find(params[:id]).followers.paginate(:page => params[:page]), {})" ||
		!reflect.DeepEqual(first.References, []string{"https://brakemanscanner.org/docs/warning_types/dynamic_render_path/"}) ||
		!reflect.DeepEqual(first.Tags, []string{"Dynamic Render Path", "Render"}) ||
		!strings.Contains(first.Description, "User input: params[:page]") ||
		!strings.Contains(first.Description, "In template: users/show_follow") ||
		len(first.Cwe) != 0 { // Brakeman 4.7 wrote no CWE
		t.Errorf("first issue = %v", first)
	}
}

// TestV7 reads testdata/v7.1.0.json, written by hand in the shape
// Brakeman 7.1 writes with --format json (cwe_id lists, a null line, an
// ignored warning with its note).
func TestV7(t *testing.T) {
	data, err := os.ReadFile("testdata/v7.1.0.json")
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
		got = append(got, strings.Join([]string{is.RuleId, is.Target, is.Severity.String(), is.Confidence.String()}, " "))
	}
	want := []string{
		"BRAKE0000 app/models/analytics.rb:3 SEVERITY_MEDIUM CONFIDENCE_MEDIUM",
		"BRAKE0014 app/controllers/benefit_forms_controller.rb:28 SEVERITY_HIGH CONFIDENCE_HIGH",
		"BRAKE0029 config/initializers/secret_token.rb SEVERITY_LOW CONFIDENCE_LOW",
		"BRAKE0018 app/controllers/sessions_controller.rb:41 SEVERITY_HIGH CONFIDENCE_HIGH",
	}
	if !reflect.DeepEqual(got, want) || r.ToolVersion != "7.1.0" {
		t.Errorf("issues (version %q):\n%s\nwant:\n%s", r.ToolVersion, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if is := r.Issues[0]; !reflect.DeepEqual(is.Cwe, []int32{89}) || !strings.Contains(is.Description, "In: Analytics#Analytics.hits_by_ip") {
		t.Errorf("SQL issue = %v", is)
	}
	if is := r.Issues[2]; is.ContextSegment != nil || is.Location.StartLine != 0 || !reflect.DeepEqual(is.Cwe, []int32{798}) {
		t.Errorf("session issue = %v", is)
	}
	if is := r.Issues[3]; !reflect.DeepEqual(is.Tags, []string{"Redirect", "ignored"}) ||
		!strings.Contains(is.Description, "Ignored: url is checked against an allow list") {
		t.Errorf("ignored issue = %v", is)
	}
}

func TestParseRejects(t *testing.T) {
	for name, in := range map[string]string{
		"empty":       "",
		"truncated":   `{"scan_info": {"brakeman_version": "7.1.0"}, "warnings": [{"warning_type": "SQL`,
		"gosec":       `{"Issues": [], "Stats": {}}`,
		"no scaninfo": `{"warnings": []}`,
		"array":       `[]`,
		"bad cwe":     `{"scan_info": {}, "warnings": [{"warning_type": "SQL", "file": "a.rb", "cwe_id": ["x"]}]}`,
		"bad line":    `{"scan_info": {}, "warnings": [{"file": "a.rb", "line": "ten"}]}`,
	} {
		if _, err := Parse([]byte(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func FuzzParse(f *testing.F) {
	producertest.Seed(f, []string{"brakeman"}, "testdata/*.json")
	f.Fuzz(func(t *testing.T, data []byte) { producertest.FuzzParse(t, Parse, data) })
}

func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile(producertest.CorpusDir(b) + "/defectdojo/brakeman/two_findings.json")
	if err != nil {
		b.Fatal(err)
	}
	producertest.BenchParse(b, Parse, data)
}
