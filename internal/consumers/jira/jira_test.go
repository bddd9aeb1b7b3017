package jira

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/draconsec/dracon/internal/config"
	"github.com/draconsec/dracon/internal/consumers"
	"github.com/draconsec/dracon/internal/consumers/consumertest"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
	"google.golang.org/protobuf/proto"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// tokenVar is where the tests' config reads the token from.
const tokenVar = "JIRA_TEST_TOKEN"

func (f *fakeJira) config(dc *config.JiraDraconConfig) *config.Jira {
	c := &config.Jira{URL: f.srv.URL, User: f.user, Token: config.Secret("env:" + tokenVar), Project: f.project, DraconConfig: dc, Deployment: "datacenter"}
	if f.cloud {
		c.Deployment = "cloud"
	}
	return c
}

func (f *fakeJira) env(t testing.TB, log io.Writer) consumers.Env {
	return consumertest.Env(t, map[string]string{tokenVar: f.token}, log)
}

func (f *fakeJira) consumer(t testing.TB, cfg *config.Jira, log io.Writer) *Consumer {
	t.Helper()
	c, err := New(cfg, f.env(t, log))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// findings are the run's findings as the framework hands them over: no
// filter but its defaults.
func findings(run *consumers.Run) []consumers.Finding {
	return consumers.Select(consumers.Flatten(run.Results), config.Filter{})
}

func publish(t testing.TB, c *Consumer, run *consumers.Run) consumers.Delivery {
	t.Helper()
	d, err := c.Publish(context.Background(), run, findings(run))
	if err != nil {
		t.Fatalf("publish: %v (delivery %+v)", err, d)
	}
	return d
}

// labelFor is the label of the ticket of the finding with id.
func labelFor(id string) string { return labelOf(join("finding", id)) }

func creates(f *fakeJira) int {
	return f.rec.Count("POST", "/rest/api/2/issue") + f.rec.Count("POST", "/rest/api/2/issue/bulk")
}

func writes(f *fakeJira) []consumertest.Request {
	var out []consumertest.Request
	for _, q := range f.rec.Requests() {
		if q.Method != "GET" && q.Path != "/rest/api/3/search/jql" {
			out = append(out, q)
		}
	}
	return out
}

// TestOneTicketPerFindingFoundAgain: on Data Center (GET search paged by
// startAt) and Cloud (POST /rest/api/3/search/jql paged by token, ADF
// descriptions), a run creates a ticket per finding with few requests,
// and the same run again creates nothing and writes nothing.
func TestOneTicketPerFindingFoundAgain(t *testing.T) {
	for _, cloud := range []bool{false, true} {
		t.Run(map[bool]string{false: "datacenter", true: "cloud"}[cloud], func(t *testing.T) {
			f := newFakeJira(t, cloud)
			f.pageCap = 4 // the client's page size is not what the server gives
			run := consumertest.Run(t)
			all := findings(run)
			c := f.consumer(t, f.config(nil), nil)
			d := publish(t, c, run)
			if d.Created != len(all) || d.Failed != 0 || d.Updated+d.Unchanged != 0 {
				t.Fatalf("first run: %+v, want %d created", d, len(all))
			}
			if f.count() != len(all) {
				t.Fatalf("Jira has %d tickets, want %d", f.count(), len(all))
			}
			for _, fd := range all {
				id := consumers.ID(fd.Issue)
				ts := f.withLabel(labelFor(id))
				if len(ts) != 1 {
					t.Fatalf("finding %s has %d tickets", id, len(ts))
				}
				if !strings.Contains(ts[0].Description, "----\nDracon finding "+id+" ("+labelFor(id)+", digest ") {
					t.Errorf("%s: the description's footer does not name the finding:\n%s", ts[0].Key, ts[0].Description)
				}
			}
			// 18 findings: one search (18 labels, one query), one bulk
			// create.
			if n := len(f.rec.Requests()); n != 2 {
				t.Errorf("first run took %d requests, want 2 (a search, a bulk create)", n)
			}

			before := len(f.rec.Requests())
			d = publish(t, c, consumertest.Run(t))
			if d.Unchanged != len(all) || d.Created+d.Updated+d.Failed != 0 {
				t.Errorf("second run: %+v, want all %d unchanged", d, len(all))
			}
			if f.count() != len(all) {
				t.Errorf("the second run made tickets: %d", f.count())
			}
			// The search pages: 18 tickets, 4 a page.
			if n := len(f.rec.Requests()) - before; n != 5 {
				t.Errorf("second run took %d requests, want 5 (the search's pages)", n)
			}
			if w := writes(f); len(w) != 1 {
				t.Errorf("writes: %d, want the first run's bulk create only", len(w))
			}
			f.rec.NoSecrets(t, consumertest.Secrets(t))
		})
	}
}

// TestBearerTokenOnDataCenter: no user, the token is a personal access
// token sent as a bearer token on every request.
func TestBearerTokenOnDataCenter(t *testing.T) {
	f := newFakeJira(t, false)
	f.user = ""
	run := consumertest.Run(t)
	d := publish(t, f.consumer(t, f.config(nil), nil), run)
	if d.Created != len(findings(run)) {
		t.Fatalf("%+v", d)
	}
	for _, q := range f.rec.Requests() {
		if q.Header.Get("Authorization") != "Bearer "+f.token {
			t.Errorf("%s %s: Authorization %q", q.Method, q.Path, q.Header.Get("Authorization"))
		}
		if !strings.HasPrefix(q.Header.Get("User-Agent"), "dracon/") {
			t.Errorf("%s %s: User-Agent %q", q.Method, q.Path, q.Header.Get("User-Agent"))
		}
	}
	f.rec.NoSecrets(t, consumertest.Secrets(t))
}

// TestAuthRefused: a token Jira refuses fails the delivery as a whole,
// creates nothing, and the error does not carry the token.
func TestAuthRefused(t *testing.T) {
	f := newFakeJira(t, true)
	run := consumertest.Run(t)
	var log bytes.Buffer
	env := consumertest.Env(t, map[string]string{tokenVar: "wrong-token-91c2"}, &log)
	c, err := New(f.config(nil), env)
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.Publish(context.Background(), run, findings(run))
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("err = %v, want Jira's 401", err)
	}
	if strings.Contains(err.Error(), "wrong-token-91c2") || strings.Contains(log.String(), "wrong-token-91c2") {
		t.Errorf("the token is in the error or the log: %v\n%s", err, log.String())
	}
	if d.Created != 0 || creates(f) != 0 {
		t.Errorf("created after a refused search: %+v", d)
	}
	f.rec.NoSecrets(t, consumertest.Secrets(t))
}

