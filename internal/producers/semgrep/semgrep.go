// Package semgrep runs semgrep on source code and parses its JSON report.
// semgrep's SARIF output is read by the generic SARIF importer (see
// registry.Parse), so this package reads only the native JSON.
package semgrep

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/draconsec/dracon/internal/producers"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

const name = "semgrep"

// Producer is semgrep: pattern-based static analysis for many languages.
var Producer = &producers.Producer{
	Name:      name,
	Kind:      producers.SAST,
	Languages: []string{"go", "python", "javascript", "typescript", "java", "kotlin", "ruby", "php", "c", "csharp", "scala", "rust", "terraform", "yaml", "dockerfile"},
	Description: "insecure code patterns in many languages (injection, XSS, weak crypto, " +
		"unsafe APIs) from the semgrep registry's rules",
	Formats: []string{"json", "sarif"},
	Parse:   Parse,
	Detect: []string{"*.py", "*.js", "*.jsx", "*.ts", "*.tsx", "*.java", "*.go", "*.rb", "*.php",
		"*.cs", "*.kt", "*.scala", "*.c", "*.rs", "*.tf", "Dockerfile"},
	RunsHere: false, // semgrep is a Python package and PyPI is not reachable from Dracon's CI
	Tool: &producers.Tool{
		Binary:  "semgrep",
		Version: "1.100.0",
		Install: "pipx install semgrep==1.100.0",
		Image:   "docker.io/semgrep/semgrep:1.100.0",
		Args: func(src, out string) []string {
			// --config auto needs the network (and sends metrics); p/default
			// is the registry's curated set. --metrics off keeps the run
			// private. semgrep exits 0 unless --error is given, so the gate
			// decides, not the exit code.
			return []string{"scan", "--config", "p/default", "--json", "--output", out,
				"--metrics", "off", "--quiet", "--disable-version-check", "."}
		},
		// 1 is "findings" with --error; semgrep's own failures are 2 and up.
		OKExitCodes: []int{1},
		VersionArgs: []string{"--version"},
	},
}

type report struct {
	Results *[]result `json:"results"`
	Errors  []struct {
		Type    flexString `json:"type"`
		Level   string     `json:"level"`
		Message string     `json:"message"`
	} `json:"errors"`
	Version string `json:"version"`
	// bandit's report also has "results" and "errors"; these keys say a
	// file is bandit's, not semgrep's.
	GeneratedAt json.RawMessage `json:"generated_at"`
	Metrics     json.RawMessage `json:"metrics"`
}

type result struct {
	CheckID string   `json:"check_id"`
	Path    string   `json:"path"`
	Start   position `json:"start"`
	End     position `json:"end"`
	Extra   extra    `json:"extra"`
}

type position struct {
	Line int `json:"line"`
	Col  int `json:"col"`
}

type extra struct {
	Message     string     `json:"message"`
	Severity    string     `json:"severity"`
	Fingerprint string     `json:"fingerprint"`
	Lines       string     `json:"lines"`
	Fix         string     `json:"fix"`
	IsIgnored   bool       `json:"is_ignored"`
	Metadata    metadata   `json:"metadata"`
	Validation  flexString `json:"validation_state"`
	SCA         *scaInfo   `json:"sca_info"` // Semgrep Supply Chain results only
}

// metadata is free-form in custom rules, so every field tolerates a string,
// a number or a list of them.
type metadata struct {
	CWE           flexList   `json:"cwe"`
	OWASP         flexList   `json:"owasp"`
	References    flexList   `json:"references"`
	Confidence    flexString `json:"confidence"`
	Likelihood    flexString `json:"likelihood"`
	Impact        flexString `json:"impact"`
	Category      flexString `json:"category"`
	Subcategory   flexList   `json:"subcategory"`
	VulnClass     flexList   `json:"vulnerability_class"`
	Source        flexString `json:"source"`
	SourceRuleURL flexString `json:"source-rule-url"`
	// Semgrep Supply Chain rules' metadata.
	CVE            flexList        `json:"cve"`
	GHSA           flexList        `json:"ghsa"`
	ScaVulnID      flexString      `json:"sca-vuln-database-identifier"`
	ScaKind        flexString      `json:"sca-kind"`
	ScaSeverity    flexString      `json:"sca-severity"`
	ScaFixVersions json.RawMessage `json:"sca-fix-versions"`
}

// loginPlaceholder is what semgrep writes for "lines" and "fingerprint"
// when the user is not logged in to semgrep.dev.
const loginPlaceholder = "requires login"

// Parse reads semgrep's JSON report (semgrep scan --json). Code findings
// become code issues; Semgrep Supply Chain findings (extra.sca_info) become
// dependency issues (see scaIssue).
func Parse(data []byte) (*producers.Parsed, error) {
	var r report
	if err := producers.DecodeJSON(name, data, &r); err != nil {
		return nil, err
	}
	if r.Results == nil {
		return nil, producers.Errorf(name, `not a semgrep JSON report: no "results" key`)
	}
	if r.GeneratedAt != nil || r.Metrics != nil {
		return nil, producers.Errorf(name, `not a semgrep JSON report: "generated_at"/"metrics" keys are bandit's`)
	}
	out := &producers.Parsed{ToolVersion: r.Version, Issues: make([]*v1.Issue, 0, len(*r.Results))}
	for i := range *r.Results {
		res := &(*r.Results)[i]
		if res.CheckID == "" {
			return nil, producers.Errorf(name, `result %d has no "check_id": not a semgrep report`, i)
		}
		iss := toIssue(res, r.Version)
		if res.Extra.SCA != nil {
			if err := scaIssue(i, res, iss); err != nil {
				return nil, err
			}
		}
		out.Issues = append(out.Issues, iss)
	}
	return out, nil
}

