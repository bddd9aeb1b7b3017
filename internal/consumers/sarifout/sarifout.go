// Package sarifout writes findings as a SARIF 2.1.0 log that GitHub code
// scanning accepts: one run per tool, rules with security-severity, and
// partialFingerprints so alerts keep their identity between uploads.
//
// For code scanning in particular (Consumer's fields):
//   - each result whose file is in the source gets primaryLocationLineHash,
//     computed as github/codeql-action does (linehash.go), beside our own
//     draconHash/v1;
//   - every producer that ran has a run, with no results when it found
//     nothing, so code scanning closes the alerts it had; each run's
//     automationDetails.id is "<category>/<tool>/<scan id>", its category
//     (what comes before the last "/") the same from scan to scan and its
//     own: no two runs share a tool and category;
//   - the log is cut to code scanning's limits before it is written (Fit,
//     limits.go), and the Report says what was dropped;
//   - the upload takes it compact and gzipped (WriteGzip, CompactGzip);
//     Check says whether any SARIF file fits.
package sarifout

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	v1 "github.com/draconsec/dracon/proto/dracon/v1"
	"github.com/google/uuid"
	"github.com/owenrumney/go-sarif/v2/sarif"
)

// Consumer writes a SARIF file.
type Consumer struct {
	Path string
	// Version is Dracon's version. (Not written: each run's driver is its
	// producer.)
	Version string
	// Source is the folder the findings' relative paths are in: each
	// result whose file is there gets code scanning's
	// primaryLocationLineHash. Empty: none do.
	Source string
	// Tools are the producers that ran (successfully): each gets a run,
	// with no results when it found nothing, so that code scanning closes
	// the alerts it had. Every tool the results name gets one anyway.
	Tools []string
	// Category is the code scanning category the runs are in (each run's
	// is "<Category>/<tool>"); empty: "dracon".
	Category string
	// Limits are checked before the file is written (Fit); nil: GitHub's.
	// A zero field is no limit.
	Limits *Limits
	// Reported, if set, gets what checking the limits found and did.
	Reported func(Report)
}

func (c Consumer) String() string { return "sarif" }

// Consume implements consumers.Consumer.
func (c Consumer) Consume(ctx context.Context, scan *v1.ScanInfo, results []*v1.EnrichedLaunchToolResponse) error {
	rep, err := c.WriteFile(ctx, scan, results)
	if c.Reported != nil {
		c.Reported(rep)
	}
	return err
}

// WriteFile writes the SARIF file at c.Path, cut to c.Limits, and says
// what was cut. A log with more runs than the limit is written whole
// (other readers take it), with an error saying code scanning will not.
func (c Consumer) WriteFile(_ context.Context, scan *v1.ScanInfo, results []*v1.EnrichedLaunchToolResponse) (Report, error) {
	lim := GitHub()
	if c.Limits != nil {
		lim = *c.Limits
	}
	fit := NewLog(scan, results, Options{Source: c.Source, Tools: c.Tools, Category: c.Category}).fitCounts(lim)
	if err := os.MkdirAll(filepath.Dir(c.Path), 0o755); err != nil {
		return fit.rep, err
	}
	f, err := os.Create(c.Path)
	if err != nil {
		return fit.rep, err
	}
	defer f.Close()
	// The file, and the compact log gzipped to measure it, in one pass.
	bw := bufio.NewWriterSize(f, 256<<10)
	var compact, gz int64
	if lim.GzipBytes > 0 {
		g := newGzipCounter()
		gw := bufio.NewWriterSize(g, 256<<10)
		err = fit.kept.write(newStream(bw, false), newStream(gw, true))
		err = cmp.Or(err, bw.Flush(), gw.Flush())
		var gerr error
		compact, gz, gerr = g.close()
		err = cmp.Or(err, gerr)
	} else {
		err = fit.kept.write(newStream(bw, false))
		err = cmp.Or(err, bw.Flush())
	}
	if err != nil {
		return fit.rep, fmt.Errorf("sarif: %w", err)
	}
	rewrite, err := fit.fitSize(compact, gz)
	if err != nil {
		return fit.rep, fmt.Errorf("sarif: %w", err)
	}
	if rewrite {
		// Over the size limit: write what fits instead.
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return fit.rep, err
		}
		if err := f.Truncate(0); err != nil {
			return fit.rep, err
		}
		if err := fit.kept.Write(f); err != nil {
			return fit.rep, fmt.Errorf("sarif: %w", err)
		}
	}
	if err := f.Close(); err != nil {
		return fit.rep, err
	}
	if fit.err != nil {
		return fit.rep, fmt.Errorf("sarif: wrote %s, but %w", c.Path, fit.err)
	}
	return fit.rep, nil
}