// fullDracon is a Dracon Jira config with every part: default values
// (components, versions, labels, environment, custom fields of two
// types) and mappings of the other two, with the project overridden by
// the block's project as Dracon's consumer-jira-project-name did.
func fullDracon() *config.JiraDraconConfig {
	return &config.JiraDraconConfig{
		DefaultValues: config.JiraDefaultValues{
			Project: "OLD", Environment: "production", IssueType: "Vulnerability",
			Components: []string{"Backend", "Payments"}, AffectsVersions: []string{"1.0"}, Labels: []string{"security", "dracon"},
			CustomFields: []config.JiraCustomField{
				{ID: "customfield_10050", FieldType: "single-value", Values: []string{"Foo"}},
				{ID: "customfield_10051", FieldType: "multi-value", Values: []string{"Foo", "Baz"}},
			},
		},
		Mappings: []config.JiraMapping{
			{DraconField: "cvss", JiraField: "customfield_10001", FieldType: "float"},
			{DraconField: "severity_text", JiraField: "customfield_10070", FieldType: "single-value"},
			{DraconField: "tool_name", JiraField: "customfield_10060", FieldType: "simple-value"},
		},
	}
}

// golden compares got with testdata/name; -update rewrites it.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -update rewrites it); got:\n%s", path, got)
	}
}

func indented(t *testing.T, body []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := json.Indent(&b, body, "", "  "); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	b.WriteByte('\n')
	return b.Bytes()
}

// TestCreatePayloads pins the exact create payloads: one ticket (go-jira's
// create), three in one bulk create, with the four field types, an
// annotation winning over the document field it is named after, and the
// default description.
func TestCreatePayloads(t *testing.T) {
	f := newFakeJira(t, false)
	run := consumertest.Run(t)
	all := findings(run)
	// An annotation named like a document field is what its mapping sends.
	all[0].Issue.Annotations["tool_name"] = "gitleaks (pre-commit)"
	c := f.consumer(t, f.config(fullDracon()), nil)
	d, err := c.Publish(context.Background(), run, all[:1])
	if err != nil || d.Created != 1 {
		t.Fatalf("%+v %v", d, err)
	}
	d, err = c.Publish(context.Background(), run, all[1:4])
	if err != nil || d.Created != 3 {
		t.Fatalf("%+v %v", d, err)
	}
	var one, bulk []byte
	for _, q := range f.rec.Requests() {
		switch {
		case q.Method == "POST" && q.Path == "/rest/api/2/issue":
			one = q.Body
		case q.Method == "POST" && q.Path == "/rest/api/2/issue/bulk":
			bulk = q.Body
		}
	}
	golden(t, "create-one.json", indented(t, one))
	golden(t, "create-bulk.json", indented(t, bulk))
	f.rec.NoSecrets(t, consumertest.Secrets(t))
}

