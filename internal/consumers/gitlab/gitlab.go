// Package gitlab writes findings as the reports GitLab ingests from a CI
// job's artifacts: the security reports (sast, dependency_scanning,
// secret_detection, container_scanning) in GitLab's security report
// format, version SchemaVersion; a CycloneDX bill of materials per SBOM
// producer (cyclonedx); and, always, a Code Quality report (codequality),
// the one view GitLab's Free tier shows in a merge request.
//
// Each finding goes to one security report, by its producer's kind and
// its signature: secrets (secret/v1, or a secrets producer) to
// secret_detection; dependency findings (dep/v1, a package URL, or an SCA
// producer) to dependency_scanning, or to container_scanning when they
// are a scan of an image (the producer scanned one, trivy's "os-pkgs"
// class, grype's OS packages); SAST and IaC findings to sast. DAST
// findings and licence findings go to Code Quality only. Every finding
// goes to Code Quality.
//
// A finding another tool's report stands for (duplicate_of) is left out:
// the report that stands for it names every tool that saw it. Suppressed
// findings are left out too: a report has no state for a triaged finding,
// so GitLab would show one as a new, untriaged vulnerability; left out, it
// is "no longer detected", as for Dracon it is. Each report's scan
// messages count what was left out.
package gitlab

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/draconsec/dracon/internal/consumers"
	"github.com/draconsec/dracon/internal/fingerprint"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
	"github.com/google/uuid"
)

// SchemaVersion is the security report schema version the reports
// declare: the newest that every GitLab whose report-schemas gem ends at
// 15.2.1 or later (gitlab-security_report_schemas 0.1.2 and 0.1.3)
// validates against exactly. testdata/schemas holds it.
const SchemaVersion = "15.2.1"

// Report types, as artifacts:reports names them.
const (
	SAST               = "sast"
	DependencyScanning = "dependency_scanning"
	SecretDetection    = "secret_detection"
	ContainerScanning  = "container_scanning"
	CycloneDX          = "cyclonedx"
	CodeQuality        = "codequality"
)

// AllReports lists every report type, in the order they are written.
var AllReports = []string{SAST, DependencyScanning, SecretDetection, ContainerScanning, CycloneDX, CodeQuality}

// securityReports are the reports in GitLab's security report format.
var securityReports = []string{SAST, DependencyScanning, SecretDetection, ContainerScanning}

// FileName is the file GitLab's own analyzers write for a report type
// (cyclonedx: gl-sbom-<tool>.cdx.json, one per tool).
func FileName(report string) string {
	switch report {
	case SAST:
		return "gl-sast-report.json"
	case DependencyScanning:
		return "gl-dependency-scanning-report.json"
	case SecretDetection:
		return "gl-secret-detection-report.json"
	case ContainerScanning:
		return "gl-container-scanning-report.json"
	case CodeQuality:
		return "gl-code-quality-report.json"
	}
	return ""
}

// SBOMFileName is the CycloneDX file of one tool's bill of materials.
func SBOMFileName(tool string) string {
	return "gl-sbom-" + safeName(tool) + ".cdx.json"
}

// Producer kinds, as internal/producers names them (a consumer knows no
// producer package).
const (
	KindSAST    = "SAST"
	KindSCA     = "SCA"
	KindIaC     = "IaC"
	KindSecrets = "secrets"
	KindDAST    = "DAST"
	KindSBOM    = "SBOM"
	KindGeneric = "generic"
)

// ProducerStatus is what the pipeline knows of one producer's run.
type ProducerStatus struct {
	// Name is the producer's name, as the results' tool_name has it.
	Name string
	// Kind is producers.Kind as a string ("SAST", "SCA", "IaC",
	// "secrets", "DAST", "SBOM", "generic").
	Kind string
	// Status is produce.Status: "ok", "failed" or "skipped".
	Status string
	// Version of the scanner, when known.
	Version string
	// Start and End of its run.
	Start, End time.Time
	// Reason it failed or was skipped.
	Reason string
	// Image is the container image it scanned ("registry/app:tag"), for an
	// image scan (trivy image, grype on an image): its dependency findings
	// then go to the container scanning report with this image.
	Image string
}

