package builtin_test

import (
	"context"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/cover"
	"github.com/open-policy-agent/opa/v1/tester"

	"github.com/draconsec/dracon/internal/policy/builtin"
)

// TestCoverage: the Rego tests reach every line of every policy, as
// "opa test --coverage" counts them; a rule added without tests fails
// here, naming its lines.
func TestCoverage(t *testing.T) {
	mods := parse(t, nil)
	cov := cover.New()
	ch, err := tester.NewRunner().
		SetCompiler(compiler()).
		SetDefaultRegoVersion(ast.RegoV1).
		SetModules(mods).
		SetCoverageQueryTracer(cov).
		RaiseBuiltinErrors(true).
		RunTests(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for r := range ch {
		if r.Fail || r.Error != nil {
			t.Errorf("%s.%s failed: coverage is of passing tests (TestRego says why)", r.Package, r.Name)
		}
	}
	report := cov.Report(mods)
	for _, n := range builtin.Files() {
		fr := report.Files[n]
		if fr == nil {
			t.Errorf("%s: no line of it ran", n)
			continue
		}
		for _, r := range fr.NotCovered {
			t.Errorf("%s:%d-%d is not covered by any test", n, r.Start.Row, r.End.Row)
		}
		if fr.NotCoveredLines == 0 && fr.Coverage != 100 {
			t.Errorf("%s: %.1f%% covered", n, fr.Coverage)
		}
	}
}
