// Package gitleaks runs gitleaks on a working tree and parses its JSON
// report. Secret values never leave this package: every text field of an
// issue is redacted, and findings are identified by a hash of the secret.
package gitleaks

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/draconsec/dracon/internal/producers"
	"github.com/draconsec/dracon/internal/producers/sarif"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

const name = "gitleaks"

// Producer is gitleaks: hard-coded secrets (keys, tokens, passwords).
var Producer = &producers.Producer{
	Name:        name,
	Kind:        producers.Secrets,
	Languages:   []string{"any"},
	Description: "hard-coded secrets: cloud keys, API tokens, private keys, passwords",
	Formats:     []string{"json", "sarif"},
	Parse:       Parse,
	Detect:      []string{"*"}, // secrets can be in any file
	RunsHere:    true,
	Tool: &producers.Tool{
		Binary:    "gitleaks",
		Version:   "v8.30.1",
		GoPackage: "github.com/zricethezav/gitleaks/v8",
		Image:     "docker.io/zricethezav/gitleaks:v8.30.1",
		Args: func(src, out string) []string {
			// "dir ." scans the working tree (the runner starts it in src),
			// so report paths are relative to the repository. No --redact:
			// Dracon needs the values, in memory, to hide them in every
			// other tool's findings too; it scrubs them from this report
			// file as soon as it has read it. --exit-code 0 lets the gate,
			// not gitleaks, decide.
			return []string{"dir", ".", "--report-format", "json", "--report-path", out,
				"--no-banner", "--no-color", "--exit-code", "0", "--log-level", "warn"}
		},
		VersionArgs: []string{"version"},
	},
}

// finding is one leak in either of gitleaks' JSON shapes: v8 (capitalised
// keys: RuleID, Secret, Match, StartLine, ...) or v7 and earlier (rule,
// offender, line, lineNumber, ...).
type finding struct {
	// v8
	RuleID      *string  `json:"RuleID"`
	Description string   `json:"Description"`
	StartLine   int      `json:"StartLine"`
	EndLine     int      `json:"EndLine"`
	StartColumn int      `json:"StartColumn"`
	EndColumn   int      `json:"EndColumn"`
	Match       string   `json:"Match"`
	Secret      string   `json:"Secret"`
	File        string   `json:"File"`
	Commit      string   `json:"Commit"`
	Link        string   `json:"Link"`
	Entropy     float64  `json:"Entropy"`
	Date        string   `json:"Date"`
	Tags        []string `json:"Tags"`

	// v7 and earlier
	Rule       *string `json:"rule"`
	Line       string  `json:"line"`
	LineNumber int     `json:"lineNumber"`
	Offender   string  `json:"offender"`
	V7File     string  `json:"file"`
	V7Commit   string  `json:"commit"`
	V7Date     string  `json:"date"`
	LeakURL    string  `json:"leakURL"`
	V7Tags     string  `json:"tags"`
}

// Parse reads gitleaks' JSON report (--report-format json): an array of
// findings, or null when an old gitleaks found nothing. It also reads
// gitleaks' SARIF (--report-format sarif), whose snippets are the secrets.
func Parse(data []byte) (*producers.Parsed, error) {
	if sarif.Sniff(data) {
		return parseSARIF(data)
	}
	var fs *[]finding
	if err := producers.DecodeJSON(name, data, &fs); err != nil {
		return nil, err
	}
	out := &producers.Parsed{}
	if fs == nil {
		if !bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
			return nil, producers.Errorf(name, "not a gitleaks JSON report: want an array of findings")
		}
		return out, nil // gitleaks 7 writes null when it finds nothing
	}
	out.Issues = make([]*v1.Issue, 0, len(*fs))
	for i := range *fs {
		f := &(*fs)[i]
		var iss *v1.Issue
		switch {
		case f.RuleID != nil:
			iss = v8Issue(f)
		case f.Rule != nil || f.Offender != "":
			iss = v7Issue(f)
		default:
			return nil, producers.Errorf(name, `finding %d has neither "RuleID" (gitleaks 8) nor "rule" (gitleaks 7): not a gitleaks report`, i)
		}
		out.Issues = append(out.Issues, iss)
	}
	out.Secrets = secretsOf(*fs)
	return out, nil
}

