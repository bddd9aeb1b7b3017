// Package grype runs Anchore's grype on a folder (or an image, an SBOM) and
// parses its JSON report: packages it found with known vulnerabilities.
package grype

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/draconsec/dracon/internal/producers"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

const name = "grype"

// Producer is grype: known vulnerabilities in OS and language packages.
var Producer = &producers.Producer{
	Name:        name,
	Aliases:     []string{"anchore_grype", "anchore-grype"},
	Kind:        producers.SCA,
	Languages:   []string{"any"},
	Description: "known vulnerabilities in OS packages and language dependencies (Anchore's vulnerability database)",
	Formats:     []string{"json", "sarif"},
	Parse:       Parse,
	Detect: []string{
		"go.mod", "requirements*.txt", "Pipfile.lock", "poetry.lock", "package-lock.json", "yarn.lock",
		"pnpm-lock.yaml", "Cargo.lock", "Gemfile.lock", "composer.lock", "pom.xml", "*.jar",
		"packages.lock.json", "Dockerfile",
	},
	// TestRealGrype runs it against a small database the test builds.
	RunsHere: true,
	Tool: &producers.Tool{
		Binary:    "grype",
		Network:   true, // it fetches its vulnerability data
		Version:   "v0.121.2",
		GoPackage: "github.com/anchore/grype/cmd/grype",
		// `go install` cannot build it: its docker/cli and go-spdx
		// requirements are versions the Go proxy refuses.
		GoModule: &producers.GoModule{
			Require: []string{"github.com/docker/cli@v29.9.3+incompatible"},
			Replace: []string{"github.com/github/go-spdx/v2=github.com/github/go-spdx/v2@v2.7.0"},
		},
		Image: "docker.io/anchore/grype:v0.121.2",
		Args: func(src, out string) []string {
			return []string{"dir:.", "--output", "json", "--file", out}
		},
		VersionArgs: []string{"version"},
	},
}

type report struct {
	Matches    *[]match `json:"matches"`
	Descriptor *struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	} `json:"descriptor"`
}

type vulnerability struct {
	ID          string   `json:"id"`
	DataSource  string   `json:"dataSource"`
	Namespace   string   `json:"namespace"`
	Severity    string   `json:"severity"`
	URLs        []string `json:"urls"`
	Description string   `json:"description"`
	CVSS        []cvss   `json:"cvss"`
	Fix         *struct {
		Versions []string `json:"versions"`
		State    string   `json:"state"`
	} `json:"fix"`
	EPSS []struct {
		CVE        string  `json:"cve"`
		EPSS       float64 `json:"epss"`
		Percentile float64 `json:"percentile"`
	} `json:"epss"`
	Risk float64 `json:"risk"`
	// grype before 0.8 wrote links and one object per CVSS version.
	Links  []string `json:"links"`
	CVSSV2 *metrics `json:"cvssV2"`
	CVSSV3 *metrics `json:"cvssV3"`
}

type metrics struct {
	BaseScore float64 `json:"baseScore"`
}

type cvss struct {
	Version string  `json:"version"`
	Vector  string  `json:"vector"`
	Metrics metrics `json:"metrics"`
}

type match struct {
	Vulnerability vulnerability   `json:"vulnerability"`
	Related       []vulnerability `json:"relatedVulnerabilities"`
	MatchDetails  details         `json:"matchDetails"`
	Artifact      struct {
		Name      string `json:"name"`
		Version   string `json:"version"`
		Type      string `json:"type"`
		Language  string `json:"language"`
		PURL      string `json:"purl"`
		Locations []struct {
			Path    string `json:"path"`
			LayerID string `json:"layerID"`
		} `json:"locations"`
	} `json:"artifact"`
}

type detail struct {
	Type    string `json:"type"`
	Matcher string `json:"matcher"`
}

// details is matchDetails: a list, or one object before grype 0.8.
type details []detail

func (d *details) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '{' {
		var one detail
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*d = details{one}
		return nil
	}
	var many []detail
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*d = many
	return nil
}