// Options say what a log holds besides the findings.
type Options struct {
	// Source is the folder findings' relative paths are in, for the line
	// hashes (Consumer.Source); empty: none.
	Source string
	// Tools that ran: each gets a run (Consumer.Tools).
	Tools []string
	// Category of the runs (Consumer.Category); empty: "dracon".
	Category string
}

// DefaultCategory is the runs' category when none is given.
const DefaultCategory = "dracon"

// Log is a SARIF log planned from enriched results: its runs, their
// rules, and the findings their results will be, each with its line
// hash. It is checked against limits (Fit) and written (Write, pretty,
// as the file; WriteCompact and WriteGzip, as code scanning's upload
// takes it) without building the whole document.
type Log struct {
	runs []*runBuilder
}

// NewLog plans the log of results: one run per tool that ran or found
// something, sorted by tool, each run's results in consumers.Flatten's
// order, the line hashes read from o.Source, each file once.
func NewLog(scan *v1.ScanInfo, results []*v1.EnrichedLaunchToolResponse, o Options) *Log {
	runs, found := plan(scan, results, o)
	l := &Log{runs: runs}
	if o.Source != "" {
		l.hashLines(o.Source, found)
	}
	return l
}

// Runs is the number of runs.
func (l *Log) Runs() int { return len(l.runs) }

// Results is the number of results in all runs.
func (l *Log) Results() int {
	n := 0
	for _, rb := range l.runs {
		n += len(rb.issues)
	}
	return n
}

// Write writes the SARIF log for results to w, as NewLog with no options
// plans it: see Log.Write.
func Write(w io.Writer, scan *v1.ScanInfo, results []*v1.EnrichedLaunchToolResponse) error {
	return NewLog(scan, results, Options{}).Write(w)
}

// Write writes the log: the document Build makes, byte for byte as
// go-sarif's PrettyWrite writes it, but streamed. Each result is built,
// encoded and dropped in turn, so the writer holds one result at a time,
// not the whole document and a second copy of it as JSON (for 100,000
// findings that was 700 MB for a 92 MB file).
func (l *Log) Write(w io.Writer) error {
	return l.writeTo(w, false)
}

// writeTo writes the log to w, pretty or compact.
func (l *Log) writeTo(w io.Writer, compact bool) error {
	bw := bufio.NewWriterSize(w, 256<<10)
	if err := l.write(newStream(bw, compact)); err != nil {
		return err
	}
	return bw.Flush()
}

// stream is one output of the writer: the pretty document (PrettyWrite's
// bytes) or the compact one (json.Marshal's). The writer can write both
// at once, building each result once for the two.
type stream struct {
	w       *bufio.Writer
	compact bool
	e       *indenter
	enc     *json.Encoder
}

func newStream(w *bufio.Writer, compact bool) *stream {
	s := &stream{w: w, compact: compact, e: &indenter{compact: compact}, enc: json.NewEncoder(dropNewline{w})}
	if !compact {
		s.enc.SetIndent(resultIndent, "  ")
	}
	return s
}

// newline starts a line at indent in the pretty document.
func (s *stream) newline(indent string) {
	if !s.compact {
		s.w.WriteString("\n")
		s.w.WriteString(indent)
	}
}

// around is the package's around in this stream's style.
func (s *stream) around(v any, prefix, member string) (head, tail []byte, err error) {
	if s.compact {
		return aroundCompact(v, strings.Replace(member, ": ", ":", 1))
	}
	return around(v, prefix, member)
}

func (l *Log) write(ss ...*stream) error {
	report, err := sarif.New(sarif.Version210)
	if err != nil {
		return err
	}
	report.Runs = nil
	tails := make([][]byte, len(ss))
	for i, s := range ss {
		head, tail, err := s.around(report, "", `"runs": null`)
		if err != nil {
			return err
		}
		s.w.Write(head)
		tails[i] = tail
		if len(l.runs) == 0 {
			s.w.WriteString("[]")
		} else {
			s.w.WriteString("[")
		}
	}
	for i, rb := range l.runs {
		for _, s := range ss {
			if i > 0 {
				s.w.WriteString(",")
			}
			s.newline(runIndent)
		}
		if err := rb.write(ss); err != nil {
			return err
		}
	}
	for i, s := range ss {
		if len(l.runs) > 0 {
			s.newline("  ")
			s.w.WriteString("]")
		}
		if _, err := s.w.Write(tails[i]); err != nil {
			return err
		}
	}
	return nil
}

