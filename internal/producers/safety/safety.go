// Package safety runs pyup's Safety on Python requirements and parses its
// JSON report: the 1.x list of arrays and the 2.x/3.x `safety check`
// object.
package safety

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/draconsec/dracon/internal/producers"
	"github.com/draconsec/dracon/internal/producers/depkit"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

const name = "safety"

// Producer is Safety: known-vulnerable Python packages pinned in
// requirements files.
var Producer = &producers.Producer{
	Name:        name,
	Aliases:     []string{"python-pip-safety", "pip-safety", "pipsafety"},
	Kind:        producers.SCA,
	Languages:   []string{"python"},
	Description: "Python packages with known vulnerabilities (Safety DB), from requirements files",
	Formats:     []string{"json"},
	Parse:       Parse,
	// `safety check` reads requirements files only; Pipfile.lock,
	// poetry.lock and pyproject.toml are pip-audit's and osv-scanner's.
	Detect:       []string{"requirements*.txt"},
	DetectAtRoot: true,
	Tool: &producers.Tool{
		Binary:  "safety",
		Network: true, // it fetches its vulnerability data
		Version: "3.8.1",
		Install: "pipx install safety==3.8.1",
		Args:    args,
		Stdout:  true,
		// 64: vulnerabilities found.
		OKExitCodes: []int{64},
		VersionArgs: []string{"--version"},
	},
}

// args checks every requirements*.txt at the top of src.
func args(src, out string) []string {
	a := []string{"check", "--output", "json"}
	files, _ := filepath.Glob(filepath.Join(src, "requirements*.txt"))
	sort.Strings(files)
	for _, f := range files {
		if st, err := os.Stat(f); err == nil && !st.IsDir() {
			a = append(a, "-r", filepath.Base(f))
		}
	}
	if len(files) == 0 {
		a = append(a, "-r", "requirements.txt")
	}
	return a
}

// Parse reads Safety's JSON: a 1.x array of
// [package, affected spec, installed version, advisory, id] arrays, or the
// 2.x/3.x object with "report_meta" and "vulnerabilities".
func Parse(data []byte) (*producers.Parsed, error) {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) > 0 && trimmed[0] == '[' {
		return parseV1(data)
	}
	return parseV2(data)
}

func parseV1(data []byte) (*producers.Parsed, error) {
	// Every field of a 1.x entry is a string; a number where one is
	// expected fails the decoding, which names the offset.
	var rows [][]string
	if err := producers.DecodeJSON(name, data, &rows); err != nil {
		return nil, err
	}
	out := &producers.Parsed{Issues: make([]*v1.Issue, 0, len(rows))}
	for i, row := range rows {
		if len(row) < 5 {
			return nil, producers.Errorf(name, "entry %d has %d fields; Safety 1.x writes [package, spec, installed, advisory, id]", i, len(row))
		}
		pkg, spec, installed, advisory, id := row[0], row[1], row[2], row[3], row[4]
		if pkg == "" {
			return nil, producers.Errorf(name, "entry %d names no package", i)
		}
		purl := depkit.PypiPurl(pkg, installed)
		out.Issues = append(out.Issues, &v1.Issue{
			Target:         purl,
			Type:           id,
			RuleId:         id,
			Title:          title(pkg, installed, spec, id),
			Severity:       v1.Severity_SEVERITY_MEDIUM,
			Description:    strings.TrimSpace(advisory),
			PackageUrl:     purl,
			PackageVersion: installed,
			FixedVersion:   fixFromSpec(installed, spec),
			ToolName:       name,
			Annotations:    map[string]string{"vulnerable_spec": spec},
		})
	}
	return out, nil
}

type reportV2 struct {
	Meta *struct {
		SafetyVersion string `json:"safety_version"`
	} `json:"report_meta"`
	Affected map[string]struct {
		Found string `json:"found"`
	} `json:"affected_packages"`
	Vulnerabilities *[]vulnV2 `json:"vulnerabilities"`
	Ignored         []vulnV2  `json:"ignored_vulnerabilities"`
}

