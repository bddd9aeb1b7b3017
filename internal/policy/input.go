package policy

import (
	"fmt"
	"net/url"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/draconsec/dracon/internal/fingerprint"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// Dracon's own input document (docs/policy.md, docs/policy-input.schema.json).
// It is built as OPA values directly, not through JSON: a run of 100,000
// findings would otherwise spend more time encoding and decoding than
// evaluating.

// Events, as the context's "event" says them whatever the CI called them.
const (
	EventPullRequest = "pull_request" // GitHub pull_request(_target) and merge_group, GitLab merge_request_event
	EventPush        = "push"
	EventSchedule    = "schedule"
	EventRelease     = "release" // GitHub release; dracon gate --context release
	EventTag         = "tag"     // a push of a tag
	EventManual      = "manual"  // anything else: a local run, workflow_dispatch, web, api
)

// Context is the scan a policy decides on.
type Context struct {
	Repository    string
	Ref           string // refs/heads/main, refs/tags/v1.2.0, refs/pull/7/merge
	Commit        string
	Event         string // one of the Event constants
	BaseRef       string // a pull request's target branch
	DefaultBranch string
	CI            string // github | gitlab | ""
	ScanID        string
	// ServerURL is the code host (https://github.com), for links to each
	// finding's location; "" writes none.
	ServerURL string
	// Now is when the decision is made: findings' ages count to it.
	Now time.Time
}

// NormalizeEvent maps a CI's event name (GitHub's GITHUB_EVENT_NAME,
// GitLab's CI_PIPELINE_SOURCE) and the ref to one of the Event constants.
func NormalizeEvent(event, ref string) string {
	switch event {
	case "pull_request", "pull_request_target", "merge_request_event", "external_pull_request_event", "merge_group":
		return EventPullRequest
	case "schedule":
		return EventSchedule
	case "release":
		return EventRelease
	case "push":
		if strings.HasPrefix(ref, "refs/tags/") {
			return EventTag
		}
		return EventPush
	case EventTag:
		return EventTag
	}
	if strings.HasPrefix(ref, "refs/tags/") && event != "" && event != EventManual {
		return EventTag
	}
	return EventManual
}

// ContextFromTags reads a scan's tags (internal/pipeline's NewScanInfo).
func ContextFromTags(scanID string, tags map[string]string, now time.Time) Context {
	c := Context{
		Repository: tags["repository"], Ref: tags["ref"], Commit: tags["commit"],
		BaseRef: tags["base_ref"], DefaultBranch: tags["default_branch"], CI: tags["ci"],
		ScanID: scanID, Now: now, ServerURL: tags["server_url"],
	}
	c.Event = NormalizeEvent(tags["event"], c.Ref)
	if c.ServerURL == "" {
		switch c.CI {
		case "github":
			c.ServerURL = "https://github.com"
		case "gitlab":
			c.ServerURL = "https://gitlab.com"
		}
	}
	return c
}

// OnDefaultBranch reports whether the scan is of the default branch.
func (c Context) OnDefaultBranch() bool {
	return c.DefaultBranch != "" && strings.TrimPrefix(c.Ref, "refs/heads/") == strings.TrimPrefix(c.DefaultBranch, "refs/heads/")
}

func (c Context) value() *ast.Term {
	if c.Now.IsZero() {
		c.Now = time.Now()
	}
	return obj(
		str("repository", c.Repository), str("ref", c.Ref), str("commit", c.Commit),
		str("event", c.Event), str("base_ref", c.BaseRef), str("default_branch", c.DefaultBranch),
		boolean("on_default_branch", c.OnDefaultBranch()), str("ci", c.CI), str("scan_id", c.ScanID),
		str("now", c.Now.UTC().Format(time.RFC3339)),
	)
}

// Link is the URL of a finding's location on the code host, "" when the
// context has no repository and commit to point into.
func (c Context) Link(path string, start, end int32) string {
	if c.ServerURL == "" || c.Repository == "" || c.Commit == "" || path == "" {
		return ""
	}
	// GitHub: /blob/<sha>/<path>#L3-L5; GitLab: /-/blob/<sha>/<path>#L3-5.
	blob, to := "/blob/", "-L"
	if c.CI == "gitlab" {
		blob, to = "/-/blob/", "-"
	}
	u := strings.TrimSuffix(c.ServerURL, "/") + "/" + c.Repository + blob + c.Commit + "/" + (&url.URL{Path: path}).EscapedPath()
	switch {
	case start > 0 && end > start:
		u += fmt.Sprintf("#L%d%s%d", start, to, end)
	case start > 0:
		u += fmt.Sprintf("#L%d", start)
	}
	return u
}

// Producer is one producer's outcome, for run-level rules.
type Producer struct {
	Name         string
	Status       string // ok | failed | skipped
	Reason       string
	AllowFailure bool
	Findings     int
}

// Run is what run-level rules decide on.
type Run struct {
	Context   Context
	Producers []Producer
	// Results are the enriched findings. Another tool's report of a
	// finding (duplicate_of) is left out of run-level input: the finding
	// it duplicates stands for both, with both tools in "tools".
	Results []*v1.EnrichedLaunchToolResponse
}

// Kind of finding, from the signature its fingerprint chose.
func Kind(is *v1.EnrichedIssue) string {
	sig := is.GetSignatures()
	switch {
	case sig[fingerprint.SecretV1] != "":
		return "secret"
	case sig[fingerprint.DepV1] != "":
		return "dependency"
	case sig[fingerprint.IaCV1] != "":
		return "iac"
	case sig[fingerprint.DastV1] != "":
		return "dast"
	}
	return "code"
}

// Level names a severity or confidence the way policies compare them:
// critical, high, medium, low, info or unknown.
func Level(s string) string {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "SEVERITY_"), "CONFIDENCE_")
	switch s {
	case "CRITICAL":
		return "critical"
	case "HIGH":
		return "high"
	case "MEDIUM":
		return "medium"
	case "LOW":
		return "low"
	case "INFO":
		return "info"
	}
	return "unknown"
}