// Build makes the SARIF report as one document (Write streams the same).
func Build(scan *v1.ScanInfo, results []*v1.EnrichedLaunchToolResponse) (*sarif.Report, error) {
	return NewLog(scan, results, Options{}).Document()
}

// Document is the log as one go-sarif document (Write streams the same).
func (l *Log) Document() (*sarif.Report, error) {
	report, err := sarif.New(sarif.Version210)
	if err != nil {
		return nil, err
	}
	for _, rb := range l.runs {
		run := rb.newRun()
		for i, ei := range rb.issues {
			run.AddResult(result(ei, rb.ruleIndex[i], rb.lineHash[i]))
		}
		report.AddRun(run)
	}
	return report, nil
}

// plan makes one run per tool, sorted by tool, each with its driver and
// rules and the findings its results will be, in consumers.Flatten's
// order (most severe first, then location and rule, stable). Each tool's
// findings are sorted on their own, on keys read once, which is several
// times faster than Flatten's sort of every finding for 100,000 findings;
// TestPlanOrderIsFlattens holds the two to the same order.
//
// A tool that ran and found nothing gets a run with no results: o.Tools,
// and each response with no findings. (A response whose findings all
// name other tools, as a SARIF import's name their drivers, has runs
// under those names and none of its own.)
//
// With o.Source, it also says where each result is, for hashLines.
func plan(scan *v1.ScanInfo, results []*v1.EnrichedLaunchToolResponse, o Options) ([]*runBuilder, []lineRef) {
	byTool := map[string][]entry{}
	versions := map[string]string{}
	ran := map[string]bool{}
	for _, t := range o.Tools {
		if t = strings.TrimSpace(t); t != "" {
			ran[t] = true
		}
	}
	n := 0
	for _, r := range results {
		tool := r.GetOriginalResults().GetToolName()
		if v := r.GetOriginalResults().GetToolVersion(); v != "" && versions[tool] == "" {
			versions[tool] = v
		}
		if len(r.GetIssues()) == 0 && tool != "" {
			ran[tool] = true
		}
		for _, ei := range r.GetIssues() {
			t := ei.GetRawIssue().GetToolName()
			if t == "" {
				t = tool
			}
			// Its findings stand for it.
			delete(ran, tool)
			is := ei.GetRawIssue()
			byTool[t] = append(byTool[t], entry{sev: is.GetSeverity(), path: is.GetLocation().GetPath(),
				line: is.GetLocation().GetStartLine(), rule: is.GetRuleId(), n: n, ei: ei})
			n++
		}
	}
	for t := range ran {
		if _, ok := byTool[t]; !ok {
			byTool[t] = nil
		}
	}
	order := make([]string, 0, len(byTool))
	for t := range byTool {
		order = append(order, t)
	}
	sort.Strings(order)
	category := strings.TrimRight(strings.TrimSpace(o.Category), "/")
	if category == "" {
		category = DefaultCategory
	}
	out := make([]*runBuilder, len(order))
	var found []lineRef
	if o.Source != "" {
		found = make([]lineRef, 0, n)
	}
	for i, tool := range order {
		es := byTool[tool]
		slices.SortFunc(es, func(a, b entry) int {
			return cmp.Or(cmp.Compare(b.sev, a.sev), strings.Compare(a.path, b.path), cmp.Compare(a.line, b.line),
				strings.Compare(a.rule, b.rule), cmp.Compare(a.n, b.n))
		})
		version := versions[tool]
		if len(es) > 0 && es[0].ei.GetRawIssue().GetToolVersion() != "" {
			version = es[0].ei.GetRawIssue().GetToolVersion()
		}
		issues := make([]*v1.EnrichedIssue, len(es))
		for j, e := range es {
			issues[j] = e.ei
			if o.Source != "" {
				found = append(found, lineRef{run: i, i: j, path: e.path, line: e.line})
			}
		}
		// The category is what comes before the last "/": stable from
		// scan to scan, so each upload replaces the tool's last one and
		// closes the alerts it no longer has. The scan id after it names
		// this run.
		id := category + "/" + tool + "/" + scan.GetScanUuid()
		out[i] = newRunBuilder(runHead{tool: tool, version: version, automationID: id}, issues, nil, nil)
	}
	return out, found
}

