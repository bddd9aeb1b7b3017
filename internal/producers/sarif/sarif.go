// Package sarif imports SARIF 2.1.0 reports: any tool's (CodeQL, semgrep,
// eslint, ...), either as the "sarif" producer reading a file an earlier CI
// step wrote, or as the fallback reader when a known tool's report is SARIF.
package sarif

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/draconsec/dracon/internal/producers"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

const name = "sarif"

// Producer imports SARIF files written by other tools.
var Producer = &producers.Producer{
	Name:        name,
	Kind:        producers.Generic,
	Languages:   []string{"any"},
	Description: "any SARIF 2.1.0 report an earlier CI step wrote (CodeQL, semgrep, eslint, ...)",
	Formats:     []string{"sarif"},
	Parse:       Parse,
	RunsHere:    true, // nothing to install: it reads files
}

// The structs below hold only what Dracon reads. SARIF documents can be
// large and deeply nested; decoding just these fields keeps parsing fast and
// its memory close to the input's size.
type log struct {
	Version *string `json:"version"`
	Runs    *[]run  `json:"runs"`
}

type run struct {
	Tool      tool       `json:"tool"`
	Results   []result   `json:"results"`
	Artifacts []artifact `json:"artifacts"`
}

type tool struct {
	Driver     component   `json:"driver"`
	Extensions []component `json:"extensions"`
}

type component struct {
	Name            string `json:"name"`
	FullName        string `json:"fullName"`
	Version         string `json:"version"`
	SemanticVersion string `json:"semanticVersion"`
	Rules           []rule `json:"rules"`
}

type rule struct {
	ID               string   `json:"id"`
	Name             string   `json:"name"`
	ShortDescription *message `json:"shortDescription"`
	FullDescription  *message `json:"fullDescription"`
	Help             *message `json:"help"`
	HelpURI          string   `json:"helpUri"`
	Default          *config  `json:"defaultConfiguration"`
	Properties       *propBag `json:"properties"`
}

type config struct {
	Level string `json:"level"`
}

type message struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown"`
}

type propBag struct {
	Tags             []string   `json:"tags"`
	SecuritySeverity flexString `json:"security-severity"`
	Precision        string     `json:"precision"`
	ProblemSeverity  string     `json:"problem.severity"`
	Severity         flexString `json:"severity"`
	CVSS             flexString `json:"cvssV3_baseScore"`
}

type result struct {
	RuleID              string                `json:"ruleId"`
	RuleIndex           *int                  `json:"ruleIndex"`
	Rule                *ruleRef              `json:"rule"`
	Kind                string                `json:"kind"`
	Level               string                `json:"level"`
	Message             message               `json:"message"`
	Locations           []location            `json:"locations"`
	Fingerprints        map[string]flexString `json:"fingerprints"`
	PartialFingerprints map[string]flexString `json:"partialFingerprints"`
	Suppressions        []suppression         `json:"suppressions"`
	Properties          *propBag              `json:"properties"`
}

type ruleRef struct {
	ID            string `json:"id"`
	Index         *int   `json:"index"`
	ToolComponent *struct {
		Index *int   `json:"index"`
		Name  string `json:"name"`
	} `json:"toolComponent"`
}

type suppression struct {
	Kind          string `json:"kind"`
	Status        string `json:"status"`
	Justification string `json:"justification"`
}

type location struct {
	Physical *physical `json:"physicalLocation"`
	Logical  []struct {
		FullyQualifiedName string `json:"fullyQualifiedName"`
		Name               string `json:"name"`
	} `json:"logicalLocations"`
}

type physical struct {
	Artifact *artifactLocation `json:"artifactLocation"`
	Region   *region           `json:"region"`
}

type artifactLocation struct {
	URI   string `json:"uri"`
	Index *int   `json:"index"`
}

type artifact struct {
	Location *artifactLocation `json:"location"`
}

type region struct {
	StartLine   int      `json:"startLine"`
	EndLine     int      `json:"endLine"`
	StartColumn int      `json:"startColumn"`
	EndColumn   int      `json:"endColumn"`
	Snippet     *message `json:"snippet"`
}