// Consumer writes GitLab reports into Dir.
type Consumer struct {
	// Dir is the folder the reports are written in: the CI job's project
	// folder, or one below it, as artifacts:reports names them.
	Dir string
	// Reports are the report types to write (AllReports' names); empty:
	// Code Quality always, and each other report that a producer that
	// ran or a finding calls for. A report named here is written even
	// when empty.
	Reports []string
	// Version is Dracon's version: the reports' analyzer version.
	Version string
	// Producers are the producers of the run, for each report's scanner,
	// times, status and messages, and for routing (Kind, Image). A
	// producer not listed is known by its findings only.
	Producers []ProducerStatus
	// Commit is the scanned commit (CI_COMMIT_SHA), for secrets whose
	// tool names none; empty: the scan's "commit" tag.
	Commit string
	// SchemaVersion overrides the declared security report schema
	// version; empty: SchemaVersion.
	SchemaVersion string
	// Written, if set, gets the reports written, also when Consume fails.
	Written func([]Written)
}

// Written is one report file written.
type Written struct {
	Report   string // report type
	Path     string
	Findings int // vulnerabilities, Code Quality entries or BOM components
}

func (c Consumer) String() string { return "gitlab" }

// Consume implements consumers.Consumer.
func (c Consumer) Consume(ctx context.Context, scan *v1.ScanInfo, results []*v1.EnrichedLaunchToolResponse) error {
	w, err := c.Write(ctx, scan, results)
	if c.Written != nil {
		c.Written(w)
	}
	return err
}

// Write writes the reports and says which it wrote.
func (c Consumer) Write(ctx context.Context, scan *v1.ScanInfo, results []*v1.EnrichedLaunchToolResponse) ([]Written, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	files, buildErr := c.Build(scan, results)
	if buildErr != nil && len(files) == 0 {
		return nil, buildErr
	}
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return nil, err
	}
	var out []Written
	for _, f := range files {
		path := filepath.Join(c.Dir, f.Name)
		if err := os.WriteFile(path, f.Data, 0o644); err != nil {
			return out, fmt.Errorf("gitlab: %w", err)
		}
		out = append(out, Written{Report: f.Report, Path: path, Findings: f.Findings})
	}
	return out, buildErr
}

// File is one report, built.
type File struct {
	Report   string
	Name     string
	Data     []byte
	Findings int
}

// Build makes the report files without writing them. A bill of
// materials that cannot be read is an error, returned with every other
// file.
func (c Consumer) Build(scan *v1.ScanInfo, results []*v1.EnrichedLaunchToolResponse) ([]File, error) {
	want := map[string]bool{}
	explicit := len(c.Reports) > 0
	for _, r := range c.Reports {
		r = strings.ToLower(strings.TrimSpace(r))
		if r == "" {
			continue
		}
		if !contains(AllReports, r) {
			return nil, fmt.Errorf("gitlab: unknown report %q (known: %s)", r, strings.Join(AllReports, ", "))
		}
		want[r] = true
	}
	if !explicit {
		for _, r := range AllReports {
			want[r] = true
		}
	}
	p := c.plan(scan, results)
	var files []File
	for _, r := range securityReports {
		if !want[r] || (!explicit && !p.covered[r]) {
			continue
		}
		data, n, err := p.securityReport(r)
		if err != nil {
			return nil, err
		}
		files = append(files, File{Report: r, Name: FileName(r), Data: data, Findings: n})
	}
	var bomErr error
	if want[CycloneDX] {
		// A BOM that cannot be read is left out, and said; the other
		// reports are written all the same.
		var boms []File
		boms, bomErr = p.boms(explicit)
		files = append(files, boms...)
	}
	if want[CodeQuality] {
		data, n, err := p.codeQuality()
		if err != nil {
			return nil, err
		}
		files = append(files, File{Report: CodeQuality, Name: FileName(CodeQuality), Data: data, Findings: n})
	}
	return files, bomErr
}

