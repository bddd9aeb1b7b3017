package reachability_test

import (
	"archive/zip"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/draconsec/dracon/internal/config"
	"github.com/draconsec/dracon/internal/enrichers/reachability"
	"github.com/draconsec/dracon/internal/pipeline"
	"github.com/draconsec/dracon/internal/producers"
	"github.com/draconsec/dracon/internal/producers/govulncheck"
	"github.com/draconsec/dracon/internal/producers/grype"
	"github.com/draconsec/dracon/internal/producers/osvscanner"
	"github.com/draconsec/dracon/internal/producers/producertest"
	"github.com/draconsec/dracon/internal/producers/trivy"
	"github.com/draconsec/dracon/internal/runner"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
	bolt "go.etcd.io/bbolt"
	_ "modernc.org/sqlite"
)

// realConfig runs the four scanners that know Go modules' advisories, on
// this machine, and leaves out the store: each scan stands alone.
const realConfig = `version: 1
runner: local
producers:
  govulncheck: {}
  osv-scanner: {}
  grype: {}
  trivy: {}
enrichers:
  dedup: {enabled: false}
  baseline: {enabled: false}
`

// TestRealScans runs Dracon's pipeline, with the real, pinned govulncheck,
// osv-scanner, grype and trivy, on two test repositories that require the
// same vulnerable module version (example.com/fakelib v1.0.0, vendored):
// testdata/scan/caller calls the vulnerable fakelib.Parse through a
// package of its own; testdata/scan/idle imports fakelib and calls only
// its safe function, and has a nested module, tools/, that calls Parse.
// Each scanner reads its own database, made here from the same advisories
// (testdata/vulndb in the Go vulnerability database's layout, which
// govulncheck reads and osv-scanner reads zipped; testdata/grypedb;
// testdata/trivydb.json): GO-2099-0101 on Parse, GO-2099-0102 on a
// package nobody imports, and, in trivy's only, CVE-2099-0199. The
// enricher then marks every scanner's dependency finding from
// govulncheck's result for the root module, and from osv-scanner's own
// call analysis for the nested one.
func TestRealScans(t *testing.T) {
	for _, p := range []*producers.Producer{govulncheck.Producer, osvscanner.Producer, grype.Producer, trivy.Producer} {
		producertest.RequireTool(t, p)
	}
	setupDatabases(t)

	caller := scan(t, "testdata/scan/caller")
	const callPath = "example.com/caller/internal/load.Config (internal/load/load.go:8) -> example.com/fakelib.Parse"
	want := []string{
		// govulncheck's own findings: Parse is called, wire is only required.
		"govulncheck GO-2099-0101 internal/load/load.go: true | " + callPath,
		"govulncheck GO-2099-0102 -: false | govulncheck: the module is required but the code imports none of the packages GO-2099-0102 names",
		// Every scanner's finding of the same advisory in go.mod, by its
		// own id: GO- (osv-scanner), GHSA- (grype), CVE- (trivy).
		"osv-scanner GO-2099-0101 go.mod: true | " + callPath,
		"grype GHSA-fake-lib0-pars go.mod: true | " + callPath,
		"trivy CVE-2099-0101 go.mod: true | " + callPath,
		"osv-scanner GO-2099-0102 go.mod: false | govulncheck: the module is required but the code imports none of the packages GO-2099-0102 names",
		"grype GHSA-fake-lib0-wire go.mod: false | govulncheck: the module is required but the code imports none of the packages GO-2099-0102 names",
		"trivy CVE-2099-0102 go.mod: false | govulncheck: the module is required but the code imports none of the packages GO-2099-0102 names",
		// Only trivy's database has it; no other scanner's analysis covers it.
		"trivy CVE-2099-0199 go.mod: unknown | govulncheck did not report CVE-2099-0199, GHSA-FAKE-LIB0-ONLY in example.com/fakelib (its database lacks the advisory, or it finds this version or the build unaffected)",
	}
	check(t, "caller", caller, want)

	idle := scan(t, "testdata/scan/idle")
	const imported = "govulncheck: the code imports the vulnerable package of GO-2099-0101 but calls none of its vulnerable functions"
	const required = "govulncheck: the module is required but the code imports none of the packages GO-2099-0102 names"
	const toolsCalled = "osv-scanner's call analysis of tools/go.mod found a call to the vulnerable code (it records no call path)"
	const toolsNotCalled = "osv-scanner's call analysis of tools/go.mod found no call to the vulnerable code"
	want = []string{
		"govulncheck GO-2099-0101 -: false | " + imported,
		"govulncheck GO-2099-0102 -: false | " + required,
		"osv-scanner GO-2099-0101 go.mod: false | " + imported,
		"grype GHSA-fake-lib0-pars go.mod: false | " + imported,
		"trivy CVE-2099-0101 go.mod: false | " + imported,
		"osv-scanner GO-2099-0102 go.mod: false | " + required,
		"grype GHSA-fake-lib0-wire go.mod: false | " + required,
		"trivy CVE-2099-0102 go.mod: false | " + required,
		"trivy CVE-2099-0199 go.mod: unknown | govulncheck did not report CVE-2099-0199, GHSA-FAKE-LIB0-ONLY in example.com/fakelib (its database lacks the advisory, or it finds this version or the build unaffected)",
		// The nested module: govulncheck did not analyse it; osv-scanner
		// did, and grype's and trivy's findings of the same go.mod borrow it.
		// grype writes /tools/go.mod, from the scanned folder's root: the
		// pipeline must make that tools/go.mod, not the root's go.mod (a
		// file of the same name), or the call would be read as "false".
		"osv-scanner GO-2099-0101 tools/go.mod: true | " + toolsCalled,
		"grype GHSA-fake-lib0-pars tools/go.mod: true | " + toolsCalled,
		"trivy CVE-2099-0101 tools/go.mod: true | " + toolsCalled,
		"osv-scanner GO-2099-0102 tools/go.mod: false | " + toolsNotCalled,
		"grype GHSA-fake-lib0-wire tools/go.mod: false | " + toolsNotCalled,
		"trivy CVE-2099-0102 tools/go.mod: false | " + toolsNotCalled,
		"trivy CVE-2099-0199 tools/go.mod: unknown | govulncheck analysed the root module only, not tools/go.mod",
	}
	check(t, "idle", idle, want)

	// Without osv-scanner's analysis, the nested module is unknown.
	off := false
	e := reachability.New(config.Reachability{OSVScanner: &off}, "testdata/scan/idle", nil)
	if err := e.Enrich(context.Background(), nil, idle); err != nil {
		t.Fatal(err)
	}
	for _, l := range lines(idle) {
		if strings.Contains(l, "tools/go.mod") && !strings.HasSuffix(l, "tools/go.mod: unknown | govulncheck analysed the root module only, not tools/go.mod") {
			t.Errorf("osv_scanner: false: %s", l)
		}
	}
}

