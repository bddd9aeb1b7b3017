// Package sarifout writes findings as a SARIF 2.1.0 log that GitHub code
// scanning accepts: one run per tool, rules with security-severity, and
// partialFingerprints so alerts keep their identity between uploads.
package sarifout

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/draconsec/dracon/internal/consumers"
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

// Write writes the SARIF log for results to w.
func Write(w io.Writer, scan *v1.ScanInfo, results []*v1.EnrichedLaunchToolResponse) error {
	report, err := Build(scan, results)
	if err != nil {
		return err
	}
	return report.PrettyWrite(w)
}

// Build makes the SARIF report.
func Build(scan *v1.ScanInfo, results []*v1.EnrichedLaunchToolResponse) (*sarif.Report, error) {
	report, err := sarif.New(sarif.Version210)
	if err != nil {
		return nil, err
	}
	runs := map[string]*runBuilder{}
	var order []string
	for _, f := range consumers.Flatten(results) {
		rb, ok := runs[f.Tool]
		if !ok {
			version := f.Issue.GetRawIssue().GetToolVersion()
			driver := sarif.NewDriver(f.Tool)
			if version != "" {
				driver.WithVersion(version)
			}
			driver.WithInformationURI("https://github.com/draconsec/dracon")
			run := sarif.NewRun(*sarif.NewTool(driver))
			if id := scan.GetScanUuid(); id != "" {
				run.WithAutomationDetails(&sarif.RunAutomationDetails{ID: strPtr("dracon/" + f.Tool + "/" + id)})
			}
			rb = &runBuilder{run: run, rules: map[string]int{}}
			runs[f.Tool] = rb
			order = append(order, f.Tool)
		}
		rb.add(f.Issue)
	}
	sort.Strings(order)
	for _, tool := range order {
		report.AddRun(runs[tool].run)
	}
	return report, nil
}

type runBuilder struct {
	run   *sarif.Run
	rules map[string]int
}

func (rb *runBuilder) add(ei *v1.EnrichedIssue) {
	is := ei.GetRawIssue()
	ruleID := strings.TrimSpace(producersFirst(is.GetRuleId(), is.GetType(), is.GetCve(), "finding"))
	idx, ok := rb.rules[ruleID]
	if !ok {
		idx = len(rb.run.Tool.Driver.Rules)
		rb.rules[ruleID] = idx
		rb.run.Tool.Driver.AddRule(rule(ruleID, is))
	}
	res := sarif.NewRuleResult(ruleID).
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
	rb.run.AddResult(res)
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
