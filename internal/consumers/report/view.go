package report

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/draconsec/dracon/internal/config"
	"github.com/draconsec/dracon/internal/consumers"
	"github.com/draconsec/dracon/internal/consumers/tmpl"
	"github.com/draconsec/dracon/internal/summary"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// page is what the template shows. Every string in it is plain text:
// html/template escapes it where it lands (element, attribute or CSS).
type page struct {
	Title     string
	Generated string
	Version   string

	Repository, Ref, Commit, Event, BaseRef, CI string
	ScanID, Started, Finished, Elapsed          string
	Tags                                        []pair

	// HasSummary: the run's verdict is known (dracon run). Reports of
	// results consumed on their own (dracon consume) have none.
	HasSummary bool
	Verdict    string // passed, failed, or "not decided"
	Passed     bool
	Reasons    []string
	ExitCode   int
	// Warnings are the gate's warnings, shown when there is no policy
	// block to show them with.
	Warnings []string

	Baseline   *summary.Baseline
	Policy     *policyView
	Exceptions []exceptionView
	Producers  []producerView

	Counts     summary.Counts
	Severities []severityBar
	SevHeads   []string // the severity columns of the matrices
	ByTeam     []matrixRow
	ByTool     []matrixRow
	MatrixSum  matrixRow

	// Findings are the rows of the main table: what the filter kept,
	// without the suppressed ones, which Suppressed lists with their
	// reasons.
	Findings   []findingRow
	Suppressed []findingRow
	// FindingTables and SuppressedTables are the same rows in tables of
	// rowsPerTable: Chromium lays out and paginates one table of ten
	// thousand rows far slower, and in twice the memory, than forty of
	// 250 (measured printing a 10,000-finding report: 103 s and 900 MB
	// against 71 s and 490 MB).
	FindingTables    [][]findingRow
	SuppressedTables [][]findingRow
	Fixed            []findingRow
	// Filter says what the report's filter kept, when it has one.
	Filter string
}

type pair struct{ Key, Value string }

type policyView struct {
	Revision string
	Policies []loadedView
	Deny     []violationView
	Warn     []violationView
	Errors   []string
}

type loadedView struct {
	Package, Kind, Files, RegoVersion, SHA256 string
}

type violationView struct {
	Rule, Message, File string
	Findings            []string
	More                int
}

type exceptionView struct {
	Selectors, Owner, Reason, Expires string
	Expired                           bool
}

type producerView struct {
	Name, Status, Reason, Version, Duration string
	Findings                                int
	AllowFailure                            bool
	Vendored                                string
}

type severityBar struct {
	Label, Class string
	Count        int
	// Percent is the bar's width, of the most numerous severity.
	Percent int
}

type matrixRow struct {
	Name   string
	Counts []int // by severity, in severityOrder
	Total  int
	New    int
}

type findingRow struct {
	ID, Severity, SevClass, Tool, Rule, Location, Title, Detail string
	Status, Owner, Policy                                       string
	// Suppressed rows only: the store's status and why.
	State, Reason string
}

// severityOrder is the order of severities in every table: most severe
// first, unknown last.
var severityOrder = []v1.Severity{v1.Severity_SEVERITY_CRITICAL, v1.Severity_SEVERITY_HIGH, v1.Severity_SEVERITY_MEDIUM,
	v1.Severity_SEVERITY_LOW, v1.Severity_SEVERITY_INFO, v1.Severity_SEVERITY_UNSPECIFIED}

// sevClass is a severity's CSS class.
func sevClass(s v1.Severity) string {
	switch s {
	case v1.Severity_SEVERITY_CRITICAL:
		return "crit"
	case v1.Severity_SEVERITY_HIGH:
		return "high"
	case v1.Severity_SEVERITY_MEDIUM:
		return "med"
	case v1.Severity_SEVERITY_LOW:
		return "low"
	case v1.Severity_SEVERITY_INFO:
		return "info"
	}
	return "na"
}

// detailRunes bounds a finding's description in its row: the report
// lists every finding, and ten thousand full descriptions (a CVE's run
// to kilobytes) would make a file no one opens. The title, rule and
// location say which finding it is; the tool's own report has the rest.
const detailRunes = 140

