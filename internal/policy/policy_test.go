package policy

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/draconsec/dracon/internal/fingerprint"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

var now = time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)

// results is a small run: gosec's G101 and G201 (SQL injection, CWE-89),
// bandit's B105 (low), and gitleaks' secret.
func results() []*v1.EnrichedLaunchToolResponse {
	is := func(tool, rule string, sev v1.Severity, path string, line int32, cwe ...int32) *v1.EnrichedIssue {
		raw := &v1.Issue{Target: path + ":" + "1", Type: rule, RuleId: rule, Title: rule + " title", Severity: sev,
			Confidence: v1.Confidence_CONFIDENCE_HIGH, ToolName: tool, Cwe: cwe,
			Location: &v1.Location{Path: path, StartLine: line, EndLine: line}}
		return &v1.EnrichedIssue{RawIssue: raw, Hash: tool + "-" + rule, FindingId: "id-" + rule, Count: 1, IsNew: true,
			FirstSeen: timestamppb.New(now.Add(-48 * time.Hour)), LastSeen: timestamppb.New(now),
			Signatures: map[string]string{fingerprint.CodeV1: "x"}}
	}
	secret := is("gitleaks", "aws-access-token", v1.Severity_SEVERITY_HIGH, "goapp/main.go", 9)
	secret.Signatures = map[string]string{fingerprint.SecretV1: "s"}
	g201 := is("gosec", "G201", v1.Severity_SEVERITY_MEDIUM, "goapp/db.go", 20, 89)
	g201.Count = 3
	return []*v1.EnrichedLaunchToolResponse{
		{OriginalResults: &v1.LaunchToolResponse{ToolName: "gosec"}, Issues: []*v1.EnrichedIssue{
			is("gosec", "G101", v1.Severity_SEVERITY_HIGH, "goapp/main.go", 9, 798), g201}},
		{OriginalResults: &v1.LaunchToolResponse{ToolName: "bandit"}, Issues: []*v1.EnrichedIssue{
			is("bandit", "B105", v1.Severity_SEVERITY_LOW, "pyapp/app.py", 4)}},
		{OriginalResults: &v1.LaunchToolResponse{ToolName: "gitleaks"}, Issues: []*v1.EnrichedIssue{secret}},
	}
}

func testRun(res []*v1.EnrichedLaunchToolResponse) Run {
	return Run{Context: Context{Repository: "acme/app", Commit: "0123abc", Event: EventPullRequest, ServerURL: "https://github.com", Now: now},
		Producers: []Producer{{Name: "gosec", Status: "ok", Findings: 2}}, Results: res}
}