type vulnV2 struct {
	ID              string          `json:"vulnerability_id"`
	Package         string          `json:"package_name"`
	Name            string          `json:"name"` // some 2.0 betas
	Title           string          `json:"vulnerability"`
	Spec            string          `json:"vulnerable_spec"`
	Installed       string          `json:"analyzed_version"`
	Advisory        string          `json:"advisory"`
	Transitive      bool            `json:"is_transitive"`
	Fixed           []string        `json:"fixed_versions"`
	FixedIn         []string        `json:"fixed_in"`
	Resources       []string        `json:"resources"`
	CVE             json.RawMessage `json:"CVE"`
	Severity        *severityV2     `json:"severity"`
	MoreInfo        string          `json:"more_info_url"`
	Ignored         json.RawMessage `json:"ignored"`
	IgnoredReason   string          `json:"ignored_reason"`
	IgnoredExpires  json.RawMessage `json:"ignored_expires"`
	AnalyzedRequire *struct {
		Found string `json:"found"`
	} `json:"analyzed_requirement"`
}

type severityV2 struct {
	Source string `json:"source"`
	CVSSv2 *cvss  `json:"cvssv2"`
	CVSSv3 *cvss  `json:"cvssv3"`
	CVSS   *cvss  `json:"cvss"` // safety 3.x
}

type cvss struct {
	BaseScore    float64 `json:"base_score"`
	BaseSeverity string  `json:"base_severity"`
	Vector       string  `json:"vector_string"`
	Version      string  `json:"version"`
}

// cveV2 is the "CVE" field: a string, or in some 2.x releases an object
// with the id and its scores.
type cveV2 struct {
	Name   string `json:"name"`
	CVSSv2 *cvss  `json:"cvssv2"`
	CVSSv3 *cvss  `json:"cvssv3"`
}

func parseV2(data []byte) (*producers.Parsed, error) {
	var r reportV2
	if err := producers.DecodeJSON(name, data, &r); err != nil {
		return nil, err
	}
	if r.Meta == nil || r.Vulnerabilities == nil {
		return nil, producers.Errorf(name, `not a Safety JSON report: no "report_meta" and "vulnerabilities" keys`)
	}
	out := &producers.Parsed{ToolVersion: r.Meta.SafetyVersion, Issues: make([]*v1.Issue, 0, len(*r.Vulnerabilities)+len(r.Ignored))}
	for i := range *r.Vulnerabilities {
		is, err := issueV2(&(*r.Vulnerabilities)[i], &r, false)
		if err != nil {
			return nil, producers.Errorf(name, "vulnerabilities[%d]: %v", i, err)
		}
		out.Issues = append(out.Issues, is)
	}
	for i := range r.Ignored {
		is, err := issueV2(&r.Ignored[i], &r, true)
		if err != nil {
			return nil, producers.Errorf(name, "ignored_vulnerabilities[%d]: %v", i, err)
		}
		out.Issues = append(out.Issues, is)
	}
	return out, nil
}