// secretsOf lists the values the report shows in full, for Dracon to hide
// wherever else they appear.
func secretsOf(fs []finding) []string {
	var out []string
	for i := range fs {
		f := &fs[i]
		// As the issue builders do: with no Secret the whole match is the
		// value (gitleaks 8), with no offender the whole line (gitleaks 7).
		s := producers.FirstNonEmpty(f.Secret, f.Match)
		if f.RuleID == nil {
			s = producers.FirstNonEmpty(f.Offender, f.Line)
		}
		if s != "" && !redacted(s) {
			out = append(out, s)
		}
	}
	return out
}

// redacted says the report already hid the value: gitleaks --redact writes
// "REDACTED" (older versions put it in place of the value inside the line),
// and --redact=N the first part of the value followed by "...".
func redacted(secret string) bool {
	return strings.Contains(secret, "REDACTED") || strings.HasSuffix(secret, "...")
}

func v8Issue(f *finding) *v1.Issue {
	// With no Secret the whole match is the value to hide.
	secret := producers.FirstNonEmpty(f.Secret, f.Match)
	rule := *f.RuleID
	start, end := f.StartLine, f.EndLine
	file := f.File
	red := func(s string) string { return redact(s, secret) }
	iss := &v1.Issue{
		Target:     producers.Target(red(file), start, end),
		Type:       red(rule),
		RuleId:     red(rule),
		Title:      red(producers.FirstNonEmpty(f.Description, rule, "secret")),
		Severity:   v1.Severity_SEVERITY_HIGH,
		Confidence: v1.Confidence_CONFIDENCE_UNSPECIFIED,
		Location:   producers.Loc(red(file), start, end),
		ToolName:   name,
		Tags:       redactAll(f.Tags, secret),
	}
	iss.Location.StartColumn, iss.Location.EndColumn = int32(f.StartColumn), int32(f.EndColumn)
	if f.Match != "" {
		code := red(f.Match)
		iss.ContextSegment = &code
	}
	iss.Description = describe(iss.Title, iss.Target, f.Commit, red(f.Match), f.Entropy)
	if secret == "" || redacted(secret) {
		iss.Fingerprint = redactedFingerprint(rule, file, f.Commit, start, f.Match)
	} else {
		iss.Fingerprint = producers.SecretFingerprint(secret)
	}
	annotate(iss, f.Commit, f.Date, f.Entropy)
	if f.Link != "" {
		iss.References = []string{red(f.Link)}
	}
	return iss
}

func v7Issue(f *finding) *v1.Issue {
	// With no offender the whole line is the value to hide.
	secret := producers.FirstNonEmpty(f.Offender, f.Line)
	rule := ""
	if f.Rule != nil {
		rule = *f.Rule
	}
	red := func(s string) string { return redact(s, secret) }
	file := f.V7File
	if file == "" {
		file = "(unknown file)"
	}
	iss := &v1.Issue{
		Target:     producers.Target(red(file), f.LineNumber, f.LineNumber),
		Type:       red(rule),
		RuleId:     red(rule),
		Title:      red(producers.FirstNonEmpty(rule, "secret")),
		Severity:   v1.Severity_SEVERITY_HIGH,
		Confidence: v1.Confidence_CONFIDENCE_UNSPECIFIED,
		Location:   producers.Loc(red(file), f.LineNumber, f.LineNumber),
		ToolName:   name,
	}
	for _, t := range strings.Split(f.V7Tags, ",") {
		if t = strings.TrimSpace(t); t != "" {
			iss.Tags = append(iss.Tags, red(t))
		}
	}
	line := red(f.Line)
	if line != "" {
		iss.ContextSegment = &line
	}
	iss.Description = describe(iss.Title, iss.Target, f.V7Commit, line, 0)
	if secret == "" || redacted(secret) {
		iss.Fingerprint = redactedFingerprint(rule, file, f.V7Commit, f.LineNumber, f.Line)
	} else {
		iss.Fingerprint = producers.SecretFingerprint(secret)
	}
	annotate(iss, f.V7Commit, f.V7Date, 0)
	if f.LeakURL != "" {
		iss.References = []string{red(f.LeakURL)}
	}
	return iss
}

