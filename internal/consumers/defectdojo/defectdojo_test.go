package defectdojo

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/draconsec/dracon/internal/config"
	"github.com/draconsec/dracon/internal/consumers"
	"github.com/draconsec/dracon/internal/consumers/consumertest"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// testToken has the shape of a DefectDojo API v2 key (40 hex digits).
const testToken = "3f1c2d9e8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e"

type fixture struct {
	dojo *dojo
	rec  *consumertest.Recorder
	c    *Consumer
	cfg  *config.DefectDojo
	log  *bytes.Buffer
}

func setup(t *testing.T, cfg *config.DefectDojo) *fixture {
	t.Helper()
	f := &fixture{dojo: newDojo(t, testToken), rec: &consumertest.Recorder{}, cfg: cfg, log: &bytes.Buffer{}}
	hs := httptest.NewServer(f.rec.Wrap(f.dojo))
	t.Cleanup(hs.Close)
	if cfg.URL == "" {
		cfg.URL = hs.URL
	}
	var err error
	f.c, err = New(cfg, consumertest.Env(t, map[string]string{EnvToken: testToken}, f.log))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// publish sends a run as the framework does: the filter applied first.
func (f *fixture) publish(t *testing.T, run *consumers.Run) (consumers.Delivery, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return f.c.Publish(ctx, run, consumers.Select(consumers.Flatten(run.Results), f.cfg.Filter))
}

// sendable counts a run's findings by tool, SBOMs left out.
func sendable(run *consumers.Run) map[string]int {
	n := map[string]int{}
	for _, fd := range consumers.Flatten(run.Results) {
		if !isSBOM(fd.Issue.GetRawIssue()) {
			n[fd.Tool]++
		}
	}
	return n
}

func sum(m map[string]int) int {
	s := 0
	for _, v := range m {
		s += v
	}
	return s
}

func TestReimportCreatesOnceThenLeavesUnchanged(t *testing.T) {
	f := setup(t, &config.DefectDojo{})
	run := consumertest.Run(t)
	want := sendable(run)
	d, err := f.publish(t, run)
	if err != nil {
		t.Fatal(err)
	}
	if d.Created != sum(want) || d.Updated != 0 || d.Unchanged != 0 || d.Failed != 0 {
		t.Fatalf("first run: %+v, want %d created", d, sum(want))
	}
	// One reimport per producer; syft's BOM is no finding.
	if n := f.rec.Count("POST", reimportPath); n != 3 {
		t.Errorf("%d reimports, want 3 (gosec, trivy, gitleaks)", n)
	}
	for tool, n := range want {
		ts := f.dojo.test("acme/shop", "Dracon main", tool)
		if ts == nil || len(ts.findings) != n {
			t.Fatalf("test %s: %+v, want %d findings", tool, ts, n)
		}
		if ts.branch != "main" || ts.commit != "0123456789abcdef0123456789abcdef01234567" || ts.build != consumertest.ScanID {
			t.Errorf("test %s metadata: branch %q commit %q build %q", tool, ts.branch, ts.commit, ts.build)
		}
		if strings.Join(ts.tags, ",") != "DraconScan,EnrichedTest,"+consumertest.ScanID {
			t.Errorf("test %s tags %v", tool, ts.tags)
		}
	}
	if f.dojo.test("acme/shop", "Dracon main", "syft") != nil {
		t.Error("syft's bill of materials became a test")
	}
	p := f.dojo.products["acme/shop"]
	if p.typ != DefaultProductType || p.engagements[0].scm != "https://github.com/acme/shop" {
		t.Errorf("product type %q, engagement source %q", p.typ, p.engagements[0].scm)
	}
	for _, form := range f.dojo.forms {
		for k, v := range map[string]string{"scan_type": "Generic Findings Import", "auto_create_context": "true",
			"close_old_findings": "true", "minimum_severity": "Info", "deduplication_on_engagement": "false"} {
			if got := form[k]; len(got) != 1 || got[0] != v {
				t.Errorf("form %s = %v, want %q", k, got, v)
			}
		}
		if _, ok := form["active"]; ok {
			t.Error("active was sent without being configured: it would override each finding's own")
		}
	}
	for _, q := range f.rec.Requests() {
		if q.Header.Get("Authorization") != "Token "+testToken {
			t.Errorf("Authorization %q", q.Header.Get("Authorization"))
		}
	}
	golden(t, f.dojo)

	// The same scan again: DefectDojo matches every finding by its id.
	again := consumertest.Run(t)
	again.Results = consumertest.Clone(run.Results)
	d, err = f.publish(t, again)
	if err != nil {
		t.Fatal(err)
	}
	if d.Created != 0 || d.Updated != 0 || d.Unchanged != sum(want) || d.Failed != 0 {
		t.Errorf("second run: %+v, want %d unchanged", d, sum(want))
	}
	if n, dupes := f.dojo.total(); n != sum(want) || len(dupes) > 0 {
		t.Errorf("DefectDojo holds %d findings (duplicates %v), want %d", n, dupes, sum(want))
	}
	if !strings.Contains(f.log.String(), "dracon: defectdojo: gosec: test ") {
		t.Errorf("log: %s", f.log)
	}
	f.rec.NoSecrets(t, consumertest.Secrets(t))
}

// golden compares each test's last file with testdata/golden.
func golden(t *testing.T, d *dojo) {
	t.Helper()
	for title, data := range d.files {
		path := filepath.Join("testdata", "golden", title+".json")
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update to write it)", err)
		}
		if !bytes.Equal(data, want) {
			t.Errorf("%s differs from what was sent (go test -update rewrites it):\n%s", path, data)
		}
		// Only keys DefectDojo 2.19's parser knows: an unknown key fails
		// the whole import there.
		var doc struct{ Findings []map[string]any }
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatal(err)
		}
		for _, fd := range doc.Findings {
			for k := range fd {
				if !generic2023[k] {
					t.Errorf("%s: key %q is unknown to DefectDojo 2.19's generic parser", path, k)
				}
			}
		}
	}
}

