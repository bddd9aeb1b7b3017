// Package gate decides whether a run passes: the policies' deny rules
// (internal/policy) fail it, and so do findings at or above a severity
// (--fail-on), any producer that did not run to the end unless the config
// or a policy allows that producer to fail, and a scan in which no
// producer ran (fail closed).
package gate

import (
	"fmt"
	"sort"
	"strings"

	"github.com/draconsec/dracon/internal/policy"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// Verdicts.
const (
	Passed = "passed"
	Failed = "failed"
)

// Exit codes, documented in the README.
const (
	ExitPass     = 0 // the gate passed
	ExitFindings = 1 // policy failure: findings at or above the threshold
	ExitError    = 2 // usage error, bad config, or a producer that failed
)

// Options configure the gate.
type Options struct {
	// FailOn is the lowest severity that fails; UNSPECIFIED never fails on findings.
	FailOn v1.Severity
	// NewOnly counts only findings no earlier scan saw.
	NewOnly bool
	// Teams are per-team thresholds, by owner as CODEOWNERS names it
	// ("@acme/payments"): a finding that team owns fails at its threshold
	// instead of FailOn (UNSPECIFIED: never). A finding with several
	// owners that have thresholds takes the strictest.
	Teams map[string]v1.Severity
	// Policy is the policies' decision; nil when none was evaluated.
	Policy *policy.Decision
	// PolicyErrors are allow policies' errors on single findings (each
	// wrote "false" for its finding): reported, never a pass or a fail.
	PolicyErrors []error
	// Ran counts the producers that ran to the end; with RequireRun, none
	// is a failure: an empty scan is not a pass.
	Ran        int
	RequireRun bool
}

// ownerPrefix is the owners enricher's annotation key prefix (Dracon's
// Owner-0, Owner-1, ...).
const ownerPrefix = "Owner-"

// threshold is the severity at which is fails, and the team whose
// threshold it is ("" for FailOn). Of several owning teams, the strictest
// wins: one that fails at all beats "none", a lower severity beats a
// higher one, and names break ties.
func (o Options) threshold(is *v1.EnrichedIssue) (v1.Severity, string) {
	type team struct {
		failOn v1.Severity
		name   string
	}
	var owning []team
	for k, owner := range is.GetAnnotations() {
		if s, ok := o.Teams[owner]; ok && strings.HasPrefix(k, ownerPrefix) {
			owning = append(owning, team{s, owner})
		}
	}
	if len(owning) == 0 {
		return o.FailOn, ""
	}
	none := v1.Severity_SEVERITY_UNSPECIFIED
	sort.Slice(owning, func(i, j int) bool {
		a, b := owning[i], owning[j]
		if (a.failOn == none) != (b.failOn == none) {
			return b.failOn == none
		}
		if a.failOn != b.failOn {
			return a.failOn < b.failOn
		}
		return a.name < b.name
	})
	return owning[0].failOn, owning[0].name
}

// ProducerFailure is a producer (or, with Stage "consumer", a consumer)
// that did not finish.
type ProducerFailure struct {
	Name, Reason string
	Allowed      bool
	Stage        string // "producer" when empty
}

// Verdict is the gate's decision.
type Verdict struct {
	Verdict  string
	Reasons  []string
	ExitCode int
	// Warnings are what the policies warn of; they never fail the run.
	Warnings []string
}

// ParseSeverity reads a --fail-on value; "" and "none" mean never.
func ParseSeverity(s string) (v1.Severity, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "none":
		return v1.Severity_SEVERITY_UNSPECIFIED, nil
	}
	v, ok := v1.Severity_value["SEVERITY_"+strings.ToUpper(strings.TrimSpace(s))]
	if !ok || v == 0 {
		return 0, fmt.Errorf("%q is not a severity (none, info, low, medium, high, critical)", s)
	}
	return v1.Severity(v), nil
}

