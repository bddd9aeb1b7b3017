// Package sarifout writes findings as a SARIF 2.1.0 log that GitHub code
// scanning accepts: one run per tool, rules with security-severity, and
// partialFingerprints so alerts keep their identity between uploads.
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
	// Version is Dracon's version, recorded in each run's automation details.
	Version string
}

func (c Consumer) String() string { return "sarif" }

// Consume implements consumers.Consumer.
func (c Consumer) Consume(_ context.Context, scan *v1.ScanInfo, results []*v1.EnrichedLaunchToolResponse) error {
	if err := os.MkdirAll(filepath.Dir(c.Path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(c.Path)
	if err != nil {
		return err
	}
	if err := Write(f, scan, results); err != nil {
		f.Close()
		return fmt.Errorf("sarif: %w", err)
	}
	return f.Close()
}

// Write writes the SARIF log for results to w: the document Build makes,
// byte for byte as go-sarif's PrettyWrite writes it, but streamed. The
// runs and their rules are planned first; then each result is built,
// encoded and dropped in turn, so the writer holds one result at a time,
// not the whole document and a second copy of it as JSON (for 100,000
// findings that was 700 MB for a 92 MB file).
func Write(w io.Writer, scan *v1.ScanInfo, results []*v1.EnrichedLaunchToolResponse) error {
	runs := plan(scan, results)
	report, err := sarif.New(sarif.Version210)
	if err != nil {
		return err
	}
	report.Runs = nil
	head, tail, err := around(report, "", `"runs": null`)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 256<<10)
	bw.Write(head)
	if len(runs) == 0 {
		bw.WriteString("[]")
	} else {
		bw.WriteString("[")
		for i, rb := range runs {
			if i > 0 {
				bw.WriteString(",")
			}
			bw.WriteString("\n" + runIndent)
			if err := rb.write(bw); err != nil {
				return err
			}
		}
		bw.WriteString("\n  ]")
	}
	bw.Write(tail)
	return bw.Flush()
}

// Build makes the SARIF report as one document (Write streams the same).
func Build(scan *v1.ScanInfo, results []*v1.EnrichedLaunchToolResponse) (*sarif.Report, error) {
	report, err := sarif.New(sarif.Version210)
	if err != nil {
		return nil, err
	}
	for _, rb := range plan(scan, results) {
		for i, ei := range rb.issues {
			rb.run.AddResult(result(ei, rb.ruleIndex[i]))
		}
		report.AddRun(rb.run)
	}
	return report, nil
}

// plan makes one run per tool, sorted by tool, each with its driver and
// rules and the findings its results will be, in consumers.Flatten's
// order (most severe first, then location and rule, stable). Each tool's
// findings are sorted on their own, on keys read once, which is several
// times faster than Flatten's sort of every finding for 100,000 findings;
// TestPlanOrderIsFlattens holds the two to the same order.
func plan(scan *v1.ScanInfo, results []*v1.EnrichedLaunchToolResponse) []*runBuilder {
	byTool := map[string][]entry{}
	n := 0
	for _, r := range results {
		tool := r.GetOriginalResults().GetToolName()
		for _, ei := range r.GetIssues() {
			t := ei.GetRawIssue().GetToolName()
			if t == "" {
				t = tool
			}
			is := ei.GetRawIssue()
			byTool[t] = append(byTool[t], entry{sev: is.GetSeverity(), path: is.GetLocation().GetPath(),
				line: is.GetLocation().GetStartLine(), rule: is.GetRuleId(), n: n, ei: ei})
			n++
		}
	}
	order := make([]string, 0, len(byTool))
	for t := range byTool {
		order = append(order, t)
	}
	sort.Strings(order)
	out := make([]*runBuilder, len(order))
	for i, tool := range order {
		es := byTool[tool]
		slices.SortFunc(es, func(a, b entry) int {
			return cmp.Or(cmp.Compare(b.sev, a.sev), strings.Compare(a.path, b.path), cmp.Compare(a.line, b.line),
				strings.Compare(a.rule, b.rule), cmp.Compare(a.n, b.n))
		})
		version := es[0].ei.GetRawIssue().GetToolVersion()
		driver := sarif.NewDriver(tool)
		if version != "" {
			driver.WithVersion(version)
		}
		driver.WithInformationURI("https://github.com/draconsec/dracon")
		run := sarif.NewRun(*sarif.NewTool(driver))
		if id := scan.GetScanUuid(); id != "" {
			run.WithAutomationDetails(&sarif.RunAutomationDetails{ID: strPtr("dracon/" + tool + "/" + id)})
		}
		rb := &runBuilder{run: run, rules: map[string]int{}}
		for _, e := range es {
			rb.add(e.ei)
		}
		out[i] = rb
	}
	return out
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

// runBuilder is one tool's run: the run without its results, its rules,
// and the findings that are its results with each one's rule index.
type runBuilder struct {
	run       *sarif.Run
	rules     map[string]int
	issues    []*v1.EnrichedIssue
	ruleIndex []int
}

// add registers ei's rule (described by the first finding of it) and ei.
func (rb *runBuilder) add(ei *v1.EnrichedIssue) {
	is := ei.GetRawIssue()
	id := ruleID(is)
	idx, ok := rb.rules[id]
	if !ok {
		idx = len(rb.run.Tool.Driver.Rules)
		rb.rules[id] = idx
		rb.run.Tool.Driver.AddRule(rule(id, is))
	}
	rb.issues = append(rb.issues, ei)
	rb.ruleIndex = append(rb.ruleIndex, idx)
}

// The indentation PrettyWrite gives a run and a result.
const (
	runIndent    = "    "
	resultIndent = "        "
)

// write writes the run as PrettyWrite would inside the report, encoding
// one result at a time.
func (rb *runBuilder) write(bw *bufio.Writer) error {
	rb.run.Results = nil
	head, tail, err := around(rb.run, runIndent, `"results": null`)
	if err != nil {
		return err
	}
	bw.Write(head)
	if len(rb.issues) == 0 {
		bw.WriteString("[]")
	} else {
		bw.WriteString("[")
		enc := json.NewEncoder(dropNewline{bw})
		enc.SetIndent(resultIndent, "  ")
		e := &indenter{}
		for i, ei := range rb.issues {
			if i > 0 {
				bw.WriteString(",")
			}
			bw.WriteString("\n" + resultIndent)
			res := result(ei, rb.ruleIndex[i])
			e.b = e.b[:0]
			if appendResult(e, res) {
				bw.Write(e.b)
			} else if err := enc.Encode(res); err != nil {
				return err
			}
		}
		bw.WriteString("\n" + runIndent + "  ]")
	}
	_, err = bw.Write(tail)
	return err
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
	marker := []byte("\n" + prefix + "  " + member)
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

// result is one finding's SARIF result; idx is its rule's index.
func result(ei *v1.EnrichedIssue, idx int) *sarif.Result {
	is := ei.GetRawIssue()
	res := sarif.NewRuleResult(ruleID(is)).
		WithRuleIndex(idx).
		WithLevel(level(is.GetSeverity())).
		WithMessage(sarif.NewTextMessage(message(is)))
	loc := location(is)
	if loc != nil {
		res.AddLocation(loc)
	}
	res.WithPartialFingerPrints(map[string]interface{}{"draconHash/v1": ei.GetHash()})
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
