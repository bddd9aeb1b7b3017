// Package trufflehog runs TruffleHog v3 on a working tree and parses its
// JSON-lines output, and TruffleHog v2's. Secret values never leave this
// package: Raw and RawV2 (v3), stringsFound, diff and printDiff (v2) reach
// no field of any issue, every text field is scrubbed of them, and
// findings are identified by a hash of the secret.
package trufflehog

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/draconsec/dracon/internal/producers"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

const name = "trufflehog"

// Producer is TruffleHog v3: secrets, checked against their services.
var Producer = &producers.Producer{
	Name:        name,
	Kind:        producers.Secrets,
	Languages:   []string{"any"},
	Description: "hard-coded secrets (800+ detectors), each checked live against its service to tell verified from unverified",
	Formats:     []string{"jsonl"},
	Parse:       Parse,
	// No Detect: gitleaks is the secret scanner auto-detection picks;
	// TruffleHog, whose verification calls the services a secret belongs
	// to, runs when configured.
	Tool: &producers.Tool{
		Binary:  "trufflehog",
		Version: "v3.90.0",
		Install: "brew install trufflehog  (or the release binary from https://github.com/trufflesecurity/trufflehog/releases)",
		Image:   "docker.io/trufflesecurity/trufflehog:3.90.0",
		Args: func(src, out string) []string {
			// filesystem scans the working tree; --json writes one result
			// per line to stdout; --no-update stops the self-update check.
			return []string{"filesystem", src, "--json", "--no-update"}
		},
		Stdout: true,
		// 183 is "results found" when a user adds --fail.
		OKExitCodes: []int{183},
		VersionArgs: []string{"--version"},
	},
}

type result struct {
	SourceMetadata *struct {
		Data map[string]source `json:"Data"`
	} `json:"SourceMetadata"`
	SourceName          string            `json:"SourceName"`
	DetectorName        *string           `json:"DetectorName"`
	DetectorDescription *string           `json:"DetectorDescription"`
	DecoderName         *string           `json:"DecoderName"`
	Verified            bool              `json:"Verified"`
	VerificationError   string            `json:"VerificationError"`
	Raw                 string            `json:"Raw"`
	RawV2               string            `json:"RawV2"`
	Redacted            string            `json:"Redacted"`
	ExtraData           map[string]any    `json:"ExtraData"`
	extra               map[string]string // ExtraData as text
}

// source is where a secret was found; each source kind (Filesystem, Git,
// Github, Gitlab, Docker, S3, ...) fills some of these.
type source struct {
	File       string   `json:"file"`
	Path       string   `json:"path"`
	Line       flexInt  `json:"line"`
	Commit     string   `json:"commit"`
	Repository string   `json:"repository"`
	Link       string   `json:"link"`
	Image      string   `json:"image"`
	Layer      string   `json:"layer"`
	Bucket     string   `json:"bucket"`
	Email      string   `json:"email"`
	Timestamp  string   `json:"timestamp"`
	Visibility flexText `json:"visibility"`
}

// Parse reads TruffleHog's --json output: v3's (one JSON object per
// line) and v2's (the Python truffleHog: one object per line from 2.0.89
// on, pretty-printed objects one after another before). An empty report
// is no findings: TruffleHog prints nothing when it finds nothing. The
// same secret reported twice at the same place (TruffleHog repeats a
// result when a commit touches a line twice) is one issue.
func Parse(data []byte) (*producers.Parsed, error) {
	p := &parser{out: &producers.Parsed{Issues: []*v1.Issue{}}, seen: map[string]bool{}}
	if prettyPrinted(data) {
		return p.stream(data)
	}
	line := 0
	for rest := data; len(rest) > 0; {
		var raw []byte
		raw, rest, _ = bytes.Cut(rest, []byte("\n"))
		line++
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 {
			continue
		}
		if err := p.result(raw); err != nil {
			return nil, lineError(line, err.Error())
		}
	}
	return p.out, nil
}

type parser struct {
	out  *producers.Parsed
	seen map[string]bool
}

// notAResult names the versions this parser reads, for an object that is
// neither.
const notAResult = `not a TruffleHog result: neither v3 ("DetectorName", "SourceMetadata") nor v2 ("reason", "stringsFound"); this parser reads TruffleHog v2 and v3`

// result reads one JSON object, of either version.
func (p *parser) result(raw []byte) error {
	if raw[0] != '{' {
		return errors.New(notAResult + ": expected a JSON object")
	}
	var r result
	if err := json.Unmarshal(raw, &r); err != nil {
		return errors.New(describe(err))
	}
	if r.DetectorName == nil || r.SourceMetadata == nil {
		if !isV2(raw) {
			return errors.New(notAResult)
		}
		return p.v2(raw)
	}
	iss, key, err := r.issue()
	if err != nil {
		return err
	}
	all, _ := r.secrets()
	p.add(iss, key, all)
	return nil
}

