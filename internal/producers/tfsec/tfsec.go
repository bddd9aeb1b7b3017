// Package tfsec runs aquasecurity/tfsec on Terraform code and parses its
// JSON report in the three shapes tfsec has written: v1.x (AVD ids,
// numeric "status"), v0.40–v0.63 (long ids with "legacy_rule_id", string
// "status") and v0.39 and before (GCP008-style ids, "passed").
package tfsec

import (
	"bytes"
	"errors"
	"strconv"
	"strings"

	"github.com/draconsec/dracon/internal/producers"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

const name = "tfsec"

// Producer is tfsec: misconfigurations in Terraform code.
var Producer = &producers.Producer{
	Name:        name,
	Aliases:     []string{"terraform-tfsec"},
	Kind:        producers.IaC,
	Languages:   []string{"terraform"},
	Description: "Terraform misconfigurations: public buckets and ingress, missing encryption, logging and versioning",
	Formats:     []string{"json", "sarif"},
	Parse:       Parse,
	Detect:      []string{"*.tf", "*.tf.json"},
	RunsHere:    true,
	Tool: &producers.Tool{
		Binary:    "tfsec",
		Version:   "v1.28.14",
		GoPackage: "github.com/aquasecurity/tfsec/cmd/tfsec",
		Image:     "docker.io/aquasec/tfsec:v1.28.14",
		Args: func(src, out string) []string {
			// --soft-fail: exit 0 whatever is found; the gate decides.
			// --no-module-downloads keeps the scan offline.
			return []string{src, "--format", "json", "--out", out, "--no-color",
				"--soft-fail", "--no-module-downloads"}
		},
		// 1 is "issues found" if --soft-fail is ever not honoured.
		OKExitCodes: []int{1},
		VersionArgs: []string{"--version"},
	},
}

type report struct {
	Results *[]result `json:"results"`
}

type result struct {
	RuleID          string   `json:"rule_id"`
	LongID          string   `json:"long_id"`
	RuleDescription string   `json:"rule_description"`
	Provider        string   `json:"rule_provider"`
	Service         string   `json:"rule_service"`
	Impact          string   `json:"impact"`
	Resolution      string   `json:"resolution"`
	Links           []string `json:"links"`
	Link            string   `json:"link"` // legacy: "See https://... for more information."
	Description     string   `json:"description"`
	Severity        string   `json:"severity"`
	Warning         bool     `json:"warning"`
	LegacyRuleID    string   `json:"legacy_rule_id"` // v0.40–v0.63: "AWS017"
	Status          status   `json:"status"`
	Passed          bool     `json:"passed"` // v0.39 and before
	Resource        string   `json:"resource"`
	Location        struct {
		Filename  string `json:"filename"`
		StartLine int    `json:"start_line"`
		EndLine   int    `json:"end_line"`
	} `json:"location"`
}

// status is a result's outcome, normalised to "failed", "passed",
// "ignored" or "" (not written). tfsec v1.x writes defsec's scan.Status, a
// number (0 failed, 1 passed, 2 ignored); v0.40 to v0.63 wrote the words
// (pkg/result/result.go: "failed", "passed", "ignored"). A value neither
// version writes is kept as written ("status 7") and the result is kept as
// a finding: an outcome this parser does not know is not a pass.
type status string

const (
	statusFailed  status = "failed"
	statusPassed  status = "passed"
	statusIgnored status = "ignored"
)

func (s *status) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || bytes.Equal(b, []byte("null")):
		*s = ""
	case b[0] == '"':
		text, err := strconv.Unquote(string(b))
		if err != nil {
			return errors.New(`"status" is not a valid string`)
		}
		*s = status(strings.ToLower(strings.TrimSpace(text)))
	default:
		n, err := strconv.ParseInt(string(b), 10, 64)
		if err != nil {
			return errors.New(`"status" is neither a number nor a string`)
		}
		switch n {
		case 0:
			*s = statusFailed
		case 1:
			*s = statusPassed
		case 2:
			*s = statusIgnored
		default:
			*s = status("status " + strconv.FormatInt(n, 10))
		}
	}
	return nil
}

