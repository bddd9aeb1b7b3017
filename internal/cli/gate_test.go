package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/draconsec/dracon/internal/exploitdata/exploittest"
	"github.com/draconsec/dracon/internal/githubcheck"
	"github.com/draconsec/dracon/internal/store"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// The release gate's tests run against real things: the findings store on
// SQLite and on PostgreSQL (DRACON_TEST_POSTGRES, by default the local
// server; see storecmd_test.go), git repositories made here, and a fake of
// GitHub's check-runs endpoint that go-github talks to as it would to
// GitHub Enterprise Server.

const (
	relRepo   = "octo-org/octo-repo"
	relCommit = "9f3c2a1b7e6d5c4b3a29180f7e6d5c4b3a291807" // the release
	laterSHA  = "2222222222222222222222222222222222222222" // a later commit on main
	ghToken   = "ghs_notARealToken0123456789abcdefghijKLMN"
)

// eachStore runs fn on an empty store of each backend.
func eachStore(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, filepath.Join(t.TempDir(), "findings.db")) })
	t.Run("postgres", func(t *testing.T) { fn(t, pgSchema(t, "gate")) })
}

func withStore(t *testing.T, dsn string, fn func(st store.Store)) {
	t.Helper()
	st, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	fn(st)
}

// observe records a scan of repo at commit, started at, that saw these
// findings, and returns their ids.
func observe(t *testing.T, dsn, repo, commit string, at time.Time, sightings ...store.Sighting) []string {
	t.Helper()
	var ids []string
	withStore(t, dsn, func(st store.Store) {
		scan := store.Scan{ID: fmt.Sprintf("scan-%s-%s-%d", repo, commit[:7], at.UnixNano()), Repository: repo, Ref: "refs/heads/main", Commit: commit, Event: "push", Started: at}
		recs, err := st.Observe(context.Background(), scan, sightings)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			ids = append(ids, r.ID)
		}
	})
	return ids
}

func triage(t *testing.T, dsn, id string, s store.Status) {
	t.Helper()
	withStore(t, dsn, func(st store.Store) {
		if _, err := st.SetStatus(context.Background(), id, s, "alice", "behind the VPN, see SEC-12"); err != nil {
			t.Fatal(err)
		}
	})
}

// Findings as the dedup enricher records them: the severity is the
// enum's name ("SEVERITY_CRITICAL"); an import may store the bare level
// ("HIGH"), which the gate reads too.
var (
	sqli = store.Sighting{Signatures: []store.Signature{{Algorithm: "code/v1", Value: "c0de5q11"}}, Tool: "semgrep", Rule: "go.sqli",
		Path: "app/db.go", StartLine: 7, EndLine: 7, Severity: "SEVERITY_CRITICAL", Title: "SQL built from request input"}
	weakHash = store.Sighting{Signatures: []store.Signature{{Algorithm: "code/v1", Value: "c0deb5"}}, Tool: "gosec", Rule: "G401",
		Path: "app/auth.go", StartLine: 5, EndLine: 5, Severity: "HIGH", Title: "Use of weak cryptographic primitive"}
	lowNoise = store.Sighting{Signatures: []store.Signature{{Algorithm: "code/v1", Value: "c0de10"}}, Tool: "gosec", Rule: "G104",
		Path: "app/main.go", StartLine: 12, EndLine: 12, Severity: "SEVERITY_LOW", Title: "Errors unhandled"}
	awsKey = store.Sighting{Signatures: []store.Signature{{Algorithm: "secret/v1", Value: "5ecre7"}}, Tool: "gitleaks", Rule: "aws-access-token",
		Path: "deploy/env.sh", StartLine: 3, EndLine: 3, Severity: "SEVERITY_LOW", Title: "AWS access key"}
)

