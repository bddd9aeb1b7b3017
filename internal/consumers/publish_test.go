package consumers_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/draconsec/dracon/internal/config"
	"github.com/draconsec/dracon/internal/consumers"
	"github.com/draconsec/dracon/internal/consumers/consumertest"
	"github.com/draconsec/dracon/internal/secret"
)

func TestSelect(t *testing.T) {
	run := consumertest.Run(t)
	all := consumers.Flatten(run.Results)
	count := func(f config.Filter, want func(consumers.Finding) bool) {
		t.Helper()
		got := consumers.Select(all, f)
		n := 0
		for _, fd := range all {
			if want(fd) {
				n++
			}
		}
		if len(got) != n || n == 0 {
			t.Errorf("filter %+v kept %d, want %d (and at least one)", f, len(got), n)
		}
		for _, fd := range got {
			if !want(fd) {
				t.Errorf("filter %+v kept %s %s", f, fd.Tool, fd.Issue.GetRawIssue().GetRuleId())
			}
		}
	}
	count(config.Filter{}, func(consumers.Finding) bool { return true })
	count(config.Filter{MinSeverity: "high"}, func(f consumers.Finding) bool { return f.Issue.GetRawIssue().GetSeverity() >= 4 })
	count(config.Filter{NewOnly: true}, func(f consumers.Finding) bool { return f.Issue.GetIsNew() })
	count(config.Filter{Tools: []string{"gitleaks", "trivy"}}, func(f consumers.Finding) bool { return f.Tool == "gitleaks" || f.Tool == "trivy" })
	count(config.Filter{Teams: []string{"@acme/payments"}}, func(f consumers.Finding) bool { return consumers.Owners(f.Issue)[0] == "@acme/payments" })
	count(config.Filter{Policy: []string{"deny"}}, func(f consumers.Finding) bool { return consumers.PolicyResult(f.Issue) == "deny" })
	count(config.Filter{Status: []string{"existing"}}, func(f consumers.Finding) bool { return !f.Issue.GetIsNew() })
	count(config.Filter{MinConfidence: "high"}, func(f consumers.Finding) bool {
		c := f.Issue.GetRawIssue().GetConfidence()
		return c == 0 || c >= 4
	})

	all[0].Issue.Suppressed = true
	all[1].Issue.DuplicateOf = "f0001"
	if got := len(consumers.Select(all, config.Filter{})); got != len(all)-2 {
		t.Errorf("kept %d of %d: a suppressed finding and a duplicate must be left out", got, len(all))
	}
	if got := len(consumers.Select(all, config.Filter{Suppressed: true})); got != len(all)-1 {
		t.Errorf("suppressed: true kept %d of %d: it keeps the suppressed one, never the duplicate", got, len(all))
	}
}

type fakeSink struct {
	name string
	d    consumers.Delivery
	err  error
	got  int
}

func (f *fakeSink) String() string { return f.name }
func (f *fakeSink) Publish(_ context.Context, _ *consumers.Run, fs []consumers.Finding) (consumers.Delivery, error) {
	f.got = len(fs)
	return f.d, f.err
}

func TestPublishAllReportsEachAndMasks(t *testing.T) {
	run := consumertest.Run(t)
	m := secret.NewMasker(nil, nil)
	m.Add("hooks-secret-path")
	ok := &fakeSink{name: "ok", d: consumers.Delivery{Created: 3}}
	broken := &fakeSink{name: "broken", err: errors.New(`Post "https://hooks.example/hooks-secret-path": connection refused`)}
	partial := &fakeSink{name: "partial", d: consumers.Delivery{Created: 1, Failed: 2, Errors: []string{"two refused"}}}
	out := consumers.PublishAll(context.Background(), run, []consumers.Configured{
		{Publisher: ok, Delivery: config.Delivery{Filter: config.Filter{MinSeverity: "high"}}},
		{Publisher: broken, Delivery: config.Delivery{AllowFailure: true}},
		{Publisher: partial},
	}, m)
	if len(out) != 3 || out[0].Status != "ok" || out[1].Status != "failed" || out[2].Status != "failed" {
		t.Fatalf("outcomes %+v", out)
	}
	if out[0].Created != 3 || out[0].Findings != ok.got || out[0].Filtered == 0 {
		t.Errorf("ok: %+v (its filter kept %d)", out[0], ok.got)
	}
	if !out[1].AllowFailure || strings.Contains(strings.Join(out[1].Errors, ""), "hooks-secret-path") {
		t.Errorf("broken: %+v: the error must be reported masked", out[1])
	}
	if out[2].Failed != 2 || out[2].Errors[0] != "two refused" {
		t.Errorf("partial: %+v", out[2])
	}
}
