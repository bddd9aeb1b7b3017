package githubalerts

import (
	"context"
	"fmt"
	"net/http"
	"path"
	"strconv"
	"strings"

	"github.com/draconsec/dracon/internal/producers"
	"github.com/draconsec/dracon/internal/producers/depkit"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
	"github.com/go-json-experiment/json/jsontext"
)

// DependabotName is the Dependabot producer's name.
const DependabotName = "github-dependabot"

var dependabot = endpoint{
	producer: DependabotName,
	what:     "Dependabot alerts",
	path:     "dependabot/alerts",
	filters:  []string{"severity", "ecosystem", "package", "manifest", "scope", "has"},
	// For years no workflow permission reached Dependabot alerts (a
	// token of its own was needed); GitHub has since added
	// vulnerability-alerts to the workflow permissions.
	permission: "in a workflow, `permissions: vulnerability-alerts: read`; else a fine-grained token or a GitHub App's with \"Dependabot alerts: read\", or a classic token with the security_events scope (repo for a private repository)",
	hint: func(status int, msg string) string {
		switch {
		case status == http.StatusForbidden && strings.Contains(msg, "dependabot alerts are disabled"):
			return "enable Dependabot alerts in the repository's settings (Code security), or leave github-dependabot out of the producers"
		case status == http.StatusForbidden && strings.Contains(msg, "not accessible by integration"):
			return "this token may not read Dependabot alerts: give the workflow `permissions: vulnerability-alerts: read`, or set GITHUB_TOKEN to a fine-grained token or a GitHub App's with \"Dependabot alerts: read\""
		case status == http.StatusBadRequest && strings.Contains(msg, "pagination"):
			return "GitHub refused the paging: this GitHub may be older than cursor pagination"
		}
		return ""
	},
}

// Dependabot imports the repository's open Dependabot alerts.
var Dependabot = &producers.Producer{
	Name:        DependabotName,
	Aliases:     []string{"dependabot", "dependabot-alerts"},
	Kind:        producers.SCA,
	Languages:   []string{"any"},
	Description: "the repository's open GitHub Dependabot alerts (vulnerable dependencies in its manifests), from GitHub's API",
	Formats:     []string{"json"},
	Parse:       ParseDependabot,
	Fetch:       func(ctx context.Context, env producers.FetchEnv) ([]byte, error) { return dependabot.fetch(ctx, env) },
	// RunsHere stays false: CI does not call GitHub; the tests answer as
	// GitHub's API does (testdata).
}

type dbPackage struct {
	Ecosystem string `json:"ecosystem"`
	Name      string `json:"name"`
}

type dbCVSS struct {
	Score        float64 `json:"score"`
	VectorString string  `json:"vector_string"`
}

type dbSeverities struct {
	V3 *dbCVSS `json:"cvss_v3"`
	V4 *dbCVSS `json:"cvss_v4"`
}

type dbAdvisory struct {
	GHSAID         string        `json:"ghsa_id"`
	CVEID          string        `json:"cve_id"`
	Summary        string        `json:"summary"`
	Description    string        `json:"description"`
	Severity       string        `json:"severity"`
	CVSS           *dbCVSS       `json:"cvss"`
	CVSSSeverities *dbSeverities `json:"cvss_severities"`
	EPSS           []struct {
		// GitHub's example writes the percentile as a string.
		Percentage jsontext.Value `json:"percentage"`
		Percentile jsontext.Value `json:"percentile"`
	} `json:"epss"`
	CWEs []struct {
		ID string `json:"cwe_id"`
	} `json:"cwes"`
	Identifiers []struct {
		Type  string `json:"type"`
		Value string `json:"value"`
	} `json:"identifiers"`
	References []struct {
		URL string `json:"url"`
	} `json:"references"`
}

// dbAlert is a Dependabot alert as GET .../dependabot/alerts lists it
// (the "dependabot-alert" schema): the fields Dracon reads.
type dbAlert struct {
	Number     int    `json:"number"`
	State      string `json:"state"`
	HTMLURL    string `json:"html_url"`
	Dependency *struct {
		Package      *dbPackage `json:"package"`
		ManifestPath string     `json:"manifest_path"`
		Scope        string     `json:"scope"`
		Relationship string     `json:"relationship"`
	} `json:"dependency"`
	Advisory      *dbAdvisory `json:"security_advisory"`
	Vulnerability *struct {
		Package                *dbPackage `json:"package"`
		Severity               string     `json:"severity"`
		VulnerableVersionRange string     `json:"vulnerable_version_range"`
		FirstPatchedVersion    *struct {
			Identifier string `json:"identifier"`
		} `json:"first_patched_version"`
	} `json:"security_vulnerability"`
	DismissedReason  string `json:"dismissed_reason"`
	DismissedComment string `json:"dismissed_comment"`
}