// entry is a finding with its sort keys.
type entry struct {
	sev  v1.Severity
	path string
	line int32
	rule string
	n    int // position in the input: the sort is stable
	ei   *v1.EnrichedIssue
}

// runHead is what a run is besides its results: its driver and its
// automation details.
type runHead struct {
	tool, version, automationID string
}

// runBuilder is one tool's run: the run without its results, its rules,
// and the findings that are its results with each one's rule index and
// line hash ("" for none).
type runBuilder struct {
	head      runHead
	run       *sarif.Run
	rules     map[string]int
	issues    []*v1.EnrichedIssue
	ruleIndex []int
	lineHash  []string
	// caps are the field limits the rules were cut to (nil: none) and
	// cut what they cut.
	caps *Limits
	cut  Truncated
}

// newRunBuilder makes the run of issues (in their order) with their line
// hashes (nil: none yet), its rules cut to caps.
func newRunBuilder(h runHead, issues []*v1.EnrichedIssue, hashes []string, caps *Limits) *runBuilder {
	rb := &runBuilder{head: h, rules: map[string]int{}, caps: caps, run: newRun(h)}
	for _, ei := range issues {
		rb.add(ei)
	}
	if hashes == nil {
		hashes = make([]string, len(issues))
	}
	rb.lineHash = hashes
	return rb
}

func newRun(h runHead) *sarif.Run {
	driver := sarif.NewDriver(h.tool)
	if h.version != "" {
		driver.WithVersion(h.version)
	}
	driver.WithInformationURI("https://github.com/draconsec/dracon")
	run := sarif.NewRun(*sarif.NewTool(driver))
	run.WithAutomationDetails(&sarif.RunAutomationDetails{ID: strPtr(h.automationID)})
	return run
}

// newRun is a copy of the run with its rules and no results, for a
// document of its own.
func (rb *runBuilder) newRun() *sarif.Run {
	run := newRun(rb.head)
	run.Tool.Driver.Rules = rb.run.Tool.Driver.Rules
	return run
}

// add registers ei's rule (described by the first finding of it) and ei.
func (rb *runBuilder) add(ei *v1.EnrichedIssue) {
	is := ei.GetRawIssue()
	id := ruleID(is)
	idx, ok := rb.rules[id]
	if !ok {
		idx = len(rb.run.Tool.Driver.Rules)
		rb.rules[id] = idx
		r := rule(id, is)
		if rb.caps != nil {
			rb.cut.add(capRule(r, *rb.caps))
		}
		rb.run.Tool.Driver.AddRule(r)
	}
	rb.issues = append(rb.issues, ei)
	rb.ruleIndex = append(rb.ruleIndex, idx)
}

// The indentation PrettyWrite gives a run and a result.
const (
	runIndent    = "    "
	resultIndent = "        "
)

// write writes the run to each stream as PrettyWrite (or json.Marshal)
// would inside the report, building and encoding one result at a time.
func (rb *runBuilder) write(ss []*stream) error {
	rb.run.Results = nil
	tails := make([][]byte, len(ss))
	for i, s := range ss {
		head, tail, err := s.around(rb.run, runIndent, `"results": null`)
		if err != nil {
			return err
		}
		tails[i] = tail
		s.w.Write(head)
		if len(rb.issues) == 0 {
			s.w.WriteString("[]")
		} else {
			s.w.WriteString("[")
		}
	}
	for i, ei := range rb.issues {
		res := result(ei, rb.ruleIndex[i], rb.lineHash[i])
		for _, s := range ss {
			if i > 0 {
				s.w.WriteString(",")
			}
			s.newline(resultIndent)
			s.e.b = s.e.b[:0]
			if appendResult(s.e, res) {
				s.w.Write(s.e.b)
			} else if err := s.enc.Encode(res); err != nil {
				return err
			}
		}
	}
	for i, s := range ss {
		if len(rb.issues) > 0 {
			s.newline(runIndent + "  ")
			s.w.WriteString("]")
		}
		if _, err := s.w.Write(tails[i]); err != nil {
			return err
		}
	}
	return nil
}

