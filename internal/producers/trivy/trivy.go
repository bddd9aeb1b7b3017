// Package trivy runs aquasecurity/trivy on a repository and parses its
// JSON reports: the current one (SchemaVersion 2, "Results"), the legacy
// list of results, and the Kubernetes cluster reports ("Resources", or
// "Vulnerabilities"/"Misconfigurations" lists of resources in older
// versions). Vulnerabilities, misconfigurations, secrets and licences all
// become issues.
package trivy

import (
	"bytes"
	"os"
	"strings"

	"github.com/draconsec/dracon/internal/producers"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

const name = "trivy"

// CacheEnv names the environment variable that turns on trivy's
// vulnerability scanner: a trivy cache folder holding the vulnerability
// database (<dir>/db/trivy.db and <dir>/db/metadata.json), put there by
// an earlier `trivy fs --download-db-only --cache-dir <dir>` or copied
// from another machine. Dracon never lets trivy update it. Unset, only the
// misconfiguration and secret scanners run, which need no database.
const CacheEnv = "DRACON_TRIVY_CACHE"

// Producer is trivy: misconfigurations and secrets in a repository, and
// vulnerable packages when CacheEnv names a vulnerability database (and,
// from recorded reports, licences and cluster scans).
var Producer = &producers.Producer{
	Name:      name,
	Aliases:   []string{"docker-trivy"},
	Kind:      producers.IaC,
	Languages: []string{"dockerfile", "terraform", "kubernetes", "helm", "cloudformation", "any"},
	Description: "misconfigured Dockerfiles, Terraform, Kubernetes and CloudFormation, and hard-coded secrets; " +
		"also reads trivy's vulnerability, licence and cluster reports",
	Formats:  []string{"json", "sarif"},
	Parse:    Parse,
	Detect:   []string{"Dockerfile", "*.dockerfile", "Containerfile", "*.tf", "Chart.yaml"},
	RunsHere: true,
	Tool: &producers.Tool{
		Binary:  "trivy",
		Network: true, // it fetches its vulnerability data
		Version: "v0.74.0",
		// trivy's version list is refused by the module proxy, so it is
		// built in a tools module; it needs the jsonv2 experiment.
		GoPackage: "github.com/aquasecurity/trivy/cmd/trivy",
		GoModule:  &producers.GoModule{Env: []string{"GOEXPERIMENT=jsonv2"}},
		Image:     "docker.io/aquasec/trivy:0.74.0",
		Args: func(src, out string) []string {
			// Vulnerability scanning needs trivy's database, which trivy
			// downloads; by default Dracon runs only the scanners that work
			// offline, with the checks built into the binary. With
			// DRACON_TRIVY_CACHE set, the database already in that cache
			// folder (<dir>/db/trivy.db) is used, never updated, and
			// vulnerable packages are scanned too.
			scanners := "misconfig,secret"
			var cache []string
			if dir := os.Getenv(CacheEnv); dir != "" {
				scanners = "vuln," + scanners
				cache = []string{"--cache-dir", dir, "--skip-java-db-update"}
			}
			args := []string{"fs", "--format", "json", "--output", out, "--scanners", scanners}
			args = append(args, cache...)
			return append(args, "--skip-db-update", "--skip-check-update", "--offline-scan",
				"--quiet", "--exit-code", "0", src)
		},
		VersionArgs: []string{"--version"},
	},
}

// report is any of trivy's JSON documents; which keys are present says
// which one it is.
type report struct {
	SchemaVersion *int `json:"SchemaVersion"`
	Trivy         *struct {
		Version string `json:"Version"`
	} `json:"Trivy"`
	ArtifactName string    `json:"ArtifactName"`
	Results      []result  `json:"Results"`
	ClusterName  *string   `json:"ClusterName"`
	Resources    *[]k8sRes `json:"Resources"`
	// Cluster reports before trivy 0.34 group resources by scanner.
	Vulnerabilities   *[]k8sRes `json:"Vulnerabilities"`
	Misconfigurations *[]k8sRes `json:"Misconfigurations"`
}

type k8sRes struct {
	Namespace string   `json:"Namespace"`
	Kind      string   `json:"Kind"`
	Name      string   `json:"Name"`
	Results   []result `json:"Results"`
	Error     string   `json:"Error"`
}

type result struct {
	Target            *string         `json:"Target"`
	Class             string          `json:"Class"`
	Type              string          `json:"Type"`
	Vulnerabilities   []vulnerability `json:"Vulnerabilities"`
	Misconfigurations []misconfig     `json:"Misconfigurations"`
	Secrets           []secret        `json:"Secrets"`
	Licenses          []license       `json:"Licenses"`
}

type vulnerability struct {
	VulnerabilityID string   `json:"VulnerabilityID"`
	VendorIDs       []string `json:"VendorIDs"`
	PkgID           string   `json:"PkgID"`
	PkgName         string   `json:"PkgName"`
	PkgPath         string   `json:"PkgPath"`
	PkgIdentifier   struct {
		PURL string `json:"PURL"`
	} `json:"PkgIdentifier"`
	Ref              string                `json:"Ref"` // PURL in 0.3x reports
	InstalledVersion string                `json:"InstalledVersion"`
	FixedVersion     string                `json:"FixedVersion"`
	Status           string                `json:"Status"`
	SeveritySource   string                `json:"SeveritySource"`
	PrimaryURL       string                `json:"PrimaryURL"`
	Title            string                `json:"Title"`
	Description      string                `json:"Description"`
	Severity         string                `json:"Severity"`
	CweIDs           []string              `json:"CweIDs"`
	CVSS             map[string]cvssScores `json:"CVSS"`
	References       []string              `json:"References"`
}

type cvssScores struct {
	V2Vector  string  `json:"V2Vector"`
	V3Vector  string  `json:"V3Vector"`
	V40Vector string  `json:"V40Vector"`
	V2Score   float64 `json:"V2Score"`
	V3Score   float64 `json:"V3Score"`
	V40Score  float64 `json:"V40Score"`
}

type misconfig struct {
	Type          string   `json:"Type"`
	ID            string   `json:"ID"`
	AVDID         string   `json:"AVDID"`
	Title         string   `json:"Title"`
	Description   string   `json:"Description"`
	Message       string   `json:"Message"`
	Resolution    string   `json:"Resolution"`
	Severity      string   `json:"Severity"`
	PrimaryURL    string   `json:"PrimaryURL"`
	References    []string `json:"References"`
	Status        string   `json:"Status"`
	CauseMetadata struct {
		Resource  string `json:"Resource"`
		Provider  string `json:"Provider"`
		Service   string `json:"Service"`
		StartLine int    `json:"StartLine"`
		EndLine   int    `json:"EndLine"`
		Code      struct {
			Lines []codeLine `json:"Lines"`
		} `json:"Code"`
	} `json:"CauseMetadata"`
}

type codeLine struct {
	Number  int    `json:"Number"`
	Content string `json:"Content"`
	IsCause bool   `json:"IsCause"`
}

type secret struct {
	RuleID    string `json:"RuleID"`
	Category  string `json:"Category"`
	Severity  string `json:"Severity"`
	Title     string `json:"Title"`
	StartLine int    `json:"StartLine"`
	EndLine   int    `json:"EndLine"`
	Match     string `json:"Match"`
}

type license struct {
	Severity   string  `json:"Severity"`
	Category   string  `json:"Category"`
	PkgName    string  `json:"PkgName"`
	FilePath   string  `json:"FilePath"`
	Name       string  `json:"Name"`
	Confidence float64 `json:"Confidence"`
	Link       string  `json:"Link"`
}

// parser carries what every issue of one report shares.
type parser struct {
	out     *producers.Parsed
	version string
	cluster string
}

// Parse reads a trivy JSON report (--format json), in any of the shapes
// trivy has written. "null" is what old versions wrote for a clean scan.
func Parse(data []byte) (*producers.Parsed, error) {
	p := &parser{out: &producers.Parsed{Issues: []*v1.Issue{}}}
	trimmed := bytes.TrimSpace(data)
	if bytes.Equal(trimmed, []byte("null")) {
		return p.out, nil
	}
	if len(trimmed) > 0 && trimmed[0] == '[' {
		var legacy []result
		if err := producers.DecodeJSON(name, data, &legacy); err != nil {
			return nil, err
		}
		for i := range legacy {
			if legacy[i].Target == nil {
				return nil, producers.Errorf(name, `not a trivy report: list entry %d has no "Target"`, i)
			}
			if err := p.result(&legacy[i], nil); err != nil {
				return nil, err
			}
		}
		return p.out, nil
	}
	var r report
	if err := producers.DecodeJSON(name, data, &r); err != nil {
		return nil, err
	}
	if r.Trivy != nil {
		p.version = r.Trivy.Version
		p.out.ToolVersion = r.Trivy.Version
	}
	switch {
	case r.SchemaVersion != nil:
		for i := range r.Results {
			if err := p.result(&r.Results[i], nil); err != nil {
				return nil, err
			}
		}
	case r.ClusterName != nil || r.Resources != nil:
		if r.ClusterName != nil {
			p.cluster = *r.ClusterName
		}
		for _, group := range []*[]k8sRes{r.Resources, r.Vulnerabilities, r.Misconfigurations} {
			if group == nil {
				continue
			}
			for i := range *group {
				res := &(*group)[i]
				for j := range res.Results {
					if err := p.result(&res.Results[j], res); err != nil {
						return nil, err
					}
				}
			}
		}
	default:
		return nil, producers.Errorf(name, `not a trivy JSON report: no "SchemaVersion", "Resources" or "ClusterName" key`)
	}
	return p.out, nil
}

// result reads one scan target; res is the cluster resource it belongs to
// in a Kubernetes report.
func (p *parser) result(r *result, res *k8sRes) error {
	target := ""
	if r.Target != nil {
		target = *r.Target
	}
	for i := range r.Vulnerabilities {
		v := &r.Vulnerabilities[i]
		if v.VulnerabilityID == "" && v.PkgName == "" {
			return producers.Errorf(name, "%s: vulnerability %d names neither an id nor a package", target, i)
		}
		p.add(p.vulnerability(v, r, target), res)
	}
	for i := range r.Misconfigurations {
		m := &r.Misconfigurations[i]
		if m.ID == "" && m.AVDID == "" {
			return producers.Errorf(name, "%s: misconfiguration %d has no ID", target, i)
		}
		if strings.EqualFold(m.Status, "PASS") {
			continue // a passed check (--include-non-failures) is no finding
		}
		p.add(p.misconfig(m, target, res), res)
	}
	for i := range r.Secrets {
		s := &r.Secrets[i]
		if s.RuleID == "" {
			return producers.Errorf(name, "%s: secret %d has no RuleID", target, i)
		}
		p.add(p.secret(s, target, res), res)
	}
	for i := range r.Licenses {
		l := &r.Licenses[i]
		if l.Name == "" {
			return producers.Errorf(name, "%s: licence finding %d has no Name", target, i)
		}
		p.add(p.license(l, r, target), res)
	}
	return nil
}

// add finishes an issue: fields every kind shares, and the cluster
// resource it was found in.
func (p *parser) add(iss *v1.Issue, res *k8sRes) {
	iss.ToolName = name
	iss.ToolVersion = p.version
	if res != nil {
		if iss.Annotations == nil {
			iss.Annotations = map[string]string{}
		}
		iss.Annotations["k8s_resource"] = k8sName(res)
		if p.cluster != "" {
			iss.Annotations["k8s_cluster"] = p.cluster
		}
	}
	p.out.Issues = append(p.out.Issues, iss)
}

func k8sName(res *k8sRes) string {
	parts := make([]string, 0, 3)
	for _, s := range []string{res.Namespace, res.Kind, res.Name} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, "/")
}

