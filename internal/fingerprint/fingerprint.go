// Package fingerprint computes the versioned signatures that identify a
// finding from one scan to the next: one algorithm per kind of finding
// (code, dependency, secret), each a SHA-256 over a length-prefixed
// encoding of normalised parts. What a new tool release rewords (message,
// title, severity, tool version) and what an edit elsewhere in the file
// moves (line numbers) never enters a signature. docs/fingerprints.md
// describes each algorithm.
package fingerprint

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/draconsec/dracon/internal/parallel"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// Algorithms, best first. A name's version changes whenever what it hashes
// changes, so signatures of two Dracon releases are never compared by
// mistake.
const (
	SecretV1 = "secret/v1" // path + the secret scanner's hash of the value
	DepV1    = "dep/v1"    // manifest + package without version + vulnerability
	IaCV1    = "iac/v1"    // tool + check + path + resource address
	DastV1   = "dast/v1"   // tool + rule + method + path template + parameter
	CodeV1   = "code/v1"   // tool + rule + path + flagged code, no line numbers
)

// Algorithms lists the algorithms, best first.
var Algorithms = []string{SecretV1, DepV1, IaCV1, DastV1, CodeV1}

// LegacyHash is the single hash Dracon's dedup used before these
// signatures ("hash/v0" in the store): the tool, rule, type, path,
// package, CVE, and the tool's fingerprint, else the title and the raw
// snippet. Kept so a store written by that version still matches its
// findings; new findings are named by the algorithms above.
func LegacyHash(is *v1.Issue) string {
	path := is.GetLocation().GetPath()
	if path == "" {
		path = is.GetTarget()
	}
	parts := []string{is.GetToolName(), is.GetRuleId(), is.GetType(), path, is.GetPackageUrl(), is.GetCve()}
	if fp := is.GetFingerprint(); fp != "" {
		parts = append(parts, "fp", fp)
	} else {
		parts = append(parts, "t", is.GetTitle(), strings.TrimSpace(is.GetContextSegment()))
	}
	sum := sha256.Sum256([]byte(encode(parts...)))
	return hex.EncodeToString(sum[:])
}

// DraconV2 names the original Dracon's deduplication hash ("legacy/dracon"
// in the store): what `dracon store import --from-dracon` carries over.
const DraconV2 = "legacy/dracon"