// Parse reads grype's JSON report (-o json). Each match is one issue: the
// same vulnerability in two packages, or in one package found at two
// places, stays two issues. Matches that are exact duplicates (grype
// repeats a match when two matchers find it the same way) are one.
func Parse(data []byte) (*producers.Parsed, error) {
	var r report
	if err := producers.DecodeJSON(name, data, &r); err != nil {
		return nil, err
	}
	if r.Descriptor != nil && r.Descriptor.Name != "" && r.Descriptor.Name != name {
		return nil, producers.Errorf(name, "not a grype JSON report: written by %q", r.Descriptor.Name)
	}
	if r.Matches == nil {
		if r.Descriptor == nil || r.Descriptor.Name != name {
			return nil, producers.Errorf(name, `not a grype JSON report: no "matches" key`)
		}
		r.Matches = &[]match{} // "matches": null, from a grype that found nothing
	}
	out := &producers.Parsed{}
	if r.Descriptor != nil {
		out.ToolVersion = r.Descriptor.Version
	}
	seen := make(map[string]bool, len(*r.Matches))
	out.Issues = make([]*v1.Issue, 0, len(*r.Matches))
	for i := range *r.Matches {
		m := &(*r.Matches)[i]
		key := m.key()
		if seen[key] {
			continue
		}
		seen[key] = true
		out.Issues = append(out.Issues, m.issue(out.ToolVersion))
	}
	return out, nil
}

// key identifies a match by everything that makes it a distinct finding.
func (m *match) key() string {
	var b strings.Builder
	v, a := &m.Vulnerability, &m.Artifact
	for _, s := range []string{v.ID, v.Namespace, a.Name, a.Version, a.Type, a.PURL} {
		b.WriteString(s)
		b.WriteByte(0)
	}
	for _, l := range a.Locations {
		b.WriteString(l.Path)
		b.WriteByte(1)
		b.WriteString(l.LayerID)
		b.WriteByte(0)
	}
	for _, d := range m.MatchDetails {
		b.WriteString(d.Type)
		b.WriteByte(1)
		b.WriteString(d.Matcher)
		b.WriteByte(0)
	}
	return b.String()
}

func (m *match) issue(toolVersion string) *v1.Issue {
	v, a := &m.Vulnerability, &m.Artifact
	id := producers.FirstNonEmpty(v.ID, "unknown")
	var path string
	if len(a.Locations) > 0 {
		path = a.Locations[0].Path
	}
	target := a.PURL
	if target == "" {
		target = a.Name + "@" + a.Version
		if path != "" {
			target += " in " + path
		}
	}
	sev, score := m.severity()
	iss := &v1.Issue{
		Target:         target,
		Type:           id,
		RuleId:         id,
		Title:          id + " in " + strings.TrimSpace(a.Name+" "+a.Version),
		Severity:       sev,
		Cvss:           score,
		Confidence:     m.confidence(),
		PackageUrl:     a.PURL,
		PackageVersion: a.Version,
		ToolName:       name,
		ToolVersion:    toolVersion,
		Annotations:    map[string]string{},
	}
	if path != "" {
		iss.Location = &v1.Location{Path: path}
	}
	if strings.HasPrefix(id, "CVE-") {
		iss.Cve = id
	}
	var refs []string
	addRef := func(u string) {
		if u != "" && !contains(refs, u) {
			refs = append(refs, u)
		}
	}
	addRef(v.DataSource)
	for _, u := range v.URLs {
		addRef(u)
	}
	for _, u := range v.Links {
		addRef(u)
	}
	desc := strings.TrimSpace(v.Description)
	for _, rv := range m.Related {
		if rv.ID != "" && rv.ID != id && !contains(iss.Aliases, rv.ID) {
			iss.Aliases = append(iss.Aliases, rv.ID)
		}
		if iss.Cve == "" && strings.HasPrefix(rv.ID, "CVE-") {
			iss.Cve = rv.ID
		}
		if desc == "" {
			desc = strings.TrimSpace(rv.Description)
		}
		addRef(rv.DataSource)
		for _, u := range rv.URLs {
			addRef(u)
		}
		for _, u := range rv.Links {
			addRef(u)
		}
	}
	iss.References = refs
	var fixState string
	if v.Fix != nil {
		fixState = v.Fix.State
		if len(v.Fix.Versions) > 0 {
			iss.FixedVersion = v.Fix.Versions[0]
		}
		if len(v.Fix.Versions) > 1 {
			iss.Annotations["grype.fix_versions"] = strings.Join(v.Fix.Versions, ", ")
		}
	}
	var b strings.Builder
	b.WriteString(desc)
	if b.Len() > 0 {
		b.WriteString("\n\n")
	}
	b.WriteString(strings.TrimSpace(a.Name + " " + a.Version))
	if a.Type != "" {
		b.WriteString(" (" + a.Type + ")")
	}
	if path != "" {
		b.WriteString(" at " + path)
	}
	switch {
	case iss.FixedVersion != "":
		b.WriteString("; fixed in " + strings.Join(v.Fix.Versions, ", "))
	case fixState != "":
		b.WriteString("; fix state: " + fixState)
	}
	b.WriteString(".")
	iss.Description = b.String()

	if a.Type != "" {
		iss.Tags = append(iss.Tags, a.Type)
	}
	if fixState != "" {
		iss.Tags = append(iss.Tags, "fix:"+fixState)
		iss.Annotations["grype.fix_state"] = fixState
	}
	if v.Namespace != "" {
		iss.Annotations["grype.namespace"] = v.Namespace
	}
	var matchers []string
	for _, d := range m.MatchDetails {
		if s := producers.FirstNonEmpty(d.Type, d.Matcher); s != "" && !contains(matchers, s) {
			matchers = append(matchers, s)
		}
	}
	if len(matchers) > 0 {
		iss.Annotations["grype.match"] = strings.Join(matchers, ", ")
	}
	if len(v.EPSS) > 0 {
		iss.Annotations["epss"] = strconv.FormatFloat(v.EPSS[0].EPSS, 'g', -1, 64)
		iss.Annotations["epss.percentile"] = strconv.FormatFloat(v.EPSS[0].Percentile, 'g', -1, 64)
	}
	if v.Risk > 0 {
		iss.Annotations["grype.risk"] = strconv.FormatFloat(v.Risk, 'g', -1, 64)
	}
	if len(iss.Annotations) == 0 {
		iss.Annotations = nil
	}
	return iss
}

