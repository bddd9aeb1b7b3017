// Package kics runs Checkmarx KICS on infrastructure code and parses its
// JSON report: one entry per query, each with the files it matched.
package kics

import (
	"path/filepath"
	"strings"

	"github.com/draconsec/dracon/internal/producers"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

const (
	name    = "kics"
	binary  = "kics"
	version = "v2.2.0"
)

// Producer is KICS: misconfigurations in Terraform, Dockerfiles,
// Kubernetes, CloudFormation, Ansible and more.
var Producer = &producers.Producer{
	Name:        name,
	Kind:        producers.IaC,
	Languages:   []string{"terraform", "dockerfile"},
	Description: "Terraform and Dockerfile misconfigurations: public buckets, open ingress, containers running as root",
	Formats:     []string{"json", "sarif"},
	Parse:       Parse,
	Detect:      []string{"*.tf", "Dockerfile", "*.dockerfile"},
	RunsHere:    true,
	Tool: &producers.Tool{
		Binary:    binary,
		Version:   version,
		GoPackage: "github.com/Checkmarx/kics/v2/cmd/console",
		GoAssets:  []string{"assets"}, // the query library kics reads at run time
		Image:     "docker.io/checkmarx/kics:v2.2.0",
		Args:      args,
		// With --ignore-on-exit results kics exits 0 whatever it finds;
		// without it, 60/50/40/30/20 mean the highest severity found was
		// critical/high/medium/low/info. 126 and up are engine errors.
		OKExitCodes: []int{20, 30, 40, 50, 60},
		VersionArgs: []string{"version"},
	},
}

// args builds the kics command line. kics writes its report into a folder
// under a name it is given and adds ".json" only to a name without a dot,
// so Dracon's report path (which has an extension) comes out exactly.
// kics needs its query library: `dracon tools install` keeps the module's
// assets folder next to the binary.
func args(src, out string) []string {
	assets := AssetsDir()
	return []string{"scan",
		"-p", src,
		"-o", filepath.Dir(out),
		"--output-name", filepath.Base(out),
		"--report-formats", "json",
		"-q", filepath.Join(assets, "queries"),
		"--libraries-path", filepath.Join(assets, "libraries"),
		// kics is slow: only the platforms Dracon runs it for.
		"--type", "Terraform,Dockerfile",
		"--disable-secrets", // secrets are the secret scanners' job
		"--ignore-on-exit", "results",
		"--no-progress", "--ci", "--no-color",
	}
}

// AssetsDir is where KICS's query library lives: the "assets" folder of
// its module, kept beside the binary in Dracon's tool cache (the same
// folder as Tool.CachePath's).
func AssetsDir() string {
	return filepath.Join(producers.ToolsDir(), binary, version, "assets")
}

type report struct {
	Version *string  `json:"kics_version"`
	Queries *[]query `json:"queries"`
	Total   *int     `json:"total_counter"`
}

type query struct {
	Name          string `json:"query_name"`
	ID            string `json:"query_id"`
	URL           string `json:"query_url"`
	Severity      string `json:"severity"`
	Platform      string `json:"platform"`
	CWE           string `json:"cwe"`
	RiskScore     string `json:"risk_score"`
	CloudProvider string `json:"cloud_provider"`
	Category      string `json:"category"`
	Experimental  bool   `json:"experimental"`
	Description   string `json:"description"`
	Files         []file `json:"files"`
}

type file struct {
	FileName      string  `json:"file_name"`
	SimilarityID  string  `json:"similarity_id"`
	Line          int     `json:"line"`
	ResourceType  string  `json:"resource_type"`
	ResourceName  string  `json:"resource_name"`
	IssueType     string  `json:"issue_type"`
	SearchKey     string  `json:"search_key"`
	SearchValue   string  `json:"search_value"`
	ExpectedValue string  `json:"expected_value"`
	ActualValue   string  `json:"actual_value"`
	Value         *string `json:"value"`
	Remediation   string  `json:"remediation"`
}

// Parse reads KICS's JSON report (--report-formats json): one issue per
// matched file location of each query. The bill of materials (-m) lists
// resources, not findings, and is not read.
func Parse(data []byte) (*producers.Parsed, error) {
	var r report
	if err := producers.DecodeJSON(name, data, &r); err != nil {
		return nil, err
	}
	if r.Queries == nil || r.Total == nil {
		return nil, producers.Errorf(name, `not a KICS JSON report: no "queries" and "total_counter" keys`)
	}
	out := &producers.Parsed{Issues: []*v1.Issue{}}
	if r.Version != nil {
		out.ToolVersion = *r.Version
	}
	for i := range *r.Queries {
		q := &(*r.Queries)[i]
		if q.ID == "" && q.Name == "" {
			return nil, producers.Errorf(name, "query %d has no query_id or query_name", i)
		}
		for j := range q.Files {
			out.Issues = append(out.Issues, issue(q, &q.Files[j], out.ToolVersion))
		}
	}
	return out, nil
}

func issue(q *query, f *file, version string) *v1.Issue {
	rule := producers.FirstNonEmpty(q.ID, q.Name)
	iss := &v1.Issue{
		Target:      producers.Target(f.FileName, f.Line, f.Line),
		Type:        rule,
		RuleId:      rule,
		Title:       producers.FirstNonEmpty(q.Name, rule),
		Severity:    severity(q.Severity),
		Description: description(q, f),
		Cwe:         producers.CWEs(q.CWE),
		Location:    producers.Loc(f.FileName, f.Line, f.Line),
		ToolName:    name,
		ToolVersion: version,
	}
	if q.URL != "" {
		iss.References = []string{q.URL}
	}
	for _, t := range []string{q.Platform, q.Category, q.CloudProvider} {
		if t != "" {
			iss.Tags = append(iss.Tags, t)
		}
	}
	if q.Experimental {
		iss.Tags = append(iss.Tags, "experimental")
	}
	for _, kv := range [...][2]string{
		{"similarity_id", f.SimilarityID},
		{"search_key", f.SearchKey},
		{"issue_type", f.IssueType},
		{"resource_type", f.ResourceType},
		{"resource_name", f.ResourceName},
		{"risk_score", q.RiskScore},
	} {
		if kv[1] == "" {
			continue
		}
		if iss.Annotations == nil {
			iss.Annotations = make(map[string]string, 6)
		}
		iss.Annotations[kv[0]] = kv[1]
	}
	if isSecret(q) {
		redactSecret(iss, f)
	}
	return iss
}

// severity maps KICS's CRITICAL/HIGH/MEDIUM/LOW/INFO and TRACE (used
// for bill-of-materials entries); an unknown word is MEDIUM.
func severity(s string) v1.Severity {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "CRITICAL":
		return v1.Severity_SEVERITY_CRITICAL
	case "HIGH":
		return v1.Severity_SEVERITY_HIGH
	case "MEDIUM":
		return v1.Severity_SEVERITY_MEDIUM
	case "LOW":
		return v1.Severity_SEVERITY_LOW
	case "INFO", "TRACE":
		return v1.Severity_SEVERITY_INFO
	default:
		return v1.Severity_SEVERITY_MEDIUM
	}
}

