package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/draconsec/dracon/internal/pipeline"
	"github.com/draconsec/dracon/internal/producers/gosec"
	"github.com/draconsec/dracon/internal/producers/producertest"
	"github.com/draconsec/dracon/internal/store"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// draconEnv is dracon with an environment.
func draconEnv(t *testing.T, vars map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, Env{Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return vars[k] }})
	return code, out.String(), errb.String()
}

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

type listedFinding struct {
	ID           string     `json:"id"`
	Repository   string     `json:"repository"`
	Status       string     `json:"status"`
	StatusBy     string     `json:"status_by"`
	StatusReason string     `json:"status_reason"`
	StatusAt     *time.Time `json:"status_at"`
	Severity     string     `json:"severity"`
	Tool         string     `json:"tool"`
	Tools        []string   `json:"tools"`
	Rule         string     `json:"rule"`
	Path         string     `json:"path"`
	Title        string     `json:"title"`
	FirstSeen    *time.Time `json:"first_seen"`
	LastSeen     *time.Time `json:"last_seen"`
	FirstScan    string     `json:"first_scan"`
	LastScan     string     `json:"last_scan"`
	TimesSeen    uint64     `json:"times_seen"`
	FixedScan    string     `json:"fixed_scan"`
	FixedAt      *time.Time `json:"fixed_at"`
	Reopened     uint64     `json:"reopened"`
}

func listJSON(t *testing.T, vars map[string]string, args ...string) []listedFinding {
	t.Helper()
	code, stdout, stderr := draconEnv(t, vars, append([]string{"findings", "list", "--format", "json"}, args...)...)
	if code != 0 {
		t.Fatalf("findings list %q: exit %d: %s", args, code, stderr)
	}
	var out struct {
		Findings []listedFinding `json:"findings"`
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatalf("findings list --format json: %v\n%s", err, stdout)
	}
	return out.Findings
}

func rules(fs []listedFinding) string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Rule)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// A small Go program gosec reports: MEDIUM G401 and G501 (md5), MEDIUM
// G306 (a world-readable file), LOW G104 (an unchecked error).
var triageTree = map[string]string{
	"go.mod": "module example.com/triage\n\ngo 1.22\n",
	"main.go": `package main

import (
	"crypto/md5"
	"fmt"
	"os"
)

func main() {
	h := md5.Sum([]byte("cache key"))
	fmt.Println(h)
	os.WriteFile("out.txt", h[:], 0o644)
}
`,
}