// Status of a finding for policy: "new" (the baseline does not have it),
// "existing", or "outside_diff" (not on the lines the change touched).
func Status(is *v1.EnrichedIssue) string {
	switch {
	case is.GetAnnotations()["dracon.diff"] == "outside":
		return "outside_diff"
	case is.GetIsNew():
		return "new"
	}
	return "existing"
}

// ID is the finding's id: the store's, else its hash.
func ID(is *v1.EnrichedIssue) string {
	if id := is.GetFindingId(); id != "" {
		return id
	}
	return is.GetHash()
}

// Owners lists the Owner-N annotations in order.
func Owners(is *v1.EnrichedIssue) []string {
	type kv struct {
		n     int
		owner string
	}
	var o []kv
	for k, v := range is.GetAnnotations() {
		num, ok := strings.CutPrefix(k, "Owner-")
		if !ok {
			continue
		}
		if n, err := strconv.Atoi(num); err == nil && n >= 0 && strconv.Itoa(n) == num {
			o = append(o, kv{n, v})
		}
	}
	sort.Slice(o, func(i, j int) bool { return o[i].n < o[j].n })
	out := make([]string, len(o))
	for i, x := range o {
		out[i] = x.owner
	}
	return out
}

// builder makes the terms of findings. Values that repeat from finding
// to finding (tools, rules, titles, paths, times, owner lists) are made
// once and shared: terms are values, never changed once made, and a run of
// 100,000 findings holds a few thousand distinct ones. A builder is used by
// one goroutine.
type builder struct {
	strs   map[string]*ast.Term
	lists  map[string]*ast.Term
	times  map[int64]*ast.Term
	ctx    Context
	noAnns *ast.Term
}

func newBuilder(c Context) *builder {
	return &builder{strs: map[string]*ast.Term{}, lists: map[string]*ast.Term{}, times: map[int64]*ast.Term{}, ctx: c,
		noAnns: ast.NewTerm(ast.NewObject())}
}

// shared is s as a term made once per builder.
func (b *builder) shared(s string) *ast.Term {
	if t, ok := b.strs[s]; ok {
		return t
	}
	t := term(s)
	b.strs[s] = t
	return t
}