// around encodes v as PrettyWrite would at that indentation and splits it
// around the value of its top-level member key (given with that value,
// null), for the caller to write that value itself. A string never holds
// a raw newline, so the newline and indentation before the key only match
// the member itself.
func around(v any, prefix, member string) (head, tail []byte, err error) {
	b, err := json.MarshalIndent(v, prefix, "  ")
	if err != nil {
		return nil, nil, err
	}
	return split(b, []byte("\n"+prefix+"  "+member), member)
}

// aroundCompact is around for json.Marshal's encoding. Inside a string
// the member's quotes would be escaped, so it only matches a key; the
// caller's types have no other member of that name.
func aroundCompact(v any, member string) (head, tail []byte, err error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, nil, err
	}
	return split(b, []byte(member), member)
}

func split(b, marker []byte, member string) (head, tail []byte, err error) {
	i := bytes.Index(b, marker)
	if i < 0 || bytes.LastIndex(b, marker) != i {
		return nil, nil, fmt.Errorf("sarif: cannot place %s in the encoded document", member)
	}
	end := i + len(marker)
	return b[:end-len("null")], b[end:], nil
}

// dropNewline drops the newline json.Encoder ends each value with (it
// writes a value in one Write), so values can be joined with commas.
type dropNewline struct{ w io.Writer }

func (d dropNewline) Write(p []byte) (int, error) {
	n := len(p)
	if n > 0 && p[n-1] == '\n' {
		p = p[:n-1]
	}
	_, err := d.w.Write(p)
	return n, err
}

func ruleID(is *v1.Issue) string {
	return strings.TrimSpace(producersFirst(is.GetRuleId(), is.GetType(), is.GetCve(), "finding"))
}

// result is one finding's SARIF result; idx is its rule's index,
// lineHash its primaryLocationLineHash ("" for none).
func result(ei *v1.EnrichedIssue, idx int, lineHash string) *sarif.Result {
	is := ei.GetRawIssue()
	res := sarif.NewRuleResult(ruleID(is)).
		WithRuleIndex(idx).
		WithLevel(level(is.GetSeverity())).
		WithMessage(sarif.NewTextMessage(message(is)))
	loc := location(is)
	if loc != nil {
		res.AddLocation(loc)
	}
	fp := map[string]interface{}{"draconHash/v1": ei.GetHash()}
	if lineHash != "" {
		// What code scanning tracks the alert by (linehash.go).
		fp["primaryLocationLineHash"] = lineHash
	}
	res.WithPartialFingerPrints(fp)
	// New for this scan (against its baseline, within its diff filter:
	// internal/enrichers/baseline), or already there.
	if ei.GetIsNew() {
		res.WithBaselineState("new")
	} else {
		res.WithBaselineState("unchanged")
	}
	if ei.GetSuppressed() {
		res.AddSuppression(suppression(ei, loc))
	}
	props := sarif.NewPropertyBag()
	props.Add("dracon/new", ei.GetIsNew())
	if n := ei.GetCount(); n > 0 {
		props.Add("dracon/seenCount", n)
	}
	if p := is.GetPackageUrl(); p != "" {
		props.Add("dracon/packageUrl", p)
	}
	// Each tool keeps its own result in its own run (code scanning tracks
	// alerts per tool); these say which results are one finding.
	if d := ei.GetDuplicateOf(); d != "" {
		props.Add("dracon/duplicateOf", d)
	}
	if by := ei.GetSeenBy(); len(by) > 1 {
		props.Add("dracon/seenBy", by)
	}
	if v := is.GetFixedVersion(); v != "" {
		props.Add("dracon/fixedVersion", v)
	}
	res.AttachPropertyBag(props)
	return res
}

// suppression fills every field: go-sarif writes unset ones as null,
// which the SARIF schema rejects.
func suppression(ei *v1.EnrichedIssue, loc *sarif.Location) *sarif.Suppression {
	if loc == nil {
		loc = sarif.NewLocation()
	}
	reason := ei.GetSuppressionReason()
	if reason == "" {
		reason = "suppressed"
	}
	return sarif.NewSuppression("external").
		WithStatus("accepted").
		WithGuid(uuid.NewSHA1(uuid.NameSpaceOID, []byte("dracon/suppression/"+ei.GetHash())).String()).
		WithLocation(loc).
		WithJustifcation(reason)
}

