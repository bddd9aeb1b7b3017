// Package pipaudit runs PyPA's pip-audit and parses its JSON report.
package pipaudit

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/draconsec/dracon/internal/producers"
	"github.com/draconsec/dracon/internal/producers/depkit"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

const name = "pip-audit"

// Producer is pip-audit: Python packages with known vulnerabilities from
// the PyPI advisory data (OSV).
var Producer = &producers.Producer{
	Name:        name,
	Aliases:     []string{"pip_audit", "pipaudit"},
	Kind:        producers.SCA,
	Languages:   []string{"python"},
	Description: "Python packages with known vulnerabilities (PyPI / OSV advisories)",
	Formats:     []string{"json"},
	Parse:       Parse,
	// pip-audit reads requirements files and pyproject.toml projects; it
	// does not read Pipfile.lock or poetry.lock (osv-scanner does).
	Detect:       []string{"requirements*.txt", "pyproject.toml"},
	DetectAtRoot: true,
	Tool: &producers.Tool{
		Binary:  "pip-audit",
		Network: true, // it fetches its vulnerability data
		Version: "2.10.1",
		Install: "pipx install pip-audit==2.10.1",
		Args:    args,
		// 1: vulnerabilities found.
		OKExitCodes: []int{1},
		VersionArgs: []string{"--version"},
	},
}

// args audits every requirements*.txt at the top of src, or the
// pyproject.toml project when there is none.
func args(src, out string) []string {
	a := []string{"--format", "json", "--output", out, "--progress-spinner", "off"}
	files, _ := filepath.Glob(filepath.Join(src, "requirements*.txt"))
	sort.Strings(files)
	n := 0
	for _, f := range files {
		if st, err := os.Stat(f); err == nil && !st.IsDir() {
			a = append(a, "--requirement", filepath.Base(f))
			n++
		}
	}
	if n == 0 {
		a = append(a, ".")
	}
	return a
}

// dependency is one audited package; "skip_reason" marks one pip-audit
// could not audit (not on PyPI), which is not a finding.
type dependency struct {
	Name       *string `json:"name"`
	Version    string  `json:"version"`
	SkipReason string  `json:"skip_reason"`
	Vulns      []struct {
		ID          string   `json:"id"`
		FixVersions []string `json:"fix_versions"`
		Aliases     []string `json:"aliases"`
		Description string   `json:"description"`
	} `json:"vulns"`
}

// Parse reads pip-audit's JSON: the list of dependencies older releases
// write, or the {"dependencies": [...], "fixes": [...]} object of 2.x.
func Parse(data []byte) (*producers.Parsed, error) {
	var deps []dependency
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) > 0 && trimmed[0] == '[' {
		if err := producers.DecodeJSON(name, data, &deps); err != nil {
			return nil, err
		}
	} else {
		var r struct {
			Dependencies *[]dependency `json:"dependencies"`
		}
		if err := producers.DecodeJSON(name, data, &r); err != nil {
			return nil, err
		}
		if r.Dependencies == nil {
			return nil, producers.Errorf(name, `not a pip-audit JSON report: no "dependencies" key`)
		}
		deps = *r.Dependencies
	}
	out := &producers.Parsed{}
	for i := range deps {
		d := &deps[i]
		if d.Name == nil || *d.Name == "" {
			return nil, producers.Errorf(name, "dependency %d has no name: not a pip-audit report", i)
		}
		purl := depkit.PypiPurl(*d.Name, d.Version)
		for _, v := range d.Vulns {
			rule := producers.FirstNonEmpty(v.ID, "unknown")
			cve, aliases := depkit.SplitIDs(rule, append([]string{rule}, v.Aliases...)...)
			iss := &v1.Issue{
				Target:         purl,
				Type:           rule,
				RuleId:         rule,
				Title:          rule + " in " + *d.Name + " " + d.Version,
				Severity:       v1.Severity_SEVERITY_MEDIUM, // pip-audit rates nothing
				Description:    strings.TrimSpace(v.Description),
				Cve:            cve,
				Aliases:        aliases,
				PackageUrl:     purl,
				PackageVersion: d.Version,
				FixedVersion:   depkit.LowestFixAbove(d.Version, v.FixVersions),
				ToolName:       name,
			}
			if len(v.FixVersions) > 0 {
				iss.Annotations = map[string]string{"fix_versions": strings.Join(v.FixVersions, ", ")}
			}
			for _, id := range append([]string{rule}, v.Aliases...) {
				if strings.HasPrefix(id, "PYSEC-") || strings.HasPrefix(id, "GHSA-") {
					iss.References = depkit.AppendUnique(iss.References, "https://osv.dev/vulnerability/"+id)
				}
			}
			out.Issues = append(out.Issues, iss)
		}
	}
	return out, nil
}
