// Package npmaudit runs `npm audit` and parses its JSON report, both npm
// 6's "advisories" format and npm 7+'s "vulnerabilities" format
// (auditReportVersion 2).
package npmaudit

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"

	"github.com/draconsec/dracon/internal/producers"
	"github.com/draconsec/dracon/internal/producers/depkit"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

const name = "npm-audit"

// Producer is npm audit: npm packages in package-lock.json with known
// vulnerabilities (GitHub advisory database, via the npm registry).
var Producer = &producers.Producer{
	Name:         name,
	Aliases:      []string{"npm_audit", "npm_audit_7_plus", "npmaudit", "typescript-npm-audit"},
	Kind:         producers.SCA,
	Languages:    []string{"javascript", "typescript"},
	Description:  "npm dependencies with known vulnerabilities (GitHub advisories via the npm registry)",
	Formats:      []string{"json"},
	Parse:        Parse,
	Detect:       []string{"package-lock.json", "npm-shrinkwrap.json"},
	DetectAtRoot: true,
	Tool: &producers.Tool{
		Binary:  "npm",
		Network: true, // it fetches its vulnerability data
		Version: "11.19.1",
		Install: "npm ships with Node.js; pin it with: npm install -g npm@11.19.1",
		Image:   "docker.io/library/node:24",
		Args: func(src, out string) []string {
			// --package-lock-only audits the lockfile without node_modules.
			return []string{"audit", "--json", "--package-lock-only"}
		},
		Stdout: true,
		// 1: vulnerabilities at or above --audit-level were found.
		OKExitCodes: []int{1},
		VersionArgs: []string{"--version"},
	},
}

type report struct {
	AuditReportVersion *int                       `json:"auditReportVersion"`
	Vulnerabilities    map[string]json.RawMessage `json:"vulnerabilities"`
	Advisories         *map[string]Advisory       `json:"advisories"`
	Error              *struct {
		Code    string `json:"code"`
		Summary string `json:"summary"`
		Detail  string `json:"detail"`
	} `json:"error"`
}

// Parse reads `npm audit --json`. npm 6 reports advisories, each with the
// installed versions it affects: an issue per advisory and version. npm 7+
// reports packages, each with the advisories ("via" objects) that affect
// it: an issue per advisory and package. A package that is vulnerable
// only through another one ("via" names only) is not an issue of its own;
// the package it depends on carries the advisory and lists it in "effects".
func Parse(data []byte) (*producers.Parsed, error) {
	var r report
	if err := producers.DecodeJSON(name, data, &r); err != nil {
		return nil, err
	}
	switch {
	case r.Error != nil:
		return nil, producers.Errorf(name, "npm audit reported an error instead of a report: %s: %s",
			r.Error.Code, producers.FirstNonEmpty(r.Error.Summary, r.Error.Detail))
	case r.AuditReportVersion != nil:
		if *r.AuditReportVersion != 2 {
			return nil, producers.Errorf(name, "auditReportVersion %d is not supported (only 2)", *r.AuditReportVersion)
		}
		if r.Vulnerabilities == nil {
			return nil, producers.Errorf(name, `npm audit report without "vulnerabilities"`)
		}
		return parseV2(r.Vulnerabilities)
	case r.Advisories != nil:
		return ParseAdvisories(name, *r.Advisories)
	default:
		return nil, producers.Errorf(name, `not an npm audit report: no "advisories" or "auditReportVersion" key`)
	}
}

// ParseAdvisories turns npm 6's "advisories" object (keyed by advisory id)
// into issues named for tool, in advisory id order.
func ParseAdvisories(tool string, advisories map[string]Advisory) (*producers.Parsed, error) {
	keys := make([]string, 0, len(advisories))
	for k := range advisories {
		keys = append(keys, k)
	}
	sortIDs(keys)
	c := NewCollector(tool)
	for _, k := range keys {
		a := advisories[k]
		if a.ID == "" {
			a.ID = FlexID(k)
		}
		if err := c.Add(&a); err != nil {
			return nil, err
		}
	}
	return &producers.Parsed{Issues: c.Issues()}, nil
}

// sortIDs orders advisory ids numerically when they are numbers.
func sortIDs(ids []string) {
	sort.Slice(ids, func(i, j int) bool {
		a, errA := strconv.Atoi(ids[i])
		b, errB := strconv.Atoi(ids[j])
		if errA == nil && errB == nil {
			return a < b
		}
		return ids[i] < ids[j]
	})
}

type vulnV2 struct {
	Name     string            `json:"name"`
	Severity string            `json:"severity"`
	IsDirect bool              `json:"isDirect"`
	Via      []json.RawMessage `json:"via"`
	Effects  []string          `json:"effects"`
	Range    string            `json:"range"`
	Nodes    []string          `json:"nodes"`
	Fix      json.RawMessage   `json:"fixAvailable"`
}

type viaV2 struct {
	Source     FlexID     `json:"source"`
	Name       string     `json:"name"`
	Dependency string     `json:"dependency"`
	Title      string     `json:"title"`
	URL        string     `json:"url"`
	Severity   string     `json:"severity"`
	CWE        StringList `json:"cwe"`
	CVSS       *struct {
		Score  float64 `json:"score"`
		Vector *string `json:"vectorString"`
	} `json:"cvss"`
	Range string `json:"range"`
}

type fixV2 struct {
	Name          string `json:"name"`
	Version       string `json:"version"`
	IsSemVerMajor bool   `json:"isSemVerMajor"`
}