// DraconHash is the original Dracon's deduplication hash (its
// pkg/enrichment GetHash, V2): hex SHA-256 over the plain concatenation of
// target, type, title, source cut at "?ref=", the severity's enum name,
// the CVSS as "%f", the confidence's enum name, description and CVE. It
// moves with every edit and rewording; it is kept only so findings a
// Dracon database knew keep their history here.
func DraconHash(is *v1.Issue) string {
	source := is.GetSource()
	if i := strings.Index(source, "?ref="); i >= 0 {
		source = source[:i]
	}
	h := sha256.New()
	for _, p := range []string{is.GetTarget(), is.GetType(), is.GetTitle(), source, is.GetSeverity().String(),
		fmt.Sprintf("%f", is.GetCvss()), is.GetConfidence().String(), is.GetDescription(), is.GetCve()} {
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// DraconLocV1 names a location signature for rows imported from a Dracon
// database ("legacy/dracon-loc/v1"): Dracon's type, the last two elements
// of the file's path and the first line. Dracon's own hash covers the
// target as its Tekton workspace wrote it (file:///workspace/output/
// source-code/..., in a layout Dracon here does not share), so it rarely
// matches a scan made here; the location does, on the first scan of the
// same code, which then gives the finding its line-free signatures.
const DraconLocV1 = "legacy/dracon-loc/v1"

// DraconLocation is the DraconLocV1 signature of a Dracon type and target
// ("file:///workspace/output/source-code/app/main.go:19-21" or
// "app/main.go:19"); "" when the target names no file and line.
func DraconLocation(typ, target string) string {
	t := strings.TrimSpace(target)
	if strings.HasPrefix(strings.ToLower(t), "file://") {
		t = t[len("file://"):]
		if u, err := url.PathUnescape(t); err == nil {
			t = u
		}
	}
	i := strings.LastIndexByte(t, ':')
	if i <= 0 {
		return ""
	}
	lines := t[i+1:]
	if j := strings.IndexByte(lines, '-'); j >= 0 {
		lines = lines[:j]
	}
	if lines == "" || strings.Trim(lines, "0123456789") != "" {
		return ""
	}
	segs := strings.Split(strings.Trim(strings.ReplaceAll(t[:i], `\`, "/"), "/"), "/")
	if len(segs) > 2 {
		segs = segs[len(segs)-2:]
	}
	return hash(DraconLocV1, typ, strings.Join(segs, "/"), strings.TrimLeft(lines, "0"))
}

// DraconLocationOf is DraconLocation for an issue of a scan here.
func DraconLocationOf(is *v1.Issue) string {
	loc := is.GetLocation()
	if loc.GetPath() == "" || loc.GetStartLine() <= 0 {
		return ""
	}
	return DraconLocation(is.GetType(), fmt.Sprintf("%s:%d", loc.GetPath(), loc.GetStartLine()))
}

// Signature is one algorithm's identity of a finding.
type Signature struct {
	Algorithm string
	Value     string
}

// Compute returns each issue's signatures, best first, in input order.
// It needs every issue of a scan at once: two findings of the same rule on
// identical code in one file are told apart by their rank in the file
// (the occurrence index), so duplicating a vulnerable snippet makes
// exactly one new finding, and the order the tool listed them in does not
// matter.
func Compute(issues []*v1.Issue) [][]Signature {
	out := make([][]Signature, len(issues))
	type keyed struct {
		i    int
		line int32
		col  int32
	}
	// Each issue's key on every CPU; the grouping, which needs them all,
	// here; then the hashes on every CPU again.
	bases := make([]string, len(issues))
	parallel.Chunks(len(issues), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			if alg, parts := parts(issues[i]); alg != "" {
				bases[i] = alg + "\x00" + encode(parts...)
			}
		}
	})
	groups := map[string][]keyed{}
	for i, base := range bases {
		if base == "" {
			continue
		}
		loc := issues[i].GetLocation()
		groups[base] = append(groups[base], keyed{i, loc.GetStartLine(), loc.GetStartColumn()})
	}
	occs := make([]int, len(issues))
	for _, g := range groups {
		sort.SliceStable(g, func(a, b int) bool {
			if g[a].line != g[b].line {
				return g[a].line < g[b].line
			}
			return g[a].col < g[b].col
		})
		for occ, k := range g {
			occs[k.i] = occ
		}
	}
	parallel.Chunks(len(issues), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			if base := bases[i]; base != "" {
				alg := base[:strings.IndexByte(base, 0)]
				out[i] = append(out[i], Signature{Algorithm: alg, Value: hash(alg, base, strconv.Itoa(occs[i]))})
			}
		}
	})
	return out
}

// parts picks the algorithm for an issue and what it hashes.
func parts(is *v1.Issue) (string, []string) {
	p := Path(is)
	switch {
	case isSecret(is):
		// No line and no rule: the same secret moved in its file, or found
		// by another rule of a new release, is the same finding.
		return SecretV1, []string{p, is.GetFingerprint()}
	case is.GetPackageUrl() != "":
		// The version is an attribute, not identity: a bump that stays
		// vulnerable keeps the finding; a bump to a fixed version drops it.
		return DepV1, []string{p, PackageWithoutVersion(is.GetPackageUrl()), VulnerabilityID(is)}
	}
	rule := is.GetRuleId()
	if rule == "" {
		rule = is.GetType()
	}
	switch {
	case Resource(is) != "":
		// A misconfiguration is the check on a resource ("aws_s3_bucket.logs"),
		// wherever in the file the block has moved to and however it is
		// formatted.
		return IaCV1, []string{is.GetToolName(), rule, p, Resource(is)}
	case isURL(is.GetTarget()) && is.GetLocation().GetPath() == "":
		// A web finding is the rule on an endpoint and parameter: the host
		// (staging or production), the payload and the evidence change from
		// scan to scan; ids in the path are collapsed.
		a := is.GetAnnotations()
		return DastV1, []string{is.GetToolName(), rule, strings.ToUpper(a["method"]), PathTemplate(is.GetTarget()), a["param"]}
	default:
		loc := is.GetLocation()
		return CodeV1, []string{is.GetToolName(), rule, p, Code(is.GetContextSegment(), loc.GetStartLine(), loc.GetEndLine())}
	}
}

// Resource is the address of the infrastructure resource an IaC finding
// is about: checkov's, tfsec's and trivy's "resource", kics' search key.
func Resource(is *v1.Issue) string {
	a := is.GetAnnotations()
	if r := a["resource"]; r != "" {
		return r
	}
	return a["search_key"]
}

func isURL(s string) bool {
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
}

// PathTemplate is a URL's path with the parts that vary per record
// collapsed ("/users/42/orders/9f1c…" → "/users/{n}/orders/{id}") and the
// query reduced to its sorted parameter names. Scheme, host and port are
// dropped.
func PathTemplate(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	segs := strings.Split(u.Path, "/")
	for i, s := range segs {
		switch {
		case s == "":
		case strings.Trim(s, "0123456789") == "":
			segs[i] = "{n}"
		case isID(s):
			segs[i] = "{id}"
		}
	}
	out := strings.Join(segs, "/")
	if out == "" {
		out = "/"
	}
	if q := u.Query(); len(q) > 0 {
		var keys []string
		for k := range q {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		out += "?" + strings.Join(keys, "&")
	}
	return out
}

// isID: a UUID, or a long run of hex digits (an object id, a hash).
func isID(s string) bool {
	hex := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9', r >= 'a' && r <= 'f', r >= 'A' && r <= 'F':
			hex++
		case r == '-':
		default:
			return false
		}
	}
	return hex >= 16
}

// isSecret: secret scanners' parsers keep a hash of the value, never the
// value, in Fingerprint ("sha256:...").
func isSecret(is *v1.Issue) bool {
	return strings.HasPrefix(is.GetFingerprint(), "sha256:")
}

// Path is the issue's file, repository-relative with forward slashes.
// The pipeline already strips the checkout root; a URI scheme, "./" and
// Windows separators are dropped here too, so a report written on another
// runner gives the same path.
func Path(is *v1.Issue) string {
	p := is.GetLocation().GetPath()
	if p == "" {
		p = is.GetTarget()
		if i := strings.LastIndexByte(p, ':'); i > 0 && strings.Trim(p[i+1:], "0123456789-") == "" {
			p = p[:i]
		}
	}
	p = strings.TrimPrefix(p, "file://")
	p = strings.ReplaceAll(p, `\`, "/")
	if p == "" {
		return ""
	}
	return strings.TrimPrefix(path.Clean(p), "./")
}

// Code normalises a flagged code snippet: the line-number prefixes that
// gosec ("43: query := ...") and bandit ("144 \tpassword = ...") put on
// each line are dropped, and so is all whitespace, so re-indenting,
// CRLF/LF and moving the code leave it unchanged. When every line is
// numbered, only the flagged lines (start to end) count: gosec and bandit
// add a line of context on each side, and a line inserted just above a
// finding must not change it.
func Code(snippet string, start, end int32) string {
	lines := strings.Split(strings.TrimRight(snippet, "\r\n"), "\n")
	nums := make([]int, len(lines))
	numbered := start > 0
	for i, line := range lines {
		var rest string
		nums[i], rest = lineNumber(line)
		if nums[i] < 0 {
			numbered = false
		} else {
			lines[i] = rest
		}
	}
	if end < start {
		end = start
	}
	var b strings.Builder
	write := func(keep func(i int) bool) {
		for i, line := range lines {
			if !keep(i) {
				continue
			}
			for _, r := range line {
				if !unicode.IsSpace(r) {
					b.WriteRune(r)
				}
			}
		}
	}
	if numbered {
		write(func(i int) bool { return nums[i] >= int(start) && nums[i] <= int(end) })
	}
	if b.Len() == 0 {
		write(func(int) bool { return true })
	}
	return b.String()
}

// lineNumber splits a leading "<digits>:" or "<digits><space>" (with any
// indentation before it) off a snippet line, or reads a line of digits
// alone as a numbered empty line; -1 when the line has no number. A line
// of code that starts with a number and a space is rare, and losing its
// digits only weakens the hash.
func lineNumber(line string) (int, string) {
	t := strings.TrimLeft(line, " \t")
	n := 0
	for n < len(t) && t[n] >= '0' && t[n] <= '9' {
		n++
	}
	if n == 0 || n > 9 {
		return -1, line
	}
	num := 0
	for _, c := range t[:n] {
		num = num*10 + int(c-'0')
	}
	if n == len(t) || t[n] == '\r' {
		return num, ""
	}
	switch t[n] {
	case ':', ' ', '\t', '|':
		return num, t[n+1:]
	}
	return -1, line
}

// PackageWithoutVersion drops the version (and qualifiers) from a package
// URL: "pkg:golang/golang.org/x/net@v0.1.0" -> "pkg:golang/golang.org/x/net".
func PackageWithoutVersion(purl string) string {
	if i := strings.IndexAny(purl, "?#"); i >= 0 {
		purl = purl[:i]
	}
	if i := strings.LastIndexByte(purl, '@'); i > strings.LastIndexByte(purl, '/') {
		purl = purl[:i]
	}
	return strings.ToLower(purl)
}

// VulnerabilityID is the one id that stands for the issue's vulnerability
// among its CVE and aliases: the lowest CVE, else the lowest GHSA, else
// the lowest id, so trivy's CVE and osv-scanner's GHSA that aliases it
// name the same thing.
func VulnerabilityID(is *v1.Issue) string {
	ids := append([]string{is.GetCve(), is.GetRuleId()}, is.GetAliases()...)
	best := ""
	rank := func(id string) int {
		switch {
		case strings.HasPrefix(id, "CVE-"):
			return 0
		case strings.HasPrefix(id, "GHSA-"):
			return 1
		default:
			return 2
		}
	}
	for _, id := range ids {
		id = normaliseID(id)
		if id == "" {
			continue
		}
		if best == "" || rank(id) < rank(best) || (rank(id) == rank(best) && id < best) {
			best = id
		}
	}
	return best
}

// normaliseID writes CVE ids in upper case and GHSA ids as GitHub does
// ("GHSA-" and a lower-case rest), whatever case a tool used.
func normaliseID(id string) string {
	id = strings.TrimSpace(id)
	u := strings.ToUpper(id)
	switch {
	case strings.HasPrefix(u, "CVE-"):
		return u
	case strings.HasPrefix(u, "GHSA-"):
		return "GHSA-" + strings.ToLower(id[5:])
	}
	return id
}

// encode is a length-prefixed encoding, so ("ab","c") and ("a","bc")
// never collide.
func encode(parts ...string) string { return string(appendEncoded(nil, parts...)) }

// appendEncoded writes "len:part|" for each part (strconv, not fmt: this
// runs for every finding of every scan).
func appendEncoded(b []byte, parts ...string) []byte {
	for _, p := range parts {
		b = strconv.AppendInt(b, int64(len(p)), 10)
		b = append(b, ':')
		b = append(b, p...)
		b = append(b, '|')
	}
	return b
}

func hash(parts ...string) string {
	sum := sha256.Sum256(appendEncoded(make([]byte, 0, 256), parts...))
	return hex.EncodeToString(sum[:])
}
