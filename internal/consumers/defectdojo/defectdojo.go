// Package defectdojo sends findings to DefectDojo through its
// reimport-scan API: one test per producer, in one engagement per branch
// (or per scan, as Dracon's consumer made them), in a product named after
// the repository. Findings travel in DefectDojo's Generic Findings Import
// JSON, each with the finding's stable id as unique_id_from_tool, so a
// reimport matches what an earlier one sent: sent again, nothing is
// created twice, and a finding gone from a full scan is closed.
package defectdojo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/draconsec/dracon/internal/config"
	"github.com/draconsec/dracon/internal/consumers"
	"github.com/draconsec/dracon/internal/consumers/tmpl"
	"github.com/draconsec/dracon/internal/policy"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// Environment variables read when the config leaves a key unset.
const (
	EnvURL   = "DRACON_DEFECTDOJO_URL"
	EnvToken = "DRACON_DEFECTDOJO_TOKEN"
)

// DefaultProductType is the product type a missing product is created in.
const DefaultProductType = "Dracon"

// Consumer reimports findings into DefectDojo.
type Consumer struct {
	cfg    *config.DefectDojo
	env    consumers.Env
	base   string
	token  string
	desc   *tmpl.Template // nil: Dracon's Markdown description
	client *client
}

// New builds the consumer. It needs DefectDojo's address and an API
// token (the config's keys or their environment variables); built for a
// dry run (env.DryRun), it needs neither.
func New(cfg *config.DefectDojo, env consumers.Env) (*Consumer, error) {
	return build(cfg, env, env.DryRun)
}

// NewDryRun builds the consumer for a dry run: without an address or a
// token it still shows every request it would make.
func NewDryRun(cfg *config.DefectDojo, env consumers.Env) (*Consumer, error) {
	return build(cfg, env, true)
}

func build(cfg *config.DefectDojo, env consumers.Env, dryRun bool) (*Consumer, error) {
	getenv := env.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	raw := firstNonEmpty(cfg.URL, getenv(EnvURL))
	var base string
	switch {
	case raw == "" && !dryRun:
		return nil, errNoURL
	case raw != "":
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("defectdojo: %q is not DefectDojo's address (https://defectdojo.example.com)", raw)
		}
		// The address may be given with the API's path; requests add it.
		base = strings.TrimSuffix(strings.TrimSuffix(strings.TrimRight(raw, "/"), "/api/v2"), "/")
	}
	token, err := env.Secret(cfg.Token, EnvToken)
	if err != nil {
		return nil, fmt.Errorf("defectdojo: consumers.defectdojo.token: %w", err)
	}
	if token == "" && !dryRun {
		return nil, errNoToken
	}
	c := &Consumer{cfg: cfg, env: env, base: base, token: token}
	if cfg.DescriptionTemplate != "" {
		if c.desc, err = tmpl.Parse("consumers.defectdojo.description_template", cfg.DescriptionTemplate); err != nil {
			return nil, fmt.Errorf("defectdojo: %w", err)
		}
	}
	c.client = &client{base: base, token: token, http: env.HTTPClient("defectdojo"), userAgent: "dracon/" + firstNonEmpty(env.Version, "dev")}
	return c, nil
}

// errNoURL and errNoToken say where the address and the token go.
var (
	errNoURL   = fmt.Errorf("defectdojo: no address: set consumers.defectdojo.url or %s (https://defectdojo.example.com)", EnvURL)
	errNoToken = fmt.Errorf("defectdojo: no API token: set consumers.defectdojo.token (env:NAME or file:PATH) or %s", EnvToken)
)

// String is the config key.
func (c *Consumer) String() string { return "defectdojo" }

// target is where a run's tests go.
type target struct {
	product, productType, engagement string
	closeOld                         bool
	branch, commit, build, scm       string
	testTags                         []string
}

