package gitlab

import (
	"fmt"
	"strings"

	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// The security report format (GitLab's security-report-schemas).

type securityReport struct {
	Version         string          `json:"version"`
	Scan            scanInfo        `json:"scan"`
	Vulnerabilities []vulnerability `json:"vulnerabilities"`
	// Dependency scanning schemas before 15.1 require it; Dracon lists
	// no dependency files (the SBOM is the cyclonedx report).
	DependencyFiles *[]struct{} `json:"dependency_files,omitempty"`
}

type scanInfo struct {
	Analyzer  tool      `json:"analyzer"`
	Scanner   tool      `json:"scanner"`
	Type      string    `json:"type"`
	Status    string    `json:"status"`
	StartTime string    `json:"start_time"`
	EndTime   string    `json:"end_time"`
	Messages  []message `json:"messages,omitempty"`
}

type tool struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	URL     string `json:"url,omitempty"`
	Version string `json:"version"`
	Vendor  vendor `json:"vendor"`
}

type vendor struct {
	Name string `json:"name"`
}

type message struct {
	Level string `json:"level"`
	Value string `json:"value"`
}

type vulnerability struct {
	ID          string                 `json:"id"`
	Name        string                 `json:"name,omitempty"`
	Description string                 `json:"description,omitempty"`
	Severity    string                 `json:"severity"`
	Solution    string                 `json:"solution,omitempty"`
	Identifiers []identifier           `json:"identifiers"`
	CVSSVectors []cvssVector           `json:"cvss_vectors,omitempty"`
	Links       []link                 `json:"links,omitempty"`
	Details     map[string]detailField `json:"details,omitempty"`
	Tracking    *tracking              `json:"tracking,omitempty"`
	Location    location               `json:"location"`
}

type link struct {
	Name string `json:"name,omitempty"`
	URL  string `json:"url"`
}

// detailField is a "text" entry of details' named list.
type detailField struct {
	Name  string `json:"name"`
	Type  string `json:"type"`
	Value string `json:"value"`
}

type tracking struct {
	Type  string         `json:"type"`
	Items []trackingItem `json:"items"`
}

type trackingItem struct {
	File       string      `json:"file,omitempty"`
	StartLine  int32       `json:"start_line,omitempty"`
	EndLine    int32       `json:"end_line,omitempty"`
	Signatures []signature `json:"signatures"`
}

type signature struct {
	Algorithm string `json:"algorithm"`
	Value     string `json:"value"`
}

// location holds every report type's fields; each report sets its own.
type location struct {
	File            string      `json:"file,omitempty"`
	StartLine       int32       `json:"start_line,omitempty"`
	EndLine         int32       `json:"end_line,omitempty"`
	Commit          *commit     `json:"commit,omitempty"`
	Dependency      *dependency `json:"dependency,omitempty"`
	OperatingSystem string      `json:"operating_system,omitempty"`
	Image           string      `json:"image,omitempty"`
}

type commit struct {
	SHA string `json:"sha"`
}

type dependency struct {
	Package struct {
		Name string `json:"name"`
	} `json:"package"`
	Version string `json:"version"`
}

// Field limits of the 15.x schemas.
const (
	maxName        = 255
	maxDescription = 1 << 20
	maxSolution    = 7000
	maxLinks       = 20
)

// securityReport builds one security report.
func (p *plan) securityReport(report string) ([]byte, int, error) {
	doc := securityReport{
		Version:         firstNonEmpty(p.c.SchemaVersion, SchemaVersion),
		Scan:            p.scanOf(report),
		Vulnerabilities: []vulnerability{},
	}
	if report == DependencyScanning {
		doc.DependencyFiles = &[]struct{}{}
	}
	for _, f := range p.byReport[report] {
		doc.Vulnerabilities = append(doc.Vulnerabilities, p.vulnerability(report, f))
	}
	data, err := encode(doc)
	return data, len(doc.Vulnerabilities), err
}

const (
	draconURL    = "https://github.com/draconsec/dracon"
	draconName   = "Dracon"
	draconID     = "dracon"
	unknownValue = "unknown"
)

// scanOf is a report's scan: Dracon is the analyzer; the scanner is the
// one tool behind the report when there is one, else Dracon. It failed
// when every producer behind it failed; each failed producer is a warning.
func (p *plan) scanOf(report string) scanInfo {
	version := firstNonEmpty(p.c.Version, "dev")
	analyzer := tool{ID: draconID, Name: draconName, URL: draconURL, Version: version, Vendor: vendor{Name: draconName}}
	tools := map[string]bool{}
	var msgs []message
	ran, failed := 0, 0
	for _, ps := range p.producers {
		if !contains(reportsOfKind(ps), report) {
			continue
		}
		switch ps.Status {
		case "failed":
			failed++
			msgs = append(msgs, message{Level: "warn", Value: truncate(fmt.Sprintf("%s failed: %s",
				firstNonEmpty(ps.Name, "a producer"), firstNonEmpty(ps.Reason, "no reason given")), 4000)})
		case "skipped":
			msgs = append(msgs, message{Level: "info", Value: truncate(fmt.Sprintf("%s was skipped: %s",
				firstNonEmpty(ps.Name, "a producer"), firstNonEmpty(ps.Reason, "no reason given")), 4000)})
			continue
		default:
			ran++
		}
		if n := strings.TrimSpace(ps.Name); n != "" {
			tools[n] = true
		}
	}
	for _, f := range p.byReport[report] {
		tools[f.tool] = true
	}
	if l := p.left[report]; l != nil && (l.suppressed > 0 || l.duplicates > 0) {
		var parts []string
		if l.suppressed > 0 {
			parts = append(parts, fmt.Sprintf("%d suppressed in Dracon", l.suppressed))
		}
		if l.duplicates > 0 {
			parts = append(parts, fmt.Sprintf("%d reported by another tool too (its finding lists both)", l.duplicates))
		}
		msgs = append(msgs, message{Level: "info", Value: "Findings left out: " + strings.Join(parts, "; ") + "."})
	}
	scanner := analyzer
	scanner.URL = ""
	if names := sortedKeys(tools); len(names) == 1 {
		t := names[0]
		scanner = tool{ID: safeName(t), Name: t, Version: p.toolVersion(t), Vendor: vendor{Name: vendorOf(t)}}
	}
	status := "success"
	if failed > 0 && ran == 0 && len(p.byReport[report]) == 0 {
		status = "failure"
	}
	return scanInfo{Analyzer: analyzer, Scanner: scanner, Type: report, Status: status,
		StartTime: gitlabTime(p.start), EndTime: gitlabTime(p.end), Messages: msgs}
}

