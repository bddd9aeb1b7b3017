package sarifout

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf16"

	v1 "github.com/draconsec/dracon/proto/dracon/v1"
	"github.com/owenrumney/go-sarif/v2/sarif"
)

// Limits are what code scanning accepts in one SARIF upload. A zero
// field is no limit.
type Limits struct {
	// GzipBytes: the compact JSON gzipped (WriteGzip's bytes).
	GzipBytes int64 `json:"gzip_bytes,omitempty"`
	// Runs in one file.
	Runs int `json:"runs,omitempty"`
	// ResultsPerRun and RulesPerRun: more and the upload is rejected.
	ResultsPerRun int `json:"results_per_run,omitempty"`
	RulesPerRun   int `json:"rules_per_run,omitempty"`
	// ShownResultsPerRun: code scanning keeps only that many of a run's
	// results, the most severe; more draws a warning.
	ShownResultsPerRun int `json:"shown_results_per_run,omitempty"`
	// LocationsPerResult, TagsPerRule: only so many are kept.
	LocationsPerResult int `json:"locations_per_result,omitempty"`
	TagsPerRule        int `json:"tags_per_rule,omitempty"`
	// RuleNameChars and DescriptionChars (a rule's short and full
	// descriptions), in UTF-16 code units, the longest count of
	// characters a string can have.
	RuleNameChars    int `json:"rule_name_chars,omitempty"`
	DescriptionChars int `json:"description_chars,omitempty"`
}

// GitHub is code scanning's limits (docs: "SARIF support for code
// scanning", its limits table): 10 MB gzipped (taken as 10,000,000
// bytes, the smaller reading), 20 runs, 25,000 results and 25,000 rules
// a run of which 5,000 results are shown, rule names of 255 characters and
// descriptions of 1,024, 20 tags a rule. Locations: code scanning takes
// 1,000 a result and shows 100; this keeps 10, where the checklist puts
// it (only the first places the alert; the writer gives at most one).
func GitHub() Limits {
	return Limits{
		GzipBytes: 10_000_000, Runs: 20,
		ResultsPerRun: 25_000, RulesPerRun: 25_000, ShownResultsPerRun: 5_000,
		LocationsPerResult: 10, TagsPerRule: 20,
		RuleNameChars: 255, DescriptionChars: 1024,
	}
}

// Why a result was dropped (Drop.Reason).
const (
	ReasonResultsPerRun = "results_per_run"
	ReasonRulesPerRun   = "rules_per_run"
	ReasonGzipBytes     = "gzip_bytes"
)

// Drop counts the results of one tool and severity dropped for one reason.
type Drop struct {
	Tool string `json:"tool"`
	// Severity as summary.json's by_severity names it: "LOW", "HIGH", …
	Severity string `json:"severity"`
	Reason   string `json:"reason"`
	Count    int    `json:"count"`
}

// Truncated counts the rules whose fields were cut to the limits.
type Truncated struct {
	RuleNames    int `json:"rule_names,omitempty"`
	Descriptions int `json:"descriptions,omitempty"`
	Tags         int `json:"tags,omitempty"`
}

func (t *Truncated) add(u Truncated) {
	t.RuleNames += u.RuleNames
	t.Descriptions += u.Descriptions
	t.Tags += u.Tags
}

// Report is what checking a log against limits found, and what Fit did
// to make it fit: for the pipeline to print and put in summary.json.
type Report struct {
	Limits Limits `json:"limits"`
	Runs   int    `json:"runs"`
	// Results before any was dropped, Kept after.
	Results int `json:"results"`
	Kept    int `json:"kept"`
	// Dropped, by tool, reason and severity (lowest first).
	Dropped   []Drop    `json:"dropped,omitempty"`
	Truncated Truncated `json:"truncated"`
	// CompactBytes and GzipBytes are the size of what is kept as compact
	// JSON, and gzipped as uploaded (0: not measured, with no GzipBytes
	// limit).
	CompactBytes int64 `json:"compact_bytes"`
	GzipBytes    int64 `json:"gzip_bytes"`
	// Warnings are what code scanning takes but does not show whole.
	Warnings []string `json:"warnings,omitempty"`
	// Errors are what code scanning would reject that Fit does not fix.
	Errors []string `json:"errors,omitempty"`
}

