package semgrep

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/draconsec/dracon/internal/producers"
	"github.com/draconsec/dracon/internal/producers/depkit"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// scaInfo is a Semgrep Supply Chain result's extra.sca_info (semgrep's
// sca_match in semgrep_output_v1.atd): the dependency of a lockfile that a
// supply-chain rule matched, and whether the code reaches it. This shape
// (one dependency_match, reachable, sca_finding_schema) dates from
// semgrep's supply-chain API of August 2022; lockfile_path and
// manifest_path came with 1.87, kind with 1.108.
type scaInfo struct {
	ReachabilityRule bool            `json:"reachability_rule"`
	Schema           flexString      `json:"sca_finding_schema"`
	DependencyMatch  *depMatch       `json:"dependency_match"`
	Reachable        bool            `json:"reachable"`
	Kind             json.RawMessage `json:"kind"`
	// dependency_matches (a list) and dependency_match_only are the
	// experimental shape of semgrep before August 2022; it is not read.
	DependencyMatches json.RawMessage `json:"dependency_matches"`
}

type depMatch struct {
	Pattern struct {
		Ecosystem   flexString `json:"ecosystem"`
		Package     string     `json:"package"`
		SemverRange string     `json:"semver_range"`
	} `json:"dependency_pattern"`
	Found struct {
		Package      string     `json:"package"`
		Version      string     `json:"version"`
		Ecosystem    flexString `json:"ecosystem"`
		ResolvedURL  string     `json:"resolved_url"`
		Transitivity flexString `json:"transitivity"`
		ManifestPath string     `json:"manifest_path"`
		LockfilePath string     `json:"lockfile_path"`
		LineNumber   int        `json:"line_number"`
	} `json:"found_dependency"`
	Lockfile string `json:"lockfile"`
}

// scaSchema is the sca_finding_schema this parser was written against;
// semgrep has written it unchanged since August 2022.
const scaSchema = "20220913"

