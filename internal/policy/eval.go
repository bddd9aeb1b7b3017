package policy

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/topdown"

	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// The kinds of policy package.
const (
	KindDracon  = "dracon"  // allow, per finding: Dracon's policy enricher
	KindFinding = "finding" // deny / warn, per finding
	KindRun     = "run"     // deny / warn on the whole run
)

// DefaultAnnotationPrefix is Dracon's: "Policy Pass: example/gosec".
const DefaultAnnotationPrefix = "Policy Pass: "

// batchPackage is the generated module that evaluates every package over
// the whole batch in one query.
const batchPackage = "dracon_internal_batch"

// pkg is one policy package and what it defines.
type pkg struct {
	path     ast.Ref // data.example.gosec
	name     string  // example.gosec
	files    []*file
	allow    bool // Dracon's decision
	deny     bool
	warn     bool
	allowF   bool // allow_failure
	perIssue bool // deny/warn read one finding (metadata custom.dracon.input: finding)
}

func (p *pkg) slash() string { return strings.ReplaceAll(p.name, ".", "/") }

// Set is a run's policies, compiled and prepared once.
type Set struct {
	pkgs     []*pkg
	jobs     []job
	perQuery map[string]rego.PreparedEvalQuery // per package, for isolating a failing finding
	compiler *ast.Compiler
	data     map[string]any
	prefix   string
}

// job is one prepared query over the whole batch: one package's allow on
// every raw issue (role "dracon"), or its deny, warn and allow_failure
// (role "finding" or "run"). The jobs of a run are evaluated side by side,
// one per CPU, on the same input.
type job struct {
	pkg   *pkg
	role  string
	query rego.PreparedEvalQuery
}

// Load reads, compiles and prepares the policies. A file that does not
// parse or compile is an error naming the file, the line and the rule.
func Load(ctx context.Context, o Options) (*Set, error) {
	l, err := readSources(o)
	if err != nil {
		return nil, err
	}
	byPkg := map[string]*pkg{}
	var order []string
	for _, f := range l.files {
		name := strings.TrimPrefix(f.module.Package.Path.String(), "data.")
		if name == batchPackage || strings.HasPrefix(name, batchPackage+".") {
			return nil, fmt.Errorf("policy %s: package %s is Dracon's own; rename it", f.name, name)
		}
		p := byPkg[name]
		if p == nil {
			p = &pkg{path: f.module.Package.Path, name: name}
			byPkg[name] = p
			order = append(order, name)
		}
		p.files = append(p.files, f)
		for _, r := range f.module.Rules {
			switch r.Head.Name.String() {
			case "allow":
				p.allow = true
			case "deny":
				p.deny = true
			case "warn":
				p.warn = true
			case "allow_failure":
				p.allowF = true
			}
			if len(r.Head.Reference) > 1 {
				switch r.Head.Reference[0].Value.String() {
				case "deny":
					p.deny = true
				case "warn":
					p.warn = true
				}
			}
		}
		for _, a := range f.module.Annotations {
			if a.Scope == "package" || a.Scope == "subpackages" {
				if d, ok := a.Custom["dracon"].(map[string]any); ok && d["input"] == KindFinding {
					p.perIssue = true
				}
			}
		}
	}
	sort.Strings(order)
	s := &Set{data: l.data, perQuery: map[string]rego.PreparedEvalQuery{}}
	modules := map[string]*ast.Module{}
	for _, f := range l.files {
		modules[f.name] = f.module
	}
	for _, n := range order {
		s.pkgs = append(s.pkgs, byPkg[n])
	}
	batch, err := ast.ParseModuleWithOpts("dracon-batch.rego", s.batchModule(), ast.ParserOptions{RegoVersion: ast.RegoV1})
	if err != nil {
		return nil, fmt.Errorf("policy: the batch query does not parse (a bug): %w", err)
	}
	modules["dracon-batch.rego"] = batch
	c := ast.NewCompiler().WithEnablePrintStatements(false)
	c.Compile(modules)
	if c.Failed() {
		return nil, fmt.Errorf("policies do not compile: %w", c.Errors)
	}
	s.compiler = c
	store := inmem.NewFromObjectWithOpts(l.data, inmem.OptRoundTripOnWrite(false))
	prepare := func(q string) (rego.PreparedEvalQuery, error) {
		return rego.New(rego.Compiler(c), rego.Store(store), rego.Query(q), rego.StrictBuiltinErrors(false)).PrepareForEval(ctx)
	}
	for _, p := range s.pkgs {
		var roles []string
		if p.allow {
			roles = append(roles, "dracon")
		}
		switch {
		case (p.deny || p.warn) && p.perIssue:
			roles = append(roles, KindFinding)
		case (p.deny || p.warn || p.allowF) && !p.perIssue:
			roles = append(roles, KindRun)
		}
		for _, role := range roles {
			q, err := prepare(fmt.Sprintf("data.%s.%s[%q]", batchPackage, role, p.name))
			if err != nil {
				return nil, fmt.Errorf("policy %s: %w", p.name, err)
			}
			s.jobs = append(s.jobs, job{pkg: p, role: role, query: q})
		}
	}
	for _, p := range s.pkgs {
		if !p.allow {
			continue
		}
		q, err := rego.New(rego.Compiler(c), rego.Store(store), rego.Query(p.path.String()+".allow")).PrepareForEval(ctx)
		if err != nil {
			return nil, fmt.Errorf("policy %s: %w", p.name, err)
		}
		s.perQuery[p.name] = q
	}
	return s, nil
}