func TestGoneFindingsCloseAndComeBack(t *testing.T) {
	f := setup(t, &config.DefectDojo{})
	run := consumertest.Run(t)
	if _, err := f.publish(t, run); err != nil {
		t.Fatal(err)
	}
	// gosec no longer reports one finding: a full scan of main closes it.
	fewer := consumertest.Run(t)
	fewer.Results = consumertest.Clone(run.Results)
	gone := dropFirst(fewer, "gosec")
	d, err := f.publish(t, fewer)
	if err != nil {
		t.Fatal(err)
	}
	ts := f.dojo.test("acme/shop", "Dracon main", "gosec")
	if ts.lastClosed != 1 || !ts.byUID[gone].isMitigated || d.Unchanged != sum(sendable(run))-1 {
		t.Fatalf("closed %d (%s mitigated: %v), delivery %+v", ts.lastClosed, gone, ts.byUID[gone].isMitigated, d)
	}
	if !strings.Contains(f.log.String(), "gosec: test") || !strings.Contains(f.log.String(), "1 closed") {
		t.Errorf("log: %s", f.log)
	}
	// It is back: reactivated, counted as updated.
	back := consumertest.Run(t)
	back.Results = consumertest.Clone(run.Results)
	d, err = f.publish(t, back)
	if err != nil {
		t.Fatal(err)
	}
	if d.Updated != 1 || d.Created != 0 || ts.byUID[gone].isMitigated || ts.lastReact != 1 {
		t.Errorf("back: %+v, mitigated %v", d, ts.byUID[gone].isMitigated)
	}
	f.rec.NoSecrets(t, consumertest.Secrets(t))
}