// list is an array of strings made once per builder.
func (b *builder) list(v []string) *ast.Term {
	key := strings.Join(v, "\x00")
	if t, ok := b.lists[key]; ok {
		return t
	}
	terms := make([]*ast.Term, len(v))
	for i, s := range v {
		terms[i] = b.shared(s)
	}
	t := ast.ArrayTerm(terms...)
	b.lists[key] = t
	return t
}

func (b *builder) time(t time.Time) *ast.Term {
	k := t.Unix()
	if v, ok := b.times[k]; ok {
		return v
	}
	v := ast.StringTerm(t.UTC().Format(time.RFC3339))
	b.times[k] = v
	return v
}

// finding is one finding of Dracon's input document.
func (b *builder) finding(tool string, is *v1.EnrichedIssue) *ast.Term {
	c := b.ctx
	raw := is.GetRawIssue()
	loc := raw.GetLocation()
	t := raw.GetToolName()
	if t == "" {
		t = tool
	}
	tools := is.GetSeenBy()
	if len(tools) == 0 {
		tools = []string{t}
	}
	rule := raw.GetRuleId()
	if rule == "" {
		rule = raw.GetType()
	}
	cwe := raw.GetCwe()
	cwes := make([]string, len(cwe))
	for i, n := range cwe {
		cwes[i] = strconv.Itoa(int(n))
	}
	cweTerm, ok := b.lists["cwe\x00"+strings.Join(cwes, ",")]
	if !ok {
		ts := make([]*ast.Term, len(cwe))
		for i, n := range cwe {
			ts[i] = ast.InternedTerm(int(n))
		}
		cweTerm = ast.ArrayTerm(ts...)
		b.lists["cwe\x00"+strings.Join(cwes, ",")] = cweTerm
	}
	first := is.GetFirstSeen().AsTime()
	age := 0
	if is.GetFirstSeen() != nil && !c.Now.IsZero() && c.Now.After(first) {
		age = int(c.Now.Sub(first).Hours() / 24)
	}
	sh := b.shared
	items := make([]item, 0, 32)
	items = append(items,
		str("id", ID(is)), str("hash", is.GetHash()),
		item{ast.InternedTerm("tool"), sh(t)}, item{ast.InternedTerm("tools"), b.list(tools)}, str("kind", Kind(is)),
		item{ast.InternedTerm("rule"), sh(rule)}, item{ast.InternedTerm("title"), sh(raw.GetTitle())},
		str("severity", Level(raw.GetSeverity().String())), str("confidence", Level(raw.GetConfidence().String())),
		item{ast.InternedTerm("cwe"), cweTerm}, item{ast.InternedTerm("cve"), sh(raw.GetCve())},
		item{ast.InternedTerm("cvss"), ast.FloatNumberTerm(raw.GetCvss())},
		// The file the finding is in: its location's, never a package URL
		// or a URL that a fingerprint's path falls back to.
		item{ast.InternedTerm("path"), sh(loc.GetPath())}, num("start_line", int(loc.GetStartLine())), num("end_line", int(loc.GetEndLine())),
		str("target", raw.GetTarget()),
		item{ast.InternedTerm("package_url"), sh(raw.GetPackageUrl())}, item{ast.InternedTerm("package_version"), sh(raw.GetPackageVersion())},
		item{ast.InternedTerm("fixed_version"), sh(raw.GetFixedVersion())},
		item{ast.InternedTerm("owners"), b.list(Owners(is))},
		str("status", Status(is)), str("triage", is.GetStatus()),
		num("times_seen", int(is.GetCount())), num("age_days", age),
		boolean("suppressed", is.GetSuppressed() || is.GetFalsePositive()),
		item{ast.InternedTerm("suppression_reason"), sh(is.GetSuppressionReason())},
		str("duplicate_of", is.GetDuplicateOf()),
	)
	if is.GetFirstSeen() != nil {
		items = append(items, item{ast.InternedTerm("first_seen"), b.time(first)})
	}
	if is.GetLastSeen() != nil {
		items = append(items, item{ast.InternedTerm("last_seen"), b.time(is.GetLastSeen().AsTime())})
	}
	anns := b.noAnns
	if a := is.GetAnnotations(); len(a) > 0 {
		kv := make([][2]*ast.Term, 0, len(a))
		for k, v := range a {
			kv = append(kv, [2]*ast.Term{sh(k), sh(v)})
		}
		anns = ast.NewTerm(ast.NewObject(kv...))
	}
	items = append(items, item{ast.InternedTerm("annotations"), anns})
	return ast.NewTerm(ast.NewObject(items...))
}

