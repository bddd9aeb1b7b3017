// Package sarif imports SARIF 2.1.0 reports: any tool's (CodeQL, semgrep,
// eslint, ...), either as the "sarif" producer reading a file an earlier CI
// step wrote, or as the fallback reader when a known tool's report is SARIF.
package sarif

import (
	"bytes"
	"fmt"
	"net/url"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"slices"
	"strconv"
	"strings"

	"github.com/draconsec/dracon/internal/producers"
	"github.com/draconsec/dracon/internal/producers/jsontok"
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
	RuleID              string     `json:"ruleId"`
	RuleIndex           *int       `json:"ruleIndex"`
	Rule                *ruleRef   `json:"rule"`
	Kind                string     `json:"kind"`
	Level               string     `json:"level"`
	Message             message    `json:"message"`
	Locations           []location `json:"locations"`
	Fingerprints        []keyValue // read by readResult, in document order
	PartialFingerprints []keyValue
	Suppressions        []suppression `json:"suppressions"`
	Properties          *propBag      `json:"properties"`
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
//
// The log is read as a stream: each result becomes issues as soon as it is
// decoded, so a log of 100,000 results never exists twice in memory (once
// as decoded structs, once as issues).
func ParseAs(toolName string, data []byte) (*producers.Parsed, error) {
	return parseAs(toolName, "", data)
}

// ParseOwn reads a SARIF log that must be driver's own (every run's
// tool.driver.name, ignoring case): a tool's parser uses it to reject
// another tool's SARIF handed to it by mistake.
func ParseOwn(toolName, driver string, data []byte) (*producers.Parsed, error) {
	return parseAs(toolName, driver, data)
}

func parseAs(toolName, driver string, data []byte) (*producers.Parsed, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, &producers.ParseError{Tool: toolName, Offset: -1, Err: producers.ErrEmpty}
	}
	out := &producers.Parsed{}
	dec := jsontext.NewDecoder(bytes.NewReader(data), producers.JSONOptions)
	sawRuns, err := readLog(dec, out, driver)
	if err != nil {
		return nil, producers.JSONError(toolName, err)
	}
	if !sawRuns {
		return nil, producers.Errorf(toolName, `not a SARIF log: no "runs" array`)
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

func readLog(dec *jsontext.Decoder, out *producers.Parsed, driver string) (bool, error) {
	sawRuns := false
	err := jsontok.Members(dec, "SARIF log", func(key string) error {
		switch key {
		case "version":
			off := dec.InputOffset()
			var v string
			if err := json.UnmarshalDecode(dec, &v, producers.JSONOptions); err != nil {
				return err
			}
			if v != "2.1.0" {
				return &producers.ParseError{Offset: off, Err: fmt.Errorf("SARIF version %q is not supported (only 2.1.0)", v)}
			}
		case "runs":
			sawRuns = true
			return jsontok.Elements(dec, "runs", func(i int) error {
				if err := readRun(dec, out, driver); err != nil {
					return fmt.Errorf("run %d: %w", i, err)
				}
				return nil
			})
		default:
			return dec.SkipValue()
		}
		return nil
	})
	return sawRuns, err
}

// pending is a location that names its file by artifact index before the
// run's artifacts were read.
type pending struct {
	issue *v1.Issue
	loc   *location
}

func readRun(dec *jsontext.Decoder, out *producers.Parsed, driver string) error {
	r := &run{}
	var conv *converter
	var early []result // results before the tool (rare): kept until it is known
	var fixups []pending
	var intern jsontok.Interner
	sawArtifacts := false
	err := jsontok.Members(dec, "run", func(key string) error {
		switch key {
		case "tool":
			if err := json.UnmarshalDecode(dec, &r.Tool, producers.JSONOptions); err != nil {
				return err
			}
			conv = newConverter(r)
			if driver != "" && !strings.EqualFold(r.Tool.Driver.Name, driver) {
				return fmt.Errorf("the run is %q's, not %s's", r.Tool.Driver.Name, driver)
			}
			if out.ToolVersion == "" {
				out.ToolVersion = conv.toolVersion
			}
		case "artifacts":
			sawArtifacts = true
			return json.UnmarshalDecode(dec, &r.Artifacts, producers.JSONOptions)
		case "results":
			return jsontok.Elements(dec, "results", func(int) error {
				var res result
				if err := readResult(dec, &res, &intern); err != nil {
					return err
				}
				if conv == nil {
					early = append(early, res)
					return nil
				}
				fixups = conv.convert(&res, out, sawArtifacts, fixups)
				return nil
			})
		default:
			return dec.SkipValue()
		}
		return nil
	})
	if err != nil {
		return err
	}
	if conv == nil {
		if driver != "" {
			return fmt.Errorf("the run names no tool, so it is not %s's", driver)
		}
		conv = newConverter(r)
		if out.ToolVersion == "" {
			out.ToolVersion = conv.toolVersion
		}
	}
	for i := range early {
		fixups = conv.convert(&early[i], out, true, fixups)
	}
	for _, f := range fixups {
		setLocation(f.issue, f.loc, r.Artifacts)
	}
	return nil
}

// ruleFacts are what a rule says about every one of its results, worked
// out once per rule rather than once per result: large logs have many
// results per rule.
type ruleFacts struct {
	title      string
	severity   v1.Severity
	cvss       float64
	confidence v1.Confidence
	tags       []string
	cwes       []int32
	refs       []string
}

func factsOf(ru *rule) *ruleFacts {
	f := &ruleFacts{}
	if ru == nil {
		f.severity = levelSeverity("")
		return f
	}
	empty := &result{}
	if ru.ShortDescription != nil && ru.ShortDescription.Text != "" {
		f.title = ru.ShortDescription.Text
	} else {
		f.title = ru.Name
	}
	f.severity, f.cvss = severity(empty, ru)
	f.confidence = confidence(ru)
	f.tags = tagsOf(empty, ru)
	f.cwes = cwesFromTags(f.tags)
	if ru.HelpURI != "" {
		f.refs = []string{ru.HelpURI}
	}
	return f
}

// converter turns one run's results into issues.
type converter struct {
	run         *run
	toolName    string
	toolVersion string
	byID        map[string]*rule
	facts       map[*rule]*ruleFacts
}

func newConverter(r *run) *converter {
	driver := &r.Tool.Driver
	c := &converter{
		run:         r,
		toolName:    producers.FirstNonEmpty(driver.Name, driver.FullName, "sarif"),
		toolVersion: producers.FirstNonEmpty(driver.SemanticVersion, driver.Version),
		byID:        make(map[string]*rule, len(driver.Rules)),
		facts:       map[*rule]*ruleFacts{},
	}
	for i := range driver.Rules {
		c.byID[driver.Rules[i].ID] = &driver.Rules[i]
	}
	return c
}

// convert appends res's issues to out. Locations that name their file
// only by artifact index, before artifacts are known, are returned as
// fixups for the end of the run.
func (c *converter) convert(res *result, out *producers.Parsed, haveArtifacts bool, fixups []pending) []pending {
	if res.Kind == "pass" || res.Kind == "notApplicable" {
		return fixups
	}
	ru := findRule(c.run, c.byID, res)
	f, ok := c.facts[ru]
	if !ok {
		f = factsOf(ru)
		c.facts[ru] = f
	}
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
		Title:       f.title,
		Description: producers.FirstNonEmpty(res.Message.Text, res.Message.Markdown),
		ToolName:    c.toolName,
		ToolVersion: c.toolVersion,
		Severity:    f.severity,
		Cvss:        f.cvss,
		Confidence:  f.confidence,
		Tags:        f.tags,
		Cwe:         f.cwes,
		References:  f.refs,
	}
	if base.Title == "" {
		base.Title = title(res, ru)
	}
	// The result's own level and properties override its rule's.
	if res.Properties != nil || (res.Level != "" && f.cvss == 0) {
		base.Severity, base.Cvss = severity(res, ru)
	}
	if res.Properties != nil && len(res.Properties.Tags) > 0 {
		base.Tags = tagsOf(res, ru)
		base.Cwe = cwesFromTags(base.Tags)
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
		base.Target = c.toolName
		out.Issues = append(out.Issues, base)
		return fixups
	}
	for j := range res.Locations {
		iss := base
		if j > 0 {
			iss = cloneIssue(base)
		}
		l := &res.Locations[j]
		setLocation(iss, l, c.run.Artifacts)
		if !haveArtifacts && needsArtifact(l) {
			fixups = append(fixups, pending{issue: iss, loc: l})
		}
		out.Issues = append(out.Issues, iss)
	}
	return fixups
}

func needsArtifact(l *location) bool {
	p := l.Physical
	return p != nil && p.Artifact != nil && p.Artifact.URI == "" && p.Artifact.Index != nil
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

// cwesFromTags reads CWE numbers from tags such as "external/cwe/cwe-079"
// (CodeQL), "CWE-79" or "cwe:79".
func cwesFromTags(tags []string) []int32 {
	var out []int32
	for _, t := range tags {
		i := indexFold(t, "cwe")
		if i < 0 {
			continue
		}
		rest := t[i+3:]
		if len(rest) > 0 && strings.IndexByte("-/:_ ", rest[0]) >= 0 {
			rest = rest[1:]
		}
		n := 0
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		if n > 0 {
			out = append(out, producers.CWEs(rest[:n])...)
		}
	}
	return out
}

// indexFold finds the last occurrence of lower-case word in s, ignoring case.
func indexFold(s, word string) int {
	for i := len(s) - len(word); i >= 0; i-- {
		if strings.EqualFold(s[i:i+len(word)], word) {
			return i
		}
	}
	return -1
}

// keyValue is one entry of a fingerprints object.
type keyValue struct{ key, value string }

// fingerprint joins the result's fingerprints (else its partial ones),
// sorted by key, into one stable string.
func fingerprint(res *result) string {
	fp := res.Fingerprints
	if len(fp) == 0 {
		fp = res.PartialFingerprints
	}
	if len(fp) == 0 {
		return ""
	}
	slices.SortFunc(fp, func(a, b keyValue) int { return strings.Compare(a.key, b.key) })
	n := 0
	for _, e := range fp {
		n += len(e.key) + len(e.value) + 2
	}
	var b strings.Builder
	b.Grow(n)
	for i, e := range fp {
		if i > 0 {
			b.WriteByte(';')
		}
		b.WriteString(e.key)
		b.WriteByte('=')
		b.WriteString(e.value)
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
		// URIs are percent-encoded ("my%20app/a.go"); the file's name is not.
		if strings.Contains(path, "%") {
			if un, err := url.PathUnescape(path); err == nil {
				path = un
			}
		}
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
