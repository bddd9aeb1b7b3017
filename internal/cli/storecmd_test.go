package cli

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/draconsec/dracon/internal/fingerprint"
	"github.com/draconsec/dracon/internal/pipeline"
	"github.com/draconsec/dracon/internal/producers/producertest"
	"github.com/draconsec/dracon/internal/store"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
	"github.com/jackc/pgx/v5"
)

// The original Dracon's issues table as its migrations build it
// (ocurity/dracon pkg/enrichment/migrations, 001_init to 006, applied in
// order): hash is the primary key, first_seen, updated_at, cve and uuid
// may be NULL, severity and confidence are the enums' numbers.
var draconMigrations = []string{
	// 001_init
	`CREATE TABLE IF NOT EXISTS issues (
	"hash" VARCHAR(32) NOT NULL,
	source VARCHAR(512) NOT NULL,
	first_seen TIMESTAMP WITH TIME ZONE,
	occurrences INTEGER NOT NULL,
	false_positive BOOLEAN NOT NULL,
	updated_at TIMESTAMP WITH TIME ZONE,
	"target" VARCHAR(512) NOT NULL,
	"type" VARCHAR(128) NOT NULL,
	"title" VARCHAR(512) NOT NULL,
	severity INTEGER NOT NULL,
	cvss FLOAT NOT NULL,
	confidence INTEGER NOT NULL,
	"description" TEXT NOT NULL,
	PRIMARY KEY ("hash")
)`,
	`CREATE INDEX IF NOT EXISTS idx_issues_source ON issues(source)`,
	// 002_varchar_to_text
	`ALTER TABLE issues ALTER COLUMN source TYPE text`,
	`ALTER TABLE issues ALTER COLUMN target TYPE text`,
	`ALTER TABLE issues ALTER COLUMN title TYPE text`,
	// 003_add_cve_column
	`ALTER TABLE issues ADD COLUMN cve text`,
	// 004_add_id_column
	`ALTER TABLE issues ADD COLUMN uuid text`,
	// 005_increase_hash_space
	`ALTER TABLE issues ALTER COLUMN "hash" TYPE VARCHAR(128)`,
	// 006_type_from_varchar_to_text
	`ALTER TABLE issues ALTER COLUMN "type" TYPE text`,
}

// testPostgresDSN is the server the tests use: DRACON_TEST_POSTGRES, by
// default the local one CI starts. The tests fail, not skip, without it.
func testPostgresDSN() string {
	if d := os.Getenv("DRACON_TEST_POSTGRES"); d != "" {
		return d
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

var schemaSeq atomic.Int64

// pgSchema creates an empty schema for one test (dropped when it ends)
// and returns a DSN whose search_path is it.
func pgSchema(t *testing.T, kind string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	admin := testPostgresDSN()
	c, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("PostgreSQL at %s (set DRACON_TEST_POSTGRES to use another): %v", redactDSN(admin), err)
	}
	defer c.Close(ctx)
	name := fmt.Sprintf("cli_%s_%d_%d_%d", kind, os.Getpid(), time.Now().UnixNano()%1_000_000, schemaSeq.Add(1))
	if _, err := c.Exec(ctx, `CREATE SCHEMA `+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, admin); err == nil {
			c.Exec(ctx, `DROP SCHEMA `+pgx.Identifier{name}.Sanitize()+` CASCADE`) //nolint:errcheck
			c.Close(ctx)
		}
	})
	u, err := url.Parse(admin)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return admin + " search_path=" + name
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String()
}

type draconRow struct {
	hash, source, target, typ, title, description, cve string
	severity, confidence                               int32
	cvss                                               float64
	firstSeen, updatedAt                               *time.Time
	occurrences                                        int
	falsePositive                                      bool
}