// flexString accepts a JSON string, or any other value kept as its JSON
// text: tools disagree on whether "security-severity" is a string or a
// number, and some nest objects where SARIF says fingerprints are strings.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
		return nil
	}
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	*f = flexString(b)
	return nil
}

// Sniff reports whether data looks like a SARIF log, so a tool's SARIF
// output can be read by this package instead of the tool's own parser.
func Sniff(data []byte) bool {
	head := data
	if len(head) > 4096 {
		head = head[:4096]
	}
	return bytes.Contains(head, []byte(`"runs"`)) &&
		(bytes.Contains(head, []byte("sarif")) || bytes.Contains(head, []byte(`"$schema"`)) ||
			bytes.Contains(head, []byte(`"version"`)))
}

// Parse reads a SARIF 2.1.0 log. Every result becomes an issue per
// location (a result naming three places is three findings to fix), except
// results of kind "pass" or "notApplicable", which say nothing was found.
// Suppressed results are kept and annotated; the suppress enricher decides.
func Parse(data []byte) (*producers.Parsed, error) {
	return ParseAs(name, data)
}

// ParseAs reads a SARIF log on behalf of tool, for error messages.
func ParseAs(toolName string, data []byte) (*producers.Parsed, error) {
	var l log
	if err := producers.DecodeJSON(toolName, data, &l); err != nil {
		return nil, err
	}
	if l.Runs == nil {
		return nil, producers.Errorf(toolName, `not a SARIF log: no "runs" array`)
	}
	if l.Version != nil && *l.Version != "2.1.0" {
		return nil, producers.Errorf(toolName, "SARIF version %q is not supported (only 2.1.0)", *l.Version)
	}
	out := &producers.Parsed{}
	n := 0
	for i := range *l.Runs {
		n += len((*l.Runs)[i].Results)
	}
	out.Issues = make([]*v1.Issue, 0, n)
	for i := range *l.Runs {
		r := &(*l.Runs)[i]
		if out.ToolVersion == "" {
			out.ToolVersion = producers.FirstNonEmpty(r.Tool.Driver.SemanticVersion, r.Tool.Driver.Version)
		}
		if err := readRun(r, out); err != nil {
			return nil, producers.Errorf(toolName, "run %d: %v", i, err)
		}
	}
	if toolName != name {
		// A known tool's SARIF: its issues carry the producer's name, as its
		// native report's would.
		for _, is := range out.Issues {
			is.ToolName = toolName
		}
	}
	return out, nil
}

func readRun(r *run, out *producers.Parsed) error {
	driver := &r.Tool.Driver
	toolName := producers.FirstNonEmpty(driver.Name, driver.FullName, "sarif")
	toolVersion := producers.FirstNonEmpty(driver.SemanticVersion, driver.Version)
	byID := make(map[string]*rule, len(driver.Rules))
	for i := range driver.Rules {
		byID[driver.Rules[i].ID] = &driver.Rules[i]
	}
	for i := range r.Results {
		res := &r.Results[i]
		if res.Kind == "pass" || res.Kind == "notApplicable" {
			continue
		}
		ru := findRule(r, byID, res)
		ruleID := res.RuleID
		if ruleID == "" && res.Rule != nil {
			ruleID = res.Rule.ID
		}
		if ruleID == "" && ru != nil {
			ruleID = ru.ID
		}
		base := &v1.Issue{
			Type:        ruleID,
			RuleId:      ruleID,
			Title:       title(res, ru),
			Description: producers.FirstNonEmpty(res.Message.Text, res.Message.Markdown),
			ToolName:    toolName,
			ToolVersion: toolVersion,
		}
		base.Severity, base.Cvss = severity(res, ru)
		base.Confidence = confidence(ru)
		tags := tagsOf(res, ru)
		base.Tags = tags
		base.Cwe = cwesFromTags(tags)
		if ru != nil && ru.HelpURI != "" {
			base.References = []string{ru.HelpURI}
		}
		base.Fingerprint = fingerprint(res)
		if len(res.Suppressions) > 0 {
			s := res.Suppressions[0]
			base.Annotations = map[string]string{
				"sarif.suppression": producers.FirstNonEmpty(s.Kind, "unknown") + statusSuffix(s.Status),
			}
			if s.Justification != "" {
				base.Annotations["sarif.suppression.justification"] = s.Justification
			}
		}
		if len(res.Locations) == 0 {
			base.Target = toolName
			out.Issues = append(out.Issues, base)
			continue
		}
		for j := range res.Locations {
			iss := base
			if j > 0 {
				iss = cloneIssue(base)
			}
			setLocation(iss, &res.Locations[j], r.Artifacts)
			out.Issues = append(out.Issues, iss)
		}
	}
	return nil
}