func parseV2(vulns map[string]json.RawMessage) (*producers.Parsed, error) {
	names := make([]string, 0, len(vulns))
	for k := range vulns {
		names = append(names, k)
	}
	sort.Strings(names)
	decoded := make(map[string]*vulnV2, len(vulns))
	for _, k := range names {
		var v vulnV2
		if err := json.Unmarshal(vulns[k], &v); err != nil {
			return nil, producers.Errorf(name, "vulnerabilities[%q]: %v", k, err)
		}
		if v.Name == "" {
			v.Name = k
		}
		decoded[k] = &v
	}
	out := &producers.Parsed{}
	for _, k := range names {
		v := decoded[k]
		var advisories []viaV2
		var through []string
		for i, raw := range v.Via {
			if len(raw) > 0 && raw[0] == '"' {
				var s string
				if err := json.Unmarshal(raw, &s); err != nil {
					return nil, producers.Errorf(name, "vulnerabilities[%q].via[%d]: %v", k, i, err)
				}
				through = append(through, s)
				continue
			}
			var a viaV2
			if err := json.Unmarshal(raw, &a); err != nil {
				return nil, producers.Errorf(name, "vulnerabilities[%q].via[%d]: %v", k, i, err)
			}
			advisories = append(advisories, a)
		}
		fixed, fixNote := fixOf(v)
		for i := range advisories {
			out.Issues = append(out.Issues, issueV2(v, &advisories[i], fixed, fixNote, through))
		}
		if len(advisories) == 0 && !anyKnown(through, decoded) {
			// Vulnerable through packages the report does not list: keep
			// it, or the advisory would be lost.
			out.Issues = append(out.Issues, transitiveIssue(v, fixed, fixNote, through))
		}
	}
	return out, nil
}

func anyKnown(names []string, m map[string]*vulnV2) bool {
	for _, n := range names {
		if _, ok := m[n]; ok {
			return true
		}
	}
	return false
}

// fixOf reads "fixAvailable": true, false, or the package and version
// `npm audit fix` would install (often a parent of the vulnerable one).
func fixOf(v *vulnV2) (fixed, note string) {
	s := strings.TrimSpace(string(v.Fix))
	switch {
	case s == "true":
		return "", "available (npm audit fix)"
	case s == "" || s == "false" || s == "null":
		return "", "none"
	}
	var f fixV2
	if err := json.Unmarshal(v.Fix, &f); err != nil || f.Name == "" {
		return "", ""
	}
	note = f.Name + "@" + f.Version
	if f.IsSemVerMajor {
		note += " (semver-major)"
	}
	if f.Name == v.Name {
		fixed = f.Version
	}
	return fixed, note
}

func issueV2(v *vulnV2, a *viaV2, fixed, fixNote string, through []string) *v1.Issue {
	ghsa := ghsaFromURL(a.URL)
	rule := producers.FirstNonEmpty(ghsa, a.Source.String(), "unknown")
	pkg := producers.FirstNonEmpty(a.Dependency, a.Name, v.Name)
	purl := depkit.NpmPurl(pkg, "")
	iss := &v1.Issue{
		Target:       purl,
		Type:         rule,
		RuleId:       rule,
		Title:        TitleFor(producers.FirstNonEmpty(strings.TrimSpace(a.Title), rule), pkg, pkg),
		Severity:     Severity(producers.FirstNonEmpty(a.Severity, v.Severity)),
		Description:  strings.TrimSpace(a.Title),
		Cwe:          producers.CWEs(a.CWE...),
		PackageUrl:   purl,
		FixedVersion: fixed,
		ToolName:     name,
		Annotations:  map[string]string{},
	}
	if a.Range != "" {
		iss.Description += "\n\nVulnerable versions: " + a.Range
		iss.Annotations["vulnerable_versions"] = a.Range
	}
	if a.CVSS != nil && a.CVSS.Score > 0 && a.CVSS.Score <= 10 {
		iss.Cvss = a.CVSS.Score
		if a.CVSS.Vector != nil && *a.CVSS.Vector != "" {
			iss.Annotations["cvss_vector"] = *a.CVSS.Vector
		}
	}
	if a.URL != "" {
		iss.References = []string{a.URL}
	}
	if s := a.Source.String(); s != "" && s != rule {
		iss.Annotations["advisory_ids"] = s
	}
	annotateV2(iss, v, fixNote, through)
	return iss
}

func transitiveIssue(v *vulnV2, fixed, fixNote string, through []string) *v1.Issue {
	purl := depkit.NpmPurl(v.Name, "")
	iss := &v1.Issue{
		Target:       purl,
		Type:         "vulnerable-dependency",
		RuleId:       "vulnerable-dependency",
		Title:        v.Name + " depends on vulnerable " + strings.Join(through, ", "),
		Severity:     Severity(v.Severity),
		Description:  v.Name + " (" + v.Range + ") is vulnerable through " + strings.Join(through, ", ") + ", which the report does not describe.",
		PackageUrl:   purl,
		FixedVersion: fixed,
		ToolName:     name,
		Annotations:  map[string]string{},
		Tags:         []string{"transitive"},
	}
	annotateV2(iss, v, fixNote, through)
	return iss
}

func annotateV2(iss *v1.Issue, v *vulnV2, fixNote string, through []string) {
	if fixNote != "" {
		iss.Annotations["fix"] = fixNote
	}
	if len(v.Nodes) > 0 {
		iss.Annotations["nodes"] = joinCapped(v.Nodes, 20)
	}
	if len(v.Effects) > 0 {
		iss.Annotations["effects"] = strings.Join(v.Effects, ", ")
	}
	if len(through) > 0 {
		iss.Annotations["via"] = strings.Join(through, ", ")
	}
	if v.IsDirect {
		iss.Tags = append(iss.Tags, "direct")
	}
}
