// Package checkov runs bridgecrewio/checkov on infrastructure code and
// parses its JSON report: one object per framework ("check_type"), or a
// list of them when several frameworks ran.
package checkov

import (
	"bytes"
	"strings"

	"github.com/draconsec/dracon/internal/producers"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

const name = "checkov"

// Producer is checkov: misconfigurations in Terraform, CloudFormation,
// Kubernetes, Dockerfiles, CI pipelines and more.
var Producer = &producers.Producer{
	Name:        name,
	Kind:        producers.IaC,
	Languages:   []string{"terraform", "cloudformation", "kubernetes", "dockerfile", "helm", "arm", "bicep"},
	Description: "infrastructure-as-code misconfigurations across Terraform, CloudFormation, Kubernetes, Dockerfiles and CI pipelines",
	Formats:     []string{"json", "sarif"},
	Parse:       Parse,
	Detect:      []string{"*.tf", "Dockerfile", "*.dockerfile", "template.yaml", "template.yml", "*.bicep"},
	Tool: &producers.Tool{
		Binary:  "checkov",
		Version: "3.3.30",
		Install: "pipx install checkov==3.3.30",
		Image:   "docker.io/bridgecrew/checkov:3.3.30",
		Args: func(src, out string) []string {
			// --soft-fail: exit 0 whatever is found; the gate decides.
			// --skip-download: no calls to the Prisma Cloud platform.
			// --quiet: failed checks only, which keeps the report small.
			return []string{"-d", src, "-o", "json", "--soft-fail", "--skip-download", "--quiet", "--compact"}
		},
		Stdout: true,
		// 1 is "failed checks" if --soft-fail is ever not honoured.
		OKExitCodes: []int{1},
		VersionArgs: []string{"--version"},
	},
}

// report is one framework's results. checkov writes only the summary
// (no "check_type", no "results") when it scanned nothing.
type report struct {
	CheckType *string  `json:"check_type"`
	Results   *results `json:"results"`
	Summary   *summary `json:"summary"`
	URL       string   `json:"url"`
	// Summary-only reports carry these at the top level.
	Passed         *int   `json:"passed"`
	Failed         *int   `json:"failed"`
	CheckovVersion string `json:"checkov_version"`
}

type results struct {
	Failed *[]check `json:"failed_checks"`
}

type summary struct {
	Failed         int    `json:"failed"`
	CheckovVersion string `json:"checkov_version"`
}

type check struct {
	CheckID     string   `json:"check_id"`
	BCCheckID   string   `json:"bc_check_id"`
	CheckName   string   `json:"check_name"`
	CodeBlock   [][]any  `json:"code_block"` // [line number, "text"] pairs
	FilePath    string   `json:"file_path"`
	LineRange   []int    `json:"file_line_range"`
	Resource    string   `json:"resource"`
	CheckClass  string   `json:"check_class"`
	Guideline   string   `json:"guideline"`
	Severity    *string  `json:"severity"`
	Category    string   `json:"bc_category"`
	Description string   `json:"description"`
	ShortDesc   string   `json:"short_description"`
	Details     []string `json:"details"`
	Vuln        *vuln    `json:"vulnerability_details"`
}

// vuln is what the sca_package and sca_image frameworks add: a CVE in a
// dependency, or a licence policy violation.
type vuln struct {
	ID             string   `json:"id"`
	Severity       string   `json:"severity"`
	PackageName    string   `json:"package_name"`
	PackageVersion string   `json:"package_version"`
	Link           string   `json:"link"`
	CVSS           *float64 `json:"cvss"`
	Vector         string   `json:"vector"`
	Description    string   `json:"description"`
	LowestFixed    string   `json:"lowest_fixed_version"`
	FixVersion     string   `json:"fix_version"`
	License        string   `json:"license"`
	Policy         string   `json:"policy"`
}

// Parse reads checkov's JSON report (-o json): a framework object, a list
// of them, or the bare summary checkov writes when nothing was scanned.
// Passed and skipped checks are not findings (a skipped check is one the
// repository suppressed with a checkov:skip comment and a reason).
func Parse(data []byte) (*producers.Parsed, error) {
	var reports []report
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		if err := producers.DecodeJSON(name, data, &reports); err != nil {
			return nil, err
		}
		if len(reports) == 0 {
			return nil, producers.Errorf(name, "not a checkov JSON report: an empty list")
		}
	} else {
		var r report
		if err := producers.DecodeJSON(name, data, &r); err != nil {
			return nil, err
		}
		reports = []report{r}
	}
	out := &producers.Parsed{Issues: []*v1.Issue{}}
	for i := range reports {
		if err := readReport(&reports[i], i, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func readReport(r *report, idx int, out *producers.Parsed) error {
	if r.CheckType == nil || r.Results == nil {
		// The bare summary: fine as long as it says nothing failed.
		if r.CheckovVersion == "" || r.Failed == nil {
			return producers.Errorf(name, `not a checkov JSON report: report %d has no "check_type" and "results"`, idx)
		}
		if *r.Failed != 0 {
			return producers.Errorf(name, "report %d is a summary of %d failed checks without the checks", idx, *r.Failed)
		}
		out.ToolVersion = producers.FirstNonEmpty(out.ToolVersion, r.CheckovVersion)
		return nil
	}
	version := ""
	if r.Summary != nil {
		version = r.Summary.CheckovVersion
	}
	out.ToolVersion = producers.FirstNonEmpty(out.ToolVersion, version)
	if r.Results.Failed == nil {
		return nil
	}
	for j := range *r.Results.Failed {
		c := &(*r.Results.Failed)[j]
		if c.CheckID == "" {
			return producers.Errorf(name, "report %d (%s): failed check %d has no check_id", idx, *r.CheckType, j)
		}
		out.Issues = append(out.Issues, issue(c, *r.CheckType, version))
	}
	return nil
}

func issue(c *check, checkType, version string) *v1.Issue {
	start, end := 0, 0
	if len(c.LineRange) > 0 {
		start = c.LineRange[0]
		end = c.LineRange[len(c.LineRange)-1]
	}
	iss := &v1.Issue{
		Target:      producers.Target(c.FilePath, start, end),
		Type:        c.CheckID,
		RuleId:      c.CheckID,
		Title:       producers.FirstNonEmpty(c.CheckName, c.ShortDesc, c.CheckID),
		Severity:    v1.Severity_SEVERITY_MEDIUM,
		Description: description(c, isSecret(c, checkType)),
		Location:    producers.Loc(c.FilePath, start, end),
		ToolName:    name,
		ToolVersion: version,
		Tags:        []string{checkType},
	}
	if c.Severity != nil {
		if s := producers.SeverityFromText(*c.Severity); s != v1.Severity_SEVERITY_UNSPECIFIED {
			iss.Severity = s
		}
	}
	if c.BCCheckID != "" && c.BCCheckID != c.CheckID {
		iss.Aliases = []string{c.BCCheckID}
	}
	if c.Guideline != "" {
		iss.References = append(iss.References, c.Guideline)
	}
	if c.Category != "" {
		iss.Tags = append(iss.Tags, c.Category)
	}
	// A secret finding's "resource" is detect-secrets' unsalted SHA-1 of
	// the secret: a second hash of the value, which Dracon does not keep.
	if c.Resource != "" && !isSecret(c, checkType) {
		iss.Annotations = map[string]string{"resource": c.Resource}
	}
	// Secret findings' code lines hold the (partly masked) secret: checkov
	// masks it, but Dracon does not rely on that and leaves them out.
	if !isSecret(c, checkType) && len(c.CodeBlock) > 0 {
		var b strings.Builder
		for _, pair := range c.CodeBlock {
			if len(pair) == 2 {
				if text, ok := pair[1].(string); ok {
					b.WriteString(text)
				}
			}
		}
		code := strings.TrimRight(b.String(), "\n")
		iss.ContextSegment = &code
	}
	if v := c.Vuln; v != nil {
		readVuln(iss, v)
	}
	return iss
}

func readVuln(iss *v1.Issue, v *vuln) {
	iss.PackageVersion = v.PackageVersion
	if v.PackageName != "" {
		iss.Target = v.PackageName + "@" + v.PackageVersion + " in " + iss.Location.GetPath()
	}
	if strings.HasPrefix(strings.ToUpper(v.ID), "CVE-") {
		iss.Cve = strings.ToUpper(v.ID)
	}
	if v.CVSS != nil {
		iss.Cvss = *v.CVSS
	}
	if s := producers.SeverityFromText(v.Severity); s != v1.Severity_SEVERITY_UNSPECIFIED {
		iss.Severity = s
	} else if v.CVSS != nil && *v.CVSS > 0 {
		iss.Severity = producers.SeverityFromCVSS(*v.CVSS)
	}
	fixed := producers.FirstNonEmpty(v.LowestFixed, v.FixVersion)
	if fixed != "" && fixed != "N/A" {
		iss.FixedVersion = fixed
	}
	if v.Link != "" {
		iss.References = append(iss.References, v.Link)
	}
	if v.Description != "" && !strings.Contains(iss.Description, v.Description) {
		iss.Description = strings.TrimSpace(iss.Description + "\n" + v.Description)
	}
	if v.License != "" {
		iss.Title = "License " + v.License + " (" + v.PackageName + " " + v.PackageVersion + ")"
	}
}

func isSecret(c *check, checkType string) bool {
	return checkType == "secrets" || strings.HasPrefix(c.CheckID, "CKV_SECRET_")
}

func description(c *check, secret bool) string {
	var parts []string
	for _, s := range []string{c.Description, c.ShortDesc} {
		if s = strings.TrimSpace(s); s != "" && s != c.CheckName {
			parts = append(parts, s)
		}
	}
	if c.Resource != "" && !secret {
		parts = append(parts, "Resource: "+c.Resource)
	}
	for _, d := range c.Details {
		if d = strings.TrimSpace(d); d != "" {
			parts = append(parts, d)
		}
	}
	if c.CheckClass != "" {
		parts = append(parts, "Check: "+c.CheckClass)
	}
	if len(parts) == 0 {
		return c.CheckName
	}
	return strings.Join(parts, "\n")
}
