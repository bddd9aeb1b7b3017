package owners

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

func TestGitHubSyntax(t *testing.T) {
	f, err := Load("testdata/github/.github/CODEOWNERS", "testdata/github")
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string][]string{
		"goapp/main.go":         {"@acme/payments", "@alice"},
		"goapp/vendor/x/lib.go": nil, // a rule with no owners resets them
		"pyapp/app.py":          {"@acme/python-guild"},
		"goapp/tool.py":         {"@acme/payments", "@alice"}, // the later /goapp/ rule wins over *.py
		"README.md":             {"@acme/platform"},
		"docs/guide/intro.md":   {"docs@acme.example"},
	} {
		got, err := f.Owners(path)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %v, want %v", path, got, want)
		}
	}
}

func TestGitLabSections(t *testing.T) {
	f, err := Load("testdata/gitlab/CODEOWNERS", "testdata/gitlab")
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string][]string{
		"goapp/main.go": {"@acme/platform", "@acme/backend", "@acme/security"},
		"pyapp/app.py":  {"@acme/platform", "@acme/python/team"},
		"README.md":     {"@acme/platform"},
	} {
		got, err := f.Owners(path)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %v, want %v", path, got, want)
		}
	}
}

// TestEnrich: Find walks up from a scanned subfolder to the repository's
// CODEOWNERS, and paths are taken relative to the repository root.
func TestEnrich(t *testing.T) {
	repo := t.TempDir()
	os.MkdirAll(filepath.Join(repo, ".git"), 0o755)
	os.MkdirAll(filepath.Join(repo, ".github"), 0o755)
	os.MkdirAll(filepath.Join(repo, "services", "api"), 0o755)
	os.WriteFile(filepath.Join(repo, ".github", "CODEOWNERS"), []byte("* @acme/all\n/services/api/ @acme/api\n"), 0o644)
	issues := []*v1.EnrichedIssue{
		{RawIssue: &v1.Issue{Location: &v1.Location{Path: "main.go"}}},
		{RawIssue: &v1.Issue{Target: "pkg:golang/x@v1"}}, // no file: no owners
	}
	e := Enricher{Source: filepath.Join(repo, "services", "api")}
	if err := e.Enrich(context.Background(), nil, []*v1.EnrichedLaunchToolResponse{{Issues: issues}}); err != nil {
		t.Fatal(err)
	}
	if got := Of(issues[0]); !reflect.DeepEqual(got, []string{"@acme/api"}) || issues[0].Annotations["Owner-0"] != "@acme/api" {
		t.Errorf("owners = %v %v", got, issues[0].Annotations)
	}
	if len(issues[1].Annotations) != 0 {
		t.Errorf("a finding without a file got owners: %v", issues[1].Annotations)
	}

	// No CODEOWNERS up to the repository root: nothing to do.
	bare := t.TempDir()
	os.MkdirAll(filepath.Join(bare, ".git"), 0o755)
	if f, err := Find(bare); err != nil || f != nil {
		t.Errorf("Find without CODEOWNERS = %v, %v", f, err)
	}
}

// TestBadFile: GitHub's CODEOWNERS has no character ranges; such a line
// is an error naming the file and line, not a silent skip.
func TestBadFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "CODEOWNERS")
	os.WriteFile(p, []byte("*.go @ok\n[Dd]ocs/ @docs\n"), 0o644)
	_, err := Load(p, filepath.Dir(p))
	if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("err = %v", err)
	}
}

func TestBadLineInSection(t *testing.T) {
	p := filepath.Join(t.TempDir(), "CODEOWNERS")
	os.WriteFile(p, []byte("* @a\n\n[Backend] @b\ngoapp/\n[x]y/ @c\n"), 0o644)
	_, err := Load(p, filepath.Dir(p))
	if err == nil || !strings.Contains(err.Error(), "line 5") {
		t.Fatalf("err = %v, want line 5", err)
	}
}
