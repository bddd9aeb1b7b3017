package githubalerts

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/draconsec/dracon/internal/producers"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
	"github.com/go-json-experiment/json/jsontext"
)

// CodeScanningName is the code scanning producer's name; every issue's
// ToolName is it, and the alert's own tool (CodeQL, ...) is the
// annotation github.tool.
const CodeScanningName = "github-code-scanning"

var codeScanning = endpoint{
	producer:   CodeScanningName,
	what:       "code scanning alerts",
	path:       "code-scanning/alerts",
	filters:    []string{"tool_name", "tool_guid", "ref", "severity"},
	permission: "`security-events: read` in a workflow's permissions; a fine-grained token's \"Code scanning alerts: read\"; a classic token's security_events scope (public_repo for a public repository)",
	hint: func(status int, msg string) string {
		switch {
		case status == http.StatusNotFound && strings.Contains(msg, "no analysis found"):
			return "code scanning has not analysed this repository: set up CodeQL (its default setup) or upload SARIF first, or leave github-code-scanning out of the producers"
		case status == http.StatusForbidden && strings.Contains(msg, "advanced security must be enabled"):
			return "code scanning of a private repository needs GitHub Advanced Security (GitHub Code Security): enable it in the repository's settings, or leave github-code-scanning out of the producers"
		case status == http.StatusForbidden && strings.Contains(msg, "code scanning is not enabled"):
			return "enable code scanning in the repository's settings, or leave github-code-scanning out of the producers"
		}
		return ""
	},
}

// CodeScanning imports the repository's open code scanning alerts.
var CodeScanning = &producers.Producer{
	Name: CodeScanningName,
	// github-codeql is the original Dracon's component that read these
	// alerts (CodeQL's only).
	Aliases:     []string{"github-codeql", "code-scanning", "code-scanning-alerts"},
	Kind:        producers.SAST,
	Languages:   []string{"any"},
	Description: "the repository's open GitHub code scanning alerts (CodeQL and every SARIF upload), from GitHub's API",
	Formats:     []string{"json"},
	Parse:       ParseCodeScanning,
	Fetch:       func(ctx context.Context, env producers.FetchEnv) ([]byte, error) { return codeScanning.fetch(ctx, env) },
	// RunsHere stays false: CI does not call GitHub; the tests answer as
	// GitHub's API does (testdata).
}

// csAlert is a code scanning alert as GET .../code-scanning/alerts lists
// it (the "code-scanning-alert-items" schema): the fields Dracon reads.
type csAlert struct {
	Number  int    `json:"number"`
	State   string `json:"state"`
	HTMLURL string `json:"html_url"`
	Rule    *struct {
		ID                    string   `json:"id"`
		Name                  string   `json:"name"`
		Severity              string   `json:"severity"`
		SecuritySeverityLevel string   `json:"security_severity_level"`
		Description           string   `json:"description"`
		FullDescription       string   `json:"full_description"`
		Tags                  []string `json:"tags"`
		HelpURI               string   `json:"help_uri"`
	} `json:"rule"`
	Tool struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	} `json:"tool"`
	Instance struct {
		Ref       string `json:"ref"`
		Category  string `json:"category"`
		CommitSHA string `json:"commit_sha"`
		Message   struct {
			Text string `json:"text"`
		} `json:"message"`
		Location struct {
			Path        string `json:"path"`
			StartLine   int    `json:"start_line"`
			EndLine     int    `json:"end_line"`
			StartColumn int    `json:"start_column"`
			EndColumn   int    `json:"end_column"`
		} `json:"location"`
		Classifications []string `json:"classifications"`
	} `json:"most_recent_instance"`
	DismissedReason  string `json:"dismissed_reason"`
	DismissedComment string `json:"dismissed_comment"`
}

