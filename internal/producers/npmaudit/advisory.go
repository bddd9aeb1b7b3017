package npmaudit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/draconsec/dracon/internal/producers"
	"github.com/draconsec/dracon/internal/producers/depkit"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// Advisory is one entry of the npm registry's audit response, as npm 6
// (`npm audit --json` "advisories"), yarn 1 (auditAdvisory lines) and
// yarn 2/3 (`yarn npm audit --json`) report it. It is exported for the
// yarn-audit producer, which reads the same advisories.
type Advisory struct {
	ID                 FlexID     `json:"id"`
	Title              string     `json:"title"`
	ModuleName         string     `json:"module_name"`
	CVEs               []string   `json:"cves"`
	VulnerableVersions string     `json:"vulnerable_versions"`
	PatchedVersions    string     `json:"patched_versions"`
	Overview           string     `json:"overview"`
	Recommendation     string     `json:"recommendation"`
	References         string     `json:"references"`
	Severity           string     `json:"severity"`
	CWE                StringList `json:"cwe"`
	GHSA               string     `json:"github_advisory_id"`
	URL                string     `json:"url"`
	CVSS               *struct {
		Score  float64 `json:"score"`
		Vector *string `json:"vectorString"`
	} `json:"cvss"`
	Findings []struct {
		Version  string   `json:"version"`
		Paths    []string `json:"paths"`
		Dev      bool     `json:"dev"`
		Optional bool     `json:"optional"`
		Bundled  bool     `json:"bundled"`
	} `json:"findings"`
}

// FlexID reads an id written as a number (npm) or a string (yarn berry).
type FlexID string

func (f *FlexID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		*f = ""
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = FlexID(s)
	default:
		if _, err := strconv.ParseFloat(string(b), 64); err != nil {
			return fmt.Errorf("id %s is neither a number nor a string", b)
		}
		*f = FlexID(b)
	}
	return nil
}

func (f FlexID) String() string { return string(f) }

// StringList reads a field written as a string, a list of strings or null
// ("cwe" is "CWE-94" in older advisories, ["CWE-1321"] in newer ones).
type StringList []string

func (s *StringList) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*s = nil
		return nil
	case b[0] == '"':
		var one string
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*s = StringList{one}
		return nil
	default:
		var many []string
		if err := json.Unmarshal(b, &many); err != nil {
			return err
		}
		*s = many
		return nil
	}
}

// Collector turns advisories into issues: one per vulnerable package
// version and vulnerability. Advisories reported once per dependency path
// (yarn 1) or twice under two npm ids for one GitHub advisory are merged,
// their paths and ids kept on the issue.
type Collector struct {
	tool   string
	issues []*v1.Issue
	byKey  map[string]*entry
}

type entry struct {
	issue *v1.Issue
	paths []string
	ids   []string
}

// NewCollector starts a collector whose issues carry tool's name.
func NewCollector(tool string) *Collector {
	return &Collector{tool: tool, byKey: map[string]*entry{}}
}

// Add records one advisory. It fails on an advisory that names no package.
func (c *Collector) Add(a *Advisory) error {
	if strings.TrimSpace(a.ModuleName) == "" {
		return producers.Errorf(c.tool, "advisory %s names no module", a.ID)
	}
	if len(a.Findings) == 0 {
		c.add(a, "", nil, false)
		return nil
	}
	for _, f := range a.Findings {
		c.add(a, f.Version, f.Paths, f.Dev)
	}
	return nil
}