// SetAnnotationPrefix sets the prefix of the annotations Annotate writes
// ("" keeps Dracon's, DefaultAnnotationPrefix).
func (s *Set) SetAnnotationPrefix(p string) { s.prefix = p }

// Policies describes the packages, for the summary.
func (s *Set) Policies() []Loaded {
	var out []Loaded
	for _, p := range s.pkgs {
		kinds := []string{}
		if p.allow {
			kinds = append(kinds, KindDracon)
		}
		if p.deny || p.warn {
			if p.perIssue {
				kinds = append(kinds, KindFinding)
			} else {
				kinds = append(kinds, KindRun)
			}
		}
		if len(kinds) == 0 {
			kinds = append(kinds, "library")
		}
		var files []string
		versions := map[string]bool{}
		for _, f := range p.files {
			files = append(files, f.name)
			versions[versionName(f.version)] = true
		}
		out = append(out, Loaded{Package: p.name, Files: files, Kind: strings.Join(kinds, "+"),
			RegoVersion: strings.Join(sortedKeys(versions), "+"), SHA256: hashFiles(p.files)})
	}
	return out
}

// HasDracon reports whether any package is a Dracon allow policy.
func (s *Set) HasDracon() bool {
	for _, p := range s.pkgs {
		if p.allow {
			return true
		}
	}
	return false
}

// batchModule is the one query over everything: each Dracon package's
// allow per raw issue, each per-finding package's deny and warn per
// finding, and each run-level package's sets on the run.
func (s *Set) batchModule() string {
	var b strings.Builder
	fmt.Fprintf(&b, "package %s\n\n", batchPackage)
	for i, p := range s.pkgs {
		ref := p.path.String()
		if p.allow {
			// Dracon read {"result": {"allow": <bool>}}: anything but true
			// is false.
			fmt.Fprintf(&b, "allow_%d(f) := true if {\n\t%s.allow == true with input as f\n} else := false\n\n", i, ref)
			fmt.Fprintf(&b, "dracon[%q] := [x | some f in input.dracon; x := allow_%d(f)]\n\n", p.name, i)
		}
		if (p.deny || p.warn) && p.perIssue {
			for _, r := range []struct {
				name string
				on   bool
			}{{"deny", p.deny}, {"warn", p.warn}} {
				if r.on {
					fmt.Fprintf(&b, "%s_%d(f) := x if {\n\tx := %s.%s with input as f\n} else := set()\n\n", r.name, i, ref, r.name)
					fmt.Fprintf(&b, "finding[%q][%q] := [x | some f in input.each; x := %s_%d(f)]\n\n", p.name, r.name, r.name, i)
				}
			}
		}
		if (p.deny || p.warn || p.allowF) && !p.perIssue {
			for _, r := range []struct {
				name string
				on   bool
			}{{"deny", p.deny}, {"warn", p.warn}, {"allow_failure", p.allowF}} {
				if r.on {
					fmt.Fprintf(&b, "run[%q][%q] := x if {\n\tx := %s.%s with input as input.run\n}\n\n", p.name, r.name, ref, r.name)
				}
			}
		}
	}
	return b.String()
}

// Inputs are what one evaluation reads: the run and, as needed, each
// finding alone.
type batchInput struct {
	issues []*v1.EnrichedIssue // in order, every tool's
	tools  []string
}

func flatten(results []*v1.EnrichedLaunchToolResponse) batchInput {
	var in batchInput
	for _, r := range results {
		for _, is := range r.GetIssues() {
			in.issues = append(in.issues, is)
			in.tools = append(in.tools, r.GetOriginalResults().GetToolName())
		}
	}
	return in
}