func rule(id string, is *v1.Issue) *sarif.ReportingDescriptor {
	r := sarif.NewRule(id).
		WithName(ruleName(id)).
		WithShortDescription(sarif.NewMultiformatMessageString(producersFirst(is.GetTitle(), id))).
		WithDefaultConfiguration(sarif.NewReportingConfiguration().WithLevel(level(is.GetSeverity())))
	if d := is.GetDescription(); d != "" {
		r.WithFullDescription(sarif.NewMultiformatMessageString(d))
		r.WithTextHelp(d)
	}
	if refs := is.GetReferences(); len(refs) > 0 && strings.HasPrefix(refs[0], "http") {
		r.WithHelpURI(refs[0])
	}
	props := sarif.NewPropertyBag()
	// GitHub ranks alerts by this number (a CVSS-like score as a string).
	props.Add("security-severity", securitySeverity(is))
	tags := []string{"security"}
	for _, c := range is.GetCwe() {
		tags = append(tags, fmt.Sprintf("external/cwe/cwe-%d", c))
	}
	tags = append(tags, is.GetTags()...)
	props.Add("tags", tags)
	if p := precision(is.GetConfidence()); p != "" {
		props.Add("precision", p)
	}
	r.AttachPropertyBag(props)
	return r
}

// ruleName makes a rule id into the PascalCase-ish name SARIF suggests;
// GitHub shows it when there is no short description.
func ruleName(id string) string {
	var b strings.Builder
	up := true
	for _, r := range id {
		switch {
		case r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9':
			if up && r >= 'a' && r <= 'z' {
				r -= 'a' - 'A'
			}
			b.WriteRune(r)
			up = false
		default:
			up = true
		}
	}
	return b.String()
}

func message(is *v1.Issue) string {
	msg := producersFirst(is.GetDescription(), is.GetTitle(), is.GetRuleId())
	if v := is.GetFixedVersion(); v != "" && is.GetPackageUrl() != "" {
		msg += " (fixed in " + v + ")"
	}
	return msg
}

func location(is *v1.Issue) *sarif.Location {
	l := is.GetLocation()
	path := l.GetPath()
	if path == "" || strings.HasPrefix(path, "pkg:") || strings.Contains(path, "://") {
		return nil
	}
	art := sarif.NewSimpleArtifactLocation(filepath.ToSlash(path))
	if !filepath.IsAbs(path) {
		art.WithUriBaseId("%SRCROOT%")
	}
	pl := sarif.NewPhysicalLocation().WithArtifactLocation(art)
	if l.GetStartLine() > 0 {
		rg := sarif.NewRegion().WithStartLine(int(l.GetStartLine()))
		if e := l.GetEndLine(); e > l.GetStartLine() {
			rg.WithEndLine(int(e))
		}
		if c := l.GetStartColumn(); c > 0 {
			rg.WithStartColumn(int(c))
		}
		if c := l.GetEndColumn(); c > 0 && (l.GetEndLine() > l.GetStartLine() || c > l.GetStartColumn()) {
			rg.WithEndColumn(int(c))
		}
		pl.WithRegion(rg)
	}
	return sarif.NewLocationWithPhysicalLocation(pl)
}

func level(s v1.Severity) string {
	switch s {
	case v1.Severity_SEVERITY_CRITICAL, v1.Severity_SEVERITY_HIGH:
		return "error"
	case v1.Severity_SEVERITY_MEDIUM, v1.Severity_SEVERITY_UNSPECIFIED:
		return "warning"
	default:
		return "note"
	}
}

// securitySeverity is the CVSS score when the tool gave one, else the
// middle of the band GitHub uses for the severity.
func securitySeverity(is *v1.Issue) string {
	if c := is.GetCvss(); c > 0 && c <= 10 {
		return strconv.FormatFloat(c, 'f', 1, 64)
	}
	switch is.GetSeverity() {
	case v1.Severity_SEVERITY_CRITICAL:
		return "9.5"
	case v1.Severity_SEVERITY_HIGH:
		return "8.0"
	case v1.Severity_SEVERITY_MEDIUM:
		return "5.5"
	case v1.Severity_SEVERITY_LOW:
		return "2.0"
	default:
		return "0.0"
	}
}

func precision(c v1.Confidence) string {
	switch c {
	case v1.Confidence_CONFIDENCE_CRITICAL:
		return "very-high"
	case v1.Confidence_CONFIDENCE_HIGH:
		return "high"
	case v1.Confidence_CONFIDENCE_MEDIUM:
		return "medium"
	case v1.Confidence_CONFIDENCE_LOW, v1.Confidence_CONFIDENCE_INFO:
		return "low"
	}
	return ""
}

func producersFirst(ss ...string) string {
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}

func strPtr(s string) *string { return &s }