// TestGroupedTickets: group_by rule, file and package make one ticket per
// group listing its findings; a finding with nothing to group by has its
// own; a re-run changes nothing; a fixed rule's ticket is commented on.
func TestGroupedTickets(t *testing.T) {
	for _, tc := range []struct {
		groupBy string
		tickets int
	}{
		// 18 findings: 18 rules (github-pat twice: trivy's and gitleaks'
		// are two tools); 5 files and the SBOM, which has none; 2 packages
		// and 15 findings without one.
		{"rule", 18},
		{"file", 6},
		{"package", 17},
	} {
		t.Run(tc.groupBy, func(t *testing.T) {
			f := newFakeJira(t, false)
			run := consumertest.Run(t)
			for i, fd := range findings(run) {
				if i < 3 { // the three most severe are in two packages
					fd.Issue.RawIssue.PackageUrl = []string{"pkg:pypi/requests@2.19.0", "pkg:pypi/requests@2.31.0?arch=any", "pkg:npm/%40acme/ui@1.0.0"}[i]
				}
			}
			cfg := f.config(nil)
			cfg.GroupBy = tc.groupBy
			c := f.consumer(t, cfg, nil)
			d := publish(t, c, run)
			if d.Created != len(findings(run)) || f.count() != tc.tickets {
				t.Fatalf("created %+v in %d tickets, want %d findings in %d", d, f.count(), len(findings(run)), tc.tickets)
			}
			switch tc.groupBy {
			case "file":
				ts := f.withLabel(labelOf(join("file", "acme/shop", "main.tf")))
				if len(ts) != 1 || ts[0].Summary != "Dracon findings in main.tf" || !strings.Contains(ts[0].Description, "Dracon found 8 findings of file main.tf.") ||
					!strings.Contains(ts[0].Description, "(finding f0007)") || !strings.Contains(ts[0].Description, "(finding f0013)") {
					t.Errorf("main.tf's ticket: %+v", ts)
				}
			case "package":
				ts := f.withLabel(labelOf(join("package", "acme/shop", "pkg:pypi/requests")))
				if len(ts) != 1 || !strings.Contains(ts[0].Description, "Dracon found 2 findings of package pkg:pypi/requests.") {
					t.Errorf("requests' ticket: %+v", ts)
				}
			}
			d = publish(t, c, consumertest.Run(t))
			if tc.groupBy != "package" && (d.Unchanged != len(findings(run)) || d.Created+d.Updated != 0) {
				t.Errorf("re-run: %+v", d)
			}
			f.rec.NoSecrets(t, consumertest.Secrets(t))
		})
	}

	// A rule whose findings are all fixed: its ticket hears of it.
	f := newFakeJira(t, false)
	cfg := f.config(nil)
	cfg.GroupBy = "rule"
	cfg.Transitions.Fixed = "Done"
	c := f.consumer(t, cfg, nil)
	run := consumertest.Run(t)
	publish(t, c, run)
	old := f.seed(labelOf(join("rule", "acme/shop", "gosec", "G104")), "gosec G104: Errors unhandled", "", "In Progress", "")
	d := publish(t, c, run)
	if d.Updated != 1 || old.Status != "Done" || len(old.Comments) != 1 || !strings.Contains(old.Comments[0], "* gosec G104 at old.go: Errors unhandled (finding f9999)") {
		t.Errorf("the fixed rule's ticket: %+v, %+v", d, old)
	}
	f.rec.NoSecrets(t, consumertest.Secrets(t))
}

// TestUpdatesWhenTheFindingChanged: a ticket is updated when what Dracon
// writes of its finding changed, not because the scan is another one or
// the finding was seen once more.
func TestUpdatesWhenTheFindingChanged(t *testing.T) {
	f := newFakeJira(t, true)
	c := f.consumer(t, f.config(fullDracon()), nil)
	run := consumertest.Run(t)
	publish(t, c, run)
	all := findings(run)

	next := consumertest.Run(t)
	next.Scan.ScanUuid = "another-scan"
	next.Scan.ScanStartTime.Seconds += 86400
	for _, fd := range findings(next) {
		fd.Issue.Count++ // seen once more: no change to the finding
		fd.Issue.IsNew = false
	}
	changed := findings(next)[2]
	changed.Issue.RawIssue.Title = "A new title from a new scanner release"
	changed.Issue.RawIssue.Cvss = 9.1
	id := consumers.ID(changed.Issue)
	before := len(f.rec.Requests())
	d := publish(t, c, next)
	const wantUpdated = 1
	if d.Updated != wantUpdated || d.Unchanged != len(all)-wantUpdated || d.Created != 0 {
		t.Fatalf("%+v, want %d updated", d, wantUpdated)
	}
	var puts int
	for _, q := range f.rec.Requests()[before:] {
		if q.Method == "PUT" {
			puts++
		}
	}
	if puts != wantUpdated {
		t.Errorf("%d PUTs, want %d", puts, wantUpdated)
	}
	ts := f.withLabel(labelFor(id))
	if len(ts) != 1 || !strings.HasSuffix(ts[0].Summary, "A new title from a new scanner release") || string(ts[0].Fields["customfield_10001"]) != "9.1" {
		t.Errorf("the changed finding's ticket: %q %s", ts[0].Summary, ts[0].Fields["customfield_10001"])
	}
	if !strings.Contains(ts[0].Description, "during scan with id another-scan") {
		t.Errorf("an update writes the scan it was made by:\n%s", ts[0].Description)
	}
	// Run again: all up to date.
	d = publish(t, c, next)
	if d.Unchanged != len(all) {
		t.Errorf("third run: %+v", d)
	}
	f.rec.NoSecrets(t, consumertest.Secrets(t))
}