// refsShown bounds the findings listed under one policy message; the
// findings table marks every one of them with the policy's result.
const refsShown = 12

const timeLayout = "2006-01-02 15:04:05 MST"

func when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeLayout)
}

// build makes the page of a run: findings are those the filter kept.
func (c *Consumer) build(run *consumers.Run, findings []consumers.Finding, now time.Time) *page {
	scan := run.Scan
	tags := scan.GetScanTags()
	sum := run.Summary
	p := &page{
		Generated:  when(now),
		Version:    c.version,
		Repository: tags["repository"], Ref: tags["ref"], Commit: tags["commit"], Event: tags["event"],
		BaseRef: tags["base_ref"], CI: tags["ci"],
		ScanID:  scan.GetScanUuid(),
		Verdict: "not decided",
	}
	if t := scan.GetScanStartTime(); t != nil {
		p.Started = when(t.AsTime())
	}
	for _, k := range sortedKeys(tags) {
		p.Tags = append(p.Tags, pair{k, tags[k]})
	}
	if sum != nil {
		p.HasSummary = true
		if sum.DraconVersion != "" {
			p.Version = sum.DraconVersion
		}
		if sum.ScanID != "" {
			p.ScanID = sum.ScanID
		}
		if !sum.StartedAt.IsZero() {
			p.Started = when(sum.StartedAt)
		}
		p.Finished = when(sum.FinishedAt)
		if !sum.StartedAt.IsZero() && !sum.FinishedAt.IsZero() {
			p.Elapsed = sum.FinishedAt.Sub(sum.StartedAt).Round(time.Second).String()
		}
		p.Verdict, p.Reasons, p.ExitCode = sum.Verdict, sum.Reasons, sum.ExitCode
		p.Passed = sum.Verdict == "passed"
		p.Baseline = sum.Baseline
		p.Counts = sum.Counts
		p.Policy = policyOf(sum.Policy)
		if sum.Policy == nil {
			p.Warnings = sum.Warnings
		}
		for _, pr := range sum.Producers {
			p.Producers = append(p.Producers, producerOf(pr))
		}
	} else {
		// dracon consume: no verdict, no producer statuses; what the
		// results themselves say.
		p.Counts = summary.Count(run.Results)
		p.Counts.Fixed = len(run.Fixed)
		for _, r := range run.Results {
			p.Producers = append(p.Producers, producerView{Name: r.GetOriginalResults().GetToolName(), Status: "ok",
				Version: r.GetOriginalResults().GetToolVersion(), Findings: len(r.GetIssues())})
		}
	}
	sort.SliceStable(p.Producers, func(i, j int) bool { return p.Producers[i].Name < p.Producers[j].Name })
	p.Title = "Dracon scan report"
	if p.Repository != "" {
		p.Title += ": " + p.Repository
	}
	today := now.UTC().Format("2006-01-02")
	for _, e := range c.Exceptions {
		p.Exceptions = append(p.Exceptions, exceptionOf(e, today))
	}
	all := consumers.Flatten(run.Results)
	p.severities()
	p.matrices(all)
	for _, f := range findings {
		if f.Issue.GetSuppressed() || f.Issue.GetFalsePositive() {
			continue // listed with the suppressed, with their reason
		}
		p.Findings = append(p.Findings, rowOf(f))
	}
	// The suppressed findings are the exemptions an auditor asks about:
	// listed whether or not the filter sends suppressed findings, but
	// within its other criteria (tools, teams, severity).
	f := c.filter
	f.Suppressed = true
	for _, fd := range consumers.Select(all, f) {
		if fd.Issue.GetSuppressed() || fd.Issue.GetFalsePositive() {
			r := rowOf(fd)
			r.State, r.Reason = suppressionOf(fd.Issue)
			p.Suppressed = append(p.Suppressed, r)
		}
	}
	if len(run.Fixed) > p.Counts.Fixed {
		// The tile counts what the Fixed table lists: the run's own
		// list, when summary.json's count is behind it.
		p.Counts.Fixed = len(run.Fixed)
	}
	for _, fx := range run.Fixed {
		sev := v1.Severity(v1.Severity_value["SEVERITY_"+strings.ToUpper(fx.Severity)])
		p.Fixed = append(p.Fixed, findingRow{ID: fx.ID, Severity: tmpl.SeverityText(sev), SevClass: sevClass(sev), Tool: fx.Tool,
			Rule: fx.Rule, Location: fx.Path, Title: oneLine(fx.Title)})
	}
	p.Filter = describeFilter(c.filter)
	p.FindingTables, p.SuppressedTables = tables(p.Findings), tables(p.Suppressed)
	return p
}