// redact hides secret in s. A fully redacted report holds only the marker,
// which is safe to show; a partly redacted one ("AKIAQ2DRAC...") still
// shows the start of the value, which is hidden too.
func redact(s, secret string) string {
	switch {
	case strings.Contains(secret, "REDACTED"):
		return s
	case strings.HasSuffix(secret, "..."):
		return producers.RedactIn(s, strings.TrimSuffix(secret, "..."))
	}
	return producers.RedactIn(s, secret)
}

func redactAll(ss []string, secret string) []string {
	if len(ss) == 0 {
		return nil
	}
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = redact(s, secret)
	}
	return out
}

// redactedFingerprint identifies a finding whose secret the report does
// not hold. It hashes the rule, file, commit, line number and the
// (redacted) line: gitleaks --redact replaces the whole match with
// "REDACTED", so without the line number two secrets of one rule in one
// file would look the same. The result is never a hash of the secret, so a
// leak found in a redacted and an unredacted report are two fingerprints.
func redactedFingerprint(rule, file, commit string, line int, content string) string {
	return producers.SecretFingerprint("gitleaks-redacted\x00" + rule + "\x00" + file + "\x00" + commit +
		"\x00" + strconv.Itoa(line) + "\x00" + content)
}

func describe(title, target, commit, code string, entropy float64) string {
	var b strings.Builder
	b.WriteString(title)
	b.WriteString(" in ")
	b.WriteString(target)
	if commit != "" {
		b.WriteString(" (commit ")
		b.WriteString(commit)
		b.WriteString(")")
	}
	if code != "" {
		b.WriteString(": ")
		b.WriteString(code)
	}
	if entropy > 0 {
		b.WriteString(" [entropy ")
		b.WriteString(strconv.FormatFloat(entropy, 'f', 2, 64))
		b.WriteString("]")
	}
	return b.String()
}

func annotate(iss *v1.Issue, commit, date string, entropy float64) {
	set := func(k, v string) {
		if v == "" {
			return
		}
		if iss.Annotations == nil {
			iss.Annotations = map[string]string{}
		}
		iss.Annotations[k] = v
	}
	set("gitleaks.commit", commit)
	if date != "" && !strings.HasPrefix(date, "0001-01-01") {
		set("gitleaks.date", date)
	}
	if entropy > 0 {
		set("gitleaks.entropy", strconv.FormatFloat(entropy, 'f', -1, 64))
	}
}

// parseSARIF reads gitleaks' SARIF through the SARIF importer, then treats
// each result's snippet as the secret: it becomes the fingerprint and is
// redacted wherever it appears. The importer's fingerprint (gitleaks'
// partialFingerprints: commit, author, email, date, commit message) is
// replaced. Severity is HIGH as for the JSON report.
func parseSARIF(data []byte) (*producers.Parsed, error) {
	got, err := sarif.ParseOwn(name, "gitleaks", data)
	if err != nil {
		return nil, err
	}
	for _, is := range got.Issues {
		secret := is.GetContextSegment()
		if secret != "" && !redacted(secret) {
			got.Secrets = append(got.Secrets, secret)
		}
		is.Severity = v1.Severity_SEVERITY_HIGH
		is.Annotations = nil
		if secret == "" || redacted(secret) {
			path := is.GetLocation().GetPath()
			is.Fingerprint = redactedFingerprint(is.RuleId, path, "", int(is.GetLocation().GetStartLine()), secret)
		} else {
			is.Fingerprint = producers.SecretFingerprint(secret)
		}
		red := func(s string) string { return redact(s, secret) }
		if is.ContextSegment != nil {
			c := red(secret)
			is.ContextSegment = &c
		}
		is.Title, is.Description, is.Target = red(is.Title), red(is.Description), red(is.Target)
		is.Type, is.RuleId = red(is.Type), red(is.RuleId)
		if is.Location != nil {
			is.Location.Path = red(is.Location.Path)
		}
		is.Tags = redactAll(is.Tags, secret)
		is.References = redactAll(is.References, secret)
	}
	return got, nil
}