// TestExistingTickets: a ticket a person made (or an older Dracon) with
// the label is found and brought to what Dracon writes; of two with one
// label the older is kept, and the log says so.
func TestExistingTickets(t *testing.T) {
	f := newFakeJira(t, false)
	run := consumertest.Run(t)
	all := findings(run)
	id := consumers.ID(all[0].Issue)
	byHand := f.seed(labelFor(id), "made by hand", "no footer", "In Progress", "")
	f.seed(labelFor(id), "a copy", "no footer", "To Do", "")
	var log bytes.Buffer
	d := publish(t, f.consumer(t, f.config(nil), &log), run)
	if d.Created != len(all)-1 || d.Updated != 1 {
		t.Fatalf("%+v", d)
	}
	if byHand.Summary == "made by hand" || !strings.Contains(byHand.Description, "Dracon finding "+id) {
		t.Errorf("the existing ticket was not updated: %+v", byHand)
	}
	if !strings.Contains(log.String(), "dracon: jira: SEC-2 also carry the label "+labelFor(id)+" of finding "+id+": Dracon keeps SEC-1") {
		t.Errorf("log:\n%s", log.String())
	}
	f.rec.NoSecrets(t, consumertest.Secrets(t))
}

// TestFixedFindings: the ticket of a finding the store saw fixed gets a
// comment once and, when a transition is named, is closed by it.
func TestFixedFindings(t *testing.T) {
	for _, transition := range []string{"", "Done"} {
		t.Run("transition "+transition, func(t *testing.T) {
			f := newFakeJira(t, false)
			run := consumertest.Run(t)
			gone := f.seed(labelFor("f9999"), "old.go Errors unhandled", "", "To Do", "")
			cfg := f.config(nil)
			cfg.Transitions.Fixed = transition
			c := f.consumer(t, cfg, nil)
			d := publish(t, c, run)
			if d.Updated != 1 || len(gone.Comments) != 1 || !strings.Contains(gone.Comments[0], "Dracon no longer finds this as of scan "+consumertest.ScanID) {
				t.Fatalf("%+v %+v", d, gone)
			}
			if want := map[string]string{"": "To Do", "Done": "Done"}[transition]; gone.Status != want {
				t.Errorf("status %q, want %q", gone.Status, want)
			}
			d = publish(t, c, consumertest.Run(t))
			if len(gone.Comments) != 1 {
				t.Errorf("the re-run commented again: %q", gone.Comments)
			}
			if d.Created+d.Updated != 0 {
				t.Errorf("re-run: %+v", d)
			}
			f.rec.NoSecrets(t, consumertest.Secrets(t))
		})
	}
}

