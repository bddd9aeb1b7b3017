package builtin_test

import (
	"context"
	"io/fs"
	"slices"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/format"
	"github.com/open-policy-agent/opa/v1/tester"

	"github.com/draconsec/dracon/internal/policy/builtin"
)

// minRegoTests is fewer than the Rego tests there are: a run that finds
// fewer (a file no longer embedded, tests renamed so the runner skips them)
// fails instead of passing on nothing.
const minRegoTests = 100

// parse reads embedded files as Rego v1, every .rego file when names is nil.
func parse(t *testing.T, names []string) map[string]*ast.Module {
	t.Helper()
	if names == nil {
		var err error
		if names, err = fs.Glob(builtin.FS, "*.rego"); err != nil {
			t.Fatal(err)
		}
	}
	mods := map[string]*ast.Module{}
	for _, n := range names {
		src, err := fs.ReadFile(builtin.FS, n)
		if err != nil {
			t.Fatal(err)
		}
		m, err := ast.ParseModuleWithOpts(n, string(src), ast.ParserOptions{RegoVersion: ast.RegoV1})
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		mods[n] = m
	}
	return mods
}

func compiler() *ast.Compiler {
	return ast.NewCompiler().WithStrict(true).WithDefaultRegoVersion(ast.RegoV1)
}

// TestRego runs every Rego test, as "opa test" would.
func TestRego(t *testing.T) {
	ch, err := tester.NewRunner().
		SetCompiler(compiler()).
		SetDefaultRegoVersion(ast.RegoV1).
		SetModules(parse(t, nil)).
		RaiseBuiltinErrors(true).
		RunTests(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ran := 0
	for r := range ch {
		switch {
		case r.Skip:
			t.Errorf("%s.%s is skipped (todo_)", r.Package, r.Name)
		case r.Error != nil:
			t.Errorf("%s.%s (%s): error: %v", r.Package, r.Name, r.Location, r.Error)
		case r.Fail:
			t.Errorf("%s.%s (%s): FAIL%s", r.Package, r.Name, r.Location, r.SubResults)
		}
		ran++
	}
	if ran < minRegoTests {
		t.Errorf("%d Rego tests ran, want at least %d", ran, minRegoTests)
	}
	t.Logf("%d Rego tests", ran)
}

// TestFormatted: every file is as "opa fmt" writes it for Rego v1.
func TestFormatted(t *testing.T) {
	names, err := fs.Glob(builtin.FS, "*.rego")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		src, err := fs.ReadFile(builtin.FS, n)
		if err != nil {
			t.Fatal(err)
		}
		got, err := format.SourceWithOpts(n, src, format.Opts{RegoVersion: ast.RegoV1})
		if err != nil {
			t.Errorf("%s: %v", n, err)
			continue
		}
		if string(got) != string(src) {
			t.Errorf("%s is not formatted: run opa fmt -w on it", n)
		}
	}
}

// TestFiles: Files lists the policies, and each has its tests.
func TestFiles(t *testing.T) {
	want := []string{"branch.rego", "exceptions.rego", "lib.rego", "pull_request.rego", "release.rego", "secrets.rego"}
	if got := builtin.Files(); !slices.Equal(got, want) {
		t.Errorf("Files() = %q, want %q", got, want)
	}
	for _, n := range builtin.Files() {
		if _, err := fs.Stat(builtin.FS, strings.TrimSuffix(n, ".rego")+"_test.rego"); err != nil {
			t.Errorf("%s has no tests: %v", n, err)
		}
	}
	if builtin.IsPolicy("secrets_test.rego") || !builtin.IsPolicy("secrets.rego") || builtin.IsPolicy("builtin.go") {
		t.Error("IsPolicy")
	}
}

// TestPolicies: the policies compile without their tests, strictly, each
// is a package of dracon.builtin, and deny and warn are what the engine
// reads: partial sets.
func TestPolicies(t *testing.T) {
	mods := parse(t, builtin.Files())
	c := compiler()
	if c.Compile(mods); c.Failed() {
		t.Fatal(c.Errors)
	}
	prefix := ast.MustParseRef("data.dracon.builtin")
	decides := map[string][]string{}
	for n, m := range mods {
		if !m.Package.Path.HasPrefix(prefix) || len(m.Package.Path) != len(prefix)+1 {
			t.Errorf("%s: package %v is not one of dracon.builtin", n, m.Package.Path)
		}
		pkg := strings.TrimPrefix(m.Package.Path.String(), "data.dracon.builtin.")
		if pkg+".rego" != n {
			t.Errorf("%s holds package %s", n, pkg)
		}
		for _, r := range m.Rules {
			name := r.Head.Ref().String()
			if name != "deny" && name != "warn" {
				continue
			}
			if r.Head.RuleKind() != ast.MultiValue || len(r.Head.Ref()) != 1 {
				t.Errorf("%s:%d: %s is not a partial set (deny contains ...)", n, r.Location.Row, name)
			}
			if !slices.Contains(decides[pkg], name) {
				decides[pkg] = append(decides[pkg], name)
			}
		}
	}
	want := map[string][]string{
		"pull_request": {"deny"}, "release": {"deny"}, "secrets": {"deny"},
		"branch": {"warn"}, "exceptions": {"warn"},
	}
	for pkg, w := range want {
		if got := decides[pkg]; !slices.Equal(got, w) {
			t.Errorf("%s decides %q, want %q", pkg, got, w)
		}
	}
	if got := decides["lib"]; got != nil {
		t.Errorf("lib decides %q, want nothing", got)
	}
}