// Fits says code scanning would take the log.
func (r Report) Fits() bool { return len(r.Errors) == 0 }

// DroppedCount is how many results were dropped.
func (r Report) DroppedCount() int {
	n := 0
	for _, d := range r.Dropped {
		n += d.Count
	}
	return n
}

// DroppedBySeverity counts the dropped results by severity.
func (r Report) DroppedBySeverity() map[string]int {
	m := map[string]int{}
	for _, d := range r.Dropped {
		m[d.Severity] += d.Count
	}
	return m
}

// Lines says what the report says, a line each: what was dropped, cut,
// warned of, and errors, for a log.
func (r Report) Lines() []string {
	var out []string
	type key struct{ tool, reason string }
	var keys []key
	counts := map[key][]Drop{}
	for _, d := range r.Dropped {
		k := key{d.Tool, d.Reason}
		if counts[k] == nil {
			keys = append(keys, k)
		}
		counts[k] = append(counts[k], d)
	}
	for _, k := range keys {
		n := 0
		var parts []string
		for _, d := range counts[k] {
			n += d.Count
			parts = append(parts, fmt.Sprintf("%d %s", d.Count, d.Severity))
		}
		why := map[string]string{
			ReasonResultsPerRun: fmt.Sprintf("code scanning takes %d results a run", r.Limits.ResultsPerRun),
			ReasonRulesPerRun:   fmt.Sprintf("code scanning takes %d rules a run", r.Limits.RulesPerRun),
			ReasonGzipBytes:     fmt.Sprintf("code scanning takes %d bytes gzipped", r.Limits.GzipBytes),
		}[k.reason]
		out = append(out, fmt.Sprintf("SARIF: dropped %d results of %s (%s): %s", n, k.tool, strings.Join(parts, ", "), why))
	}
	t := r.Truncated
	if t.RuleNames+t.Descriptions+t.Tags > 0 {
		out = append(out, fmt.Sprintf("SARIF: cut to code scanning's limits: %d rule names, %d descriptions, the tags of %d rules", t.RuleNames, t.Descriptions, t.Tags))
	}
	for _, w := range r.Warnings {
		out = append(out, "SARIF: warning: "+w)
	}
	for _, e := range r.Errors {
		out = append(out, "SARIF: error: "+e)
	}
	return out
}

// ErrTooManyRuns: the log has more runs than the limit, and Fit does not
// merge or drop runs: merging two tools' runs would change the tool and
// category their alerts are tracked by, and dropping one would close all
// its alerts. Split the log (Split) and upload each part, or run fewer
// producers.
var ErrTooManyRuns = errors.New("more runs than code scanning takes in one file")

// ErrTooLarge: the log is over the size limit even with no results.
var ErrTooLarge = errors.New("over code scanning's size limit with no results")

// Fit checks the log against lim and returns what of it fits, saying what
// it dropped and cut. The log itself is left as it was.
//
// Results are dropped, when a run has more than lim.ResultsPerRun (or its
// results more rules than lim.RulesPerRun), and then from all runs while
// the gzipped log is over lim.GzipBytes, lowest severity first, then
// lowest confidence, then last in the run's order (location, rule: the
// order is the same from scan to scan, so the same findings are kept
// each time and their alerts do not flap), then from the last tool in
// the log first. The kept results keep their order and their line
// hashes; rules no kept result has are gone. Code scanning closes the
// alert of a result that is dropped, as it does any that an upload lacks.
//
// Rule names and descriptions over the limits are cut (ending in "…"),
// tags past the limit dropped. The error is ErrTooManyRuns or ErrTooLarge
// when what is returned still does not fit; the report's Errors say so too.
func (l *Log) Fit(lim Limits) (*Log, Report, error) {
	f := l.fitCounts(lim)
	var compact, gz int64
	var err error
	if lim.GzipBytes > 0 {
		if compact, gz, err = f.kept.sizes(); err != nil {
			return l, f.rep, err
		}
	}
	if _, err := f.fitSize(compact, gz); err != nil {
		return l, f.rep, err
	}
	return f.kept, f.rep, f.err
}

