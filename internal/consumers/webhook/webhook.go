// Package webhook POSTs a run's enriched findings as JSON to any HTTPS
// endpoint, signed with HMAC-SHA256 as GitHub signs its webhooks, for
// whatever Dracon has no consumer of its own for. The body's shape is
// docs/consumers/webhook.md (and webhook.schema.json): change it only by
// adding fields, or raise SchemaVersion.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/draconsec/dracon/internal/config"
	"github.com/draconsec/dracon/internal/consumers"
	"github.com/draconsec/dracon/internal/policy"
	"github.com/draconsec/dracon/internal/summary"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// SchemaVersion is the version of the body's shape.
const SchemaVersion = 1

// Headers Dracon sets on every POST.
const (
	HeaderSignature = "X-Dracon-Signature-256"
	HeaderDelivery  = "X-Dracon-Delivery"
	HeaderEvent     = "X-Dracon-Event"
	// EventScan is the only event: one scan's results.
	EventScan = "scan"
)

// DefaultMaxFindings is how many findings one POST carries unless
// max_findings_per_request says otherwise: about 1-2 MB of JSON, which
// every web framework's default body limit lets through.
const DefaultMaxFindings = 1000

// SecretEnv is the environment variable the signing secret is read from
// when the config names none.
const SecretEnv = "DRACON_WEBHOOK_SECRET"

// Consumer POSTs the run to one URL.
type Consumer struct {
	url      string
	secret   string
	headers  map[string]string
	max      int
	client   *http.Client
	log      io.Writer
	version  string
	endpoint string // the URL without its query, for the log and errors
}

// New builds the consumer from its block: the URL must be there and
// allowed (https, or http to localhost or with insecure_http), each
// header's value must be readable.
func New(cfg *config.Webhook, env consumers.Env) (*Consumer, error) {
	if cfg.URL == "" {
		return nil, errors.New("consumers.webhook.url is not set: where the results are POSTed")
	}
	if msg := config.CheckWebhookURL(cfg.URL, cfg.InsecureHTTP); msg != "" {
		return nil, fmt.Errorf("consumers.webhook.url: %s", msg)
	}
	secret, err := env.Secret(cfg.Secret, SecretEnv)
	if err != nil {
		return nil, fmt.Errorf("consumers.webhook.secret: %w", err)
	}
	if cfg.Secret != "" && secret == "" {
		return nil, fmt.Errorf("consumers.webhook.secret: %s is empty or unset", cfg.Secret)
	}
	c := &Consumer{url: cfg.URL, secret: secret, headers: map[string]string{}, max: cfg.MaxFindingsPerRequest,
		log: env.Log, version: env.Version}
	if c.max <= 0 {
		c.max = DefaultMaxFindings
	}
	if c.log == nil {
		c.log = io.Discard
	}
	for name, ref := range cfg.Headers {
		v, err := env.Secret(ref, "")
		if err != nil {
			return nil, fmt.Errorf("consumers.webhook.headers.%s: %w", name, err)
		}
		if v == "" {
			return nil, fmt.Errorf("consumers.webhook.headers.%s: %s is empty or unset", name, ref)
		}
		c.headers[http.CanonicalHeaderKey(name)] = v
	}
	u, _ := url.Parse(cfg.URL) // checked above
	c.endpoint = u.Scheme + "://" + u.Host + u.Path
	// A redirect is not followed: Go would turn the POST into a GET
	// without its body (301, 302), or send the body and the headers
	// (an API key among them) to wherever the Location points (307,
	// 308). The retrying client follows redirects inside, so the
	// transport under it hides the Location: Go's client returns a 3xx
	// without one as it is, and post reports it as a failure.
	base := env.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	env.Transport = holdRedirects{base}
	c.client = env.HTTPClient("webhook")
	return c, nil
}

// heldLocation is where holdRedirects moves a redirect's Location.
const heldLocation = "X-Dracon-Held-Location"

type holdRedirects struct{ base http.RoundTripper }

func (h holdRedirects) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := h.base.RoundTrip(req)
	if err == nil && resp.StatusCode/100 == 3 {
		if loc := resp.Header.Get("Location"); loc != "" {
			resp.Header.Set(heldLocation, loc)
			resp.Header.Del("Location")
		}
	}
	return resp, err
}

func (c *Consumer) String() string { return "webhook" }