// dropFirst removes a tool's first finding from a run and returns its id.
func dropFirst(run *consumers.Run, tool string) string {
	for _, r := range run.Results {
		if r.GetOriginalResults().GetToolName() == tool {
			id := consumers.ID(r.Issues[0])
			r.Issues = r.Issues[1:]
			return id
		}
	}
	return ""
}

func TestPullRequestClosesNothing(t *testing.T) {
	f := setup(t, &config.DefectDojo{})
	pr := func() *consumers.Run {
		run := consumertest.Run(t)
		run.Scan.ScanTags["event"] = "pull_request"
		run.Scan.ScanTags["ref"] = "refs/pull/7/merge"
		return run
	}
	run := pr()
	if _, err := f.publish(t, run); err != nil {
		t.Fatal(err)
	}
	fewer := pr()
	dropFirst(fewer, "gosec")
	if _, err := f.publish(t, fewer); err != nil {
		t.Fatal(err)
	}
	ts := f.dojo.test("acme/shop", "Dracon pull/7", "gosec")
	if ts == nil || ts.lastClosed != 0 {
		t.Fatalf("pull request's test: %+v", ts)
	}
	for _, form := range f.dojo.forms {
		if form["close_old_findings"][0] != "false" {
			t.Errorf("a pull request's scan sent close_old_findings=%v", form["close_old_findings"])
		}
	}
	// Asked for, it closes on a pull request too.
	yes := true
	f2 := setup(t, &config.DefectDojo{CloseOldFindings: &yes, Active: &yes})
	if _, err := f2.publish(t, pr()); err != nil {
		t.Fatal(err)
	}
	if form := f2.dojo.forms[0]; form["close_old_findings"][0] != "true" || form["active"][0] != "true" {
		t.Errorf("close_old_findings: true sent %v, active %v", form["close_old_findings"], form["active"])
	}
	// A filter on new findings sends a part of the branch's findings:
	// closing the rest would close what is still there.
	f3 := setup(t, &config.DefectDojo{Delivery: config.Delivery{Filter: config.Filter{NewOnly: true}}})
	if _, err := f3.publish(t, consumertest.Run(t)); err != nil {
		t.Fatal(err)
	}
	if form := f3.dojo.forms[0]; form["close_old_findings"][0] != "false" {
		t.Errorf("new_only: close_old_findings %v", form["close_old_findings"])
	}
	f.rec.NoSecrets(t, consumertest.Secrets(t))
}

// TestFailedProducerClosesNothing: a producer that failed says nothing of
// what it did not report; one that ran clean closes all its findings.
func TestFailedProducerClosesNothing(t *testing.T) {
	f := setup(t, &config.DefectDojo{})
	run := consumertest.Run(t)
	if _, err := f.publish(t, run); err != nil {
		t.Fatal(err)
	}
	next := consumertest.Run(t)
	for i, p := range next.Summary.Producers {
		if p.Name == "gosec" {
			next.Summary.Producers[i].Status = "failed"
		}
	}
	for _, r := range next.Results {
		switch r.GetOriginalResults().GetToolName() {
		case "gosec":
			r.Issues = r.Issues[:1] // what it reported before failing
		case "gitleaks":
			r.Issues = nil // ran, found nothing
		}
	}
	if _, err := f.publish(t, next); err != nil {
		t.Fatal(err)
	}
	gosec, gitleaks := f.dojo.test("acme/shop", "Dracon main", "gosec"), f.dojo.test("acme/shop", "Dracon main", "gitleaks")
	if gosec.lastClosed != 0 || gosec.imports != 2 || gitleaks.lastClosed != 2 || gitleaks.imports != 2 {
		t.Errorf("gosec (failed): %d closed in %d imports; gitleaks (clean): %d closed in %d imports",
			gosec.lastClosed, gosec.imports, gitleaks.lastClosed, gitleaks.imports)
	}
	// A producer that failed with nothing to send is not reimported.
	third := consumertest.Run(t)
	third.Summary.Producers[0].Status = "failed"
	for _, r := range third.Results {
		if r.GetOriginalResults().GetToolName() == third.Summary.Producers[0].Name {
			r.Issues = nil
		}
	}
	before := f.rec.Count("POST", reimportPath)
	if _, err := f.publish(t, third); err != nil {
		t.Fatal(err)
	}
	if n := f.rec.Count("POST", reimportPath) - before; n != 2 {
		t.Errorf("%d reimports, want 2 (the failed %s left out)", n, third.Summary.Producers[0].Name)
	}
}

