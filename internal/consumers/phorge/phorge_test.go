package phorge

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/draconsec/dracon/internal/config"
	"github.com/draconsec/dracon/internal/consumers"
	"github.com/draconsec/dracon/internal/consumers/consumertest"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
	"google.golang.org/protobuf/proto"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// testToken has the shape of a Conduit API token: "api-" and 28
// characters.
const testToken = "api-w7x2kq9d4rj6m3p8t5n1v0bzy4ch"

type fixture struct {
	ph  *phorge
	rec *consumertest.Recorder
	c   *Consumer
	cfg *config.Phorge
	log *syncBuffer
}

// syncBuffer is a log several lookups write to at once (the retrying
// client logs each retry), as the run's stderr takes them.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func setup(t *testing.T, cfg *config.Phorge) *fixture {
	t.Helper()
	if len(testToken) != 32 {
		t.Fatalf("the test token is %d characters", len(testToken))
	}
	f := &fixture{ph: newPhorge(t, testToken), rec: &consumertest.Recorder{}, cfg: cfg, log: &syncBuffer{}}
	f.ph.idField = cfg.IDField
	hs := httptest.NewServer(f.rec.Wrap(f.ph))
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

func (f *fixture) publish(t *testing.T, run *consumers.Run) (consumers.Delivery, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return f.c.Publish(ctx, run, consumers.Select(consumers.Flatten(run.Results), f.cfg.Filter))
}

// calls counts the Conduit calls of a method.
func (f *fixture) calls(method string) int { return f.rec.Count("POST", "/api/"+method) }

// tasks is how many findings of the run get a task: all but syft's BOM.
const tasks = 17

func TestCreatesOnceThenLeavesUnchanged(t *testing.T) {
	f := setup(t, &config.Phorge{Projects: []string{"security"}, OwnerProjects: map[string][]string{"@acme/payments": {"payments"}},
		Subscribers: []string{"alice"}, Priorities: map[string]string{"medium": "low"}})
	run := consumertest.Run(t)
	d, err := f.publish(t, run)
	if err != nil {
		t.Fatal(err)
	}
	if d.Created != tasks || d.Updated+d.Unchanged+d.Failed != 0 || len(f.ph.tasks) != tasks {
		t.Fatalf("first run: %+v, %d tasks", d, len(f.ph.tasks))
	}
	// One title search per finding and per fixed finding (the run has
	// one); no task found, so no status lookup.
	if f.calls("maniphest.search") != tasks+1 || f.calls("maniphest.edit") != tasks || f.calls("maniphest.status.search") != 0 {
		t.Errorf("calls: %d searches, %d edits, %d status searches", f.calls("maniphest.search"), f.calls("maniphest.edit"), f.calls("maniphest.status.search"))
	}
	for _, q := range f.rec.Requests() {
		form, _ := url.ParseQuery(string(q.Body))
		if q.Header.Get("Content-Type") != "application/x-www-form-urlencoded" || !strings.Contains(form.Get("params"), `"__conduit__":{"token":"`+testToken+`"}`) {
			t.Errorf("%s: %s %s", q.Path, q.Header.Get("Content-Type"), q.Body)
		}
	}
	first := f.ph.byID(1)
	if !strings.HasPrefix(first.Title, "[dracon:") || first.Status != "open" || len(first.Subscribers) != 1 {
		t.Errorf("T1 %+v", first)
	}
	for _, tk := range f.ph.tasks {
		if !contains(tk.Projects, "security") {
			t.Errorf("T%d projects %v", tk.ID, tk.Projects)
		}
	}
	// The first is critical; gosec's f0001 is @acme/payments's.
	if crit := f.ph.byID(1); crit.Priority != 100 {
		t.Errorf("critical finding's task: priority %d", crit.Priority)
	}
	if pay := f.taskOf("f0001"); strings.Join(pay.Projects, ",") != "security,payments" {
		t.Errorf("@acme/payments's finding's projects: %v", pay.Projects)
	}
	for _, tk := range f.ph.tasks {
		if strings.Contains(tk.Title, "Use of weak cryptographic primitive") && tk.Priority != 25 {
			t.Errorf("priorities: medium: low gave %d", tk.Priority)
		}
	}
	golden(t, "create.json", f.ph.editLog)

	again := consumertest.Run(t)
	again.Results = consumertest.Clone(run.Results)
	d, err = f.publish(t, again)
	if err != nil {
		t.Fatal(err)
	}
	if d.Unchanged != tasks || d.Created+d.Updated+d.Failed != 0 || len(f.ph.tasks) != tasks || f.calls("maniphest.edit") != tasks {
		t.Errorf("second run: %+v, %d tasks, %d edits", d, len(f.ph.tasks), f.calls("maniphest.edit"))
	}
	if dupes := f.ph.duplicates(); len(dupes) > 0 {
		t.Errorf("tasks filed twice: %v", dupes)
	}
	f.rec.NoSecrets(t, consumertest.Secrets(t))
}