func (p *parser) vulnerability(v *vulnerability, r *result, target string) *v1.Issue {
	pkg := v.PkgName
	if v.InstalledVersion != "" {
		pkg += "@" + v.InstalledVersion
	}
	iss := &v1.Issue{
		Target:         pkg + " in " + target,
		Type:           v.VulnerabilityID,
		RuleId:         v.VulnerabilityID,
		Title:          vulnTitle(v),
		Description:    vulnDescription(v),
		Cwe:            producers.CWEs(v.CweIDs...),
		PackageUrl:     producers.FirstNonEmpty(v.PkgIdentifier.PURL, v.Ref, purl(r.Type, v.PkgName, v.InstalledVersion)),
		PackageVersion: v.InstalledVersion,
		FixedVersion:   v.FixedVersion,
		References:     references(v.PrimaryURL, v.References),
		Tags:           nonEmpty(r.Class, r.Type),
	}
	if target == "" {
		iss.Target = pkg
	}
	if r.Class == "lang-pkgs" || (r.Class == "" && v.PkgPath != "") {
		iss.Location = producers.Loc(producers.FirstNonEmpty(v.PkgPath, target), 0, 0)
	}
	for _, id := range append([]string{v.VulnerabilityID}, v.VendorIDs...) {
		if iss.Cve == "" && strings.HasPrefix(strings.ToUpper(id), "CVE-") {
			iss.Cve = strings.ToUpper(id)
		}
		if id != v.VulnerabilityID && id != "" {
			iss.Aliases = append(iss.Aliases, id)
		}
	}
	score, vector := pickCVSS(v)
	iss.Cvss = score
	iss.Severity = severity(v.Severity, score)
	if v.Status != "" {
		iss.Tags = append(iss.Tags, "status:"+v.Status)
	}
	if vector != "" || v.SeveritySource != "" {
		iss.Annotations = map[string]string{}
		if vector != "" {
			iss.Annotations["cvss_vector"] = vector
		}
		if v.SeveritySource != "" {
			iss.Annotations["severity_source"] = v.SeveritySource
		}
	}
	return iss
}

