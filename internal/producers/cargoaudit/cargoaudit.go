// Package cargoaudit runs RustSec's cargo-audit on Cargo.lock and parses
// its JSON report.
package cargoaudit

import (
	"bytes"
	"encoding/json"
	"sort"
	"strings"

	"github.com/draconsec/dracon/internal/producers"
	"github.com/draconsec/dracon/internal/producers/depkit"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

const name = "cargo-audit"

// Producer is cargo-audit: crates in Cargo.lock with RustSec advisories
// (vulnerabilities, and warnings: unmaintained, unsound, yanked).
var Producer = &producers.Producer{
	Name:         name,
	Aliases:      []string{"cargo_audit", "cargoaudit"},
	Kind:         producers.SCA,
	Languages:    []string{"rust"},
	Description:  "Rust crates with RustSec advisories: vulnerabilities, unsound, unmaintained and yanked crates",
	Formats:      []string{"json"},
	Parse:        Parse,
	Detect:       []string{"Cargo.lock"},
	DetectAtRoot: true,
	Tool: &producers.Tool{
		// Run as cargo-audit itself, the subcommand name comes first.
		Binary:  "cargo-audit",
		Network: true, // it fetches its vulnerability data
		Version: "0.21.2",
		Install: "cargo install cargo-audit --locked --version 0.21.2",
		Args: func(src, out string) []string {
			return []string{"audit", "--json", "--file", "Cargo.lock"}
		},
		Stdout: true,
		// 1: vulnerabilities found.
		OKExitCodes: []int{1},
		VersionArgs: []string{"audit", "--version"},
	},
}

type report struct {
	Database        *json.RawMessage `json:"database"`
	Vulnerabilities *struct {
		List *[]finding `json:"list"`
	} `json:"vulnerabilities"`
	Warnings json.RawMessage `json:"warnings"`
}

type finding struct {
	Kind     string    `json:"kind"` // warnings only
	Advisory *advisory `json:"advisory"`
	Versions *struct {
		Patched    []string `json:"patched"`
		Unaffected []string `json:"unaffected"`
	} `json:"versions"`
	Affected *struct {
		Functions map[string][]string `json:"functions"`
	} `json:"affected"`
	Package *struct {
		Name    string `json:"name"`
		Version string `json:"version"`
		Source  string `json:"source"`
	} `json:"package"`
}

type advisory struct {
	ID            string          `json:"id"`
	Package       string          `json:"package"`
	Title         string          `json:"title"`
	Description   string          `json:"description"`
	Date          string          `json:"date"`
	Aliases       []string        `json:"aliases"`
	Categories    []string        `json:"categories"`
	CVSS          json.RawMessage `json:"cvss"`
	Informational *string         `json:"informational"`
	URL           *string         `json:"url"`
	References    []string        `json:"references"`
	Withdrawn     *string         `json:"withdrawn"`
}

// Parse reads `cargo audit --json`. Each vulnerability is an issue; so is
// each warning (unmaintained, unsound, yanked, notice), at INFO or LOW,
// since cargo-audit prints them and `--deny warnings` fails a build on them.
func Parse(data []byte) (*producers.Parsed, error) {
	var r report
	if err := producers.DecodeJSON(name, data, &r); err != nil {
		return nil, err
	}
	if r.Database == nil || r.Vulnerabilities == nil || r.Vulnerabilities.List == nil {
		return nil, producers.Errorf(name, `not a cargo-audit JSON report: no "database" and "vulnerabilities.list" keys`)
	}
	out := &producers.Parsed{}
	for i := range *r.Vulnerabilities.List {
		is, err := issue(&(*r.Vulnerabilities.List)[i], "")
		if err != nil {
			return nil, producers.Errorf(name, "vulnerabilities.list[%d]: %v", i, err)
		}
		out.Issues = append(out.Issues, is)
	}
	warnings, err := readWarnings(r.Warnings)
	if err != nil {
		return nil, err
	}
	for i := range warnings {
		w := &warnings[i]
		is, err := issue(w, producers.FirstNonEmpty(w.Kind, "warning"))
		if err != nil {
			return nil, producers.Errorf(name, "warnings (%s)[%d]: %v", w.Kind, i, err)
		}
		out.Issues = append(out.Issues, is)
	}
	return out, nil
}

// readWarnings reads "warnings": an object of lists keyed by kind
// (cargo-audit 0.12+) or a plain list (older releases); kinds are taken in
// name order.
func readWarnings(raw json.RawMessage) ([]finding, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if raw[0] == '[' {
		var list []finding
		if err := producers.DecodeJSON(name, raw, &list); err != nil {
			return nil, err
		}
		return list, nil
	}
	var byKind map[string][]finding
	if err := producers.DecodeJSON(name, raw, &byKind); err != nil {
		return nil, err
	}
	kinds := make([]string, 0, len(byKind))
	for k := range byKind {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	var out []finding
	for _, k := range kinds {
		for _, w := range byKind[k] {
			if w.Kind == "" {
				w.Kind = k
			}
			out = append(out, w)
		}
	}
	return out, nil
}

func issue(f *finding, warning string) (*v1.Issue, error) {
	if f.Package == nil || f.Package.Name == "" {
		return nil, producers.Errorf(name, "no package")
	}
	pkg, version := f.Package.Name, f.Package.Version
	purl := depkit.Purl("cargo", "", pkg, version)
	display := pkg + "@" + version
	iss := &v1.Issue{
		Target:         purl,
		PackageUrl:     purl,
		PackageVersion: version,
		ToolName:       name,
		Annotations:    map[string]string{},
	}
	if warning != "" {
		iss.Tags = []string{warning}
		iss.Annotations["warning"] = warning
	}
	a := f.Advisory
	if a == nil {
		// A yanked crate: no advisory, just the package.
		kind := producers.FirstNonEmpty(warning, "vulnerability")
		iss.Type, iss.RuleId = kind, kind
		iss.Title = display + " is " + kind
		if kind == "yanked" {
			iss.Title = display + " is yanked from its registry"
		}
		iss.Severity = warningSeverity(kind)
		return iss, nil
	}
	rule := producers.FirstNonEmpty(a.ID, "unknown")
	iss.Type, iss.RuleId = rule, rule
	iss.Title = producers.FirstNonEmpty(strings.TrimSpace(a.Title), rule) + " in " + display
	iss.Description = strings.TrimSpace(a.Description)
	iss.Cve, iss.Aliases = depkit.SplitIDs(rule, a.Aliases...)
	iss.Tags = append(iss.Tags, a.Categories...)
	if strings.HasPrefix(rule, "RUSTSEC-") {
		iss.References = append(iss.References, "https://rustsec.org/advisories/"+rule+".html")
	}
	if a.URL != nil && *a.URL != "" {
		iss.References = depkit.AppendUnique(iss.References, *a.URL)
	}
	iss.References = depkit.AppendUnique(iss.References, a.References...)
	if f.Versions != nil {
		var bounds []string
		for _, p := range f.Versions.Patched {
			bounds = append(bounds, depkit.LowerBounds(p)...)
		}
		iss.FixedVersion = depkit.LowestFixAbove(version, bounds)
		if len(f.Versions.Patched) > 0 {
			iss.Annotations["patched_versions"] = strings.Join(f.Versions.Patched, "; ")
		}
	}
	if f.Affected != nil && len(f.Affected.Functions) > 0 {
		fns := make([]string, 0, len(f.Affected.Functions))
		for fn := range f.Affected.Functions {
			fns = append(fns, fn)
		}
		sort.Strings(fns)
		iss.Annotations["affected_functions"] = strings.Join(fns, "\n")
	}
	if a.Informational != nil && *a.Informational != "" {
		iss.Annotations["informational"] = *a.Informational
	}
	if a.Withdrawn != nil && *a.Withdrawn != "" {
		iss.Annotations["withdrawn"] = *a.Withdrawn
	}
	vector := cvssVector(a.CVSS)
	if vector != "" {
		iss.Annotations["cvss_vector"] = vector
		if score, ok := depkit.CVSS3Score(vector); ok {
			iss.Cvss = score
		}
	}
	switch {
	case iss.Cvss > 0:
		iss.Severity = producers.SeverityFromCVSS(iss.Cvss)
	case warning != "":
		iss.Severity = warningSeverity(warning)
	default:
		// A RustSec vulnerability without a CVSS vector (or with a CVSS
		// v4 one, which has no formula here): MEDIUM.
		iss.Severity = v1.Severity_SEVERITY_MEDIUM
	}
	return iss, nil
}

// warningSeverity rates cargo-audit's warning kinds: unsound code may
// corrupt memory (LOW); unmaintained, yanked and notices are INFO.
func warningSeverity(kind string) v1.Severity {
	if kind == "unsound" {
		return v1.Severity_SEVERITY_LOW
	}
	return v1.Severity_SEVERITY_INFO
}

// cvssVector reads "cvss": a vector string, or null.
func cvssVector(raw json.RawMessage) string {
	var s string
	if len(raw) > 0 && raw[0] == '"' && json.Unmarshal(raw, &s) == nil {
		return strings.TrimSpace(s)
	}
	return ""
}