// scaIssue turns a supply-chain result into a dependency finding: the
// package and version the lockfile pins, the advisory's ids and the fix,
// targeted at the lockfile line. iss is the issue toIssue built from the
// result's common fields; scaIssue completes it.
func scaIssue(i int, res *result, iss *v1.Issue) error {
	sca := res.Extra.SCA
	md := &res.Extra.Metadata
	if sca.DependencyMatch == nil || strings.TrimSpace(sca.DependencyMatch.Found.Package) == "" {
		schema := string(sca.Schema)
		if schema == "" && sca.DependencyMatches != nil {
			schema = "none (dependency_matches, semgrep before August 2022)"
		}
		if schema == "" {
			schema = "none"
		}
		return producers.Errorf(name, "result %d: supply-chain finding without dependency_match.found_dependency.package: "+
			"sca_finding_schema %s is not supported (this parser reads %s)", i, schema, scaSchema)
	}
	dm := sca.DependencyMatch
	dep := &dm.Found
	eco := strings.ToLower(producers.FirstNonEmpty(string(dep.Ecosystem), string(dm.Pattern.Ecosystem)))
	lockfile := producers.FirstNonEmpty(dep.LockfilePath, dm.Lockfile, res.Path)

	purl := packageURL(eco, dep.Package, dep.Version)
	ids := []string{string(md.ScaVulnID)}
	ids = append(ids, md.CVE...)
	ids = append(ids, md.GHSA...)
	if len(strings.Join(ids, "")) == 0 {
		ids = append(ids, advisoryIDs(iss.References)...)
	}
	cve, aliases := depkit.SplitIDs(res.CheckID, ids...)
	fixes := fixVersions(md.ScaFixVersions, dep.Package)
	fixed := depkit.LowestFixAbove(dep.Version, fixes)

	exposure := exposure(string(md.ScaKind), sca.Reachable)
	conf := map[string]v1.Confidence{
		"reachable":    v1.Confidence_CONFIDENCE_HIGH,
		"undetermined": v1.Confidence_CONFIDENCE_MEDIUM,
		"unreachable":  v1.Confidence_CONFIDENCE_LOW,
	}[exposure]

	codeAt := ""
	if res.Path != "" && res.Path != lockfile {
		codeAt = producers.Target(res.Path, res.Start.Line, res.End.Line)
	}
	line := dep.LineNumber
	if line <= 0 && res.Path == lockfile {
		line = res.Start.Line
	}

	iss.Target = producers.Target(lockfile, line, line)
	iss.Location = producers.Loc(lockfile, line, line)
	iss.PackageUrl = purl
	iss.PackageVersion = dep.Version
	iss.FixedVersion = fixed
	iss.Cve = cve
	iss.Aliases = aliases
	iss.Confidence = conf
	if s := strings.TrimSpace(string(md.ScaSeverity)); s != "" {
		iss.Severity = scaSeverity(s, iss.Severity)
	}
	if id := producers.FirstNonEmpty(append([]string{cve}, aliases...)...); id != "" {
		// As grype's: the advisory, the package and its version.
		iss.Title = id + " in " + strings.TrimSpace(dep.Package+" "+dep.Version)
	}
	transitivity := string(dep.Transitivity)
	if transitivity == "unknown" {
		transitivity = ""
	}
	iss.Tags = depkit.AppendUnique(iss.Tags, "supply-chain", exposure, transitivity, eco)

	var b strings.Builder
	b.WriteString(iss.Description)
	producers.Section(&b, "Dependency", fmt.Sprintf("%s %s (%s, %s) in %s", dep.Package, dep.Version, eco,
		producers.FirstNonEmpty(string(dep.Transitivity), "unknown"), iss.Target))
	producers.Section(&b, "Vulnerable versions", dm.Pattern.SemverRange)
	if len(fixes) > 0 {
		producers.Section(&b, "Fixed in", strings.Join(fixes, ", "))
	}
	switch {
	case exposure == "reachable" && codeAt != "":
		producers.Section(&b, "Reachable", "the vulnerable code is used at "+codeAt)
	case exposure == "reachable":
		producers.Section(&b, "Reachable", "semgrep counts every use of this version as exposed ("+
			producers.FirstNonEmpty(string(md.ScaKind), "no reachability pattern")+")")
	case exposure == "unreachable":
		producers.Section(&b, "Unreachable", "semgrep found no use of the vulnerable code")
	default:
		producers.Section(&b, "Reachability", "not determined (the rule has no reachability pattern)")
	}
	iss.Description = b.String()

	annotate := func(k, v string) {
		if v == "" {
			return
		}
		if iss.Annotations == nil {
			iss.Annotations = map[string]string{}
		}
		iss.Annotations[k] = v
	}
	annotate("semgrep.exposure", exposure)
	annotate("semgrep.sca_kind", string(md.ScaKind))
	annotate("semgrep.transitivity", string(dep.Transitivity))
	annotate("semgrep.ecosystem", eco)
	annotate("semgrep.semver_range", dm.Pattern.SemverRange)
	annotate("semgrep.reachable_at", codeAt)
	annotate("semgrep.manifest", dep.ManifestPath)
	annotate("semgrep.sca_match_kind", matchKind(sca.Kind))
	annotate("semgrep.sca_finding_schema", string(sca.Schema))
	if sca.ReachabilityRule {
		annotate("semgrep.reachability_rule", "true")
	}
	return nil
}

// exposure is semgrep's own reading of a supply-chain finding
// (RuleMatch.exposure_type): an "upgrade-only" rule's finding is reachable
// whatever the code does, a "legacy" rule's is undetermined, any other
// rule's is as reachable says.
func exposure(kind string, reachable bool) string {
	switch strings.ToLower(strings.TrimSpace(kind)) {
	case "upgrade-only":
		return "reachable"
	case "legacy":
		return "undetermined"
	}
	if reachable {
		return "reachable"
	}
	return "unreachable"
}