// golden compares recorded maniphest.edit params with testdata/golden.
func golden(t *testing.T, name string, edits []json.RawMessage) {
	t.Helper()
	var all []any
	for _, e := range edits {
		var v any
		json.Unmarshal(e, &v)
		all = append(all, v)
	}
	got, err := json.MarshalIndent(all, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "golden", name)
	if *update {
		os.MkdirAll(filepath.Dir(path), 0o755)
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
		t.Errorf("%s differs from the transactions sent (go test -update rewrites it):\n%s", path, got)
	}
}

func TestIDFieldLookedUpInBatches(t *testing.T) {
	f := setup(t, &config.Phorge{IDField: "custom.dracon.id"})
	f.ph.pageMax = 7 // a page shorter than asked: the cursor must be followed
	run := consumertest.Run(t)
	d, err := f.publish(t, run)
	if err != nil || d.Created != tasks || f.calls("maniphest.search") != 1 {
		t.Fatalf("%v %+v, %d searches", err, d, f.calls("maniphest.search"))
	}
	if tk := f.ph.byID(1); strings.HasPrefix(tk.Title, "[dracon:") || tk.Custom["custom.dracon.id"] != "f0015" {
		t.Errorf("T1 %q, field %q", tk.Title, tk.Custom["custom.dracon.id"])
	}
	// 17 tasks found in pages of 7: three calls.
	again := consumertest.Run(t)
	d, err = f.publish(t, again)
	if err != nil || d.Unchanged != tasks || f.calls("maniphest.search") != 1+3 {
		t.Errorf("%v %+v, %d searches", err, d, f.calls("maniphest.search"))
	}
	// 230 findings: ids sent 100 at a time.
	big := consumertest.Run(t)
	for _, r := range big.Results {
		if r.GetOriginalResults().GetToolName() != "gosec" {
			continue
		}
		template := consumertest.Clone([]*v1.EnrichedLaunchToolResponse{r})[0].Issues[0]
		for i := 0; i < 230-tasks; i++ {
			is := proto.Clone(template).(*v1.EnrichedIssue)
			is.FindingId = fmt.Sprintf("g%04d", i)
			r.Issues = append(r.Issues, is)
		}
	}
	before := f.calls("maniphest.search")
	f.ph.pageMax = 100
	d, err = f.publish(t, big)
	if err != nil || d.Created != 230-tasks || d.Unchanged != tasks {
		t.Fatalf("%v %+v", err, d)
	}
	if n := f.calls("maniphest.search") - before; n != 3 {
		t.Errorf("%d searches for 230 ids, want 3 batches", n)
	}
	f.rec.NoSecrets(t, consumertest.Secrets(t))
}

// taskOf finds a finding's task by its marker or id field.
func (f *fixture) taskOf(id string) *ptask {
	for _, tk := range f.ph.tasks {
		if strings.Contains(tk.Title, "["+Marker(id)+"]") || tk.Custom["custom.dracon.id"] == id {
			return tk
		}
	}
	return nil
}