// TestFindingCameBack: a done ticket whose finding is found again is
// reopened by the named transition, commented on once and updated; and a
// ticket closed as Won't Do (a sync mapping) is left closed, the log
// saying how to record the decision in the findings store.
func TestFindingCameBack(t *testing.T) {
	f := newFakeJira(t, true)
	run := consumertest.Run(t)
	all := findings(run)
	back, wontDo := consumers.ID(all[0].Issue), consumers.ID(all[1].Issue)
	closed := f.seed(labelFor(back), "old summary", "old text", "Done", "Done")
	decided := f.seed(labelFor(wontDo), "not a secret", "old text", "Done", "Won't Do")
	dc := &config.JiraDraconConfig{SyncMappings: []config.JiraSyncMapping{
		{JiraStatus: "Done", JiraResolution: "Won't Do", DraconStatus: "FalsePositive"},
		{JiraStatus: "Done", JiraResolution: "Done", DraconStatus: "Resolved"}, // fixed: reopened when back
	}}
	cfg := f.config(dc)
	cfg.Transitions.Reopen = "Reopen"
	var log bytes.Buffer
	c := f.consumer(t, cfg, &log)
	d := publish(t, c, run)
	if d.Created != len(all)-2 || d.Updated != 1 || d.Unchanged != 1 {
		t.Fatalf("%+v", d)
	}
	if closed.Status != "To Do" || len(closed.Comments) != 1 || !strings.Contains(closed.Comments[0], "after the ticket was closed as Done:") ||
		!strings.Contains(closed.Description, "Dracon finding "+back) {
		t.Errorf("the ticket that came back: %+v", closed)
	}
	if decided.Status != "Done" || len(decided.Comments) != 0 || decided.Summary != "not a secret" {
		t.Errorf("the Won't Do ticket was touched: %+v", decided)
	}
	want := fmt.Sprintf("dracon: jira: %s closed as Won't Do: finding %s is a false positive: run `dracon findings triage %s --status false-positive --reason \"closed in Jira as %s: Won't Do\"`",
		decided.Key, wontDo, wontDo, decided.Key)
	if !strings.Contains(log.String(), want) {
		t.Errorf("log lacks %q:\n%s", want, log.String())
	}
	for _, q := range writes(f) {
		if strings.Contains(q.Path, decided.Key) {
			t.Errorf("wrote to the Won't Do ticket: %s %s", q.Method, q.Path)
		}
	}
	d = publish(t, c, consumertest.Run(t))
	if d.Unchanged != len(all) || len(closed.Comments) != 1 {
		t.Errorf("re-run: %+v, comments %q", d, closed.Comments)
	}
	f.rec.NoSecrets(t, consumertest.Secrets(t))
}

// TestCameBackWithoutReopen: with no reopen transition named, the done
// ticket gets one comment, and no more on later runs.
func TestCameBackWithoutReopen(t *testing.T) {
	f := newFakeJira(t, false)
	run := consumertest.Run(t)
	id := consumers.ID(findings(run)[0].Issue)
	closed := f.seed(labelFor(id), "old", "old", "Done", "Fixed")
	c := f.consumer(t, f.config(nil), nil)
	publish(t, c, run)
	d := publish(t, c, consumertest.Run(t))
	if closed.Status != "Done" || len(closed.Comments) != 1 || !strings.Contains(closed.Comments[0], "closed as Done as Fixed") {
		t.Errorf("%+v", closed)
	}
	if d.Unchanged != len(findings(run)) {
		t.Errorf("re-run: %+v", d)
	}
	f.rec.NoSecrets(t, consumertest.Secrets(t))
}

// TestRetries: a 429 with Retry-After is waited out, a 500 retried; each
// ticket is created once.
func TestRetries(t *testing.T) {
	f := newFakeJira(t, false)
	f.rateLimitOnce, f.serverErrorOnce = true, true
	run := consumertest.Run(t)
	var log bytes.Buffer
	start := time.Now()
	d := publish(t, f.consumer(t, f.config(nil), &log), run)
	if time.Since(start) < time.Second {
		t.Errorf("took %s: Retry-After: 1 was not waited out", time.Since(start))
	}
	if d.Created != len(findings(run)) || f.count() != len(findings(run)) {
		t.Errorf("%+v, %d tickets", d, f.count())
	}
	if !strings.Contains(log.String(), "dracon: jira: 429 Too Many Requests; retrying") || !strings.Contains(log.String(), "dracon: jira: 500 Internal Server Error; retrying") {
		t.Errorf("log:\n%s", log.String())
	}
	f.rec.NoSecrets(t, consumertest.Secrets(t))
}

// TestPartialFailureThenRerun: Jira fails the first creates past every
// retry; the run reports those findings failed and creates the others;
// the re-run creates the failed ones only. Nothing is created twice and
// nothing is lost.
func TestPartialFailureThenRerun(t *testing.T) {
	f := newFakeJira(t, true)
	f.failCreates = 5 // the first batch's five attempts
	run := consumertest.Run(t)
	all := findings(run)
	c := f.consumer(t, f.config(nil), nil)
	c.batch, c.workers = 5, 1 // 18 findings: batches of 5, 5, 5, 3, in order
	d := publish(t, c, run)
	if d.Failed != 5 || d.Created != len(all)-5 || len(d.Errors) != 5 {
		t.Fatalf("first run: %+v", d)
	}
	if !strings.Contains(d.Errors[0], "jira: create: 503 Service Unavailable") {
		t.Errorf("error: %q", d.Errors[0])
	}
	d = publish(t, c, consumertest.Run(t))
	if d.Created != 5 || d.Unchanged != len(all)-5 || d.Failed != 0 {
		t.Fatalf("re-run: %+v", d)
	}
	for _, fd := range all {
		if n := len(f.withLabel(labelFor(consumers.ID(fd.Issue)))); n != 1 {
			t.Errorf("finding %s has %d tickets", consumers.ID(fd.Issue), n)
		}
	}
	if f.count() != len(all) {
		t.Errorf("%d tickets for %d findings", f.count(), len(all))
	}
	f.rec.NoSecrets(t, consumertest.Secrets(t))
}