func (p *page) severities() {
	most := 0
	for _, s := range severityOrder {
		if n := p.Counts.BySeverity[sevKey(s)]; n > most {
			most = n
		}
	}
	for _, s := range severityOrder {
		n, ok := p.Counts.BySeverity[sevKey(s)]
		if s == v1.Severity_SEVERITY_UNSPECIFIED && !ok {
			continue
		}
		bar := severityBar{Label: tmpl.SeverityText(s), Class: sevClass(s), Count: n}
		if most > 0 {
			bar.Percent = (n*100 + most - 1) / most
		}
		p.Severities = append(p.Severities, bar)
	}
}

// sevKey is a severity's key in summary.Counts.BySeverity.
func sevKey(s v1.Severity) string { return strings.TrimPrefix(s.String(), "SEVERITY_") }

// matrices count every finding of the run (a duplicate another tool's
// report stands for counted once, as summary.json counts them) by team
// and by tool, against severity.
func (p *page) matrices(all []consumers.Finding) {
	cols := map[v1.Severity]int{}
	unknown := false
	for _, f := range all {
		if f.Issue.GetRawIssue().GetSeverity() == v1.Severity_SEVERITY_UNSPECIFIED && f.Issue.GetDuplicateOf() == "" {
			unknown = true
		}
	}
	for _, s := range severityOrder {
		if s == v1.Severity_SEVERITY_UNSPECIFIED && !unknown {
			continue
		}
		cols[s] = len(p.SevHeads)
		p.SevHeads = append(p.SevHeads, tmpl.SeverityText(s))
	}
	teams, tools := map[string]*matrixRow{}, map[string]*matrixRow{}
	p.MatrixSum = matrixRow{Name: "All", Counts: make([]int, len(p.SevHeads))}
	add := func(rows map[string]*matrixRow, name string, col int, isNew bool) {
		r := rows[name]
		if r == nil {
			r = &matrixRow{Name: name, Counts: make([]int, len(p.SevHeads))}
			rows[name] = r
		}
		r.Counts[col]++
		r.Total++
		if isNew {
			r.New++
		}
	}
	for _, f := range all {
		is := f.Issue
		if is.GetDuplicateOf() != "" {
			continue
		}
		col := cols[is.GetRawIssue().GetSeverity()]
		isNew := consumers.Status(is) == "new"
		owners := consumers.Owners(is)
		if len(owners) == 0 {
			owners = []string{""}
		}
		for _, o := range owners {
			add(teams, o, col, isNew)
		}
		add(tools, f.Tool, col, isNew)
		p.MatrixSum.Counts[col]++
		p.MatrixSum.Total++
		if isNew {
			p.MatrixSum.New++
		}
	}
	p.ByTeam = sortedRows(teams)
	for i := range p.ByTeam {
		if p.ByTeam[i].Name == "" {
			p.ByTeam[i].Name = "(no owner)"
		}
	}
	p.ByTool = sortedRows(tools)
}

// rowsPerTable is how many findings one table of the report holds.
const rowsPerTable = 250

func tables(rows []findingRow) [][]findingRow {
	var out [][]findingRow
	for len(rows) > rowsPerTable {
		out = append(out, rows[:rowsPerTable])
		rows = rows[rowsPerTable:]
	}
	if len(rows) > 0 {
		out = append(out, rows)
	}
	return out
}