// severity maps grype's scale (Critical, High, Medium, Low, Negligible,
// Unknown). Negligible is INFO. Unknown falls back to the highest CVSS
// base score grype lists for the vulnerability or its related records,
// and to MEDIUM when there is none: an advisory matched, and a severity
// no one rated must not hide below the default gate.
func (m *match) severity() (v1.Severity, float64) {
	score := bestScore(&m.Vulnerability)
	if score == 0 {
		for i := range m.Related {
			score = max(score, bestScore(&m.Related[i]))
		}
	}
	if s := producers.SeverityFromText(m.Vulnerability.Severity); s != v1.Severity_SEVERITY_UNSPECIFIED {
		return s, score
	}
	if score > 0 {
		return producers.SeverityFromCVSS(score), score
	}
	return v1.Severity_SEVERITY_MEDIUM, 0
}

// bestScore is the highest CVSS v3+ base score, or the highest v2 score
// when there is no v3 one.
func bestScore(v *vulnerability) float64 {
	var v3, v2 float64
	if v.CVSSV3 != nil && v.CVSSV3.BaseScore <= 10 {
		v3 = max(v3, v.CVSSV3.BaseScore)
	}
	if v.CVSSV2 != nil && v.CVSSV2.BaseScore <= 10 {
		v2 = max(v2, v.CVSSV2.BaseScore)
	}
	for _, c := range v.CVSS {
		s := c.Metrics.BaseScore
		if s < 0 || s > 10 {
			continue
		}
		if strings.HasPrefix(c.Version, "2") {
			v2 = max(v2, s)
		} else {
			v3 = max(v3, s)
		}
	}
	if v3 > 0 {
		return v3
	}
	return v2
}

// confidence: grype's exact matches (on the package's own name and
// version, directly or through its source package) are HIGH; matches by
// CPE, which guess a product name, are LOW. Old reports name only the
// matcher, which says nothing about how sure the match is.
func (m *match) confidence() v1.Confidence {
	best := v1.Confidence_CONFIDENCE_UNSPECIFIED
	for _, d := range m.MatchDetails {
		var c v1.Confidence
		switch d.Type {
		case "exact-direct-match", "exact-indirect-match":
			c = v1.Confidence_CONFIDENCE_HIGH
		case "cpe-match":
			c = v1.Confidence_CONFIDENCE_LOW
		case "":
			continue
		default:
			c = v1.Confidence_CONFIDENCE_MEDIUM
		}
		if c > best {
			best = c
		}
	}
	return best
}

func contains(ss []string, s string) bool {
	for _, v := range ss {
		if v == s {
			return true
		}
	}
	return false
}