func description(q *query, f *file) string {
	var parts []string
	if q.Description != "" {
		parts = append(parts, q.Description)
	}
	if f.ExpectedValue != "" {
		parts = append(parts, "Expected: "+f.ExpectedValue)
	}
	if f.ActualValue != "" {
		parts = append(parts, "Actual: "+f.ActualValue)
	}
	if f.Remediation != "" {
		parts = append(parts, "Remediation: "+f.Remediation)
	}
	return strings.Join(parts, "\n")
}

// isSecret reports whether q is one of KICS's secret-detection queries.
func isSecret(q *query) bool {
	return q.Category == "Secret Management" || strings.HasPrefix(q.Name, "Passwords And Secrets")
}

// redactSecret keeps a secret query's matched value out of the issue.
// KICS's JSON names the rule and line, not the secret, but a report may
// carry the match in "value"; it is then the issue's fingerprint and is
// redacted wherever it shows.
func redactSecret(iss *v1.Issue, f *file) {
	if f.Value == nil || *f.Value == "" {
		return
	}
	secret := *f.Value
	iss.Fingerprint = producers.SecretFingerprint(secret)
	iss.Title = producers.RedactIn(iss.Title, secret)
	iss.Description = producers.RedactIn(iss.Description, secret)
	iss.Target = producers.RedactIn(iss.Target, secret)
	for k, v := range iss.Annotations {
		iss.Annotations[k] = producers.RedactIn(v, secret)
	}
}
