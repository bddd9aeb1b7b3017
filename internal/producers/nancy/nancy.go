// Package nancy parses the JSON report of Sonatype's nancy, which checks
// Go modules against OSS Index.
package nancy

import (
	"strconv"
	"strings"

	"github.com/draconsec/dracon/internal/producers"
	"github.com/draconsec/dracon/internal/producers/depkit"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

const name = "nancy"

// Producer is nancy. It reads the module list from standard input
// (`go list -json -deps ./... | nancy sleuth --output json`), which
// Dracon's runners do not pipe, so it is an import-only producer: a CI step
// runs nancy and Dracon reads the report it wrote (producers.nancy.paths).
// For the same job run by Dracon itself, use govulncheck or osv-scanner.
var Producer = &producers.Producer{
	Name:        name,
	Aliases:     []string{"golang-nancy"},
	Kind:        producers.SCA,
	Languages:   []string{"go"},
	Description: "Go modules with known vulnerabilities (Sonatype OSS Index), from a report nancy wrote",
	Formats:     []string{"json"},
	Parse:       Parse,
}

type report struct {
	// "audited" repeats the vulnerable modules with the clean ones: only
	// its presence is checked, it is not decoded.
	Audited    *present      `json:"audited"`
	Vulnerable *[]coordinate `json:"vulnerable"`
	Excluded   []coordinate  `json:"excluded"`
	Version    string        `json:"version"`
}

// present marks a key that must be there but whose value is not read.
type present struct{}

func (*present) UnmarshalJSON([]byte) error { return nil }

type coordinate struct {
	Coordinates     string `json:"Coordinates"`
	Reference       string `json:"Reference"`
	Vulnerabilities []struct {
		ID          string `json:"ID"` // "Id" in nancy < 1.0.20; JSON keys match either case
		Title       string `json:"Title"`
		Description string `json:"Description"`
		CvssScore   string `json:"CvssScore"`
		CvssVector  string `json:"CvssVector"`
		Cve         string `json:"Cve"`
		Reference   string `json:"Reference"`
		Excluded    bool   `json:"Excluded"`
	} `json:"Vulnerabilities"`
}

// Parse reads nancy's JSON report (`nancy sleuth --output json`). Each
// vulnerability of each module in "vulnerable" is an issue ("audited"
// lists the same modules again, with the clean ones); modules in
// "excluded" are kept as suppressed issues.
func Parse(data []byte) (*producers.Parsed, error) {
	var r report
	if err := producers.DecodeJSON(name, data, &r); err != nil {
		return nil, err
	}
	if r.Vulnerable == nil || r.Audited == nil {
		return nil, producers.Errorf(name, `not a nancy JSON report: no "audited" and "vulnerable" keys`)
	}
	out := &producers.Parsed{ToolVersion: r.Version}
	for i := range *r.Vulnerable {
		if err := add(out, &(*r.Vulnerable)[i], false, r.Version); err != nil {
			return nil, producers.Errorf(name, "vulnerable[%d]: %v", i, err)
		}
	}
	for i := range r.Excluded {
		if err := add(out, &r.Excluded[i], true, r.Version); err != nil {
			return nil, producers.Errorf(name, "excluded[%d]: %v", i, err)
		}
	}
	return out, nil
}

func add(out *producers.Parsed, c *coordinate, excluded bool, version string) error {
	purl := strings.TrimSpace(c.Coordinates)
	if !strings.HasPrefix(purl, "pkg:") {
		return producers.Errorf(name, "coordinates %q are not a package URL", c.Coordinates)
	}
	module := strings.TrimPrefix(purl, "pkg:")
	if _, rest, ok := strings.Cut(module, "/"); ok {
		module = rest // drop the purl type
	}
	for _, v := range c.Vulnerabilities {
		rule := producers.FirstNonEmpty(v.Cve, v.ID, "unknown")
		cve, aliases := depkit.SplitIDs(rule, v.Cve, v.ID)
		score, _ := strconv.ParseFloat(strings.TrimSpace(v.CvssScore), 64)
		if score <= 0 || score > 10 {
			score, _ = depkit.CVSS3Score(v.CvssVector)
		}
		sev := v1.Severity_SEVERITY_MEDIUM // no score at all: OSS Index always scores, so rare
		if score > 0 {
			sev = producers.SeverityFromCVSS(score)
		} else if strings.TrimSpace(v.CvssScore) != "" || v.CvssVector != "" {
			sev = v1.Severity_SEVERITY_INFO // scored 0.0
		}
		iss := &v1.Issue{
			Target:         purl,
			Type:           rule,
			RuleId:         rule,
			Title:          producers.FirstNonEmpty(strings.Join(strings.Fields(v.Title), " "), rule) + " in " + module,
			Severity:       sev,
			Cvss:           score,
			Description:    strings.TrimSpace(v.Description),
			Cve:            cve,
			Aliases:        aliases,
			Cwe:            producers.CWEs(cweRefs(v.Title)...),
			PackageUrl:     purl,
			PackageVersion: depkit.VersionOf(purl),
			ToolName:       name,
			ToolVersion:    version,
		}
		if ref := strings.TrimSpace(v.Reference); ref != "" {
			iss.References = []string{ref}
		}
		if v.CvssVector != "" {
			iss.Annotations = map[string]string{"cvss_vector": v.CvssVector}
		}
		if excluded || v.Excluded {
			if iss.Annotations == nil {
				iss.Annotations = map[string]string{}
			}
			iss.Annotations["suppressed"] = "true"
			iss.Tags = append(iss.Tags, "suppressed")
		}
		out.Issues = append(out.Issues, iss)
	}
	return nil
}

// cweRefs finds the "CWE-770" references in an OSS Index title such as
// "[CVE-2025-58058] CWE-770: Allocation of Resources ...".
func cweRefs(title string) []string {
	var out []string
	for {
		i := strings.Index(title, "CWE-")
		if i < 0 {
			return out
		}
		title = title[i:]
		out = append(out, title)
		title = title[4:]
	}
}