// target works out the product, engagement and reimport options from the
// config and the scan's tags.
func (c *Consumer) target(run *consumers.Run) (target, error) {
	tags := run.Scan.GetScanTags()
	t := target{
		product:     firstNonEmpty(c.cfg.ProductName, tags["repository"]),
		productType: firstNonEmpty(c.cfg.ProductTypeName, DefaultProductType),
		branch:      consumers.ShortRef(tags["ref"]),
		commit:      tags["commit"],
		build:       run.Scan.GetScanUuid(),
	}
	if t.product == "" {
		return t, errors.New("defectdojo: no product: set consumers.defectdojo.product_name (the scan has no repository tag to name it after)")
	}
	switch {
	case c.cfg.EngagementPerScan:
		// Dracon's consumer: an engagement per scan, named by its id.
		if t.build == "" {
			return t, errors.New("defectdojo: engagement_per_scan names engagements by the scan's id, and this scan has none")
		}
		t.engagement = t.build
	case c.cfg.EngagementName != "":
		t.engagement = c.cfg.EngagementName
	case t.branch != "":
		t.engagement = "Dracon " + t.branch
	default:
		t.engagement = "Dracon"
	}
	// A pull request's scan reports the change's findings only: what it
	// left out is not fixed, so it closes nothing unless told to. Nor does
	// a filter on what changes from run to run (new findings, a status, a
	// policy result): a finding it leaves out this time is not gone.
	pullRequest := policy.NormalizeEvent(tags["event"], tags["ref"]) == policy.EventPullRequest
	f := c.cfg.Filter
	partial := f.NewOnly || len(f.Status) > 0 || len(f.Policy) > 0
	t.closeOld = !pullRequest && !partial
	if c.cfg.CloseOldFindings != nil {
		t.closeOld = *c.cfg.CloseOldFindings
	}
	if server, repo := tags["server_url"], tags["repository"]; server != "" && repo != "" {
		t.scm = strings.TrimRight(server, "/") + "/" + repo
	}
	// Dracon's tags (DraconScan, EnrichedTest, the scan's id); a reimport
	// replaces the test's tags, so they say which scan sent it last.
	t.testTags = []string{"DraconScan", "EnrichedTest"}
	if t.build != "" {
		t.testTags = append(t.testTags, t.build)
	}
	t.testTags = append(t.testTags, c.cfg.Tags...)
	return t, nil
}

// group is one producer's findings: one test, one reimport.
type group struct {
	tool, version string
	findings      []consumers.Finding
	// failed: the producer did not finish (its summary line is not ok),
	// so what it did not report is not gone.
	failed bool
}

// groups sorts the findings by producer, in the run's order. A producer
// that ran cleanly is there even with no finding left, so its reimport
// closes what it no longer finds; one that failed or was skipped is not
// (its silence says nothing), nor one the filter's tools leave out, nor
// an SBOM producer (a bill of materials is no finding: the
// dependency_track consumer sends it). What a failed producer did report
// is sent, closing nothing.
func (c *Consumer) groups(run *consumers.Run, findings []consumers.Finding) []group {
	var out []group
	at := map[string]int{}
	add := func(tool, version string) int {
		if i, ok := at[tool]; ok {
			if out[i].version == "" {
				out[i].version = version
			}
			return i
		}
		at[tool] = len(out)
		out = append(out, group{tool: tool, version: version})
		return len(out) - 1
	}
	failed := map[string]bool{}
	if run.Summary != nil {
		for _, p := range run.Summary.Producers {
			if p.Status != "ok" {
				failed[p.Name] = true
			}
		}
	}
	for _, r := range run.Results {
		tool := r.GetOriginalResults().GetToolName()
		if tool == "" || failed[tool] || !c.toolWanted(tool) || onlySBOMs(r) {
			continue
		}
		add(tool, r.GetOriginalResults().GetToolVersion())
	}
	for _, f := range findings {
		if isSBOM(f.Issue.GetRawIssue()) {
			continue
		}
		i := add(f.Tool, f.Issue.GetRawIssue().GetToolVersion())
		out[i].findings = append(out[i].findings, f)
		out[i].failed = failed[f.Tool]
	}
	return out
}

