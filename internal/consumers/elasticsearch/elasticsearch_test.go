package elasticsearch

import (
	"bytes"
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/draconsec/dracon/internal/config"
	"github.com/draconsec/dracon/internal/consumers"
	"github.com/draconsec/dracon/internal/consumers/consumertest"
	"github.com/draconsec/dracon/internal/consumers/tmpl"
	"github.com/elastic/elastic-transport-go/v8/elastictransport"
	"google.golang.org/protobuf/types/known/timestamppb"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// testAPIKey is an API key's encoded form, as Elasticsearch's create API
// key call returns it (base64 of id:key).
var testAPIKey = base64.StdEncoding.EncodeToString([]byte("VuaCfGcBCdbkQm-e5aOx:ui2lp2axTNmsyakw9tvNnw"))

// cluster is a fake node behind a recorder, and a consumer for it.
type cluster struct {
	es  *fakeES
	rec *consumertest.Recorder
	srv *httptest.Server
	c   *Consumer
	log *bytes.Buffer
	env consumers.Env
}

func newCluster(t *testing.T, es *fakeES, cfg config.Elasticsearch, vars map[string]string) *cluster {
	t.Helper()
	rec := &consumertest.Recorder{}
	srv := httptest.NewServer(rec.Wrap(es))
	t.Cleanup(srv.Close)
	if cfg.URLs == nil && cfg.CloudID == "" {
		cfg.URLs = []string{srv.URL}
	}
	var log bytes.Buffer
	env := consumertest.Env(t, vars, &log)
	c, err := New(&cfg, env)
	if err != nil {
		t.Fatal(err)
	}
	c.itemRetryWait = time.Millisecond // the real wait is a second
	return &cluster{es: es, rec: rec, srv: srv, c: c, log: &log, env: env}
}

// findings are what the framework hands a consumer with no filter.
func findings(run *consumers.Run) []consumers.Finding {
	return consumers.Select(consumers.Flatten(run.Results), config.Filter{})
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) && i < len(wl); i++ {
			if gl[i] != wl[i] {
				t.Fatalf("%s differs at line %d:\n got: %.400s\nwant: %.400s\n(go test -update rewrites it)", p, i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("%s: %d lines, want %d (go test -update rewrites it)", p, len(gl), len(wl))
	}
}

// nextScan turns run into the scan a day later, which no longer has the
// findings at gone (returned as the run's Fixed, as the store gives
// them).
func nextScan(t *testing.T, run *consumers.Run, gone ...string) []consumers.Fixed {
	t.Helper()
	at := consumertest.Start.Add(24 * time.Hour)
	run.Scan.ScanUuid = "c0ffee00-0000-4000-8000-000000000002"
	run.Scan.ScanStartTime = timestamppb.New(at)
	var fixed []consumers.Fixed
	for _, r := range run.Results {
		r.OriginalResults.ScanInfo = run.Scan
		kept := r.Issues[:0]
		for _, is := range r.Issues {
			if contains(gone, is.GetFindingId()) {
				raw := is.GetRawIssue()
				fixed = append(fixed, consumers.Fixed{ID: is.GetFindingId(), Tool: r.GetOriginalResults().GetToolName(), Rule: raw.GetRuleId(),
					Path: raw.GetLocation().GetPath(), Title: raw.GetTitle(), Severity: raw.GetSeverity().String()})
				continue
			}
			is.LastSeen = timestamppb.New(at)
			is.IsNew = false
			is.Count++
			kept = append(kept, is)
		}
		r.Issues = kept
	}
	if len(fixed) != len(gone) {
		t.Fatalf("the run has %d of the findings %v", len(fixed), gone)
	}
	run.Fixed = fixed
	return fixed
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestPublishIndexesHistoryAndCurrentState(t *testing.T) {
	es := newElasticsearch("8.15.0")
	es.apiKey = testAPIKey
	cl := newCluster(t, es, config.Elasticsearch{}, map[string]string{EnvAPIKey: testAPIKey})
	run := consumertest.Run(t)
	fs := findings(run)
	n := len(fs)
	if n < 10 {
		t.Fatalf("the test run has %d findings", n)
	}
	d, err := cl.c.Publish(context.Background(), run, fs)
	if err != nil {
		t.Fatal(err)
	}
	// The run's one fixed finding (f9999) was never indexed: it is not
	// counted, and not recorded as fixed.
	if d.Created != n || d.Updated+d.Unchanged+d.Failed != 0 {
		t.Fatalf("delivery %+v, want %d created", d, n)
	}
	for _, ix := range []string{"dracon", "dracon-findings"} {
		if docs, created := cl.es.counts(ix); docs != n || created != n {
			t.Errorf("%s: %d documents (%d created), want %d", ix, docs, created, n)
		}
		if u := cl.es.unmapped(ix); len(u) > 0 {
			t.Errorf("%s: fields the template does not map: %v", ix, u)
		}
	}
	if cl.es.doc("dracon-findings", "f9999") != nil || cl.es.doc("dracon", "f9999:"+consumertest.ScanID) != nil {
		t.Error("a fixed finding that was never indexed got a document")
	}
	tpl, ok := cl.es.templates["dracon"]
	if !ok || !reflect.DeepEqual(tpl.patterns, []string{"dracon", "dracon-findings"}) || tpl.priority != templatePriority {
		t.Errorf("index template: %+v", tpl)
	}

	// A document keeps Dracon's fields, with their types, and adds ours.
	f := fs[0]
	raw := f.Issue.GetRawIssue()
	id := consumers.ID(f.Issue)
	h := cl.es.doc("dracon", id+":"+consumertest.ScanID)
	cur := cl.es.doc("dracon-findings", id)
	if h == nil || cur == nil {
		t.Fatalf("finding %s: history %v, current %v", id, h, cur)
	}
	wantDesc, _ := mustTemplate(t).Render(tmpl.NewView(run.Scan, f.Tool, f.Issue))
	for k, want := range map[string]any{
		"scan_start_time": "2026-12-01T10:00:00Z", "scan_id": consumertest.ScanID, "tool_name": f.Tool, "target": raw.GetTarget(),
		"title": raw.GetTitle(), "severity": float64(raw.GetSeverity()), "severity_text": tmpl.SeverityText(raw.GetSeverity()),
		"confidence": float64(raw.GetConfidence()), "confidence_text": tmpl.ConfidenceText(raw.GetConfidence()),
		"description": wantDesc, "count": float64(f.Issue.GetCount()), "false_positive": false,
		"finding_id": id, "rule_id": raw.GetRuleId(), "status": "open", "is_new": f.Issue.GetIsNew(),
		"policy": consumers.PolicyResult(f.Issue), "team": consumers.Owners(f.Issue)[0], "repository": "acme/shop", "ref": "refs/heads/main",
		"commit": "0123456789abcdef0123456789abcdef01234567", "last_seen": "2026-12-01T10:00:00Z",
	} {
		if !reflect.DeepEqual(h[k], want) || !reflect.DeepEqual(cur[k], want) {
			t.Errorf("%s: history %#v, current %#v, want %#v", k, h[k], cur[k], want)
		}
	}
	if ann, _ := cur["annotations"].(map[string]any); ann["Owner-0"] != consumers.Owners(f.Issue)[0] || len(ann) != len(f.Issue.GetAnnotations()) {
		t.Errorf("annotations = %v", cur["annotations"])
	}
	if v := cl.es.docVersion("dracon-findings", id); v != consumertest.Start.UnixMilli() {
		t.Errorf("current-state version %d, want the scan's start %d", v, consumertest.Start.UnixMilli())
	}
	for _, r := range cl.rec.Requests() {
		if got := r.Header.Get("Authorization"); got != "APIKey "+testAPIKey {
			t.Errorf("%s %s: Authorization %q", r.Method, r.Path, got)
		}
	}
	if cl.rec.Count("GET", "/") != 1 || cl.rec.Count("PUT", "/_index_template/dracon") != 1 || cl.rec.Count("POST", "/dracon-findings/_mget") != 1 {
		t.Errorf("requests: %d GET /, %d PUT template, %d _mget", cl.rec.Count("GET", "/"), cl.rec.Count("PUT", "/_index_template/dracon"),
			cl.rec.Count("POST", "/dracon-findings/_mget"))
	}
	if !strings.Contains(cl.log.String(), "Elasticsearch 8.15.0 (cluster acme-security)") || strings.Contains(cl.log.String(), testAPIKey) {
		t.Errorf("log: %s", cl.log)
	}
	golden(t, "bulk.ndjson", cl.es.allBodies())

	// The same scan again (a re-run of the job): nothing is created.
	run.Results = consumertest.Clone(run.Results)
	d, err = cl.c.Publish(context.Background(), run, findings(run))
	if err != nil {
		t.Fatal(err)
	}
	if d.Unchanged != n || d.Created+d.Updated+d.Failed != 0 {
		t.Errorf("re-run: %+v, want %d unchanged", d, n)
	}
	for _, ix := range []string{"dracon", "dracon-findings"} {
		if docs, created := cl.es.counts(ix); docs != n || created != n {
			t.Errorf("re-run: %s: %d documents (%d created), want %d", ix, docs, created, n)
		}
	}

	// The next scan no longer has the last finding: its observation is
	// added to the history, the current state is updated, and the gone
	// finding is marked fixed.
	first := run.Results
	gone := consumers.ID(fs[n-1].Issue)
	goneFirstFound := cl.es.doc("dracon-findings", gone)["first_found"]
	run2 := &consumers.Run{Scan: run.Scan, Results: consumertest.Clone(first)}
	run2.Scan = run2.Results[0].OriginalResults.ScanInfo
	nextScan(t, run2, gone)
	before := len(cl.es.allBodies())
	d, err = cl.c.Publish(context.Background(), run2, findings(run2))
	if err != nil {
		t.Fatal(err)
	}
	if d.Updated != n || d.Created+d.Unchanged+d.Failed != 0 {
		t.Errorf("next scan: %+v, want %d updated (%d seen again, 1 fixed)", d, n, n-1)
	}
	golden(t, "bulk-next-scan.ndjson", cl.es.allBodies()[before:])
	if docs, created := cl.es.counts("dracon"); docs != 2*n || created != 2*n {
		t.Errorf("history after two scans: %d documents (%d created), want %d", docs, created, 2*n)
	}
	if docs, created := cl.es.counts("dracon-findings"); docs != n || created != n {
		t.Errorf("current state after two scans: %d documents (%d created), want %d", docs, created, n)
	}
	g := cl.es.doc("dracon-findings", gone)
	if g["status"] != "fixed" || g["fixed_at"] != "2026-12-02T10:00:00Z" || g["first_found"] != goneFirstFound || g["scan_id"] != consumertest.ScanID ||
		g["is_new"] != false || g["time_to_fix_days"] != wantTimeToFix(t, goneFirstFound, "2026-12-02T10:00:00Z") {
		t.Errorf("the gone finding's current state: %v", g)
	}
	if v := cl.es.docVersion("dracon-findings", gone); v != run2.Scan.GetScanStartTime().AsTime().UnixMilli() {
		t.Errorf("the fixed document's version %d, want the fixing scan's start", v)
	}
	obs := cl.es.doc("dracon", gone+":"+run2.Scan.GetScanUuid())
	if obs["status"] != "fixed" || obs["scan_id"] != run2.Scan.GetScanUuid() || obs["team"] == nil || obs["first_found"] != goneFirstFound {
		t.Errorf("the fixed observation: %v", obs)
	}
	seen := cl.es.doc("dracon-findings", id)
	if seen["scan_id"] != run2.Scan.GetScanUuid() || seen["last_seen"] != "2026-12-02T10:00:00Z" || seen["age_days"] == nil {
		t.Errorf("a finding seen again: %v", seen)
	}

	// The next scan again: unchanged, the fix included.
	run2.Results = consumertest.Clone(run2.Results)
	d, err = cl.c.Publish(context.Background(), run2, findings(run2))
	if err != nil || d.Unchanged != n || d.Created+d.Updated+d.Failed != 0 {
		t.Errorf("next scan again: %+v %v, want %d unchanged", d, err, n)
	}

	// The first scan delivered late (an old job re-run): its history is
	// rewritten as it was, but a later scan's current state stays.
	d, err = cl.c.Publish(context.Background(), run, findings(run))
	if err != nil || d.Unchanged != n || d.Created+d.Updated+d.Failed != 0 {
		t.Errorf("first scan again: %+v %v, want %d unchanged", d, err, n)
	}
	if g := cl.es.doc("dracon-findings", gone); g["status"] != "fixed" {
		t.Errorf("an older scan reopened a fixed finding: %v", g)
	}
	if s := cl.es.doc("dracon-findings", id); s["scan_id"] != run2.Scan.GetScanUuid() {
		t.Errorf("an older scan overwrote the current state: %v", s["scan_id"])
	}
	cl.rec.NoSecrets(t, consumertest.Secrets(t))
}

// wantTimeToFix is the days between two stamps, to the hundredth.
func wantTimeToFix(t *testing.T, first any, fixed string) float64 {
	t.Helper()
	a, err := time.Parse(time.RFC3339, first.(string))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := time.Parse(time.RFC3339, fixed)
	return float64(int(b.Sub(a).Hours()/24*100+0.5)) / 100
}

func mustTemplate(t *testing.T) *tmpl.Template {
	tp, err := tmpl.Parse("test", "")
	if err != nil {
		t.Fatal(err)
	}
	return tp
}

func TestFixedFindingUnreadable(t *testing.T) {
	es := newElasticsearch("8.15.0")
	cl := newCluster(t, es, config.Elasticsearch{}, nil)
	run := consumertest.Run(t)
	fs := findings(run)
	if _, err := cl.c.Publish(context.Background(), run, fs); err != nil {
		t.Fatal(err)
	}
	gone := consumers.ID(fs[0].Issue)
	next := &consumers.Run{Results: consumertest.Clone(run.Results)}
	next.Scan = next.Results[0].OriginalResults.ScanInfo
	nextScan(t, next, gone)
	// The credentials may write but not read: the fixed finding cannot be
	// marked, the others are delivered.
	es.mgetStatus = http.StatusForbidden
	d, err := cl.c.Publish(context.Background(), next, findings(next))
	if err != nil {
		t.Fatal(err)
	}
	if d.Updated != len(fs)-1 || d.Failed != 1 || !strings.Contains(d.Errors[0], "they need the read privilege on it") {
		t.Fatalf("delivery %+v", d)
	}
	if s := es.doc("dracon-findings", gone)["status"]; s != "open" {
		t.Errorf("status %v", s)
	}
	// Readable again, a re-run marks it.
	es.mgetStatus = 0
	d, err = cl.c.Publish(context.Background(), next, findings(next))
	if err != nil || d.Updated != 1 || d.Unchanged != len(fs)-1 || d.Failed != 0 {
		t.Fatalf("re-run: %+v %v", d, err)
	}
	if s := es.doc("dracon-findings", gone)["status"]; s != "fixed" {
		t.Errorf("status %v after the re-run", s)
	}
	cl.rec.NoSecrets(t, consumertest.Secrets(t))
}

func TestScanWithoutStartTime(t *testing.T) {
	cl := newCluster(t, newElasticsearch("8.15.0"), config.Elasticsearch{}, nil)
	run := consumertest.Run(t)
	run.Scan.ScanStartTime = nil
	fs := findings(run)
	if d, err := cl.c.Publish(context.Background(), run, fs); err != nil || d.Created != len(fs) {
		t.Fatalf("%+v %v", d, err)
	}
	// One time for the whole delivery: every document has the same
	// scan_start_time, and it is each current state's version.
	var at any
	for _, f := range fs {
		id := consumers.ID(f.Issue)
		doc := cl.es.doc("dracon-findings", id)
		if at == nil {
			at = doc["scan_start_time"]
		}
		if doc["scan_start_time"] != at {
			t.Fatalf("%s: scan_start_time %v, another document's %v", id, doc["scan_start_time"], at)
		}
		stamp, _ := time.Parse(time.RFC3339Nano, at.(string))
		if v := cl.es.docVersion("dracon-findings", id); v != stamp.UnixMilli() {
			t.Errorf("%s: version %d, want %d", id, v, stamp.UnixMilli())
		}
	}
	if run.Scan.ScanStartTime != nil {
		t.Error("the consumer changed the run it was given")
	}
}

func TestDescriptionTemplate(t *testing.T) {
	cl := newCluster(t, newElasticsearch("8.15.0"), config.Elasticsearch{
		DescriptionTemplate: "{{.SeverityText}} {{.RawIssue.RuleId}} by {{.ToolName}} in scan {{.ScanID}}"}, nil)
	run := consumertest.Run(t)
	fs := findings(run)
	if _, err := cl.c.Publish(context.Background(), run, fs); err != nil {
		t.Fatal(err)
	}
	f := fs[0]
	want := fmt.Sprintf("%s %s by %s in scan %s", tmpl.SeverityText(f.Issue.GetRawIssue().GetSeverity()), f.Issue.GetRawIssue().GetRuleId(), f.Tool, consumertest.ScanID)
	if got := cl.es.doc("dracon-findings", consumers.ID(f.Issue))["description"]; got != want {
		t.Errorf("description %q, want %q", got, want)
	}
	cl.rec.NoSecrets(t, consumertest.Secrets(t))
}

func TestBusyItemsAreSentAgain(t *testing.T) {
	es := newElasticsearch("8.15.0")
	run := consumertest.Run(t)
	fs := findings(run)
	stuck := consumers.ID(fs[1].Issue)
	// The current-state index's shard is busy at first: every document
	// sent to it is rejected once; one is rejected every time.
	es.reject = func(index, id string, attempt int) bool {
		return index == "dracon-findings" && (attempt == 1 || id == stuck)
	}
	cl := newCluster(t, es, config.Elasticsearch{}, nil)
	d, err := cl.c.Publish(context.Background(), run, fs)
	if err != nil {
		t.Fatal(err)
	}
	if d.Created != len(fs)-1 || d.Failed != 1 || len(d.Errors) != 1 ||
		!strings.Contains(d.Errors[0], "429 es_rejected_execution_exception") || !strings.Contains(d.Errors[0], "current-state document "+stuck) {
		t.Fatalf("delivery %+v, want %d created and %s failed as rejected", d, len(fs)-1, stuck)
	}
	if docs, created := cl.es.counts("dracon-findings"); docs != len(fs)-1 || created != len(fs)-1 {
		t.Errorf("current state: %d documents (%d created)", docs, created)
	}
	// Sent once, then again in each of the three rounds.
	if a := es.attempts["dracon-findings/"+stuck]; a != 4 {
		t.Errorf("the stuck document was tried %d times, want 4", a)
	}
	if a := es.attempts["dracon/"+consumers.ID(fs[2].Issue)+":"+consumertest.ScanID]; a != 1 {
		t.Errorf("a history document the cluster took was sent %d times", a)
	}
	if !strings.Contains(cl.log.String(), fmt.Sprintf("the cluster rejected %d documents as busy (429)", len(fs))) {
		t.Errorf("log: %s", cl.log)
	}

	// Delivered again, the rejected one gets in; nothing is doubled.
	es.reject = nil
	d, err = cl.c.Publish(context.Background(), run, fs)
	if err != nil || d.Created != 1 || d.Unchanged != len(fs)-1 || d.Failed != 0 {
		t.Errorf("again: %+v %v", d, err)
	}
	cl.rec.NoSecrets(t, consumertest.Secrets(t))
}

func TestPartialFailureThenRerun(t *testing.T) {
	es := newElasticsearch("8.15.0")
	// The second batch meets a node that answers 503 to each of its five
	// attempts (Retry-After: 0, so the test waits for no backoff).
	es.failBulk = func(n int) int {
		if n >= 2 && n <= 6 {
			return http.StatusServiceUnavailable
		}
		return 0
	}
	cl := newCluster(t, es, config.Elasticsearch{BatchSize: 10}, nil)
	run := consumertest.Run(t)
	fs := findings(run)
	n := len(fs)
	d, err := cl.c.Publish(context.Background(), run, fs)
	if err != nil {
		t.Fatal(err)
	}
	// Ten documents a batch, two per finding: the second batch is
	// findings 6 to 10.
	if d.Failed != 5 || d.Created != n-5 || len(d.Errors) != 5 || !strings.Contains(d.Errors[0], "503 Service Unavailable: cluster_block_exception") {
		t.Fatalf("delivery %+v, want 5 failed with the 503", d)
	}
	for _, f := range fs[5:10] {
		if !strings.Contains(strings.Join(d.Errors, "\n"), consumers.ID(f.Issue)) {
			t.Errorf("no error names %s", consumers.ID(f.Issue))
		}
	}
	// Dracon's client tried the batch five times; the Elasticsearch
	// client did not retry on top of it.
	if want := (2*n+9)/10 + 4; es.bulkCalls != want {
		t.Errorf("%d bulk requests, want %d (each batch once, the failing one five times)", es.bulkCalls, want)
	}
	if docs, _ := es.counts("dracon"); docs != n-5 {
		t.Errorf("history: %d documents after the partial failure, want %d", docs, n-5)
	}

	// Delivered again: the five get in, the others are there already.
	es.failBulk = nil
	d, err = cl.c.Publish(context.Background(), run, fs)
	if err != nil || d.Created != 5 || d.Unchanged != n-5 || d.Failed != 0 {
		t.Fatalf("re-run: %+v %v", d, err)
	}
	for _, ix := range []string{"dracon", "dracon-findings"} {
		if docs, created := es.counts(ix); docs != n || created != n {
			t.Errorf("%s: %d documents, %d ever created, want %d of each", ix, docs, created, n)
		}
	}
	cl.rec.NoSecrets(t, consumertest.Secrets(t))
}

func TestDeadlinePassed(t *testing.T) {
	es := newElasticsearch("8.15.0")
	cl := newCluster(t, es, config.Elasticsearch{}, nil)
	run := consumertest.Run(t)
	fs := findings(run)
	// The cluster blocks writes (Retry-After: 2) longer than the delivery
	// may take.
	es.failBulk = func(int) int { return http.StatusTooManyRequests }
	es.retryAfter = "2"
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	d, err := cl.c.Publish(ctx, run, fs)
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("took %s: the deadline did not end the delivery", time.Since(start))
	}
	if d.Failed != len(fs) || d.Created != 0 || !strings.Contains(d.Errors[0], "context deadline exceeded") {
		t.Errorf("delivery %+v, want all %d failed", d, len(fs))
	}
	cl.rec.NoSecrets(t, consumertest.Secrets(t))
}

func TestCredentials(t *testing.T) {
	run := consumertest.Run(t)
	fs := findings(run)

	t.Run("basic authentication", func(t *testing.T) {
		es := newElasticsearch("8.15.0")
		es.user, es.password = "dracon", "correct horse battery staple"
		cl := newCluster(t, es, config.Elasticsearch{User: "dracon"}, map[string]string{EnvPassword: es.password})
		if d, err := cl.c.Publish(context.Background(), run, fs); err != nil || d.Created != len(fs) {
			t.Fatalf("%+v %v", d, err)
		}
		want := "Basic " + base64.StdEncoding.EncodeToString([]byte("dracon:correct horse battery staple"))
		for _, r := range cl.rec.Requests() {
			if r.Header.Get("Authorization") != want {
				t.Errorf("%s %s: Authorization %q", r.Method, r.Path, r.Header.Get("Authorization"))
			}
		}
		cl.rec.NoSecrets(t, consumertest.Secrets(t))
	})

	t.Run("a wrong API key", func(t *testing.T) {
		es := newElasticsearch("8.15.0")
		es.apiKey = testAPIKey
		wrong := base64.StdEncoding.EncodeToString([]byte("id:not-the-key"))
		cl := newCluster(t, es, config.Elasticsearch{APIKey: "env:MY_KEY"}, map[string]string{"MY_KEY": wrong})
		_, err := cl.c.Publish(context.Background(), run, fs)
		if err == nil || !strings.Contains(err.Error(), "refused the credentials (GET /: 401 security_exception: unable to authenticate") ||
			!strings.Contains(err.Error(), EnvAPIKey) {
			t.Fatalf("error %v", err)
		}
		if cl.env.Masker.Clean(err.Error()) != err.Error() || strings.Contains(err.Error(), wrong) {
			t.Errorf("the error carries the key: %v", err)
		}
		if cl.rec.Count("POST", "/_bulk") != 0 {
			t.Error("documents were sent after the credentials were refused")
		}
		cl.rec.NoSecrets(t, consumertest.Secrets(t))
	})

	t.Run("no credentials for a secured cluster", func(t *testing.T) {
		es := newElasticsearch("8.15.0")
		es.apiKey = testAPIKey
		cl := newCluster(t, es, config.Elasticsearch{}, nil)
		_, err := cl.c.Publish(context.Background(), run, fs)
		if err == nil || !strings.Contains(err.Error(), "missing authentication credentials for REST request [/]") {
			t.Fatalf("error %v", err)
		}
	})

	t.Run("no right to put the template", func(t *testing.T) {
		es := newElasticsearch("8.15.0")
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPut {
				w.Header().Set("X-Elastic-Product", "Elasticsearch")
				writeError(w, http.StatusForbidden, "security_exception", "action [indices:admin/index_template/put] is unauthorized for API key id [VuaCfGcBCdbkQm-e5aOx] of user [dracon]")
				return
			}
			es.ServeHTTP(w, r)
		}))
		defer srv.Close()
		cl := newCluster(t, es, config.Elasticsearch{URLs: []string{srv.URL}}, nil)
		_, err := cl.c.Publish(context.Background(), run, fs)
		if err == nil || !strings.Contains(err.Error(), "manage_index_templates") || !strings.Contains(err.Error(), "manage_template: false") {
			t.Fatalf("error %v", err)
		}
		if docs, _ := es.counts("dracon"); docs != 0 {
			t.Error("documents were indexed without their mappings")
		}
		// With the template installed by hand, the consumer does not
		// touch it.
		off := false
		cl = newCluster(t, es, config.Elasticsearch{URLs: []string{srv.URL}, ManageTemplate: &off}, nil)
		if d, err := cl.c.Publish(context.Background(), run, fs); err != nil || d.Created != len(fs) {
			t.Errorf("manage_template: false: %+v %v", d, err)
		}
	})
}

