// Package depkit holds what the dependency-scanner parsers share: package
// URLs, version ordering to pick the fix that applies to the installed
// version, CVSS v3 base scores from vectors, identifier sorting, and the
// links in free-text references (which other parsers use too). It knows
// no tool.
package depkit

import (
	"math"
	"strings"
)

// Purl builds a package URL (pkg:type/namespace/name@version). Namespace
// may hold several "/"-separated segments (Go module paths); each segment,
// the name and the version are percent-encoded as the purl spec asks, so
// "@babel" becomes "%40babel". An empty version leaves "@version" out.
func Purl(typ, namespace, name, version string) string {
	if name == "" {
		return ""
	}
	var b strings.Builder
	b.Grow(len(typ) + len(namespace) + len(name) + len(version) + 8)
	b.WriteString("pkg:")
	b.WriteString(strings.ToLower(typ))
	b.WriteByte('/')
	if namespace != "" {
		for _, seg := range strings.Split(strings.Trim(namespace, "/"), "/") {
			if seg == "" {
				continue
			}
			escape(&b, seg)
			b.WriteByte('/')
		}
	}
	escape(&b, name)
	if version != "" {
		b.WriteByte('@')
		escape(&b, version)
	}
	return b.String()
}

func escape(b *strings.Builder, s string) {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
			c == '.', c == '-', c == '_', c == '~':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
}

// NpmPurl is the purl of an npm package; a scoped name ("@scope/name")
// puts the scope in the namespace.
func NpmPurl(name, version string) string {
	if scope, rest, ok := strings.Cut(name, "/"); ok && strings.HasPrefix(scope, "@") {
		return Purl("npm", scope, rest, version)
	}
	return Purl("npm", "", name, version)
}

// PypiPurl is the purl of a Python package: PyPI names are compared
// lower-case with "_" and "." read as "-", and the purl spec writes them so.
func PypiPurl(name, version string) string {
	return Purl("pypi", "", pypiNormalizer.Replace(strings.ToLower(name)), version)
}

var pypiNormalizer = strings.NewReplacer("_", "-", ".", "-")

// VersionOf returns the version in a purl ("pkg:npm/a@1.2" -> "1.2"),
// without qualifiers or subpath.
func VersionOf(purl string) string {
	i := strings.LastIndexByte(purl, '@')
	if i < 0 || i < strings.LastIndexByte(purl, '/') {
		return ""
	}
	v := purl[i+1:]
	if j := strings.IndexAny(v, "?#"); j >= 0 {
		v = v[:j]
	}
	return v
}

// VersionLess orders versions of the common shapes (semver, PEP 440,
// Debian, Go pseudo-versions) well enough to choose between the fixed
// versions a scanner lists: numbers compare as numbers, and a letter part
// where the other version has a number or has ended ("1.0.0rc1", "2.0.0-beta")
// is a pre-release and sorts first.
func VersionLess(a, b string) bool { return CompareVersions(a, b) < 0 }

// CompareVersions orders two versions: -1, 0 or 1.
func CompareVersions(a, b string) int {
	a = trimV(a)
	b = trimV(b)
	for {
		ta, ra := nextToken(a)
		tb, rb := nextToken(b)
		switch {
		case ta == "" && tb == "":
			return 0
		case ta == "" && strings.Trim(tb, "0") == "":
			b = rb // "3.2" equals "3.2.0"
			continue
		case tb == "" && strings.Trim(ta, "0") == "":
			a = ra
			continue
		case ta == "":
			if isAlpha(tb) {
				return 1 // b is a pre-release of a
			}
			return -1
		case tb == "":
			if isAlpha(ta) {
				return -1
			}
			return 1
		}
		na, nb := isDigit(ta[0]), isDigit(tb[0])
		switch {
		case na && nb:
			if c := compareNumbers(ta, tb); c != 0 {
				return c
			}
		case na:
			return 1
		case nb:
			return -1
		default:
			if c := strings.Compare(strings.ToLower(ta), strings.ToLower(tb)); c != 0 {
				return c
			}
		}
		a, b = ra, rb
	}
}

func trimV(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 1 && (s[0] == 'v' || s[0] == 'V') && isDigit(s[1]) {
		s = s[1:]
	}
	// Build metadata does not order versions.
	if i := strings.IndexByte(s, '+'); i >= 0 {
		s = s[:i]
	}
	return s
}

// nextToken returns the next run of digits or of letters, skipping
// separators.
func nextToken(s string) (string, string) {
	i := 0
	for i < len(s) && !isDigit(s[i]) && !isLetter(s[i]) {
		i++
	}
	s = s[i:]
	if s == "" {
		return "", ""
	}
	same := isLetter
	if isDigit(s[0]) {
		same = isDigit
	}
	j := 1
	for j < len(s) && same(s[j]) {
		j++
	}
	return s[:j], s[j:]
}

func compareNumbers(a, b string) int {
	a = strings.TrimLeft(a, "0")
	b = strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		if len(a) < len(b) {
			return -1
		}
		return 1
	}
	return strings.Compare(a, b)
}

func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isAlpha(s string) bool {
	return s != "" && isLetter(s[0])
}

