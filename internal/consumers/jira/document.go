package jira

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/draconsec/dracon/internal/config"
	"github.com/draconsec/dracon/internal/consumers/tmpl"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
	"google.golang.org/protobuf/proto"
)

// defaultTemplate is Dracon's ticket text (pkg/jira/jira/issueTemplate.txt
// as v0.55 left it), with "Smithy", the name of Dracon's successor that
// crept into it, put back to "Dracon".
const defaultTemplate = `{{.ToolName}} detected '{{.RawIssue.Title}}' at {{.RawIssue.Target}} during scan with id {{.ScanID}}.
Confidence: {{.ConfidenceText}}
{{ if gt .Count 0 }}This issue has been detected {{.Count}} times before{{ end }}
Original Description is: '{{.RawIssue.Description}}'
{{.ToolName}} reported severity as {{.SeverityText}}
Dracon enrichers added the following annotations:
{{ range $key, $value := .Annotations }}{{ $key }}:{{ $value }}
{{ end }}`

// document is Dracon's Jira document (pkg/jira/document) as strings, the
// way its mappings and addToDescription read it: each key is a JSON
// field name of that document.
type document map[string]string

// documentOf is the document of the finding a view shows.
func documentOf(v tmpl.View) document {
	is := v.EnrichedIssue
	raw := is.GetRawIssue()
	annotations, _ := json.Marshal(is.GetAnnotations()) // a map of strings always encodes
	if is.GetAnnotations() == nil {
		annotations = []byte("null") // as Dracon's encoding/json wrote a nil map
	}
	firstFound := v.FirstFound
	if firstFound == "" {
		// No store saw it before: it is first found by this scan.
		firstFound = v.ScanStartTime
	}
	typ := raw.GetType()
	if typ == "" {
		typ = raw.GetRuleId()
	}
	return document{
		"annotations":     string(annotations),
		"confidence_text": v.ConfidenceText,
		"count":           strconv.FormatUint(uint64(v.Count), 10),
		"cve":             raw.GetCve(),
		"cvss":            strconv.FormatFloat(raw.GetCvss(), 'f', 3, 64),
		"description":     raw.GetDescription(),
		"false_positive":  strconv.FormatBool(is.GetFalsePositive()),
		"first_found":     firstFound,
		"hash":            is.GetHash(),
		"scan_id":         v.ScanID,
		"scan_start_time": v.ScanStartTime,
		"severity_text":   jiraSeverityText(raw.GetSeverity()),
		"source":          raw.GetSource(),
		"target":          raw.GetTarget(),
		"title":           raw.GetTitle(),
		"tool_name":       v.ToolName,
		"type":            typ,
	}
}

// value is what a mapping's draconField gives: an annotation of that
// name wins over the document's field, as in Dracon.
func (d document) value(field string, annotations map[string]string) string {
	if v, ok := annotations[field]; ok {
		return v
	}
	return d[field]
}

// jiraSeverityText is the Jira document's severity text (Dracon's
// pkg/jira/document SeverityToText), which its mappings put in an
// "Impact"-like field: not the templates' Info...Critical.
func jiraSeverityText(s v1.Severity) string {
	switch s {
	case v1.Severity_SEVERITY_INFO:
		return "Info"
	case v1.Severity_SEVERITY_LOW:
		return "Minor / Localized"
	case v1.Severity_SEVERITY_MEDIUM:
		return "Moderate / Limited"
	case v1.Severity_SEVERITY_HIGH:
		return "Significant / Large"
	case v1.Severity_SEVERITY_CRITICAL:
		return "Extensive / Widespread"
	}
	return "N/A"
}

// fieldValue renders values as Jira takes a field of Dracon's fieldType.
// ok is false when there is nothing to send: an empty value (Jira
// refuses {"value":""} for a select list) or a float that is no number.
func fieldValue(fieldType string, values []string) (v any, ok bool, err error) {
	var kept []string
	for _, s := range values {
		if s != "" {
			kept = append(kept, s)
		}
	}
	if len(kept) == 0 {
		return nil, false, nil
	}
	switch fieldType {
	case "single-value":
		return map[string]string{"value": kept[0]}, true, nil
	case "multi-value":
		out := make([]map[string]string, len(kept))
		for i, s := range kept {
			out[i] = map[string]string{"value": s}
		}
		return out, true, nil
	case "float":
		f, err := strconv.ParseFloat(strings.TrimSpace(kept[0]), 64)
		if err != nil {
			return nil, false, fmt.Errorf("%q is not a number", kept[0])
		}
		return f, true, nil
	case "simple-value":
		return kept[0], true, nil
	}
	return nil, false, fmt.Errorf("field type %q is not one of %s", fieldType, strings.Join(config.JiraFieldTypes, ", "))
}

// addToDescriptionBlock is Dracon's (up to v0.54) {code} block of the
// fields addToDescription names, each "name: value" with the value
// right-aligned to column 27, annotations as JSON.
func addToDescriptionBlock(fields []string, d document) string {
	if len(fields) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("{code:}\n")
	for _, name := range fields {
		v := d[name]
		fmt.Fprintf(&b, "%s: %*s\n", name, 25-len(name)+len(v), v)
	}
	b.WriteString("{code}\n")
	return b.String()
}

// steadyView is the view with what changes from one scan to the next and
// says nothing new of the finding (the scan's id and time, how often it
// was seen, whether it is new) cleared. A ticket's digest is taken over
// what the template renders from it, so a ticket is updated when the
// finding changed, not on every scan.
func steadyView(v tmpl.View) tmpl.View {
	is := proto.Clone(v.EnrichedIssue).(*v1.EnrichedIssue)
	is.Count = 0
	is.LastSeen = nil
	is.UpdatedAt = nil
	is.IsNew = false
	is.Status = ""
	v.EnrichedIssue = is
	v.ScanID = ""
	v.ScanStartTime = ""
	v.Count = 0
	return v
}
