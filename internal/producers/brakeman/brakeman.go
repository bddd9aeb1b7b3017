// Package brakeman runs Brakeman on Ruby on Rails applications and parses
// its JSON report.
package brakeman

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/draconsec/dracon/internal/producers"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

const name = "brakeman"

// Producer is Brakeman: static analysis of Rails applications.
var Producer = &producers.Producer{
	Name:         name,
	Kind:         producers.SAST,
	Languages:    []string{"ruby"},
	Description:  "insecure Ruby on Rails code: SQL and command injection, XSS, mass assignment, unsafe redirects and deserialisation",
	Formats:      []string{"json", "sarif"},
	Parse:        Parse,
	Detect:       []string{"Gemfile"},
	DetectAtRoot: true,
	Tool: &producers.Tool{
		Binary:  "brakeman",
		Version: "7.1.0",
		Install: "gem install brakeman -v 7.1.0",
		// No image: upstream's :latest is another brakeman each release,
		// and no tag for 7.1.0 is checked from here. runner: container
		// asks for producers.brakeman.image (a pinned tag or @sha256:).
		Image: "",
		Args: func(src, out string) []string {
			// --no-exit-on-warn / --no-exit-on-error: exit 0 whatever is
			// found; the gate decides. --force scans an app Brakeman does
			// not recognise as Rails rather than stopping.
			return []string{"--format", "json", "--output", out, "--quiet", "--no-pager",
				"--no-exit-on-warn", "--no-exit-on-error", "--force", src}
		},
		// 3 is "warnings found", 7 "errors while scanning", when the
		// --no-exit-on flags are not honoured (versions before 4.x).
		OKExitCodes: []int{3, 7},
		VersionArgs: []string{"--version"},
	},
}

type report struct {
	ScanInfo *struct {
		Version string `json:"brakeman_version"`
	} `json:"scan_info"`
	Warnings *[]warning `json:"warnings"`
	Ignored  []warning  `json:"ignored_warnings"`
}

type warning struct {
	WarningType string          `json:"warning_type"`
	WarningCode *int            `json:"warning_code"`
	Fingerprint string          `json:"fingerprint"`
	CheckName   string          `json:"check_name"`
	Message     string          `json:"message"`
	File        string          `json:"file"`
	Line        *int            `json:"line"`
	Link        string          `json:"link"`
	Code        *string         `json:"code"`
	UserInput   *string         `json:"user_input"`
	Confidence  string          `json:"confidence"`
	CWE         json.RawMessage `json:"cwe_id"`
	Location    *struct {
		Type     string `json:"type"`
		Class    string `json:"class"`
		Method   string `json:"method"`
		Template string `json:"template"`
	} `json:"location"`
	Note string `json:"note"` // on ignored warnings: why
}

// Parse reads Brakeman's JSON report (--format json). Warnings a
// brakeman.ignore file silences (ignored_warnings) are kept, tagged
// "ignored", so that policy sees them and decides.
func Parse(data []byte) (*producers.Parsed, error) {
	var r report
	if err := producers.DecodeJSON(name, data, &r); err != nil {
		return nil, err
	}
	if r.Warnings == nil || r.ScanInfo == nil {
		return nil, producers.Errorf(name, `not a Brakeman JSON report: no "scan_info" and "warnings" keys`)
	}
	out := &producers.Parsed{ToolVersion: r.ScanInfo.Version, Issues: make([]*v1.Issue, 0, len(*r.Warnings)+len(r.Ignored))}
	for i := range *r.Warnings {
		iss, err := issue(&(*r.Warnings)[i], r.ScanInfo.Version, false)
		if err != nil {
			return nil, producers.Errorf(name, "warning %d: %v", i+1, err)
		}
		out.Issues = append(out.Issues, iss)
	}
	for i := range r.Ignored {
		iss, err := issue(&r.Ignored[i], r.ScanInfo.Version, true)
		if err != nil {
			return nil, producers.Errorf(name, "ignored warning %d: %v", i+1, err)
		}
		out.Issues = append(out.Issues, iss)
	}
	return out, nil
}