func TestFixedResolvesAndBackReopens(t *testing.T) {
	f := setup(t, &config.Phorge{})
	run := consumertest.Run(t)
	if _, err := f.publish(t, run); err != nil {
		t.Fatal(err)
	}
	f.ph.editLog = nil
	// f0001 is fixed: gone from the results, in Fixed.
	fixed := consumertest.Run(t)
	for _, r := range fixed.Results {
		var keep = r.Issues[:0]
		for _, is := range r.Issues {
			if is.FindingId != "f0001" {
				keep = append(keep, is)
			}
		}
		r.Issues = keep
	}
	fixed.Fixed = append(fixed.Fixed, consumers.Fixed{ID: "f0001", Tool: "gosec", Rule: "G401", Path: "main.go", Title: "Use of weak cryptographic primitive", Severity: "MEDIUM"})
	d, err := f.publish(t, fixed)
	if err != nil {
		t.Fatal(err)
	}
	tk := f.taskOf("f0001")
	if d.Updated != 1 || d.Unchanged != tasks-1 || tk.Status != "resolved" || !strings.Contains(tk.Comments[0], "Dracon no longer finds this in scan "+consumertest.ScanID+" of acme/shop at main (0123456)") {
		t.Fatalf("%+v, T%d %s %v", d, tk.ID, tk.Status, tk.Comments)
	}
	if f.calls("maniphest.status.search") != 1 {
		t.Error("the install's statuses were not read")
	}
	// Back: reopened, with a comment.
	back := consumertest.Run(t)
	d, err = f.publish(t, back)
	if err != nil || d.Updated != 1 || tk.Status != "open" || !strings.Contains(tk.Comments[1], "Dracon found this again") {
		t.Fatalf("%v %+v, %s %v", err, d, tk.Status, tk.Comments)
	}
	// A person closes one as wontfix: found again, it stays so; and a
	// description that changed (the finding's text) is brought up to date.
	other := f.taskOf("f0002")
	other.Status = "wontfix"
	changed := consumertest.Run(t)
	for _, fd := range consumers.Flatten(changed.Results) {
		if fd.Issue.FindingId == "f0002" {
			fd.Issue.RawIssue.Description = "A clearer explanation."
		}
	}
	d, err = f.publish(t, changed)
	if err != nil || d.Updated != 1 || other.Status != "wontfix" || !strings.Contains(other.Description, "A clearer explanation.") {
		t.Errorf("%v %+v, %s", err, d, other.Status)
	}
	// And a fixed finding whose task is closed already is left alone.
	gone := consumertest.Run(t)
	for _, r := range gone.Results {
		var keep = r.Issues[:0]
		for _, is := range r.Issues {
			if is.FindingId != "f0002" {
				keep = append(keep, is)
			}
		}
		r.Issues = keep
	}
	gone.Fixed = []consumers.Fixed{{ID: "f0002", Tool: "gosec", Rule: "G204", Path: "main.go"}}
	before := len(f.ph.editLog)
	if _, err := f.publish(t, gone); err != nil || len(f.ph.editLog) != before {
		t.Errorf("%v; %d edits for a closed task", err, len(f.ph.editLog)-before)
	}
	golden(t, "lifecycle.json", f.ph.editLog)
	f.rec.NoSecrets(t, consumertest.Secrets(t))
}