func (p *parser) v2(raw []byte) error {
	var r v2result
	if err := json.Unmarshal(raw, &r); err != nil {
		return errors.New(describe(err))
	}
	iss, key, secrets, err := r.issue()
	if err != nil {
		return err
	}
	p.add(iss, key, secrets)
	return nil
}

func (p *parser) add(iss *v1.Issue, key string, secrets []string) {
	p.out.Secrets = append(p.out.Secrets, secrets...)
	if p.seen[key] {
		return
	}
	p.seen[key] = true
	p.out.Issues = append(p.out.Issues, iss)
}

// prettyPrinted reports whether the report starts with an object spread
// over lines, as TruffleHog 2.0.0 to 2.0.88 printed (json.dumps with
// indent=4).
func prettyPrinted(data []byte) bool {
	first, _, _ := bytes.Cut(bytes.TrimLeft(data, " \t\r\n"), []byte("\n"))
	return string(bytes.TrimSpace(first)) == "{"
}

// stream reads a sequence of JSON objects separated by whitespace.
func (p *parser) stream(data []byte) (*producers.Parsed, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	for {
		start := dec.InputOffset()
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			return p.out, nil
		}
		// The line the object starts on: skip the whitespace before it.
		at := int(start)
		for at < len(data) && (data[at] == ' ' || data[at] == '\t' || data[at] == '\r' || data[at] == '\n') {
			at++
		}
		line := 1 + bytes.Count(data[:at], []byte("\n"))
		if err != nil {
			return nil, lineError(line, describe(err))
		}
		raw = bytes.TrimSpace(raw)
		if err := p.result(raw); err != nil {
			return nil, lineError(line, err.Error())
		}
	}
}

// secrets returns the values that must never be shown, and the one the
// fingerprint is taken of. TruffleHog before about v3.60 marshalled Raw
// and RawV2 as Go byte slices, that is base64; later versions write them
// as text and add DetectorDescription. Both readings are scrubbed.
func (r *result) secrets() (all []string, primary string) {
	add := func(s string) {
		if strings.TrimSpace(s) == "" {
			return
		}
		for _, v := range all {
			if v == s {
				return
			}
		}
		all = append(all, s)
	}
	primary = r.Raw
	oldFormat := r.DetectorDescription == nil && r.DecoderName == nil
	for i, v := range []string{r.Raw, r.RawV2} {
		add(v)
		if dec, ok := decodeBase64Text(v); ok {
			add(dec)
			if i == 0 && oldFormat {
				primary = dec
			}
		}
	}
	if primary == "" {
		primary = producers.FirstNonEmpty(r.RawV2, r.Redacted)
	}
	// Longest first, so that a secret containing another is replaced
	// whole before its part is.
	sort.Slice(all, func(i, j int) bool { return len(all[i]) > len(all[j]) })
	return all, primary
}

// decodeBase64Text decodes standard base64 that holds printable text.
func decodeBase64Text(s string) (string, bool) {
	if len(s) < 4 || len(s)%4 != 0 {
		return "", false
	}
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil || len(b) == 0 || !utf8.Valid(b) {
		return "", false
	}
	for _, c := range string(b) {
		if c >= ' ' && c < 0x7f {
			continue
		}
		if !unicode.IsPrint(c) && !unicode.IsSpace(c) {
			return "", false
		}
	}
	return string(b), true
}

// location is the first source (by kind name) the metadata holds; there
// is one in practice.
func (r *result) location() (source, string) {
	keys := make([]string, 0, len(r.SourceMetadata.Data))
	for k := range r.SourceMetadata.Data {
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return source{}, ""
	}
	sort.Strings(keys)
	return r.SourceMetadata.Data[keys[0]], keys[0]
}