// fitting is Fit under way: what is kept so far, what was dropped, the
// report.
type fitting struct {
	lim   Limits
	kept  *Log
	drops map[Drop]int
	rep   Report
	err   error
}

// fitCounts is Fit's first part: it cuts each run to the limits on
// results and rules a run, and the rules' fields, and checks the runs.
func (l *Log) fitCounts(lim Limits) *fitting {
	f := &fitting{lim: lim, drops: map[Drop]int{}, kept: &Log{runs: make([]*runBuilder, len(l.runs))},
		rep: Report{Limits: lim, Runs: len(l.runs), Results: l.Results()}}
	for r, rb := range l.runs {
		keep := rb.fitCounts(lim, func(ei *v1.EnrichedIssue, reason string) {
			f.drops[Drop{Tool: rb.head.tool, Severity: severityName(ei), Reason: reason}]++
		})
		f.kept.runs[r] = rb.subset(keep, &lim)
	}
	if lim.Runs > 0 && len(l.runs) > lim.Runs {
		names := make([]string, len(l.runs))
		for i, rb := range l.runs {
			names[i] = rb.head.tool
		}
		f.rep.Errors = append(f.rep.Errors, fmt.Sprintf("%d runs (%s); code scanning takes at most %d in one file: it would reject the upload; split it (one upload per part) or run fewer producers",
			len(l.runs), strings.Join(names, ", "), lim.Runs))
		f.err = fmt.Errorf("%w: %d runs, at most %d", ErrTooManyRuns, len(l.runs), lim.Runs)
	}
	// lim.LocationsPerResult: nothing to do, a result has at most one
	// location (TestOneLocation).
	f.report(0, 0)
	return f
}

// fitSize is Fit's second part, given the sizes of what fitCounts kept:
// it drops results while that is over the size limit, and says whether
// it did (f.kept is then another log).
func (f *fitting) fitSize(compact, gz int64) (bool, error) {
	dropped := false
	if f.lim.GzipBytes > 0 && gz > f.lim.GzipBytes {
		kept, c, g, err := f.kept.fitSize(f.lim, gz, func(rb *runBuilder, ei *v1.EnrichedIssue) {
			f.drops[Drop{Tool: rb.head.tool, Severity: severityName(ei), Reason: ReasonGzipBytes}]++
		})
		if err != nil {
			return false, err
		}
		f.kept, compact, gz, dropped = kept, c, g, true
		if gz > f.lim.GzipBytes {
			f.rep.Errors = append(f.rep.Errors, fmt.Sprintf("%d bytes gzipped with no results; code scanning takes %d", gz, f.lim.GzipBytes))
			f.err = errors.Join(f.err, fmt.Errorf("%w: %d bytes gzipped, at most %d", ErrTooLarge, gz, f.lim.GzipBytes))
		}
	}
	f.report(compact, gz)
	return dropped, nil
}

// report fills the report in from what is kept and dropped.
func (f *fitting) report(compact, gz int64) {
	rep := &f.rep
	rep.CompactBytes, rep.GzipBytes = compact, gz
	rep.Kept, rep.Truncated, rep.Warnings, rep.Dropped = 0, Truncated{}, nil, nil
	for _, rb := range f.kept.runs {
		rep.Kept += len(rb.issues)
		rep.Truncated.add(rb.cut)
		if n := f.lim.ShownResultsPerRun; n > 0 && len(rb.issues) > n {
			rep.Warnings = append(rep.Warnings, fmt.Sprintf("%s: %d results; code scanning shows only the %d most severe of a run", rb.head.tool, len(rb.issues), n))
		}
	}
	for d, n := range f.drops {
		d.Count = n
		rep.Dropped = append(rep.Dropped, d)
	}
	slices.SortFunc(rep.Dropped, func(a, b Drop) int {
		return cmp.Or(strings.Compare(a.Tool, b.Tool), strings.Compare(a.Reason, b.Reason),
			cmp.Compare(severityOf(a.Severity), severityOf(b.Severity)))
	})
}

