// Package synth generates large, realistic scanner reports for benchmarks:
// SARIF like CodeQL's and semgrep's, and gosec's JSON. The output is
// deterministic for a given size, so runs compare.
package synth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

var words = []string{"user", "input", "query", "request", "handler", "token", "session", "config", "buffer", "path", "command", "template"}

// SARIF returns a SARIF 2.1.0 log with n results spread over 60 rules of
// one run, each result with a message, one location with a region and a
// snippet, partial fingerprints and properties, roughly what CodeQL and
// semgrep write per result.
func SARIF(n int) []byte {
	var b bytes.Buffer
	b.Grow(n * 800)
	b.WriteString(`{"$schema":"https://json.schemastore.org/sarif-2.1.0.json","version":"2.1.0","runs":[{"tool":{"driver":{"name":"SynthQL","semanticVersion":"2.24.2","rules":[`)
	const rules = 60
	levels := []string{"error", "warning", "note"}
	for r := 0; r < rules; r++ {
		if r > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":"synth/rule-%d","name":"Rule%d","shortDescription":{"text":"Possible %s injection through %s"},"fullDescription":{"text":"Data that reaches a %s from %s may let an attacker change what the program does."},"defaultConfiguration":{"level":%q},"helpUri":"https://example.com/rules/%d","properties":{"tags":["security","external/cwe/cwe-%03d"],"precision":"high","security-severity":"%d.%d"}}`,
			r, r, words[r%len(words)], words[(r+3)%len(words)], words[(r+5)%len(words)], words[(r+7)%len(words)], levels[r%3], r, 20+r, r%10, r%7)
	}
	b.WriteString(`]}},"results":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		r := i % rules
		line := 10 + i%900
		msg := words[i%len(words)] + " flows from " + words[(i/7)%len(words)] + " to a sink without sanitisation"
		fmt.Fprintf(&b, `{"ruleId":"synth/rule-%d","ruleIndex":%d,"level":%q,"message":{"text":%q},"locations":[{"physicalLocation":{"artifactLocation":{"uri":"src/pkg%d/file%d.go","uriBaseId":"%%SRCROOT%%"},"region":{"startLine":%d,"startColumn":%d,"endLine":%d,"endColumn":%d,"snippet":{"text":%s}}}}],"partialFingerprints":{"primaryLocationLineHash":"%016x:1","primaryLocationStartColumnFingerprint":"%d"},"properties":{"tags":["synthetic"]}}`,
			r, r, levels[r%3], msg, i%97, i%13, line, 5+i%40, line+i%3, 30+i%50,
			strconv.Quote("\t"+words[i%len(words)]+" := exec.Command(req.FormValue(\""+words[(i+1)%len(words)]+"\"))"), uint64(i)*2654435761, i%40)
	}
	b.WriteString(`],"columnKind":"utf16CodeUnits"}]}`)
	return b.Bytes()
}

// Gosec returns gosec's JSON report (-fmt=json) with n issues.
func Gosec(n int) []byte {
	type cwe struct {
		ID  string `json:"id"`
		URL string `json:"url"`
	}
	type issue struct {
		Severity   string `json:"severity"`
		Confidence string `json:"confidence"`
		CWE        cwe    `json:"cwe"`
		RuleID     string `json:"rule_id"`
		Details    string `json:"details"`
		File       string `json:"file"`
		Code       string `json:"code"`
		Line       string `json:"line"`
		Column     string `json:"column"`
		NoSec      bool   `json:"nosec"`
	}
	rules := []struct{ id, cwe, sev, details string }{
		{"G104", "703", "LOW", "Errors unhandled"},
		{"G204", "78", "MEDIUM", "Subprocess launched with variable"},
		{"G304", "22", "MEDIUM", "Potential file inclusion via variable"},
		{"G401", "328", "MEDIUM", "Use of weak cryptographic primitive"},
		{"G402", "295", "HIGH", "TLS InsecureSkipVerify set true."},
		{"G101", "798", "HIGH", "Potential hardcoded credentials"},
	}
	issues := make([]issue, n)
	for i := range issues {
		r := rules[i%len(rules)]
		line := 10 + i%800
		issues[i] = issue{
			Severity: r.sev, Confidence: "HIGH", RuleID: r.id, Details: r.details,
			CWE:  cwe{ID: r.cwe, URL: "https://cwe.mitre.org/data/definitions/" + r.cwe + ".html"},
			File: fmt.Sprintf("/home/runner/work/app/app/pkg%d/file%d.go", i%113, i%17),
			Code: fmt.Sprintf("%d: \tout, err := exec.Command(%s).Output()\n%d: \tif err != nil {\n", line, words[i%len(words)], line+1),
			Line: strconv.Itoa(line), Column: strconv.Itoa(2 + i%30),
		}
	}
	out, _ := json.MarshalIndent(map[string]any{
		"Golang errors": map[string]any{},
		"Issues":        issues,
		"Stats":         map[string]int{"files": 113 * 17, "lines": 250000, "nosec": 0, "found": n},
		"GosecVersion":  "dev",
	}, "", "\t")
	return out
}
