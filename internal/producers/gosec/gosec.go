// Package gosec runs securego/gosec on Go code and parses its JSON report.
package gosec

import (
	"bytes"

	"github.com/draconsec/dracon/internal/producers/jsontok"
	"github.com/go-json-experiment/json/jsontext"
	"strconv"
	"strings"

	"github.com/draconsec/dracon/internal/producers"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

const name = "gosec"

// Producer is gosec: Go static analysis for security defects.
var Producer = &producers.Producer{
	Name:        name,
	Aliases:     []string{"golang-gosec"},
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
		Targets:     1,
		VersionArgs: []string{"-version"},
	},
}

// Parse reads gosec's JSON report (-fmt=json). The report is read token
// by token: gosec reports of large monorepos run to 100,000 findings, and
// each becomes an issue as soon as it is read.
func Parse(data []byte) (*producers.Parsed, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, &producers.ParseError{Tool: name, Offset: -1, Err: producers.ErrEmpty}
	}
	out := &producers.Parsed{}
	dec := jsontok.NewDecoder(data)
	sawIssues := false
	cwes := map[string]cweInfo{}
	err := jsontok.Members(dec, "gosec report", func(key string) error {
		switch key {
		case "Issues":
			sawIssues = true
			return jsontok.Elements(dec, "Issues", func(int) error {
				is, err := readIssue(dec, cwes)
				if err == nil {
					out.Issues = append(out.Issues, is)
				}
				return err
			})
		case "GosecVersion":
			return jsontok.String(dec, &out.ToolVersion)
		}
		return dec.SkipValue()
	})
	if err != nil {
		return nil, producers.JSONError(name, err)
	}
	if !sawIssues {
		return nil, producers.Errorf(name, `not a gosec JSON report: no "Issues" key`)
	}
	for _, is := range out.Issues {
		is.ToolVersion = out.ToolVersion
	}
	return out, nil
}

// cweInfo is shared by every issue of one CWE: the list and the link.
type cweInfo struct {
	ids  []int32
	refs []string
}

func readIssue(dec *jsontext.Decoder, cwes map[string]cweInfo) (*v1.Issue, error) {
	var sev, conf, file, code, line, column, cweID, cweURL string
	iss := &v1.Issue{ToolName: name}
	err := jsontok.Fields(dec, "issue", func(key []byte) error {
		switch string(key) {
		case `"severity"`:
			return jsontok.String(dec, &sev)
		case `"confidence"`:
			return jsontok.String(dec, &conf)
		case `"rule_id"`:
			return jsontok.String(dec, &iss.RuleId)
		case `"details"`:
			return jsontok.String(dec, &iss.Title)
		case `"file"`:
			return jsontok.String(dec, &file)
		case `"code"`:
			return jsontok.String(dec, &code)
		case `"line"`:
			return jsontok.Text(dec, &line)
		case `"column"`:
			return jsontok.Text(dec, &column)
		case `"cwe"`:
			if dec.PeekKind() == 'n' {
				return dec.SkipValue()
			}
			// gosec v2.8 and later write "id" and "url"; v2.2 to v2.7
			// wrote the Go field names, "ID" and "URL".
			return jsontok.Fields(dec, "cwe", func(key []byte) error {
				switch {
				case bytes.EqualFold(key, []byte(`"id"`)):
					return jsontok.Text(dec, &cweID)
				case bytes.EqualFold(key, []byte(`"url"`)):
					return jsontok.String(dec, &cweURL)
				}
				return dec.SkipValue()
			})
		}
		return dec.SkipValue()
	})
	if err != nil {
		return nil, err
	}
	start, end := lineRange(line)
	iss.Type = iss.RuleId
	iss.Severity = producers.SeverityFromText(sev)
	iss.Confidence = producers.ConfidenceFromText(conf)
	iss.Target = producers.Target(file, start, end)
	iss.Location = &v1.Location{Path: file, StartLine: int32(start), EndLine: int32(max(end, start)), StartColumn: int32(producers.Atoi(column))}
	iss.ContextSegment = &code
	if cweID != "" {
		c, ok := cwes[cweID+" "+cweURL]
		if !ok {
			c.ids = producers.CWEs(cweID)
			if cweURL != "" {
				c.refs = []string{cweURL}
			}
			cwes[cweID+" "+cweURL] = c
		}
		iss.Cwe, iss.References = c.ids, c.refs
	}
	return iss, nil
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