// toolWanted says whether the filter's tools (if any) name tool.
func (c *Consumer) toolWanted(tool string) bool {
	if len(c.cfg.Filter.Tools) == 0 {
		return true
	}
	for _, t := range c.cfg.Filter.Tools {
		if strings.EqualFold(t, tool) {
			return true
		}
	}
	return false
}

// isSBOM is the issue that carries a producer's bill of materials (as
// the GitLab consumer tells it).
func isSBOM(is *v1.Issue) bool { return is.CycloneDXSBOM != nil && is.GetPackageUrl() == "" }

func onlySBOMs(r *v1.EnrichedLaunchToolResponse) bool {
	if len(r.GetIssues()) == 0 {
		return false
	}
	for _, is := range r.GetIssues() {
		if !isSBOM(is.GetRawIssue()) {
			return false
		}
	}
	return true
}

// Publish reimports each producer's findings into its test.
func (c *Consumer) Publish(ctx context.Context, run *consumers.Run, findings []consumers.Finding) (consumers.Delivery, error) {
	var d consumers.Delivery
	t, err := c.target(run)
	if err != nil {
		return d, err
	}
	// Built for a dry run, and asked to send.
	if run.DryRun == nil && c.base == "" {
		return d, errNoURL
	}
	if run.DryRun == nil && c.token == "" {
		return d, errNoToken
	}
	for _, g := range c.groups(run, findings) {
		closeOld := t.closeOld && !g.failed
		if len(g.findings) == 0 && !closeOld {
			continue // an empty reimport that closes nothing changes nothing
		}
		file, sent, failed := c.document(run, g)
		d.Failed += len(failed)
		d.Errors = append(d.Errors, failed...)
		r := reimport{ProductName: t.product, ProductTypeName: t.productType, EngagementName: t.engagement, TestTitle: g.tool,
			DeduplicationOnEngagement: c.cfg.DeduplicationOnEngagement, CloseOldFindings: closeOld,
			Active: c.cfg.Active, Verified: c.cfg.Verified, Environment: c.cfg.Environment,
			BranchTag: t.branch, CommitHash: t.commit, BuildID: t.build, SCMURI: t.scm, Tags: t.testTags,
			FileName: fileName(g.tool), File: file}
		if run.DryRun != nil {
			c.dryRun(run, r, sent)
			d.Created += sent
			continue
		}
		res, err := c.client.reimport(ctx, r)
		if errors.Is(err, errAuth) {
			return d, fmt.Errorf("defectdojo: %w", err)
		}
		if err != nil {
			d.Failed += sent
			d.Errors = append(d.Errors, fmt.Sprintf("%s: reimport of %d findings into test %q of engagement %q failed: %v", g.tool, sent, g.tool, t.engagement, err))
			continue
		}
		c.count(&d, g.tool, sent, res)
	}
	return d, nil
}

// count adds what a reimport did to the delivery, from its statistics.
func (c *Consumer) count(d *consumers.Delivery, tool string, sent int, res *reimportResult) {
	s := res.Statistics
	var created, updated, unchanged, closed int
	switch {
	case s != nil && s.Delta != nil:
		created, updated, unchanged = s.Delta.Created.Total.Total, s.Delta.Reactivated.Total.Total, s.Delta.Untouched.Total.Total
		closed = s.Delta.Closed.Total.Total
	case s != nil && s.Before != nil && s.After != nil:
		// No import history (TRACK_IMPORT_HISTORY off): the totals say
		// how many were added; what else happened to the rest is not
		// told, so they count as brought up to date.
		created = max(0, s.After.Total.Total-s.Before.Total.Total)
		updated = max(0, sent-created)
	default:
		// A new test: everything in it is new.
		created = sent
		if s != nil && s.After != nil {
			created = s.After.Total.Total
		}
	}
	d.Created += created
	d.Updated += updated
	d.Unchanged += unchanged
	fmt.Fprintf(c.env.Log, "dracon: defectdojo: %s: test %d (engagement %d, product %d): %d created, %d reactivated, %d untouched, %d closed\n",
		tool, res.TestID, res.EngagementID, res.ProductID, created, updated, unchanged, closed)
}

