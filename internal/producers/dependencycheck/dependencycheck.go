// Package dependencycheck runs OWASP Dependency-Check and parses its JSON
// and XML reports.
package dependencycheck

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/draconsec/dracon/internal/producers"
	"github.com/draconsec/dracon/internal/producers/depkit"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

const name = "dependency-check"

// Producer is OWASP Dependency-Check: known-vulnerable libraries (NVD, OSS
// Index, RetireJS, npm advisories) in Java, .NET, JavaScript, Python, Ruby
// and more.
var Producer = &producers.Producer{
	Name:        name,
	Aliases:     []string{"dependency_check", "owasp-dependency-check"},
	Kind:        producers.SCA,
	Languages:   []string{"java", "dotnet", "javascript", "python", "ruby", "go"},
	Description: "libraries with known vulnerabilities (CVEs from the NVD, OSS Index, RetireJS)",
	Formats:     []string{"json", "xml", "sarif"},
	Parse:       Parse,
	Detect:      []string{"pom.xml", "build.gradle", "build.gradle.kts", "*.jar"},
	Tool: &producers.Tool{
		Binary:  "dependency-check",
		Network: true, // it fetches its vulnerability data
		Version: "12.1.0",
		Install: "download dependency-check-12.1.0-release.zip from https://github.com/dependency-check/DependencyCheck/releases and put bin/dependency-check.sh on PATH as dependency-check (or: brew install dependency-check)",
		Image:   "docker.io/owasp/dependency-check:12.1.0",
		Args: func(src, out string) []string {
			// With one --format, --out may name the report file itself.
			// --failOnCVSS is left at its default (11: never), so the exit
			// code says whether the scan ran, not what it found.
			return []string{"--scan", ".", "--project", "dracon", "--format", "JSON", "--out", out,
				"--exclude", "**/.git/**", "--exclude", "**/node_modules/**", "--exclude", "**/.dracon/**"}
		},
		VersionArgs: []string{"--version"},
	},
}

// dep is one dependency of either report format.
type dep struct {
	fileName, filePath string
	purls              []string
	confidence         string // best identifier confidence
	related            []string
	vulns              []vuln
}

type vuln struct {
	source, name, severity string
	cvss2, cvss3, cvss4    float64
	legacyCVSS             float64 // the 1.x schema's <cvssScore>
	sev2, sev3, sev4       string
	cwes                   []string
	description, notes     string
	refs                   []string
	fixed                  string // versionEndExcluding of the matched software
	suppressed, kev        bool
}

// Parse reads a Dependency-Check report: JSON (--format JSON) or XML
// (--format XML), told apart by their first character.
func Parse(data []byte) (*producers.Parsed, error) {
	trimmed := bytes.TrimLeft(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), " \t\r\n")
	if len(trimmed) == 0 {
		return nil, &producers.ParseError{Tool: name, Offset: -1, Err: producers.ErrEmpty}
	}
	var (
		deps    []dep
		version string
		err     error
	)
	switch trimmed[0] {
	case '<':
		deps, version, err = parseXML(data)
	case '{':
		deps, version, err = parseJSON(data)
	default:
		return nil, producers.Errorf(name, "not a Dependency-Check report: neither JSON nor XML")
	}
	if err != nil {
		return nil, err
	}
	n := 0
	for i := range deps {
		n += len(deps[i].vulns)
	}
	out := &producers.Parsed{ToolVersion: version, Issues: make([]*v1.Issue, 0, n)}
	for i := range deps {
		d := &deps[i]
		for j := range d.vulns {
			out.Issues = append(out.Issues, issue(d, &d.vulns[j], version))
		}
	}
	return out, nil
}

