package consumers

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/draconsec/dracon/internal/config"
	"github.com/draconsec/dracon/internal/httpretry"
	"github.com/draconsec/dracon/internal/policy"
	"github.com/draconsec/dracon/internal/secret"
	"github.com/draconsec/dracon/internal/summary"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// Publisher is a consumer that sends findings to another system (Jira,
// Slack, Elasticsearch, ...). It is given the findings its filter kept
// and says what it did with them. A Publisher must be idempotent: sent
// twice, a run creates nothing twice.
type Publisher interface {
	String() string
	Publish(ctx context.Context, run *Run, findings []Finding) (Delivery, error)
}

// Run is one scan as a publisher sees it.
type Run struct {
	Scan    *v1.ScanInfo
	Results []*v1.EnrichedLaunchToolResponse
	// Summary is summary.json as it stands when consumers run: verdict,
	// reasons, counts, producers, policy. PublishAll makes sure it is
	// set; when results are consumed on their own (dracon consume) it
	// holds what the results say, and Verdict is "" (not decided).
	Summary *summary.Summary
	// Fixed are findings the store knew that this scan no longer has.
	Fixed []Fixed
	// DryRun, when set, receives what would be sent, and nothing is sent.
	DryRun io.Writer
}

// Fixed is a finding gone from this scan.
type Fixed struct {
	ID, Tool, Rule, Path, Title, Severity string
}

// Delivery is what one publisher did in a run: counts of findings (or,
// for publishers that send a run as a whole, of messages or files).
type Delivery struct {
	// Created are new tickets, documents or messages.
	Created int `json:"created"`
	// Updated were there already and were brought up to date.
	Updated int `json:"updated"`
	// Unchanged were there already as they are.
	Unchanged int `json:"unchanged"`
	// Failed could not be delivered; Errors says why.
	Failed int      `json:"failed"`
	Errors []string `json:"errors,omitempty"`
}

// Env is what publishers are built with.
type Env struct {
	Getenv func(string) string
	// Source is the scanned folder: relative config files and file:
	// secrets are read from it.
	Source string
	// Log is the run's log, masked.
	Log io.Writer
	// Masker masks every credential Secret reads, in the log and in
	// errors.
	Masker *secret.Masker
	// Version is Dracon's version, for user agents and reports.
	Version string
	// Out is the run's output folder: files a consumer writes (a report)
	// are relative to it.
	Out string
	// PolicyExceptions are the config's policy.exceptions, for consumers
	// that show which are in force (the auditors' report).
	PolicyExceptions []config.Exception
	// DryRun says the consumers are built for a dry run: one may then be
	// built without its credentials, and show everything as "would
	// create".
	DryRun bool
	// Transport, when set, is the HTTP transport under the retrying
	// client (tests count connections with it).
	Transport http.RoundTripper
}

// Secret reads a credential (env:NAME or file:PATH; unset: the
// environment variable fallback) and registers it for masking.
func (e Env) Secret(ref config.Secret, fallback string) (string, error) {
	getenv := e.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	return secret.Resolve(string(ref), fallback, getenv, e.Source, e.Masker)
}

// HTTPClient is the retrying client a publisher named name talks
// through (internal/httpretry).
func (e Env) HTTPClient(name string) *http.Client {
	return httpretry.New(httpretry.Options{Name: name, Log: e.Log, Transport: e.Transport})
}

// Configured is a publisher with its common settings.
type Configured struct {
	Publisher Publisher
	Delivery  config.Delivery
}

// Outcome is one publisher's line in summary.json.
type Outcome = summary.Consumer

// PublishAll sends the run to every publisher, side by side, each within
// its own deadline. One failing never stops the others. It returns one
// outcome per publisher, in the order given.
func PublishAll(ctx context.Context, run *Run, pubs []Configured, m *secret.Masker) []Outcome {
	if run.Summary == nil {
		run.Summary = SummaryOf(run.Scan, run.Results)
	}
	all := Flatten(run.Results)
	out := make([]Outcome, len(pubs))
	var wg sync.WaitGroup
	for i, p := range pubs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = publishOne(ctx, run, p, all, m)
		}()
	}
	wg.Wait()
	return out
}