func (p *plan) toolVersion(t string) string {
	for _, ps := range p.producers {
		if ps.Name == t && strings.TrimSpace(ps.Version) != "" {
			return strings.TrimSpace(ps.Version)
		}
	}
	return firstNonEmpty(p.versions[t], unknownValue)
}

// vulnerability is one finding in a security report.
func (p *plan) vulnerability(report string, f *finding) vulnerability {
	is := f.is
	v := vulnerability{
		ID:          vulnID(report, f.key),
		Name:        truncate(oneLine(firstNonEmpty(is.GetTitle(), is.GetRuleId(), is.GetType(), "Finding")), maxName),
		Severity:    severityName(is.GetSeverity()),
		Identifiers: identifiers(f),
	}
	desc := firstNonEmpty(is.GetDescription(), is.GetTitle())
	if t := describeTools(f); t != "" {
		desc = firstNonEmpty(desc+"\n\n"+t, t)
	}
	v.Description = truncate(desc, maxDescription)
	v.Links = links(is.GetReferences(), v.Identifiers)
	v.Details = details(f)
	path := is.GetLocation().GetPath()
	start, end := is.GetLocation().GetStartLine(), is.GetLocation().GetEndLine()
	if start < 0 {
		start = 0
	}
	if end < start {
		end = start
	}
	switch report {
	case SAST, SecretDetection:
		file := firstNonEmpty(path, targetFile(is.GetTarget()))
		v.Location = location{File: file, StartLine: start, EndLine: end}
		if report == SecretDetection {
			// The secret's value is never written: not the snippet, not
			// an annotation; only what the parser kept (redacted).
			v.Location.Commit = &commit{SHA: p.commitOf(is)}
		}
		if file != "" {
			// Line-independent identity for GitLab's advanced tracking.
			v.Tracking = &tracking{Type: "source", Items: []trackingItem{{File: file, StartLine: start, EndLine: end,
				Signatures: []signature{{Algorithm: "hash", Value: f.sig}}}}}
		}
	case DependencyScanning, ContainerScanning:
		name, version := packageOf(is)
		dep := &dependency{Version: version}
		dep.Package.Name = name
		v.Location = location{Dependency: dep}
		if report == DependencyScanning {
			v.Location.File = firstNonEmpty(path, manifestFallback(is))
		} else {
			v.Location.Image, v.Location.OperatingSystem = f.image, f.os
		}
		if fix := strings.TrimSpace(is.GetFixedVersion()); fix != "" {
			v.Solution = truncate(fmt.Sprintf("Upgrade %s to version %s or later.", name, fix), maxSolution)
		}
		v.CVSSVectors = cvssVectors(f)
	}
	return v
}

// manifestFallback names a dependency finding's file when its tool gave
// none (a BOM's vulnerabilities): the package without its version, which
// keeps GitLab's location fingerprint (file and package) stable.
func manifestFallback(is *v1.Issue) string {
	_, name, _ := purlParts(is.GetPackageUrl())
	if typ := purlType(is.GetPackageUrl()); typ != "" {
		return "pkg:" + typ + "/" + name
	}
	return firstNonEmpty(name, unknownValue)
}

// targetFile is the file of a "path:12-14" target.
func targetFile(t string) string {
	if i := strings.LastIndexByte(t, ':'); i > 0 && strings.Trim(t[i+1:], "0123456789-") == "" {
		return t[:i]
	}
	return t
}

// links are the references GitLab's schema takes, without the ones the
// identifiers already link to.
func links(refs []string, ids []identifier) []link {
	have := map[string]bool{}
	for _, id := range ids {
		have[id.URL] = true
	}
	var out []link
	for _, r := range refs {
		u := validURL(r)
		if u == "" || have[u] || len(out) >= maxLinks {
			continue
		}
		have[u] = true
		out = append(out, link{URL: u})
	}
	return out
}

// details show what else Dracon knows: the tools, the confidence, the
// package URL.
func details(f *finding) map[string]detailField {
	out := map[string]detailField{}
	add := func(key, name, value string) {
		if value = strings.TrimSpace(value); value != "" {
			out[key] = detailField{Name: name, Type: "text", Value: value}
		}
	}
	add("dracon_tools", "Reported by", toolList(f))
	if c := f.is.GetConfidence(); c != 0 {
		add("dracon_confidence", "Confidence", strings.ToLower(strings.TrimPrefix(c.String(), "CONFIDENCE_")))
	}
	if f.report == DependencyScanning || f.report == ContainerScanning {
		add("dracon_package_url", "Package URL", f.is.GetPackageUrl())
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