func writeConfig(t *testing.T, yaml string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "dracon.yaml")
	if err := os.WriteFile(p, []byte("version: 1\n"+yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestReleaseGate: a commit is judged on the store's findings at it, as
// the store knows them now.
func TestReleaseGate(t *testing.T) {
	eachStore(t, func(t *testing.T, dsn string) {
		now := time.Now().UTC()
		noConfig := writeConfig(t, "")
		gateOf := func(args ...string) (int, string, string) {
			t.Helper()
			return draconEnv(t, nil, append([]string{"gate", "--context", "release", "--store", dsn, "--repository", relRepo, "--config", noConfig}, args...)...)
		}

		// No store: exit 2, saying so.
		if _, ok := os.Stat(dsn); ok == nil || !strings.HasSuffix(dsn, ".db") {
			// (PostgreSQL: the schema exists, empty.)
		} else if code, _, stderr := gateOf("--commit", relCommit); code != 2 || !strings.Contains(stderr, "findings store "+dsn+" does not exist") {
			t.Errorf("no store: exit %d: %s", code, stderr)
		}
		withStore(t, dsn, func(store.Store) {})
		// Nothing scanned: an unscanned release fails, exit 2.
		code, stdout, stderr := gateOf("--commit", relCommit)
		if code != 2 || !strings.Contains(stdout, "no scan of "+relCommit+" in the findings store: run dracon run on it before releasing") {
			t.Fatalf("unscanned commit: exit %d\n%s%s", code, stdout, stderr)
		}

		// The release commit's scan saw a critical, a low and a high
		// finding; a later commit on main fixed the critical one (marked
		// fixed there, still in the release's code).
		ids := observe(t, dsn, relRepo, relCommit, now.Add(-48*time.Hour), sqli, lowNoise)
		idSQLi := ids[0]
		withStore(t, dsn, func(st store.Store) {
			later := store.Scan{ID: "later", Repository: relRepo, Ref: "refs/heads/main", Commit: laterSHA, Event: "push", Started: now.Add(-time.Hour)}
			if _, err := st.Observe(context.Background(), later, []store.Sighting{lowNoise}); err != nil {
				t.Fatal(err)
			}
			if fixed, err := st.MarkFixed(context.Background(), later, store.Scope{Repository: relRepo}); err != nil || len(fixed) != 1 {
				t.Fatalf("MarkFixed = %v, %v", fixed, err)
			}
		})
		code, stdout, stderr = gateOf("--commit", relCommit)
		if code != 1 || !strings.Contains(stdout, "verdict: failed (exit 1)") ||
			!strings.Contains(stdout, "open critical finding go.sqli (semgrep) in app/db.go:7: a release may not ship with an open critical finding [dracon.builtin.release.deny]") ||
			!strings.Contains(stdout, "judged: 2 open findings of gosec, semgrep") || !strings.Contains(stdout, "event: release") ||
			!strings.Contains(stdout, "policies (working tree): dracon.builtin.branch") || !strings.Contains(stdout, relCommit) {
			t.Fatalf("open critical finding (fixed on a later commit only): exit %d\n%s%s", code, stdout, stderr)
		}
		// The later commit, where it is fixed, passes.
		if code, stdout, _ := gateOf("--commit", laterSHA); code != 0 || !strings.Contains(stdout, "verdict: passed (exit 0)") {
			t.Errorf("the later commit: exit %d\n%s", code, stdout)
		}

		// Triaged as an accepted risk: left out, the release passes.
		triage(t, dsn, idSQLi, store.StatusAcceptedRisk)
		code, stdout, _ = gateOf("--commit", relCommit)
		if code != 0 || !strings.Contains(stdout, "judged: 1 open finding of gosec, semgrep (left out: 1 triaged or fixed: 1 accepted_risk)") ||
			!strings.Contains(stdout, "Release gate passed") {
			t.Fatalf("accepted risk: exit %d\n%s", code, stdout)
		}

		// A high finding first seen 40 days ago (on an older commit), past
		// a 30-day SLA; 20 days old, within it.
		sla := writeConfig(t, "policy:\n  sla:\n    high_days: 30\n")
		const oldCommit = "3333333333333333333333333333333333333333"
		observe(t, dsn, "acme/forty", oldCommit, now.Add(-40*24*time.Hour), weakHash)
		observe(t, dsn, "acme/forty", relCommit, now.Add(-24*time.Hour), weakHash)
		observe(t, dsn, "acme/twenty", oldCommit, now.Add(-20*24*time.Hour), weakHash)
		observe(t, dsn, "acme/twenty", relCommit, now.Add(-24*time.Hour), weakHash)
		code, stdout, _ = draconEnv(t, nil, "gate", "--context", "release", "--store", dsn, "--repository", "acme/forty", "--commit", relCommit, "--config", sla)
		if code != 1 || !strings.Contains(stdout, "open high finding G401 (gosec) in app/auth.go:5 is 40 days old, past the default 30-day SLA") {
			t.Errorf("high, 40 days: exit %d\n%s", code, stdout)
		}
		code, stdout, _ = draconEnv(t, nil, "gate", "--context", "release", "--store", dsn, "--repository", "acme/twenty", "--commit", relCommit, "--config", sla)
		if code != 0 || !strings.Contains(stdout, "verdict: passed") {
			t.Errorf("high, 20 days: exit %d\n%s", code, stdout)
		}
		// --fail-on adds a threshold to the policies.
		code, stdout, _ = draconEnv(t, nil, "gate", "--context", "release", "--store", dsn, "--repository", "acme/twenty", "--commit", relCommit, "--config", sla, "--fail-on", "high")
		if code != 1 || !strings.Contains(stdout, "1 findings at or above HIGH (1 HIGH)") {
			t.Errorf("high, 20 days, --fail-on high: exit %d\n%s", code, stdout)
		}

		// A secret, of low severity, still blocks: its kind is secret.
		observe(t, dsn, "acme/leaky", relCommit, now.Add(-time.Hour), awsKey)
		code, stdout, _ = draconEnv(t, nil, "gate", "--context", "release", "--store", dsn, "--repository", "acme/leaky", "--commit", relCommit, "--config", noConfig)
		if code != 1 || !strings.Contains(stdout, "secret aws-access-token (gitleaks) in deploy/env.sh:3: rotate it, then remove it from the code [dracon.builtin.secrets.deny]") {
			t.Errorf("secret: exit %d\n%s", code, stdout)
		}

		// The summary: verdict, reasons, policies, the findings judged.
		sum := filepath.Join(t.TempDir(), "summary.json")
		code, _, stderr = draconEnv(t, nil, "gate", "--context", "release", "--store", dsn, "--repository", "acme/leaky", "--commit", relCommit, "--config", noConfig, "--summary", sum)
		if code != 1 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		var s struct {
			Verdict  string            `json:"verdict"`
			ExitCode int               `json:"exit_code"`
			Reasons  []string          `json:"reasons"`
			Tags     map[string]string `json:"tags"`
			Counts   struct {
				Total int `json:"total"`
			} `json:"counts"`
			Producers []struct {
				Name, Status string
				Findings     int
			} `json:"producers"`
			Policy struct {
				Revision string `json:"revision"`
				Deny     []struct {
					Rule     string `json:"rule"`
					Findings []struct {
						ID, Path string
						Line     int
					} `json:"findings"`
				} `json:"deny"`
				Policies []struct{ Package string } `json:"policies"`
			} `json:"policy"`
		}
		b, _ := os.ReadFile(sum)
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatal(err)
		}
		if s.Verdict != "failed" || s.ExitCode != 1 || len(s.Reasons) != 1 || s.Counts.Total != 1 || s.Tags["event"] != "release" ||
			s.Tags["commit"] != relCommit || s.Tags["repository"] != "acme/leaky" || len(s.Producers) != 1 || s.Producers[0].Name != "gitleaks" ||
			s.Producers[0].Status != "ok" || s.Policy.Revision != "working tree" || len(s.Policy.Deny) != 1 ||
			s.Policy.Deny[0].Rule != "data.dracon.builtin.secrets.deny" || len(s.Policy.Deny[0].Findings) != 1 ||
			s.Policy.Deny[0].Findings[0].Path != "deploy/env.sh" || s.Policy.Deny[0].Findings[0].Line != 3 || len(s.Policy.Policies) == 0 {
			t.Errorf("summary.json:\n%s", b)
		}

		// Another repository's scans of the same SHA are not this one's.
		if code, stdout, _ := draconEnv(t, nil, "gate", "--context", "release", "--store", dsn, "--repository", "acme/unscanned", "--commit", relCommit, "--config", noConfig); code != 2 ||
			!strings.Contains(stdout, "no scan of "+relCommit) {
			t.Errorf("another repository: exit %d\n%s", code, stdout)
		}
	})
}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=Rel Eng", "-c", "user.email=releng@example.com", "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_SYSTEM=/dev/null")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// releaseRepo is a git repository with a tagged release (annotated tag
// v1.0.0) and a commit after it on HEAD; it returns the folder, the
// tag's commit and HEAD's.
func releaseRepo(t *testing.T) (string, string, string) {
	t.Helper()
	dir := t.TempDir()
	git(t, dir, "init", "-q", "-b", "main")
	writeFile(t, filepath.Join(dir, "app", "db.go"), "package app\n\nimport \"database/sql\"\n\nfunc lookup(db *sql.DB, id string) {\n\t// the query\n\trows, err := db.Query(\"SELECT * FROM users WHERE id = \" + id)\n\t_, _ = rows, err\n}\n")
	writeFile(t, filepath.Join(dir, "app", "auth.go"), "package app\n\nimport \"crypto/md5\"\n\nfunc hash(password string) [16]byte { sum := md5.Sum([]byte(password)); return sum }\n")
	writeFile(t, filepath.Join(dir, ".github", "CODEOWNERS"), "* @acme/platform\napp/auth.go @acme/payments\n")
	git(t, dir, "add", "-A")
	git(t, dir, "commit", "-q", "-m", "release 1.0.0")
	git(t, dir, "tag", "-a", "v1.0.0", "-m", "v1.0.0")
	tagged := git(t, dir, "rev-parse", "HEAD")
	writeFile(t, filepath.Join(dir, "CHANGELOG.md"), "# next\n")
	git(t, dir, "add", "-A")
	git(t, dir, "commit", "-q", "-m", "after the release")
	return dir, tagged, git(t, dir, "rev-parse", "HEAD")
}

// TestReleaseGateRef: --ref resolves a real tag in the checkout, and the
// checkout's CODEOWNERS give findings the owners whose SLA applies.
func TestReleaseGateRef(t *testing.T) {
	dir, tagged, head := releaseRepo(t)
	dsn := filepath.Join(t.TempDir(), "findings.db")
	now := time.Now().UTC()
	observe(t, dsn, "acme/app", "4444444444444444444444444444444444444444", now.Add(-20*24*time.Hour), weakHash)
	observe(t, dsn, "acme/app", tagged, now.Add(-24*time.Hour), weakHash)
	// The team that owns app/auth.go has a 14-day SLA; the default is 30.
	cfg := filepath.Join(dir, "dracon.yaml")
	writeFile(t, cfg, "version: 1\npolicy:\n  sla:\n    high_days: 30\n    teams:\n      \"@acme/payments\":\n        high_days: 14\n")
	args := []string{"gate", "--context", "release", "--store", dsn, "--repository", "acme/app", "--source", dir}

	code, stdout, stderr := draconEnv(t, nil, append(args, "--ref", "v1.0.0")...)
	if code != 1 || !strings.Contains(stdout, "acme/app at "+tagged+" (--ref v1.0.0)") ||
		!strings.Contains(stdout, "open high finding G401 (gosec) in app/auth.go:5 is 20 days old, past the 14-day SLA of @acme/payments") ||
		!strings.Contains(stdout, "Release gate failed: v1.0.0 ("+tagged[:12]+")") {
		t.Fatalf("--ref v1.0.0: exit %d\n%s%s", code, stdout, stderr)
	}
	// HEAD (the default with no CI commit) is the commit after the
	// release, never scanned.
	code, stdout, _ = draconEnv(t, nil, args...)
	if code != 2 || !strings.Contains(stdout, "at "+head+" (HEAD)") || !strings.Contains(stdout, "no scan of "+head) {
		t.Errorf("HEAD: exit %d\n%s", code, stdout)
	}
	// The CI's commit comes before HEAD; a short --commit is resolved.
	if code, stdout, _ := draconEnv(t, map[string]string{"GITHUB_SHA": tagged}, args...); code != 1 || !strings.Contains(stdout, "at "+tagged+" ($GITHUB_SHA)") {
		t.Errorf("GITHUB_SHA: exit %d\n%s", code, stdout)
	}
	if code, stdout, _ := draconEnv(t, map[string]string{"CI_COMMIT_SHA": tagged, "CI_PROJECT_PATH": "acme/app"}, "gate", "--context", "tag", "--store", dsn, "--source", dir); code != 1 ||
		!strings.Contains(stdout, "at "+tagged+" ($CI_COMMIT_SHA)") || !strings.Contains(stdout, "event: tag") {
		t.Errorf("GitLab's CI_COMMIT_SHA and CI_PROJECT_PATH: exit %d\n%s", code, stdout)
	}
	if code, stdout, _ := draconEnv(t, nil, append(args, "--commit", tagged[:10])...); code != 1 || !strings.Contains(stdout, "at "+tagged) {
		t.Errorf("short --commit: exit %d\n%s", code, stdout)
	}
	// Suppressions kept as code in the checkout apply, as in a scan of it.
	writeFile(t, filepath.Join(dir, ".dracon-ignore.yaml"), "version: 1\nignore:\n  - rule: G401\n    path: app/**\n    reason: legacy checksum, not a password store (SEC-40)\n")
	code, stdout, stderr = draconEnv(t, nil, append(args, "--ref", "v1.0.0")...)
	if code != 0 || !strings.Contains(stdout, "judged: 1 open finding of gosec, 1 suppressed in the checkout") {
		t.Errorf(".dracon-ignore.yaml: exit %d\n%s%s", code, stdout, stderr)
	}
	os.Remove(filepath.Join(dir, ".dracon-ignore.yaml"))
	// A tag the checkout does not have.
	code, _, stderr = draconEnv(t, nil, append(args, "--ref", "v9.9.9")...)
	if code != 2 || !strings.Contains(stderr, `--ref v9.9.9: git: no commit "v9.9.9"`) {
		t.Errorf("unknown tag: exit %d: %s", code, stderr)
	}
}

// TestReleaseGateEndToEnd: dracon run scans the tagged commit (the sarif
// producer importing testdata/gate/release.sarif); the release gate judges
// it from the store, and the run's files are gated by policy too.
func TestReleaseGateEndToEnd(t *testing.T) {
	dir, tagged, _ := releaseRepo(t)
	git(t, dir, "checkout", "-q", "v1.0.0")
	work := t.TempDir()
	dsn := filepath.Join(work, "findings.db")
	sarif, err := filepath.Abs(filepath.Join("testdata", "gate", "release.sarif"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(work, "dracon.yaml")
	writeFile(t, cfg, "version: 1\nproducers:\n  sarif:\n    paths: ["+sarif+"]\nenrichers:\n  dedup:\n    store: "+dsn+"\n")
	runDir := filepath.Join(work, "runs")
	code, _, stderr := dracon(t, "run", "--config", cfg, "--source", dir, "--out", work, "--run-dir", runDir, "--format", "none")
	if code != 0 {
		t.Fatalf("run: exit %d\n%s", code, stderr)
	}

	code, stdout, stderr := dracon(t, "gate", "--context", "release", "--config", cfg, "--source", dir, "--ref", "v1.0.0")
	if code != 1 || !strings.Contains(stdout, "the local repository at "+tagged) ||
		!strings.Contains(stdout, "open critical finding ACME-SQLI (acme-sast) in app/db.go:7: a release may not ship with an open critical finding") ||
		!strings.Contains(stdout, "judged: 2 open findings of acme-sast") {
		t.Fatalf("release gate after dracon run: exit %d\n%s%s", code, stdout, stderr)
	}

	// The saved run, gated by policy as a release: the same verdict.
	runs, _ := filepath.Glob(filepath.Join(runDir, "*", "summary.json"))
	enriched, _ := filepath.Glob(filepath.Join(runDir, "*", "*.enriched.pb"))
	if len(runs) != 1 || len(enriched) != 1 {
		t.Fatalf("run folder: %v %v", runs, enriched)
	}
	code, stdout, _ = dracon(t, "gate", "--policy", "builtin:default", "--context", "release", enriched[0])
	if code != 1 || !strings.Contains(stdout, "event: release; policies (working tree)") ||
		!strings.Contains(stdout, "open critical finding ACME-SQLI (acme-sast) in app/db.go:7") {
		t.Errorf("saved run, --context release: exit %d\n%s", code, stdout)
	}
	// As the run's own event (manual), the default policies only warn.
	code, stdout, _ = dracon(t, "gate", "--policy", "builtin:default", enriched[0])
	if code != 0 || !strings.Contains(stdout, "~ warning: new critical finding ACME-SQLI") {
		t.Errorf("saved run, its own event: exit %d\n%s", code, stdout)
	}
	// A policy of one's own, on the run folder (its summary.json and files).
	own := filepath.Join("testdata", "gate", "deny-weak-hash.rego")
	sum := filepath.Join(work, "gate-summary.json")
	code, stdout, _ = dracon(t, "gate", "--policy", own, "--summary", sum, filepath.Dir(runs[0]))
	if code != 1 || !strings.Contains(stdout, "weak password hash in app/auth.go: use bcrypt or argon2 [acme.release.deny]") {
		t.Errorf("own policy: exit %d\n%s", code, stdout)
	}
	var s struct {
		Verdict string `json:"verdict"`
		Policy  struct {
			Policies []struct{ Package string } `json:"policies"`
		} `json:"policy"`
	}
	b, _ := os.ReadFile(sum)
	if json.Unmarshal(b, &s) != nil || s.Verdict != "failed" || len(s.Policy.Policies) != 1 || s.Policy.Policies[0].Package != "acme.release" {
		t.Errorf("summary of the policy gate:\n%s", b)
	}
	// --fail-on as it always was: no policies unless asked for.
	if code, stdout, _ := dracon(t, "gate", "--fail-on", "critical", enriched[0]); code != 1 || !strings.Contains(stdout, "1 findings at or above CRITICAL (1 CRITICAL)") {
		t.Errorf("--fail-on critical: exit %d\n%s", code, stdout)
	}
	if code, stdout, _ := dracon(t, "gate", "--fail-on", "none", enriched[0]); code != 0 || strings.Contains(stdout, "policies") {
		t.Errorf("--fail-on none: exit %d\n%s", code, stdout)
	}
	// With policies, --fail-on still adds its threshold.
	if code, stdout, _ := dracon(t, "gate", "--policy", "builtin:default", "--fail-on", "high", enriched[0]); code != 1 || !strings.Contains(stdout, "2 findings at or above HIGH (1 CRITICAL, 1 HIGH)") {
		t.Errorf("--policy and --fail-on: exit %d\n%s", code, stdout)
	}
}

// fakeChecks is GitHub Enterprise Server's POST
// /api/v3/repos/{owner}/{repo}/check-runs as go-github meets it: the token
// in Authorization, JSON in Accept and Content-Type, the fields GitHub
// requires, a commit it knows; a created run echoes the request.
type fakeChecks struct {
	t      *testing.T
	known  string // the commit GitHub has
	refuse string // testdata file of a refusal, with its status
	status int

	mu     sync.Mutex
	bodies [][]byte
	auth   []string
}

func (f *fakeChecks) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body := new(bytes.Buffer)
	body.ReadFrom(r.Body) //nolint:errcheck
	f.mu.Lock()
	f.bodies = append(f.bodies, body.Bytes())
	f.auth = append(f.auth, r.Header.Get("Authorization"))
	f.mu.Unlock()
	answer := func(status int, b []byte) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("X-GitHub-Media-Type", "github.v3; format=json")
		w.WriteHeader(status)
		w.Write(b) //nolint:errcheck
	}
	fail := func(status int, msg string) {
		b, _ := json.Marshal(map[string]string{"message": msg, "documentation_url": "https://docs.github.com/rest/checks/runs#create-a-check-run", "status": fmt.Sprint(status)})
		answer(status, b)
	}
	if r.Method != http.MethodPost || r.URL.Path != "/api/v3/repos/"+relRepo+"/check-runs" {
		fail(http.StatusNotFound, "Not Found")
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+ghToken {
		fail(http.StatusUnauthorized, "Bad credentials")
		return
	}
	if a := r.Header.Get("Accept"); !strings.Contains(a, "application/vnd.github") && !strings.Contains(a, "application/json") {
		fail(http.StatusUnsupportedMediaType, "Unsupported 'Accept' header: "+a)
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		fail(http.StatusUnsupportedMediaType, "Unsupported 'Content-Type' header")
		return
	}
	var in map[string]any
	if err := json.Unmarshal(body.Bytes(), &in); err != nil {
		fail(http.StatusBadRequest, "Problems parsing JSON")
		return
	}
	out, _ := in["output"].(map[string]any)
	switch {
	case in["name"] == nil || in["head_sha"] == nil:
		fail(http.StatusUnprocessableEntity, "Invalid request.\n\n\"name\" and \"head_sha\" are required.")
		return
	case in["status"] == "completed" && in["conclusion"] == nil:
		fail(http.StatusUnprocessableEntity, "Invalid request.\n\n\"conclusion\" wasn't supplied.")
		return
	case out == nil || out["title"] == nil || out["summary"] == nil:
		fail(http.StatusUnprocessableEntity, "Invalid request.\n\n\"title\" and \"summary\" are required in output.")
		return
	case in["head_sha"] != f.known:
		answer(http.StatusUnprocessableEntity, bytes.ReplaceAll(readTestdata(f.t, "no-commit.422.json"), []byte(strings.Repeat("0", 40)), []byte(fmt.Sprint(in["head_sha"]))))
		return
	}
	if f.refuse != "" {
		answer(f.status, readTestdata(f.t, f.refuse))
		return
	}
	var run map[string]any
	json.Unmarshal(readTestdata(f.t, "check-run.201.json"), &run) //nolint:errcheck
	for _, k := range []string{"name", "head_sha", "status", "conclusion", "external_id", "details_url", "started_at", "completed_at"} {
		if v, ok := in[k]; ok {
			run[k] = v
		}
	}
	ro := run["output"].(map[string]any)
	for k, v := range out {
		ro[k] = v
	}
	b, _ := json.Marshal(run)
	w.Header().Set("Location", fmt.Sprint(run["url"]))
	answer(http.StatusCreated, b)
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "gate", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (f *fakeChecks) posted(t *testing.T) map[string]any {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.bodies) != 1 {
		t.Fatalf("%d requests, want 1", len(f.bodies))
	}
	if bytes.Contains(f.bodies[0], []byte(ghToken)) {
		t.Errorf("the token is in the check run: %s", f.bodies[0])
	}
	var body map[string]any
	if err := json.Unmarshal(f.bodies[0], &body); err != nil {
		t.Fatal(err)
	}
	f.bodies, f.auth = nil, nil
	return body
}

// TestReleaseGateCheckRun: --check-run posts the verdict on the commit as
// dracon/release-gate, as a GitHub Actions workflow on a release would.
func TestReleaseGateCheckRun(t *testing.T) {
	dsn := filepath.Join(t.TempDir(), "findings.db")
	now := time.Now().UTC()
	ids := observe(t, dsn, relRepo, relCommit, now.Add(-2*time.Hour), sqli, lowNoise)
	f := &fakeChecks{t: t, known: relCommit}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	env := map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_TOKEN": ghToken, "GITHUB_API_URL": srv.URL + "/api/v3",
		"GITHUB_SERVER_URL": "https://ghe.example.com", "GITHUB_REPOSITORY": relRepo, "GITHUB_RUN_ID": "912",
		"GITHUB_SHA": relCommit, "GITHUB_REF": "refs/tags/v1.0.0", "GITHUB_EVENT_NAME": "release",
	}
	noConfig := writeConfig(t, "")
	sum := filepath.Join(t.TempDir(), "summary.json")
	args := []string{"gate", "--context", "release", "--check-run", "--store", dsn, "--config", noConfig, "--summary", sum}
	noToken := func(t *testing.T, outs ...string) {
		t.Helper()
		b, _ := os.ReadFile(sum)
		for _, s := range append(outs, string(b)) {
			if strings.Contains(s, ghToken) || strings.Contains(s, "ghs_") {
				t.Errorf("the token is in an output:\n%s", s)
			}
		}
	}

	code, stdout, stderr := draconEnv(t, env, args...)
	if code != 1 || !strings.Contains(stderr, "posted the check run dracon/release-gate (failure) on "+relCommit+": https://ghe.example.com/octo-org/octo-repo/runs/4187") {
		t.Fatalf("failing release: exit %d\n%s%s", code, stdout, stderr)
	}
	noToken(t, stdout, stderr)
	if a := f.auth[0]; a != "Bearer "+ghToken {
		t.Errorf("Authorization = %q", a)
	}
	body := f.posted(t)
	out, _ := body["output"].(map[string]any)
	summary, _ := out["summary"].(string)
	text, _ := out["text"].(string)
	link := "https://ghe.example.com/" + relRepo + "/blob/" + relCommit + "/app/db.go#L7"
	var s struct {
		ScanID  string            `json:"scan_id"`
		Outputs map[string]string `json:"outputs"`
	}
	b, _ := os.ReadFile(sum)
	json.Unmarshal(b, &s) //nolint:errcheck
	if body["name"] != githubcheck.DefaultName || body["head_sha"] != relCommit || body["status"] != "completed" || body["conclusion"] != "failure" ||
		body["details_url"] != "https://ghe.example.com/"+relRepo+"/actions/runs/912" || body["external_id"] == "" || body["external_id"] != s.ScanID ||
		s.Outputs["check_run"] != "https://ghe.example.com/octo-org/octo-repo/runs/4187" {
		t.Errorf("posted %v (summary.json %s)", body, b)
	}
	if title := out["title"]; title != "Release gate failed: v1.0.0 (9f3c2a1b7e6d), 1 reason (2 open findings)" || !strings.Contains(stdout, fmt.Sprint(title)) {
		t.Errorf("title = %q", title)
	}
	for _, want := range []string{"### Why it failed", "open critical finding go.sqli (semgrep) in app/db.go:7: a release may not ship with an open critical finding (`dracon.builtin.release.deny`)",
		"critical semgrep go.sqli in [app/db.go:7](" + link + ")", "`" + ids[0] + "`", "2 open findings from 1 scan of this commit", "Event `release`", "`dracon.builtin.release`"} {
		if !strings.Contains(summary, want) {
			t.Errorf("summary lacks %q:\n%s", want, summary)
		}
	}
	for _, want := range []string{"| blocks | severity |", "| **yes** | CRITICAL | code | semgrep | go.sqli | [app/db.go:7](" + link + ")", "|  | LOW | code | gosec | G104 |"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}

	// Triaged: the check run passes.
	triage(t, dsn, ids[0], store.StatusFalsePositive)
	code, stdout, stderr = draconEnv(t, env, args...)
	body = f.posted(t)
	out, _ = body["output"].(map[string]any)
	if code != 0 || body["conclusion"] != "success" || !strings.Contains(fmt.Sprint(out["title"]), "Release gate passed") ||
		!strings.Contains(fmt.Sprint(out["summary"]), "### Why it passed") || !strings.Contains(fmt.Sprint(out["summary"]), "1 false_positive") {
		t.Errorf("passing release: exit %d, posted %v\n%s%s", code, body, stdout, stderr)
	}
	noToken(t, stdout, stderr)

	// A token without checks: write: exit 2 with GitHub's refusal and the
	// hint; the verdict is still printed.
	f.refuse, f.status = "resource-not-accessible.403.json", http.StatusForbidden
	code, stdout, stderr = draconEnv(t, env, args...)
	f.posted(t)
	if code != 2 || !strings.Contains(stdout, "verdict: passed") || !strings.Contains(stderr, "HTTP 403 Forbidden: Resource not accessible by integration") ||
		!strings.Contains(stderr, "permissions: checks: write") {
		t.Errorf("403: exit %d\n%s%s", code, stdout, stderr)
	}
	b, _ = os.ReadFile(sum)
	if !strings.Contains(string(b), `"exit_code": 2`) {
		t.Errorf("summary after a refused post:\n%s", b)
	}
	noToken(t, stdout, stderr)
	f.refuse = ""

	// An unscanned commit (a tag on a commit no run saw) posts a failure.
	const unscanned = "5555555555555555555555555555555555555555"
	f.known = unscanned
	code, stdout, stderr = draconEnv(t, env, append(args, "--commit", unscanned)...)
	body = f.posted(t)
	out, _ = body["output"].(map[string]any)
	if code != 2 || body["conclusion"] != "failure" || body["head_sha"] != unscanned ||
		!strings.Contains(fmt.Sprint(out["summary"]), "the findings store has no scan of this commit") {
		t.Errorf("unscanned: exit %d, posted %v\n%s%s", code, body, stdout, stderr)
	}
	// GitHub does not have the commit: its 422, exit 2.
	f.known = relCommit
	code, _, stderr = draconEnv(t, env, append(args, "--commit", unscanned)...)
	f.posted(t)
	if code != 2 || !strings.Contains(stderr, "No commit found for SHA: "+unscanned) {
		t.Errorf("unknown to GitHub: exit %d: %s", code, stderr)
	}
	// No token: exit 2, said before anything is sent.
	delete(env, "GITHUB_TOKEN")
	code, stdout, stderr = draconEnv(t, env, args...)
	if code != 2 || !strings.Contains(stderr, "github: no token (set GITHUB_TOKEN") || !strings.Contains(stdout, "verdict: passed") || len(f.bodies) != 0 {
		t.Errorf("no token: exit %d\n%s%s", code, stdout, stderr)
	}
}

func TestGateUsage(t *testing.T) {
	pb := filepath.Join(t.TempDir(), "x.enriched.pb")
	for _, args := range [][]string{
		{"gate"},
		{"gate", "--context", "push"},
		{"gate", "--context", "deploy", pb},
		{"gate", "--ref", "v1.0.0", pb},
		{"gate", "--check-run", pb},
		{"gate", "--context", "release", "--ref", "v1", "--commit", relCommit},
		{"gate", "--context", "release", "--new-only"},
		{"gate", "--context", "release", "--fail-on", "severe"},
	} {
		if code, _, stderr := dracon(t, args...); code != 2 || stderr == "" {
			t.Errorf("dracon %q: exit %d, want 2 with a message", args, code)
		}
	}
}

func TestStoredSeverity(t *testing.T) {
	for in, want := range map[string]v1.Severity{
		"SEVERITY_CRITICAL": v1.Severity_SEVERITY_CRITICAL, "HIGH": v1.Severity_SEVERITY_HIGH, "medium": v1.Severity_SEVERITY_MEDIUM,
		" Low ": v1.Severity_SEVERITY_LOW, "SEVERITY_INFO": v1.Severity_SEVERITY_INFO, "": v1.Severity_SEVERITY_UNSPECIFIED, "severe": v1.Severity_SEVERITY_UNSPECIFIED,
	} {
		if got := storedSeverity(in); got != want {
			t.Errorf("storedSeverity(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestReleaseGateKnownExploited: a release from the store is judged on
// exploitation as known today: a medium dependency finding whose rule is
// a CVE in CISA's KEV catalogue fails it; without the data it passes, and
// the run says the data is missing.
func TestReleaseGateKnownExploited(t *testing.T) {
	dsn := filepath.Join(t.TempDir(), "findings.db")
	http2 := store.Sighting{Signatures: []store.Signature{{Algorithm: "dep/v1", Value: "d3b0"}}, Tool: "trivy", Rule: "CVE-2023-44487",
		Path: "go.mod", Severity: "MEDIUM", Title: "golang.org/x/net: HTTP/2 rapid reset"}
	observe(t, dsn, relRepo, relCommit, time.Now().UTC().Add(-24*time.Hour), http2)
	data := t.TempDir()
	exploittest.WriteDir(t, data)
	withData := writeConfig(t, "enrichers:\n  exploits:\n    dir: "+data+"\n")
	args := []string{"gate", "--context", "release", "--store", dsn, "--repository", relRepo, "--commit", relCommit}

	code, stdout, stderr := draconEnv(t, nil, append(args, "--config", withData)...)
	if code != 1 || !strings.Contains(stdout, "CVE-2023-44487") || !strings.Contains(stdout, "known to be exploited") {
		t.Fatalf("a known exploited CVE: exit %d\n%s%s", code, stdout, stderr)
	}
	noData := writeConfig(t, "enrichers:\n  exploits:\n    dir: "+t.TempDir()+"\n")
	code, stdout, stderr = draconEnv(t, nil, append(args, "--config", noData)...)
	if code != 0 || !strings.Contains(stderr, "dracon data update") {
		t.Errorf("no exploit data: exit %d\n%s%s", code, stdout, stderr)
	}
}