// scan runs the pipeline on src and then the enricher, as the registry's
// chain would after merge.
func scan(t *testing.T, src string) []*v1.EnrichedLaunchToolResponse {
	t.Helper()
	cfg, err := config.Parse([]byte(realConfig), pipeline.ConfigNames())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var log strings.Builder
	res, err := pipeline.Run(context.Background(), pipeline.Options{
		Config: cfg, Source: src, Out: filepath.Join(dir, "out"), RunRoot: filepath.Join(dir, "runs"),
		Log: &log, Runner: runner.Local{}, Getenv: func(string) string { return "" },
	})
	if err != nil {
		t.Fatalf("%s: %v\n%s", src, err, log.String())
	}
	for _, p := range res.Summary.Producers {
		if p.Status != "ok" {
			t.Fatalf("%s: %s %s: %s\n%s", src, p.Name, p.Status, p.Reason, log.String())
		}
	}
	e := reachability.New(config.Reachability{}, src, func(m string) { t.Log(m) })
	if err := e.Enrich(context.Background(), nil, res.Results); err != nil {
		t.Fatal(err)
	}
	return res.Results
}

// lines: one per Go vulnerability finding, "tool rule path: reachable |
// evidence or reason".
func lines(results []*v1.EnrichedLaunchToolResponse) []string {
	var out []string
	for _, r := range results {
		for _, is := range r.GetIssues() {
			raw := is.GetRawIssue()
			if !strings.HasPrefix(raw.GetPackageUrl(), "pkg:golang/") {
				continue
			}
			p := raw.GetLocation().GetPath()
			if p == "" {
				p = "-"
			}
			a := is.GetAnnotations()
			detail := a[reachability.Evidence]
			if detail == "" {
				detail = a[reachability.Reason]
			}
			out = append(out, fmt.Sprintf("%s %s %s: %s | %s", raw.GetToolName(), raw.GetRuleId(), p, a[reachability.Reachable], detail))
		}
	}
	sort.Strings(out)
	return out
}