func issue(w *warning, version string, ignored bool) (*v1.Issue, error) {
	cwes, err := cweList(w.CWE)
	if err != nil {
		return nil, err
	}
	// BRAKE0015 is the id Brakeman's own SARIF report gives warning code
	// 15, so a JSON and a SARIF import of one scan agree.
	rule := strings.TrimSpace(w.CheckName)
	if w.WarningCode != nil {
		rule = fmt.Sprintf("BRAKE%04d", *w.WarningCode)
	}
	if rule == "" {
		rule = strings.TrimSpace(w.WarningType)
	}
	line := 0
	if w.Line != nil {
		line = *w.Line
	}
	file := strings.TrimSpace(w.File)
	target := file
	if target == "" {
		target = "unknown"
	}
	title := strings.TrimSpace(w.Message)
	if wt := strings.TrimSpace(w.WarningType); wt != "" {
		if title == "" {
			title = wt
		} else {
			title = wt + ": " + title
		}
	}
	if title == "" {
		title = "Brakeman warning " + rule
	}

	var b strings.Builder
	b.WriteString(strings.TrimSpace(w.Message))
	if w.UserInput != nil && *w.UserInput != "" {
		b.WriteString("\nUser input: " + *w.UserInput)
	}
	if l := w.Location; l != nil {
		switch {
		case l.Class != "" && l.Method != "":
			b.WriteString("\nIn: " + l.Class + "#" + l.Method)
		case l.Class != "":
			b.WriteString("\nIn: " + l.Class)
		case l.Template != "":
			b.WriteString("\nIn template: " + l.Template)
		}
	}
	if ignored && w.Note != "" {
		b.WriteString("\nIgnored: " + w.Note)
	}

	iss := &v1.Issue{
		Target:      producers.Target(target, line, line),
		Type:        rule,
		RuleId:      rule,
		Title:       title,
		Severity:    severity(w.Confidence),
		Confidence:  producers.ConfidenceFromText(confidenceWord(w.Confidence)),
		Description: strings.TrimSpace(b.String()),
		Cwe:         cwes,
		Fingerprint: w.Fingerprint,
		ToolName:    name,
		ToolVersion: version,
	}
	if file != "" {
		iss.Location = producers.Loc(file, line, line)
	}
	if w.Code != nil {
		code := *w.Code
		iss.ContextSegment = &code
	}
	if strings.HasPrefix(w.Link, "http") {
		iss.References = []string{w.Link}
	}
	for _, t := range []string{w.WarningType, w.CheckName} {
		if t = strings.TrimSpace(t); t != "" && (len(iss.Tags) == 0 || iss.Tags[0] != t) {
			iss.Tags = append(iss.Tags, t)
		}
	}
	if ignored {
		iss.Tags = append(iss.Tags, "ignored")
	}
	return iss, nil
}

// severity maps Brakeman's confidence, its only scale: High is HIGH,
// Medium is MEDIUM, Weak (and Low, in old reports) is LOW. A warning with
// no confidence is MEDIUM.
func severity(conf string) v1.Severity {
	switch strings.ToLower(strings.TrimSpace(conf)) {
	case "high":
		return v1.Severity_SEVERITY_HIGH
	case "weak", "low":
		return v1.Severity_SEVERITY_LOW
	default:
		return v1.Severity_SEVERITY_MEDIUM
	}
}

func confidenceWord(conf string) string {
	if strings.EqualFold(strings.TrimSpace(conf), "weak") {
		return "low"
	}
	return conf
}

// cweList reads cwe_id: a list of numbers in Brakeman 5.2 and later, left
// out before; a lone number is taken too.
func cweList(raw json.RawMessage) ([]int32, error) {
	s := strings.TrimSpace(string(raw))
	if s == "" || s == "null" {
		return nil, nil
	}
	var list []json.Number
	if strings.HasPrefix(s, "[") {
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, fmt.Errorf("cwe_id is not a list of numbers: %v", err)
		}
	} else {
		var one json.Number
		if err := json.Unmarshal(raw, &one); err != nil {
			return nil, fmt.Errorf("cwe_id is not a number: %v", err)
		}
		list = []json.Number{one}
	}
	refs := make([]string, 0, len(list))
	for _, n := range list {
		refs = append(refs, n.String())
	}
	return producers.CWEs(refs...), nil
}