// Split cuts the log into logs of at most n runs each (all of it when n
// is 0 or more than its runs), in order. Each run is its own tool and
// category, so uploading each part for the same commit replaces no other
// part's runs.
func (l *Log) Split(n int) []*Log {
	if n <= 0 || len(l.runs) <= n {
		return []*Log{l}
	}
	var out []*Log
	for rs := range slices.Chunk(l.runs, n) {
		out = append(out, &Log{runs: rs})
	}
	return out
}

// rank is a result's place in the order results are kept in: most severe
// first, then most confident, then first in the run.
func rankCompare(a, b *v1.EnrichedIssue, ai, bi int) int {
	x, y := a.GetRawIssue(), b.GetRawIssue()
	return cmp.Or(cmp.Compare(y.GetSeverity(), x.GetSeverity()), cmp.Compare(y.GetConfidence(), x.GetConfidence()), cmp.Compare(ai, bi))
}

// fitCounts says which of the run's results to keep within the limits on
// results and rules a run, in rank order; drop hears of each other one.
func (rb *runBuilder) fitCounts(lim Limits, drop func(*v1.EnrichedIssue, string)) []bool {
	keep := make([]bool, len(rb.issues))
	overResults := lim.ResultsPerRun > 0 && len(rb.issues) > lim.ResultsPerRun
	overRules := lim.RulesPerRun > 0 && len(rb.rules) > lim.RulesPerRun
	if !overResults && !overRules {
		for i := range keep {
			keep[i] = true
		}
		return keep
	}
	order := make([]int, len(rb.issues))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return rankCompare(rb.issues[a], rb.issues[b], a, b) })
	rules := map[int]bool{}
	n := 0
	for _, i := range order {
		ri := rb.ruleIndex[i]
		switch {
		case lim.ResultsPerRun > 0 && n >= lim.ResultsPerRun:
			drop(rb.issues[i], ReasonResultsPerRun)
		case lim.RulesPerRun > 0 && !rules[ri] && len(rules) >= lim.RulesPerRun:
			drop(rb.issues[i], ReasonRulesPerRun)
		default:
			keep[i] = true
			rules[ri] = true
			n++
		}
	}
	return keep
}

// subset is the run of the results keep says, with its rules rebuilt for
// them and cut to caps.
func (rb *runBuilder) subset(keep []bool, caps *Limits) *runBuilder {
	issues := make([]*v1.EnrichedIssue, 0, len(rb.issues))
	hashes := make([]string, 0, len(rb.issues))
	for i, k := range keep {
		if k {
			issues = append(issues, rb.issues[i])
			hashes = append(hashes, rb.lineHash[i])
		}
	}
	return newRunBuilder(rb.head, issues, hashes, caps)
}