func check(t *testing.T, name string, results []*v1.EnrichedLaunchToolResponse, want []string) {
	t.Helper()
	got := lines(results)
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\n%s\nwant:\n%s", name, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// setupDatabases writes each scanner's database from testdata and points
// the scanners at them, offline.
func setupDatabases(t *testing.T) {
	dir := t.TempDir()
	db, err := filepath.Abs("testdata/vulndb")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(govulncheck.DBEnv, db)
	// osv-scanner's offline layout: <dir>/osv-scanner/<Ecosystem>/all.zip.
	osvDir := filepath.Join(dir, "osv")
	zipFiles(t, filepath.Join("testdata", "vulndb", "ID"), filepath.Join(osvDir, "osv-scanner", "Go", "all.zip"))
	t.Setenv(osvscanner.DBEnv, osvDir)

	grypeDB := filepath.Join(dir, "vulnerability.db")
	// grype's own schema, kept beside its producer's test.
	runSQL(t, grypeDB, "../../producers/grype/testdata/grypedb/schema-v6.1.10.sql", "testdata/grypedb/advisories.sql")
	t.Setenv("GRYPE_DB_CACHE_DIR", filepath.Join(dir, "grype"))
	t.Setenv("GRYPE_DB_AUTO_UPDATE", "false")
	t.Setenv("GRYPE_DB_VALIDATE_AGE", "false")
	t.Setenv("GRYPE_CHECK_FOR_APP_UPDATE", "false")
	bin := producertest.RequireTool(t, grype.Producer)
	if out, err := exec.Command(bin, "db", "import", grypeDB).CombinedOutput(); err != nil {
		t.Fatalf("grype db import: %v\n%s", err, out)
	}

	trivyCache := filepath.Join(dir, "trivy")
	writeTrivyDB(t, trivyCache, "testdata/trivydb.json")
	t.Setenv(trivy.CacheEnv, trivyCache)

	// The modules are vendored: no proxy, no download, this Go.
	t.Setenv("GOPROXY", "off")
	t.Setenv("GOFLAGS", "-mod=vendor")
	t.Setenv("GOTOOLCHAIN", "local")
}

// zipFiles writes every .json file of dir into a zip at dst.
func zipFiles(t *testing.T, dir, dst string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no OSV files in %s: %v", dir, err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		w, err := zw.Create(filepath.Base(file))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// runSQL writes the SQL files into a new SQLite database.
func runSQL(t *testing.T, path string, files ...string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, f := range files {
		script, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(string(script)); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
}

// trivyData is testdata/trivydb.json.
type trivyData struct {
	Bucket          string                                `json:"bucket"`
	Source          map[string]string                     `json:"source"`
	Advisories      map[string]map[string]json.RawMessage `json:"advisories"`
	Vulnerabilities map[string]json.RawMessage            `json:"vulnerabilities"`
}

// writeTrivyDB builds a trivy database in trivy-db's layout (schema 2)
// under cache/db: trivy.db, a BoltDB file, and metadata.json.
func writeTrivyDB(t *testing.T, cache, file string) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var d trivyData
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(cache, "db")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(filepath.Join(dir, "trivy.db"), 0o644, &bolt.Options{Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		ds, err := tx.CreateBucketIfNotExists([]byte("data-source"))
		if err != nil {
			return err
		}
		src, err := json.Marshal(d.Source)
		if err != nil {
			return err
		}
		if err := ds.Put([]byte(d.Bucket), src); err != nil {
			return err
		}
		root, err := tx.CreateBucketIfNotExists([]byte(d.Bucket))
		if err != nil {
			return err
		}
		for pkg, advisories := range d.Advisories {
			b, err := root.CreateBucketIfNotExists([]byte(pkg))
			if err != nil {
				return err
			}
			for id, adv := range advisories {
				if err := b.Put([]byte(id), adv); err != nil {
					return err
				}
			}
		}
		vb, err := tx.CreateBucketIfNotExists([]byte("vulnerability"))
		if err != nil {
			return err
		}
		for id, v := range d.Vulnerabilities {
			if err := vb.Put([]byte(id), v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	meta, err := json.Marshal(map[string]any{"Version": 2, "NextUpdate": now.Add(24 * time.Hour), "UpdatedAt": now, "DownloadedAt": now})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "metadata.json"), meta, 0o644); err != nil {
		t.Fatal(err)
	}
}