func publishOne(ctx context.Context, run *Run, p Configured, all []Finding, m *secret.Masker) Outcome {
	start := time.Now()
	keep := Select(all, p.Delivery.Filter)
	o := Outcome{Name: p.Publisher.String(), Findings: len(keep), Filtered: len(all) - len(keep), AllowFailure: p.Delivery.AllowFailure}
	ctx, cancel := httpretry.WithDeadline(ctx, time.Duration(p.Delivery.Timeout))
	defer cancel()
	d, err := p.Publisher.Publish(ctx, run, keep)
	o.Created, o.Updated, o.Unchanged, o.Failed = d.Created, d.Updated, d.Unchanged, d.Failed
	for _, e := range d.Errors {
		o.Errors = append(o.Errors, m.Clean(e))
	}
	switch {
	case err != nil:
		o.Status = "failed"
		o.Errors = append(o.Errors, m.Clean(err.Error()))
	case d.Failed > 0:
		o.Status = "failed"
	case run.DryRun != nil:
		o.Status = "dry_run"
	default:
		o.Status = "ok"
	}
	o.DurationMS = time.Since(start).Milliseconds()
	return o
}

// Select keeps the findings filter f passes (config.Filter's rules).
// Suppressed findings, duplicates another tool's report stands for, and
// false positives are left out unless f.Suppressed.
func Select(all []Finding, f config.Filter) []Finding {
	minSev := level(f.MinSeverity)
	minConf := level(f.MinConfidence)
	var out []Finding
	for _, fd := range all {
		is := fd.Issue
		raw := is.GetRawIssue()
		switch {
		case is.GetDuplicateOf() != "":
			continue
		case !f.Suppressed && (is.GetSuppressed() || is.GetFalsePositive()):
			continue
		case minSev > 0 && int(raw.GetSeverity()) < minSev:
			continue
		case minConf > 0 && raw.GetConfidence() != v1.Confidence_CONFIDENCE_UNSPECIFIED && int(raw.GetConfidence()) < minConf:
			continue
		case f.NewOnly && (!is.GetIsNew() || is.GetAnnotations()["dracon.diff"] == "outside"):
			continue
		case len(f.Tools) > 0 && !anyOf(f.Tools, tools(fd)):
			continue
		case len(f.Teams) > 0 && !anyOf(f.Teams, Owners(is)):
			continue
		case len(f.Policy) > 0 && !anyOf(f.Policy, []string{PolicyResult(is)}):
			continue
		case len(f.Status) > 0 && !anyOf(f.Status, []string{Status(is)}):
			continue
		}
		out = append(out, fd)
	}
	return out
}

// level is a severity or confidence name's enum number (both enums
// count info=1 ... critical=5); 0 for none.
func level(name string) int {
	switch strings.ToLower(name) {
	case "info":
		return 1
	case "low":
		return 2
	case "medium":
		return 3
	case "high":
		return 4
	case "critical":
		return 5
	}
	return 0
}

func tools(f Finding) []string {
	if by := f.Issue.GetSeenBy(); len(by) > 0 {
		return by
	}
	return []string{f.Tool}
}

func anyOf(want, have []string) bool {
	for _, w := range want {
		for _, h := range have {
			if strings.EqualFold(w, h) {
				return true
			}
		}
	}
	return false
}

// Owners are the finding's owners, from the owners enricher's Owner-N
// annotations (Dracon's keys), in order.
func Owners(is *v1.EnrichedIssue) []string {
	var keys []string
	for k := range is.GetAnnotations() {
		if strings.HasPrefix(k, "Owner-") {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		if len(keys[i]) != len(keys[j]) {
			return len(keys[i]) < len(keys[j]) // Owner-2 before Owner-10
		}
		return keys[i] < keys[j]
	})
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = is.GetAnnotations()[k]
	}
	return out
}

// PolicyResult is what the policies said of the finding: "deny" (it fails
// the run), "warn", or "pass". It reads internal/enrichers/policy's
// dracon.policy annotation (a consumer knows no enricher).
func PolicyResult(is *v1.EnrichedIssue) string {
	switch is.GetAnnotations()["dracon.policy"] {
	case "deny":
		return "deny"
	case "warn":
		return "warn"
	}
	return "pass"
}

