// Package nuclei runs ProjectDiscovery's nuclei templates against a
// running service and parses its JSON-lines (or older JSON array) output.
package nuclei

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/draconsec/dracon/internal/producers"
	"github.com/draconsec/dracon/internal/producers/depkit"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

const name = "nuclei"

// TargetEnv names the environment variable that holds the URL (or host)
// nuclei scans. nuclei tests a running service, not a folder.
const TargetEnv = "DRACON_NUCLEI_TARGET"

// missingTarget is the target list nuclei is given when TargetEnv is
// unset: reading it fails, so the run fails and names the variable,
// rather than scanning nothing and passing.
const missingTarget = "/" + TargetEnv + "-is-not-set"

// Producer is nuclei: template-driven checks of a running service.
var Producer = &producers.Producer{
	Name:        name,
	Kind:        producers.DAST,
	Languages:   []string{"any"},
	Description: "known vulnerabilities (CVEs), misconfigurations, exposed panels and files, and technology fingerprints of a running service",
	Formats:     []string{"jsonl", "json", "sarif"},
	Parse:       Parse,
	// No Detect: nuclei scans a URL, never a folder, so it runs only when
	// configured, with DRACON_NUCLEI_TARGET set.
	Tool: &producers.Tool{
		Binary:    "nuclei",
		Network:   true, // it fetches its vulnerability data
		Version:   "v3.4.10",
		GoPackage: "github.com/projectdiscovery/nuclei/v3/cmd/nuclei",
		Image:     "docker.io/projectdiscovery/nuclei:v3.4.10",
		Args: func(src, out string) []string {
			target := []string{"-u", os.Getenv(TargetEnv)}
			if os.Getenv(TargetEnv) == "" {
				target = []string{"-l", missingTarget}
			}
			// -jsonl -o: one JSON result per line in out. -omit-raw leaves
			// the raw requests and responses out of the report.
			return append(target, "-jsonl", "-o", out, "-omit-raw",
				"-silent", "-no-color", "-disable-update-check")
		},
		VersionArgs: []string{"-version"},
	},
}

type result struct {
	TemplateID     string     `json:"template-id"`
	TemplateIDOld  string     `json:"templateID"` // before v2.5
	TemplateURL    string     `json:"template-url"`
	Info           *info      `json:"info"`
	Type           string     `json:"type"`
	Host           string     `json:"host"`
	MatchedAt      string     `json:"matched-at"`
	MatchedOld     string     `json:"matched"`
	URL            string     `json:"url"`
	IP             string     `json:"ip"`
	MatcherName    string     `json:"matcher-name"`
	MatcherNameOld string     `json:"matcher_name"`
	ExtractorName  string     `json:"extractor-name"`
	ExtractorOld   string     `json:"extractor_name"`
	Extracted      stringList `json:"extracted-results"`
	ExtractedOld   stringList `json:"extracted_results"`
	MatcherStatus  *bool      `json:"matcher-status"`
}

type info struct {
	Name           string          `json:"name"`
	Description    string          `json:"description"`
	Severity       string          `json:"severity"`
	Tags           stringList      `json:"tags"`
	Reference      stringList      `json:"reference"`
	Remediation    string          `json:"remediation"`
	Classification *classification `json:"classification"`
}

type classification struct {
	CVE         stringList `json:"cve-id"`
	CWE         stringList `json:"cwe-id"`
	CVSSMetrics string     `json:"cvss-metrics"`
	CVSSScore   flexFloat  `json:"cvss-score"`
}