func load(t *testing.T, o Options) *Set {
	t.Helper()
	s, err := Load(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDraconPolicyAnnotates(t *testing.T) {
	for _, dir := range []string{"dracon-v0", "dracon-v1"} {
		t.Run(dir, func(t *testing.T) {
			var notices []string
			s := load(t, Options{Sources: []Source{{Path: filepath.Join("testdata", dir)}}, Notice: func(m string) { notices = append(notices, m) }})
			res := results()
			// One finding with no severity: Dracon's example does not allow it.
			res[1].Issues[0].RawIssue.Severity = v1.Severity_SEVERITY_UNSPECIFIED
			d, errs, err := s.Evaluate(context.Background(), testRun(res))
			if err != nil || len(errs) > 0 {
				t.Fatal(err, errs)
			}
			if len(d.Deny) != 0 || len(d.Warn) != 0 {
				t.Errorf("an allow policy decides nothing: %+v", d)
			}
			want := map[string]string{"G101": "true", "G201": "true", "B105": "false", "aws-access-token": "true"}
			for _, r := range res {
				for _, is := range r.Issues {
					if got := is.Annotations["Policy Pass: example/gosec"]; got != want[is.RawIssue.RuleId] {
						t.Errorf("%s: Policy Pass: example/gosec = %q, want %q", is.RawIssue.RuleId, got, want[is.RawIssue.RuleId])
					}
				}
			}
			if v0 := dir == "dracon-v0"; v0 != (len(notices) == 1 && strings.Contains(notices[0], "opa fmt --v1-compatible")) {
				t.Errorf("notices %q", notices)
			}
			if p := d.Policies; len(p) != 1 || p[0].Kind != KindDracon || p[0].RegoVersion != strings.TrimPrefix(dir, "dracon-") {
				t.Errorf("policies %+v", p)
			}
		})
	}
}

func TestDraconInputIsProtojson(t *testing.T) {
	// Dracon sent protojson.Format(rawIssue): lowerCamel names, enum names,
	// zero fields left out.
	in := DraconInput(&v1.Issue{Target: "a.go:3-4", Type: "G101", Severity: v1.Severity_SEVERITY_HIGH, Cvss: 7.5,
		Cwe: []int32{798}, ContextSegment: new(string), RuleId: "not Dracon's"})
	want := `{"contextSegment": "", "cvss": 7.5, "cwe": [798], "severity": "SEVERITY_HIGH", "target": "a.go:3-4", "type": "G101"}`
	if got := in.String(); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestAnnotationPrefixAndBase64(t *testing.T) {
	src, err := os.ReadFile("testdata/dracon-v0/policy.rego")
	if err != nil {
		t.Fatal(err)
	}
	s := load(t, Options{Sources: []Source{{Base64: base64.StdEncoding.EncodeToString(src)}}})
	s.SetAnnotationPrefix("policy/")
	res := results()
	if _, _, err := s.Evaluate(context.Background(), testRun(res)); err != nil {
		t.Fatal(err)
	}
	if got := res[0].Issues[0].Annotations["policy/example/gosec"]; got != "true" {
		t.Errorf("annotation %q, %v", got, res[0].Issues[0].Annotations)
	}
	if _, err := Load(context.Background(), Options{Sources: []Source{{Base64: "not base64!"}}}); err == nil || !strings.Contains(err.Error(), "base64") {
		t.Errorf("bad base64: %v", err)
	}
}

func TestRunLevelDenyNamesFindings(t *testing.T) {
	s := load(t, Options{Sources: []Source{{Path: "testdata/denyhigh/deny-high.rego"}}})
	d, _, err := s.Evaluate(context.Background(), testRun(results()))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Deny) != 2 {
		t.Fatalf("deny %+v", d.Deny)
	}
	v := d.Deny[0]
	if v.Rule != "data.acme.denyhigh.deny" || v.Message != "high finding G101 (gosec) in goapp/main.go:9" || v.File != "testdata/denyhigh/deny-high.rego" {
		t.Errorf("violation %+v", v)
	}
	if len(v.Findings) != 1 || v.Findings[0] != (FindingRef{ID: "id-G101", Tool: "gosec", Rule: "G101", Severity: "high", Path: "goapp/main.go", Line: 9,
		Link: "https://github.com/acme/app/blob/0123abc/goapp/main.go#L9"}) {
		t.Errorf("findings %+v", v.Findings)
	}
	// Suppressed findings are the policy's to leave out.
	res := results()
	for _, r := range res {
		for _, is := range r.Issues {
			is.Suppressed = true
		}
	}
	if d, _, _ := s.Evaluate(context.Background(), testRun(res)); len(d.Deny) != 0 {
		t.Errorf("suppressed findings denied: %+v", d.Deny)
	}
	if d, _, _ := s.Evaluate(context.Background(), testRun(nil)); len(d.Warn) != 1 || d.Warn[0].Message != "no producer reported anything" {
		t.Errorf("warn on an empty run: %+v", d.Warn)
	}
}

func TestPerFindingRules(t *testing.T) {
	s := load(t, Options{Sources: []Source{{Path: "testdata/perfinding"}}})
	d, _, err := s.Evaluate(context.Background(), testRun(results()))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Deny) != 1 || d.Deny[0].Message != "SQL injection (CWE-89) in goapp/db.go" || len(d.Deny[0].Findings) != 1 || d.Deny[0].Findings[0].Rule != "G201" {
		t.Errorf("deny %+v", d.Deny)
	}
	if len(d.Warn) != 1 || d.Warn[0].Message != "G201 finding seen 3 times" {
		t.Errorf("warn %+v", d.Warn)
	}
	if p := s.Policies(); len(p) != 1 || p[0].Kind != KindFinding {
		t.Errorf("policies %+v", p)
	}
}

func TestFolderWithData(t *testing.T) {
	s := load(t, Options{Sources: []Source{{Path: "testdata/folder"}}})
	res := results()
	res[1].Issues[0].RawIssue.RuleId = "G104"
	d, _, err := s.Evaluate(context.Background(), testRun(res))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Deny) != 1 || d.Deny[0].Message != "banned rule G104" {
		t.Errorf("deny %+v", d.Deny)
	}
	if s.data["sub"].(map[string]any)["note"] == nil {
		t.Errorf("data.sub: %v", s.data)
	}
	for _, p := range s.Policies() {
		if strings.Contains(p.Package, "_test") {
			t.Errorf("a test package was loaded as policy: %+v", p)
		}
	}
}

func TestBundle(t *testing.T) {
	dir := t.TempDir()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	add := func(name, body string) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body))}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	v0, _ := os.ReadFile("testdata/dracon-v0/policy.rego")
	add("/example/gosec/policy.rego", string(v0))
	add("/acme/data.json", `{"banned": ["G101"]}`)
	tw.Close()
	gz.Close()
	path := filepath.Join(dir, "bundle.tar.gz")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	var notices []string
	s := load(t, Options{Sources: []Source{{Path: path}}, Notice: func(m string) { notices = append(notices, m) }})
	res := results()
	if _, _, err := s.Evaluate(context.Background(), testRun(res)); err != nil {
		t.Fatal(err)
	}
	if res[0].Issues[0].Annotations["Policy Pass: example/gosec"] != "true" || len(notices) != 1 {
		t.Errorf("annotations %v, notices %q", res[0].Issues[0].Annotations, notices)
	}
	if banned := s.data["acme"].(map[string]any)["banned"]; banned == nil {
		t.Errorf("bundle data: %v", s.data)
	}
}