// TestFaults: Conduit errors, 5xx, throttling and a lost answer; a
// re-run after a partial failure creates what is missing, once.
func TestFaults(t *testing.T) {
	t.Run("some creations fail, then a re-run", func(t *testing.T) {
		f := setup(t, &config.Phorge{})
		f.ph.failEdits = map[int]bool{3: true, 4: true, 9: true}
		d, err := f.publish(t, consumertest.Run(t))
		if err != nil {
			t.Fatal(err)
		}
		if d.Created != tasks-3 || d.Failed != 3 || len(d.Errors) != 3 || !strings.Contains(d.Errors[0], "creating its task: maniphest.edit: ERR-CONDUIT-CORE: Database error") {
			t.Fatalf("%+v", d)
		}
		d, err = f.publish(t, consumertest.Run(t))
		if err != nil || d.Created != 3 || d.Unchanged != tasks-3 || d.Failed != 0 || len(f.ph.tasks) != tasks {
			t.Errorf("re-run: %v %+v, %d tasks", err, d, len(f.ph.tasks))
		}
		if dupes := f.ph.duplicates(); len(dupes) > 0 {
			t.Errorf("filed twice: %v", dupes)
		}
	})
	t.Run("a failed lookup creates nothing", func(t *testing.T) {
		f := setup(t, &config.Phorge{})
		f.ph.failSearch = Marker("f0003")[len("dracon:"):]
		d, err := f.publish(t, consumertest.Run(t))
		if err != nil || d.Failed != 1 || d.Created != tasks-1 || !strings.Contains(d.Errors[0], "gosec G306 at main.go:14: looking its task up: maniphest.search: ERR-CONDUIT-CORE") {
			t.Fatalf("%v %+v", err, d)
		}
		f.ph.failSearch = ""
		d, err = f.publish(t, consumertest.Run(t))
		if err != nil || d.Created != 1 || len(f.ph.tasks) != tasks {
			t.Errorf("re-run %v %+v", err, d)
		}
	})
	t.Run("5xx and 429 are retried", func(t *testing.T) {
		f := setup(t, &config.Phorge{})
		f.ph.failNext, f.ph.throttle = 2, 1
		start := time.Now()
		d, err := f.publish(t, consumertest.Run(t))
		if err != nil || d.Created != tasks || len(f.ph.tasks) != tasks || time.Since(start) < time.Second {
			t.Errorf("%v %+v, %d tasks, %s", err, d, len(f.ph.tasks), time.Since(start))
		}
	})
	t.Run("an answer lost after the task was made", func(t *testing.T) {
		// The retrying client sends the creation again: two tasks carry
		// the marker. The next run keeps to the oldest and says so.
		f := setup(t, &config.Phorge{})
		f.ph.failAfterApply = 1
		if _, err := f.publish(t, consumertest.Run(t)); err != nil {
			t.Fatal(err)
		}
		if len(f.ph.tasks) != tasks+1 {
			t.Fatalf("%d tasks", len(f.ph.tasks))
		}
		d, err := f.publish(t, consumertest.Run(t))
		if err != nil || d.Unchanged != tasks || d.Created != 0 || len(f.ph.tasks) != tasks+1 ||
			!strings.Contains(f.log.String(), "dracon: phorge: T2 also stands for finding f0015, which T1 tracks: close it as a duplicate") {
			t.Errorf("%v %+v; log %s", err, d, f.log)
		}
	})
}

func TestRefused(t *testing.T) {
	f := setup(t, &config.Phorge{})
	f.ph.token = "api-aaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	_, err := f.publish(t, consumertest.Run(t))
	if err == nil || !strings.Contains(err.Error(), `Conduit refused the API token: maniphest.search: ERR-INVALID-AUTH: API token "[token]" is not valid.`) {
		t.Fatalf("err %v", err)
	}
	// The searches in flight when the refusal came, no more.
	if strings.Contains(err.Error(), testToken) || len(f.ph.tasks) != 0 || f.calls("maniphest.search") > titleSearchWorkers {
		t.Errorf("%v; %d tasks, %d searches", err, len(f.ph.tasks), f.calls("maniphest.search"))
	}
	// An unknown project is the install's answer to that creation.
	g := setup(t, &config.Phorge{Projects: []string{"no-such-project"}})
	d, err := g.publish(t, consumertest.Run(t))
	if err != nil || d.Failed != tasks || !strings.Contains(d.Errors[0], `Unable to resolve project \"no-such-project\"`) && !strings.Contains(d.Errors[0], `Unable to resolve project "no-such-project"`) {
		t.Errorf("%v %+v", err, d.Errors[:1])
	}
}