// LowestFixAbove picks, from the versions that fix a vulnerability, the
// lowest one above the installed version: the smallest upgrade that fixes
// it. With no installed version it is the lowest fix; when no fix is above
// the installed version it is "".
func LowestFixAbove(installed string, fixes []string) string {
	best := ""
	for _, f := range fixes {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if installed != "" && !VersionLess(installed, f) {
			continue
		}
		if best == "" || VersionLess(f, best) {
			best = f
		}
	}
	return best
}

// LowerBounds returns the versions that open the ranges in a requirement
// such as ">=3.0.8 <4.0.0 || >=4.5.3", ">=0.13.10, <0.14.0" or "^0.4.8":
// the first versions that are no longer vulnerable when the requirement
// lists patched versions.
func LowerBounds(req string) []string {
	var out []string
	for _, alt := range strings.Split(req, "||") {
		for _, part := range strings.FieldsFunc(alt, func(r rune) bool { return r == ',' || r == ' ' }) {
			for _, op := range []string{">=", "^", "~", "="} {
				if v, ok := strings.CutPrefix(part, op); ok {
					if v = trimV(v); v != "" && isDigit(v[0]) {
						out = append(out, v)
					}
					break
				}
			}
		}
	}
	return out
}

// SplitIDs sorts a vulnerability's identifiers: the first CVE becomes the
// CVE, every other id that is not the rule id itself an alias. Duplicates
// and blanks are dropped.
func SplitIDs(ruleID string, ids ...string) (cve string, aliases []string) {
	for _, id := range ids {
		id = strings.TrimSpace(id)
		if id == "" {
			continue
		}
		if cve == "" && strings.HasPrefix(strings.ToUpper(id), "CVE-") {
			cve = id
			continue
		}
		if id == ruleID || id == cve {
			continue
		}
		aliases = AppendUnique(aliases, id)
	}
	return cve, aliases
}

// AppendUnique appends the values of vs not yet in s (and not blank).
func AppendUnique(s []string, vs ...string) []string {
outer:
	for _, v := range vs {
		if strings.TrimSpace(v) == "" {
			continue
		}
		for _, have := range s {
			if have == v {
				continue outer
			}
		}
		s = append(s, v)
	}
	return s
}

// CVSS3Score computes the CVSS v3.0/v3.1 base score of a vector such as
// "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H". ok is false when the
// vector is not a complete CVSS v3 base vector (CVSS v2 and v4 vectors
// included: their scores need other formulas).
func CVSS3Score(vector string) (score float64, ok bool) {
	vector = strings.TrimSpace(vector)
	if !strings.HasPrefix(vector, "CVSS:3.") {
		return 0, false
	}
	m := map[string]string{}
	for _, part := range strings.Split(vector, "/")[1:] {
		k, v, found := strings.Cut(part, ":")
		if !found {
			return 0, false
		}
		m[k] = v
	}
	weight := func(key string, table map[string]float64) (float64, bool) {
		w, ok := table[m[key]]
		return w, ok
	}
	changed := m["S"] == "C"
	if m["S"] != "C" && m["S"] != "U" {
		return 0, false
	}
	av, ok1 := weight("AV", map[string]float64{"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2})
	ac, ok2 := weight("AC", map[string]float64{"L": 0.77, "H": 0.44})
	prTable := map[string]float64{"N": 0.85, "L": 0.62, "H": 0.27}
	if changed {
		prTable = map[string]float64{"N": 0.85, "L": 0.68, "H": 0.5}
	}
	pr, ok3 := weight("PR", prTable)
	ui, ok4 := weight("UI", map[string]float64{"N": 0.85, "R": 0.62})
	cia := map[string]float64{"H": 0.56, "L": 0.22, "N": 0}
	c, ok5 := weight("C", cia)
	i, ok6 := weight("I", cia)
	a, ok7 := weight("A", cia)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7) {
		return 0, false
	}
	iss := 1 - (1-c)*(1-i)*(1-a)
	var impact float64
	if changed {
		impact = 7.52*(iss-0.029) - 3.25*math.Pow(iss-0.02, 15)
	} else {
		impact = 6.42 * iss
	}
	if impact <= 0 {
		return 0, true
	}
	exploitability := 8.22 * av * ac * pr * ui
	if changed {
		return roundUp(math.Min(1.08*(impact+exploitability), 10)), true
	}
	return roundUp(math.Min(impact+exploitability, 10)), true
}

// roundUp is CVSS v3.1's Roundup: the smallest number with one decimal
// that is not below x, computed in integers to avoid float noise.
func roundUp(x float64) float64 {
	n := int64(math.Round(x * 100000))
	if n%10000 == 0 {
		return float64(n) / 100000
	}
	return float64(n/10000+1) / 10
}

// URLs returns the http(s) links in free text such as a Markdown list of
// references, trimmed of the punctuation that surrounds links in prose.
func URLs(text string) []string {
	var out []string
	for {
		i := strings.Index(text, "http")
		if i < 0 {
			return out
		}
		text = text[i:]
		if !strings.HasPrefix(text, "http://") && !strings.HasPrefix(text, "https://") {
			text = text[4:]
			continue
		}
		end := strings.IndexAny(text, " \t\r\n)]>\"'`")
		if end < 0 {
			end = len(text)
		}
		u := strings.TrimRight(text[:end], ".,;:")
		out = AppendUnique(out, u)
		text = text[end:]
	}
}
