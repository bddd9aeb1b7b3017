package elasticsearch

import (
	"math"
	"strings"
	"time"

	"github.com/draconsec/dracon/internal/consumers"
	"github.com/draconsec/dracon/internal/consumers/tmpl"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// document is one finding as indexed, in both indexes. The first fields
// are Dracon's consumer's, with its names and types, so its dashboards and
// queries keep working; the others are this Dracon's. Field order is the
// order they are written in, so bulk bodies are the same from run to run.
type document struct {
	ScanStartTime  string            `json:"scan_start_time"`
	ScanID         string            `json:"scan_id"`
	ToolName       string            `json:"tool_name"`
	Source         string            `json:"source"`
	Target         string            `json:"target"`
	Type           string            `json:"type"`
	Title          string            `json:"title"`
	Severity       int               `json:"severity"`
	SeverityText   string            `json:"severity_text"`
	CVSS           float64           `json:"cvss"`
	Confidence     int               `json:"confidence"`
	ConfidenceText string            `json:"confidence_text"`
	Description    string            `json:"description"`
	FirstFound     string            `json:"first_found,omitempty"`
	Count          uint64            `json:"count"`
	FalsePositive  bool              `json:"false_positive"`
	CVE            string            `json:"cve"`
	Annotations    map[string]string `json:"annotations"`

	FindingID  string   `json:"finding_id"`
	RuleID     string   `json:"rule_id"`
	Path       string   `json:"path,omitempty"`
	StartLine  int32    `json:"start_line,omitempty"`
	PackageURL string   `json:"package_url,omitempty"`
	CWE        []int32  `json:"cwe,omitempty"`
	Owners     []string `json:"owners,omitempty"`
	// Team is the first owner: one value to group by.
	Team string `json:"team,omitempty"`
	// Status is open (this scan has it) or fixed (a later scan had it no
	// more).
	Status string `json:"status"`
	IsNew  bool   `json:"is_new"`
	// Policy is what the policies said: deny, warn or pass.
	Policy     string `json:"policy,omitempty"`
	Suppressed bool   `json:"suppressed"`
	Repository string `json:"repository,omitempty"`
	Ref        string `json:"ref,omitempty"`
	Commit     string `json:"commit,omitempty"`
	LastSeen   string `json:"last_seen"`
	FixedAt    string `json:"fixed_at,omitempty"`
	// AgeDays is how long the finding has been known, in whole days, as
	// of this scan.
	AgeDays int `json:"age_days"`
	// TimeToFixDays is fixed_at - first_found in days (to the hundredth),
	// for a fixed finding: the dashboard's "mean time to fix" is its
	// average.
	TimeToFixDays *float64 `json:"time_to_fix_days,omitempty"`
}

// Statuses of a document.
const (
	statusOpen  = "open"
	statusFixed = "fixed"
)

// stamp is how dates are written: UTC, RFC 3339 with the fraction Go
// keeps (Elasticsearch's strict_date_optional_time reads it), as Dracon's
// time.Time fields were.
func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// scanTime is the scan's start, or now for a scan that records none.
func scanTime(scan *v1.ScanInfo) time.Time {
	if t := scan.GetScanStartTime(); t != nil {
		return t.AsTime()
	}
	return time.Now()
}

// newDocument is a finding's document for this scan; description is its
// rendered description_template.
func newDocument(scan *v1.ScanInfo, f consumers.Finding, description string) document {
	is := f.Issue
	raw := is.GetRawIssue()
	at := scanTime(scan)
	first, last := at, at
	if t := is.GetFirstSeen(); t != nil {
		first = t.AsTime()
	}
	if t := is.GetLastSeen(); t != nil {
		last = t.AsTime()
	}
	owners := consumers.Owners(is)
	d := document{
		ScanStartTime:  stamp(at),
		ScanID:         scan.GetScanUuid(),
		ToolName:       f.Tool,
		Source:         raw.GetSource(),
		Target:         raw.GetTarget(),
		Type:           raw.GetType(),
		Title:          raw.GetTitle(),
		Severity:       int(raw.GetSeverity()),
		SeverityText:   tmpl.SeverityText(raw.GetSeverity()),
		CVSS:           finite(raw.GetCvss()),
		Confidence:     int(raw.GetConfidence()),
		ConfidenceText: tmpl.ConfidenceText(raw.GetConfidence()),
		Description:    description,
		FirstFound:     stamp(first),
		Count:          is.GetCount(),
		FalsePositive:  is.GetFalsePositive(),
		CVE:            raw.GetCve(),
		Annotations:    is.GetAnnotations(),
		FindingID:      consumers.ID(is),
		RuleID:         raw.GetRuleId(),
		Path:           raw.GetLocation().GetPath(),
		StartLine:      raw.GetLocation().GetStartLine(),
		PackageURL:     raw.GetPackageUrl(),
		CWE:            raw.GetCwe(),
		Owners:         owners,
		Status:         statusOpen,
		IsNew:          is.GetIsNew(),
		Policy:         consumers.PolicyResult(is),
		Suppressed:     is.GetSuppressed(),
		Repository:     scan.GetScanTags()["repository"],
		Ref:            scan.GetScanTags()["ref"],
		Commit:         scan.GetScanTags()["commit"],
		LastSeen:       stamp(last),
		AgeDays:        ageDays(first, at),
	}
	if d.Annotations == nil {
		d.Annotations = map[string]string{}
	}
	if len(owners) > 0 {
		d.Team = owners[0]
	}
	return d
}

// fixedDocument is a fixed finding as the store still knows it (not
// when it was first found, nor its policy result: those fields are left
// out): what a dry run shows, since the document the current-state index
// holds is not read.
func fixedDocument(scan *v1.ScanInfo, fx consumers.Fixed) document {
	at := stamp(scanTime(scan))
	sev := severityOf(fx.Severity)
	return document{
		ScanStartTime: at,
		ScanID:        scan.GetScanUuid(),
		ToolName:      fx.Tool,
		Target:        fx.Path,
		Title:         fx.Title,
		Severity:      int(sev),
		SeverityText:  tmpl.SeverityText(sev),
		// Confidence is not known of a fixed finding: Dracon's N/A.
		ConfidenceText: tmpl.ConfidenceText(v1.Confidence_CONFIDENCE_UNSPECIFIED),
		Annotations:    map[string]string{},
		FindingID:      fx.ID,
		RuleID:         fx.Rule,
		Path:           fx.Path,
		Status:         statusFixed,
		Repository:     scan.GetScanTags()["repository"],
		Ref:            scan.GetScanTags()["ref"],
		Commit:         scan.GetScanTags()["commit"],
		LastSeen:       at,
		FixedAt:        at,
	}
}

// severityOf reads a severity as the store keeps it ("SEVERITY_HIGH", or
// "HIGH").
func severityOf(s string) v1.Severity {
	s = strings.ToUpper(strings.TrimSpace(s))
	if !strings.HasPrefix(s, "SEVERITY_") {
		s = "SEVERITY_" + s
	}
	return v1.Severity(v1.Severity_value[s])
}

// timeToFix is the days from first found to fixed, both as stamped; nil
// when either is not known.
func timeToFix(firstFound, fixedAt string) *float64 {
	first, err1 := time.Parse(time.RFC3339Nano, firstFound)
	fixed, err2 := time.Parse(time.RFC3339Nano, fixedAt)
	if err1 != nil || err2 != nil {
		return nil
	}
	days := math.Round(fixed.Sub(first).Hours()/24*100) / 100
	if days < 0 {
		days = 0
	}
	return &days
}

func ageDays(first, at time.Time) int {
	if !at.After(first) {
		return 0
	}
	return int(at.Sub(first) / (24 * time.Hour))
}

// finite keeps a CVSS score JSON can carry.
func finite(f float64) float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return f
}
