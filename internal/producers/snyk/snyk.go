// Package snyk parses `snyk test --json` (open source and container
// projects, one or --all-projects); Snyk Code's SARIF goes to the SARIF
// reader.
package snyk

import (
	"bytes"
	"encoding/json"
	"sort"
	"strconv"
	"strings"

	"github.com/draconsec/dracon/internal/producers"
	"github.com/draconsec/dracon/internal/producers/depkit"
	"github.com/draconsec/dracon/internal/producers/sarif"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

const name = "snyk"

// Producer is the Snyk CLI. It needs a Snyk account token (SNYK_TOKEN) and
// sends the dependency graph to Snyk's service, so auto-detection never
// picks it: name it in dracon.yaml to run it.
var Producer = &producers.Producer{
	Name:        name,
	Aliases:     []string{"snyk-test", "snyk_test", "snyk-docker", "snyk-node", "snyk-python"},
	Kind:        producers.SCA,
	Languages:   []string{"javascript", "java", "python", "go", "dotnet", "ruby", "php", "containers"},
	Description: "open-source dependencies and container packages with known vulnerabilities and license issues (Snyk database; needs SNYK_TOKEN)",
	Formats:     []string{"json", "sarif"},
	Parse:       Parse,
	Tool: &producers.Tool{
		Binary:  "snyk",
		Network: true, // it fetches its vulnerability data
		Version: "1.1307.4",
		Install: "npm install -g snyk@1.1307.4, then set SNYK_TOKEN",
		Image:   "docker.io/snyk/snyk:node",
		Args: func(src, out string) []string {
			return []string{"test", "--all-projects", "--json-file-output=" + out}
		},
		// 1: vulnerabilities found.
		OKExitCodes: []int{1},
		VersionArgs: []string{"--version"},
	},
}

type project struct {
	Vulnerabilities *[]vuln `json:"vulnerabilities"`
	OK              *bool   `json:"ok"`
	Error           string  `json:"error"`
	PackageManager  string  `json:"packageManager"`
	ProjectName     string  `json:"projectName"`
	DisplayTarget   string  `json:"displayTargetFile"`
	TargetFile      string  `json:"targetFile"`
	Path            string  `json:"path"`
	Filtered        *struct {
		Ignore []vuln `json:"ignore"`
		Patch  []vuln `json:"patch"`
	} `json:"filtered"`
	Applications []project `json:"applications"`
}

type vuln struct {
	ID                   string                  `json:"id"`
	Title                string                  `json:"title"`
	Type                 string                  `json:"type"` // "license" for license issues
	Description          string                  `json:"description"`
	Severity             string                  `json:"severity"`
	SeverityWithCritical string                  `json:"severityWithCritical"`
	CVSSScore            *float64                `json:"cvssScore"`
	CVSSv3               string                  `json:"CVSSv3"`
	Identifiers          map[string][]flexString `json:"identifiers"`
	Name                 string                  `json:"name"`
	Version              string                  `json:"version"`
	PackageManager       string                  `json:"packageManager"`
	FixedIn              []string                `json:"fixedIn"`
	From                 []string                `json:"from"`
	UpgradePath          []json.RawMessage       `json:"upgradePath"`
	IsUpgradable         bool                    `json:"isUpgradable"`
	Exploit              string                  `json:"exploit"`
	License              string                  `json:"license"`
	References           []struct {
		URL string `json:"url"`
	} `json:"references"`
}

// flexString holds an identifier written as a string or a number (old
// "NSP" ids are numbers).
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
		return nil
	}
	if _, err := strconv.ParseFloat(string(b), 64); err != nil {
		return err
	}
	*f = flexString(b)
	return nil
}