// findingValue is one finding of Dracon's input document.
func findingValue(tool string, is *v1.EnrichedIssue, c Context) *ast.Term {
	return newBuilder(c).finding(tool, is)
}

// FindingInput is the input of a per-finding rule: the finding, with the
// scan it came from under "context".
func FindingInput(tool string, is *v1.EnrichedIssue, c Context) ast.Value {
	f := findingValue(tool, is, c).Value.(ast.Object)
	f.Insert(ast.StringTerm("context"), c.value())
	return f
}

// RunInput is the input of a run-level rule.
func RunInput(r Run) ast.Value {
	var issues []*v1.EnrichedIssue
	var tools []string
	counts := map[string]int{}
	bySev := map[string]int{}
	for _, res := range r.Results {
		tool := res.GetOriginalResults().GetToolName()
		for _, is := range res.GetIssues() {
			if is.GetDuplicateOf() != "" {
				continue
			}
			issues = append(issues, is)
			tools = append(tools, tool)
			counts["total"]++
			counts[Status(is)]++
			if is.GetSuppressed() || is.GetFalsePositive() {
				counts["suppressed"]++
			}
			bySev[Level(is.GetRawIssue().GetSeverity().String())]++
		}
	}
	findings := buildAll(len(issues), r.Context, func(b *builder, i int) *ast.Term { return b.finding(tools[i], issues[i]) })
	prods := make([]*ast.Term, len(r.Producers))
	for i, p := range r.Producers {
		prods[i] = obj(str("name", p.Name), str("status", p.Status), str("reason", p.Reason),
			boolean("allow_failure", p.AllowFailure), num("findings", p.Findings))
	}
	sev := make([]item, 0, len(bySev))
	for _, l := range []string{"critical", "high", "medium", "low", "info", "unknown"} {
		sev = append(sev, num(l, bySev[l]))
	}
	return ast.NewObject(
		ast.Item(ast.StringTerm("context"), r.Context.value()),
		ast.Item(ast.StringTerm("counts"), obj(num("total", counts["total"]), num("new", counts["new"]),
			num("existing", counts["existing"]), num("outside_diff", counts["outside_diff"]),
			num("suppressed", counts["suppressed"]), ast.Item(ast.StringTerm("by_severity"), obj(sev...)))),
		ast.Item(ast.StringTerm("producers"), ast.ArrayTerm(prods...)),
		ast.Item(ast.StringTerm("findings"), ast.ArrayTerm(findings...)),
	)
}

// DraconInput is the input Dracon's policy enricher gave a policy: the raw
// Issue as protojson (lowerCamel names, enum names, zero fields left
// out), with only the fields Dracon's Issue had (1-13).
func DraconInput(is *v1.Issue) ast.Value {
	var items []item
	add := func(k, v string) {
		if v != "" {
			items = append(items, ast.Item(ast.StringTerm(k), ast.StringTerm(v)))
		}
	}
	add("target", is.GetTarget())
	add("type", is.GetType())
	add("title", is.GetTitle())
	if is.GetSeverity() != 0 {
		add("severity", is.GetSeverity().String())
	}
	if is.GetCvss() != 0 {
		items = append(items, ast.Item(ast.StringTerm("cvss"), ast.FloatNumberTerm(is.GetCvss())))
	}
	if is.GetConfidence() != 0 {
		add("confidence", is.GetConfidence().String())
	}
	add("description", is.GetDescription())
	add("source", is.GetSource())
	add("cve", is.GetCve())
	add("uuid", is.GetUuid())
	// Optional fields: protojson writes a set one even when empty.
	if is.CycloneDXSBOM != nil {
		items = append(items, ast.Item(ast.StringTerm("cycloneDXSBOM"), ast.StringTerm(is.GetCycloneDXSBOM())))
	}
	if is.ContextSegment != nil {
		items = append(items, ast.Item(ast.StringTerm("contextSegment"), ast.StringTerm(is.GetContextSegment())))
	}
	if len(is.GetCwe()) > 0 {
		cwes := make([]*ast.Term, len(is.GetCwe()))
		for i, c := range is.GetCwe() {
			cwes[i] = ast.IntNumberTerm(int(c))
		}
		items = append(items, ast.Item(ast.StringTerm("cwe"), ast.ArrayTerm(cwes...)))
	}
	return ast.NewObject(items...)
}