// sortedRows lists rows by name, the unnamed (no owner) last.
func sortedRows(m map[string]*matrixRow) []matrixRow {
	out := make([]matrixRow, 0, len(m))
	for _, r := range m {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool {
		if (out[i].Name == "") != (out[j].Name == "") {
			return out[j].Name == ""
		}
		return out[i].Name < out[j].Name
	})
	return out
}

func rowOf(f consumers.Finding) findingRow {
	is := f.Issue
	raw := is.GetRawIssue()
	loc := raw.GetTarget()
	if loc == "" && raw.GetLocation().GetPath() != "" {
		loc = raw.GetLocation().GetPath()
		if l := raw.GetLocation().GetStartLine(); l > 0 {
			loc += fmt.Sprintf(":%d", l)
		}
	}
	if raw.GetPackageUrl() != "" && !strings.Contains(loc, raw.GetPackageUrl()) {
		loc = strings.TrimSpace(loc + " " + raw.GetPackageUrl())
	}
	rule := raw.GetRuleId()
	if rule == "" {
		rule = raw.GetType()
	}
	if raw.GetCve() != "" && raw.GetCve() != rule {
		rule = strings.TrimSpace(rule + " " + raw.GetCve())
	}
	tool := f.Tool
	if by := is.GetSeenBy(); len(by) > 1 {
		tool = strings.Join(by, ", ")
	}
	status := consumers.Status(is)
	if status == "outside_diff" {
		status = "outside diff"
	}
	return findingRow{
		ID:       consumers.ID(is),
		Severity: tmpl.SeverityText(raw.GetSeverity()),
		SevClass: sevClass(raw.GetSeverity()),
		Tool:     tool,
		Rule:     rule,
		Location: loc,
		Title:    oneLine(raw.GetTitle()),
		Detail:   detail(raw.GetTitle(), raw.GetDescription()),
		Status:   status,
		Owner:    strings.Join(consumers.Owners(is), ", "),
		Policy:   consumers.PolicyResult(is),
	}
}

// detail is the description's start, when it says more than the title
// (without the title, when it starts with it, as gitleaks' do).
func detail(title, desc string) string {
	d, t := oneLine(desc), oneLine(title)
	if t != "" {
		d = strings.TrimLeft(strings.TrimPrefix(d, t), " .:;,-")
	}
	if d == "" {
		return ""
	}
	if utf8.RuneCountInString(d) <= detailRunes {
		return d
	}
	r := []rune(d)[:detailRunes]
	return strings.TrimRight(string(r), " ") + "…"
}

// oneLine folds runs of white space, newlines included, to one space.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func suppressionOf(is *v1.EnrichedIssue) (state, reason string) {
	state = is.GetStatus()
	switch {
	case state == "" && is.GetFalsePositive():
		state = "false_positive"
	case state == "" || state == "open":
		state = "suppressed"
	}
	reason = oneLine(is.GetSuppressionReason())
	if reason == "" {
		reason = "(no reason recorded)"
	}
	return strings.ReplaceAll(state, "_", " "), reason
}

func policyOf(pol *summary.Policy) *policyView {
	if pol == nil {
		return nil
	}
	v := &policyView{Revision: pol.Revision, Errors: pol.Errors}
	for _, l := range pol.Policies {
		sha := l.SHA256
		if len(sha) > 12 {
			sha = sha[:12]
		}
		v.Policies = append(v.Policies, loadedView{Package: l.Package, Kind: l.Kind, Files: strings.Join(l.Files, ", "),
			RegoVersion: l.RegoVersion, SHA256: sha})
	}
	v.Deny = violationsOf(pol.Deny)
	v.Warn = violationsOf(pol.Warn)
	return v
}

func violationsOf(vs []summary.Violation) []violationView {
	var out []violationView
	for _, vi := range vs {
		w := violationView{Rule: strings.TrimPrefix(vi.Rule, "data."), Message: vi.Message, File: vi.File}
		for i, f := range vi.Findings {
			if i == refsShown {
				w.More = len(vi.Findings) - refsShown
				break
			}
			ref := strings.TrimSpace(strings.Join([]string{f.ID, f.Tool, f.Rule}, " "))
			if f.Path != "" {
				ref += " " + f.Path
				if f.Line > 0 {
					ref += fmt.Sprintf(":%d", f.Line)
				}
			}
			w.Findings = append(w.Findings, ref)
		}
		out = append(out, w)
	}
	return out
}

