package gate

import (
	"fmt"
	"strings"
	"testing"

	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

func results(issues ...*v1.EnrichedIssue) []*v1.EnrichedLaunchToolResponse {
	return []*v1.EnrichedLaunchToolResponse{{Issues: issues}}
}

func finding(sev v1.Severity, isNew, suppressed bool) *v1.EnrichedIssue {
	return &v1.EnrichedIssue{RawIssue: &v1.Issue{Severity: sev}, IsNew: isNew, Suppressed: suppressed}
}

func TestEvaluate(t *testing.T) {
	high, crit, low := v1.Severity_SEVERITY_HIGH, v1.Severity_SEVERITY_CRITICAL, v1.Severity_SEVERITY_LOW
	for _, tc := range []struct {
		name     string
		res      []*v1.EnrichedLaunchToolResponse
		failures []ProducerFailure
		opts     Options
		verdict  string
		exit     int
		reason   string
	}{
		{"no threshold", results(finding(crit, true, false)), nil, Options{}, Passed, ExitPass, ""},
		{"below threshold", results(finding(low, true, false)), nil, Options{FailOn: high}, Passed, ExitPass, ""},
		{"at threshold", results(finding(high, true, false), finding(crit, false, false)), nil, Options{FailOn: high}, Failed, ExitFindings, "2 findings at or above HIGH (1 CRITICAL, 1 HIGH)"},
		{"suppressed ignored", results(finding(crit, true, true)), nil, Options{FailOn: high}, Passed, ExitPass, ""},
		{"new only", results(finding(crit, false, false)), nil, Options{FailOn: high, NewOnly: true}, Passed, ExitPass, ""},
		{"new only, one new", results(finding(crit, true, false)), nil, Options{FailOn: high, NewOnly: true}, Failed, ExitFindings, "1 new findings at or above HIGH"},
		{"producer failed", nil, []ProducerFailure{{Name: "gosec", Reason: "exit 2"}}, Options{}, Failed, ExitError, "producer gosec failed: exit 2"},
		{"producer failure allowed", nil, []ProducerFailure{{Name: "gosec", Reason: "exit 2", Allowed: true}}, Options{}, Passed, ExitPass, ""},
		{"consumer failed", nil, []ProducerFailure{{Stage: "consumer", Name: "sarif", Reason: "disk full"}}, Options{}, Failed, ExitError, "consumer sarif failed: disk full"},
		{"one finding from two tools counts once", results(finding(high, true, false),
			&v1.EnrichedIssue{RawIssue: &v1.Issue{Severity: high}, IsNew: true, DuplicateOf: "h1"}), nil, Options{FailOn: high}, Failed, ExitFindings, "1 findings at or above HIGH (1 HIGH)"},
		{"outside the diff filter not gated", results(finding(high, true, false),
			&v1.EnrichedIssue{RawIssue: &v1.Issue{Severity: crit}, Annotations: map[string]string{"dracon.diff": "outside"}}), nil, Options{FailOn: high}, Failed, ExitFindings, "1 findings at or above HIGH (1 HIGH)"},
		{"failure wins over findings", results(finding(crit, true, false)), []ProducerFailure{{Name: "bandit", Reason: "x"}}, Options{FailOn: high}, Failed, ExitError, "producer bandit failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := Evaluate(tc.res, tc.failures, tc.opts)
			if v.Verdict != tc.verdict || v.ExitCode != tc.exit || !strings.Contains(strings.Join(v.Reasons, "; "), tc.reason) {
				t.Errorf("got %+v", v)
			}
		})
	}
}

func TestParseSeverity(t *testing.T) {
	for in, want := range map[string]v1.Severity{"": 0, "none": 0, "High": v1.Severity_SEVERITY_HIGH, " critical ": v1.Severity_SEVERITY_CRITICAL, "info": v1.Severity_SEVERITY_INFO} {
		if got, err := ParseSeverity(in); err != nil || got != want {
			t.Errorf("%q: %v %v", in, got, err)
		}
	}
	for _, bad := range []string{"severe", "unspecified", "5"} {
		if _, err := ParseSeverity(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func owned(sev v1.Severity, owners ...string) *v1.EnrichedIssue {
	is := finding(sev, true, false)
	is.Annotations = map[string]string{}
	for i, o := range owners {
		is.Annotations[fmt.Sprintf("Owner-%d", i)] = o
	}
	return is
}

// TestTeams: a team's threshold decides for the findings it owns; the
// strictest of several owning teams wins; the others keep the default.
func TestTeams(t *testing.T) {
	high, med, low := v1.Severity_SEVERITY_HIGH, v1.Severity_SEVERITY_MEDIUM, v1.Severity_SEVERITY_LOW
	none := v1.Severity_SEVERITY_UNSPECIFIED
	teams := map[string]v1.Severity{"@acme/payments": med, "@acme/docs": none}
	for _, tc := range []struct {
		name    string
		res     []*v1.EnrichedLaunchToolResponse
		failOn  v1.Severity
		verdict string
		reasons []string
	}{
		{"payments fails on medium", results(owned(med, "@acme/payments"), owned(med, "@acme/web")), high, Failed,
			[]string{"1 findings owned by @acme/payments at or above MEDIUM (1 MEDIUM)"}},
		{"docs never fails", results(owned(high, "@acme/docs")), high, Passed, nil},
		{"the strictest owner wins", results(owned(med, "@acme/docs", "@acme/payments")), high, Failed,
			[]string{"1 findings owned by @acme/payments at or above MEDIUM (1 MEDIUM)"}},
		{"default and team reasons", results(owned(high, "@acme/web"), owned(low, "@acme/payments"), owned(high, "@acme/payments")), high, Failed,
			[]string{"1 findings at or above HIGH (1 HIGH)", "1 findings owned by @acme/payments at or above MEDIUM (1 HIGH)"}},
		{"teams gate with no default", results(owned(med, "@acme/payments"), owned(high, "@acme/web")), none, Failed,
			[]string{"1 findings owned by @acme/payments at or above MEDIUM (1 MEDIUM)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := Evaluate(tc.res, nil, Options{FailOn: tc.failOn, Teams: teams})
			if v.Verdict != tc.verdict || strings.Join(v.Reasons, "; ") != strings.Join(tc.reasons, "; ") {
				t.Errorf("got %+v", v)
			}
		})
	}
}