// Part is one POST: its body and the delivery id it is sent with.
type Part struct {
	Body     []byte
	Delivery string
	Findings int
	Fixed    int
}

// Publish POSTs the run, in as many parts as max_findings_per_request
// makes of it. A part that fails is counted and the others are still
// sent; a refusal (401, 403) ends the delivery: the rest would be
// refused too.
func (c *Consumer) Publish(ctx context.Context, run *consumers.Run, findings []consumers.Finding) (consumers.Delivery, error) {
	var d consumers.Delivery
	parts, err := Parts(run, findings, c.max, c.version)
	if err != nil {
		return d, err
	}
	if run.DryRun != nil {
		for i, p := range parts {
			fmt.Fprintf(run.DryRun, "webhook: would POST part %d/%d to %s (%d findings, %d fixed, %d bytes, %s: %s, %s)\n",
				i+1, len(parts), c.endpoint, p.Findings, p.Fixed, len(p.Body), HeaderDelivery, p.Delivery, c.signedWith())
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, p.Body, "", "  "); err != nil {
				return d, err
			}
			pretty.WriteByte('\n')
			if _, err := run.DryRun.Write(pretty.Bytes()); err != nil {
				return d, err
			}
		}
		return d, nil
	}
	for i, p := range parts {
		status, err := c.post(ctx, p)
		name := fmt.Sprintf("part %d/%d (%s %s)", i+1, len(parts), HeaderDelivery, p.Delivery)
		switch {
		case err != nil && (status == http.StatusUnauthorized || status == http.StatusForbidden):
			d.Failed += len(parts) - i
			return d, fmt.Errorf("webhook: %s: %w", name, err)
		case err != nil:
			d.Failed++
			d.Errors = append(d.Errors, fmt.Sprintf("webhook: %s: %v", name, err))
		case status == http.StatusAlreadyReported:
			d.Unchanged++
			fmt.Fprintf(c.log, "dracon: webhook: %s: %s already had it\n", name, c.endpoint)
		default:
			d.Created++
			fmt.Fprintf(c.log, "dracon: webhook: delivered %s to %s\n", name, c.endpoint)
		}
	}
	return d, nil
}

func (c *Consumer) signedWith() string {
	if c.secret == "" {
		return "unsigned: no secret"
	}
	return "signed with " + HeaderSignature
}

// post sends one part; the error says what the receiver answered.
func (c *Consumer) post(ctx context.Context, p Part) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(p.Body))
	if err != nil {
		return 0, err
	}
	for k, v := range c.headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "dracon/"+c.version)
	req.Header.Set(HeaderEvent, EventScan)
	req.Header.Set(HeaderDelivery, p.Delivery)
	if c.secret != "" {
		req.Header.Set(HeaderSignature, Sign(c.secret, p.Body))
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	// What the receiver says of a refusal helps; a page of HTML does not.
	said, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 == 2 {
		return resp.StatusCode, nil
	}
	msg := fmt.Sprintf("%s answered %s", c.endpoint, resp.Status)
	if resp.StatusCode/100 == 3 {
		msg += " to " + resp.Header.Get(heldLocation) + " (redirects are not followed: set url to where it points)"
	}
	if s := strings.TrimSpace(string(said)); s != "" {
		msg += ": " + strings.Join(strings.Fields(s), " ")
	}
	return resp.StatusCode, errors.New(msg)
}