func issue(d *dep, v *vuln, version string) *v1.Issue {
	purl := ""
	if len(d.purls) > 0 {
		purl = d.purls[0]
	}
	display := producers.FirstNonEmpty(d.fileName, purl, d.filePath, "unknown dependency")
	rule := producers.FirstNonEmpty(v.name, "unnamed")
	title := rule + " in " + display
	if isDigits(v.name) && v.source != "" {
		title = v.source + " advisory " + v.name + " in " + display
	}
	iss := &v1.Issue{
		Target:         producers.FirstNonEmpty(purl, display),
		Type:           rule,
		RuleId:         rule,
		Title:          title,
		Description:    strings.TrimSpace(v.description),
		Cwe:            producers.CWEs(v.cwes...),
		PackageUrl:     purl,
		PackageVersion: depkit.VersionOf(purl),
		FixedVersion:   v.fixed,
		References:     v.refs,
		ToolName:       name,
		ToolVersion:    version,
		Confidence:     confidence(d.confidence),
		Annotations:    map[string]string{},
	}
	if up := strings.ToUpper(v.name); strings.HasPrefix(up, "CVE-") {
		iss.Cve = v.name
	} else if strings.HasPrefix(up, "GHSA-") {
		iss.Aliases = []string{v.name}
	}
	if p := d.filePath; p != "" {
		if i := strings.IndexByte(p, '?'); i > 0 { // virtual: "package-lock.json?yargs-parser"
			p = p[:i]
		}
		iss.Location = producers.Loc(strings.TrimSpace(p), 0, 0)
		iss.Annotations["file_path"] = strings.TrimSpace(d.filePath)
	}
	iss.Cvss = firstPositive(v.cvss3, v.cvss4, v.cvss2, v.legacyCVSS)
	iss.Severity = severity(v, iss.Cvss)
	for k, s := range map[string]float64{"cvss_v2": v.cvss2, "cvss_v3": v.cvss3, "cvss_v4": v.cvss4} {
		if s > 0 {
			iss.Annotations[k] = strconv.FormatFloat(s, 'f', -1, 64)
		}
	}
	if v.source != "" {
		iss.Annotations["source"] = v.source
	}
	if v.suppressed {
		iss.Annotations["suppressed"] = "true"
		iss.Tags = append(iss.Tags, "suppressed")
		if v.notes != "" {
			iss.Annotations["suppression_notes"] = strings.TrimSpace(v.notes)
		}
	} else if v.notes != "" {
		iss.Annotations["notes"] = strings.TrimSpace(v.notes)
	}
	if v.kev {
		iss.Annotations["known_exploited"] = "true"
		iss.Tags = append(iss.Tags, "known-exploited")
	}
	if len(d.related) > 0 {
		iss.Annotations["related_paths"] = strings.Join(d.related, "\n")
	}
	return iss
}

// severity is the report's own word (Dependency-Check writes the highest
// CVSS version's rating, or the advisory's word for unscored entries), then
// the CVSS score, then MEDIUM for an entry with neither.
func severity(v *vuln, cvss float64) v1.Severity {
	for _, s := range []string{v.severity, v.sev4, v.sev3, v.sev2} {
		if sev := producers.SeverityFromText(s); sev != v1.Severity_SEVERITY_UNSPECIFIED {
			return sev
		}
	}
	if cvss > 0 {
		return producers.SeverityFromCVSS(cvss)
	}
	return v1.Severity_SEVERITY_MEDIUM
}

// confidence maps Dependency-Check's identifier confidence (how sure it is
// the file is the library the CVE names) onto Dracon's scale.
func confidence(s string) v1.Confidence {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "HIGHEST", "HIGH":
		return v1.Confidence_CONFIDENCE_HIGH
	case "MEDIUM":
		return v1.Confidence_CONFIDENCE_MEDIUM
	case "LOW":
		return v1.Confidence_CONFIDENCE_LOW
	}
	return v1.Confidence_CONFIDENCE_UNSPECIFIED
}

var confidenceRank = map[string]int{"LOW": 1, "MEDIUM": 2, "HIGH": 3, "HIGHEST": 4}

// better keeps the higher of two identifier confidences.
func better(have, c string) string {
	c = strings.ToUpper(strings.TrimSpace(c))
	if confidenceRank[c] > confidenceRank[have] {
		return c
	}
	return have
}

func firstPositive(fs ...float64) float64 {
	for _, f := range fs {
		if f > 0 {
			return f
		}
	}
	return 0
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// legacyPurl turns the 1.x schema's <identifier type="maven"> names
// ("group:artifact:version") into package URLs.
func legacyPurl(typ, id string) string {
	switch strings.ToLower(typ) {
	case "maven":
		parts := strings.Split(strings.TrimSpace(id), ":")
		if len(parts) == 3 {
			return depkit.Purl("maven", parts[0], parts[1], parts[2])
		}
	case "npm":
		if n, v, ok := strings.Cut(strings.TrimSpace(id), ":"); ok {
			return depkit.NpmPurl(n, v)
		}
	}
	return ""
}

func parseScore(s string) float64 {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || f < 0 || f > 10 {
		return 0
	}
	return f
}