// ParseDependabot reads Dependabot alerts (a JSON array, or arrays one
// after the other): one dependency issue per alert. An alert names the
// package and the manifest but not the installed version, so the
// package URL has none. Fixed alerts are not findings; dismissed ones
// are kept, marked suppressed with GitHub's reason.
func ParseDependabot(data []byte) (*producers.Parsed, error) {
	out := &producers.Parsed{}
	n := 0
	err := eachAlert(DependabotName, data, func(dec *jsontext.Decoder) error {
		off := dec.InputOffset()
		var a dbAlert
		if err := unmarshal(dec, &a); err != nil {
			return err
		}
		n++
		if a.Advisory == nil && a.Vulnerability == nil || a.pkg().Name == "" {
			return &producers.ParseError{Offset: off, Err: fmt.Errorf("alert %d is not a Dependabot alert: it names no advisory or no package", n)}
		}
		if !closed(a.State) {
			out.Issues = append(out.Issues, a.issue())
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// pkg is the alert's package: the dependency's, else the vulnerability's.
func (a *dbAlert) pkg() dbPackage {
	if a.Dependency != nil && a.Dependency.Package != nil && a.Dependency.Package.Name != "" {
		return *a.Dependency.Package
	}
	if a.Vulnerability != nil && a.Vulnerability.Package != nil {
		return *a.Vulnerability.Package
	}
	return dbPackage{}
}

func (a *dbAlert) issue() *v1.Issue {
	p := a.pkg()
	purl := PackageURL(p.Ecosystem, p.Name)
	adv := a.Advisory
	if adv == nil {
		adv = &dbAdvisory{}
	}
	var ids []string
	for _, id := range adv.Identifiers {
		ids = append(ids, id.Value)
	}
	// The CVE names the vulnerability as other scanners do (trivy's,
	// grype's); the GHSA, Dependabot's own name, is an alias.
	cve, aliases := depkit.SplitIDs("", append([]string{adv.CVEID, adv.GHSAID}, ids...)...)
	rule := producers.FirstNonEmpty(cve, adv.GHSAID, "unknown")
	var kept []string
	for _, al := range aliases {
		if al != rule {
			kept = append(kept, al)
		}
	}
	manifest := ""
	if a.Dependency != nil {
		manifest = a.Dependency.ManifestPath
	}
	iss := &v1.Issue{
		Type:       rule,
		RuleId:     rule,
		Cve:        cve,
		Aliases:    kept,
		Title:      strings.TrimSpace(producers.FirstNonEmpty(adv.Summary, rule+" in "+p.Name)),
		PackageUrl: purl,
		Target:     producers.FirstNonEmpty(manifest, purl),
		ToolName:   DependabotName,
	}
	if manifest != "" {
		iss.Location = &v1.Location{Path: manifest}
	}
	if a.Number > 0 {
		iss.Fingerprint = "github/dependabot/" + strconv.Itoa(a.Number)
	}
	var vector string
	for _, c := range []*dbCVSS{adv.CVSS, v3(adv.CVSSSeverities), v4(adv.CVSSSeverities)} {
		if c != nil && c.Score > 0 {
			iss.Cvss, vector = c.Score, c.VectorString
			break
		}
	}
	sevWord := adv.Severity
	var vulnRange string
	if v := a.Vulnerability; v != nil {
		sevWord = producers.FirstNonEmpty(sevWord, v.Severity)
		vulnRange = v.VulnerableVersionRange
		if v.FirstPatchedVersion != nil {
			iss.FixedVersion = v.FirstPatchedVersion.Identifier
		}
	}
	iss.Severity = producers.SeverityFromText(sevWord)
	if iss.Severity == v1.Severity_SEVERITY_UNSPECIFIED {
		if iss.Cvss > 0 {
			iss.Severity = producers.SeverityFromCVSS(iss.Cvss)
		} else {
			// An advisory matched; GitHub rated nothing.
			iss.Severity = v1.Severity_SEVERITY_MEDIUM
		}
	}
	for _, c := range adv.CWEs {
		iss.Cwe = appendCWE(iss.Cwe, producers.CWEs(c.ID))
	}
	for _, u := range []string{a.HTMLURL, advisoryURL(adv.GHSAID)} {
		if u != "" && !contains(iss.References, u) {
			iss.References = append(iss.References, u)
		}
	}
	for _, r := range adv.References {
		if r.URL != "" && !contains(iss.References, r.URL) {
			iss.References = append(iss.References, r.URL)
		}
	}
	if p.Ecosystem != "" {
		iss.Tags = append(iss.Tags, p.Ecosystem)
	}
	if a.Dependency != nil {
		for _, t := range []string{a.Dependency.Scope, a.Dependency.Relationship} {
			if t != "" && t != "unknown" {
				iss.Tags = append(iss.Tags, t)
			}
		}
	}
	var d strings.Builder
	producers.Section(&d, "Advisory", producers.FirstNonEmpty(adv.Description, adv.Summary))
	producers.Section(&d, "Package", strings.TrimSpace(p.Name+" ("+p.Ecosystem+")"))
	producers.Section(&d, "Vulnerable versions", vulnRange)
	producers.Section(&d, "First patched version", iss.FixedVersion)
	producers.Section(&d, "Manifest", manifest)
	producers.Section(&d, "Alert", a.HTMLURL)
	iss.Description = d.String()
	ann := annotated{}
	if a.Number > 0 {
		ann.set("github.alert_number", strconv.Itoa(a.Number))
	}
	ann.set("github.alert_url", a.HTMLURL)
	ann.set("vulnerable_versions", vulnRange)
	ann.set("cvss_vector", vector)
	if a.Dependency != nil {
		ann.set("github.scope", a.Dependency.Scope)
		ann.set("github.relationship", a.Dependency.Relationship)
	}
	if len(adv.EPSS) > 0 {
		ann.set("epss", number(adv.EPSS[0].Percentage))
		ann.set("epss_percentile", number(adv.EPSS[0].Percentile))
	}
	dismissal(ann, a.State, a.DismissedReason, a.DismissedComment)
	iss.Annotations = ann
	return iss
}

func v3(s *dbSeverities) *dbCVSS {
	if s == nil {
		return nil
	}
	return s.V3
}

func v4(s *dbSeverities) *dbCVSS {
	if s == nil {
		return nil
	}
	return s.V4
}

// number is a JSON number, or a number GitHub wrote as a string
// ("0.16001e0"), in its shortest form; "" when it is neither.
func number(v jsontext.Value) string {
	s := strings.Trim(strings.TrimSpace(string(v)), `"`)
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return ""
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

func advisoryURL(ghsa string) string {
	if !strings.HasPrefix(ghsa, "GHSA-") {
		return ""
	}
	return "https://github.com/advisories/" + ghsa
}

// PackageURL is the package URL (no version: a Dependabot alert has
// none) of a package of one of GitHub's advisory ecosystems, written as
// the other scanners' parsers write theirs, so the merge enricher finds
// the same package: npm scopes in the namespace, PyPI names normalised,
// Maven's group:artifact split, Go module paths split at the last "/".
func PackageURL(ecosystem, name string) string {
	name = strings.TrimSpace(name)
	if name == "" {
		return ""
	}
	switch eco := strings.ToLower(strings.TrimSpace(ecosystem)); eco {
	case "npm":
		return depkit.NpmPurl(name, "")
	case "pip":
		return depkit.PypiPurl(name, "")
	case "maven":
		if g, a, ok := strings.Cut(name, ":"); ok {
			return depkit.Purl("maven", g, a, "")
		}
		return depkit.Purl("maven", "", name, "")
	case "go":
		return depkit.Purl("golang", dirOf(name), path.Base(name), "")
	case "composer":
		return depkit.Purl("composer", dirOf(name), path.Base(name), "")
	case "swift":
		return depkit.Purl("swift", dirOf(name), path.Base(name), "")
	case "actions":
		// GitHub's own SBOMs name actions so: pkg:githubactions/owner/repo.
		return depkit.Purl("githubactions", dirOf(name), path.Base(name), "")
	case "rubygems":
		return depkit.Purl("gem", "", name, "")
	case "rust":
		return depkit.Purl("cargo", "", name, "")
	case "erlang":
		return depkit.Purl("hex", "", strings.ToLower(name), "")
	case "nuget", "pub":
		return depkit.Purl(eco, "", name, "")
	case "":
		return depkit.Purl("generic", "", name, "")
	default:
		return depkit.Purl(eco, "", name, "")
	}
}

func dirOf(name string) string {
	if d := path.Dir(name); d != "." {
		return d
	}
	return ""
}