func toIssue(res *result, version string) *v1.Issue {
	ex := &res.Extra
	md := &ex.Metadata
	path := res.Path
	if path == "" {
		path = res.CheckID // a finding with no file still needs a target
	}
	loc := producers.Loc(path, res.Start.Line, res.End.Line)
	loc.StartColumn = int32(res.Start.Col)
	loc.EndColumn = int32(res.End.Col)
	iss := &v1.Issue{
		Target:      producers.Target(path, res.Start.Line, res.End.Line),
		Type:        res.CheckID,
		RuleId:      res.CheckID,
		Title:       title(ex.Message, res.CheckID),
		Severity:    Severity(ex.Severity),
		Confidence:  producers.ConfidenceFromText(string(md.Confidence)),
		Description: strings.TrimSpace(ex.Message),
		Location:    loc,
		Cwe:         producers.CWEs(md.CWE...),
		References:  references(md),
		Tags:        tags(md),
		ToolName:    name,
		ToolVersion: version,
	}
	if iss.Description == "" {
		iss.Description = res.CheckID
	}
	if ex.Lines != "" && ex.Lines != loginPlaceholder {
		code := ex.Lines
		iss.ContextSegment = &code
	}
	if ex.Fingerprint != "" && ex.Fingerprint != loginPlaceholder {
		iss.Fingerprint = ex.Fingerprint
	}
	annotate := func(k, v string) {
		if v == "" {
			return
		}
		if iss.Annotations == nil {
			iss.Annotations = map[string]string{}
		}
		iss.Annotations[k] = v
	}
	if ex.IsIgnored {
		annotate("semgrep.ignored", "nosemgrep")
	}
	annotate("semgrep.fix", ex.Fix)
	annotate("semgrep.likelihood", string(md.Likelihood))
	annotate("semgrep.impact", string(md.Impact))
	if v := string(ex.Validation); v != "" && v != "NO_VALIDATOR" {
		annotate("semgrep.validation_state", v)
	}
	return iss
}

// Severity maps semgrep's rule severity onto Dracon's scale. Rules written
// for semgrep before 1.90 say ERROR / WARNING / INFO; newer rules may say
// CRITICAL / HIGH / MEDIUM / LOW. INVENTORY and EXPERIMENT rules are not
// findings to fix and map to INFO. Anything else (custom rules can say
// anything) is MEDIUM, the middle of the scale, so it is neither lost nor
// allowed to block a build on its own.
func Severity(s string) v1.Severity {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "CRITICAL":
		return v1.Severity_SEVERITY_CRITICAL
	case "ERROR", "HIGH":
		return v1.Severity_SEVERITY_HIGH
	case "WARNING", "MEDIUM":
		return v1.Severity_SEVERITY_MEDIUM
	case "INFO", "LOW":
		return v1.Severity_SEVERITY_LOW
	case "INVENTORY", "EXPERIMENT":
		return v1.Severity_SEVERITY_INFO
	default:
		return v1.Severity_SEVERITY_MEDIUM
	}
}

// title is the first sentence of the message (semgrep has no short
// description of its own), or the rule id when there is no message.
func title(msg, checkID string) string {
	msg = strings.TrimSpace(msg)
	if msg == "" {
		return checkID
	}
	end := len(msg)
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		end = i
	}
	if i := strings.Index(msg[:end], ". "); i >= 0 {
		end = i + 1
	}
	t := strings.TrimSpace(msg[:end])
	const limit = 200
	if len(t) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(t[cut]) {
			cut--
		}
		t = t[:cut] + "…"
	}
	if t == "" {
		return checkID
	}
	return t
}

func references(md *metadata) []string {
	var out []string
	add := func(u string) {
		u = strings.TrimSpace(u)
		if u == "" {
			return
		}
		for _, x := range out {
			if x == u {
				return
			}
		}
		out = append(out, u)
	}
	for _, r := range md.References {
		add(r)
	}
	add(string(md.SourceRuleURL))
	add(string(md.Source))
	return out
}

func tags(md *metadata) []string {
	var out []string
	if c := string(md.Category); c != "" {
		out = append(out, c)
	}
	out = append(out, md.Subcategory...)
	out = append(out, md.VulnClass...)
	out = append(out, md.OWASP...)
	return out
}

// flexString accepts a JSON string, or any other scalar as its JSON text.
// Objects and arrays are ignored: they are not what the field means.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0, bytes.Equal(b, []byte("null")):
		return nil
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
	case b[0] == '{' || b[0] == '[':
		// not a scalar: ignore
	default:
		*f = flexString(b)
	}
	return nil
}

// flexList accepts a string, a scalar or a list of them.
type flexList []string

func (f *flexList) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '[' {
		var s flexString
		if err := s.UnmarshalJSON(b); err != nil {
			return err
		}
		if s != "" {
			*f = flexList{string(s)}
		}
		return nil
	}
	var items []flexString
	if err := json.Unmarshal(b, &items); err != nil {
		return err
	}
	out := make(flexList, 0, len(items))
	for _, s := range items {
		if s != "" {
			out = append(out, string(s))
		}
	}
	*f = out
	return nil
}
