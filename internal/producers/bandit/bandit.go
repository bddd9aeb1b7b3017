// Package bandit runs PyCQA bandit on Python code and parses its JSON report.
package bandit

import (
	"github.com/draconsec/dracon/internal/producers"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

const name = "bandit"

// Producer is bandit: Python static analysis for security defects.
var Producer = &producers.Producer{
	Name:        name,
	Aliases:     []string{"python-bandit"},
	Kind:        producers.SAST,
	Languages:   []string{"python"},
	Description: "insecure Python code: shell injection, weak crypto, unsafe deserialisation, SQL built from strings",
	Formats:     []string{"json", "sarif"},
	Parse:       Parse,
	Detect:      []string{"*.py"},
	RunsHere:    true,
	Tool: &producers.Tool{
		Binary:  "bandit",
		Version: "1.6.2",
		Install: "apt-get install bandit  (or: pipx install bandit)",
		// Dracon's own image (containers/debian, scripts/build-scanner-images.sh
		// bandit): Debian's bandit at the pinned version. The upstream image
		// has only moving tags and another bandit, whose findings differ.
		Image: "localhost/dracon-scanner/bandit:1.6.2",
		Args: func(src, out string) []string {
			// -x skips folders a repository rarely means to ship.
			return []string{"-r", ".", "-f", "json", "-o", out, "-q",
				"-x", "./.git,./.dracon,./node_modules,./.venv,./venv"}
		},
		// bandit exits 1 when it finds issues.
		OKExitCodes: []int{1},
		VersionArgs: []string{"--version"},
	},
}

type report struct {
	Results *[]result `json:"results"`
	Errors  []struct {
		Filename string `json:"filename"`
		Reason   string `json:"reason"`
	} `json:"errors"`
}

type result struct {
	Code       string `json:"code"`
	Filename   string `json:"filename"`
	Confidence string `json:"issue_confidence"`
	Severity   string `json:"issue_severity"`
	CWE        *struct {
		ID   int    `json:"id"`
		Link string `json:"link"`
	} `json:"issue_cwe"`
	Text      string `json:"issue_text"`
	Line      int    `json:"line_number"`
	LineRange []int  `json:"line_range"`
	Column    int    `json:"col_offset"`
	MoreInfo  string `json:"more_info"`
	TestID    string `json:"test_id"`
	TestName  string `json:"test_name"`
}

// Parse reads bandit's JSON report (-f json).
func Parse(data []byte) (*producers.Parsed, error) {
	var r report
	if err := producers.DecodeJSON(name, data, &r); err != nil {
		return nil, err
	}
	if r.Results == nil {
		return nil, producers.Errorf(name, `not a bandit JSON report: no "results" key`)
	}
	out := &producers.Parsed{Issues: make([]*v1.Issue, 0, len(*r.Results))}
	for _, res := range *r.Results {
		start, end := res.Line, res.Line
		if n := len(res.LineRange); n > 0 && res.LineRange[n-1] > end {
			end = res.LineRange[n-1]
		}
		loc := producers.Loc(res.Filename, start, end)
		if res.Column > 0 {
			loc.StartColumn = int32(res.Column + 1) // bandit's col_offset is 0-based
		}
		iss := &v1.Issue{
			Target:         producers.Target(res.Filename, start, end),
			Type:           res.TestID,
			RuleId:         res.TestID,
			Title:          res.Text,
			Severity:       producers.SeverityFromText(res.Severity),
			Confidence:     producers.ConfidenceFromText(res.Confidence),
			Description:    res.Text,
			ContextSegment: &res.Code,
			Location:       loc,
			ToolName:       name,
			Tags:           []string{res.TestName},
		}
		if res.CWE != nil && res.CWE.ID > 0 {
			iss.Cwe = []int32{int32(res.CWE.ID)}
		}
		if res.MoreInfo != "" {
			iss.References = []string{res.MoreInfo}
		}
		out.Issues = append(out.Issues, iss)
	}
	return out, nil
}