func exceptionOf(e config.Exception, today string) exceptionView {
	var sel []string
	for _, s := range []pair{{"id", e.ID}, {"rule", e.Rule}, {"tool", e.Tool}, {"path", e.Path}} {
		if s.Value != "" {
			sel = append(sel, s.Key+" "+s.Value)
		}
	}
	// The bundled policies' rule (exceptions.rego): an exception holds
	// through the day it expires, UTC. Dates compare as strings.
	return exceptionView{Selectors: strings.Join(sel, ", "), Owner: e.Owner, Reason: e.Reason, Expires: e.Expires,
		Expired: e.Expires != "" && e.Expires < today}
}

func producerOf(pr summary.Producer) producerView {
	v := producerView{Name: pr.Name, Status: pr.Status, Reason: oneLine(pr.Reason), Version: pr.ToolVersion,
		Findings: pr.Findings, AllowFailure: pr.AllowFailure}
	if pr.Status != "skipped" {
		v.Duration = fmt.Sprintf("%.1f s", pr.DurationSeconds)
	}
	if vd := pr.Vendored; vd != nil && (vd.SkippedFiles > 0 || vd.DroppedFindings > 0) {
		v.Vendored = fmt.Sprintf("%d vendored or generated files left out, %d findings in them dropped", vd.SkippedFiles, vd.DroppedFindings)
	}
	return v
}

// describeFilter says in words what the filter keeps; "" when it keeps
// every finding.
func describeFilter(f config.Filter) string {
	var parts []string
	if f.MinSeverity != "" {
		parts = append(parts, "severity "+f.MinSeverity+" or above")
	}
	if f.MinConfidence != "" {
		parts = append(parts, "confidence "+f.MinConfidence+" or above")
	}
	if f.NewOnly {
		parts = append(parts, "new findings only")
	}
	for _, l := range []struct {
		name string
		vals []string
	}{{"tools", f.Tools}, {"teams", f.Teams}, {"policy results", f.Policy}, {"statuses", f.Status}} {
		if len(l.vals) > 0 {
			parts = append(parts, l.name+" "+strings.Join(l.vals, ", "))
		}
	}
	return strings.Join(parts, "; ")
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// outline writes the page's gist as text, for a dry run.
func (p *page) outline(w io.Writer) {
	fmt.Fprintf(w, "  scan %s of %s %s at %s, %s to %s\n", p.ScanID, orNone(p.Repository), orNone(p.Ref), orNone(p.Commit), orNone(p.Started), orNone(p.Finished))
	if p.HasSummary {
		fmt.Fprintf(w, "  verdict: %s (exit code %d)\n", p.Verdict, p.ExitCode)
		for _, r := range p.Reasons {
			fmt.Fprintf(w, "    - %s\n", r)
		}
	}
	if p.Policy != nil {
		fmt.Fprintf(w, "  policies: %d evaluated (%s): %d deny, %d warn\n", len(p.Policy.Policies), p.Policy.Revision, len(p.Policy.Deny), len(p.Policy.Warn))
	}
	if len(p.Exceptions) > 0 {
		fmt.Fprintf(w, "  exceptions: %d\n", len(p.Exceptions))
	}
	var prods []string
	for _, pr := range p.Producers {
		prods = append(prods, fmt.Sprintf("%s %s (%d)", pr.Name, pr.Status, pr.Findings))
	}
	fmt.Fprintf(w, "  producers: %s\n", orNone(strings.Join(prods, ", ")))
	c := p.Counts
	fmt.Fprintf(w, "  counts: %d total, %d new, %d existing, %d outside diff, %d fixed, %d suppressed\n", c.Total, c.New, c.Existing, c.OutsideDiff, c.Fixed, c.Suppressed)
	fmt.Fprintf(w, "  listed: %d findings, %d suppressed apart, %d fixed\n", len(p.Findings), len(p.Suppressed), len(p.Fixed))
}

func orNone(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
