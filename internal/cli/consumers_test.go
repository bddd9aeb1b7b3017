package cli

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/draconsec/dracon/internal/producers/producertest"
	"github.com/draconsec/dracon/internal/summary"
)

// receiver is a webhook endpoint that checks each delivery's signature
// and keeps each delivery id once; fail makes it answer 500.
type receiver struct {
	mu         sync.Mutex
	deliveries map[string]int // id -> findings
	posts      int
	fail       bool
	secret     string
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.posts++
	if rc.fail {
		http.Error(w, "down", http.StatusInternalServerError)
		return
	}
	mac := hmac.New(sha256.New, []byte(rc.secret))
	mac.Write(body)
	if r.Header.Get("X-Dracon-Signature-256") != "sha256="+hex.EncodeToString(mac.Sum(nil)) {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var doc struct {
		Findings []json.RawMessage `json:"findings"`
	}
	json.Unmarshal(body, &doc)
	rc.deliveries[r.Header.Get("X-Dracon-Delivery")] = len(doc.Findings)
	w.WriteHeader(http.StatusAccepted)
}

// TestRunPublishes: dracon run sends its findings through the configured
// consumers after the gate and reports each in summary.json; a consumer
// that cannot deliver fails the run (exit 2) unless its block allows it;
// its credentials appear in no log line.
func TestRunPublishes(t *testing.T) {
	rc := &receiver{deliveries: map[string]int{}, secret: "hook-secret-value-123"}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	dir := t.TempDir()
	report := filepath.Join(producertest.CorpusDir(t), "sarif-wild", "gosec_aws-ssm_gosec.sarif")
	write := func(extra string) string {
		cfg := filepath.Join(dir, "dracon.yaml")
		os.WriteFile(cfg, []byte("producers:\n  sarif:\n    paths: ["+report+"]\npolicy:\n  paths: []\ngate:\n  fail_on: none\n"+
			"consumers:\n  stdout: {format: none}\n  webhook:\n    url: "+srv.URL+"/hook\n    secret: env:HOOK_SECRET\n    timeout: 20s\n"+extra), 0o644)
		return cfg
	}
	env := map[string]string{"DRACON_STORE": filepath.Join(dir, "findings.db"), "HOOK_SECRET": rc.secret}
	run := func(cfg string) (int, string, summary.Summary) {
		t.Helper()
		code, _, stderr := draconEnv(t, env, "run", "--config", cfg, "--source", dir, "--out", dir, "--run-dir", filepath.Join(dir, "runs"))
		var s summary.Summary
		b, _ := os.ReadFile(filepath.Join(dir, "summary.json"))
		json.Unmarshal(b, &s)
		if strings.Contains(stderr, rc.secret) {
			t.Errorf("the webhook secret is in the log:\n%s", stderr)
		}
		return code, stderr, s
	}

	code, stderr, s := run(write(""))
	if code != 0 || len(s.Consumers) != 1 || s.Consumers[0].Status != "ok" || s.Consumers[0].Created != 1 {
		t.Fatalf("exit %d, consumers %+v\n%s", code, s.Consumers, stderr)
	}
	if len(rc.deliveries) != 1 || rc.deliveries[firstKey(rc.deliveries)] != 6 {
		t.Errorf("deliveries %v, want one of the 6 findings", rc.deliveries)
	}
	if !strings.Contains(stderr, "consumer webhook: ok: 1 created") {
		t.Errorf("the log does not say what the webhook delivered:\n%s", stderr)
	}

	rc.fail = true
	code, stderr, s = run(write(""))
	if code != 2 || s.Verdict != "failed" || s.Consumers[0].Status != "failed" || !strings.Contains(strings.Join(s.Reasons, " "), "webhook") {
		t.Errorf("an unreachable consumer: exit %d, verdict %s, reasons %v, consumers %+v\n%s", code, s.Verdict, s.Reasons, s.Consumers, stderr)
	}
	code, stderr, s = run(write("    allow_failure: true\n"))
	if code != 0 || s.Consumers[0].Status != "failed" || !s.Consumers[0].AllowFailure {
		t.Errorf("allow_failure: exit %d, consumers %+v\n%s", code, s.Consumers, stderr)
	}

	// A missing credential is the consumer's failure, said plainly.
	delete(env, "HOOK_SECRET")
	code, stderr, s = run(write(""))
	if code != 2 || len(s.Consumers) != 1 || !strings.Contains(strings.Join(s.Consumers[0].Errors, " "), "HOOK_SECRET") {
		t.Errorf("missing secret: exit %d, consumers %+v\n%s", code, s.Consumers, stderr)
	}
}

func firstKey(m map[string]int) string {
	for k := range m {
		return k
	}
	return ""
}

// TestConsumeDryRun: dracon consume --consumer NAME --dry-run prints what
// would be sent and sends nothing; Jira's dry run works without
// credentials; an unknown consumer or one without a block is a usage
// error.
func TestConsumeDryRun(t *testing.T) {
	rc := &receiver{deliveries: map[string]int{}, secret: "s3cret-value"}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	dir := t.TempDir()
	report := filepath.Join(producertest.CorpusDir(t), "sarif-wild", "gosec_aws-ssm_gosec.sarif")
	cfg := filepath.Join(dir, "dracon.yaml")
	os.WriteFile(cfg, []byte("producers:\n  sarif:\n    paths: ["+report+"]\nconsumers:\n  stdout: {format: none}\n"+
		"  webhook:\n    url: "+srv.URL+"/hook\n  jira:\n    url: https://acme.atlassian.net\n    project: SEC\n"), 0o644)
	env := map[string]string{"DRACON_STORE": filepath.Join(dir, "findings.db"), "DRACON_WEBHOOK_SECRET": rc.secret}
	runs := filepath.Join(dir, "runs")
	// The run itself: Jira has no token here, so it fails; the webhook delivers.
	draconEnv(t, env, "run", "--config", cfg, "--source", dir, "--out", dir, "--run-dir", runs)
	posts := rc.posts
	entries, _ := os.ReadDir(runs)
	if len(entries) != 1 {
		t.Fatalf("run folders %v", entries)
	}
	runDir := filepath.Join(runs, entries[0].Name())

	code, stdout, stderr := draconEnv(t, env, "consume", "--config", cfg, "--consumer", "webhook,jira", "--dry-run", runDir)
	if code != 0 || rc.posts != posts {
		t.Errorf("dry run: exit %d, %d posts sent\n%s", code, rc.posts-posts, stderr)
	}
	if !strings.Contains(stdout, `"findings"`) || !strings.Contains(strings.ToLower(stdout), "would create") {
		t.Errorf("dry run printed:\n%s\n%s", stdout, stderr)
	}
	if !strings.Contains(stderr, "consumer webhook: dry_run") || !strings.Contains(stderr, "consumer jira: dry_run") {
		t.Errorf("dry run log:\n%s", stderr)
	}
	for _, bad := range [][]string{{"--consumer", "nosuch"}, {"--consumer", "slack"}, {"--dry-run"}} {
		if code, _, stderr := draconEnv(t, env, append(append([]string{"consume", "--config", cfg}, bad...), runDir)...); code != 2 {
			t.Errorf("consume %v: exit %d, want 2\n%s", bad, code, stderr)
		}
	}
}
