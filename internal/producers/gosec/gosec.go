// Package gosec runs securego/gosec on Go code and parses its JSON report.
package gosec

import (
	"strconv"
	"strings"

	"github.com/draconsec/dracon/internal/producers"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

const name = "gosec"

// Producer is gosec: Go static analysis for security defects.
var Producer = &producers.Producer{
	Name:        name,
	Kind:        producers.SAST,
	Languages:   []string{"go"},
	Description: "insecure Go code: injection, weak crypto, unchecked errors, file permissions",
	Formats:     []string{"json", "sarif"},
	Parse:       Parse,
	Detect:      []string{"go.mod", "*.go"},
	RunsHere:    true,
	Tool: &producers.Tool{
		Binary:    "gosec",
		Version:   "v2.30.0",
		GoPackage: "github.com/securego/gosec/v2/cmd/gosec",
		Image:     "docker.io/securego/gosec:2.30.0",
		Args: func(src, out string) []string {
			// -no-fail: exit 0 whatever is found; the gate decides.
			// -quiet keeps the log short; the report carries everything.
			return []string{"-fmt=json", "-out=" + out, "-no-fail", "-quiet", "./..."}
		},
		// 1 is "issues found" when -no-fail is not honoured by older versions.
		OKExitCodes: []int{1},
		VersionArgs: []string{"-version"},
	},
}

type report struct {
	Issues  *[]issue         `json:"Issues"`
	Errors  map[string][]any `json:"Golang errors"`
	Stats   map[string]any   `json:"Stats"`
	Version string           `json:"GosecVersion"`
}

type issue struct {
	Severity   string `json:"severity"`
	Confidence string `json:"confidence"`
	CWE        *struct {
		ID  string `json:"id"`
		URL string `json:"url"`
	} `json:"cwe"`
	RuleID  string `json:"rule_id"`
	Details string `json:"details"`
	File    string `json:"file"`
	Code    string `json:"code"`
	Line    string `json:"line"`
	Column  string `json:"column"`
	NoSec   bool   `json:"nosec"`
}

// Parse reads gosec's JSON report (-fmt=json).
func Parse(data []byte) (*producers.Parsed, error) {
	var r report
	if err := producers.DecodeJSON(name, data, &r); err != nil {
		return nil, err
	}
	if r.Issues == nil {
		return nil, producers.Errorf(name, `not a gosec JSON report: no "Issues" key`)
	}
	out := &producers.Parsed{ToolVersion: r.Version, Issues: make([]*v1.Issue, 0, len(*r.Issues))}
	for _, is := range *r.Issues {
		start, end := lineRange(is.Line)
		loc := producers.Loc(is.File, start, end)
		loc.StartColumn = int32(producers.Atoi(is.Column))
		iss := &v1.Issue{
			Target:         producers.Target(is.File, start, end),
			Type:           is.RuleID,
			RuleId:         is.RuleID,
			Title:          is.Details,
			Severity:       producers.SeverityFromText(is.Severity),
			Confidence:     producers.ConfidenceFromText(is.Confidence),
			Description:    is.Details,
			ContextSegment: &is.Code,
			Location:       loc,
			ToolName:       name,
			ToolVersion:    r.Version,
		}
		if is.CWE != nil {
			iss.Cwe = producers.CWEs(is.CWE.ID)
			if is.CWE.URL != "" {
				iss.References = append(iss.References, is.CWE.URL)
			}
		}
		out.Issues = append(out.Issues, iss)
	}
	return out, nil
}

// lineRange reads gosec's "12" or "12-14".
func lineRange(s string) (int, int) {
	a, b, ok := strings.Cut(s, "-")
	start, _ := strconv.Atoi(strings.TrimSpace(a))
	if !ok {
		return start, start
	}
	end, _ := strconv.Atoi(strings.TrimSpace(b))
	return start, end
}
