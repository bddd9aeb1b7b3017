package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/draconsec/dracon/internal/config"
	"github.com/draconsec/dracon/internal/consumers"
	"github.com/draconsec/dracon/internal/consumers/consumertest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const (
	hmacSecret = "whsec-7d1f0c2b9a8e4f56"
	authHeader = "Bearer rcv-3f9a1c77e2d04b8a"
)

// receiver is a webhook receiver as the docs ask one to be: it checks the
// signature with the shared secret and the Authorization header, keeps
// each delivery once by its X-Dracon-Delivery id (answering 208 for one
// it has), and can be told to fail.
type receiver struct {
	t  *testing.T
	mu sync.Mutex
	// stored are the deliveries kept, by id, in arrival order of first
	// receipt.
	stored map[string][]byte
	order  []string
	// attempts counts every POST, retries included.
	attempts int
	// fail, when set, answers instead of the receiver for a delivery's
	// part: a status and headers, or 0 to handle it.
	fail func(part, attempt int) (int, http.Header)
	// partAttempts counts the POSTs of each part.
	partAttempts map[int]int
}

func newReceiver(t *testing.T) (*receiver, *consumertest.Recorder, *httptest.Server) {
	r := &receiver{t: t, stored: map[string][]byte{}, partAttempts: map[int]int{}}
	rec := &consumertest.Recorder{}
	srv := httptest.NewServer(rec.Wrap(r))
	t.Cleanup(srv.Close)
	return r, rec, srv
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.attempts++
	if req.Method != http.MethodPost || req.URL.Path != "/hooks/dracon" {
		http.Error(w, "no such hook", http.StatusNotFound)
		return
	}
	if req.Header.Get("Authorization") != authHeader {
		http.Error(w, "bad credentials", http.StatusUnauthorized)
		return
	}
	mac := hmac.New(sha256.New, []byte(hmacSecret))
	mac.Write(body)
	want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(req.Header.Get(HeaderSignature)), []byte(want)) {
		http.Error(w, "signature mismatch", http.StatusUnauthorized)
		return
	}
	var doc struct {
		Part int `json:"part"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || req.Header.Get("Content-Type") != "application/json" || req.Header.Get(HeaderEvent) != "scan" {
		http.Error(w, "not a Dracon scan event", http.StatusBadRequest)
		return
	}
	r.partAttempts[doc.Part]++
	if r.fail != nil {
		if code, h := r.fail(doc.Part, r.partAttempts[doc.Part]); code != 0 {
			for k, v := range h {
				w.Header()[k] = v
			}
			http.Error(w, "receiver busy", code)
			return
		}
	}
	id := req.Header.Get(HeaderDelivery)
	if _, had := r.stored[id]; had {
		w.WriteHeader(http.StatusAlreadyReported)
		return
	}
	r.stored[id] = body
	r.order = append(r.order, id)
	w.WriteHeader(http.StatusAccepted)
}

// findingIDs are the ids of the findings the stored deliveries carry, each
// as often as it was stored.
func (r *receiver) findingIDs(t *testing.T) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ids []string
	for _, id := range r.order {
		var b Body
		if err := json.Unmarshal(r.stored[id], &b); err != nil {
			t.Fatal(err)
		}
		for _, f := range b.Findings {
			ids = append(ids, f.ID)
		}
	}
	sort.Strings(ids)
	return ids
}

func newConsumer(t *testing.T, srvURL string, max int, log io.Writer) *Consumer {
	t.Helper()
	env := consumertest.Env(t, map[string]string{SecretEnv: hmacSecret, "HOOK_AUTH": authHeader}, log)
	c, err := New(&config.Webhook{URL: srvURL + "/hooks/dracon", MaxFindingsPerRequest: max,
		Headers: map[string]config.Secret{"authorization": "env:HOOK_AUTH"}}, env)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func selected(run *consumers.Run) []consumers.Finding {
	return consumers.Select(consumers.Flatten(run.Results), config.Filter{})
}

func ids(fs []consumers.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, consumers.ID(f.Issue))
	}
	sort.Strings(out)
	return out
}

// TestDeliversSignedParts: a run of 18 findings in parts of 5 arrives as 4
// signed POSTs, each with its own delivery id, that together carry every
// finding once, each valid against the documented schema.
func TestDeliversSignedParts(t *testing.T) {
	r, rec, srv := newReceiver(t)
	var log bytes.Buffer
	c := newConsumer(t, srv.URL, 5, &log)
	run := consumertest.Run(t)
	findings := selected(run)
	d, err := c.Publish(context.Background(), run, findings)
	if err != nil {
		t.Fatal(err)
	}
	if d.Created != 4 || d.Failed != 0 || d.Unchanged != 0 {
		t.Errorf("delivery = %+v, want 4 parts created", d)
	}
	if got, want := r.findingIDs(t), ids(findings); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("the receiver has findings %v, want %v", got, want)
	}
	schema := compileSchema(t)
	seen := map[string]bool{}
	for i, q := range rec.Requests() {
		id := q.Header.Get(HeaderDelivery)
		if seen[id] {
			t.Errorf("request %d: delivery id %s used twice", i+1, id)
		}
		seen[id] = true
		if id != DeliveryID(consumertest.ScanID, q.Body) {
			t.Errorf("request %d: delivery id %s is not the sha256 of the scan id and body", i+1, id)
		}
		if ua := q.Header.Get("User-Agent"); ua != "dracon/test" {
			t.Errorf("request %d: User-Agent %q", i+1, ua)
		}
		validate(t, schema, q.Body)
		var b Body
		json.Unmarshal(q.Body, &b)
		if b.Part != i+1 || b.Parts != 4 || b.FindingsTotal != 18 || b.FixedTotal != 1 || b.Summary.Verdict != "failed" {
			t.Errorf("request %d: part %d/%d, totals %d/%d, verdict %q", i+1, b.Part, b.Parts, b.FindingsTotal, b.FixedTotal, b.Summary.Verdict)
		}
		if wantFixed := map[bool]int{true: 1, false: 0}[i == 0]; len(b.Fixed) != wantFixed {
			t.Errorf("request %d carries %d fixed findings, want %d", i+1, len(b.Fixed), wantFixed)
		}
	}
	rec.NoSecrets(t, append(consumertest.Secrets(t), hmacSecret))
	if strings.Contains(log.String(), hmacSecret) || strings.Contains(log.String(), authHeader) || !strings.Contains(log.String(), "delivered part 4/4") {
		t.Errorf("log:\n%s", log.String())
	}
}

// TestGoldenBody pins the body's bytes: a change of shape is a change of
// docs/consumers/webhook.md (and, unless only added to, of SchemaVersion).
func TestGoldenBody(t *testing.T) {
	run := consumertest.Run(t)
	parts, err := Parts(run, selected(run), 0, "test")
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) != 1 {
		t.Fatalf("%d parts, want 1", len(parts))
	}
	var pretty bytes.Buffer
	json.Indent(&pretty, parts[0].Body, "", "  ")
	pretty.WriteByte('\n')
	golden(t, "body.json", pretty.Bytes())
	again, _ := Parts(run, selected(run), 0, "test")
	if again[0].Delivery != parts[0].Delivery {
		t.Error("the same run gave two delivery ids: a receiver could not drop the repeat")
	}
	validate(t, compileSchema(t), parts[0].Body)
}

// TestRetriedUntilAccepted: a 500 is retried with the same body and
// delivery id, and the receiver keeps one delivery.
func TestRetriedUntilAccepted(t *testing.T) {
	r, rec, srv := newReceiver(t)
	r.fail = func(part, attempt int) (int, http.Header) {
		if attempt == 1 {
			return http.StatusInternalServerError, nil
		}
		return 0, nil
	}
	c := newConsumer(t, srv.URL, 0, nil)
	run := consumertest.Run(t)
	d, err := c.Publish(context.Background(), run, selected(run))
	if err != nil {
		t.Fatal(err)
	}
	if d.Created != 1 || d.Failed != 0 {
		t.Errorf("delivery = %+v", d)
	}
	reqs := rec.Requests()
	if len(reqs) != 2 || !bytes.Equal(reqs[0].Body, reqs[1].Body) || reqs[0].Header.Get(HeaderDelivery) != reqs[1].Header.Get(HeaderDelivery) {
		t.Fatalf("%d requests; a retry must resend the same body with the same delivery id", len(reqs))
	}
	if len(r.stored) != 1 {
		t.Errorf("the receiver stored %d deliveries, want 1", len(r.stored))
	}
	rec.NoSecrets(t, consumertest.Secrets(t))
}

// TestRerunAfterPartialFailure: the receiver is down for part 2 of 4
// through every retry; the other parts arrive and the failure is
// counted. Sent again, the parts the receiver has come back as
// unchanged (208) and part 2 arrives: every finding is stored once.
func TestRerunAfterPartialFailure(t *testing.T) {
	r, rec, srv := newReceiver(t)
	down := true
	r.fail = func(part, attempt int) (int, http.Header) {
		if down && part == 2 {
			// Retry-After: 0 keeps the test fast; the client still makes
			// every attempt.
			return http.StatusServiceUnavailable, http.Header{"Retry-After": {"0"}}
		}
		return 0, nil
	}
	c := newConsumer(t, srv.URL, 5, nil)
	run := consumertest.Run(t)
	findings := selected(run)
	d, err := c.Publish(context.Background(), run, findings)
	if err != nil {
		t.Fatal(err)
	}
	if d.Created != 3 || d.Failed != 1 || len(d.Errors) != 1 || !strings.Contains(d.Errors[0], "part 2/4") || !strings.Contains(d.Errors[0], "503") {
		t.Fatalf("first delivery = %+v, want 3 created and part 2 failed with its 503", d)
	}
	if r.partAttempts[2] != 5 {
		t.Errorf("part 2 was tried %d times, want 5 (the retrying client's attempts)", r.partAttempts[2])
	}
	r.mu.Lock()
	down = false
	r.mu.Unlock()
	d, err = c.Publish(context.Background(), run, findings)
	if err != nil {
		t.Fatal(err)
	}
	if d.Created != 1 || d.Unchanged != 3 || d.Failed != 0 {
		t.Errorf("re-run = %+v, want part 2 created, 3 unchanged", d)
	}
	if got, want := r.findingIDs(t), ids(findings); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("the receiver has findings %v, want each of %v once", got, want)
	}
	rec.NoSecrets(t, consumertest.Secrets(t))
}

// TestRefusals: a refused credential ends the delivery with an error; a
// redirect or a 400 fails its part, with what the receiver said.
func TestRefusals(t *testing.T) {
	for _, tc := range []struct {
		name    string
		code    int
		wantErr bool
		want    string
	}{
		{"401 ends the delivery", http.StatusUnauthorized, true, "401 Unauthorized: receiver busy"},
		{"400 fails each part", http.StatusBadRequest, false, "400 Bad Request: receiver busy"},
		{"a redirect is not followed", http.StatusFound, false, "redirects are not followed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, rec, srv := newReceiver(t)
			r.fail = func(int, int) (int, http.Header) {
				return tc.code, http.Header{"Location": {"http://elsewhere.example/"}}
			}
			c := newConsumer(t, srv.URL, 10, nil)
			run := consumertest.Run(t)
			d, err := c.Publish(context.Background(), run, selected(run))
			if d.Failed != 2 || d.Created != 0 {
				t.Errorf("delivery = %+v, want both parts failed", d)
			}
			msg := strings.Join(d.Errors, "\n")
			if err != nil {
				msg = err.Error()
			}
			if (err != nil) != tc.wantErr || !strings.Contains(msg, tc.want) {
				t.Errorf("error %v, errors %q: want error=%v with %q", err, d.Errors, tc.wantErr, tc.want)
			}
			if tc.wantErr && rec.Count("POST", "") != 1 {
				t.Errorf("%d POSTs after the refusal, want 1: the rest would be refused too", rec.Count("POST", ""))
			}
			rec.NoSecrets(t, consumertest.Secrets(t))
		})
	}
}

// TestDryRun prints every part as it would be sent, sends nothing, and
// works without a secret.
func TestDryRun(t *testing.T) {
	_, rec, srv := newReceiver(t)
	env := consumertest.Env(t, nil, nil)
	c, err := New(&config.Webhook{URL: srv.URL + "/hooks/dracon?team=sec", MaxFindingsPerRequest: 10}, env)
	if err != nil {
		t.Fatal(err)
	}
	run := consumertest.Run(t)
	var out bytes.Buffer
	run.DryRun = &out
	d, err := c.Publish(context.Background(), run, selected(run))
	if err != nil {
		t.Fatal(err)
	}
	if d.Created+d.Updated+d.Unchanged+d.Failed != 0 || len(rec.Requests()) != 0 {
		t.Errorf("a dry run delivered %+v in %d requests", d, len(rec.Requests()))
	}
	text := out.String()
	for _, want := range []string{"would POST part 1/2 to " + srv.URL + "/hooks/dracon (10 findings, 1 fixed", "would POST part 2/2", "unsigned: no secret", `"id": "f0001"`} {
		if !strings.Contains(text, want) {
			t.Errorf("dry run output lacks %q", want)
		}
	}
	if strings.Contains(text, "team=sec") {
		t.Error("the dry run printed the URL's query")
	}
	for _, s := range consumertest.Secrets(t) {
		if strings.Contains(text, s) {
			t.Errorf("the dry run printed the secret value %q…", s[:4])
		}
	}
}

func TestNewChecks(t *testing.T) {
	env := consumertest.Env(t, map[string]string{}, nil)
	for _, tc := range []struct {
		cfg  config.Webhook
		want string
	}{
		{config.Webhook{}, "consumers.webhook.url is not set"},
		{config.Webhook{URL: "http://hooks.example.com/x"}, "consumers.webhook.url: http sends the findings in the clear"},
		{config.Webhook{URL: "https://hooks.example.com/x", Secret: "env:HOOK_SECRET"}, "consumers.webhook.secret: env:HOOK_SECRET is empty or unset"},
		{config.Webhook{URL: "https://hooks.example.com/x", Headers: map[string]config.Secret{"X-Api-Key": "env:HOOK_KEY"}}, "consumers.webhook.headers.X-Api-Key: env:HOOK_KEY is empty or unset"},
	} {
		if _, err := New(&tc.cfg, env); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want %q", tc.cfg, err, tc.want)
		}
	}
	if _, err := New(&config.Webhook{URL: "http://hooks.internal/x", InsecureHTTP: true}, env); err != nil {
		t.Errorf("insecure_http: %v", err)
	}
}

// TestSchemaRefusesWhatItDoesNotDocument: the schema is strict, so the
// test above would catch a field added to the body but not to the docs.
func TestSchemaRefusesWhatItDoesNotDocument(t *testing.T) {
	run := consumertest.Run(t)
	parts, _ := Parts(run, selected(run), 0, "test")
	var doc map[string]any
	json.Unmarshal(parts[0].Body, &doc)
	doc["findings"].([]any)[0].(map[string]any)["secret"] = "x"
	b, _ := json.Marshal(doc)
	inst, _ := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if compileSchema(t).Validate(inst) == nil {
		t.Error("the schema accepts a finding with an undocumented field")
	}
}

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	s, err := jsonschema.NewCompiler().Compile("../../../docs/consumers/webhook.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func validate(t *testing.T, s *jsonschema.Schema, body []byte) {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(inst); err != nil {
		t.Errorf("body does not validate against webhook.schema.json: %v", err)
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run with -update if the change is meant)", path)
	}
}
