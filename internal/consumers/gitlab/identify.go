package gitlab

import (
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"

	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// ruleIDTypes are the primary identifier types GitLab's own analyzers use
// for these tools' rules (gitlab-org/security-products/analyzers); any
// other tool's is "<tool>_rule_id".
var ruleIDTypes = map[string]struct{ typ, label string }{
	"gosec":    {"gosec_rule_id", "Gosec Rule ID"},
	"bandit":   {"bandit_test_id", "Bandit Test ID"},
	"semgrep":  {"semgrep_id", ""},
	"gitleaks": {"gitleaks_rule_id", "Gitleaks rule ID"},
	"eslint":   {"eslint_rule_id", "ESLint rule ID"},
	"brakeman": {"brakeman_warning_code", "Brakeman Warning Code"},
	"spotbugs": {"find_sec_bugs_type", "Find Security Bugs-Type"},
	"kics":     {"kics_id", "KICS ID"},
}

// vendors name who makes each scanner, for scan.scanner.vendor (any other
// tool: its own name).
var vendors = map[string]string{
	"bandit": "PyCQA", "brakeman": "Brakeman", "cargo-audit": "RustSec", "checkov": "Prisma Cloud",
	"cyclonedx": "CycloneDX", "dependency-check": "OWASP", "eslint": "OpenJS Foundation",
	"gitleaks": "Gitleaks", "gosec": "Securego", "govulncheck": "Go", "grype": "Anchore",
	"hadolint": "Hadolint", "kics": "Checkmarx", "nancy": "Sonatype", "npm-audit": "npm",
	"nuclei": "ProjectDiscovery", "osv-scanner": "Google", "pip-audit": "PyPA", "safety": "Safety",
	"semgrep": "Semgrep", "shellcheck": "ShellCheck", "snyk": "Snyk", "spotbugs": "SpotBugs",
	"syft": "Anchore", "tfsec": "Aqua Security", "trivy": "Aqua Security",
	"trufflehog": "Truffle Security", "yarn-audit": "Yarn", "zap": "ZAP",
}

func vendorOf(tool string) string {
	if v := vendors[strings.ToLower(tool)]; v != "" {
		return v
	}
	return firstNonEmpty(tool, "Dracon")
}

// identifier is one entry of a vulnerability's identifiers.
type identifier struct {
	Type  string `json:"type"`
	Name  string `json:"name"`
	Value string `json:"value"`
	URL   string `json:"url,omitempty"`
}

// maxIdentifiers is how many identifiers GitLab stores.
const maxIdentifiers = 20

var (
	urlPattern   = regexp.MustCompile(`^(https?|ftp)://.+`)
	owaspPattern = regexp.MustCompile(`^(A\d{1,2}):(20\d\d)\b`)
	cvePattern   = regexp.MustCompile(`^CVE-\d{4}-\d{4,}$`)
	ghsaPattern  = regexp.MustCompile(`^GHSA(-[23456789cfghjmpqrvwx]{4}){3}$`)
)

// validURL is u when GitLab's schemas take it ("^(https?|ftp)://.+",
// no spaces), else "".
func validURL(u string) string {
	u = strings.TrimSpace(u)
	if !urlPattern.MatchString(u) || strings.ContainsAny(u, " \t\r\n") {
		return ""
	}
	return u
}

// identifiers lists a finding's identifiers, the primary one first: the
// tool's own rule (which GitLab's cross-report deduplication and its
// finding UUID go by), then its CVE and other advisories, CWEs, OWASP
// categories. For a dependency or image finding the rule is the
// advisory, typed as GitLab's own dependency and container scanners type
// it (cve, ghsa).
func identifiers(f *finding) []identifier {
	is := f.is
	var out []identifier
	seen := map[string]bool{}
	add := func(id identifier) {
		id.Type, id.Name, id.Value = strings.TrimSpace(id.Type), strings.TrimSpace(id.Name), strings.TrimSpace(id.Value)
		if id.Type == "" || id.Value == "" || len(out) >= maxIdentifiers {
			return
		}
		if id.Name == "" {
			id.Name = id.Value
		}
		k := strings.ToLower(id.Type + "\x00" + id.Value)
		if seen[k] {
			return
		}
		seen[k] = true
		id.URL = validURL(id.URL)
		id.Name = truncate(id.Name, 255)
		out = append(out, id)
	}
	rule := firstNonEmpty(is.GetRuleId(), is.GetType(), is.GetCve(), "finding")
	dep := f.report == DependencyScanning || f.report == ContainerScanning
	if a, ok := advisory(rule); ok && dep {
		add(a)
	} else {
		add(ruleIdentifier(f.tool, rule))
	}
	if a, ok := advisory(strings.ToUpper(is.GetCve())); ok {
		add(a)
	}
	aliases := append([]string(nil), is.GetAliases()...)
	sort.Strings(aliases)
	for _, al := range aliases {
		if a, ok := advisory(al); ok {
			add(a)
		}
	}
	for _, c := range is.GetCwe() {
		if c > 0 {
			n := strconv.Itoa(int(c))
			add(identifier{Type: "cwe", Name: "CWE-" + n, Value: n, URL: "https://cwe.mitre.org/data/definitions/" + n + ".html"})
		}
	}
	for _, t := range is.GetTags() {
		if m := owaspPattern.FindStringSubmatch(strings.TrimSpace(t)); m != nil {
			add(identifier{Type: "owasp", Name: strings.TrimSpace(t), Value: m[1] + ":" + m[2]})
		}
	}
	return out
}

// ruleIdentifier is a tool's rule as GitLab's analyzer for it names it.
func ruleIdentifier(tool, rule string) identifier {
	t, ok := ruleIDTypes[strings.ToLower(tool)]
	if !ok {
		return identifier{Type: strings.ReplaceAll(safeName(tool), "-", "_") + "_rule_id", Name: tool + " rule " + rule, Value: rule}
	}
	name := rule
	if t.label != "" {
		name = t.label + " " + rule
	}
	return identifier{Type: t.typ, Name: name, Value: rule}
}

// advisory types a vulnerability id as GitLab's common identifiers do
// (cve, ghsa, rhsa, usn, elsa).
func advisory(id string) (identifier, bool) {
	id = strings.TrimSpace(id)
	u := strings.ToUpper(id)
	switch {
	case cvePattern.MatchString(u):
		return identifier{Type: "cve", Name: u, Value: u, URL: "https://nvd.nist.gov/vuln/detail/" + u}, true
	case strings.HasPrefix(u, "GHSA-") && ghsaPattern.MatchString("GHSA-"+strings.ToLower(id[5:])):
		g := "GHSA-" + strings.ToLower(id[5:])
		return identifier{Type: "ghsa", Name: g, Value: g, URL: "https://github.com/advisories/" + g}, true
	case strings.HasPrefix(u, "RHSA-"):
		return identifier{Type: "rhsa", Name: u, Value: u, URL: "https://access.redhat.com/errata/" + u}, true
	case strings.HasPrefix(u, "USN-"):
		return identifier{Type: "usn", Name: u, Value: u, URL: "https://ubuntu.com/security/notices/" + u}, true
	case strings.HasPrefix(u, "ELSA-"):
		return identifier{Type: "elsa", Name: u, Value: u, URL: "https://linux.oracle.com/errata/" + u + ".html"}, true
	}
	return identifier{}, false
}

// osPackageTypes are the package types of an operating system's packages
// (package URL types, and grype's artifact types).
var osPackageTypes = map[string]bool{"apk": true, "deb": true, "rpm": true, "alpm": true, "portage": true}

// osFamilies are the operating systems trivy names in an image target
// ("app:1.0 (debian 10.13)").
var osFamilies = map[string]bool{
	"alpine": true, "debian": true, "ubuntu": true, "redhat": true, "centos": true, "rocky": true,
	"alma": true, "amazon": true, "oracle": true, "photon": true, "suse": true, "opensuse": true,
	"opensuse.leap": true, "opensuse.tumbleweed": true, "sles": true, "cbl-mariner": true,
	"azurelinux": true, "wolfi": true, "chainguard": true, "fedora": true, "echo": true, "minimos": true,
	"bottlerocket": true,
}

// trivyImageTarget reads trivy's target of an image's OS packages:
// "<pkg>@<version> in <image> (<os> <version>)".
var trivyImageTarget = regexp.MustCompile(`^\S+ in (.+) \(([A-Za-z][\w.\-]*) ([^()]*)\)$`)

// imageOf says whether a dependency finding is from a scan of an image,
// and which image and operating system: the producer's image (the
// pipeline says it scanned one), trivy's OS-package targets, grype's OS
// packages and distro namespace. "" when it is not.
func imageOf(f *finding) (image, os string) {
	is := f.is
	tags := is.GetTags()
	a := is.GetAnnotations()
	var fromTarget, osFromTarget string
	if m := trivyImageTarget.FindStringSubmatch(is.GetTarget()); m != nil && osFamilies[strings.ToLower(m[2])] {
		fromTarget, osFromTarget = strings.TrimSpace(m[1]), strings.ToLower(m[2])+":"+strings.TrimSpace(m[3])
	}
	osPkg := contains(tags, "os-pkgs") || fromTarget != ""
	if !osPkg && f.tool == "grype" {
		for _, t := range tags {
			osPkg = osPkg || osPackageTypes[t]
		}
		osPkg = osPkg || strings.Contains(a["grype.namespace"], ":distro:")
	}
	if !osPkg {
		if p := purlType(is.GetPackageUrl()); osPackageTypes[p] && is.GetLocation().GetPath() == "" {
			osPkg = true
		}
	}
	img := ""
	if f.ps != nil {
		img = f.ps.Image
	}
	if img == "" && !osPkg {
		return "", ""
	}
	image = firstNonEmpty(img, fromTarget, a["image"], "unknown")
	os = firstNonEmpty(osFromTarget, grypeOS(a["grype.namespace"]), purlDistro(is.GetPackageUrl()), "unknown")
	return image, os
}

// grypeOS reads the operating system from grype's namespace
// ("debian:distro:debian:10", or "debian:10" before grype 0.60).
func grypeOS(ns string) string {
	parts := strings.Split(ns, ":")
	switch {
	case len(parts) == 4 && parts[1] == "distro":
		return parts[2] + ":" + parts[3]
	case len(parts) == 2 && osFamilies[parts[0]]:
		return ns
	}
	return ""
}

// purlDistro is an OS package's distro qualifier ("distro=debian-10").
func purlDistro(purl string) string {
	i := strings.IndexByte(purl, '?')
	if i < 0 {
		return ""
	}
	q, err := url.ParseQuery(purl[i+1:])
	if err != nil {
		return ""
	}
	d := q.Get("distro")
	if j := strings.LastIndexByte(d, '-'); j > 0 {
		return d[:j] + ":" + d[j+1:]
	}
	return d
}

// purlParts splits a package URL: type, namespace/name (as the
// ecosystem writes it) and version.
func purlParts(purl string) (typ, name, version string) {
	if !strings.HasPrefix(purl, "pkg:") {
		return "", "", ""
	}
	p := purl[len("pkg:"):]
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	if i := strings.LastIndexByte(p, '@'); i > strings.LastIndexByte(p, '/') {
		version, p = p[i+1:], p[:i]
		if v, err := url.PathUnescape(version); err == nil {
			version = v
		}
	}
	typ, rest, _ := strings.Cut(strings.Trim(p, "/"), "/")
	segs := strings.Split(rest, "/")
	for i, s := range segs {
		if u, err := url.PathUnescape(s); err == nil {
			segs[i] = u
		}
	}
	typ = strings.ToLower(typ)
	if osPackageTypes[typ] && len(segs) > 1 {
		// pkg:deb/debian/libc6: the namespace is the distro.
		segs = segs[len(segs)-1:]
	}
	return typ, strings.Join(segs, "/"), version
}

func purlType(purl string) string {
	t, _, _ := purlParts(purl)
	return t
}

// packageOf is a dependency finding's package name and version.
func packageOf(is *v1.Issue) (name, version string) {
	_, name, version = purlParts(is.GetPackageUrl())
	if name == "" {
		// trivy and grype write "<name>@<version> in <where>" without one.
		t, _, _ := strings.Cut(is.GetTarget(), " in ")
		if i := strings.LastIndexByte(t, '@'); i > 0 {
			name, version = t[:i], t[i+1:]
		} else {
			name = t
		}
	}
	name = firstNonEmpty(name, is.GetRuleId(), "unknown")
	version = firstNonEmpty(is.GetPackageVersion(), version, "unknown")
	return name, version
}

// cvss vectors GitLab's schemas take (cvss_vectors' two patterns).
var (
	cvss2Pattern = regexp.MustCompile(`^((AV:[NAL]|AC:[LMH]|Au:[MSN]|[CIA]:[NPC]|E:(U|POC|F|H|ND)|RL:(OF|TF|W|U|ND)|RC:(UC|UR|C|ND)|CDP:(N|L|LM|MH|H|ND)|TD:(N|L|M|H|ND)|[CIA]R:(L|M|H|ND))/)*(AV:[NAL]|AC:[LMH]|Au:[MSN]|[CIA]:[NPC]|E:(U|POC|F|H|ND)|RL:(OF|TF|W|U|ND)|RC:(UC|UR|C|ND)|CDP:(N|L|LM|MH|H|ND)|TD:(N|L|M|H|ND)|[CIA]R:(L|M|H|ND))$`)
	cvss3Pattern = regexp.MustCompile(`^CVSS:3[.][01]/((AV:[NALP]|AC:[LH]|PR:[NLH]|UI:[NR]|S:[UC]|[CIA]:[NLH]|E:[XUPFH]|RL:[XOTWU]|RC:[XURC]|[CIA]R:[XLMH]|MAV:[XNALP]|MAC:[XLH]|MPR:[XNLH]|MUI:[XNR]|MS:[XUC]|M[CIA]:[XNLH])/)*(AV:[NALP]|AC:[LH]|PR:[NLH]|UI:[NR]|S:[UC]|[CIA]:[NLH]|E:[XUPFH]|RL:[XOTWU]|RC:[XURC]|[CIA]R:[XLMH]|MAV:[XNALP]|MAC:[XLH]|MPR:[XNLH]|MUI:[XNR]|MS:[XUC]|M[CIA]:[XNLH])$`)
)

type cvssVector struct {
	Vendor string `json:"vendor"`
	Vector string `json:"vector"`
}

// cvssVectors is the finding's CVSS vector when the schema takes it
// (v2 or v3.x; a v4 vector has no place in 15.x).
func cvssVectors(f *finding) []cvssVector {
	a := f.is.GetAnnotations()
	v := strings.TrimSpace(firstNonEmpty(a["cvss_vector"], a["cvss.vector"]))
	n := len(v)
	ok := (n >= 32 && n <= 128 && cvss3Pattern.MatchString(v)) || (n >= 16 && n <= 128 && cvss2Pattern.MatchString(v))
	if !ok {
		return nil
	}
	return []cvssVector{{Vendor: firstNonEmpty(a["severity_source"], f.tool, "unknown"), Vector: v}}
}

// severityName is GitLab's severity of a finding.
func severityName(s v1.Severity) string {
	switch s {
	case v1.Severity_SEVERITY_CRITICAL:
		return "Critical"
	case v1.Severity_SEVERITY_HIGH:
		return "High"
	case v1.Severity_SEVERITY_MEDIUM:
		return "Medium"
	case v1.Severity_SEVERITY_LOW:
		return "Low"
	case v1.Severity_SEVERITY_INFO:
		return "Info"
	}
	return "Unknown"
}

// commitOf is the commit a secret was found in: the secret scanner's
// (gitleaks.commit, trufflehog's commit), else the scanned commit.
func (p *plan) commitOf(is *v1.Issue) string {
	a := is.GetAnnotations()
	if c := firstNonEmpty(a["gitleaks.commit"], a["commit"]); c != "" {
		return c
	}
	keys := make([]string, 0, len(a))
	for k := range a {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if strings.HasSuffix(k, ".commit") && strings.TrimSpace(a[k]) != "" {
			return strings.TrimSpace(a[k])
		}
	}
	// GitLab's secret detection writes 0000000 when it scanned no commit.
	return firstNonEmpty(p.c.Commit, p.scan.GetScanTags()["commit"], "0000000")
}

// toolList names the tools that saw a finding: "gosec, gitleaks".
func toolList(f *finding) string {
	by := f.ei.GetSeenBy()
	if len(by) < 2 {
		return f.tool
	}
	return strings.Join(by, ", ")
}

func describeTools(f *finding) string {
	if by := f.ei.GetSeenBy(); len(by) > 1 {
		return fmt.Sprintf("Reported by %s.", strings.Join(by, ", "))
	}
	return ""
}