func TestDryRun(t *testing.T) {
	f := setup(t, &config.Phorge{})
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
	if err != nil || d.Created != tasks || len(f.rec.Requests()) != 0 {
		t.Fatalf("%v %+v, %d requests", err, d, len(f.rec.Requests()))
	}
	for _, s := range []string{"phorge: would create a task: maniphest.edit", `"type": "title"`, `"value": "[` + Marker("f0015") + `] GitHub Personal Access Token"`,
		`"type": "priority"`, `"value": "unbreak"`} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("dry run lacks %q:\n%s", s, out.String())
		}
	}
	for _, s := range consumertest.Secrets(t) {
		if strings.Contains(out.String(), s) {
			t.Errorf("the dry run prints the secret %q…", s[:4])
		}
	}
	// With a token, tasks are looked up (read only) and nothing changes.
	if _, err := f.publish(t, consumertest.Run(t)); err != nil {
		t.Fatal(err)
	}
	f.ph.byID(3).Status = "resolved"
	edits := f.calls("maniphest.edit")
	out.Reset()
	d, err = f.c.Publish(context.Background(), run, consumers.Flatten(run.Results))
	if err != nil || d.Updated != 1 || d.Unchanged != tasks-1 || f.calls("maniphest.edit") != edits ||
		!strings.Contains(out.String(), "phorge: would update T3: maniphest.edit") || !strings.Contains(out.String(), `"objectIdentifier": "T3"`) {
		t.Errorf("%v %+v, %d edits:\n%s", err, d, f.calls("maniphest.edit")-edits, out.String())
	}
	run.DryRun = nil
	if _, err := c.Publish(context.Background(), run, consumers.Flatten(run.Results)); err == nil ||
		!strings.Contains(err.Error(), "consumers.phorge.token") || !strings.Contains(err.Error(), EnvToken) {
		t.Errorf("no token, not a dry run: %v", err)
	}
}

func TestNew(t *testing.T) {
	_, err := New(&config.Phorge{}, consumertest.Env(t, map[string]string{EnvToken: testToken}, nil))
	if err == nil || !strings.Contains(err.Error(), "consumers.phorge.url") || !strings.Contains(err.Error(), EnvURL) {
		t.Errorf("no URL: %v", err)
	}
	_, err = New(&config.Phorge{URL: "https://phorge.example.com"}, consumertest.Env(t, nil, nil))
	if err == nil || !strings.Contains(err.Error(), "consumers.phorge.token") || !strings.Contains(err.Error(), EnvToken) {
		t.Errorf("no token: %v", err)
	}
	// For a dry run neither is needed; asked to send, it says what is missing.
	dry, err := NewDryRun(&config.Phorge{}, consumertest.Env(t, map[string]string{EnvToken: testToken}, nil))
	if err != nil {
		t.Fatal(err)
	}
	dr := consumertest.Run(t)
	var out bytes.Buffer
	dr.DryRun = &out
	if d, err := dry.Publish(context.Background(), dr, consumers.Flatten(dr.Results)); err != nil || d.Created != tasks {
		t.Errorf("%v %+v", err, d)
	}
	dr.DryRun = nil
	if _, err := dry.Publish(context.Background(), dr, nil); err == nil || !strings.Contains(err.Error(), "consumers.phorge.url") {
		t.Errorf("sending without an address: %v", err)
	}
	c, err := New(&config.Phorge{}, consumertest.Env(t, map[string]string{EnvURL: "https://phorge.example.com/api/", EnvToken: testToken}, nil))
	if err != nil || c.base != "https://phorge.example.com" || c.String() != "phorge" {
		t.Errorf("%v %+v", err, c)
	}
	// The marker: 12 hex digits, split by Ferret into two terms.
	if m := Marker("0190a7b2-4c1e-7d3a-9b1f-5e6d7c8b9a0f"); len(m) != len("dracon:")+12 || strings.Join(ferretTerms("["+m+"] x"), " ") != "dracon "+m[7:]+" x" {
		t.Errorf("marker %q", m)
	}
}