func statusSuffix(s string) string {
	if s == "" {
		return ""
	}
	return "/" + s
}

func cloneIssue(in *v1.Issue) *v1.Issue {
	return &v1.Issue{
		Type: in.Type, RuleId: in.RuleId, Title: in.Title, Description: in.Description,
		ToolName: in.ToolName, ToolVersion: in.ToolVersion, Severity: in.Severity, Cvss: in.Cvss,
		Confidence: in.Confidence, Tags: in.Tags, Cwe: in.Cwe, References: in.References,
		Fingerprint: in.Fingerprint, Annotations: in.Annotations,
	}
}

func findRule(r *run, byID map[string]*rule, res *result) *rule {
	// A rule may live in an extension (CodeQL query packs) named by toolComponent.
	if res.Rule != nil && res.Rule.ToolComponent != nil && res.Rule.ToolComponent.Index != nil {
		k := *res.Rule.ToolComponent.Index
		if k >= 0 && k < len(r.Tool.Extensions) {
			ext := r.Tool.Extensions[k].Rules
			if res.Rule.Index != nil && *res.Rule.Index >= 0 && *res.Rule.Index < len(ext) {
				return &ext[*res.Rule.Index]
			}
			for i := range ext {
				if ext[i].ID == res.Rule.ID || ext[i].ID == res.RuleID {
					return &ext[i]
				}
			}
		}
	}
	rules := r.Tool.Driver.Rules
	idx := res.RuleIndex
	if idx == nil && res.Rule != nil {
		idx = res.Rule.Index
	}
	if idx != nil && *idx >= 0 && *idx < len(rules) {
		return &rules[*idx]
	}
	id := res.RuleID
	if id == "" && res.Rule != nil {
		id = res.Rule.ID
	}
	if ru, ok := byID[id]; ok {
		return ru
	}
	// A hierarchical ruleId "a/b/c" may refer to rule "a/b".
	for id != "" {
		k := strings.LastIndexByte(id, '/')
		if k < 0 {
			break
		}
		id = id[:k]
		if ru, ok := byID[id]; ok {
			return ru
		}
	}
	return nil
}

func title(res *result, ru *rule) string {
	if ru != nil {
		if ru.ShortDescription != nil && ru.ShortDescription.Text != "" {
			return ru.ShortDescription.Text
		}
		if ru.Name != "" {
			return ru.Name
		}
	}
	msg := producers.FirstNonEmpty(res.Message.Text, res.Message.Markdown)
	if i := strings.IndexByte(msg, '\n'); i > 0 {
		msg = msg[:i]
	}
	return producers.FirstNonEmpty(msg, res.RuleID, "SARIF result")
}

// severity prefers a numeric security-severity (what GitHub code scanning
// ranks by), then the result's level, then the rule's default level.
func severity(res *result, ru *rule) (v1.Severity, float64) {
	for _, p := range []*propBag{res.Properties, rulePropsOf(ru)} {
		if p == nil {
			continue
		}
		for _, s := range []flexString{p.SecuritySeverity, p.CVSS} {
			if s == "" {
				continue
			}
			if f, err := strconv.ParseFloat(strings.TrimSpace(string(s)), 64); err == nil {
				return producers.SeverityFromCVSS(f), f
			}
		}
		if p.Severity != "" {
			if sev := producers.SeverityFromText(string(p.Severity)); sev != v1.Severity_SEVERITY_UNSPECIFIED {
				return sev, 0
			}
		}
	}
	level := res.Level
	if level == "" && ru != nil && ru.Default != nil {
		level = ru.Default.Level
	}
	if level == "" && ru != nil && ru.Properties != nil {
		level = ru.Properties.ProblemSeverity
	}
	return levelSeverity(level), 0
}