// fitSize drops results from all runs, in rank order across them, until
// the gzipped log (gz bytes now) is within lim.GzipBytes. Each try writes
// the log, so the number to keep is interpolated between the largest
// number known to fit and the smallest known not to, aiming 1% under the
// limit (bisecting after a few tries), and the first try within 2% of the
// limit is taken: it keeps within about 2% of the most that would fit.
func (l *Log) fitSize(lim Limits, gz int64, drop func(*runBuilder, *v1.EnrichedIssue)) (*Log, int64, int64, error) {
	type ref struct{ run, i int }
	var all []ref
	for r, rb := range l.runs {
		for i := range rb.issues {
			all = append(all, ref{r, i})
		}
	}
	slices.SortStableFunc(all, func(a, b ref) int {
		return cmp.Or(rankCompare(l.runs[a.run].issues[a.i], l.runs[b.run].issues[b.i], 0, 0), cmp.Compare(a.run, b.run), cmp.Compare(a.i, b.i))
	})
	build := func(k int) *Log {
		keep := make([][]bool, len(l.runs))
		for r, rb := range l.runs {
			keep[r] = make([]bool, len(rb.issues))
		}
		for _, x := range all[:k] {
			keep[x.run][x.i] = true
		}
		out := &Log{runs: make([]*runBuilder, len(l.runs))}
		for r, rb := range l.runs {
			out.runs[r] = rb.subset(keep[r], &lim)
		}
		return out
	}
	best := build(0)
	bestC, bestG, err := best.sizes()
	if err != nil {
		return nil, 0, 0, err
	}
	lo, gLo := 0, bestG
	hi, gHi := len(all), gz
	target := float64(lim.GzipBytes) * 0.99
	for try := 0; bestG <= lim.GzipBytes && hi-lo > 1; try++ {
		k := (lo + hi) / 2
		if try < 6 && gHi > gLo {
			k = lo + int((target-float64(gLo))*float64(hi-lo)/float64(gHi-gLo))
		}
		k = max(lo+1, min(k, hi-1))
		cand := build(k)
		c, g, err := cand.sizes()
		if err != nil {
			return nil, 0, 0, err
		}
		if g > lim.GzipBytes {
			hi, gHi = k, g
			continue
		}
		lo, gLo, best, bestC, bestG = k, g, cand, c, g
		if g >= lim.GzipBytes*98/100 {
			break
		}
	}
	for _, x := range all[lo:] {
		drop(l.runs[x.run], l.runs[x.run].issues[x.i])
	}
	return best, bestC, bestG, nil
}

func severityName(ei *v1.EnrichedIssue) string {
	return strings.TrimPrefix(ei.GetRawIssue().GetSeverity().String(), "SEVERITY_")
}

func severityOf(name string) int32 { return v1.Severity_value["SEVERITY_"+name] }

// capRule cuts a rule's fields to the limits and says what it cut.
func capRule(r *sarif.ReportingDescriptor, lim Limits) Truncated {
	var t Truncated
	if r.Name != nil && lim.RuleNameChars > 0 {
		if s, cut := cutUTF16(*r.Name, lim.RuleNameChars); cut {
			r.Name = &s
			t.RuleNames++
		}
	}
	for _, m := range []*sarif.MultiformatMessageString{r.ShortDescription, r.FullDescription} {
		if m != nil && m.Text != nil && lim.DescriptionChars > 0 {
			if s, cut := cutUTF16(*m.Text, lim.DescriptionChars); cut {
				m.Text = &s
				t.Descriptions++
			}
		}
	}
	if tags, ok := r.Properties["tags"].([]string); ok && lim.TagsPerRule > 0 && len(tags) > lim.TagsPerRule {
		r.Properties["tags"] = tags[:lim.TagsPerRule]
		t.Tags++
	}
	return t
}

// cutUTF16 cuts s to at most n UTF-16 code units, ending in "…", at a
// character boundary, and says whether it did.
func cutUTF16(s string, n int) (string, bool) {
	if len(s) <= n {
		// No character takes more code units than UTF-8 bytes.
		return s, false
	}
	units, end := 0, -1
	for i, r := range s {
		w := max(utf16.RuneLen(r), 1) // -1 for a malformed byte, written as U+FFFD
		if end < 0 && units+w > n-1 {
			end = i
		}
		units += w
	}
	if units <= n {
		return s, false
	}
	return s[:end] + "…", true
}

