package policy

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/format"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/tester"
)

// TestResult counts a policy test run.
type TestResult struct {
	Passed, Failed, Errored, Skipped int
}

// Test runs the Rego unit tests (test_ rules, in *_test.rego files) of
// the sources with OPA's tester, as `opa test` does, writing a line per
// failing test (every test with verbose) and a total to w.
func Test(ctx context.Context, o Options, w io.Writer, verbose bool) (TestResult, error) {
	o.Tests = true
	var res TestResult
	l, err := readSources(o)
	if err != nil {
		return res, err
	}
	mods := map[string]*ast.Module{}
	for _, f := range l.files {
		mods[f.name] = f.module
	}
	ch, err := tester.NewRunner().
		SetCompiler(ast.NewCompiler().WithEnablePrintStatements(true)).
		SetStore(inmem.NewFromObject(l.data)).
		SetModules(mods).
		CapturePrintOutput(true).
		RaiseBuiltinErrors(true).
		RunTests(ctx, nil)
	if err != nil {
		return res, fmt.Errorf("policy tests: %w", err)
	}
	var results []*tester.Result
	for r := range ch {
		results = append(results, r)
	}
	sort.SliceStable(results, func(i, j int) bool {
		return results[i].Location.File < results[j].Location.File ||
			results[i].Location.File == results[j].Location.File && results[i].Location.Row < results[j].Location.Row
	})
	for _, r := range results {
		name := fmt.Sprintf("%s.%s", strings.TrimPrefix(r.Package, "data."), r.Name)
		where := fmt.Sprintf("%s:%d", r.Location.File, r.Location.Row)
		switch {
		case r.Error != nil:
			res.Errored++
			fmt.Fprintf(w, "ERROR %s (%s): %v\n", name, where, r.Error)
		case r.Skip:
			res.Skipped++
			fmt.Fprintf(w, "SKIP  %s (%s)\n", name, where)
		case r.Fail:
			res.Failed++
			fmt.Fprintf(w, "FAIL  %s (%s)\n", name, where)
			if len(r.Output) > 0 {
				fmt.Fprintf(w, "      %s\n", strings.ReplaceAll(strings.TrimSpace(string(r.Output)), "\n", "\n      "))
			}
		default:
			res.Passed++
			if verbose {
				fmt.Fprintf(w, "PASS  %s (%s) %v\n", name, where, r.Duration.Round(1000))
			}
		}
	}
	total := res.Passed + res.Failed + res.Errored + res.Skipped
	if total == 0 {
		return res, fmt.Errorf("no Rego test found (a test is a rule named test_*, usually in a *_test.rego file)")
	}
	fmt.Fprintf(w, "%d tests: %d passed, %d failed, %d errors, %d skipped\n", total, res.Passed, res.Failed, res.Errored, res.Skipped)
	return res, nil
}

// Format formats a Rego file as `opa fmt` does for Rego v1. A file only
// v0 parses is rewritten as v1 (`opa fmt --v1-compatible`), and fromV0
// says so.
func Format(name string, src []byte) (out []byte, fromV0 bool, err error) {
	out, err = format.SourceWithOpts(name, src, format.Opts{RegoVersion: ast.RegoV1, ParserOptions: &ast.ParserOptions{RegoVersion: ast.RegoV1}})
	if err == nil {
		return out, false, nil
	}
	v0, err0 := format.SourceWithOpts(name, src, format.Opts{RegoVersion: ast.RegoV1, ParserOptions: &ast.ParserOptions{RegoVersion: ast.RegoV0}})
	if err0 != nil {
		return nil, false, err // the v1 error: what the file should become
	}
	return v0, true, nil
}