func TestEngagementPerScan(t *testing.T) {
	f := setup(t, &config.DefectDojo{EngagementPerScan: true, ProductName: "shop", ProductTypeName: "Web", Tags: []string{"nightly"}})
	run := consumertest.Run(t)
	d, err := f.publish(t, run)
	if err != nil {
		t.Fatal(err)
	}
	ts := f.dojo.test("shop", consumertest.ScanID, "gosec")
	if ts == nil || d.Created != sum(sendable(run)) {
		t.Fatalf("engagement %s: %+v, delivery %+v", consumertest.ScanID, ts, d)
	}
	if strings.Join(ts.tags, ",") != "DraconScan,EnrichedTest,"+consumertest.ScanID+",nightly" {
		t.Errorf("test tags %v", ts.tags)
	}
	var doc struct{ Findings []genericFinding }
	json.Unmarshal(f.dojo.files["gosec"], &doc)
	if tags := strings.Join(doc.Findings[0].Tags, ","); !strings.HasSuffix(tags, ",DraconScan,EnrichedFinding,"+consumertest.ScanID) {
		t.Errorf("finding tags %s: want Dracon's", tags)
	}
	// The next scan is another engagement.
	next := consumertest.Run(t)
	next.Scan.ScanUuid = "0b7b6f0e-1c1e-4f7e-9d59-2f7c1f0c9a01"
	if _, err := f.publish(t, next); err != nil {
		t.Fatal(err)
	}
	if len(f.dojo.products["shop"].engagements) != 2 || f.dojo.products["shop"].typ != "Web" {
		t.Errorf("engagements %d, type %s", len(f.dojo.products["shop"].engagements), f.dojo.products["shop"].typ)
	}
	f.rec.NoSecrets(t, consumertest.Secrets(t))
}

// TestFaults: DefectDojo fails, throttles, or loses its answer; retried
// runs create nothing twice and lose nothing.
func TestFaults(t *testing.T) {
	t.Run("errors and throttling are retried", func(t *testing.T) {
		f := setup(t, &config.DefectDojo{})
		f.dojo.failNext, f.dojo.throttle = 2, 1
		run := consumertest.Run(t)
		start := time.Now()
		d, err := f.publish(t, run)
		if err != nil {
			t.Fatal(err)
		}
		if d.Created != sum(sendable(run)) || d.Failed != 0 {
			t.Errorf("%+v", d)
		}
		if time.Since(start) < time.Second {
			t.Error("Retry-After: 1 was not waited for")
		}
		if n := f.rec.Count("POST", reimportPath); n != 6 {
			t.Errorf("%d requests, want 3 failed and 3 that went through", n)
		}
		if !strings.Contains(f.log.String(), "defectdojo: 429") || !strings.Contains(f.log.String(), "defectdojo: 500") {
			t.Errorf("the retries were not logged: %s", f.log)
		}
	})
	t.Run("an answer lost after the import", func(t *testing.T) {
		f := setup(t, &config.DefectDojo{})
		f.dojo.failAfterApply = 1
		run := consumertest.Run(t)
		d, err := f.publish(t, run)
		if err != nil {
			t.Fatal(err)
		}
		// The retry reimported into the test the lost answer made: its
		// findings come back untouched, nothing twice.
		gosec := sendable(run)["gosec"]
		if d.Created != sum(sendable(run))-gosec || d.Unchanged != gosec || d.Failed != 0 {
			t.Errorf("%+v", d)
		}
		if n, dupes := f.dojo.total(); n != sum(sendable(run)) || len(dupes) > 0 {
			t.Errorf("%d findings, duplicates %v", n, dupes)
		}
	})
	t.Run("a test that fails throughout, then a re-run", func(t *testing.T) {
		f := setup(t, &config.DefectDojo{})
		f.dojo.failTitle = "trivy"
		run := consumertest.Run(t)
		want := sendable(run)
		d, err := f.publish(t, run)
		if err != nil {
			t.Fatal(err)
		}
		if d.Failed != want["trivy"] || d.Created != sum(want)-want["trivy"] || len(d.Errors) != 1 ||
			!strings.Contains(d.Errors[0], `trivy: reimport of 11 findings into test "trivy" of engagement "Dracon main" failed: DefectDojo answered 500`) {
			t.Fatalf("%+v", d)
		}
		f.dojo.failTitle = ""
		again := consumertest.Run(t)
		again.Results = consumertest.Clone(run.Results)
		d, err = f.publish(t, again)
		if err != nil {
			t.Fatal(err)
		}
		if d.Created != want["trivy"] || d.Unchanged != sum(want)-want["trivy"] || d.Failed != 0 {
			t.Errorf("re-run: %+v", d)
		}
		if n, dupes := f.dojo.total(); n != sum(want) || len(dupes) > 0 {
			t.Errorf("%d findings, duplicates %v, want %d", n, dupes, sum(want))
		}
		f.rec.NoSecrets(t, consumertest.Secrets(t))
	})
}

