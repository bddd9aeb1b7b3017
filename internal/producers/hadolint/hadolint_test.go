package hadolint

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/draconsec/dracon/internal/producers/producertest"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

func TestCorpus(t *testing.T) {
	got := producertest.CheckCorpus(t, "hadolint", Parse, nil)
	r := got["hadolint/one_dockerfile.json"]
	first := r.Issues[0]
	// The report was written on Windows: its path is normalised.
	if first.RuleId != "DL3008" || first.Type != "DL3008" || first.Target != "django-DefectDojo/Dockerfile.django:9" ||
		first.Location.Path != "django-DefectDojo/Dockerfile.django" || first.Location.StartLine != 9 || first.Location.StartColumn != 1 ||
		first.Severity != v1.Severity_SEVERITY_MEDIUM || !strings.HasPrefix(first.Title, "Pin versions in apt get install.") ||
		!reflect.DeepEqual(first.References, []string{"https://github.com/hadolint/hadolint/wiki/DL3008"}) ||
		!reflect.DeepEqual(first.Tags, []string{"warning"}) {
		t.Errorf("first issue = %v", first)
	}
	if is := r.Issues[1]; is.RuleId != "DL3015" || is.Severity != v1.Severity_SEVERITY_LOW {
		t.Errorf("info issue = %v", is)
	}
}

// TestLevels reads testdata/v2.12.0.json, written by hand in the shape
// hadolint writes with --format json, with a finding of every level and a
// ShellCheck rule.
func TestLevels(t *testing.T) {
	data, err := os.ReadFile("testdata/v2.12.0.json")
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
		got = append(got, is.RuleId+" "+is.Target+" "+is.Severity.String())
	}
	want := []string{
		"DL3006 Dockerfile:1 SEVERITY_MEDIUM",
		"DL3008 Dockerfile:2 SEVERITY_MEDIUM",
		"DL3009 Dockerfile:2 SEVERITY_LOW",
		"DL3015 Dockerfile:2 SEVERITY_LOW",
		"DL3003 services/api/api.Dockerfile:2 SEVERITY_MEDIUM",
		"SC2164 services/api/api.Dockerfile:2 SEVERITY_MEDIUM",
		"DL1000 Dockerfile.dev:3 SEVERITY_HIGH",
		"DL3059 Dockerfile.dev:4 SEVERITY_INFO",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("issues:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if sc := r.Issues[5]; !reflect.DeepEqual(sc.References, []string{"https://www.shellcheck.net/wiki/SC2164"}) {
		t.Errorf("ShellCheck issue = %v", sc)
	}
}

func TestArgs(t *testing.T) {
	src := t.TempDir()
	for file, text := range map[string]string{
		"Dockerfile":                  "FROM debian\n",
		"Dockerfile.dev":              "FROM alpine\n",
		"services/api/api.Dockerfile": "FROM golang:1.26\n",
		"README.md":                   "not a Dockerfile\n",
		".git/Dockerfile":             "FROM alpine\n", // never linted: not the work tree
		"node_modules/x/Dockerfile":   "FROM alpine\n",
	} {
		p := filepath.Join(src, filepath.FromSlash(file))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got := Producer.Tool.Args(src, "/out/hadolint.report")
	want := []string{"--format", "json", "--no-fail", "--no-color",
		"Dockerfile", "Dockerfile.dev", "services/api/api.Dockerfile"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("args = %q, want %q", got, want)
	}
	if got := Producer.Tool.Args(t.TempDir(), "/out/r"); got[len(got)-1] != "Dockerfile" {
		t.Errorf("args without Dockerfiles = %q", got)
	}
	for name, want := range map[string]bool{"Dockerfile": true, "api.Dockerfile": true, "Dockerfile.prod": true,
		"Containerfile": true, "dockerfile.go": false, "README.md": false} {
		if isDockerfile(name) != want {
			t.Errorf("isDockerfile(%q) = %v", name, !want)
		}
	}
}

func TestParseRejects(t *testing.T) {
	for name, in := range map[string]string{
		"empty":     "",
		"truncated": `[{"code":"DL3008","column":1,"file":"Dockerfile"`,
		"gosec":     `{"Issues": [], "Stats": {}}`,
		"gitleaks":  `[{"RuleID":"aws-access-token","File":"a","StartLine":1}]`,
		"null item": `[null]`,
		"bad line":  `[{"code":"DL3008","level":"warning","line":"nine"}]`,
	} {
		if _, err := Parse([]byte(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if r, err := Parse([]byte("[]\n")); err != nil || len(r.Issues) != 0 {
		t.Errorf("a clean report: %v, %v", r, err)
	}
}

func FuzzParse(f *testing.F) {
	producertest.Seed(f, []string{"hadolint"}, "testdata/*.json")
	f.Fuzz(func(t *testing.T, data []byte) { producertest.FuzzParse(t, Parse, data) })
}

func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile(producertest.CorpusDir(b) + "/defectdojo/hadolint/one_dockerfile.json")
	if err != nil {
		b.Fatal(err)
	}
	producertest.BenchParse(b, Parse, data)
}