// Evaluate decides.
func Evaluate(results []*v1.EnrichedLaunchToolResponse, failures []ProducerFailure, o Options) Verdict {
	v := Verdict{Verdict: Passed, ExitCode: ExitPass}
	sort.Slice(failures, func(i, j int) bool { return failures[i].Name < failures[j].Name })
	for _, f := range failures {
		if f.Allowed || (f.Stage == "" || f.Stage == "producer") && o.Policy != nil && o.Policy.AllowFailure[f.Name] {
			continue
		}
		stage := f.Stage
		if stage == "" {
			stage = "producer"
		}
		v.Reasons = append(v.Reasons, fmt.Sprintf("%s %s failed: %s", stage, f.Name, f.Reason))
		v.Verdict, v.ExitCode = Failed, ExitError
	}
	if o.RequireRun && o.Ran == 0 {
		v.Reasons = append(v.Reasons, "no producer ran to the end: an empty scan is not a pass")
		v.Verdict, v.ExitCode = Failed, ExitError
	}
	if o.Policy != nil {
		for _, d := range o.Policy.Deny {
			v.Reasons = append(v.Reasons, Describe(d))
			v.Verdict = Failed
			if v.ExitCode == ExitPass {
				v.ExitCode = ExitFindings
			}
		}
		for _, w := range o.Policy.Warn {
			v.Warnings = append(v.Warnings, Describe(w))
		}
	}
	for _, err := range o.PolicyErrors {
		v.Warnings = append(v.Warnings, "policy error (the finding's annotation says false): "+err.Error())
	}
	if o.FailOn == v1.Severity_SEVERITY_UNSPECIFIED && len(o.Teams) == 0 {
		return v
	}
	type bucket struct {
		failOn v1.Severity
		bySev  map[v1.Severity]int
		total  int
	}
	buckets := map[string]*bucket{} // by team; "" is FailOn's
	for _, r := range results {
		for _, is := range r.GetIssues() {
			// Another tool's report of a finding counts once, on the issue
			// that stands for it; what the change did not touch (the diff
			// filter of internal/enrichers/baseline) is not its to gate.
			if is.GetSuppressed() || is.GetDuplicateOf() != "" || (o.NewOnly && !is.GetIsNew()) ||
				is.GetAnnotations()["dracon.diff"] == "outside" {
				continue
			}
			failOn, team := o.threshold(is)
			if s := is.GetRawIssue().GetSeverity(); failOn != v1.Severity_SEVERITY_UNSPECIFIED && s >= failOn {
				b := buckets[team]
				if b == nil {
					b = &bucket{failOn: failOn, bySev: map[v1.Severity]int{}}
					buckets[team] = b
				}
				b.bySev[s]++
				b.total++
			}
		}
	}
	teams := make([]string, 0, len(buckets))
	for t := range buckets {
		teams = append(teams, t)
	}
	sort.Strings(teams) // FailOn's ("") first, then teams by name
	for _, team := range teams {
		b := buckets[team]
		var parts []string
		for s := v1.Severity_SEVERITY_CRITICAL; s >= b.failOn; s-- {
			if n := b.bySev[s]; n > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", n, strings.TrimPrefix(s.String(), "SEVERITY_")))
			}
		}
		what := "findings"
		if o.NewOnly {
			what = "new findings"
		}
		if team != "" {
			what += " owned by " + team
		}
		v.Reasons = append(v.Reasons, fmt.Sprintf("%d %s at or above %s (%s)", b.total, what,
			strings.TrimPrefix(b.failOn.String(), "SEVERITY_"), strings.Join(parts, ", ")))
		v.Verdict = Failed
		if v.ExitCode == ExitPass {
			v.ExitCode = ExitFindings
		}
	}
	return v
}

// Describe is one line for a violation: the message, the rule that wrote
// it, and the finding's link (or location) when it names one finding.
func Describe(v policy.Violation) string {
	s := v.Message + " [" + strings.TrimPrefix(v.Rule, "data.") + "]"
	switch len(v.Findings) {
	case 0:
	case 1:
		f := v.Findings[0]
		switch {
		case f.Link != "":
			s += " " + f.Link
		case f.Path != "" && !strings.Contains(v.Message, f.Path):
			s += fmt.Sprintf(" %s:%d", f.Path, f.Line)
		}
	default:
		s += fmt.Sprintf(" (%d findings)", len(v.Findings))
	}
	return s
}