// Sign is the signature header's value: "sha256=" and the hex HMAC-SHA256
// of body with secret (GitHub's X-Hub-Signature-256).
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// DeliveryID is a part's delivery id: the hex SHA-256 of the scan id, a
// newline and the body. A retry, or a re-run of the same scan with the
// same findings, sends the same id, so a receiver drops what it has.
func DeliveryID(scanID string, body []byte) string {
	h := sha256.New()
	h.Write([]byte(scanID))
	h.Write([]byte{'\n'})
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// Parts are the bodies the run is sent in: findings and fixed findings
// split max a part, the scan and summary in each.
func Parts(run *consumers.Run, findings []consumers.Finding, perPart int, version string) ([]Part, error) {
	if perPart <= 0 {
		perPart = DefaultMaxFindings
	}
	all := make([]Finding, len(findings))
	links := policy.ContextFromTags(run.Scan.GetScanUuid(), run.Scan.GetScanTags(), time.Time{})
	for i, f := range findings {
		all[i] = findingOf(f, links)
	}
	fixed := make([]Fixed, len(run.Fixed))
	for i, f := range run.Fixed {
		fixed[i] = Fixed{ID: f.ID, Tool: f.Tool, Rule: f.Rule, Path: f.Path, Title: f.Title, Severity: f.Severity}
	}
	n := max((len(all)+perPart-1)/perPart, (len(fixed)+perPart-1)/perPart, 1)
	base := Body{SchemaVersion: SchemaVersion, Event: EventScan, DraconVersion: version, Parts: n,
		Scan: scanOf(run.Scan), Summary: summaryOf(run), FindingsTotal: len(all), FixedTotal: len(fixed)}
	out := make([]Part, n)
	for i := range n {
		b := base
		b.Part = i + 1
		b.Findings = window(all, i, perPart)
		b.Fixed = window(fixed, i, perPart)
		body, err := json.Marshal(b)
		if err != nil {
			return nil, err
		}
		out[i] = Part{Body: body, Delivery: DeliveryID(run.Scan.GetScanUuid(), body), Findings: len(b.Findings), Fixed: len(b.Fixed)}
	}
	return out, nil
}

func window[T any](all []T, i, perPart int) []T {
	lo, hi := min(i*perPart, len(all)), min((i+1)*perPart, len(all))
	return append([]T{}, all[lo:hi]...) // [] rather than null when empty
}

// Body is one POST's JSON document (docs/consumers/webhook.md).
type Body struct {
	SchemaVersion int    `json:"schema_version"`
	Event         string `json:"event"`
	DraconVersion string `json:"dracon_version"`
	// Part of Parts: a run's findings are split into several POSTs of at
	// most max_findings_per_request each; the scan and summary are in
	// every part.
	Part  int  `json:"part"`
	Parts int  `json:"parts"`
	Scan  Scan `json:"scan"`
	// Summary is the run's: the verdict and counts of all its findings,
	// whatever the filter sent.
	Summary Summary `json:"summary"`
	// FindingsTotal and FixedTotal count what all parts carry together.
	FindingsTotal int       `json:"findings_total"`
	FixedTotal    int       `json:"fixed_total"`
	Findings      []Finding `json:"findings"`
	Fixed         []Fixed   `json:"fixed"`
}

// Scan identifies the scan.
type Scan struct {
	ID        string            `json:"id"`
	StartedAt *time.Time        `json:"started_at"`
	Tags      map[string]string `json:"tags"`
}

// Summary is the run's verdict and counts (summary.json's).
type Summary struct {
	// Verdict is "passed" or "failed"; "" when the results were consumed
	// without a gate (dracon consume).
	Verdict string         `json:"verdict"`
	Reasons []string       `json:"reasons"`
	Counts  summary.Counts `json:"counts"`
}

// Finding is one finding.
type Finding struct {
	ID            string   `json:"id"`
	Tool          string   `json:"tool"`
	SeenBy        []string `json:"seen_by"`
	Rule          string   `json:"rule"`
	Title         string   `json:"title"`
	Severity      string   `json:"severity"`
	Confidence    string   `json:"confidence"`
	CVSS          float64  `json:"cvss"`
	Status        string   `json:"status"`
	IsNew         bool     `json:"is_new"`
	Suppressed    bool     `json:"suppressed"`
	FalsePositive bool     `json:"false_positive"`
	// StoreStatus is the findings store's state: open, suppressed,
	// false_positive, accepted_risk, reopened ("" without a store).
	StoreStatus    string            `json:"store_status"`
	Path           string            `json:"path"`
	StartLine      int32             `json:"start_line"`
	EndLine        int32             `json:"end_line"`
	Target         string            `json:"target"`
	Link           string            `json:"link"`
	CVE            string            `json:"cve"`
	CWE            []int32           `json:"cwe"`
	Aliases        []string          `json:"aliases"`
	PackageURL     string            `json:"package_url"`
	PackageVersion string            `json:"package_version"`
	FixedVersion   string            `json:"fixed_version"`
	References     []string          `json:"references"`
	Owners         []string          `json:"owners"`
	Policy         string            `json:"policy"`
	FirstSeen      *time.Time        `json:"first_seen"`
	LastSeen       *time.Time        `json:"last_seen"`
	Count          uint64            `json:"count"`
	Fingerprint    string            `json:"fingerprint"`
	Hash           string            `json:"hash"`
	Annotations    map[string]string `json:"annotations"`
	Description    string            `json:"description"`
}

// Fixed is a finding this scan no longer has.
type Fixed struct {
	ID       string `json:"id"`
	Tool     string `json:"tool"`
	Rule     string `json:"rule"`
	Path     string `json:"path"`
	Title    string `json:"title"`
	Severity string `json:"severity"`
}

func scanOf(s *v1.ScanInfo) Scan {
	out := Scan{ID: s.GetScanUuid(), Tags: map[string]string{}}
	for k, v := range s.GetScanTags() {
		out.Tags[k] = v
	}
	if t := s.GetScanStartTime(); t != nil {
		at := t.AsTime().UTC()
		out.StartedAt = &at
	}
	return out
}

func summaryOf(run *consumers.Run) Summary {
	var out Summary
	if s := run.Summary; s != nil {
		out = Summary{Verdict: s.Verdict, Reasons: append([]string{}, s.Reasons...), Counts: s.Counts}
	} else {
		// Results consumed on their own: no gate decided, the counts
		// are what the results say.
		out = Summary{Reasons: []string{}, Counts: summary.Count(run.Results)}
	}
	// Every severity is there, as in summary.json, so a receiver need not
	// tell "none" from "not counted".
	bySeverity := map[string]int{"CRITICAL": 0, "HIGH": 0, "MEDIUM": 0, "LOW": 0, "INFO": 0}
	for k, v := range out.Counts.BySeverity {
		bySeverity[k] = v
	}
	out.Counts.BySeverity = bySeverity
	if out.Counts.ByTool == nil {
		out.Counts.ByTool = map[string]int{}
	}
	return out
}

func findingOf(f consumers.Finding, links policy.Context) Finding {
	is := f.Issue
	raw := is.GetRawIssue()
	loc := raw.GetLocation()
	annotations := map[string]string{}
	for k, v := range is.GetAnnotations() {
		annotations[k] = v
	}
	out := Finding{
		ID: consumers.ID(is), Tool: f.Tool, SeenBy: append([]string{}, is.GetSeenBy()...), Rule: rule(raw),
		Title: raw.GetTitle(), Severity: strings.TrimPrefix(raw.GetSeverity().String(), "SEVERITY_"),
		Confidence: strings.TrimPrefix(raw.GetConfidence().String(), "CONFIDENCE_"), CVSS: raw.GetCvss(),
		Status: consumers.Status(is), IsNew: is.GetIsNew(), Suppressed: is.GetSuppressed(), FalsePositive: is.GetFalsePositive(),
		StoreStatus: is.GetStatus(), Path: loc.GetPath(), StartLine: loc.GetStartLine(), EndLine: loc.GetEndLine(),
		Target: raw.GetTarget(), Link: links.Link(loc.GetPath(), loc.GetStartLine(), loc.GetEndLine()),
		CVE: raw.GetCve(), CWE: append([]int32{}, raw.GetCwe()...), Aliases: append([]string{}, raw.GetAliases()...),
		PackageURL: raw.GetPackageUrl(), PackageVersion: raw.GetPackageVersion(), FixedVersion: raw.GetFixedVersion(),
		References: append([]string{}, raw.GetReferences()...), Owners: append([]string{}, consumers.Owners(is)...),
		Policy: consumers.PolicyResult(is), Count: is.GetCount(), Fingerprint: raw.GetFingerprint(), Hash: is.GetHash(),
		Annotations: annotations, Description: raw.GetDescription(),
	}
	if len(out.SeenBy) == 0 {
		out.SeenBy = []string{f.Tool}
	}
	sort.Strings(out.SeenBy)
	if t := is.GetFirstSeen(); t != nil {
		at := t.AsTime().UTC()
		out.FirstSeen = &at
	}
	if t := is.GetLastSeen(); t != nil {
		at := t.AsTime().UTC()
		out.LastSeen = &at
	}
	return out
}

// rule is the tool's rule id, else Dracon's type (a CWE where the tool
// has no rule).
func rule(is *v1.Issue) string {
	if is.GetRuleId() != "" {
		return is.GetRuleId()
	}
	return is.GetType()
}