// scaSeverity maps metadata.sca-severity, the advisory's severity
// (CRITICAL, HIGH, MODERATE, MEDIUM, LOW); a word it does not know leaves
// the rule's severity.
func scaSeverity(s string, rule v1.Severity) v1.Severity {
	switch strings.ToUpper(s) {
	case "CRITICAL":
		return v1.Severity_SEVERITY_CRITICAL
	case "HIGH":
		return v1.Severity_SEVERITY_HIGH
	case "MODERATE", "MEDIUM":
		return v1.Severity_SEVERITY_MEDIUM
	case "LOW":
		return v1.Severity_SEVERITY_LOW
	case "INFO", "NONE":
		return v1.Severity_SEVERITY_INFO
	}
	return rule
}

// purlTypes maps semgrep's ecosystems (semgrep_output_v1.atd) to
// package-URL types.
var purlTypes = map[string]string{
	"npm": "npm", "pypi": "pypi", "gem": "gem", "gomod": "golang", "cargo": "cargo",
	"maven": "maven", "composer": "composer", "nuget": "nuget", "pub": "pub",
	"swiftpm": "swift", "cocoapods": "cocoapods", "mix": "hex", "hex": "hex",
}

// packageURL is the purl of a dependency semgrep found; "" for an
// ecosystem without a purl type.
func packageURL(eco, pkg, version string) string {
	typ := purlTypes[eco]
	pkg = strings.TrimSpace(pkg)
	if typ == "" || pkg == "" {
		return ""
	}
	switch typ {
	case "npm":
		return depkit.NpmPurl(pkg, version)
	case "pypi":
		return depkit.PypiPurl(pkg, version)
	case "maven":
		if group, artifact, ok := strings.Cut(pkg, ":"); ok {
			return depkit.Purl(typ, group, artifact, version)
		}
	case "golang", "composer", "swift":
		if i := strings.LastIndexByte(pkg, '/'); i > 0 {
			return depkit.Purl(typ, pkg[:i], pkg[i+1:], version)
		}
	}
	return depkit.Purl(typ, "", pkg, version)
}

// fixVersions reads metadata.sca-fix-versions, a list of {package:
// version} objects, and returns the versions for pkg (matched exactly,
// then ignoring case, then every version when the list names one package
// only).
func fixVersions(raw json.RawMessage, pkg string) []string {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	var list []map[string]flexString
	if json.Unmarshal(raw, &list) != nil {
		var one map[string]flexString
		if json.Unmarshal(raw, &one) != nil {
			return nil
		}
		list = []map[string]flexString{one}
	}
	pick := func(match func(string) bool) []string {
		var out []string
		for _, m := range list {
			for k, v := range m {
				if match(k) {
					out = depkit.AppendUnique(out, strings.TrimSpace(string(v)))
				}
			}
		}
		return out
	}
	if out := pick(func(k string) bool { return k == pkg }); len(out) > 0 {
		return out
	}
	if out := pick(func(k string) bool { return strings.EqualFold(k, pkg) }); len(out) > 0 {
		return out
	}
	names := map[string]bool{}
	for _, m := range list {
		for k := range m {
			names[k] = true
		}
	}
	if len(names) == 1 {
		return pick(func(string) bool { return true })
	}
	return nil
}

// advisoryIDs finds CVE and GHSA ids at the end of reference URLs
// (https://nvd.nist.gov/vuln/detail/CVE-2021-23424), for rules whose
// metadata names the advisory only there.
func advisoryIDs(refs []string) []string {
	var out []string
	for _, r := range refs {
		r = strings.TrimRight(strings.TrimSpace(r), "/")
		last := r[strings.LastIndexByte(r, '/')+1:]
		up := strings.ToUpper(last)
		if strings.HasPrefix(up, "CVE-") || strings.HasPrefix(up, "GHSA-") {
			out = depkit.AppendUnique(out, last)
		}
	}
	return out
}

// matchKind names sca_info.kind (since 1.108), an ATD variant written as
// "DirectReachable" or ["LockfileOnlyMatch", "direct"].
func matchKind(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var parts []json.RawMessage
	if json.Unmarshal(raw, &parts) != nil || len(parts) == 0 {
		return ""
	}
	if json.Unmarshal(parts[0], &s) != nil {
		return ""
	}
	if len(parts) > 1 {
		var arg string
		if json.Unmarshal(parts[1], &arg) == nil && arg != "" {
			return s + " " + arg
		}
	}
	return s
}