// The input's keys, and the values a few fields take, are interned: a
// run of 100,000 findings otherwise allocates millions of copies of them.
func init() {
	ast.InternStringTerm("id", "hash", "tool", "tools", "kind", "rule", "title", "severity", "confidence", "cwe", "cve", "cvss",
		"path", "start_line", "end_line", "target", "package_url", "package_version", "fixed_version", "owners", "status", "triage",
		"times_seen", "age_days", "suppressed", "suppression_reason", "duplicate_of", "link", "first_seen", "last_seen", "annotations",
		"context", "repository", "ref", "commit", "event", "base_ref", "default_branch", "on_default_branch", "ci", "scan_id", "now",
		"counts", "total", "new", "existing", "outside_diff", "by_severity", "producers", "findings", "name", "reason", "allow_failure",
		"critical", "high", "medium", "low", "info", "unknown", "code", "dependency", "secret", "iac", "dast",
		"open", "false_positive", "accepted_risk", "reopened", "ok", "failed", "skipped",
		EventPullRequest, EventPush, EventSchedule, EventRelease, EventTag, EventManual)
}

// term is s as a term: the interned one when there is one.
func term(s string) *ast.Term {
	if ast.HasInternedValue(s) {
		return ast.InternedTerm(s)
	}
	return ast.StringTerm(s)
}

func str(k, v string) item { return item{ast.InternedTerm(k), term(v)} }
func num(k string, v int) item {
	return item{ast.InternedTerm(k), ast.InternedTerm(v)}
}
func boolean(k string, v bool) item { return item{ast.InternedTerm(k), ast.InternedTerm(v)} }
func obj(items ...item) *ast.Term   { return ast.NewTerm(ast.NewObject(items...)) }

// item is one key and value of an object.
type item = [2]*ast.Term

// buildAll builds n terms on every CPU.
func buildAll(n int, c Context, build func(b *builder, i int) *ast.Term) []*ast.Term {
	out := make([]*ast.Term, n)
	if n == 0 {
		return out
	}
	workers := min(runtime.GOMAXPROCS(0), max(1, n/1000))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := newBuilder(c)
			for i := w; i < n; i += workers {
				out[i] = build(b, i)
			}
		}()
	}
	wg.Wait()
	return out
}

// holdCollector holds the garbage collector off until the returned func
// is called, as long as the heap grows by less than a GiB; past that it
// collects as usual. The input lives as long as the evaluation and the
// garbage is small beside it: collecting while it runs would mostly walk
// the input, over and over (for 100,000 findings, a quarter of the time).
// The price is memory, so the earlier stages' garbage is collected first
// (one collection; held off, it would wait beside the input: a run of
// 100,000 findings peaked about 130 MB higher). A bound by the input's
// size instead measured slower: the collector ran.
func holdCollector() func() {
	runtime.GC()
	heap := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(heap) // unlike ReadMemStats, it does not stop the world
	limit := debug.SetMemoryLimit(-1)
	debug.SetMemoryLimit(min(limit, int64(heap[0].Value.Uint64())+1<<30))
	percent := debug.SetGCPercent(-1)
	return func() {
		debug.SetGCPercent(percent)
		debug.SetMemoryLimit(limit)
	}
}
