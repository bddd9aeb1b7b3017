// Package zap runs OWASP ZAP against a running web application and parses
// its traditional XML or JSON report.
package zap

import (
	"bytes"
	"encoding/json"
	"errors"
	"html"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/draconsec/dracon/internal/producers"
	"github.com/draconsec/dracon/internal/producers/depkit"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

const name = "zap"

// TargetEnv names the environment variable that holds the URL ZAP scans.
// ZAP tests a running application, not a folder, so it needs one.
const TargetEnv = "DRACON_ZAP_TARGET"

// missingTarget stands in for the URL when TargetEnv is unset, so that
// ZAP's refusal of it names the variable to set.
const missingTarget = "unset:" + TargetEnv

// Producer is OWASP ZAP: dynamic testing of a running web application.
var Producer = &producers.Producer{
	Name:        name,
	Aliases:     []string{"zaproxy", "owasp-zap"},
	Kind:        producers.DAST,
	Languages:   []string{"any"},
	Description: "web application weaknesses seen over HTTP: missing security headers, insecure cookies, XSS, injection, information leaks",
	Formats:     []string{"xml", "json", "sarif"},
	Parse:       Parse,
	// No Detect: ZAP scans a URL, never a folder, so it runs only when
	// configured, with DRACON_ZAP_TARGET set.
	Tool: &producers.Tool{
		Binary:  "zap.sh",
		Network: true, // it scans a running service
		Version: "2.16.1",
		Install: "download ZAP from https://www.zaproxy.org/download/ and put zap.sh on PATH (or use the container image)",
		Image:   "ghcr.io/zaproxy/zaproxy:stable",
		Args: func(src, out string) []string {
			target := os.Getenv(TargetEnv)
			if target == "" {
				target = missingTarget
			}
			// -cmd: run headless and exit; -quickurl spiders and actively
			// scans the target; -quickout writes the traditional XML report.
			// -silent stops ZAP's own calls home (update checks, news).
			return []string{"-cmd", "-silent", "-quickurl", target, "-quickout", out}
		},
		VersionArgs: []string{"-cmd", "-version"},
	},
}

// alert is one alertitem of the XML report, or one alert of the JSON
// report: both name their fields alike. JSON writes numbers as strings.
// The XML report is read by xmlread.go into the same structs.
type alert struct {
	PluginID   flexString `json:"pluginid"`
	AlertRef   flexString `json:"alertRef"`
	Alert      string     `json:"alert"`
	Name       string     `json:"name"`
	RiskCode   flexString `json:"riskcode"`
	Confidence flexString `json:"confidence"`
	RiskDesc   string     `json:"riskdesc"`
	Desc       string     `json:"desc"`
	Instances  instances  `json:"instances"`
	Solution   string     `json:"solution"`
	OtherInfo  string     `json:"otherinfo"`
	Reference  string     `json:"reference"`
	CWEID      flexString `json:"cweid"`
	WASCID     flexString `json:"wascid"`
	SourceID   flexString `json:"sourceid"`
}

type instance struct {
	URI       string `json:"uri"`
	Method    string `json:"method"`
	Param     string `json:"param"`
	Attack    string `json:"attack"`
	Evidence  string `json:"evidence"`
	OtherInfo string `json:"otherinfo"`
}

type site struct {
	Name   string
	Alerts []alert
}

type jsonReport struct {
	Version flexString `json:"@version"`
	Site    *jsonSites `json:"site"`
}

type jsonSite struct {
	Name   string `json:"@name"`
	Alerts alerts `json:"alerts"`
}

// jsonSites reads the list of sites, or the lone site object that reports
// converted from XML by older ZAP versions hold.
type jsonSites []jsonSite

func (j *jsonSites) UnmarshalJSON(b []byte) error {
	return oneOrMany(b, (*[]jsonSite)(j))
}

// Parse reads ZAP's traditional XML report (OWASPZAPReport, what -quickout
// and zap-baseline.py -x write) or its traditional JSON report (-J); it
// tells them apart by the first character.
func Parse(data []byte) (*producers.Parsed, error) {
	trimmed := bytes.TrimLeft(data, " \t\r\n\ufeff")
	trimmed = bytes.TrimPrefix(trimmed, []byte("\xef\xbb\xbf"))
	var (
		sites   []site
		version string
		err     error
	)
	switch {
	case len(bytes.TrimSpace(trimmed)) == 0:
		return nil, &producers.ParseError{Tool: name, Offset: -1, Err: producers.ErrEmpty}
	case trimmed[0] == '<':
		sites, version, err = parseXML(data)
	case trimmed[0] == '{':
		sites, version, err = parseJSON(data)
	default:
		return nil, producers.Errorf(name, "not a ZAP report: neither XML (OWASPZAPReport) nor JSON")
	}
	if err != nil {
		return nil, err
	}
	out := &producers.Parsed{ToolVersion: version, Issues: []*v1.Issue{}}
	for _, f := range group(sites) {
		out.Issues = append(out.Issues, f.issue(version))
	}
	return out, nil
}

func parseJSON(data []byte) ([]site, string, error) {
	var r jsonReport
	if err := producers.DecodeJSON(name, data, &r); err != nil {
		return nil, "", err
	}
	if r.Site == nil {
		return nil, "", producers.Errorf(name, `not a ZAP JSON report: no "site" key`)
	}
	sites := make([]site, 0, len(*r.Site))
	for _, s := range *r.Site {
		sites = append(sites, site{Name: s.Name, Alerts: s.Alerts})
	}
	return sites, string(r.Version), nil
}

// finding is one alert at one place: a URI, method and parameter. ZAP
// lists an instance per piece of evidence, so a page that leaks four
// timestamps is four instances of one finding; a report that repeats an
// alert (same rule, name and risk) at the same place holds it once.
type finding struct {
	alert              *alert
	text               *alertText
	site               string
	uri, method, param string
	evidence, attacks  []string
	otherInfo          []string
}

// alertText is what every finding of one alert shares, worked out once.
type alertText struct {
	rule, title, desc, solution, info string
	refs                              []string
	cwe                               []int32
}

func newAlertText(a *alert) *alertText {
	return &alertText{
		rule: ruleID(a), title: title(a),
		desc: stripHTML(a.Desc), solution: stripHTML(a.Solution), info: stripHTML(a.OtherInfo),
		refs: urls(stripHTML(a.Reference)), cwe: producers.CWEs(string(a.CWEID)),
	}
}

// group gathers the findings of a report, in report order.
func group(sites []site) []*finding {
	var out []*finding
	index := map[[6]string]*finding{}
	for _, s := range sites {
		for i := range s.Alerts {
			a := &s.Alerts[i]
			text := newAlertText(a)
			id := [3]string{text.rule, text.title, strings.TrimSpace(string(a.RiskCode))}
			if len(a.Instances) == 0 {
				// An alert with no instances (some exports leave them
				// out) is still a finding: it is placed at the site.
				out = append(out, &finding{alert: a, text: text, site: s.Name})
				continue
			}
			for _, in := range a.Instances {
				key := [6]string{id[0], id[1], id[2], strings.TrimSpace(in.URI), strings.TrimSpace(in.Method), strings.TrimSpace(in.Param)}
				f := index[key]
				if f == nil {
					f = &finding{alert: a, text: text, site: s.Name, uri: key[3], method: key[4], param: key[5]}
					index[key] = f
					out = append(out, f)
				}
				f.evidence = depkit.AppendUnique(f.evidence, strings.TrimSpace(in.Evidence))
				f.attacks = depkit.AppendUnique(f.attacks, strings.TrimSpace(in.Attack))
				f.otherInfo = depkit.AppendUnique(f.otherInfo, strings.TrimSpace(stripHTML(in.OtherInfo)))
			}
		}
	}
	return out
}

func ruleID(a *alert) string {
	return strings.TrimSpace(producers.FirstNonEmpty(string(a.AlertRef), string(a.PluginID)))
}

func title(a *alert) string {
	return strings.TrimSpace(producers.FirstNonEmpty(a.Name, a.Alert, "ZAP alert "+ruleID(a)))
}

func (f *finding) issue(version string) *v1.Issue {
	a, t := f.alert, f.text
	rule := t.rule
	target := strings.TrimSpace(producers.FirstNonEmpty(f.uri, f.site, "unknown"))
	var b strings.Builder
	b.Grow(len(t.desc) + len(t.solution) + len(t.info) + 256)
	b.WriteString(t.desc)
	if f.method != "" || f.param != "" {
		producers.Section(&b, "Request", strings.TrimSpace(f.method+" "+target))
		if f.param != "" {
			b.WriteString("\nParameter: " + f.param)
		}
	}
	for _, e := range f.evidence {
		producers.Section(&b, "Evidence", e)
	}
	for _, at := range f.attacks {
		producers.Section(&b, "Attack", at)
	}
	info := f.otherInfo
	if len(info) == 0 {
		info = []string{t.info}
	}
	for _, o := range info {
		producers.Section(&b, "Other information", o)
	}
	producers.Section(&b, "Solution", t.solution)

	iss := &v1.Issue{
		Target:      target,
		Type:        rule,
		RuleId:      rule,
		Title:       t.title,
		Severity:    severity(string(a.RiskCode), a.RiskDesc),
		Confidence:  confidence(string(a.Confidence)),
		Description: b.String(),
		Cwe:         slices.Clone(t.cwe), // each issue owns its slices
		References:  slices.Clone(t.refs),
		ToolName:    name,
		ToolVersion: version,
	}
	if w := producers.Atoi(string(a.WASCID)); w > 0 {
		iss.Tags = append(iss.Tags, "WASC-"+strings.TrimSpace(string(a.WASCID)))
	}
	if strings.TrimSpace(string(a.Confidence)) == "0" {
		iss.Tags = append(iss.Tags, "false-positive")
	}
	ann := map[string]string{}
	if f.site != "" {
		ann["site"] = f.site
	}
	if f.method != "" {
		ann["method"] = f.method
	}
	if f.param != "" {
		ann["param"] = f.param
	}
	if len(ann) > 0 {
		iss.Annotations = ann
	}
	return iss
}

// severity maps ZAP's riskcode: 0 informational, 1 low, 2 medium, 3 high.
// A report without a readable riskcode falls back to the word that opens
// riskdesc ("Low (Medium)"), then to MEDIUM.
func severity(code, desc string) v1.Severity {
	switch strings.TrimSpace(code) {
	case "0":
		return v1.Severity_SEVERITY_INFO
	case "1":
		return v1.Severity_SEVERITY_LOW
	case "2":
		return v1.Severity_SEVERITY_MEDIUM
	case "3":
		return v1.Severity_SEVERITY_HIGH
	}
	word, _, _ := strings.Cut(strings.TrimSpace(desc), " ")
	if s := producers.SeverityFromText(word); s != v1.Severity_SEVERITY_UNSPECIFIED {
		return s
	}
	return v1.Severity_SEVERITY_MEDIUM
}

// confidence maps ZAP's confidence: 0 false positive, 1 low, 2 medium,
// 3 high, 4 confirmed by a user.
func confidence(code string) v1.Confidence {
	switch strings.TrimSpace(code) {
	case "0":
		return v1.Confidence_CONFIDENCE_INFO
	case "1":
		return v1.Confidence_CONFIDENCE_LOW
	case "2":
		return v1.Confidence_CONFIDENCE_MEDIUM
	case "3":
		return v1.Confidence_CONFIDENCE_HIGH
	case "4":
		return v1.Confidence_CONFIDENCE_CRITICAL
	}
	return v1.Confidence_CONFIDENCE_UNSPECIFIED
}

// stripHTML turns ZAP's HTML fragments ("<p>...</p><p>...</p>") into plain
// text: paragraphs and line breaks become lines, other tags go, entities
// are decoded, blank lines are dropped.
func stripHTML(s string) string {
	if strings.IndexByte(s, '<') < 0 && strings.IndexByte(s, '&') < 0 && strings.IndexByte(s, '\n') < 0 {
		return strings.TrimSpace(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '<' {
			if end, block, ok := tagAt(s, i); ok {
				if block {
					b.WriteByte('\n')
				}
				i = end
				continue
			}
		}
		b.WriteByte(s[i])
	}
	text := b.String()
	if strings.IndexByte(text, '&') >= 0 {
		text = html.UnescapeString(text)
	}
	// Drop blank lines and trailing spaces.
	var out strings.Builder
	out.Grow(len(text))
	for line := range strings.SplitSeq(text, "\n") {
		line = strings.TrimRight(line, " \t\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		if out.Len() > 0 {
			out.WriteByte('\n')
		}
		out.WriteString(line)
	}
	return strings.TrimSpace(out.String())
}

// tagAt reports whether s[i:] opens an HTML tag ("<p>", "</p>", "<br/>",
// "<a href=...>"), where it ends, and whether it breaks a line.
func tagAt(s string, i int) (end int, block, ok bool) {
	j := i + 1
	if j < len(s) && s[j] == '/' {
		j++
	}
	st := j
	for j < len(s) && ((s[j] >= 'a' && s[j] <= 'z') || (s[j] >= 'A' && s[j] <= 'Z') || (j > st && s[j] >= '0' && s[j] <= '9')) {
		j++
	}
	if j == st {
		return 0, false, false
	}
	tag := strings.ToLower(s[st:j])
	k := j
	for k < len(s) && s[k] != '>' && s[k] != '<' {
		k++
	}
	if k >= len(s) || s[k] != '>' {
		return 0, false, false
	}
	if k > j && s[j] != ' ' && s[j] != '/' && s[j] != '\t' && s[j] != '\n' {
		return 0, false, false // "<abc123" in plain text, not a tag
	}
	switch tag {
	case "p", "br", "li", "ul", "ol", "div", "tr", "h1", "h2", "h3", "h4", "h5", "h6":
		block = true
	}
	return k, block, true
}

var urlStart = regexp.MustCompile(`https?://`)

// urls splits ZAP's reference field into URLs. Newer reports put one per
// paragraph; older ones run them together with nothing between
// ("http://a/http://b/"), so a new URL starts at every "http(s)://".
func urls(s string) []string {
	var out []string
	for _, field := range strings.Fields(s) {
		starts := urlStart.FindAllStringIndex(field, -1)
		for i, st := range starts {
			end := len(field)
			if i+1 < len(starts) {
				end = starts[i+1][0]
			}
			u := strings.TrimRight(field[st[0]:end], ".,;")
			if len(u) > len("https://") {
				out = depkit.AppendUnique(out, strings.TrimSpace(u))
			}
		}
	}
	return out
}

// flexString reads a JSON string or number as text; ZAP's JSON report
// writes codes as strings, hand-made and converted reports as numbers.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*f = ""
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
		return nil
	case len(b) > 0 && (b[0] == '-' || (b[0] >= '0' && b[0] <= '9')):
		*f = flexString(b)
		return nil
	case bytes.Equal(b, []byte("true")) || bytes.Equal(b, []byte("false")):
		*f = flexString(b)
		return nil
	}
	return errors.New("expected a string or a number, got " + string(firstBytes(b, 20)))
}

// instances reads a JSON list of instances, or a lone instance object.
type instances []instance

func (in *instances) UnmarshalJSON(b []byte) error {
	return oneOrMany(b, (*[]instance)(in))
}

// alerts reads a JSON list of alerts, or a lone alert object.
type alerts []alert

func (a *alerts) UnmarshalJSON(b []byte) error {
	return oneOrMany(b, (*[]alert)(a))
}

func oneOrMany[T any](b []byte, out *[]T) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '{' {
		var one T
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*out = []T{one}
		return nil
	}
	return json.Unmarshal(b, out)
}

func firstBytes(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}
