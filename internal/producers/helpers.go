package producers

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"strconv"
	"strings"

	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// ErrEmpty is returned for a report with no content at all. A scanner that
// found nothing still writes a document ("[]", "{}" or an empty results
// list), so an empty file means the scanner did not finish.
var ErrEmpty = errors.New("empty report: the scanner wrote nothing")

// JSONOptions make the decoder as forgiving as real reports need: scanners
// write keys in varying case, repeat keys, and copy source lines that are
// not valid UTF-8 into their reports.
var JSONOptions = json.JoinOptions(
	json.MatchCaseInsensitiveNames(true),
	jsontext.AllowDuplicateNames(true),
	jsontext.AllowInvalidUTF8(true),
)

// DecodeJSON unmarshals one JSON document into v. Errors carry the byte
// offset where decoding broke so a user can find the spot in the report.
// Every JSON parser goes through here, so the decoder is chosen in one
// place: encoding/json/v2's implementation (go-json-experiment), which
// decodes large reports several times faster than encoding/json.
func DecodeJSON(tool string, data []byte, v any) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return &ParseError{Tool: tool, Offset: -1, Err: ErrEmpty}
	}
	if err := json.Unmarshal(data, v, JSONOptions); err != nil {
		return JSONError(tool, err)
	}
	return nil
}

// JSONError wraps a decoding error from the JSON decoder as a ParseError
// that names the tool and the byte offset where decoding broke.
func JSONError(tool string, err error) error {
	var pe *ParseError
	if errors.As(err, &pe) {
		if pe.Tool == "" {
			pe.Tool = tool
		}
		return pe
	}
	var syn *jsontext.SyntacticError
	var sem *json.SemanticError
	switch {
	case errors.As(err, &syn):
		return &ParseError{Tool: tool, Offset: syn.ByteOffset, Err: err}
	case errors.As(err, &sem):
		return &ParseError{Tool: tool, Offset: sem.ByteOffset, Err: err}
	default:
		return &ParseError{Tool: tool, Offset: -1, Err: err}
	}
}

// Errorf builds a ParseError for a report that decoded but is not what the
// tool writes (the wrong tool's file, a missing required key).
func Errorf(tool, format string, args ...any) error {
	return &ParseError{Tool: tool, Offset: -1, Err: fmt.Errorf(format, args...)}
}

// SeverityFromText maps the words scanners use for severity onto Dracon's
// scale. Unknown words map to UNSPECIFIED so policy can decide.
func SeverityFromText(s string) v1.Severity {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "critical", "crit", "blocker", "very high", "veryhigh":
		return v1.Severity_SEVERITY_CRITICAL
	case "high", "error", "err", "major", "severe", "important":
		return v1.Severity_SEVERITY_HIGH
	case "medium", "moderate", "warning", "warn", "med":
		return v1.Severity_SEVERITY_MEDIUM
	case "low", "minor", "note", "style":
		return v1.Severity_SEVERITY_LOW
	case "info", "informational", "information", "negligible", "none", "ignore":
		return v1.Severity_SEVERITY_INFO
	default:
		return v1.Severity_SEVERITY_UNSPECIFIED
	}
}

// ConfidenceFromText maps the words scanners use for confidence.
func ConfidenceFromText(s string) v1.Confidence {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "critical", "certain", "confirmed":
		return v1.Confidence_CONFIDENCE_CRITICAL
	case "high", "firm":
		return v1.Confidence_CONFIDENCE_HIGH
	case "medium", "moderate":
		return v1.Confidence_CONFIDENCE_MEDIUM
	case "low", "tentative":
		return v1.Confidence_CONFIDENCE_LOW
	case "info", "informational", "false positive":
		return v1.Confidence_CONFIDENCE_INFO
	default:
		return v1.Confidence_CONFIDENCE_UNSPECIFIED
	}
}

// SeverityFromCVSS maps a CVSS v3 base score onto Dracon's scale using the
// CVSS v3 qualitative ratings (and GitHub's security-severity bands).
func SeverityFromCVSS(score float64) v1.Severity {
	switch {
	case score >= 9.0:
		return v1.Severity_SEVERITY_CRITICAL
	case score >= 7.0:
		return v1.Severity_SEVERITY_HIGH
	case score >= 4.0:
		return v1.Severity_SEVERITY_MEDIUM
	case score > 0:
		return v1.Severity_SEVERITY_LOW
	default:
		return v1.Severity_SEVERITY_INFO
	}
}

// Target formats a location the way Dracon's readers expect:
// "path", "path:12" or "path:12-20".
func Target(path string, start, end int) string {
	switch {
	case start <= 0:
		return path
	case end <= start:
		return path + ":" + strconv.Itoa(start)
	default:
		return path + ":" + strconv.Itoa(start) + "-" + strconv.Itoa(end)
	}
}

// Loc builds a structured location; end 0 means a single line.
func Loc(path string, start, end int) *v1.Location {
	if end < start {
		end = start
	}
	return &v1.Location{Path: path, StartLine: int32(start), EndLine: int32(end)}
}

// CWEs parses CWE references such as "CWE-79", "79" or "CWE-79: XSS" into
// numbers, skipping anything that is not one.
func CWEs(refs ...string) []int32 {
	var out []int32
	for _, r := range refs {
		r = strings.TrimSpace(r)
		r = strings.TrimPrefix(strings.TrimPrefix(r, "CWE-"), "cwe-")
		if i := strings.IndexFunc(r, func(c rune) bool { return c < '0' || c > '9' }); i >= 0 {
			r = r[:i]
		}
		if n, err := strconv.Atoi(r); err == nil && n > 0 {
			out = appendUnique(out, int32(n))
		}
	}
	return out
}

func appendUnique(s []int32, n int32) []int32 {
	for _, v := range s {
		if v == n {
			return s
		}
	}
	return append(s, n)
}

// Atoi reads a number that scanners write as a string ("12", "12-14");
// anything unreadable is 0, which means "not given".
func Atoi(s string) int {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '-'); i > 0 {
		s = s[:i]
	}
	n, _ := strconv.Atoi(s)
	return n
}

// RedactSecret returns a form of a secret that is safe to show anywhere:
// a short prefix for long values (enough to tell an AWS key from a GitHub
// token), never the rest.
func RedactSecret(secret string) string {
	r := []rune(secret)
	if len(r) >= 16 {
		return string(r[:4]) + "****REDACTED****"
	}
	return "****REDACTED****"
}

// SecretFingerprint identifies a secret value without revealing it, so the
// same leaked value is one finding across runs and files.
func SecretFingerprint(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return "sha256:" + hex.EncodeToString(sum[:16])
}

// RedactIn replaces every occurrence of secret in text with its redacted
// form; secret scanners repeat the value in messages and code lines.
func RedactIn(text, secret string) string {
	if secret == "" || text == "" || !strings.Contains(text, secret) {
		return text
	}
	return strings.ReplaceAll(text, secret, RedactSecret(secret))
}

// FirstNonEmpty returns the first of ss that is not blank.
func FirstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}

// Section appends "label: text" to a description being built, separated
// from what is already there by a blank line; blank text adds nothing.
func Section(b *strings.Builder, label, text string) {
	text = strings.TrimSpace(text)
	if text == "" {
		return
	}
	if b.Len() > 0 {
		b.WriteString("\n\n")
	}
	b.WriteString(label + ": " + text)
}
