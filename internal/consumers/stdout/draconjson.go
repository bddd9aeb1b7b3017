package stdout

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/draconsec/dracon/internal/consumers/tmpl"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// draconDocument is one line of Dracon's stdout-json consumer, field for
// field (its severity and confidence are the enums' numbers), so a log
// pipeline built on it reads ours. Dracon printed each line through Go's
// log package, after a date prefix on stderr; these lines are bare JSON on
// stdout, which is what a log shipper wants. finding_id, rule_id, is_new
// and status are added.
type draconDocument struct {
	ScanStartTime  time.Time         `json:"scan_start_time"`
	ScanID         string            `json:"scan_id"`
	ToolName       string            `json:"tool_name"`
	Source         string            `json:"source"`
	Target         string            `json:"target"`
	Type           string            `json:"type"`
	Title          string            `json:"title"`
	Severity       v1.Severity       `json:"severity"`
	SeverityText   string            `json:"severity_text"`
	CVSS           float64           `json:"cvss"`
	Confidence     v1.Confidence     `json:"confidence"`
	ConfidenceText string            `json:"confidence_text"`
	Description    string            `json:"description"`
	FirstFound     time.Time         `json:"first_found"`
	Count          uint64            `json:"count"`
	FalsePositive  bool              `json:"false_positive"`
	CVE            string            `json:"cve"`
	CycloneDXSBOM  map[string]any    `json:"CycloneDX_SBOM"`
	Annotations    map[string]string `json:"annotations"`
	ScanTags       map[string]string `json:"scan_tags"`

	FindingID string `json:"finding_id,omitempty"`
	RuleID    string `json:"rule_id,omitempty"`
	IsNew     bool   `json:"is_new"`
	Status    string `json:"status,omitempty"`
}

// writeDraconJSON prints one document per finding per line.
func writeDraconJSON(w io.Writer, scan *v1.ScanInfo, results []*v1.EnrichedLaunchToolResponse) error {
	enc := json.NewEncoder(w)
	for _, r := range results {
		info := r.GetOriginalResults().GetScanInfo()
		if info == nil {
			info = scan
		}
		start := info.GetScanStartTime().AsTime()
		for _, is := range r.GetIssues() {
			raw := is.GetRawIssue()
			var sbom map[string]any
			if s := raw.GetCycloneDXSBOM(); s != "" {
				if err := json.Unmarshal([]byte(s), &sbom); err != nil {
					return fmt.Errorf("%s: %s: its CycloneDX SBOM is not JSON: %w", r.GetOriginalResults().GetToolName(), raw.GetTarget(), err)
				}
			}
			first := start
			if is.GetFirstSeen() != nil {
				first = is.GetFirstSeen().AsTime()
			}
			doc := draconDocument{
				ScanStartTime: start, ScanID: info.GetScanUuid(), ToolName: r.GetOriginalResults().GetToolName(),
				Source: raw.GetSource(), Target: raw.GetTarget(), Type: raw.GetType(), Title: raw.GetTitle(),
				Severity: raw.GetSeverity(), SeverityText: tmpl.SeverityText(raw.GetSeverity()), CVSS: raw.GetCvss(),
				Confidence: raw.GetConfidence(), ConfidenceText: tmpl.ConfidenceText(raw.GetConfidence()),
				Description: raw.GetDescription(), FirstFound: first, Count: is.GetCount(), FalsePositive: is.GetFalsePositive(),
				CVE: raw.GetCve(), CycloneDXSBOM: sbom, Annotations: is.GetAnnotations(), ScanTags: info.GetScanTags(),
				FindingID: is.GetFindingId(), RuleID: raw.GetRuleId(), IsNew: is.GetIsNew(), Status: is.GetStatus(),
			}
			if err := enc.Encode(doc); err != nil {
				return err
			}
		}
	}
	return nil
}