func (r *result) issue() (*v1.Issue, string, error) {
	if r.ExtraData != nil {
		r.extra = map[string]string{}
		for k, v := range r.ExtraData {
			switch t := v.(type) {
			case nil:
			case string:
				r.extra[k] = t
			default:
				b, _ := json.Marshal(t)
				r.extra[k] = string(b)
			}
		}
	}
	secrets, primary := r.secrets()
	detector := strings.TrimSpace(*r.DetectorName)
	if detector == "" {
		return nil, "", errors.New(`empty "DetectorName"`)
	}
	src, kind := r.location()
	path := producers.FirstNonEmpty(src.File, src.Path)
	line := int(src.Line)
	target := ""
	switch {
	case path != "":
		target = producers.Target(path, line, line)
	default:
		target = producers.FirstNonEmpty(src.Link, src.Repository, src.Image, src.Bucket, r.SourceName, kind, "unknown")
	}

	sev, conf, status := v1.Severity_SEVERITY_HIGH, v1.Confidence_CONFIDENCE_MEDIUM, "unverified"
	if r.Verified {
		sev, conf, status = v1.Severity_SEVERITY_CRITICAL, v1.Confidence_CONFIDENCE_CRITICAL, "verified"
	}

	shown := producers.RedactSecret(primary)
	if strings.Contains(r.Redacted, "*") && !containsAny(r.Redacted, secrets) {
		shown = r.Redacted // TruffleHog's own mask, e.g. https://*****:*****@host
	}

	var b strings.Builder
	if r.DetectorDescription != nil && strings.TrimSpace(*r.DetectorDescription) != "" {
		b.WriteString(strings.TrimSpace(*r.DetectorDescription) + "\n\n")
	}
	b.WriteString("TruffleHog's " + detector + " detector found a secret (" + status + ")")
	if r.Verified {
		b.WriteString(": it was accepted by its service, so it is live and must be revoked.")
	} else {
		b.WriteString(".")
	}
	if r.VerificationError != "" {
		b.WriteString("\nVerification failed: " + r.VerificationError)
	}
	b.WriteString("\nSecret: " + shown)
	if src.Commit != "" {
		b.WriteString("\nCommit: " + src.Commit)
	}
	if r.DecoderName != nil && *r.DecoderName != "" && *r.DecoderName != "PLAIN" {
		b.WriteString("\nDecoded from: " + *r.DecoderName)
	}
	if len(r.extra) > 0 {
		keys := make([]string, 0, len(r.extra))
		for k := range r.extra {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			b.WriteString("\n" + k + ": " + r.extra[k])
		}
	}

	fp := producers.SecretFingerprint(primary)
	iss := &v1.Issue{
		Target:         target,
		Type:           detector,
		RuleId:         detector,
		Title:          detector + " secret",
		Severity:       sev,
		Confidence:     conf,
		Description:    b.String(),
		ContextSegment: &shown,
		Fingerprint:    fp,
		Tags:           []string{"secret", status},
		ToolName:       name,
	}
	if path != "" {
		iss.Location = producers.Loc(path, line, line)
	}
	if strings.HasPrefix(src.Link, "http") {
		iss.References = []string{src.Link}
	}
	ann := map[string]string{}
	for k, v := range map[string]string{"commit": src.Commit, "repository": src.Repository, "link": src.Link,
		"source": kind, "image": src.Image, "layer": src.Layer, "bucket": src.Bucket} {
		if v != "" {
			ann[k] = v
		}
	}
	if len(ann) > 0 {
		iss.Annotations = ann
	}
	scrub(iss, secrets)
	key := strings.Join([]string{detector, fp, iss.Target, src.Commit, src.Link, src.Image, src.Layer}, "\x00")
	return iss, key, nil
}

// scrub redacts every secret from every text field of iss. The fields
// are built from the report, and any of them (a path, a URL, a detector's
// extra data) could repeat a secret.
func scrub(iss *v1.Issue, secrets []string) {
	producers.NewRedactor(secrets).Issue(iss)
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if sub != "" && strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// flexInt reads a line number written as a number or a string.
type flexInt int64

func (f *flexInt) UnmarshalJSON(b []byte) error {
	b = bytes.Trim(bytes.TrimSpace(b), `"`)
	if len(b) == 0 || bytes.Equal(b, []byte("null")) {
		return nil
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return errors.New("line is not a number")
	}
	*f = flexInt(n)
	return nil
}

// flexText accepts any JSON value (visibility is a number in some
// versions, a string in others); it is not used.
type flexText struct{}

func (flexText) UnmarshalJSON([]byte) error { return nil }

// describe says what is wrong with a line without quoting it: the line
// may hold a secret.
func describe(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return "broken JSON at column " + strconv.FormatInt(syn.Offset, 10) + ": " + syn.Error()
	case errors.As(err, &typ):
		return "field " + typ.Field + " holds a " + typ.Value + ", not a " + typ.Type.String()
	case strings.Contains(err.Error(), "unexpected end of JSON input"):
		return "the line ends inside a JSON value (a truncated report?)"
	}
	return "unreadable result"
}

func lineError(line int, msg string) error {
	return &producers.ParseError{Tool: name, Offset: -1, Err: errors.New("line " + strconv.Itoa(line) + ": " + msg)}
}