func TestErrorsNameFileAndLine(t *testing.T) {
	for _, c := range []struct {
		name string
		src  Source
		want []string
	}{
		{"parse", Source{Path: "testdata/broken/bad.rego"}, []string{"testdata/broken/bad.rego", "bad.rego:", "rego_parse_error"}},
		{"pinned v1 on a v0 file", Source{Path: "testdata/dracon-v0", RegoVersion: "v1"}, []string{"policy.rego:3", "rego_parse_error"}},
		{"missing", Source{Path: "testdata/nothing-here.rego"}, []string{"testdata/nothing-here.rego", "no such file"}},
		{"bad version", Source{Path: "testdata/dracon-v0", RegoVersion: "v2"}, []string{`rego_version "v2"`}},
		{"unknown builtin", Source{Path: "builtin:strict"}, []string{"builtin:strict", BuiltinDefault}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load(context.Background(), Options{Sources: []Source{c.src}})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q does not say %q", err, w)
				}
			}
		})
	}
	// A compile error (an unknown function) names the file, line and rule.
	dir := t.TempDir()
	p := filepath.Join(dir, "undefined.rego")
	os.WriteFile(p, []byte("package acme.undef\n\ndeny contains msg if {\n\tmsg := no_such_function(input)\n}\n"), 0o644)
	_, err := Load(context.Background(), Options{Sources: []Source{{Path: p}}})
	if err == nil || !strings.Contains(err.Error(), "undefined.rego:4") || !strings.Contains(err.Error(), "no_such_function") {
		t.Errorf("compile error: %v", err)
	}
}

func TestRuntimeErrorWritesFalseForThatFinding(t *testing.T) {
	s := load(t, Options{Sources: []Source{{Path: "testdata/runtime"}, {Path: "testdata/denyhigh"}}})
	res := results()
	res[0].Issues[1].RawIssue.Title = "boom"
	d, errs, err := s.Evaluate(context.Background(), testRun(res))
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "conflict.rego") || !strings.Contains(errs[0].Error(), "id-G201") {
		t.Errorf("errs %v", errs)
	}
	got := map[string]string{}
	for _, r := range res {
		for _, is := range r.Issues {
			got[is.RawIssue.RuleId] = is.Annotations["Policy Pass: example/conflict"]
		}
	}
	if got["G201"] != "false" || got["G101"] != "true" || got["B105"] != "true" {
		t.Errorf("annotations %v", got)
	}
	// The deny rules still decided.
	if len(d.Deny) != 2 {
		t.Errorf("deny %+v", d.Deny)
	}
}

func TestNormalizeEvent(t *testing.T) {
	for _, c := range []struct{ event, ref, want string }{
		{"pull_request", "refs/pull/7/merge", EventPullRequest},
		{"pull_request_target", "refs/heads/main", EventPullRequest},
		{"merge_request_event", "", EventPullRequest},
		{"merge_group", "refs/heads/gh-readonly-queue/main/pr-7-abc", EventPullRequest},
		{"push", "refs/heads/main", EventPush},
		{"push", "refs/tags/v1.2.0", EventTag},
		{"schedule", "refs/heads/main", EventSchedule},
		{"release", "refs/tags/v1.2.0", EventRelease},
		{"manual", "refs/heads/x", EventManual},
		{"workflow_dispatch", "refs/heads/main", EventManual},
		{"web", "refs/tags/v1", EventTag},
	} {
		if got := NormalizeEvent(c.event, c.ref); got != c.want {
			t.Errorf("%s %s: %s, want %s", c.event, c.ref, got, c.want)
		}
	}
}

func TestLink(t *testing.T) {
	gh := ContextFromTags("s", map[string]string{"ci": "github", "repository": "acme/app", "commit": "abc"}, now)
	gl := ContextFromTags("s", map[string]string{"ci": "gitlab", "repository": "acme/app", "commit": "abc", "server_url": "https://gitlab.example.com"}, now)
	for _, c := range []struct {
		ctx        Context
		path       string
		start, end int32
		want       string
	}{
		{gh, "a b/x.go", 3, 5, "https://github.com/acme/app/blob/abc/a%20b/x.go#L3-L5"},
		{gh, "x.go", 3, 3, "https://github.com/acme/app/blob/abc/x.go#L3"},
		{gl, "x.go", 3, 5, "https://gitlab.example.com/acme/app/-/blob/abc/x.go#L3-5"},
		{gh, "", 3, 5, ""},
		{Context{Repository: "acme/app", Commit: "abc"}, "x.go", 1, 1, ""}, // no code host: a local run
	} {
		if got := c.ctx.Link(c.path, c.start, c.end); got != c.want {
			t.Errorf("Link(%q, %d, %d) = %q, want %q", c.path, c.start, c.end, got, c.want)
		}
	}
}
