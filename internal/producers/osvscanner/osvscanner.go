// Package osvscanner runs Google's osv-scanner on a repository's lockfiles
// and parses its JSON report: known vulnerabilities (OSV advisories) of the
// pinned dependencies of every ecosystem it understands.
package osvscanner

import (
	"bytes"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/draconsec/dracon/internal/producers"
	"github.com/draconsec/dracon/internal/producers/depkit"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

const name = "osv-scanner"

// DBEnv names the environment variable that makes osv-scanner work
// offline against a local database: a folder holding
// osv-scanner/<Ecosystem>/all.zip (the zip of OSV JSON files that
// https://osv-vulnerabilities.storage.googleapis.com/<Ecosystem>/all.zip
// serves). Unset, osv-scanner asks the api.osv.dev service.
const DBEnv = "DRACON_OSVDB"

// Producer is osv-scanner: known vulnerabilities in locked dependencies.
var Producer = &producers.Producer{
	Name:        name,
	Aliases:     []string{"osv_scanner", "osv"},
	Kind:        producers.SCA,
	Languages:   []string{"go", "python", "javascript", "java", "rust", "ruby", "php", "dotnet", "dart", "elixir", "r", "c++"},
	Description: "known vulnerabilities (OSV advisories) in the versions pinned by lockfiles of every major ecosystem",
	Formats:     []string{"json", "sarif"},
	Parse:       Parse,
	Detect: []string{
		"go.mod", "requirements*.txt", "Pipfile.lock", "poetry.lock", "pdm.lock", "uv.lock",
		"package-lock.json", "yarn.lock", "pnpm-lock.yaml", "bun.lock",
		"Cargo.lock", "Gemfile.lock", "composer.lock", "pom.xml", "gradle.lockfile",
		"buildscript-gradle.lockfile", "verification-metadata.xml", "packages.lock.json",
		"pubspec.lock", "mix.lock", "renv.lock", "conan.lock",
	},
	RunsHere: true,
	Tool: &producers.Tool{
		Binary:    "osv-scanner",
		Network:   true, // it fetches its vulnerability data
		Version:   "v1.9.2",
		GoPackage: "github.com/google/osv-scanner/cmd/osv-scanner",
		Image:     "ghcr.io/google/osv-scanner:v1.9.2",
		Args: func(src, out string) []string {
			args := []string{"scan", "--format", "json", "--output", out, "--recursive"}
			if db := os.Getenv(DBEnv); db != "" {
				// Offline: no API calls, no transitive resolution, no git
				// lookups; advisories come from the local zips only.
				args = append(args, "--experimental-offline", "--experimental-local-db-path", db)
			}
			return append(args, ".")
		},
		// 1 is "vulnerabilities found". (128, "no package sources found",
		// writes no report and so fails the run.)
		OKExitCodes: []int{1},
		VersionArgs: []string{"--version"},
	},
}

type report struct {
	Results *[]struct {
		Source struct {
			Path string `json:"path"`
			Type string `json:"type"`
		} `json:"source"`
		Packages []pkgVulns `json:"packages"`
	} `json:"results"`
}

type pkgVulns struct {
	Package struct {
		Name      string `json:"name"`
		Version   string `json:"version"`
		Ecosystem string `json:"ecosystem"`
		Commit    string `json:"commit"`
	} `json:"package"`
	DepGroups       []string `json:"dependency_groups"`
	Vulnerabilities []*vuln  `json:"vulnerabilities"`
	Groups          []struct {
		IDs         []string `json:"ids"`
		Aliases     []string `json:"aliases"`
		MaxSeverity string   `json:"max_severity"`
		Analysis    map[string]struct {
			Called bool `json:"called"`
		} `json:"experimentalAnalysis"`
	} `json:"groups"`
}

// vuln is an OSV entry, only the fields Dracon reads.
type vuln struct {
	ID       string   `json:"id"`
	Aliases  []string `json:"aliases"`
	Summary  string   `json:"summary"`
	Details  string   `json:"details"`
	Severity []struct {
		Type  string `json:"type"`
		Score string `json:"score"`
	} `json:"severity"`
	Affected []struct {
		Package struct {
			Ecosystem string `json:"ecosystem"`
			Name      string `json:"name"`
			PURL      string `json:"purl"`
		} `json:"package"`
		Ranges []struct {
			Type   string `json:"type"`
			Events []struct {
				Introduced *string `json:"introduced"`
				Fixed      *string `json:"fixed"`
			} `json:"events"`
		} `json:"ranges"`
		Versions         []string `json:"versions"`
		DatabaseSpecific *struct {
			Severity string `json:"severity"`
			CWEs     []struct {
				ID string `json:"cweId"`
			} `json:"cwes"`
		} `json:"database_specific"`
		EcosystemSpecific *struct {
			Severity string `json:"severity"`
		} `json:"ecosystem_specific"`
	} `json:"affected"`
	References []struct {
		Type string `json:"type"`
		URL  string `json:"url"`
	} `json:"references"`
	DatabaseSpecific *struct {
		Severity string   `json:"severity"`
		CWEIDs   []string `json:"cwe_ids"`
	} `json:"database_specific"`
}

// Parse reads osv-scanner's JSON report (--format json). It makes one
// issue per vulnerability group of each package of each scanned source:
// osv-scanner groups the advisories that are aliases of each other (a
// GHSA and a PYSEC entry for the same bug), so one bug is one issue.
func Parse(data []byte) (*producers.Parsed, error) {
	var r report
	if err := producers.DecodeJSON(name, data, &r); err != nil {
		return nil, err
	}
	if r.Results == nil {
		if trimmed := bytes.TrimSpace(data); len(trimmed) > 0 && trimmed[0] == '[' {
			return nil, producers.Errorf(name, "not an osv-scanner JSON report: a list, not an object")
		}
		return nil, producers.Errorf(name, `not an osv-scanner JSON report: no "results" key`)
	}
	out := &producers.Parsed{}
	for _, res := range *r.Results {
		for pi := range res.Packages {
			p := &res.Packages[pi]
			for _, g := range groupsOf(p) {
				out.Issues = append(out.Issues, issue(res.Source.Path, res.Source.Type, p, g))
			}
		}
	}
	return out, nil
}

// group is one bug: the OSV entries that alias each other.
type group struct {
	vulns       []*vuln
	aliases     []string
	maxSeverity string
	called      *bool
}

// groupsOf pairs the package's groups with its entries. Reports without
// groups (older osv-scanner, edited files) get one group per entry, and an
// entry no group names gets its own, so nothing is dropped.
func groupsOf(p *pkgVulns) []*group {
	byID := map[string]*vuln{}
	for _, v := range p.Vulnerabilities {
		if v != nil {
			byID[v.ID] = v
		}
	}
	used := map[string]bool{}
	var out []*group
	for _, g := range p.Groups {
		gr := &group{aliases: g.Aliases, maxSeverity: g.MaxSeverity}
		for _, id := range g.IDs {
			if v := byID[id]; v != nil && !used[id] {
				gr.vulns = append(gr.vulns, v)
				used[id] = true
			}
			if a, ok := g.Analysis[id]; ok {
				called := a.Called || (gr.called != nil && *gr.called)
				gr.called = &called
			}
		}
		if len(gr.vulns) == 0 {
			if len(g.IDs) == 0 {
				continue
			}
			// A group whose entries are missing still names a bug.
			gr.vulns = []*vuln{{ID: g.IDs[0]}}
		}
		out = append(out, gr)
	}
	for _, v := range p.Vulnerabilities {
		if v != nil && !used[v.ID] {
			used[v.ID] = true
			out = append(out, &group{vulns: []*vuln{v}})
		}
	}
	return out
}

func issue(source, sourceType string, p *pkgVulns, g *group) *v1.Issue {
	v := g.vulns[0]
	pkg := p.Package
	purl := packageURL(pkg.Ecosystem, pkg.Name, pkg.Version)
	if purl == "" {
		purl = affectedPURL(v, pkg.Name, pkg.Version)
	}
	target := purl
	if target == "" {
		target = pkg.Name + "@" + pkg.Version
		if pkg.Name == "" {
			target = "commit " + pkg.Commit
		}
		if source != "" {
			target += " in " + source
		}
	}
	id := v.ID
	if id == "" {
		id = "unknown"
	}
	sev, cvss := severity(g)
	iss := &v1.Issue{
		Target:         target,
		Type:           id,
		RuleId:         id,
		Title:          title(v, pkg.Name),
		Severity:       sev,
		Cvss:           cvss,
		PackageUrl:     purl,
		PackageVersion: pkg.Version,
		FixedVersion:   fixedVersion(v, pkg.Name, pkg.Version),
		ToolName:       name,
	}
	if source != "" {
		iss.Location = &v1.Location{Path: source}
	}
	if g.called != nil {
		if *g.called {
			iss.Confidence = v1.Confidence_CONFIDENCE_HIGH
			iss.Tags = append(iss.Tags, "called")
		} else {
			iss.Confidence = v1.Confidence_CONFIDENCE_LOW
			iss.Tags = append(iss.Tags, "not called")
		}
	}
	if pkg.Ecosystem != "" {
		iss.Tags = append(iss.Tags, pkg.Ecosystem)
	}
	iss.Tags = append(iss.Tags, p.DepGroups...)
	// Aliases: the group's other ids and aliases, then each entry's own.
	seen := map[string]bool{id: true}
	addAlias := func(a string) {
		if a != "" && !seen[a] {
			seen[a] = true
			iss.Aliases = append(iss.Aliases, a)
		}
	}
	for _, gv := range g.vulns[1:] {
		addAlias(gv.ID)
	}
	for _, a := range g.aliases {
		addAlias(a)
	}
	var refs, cwes []string
	for _, gv := range g.vulns {
		for _, a := range gv.Aliases {
			addAlias(a)
		}
		for _, r := range gv.References {
			if r.URL != "" && !contains(refs, r.URL) {
				refs = append(refs, r.URL)
			}
		}
		if gv.DatabaseSpecific != nil {
			cwes = append(cwes, gv.DatabaseSpecific.CWEIDs...)
		}
		for _, a := range gv.Affected {
			if a.DatabaseSpecific != nil {
				for _, c := range a.DatabaseSpecific.CWEs {
					cwes = append(cwes, c.ID)
				}
			}
		}
	}
	if strings.HasPrefix(id, "CVE-") {
		iss.Cve = id
	}
	for _, a := range iss.Aliases {
		if iss.Cve == "" && strings.HasPrefix(a, "CVE-") {
			iss.Cve = a
		}
	}
	iss.References = refs
	iss.Cwe = producers.CWEs(cwes...)
	iss.Description = describe(v, pkg.Name, pkg.Version, pkg.Ecosystem, source, iss.FixedVersion)
	return iss
}

func title(v *vuln, pkg string) string {
	text := strings.TrimSpace(v.Summary)
	if text == "" {
		line, _, _ := strings.Cut(strings.TrimSpace(v.Details), "\n")
		text = strings.TrimSpace(line)
		if len(text) > 120 {
			text = text[:117] + "..."
		}
	}
	if text == "" || strings.HasPrefix(text, "---") {
		text = "vulnerability in " + pkg
	}
	if v.ID == "" {
		return text
	}
	return v.ID + ": " + text
}

func describe(v *vuln, pkg, version, eco, source, fixed string) string {
	var b strings.Builder
	b.WriteString(strings.TrimSpace(v.Details))
	if b.Len() > 0 {
		b.WriteString("\n\n")
	}
	b.WriteString(pkg + " " + version)
	if eco != "" {
		b.WriteString(" (" + eco + ")")
	}
	if source != "" {
		b.WriteString(" in " + source)
	}
	if fixed != "" {
		b.WriteString("; fixed in " + fixed)
	} else {
		b.WriteString("; no fixed version is known")
	}
	b.WriteString(".")
	return b.String()
}

// severity prefers osv-scanner's own max_severity (the highest CVSS base
// score of the group's entries), then the word a database gives (GitHub's
// HIGH/MODERATE/..., an ecosystem's own scale). Malicious packages (MAL-
// entries) are CRITICAL: the package itself is malware. Anything else is
// MEDIUM: osv-scanner matched a known advisory, but its database gives no
// severity.
func severity(g *group) (v1.Severity, float64) {
	if score, err := strconv.ParseFloat(strings.TrimSpace(g.maxSeverity), 64); err == nil && score >= 0 && score <= 10 {
		return producers.SeverityFromCVSS(score), score
	}
	best := v1.Severity_SEVERITY_UNSPECIFIED
	for _, v := range g.vulns {
		words := []string{}
		if v.DatabaseSpecific != nil {
			words = append(words, v.DatabaseSpecific.Severity)
		}
		for _, a := range v.Affected {
			if a.EcosystemSpecific != nil {
				words = append(words, a.EcosystemSpecific.Severity)
			}
			if a.DatabaseSpecific != nil {
				words = append(words, a.DatabaseSpecific.Severity)
			}
		}
		for _, w := range words {
			if s := producers.SeverityFromText(w); s > best {
				best = s
			}
		}
		if strings.HasPrefix(v.ID, "MAL-") {
			best = v1.Severity_SEVERITY_CRITICAL
		}
	}
	if best == v1.Severity_SEVERITY_UNSPECIFIED {
		best = v1.Severity_SEVERITY_MEDIUM
	}
	return best, 0
}

// purlTypes maps OSV ecosystems to package-URL types.
var purlTypes = map[string]string{
	"npm": "npm", "PyPI": "pypi", "Go": "golang", "Maven": "maven", "crates.io": "cargo",
	"RubyGems": "gem", "Packagist": "composer", "NuGet": "nuget", "Pub": "pub",
	"Hex": "hex", "CRAN": "cran", "Hackage": "hackage", "SwiftURL": "swift",
	"ConanCenter": "conan", "Bioconductor": "bioconductor", "GitHub Actions": "github",
}

// packageURL builds pkg:<type>/<name>@<version>. Maven names are
// group:artifact; Linux distributions' ecosystems ("Debian:12",
// "Alpine:v3.18") have their own types with the distribution as namespace.
func packageURL(eco, pkgName, version string) string {
	if pkgName == "" {
		return ""
	}
	base, release, _ := strings.Cut(eco, ":")
	var typ, ns string
	switch base {
	case "Debian", "Ubuntu":
		typ, ns = "deb", strings.ToLower(base)
	case "Alpine":
		typ, ns = "apk", "alpine"
	case "Rocky Linux", "AlmaLinux", "Red Hat", "openSUSE", "SUSE":
		typ, ns = "rpm", strings.ToLower(strings.ReplaceAll(base, " ", ""))
	default:
		typ = purlTypes[eco]
	}
	if typ == "" {
		return ""
	}
	var path string
	switch {
	case typ == "maven" && strings.Contains(pkgName, ":"):
		group, artifact, _ := strings.Cut(pkgName, ":")
		path = escape(group) + "/" + escape(artifact)
	case typ == "npm" && strings.HasPrefix(pkgName, "@"):
		scope, rest, _ := strings.Cut(pkgName, "/")
		path = "%40" + escape(scope[1:]) + "/" + escape(rest)
	case typ == "golang" || typ == "swift" || typ == "github" || typ == "composer":
		parts := strings.Split(pkgName, "/")
		for i := range parts {
			parts[i] = escape(parts[i])
		}
		path = strings.Join(parts, "/")
	default:
		path = escape(pkgName)
	}
	if ns != "" {
		path = ns + "/" + path
	}
	p := "pkg:" + typ + "/" + path
	if version != "" {
		p += "@" + escape(version)
	}
	if release != "" && ns != "" {
		p += "?distro=" + url.QueryEscape(release)
	}
	return p
}

func escape(s string) string {
	return strings.ReplaceAll(url.PathEscape(s), "%3A", ":")
}

// affectedPURL falls back to the purl an OSV entry gives its package.
func affectedPURL(v *vuln, pkg, version string) string {
	for _, a := range v.Affected {
		if a.Package.PURL != "" && (a.Package.Name == pkg || pkg == "") {
			p := a.Package.PURL
			if version != "" && !strings.Contains(p, "@") {
				p += "@" + version
			}
			return p
		}
	}
	return ""
}

// fixedVersion finds, in the entry's ranges for the package, the version
// that fixes the range holding version. Ecosystem versions are compared
// numerically part by part, which is right for SemVer and the common cases
// of other schemes; when only one fix is listed, that one is given.
func fixedVersion(v *vuln, pkg, version string) string {
	var fixes []string
	for _, a := range v.Affected {
		if a.Package.Name != pkg && pkg != "" {
			continue
		}
		for _, r := range a.Ranges {
			if r.Type == "GIT" {
				continue
			}
			in := false
			for _, ev := range r.Events {
				if ev.Introduced != nil {
					in = version == "" || depkit.CompareVersions(*ev.Introduced, version) <= 0
				}
				if ev.Fixed != nil {
					fixes = append(fixes, *ev.Fixed)
					if in && version != "" && depkit.CompareVersions(version, *ev.Fixed) < 0 {
						return *ev.Fixed
					}
					in = false
				}
			}
		}
	}
	if len(fixes) == 1 {
		return fixes[0]
	}
	return ""
}

func contains(ss []string, s string) bool {
	for _, v := range ss {
		if v == s {
			return true
		}
	}
	return false
}