// dryRun prints the request a reimport would make.
func (c *Consumer) dryRun(run *consumers.Run, r reimport, sent int) {
	w := run.DryRun
	fmt.Fprintf(w, "defectdojo: would reimport %d findings of %s: POST %s%s\n", sent, r.TestTitle, firstNonEmpty(c.base, "<consumers.defectdojo.url>"), reimportPath)
	for _, kv := range r.fields() {
		fmt.Fprintf(w, "  %s: %s\n", kv[0], kv[1])
	}
	fmt.Fprintf(w, "  file: %s (application/json, %d bytes):\n%s\n", r.FileName, len(r.File), r.File)
}

// fileName is the uploaded file's name: the generic parser reads JSON
// only from a name ending in .json.
func fileName(tool string) string {
	var b strings.Builder
	for _, r := range tool {
		if r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return firstNonEmpty(b.String(), "dracon") + ".json"
}

// report is a Generic Findings Import file
// (dojo/tools/generic/json_parser.py): the test's version and
// description, and its findings.
type report struct {
	Version     string           `json:"version,omitempty"`
	Description string           `json:"description,omitempty"`
	Findings    []genericFinding `json:"findings"`
}

// genericFinding holds only keys the generic parser has allowed since
// DefectDojo 2.19 (2023): a key it does not know fails the whole import.
type genericFinding struct {
	Title            string   `json:"title"`
	Description      string   `json:"description"`
	Severity         string   `json:"severity"`
	Date             string   `json:"date,omitempty"`
	CVE              string   `json:"cve,omitempty"`
	VulnerabilityIDs []string `json:"vulnerability_ids,omitempty"`
	CWE              int32    `json:"cwe,omitempty"`
	CVSSv3Score      float64  `json:"cvssv3_score,omitempty"`
	FilePath         string   `json:"file_path,omitempty"`
	Line             int32    `json:"line,omitempty"`
	ComponentName    string   `json:"component_name,omitempty"`
	ComponentVersion string   `json:"component_version,omitempty"`
	UniqueIDFromTool string   `json:"unique_id_from_tool"`
	VulnIDFromTool   string   `json:"vuln_id_from_tool,omitempty"`
	References       string   `json:"references,omitempty"`
	Mitigation       string   `json:"mitigation,omitempty"`
	StaticFinding    bool     `json:"static_finding"`
	DynamicFinding   bool     `json:"dynamic_finding"`
	Active           bool     `json:"active"`
	Verified         bool     `json:"verified"`
	FalseP           bool     `json:"false_p"`
	Tags             []string `json:"tags,omitempty"`
}

// DefectDojo's column sizes (dojo/finding/models.py): a longer value is
// refused by the database.
const (
	maxTitle            = 511
	maxCVE              = 50
	maxFilePath         = 4000
	maxComponentName    = 500
	maxComponentVersion = 100
	maxID               = 500
)

// document is a producer's Generic Findings Import file; sent counts the
// findings in it, failed says why others are not (a template that fails
// on them).
func (c *Consumer) document(run *consumers.Run, g group) (file []byte, sent int, failed []string) {
	rep := report{Version: g.version, Description: fmt.Sprintf("%s findings, sent by Dracon", g.tool), Findings: []genericFinding{}}
	for _, f := range g.findings {
		gf, err := c.finding(run, f)
		if err != nil {
			failed = append(failed, consumers.Errorf(f, "%v", err))
			continue
		}
		rep.Findings = append(rep.Findings, gf)
	}
	file, err := json.MarshalIndent(rep, "", "  ")
	if err != nil { // only strings, numbers and booleans: cannot fail
		panic(err)
	}
	return file, len(rep.Findings), failed
}

// finding is one finding in DefectDojo's generic format.
func (c *Consumer) finding(run *consumers.Run, f consumers.Finding) (genericFinding, error) {
	is := f.Issue
	raw := is.GetRawIssue()
	desc, err := c.description(run, f)
	if err != nil {
		return genericFinding{}, err
	}
	gf := genericFinding{
		Title:            clipRunes(firstNonEmpty(oneLine(raw.GetTitle()), raw.GetRuleId(), raw.GetType(), f.Tool+" finding"), maxTitle),
		Description:      desc,
		Severity:         severity(raw.GetSeverity()),
		UniqueIDFromTool: clipRunes(consumers.ID(is), maxID),
		VulnIDFromTool:   clipRunes(firstNonEmpty(raw.GetRuleId(), raw.GetType()), maxID),
		FilePath:         clipRunes(firstNonEmpty(raw.GetLocation().GetPath(), pathOf(raw.GetTarget())), maxFilePath),
		Line:             raw.GetLocation().GetStartLine(),
		CVSSv3Score:      raw.GetCvss(),
		StaticFinding:    true,
		Active:           !is.GetSuppressed(),
		FalseP:           is.GetFalsePositive(),
	}
	if t := is.GetFirstSeen(); t != nil {
		gf.Date = t.AsTime().UTC().Format(time.DateOnly)
	} else if t := run.Scan.GetScanStartTime(); t != nil {
		gf.Date = t.AsTime().UTC().Format(time.DateOnly)
	}
	if strings.HasPrefix(gf.FilePath, "http://") || strings.HasPrefix(gf.FilePath, "https://") {
		// A URL, not a file: a dynamic scanner's finding.
		gf.StaticFinding, gf.DynamicFinding = false, true
	}
	if len(raw.GetCwe()) > 0 && raw.GetCwe()[0] > 0 {
		gf.CWE = raw.GetCwe()[0]
	}
	// Before DefectDojo 2.35 a file with both cve and vulnerability_ids
	// nested the list inside the ids: send one or the other.
	var refs []string
	switch aliases := nonEmpty(raw.GetAliases()); {
	case raw.GetCve() != "" && len(raw.GetCve()) <= maxCVE:
		gf.CVE = raw.GetCve()
		if len(aliases) > 0 {
			refs = append(refs, "Aliases: "+strings.Join(aliases, ", "))
		}
	case len(aliases) > 0:
		gf.VulnerabilityIDs = aliases
	}
	if name, version := purl(raw.GetPackageUrl()); name != "" {
		gf.ComponentName = clipRunes(name, maxComponentName)
		gf.ComponentVersion = clipRunes(firstNonEmpty(version, raw.GetPackageVersion()), maxComponentVersion)
	}
	if fv := raw.GetFixedVersion(); fv != "" {
		gf.Mitigation = fmt.Sprintf("Upgrade %s to %s.", firstNonEmpty(gf.ComponentName, "the package"), fv)
	}
	refs = append(refs, nonEmpty(raw.GetReferences())...)
	gf.References = strings.Join(refs, "\n")
	gf.Tags = []string{"dracon", tag(f.Tool)}
	for _, o := range consumers.Owners(is) {
		gf.Tags = append(gf.Tags, tag("owner:"+o))
	}
	if c.cfg.EngagementPerScan && run.Scan.GetScanUuid() != "" {
		gf.Tags = append(gf.Tags, "DraconScan", "EnrichedFinding", run.Scan.GetScanUuid())
	}
	return gf, nil
}

// description is the finding's text: the configured template, or a
// Markdown summary that stays the same from scan to scan (DefectDojo
// keeps the first one it was sent).
func (c *Consumer) description(run *consumers.Run, f consumers.Finding) (string, error) {
	is, raw := f.Issue, f.Issue.GetRawIssue()
	if c.desc != nil {
		v := tmpl.NewView(run.Scan, f.Tool, is)
		v.ID, v.Link = consumers.ID(is), consumers.Link(run.Scan, raw)
		s, err := c.desc.Render(v)
		if err != nil {
			return "", fmt.Errorf("description_template: %w", err)
		}
		if strings.TrimSpace(s) == "" {
			return "", errors.New("description_template rendered nothing (DefectDojo requires a description)")
		}
		return s, nil
	}
	var b strings.Builder
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "**%s:** %s  \n", k, v)
		}
	}
	line("Tool", strings.TrimSpace(f.Tool+" "+raw.GetToolVersion()))
	line("Rule", firstNonEmpty(raw.GetRuleId(), raw.GetType()))
	loc := firstNonEmpty(raw.GetLocation().GetPath(), raw.GetTarget())
	if n := raw.GetLocation().GetStartLine(); n > 0 && raw.GetLocation().GetPath() != "" {
		loc = fmt.Sprintf("%s:%d", loc, n)
	}
	if loc != "" {
		if l := consumers.Link(run.Scan, raw); l != "" {
			loc = fmt.Sprintf("[`%s`](%s)", loc, l)
		} else {
			loc = "`" + loc + "`"
		}
	}
	line("Location", loc)
	sev := tmpl.SeverityText(raw.GetSeverity())
	if conf := tmpl.ConfidenceText(raw.GetConfidence()); conf != "N/A" {
		sev += ", confidence " + conf
	}
	if raw.GetCvss() > 0 {
		sev += fmt.Sprintf(", CVSS %.1f", raw.GetCvss())
	}
	line("Severity", sev)
	line("Package", firstNonEmpty(raw.GetPackageUrl(), raw.GetPackageVersion()))
	line("Fixed in", raw.GetFixedVersion())
	line("Owners", strings.Join(consumers.Owners(is), ", "))
	if is.GetSuppressed() {
		line("Suppressed", firstNonEmpty(is.GetSuppressionReason(), "yes"))
	}
	line("Dracon ID", "`"+consumers.ID(is)+"`")
	if d := strings.TrimSpace(raw.GetDescription()); d != "" {
		b.WriteString("\n" + d + "\n")
	}
	return b.String(), nil
}