func (c *Collector) add(a *Advisory, version string, paths []string, dev bool) {
	id := a.ID.String()
	rule := producers.FirstNonEmpty(a.GHSA, ghsaFromURL(a.URL), id, "unknown")
	key := a.ModuleName + "@" + version + " " + rule
	if e, ok := c.byKey[key]; ok {
		e.paths = depkit.AppendUnique(e.paths, paths...)
		e.ids = depkit.AppendUnique(e.ids, id)
		return
	}
	purl := depkit.NpmPurl(a.ModuleName, version)
	cve, aliases := depkit.SplitIDs(rule, append(a.CVEs, producers.FirstNonEmpty(a.GHSA, ghsaFromURL(a.URL)))...)
	display := a.ModuleName
	if version != "" {
		display += "@" + version
	}
	iss := &v1.Issue{
		Target:         producers.FirstNonEmpty(purl, display),
		Type:           rule,
		RuleId:         rule,
		Title:          TitleFor(producers.FirstNonEmpty(strings.TrimSpace(a.Title), rule), a.ModuleName, display),
		Severity:       Severity(a.Severity),
		Description:    description(a),
		Cve:            cve,
		Aliases:        aliases,
		Cwe:            producers.CWEs(a.CWE...),
		PackageUrl:     purl,
		PackageVersion: version,
		FixedVersion:   depkit.LowestFixAbove(version, depkit.LowerBounds(a.PatchedVersions)),
		ToolName:       c.tool,
		Annotations:    map[string]string{},
	}
	if a.CVSS != nil && a.CVSS.Score > 0 && a.CVSS.Score <= 10 {
		iss.Cvss = a.CVSS.Score
	}
	if a.VulnerableVersions != "" {
		iss.Annotations["vulnerable_versions"] = a.VulnerableVersions
	}
	if a.PatchedVersions != "" {
		iss.Annotations["patched_versions"] = a.PatchedVersions
	}
	if dev {
		iss.Tags = append(iss.Tags, "dev")
	}
	if a.URL != "" {
		iss.References = append(iss.References, a.URL)
	}
	iss.References = depkit.AppendUnique(iss.References, depkit.URLs(a.References)...)
	e := &entry{issue: iss, paths: depkit.AppendUnique(nil, paths...)}
	if id != "" {
		e.ids = []string{id}
	}
	c.byKey[key] = e
	c.issues = append(c.issues, iss)
}

// Issues returns the issues in the order their advisories came, with the
// dependency paths and npm advisory ids of merged reports.
func (c *Collector) Issues() []*v1.Issue {
	for _, e := range c.byKey {
		if len(e.paths) > 0 {
			e.issue.Annotations["paths"] = joinCapped(e.paths, 20)
		}
		if len(e.ids) > 0 {
			e.issue.Annotations["advisory_ids"] = strings.Join(e.ids, ", ")
		}
	}
	return c.issues
}

// TitleFor names the package an advisory title is about: "Command
// Injection in growl@1.9.2", but "Prototype Pollution in lodash (lodash@4.17.11)"
// when the title names it already.
func TitleFor(title, pkg, display string) string {
	if strings.Contains(strings.ToLower(title), strings.ToLower(pkg)) {
		if display == pkg {
			return title
		}
		return title + " (" + display + ")"
	}
	return title + " in " + display
}

// joinCapped lists at most n items, one a line, and says how many more.
func joinCapped(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, "\n")
	}
	return strings.Join(items[:n], "\n") + "\n... and " + strconv.Itoa(len(items)-n) + " more"
}

func description(a *Advisory) string {
	d := strings.TrimSpace(a.Overview)
	if r := strings.TrimSpace(a.Recommendation); r != "" {
		if d != "" {
			d += "\n\n"
		}
		d += "Recommendation: " + r
	}
	return d
}

// Severity maps npm's advisory severities (info, low, moderate, high,
// critical) onto Dracon's; an unknown word is MEDIUM.
func Severity(s string) v1.Severity {
	if sev := producers.SeverityFromText(s); sev != v1.Severity_SEVERITY_UNSPECIFIED {
		return sev
	}
	return v1.Severity_SEVERITY_MEDIUM
}

func ghsaFromURL(u string) string {
	if i := strings.LastIndexByte(u, '/'); i >= 0 && strings.HasPrefix(u[i+1:], "GHSA-") {
		return u[i+1:]
	}
	return ""
}

// GHSAFromURL returns the GitHub advisory id a URL ends with, or "".
func GHSAFromURL(u string) string { return ghsaFromURL(u) }
