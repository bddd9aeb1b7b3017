package policy

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"maps"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/draconsec/dracon/internal/fingerprint"
	"github.com/draconsec/dracon/internal/policy/builtin"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// The tests of docs/policy-input.schema.json: what input.go builds matches
// it, and it lets no field through that it does not describe.

const policyInputSchemaPath = "../../docs/policy-input.schema.json"

var schemaTestNow = time.Date(2025, 6, 15, 12, 0, 0, 0, time.UTC)

func schemaTestContext(event string) Context {
	return Context{
		Repository: "acme/app", Ref: "refs/pull/7/merge", Commit: "0123456789abcdef0123456789abcdef01234567",
		Event: event, BaseRef: "main", DefaultBranch: "main", CI: "github", ScanID: "scan-1",
		ServerURL: "https://github.com", Now: schemaTestNow,
	}
}

func schemaTestDaysAgo(d int) *timestamppb.Timestamp {
	return timestamppb.New(schemaTestNow.Add(-time.Duration(d) * 24 * time.Hour))
}

// schemaTestRun is a scan with a finding of every kind: a new high gosec
// finding 40 days old owned by @acme/payments, a critical dependency, a
// secret outside the diff, a secret triaged as a false positive, an IaC
// and a DAST finding the store never saw, and semgrep's duplicate of the
// gosec finding.
func schemaTestRun(event string) Run {
	code := &v1.EnrichedIssue{
		RawIssue: &v1.Issue{
			Target: "a/b.go:12", Type: "G101", Title: "Potential hardcoded credentials",
			Severity: v1.Severity_SEVERITY_HIGH, Confidence: v1.Confidence_CONFIDENCE_UNSPECIFIED,
			Cwe: []int32{798}, Location: &v1.Location{Path: "a/b.go", StartLine: 12, EndLine: 14},
			RuleId: "G101", ToolName: "gosec",
		},
		FirstSeen: schemaTestDaysAgo(40), LastSeen: schemaTestDaysAgo(0), Count: 7,
		Hash: "h-code", IsNew: true, FindingId: "f-code", Status: "open",
		Signatures:  map[string]string{fingerprint.CodeV1: "h-code"},
		SeenBy:      []string{"gosec", "semgrep"},
		Annotations: map[string]string{"Owner-1": "@acme/payments", "Owner-2": "@acme/security"},
	}
	dup := &v1.EnrichedIssue{
		RawIssue: &v1.Issue{
			Target: "a/b.go:12", Title: "hardcoded credential", Severity: v1.Severity_SEVERITY_HIGH,
			Location: &v1.Location{Path: "a/b.go", StartLine: 12}, RuleId: "go.lang.security.hardcoded", ToolName: "semgrep",
		},
		Hash: "h-dup", DuplicateOf: "h-code", FirstSeen: schemaTestDaysAgo(40), LastSeen: schemaTestDaysAgo(0),
	}
	dep := &v1.EnrichedIssue{
		RawIssue: &v1.Issue{
			Target: "pkg:golang/golang.org/x/net@v0.7.0", Type: "GO-2023-1571", Title: "x/net: HTTP/2 rapid reset",
			Severity: v1.Severity_SEVERITY_CRITICAL, Cvss: 9.8, Confidence: v1.Confidence_CONFIDENCE_HIGH, Cve: "CVE-2023-44487",
			PackageUrl: "pkg:golang/golang.org/x/net@v0.7.0", PackageVersion: "v0.7.0", FixedVersion: "v0.17.0",
		},
		FirstSeen: schemaTestDaysAgo(3), LastSeen: schemaTestDaysAgo(0), Count: 2,
		Hash: "h-dep", FindingId: "f-dep", Status: "reopened",
		Signatures: map[string]string{fingerprint.DepV1: "h-dep"},
	}
	secret := &v1.EnrichedIssue{
		RawIssue: &v1.Issue{
			Target: "deploy/env.sh:3", Type: "aws-access-token", Title: "AWS access key",
			Severity: v1.Severity_SEVERITY_MEDIUM, Location: &v1.Location{Path: "deploy/env.sh", StartLine: 3},
			RuleId: "aws-access-token", ToolName: "gitleaks",
		},
		FirstSeen: schemaTestDaysAgo(100), LastSeen: schemaTestDaysAgo(0), Count: 30,
		Hash: "h-secret", FindingId: "f-secret", Status: "open",
		Signatures:  map[string]string{fingerprint.SecretV1: "h-secret"},
		Annotations: map[string]string{"dracon.diff": "outside"},
	}
	fp := &v1.EnrichedIssue{
		RawIssue: &v1.Issue{
			Target: "testdata/key.pem:1", Type: "private-key", Title: "Private key",
			Severity: v1.Severity_SEVERITY_HIGH, Location: &v1.Location{Path: "testdata/key.pem", StartLine: 1},
			RuleId: "private-key", ToolName: "gitleaks",
		},
		FirstSeen: schemaTestDaysAgo(10), LastSeen: schemaTestDaysAgo(0), Count: 4,
		Hash: "h-fp", FindingId: "f-fp", Status: "false_positive", FalsePositive: true,
		Suppressed: true, SuppressionReason: "triaged false_positive by alice: test key",
		Signatures: map[string]string{fingerprint.SecretV1: "h-fp"},
	}
	iac := &v1.EnrichedIssue{
		RawIssue: &v1.Issue{
			Target: "deploy/main.tf:8", Title: "S3 bucket without encryption", Severity: v1.Severity_SEVERITY_MEDIUM,
			Confidence: v1.Confidence_CONFIDENCE_MEDIUM, Location: &v1.Location{Path: "deploy/main.tf", StartLine: 8, EndLine: 20},
			RuleId: "CKV_AWS_19", ToolName: "checkov",
		},
		Hash: "h-iac", IsNew: true, Signatures: map[string]string{fingerprint.IaCV1: "h-iac"},
	}
	dast := &v1.EnrichedIssue{
		RawIssue: &v1.Issue{
			Target: "https://app.example.com/login?next=x", Title: "Reflected XSS", Severity: v1.Severity_SEVERITY_LOW,
			Confidence: v1.Confidence_CONFIDENCE_LOW, RuleId: "40012", ToolName: "zap", Cwe: []int32{79},
		},
		Hash: "h-dast", IsNew: true, Signatures: map[string]string{fingerprint.DastV1: "h-dast"},
		Annotations: map[string]string{"method": "GET", "param": "next"},
	}
	res := func(tool string, issues ...*v1.EnrichedIssue) *v1.EnrichedLaunchToolResponse {
		return &v1.EnrichedLaunchToolResponse{OriginalResults: &v1.LaunchToolResponse{ToolName: tool}, Issues: issues}
	}
	return Run{
		Context: schemaTestContext(event),
		Producers: []Producer{
			{Name: "gosec", Status: "ok", Findings: 1},
			{Name: "semgrep", Status: "ok", Findings: 1},
			{Name: "govulncheck", Status: "ok", Findings: 1},
			{Name: "gitleaks", Status: "ok", Findings: 2},
			{Name: "checkov", Status: "skipped", Reason: "no Terraform", AllowFailure: true},
			{Name: "zap", Status: "failed", Reason: "exit 3", AllowFailure: true},
		},
		Results: []*v1.EnrichedLaunchToolResponse{
			res("gosec", code), res("semgrep", dup), res("govulncheck", dep),
			res("gitleaks", secret, fp), res("checkov", iac), res("zap", dast),
		},
	}
}