// Evaluate runs every policy over the run: Dracon allow policies write
// their annotation on every issue (Annotate's job, done here in the same
// query), and deny and warn decide. An error in one finding's evaluation
// of an allow policy writes "false" for it and is returned in errs, as
// Dracon did; an error of a deny rule is the run's error (fail closed).
func (s *Set) Evaluate(ctx context.Context, run Run) (*Decision, []error, error) {
	in := flatten(run.Results)
	defer holdCollector()()
	items := []item{ast.Item(ast.StringTerm("run"), ast.NewTerm(RunInput(run)))}
	if s.HasDracon() {
		raws := buildAll(len(in.issues), run.Context, func(_ *builder, i int) *ast.Term { return ast.NewTerm(DraconInput(in.issues[i].GetRawIssue())) })
		items = append(items, ast.Item(ast.StringTerm("dracon"), ast.ArrayTerm(raws...)))
	}
	perIssue := false
	for _, p := range s.pkgs {
		perIssue = perIssue || (p.perIssue && (p.deny || p.warn))
	}
	if perIssue {
		ctxTerm := run.Context.value()
		each := buildAll(len(in.issues), run.Context, func(b *builder, i int) *ast.Term {
			f := b.finding(in.tools[i], in.issues[i]).Value.(ast.Object)
			f.Insert(ast.InternedTerm("context"), ctxTerm)
			return ast.NewTerm(f)
		})
		items = append(items, ast.Item(ast.StringTerm("each"), ast.ArrayTerm(each...)))
	}
	input := ast.NewObject(items...)
	out := map[string]any{"dracon": map[string]any{}, "finding": map[string]any{}, "run": map[string]any{}}
	results := make([]any, len(s.jobs))
	jobErrs := make([]error, len(s.jobs))
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(runtime.GOMAXPROCS(0), len(s.jobs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				rs, err := s.jobs[i].query.Eval(ctx, rego.EvalParsedInput(input))
				if err == nil && len(rs) == 1 && len(rs[0].Expressions) == 1 {
					results[i] = rs[0].Expressions[0].Value
				}
				jobErrs[i] = err
			}
		}()
	}
	for i := range s.jobs {
		next <- i
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, nil, fmt.Errorf("policy: %w", err)
	}
	var errs []error
	for i, j := range s.jobs {
		if err := jobErrs[i]; err != nil {
			if j.role != "dracon" {
				return nil, nil, fmt.Errorf("policy %s: %w", j.pkg.name, evalError(err))
			}
			// One finding's evaluation failed: evaluate this package a
			// finding at a time, so the error writes false for that finding
			// alone, as Dracon did.
			errs = append(errs, s.isolate(ctx, j.pkg, in)...)
			continue
		}
		if results[i] != nil {
			out[j.role].(map[string]any)[j.pkg.name] = results[i]
		}
	}
	d := &Decision{AllowFailure: map[string]bool{}, Policies: s.Policies()}
	s.annotate(in, out["dracon"], errs)
	if err := s.collect(d, in, run, out); err != nil {
		return nil, nil, err
	}
	return d, errs, nil
}

// isolate evaluates one allow policy a finding at a time: a finding whose
// evaluation fails gets "false", and its error is returned.
func (s *Set) isolate(ctx context.Context, p *pkg, in batchInput) []error {
	var errs []error
	q := s.perQuery[p.name]
	key := s.annotationKey(p)
	for i, is := range in.issues {
		allowed := false
		rs, err := q.Eval(ctx, rego.EvalParsedInput(DraconInput(is.GetRawIssue())))
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("policy %s on %s finding %s: %w", p.name, in.tools[i], ID(is), evalError(err)))
		case len(rs) == 1 && len(rs[0].Expressions) == 1:
			allowed = rs[0].Expressions[0].Value == true
		}
		setAnnotation(is, key, allowed)
	}
	return errs
}

func (s *Set) annotationKey(p *pkg) string {
	prefix := s.prefix
	if prefix == "" {
		prefix = DefaultAnnotationPrefix
	}
	return prefix + p.slash()
}

func setAnnotation(is *v1.EnrichedIssue, key string, allowed bool) {
	if is.Annotations == nil {
		is.Annotations = map[string]string{}
	}
	is.Annotations[key] = fmt.Sprint(allowed)
}

func (s *Set) annotate(in batchInput, v any, _ []error) {
	byPkg, _ := v.(map[string]any)
	for _, p := range s.pkgs {
		if !p.allow {
			continue
		}
		vals, ok := byPkg[p.name].([]any)
		if !ok {
			continue // evaluated a finding at a time (isolate)
		}
		key := s.annotationKey(p)
		for i, is := range in.issues {
			setAnnotation(is, key, i < len(vals) && vals[i] == true)
		}
	}
}