func vulnTitle(v *vulnerability) string {
	switch {
	case v.Title != "":
		return v.Title
	case v.VulnerabilityID != "":
		return v.VulnerabilityID + " in " + v.PkgName
	default:
		return "Vulnerability in " + v.PkgName
	}
}

// pickCVSS takes the score of the vendor trivy took the severity from,
// else NVD's: CVSS v3 first, then v4, then v2.
func pickCVSS(v *vulnerability) (float64, string) {
	for _, src := range []string{v.SeveritySource, "nvd"} {
		c, ok := v.CVSS[src]
		if !ok || src == "" {
			continue
		}
		switch {
		case c.V3Score > 0:
			return c.V3Score, c.V3Vector
		case c.V40Score > 0:
			return c.V40Score, c.V40Vector
		case c.V2Score > 0:
			return c.V2Score, c.V2Vector
		}
	}
	return 0, ""
}

func vulnDescription(v *vulnerability) string {
	var b strings.Builder
	b.WriteString(v.Description)
	line := func(label, value string) {
		if value == "" {
			return
		}
		if b.Len() > 0 {
			b.WriteString("\n")
		}
		b.WriteString(label)
		b.WriteString(value)
	}
	line("Package: ", v.PkgName)
	line("Installed version: ", v.InstalledVersion)
	line("Fixed version: ", v.FixedVersion)
	line("Status: ", v.Status)
	line("Path: ", v.PkgPath)
	return b.String()
}