func TestServers(t *testing.T) {
	for _, tc := range []struct {
		name   string
		es     *fakeES
		flavor string
		// want: "" to deliver, else a part of the error.
		want        string
		annotations string
	}{
		{"Elasticsearch 7.17", newElasticsearch("7.17.22"), "", "", "flattened"},
		{"Elasticsearch 9.1", newElasticsearch("9.1.0"), "", "", "flattened"},
		{"Elasticsearch 7.10, without the product header", func() *fakeES { f := newElasticsearch("7.10.2"); f.productHeader = false; return f }(), "",
			"without the X-Elastic-Product header", ""},
		{"Elasticsearch 7.13", newElasticsearch("7.13.4"), "", "needs 7.14 or later", ""},
		{"Elasticsearch 10", newElasticsearch("10.0.0"), "", "speaks to 7.14 to 9.x", ""},
		{"OpenSearch, configured as Elasticsearch", newOpenSearch("2.11.0"), "", "is OpenSearch 2.11.0: set flavor: opensearch", ""},
		{"Elasticsearch, configured as OpenSearch", newElasticsearch("8.15.0"), "opensearch", "not OpenSearch: remove flavor: opensearch", ""},
		{"OpenSearch 2.11", newOpenSearch("2.11.0"), "opensearch", "", "flat_object"},
		{"OpenSearch 2.5", newOpenSearch("2.5.0"), "opensearch", "", "object"},
		{"OpenSearch 1.3", newOpenSearch("1.3.19"), "opensearch", "", "object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cl := newCluster(t, tc.es, config.Elasticsearch{Flavor: tc.flavor}, nil)
			run := consumertest.Run(t)
			fs := findings(run)
			d, err := cl.c.Publish(context.Background(), run, fs)
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("error %v, want %q", err, tc.want)
				}
				if cl.rec.Count("POST", "/_bulk")+cl.rec.Count("PUT", "/_index_template/dracon") != 0 {
					t.Error("it wrote to a cluster it refused")
				}
				return
			}
			if err != nil || d.Created != len(fs) {
				t.Fatalf("%+v %v", d, err)
			}
			ann := tc.es.templates["dracon"].properties["annotations"].(map[string]any)
			if ann["type"] != tc.annotations {
				t.Errorf("annotations mapped as %v, want %s", ann, tc.annotations)
			}
			if u := tc.es.unmapped("dracon"); len(u) > 0 {
				t.Errorf("unmapped fields %v", u)
			}
			cl.rec.NoSecrets(t, consumertest.Secrets(t))
		})
	}
}