func rulePropsOf(ru *rule) *propBag {
	if ru == nil {
		return nil
	}
	return ru.Properties
}

func levelSeverity(level string) v1.Severity {
	switch level {
	case "error":
		return v1.Severity_SEVERITY_HIGH
	case "", "warning": // SARIF's default level is "warning"
		return v1.Severity_SEVERITY_MEDIUM
	case "note", "recommendation":
		return v1.Severity_SEVERITY_LOW
	case "none":
		return v1.Severity_SEVERITY_INFO
	default:
		return producers.SeverityFromText(level)
	}
}

func confidence(ru *rule) v1.Confidence {
	if ru == nil || ru.Properties == nil {
		return v1.Confidence_CONFIDENCE_UNSPECIFIED
	}
	switch ru.Properties.Precision {
	case "very-high":
		return v1.Confidence_CONFIDENCE_CRITICAL
	case "high":
		return v1.Confidence_CONFIDENCE_HIGH
	case "medium":
		return v1.Confidence_CONFIDENCE_MEDIUM
	case "low":
		return v1.Confidence_CONFIDENCE_LOW
	}
	return v1.Confidence_CONFIDENCE_UNSPECIFIED
}

func tagsOf(res *result, ru *rule) []string {
	var tags []string
	if ru != nil && ru.Properties != nil {
		tags = append(tags, ru.Properties.Tags...)
	}
	if res.Properties != nil {
		tags = append(tags, res.Properties.Tags...)
	}
	return tags
}

var cweTag = regexp.MustCompile(`(?i)cwe[-/:_ ]?(\d+)`)

func cwesFromTags(tags []string) []int32 {
	var refs []string
	for _, t := range tags {
		if m := cweTag.FindStringSubmatch(t); m != nil {
			refs = append(refs, m[1])
		}
	}
	return producers.CWEs(refs...)
}

func fingerprint(res *result) string {
	fp := res.Fingerprints
	if len(fp) == 0 {
		fp = res.PartialFingerprints
	}
	if len(fp) == 0 {
		return ""
	}
	keys := make([]string, 0, len(fp))
	for k := range fp {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(';')
		}
		fmt.Fprintf(&b, "%s=%s", k, fp[k])
	}
	return b.String()
}

func setLocation(iss *v1.Issue, l *location, artifacts []artifact) {
	p := l.Physical
	var path string
	if p != nil && p.Artifact != nil {
		path = p.Artifact.URI
		if path == "" && p.Artifact.Index != nil && *p.Artifact.Index >= 0 && *p.Artifact.Index < len(artifacts) {
			if a := artifacts[*p.Artifact.Index].Location; a != nil {
				path = a.URI
			}
		}
		path = strings.TrimPrefix(path, "file://")
	}
	if path == "" && len(l.Logical) > 0 {
		path = producers.FirstNonEmpty(l.Logical[0].FullyQualifiedName, l.Logical[0].Name)
	}
	loc := &v1.Location{Path: path}
	if p != nil && p.Region != nil {
		rg := p.Region
		loc.StartLine = int32(rg.StartLine)
		loc.EndLine = int32(max(rg.EndLine, rg.StartLine))
		loc.StartColumn = int32(rg.StartColumn)
		loc.EndColumn = int32(rg.EndColumn)
		if rg.Snippet != nil && rg.Snippet.Text != "" {
			s := rg.Snippet.Text
			iss.ContextSegment = &s
		}
	}
	iss.Location = loc
	iss.Target = producers.Target(path, int(loc.StartLine), int(loc.EndLine))
	if iss.Target == "" {
		iss.Target = iss.ToolName
	}
}