// draconDatabase is a Dracon database: its issues table, with rows.
func draconDatabase(t *testing.T, rows []draconRow) string {
	t.Helper()
	dsn := pgSchema(t, "dracon")
	ctx := context.Background()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	for _, m := range draconMigrations {
		if _, err := c.Exec(ctx, m); err != nil {
			t.Fatalf("%s: %v", m, err)
		}
	}
	for _, r := range rows {
		var cve any
		if r.cve != "" {
			cve = r.cve
		}
		// Dracon's CreateIssue writes these columns.
		if _, err := c.Exec(ctx, `INSERT INTO issues ("target", "type", "title", severity, cvss, confidence, "description", source, "hash",
	first_seen, occurrences, false_positive, updated_at, cve, uuid) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
			r.target, r.typ, r.title, r.severity, r.cvss, r.confidence, r.description, r.source, r.hash,
			r.firstSeen, r.occurrences, r.falsePositive, r.updatedAt, cve, "3b8a2e6f-0d4c-4d5b-9a61-1f2e3d4c5b6a"); err != nil {
			t.Fatal(err)
		}
	}
	return dsn
}

func rowOf(is *v1.Issue, source string) draconRow {
	return draconRow{
		hash: fingerprint.DraconHash(is), source: source, target: is.GetTarget(), typ: is.GetType(), title: is.GetTitle(),
		description: is.GetDescription(), cve: is.GetCve(), severity: int32(is.GetSeverity()), confidence: int32(is.GetConfidence()), cvss: is.GetCvss(),
	}
}

func at(s string) *time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return &t
}

// TestImportFromDracon: a Dracon database's history is carried into the
// store (SQLite and PostgreSQL) and continues with the next scan, which
// matches the imported rows by Dracon's own hash: first seen as Dracon
// had it, count = occurrences + 1, a false positive suppressed. Importing
// twice creates nothing twice.
func TestImportFromDracon(t *testing.T) {
	dir := t.TempDir()
	report := filepath.Join(producertest.CorpusDir(t), "defectdojo", "gosec", "many_vulns.json")
	ci := map[string]string{"GITHUB_REPOSITORY": "acme/app", "GITHUB_REF": "refs/heads/main", "GITHUB_EVENT_NAME": "push"}
	launchPB := filepath.Join(dir, "gosec.pb")
	if code, _, stderr := draconEnv(t, ci, "parse", "--tool", "gosec", report, "--out", launchPB); code != 0 {
		t.Fatalf("parse: %s", stderr)
	}
	launch, err := pipeline.ReadLaunch(launchPB)
	if err != nil {
		t.Fatal(err)
	}
	if len(launch.Issues) < 5 || launch.ScanInfo.ScanTags["repository"] != "acme/app" {
		t.Fatalf("%d issues, tags %v", len(launch.Issues), launch.ScanInfo.ScanTags)
	}
	open, fp, noFirst := launch.Issues[0], launch.Issues[1], launch.Issues[2]
	src := "https://github.com/acme/app.git?ref=0f1e2d3c"
	rows := []draconRow{rowOf(open, src), rowOf(fp, src), rowOf(noFirst, src)}
	rows[0].firstSeen, rows[0].updatedAt, rows[0].occurrences = at("2023-01-02T03:04:05Z"), at("2024-05-06T07:08:09Z"), 4
	rows[1].firstSeen, rows[1].updatedAt, rows[1].occurrences, rows[1].falsePositive = at("2023-02-03T00:00:00Z"), at("2024-01-01T00:00:00Z"), 2, true
	rows[2].updatedAt, rows[2].occurrences = at("2024-03-03T00:00:00Z"), 1
	// A finding Dracon saw once that the code no longer has, one of
	// another repository (a GitLab subgroup), and a row of Dracon's
	// first version (an MD5 hash, which never matches).
	gone := draconRow{hash: strings.Repeat("ab", 32), source: src, target: "file:///workspace/source-code/old.go:3-4", typ: "G101",
		title: "Potential hardcoded credentials", severity: 4, confidence: 2, firstSeen: at("2022-06-01T00:00:00Z"), updatedAt: at("2022-07-01T00:00:00Z"), occurrences: 3}
	other := draconRow{hash: strings.Repeat("cd", 32), source: "https://gitlab.com/acme/platform/api.git?ref=main", target: "main.go:1",
		typ: "G104", title: "Errors unhandled.", severity: 2, confidence: 4, firstSeen: at("2023-01-01T00:00:00Z"), updatedAt: at("2023-01-01T00:00:00Z"), occurrences: 1}
	v1Row := draconRow{hash: "0123456789abcdef0123456789abcdef", source: "", target: "x.py:1", typ: "B101", title: "assert", severity: 2, confidence: 3, occurrences: 9}
	dracon := draconDatabase(t, append(rows, gone, other, v1Row))

	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			var dsn string
			if backend == "sqlite" {
				dsn = filepath.Join(t.TempDir(), "findings.db")
			} else {
				dsn = pgSchema(t, "store")
			}
			args := []string{"store", "import", "--from-dracon", dracon, "--store", dsn}
			if backend == "postgres" {
				// Told which tool reported the rows, a branch scan marks
				// the ones it no longer reports fixed.
				args = append(args, "--tool", "golang-gosec")
			}

			// A dry run lists the rows and writes nothing.
			code, stdout, stderr := draconEnv(t, nil, append(args, "--dry-run")...)
			if code != 0 || strings.Count(stdout, "\n") != 7 || !strings.Contains(stdout, rows[1].hash[:16]) || !strings.Contains(stdout, "false_positive") ||
				!strings.Contains(stdout, "acme/platform/api") || !strings.Contains(stdout, "workspace/source-code/old.go") ||
				!strings.Contains(stderr, "would create 6 findings") || !strings.Contains(stderr, "acme/app: 4") {
				t.Fatalf("dry run: %d\n%s%s", code, stdout, stderr)
			}
			if backend == "sqlite" {
				if _, err := os.Stat(dsn); !os.IsNotExist(err) {
					t.Fatalf("a dry run created the store")
				}
			}

			code, stdout, stderr = draconEnv(t, nil, args...)
			if code != 0 || !strings.Contains(stdout, "6 findings created, 0 already there") {
				t.Fatalf("import: %d %s %s", code, stdout, stderr)
			}
			code, stdout, stderr = draconEnv(t, nil, args...)
			if code != 0 || !strings.Contains(stdout, "0 findings created, 6 already there") {
				t.Fatalf("import again: %d %s %s", code, stdout, stderr)
			}
			code, stdout, _ = draconEnv(t, nil, append(args, "--dry-run")...)
			if code != 0 || !strings.Contains(stdout, "HASH") {
				t.Errorf("dry run after the import: %d %s", code, stdout)
			}

			env := map[string]string{store.EnvDSN: dsn}
			imported := listJSON(t, env, "--repo", "acme/app")
			if len(imported) != 4 {
				t.Fatalf("acme/app has %d findings: %+v", len(imported), imported)
			}
			tool := "dracon"
			if backend == "postgres" {
				tool = "gosec"
			}
			for _, f := range imported {
				if f.Tool != tool || f.FirstScan != "dracon-import" || f.StatusBy != "dracon-import" {
					t.Errorf("imported %+v", f)
				}
			}
			if got := listJSON(t, env, "--repo", "acme/platform/api"); len(got) != 1 || got[0].Rule != "G104" || got[0].Severity != "LOW" {
				t.Errorf("the GitLab project's findings: %+v", got)
			}
			if got := listJSON(t, env, "--repo", ""); len(got) != 6 {
				t.Errorf("all findings: %d", len(got))
			}
			old := listJSON(t, env, "--path", "/workspace/source-code/old.go")
			if len(old) != 1 || old[0].TimesSeen != 3 || old[0].Rule != "G101" || old[0].Severity != "HIGH" || !old[0].FirstSeen.Equal(*gone.firstSeen) ||
				!old[0].LastSeen.Equal(*gone.updatedAt) || old[0].Title != gone.title || old[0].Status != "open" {
				t.Errorf("the row no scan reports any more: %+v", old)
			}
			fps := listJSON(t, env, "--status", "false-positive")
			if len(fps) != 1 || fps[0].StatusReason != "false_positive in the Dracon database" || fps[0].TimesSeen != 2 {
				t.Errorf("false positives: %+v", fps)
			}

			// The next scan: dracon enrich on the same issues.
			out := t.TempDir()
			if code, _, stderr := draconEnv(t, nil, "enrich", "--store", dsn, "--out-dir", out, launchPB); code != 0 {
				t.Fatalf("enrich: %s", stderr)
			}
			res, err := pipeline.ReadEnriched(filepath.Join(out, "gosec.enriched.pb"))
			if err != nil {
				t.Fatal(err)
			}
			byHash := map[string]*v1.EnrichedIssue{}
			for _, is := range res.Issues {
				byHash[is.Signatures[fingerprint.DraconV2]] = is
			}
			if is := byHash[rows[0].hash]; is == nil || is.IsNew || is.Count != 5 || !is.FirstSeen.AsTime().Equal(*rows[0].firstSeen) || is.Suppressed || is.FalsePositive {
				t.Errorf("the open row's issue: %v", is)
			}
			want := "triaged false_positive by dracon-import: false_positive in the Dracon database"
			if is := byHash[rows[1].hash]; is == nil || is.IsNew || is.Count != 3 || !is.FirstSeen.AsTime().Equal(*rows[1].firstSeen) ||
				!is.FalsePositive || !is.Suppressed || is.SuppressionReason != want || is.Status != "false_positive" {
				t.Errorf("the false positive's issue: %v", is)
			}
			if is := byHash[rows[2].hash]; is == nil || is.IsNew || is.Count != 2 || !is.FirstSeen.AsTime().Equal(*rows[2].updatedAt) {
				t.Errorf("the row without first_seen: %v", is)
			}
			fresh := 0
			for _, is := range res.Issues {
				if is.IsNew {
					fresh++
				}
			}
			if fresh != len(res.Issues)-3 {
				t.Errorf("%d of %d issues new, want all but the 3 imported", fresh, len(res.Issues))
			}
			// The gate skips the false positive.
			sum := filepath.Join(out, "summary.json")
			draconEnv(t, nil, "gate", "--fail-on", "critical", "--summary", sum, filepath.Join(out, "gosec.enriched.pb"))
			if b, _ := os.ReadFile(sum); !strings.Contains(string(b), `"suppressed": 1`) {
				t.Errorf("summary: %s", b)
			}

			// The scan matched them: their history goes on, and the row
			// no scan reports is fixed once its tool is known.
			old = listJSON(t, env, "--path", "/workspace/source-code/old.go")
			wantStatus := "open"
			if backend == "postgres" {
				wantStatus = "fixed"
			}
			if len(old) != 1 || old[0].Status != wantStatus {
				t.Errorf("after the scan, the row it does not report: %+v", old)
			}
			if got := listJSON(t, env, "--status", "false-positive"); len(got) != 1 || got[0].TimesSeen != 3 || !strings.Contains(strings.Join(got[0].Tools, ","), "gosec") {
				t.Errorf("the false positive after the scan: %+v", got)
			}
			// Importing again after the scan changes nothing.
			if code, stdout, _ := draconEnv(t, nil, args...); code != 0 || !strings.Contains(stdout, "0 findings created, 6 already there") {
				t.Errorf("import after the scan: %s", stdout)
			}
			if got := listJSON(t, env, "--status", "false-positive"); len(got) != 1 || got[0].TimesSeen != 3 {
				t.Errorf("re-import changed the history: %+v", got)
			}
		})
	}

	// --repo assigns every row to one repository.
	db := filepath.Join(t.TempDir(), "f.db")
	if code, stdout, stderr := draconEnv(t, nil, "store", "import", "--from-dracon", dracon, "--store", db, "--repo", "acme/mono"); code != 0 || !strings.Contains(stdout, "6 findings created") {
		t.Fatalf("import --repo: %d %s %s", code, stdout, stderr)
	}
	if got := listJSON(t, map[string]string{store.EnvDSN: db}, "--repo", "acme/mono"); len(got) != 6 {
		t.Errorf("--repo acme/mono: %d findings", len(got))
	}
}

func TestImportFromDraconErrors(t *testing.T) {
	empty := pgSchema(t, "empty")
	db := filepath.Join(t.TempDir(), "f.db")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"store"}, "subcommand"},
		{[]string{"store", "export"}, "unknown store subcommand"},
		{[]string{"store", "import"}, "needs --from-dracon"},
		{[]string{"store", "import", "--from-dracon", "/tmp/dracon.db"}, "want a PostgreSQL DSN"},
		{[]string{"store", "import", "--from-dracon", empty, "--repo", "not a repo"}, `--repo "not a repo"`},
		{[]string{"store", "import", "--from-dracon", empty, "--store", db}, "is this the database of Dracon's deduplication enricher"},
		{[]string{"store", "import", "--from-dracon", "postgres://u:s3cret@127.0.0.1:1/none?connect_timeout=2", "--store", db}, "the Dracon database postgres://u:xxxxx@"},
	} {
		code, _, stderr := draconEnv(t, nil, c.args...)
		if code != 2 || !strings.Contains(stderr, c.want) || strings.Contains(stderr, "s3cret") {
			t.Errorf("dracon %q: exit %d, stderr %q; want 2 and %q", c.args, code, stderr, c.want)
		}
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Errorf("a failed import created the store")
	}
}

func TestDraconSourceAndTarget(t *testing.T) {
	for src, want := range map[string]string{
		"https://github.com/acme/app.git?ref=main":          "acme/app",
		"https://github.com/acme/app?ref=3f2a":              "acme/app",
		"https://github.com/acme/app/tree/main":             "acme/app",
		"git@github.com:acme/app.git":                       "acme/app",
		"ssh://git@github.com/acme/app.git":                 "acme/app",
		"https://gitlab.com/acme/platform/api.git?ref=main": "acme/platform/api",
		"https://gitlab.example.com/acme/api/-/tree/main":   "acme/api",
		"":                     "",
		"unknown":              "",
		"https://example.com/": "",
	} {
		if got := repoFromSource(src); got != want {
			t.Errorf("repoFromSource(%q) = %q, want %q", src, got, want)
		}
	}
	for target, want := range map[string]string{
		"file:///workspace/source-code/main.go:10-12": "/workspace/source-code/main.go",
		"src/main.go:34-67":                           "src/main.go",
		"src/main.go:34":                              "src/main.go",
		"file:///a%20b/c.go:1-1":                      "/a b/c.go",
		"pkg:golang/golang.org/x/net@v0.1.0":          "pkg:golang/golang.org/x/net@v0.1.0",
		"requirements.txt":                            "requirements.txt",
	} {
		if got := targetPath(target); got != want {
			t.Errorf("targetPath(%q) = %q, want %q", target, got, want)
		}
	}
}

// TestImportMatchesByLocation: a row as Dracon itself wrote it, with the
// target its Tekton workspace gave (file:///workspace/output/source-code/
// ...) and so a hash no scan here reproduces, is matched on the next scan
// of the same code by its type, file and line, and its history goes on.
func TestImportMatchesByLocation(t *testing.T) {
	dir := t.TempDir()
	report := filepath.Join(producertest.CorpusDir(t), "defectdojo", "gosec", "many_vulns.json")
	ci := map[string]string{"GITHUB_REPOSITORY": "acme/app", "GITHUB_REF": "refs/heads/main", "GITHUB_EVENT_NAME": "push"}
	launchPB := filepath.Join(dir, "gosec.pb")
	if code, _, stderr := draconEnv(t, ci, "parse", "--tool", "gosec", report, "--out", launchPB); code != 0 {
		t.Fatalf("parse: %s", stderr)
	}
	launch, err := pipeline.ReadLaunch(launchPB)
	if err != nil {
		t.Fatal(err)
	}
	is := launch.Issues[3]
	loc := is.GetLocation()
	row := rowOf(is, "https://github.com/acme/app.git?ref=0f1e2d3c")
	row.target = fmt.Sprintf("file:///workspace/output/source-code/%s:%d-%d", strings.TrimPrefix(loc.GetPath(), "/"), loc.GetStartLine(), loc.GetEndLine())
	row.hash = fingerprint.DraconHash(&v1.Issue{Target: row.target, Type: row.typ, Title: row.title, Source: row.source})
	row.firstSeen, row.updatedAt, row.occurrences = at("2023-01-02T03:04:05Z"), at("2024-05-06T07:08:09Z"), 6
	if row.hash == fingerprint.DraconHash(is) {
		t.Fatal("the row's hash must differ from the scan's, as a real Dracon row's does")
	}
	db := filepath.Join(t.TempDir(), "findings.db")
	if code, stdout, stderr := draconEnv(t, nil, "store", "import", "--from-dracon", draconDatabase(t, []draconRow{row}), "--store", db); code != 0 || !strings.Contains(stdout, "1 findings created") {
		t.Fatalf("import: %d %s %s", code, stdout, stderr)
	}
	out := t.TempDir()
	if code, _, stderr := draconEnv(t, nil, "enrich", "--store", db, "--out-dir", out, launchPB); code != 0 {
		t.Fatalf("enrich: %s", stderr)
	}
	res, err := pipeline.ReadEnriched(filepath.Join(out, "gosec.enriched.pb"))
	if err != nil {
		t.Fatal(err)
	}
	matched := 0
	for _, e := range res.Issues {
		if !e.IsNew {
			matched++
			if e.Count != 7 || !e.FirstSeen.AsTime().Equal(*row.firstSeen) || e.RawIssue.GetLocation().GetStartLine() != loc.GetStartLine() {
				t.Errorf("matched %v", e)
			}
		}
	}
	if matched != 1 {
		t.Errorf("%d issues matched the imported row, want 1", matched)
	}
}