// collect reads the deny, warn and allow_failure results.
func (s *Set) collect(d *Decision, in batchInput, run Run, out map[string]any) error {
	refs := newRefIndex(in, run.Context)
	perFinding, _ := out["finding"].(map[string]any)
	runLevel, _ := out["run"].(map[string]any)
	for _, p := range s.pkgs {
		file := ""
		if len(p.files) > 0 {
			file = p.files[0].name
		}
		if p.perIssue {
			rules, _ := perFinding[p.name].(map[string]any)
			for _, kind := range []string{"deny", "warn"} {
				perIs, _ := rules[kind].([]any)
				for i, set := range perIs {
					if i < len(in.issues) && in.issues[i].GetDuplicateOf() != "" {
						continue // the finding it duplicates is judged
					}
					msgs, _ := set.([]any)
					for _, m := range msgs {
						v, err := violation(p, kind, m, refs)
						if err != nil {
							return err
						}
						if len(v.Findings) == 0 && i < len(in.issues) {
							v.Findings = []FindingRef{refs.of(i)}
						}
						v.File = file
						d.add(kind, v)
					}
				}
			}
			continue
		}
		rules, _ := runLevel[p.name].(map[string]any)
		for _, kind := range []string{"deny", "warn"} {
			msgs, _ := rules[kind].([]any)
			for _, m := range msgs {
				v, err := violation(p, kind, m, refs)
				if err != nil {
					return err
				}
				v.File = file
				d.add(kind, v)
			}
		}
		names, _ := rules["allow_failure"].([]any)
		for _, n := range names {
			if s, ok := n.(string); ok {
				d.AllowFailure[s] = true
			}
		}
	}
	sortViolations(d.Deny)
	sortViolations(d.Warn)
	return nil
}

func (d *Decision) add(kind string, v Violation) {
	if kind == "deny" {
		d.Deny = append(d.Deny, v)
	} else {
		d.Warn = append(d.Warn, v)
	}
}

func sortViolations(vs []Violation) {
	sort.SliceStable(vs, func(i, j int) bool {
		if vs[i].Rule != vs[j].Rule {
			return vs[i].Rule < vs[j].Rule
		}
		return vs[i].Message < vs[j].Message
	})
}

// violation reads one element of a deny or warn set: a message, or an
// object with "msg" and "finding" (an id) or "findings" (ids).
func violation(p *pkg, kind string, m any, refs *refIndex) (Violation, error) {
	v := Violation{Rule: p.path.String() + "." + kind}
	switch x := m.(type) {
	case string:
		v.Message = x
	case map[string]any:
		msg, ok := x["msg"].(string)
		if !ok {
			return v, fmt.Errorf("policy %s: an element of %s has no string \"msg\": %v", p.name, kind, m)
		}
		v.Message = msg
		var ids []any
		if id, ok := x["finding"]; ok {
			ids = append(ids, id)
		}
		if l, ok := x["findings"].([]any); ok {
			ids = append(ids, l...)
		}
		for _, id := range ids {
			s, _ := id.(string)
			if ref, ok := refs.byIDRef(s); ok {
				v.Findings = append(v.Findings, ref)
			} else {
				v.Findings = append(v.Findings, FindingRef{ID: s})
			}
		}
	default:
		v.Message = fmt.Sprint(m)
	}
	return v, nil
}

// refIndex finds a finding's reference by id. References are made only
// for the findings a violation names, a few of a run's many.
type refIndex struct {
	in   batchInput
	ctx  Context
	byID map[string]int
}

func newRefIndex(in batchInput, c Context) *refIndex {
	r := &refIndex{in: in, ctx: c, byID: make(map[string]int, len(in.issues))}
	for i, is := range in.issues {
		if is.GetDuplicateOf() != "" {
			continue
		}
		r.byID[ID(is)] = i
	}
	return r
}

// byIDRef is the reference of the finding with id, if the run has it.
func (r *refIndex) byIDRef(id string) (FindingRef, bool) {
	i, ok := r.byID[id]
	if !ok {
		return FindingRef{}, false
	}
	return r.of(i), true
}

func (r *refIndex) of(i int) FindingRef {
	is := r.in.issues[i]
	raw := is.GetRawIssue()
	tool := raw.GetToolName()
	if tool == "" {
		tool = r.in.tools[i]
	}
	rule := raw.GetRuleId()
	if rule == "" {
		rule = raw.GetType()
	}
	loc := raw.GetLocation()
	return FindingRef{ID: ID(is), Tool: tool, Rule: rule, Severity: Level(raw.GetSeverity().String()),
		Path: loc.GetPath(), Line: int(loc.GetStartLine()),
		Link: r.ctx.Link(loc.GetPath(), loc.GetStartLine(), loc.GetEndLine())}
}

// evalError makes an OPA runtime error say where, in one line.
func evalError(err error) error {
	var te *topdown.Error
	if errors.As(err, &te) {
		where := ""
		if te.Location != nil {
			where = fmt.Sprintf("%s:%d: ", te.Location.File, te.Location.Row)
		}
		return fmt.Errorf("%s%s: %s", where, te.Code, te.Message)
	}
	return err
}