func TestFailsOverToTheNextNode(t *testing.T) {
	var down atomic.Int32
	dead := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		down.Add(1)
		w.Header().Set("Retry-After", "0")
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer dead.Close()
	es := newElasticsearch("8.15.0")
	rec := &consumertest.Recorder{}
	live := httptest.NewServer(rec.Wrap(es))
	defer live.Close()
	c, err := New(&config.Elasticsearch{URLs: []string{dead.URL, live.URL}}, consumertest.Env(t, nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	run := consumertest.Run(t)
	fs := findings(run)
	d, err := c.Publish(context.Background(), run, fs)
	if err != nil || d.Created != len(fs) {
		t.Fatalf("%+v %v", d, err)
	}
	// The dead node had Dracon's five attempts for each request sent to
	// it, then the client moved on to the live one: never more.
	if got := down.Load(); got == 0 || got%5 != 0 {
		t.Errorf("the dead node got %d requests, want a multiple of 5", got)
	}
	if docs, _ := es.counts("dracon-findings"); docs != len(fs) {
		t.Errorf("%d documents", docs)
	}
	rec.NoSecrets(t, consumertest.Secrets(t))
}

func TestDryRun(t *testing.T) {
	// No URL and no credentials (the API key's file is not there): a dry
	// run still shows everything.
	c, err := NewDryRun(&config.Elasticsearch{APIKey: "file:not-there"}, consumertest.Env(t, nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	run := consumertest.Run(t)
	var out bytes.Buffer
	run.DryRun = &out
	fs := findings(run)
	d, err := c.Publish(context.Background(), run, fs)
	if err != nil || d.Created+d.Updated+d.Unchanged+d.Failed != 0 {
		t.Fatalf("%+v %v", d, err)
	}
	run.DryRun = nil
	if _, err := c.Publish(context.Background(), run, fs); err == nil {
		t.Error("a consumer built for a dry run delivered")
	}
	text := out.String()
	for _, want := range []string{"# would PUT _index_template/dracon", `"flattened"`,
		fmt.Sprintf("# would POST _bulk: %d actions", 2*len(fs)),
		fmt.Sprintf(`{"index":{"_index":"dracon-findings","_id":"f0001","version":%d,"version_type":"external_gte"}}`, consumertest.Start.UnixMilli()),
		fmt.Sprintf(`{"index":{"_index":"dracon-findings","_id":"f9999","version":%d,"version_type":"external_gte"}}`, consumertest.Start.UnixMilli()),
		`{"index":{"_index":"dracon","_id":"f9999:` + consumertest.ScanID + `"}}`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the dry run has no %s", want)
		}
	}
	for _, s := range consumertest.Secrets(t) {
		if strings.Contains(text, s) {
			t.Errorf("the dry run prints a secret value %.4s…", s)
		}
	}
	golden(t, "dryrun.txt", out.Bytes())

	// A consumer built for a real run, given a dry run, asks its cluster
	// nothing either.
	cl := newCluster(t, newElasticsearch("8.15.0"), config.Elasticsearch{}, nil)
	var again bytes.Buffer
	run.DryRun = &again
	if _, err := cl.c.Publish(context.Background(), run, fs); err != nil {
		t.Fatal(err)
	}
	if n := len(cl.rec.Requests()); n != 0 {
		t.Errorf("the dry run made %d requests", n)
	}
	if !strings.Contains(again.String(), "# would POST _bulk") {
		t.Errorf("dry run output: %.200s", again.String())
	}
}

func TestNew(t *testing.T) {
	env := func(vars map[string]string) consumers.Env { return consumertest.Env(t, vars, nil) }
	for _, tc := range []struct {
		name string
		cfg  config.Elasticsearch
		vars map[string]string
		want string
	}{
		{"no URL", config.Elasticsearch{}, nil, "consumers.elasticsearch.urls: no cluster to send to: set urls (or cloud_id), or the ELASTICSEARCH_URL environment variable"},
		{"a user without a password", config.Elasticsearch{URLs: []string{"http://es:9200"}, User: "dracon"}, nil,
			`consumers.elasticsearch.password: user "dracon" has no password: set password (env:NAME or file:PATH) or the DRACON_ES_PASSWORD environment variable`},
		{"an API key file that is not there", config.Elasticsearch{URLs: []string{"http://es:9200"}, APIKey: "file:missing-key"}, nil, "consumers.elasticsearch.api_key: secret file:missing-key"},
		{"a bad URL in the environment", config.Elasticsearch{}, map[string]string{EnvURL: "es:9200"}, "ELASTICSEARCH_URL"},
		{"a broken description template", config.Elasticsearch{URLs: []string{"http://es:9200"}, DescriptionTemplate: "{{.Nope"}, nil, "consumers.elasticsearch.description_template"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(&tc.cfg, env(tc.vars))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}

	e := env(map[string]string{EnvURL: "http://es1:9200, https://dracon:s3cr3t-pass@es2:9200"})
	c, err := New(&config.Elasticsearch{}, e)
	if err != nil {
		t.Fatal(err)
	}
	if c.String() != "elasticsearch" || c.where != "http://es1:9200, https://es2:9200" {
		t.Errorf("consumer %s at %s", c, c.where)
	}
	if strings.Contains(e.Masker.Clean("error at https://dracon:s3cr3t-pass@es2:9200"), "s3cr3t-pass") {
		t.Error("a password in ELASTICSEARCH_URL is not masked")
	}
	urls := c.client.Transport.(*elastictransport.Client).URLs()
	if len(urls) != 2 || urls[0].Host != "es1:9200" || urls[1].Host != "es2:9200" {
		t.Errorf("nodes %v", urls)
	}

	cloud, err := New(&config.Elasticsearch{CloudID: "prod:ZXUtd2VzdC0xLmF3cy5mb3VuZC5pbyRhYmNkZWYkZ2hpams="}, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if u := cloud.client.Transport.(*elastictransport.Client).URLs(); len(u) != 1 || u[0].String() != "https://abcdef.eu-west-1.aws.found.io" {
		t.Errorf("Cloud ID nodes %v", u)
	}
	if cloud.where != "Elastic Cloud deployment prod" {
		t.Errorf("where %q", cloud.where)
	}
}

// TestTemplateMapsEveryDocumentField holds the mappings and the document
// type together: a field added to one and not the other fails here.
func TestTemplateMapsEveryDocumentField(t *testing.T) {
	props := properties("elasticsearch", semver{8, 15})
	var fields []string
	rt := reflect.TypeOf(document{})
	for i := 0; i < rt.NumField(); i++ {
		name := strings.Split(rt.Field(i).Tag.Get("json"), ",")[0]
		fields = append(fields, name)
		if props[name] == nil {
			t.Errorf("document field %s is not in the template", name)
		}
	}
	if len(props) != len(fields) {
		var mapped []string
		for k := range props {
			if !contains(fields, k) {
				mapped = append(mapped, k)
			}
		}
		sort.Strings(mapped)
		t.Errorf("the template maps fields no document has: %v", mapped)
	}
	golden(t, "template-elasticsearch.json", templateJSON([]string{"dracon", "dracon-findings"}, "elasticsearch", semver{8, 15}, "test"))
	golden(t, "template-opensearch.json", templateJSON([]string{"dracon", "dracon-findings"}, "opensearch", semver{2, 11}, "test"))
}