// Check reads a SARIF file (any tool's, or Write's) and says whether code
// scanning would take it under lim, and how big it is compact and
// gzipped (CompactGzip's bytes), dropping nothing: the upload's question
// "does this file fit". Over-limits are its Errors; results, rules,
// locations and tags past what is shown, and fields past their length,
// its Warnings. Runs of the same driver and category (what code scanning
// rejects as "multiple runs with the same category") are an error.
func Check(data []byte, lim Limits) (Report, error) {
	var log struct {
		Runs []struct {
			Tool struct {
				Driver struct {
					Name            string `json:"name"`
					FullName        string `json:"fullName"`
					Version         string `json:"version"`
					SemanticVersion string `json:"semanticVersion"`
					GUID            string `json:"guid"`
					Rules           []struct {
						Name             string `json:"name"`
						ShortDescription struct {
							Text string `json:"text"`
						} `json:"shortDescription"`
						FullDescription struct {
							Text string `json:"text"`
						} `json:"fullDescription"`
						Properties struct {
							Tags []string `json:"tags"`
						} `json:"properties"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			AutomationDetails struct {
				ID string `json:"id"`
			} `json:"automationDetails"`
			Results []struct {
				Locations []struct{} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	rep := Report{Limits: lim}
	if err := json.Unmarshal(data, &log); err != nil {
		return rep, err
	}
	compact, gz, err := compactGzipSize(data)
	if err != nil {
		return rep, err
	}
	rep.Runs, rep.CompactBytes, rep.GzipBytes = len(log.Runs), compact, gz
	bad := func(format string, a ...any) { rep.Errors = append(rep.Errors, fmt.Sprintf(format, a...)) }
	warn := func(format string, a ...any) { rep.Warnings = append(rep.Warnings, fmt.Sprintf(format, a...)) }
	if lim.GzipBytes > 0 && gz > lim.GzipBytes {
		bad("%d bytes gzipped; code scanning takes %d", gz, lim.GzipBytes)
	}
	if lim.Runs > 0 && len(log.Runs) > lim.Runs {
		bad("%d runs; code scanning takes %d in one file", len(log.Runs), lim.Runs)
	}
	seen := map[string]bool{}
	for _, run := range log.Runs {
		d := run.Tool.Driver
		name := d.Name
		rep.Results += len(run.Results)
		category := run.AutomationDetails.ID
		if i := strings.LastIndex(category, "/"); i >= 0 {
			category = category[:i]
		} else {
			category = ""
		}
		key, _ := json.Marshal([]string{d.Name, d.FullName, d.Version, d.SemanticVersion, d.GUID, category})
		if seen[string(key)] {
			bad("%s: two runs of category %q; code scanning rejects a delivery with multiple runs with the same category", name, category)
		}
		seen[string(key)] = true
		switch n := len(run.Results); {
		case lim.ResultsPerRun > 0 && n > lim.ResultsPerRun:
			bad("%s: %d results; code scanning takes %d a run", name, n, lim.ResultsPerRun)
		case lim.ShownResultsPerRun > 0 && n > lim.ShownResultsPerRun:
			warn("%s: %d results; code scanning shows only the %d most severe of a run", name, n, lim.ShownResultsPerRun)
		}
		if n := len(d.Rules); lim.RulesPerRun > 0 && n > lim.RulesPerRun {
			bad("%s: %d rules; code scanning takes %d a run", name, n, lim.RulesPerRun)
		}
		var over Truncated
		locs := 0
		for _, r := range run.Results {
			if lim.LocationsPerResult > 0 && len(r.Locations) > lim.LocationsPerResult {
				locs++
			}
		}
		for _, r := range d.Rules {
			if lim.RuleNameChars > 0 && utf16Len(r.Name) > lim.RuleNameChars {
				over.RuleNames++
			}
			for _, t := range []string{r.ShortDescription.Text, r.FullDescription.Text} {
				if lim.DescriptionChars > 0 && utf16Len(t) > lim.DescriptionChars {
					over.Descriptions++
				}
			}
			if lim.TagsPerRule > 0 && len(r.Properties.Tags) > lim.TagsPerRule {
				over.Tags++
			}
		}
		if locs > 0 {
			warn("%s: %d results with more than %d locations", name, locs, lim.LocationsPerResult)
		}
		if over.RuleNames+over.Descriptions+over.Tags > 0 {
			warn("%s: over code scanning's limits: %d rule names, %d descriptions, the tags of %d rules", name, over.RuleNames, over.Descriptions, over.Tags)
		}
	}
	rep.Kept = rep.Results
	return rep, nil
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += max(utf16.RuneLen(r), 1)
	}
	return n
}
