package spotbugs

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/draconsec/dracon/internal/producers/producertest"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

func TestCorpus(t *testing.T) {
	got := producertest.CheckCorpus(t, "spotbugs", Parse, map[string]producertest.Differ{
		"spotbugs/version_4.4.0.xml": {Count: 56, Reason: "the report has 56 BugInstances at 56 different places; " +
			"it was written without messages or instance hashes, so DefectDojo's parser merges bugs by title and " +
			"description and keeps one per bug type (9); Dracon keeps one issue per BugInstance, each with its own line"},
	})
	r := got["spotbugs/version_4.4.0.xml"]
	if r.ToolVersion != "4.4.0" {
		t.Errorf("version %q", r.ToolVersion)
	}
	first := r.Issues[0]
	if first.RuleId != "DMI_HARDCODED_ABSOLUTE_FILENAME" || first.Target != "Boot.java:23" ||
		first.Severity != v1.Severity_SEVERITY_LOW || first.Confidence != v1.Confidence_CONFIDENCE_HIGH ||
		first.Title != "DMI_HARDCODED_ABSOLUTE_FILENAME" ||
		first.Description != "DMI_HARDCODED_ABSOLUTE_FILENAME (STYLE) in Boot.main" ||
		!slices.Equal(first.Tags, []string{"STYLE", "DMI"}) || first.Fingerprint != "" {
		t.Errorf("first issue = %v", first)
	}
	counts := map[string]int{}
	for _, is := range r.Issues {
		counts[is.RuleId]++
	}
	if counts["NM_METHOD_NAMING_CONVENTION"] != 33 || counts["DM_DEFAULT_ENCODING"] != 4 || len(counts) != 9 {
		t.Errorf("per type: %v", counts)
	}
	if n := len(got["spotbugs/no_finding.xml"].Issues); n != 0 {
		t.Errorf("no_finding.xml: %d issues", n)
	}
}

// TestWithMessages reads a hand-written report in the -xml:withMessages
// shape with Find Security Bugs findings.
func TestWithMessages(t *testing.T) {
	data, err := os.ReadFile("testdata/fsb_with_messages.xml")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	producertest.CheckIssues(t, got.Issues)
	if len(got.Issues) != 3 || got.ToolVersion != "4.9.8" {
		t.Fatalf("%d issues, version %q", len(got.Issues), got.ToolVersion)
	}
	ci := got.Issues[0]
	if ci.RuleId != "COMMAND_INJECTION" || ci.Target != "com/example/demo/Shell.java:14" ||
		ci.Severity != v1.Severity_SEVERITY_CRITICAL || ci.Confidence != v1.Confidence_CONFIDENCE_HIGH ||
		!slices.Equal(ci.Cwe, []int32{78}) || ci.Title != "Potential Command Injection" ||
		ci.Description != "This usage of java/lang/Runtime.exec(Ljava/lang/String;)Ljava/lang/Process; can be vulnerable to Command Injection" ||
		!slices.Equal(ci.References, []string{"https://find-sec-bugs.github.io/bugs.htm#COMMAND_INJECTION"}) ||
		ci.Fingerprint != "5d41402abc4b2a76b9719d911017c592/0" {
		t.Errorf("command injection = %v", ci)
	}
	se := got.Issues[1]
	if se.Target != "com/example/demo/Session.java:40-55" || se.Severity != v1.Severity_SEVERITY_LOW ||
		se.Confidence != v1.Confidence_CONFIDENCE_LOW || len(se.Cwe) != 0 {
		t.Errorf("SE_BAD_FIELD = %v", se)
	}
	pr := got.Issues[2]
	if pr.Target != "com/example/demo/Token.java" || pr.Title != "Predictable Pseudo Random Number Generator" ||
		!slices.Equal(pr.Cwe, []int32{330}) || pr.Severity != v1.Severity_SEVERITY_MEDIUM ||
		pr.Description != "PREDICTABLE_RANDOM (SECURITY) in com.example.demo.Token" ||
		pr.Fingerprint != "9e107d9d372bb6826bd81d3542a419d6/1" {
		t.Errorf("PREDICTABLE_RANDOM = %v", pr)
	}
}

func TestSeverity(t *testing.T) {
	for _, tc := range []struct {
		rank, priority string
		want           v1.Severity
	}{
		{"1", "3", v1.Severity_SEVERITY_CRITICAL},
		{"4", "1", v1.Severity_SEVERITY_CRITICAL},
		{"5", "1", v1.Severity_SEVERITY_HIGH},
		{"9", "2", v1.Severity_SEVERITY_HIGH},
		{"10", "2", v1.Severity_SEVERITY_MEDIUM},
		{"14", "2", v1.Severity_SEVERITY_MEDIUM},
		{"15", "1", v1.Severity_SEVERITY_LOW},
		{"20", "3", v1.Severity_SEVERITY_LOW},
		{"", "1", v1.Severity_SEVERITY_HIGH},
		{"", "2", v1.Severity_SEVERITY_MEDIUM},
		{"", "3", v1.Severity_SEVERITY_LOW},
		{"", "5", v1.Severity_SEVERITY_INFO},
		{"x", "", v1.Severity_SEVERITY_MEDIUM},
	} {
		if got := Severity(tc.rank, tc.priority); got != tc.want {
			t.Errorf("Severity(%q, %q) = %v, want %v", tc.rank, tc.priority, got, tc.want)
		}
	}
}

func TestLatin1(t *testing.T) {
	// Older FindBugs declared ISO-8859-1; "é" is one byte, 0xE9.
	data := []byte("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<BugCollection version=\"1.3.9\">" +
		"<BugInstance type=\"X\" priority=\"2\"><LongMessage>caf\xe9</LongMessage>" +
		"<SourceLine start=\"3\" end=\"3\" sourcepath=\"a/B.java\"/></BugInstance></BugCollection>")
	got, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if is := got.Issues[0]; is.Description != "café" || is.Target != "a/B.java:3" || is.Severity != v1.Severity_SEVERITY_MEDIUM {
		t.Errorf("got %v", is)
	}
}

func TestParseRejects(t *testing.T) {
	for name, in := range map[string]string{
		"empty":          " \n",
		"truncated":      `<?xml version="1.0"?><BugCollection version="4.8.0"><BugInstance type="X" priority="1">`,
		"not xml":        `{"results": []}`,
		"other xml":      `<?xml version="1.0"?><checkstyle version="8.0"><file name="a.java"/></checkstyle>`,
		"no type":        `<BugCollection><BugInstance priority="1"/></BugCollection>`,
		"two roots":      `<BugCollection></BugCollection><BugCollection></BugCollection>`,
		"bad encoding":   `<?xml version="1.0" encoding="EBCDIC"?><BugCollection/>`,
		"mismatched end": `<BugCollection><BugInstance type="X"></Bug></BugCollection>`,
	} {
		if _, err := Parse([]byte(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func FuzzParse(f *testing.F) {
	producertest.Seed(f, []string{"spotbugs"}, "testdata/*.xml")
	f.Fuzz(func(t *testing.T, data []byte) { producertest.FuzzParse(t, Parse, data) })
}

func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(producertest.CorpusDir(b), "defectdojo", "spotbugs", "version_4.4.0.xml"))
	if err != nil {
		b.Fatal(err)
	}
	producertest.BenchParse(b, Parse, data)
}