func (p *parser) misconfig(m *misconfig, target string, res *k8sRes) *v1.Issue {
	rule := producers.FirstNonEmpty(m.AVDID, m.ID)
	cm := &m.CauseMetadata
	file := target
	if res != nil {
		// A cluster resource has no file: name it namespace/Kind/name.
		file = k8sName(res)
	}
	iss := &v1.Issue{
		Target:      producers.Target(file, cm.StartLine, cm.EndLine),
		Type:        rule,
		RuleId:      rule,
		Title:       producers.FirstNonEmpty(m.Title, rule),
		Severity:    severity(m.Severity, 0),
		Description: misconfigDescription(m),
		Location:    producers.Loc(file, cm.StartLine, cm.EndLine),
		References:  references(m.PrimaryURL, m.References),
		Tags:        nonEmpty(m.Type, cm.Provider, cm.Service),
	}
	switch {
	case m.ID != "" && m.ID != rule:
		iss.Aliases = []string{m.ID}
	case m.AVDID == "" && isNewCheckID(m.ID):
		// Checks since trivy 0.6x are "AWS-0086" with no AVDID; the AVD
		// form ties them to older trivy reports and to tfsec's rule ids.
		iss.Aliases = []string{"AVD-" + m.ID}
	}
	if strings.EqualFold(m.Status, "EXCEPTION") {
		iss.Tags = append(iss.Tags, "exception")
	}
	if cm.Resource != "" {
		iss.Annotations = map[string]string{"resource": cm.Resource}
	}
	if len(cm.Code.Lines) > 0 {
		lines := make([]string, 0, len(cm.Code.Lines))
		for _, l := range cm.Code.Lines {
			lines = append(lines, l.Content)
		}
		code := strings.Join(lines, "\n")
		iss.ContextSegment = &code
	}
	return iss
}