// finding is one enriched issue with what the reports need of it.
type finding struct {
	tool     string // the issue's tool
	producer string // the response's producer
	ei       *v1.EnrichedIssue
	is       *v1.Issue
	ps       *ProducerStatus
	report   string // the security report it goes to; "" for none
	key      string // its identity: hash, unique in the scan
	sig      string // its best line-independent signature
	image    string // container scanning: image and operating system
	os       string
}

// plan is one scan's findings, routed.
type plan struct {
	c         Consumer
	scan      *v1.ScanInfo
	findings  []*finding // kept, in consumers.Flatten's order
	byReport  map[string][]*finding
	covered   map[string]bool // a producer that ran, or a finding, calls for it
	left      map[string]*leftOut
	producers []*ProducerStatus
	versions  map[string]string // tool -> version the results name
	sboms     []*finding        // the issues that carry a BOM
	start     time.Time
	end       time.Time
}

type leftOut struct{ duplicates, suppressed int }

func (c Consumer) plan(scan *v1.ScanInfo, results []*v1.EnrichedLaunchToolResponse) *plan {
	p := &plan{c: c, scan: scan, byReport: map[string][]*finding{}, covered: map[string]bool{},
		left: map[string]*leftOut{}, versions: map[string]string{}}
	status := map[string]*ProducerStatus{}
	for i := range c.Producers {
		ps := &c.Producers[i]
		p.producers = append(p.producers, ps)
		status[ps.Name] = ps
	}
	// Which response each issue came in, for its producer.
	producerOf := map[*v1.EnrichedIssue]string{}
	for _, r := range results {
		tool := r.GetOriginalResults().GetToolName()
		if v := r.GetOriginalResults().GetToolVersion(); v != "" && p.versions[tool] == "" {
			p.versions[tool] = v
		}
		for _, ei := range r.GetIssues() {
			producerOf[ei] = tool
		}
	}
	all := consumers.Flatten(results)
	// The representatives' reports, so a duplicate is left out only when
	// the finding that stands for it is written.
	reps := map[string]string{}
	var routed []*finding
	seen := map[string]int{}
	for _, f := range all {
		is := f.Issue.GetRawIssue()
		if is == nil {
			is = &v1.Issue{}
		}
		fd := &finding{tool: f.Tool, producer: producerOf[f.Issue], ei: f.Issue, is: is}
		if fd.producer == "" {
			fd.producer = fd.tool
		}
		fd.ps = status[fd.producer]
		if fd.ps == nil {
			fd.ps = status[fd.tool]
		}
		fd.tool = firstNonEmpty(fd.tool, fd.producer, unknownValue)
		if v := is.GetToolVersion(); v != "" && p.versions[fd.tool] == "" {
			p.versions[fd.tool] = v
		}
		if isSBOM(is) {
			p.sboms = append(p.sboms, fd)
			continue
		}
		fd.report = route(fd)
		if fd.report == ContainerScanning {
			fd.image, fd.os = imageOf(fd)
		}
		fd.sig = bestSignature(f.Issue)
		key := f.Issue.GetHash()
		if key == "" {
			key = fd.sig
		}
		// Equal hashes are rare (the occurrence index tells code findings
		// apart); the nth repeat gets its rank, so ids stay unique and
		// stable.
		if n := seen[key]; n > 0 {
			seen[key] = n + 1
			key = fmt.Sprintf("%s#%d", key, n)
		} else {
			seen[key] = 1
		}
		fd.key = key
		if f.Issue.GetDuplicateOf() == "" {
			reps[f.Issue.GetHash()] = fd.report
		}
		routed = append(routed, fd)
	}
	for _, fd := range routed {
		if fd.report != "" {
			// Written even when all its findings are left out: the scan
			// ran, and found nothing to show.
			p.covered[fd.report] = true
		}
		left := p.leftOut(fd.report)
		if fd.ei.GetSuppressed() {
			left.suppressed++
			continue
		}
		if d := fd.ei.GetDuplicateOf(); d != "" {
			if _, ok := reps[d]; ok {
				left.duplicates++
				continue
			}
		}
		p.findings = append(p.findings, fd)
		if fd.report != "" {
			p.byReport[fd.report] = append(p.byReport[fd.report], fd)
		}
	}
	for _, ps := range p.producers {
		if ps.Status == "skipped" {
			continue
		}
		for _, r := range reportsOfKind(ps) {
			p.covered[r] = true
		}
	}
	p.start, p.end = p.times()
	return p
}