// Parse reads nuclei's output: JSON lines (-jsonl, the default of -json
// before v3) or a JSON array (-json-export). An empty report is no
// findings: nuclei creates its output file before scanning and writes a
// line only per result. Results with "matcher-status": false (written
// only with -matcher-status) record failed matches and are not findings.
func Parse(data []byte) (*producers.Parsed, error) {
	trimmed := bytes.TrimSpace(data)
	out := &producers.Parsed{Issues: []*v1.Issue{}}
	if len(trimmed) == 0 {
		return out, nil
	}
	seen := map[string]bool{}
	add := func(r *result, line int) error {
		if r.Info == nil || producers.FirstNonEmpty(r.TemplateID, r.TemplateIDOld) == "" {
			return lineError(line, errors.New(`not a nuclei result: no "template-id" and "info"`))
		}
		if r.MatcherStatus != nil && !*r.MatcherStatus {
			return nil
		}
		key := r.key()
		if seen[key] {
			return nil // the same result twice (reports appended to one file)
		}
		seen[key] = true
		out.Issues = append(out.Issues, r.issue())
		return nil
	}

	if trimmed[0] == '[' {
		var rs []*result
		if err := producers.DecodeJSON(name, data, &rs); err != nil {
			return nil, err
		}
		for i, r := range rs {
			if r == nil {
				return nil, producers.Errorf(name, "result %d of the array is null", i+1)
			}
			if err := add(r, -1); err != nil {
				return nil, err
			}
		}
		return out, nil
	}

	// JSON lines. A decoder over the whole input also takes results
	// pretty-printed over several lines; errors name the line.
	dec := json.NewDecoder(bytes.NewReader(data))
	for {
		start := dec.InputOffset()
		var r result
		err := dec.Decode(&r)
		if errors.Is(err, io.EOF) {
			break
		}
		line := lineAt(data, start+int64(len(leadingSpace(data[start:]))))
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) && typ.Field == "" {
			return nil, lineError(line, errors.New("not a nuclei result: expected a JSON object"))
		}
		if errors.As(err, &typ) {
			return nil, lineError(line, err)
		}
		if err != nil {
			off := dec.InputOffset()
			var syn *json.SyntaxError
			if errors.As(err, &syn) {
				off = syn.Offset
			}
			if errors.Is(err, io.ErrUnexpectedEOF) {
				off = int64(len(data))
			}
			return nil, &producers.ParseError{Tool: name, Offset: off, Err: lineErr(data, off, err)}
		}
		if err := add(&r, line); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (r *result) templateID() string { return producers.FirstNonEmpty(r.TemplateID, r.TemplateIDOld) }
func (r *result) matcher() string    { return producers.FirstNonEmpty(r.MatcherName, r.MatcherNameOld) }
func (r *result) extractor() string  { return producers.FirstNonEmpty(r.ExtractorName, r.ExtractorOld) }
func (r *result) target() string {
	return strings.TrimSpace(producers.FirstNonEmpty(r.MatchedAt, r.MatchedOld, r.URL, r.Host, r.IP, "unknown"))
}

func (r *result) extracted() []string {
	if len(r.Extracted) > 0 {
		return r.Extracted
	}
	return r.ExtractedOld
}

func (r *result) key() string {
	return strings.Join(append([]string{r.templateID(), r.Type, r.matcher(), r.extractor(), r.target()}, r.extracted()...), "\x00")
}

func (r *result) issue() *v1.Issue {
	in := r.Info
	id := r.templateID()
	title := strings.TrimSpace(producers.FirstNonEmpty(in.Name, id))
	if m := r.matcher(); m != "" {
		title += " (" + m + ")"
	}
	sev := producers.SeverityFromText(in.Severity)
	if sev == v1.Severity_SEVERITY_UNSPECIFIED {
		sev = v1.Severity_SEVERITY_MEDIUM // "unknown" or missing
	}
	iss := &v1.Issue{
		Target:   r.target(),
		Type:     id,
		RuleId:   id,
		Title:    title,
		Severity: sev,
		ToolName: name,
	}

	var b strings.Builder
	b.WriteString(strings.TrimSpace(in.Description))
	producers.Section(&b, "Matcher", r.matcher())
	producers.Section(&b, "Extractor", r.extractor())
	if ex := r.extracted(); len(ex) > 0 {
		trimmed := make([]string, 0, len(ex))
		for _, e := range ex {
			trimmed = append(trimmed, strings.TrimSpace(e))
		}
		producers.Section(&b, "Extracted", strings.Join(trimmed, ", "))
	}
	producers.Section(&b, "Remediation", in.Remediation)
	iss.Description = b.String()

	if c := in.Classification; c != nil {
		var cves []string
		for _, id := range c.CVE {
			if id = strings.ToUpper(strings.TrimSpace(id)); strings.HasPrefix(id, "CVE-") {
				cves = append(cves, id)
			}
		}
		if len(cves) > 0 {
			iss.Cve = cves[0]
		}
		if len(cves) > 1 {
			iss.Aliases = cves[1:]
		}
		iss.Cwe = producers.CWEs(c.CWE...)
		iss.Cvss = float64(c.CVSSScore)
	}
	for _, ref := range in.Reference {
		iss.References = depkit.AppendUnique(iss.References, depkit.URLs(ref)...)
	}
	if strings.HasPrefix(r.TemplateURL, "http") {
		iss.References = depkit.AppendUnique(iss.References, depkit.URLs(r.TemplateURL)...)
	}
	for _, t := range in.Tags {
		for tag := range strings.SplitSeq(t, ",") {
			if tag = strings.TrimSpace(tag); tag != "" {
				iss.Tags = append(iss.Tags, tag)
			}
		}
	}
	ann := map[string]string{}
	for k, v := range map[string]string{"host": r.Host, "ip": r.IP, "type": r.Type} {
		if v = strings.TrimSpace(v); v != "" {
			ann[k] = v
		}
	}
	if len(ann) > 0 {
		iss.Annotations = ann
	}
	return iss
}

// stringList reads a JSON string, a list of strings, or null: nuclei's
// template fields (author, tags, reference, cve-id) changed from one to
// the other over its versions.
type stringList []string

func (s *stringList) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*s = nil
		return nil
	case len(b) > 0 && b[0] == '"':
		var one string
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*s = stringList{one}
		return nil
	}
	var many []*string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	out := make(stringList, 0, len(many))
	for _, v := range many {
		if v != nil {
			out = append(out, *v)
		}
	}
	*s = out
	return nil
}

// flexFloat reads a number written as a JSON number or a string.
type flexFloat float64

func (f *flexFloat) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if strings.TrimSpace(s) == "" {
			return nil
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return err
		}
		*f = flexFloat(v)
		return nil
	}
	var v float64
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*f = flexFloat(v)
	return nil
}

func leadingSpace(b []byte) []byte {
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return b[:i]
}

// lineAt is the 1-based line of byte offset off.
func lineAt(data []byte, off int64) int {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	return bytes.Count(data[:off], []byte("\n")) + 1
}

func lineErr(data []byte, off int64, err error) error {
	return errors.New("line " + strconv.Itoa(lineAt(data, off)) + ": " + err.Error())
}

// lineError wraps err with the line it was found on (-1: in an array).
func lineError(line int, err error) error {
	if line < 0 {
		return &producers.ParseError{Tool: name, Offset: -1, Err: err}
	}
	return &producers.ParseError{Tool: name, Offset: -1, Err: errors.New("line " + strconv.Itoa(line) + ": " + err.Error())}
}