// ParseCodeScanning reads code scanning alerts (a JSON array, or arrays
// one after the other): one issue per alert, at its most recent
// instance's location. Alerts GitHub says are fixed are not findings;
// dismissed ones (in a file saved with every state) are kept, marked
// suppressed with GitHub's reason.
func ParseCodeScanning(data []byte) (*producers.Parsed, error) {
	out := &producers.Parsed{}
	n := 0
	err := eachAlert(CodeScanningName, data, func(dec *jsontext.Decoder) error {
		off := dec.InputOffset()
		var a csAlert
		if err := unmarshal(dec, &a); err != nil {
			return err
		}
		n++
		if a.Rule == nil || a.Rule.ID == "" && a.Rule.Name == "" {
			return &producers.ParseError{Offset: off, Err: fmt.Errorf("alert %d is not a code scanning alert: it has no rule", n)}
		}
		if !closed(a.State) {
			out.Issues = append(out.Issues, a.issue())
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (a *csAlert) issue() *v1.Issue {
	r := a.Rule
	rule := producers.FirstNonEmpty(r.ID, r.Name)
	loc := a.Instance.Location
	iss := &v1.Issue{
		Type:     rule,
		RuleId:   rule,
		Title:    strings.TrimSpace(producers.FirstNonEmpty(r.Description, firstLine(a.Instance.Message.Text), rule)),
		Severity: csSeverity(r.SecuritySeverityLevel, r.Severity),
		ToolName: CodeScanningName,
	}
	if a.Number > 0 {
		// GitHub's alert number names the alert across commits: the
		// dedup enricher's legacy hash keys on it.
		iss.Fingerprint = "github/code-scanning/" + strconv.Itoa(a.Number)
	}
	if loc.Path != "" {
		iss.Target = producers.Target(loc.Path, loc.StartLine, loc.EndLine)
		iss.Location = &v1.Location{Path: loc.Path, StartLine: int32(loc.StartLine), EndLine: int32(max(loc.EndLine, loc.StartLine)),
			StartColumn: int32(loc.StartColumn), EndColumn: int32(loc.EndColumn)}
	} else {
		// An alert on no file (a repository-level result).
		iss.Target = producers.FirstNonEmpty(a.HTMLURL, "code scanning alert "+strconv.Itoa(a.Number))
	}
	for _, t := range r.Tags {
		if i := strings.LastIndex(t, "/cwe-"); i >= 0 {
			iss.Cwe = appendCWE(iss.Cwe, producers.CWEs(t[i+1:]))
		} else if strings.HasPrefix(strings.ToLower(t), "cwe-") {
			iss.Cwe = appendCWE(iss.Cwe, producers.CWEs(t))
		}
	}
	iss.Tags = append(iss.Tags, r.Tags...)
	for _, u := range []string{a.HTMLURL, r.HelpURI} {
		if u != "" && !contains(iss.References, u) {
			iss.References = append(iss.References, u)
		}
	}
	var d strings.Builder
	producers.Section(&d, "Message", a.Instance.Message.Text)
	producers.Section(&d, "Rule", producers.FirstNonEmpty(r.FullDescription, r.Description))
	producers.Section(&d, "Tool", strings.TrimSpace(a.Tool.Name+" "+a.Tool.Version))
	if a.Instance.Ref != "" {
		producers.Section(&d, "Found on", strings.TrimSpace(a.Instance.Ref+" "+shortSHA(a.Instance.CommitSHA)))
	}
	producers.Section(&d, "Alert", a.HTMLURL)
	iss.Description = d.String()
	ann := annotated{}
	ann.set("github.tool", a.Tool.Name)
	ann.set("github.tool_version", a.Tool.Version)
	if a.Number > 0 {
		ann.set("github.alert_number", strconv.Itoa(a.Number))
	}
	ann.set("github.alert_url", a.HTMLURL)
	ann.set("github.ref", a.Instance.Ref)
	ann.set("github.commit", a.Instance.CommitSHA)
	ann.set("github.category", a.Instance.Category)
	ann.set("github.classifications", strings.Join(a.Instance.Classifications, ", "))
	dismissal(ann, a.State, a.DismissedReason, a.DismissedComment)
	iss.Annotations = ann
	return iss
}

// csSeverity: a security rule's security_severity_level (GitHub's bands
// of its CVSS-based security-severity: critical, high, medium, low),
// else the rule's SARIF level (error, warning, note; none).
func csSeverity(level, severity string) v1.Severity {
	if s := producers.SeverityFromText(level); s != v1.Severity_SEVERITY_UNSPECIFIED {
		return s
	}
	if s := producers.SeverityFromText(severity); s != v1.Severity_SEVERITY_UNSPECIFIED {
		return s
	}
	// No level at all: SARIF's default level, warning.
	return v1.Severity_SEVERITY_MEDIUM
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return strings.TrimSpace(s[:i])
	}
	return s
}

func shortSHA(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

func appendCWE(have, add []int32) []int32 {
	for _, c := range add {
		dup := false
		for _, h := range have {
			dup = dup || h == c
		}
		if !dup {
			have = append(have, c)
		}
	}
	return have
}

func contains(ss []string, s string) bool {
	for _, v := range ss {
		if v == s {
			return true
		}
	}
	return false
}