func TestRefused(t *testing.T) {
	t.Run("a wrong token stops the delivery", func(t *testing.T) {
		f := setup(t, &config.DefectDojo{})
		f.dojo.token = "another"
		d, err := f.publish(t, consumertest.Run(t))
		if err == nil || !strings.Contains(err.Error(), "DefectDojo refused the API token (401: Invalid token.)") {
			t.Fatalf("err %v", err)
		}
		if strings.Contains(err.Error(), testToken) || strings.Contains(f.log.String(), testToken) {
			t.Error("the token is in the error or the log")
		}
		if n := f.rec.Count("", ""); n != 1 || d.Created != 0 {
			t.Errorf("%d requests after a refusal, delivery %+v", n, d)
		}
	})
	t.Run("a product of another type", func(t *testing.T) {
		f := setup(t, &config.DefectDojo{})
		f.dojo.products["acme/shop"] = &product{id: 99, typ: "Web"}
		d, err := f.publish(t, consumertest.Run(t))
		if err != nil {
			t.Fatal(err)
		}
		if d.Failed != sum(sendable(consumertest.Run(t))) || !strings.Contains(d.Errors[0], "existing product type name - Web vs supplied product type name - Dracon") {
			t.Errorf("%+v", d)
		}
	})
}

func TestOlderDefectDojoWithoutHistory(t *testing.T) {
	f := setup(t, &config.DefectDojo{})
	f.dojo.trackHistory = false
	run := consumertest.Run(t)
	if _, err := f.publish(t, run); err != nil {
		t.Fatal(err)
	}
	more := consumertest.Run(t)
	more.Results = consumertest.Clone(run.Results)
	for _, r := range more.Results {
		if r.GetOriginalResults().GetToolName() == "gosec" {
			extra := consumertest.Clone(more.Results)[0].Issues[0]
			extra.FindingId = "f0100"
			r.Issues = append(r.Issues, extra)
		}
	}
	d, err := f.publish(t, more)
	if err != nil {
		t.Fatal(err)
	}
	// Without a delta, what was added is told by the totals; the rest
	// were sent again.
	if d.Created != 1 || d.Updated != sum(sendable(run)) || d.Unchanged != 0 {
		t.Errorf("%+v", d)
	}
}