// schemaTestJSON is an input document as the JSON a policy sees.
func schemaTestJSON(t *testing.T, v ast.Value) any {
	t.Helper()
	x, err := ast.JSON(v)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(x)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// compilePolicyInputSchema compiles the schema at ptr ("" for the whole
// document, "#/$defs/run" for one definition), asserting formats
// (date-time, uri).
func compilePolicyInputSchema(t *testing.T, ptr string) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	sch, err := c.Compile(policyInputSchemaPath + ptr)
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

func TestPolicyInputSchemaRun(t *testing.T) {
	whole, run := compilePolicyInputSchema(t, ""), compilePolicyInputSchema(t, "#/$defs/run")
	for _, event := range []string{EventPullRequest, EventRelease} {
		doc := schemaTestJSON(t, RunInput(schemaTestRun(event)))
		for name, sch := range map[string]*jsonschema.Schema{"the schema": whole, "$defs/run": run} {
			if err := sch.Validate(doc); err != nil {
				t.Errorf("%s: run input does not match %s: %v", event, name, err)
			}
		}
		findings := doc.(map[string]any)["findings"].([]any)
		if len(findings) != 6 {
			t.Errorf("%d findings in run input, want 6 (the duplicate left out)", len(findings))
		}
	}
	// Context without a code host, a zero clock: still valid.
	r := schemaTestRun(EventManual)
	r.Context = Context{Event: EventManual}
	r.Producers = nil
	if err := run.Validate(schemaTestJSON(t, RunInput(r))); err != nil {
		t.Errorf("bare run input: %v", err)
	}
}

func TestPolicyInputSchemaFinding(t *testing.T) {
	whole, fi := compilePolicyInputSchema(t, ""), compilePolicyInputSchema(t, "#/$defs/finding_input")
	r := schemaTestRun(EventPullRequest)
	n := 0
	for _, res := range r.Results {
		for _, is := range res.GetIssues() {
			doc := schemaTestJSON(t, FindingInput(res.GetOriginalResults().GetToolName(), is, r.Context))
			for name, sch := range map[string]*jsonschema.Schema{"the schema": whole, "$defs/finding_input": fi} {
				if err := sch.Validate(doc); err != nil {
					t.Errorf("finding input of %s does not match %s: %v", is.GetHash(), name, err)
				}
			}
			n++
		}
	}
	if n != 7 {
		t.Errorf("%d findings, want 7", n)
	}
}

// TestPolicyInputSchemaStrict: a field the schema does not describe fails
// validation, wherever it is; and finding_input is finding plus context.
func TestPolicyInputSchemaStrict(t *testing.T) {
	run, fi := compilePolicyInputSchema(t, "#/$defs/run"), compilePolicyInputSchema(t, "#/$defs/finding_input")
	r := schemaTestRun(EventPullRequest)
	mutate := []struct {
		name string
		sch  *jsonschema.Schema
		doc  func() any
		edit func(doc map[string]any)
	}{
		{"run", run, func() any { return schemaTestJSON(t, RunInput(r)) }, func(d map[string]any) { d["extra"] = 1 }},
		{"run context", run, func() any { return schemaTestJSON(t, RunInput(r)) }, func(d map[string]any) { d["context"].(map[string]any)["extra"] = "" }},
		{"run finding", run, func() any { return schemaTestJSON(t, RunInput(r)) }, func(d map[string]any) { d["findings"].([]any)[0].(map[string]any)["extra"] = "" }},
		{"counts", run, func() any { return schemaTestJSON(t, RunInput(r)) }, func(d map[string]any) { d["counts"].(map[string]any)["extra"] = 0 }},
		{"producer", run, func() any { return schemaTestJSON(t, RunInput(r)) }, func(d map[string]any) { d["producers"].([]any)[0].(map[string]any)["extra"] = 0 }},
		{"finding input", fi, func() any { return schemaTestJSON(t, FindingInput("gosec", r.Results[0].Issues[0], r.Context)) }, func(d map[string]any) { d["extra"] = "" }},
		{"finding input context", fi, func() any { return schemaTestJSON(t, FindingInput("gosec", r.Results[0].Issues[0], r.Context)) }, func(d map[string]any) { d["context"].(map[string]any)["extra"] = "" }},
		{"severity", fi, func() any { return schemaTestJSON(t, FindingInput("gosec", r.Results[0].Issues[0], r.Context)) }, func(d map[string]any) { d["severity"] = "HIGH" }},
		{"event", run, func() any { return schemaTestJSON(t, RunInput(r)) }, func(d map[string]any) { d["context"].(map[string]any)["event"] = "pull_request_target" }},
		{"missing field", fi, func() any { return schemaTestJSON(t, FindingInput("gosec", r.Results[0].Issues[0], r.Context)) }, func(d map[string]any) { delete(d, "owners") }},
		{"missing context", fi, func() any { return schemaTestJSON(t, FindingInput("gosec", r.Results[0].Issues[0], r.Context)) }, func(d map[string]any) { delete(d, "context") }},
	}
	for _, m := range mutate {
		doc := m.doc()
		if err := m.sch.Validate(doc); err != nil {
			t.Fatalf("%s: valid input fails: %v", m.name, err)
		}
		m.edit(doc.(map[string]any))
		if err := m.sch.Validate(doc); err == nil {
			t.Errorf("%s: the schema accepts an input it does not describe", m.name)
		}
	}

	// The schema as JSON: finding_input lists finding's fields and context,
	// and every field has a description.
	data, err := os.ReadFile(policyInputSchemaPath)
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Defs map[string]struct {
			Required   []string                  `json:"required"`
			Properties map[string]map[string]any `json:"properties"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	finding, input := s.Defs["finding"], s.Defs["finding_input"]
	want := append(slices.Sorted(maps.Keys(finding.Properties)), "context")
	sort.Strings(want)
	if got := slices.Sorted(maps.Keys(input.Properties)); !slices.Equal(got, want) {
		t.Errorf("finding_input has fields %q, want finding's and context: %q", got, want)
	}
	wantReq := append(slices.Clone(finding.Required), "context")
	sort.Strings(wantReq)
	if got := slices.Sorted(slices.Values(input.Required)); !slices.Equal(got, wantReq) {
		t.Errorf("finding_input requires %q, want %q", got, wantReq)
	}
	for def, d := range s.Defs {
		for name, p := range d.Properties {
			if _, ok := p["description"]; ok {
				continue
			}
			if ref, _ := p["$ref"].(string); def == "finding_input" && ref == "#/$defs/finding/properties/"+name {
				continue
			}
			t.Errorf("$defs/%s/properties/%s has no description", def, name)
		}
	}
}

// TestPolicyInputSchemaBuiltinPolicies evaluates the default policies on
// input.go's input, with strict built-in errors: they read the fields it
// writes under the names it writes them.
func TestPolicyInputSchemaBuiltinPolicies(t *testing.T) {
	var mods []func(*rego.Rego)
	for _, n := range builtin.Files() {
		src, err := fs.ReadFile(builtin.FS, n)
		if err != nil {
			t.Fatal(err)
		}
		mods = append(mods, rego.Module(builtin.Name+"/"+n, string(src)))
	}
	data := map[string]any{"dracon": map[string]any{
		"sla": map[string]any{"teams": map[string]any{"@acme/security": map[string]any{"high_days": 60}}},
		"exceptions": []any{
			map[string]any{"rule": "CKV_AWS_19", "owner": "@acme/ops", "reason": "r", "expires": "2025-01-01"},
			map[string]any{"tool": "zap", "owner": "@acme/web"},
		},
	}}
	eval := func(event string) map[string][]string {
		t.Helper()
		args := append([]func(*rego.Rego){
			rego.Query("data.dracon.builtin"), rego.ParsedInput(RunInput(schemaTestRun(event))),
			rego.Store(inmem.NewFromObject(data)), rego.StrictBuiltinErrors(true),
			rego.SetRegoVersion(ast.RegoV1),
		}, mods...)
		rs, err := rego.New(args...).Eval(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) != 1 {
			t.Fatalf("%d results", len(rs))
		}
		got := map[string][]string{}
		for pkg, v := range rs[0].Expressions[0].Value.(map[string]any) {
			for _, set := range []string{"deny", "warn"} {
				items, _ := v.(map[string]any)[set].([]any)
				for _, x := range items {
					switch x := x.(type) {
					case string:
						got[pkg+"."+set] = append(got[pkg+"."+set], x)
					case map[string]any:
						ids, _ := x["findings"].([]any)
						if id, ok := x["finding"].(string); ok {
							ids = append(ids, id)
						}
						for _, id := range ids {
							got[pkg+"."+set] = append(got[pkg+"."+set], id.(string))
						}
					}
				}
			}
		}
		for _, v := range got {
			sort.Strings(v)
		}
		return got
	}
	// Warnings of the exceptions package: the expired one matches checkov's
	// finding, the other has no reason or expiry.
	exc := []string{"data.dracon.exceptions[1] (tool \"zap\") is ignored: it has no expires; it has no reason", "h-iac"}
	sort.Strings(exc)
	for event, want := range map[string]map[string][]string{
		// The new gosec finding (no confidence); the secret outside the diff.
		EventPullRequest: {"pull_request.deny": {"f-code"}, "secrets.deny": {"f-secret"}, "exceptions.warn": exc},
		// The new gosec finding, the reopened critical dependency.
		EventPush: {"branch.warn": {"f-code", "f-dep"}, "secrets.deny": {"f-secret"}, "exceptions.warn": exc},
		// The critical dependency, and the gosec finding: 40 days old, past
		// the default 30-day SLA of its co-owner @acme/payments.
		EventRelease: {"release.deny": {"f-code", "f-dep"}, "secrets.deny": {"f-secret"}, "exceptions.warn": exc},
	} {
		got := eval(event)
		if !maps.EqualFunc(got, want, slices.Equal) {
			t.Errorf("%s: default policies decide\n%q\nwant\n%q", event, got, want)
		}
	}
	// Release messages name age and SLA.
	rs, err := rego.New(append([]func(*rego.Rego){
		rego.Query("data.dracon.builtin.release.deny"), rego.ParsedInput(RunInput(schemaTestRun(EventRelease))),
		rego.StrictBuiltinErrors(true),
	}, mods...)...).Eval(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(rs[0].Expressions[0].Value)
	if want := "open high finding G101 (gosec) in a/b.go:12 is 40 days old, past the default 30-day SLA"; !strings.Contains(string(b), want) {
		t.Errorf("release deny %s, want %q", b, want)
	}
}