func issueV2(v *vulnV2, r *reportV2, ignored bool) (*v1.Issue, error) {
	pkg := producers.FirstNonEmpty(v.Package, v.Name)
	if pkg == "" {
		return nil, producers.Errorf(name, "no package_name")
	}
	var cveID string
	var scores []*cvss
	if len(v.CVE) > 0 && string(v.CVE) != "null" {
		if v.CVE[0] == '"' {
			if err := json.Unmarshal(v.CVE, &cveID); err != nil {
				return nil, err
			}
		} else {
			var c cveV2
			if err := json.Unmarshal(v.CVE, &c); err != nil {
				return nil, err
			}
			cveID = c.Name
			scores = append(scores, c.CVSSv3, c.CVSSv2)
		}
	}
	if s := v.Severity; s != nil {
		scores = append([]*cvss{s.CVSSv3, s.CVSS, s.CVSSv2}, scores...)
	}
	rule := producers.FirstNonEmpty(v.ID, cveID, "unknown")
	purl := depkit.PypiPurl(pkg, v.Installed)
	cve, aliases := depkit.SplitIDs(rule, cveID)
	iss := &v1.Issue{
		Target:         purl,
		Type:           rule,
		RuleId:         rule,
		Title:          title(pkg, v.Installed, v.Spec, rule),
		Description:    strings.TrimSpace(v.Advisory),
		Cve:            cve,
		Aliases:        aliases,
		PackageUrl:     purl,
		PackageVersion: v.Installed,
		FixedVersion:   depkit.LowestFixAbove(v.Installed, append(v.Fixed, v.FixedIn...)),
		ToolName:       name,
		Annotations:    map[string]string{},
	}
	if v.Title != "" {
		iss.Title = v.Title + " in " + pkg + "@" + v.Installed
	}
	if iss.FixedVersion == "" {
		iss.FixedVersion = fixFromSpec(v.Installed, v.Spec)
	}
	iss.Severity, iss.Cvss = severity(scores)
	if v.MoreInfo != "" && strings.HasPrefix(v.MoreInfo, "http") {
		iss.References = append(iss.References, v.MoreInfo)
	}
	for _, res := range v.Resources {
		if strings.HasPrefix(res, "http") {
			iss.References = depkit.AppendUnique(iss.References, res)
		}
	}
	found := r.Affected[pkg].Found
	if v.AnalyzedRequire != nil && v.AnalyzedRequire.Found != "" {
		found = v.AnalyzedRequire.Found
	}
	if found != "" {
		iss.Location = producers.Loc(found, 0, 0)
	}
	if v.Spec != "" {
		iss.Annotations["vulnerable_spec"] = v.Spec
	}
	if v.Transitive {
		iss.Tags = append(iss.Tags, "transitive")
	}
	if ignored || isTrue(v.Ignored) {
		iss.Annotations["suppressed"] = "true"
		iss.Tags = append(iss.Tags, "suppressed")
		if v.IgnoredReason != "" {
			iss.Annotations["suppression_reason"] = v.IgnoredReason
		}
	}
	return iss, nil
}

// isTrue reads "ignored", which is false, {} or an object describing the
// ignore rule depending on the release.
func isTrue(raw json.RawMessage) bool {
	s := string(bytes.TrimSpace(raw))
	return s == "true" || (strings.HasPrefix(s, "{") && s != "{}")
}

// severity takes the first CVSS rating the report gives (v3, then v2);
// without one, MEDIUM: Safety's free database scores nothing.
func severity(scores []*cvss) (v1.Severity, float64) {
	for _, c := range scores {
		if c == nil {
			continue
		}
		score := c.BaseScore
		if score == 0 {
			score, _ = depkit.CVSS3Score(c.Vector)
		}
		if sev := producers.SeverityFromText(c.BaseSeverity); sev != v1.Severity_SEVERITY_UNSPECIFIED {
			return sev, score
		}
		if score > 0 {
			return producers.SeverityFromCVSS(score), score
		}
	}
	return v1.Severity_SEVERITY_MEDIUM, 0
}

func title(pkg, installed, spec, id string) string {
	t := pkg
	if installed != "" {
		t += " " + installed
	}
	if spec != "" {
		t += " (" + spec + ")"
	}
	return t + ": Safety advisory " + id
}

// fixFromSpec reads the first fixed version from an affected spec such as
// "<1.2.7" or ">=4.0a1,<4.0.2": the "<" bound that the installed version
// is under.
func fixFromSpec(installed, spec string) string {
	var bounds []string
	for _, alt := range strings.Split(spec, "||") {
		for _, part := range strings.Split(alt, ",") {
			part = strings.TrimSpace(part)
			if v, ok := strings.CutPrefix(part, "<"); ok && !strings.HasPrefix(v, "=") {
				bounds = append(bounds, strings.TrimSpace(v))
			}
		}
	}
	return depkit.LowestFixAbove(installed, bounds)
}