// severity is DefectDojo's severity name.
func severity(s v1.Severity) string {
	if t := tmpl.SeverityText(s); t != "N/A" {
		return t
	}
	return "Info"
}

// tag makes a value a DefectDojo tag: tags may hold no spaces, commas or
// quotes (dojo/validators.py TAG_PATTERN).
func tag(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == ',' || r == '\'' || r == '"' {
			return '_'
		}
		return r
	}, s)
}

// purl splits a package URL into the package's name (namespace included)
// and version.
func purl(p string) (name, version string) {
	rest, ok := strings.CutPrefix(p, "pkg:")
	if !ok {
		return "", ""
	}
	if i := strings.IndexAny(rest, "?#"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndexByte(rest, '@'); i > 0 && i > strings.LastIndexByte(rest, '/') {
		rest, version = rest[:i], rest[i+1:]
	}
	_, name, ok = strings.Cut(rest, "/")
	if !ok {
		return "", ""
	}
	if n, err := url.PathUnescape(name); err == nil {
		name = n
	}
	if v, err := url.PathUnescape(version); err == nil {
		version = v
	}
	return name, version
}

// pathOf is a target's path: "main.go:12-14" is main.go; a URL or a
// package stays whole.
func pathOf(target string) string {
	if strings.Contains(target, "://") || strings.HasPrefix(target, "pkg:") {
		return target
	}
	if i := strings.LastIndexByte(target, ':'); i > 0 && strings.Trim(target[i+1:], "0123456789-") == "" {
		return target[:i]
	}
	return target
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func nonEmpty(ss []string) []string {
	var out []string
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// clipRunes keeps the first n characters of s (DefectDojo's limits count
// characters).
func clipRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