// isNewCheckID reports whether id has the "AWS-0086" / "DS-0002" shape.
func isNewCheckID(id string) bool {
	prefix, num, ok := strings.Cut(id, "-")
	if !ok || prefix == "" || len(num) != 4 || strings.HasPrefix(prefix, "AVD") {
		return false
	}
	for _, c := range prefix {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	for _, c := range num {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func misconfigDescription(m *misconfig) string {
	parts := make([]string, 0, 3)
	for _, s := range []string{m.Message, m.Description} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	if m.Resolution != "" {
		parts = append(parts, "Resolution: "+m.Resolution)
	}
	return strings.Join(parts, "\n")
}

// secret reads a secret finding. trivy masks the secret in "Match" (and
// in the code lines, which Dracon does not copy) with asterisks; a match
// that shows no mask could hold the secret, so it is withheld. The raw
// secret is never in the report, so the fingerprint is made from the rule,
// the file and the masked line.
func (p *parser) secret(s *secret, target string, res *k8sRes) *v1.Issue {
	file := target
	if res != nil && file == "" {
		file = k8sName(res)
	}
	match := s.Match
	if !masked(match) {
		match = ""
	}
	iss := &v1.Issue{
		Target:      producers.Target(file, s.StartLine, s.EndLine),
		Type:        s.RuleID,
		RuleId:      s.RuleID,
		Title:       producers.FirstNonEmpty(s.Title, s.RuleID),
		Severity:    severity(s.Severity, 0),
		Description: secretDescription(s, match),
		Location:    producers.Loc(file, s.StartLine, s.EndLine),
		Cwe:         []int32{798}, // use of hard-coded credentials
		Tags:        nonEmpty("secret", s.Category),
		Fingerprint: producers.SecretFingerprint(s.RuleID + "\x00" + file + "\x00" + s.Match),
	}
	if match != "" {
		iss.ContextSegment = &match
	}
	return iss
}

func secretDescription(s *secret, match string) string {
	d := "trivy found a " + producers.FirstNonEmpty(s.Title, s.RuleID) + " (rule " + s.RuleID + ")."
	switch {
	case match != "":
		d += "\nMatch: " + match
	case s.Match != "":
		d += "\nThe matched line is withheld: trivy did not mask the secret in it."
	}
	return d
}

// masked reports whether trivy's masking (a run of asterisks) is in m.
func masked(m string) bool {
	return strings.Contains(m, "***")
}

func (p *parser) license(l *license, r *result, target string) *v1.Issue {
	where := producers.FirstNonEmpty(l.FilePath, l.PkgName)
	title := "License " + l.Name
	if l.Category != "" {
		title += " (" + l.Category + ")"
	}
	if where != "" {
		title += " in " + where
	}
	iss := &v1.Issue{
		Target:      producers.FirstNonEmpty(l.FilePath, strings.TrimSpace(l.PkgName+" in "+target), target),
		Type:        "license",
		RuleId:      "license:" + l.Name,
		Title:       title,
		Severity:    severity(l.Severity, 0),
		Confidence:  licenseConfidence(l.Confidence),
		Description: "trivy classifies " + l.Name + " as " + producers.FirstNonEmpty(l.Category, "unknown") + ".",
		Tags:        nonEmpty("license", l.Category),
	}
	if l.PkgName == "" && target == "" && l.FilePath == "" {
		iss.Target = l.Name
	}
	if l.FilePath != "" {
		iss.Location = producers.Loc(l.FilePath, 0, 0)
	}
	if l.Link != "" {
		iss.References = []string{l.Link}
	}
	if r.Class != "" && r.Class != "license" {
		iss.Tags = append(iss.Tags, r.Class)
	}
	return iss
}

func licenseConfidence(c float64) v1.Confidence {
	switch {
	case c >= 0.9:
		return v1.Confidence_CONFIDENCE_HIGH
	case c >= 0.5:
		return v1.Confidence_CONFIDENCE_MEDIUM
	case c > 0:
		return v1.Confidence_CONFIDENCE_LOW
	default:
		return v1.Confidence_CONFIDENCE_UNSPECIFIED
	}
}

// severity maps trivy's CRITICAL/HIGH/MEDIUM/LOW. UNKNOWN (no rating
// in any source) takes the CVSS score's band when there is one, else
// MEDIUM: an unrated finding is not played down to informational.
func severity(s string, cvss float64) v1.Severity {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "CRITICAL":
		return v1.Severity_SEVERITY_CRITICAL
	case "HIGH":
		return v1.Severity_SEVERITY_HIGH
	case "MEDIUM":
		return v1.Severity_SEVERITY_MEDIUM
	case "LOW":
		return v1.Severity_SEVERITY_LOW
	}
	if cvss > 0 {
		return producers.SeverityFromCVSS(cvss)
	}
	return v1.Severity_SEVERITY_MEDIUM
}

func references(primary string, refs []string) []string {
	out := make([]string, 0, len(refs)+1)
	if primary != "" {
		out = append(out, primary)
	}
	for _, r := range refs {
		if r != "" && r != primary {
			out = append(out, r)
		}
	}
	return out
}

func nonEmpty(ss ...string) []string {
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// purl builds a package URL for the language ecosystems whose purl is
// the package's name and version alone, for reports that give none.
func purl(typ, pkg, version string) string {
	if pkg == "" || version == "" {
		return ""
	}
	var t string
	switch typ {
	case "pip", "pipenv", "poetry", "uv", "python-pkg":
		t, pkg = "pypi", strings.ReplaceAll(strings.ToLower(pkg), "_", "-")
	case "npm", "yarn", "pnpm", "bun", "node-pkg":
		t, pkg = "npm", strings.Replace(pkg, "@", "%40", 1)
	case "gomod", "gobinary":
		t = "golang"
	case "cargo", "rust-binary":
		t = "cargo"
	case "composer", "composer-vendor":
		t = "composer"
	case "bundler", "gemspec", "rubygems":
		t = "gem"
	case "jar", "pom", "gradle", "sbt":
		t, pkg = "maven", strings.Replace(pkg, ":", "/", 1)
	case "nuget", "dotnet-core", "packages-props":
		t = "nuget"
	default:
		return ""
	}
	return "pkg:" + t + "/" + pkg + "@" + version
}
