// Package tmpl renders consumers' Go text/templates over a finding, with
// the fields Dracon's templates use, so a template written for Dracon
// (Jira's descriptionTemplate, Elasticsearch's description-template)
// renders the same here.
package tmpl

import (
	"bytes"
	"fmt"
	"strings"
	"text/template"
	"time"

	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// DefaultEnriched is Dracon's default template for an enriched finding
// (pkg/templating), kept word for word.
const DefaultEnriched = "Dracon found '{{.RawIssue.Title}}' at '{{.RawIssue.Target}}', severity '{{.RawIssue.Severity}}', rule id: '{{.RawIssue.Type}}', CVSS '{{.RawIssue.Cvss}}' Confidence '{{.RawIssue.Confidence}}' Original Description: {{.RawIssue.Description}}, Cve {{.RawIssue.Cve}},\n{{ range $key,$element := .Annotations }}{{$key}}:{{$element}}\n{{end}}"

// View is what a template sees: the EnrichedIssue's own fields
// (.RawIssue.Title, .Annotations, .Hash, ... ; {{.RawIssue.Severity}}
// renders SEVERITY_HIGH) and Dracon's added ones.
type View struct {
	*v1.EnrichedIssue
	ToolName       string
	ScanStartTime  string // RFC 3339
	ScanID         string
	ConfidenceText string // Info, Low, Medium, High, Critical, N/A
	SeverityText   string
	Count          uint
	FirstFound     string // RFC 3339
	// FixedCodeAnnotation is there for Dracon's templates; Dracon set it
	// from no enricher, and neither does this Dracon.
	FixedCodeAnnotation string
	// ID is the finding's stable id (consumers.ID) and Link a URL to its
	// file and line where the run knows the repository's web address.
	ID   string
	Link string
}

// NewView is the view of one finding.
func NewView(scan *v1.ScanInfo, tool string, is *v1.EnrichedIssue) View {
	v := View{
		EnrichedIssue:  is,
		ToolName:       tool,
		ScanID:         scan.GetScanUuid(),
		ConfidenceText: ConfidenceText(is.GetRawIssue().GetConfidence()),
		SeverityText:   SeverityText(is.GetRawIssue().GetSeverity()),
		Count:          uint(is.GetCount()),
	}
	if t := scan.GetScanStartTime(); t != nil {
		v.ScanStartTime = t.AsTime().UTC().Format(time.RFC3339)
	}
	if t := is.GetFirstSeen(); t != nil {
		v.FirstFound = t.AsTime().UTC().Format(time.RFC3339)
	}
	return v
}

// Template is a parsed template.
type Template struct{ t *template.Template }

// Parse reads a template; "" is DefaultEnriched. name says where it came
// from in errors ("consumers.jira.descriptionTemplate").
func Parse(name, text string) (*Template, error) {
	if text == "" {
		text = DefaultEnriched
	}
	t, err := template.New(name).Option("missingkey=zero").Parse(text)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &Template{t}, nil
}

// Render executes the template over v.
func (t *Template) Render(v View) (string, error) {
	var b bytes.Buffer
	if err := t.t.Execute(&b, v); err != nil {
		return "", err
	}
	return b.String(), nil
}

// SeverityText is Dracon's text for a severity (enumtransformers):
// Info, Low, Medium, High, Critical, or N/A.
func SeverityText(s v1.Severity) string { return text(strings.TrimPrefix(s.String(), "SEVERITY_")) }

// ConfidenceText is Dracon's text for a confidence.
func ConfidenceText(c v1.Confidence) string {
	return text(strings.TrimPrefix(c.String(), "CONFIDENCE_"))
}

func text(name string) string {
	switch name {
	case "INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL":
		return name[:1] + strings.ToLower(name[1:])
	}
	return "N/A"
}