func TestFindingsInGenericFormat(t *testing.T) {
	f := setup(t, &config.DefectDojo{DescriptionTemplate: "{{.ToolName}} {{.ID}} {{.RawIssue.Title}} {{.Link}}"})
	run := consumertest.Run(t)
	scan := run.Scan
	is := &v1.EnrichedIssue{FindingId: "0190a7b2-4c1e-7d3a-9b1f-5e6d7c8b9a0f", Suppressed: true, Annotations: map[string]string{"Owner-0": "Jane Doe, jane@example.com"},
		RawIssue: &v1.Issue{Title: "lodash: prototype pollution\n in zipObjectDeep", RuleId: "CVE-2020-8203", Cve: "CVE-2020-8203", Severity: v1.Severity_SEVERITY_HIGH,
			Cvss: 7.4, Cwe: []int32{1321, 20}, Aliases: []string{"GHSA-p6mc-m468-83gw"}, PackageUrl: "pkg:npm/%40types/lodash@4.17.15?arch=x",
			FixedVersion: "4.17.19", References: []string{"https://nvd.nist.gov/vuln/detail/CVE-2020-8203"}, Target: "web/package-lock.json",
			Location: &v1.Location{Path: "web/package-lock.json", StartLine: 12}}}
	gf, err := f.c.finding(run, consumers.Finding{Tool: "trivy", Issue: is})
	if err != nil {
		t.Fatal(err)
	}
	want := genericFinding{Title: "lodash: prototype pollution in zipObjectDeep",
		Description: "trivy 0190a7b2-4c1e-7d3a-9b1f-5e6d7c8b9a0f lodash: prototype pollution\n in zipObjectDeep https://github.com/acme/shop/blob/" + scan.ScanTags["commit"] + "/web/package-lock.json#L12",
		Severity:    "High", Date: "2026-12-01", CVE: "CVE-2020-8203", CWE: 1321, CVSSv3Score: 7.4, FilePath: "web/package-lock.json", Line: 12,
		ComponentName: "@types/lodash", ComponentVersion: "4.17.15", UniqueIDFromTool: "0190a7b2-4c1e-7d3a-9b1f-5e6d7c8b9a0f", VulnIDFromTool: "CVE-2020-8203",
		References: "Aliases: GHSA-p6mc-m468-83gw\nhttps://nvd.nist.gov/vuln/detail/CVE-2020-8203", Mitigation: "Upgrade @types/lodash to 4.17.19.",
		StaticFinding: true, Active: false, Tags: []string{"dracon", "trivy", "owner:Jane_Doe__jane@example.com"}}
	got, _ := json.Marshal(gf)
	exp, _ := json.Marshal(want)
	if string(got) != string(exp) {
		t.Errorf("got  %s\nwant %s", got, exp)
	}
	// Aliases without a CVE go in vulnerability_ids; a URL is a dynamic
	// finding.
	is.RawIssue.Cve, is.RawIssue.Location, is.RawIssue.Target = "", nil, "https://shop.example.com/login"
	gf, _ = f.c.finding(run, consumers.Finding{Tool: "zap", Issue: is})
	if gf.CVE != "" || strings.Join(gf.VulnerabilityIDs, ",") != "GHSA-p6mc-m468-83gw" || !gf.DynamicFinding || gf.StaticFinding || gf.FilePath != "https://shop.example.com/login" {
		t.Errorf("%+v", gf)
	}
	// A template that renders nothing fails that finding, not the others.
	f2 := setup(t, &config.DefectDojo{DescriptionTemplate: `{{if eq .ToolName "gitleaks"}}{{else}}{{.RawIssue.Title}}{{end}}`})
	d, err := f2.publish(t, run)
	if err != nil {
		t.Fatal(err)
	}
	if d.Failed != 2 || d.Created != sum(sendable(run))-2 || !strings.Contains(d.Errors[0], "gitleaks aws-access-token at settings.py:3: description_template rendered nothing") {
		t.Errorf("%+v", d)
	}
}