// Parse reads `snyk test --json`: one project object, or with
// --all-projects an array of them; a container project's "applications"
// are read as projects too. A SARIF document (snyk code test --sarif,
// snyk test --sarif) is read by the SARIF reader.
func Parse(data []byte) (*producers.Parsed, error) {
	if sarif.Sniff(data) {
		return sarif.ParseAs(name, data)
	}
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	var projects []project
	if len(trimmed) > 0 && trimmed[0] == '[' {
		if err := producers.DecodeJSON(name, data, &projects); err != nil {
			return nil, err
		}
	} else {
		var p project
		if err := producers.DecodeJSON(name, data, &p); err != nil {
			return nil, err
		}
		projects = []project{p}
	}
	out := &producers.Parsed{}
	for i := range projects {
		if err := readProject(&projects[i], out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func readProject(p *project, out *producers.Parsed) error {
	if p.Vulnerabilities == nil {
		if p.Error != "" {
			return producers.Errorf(name, "snyk reported an error for %s: %s", producers.FirstNonEmpty(p.Path, p.ProjectName, "the project"), p.Error)
		}
		return producers.Errorf(name, `not a snyk test JSON report: no "vulnerabilities" key`)
	}
	manifest := strings.ReplaceAll(producers.FirstNonEmpty(p.DisplayTarget, p.TargetFile), `\`, "/")
	seen := map[string]*merged{}
	add := func(v *vuln, suppressed string) {
		key := v.ID + "\x00" + v.Name + "\x00" + v.Version
		if m, ok := seen[key]; ok {
			m.addPath(v.From)
			return
		}
		m := &merged{issue: issue(p, v, manifest, suppressed)}
		m.addPath(v.From)
		seen[key] = m
		out.Issues = append(out.Issues, m.issue)
	}
	for i := range *p.Vulnerabilities {
		add(&(*p.Vulnerabilities)[i], "")
	}
	if f := p.Filtered; f != nil {
		for i := range f.Ignore {
			add(&f.Ignore[i], "ignored")
		}
		for i := range f.Patch {
			add(&f.Patch[i], "patched")
		}
	}
	for _, m := range seen {
		m.annotate()
	}
	for i := range p.Applications {
		if err := readProject(&p.Applications[i], out); err != nil {
			return err
		}
	}
	return nil
}

// merged is one issue and the dependency paths ("from") that reach it:
// snyk lists a vulnerability once per path.
type merged struct {
	issue *v1.Issue
	paths []string
}

func (m *merged) addPath(from []string) {
	if len(from) > 0 {
		m.paths = depkit.AppendUnique(m.paths, strings.Join(from, " > "))
	}
}

func (m *merged) annotate() {
	if len(m.paths) == 0 {
		return
	}
	const max = 20
	list := m.paths
	if len(list) > max {
		list = append(list[:max:max], "... and "+strconv.Itoa(len(m.paths)-max)+" more")
	}
	m.issue.Annotations["paths"] = strings.Join(list, "\n")
	m.issue.Annotations["path_count"] = strconv.Itoa(len(m.paths))
}

func issue(p *project, v *vuln, manifest, suppressed string) *v1.Issue {
	rule := producers.FirstNonEmpty(v.ID, "unknown")
	pm := producers.FirstNonEmpty(v.PackageManager, p.PackageManager)
	purl := purlFor(pm, v.Name, v.Version)
	display := v.Name + "@" + v.Version
	var ids []string
	for _, key := range []string{"CVE", "GHSA"} {
		for _, id := range v.Identifiers[key] {
			ids = append(ids, string(id))
		}
	}
	others := make([]string, 0, len(v.Identifiers))
	for key := range v.Identifiers {
		if key != "CVE" && key != "GHSA" && key != "CWE" {
			others = append(others, key)
		}
	}
	sort.Strings(others) // ALTERNATIVE, NSP, RHSA, SUSE, ...: map order must not reorder aliases
	for _, key := range others {
		for _, id := range v.Identifiers[key] {
			ids = append(ids, string(id))
		}
	}
	var cwes []string
	for _, c := range v.Identifiers["CWE"] {
		cwes = append(cwes, string(c))
	}
	cve, aliases := depkit.SplitIDs(rule, ids...)
	iss := &v1.Issue{
		Target:         purl,
		Type:           rule,
		RuleId:         rule,
		Title:          producers.FirstNonEmpty(strings.TrimSpace(v.Title), rule) + " in " + display,
		Severity:       severity(v),
		Description:    strings.TrimSpace(v.Description),
		Cve:            cve,
		Aliases:        aliases,
		Cwe:            producers.CWEs(cwes...),
		PackageUrl:     purl,
		PackageVersion: v.Version,
		FixedVersion:   depkit.LowestFixAbove(v.Version, v.FixedIn),
		ToolName:       name,
		Annotations:    map[string]string{},
	}
	if v.CVSSScore != nil && *v.CVSSScore > 0 && *v.CVSSScore <= 10 {
		iss.Cvss = *v.CVSSScore
	}
	if manifest != "" {
		iss.Target = display + " in " + manifest
		iss.Location = producers.Loc(manifest, 0, 0)
	}
	if project := producers.FirstNonEmpty(p.ProjectName, manifest); project != "" {
		iss.Annotations["project"] = project
	}
	if strings.HasPrefix(rule, "SNYK-") {
		iss.References = append(iss.References, "https://security.snyk.io/vuln/"+rule)
	}
	for _, r := range v.References {
		if u := strings.TrimSpace(r.URL); u != "" {
			iss.References = depkit.AppendUnique(iss.References, u)
		}
	}
	if v.CVSSv3 != "" {
		iss.Annotations["cvss_vector"] = v.CVSSv3
	}
	if v.Exploit != "" && v.Exploit != "Not Defined" {
		iss.Annotations["exploit"] = v.Exploit
	}
	if v.IsUpgradable && len(v.UpgradePath) > 1 {
		var up string
		if json.Unmarshal(v.UpgradePath[1], &up) == nil && up != "" {
			iss.Annotations["upgrade"] = up
		}
	}
	if v.Type == "license" {
		iss.Tags = append(iss.Tags, "license")
		if v.License != "" {
			iss.Annotations["license"] = v.License
		}
	}
	if suppressed != "" {
		iss.Annotations["suppressed"] = "true"
		iss.Annotations["suppression_reason"] = suppressed
		iss.Tags = append(iss.Tags, "suppressed")
	}
	return iss
}

// severity is Snyk's rating: severityWithCritical where the report has it
// (older reports capped "severity" at high), else severity; MEDIUM when
// neither is a known word.
func severity(v *vuln) v1.Severity {
	for _, s := range []string{v.SeverityWithCritical, v.Severity} {
		if sev := producers.SeverityFromText(s); sev != v1.Severity_SEVERITY_UNSPECIFIED {
			return sev
		}
	}
	return v1.Severity_SEVERITY_MEDIUM
}

// purlFor builds the package URL for Snyk's package managers; OS packages
// ("debian:11", "alpine:3.18", "rhel:8") carry the distro as a qualifier.
func purlFor(pm, pkg, version string) string {
	pmName, distro, _ := strings.Cut(strings.ToLower(pm), ":")
	switch pmName {
	case "npm", "yarn", "pnpm":
		return depkit.NpmPurl(pkg, version)
	case "maven", "gradle", "sbt":
		if g, a, ok := strings.Cut(pkg, ":"); ok {
			return depkit.Purl("maven", g, a, version)
		}
		return depkit.Purl("maven", "", pkg, version)
	case "pip", "poetry", "pipenv", "pypi":
		return depkit.PypiPurl(pkg, version)
	case "nuget", "paket":
		return depkit.Purl("nuget", "", pkg, version)
	case "golang", "gomodules", "golangdep", "govendor":
		ns, n := splitLast(pkg)
		return depkit.Purl("golang", ns, n, version)
	case "rubygems":
		return depkit.Purl("gem", "", pkg, version)
	case "composer":
		ns, n := splitLast(pkg)
		return depkit.Purl("composer", ns, n, version)
	case "cocoapods", "hex", "cargo", "swift", "conan":
		return depkit.Purl(pmName, "", pkg, version)
	case "deb", "debian", "ubuntu":
		return osPurl("deb", producers.FirstNonEmpty(vendorOf(pmName, "debian"), "debian"), pmName, distro, pkg, version)
	case "apk", "alpine":
		return osPurl("apk", "alpine", pmName, distro, pkg, version)
	case "rpm", "rhel", "centos", "amzn", "sles", "oracle", "rocky", "almalinux", "fedora":
		return osPurl("rpm", vendorOf(pmName, "rpm"), pmName, distro, pkg, version)
	}
	return depkit.Purl("generic", "", pkg, version)
}

func vendorOf(pm, def string) string {
	switch pm {
	case "deb", "apk", "rpm":
		return def
	case "rhel":
		return "redhat"
	case "sles":
		return "suse"
	}
	return pm
}

// osPurl names the binary package ("gcc-10/libgcc-s1" is source/binary).
func osPurl(typ, vendor, pm, distro, pkg, version string) string {
	if _, bin, ok := strings.Cut(pkg, "/"); ok && bin != "" {
		pkg = bin
	}
	p := depkit.Purl(typ, vendor, pkg, version)
	if distro != "" && p != "" {
		p += "?distro=" + pm + "-" + distro
	}
	return p
}

func splitLast(pkg string) (string, string) {
	if i := strings.LastIndexByte(pkg, '/'); i > 0 {
		return pkg[:i], pkg[i+1:]
	}
	return "", pkg
}