// Status is the finding's status against the baseline: "new",
// "existing", or "outside_diff" (kept, but not on the lines the change
// touched: internal/enrichers/baseline's dracon.diff annotation).
func Status(is *v1.EnrichedIssue) string {
	switch {
	case is.GetAnnotations()["dracon.diff"] == "outside":
		return "outside_diff"
	case is.GetIsNew():
		return "new"
	}
	return "existing"
}

// ID is the finding's stable id across runs and edits: the store's id,
// else its line-independent fingerprint, else Dracon's hash. Publishers
// key tickets and documents on it.
func ID(is *v1.EnrichedIssue) string {
	switch {
	case is.GetFindingId() != "":
		return is.GetFindingId()
	case is.GetRawIssue().GetFingerprint() != "":
		return is.GetRawIssue().GetFingerprint()
	}
	return is.GetHash()
}

// Errorf is a delivery error naming the finding it concerns.
func Errorf(f Finding, format string, args ...any) string {
	is := f.Issue.GetRawIssue()
	return fmt.Sprintf("%s %s at %s: %s", f.Tool, is.GetRuleId(), is.GetTarget(), fmt.Sprintf(format, args...))
}

// SummaryOf is what the results alone say of a run, for publishers given
// results without a run (dracon consume): no verdict, counts, producers.
func SummaryOf(scan *v1.ScanInfo, results []*v1.EnrichedLaunchToolResponse) *summary.Summary {
	s := &summary.Summary{SchemaVersion: summary.SchemaVersion, ScanID: scan.GetScanUuid(), Tags: scan.GetScanTags(),
		Counts: summary.Count(results), Outputs: map[string]string{}}
	if t := scan.GetScanStartTime(); t != nil {
		s.StartedAt = t.AsTime()
	}
	for _, r := range results {
		s.Producers = append(s.Producers, summary.Producer{Name: r.GetOriginalResults().GetToolName(), Status: "ok",
			Findings: len(r.GetIssues()), ToolVersion: r.GetOriginalResults().GetToolVersion()})
	}
	return s
}

// Describe is an outcome's line for the log: "consumer jira: ok: 3
// created, 1 updated, 10 unchanged (2 filtered out)".
func Describe(o Outcome) string {
	var parts []string
	for _, c := range []struct {
		n    int
		what string
	}{{o.Created, "created"}, {o.Updated, "updated"}, {o.Unchanged, "unchanged"}, {o.Failed, "failed"}} {
		if c.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c.n, c.what))
		}
	}
	if len(parts) == 0 {
		parts = append(parts, "nothing to send")
	}
	line := fmt.Sprintf("consumer %s: %s: %s", o.Name, o.Status, strings.Join(parts, ", "))
	if o.Filtered > 0 {
		line += fmt.Sprintf(" (%d filtered out)", o.Filtered)
	}
	if len(o.Errors) > 0 {
		line += ": " + strings.Join(o.Errors, "; ")
	}
	if o.Status == "failed" && o.AllowFailure {
		line += " (allowed to fail)"
	}
	return line
}

// Link is a URL to the finding's file and lines on the code host (GitHub's
// /blob/, GitLab's /-/blob/), when the scan's tags say where the
// repository lives; "" otherwise. Every consumer links the same way the
// policies' messages do (internal/policy Context.Link).
func Link(scan *v1.ScanInfo, raw *v1.Issue) string {
	loc := raw.GetLocation()
	if strings.Contains(loc.GetPath(), "://") {
		return "" // a URL already (a DAST finding), not a file
	}
	c := policy.ContextFromTags(scan.GetScanUuid(), scan.GetScanTags(), time.Time{})
	return c.Link(strings.TrimPrefix(loc.GetPath(), "./"), loc.GetStartLine(), loc.GetEndLine())
}

// ShortRef is a ref as people name it: refs/heads/main is main,
// refs/tags/v1 v1, refs/pull/7/merge pull/7, refs/merge-requests/5/head
// merge-requests/5.
func ShortRef(ref string) string {
	for _, p := range []string{"refs/heads/", "refs/tags/"} {
		if s, ok := strings.CutPrefix(ref, p); ok {
			return s
		}
	}
	s := strings.TrimPrefix(ref, "refs/")
	if strings.HasPrefix(s, "pull/") || strings.HasPrefix(s, "merge-requests/") {
		s = strings.TrimSuffix(strings.TrimSuffix(s, "/merge"), "/head")
	}
	return s
}