func TestDryRun(t *testing.T) {
	f := setup(t, &config.DefectDojo{})
	// No token in the environment: a dry run still says all it would send.
	env := consumertest.Env(t, nil, nil)
	env.DryRun = true
	c, err := New(f.cfg, env)
	if err != nil {
		t.Fatal(err)
	}
	run := consumertest.Run(t)
	var out bytes.Buffer
	run.DryRun = &out
	d, err := c.Publish(context.Background(), run, consumers.Flatten(run.Results))
	if err != nil {
		t.Fatal(err)
	}
	if d.Created != sum(sendable(run)) || f.rec.Count("", "") != 0 {
		t.Errorf("%+v, %d requests", d, f.rec.Count("", ""))
	}
	for _, s := range []string{"defectdojo: would reimport 4 findings of gosec: POST " + f.cfg.URL + reimportPath, "  test_title: gosec",
		"  engagement_name: Dracon main", "  close_old_findings: true", "  file: gosec.json (application/json", `"unique_id_from_tool": "f0001"`,
		"would reimport 11 findings of trivy", "would reimport 2 findings of gitleaks"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("dry run lacks %q:\n%s", s, out.String())
		}
	}
	for _, s := range consumertest.Secrets(t) {
		if strings.Contains(out.String(), s) {
			t.Errorf("the dry run prints the secret %q…", s[:4])
		}
	}
	// Not a dry run: the missing token is an error that says where to
	// put it.
	run.DryRun = nil
	_, err = c.Publish(context.Background(), run, consumers.Flatten(run.Results))
	if err == nil || !strings.Contains(err.Error(), "consumers.defectdojo.token") || !strings.Contains(err.Error(), EnvToken) {
		t.Errorf("err %v", err)
	}
}

func TestNew(t *testing.T) {
	_, err := New(&config.DefectDojo{}, consumertest.Env(t, map[string]string{EnvToken: testToken}, nil))
	if err == nil || !strings.Contains(err.Error(), "consumers.defectdojo.url") || !strings.Contains(err.Error(), EnvURL) {
		t.Errorf("no URL: %v", err)
	}
	_, err = New(&config.DefectDojo{URL: "https://dd.example.com"}, consumertest.Env(t, nil, nil))
	if err == nil || !strings.Contains(err.Error(), "consumers.defectdojo.token") || !strings.Contains(err.Error(), EnvToken) {
		t.Errorf("no token: %v", err)
	}
	// For a dry run neither is needed; asked to send, it says what is missing.
	c, err := NewDryRun(&config.DefectDojo{}, consumertest.Env(t, nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	run := consumertest.Run(t)
	var out bytes.Buffer
	run.DryRun = &out
	if d, err := c.Publish(context.Background(), run, consumers.Flatten(run.Results)); err != nil || d.Created == 0 ||
		!strings.Contains(out.String(), "POST <consumers.defectdojo.url>/api/v2/reimport-scan/") {
		t.Errorf("%v %+v", err, d)
	}
	run.DryRun = nil
	if _, err := c.Publish(context.Background(), run, nil); err == nil || !strings.Contains(err.Error(), "consumers.defectdojo.url") {
		t.Errorf("sending without an address: %v", err)
	}
	c, err = New(&config.DefectDojo{}, consumertest.Env(t, map[string]string{EnvURL: "https://dd.example.com/api/v2/", EnvToken: testToken}, nil))
	if err != nil || c.base != "https://dd.example.com" || c.String() != "defectdojo" {
		t.Errorf("%v %+v", err, c)
	}
	_, err = New(&config.DefectDojo{URL: "https://dd.example.com", Token: "file:missing"}, consumertest.Env(t, nil, nil))
	if err == nil || !strings.Contains(err.Error(), "consumers.defectdojo.token") {
		t.Errorf("unreadable token file: %v", err)
	}
	if got := consumers.ShortRef("refs/merge-requests/5/head") + " " + consumers.ShortRef("refs/tags/v1.2") + " " + consumers.ShortRef("refs/heads/feature/x"); got != "merge-requests/5 v1.2 feature/x" {
		t.Errorf("shortRef: %s", got)
	}
}