// TestTriageAcrossRuns: with the real gosec, a run fails on MEDIUM
// findings; a triager marks them false positive, accepted risk and
// suppressed; the next run reports them suppressed with who and why, and
// passes; set back to open, one fails the gate again.
func TestTriageAcrossRuns(t *testing.T) {
	producertest.RequireTool(t, gosec.Producer)
	src := writeFiles(t, triageTree)
	work := t.TempDir()
	db := filepath.Join(work, "findings.db")
	cfg := filepath.Join(work, "dracon.yaml")
	if err := os.WriteFile(cfg, []byte("version: 1\nproducers:\n  gosec: {}\nenrichers:\n  dedup:\n    store: "+db+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	runDir := filepath.Join(work, "runs")
	run := func() (int, *v1.EnrichedLaunchToolResponse, map[string]any) {
		t.Helper()
		out := t.TempDir()
		code, _, stderr := draconEnv(t, nil, "run", "--config", cfg, "--source", src, "--out", out, "--run-dir", runDir, "--format", "none", "--fail-on", "medium")
		if code == 2 {
			t.Fatalf("run: %s", stderr)
		}
		var sum map[string]any
		b, err := os.ReadFile(filepath.Join(out, "summary.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &sum); err != nil {
			t.Fatal(err)
		}
		r, err := pipeline.ReadEnriched(filepath.Join(runDir, sum["scan_id"].(string), "gosec.enriched.pb"))
		if err != nil {
			t.Fatal(err)
		}
		return code, r, sum["counts"].(map[string]any)
	}
	code, _, counts := run()
	if code != 1 || counts["suppressed"].(float64) != 0 {
		t.Fatalf("first run: exit %d, counts %v; want 1 (MEDIUM findings)", code, counts)
	}

	vars := map[string]string{store.EnvDSN: db}
	all := listJSON(t, vars)
	if rules(all) != "G104,G306,G401,G501" {
		t.Fatalf("findings = %s", rules(all))
	}
	byRule := map[string]listedFinding{}
	for _, f := range all {
		byRule[f.Rule] = f
		if f.Status != "open" || f.TimesSeen != 1 || f.Tool != "gosec" || f.Path != "main.go" || f.FirstSeen == nil || f.Repository != "" {
			t.Errorf("listed %+v", f)
		}
	}
	if byRule["G401"].Severity != "MEDIUM" || byRule["G104"].Severity != "LOW" {
		t.Errorf("severities: %+v", byRule)
	}

	// The table names each finding by a prefix of its id that show takes.
	code, table, _ := draconEnv(t, vars, "findings", "list", "--rule", "G401")
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if code != 0 || len(lines) != 2 || !strings.HasPrefix(lines[0], "ID ") || !strings.Contains(lines[0], "FIRST SEEN") {
		t.Fatalf("table: %d\n%s", code, table)
	}
	prefix := strings.Fields(lines[1])[0]
	if len(prefix) < 8 || !strings.HasPrefix(byRule["G401"].ID, prefix) || !strings.Contains(lines[1], "main.go") || !strings.Contains(lines[1], "MEDIUM") {
		t.Fatalf("row %q for %s", lines[1], byRule["G401"].ID)
	}

	for _, d := range []struct{ rule, status, reason string }{
		{"G401", "false-positive", "the hash keys a cache"},
		{"G501", "accepted-risk", "md5 is only a checksum here"},
		{"G306", "suppressed", "the file is public"},
	} {
		id := byRule[d.rule].ID
		if d.rule == "G401" {
			id = prefix
		}
		code, stdout, stderr := draconEnv(t, vars, "findings", "triage", id, "--status", d.status, "--reason", d.reason, "--by", "alice")
		if code != 0 || !strings.Contains(stdout, "open -> ") || !strings.Contains(stdout, d.reason) {
			t.Fatalf("triage %s: %d %s %s", d.rule, code, stdout, stderr)
		}
	}

	code, r, counts := run()
	if code != 0 || counts["suppressed"].(float64) != 3 {
		t.Fatalf("run after triage: exit %d, counts %v; want 0 and 3 suppressed", code, counts)
	}
	want := map[string]string{
		"G401": "triaged false_positive by alice: the hash keys a cache",
		"G501": "triaged accepted_risk by alice: md5 is only a checksum here",
		"G306": "triaged suppressed by alice: the file is public",
	}
	for _, is := range r.Issues {
		rule := is.RawIssue.RuleId
		if is.SuppressionReason != want[rule] || is.Suppressed != (want[rule] != "") || is.Count != 2 || is.FalsePositive != (rule == "G401") {
			t.Errorf("%s: suppressed %v %q, false positive %v, count %d", rule, is.Suppressed, is.SuppressionReason, is.FalsePositive, is.Count)
		}
	}

	// Filters.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--status", "false-positive"}, "G401"},
		{[]string{"--status", "accepted-risk,suppressed"}, "G306,G501"},
		{[]string{"--status", "open", "--status", "suppressed"}, "G104,G306"},
		{[]string{"--severity", "low"}, "G104"},
		{[]string{"--severity", "medium", "--rule", "G306"}, "G306"},
		{[]string{"--tool", "gosec", "--path", "main"}, "G104,G306,G401,G501"},
		{[]string{"--path", "other/"}, ""},
		{[]string{"--tool", "bandit"}, ""},
		{[]string{"--repo", "acme/app"}, ""},
	} {
		if got := rules(listJSON(t, vars, c.args...)); got != c.want {
			t.Errorf("findings list %q = %s, want %s", c.args, got, c.want)
		}
	}
	if got := listJSON(t, vars, "--limit", "1"); len(got) != 1 {
		t.Errorf("--limit 1: %d findings", len(got))
	}

	// show: the finding, its signatures, its history, its occurrences.
	code, shown, stderr := draconEnv(t, vars, "findings", "show", prefix)
	if code != 0 {
		t.Fatalf("show: %d %s", code, stderr)
	}
	for _, s := range []string{byRule["G401"].ID, "false_positive (by alice at ", "the hash keys a cache", "times seen", "code/v1", "legacy/dracon",
		"WHEN", "open", "false_positive", "alice", "main.go:10", "gosec"} {
		if !strings.Contains(shown, s) {
			t.Errorf("show lacks %q:\n%s", s, shown)
		}
	}
	code, shownJSON, _ := draconEnv(t, vars, "findings", "show", byRule["G401"].ID, "--format", "json")
	var d struct {
		listedFinding
		Signatures []struct{ Algorithm, Value string } `json:"signatures"`
		History    []struct {
			From, To, By, Reason string
			ScanID               string `json:"scan_id"`
		} `json:"history"`
		Occurrences []struct {
			ScanID    string `json:"scan_id"`
			Tool      string `json:"tool"`
			Path      string `json:"path"`
			StartLine int    `json:"start_line"`
		} `json:"occurrences"`
	}
	if err := json.Unmarshal([]byte(shownJSON), &d); err != nil || code != 0 {
		t.Fatalf("show --format json: %d %v\n%s", code, err, shownJSON)
	}
	if d.Status != "false_positive" || d.StatusBy != "alice" || d.TimesSeen != 2 || len(d.Signatures) < 2 || len(d.History) != 1 ||
		d.History[0].From != "open" || d.History[0].To != "false_positive" || d.History[0].By != "alice" || d.History[0].Reason != "the hash keys a cache" ||
		len(d.Occurrences) != 2 || d.Occurrences[0].Path != "main.go" || d.Occurrences[0].StartLine != 10 || d.Occurrences[0].ScanID == d.Occurrences[1].ScanID {
		t.Errorf("show --format json = %+v", d)
	}

	// Back to open (who from the CI's environment): it fails the gate again.
	ci := map[string]string{store.EnvDSN: db, "GITHUB_ACTOR": "bob", "USER": "root"}
	if code, stdout, stderr := draconEnv(t, ci, "findings", "triage", prefix, "--status", "open", "--reason", "the cache key is sent to clients"); code != 0 ||
		!strings.Contains(stdout, "false_positive -> open (by bob: ") {
		t.Fatalf("triage back to open: %d %s %s", code, stdout, stderr)
	}
	code, _, counts = run()
	if code != 1 || counts["suppressed"].(float64) != 2 {
		t.Errorf("run after reopening: exit %d, counts %v; want 1 and 2 suppressed", code, counts)
	}
}

// seed writes one scan's findings into a fresh store at dsn.
func seed(t *testing.T, dsn string, repo string, rules ...string) []store.Record {
	t.Helper()
	st, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var in []store.Sighting
	for _, r := range rules {
		in = append(in, store.Sighting{Signatures: []store.Signature{{Algorithm: "code/v1", Value: repo + r}}, Tool: "gosec", Rule: r,
			Path: "cmd/" + r + ".go", StartLine: 3, Severity: "SEVERITY_HIGH", Title: "finding " + r})
	}
	recs, err := st.Observe(context.Background(), store.Scan{ID: "scan-" + repo, Repository: repo, Started: time.Unix(1_700_000_000, 0)}, in)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// TestFindingsStoreChoice: --store, else $DRACON_STORE, else the
// config's enrichers.dedup.store, else .dracon/findings.db here.
func TestFindingsStoreChoice(t *testing.T) {
	dir := t.TempDir()
	flagDB, envDB, cfgDB := filepath.Join(dir, "flag.db"), filepath.Join(dir, "env.db"), filepath.Join(dir, "cfg.db")
	seed(t, flagDB, "", "G1")
	seed(t, envDB, "", "G2")
	seed(t, cfgDB, "", "G3")
	work := t.TempDir()
	t.Chdir(work)
	seed(t, store.DefaultDSN, "", "G4")
	cfg := filepath.Join(dir, "dracon.yaml")
	if err := os.WriteFile(cfg, []byte("version: 1\nenrichers:\n  dedup:\n    store: "+cfgDB+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{store.EnvDSN: envDB}
	for _, c := range []struct {
		vars map[string]string
		args []string
		want string
	}{
		{env, []string{"--store", flagDB, "--config", cfg}, "G1"},
		{env, []string{"--config", cfg}, "G2"},
		{nil, []string{"--config", cfg}, "G3"},
		{nil, nil, "G4"},
	} {
		if got := rules(listJSON(t, c.vars, c.args...)); got != c.want {
			t.Errorf("findings list %q with %v: %s, want %s", c.args, c.vars, got, c.want)
		}
	}
	// dracon.yaml here is read as run reads it.
	if err := os.WriteFile("dracon.yaml", []byte("version: 1\nenrichers:\n  dedup:\n    store: "+cfgDB+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := rules(listJSON(t, nil)); got != "G3" {
		t.Errorf("with dracon.yaml here: %s", got)
	}
}

func TestFindingsErrors(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "f.db")
	recs := seed(t, db, "acme/app", "G1", "G2", "G3")
	seed(t, db, "acme/other", "G1")
	vars := map[string]string{store.EnvDSN: db}
	missing := filepath.Join(dir, "nope.db")
	id := recs[0].ID
	for _, c := range []struct {
		vars map[string]string
		args []string
		want string
	}{
		{nil, []string{"findings"}, "subcommand"},
		{nil, []string{"findings", "close"}, "unknown findings subcommand"},
		{nil, []string{"findings", "list", "--store", missing}, missing + " does not exist"},
		{vars, []string{"findings", "list", "--status", "closed"}, `unknown status "closed"`},
		{vars, []string{"findings", "list", "--severity", "severe"}, `--severity "severe"`},
		{vars, []string{"findings", "list", "--format", "xml"}, "--format"},
		{vars, []string{"findings", "list", "extra"}, "no arguments"},
		{vars, []string{"findings", "list", "--store", "mysql://x"}, `unknown scheme "mysql"`},
		{vars, []string{"findings", "list", "--store", "postgres://nobody@127.0.0.1:1/none?connect_timeout=2"}, "findings store"},
		{vars, []string{"findings", "show"}, "one finding id"},
		{vars, []string{"findings", "show", "ffffffff"}, `no finding "ffffffff"`},
		{vars, []string{"findings", "show", id[:4]}, "is ambiguous"},
		{vars, []string{"findings", "triage", id}, "needs --status"},
		{vars, []string{"findings", "triage", id, "--status", "false-positive"}, "needs --reason"},
		{vars, []string{"findings", "triage", id, "--status", "false-positive", "--reason", "  "}, "needs --reason"},
		{vars, []string{"findings", "triage", id, "--status", "fixed", "--reason", "x"}, "what a scan sets"},
		{vars, []string{"findings", "triage", id, "--status", "wontfix", "--reason", "x"}, "unknown status"},
		{vars, []string{"findings", "triage", id, "--status", "accepted-risk", "--reason", "x"}, "needs --by"},
		{vars, []string{"findings", "triage", id[:4], "--status", "accepted-risk", "--reason", "x", "--by", "a"}, "is ambiguous"},
	} {
		code, _, stderr := draconEnv(t, c.vars, c.args...)
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("dracon %q: exit %d, stderr %q; want 2 and %q", c.args, code, stderr, c.want)
		}
	}
	// The ambiguous prefix lists the candidates.
	_, _, stderr := draconEnv(t, vars, "findings", "show", id[:4])
	for _, r := range recs {
		if !strings.Contains(stderr, r.ID) {
			t.Errorf("ambiguity does not list %s:\n%s", r.ID, stderr)
		}
	}
	// A store that does not exist is not created by a listing.
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Errorf("findings list created %s", missing)
	}
	// The table shows the repository when the findings have several.
	_, table, _ := draconEnv(t, vars, "findings", "list")
	if !strings.Contains(table, "REPOSITORY") || !strings.Contains(table, "acme/other") || strings.Count(table, "\n") != 5 {
		t.Errorf("table:\n%s", table)
	}
	_, table, _ = draconEnv(t, vars, "findings", "list", "--repo", "acme/app")
	if strings.Contains(table, "REPOSITORY") || strings.Count(table, "\n") != 4 {
		t.Errorf("one repository's table:\n%s", table)
	}
	// Every prefix the table shows names one finding.
	for _, line := range strings.Split(strings.TrimSpace(table), "\n")[1:] {
		p := strings.Fields(line)[0]
		if code, _, stderr := draconEnv(t, vars, "findings", "show", p); code != 0 {
			t.Errorf("show %s: %s", p, stderr)
		}
	}
	// --by defaults to the CI's user, then $USER.
	code, stdout, _ := draconEnv(t, map[string]string{store.EnvDSN: db, "GITLAB_USER_LOGIN": "gl-user", "USER": "root"},
		"findings", "triage", id, "--status", "accepted-risk", "--reason", "x")
	if code != 0 || !strings.Contains(stdout, "(by gl-user: x)") {
		t.Errorf("triage by GITLAB_USER_LOGIN: %d %s", code, stdout)
	}
	code, stdout, _ = draconEnv(t, map[string]string{store.EnvDSN: db, "USER": "root"}, "findings", "triage", id, "--status", "open", "--reason", "y")
	if code != 0 || !strings.Contains(stdout, "accepted_risk -> open (by root: y)") {
		t.Errorf("triage by USER: %d %s", code, stdout)
	}
	// No findings is not an error.
	if code, stdout, stderr := draconEnv(t, vars, "findings", "list", "--rule", "nothing"); code != 0 || stdout != "" || !strings.Contains(stderr, "no findings") {
		t.Errorf("empty list: %d %q %q", code, stdout, stderr)
	}
}