// TestRefusedIssue: Jira refuses one issue of a bulk create (a value its
// select list does not have): that finding fails with Jira's reason, the
// others are created, and a re-run does not create them again.
func TestRefusedIssue(t *testing.T) {
	f := newFakeJira(t, false)
	run := consumertest.Run(t)
	all := findings(run)
	all[4].Issue.Annotations["impact"] = "Catastrophic" // not an option of customfield_10070
	dc := &config.JiraDraconConfig{Mappings: []config.JiraMapping{{DraconField: "impact", JiraField: "customfield_10070", FieldType: "single-value"}}}
	c := f.consumer(t, f.config(dc), nil)
	d := publish(t, c, run)
	if d.Failed != 1 || d.Created != len(all)-1 || len(d.Errors) != 1 || !strings.Contains(d.Errors[0], "create refused: customfield_10070: Option value 'Catastrophic' is not valid") {
		t.Fatalf("%+v", d)
	}
	d = publish(t, c, run)
	if d.Failed != 1 || d.Created != 0 || d.Unchanged != len(all)-1 || f.count() != len(all)-1 {
		t.Errorf("re-run: %+v, %d tickets", d, f.count())
	}
	f.rec.NoSecrets(t, consumertest.Secrets(t))
}

// TestDryRunWithoutCredentials: no URL, no token: a dry run still shows
// every ticket it would create, payload and all; New refuses, naming the
// key and the variable to set.
func TestDryRunWithoutCredentials(t *testing.T) {
	cfg := &config.Jira{Project: "SEC", DraconConfig: fullDracon()}
	if _, err := New(cfg, consumertest.Env(t, nil, nil)); err == nil || !strings.Contains(err.Error(), "consumers.jira.url or DRACON_JIRA_URL") {
		t.Errorf("New without a URL: %v", err)
	}
	if _, err := New(&config.Jira{Project: "SEC", URL: "https://jira.acme.example"}, consumertest.Env(t, nil, nil)); err == nil ||
		!strings.Contains(err.Error(), "consumers.jira.token (env:NAME or file:PATH) or DRACON_JIRA_TOKEN") {
		t.Errorf("New without a token: %v", err)
	}
	if _, err := New(&config.Jira{Project: "SEC", URL: "https://acme.atlassian.net"}, consumertest.Env(t, map[string]string{EnvToken: "t"}, nil)); err == nil ||
		!strings.Contains(err.Error(), "consumers.jira.user or DRACON_JIRA_USER") {
		t.Errorf("New for Cloud without a user: %v", err)
	}
	c, err := NewDryRun(cfg, consumertest.Env(t, nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	run := consumertest.Run(t)
	if _, err := c.Publish(context.Background(), run, findings(run)); err == nil {
		t.Error("a consumer without credentials published outside a dry run")
	}
	var out bytes.Buffer
	run.DryRun = &out
	d, err := c.Publish(context.Background(), run, findings(run))
	if err != nil || d.Created != len(findings(run)) {
		t.Fatalf("%+v %v", d, err)
	}
	if n := strings.Count(out.String(), "jira: would create a ticket for finding "); n != len(findings(run)) {
		t.Errorf("%d tickets shown, want %d", n, len(findings(run)))
	}
	for _, s := range consumertest.Secrets(t) {
		if strings.Contains(out.String(), s) {
			t.Errorf("the dry run shows the secret %q…", s[:4])
		}
	}
	golden(t, "dry-run-offline.txt", out.Bytes())
}

// TestDryRunWithCredentials: a dry run searches and reads comments (only
// reads) and says what it would do to each ticket; it writes nothing.
func TestDryRunWithCredentials(t *testing.T) {
	f := newFakeJira(t, false)
	run := consumertest.Run(t)
	all := findings(run)
	publish(t, f.consumer(t, f.config(nil), nil), consumertest.Run(t)) // all tickets exist
	changed := all[0]
	changed.Issue.RawIssue.Title = "Renamed"
	gone := f.seed(labelFor("f9999"), "old.go Errors unhandled", "", "To Do", "")
	// A done ticket whose finding is back, told so by an earlier run.
	back := f.withLabel(labelFor(consumers.ID(all[1].Issue)))[0]
	back.Status, back.Resolution = "Done", "Done"
	back.Comments = []string{"Dracon found this again in scan 1:\n\n_dracon state: found again_"}
	before := len(f.rec.Requests())
	cfg := f.config(nil)
	cfg.Transitions.Fixed = "Done"
	var out bytes.Buffer
	run.DryRun = &out
	d := publish(t, f.consumer(t, cfg, nil), run)
	if d.Updated != 2 || d.Unchanged != len(all)-1 {
		t.Errorf("%+v", d)
	}
	for _, q := range f.rec.Requests()[before:] {
		if q.Method != "GET" || q.Path != "/rest/api/2/search" && q.Path != "/rest/api/2/issue/"+gone.Key && q.Path != "/rest/api/2/issue/"+back.Key {
			t.Errorf("a dry run sent %s %s", q.Method, q.Path)
		}
	}
	for _, want := range []string{
		"jira: would update SEC-1 (finding " + consumers.ID(changed.Issue) + "): its findings changed:\n{\n  \"fields\": {",
		"jira: SEC-3 is up to date",
		"jira: " + back.Key + " (Done) was told already that finding " + consumers.ID(all[1].Issue) + " is found again",
		"jira: would comment on " + gone.Key + ":\nDracon no longer finds this",
		"jira: would close " + gone.Key + " (\"Done\"): finding f9999 is fixed",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the dry run does not say %q:\n%s", want, out.String())
		}
	}
	if gone.Status != "To Do" || len(gone.Comments) != 0 || len(back.Comments) != 1 {
		t.Errorf("the dry run changed tickets: %+v %+v", gone, back)
	}
	f.rec.NoSecrets(t, consumertest.Secrets(t))
}

// TestDraconConfigFiles: Dracon's JSON and YAML files are read from the
// scanned folder through DRACON_JIRA_CONFIG_PATH, unknown keys ignored;
// addToDescription's block is added, with a notice.
func TestDraconConfigFiles(t *testing.T) {
	files := map[string]string{
		"config.json": `{"defaultValues":{"project":"SEC","issueType":"Task","customFields":null,"futureKey":1},
 "addToDescription":["scan_start_time","tool_name","target","type","confidence_text","annotations","hash"],
 "mappings":null, "somethingNew": true}`,
		"config.yaml": `defaultValues:
  project: SEC
  issueType: Task
addToDescription: [scan_start_time, tool_name, target, type, confidence_text, annotations, hash]
somethingNew: true
`,
	}
	for name, text := range files {
		t.Run(name, func(t *testing.T) {
			f := newFakeJira(t, false)
			var log bytes.Buffer
			env := consumertest.Env(t, map[string]string{tokenVar: f.token, EnvConfigPath: filepath.Join(".dracon", name)}, &log)
			os.MkdirAll(filepath.Join(env.Source, ".dracon"), 0o755)
			if err := os.WriteFile(filepath.Join(env.Source, ".dracon", name), []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			cfg := f.config(nil)
			cfg.Project = ""
			c, err := New(cfg, env)
			if err != nil {
				t.Fatal(err)
			}
			run := consumertest.Run(t)
			publish(t, c, run)
			fd := findings(run)[0]
			ts := f.withLabel(labelFor(consumers.ID(fd.Issue)))
			want := "{code:}\nscan_start_time:           2026-12-01T10:00:00Z\ntool_name:                 " + fd.Tool + "\n"
			if len(ts) != 1 || !strings.Contains(ts[0].Description, want) || !strings.Contains(ts[0].Description, "\nannotations:               {\"Owner-0\":") {
				t.Errorf("description lacks Dracon's addToDescription block:\n%s", ts[0].Description)
			}
			if !strings.Contains(log.String(), "addToDescription is deprecated") {
				t.Errorf("no notice: %s", log.String())
			}
			f.rec.NoSecrets(t, consumertest.Secrets(t))
		})
	}
	env := consumertest.Env(t, map[string]string{tokenVar: "x", EnvConfigPath: "missing.json"}, nil)
	if _, err := New(&config.Jira{URL: "https://jira.acme.example", Token: "env:" + tokenVar}, env); err == nil || !strings.Contains(err.Error(), "DRACON_JIRA_CONFIG_PATH missing.json") {
		t.Errorf("a missing file: %v", err)
	}
	os.WriteFile(filepath.Join(env.Source, "bad.json"), []byte(`{"mappings":[{"draconField":"cvss","jiraField":"customfield_1","fieldType":"number"}]}`), 0o644)
	if _, err := New(&config.Jira{URL: "https://jira.acme.example", Token: "env:" + tokenVar, Project: "SEC", Config: "bad.json"}, env); err == nil ||
		!strings.Contains(err.Error(), `bad.json.mappings[0].fieldType: "number" is not a field type`) {
		t.Errorf("a bad field type: %v", err)
	}
}

// TestLongSummary: a summary longer than Jira's 255 characters is cut,
// and the rest opens the description, as in Dracon.
func TestLongSummary(t *testing.T) {
	f := newFakeJira(t, false)
	run := consumertest.Run(t)
	fd := findings(run)[0]
	fd.Issue.RawIssue.Title = strings.Repeat("é", 300) + "\nsecond line"
	d := publish(t, f.consumer(t, f.config(nil), nil), run)
	if d.Created != len(findings(run)) {
		t.Fatalf("%+v", d)
	}
	is := f.withLabel(labelFor(consumers.ID(fd.Issue)))[0]
	if n := len([]rune(is.Summary)); n != 255 || strings.Contains(is.Summary, "\n") {
		t.Errorf("summary of %d characters: %q", n, is.Summary)
	}
	if !strings.HasPrefix(is.Description, ".... ") || !strings.Contains(strings.SplitN(is.Description, "\n", 2)[0], "second line") {
		t.Errorf("the description does not open with the rest of the summary:\n%s", is.Description[:300])
	}
	f.rec.NoSecrets(t, consumertest.Secrets(t))
}

// TestPackageOf: a package URL's version, qualifiers and subpath go; an
// encoded @ in a namespace stays.
func TestPackageOf(t *testing.T) {
	for in, want := range map[string]string{
		"pkg:golang/golang.org/x/net@v0.17.0":        "pkg:golang/golang.org/x/net",
		"pkg:npm/%40angular/core@16.0.0?arch=x#sub":  "pkg:npm/%40angular/core",
		"pkg:PyPI/Requests":                          "pkg:pypi/requests",
		"pkg:maven/org.apache/log4j@2.14.1?type=jar": "pkg:maven/org.apache/log4j",
		"": "",
	} {
		if got := packageOf(in); got != want {
			t.Errorf("packageOf(%q) = %q, want %q", in, got, want)
		}
	}
}

// BenchmarkThousandNewFindings: a run of 1,000 new findings against an
// empty project, counting the requests Jira receives: 20 searches and 20
// bulk creates. It fails above 1,100.
func BenchmarkThousandNewFindings(b *testing.B) {
	base := consumertest.Run(b)
	template := findings(base)[0]
	var issues []*v1.EnrichedIssue
	for i := range 1000 {
		is := proto.Clone(template.Issue).(*v1.EnrichedIssue)
		is.FindingId = fmt.Sprintf("b%05d", i)
		is.RawIssue.Target = fmt.Sprintf("cmd/svc%d/main.go:%d", i, i+1)
		issues = append(issues, is)
	}
	run := &consumers.Run{Scan: base.Scan, Results: []*v1.EnrichedLaunchToolResponse{{OriginalResults: base.Results[0].OriginalResults, Issues: issues}}}
	var requests int
	for b.Loop() {
		f := newFakeJira(b, true)
		c := f.consumer(b, f.config(nil), nil)
		d, err := c.Publish(context.Background(), run, findings(run))
		if err != nil || d.Created != 1000 {
			b.Fatalf("%+v %v", d, err)
		}
		requests = len(f.rec.Requests())
	}
	b.ReportMetric(float64(requests), "requests/op")
	if requests >= 1100 {
		b.Fatalf("%d requests for 1,000 new tickets, want under 1,100", requests)
	}
}

// TestSearchRefused: a project Jira does not have, or Data Center's search
// asked of Jira Cloud (which removed it), fails the delivery with Jira's
// own message, before anything is created.
func TestSearchRefused(t *testing.T) {
	f := newFakeJira(t, true)
	run := consumertest.Run(t)
	for _, tc := range []struct {
		edit func(*config.Jira)
		want string
	}{
		{func(c *config.Jira) { c.Project = "NOPE" }, "search: 400 Bad Request: The value 'NOPE' does not exist for the field 'project'."},
		{func(c *config.Jira) { c.Deployment = "datacenter" }, "search: 410 Gone: The requested API has been removed. Please migrate to the /rest/api/3/search/jql API."},
	} {
		cfg := f.config(nil)
		tc.edit(cfg)
		_, err := f.consumer(t, cfg, nil).Publish(context.Background(), run, findings(run))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("err = %v, want %q", err, tc.want)
		}
	}
	if creates(f) != 0 {
		t.Errorf("%d creates after a failed search", creates(f))
	}
	f.rec.NoSecrets(t, consumertest.Secrets(t))
}

// TestFindingsWithoutIDs: results consumed without the store's ids or
// hashes still get a ticket each, found again on the next run.
func TestFindingsWithoutIDs(t *testing.T) {
	f := newFakeJira(t, false)
	run := consumertest.Run(t)
	for _, r := range run.Results {
		for _, is := range r.Issues {
			is.FindingId, is.Hash, is.RawIssue.Fingerprint = "", "", ""
		}
	}
	c := f.consumer(t, f.config(nil), nil)
	if d := publish(t, c, run); d.Created != len(findings(run)) || f.count() != len(findings(run)) {
		t.Fatalf("%+v: %d tickets", d, f.count())
	}
	if d := publish(t, c, run); d.Unchanged != len(findings(run)) {
		t.Errorf("re-run: %+v", d)
	}
	f.rec.NoSecrets(t, consumertest.Secrets(t))
}