func (p *plan) leftOut(report string) *leftOut {
	l := p.left[report]
	if l == nil {
		l = &leftOut{}
		p.left[report] = l
	}
	return l
}

// times is the scan's start (the earliest producer's, else the scan's)
// and end (the latest producer's, else the start).
func (p *plan) times() (time.Time, time.Time) {
	var start, end time.Time
	for _, ps := range p.producers {
		if !ps.Start.IsZero() && (start.IsZero() || ps.Start.Before(start)) {
			start = ps.Start
		}
		if ps.End.After(end) {
			end = ps.End
		}
	}
	if t := p.scan.GetScanStartTime(); t != nil && t.IsValid() {
		if s := t.AsTime(); start.IsZero() || s.Before(start) {
			start = s
		}
	}
	if start.IsZero() {
		start = time.Now()
	}
	if end.Before(start) {
		end = start
	}
	return start, end
}

// reportsOfKind are the security reports a producer's kind writes to.
func reportsOfKind(ps *ProducerStatus) []string {
	switch ps.Kind {
	case KindSAST, KindIaC:
		return []string{SAST}
	case KindSCA:
		if ps.Image != "" {
			return []string{ContainerScanning}
		}
		return []string{DependencyScanning}
	case KindSecrets:
		return []string{SecretDetection}
	}
	return nil
}

// isSBOM: the one issue of an SBOM producer that carries the BOM itself.
func isSBOM(is *v1.Issue) bool {
	return is.CycloneDXSBOM != nil && is.GetPackageUrl() == ""
}

// route picks the security report of a finding; "" for Code Quality only.
func route(f *finding) string {
	is, sigs := f.is, f.ei.GetSignatures()
	kind := ""
	if f.ps != nil {
		kind = f.ps.Kind
	}
	has := func(alg string) bool { return sigs[alg] != "" }
	switch {
	case is.GetType() == "license" || strings.HasPrefix(is.GetRuleId(), "license:"):
		return "" // a licence is not a vulnerability
	case has(fingerprint.SecretV1) || strings.HasPrefix(is.GetFingerprint(), "sha256:") || kind == KindSecrets:
		return SecretDetection
	case has(fingerprint.DepV1) || is.GetPackageUrl() != "" || is.GetPackageVersion() != "" || kind == KindSCA:
		if img, _ := imageOf(f); img != "" {
			return ContainerScanning
		}
		return DependencyScanning
	case has(fingerprint.DastV1) || kind == KindDAST || kind == KindSBOM:
		return ""
	}
	return SAST
}

// bestSignature is the finding's best line-independent signature
// (docs/fingerprints.md), else its hash, else the pre-signature hash.
func bestSignature(ei *v1.EnrichedIssue) string {
	for _, alg := range fingerprint.Algorithms {
		if v := ei.GetSignatures()[alg]; v != "" {
			return v
		}
	}
	if h := ei.GetHash(); h != "" {
		return h
	}
	return fingerprint.LegacyHash(ei.GetRawIssue())
}

// namespace is the UUID namespace of the reports' vulnerability ids.
var namespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://github.com/draconsec/dracon/gitlab"))

// vulnID is a finding's id: a UUID v5 of its report and identity, the
// same in every scan that sees the finding.
func vulnID(report, key string) string {
	return uuid.NewSHA1(namespace, []byte(report+"\x00"+key)).String()
}

// gitlabTime is how GitLab's schemas want a time: UTC, no zone, no fraction.
func gitlabTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05")
}

// encode writes v as indented JSON ending in a newline, with no HTML
// escaping.
func encode(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("gitlab: %w", err)
	}
	return b.Bytes(), nil
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// safeName keeps a tool's name to what a file name and an identifier type
// hold: lower case letters, digits, "-" and "_".
func safeName(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(s)) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "dracon"
	}
	return b.String()
}

// truncate cuts s to at most n code points (what JSON Schema's maxLength
// counts), ending in "…" when cut.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			return s
		}
	}
	return ""
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