// Parse reads tfsec's JSON report (--format json). Passed checks (present
// with --include-passed: "status" 1 or "passed", or "passed": true in the
// oldest format) are not findings and are left out; checks ignored by a
// tfsec:ignore comment (present with --include-ignored) are kept and
// tagged "ignored".
func Parse(data []byte) (*producers.Parsed, error) {
	var r report
	if err := producers.DecodeJSON(name, data, &r); err != nil {
		return nil, err
	}
	if r.Results == nil {
		// tfsec writes "results": null when it finds nothing, so the key
		// itself is what identifies its report.
		if !hasResultsKey(data) {
			return nil, producers.Errorf(name, `not a tfsec JSON report: no "results" key`)
		}
		return &producers.Parsed{Issues: []*v1.Issue{}}, nil
	}
	out := &producers.Parsed{Issues: make([]*v1.Issue, 0, len(*r.Results))}
	for i, res := range *r.Results {
		if res.Passed || res.Status == statusPassed {
			continue
		}
		if res.RuleID == "" {
			return nil, producers.Errorf(name, "result %d has no rule_id", i)
		}
		l := res.Location
		iss := &v1.Issue{
			Target:      producers.Target(l.Filename, l.StartLine, l.EndLine),
			Type:        res.RuleID,
			RuleId:      res.RuleID,
			Title:       producers.FirstNonEmpty(res.RuleDescription, res.Description, res.RuleID),
			Severity:    severity(res.Severity),
			Description: description(&res),
			Location:    producers.Loc(l.Filename, l.StartLine, l.EndLine),
			References:  references(&res),
			ToolName:    name,
		}
		for _, a := range []string{res.LongID, res.LegacyRuleID} {
			if a != "" && a != res.RuleID {
				iss.Aliases = append(iss.Aliases, a)
			}
		}
		for _, t := range []string{res.Provider, res.Service} {
			if t != "" {
				iss.Tags = append(iss.Tags, t)
			}
		}
		if res.Warning {
			iss.Tags = append(iss.Tags, "warning")
		}
		switch res.Status {
		case "", statusFailed:
		case statusIgnored:
			iss.Tags = append(iss.Tags, "ignored")
		default:
			iss.Tags = append(iss.Tags, "status:"+string(res.Status))
		}
		if res.Resource != "" {
			iss.Annotations = map[string]string{"resource": res.Resource}
		}
		out.Issues = append(out.Issues, iss)
	}
	return out, nil
}

// severity maps tfsec's CRITICAL/HIGH/MEDIUM/LOW and the legacy
// ERROR/WARNING/INFO; anything else is MEDIUM, tfsec's middle.
func severity(s string) v1.Severity {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "CRITICAL":
		return v1.Severity_SEVERITY_CRITICAL
	case "HIGH", "ERROR":
		return v1.Severity_SEVERITY_HIGH
	case "MEDIUM", "WARNING":
		return v1.Severity_SEVERITY_MEDIUM
	case "LOW", "INFO":
		return v1.Severity_SEVERITY_LOW
	default:
		return v1.Severity_SEVERITY_MEDIUM
	}
}

func description(r *result) string {
	var b strings.Builder
	for _, part := range []struct{ label, text string }{
		{"", r.Description},
		{"Impact: ", r.Impact},
		{"Resolution: ", r.Resolution},
		{"Resource: ", r.Resource},
	} {
		if strings.TrimSpace(part.text) == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("\n")
		}
		b.WriteString(part.label)
		b.WriteString(part.text)
	}
	return b.String()
}

func references(r *result) []string {
	refs := append([]string(nil), r.Links...)
	if r.Link != "" {
		// Legacy reports wrap the URL in a sentence.
		for _, f := range strings.Fields(r.Link) {
			if strings.HasPrefix(f, "http://") || strings.HasPrefix(f, "https://") {
				refs = append(refs, f)
			}
		}
	}
	return refs
}

// hasResultsKey reports whether the top-level object names "results".
func hasResultsKey(data []byte) bool {
	var m map[string]any
	if producers.DecodeJSON(name, data, &m) != nil {
		return false
	}
	_, ok := m["results"]
	return ok
}
