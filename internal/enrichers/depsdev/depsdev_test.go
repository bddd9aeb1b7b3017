package depsdev

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/draconsec/dracon/internal/config"
	"github.com/draconsec/dracon/internal/enrichers"
	"github.com/draconsec/dracon/internal/schematest"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// findings are what the producers hand the enricher: dependency findings
// of several scanners (a purl with its version, a purl without one and
// the version beside it, a Dependabot purl with none at all, Go's
// standard library, a Debian package), a code finding, and syft's SBOM.
func findings(t testing.TB) []*v1.EnrichedLaunchToolResponse {
	bom, err := os.ReadFile("testdata/sbom.cdx.json")
	if err != nil {
		t.Fatal(err)
	}
	sbom := string(bom)
	dep := func(tool, purl, version string) *v1.Issue {
		return &v1.Issue{ToolName: tool, Title: "a vulnerable dependency", PackageUrl: purl, PackageVersion: version}
	}
	issues := []*v1.Issue{
		dep("osv-scanner", "pkg:golang/github.com/gorilla/mux@v1.8.0", "v1.8.0"),
		dep("trivy", "pkg:npm/lodash@4.17.20", "4.17.20"),
		dep("trivy", "pkg:npm/lodash@4.17.20", "4.17.20"), // another CVE of it: asked once
		dep("pip-audit", "pkg:pypi/django", "3.2"),
		dep("dependency-check", "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?type=jar", ""),
		dep("cargo-audit", "pkg:cargo/serde@1.0.190", ""),
		dep("snyk", "pkg:nuget/Newtonsoft.Json@13.0.1", ""),
		dep("safety", "pkg:pypi/requests@2.31.0", ""),
		dep("npm-audit", "pkg:npm/%40acme/internal-lib@1.0.0", ""), // private: deps.dev answers 404
		dep("govulncheck", "pkg:golang/stdlib@v1.21.0", "v1.21.0"),
		dep("grype", "pkg:deb/debian/openssl@1.1.1n-0%2Bdeb11u5?distro=debian-11", ""),
		dep("github-dependabot", "pkg:pypi/django", ""),
		{ToolName: "gosec", Title: "SQL string formatting", RuleId: "G201", Location: &v1.Location{Path: "main.go", StartLine: 3}},
		{ToolName: "syft", Type: "SBOM", Title: "Software bill of materials: 6 components", CycloneDXSBOM: &sbom},
	}
	by := map[string]*v1.EnrichedLaunchToolResponse{}
	var out []*v1.EnrichedLaunchToolResponse
	for _, is := range issues {
		r := by[is.ToolName]
		if r == nil {
			r = &v1.EnrichedLaunchToolResponse{OriginalResults: &v1.LaunchToolResponse{ToolName: is.ToolName}}
			by[is.ToolName] = r
			out = append(out, r)
		}
		r.OriginalResults.Issues = append(r.OriginalResults.Issues, is)
		r.Issues = append(r.Issues, &v1.EnrichedIssue{RawIssue: is})
	}
	return out
}

// wantRequests: nine package versions (requests.2.31.0 answered 429
// first, then 200; @acme/internal-lib and the SBOM's com.example:app are
// 404s) and the seven source projects (jamesnk/newtonsoft.json a 404).
const wantRequests = 10 + 7

type run struct {
	notices []string
	results []*v1.EnrichedLaunchToolResponse
	took    time.Duration
}

func enrich(t *testing.T, e *Enricher) run {
	t.Helper()
	var r run
	e.Notice = func(s string) { r.notices = append(r.notices, s) }
	r.results = findings(t)
	start := time.Now()
	if err := e.Enrich(context.Background(), &v1.ScanInfo{}, r.results); err != nil {
		t.Fatal(err)
	}
	r.took = time.Since(start)
	for _, n := range r.notices {
		t.Log("notice: " + n)
	}
	return r
}

func newEnricher(f *fakeDepsDev, cacheDir string) *Enricher {
	e := New(config.DepsDev{BaseURL: f.srv.URL, CacheDir: cacheDir}, nil)
	e.Rate = 100 // the rate test sets its own
	e.Now = func() time.Time { return t0 }
	return e
}

func ann(r run, tool string, i int) map[string]string {
	for _, res := range r.results {
		if res.OriginalResults.ToolName == tool {
			return res.Issues[i].Annotations
		}
	}
	return nil
}

// render is the results as the golden file shows them: each finding's
// annotations, and the SBOM finding's BOM.
func render(t *testing.T, r run) string {
	var b strings.Builder
	all, raw := enrichers.Flatten(r.results)
	for i, is := range all {
		fmt.Fprintf(&b, "== %s %s\n", raw[i].ToolName, producersKey(raw[i]))
		keys := make([]string, 0, len(is.Annotations))
		for k := range is.Annotations {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "%s: %s\n", k, is.Annotations[k])
		}
		if raw[i].CycloneDXSBOM != nil {
			var ind bytes.Buffer
			if err := json.Indent(&ind, []byte(raw[i].GetCycloneDXSBOM()), "", "  "); err != nil {
				t.Fatal(err)
			}
			b.WriteString(ind.String() + "\n")
		}
	}
	return b.String()
}

func producersKey(is *v1.Issue) string {
	if is.PackageUrl != "" {
		return strings.TrimSpace(is.PackageUrl + " " + is.PackageVersion)
	}
	return is.Title
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if got != string(want) {
		t.Errorf("differs from %s (go test -update rewrites it):\n%s", path, got)
	}
}

func TestEnrich(t *testing.T) {
	f := newFakeDepsDev(t)
	f.throttle["/v3/systems/pypi/packages/requests/versions/2.31.0"] = 1
	dir := t.TempDir()
	first := enrich(t, newEnricher(f, dir))
	if len(first.notices) != 0 {
		t.Errorf("notices: %q", first.notices)
	}
	if f.count() != wantRequests {
		t.Errorf("%d requests, want %d: %q", f.count(), wantRequests, f.requests)
	}
	if f.maxInFlight > Concurrency {
		t.Errorf("%d requests at once, want at most %d", f.maxInFlight, Concurrency)
	}
	// The 429's Retry-After: 1 was waited.
	if first.took < time.Second {
		t.Errorf("took %s: the 429's Retry-After was not honoured", first.took)
	}
	golden(t, "enriched.golden", render(t, first))

	mux := ann(first, "osv-scanner", 0)
	if mux[KeyEnriched] != "True" || mux[KeyLicenses] != "BSD-3-Clause" || mux[KeyScore] != "5.3" || mux[KeyScoreDate] != "2024-06-24" ||
		mux[KeySourceRepo] != "https://github.com/gorilla/mux" || mux[KeyURL] != "https://deps.dev/go/github.com%2Fgorilla%2Fmux/v1.8.0" {
		t.Errorf("gorilla/mux: %v", mux)
	}
	if a := ann(first, "trivy", 1); a[KeyAdvisories] != "GHSA-29mw-wpgm-hmr9, GHSA-35jh-r3h4-6jhm" || a[KeyScore] != "4.7" {
		t.Errorf("lodash: %v", a)
	}
	if a := ann(first, "pip-audit", 0); a[KeyLicenses] != "BSD-3-Clause" || a[KeyURL] != "https://deps.dev/pypi/django/3.2" {
		t.Errorf("django (version beside the purl): %v", a)
	}
	if a := ann(first, "dependency-check", 0); a[KeyLicenses] != "Apache-2.0" || a[KeyScore] != "" || a[KeySourceRepo] != "https://github.com/apache/logging-log4j2" ||
		a[KeyURL] != "https://deps.dev/maven/org.apache.logging.log4j%3Alog4j-core/2.14.1" {
		t.Errorf("log4j (no scorecard): %v", a)
	}
	if a := ann(first, "cargo-audit", 0); a[KeyLicenses] != "MIT OR Apache-2.0" {
		t.Errorf("serde: %v", a)
	}
	if a := ann(first, "snyk", 0); a[KeyLicenses] != "MIT" || a[KeyScore] != "" || a[KeySourceRepo] != "https://github.com/jamesnk/newtonsoft.json" {
		t.Errorf("Newtonsoft.Json (project unknown): %v", a)
	}
	for _, tool := range []string{"npm-audit", "govulncheck", "grype", "github-dependabot", "gosec"} {
		if a := ann(first, tool, 0); len(a) != 0 {
			t.Errorf("%s: annotated %v, want nothing", tool, a)
		}
	}
	sb := ann(first, "syft", 0)
	if sb[KeyLicenses] != "Apache-2.0, BSD-3-Clause, MIT, MIT OR Apache-2.0" || sb[KeyComponents] != "4" || sb[KeyEnriched] != "True" {
		t.Errorf("SBOM: %v", sb)
	}

	// A second run: every answer from the cache, the same annotations.
	f.reset()
	second := enrich(t, newEnricher(f, dir))
	if f.count() != 0 || len(second.notices) != 0 {
		t.Errorf("warm cache: %d requests %q, notices %q", f.count(), f.requests, second.notices)
	}
	if render(t, second) != render(t, first) {
		t.Error("the cached run's annotations differ from the first run's")
	}

	// Eight days later every entry, the 404s too, is asked again.
	f.reset()
	later := newEnricher(f, dir)
	later.Now = func() time.Time { return t0.Add(8 * 24 * time.Hour) }
	third := enrich(t, later)
	if f.count() != wantRequests-1 || len(third.notices) != 0 { // no 429 this time
		t.Errorf("expired cache: %d requests, want %d; notices %q", f.count(), wantRequests-1, third.notices)
	}
	// And max_age is the config's.
	f.reset()
	short := newEnricher(f, dir)
	short.MaxAge = time.Hour
	short.Now = func() time.Time { return t0.Add(8*24*time.Hour + 2*time.Hour) }
	enrich(t, short)
	if f.count() != wantRequests-1 {
		t.Errorf("max_age 1h, 2h later: %d requests", f.count())
	}
}

// TestOffline: deps.dev does not answer within the timeout. The run goes
// on, says so once, and uses what the cache has, stale or not.
func TestOffline(t *testing.T) {
	f := newFakeDepsDev(t)
	dir := t.TempDir()
	warm := enrich(t, newEnricher(f, dir))

	f.hang = true
	f.reset()
	e := newEnricher(f, dir)
	e.Now = func() time.Time { return t0.Add(30 * 24 * time.Hour) } // everything expired
	e.Timeout = 300 * time.Millisecond
	r := enrich(t, e)
	if len(r.notices) != 1 || !strings.Contains(r.notices[0], "got no answer (deps.dev did not answer within 300ms)") ||
		!strings.Contains(r.notices[0], "older cached answer, used instead") || !strings.Contains(r.notices[0], "the run goes on") {
		t.Errorf("notices %q, want one about the timeout", r.notices)
	}
	if r.took > 5*time.Second {
		t.Errorf("took %s with a 300ms timeout", r.took)
	}
	if render(t, r) != render(t, warm) {
		t.Error("offline, the stale cache was not used")
	}

	// A cold cache and no deps.dev: no annotations, one notice, no error.
	cold := newEnricher(f, t.TempDir())
	cold.Timeout = 300 * time.Millisecond
	r = enrich(t, cold)
	if len(r.notices) != 1 || len(ann(r, "osv-scanner", 0)) != 0 {
		t.Errorf("cold and offline: notices %q, annotations %v", r.notices, ann(r, "osv-scanner", 0))
	}

	// Nothing listening at all: the connection is refused, retried, and
	// the run goes on with one notice.
	f.srv.Close()
	gone := newEnricher(f, t.TempDir())
	gone.Timeout = 2 * time.Second
	r = enrich(t, gone)
	if len(r.notices) != 1 || !strings.Contains(r.notices[0], "depsdev: ") {
		t.Errorf("refused: notices %q", r.notices)
	}
}

// TestRefused: deps.dev answers with an error that is neither a 404 nor
// retried away: said once, with deps.dev's message.
func TestRefused(t *testing.T) {
	f := newFakeDepsDev(t)
	e := newEnricher(f, t.TempDir())
	e.BaseURL = f.srv.URL + "/nowhere" // every path a 404: an unknown package each, no notice
	r := enrich(t, e)
	if len(r.notices) != 0 || len(ann(r, "osv-scanner", 0)) != 0 {
		t.Errorf("404s: notices %q", r.notices)
	}
	for p := range routes {
		f.throttle[p] = 100 // 429 every time: retried, then given up
	}
	e = newEnricher(f, t.TempDir())
	e.Timeout = time.Minute
	start := time.Now()
	r = enrich(t, e)
	if len(r.notices) != 1 || !strings.Contains(r.notices[0], "HTTP 429: quota exceeded, retry later") {
		t.Errorf("429s: notices %q", r.notices)
	}
	if time.Since(start) > 50*time.Second {
		t.Errorf("took %s", time.Since(start))
	}
}

// TestRate: at rate 10, twelve lookups take at least 1.1s (the first
// goes at once).
func TestRate(t *testing.T) {
	f := newFakeDepsDev(t)
	e := newEnricher(f, t.TempDir())
	e.Rate = 10
	r := enrich(t, e)
	n := f.count()
	if min := time.Duration(n-1) * 100 * time.Millisecond; r.took < min-50*time.Millisecond {
		t.Errorf("%d requests in %s: faster than 10 a second", n, r.took)
	}

	// At 5 a second, a one-second timeout fits about 5 of the 17
	// lookups: those are annotated, the rest are for the next run, and
	// the notice says the time ran out, not that deps.dev is down.
	f.reset()
	dir := t.TempDir()
	e = newEnricher(f, dir)
	e.Rate, e.Timeout = 5, time.Second
	r = enrich(t, e)
	if len(r.notices) != 1 || !strings.Contains(r.notices[0], "the 1s timeout ran out at 5 requests a second; the next runs ask for the rest") {
		t.Errorf("notices %q", r.notices)
	}
	if f.count() < 3 || f.count() > 8 || r.took > 3*time.Second {
		t.Errorf("%d requests in %s at 5 a second for 1s", f.count(), r.took)
	}
	// The next run asks only for what the first did not get (all but
	// the 429 of TestEnrich: 16 in all).
	first := f.count()
	f.reset()
	e = newEnricher(f, dir)
	r = enrich(t, e)
	if len(r.notices) != 0 || f.count() != wantRequests-1-first {
		t.Errorf("the next run: %d requests (the first made %d of %d); notices %q", f.count(), first, wantRequests-1, r.notices)
	}
}

func TestLicensesInEvidence(t *testing.T) {
	f := newFakeDepsDev(t)
	e := newEnricher(f, t.TempDir())
	e.LicensesInEvidence = true
	r := enrich(t, e)
	var doc struct {
		Components []struct {
			Name     string `json:"name"`
			Licenses []any  `json:"licenses"`
			Evidence *struct {
				Licenses []map[string]any `json:"licenses"`
			} `json:"evidence"`
		} `json:"components"`
	}
	all, raw := enrichers.Flatten(r.results)
	for i := range all {
		if raw[i].CycloneDXSBOM != nil {
			if err := json.Unmarshal([]byte(raw[i].GetCycloneDXSBOM()), &doc); err != nil {
				t.Fatal(err)
			}
		}
	}
	mux := doc.Components[0]
	if mux.Name != "github.com/gorilla/mux" || mux.Licenses != nil || mux.Evidence == nil || fmt.Sprint(mux.Evidence.Licenses[0]["license"]) != "map[id:BSD-3-Clause]" {
		t.Errorf("gorilla/mux: %+v", mux)
	}
}

func TestFromPurl(t *testing.T) {
	for _, tc := range []struct {
		purl, version string
		want          Key
		ok            bool
	}{
		{"pkg:golang/github.com/gorilla/mux@v1.8.0", "", Key{"GO", "github.com/gorilla/mux", "v1.8.0"}, true},
		{"pkg:golang/golang.org/x/net@0.17.0", "", Key{"GO", "golang.org/x/net", "v0.17.0"}, true},
		{"pkg:golang/github.com/gorilla/mux", "v1.7.0", Key{"GO", "github.com/gorilla/mux", "v1.7.0"}, true},
		{"pkg:npm/%40babel/traverse@7.23.0", "", Key{"NPM", "@babel/traverse", "7.23.0"}, true},
		{"pkg:pypi/Django@3.2", "", Key{"PYPI", "django", "3.2"}, true},
		{"pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?type=jar", "", Key{"MAVEN", "org.apache.logging.log4j:log4j-core", "2.14.1"}, true},
		{"pkg:cargo/serde@1.0.190#src", "", Key{"CARGO", "serde", "1.0.190"}, true},
		{"pkg:nuget/Newtonsoft.Json@13.0.1", "", Key{"NUGET", "Newtonsoft.Json", "13.0.1"}, true},
		{"pkg:maven/org.apache/xmlsec@2.1.1%2Bb", "", Key{"MAVEN", "org.apache:xmlsec", "2.1.1+b"}, true},
		{"pkg:pypi/django", "", Key{}, false},
		{"pkg:golang/stdlib@v1.21.0", "", Key{}, false},
		{"pkg:deb/debian/openssl@1.1.1", "", Key{}, false},
		{"pkg:gem/nokogiri@1.16.0", "", Key{}, false},
		{"lodash@4.17.20", "", Key{}, false},
		{"pkg:npm", "1", Key{}, false},
	} {
		got, ok := FromPurl(tc.purl, tc.version)
		if ok != tc.ok || got != tc.want {
			t.Errorf("FromPurl(%q, %q) = %v %v, want %v %v", tc.purl, tc.version, got, ok, tc.want, tc.ok)
		}
	}
	k := Key{"NPM", "@colors/colors", "1.5.0"}
	if p := k.versionPath(); p != "/v3/systems/npm/packages/%40colors%2Fcolors/versions/1.5.0" {
		t.Errorf("path %s: deps.dev's documentation escapes @ and /", p)
	}
}

// TestDamagedCache: a cache file that is not JSON is said once, and
// replaced by a good one.
func TestDamagedCache(t *testing.T) {
	f := newFakeDepsDev(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, cacheFile), []byte("{not json"), 0o644)
	r := enrich(t, newEnricher(f, dir))
	if len(r.notices) != 1 || !strings.Contains(r.notices[0], "the cache could not be read") || ann(r, "osv-scanner", 0)[KeyLicenses] != "BSD-3-Clause" {
		t.Errorf("notices %q", r.notices)
	}
	f.reset()
	if r := enrich(t, newEnricher(f, dir)); f.count() != 0 || len(r.notices) != 0 {
		t.Errorf("after the rewrite: %d requests, notices %q", f.count(), r.notices)
	}
}

// TestCacheMerge: two runs sharing a cache folder keep each other's
// answers.
func TestCacheMerge(t *testing.T) {
	dir := t.TempDir()
	a, err := openCache(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := openCache(dir)
	ka, kb := Key{"NPM", "a", "1"}, Key{"NPM", "b", "1"}
	a.putVersion(ka, &Version{Fetched: t0, Licenses: []string{"MIT"}})
	b.putVersion(kb, &Version{Fetched: t0, Unknown: true})
	if err := a.save(); err != nil {
		t.Fatal(err)
	}
	if err := b.save(); err != nil {
		t.Fatal(err)
	}
	c, _ := openCache(dir)
	if c.version(ka) == nil || c.version(kb) == nil || !c.version(kb).Unknown {
		t.Errorf("merged cache: %v %v", c.version(ka), c.version(kb))
	}
}

// TestBOMValidates: the BOM with deps.dev's data written in is still a
// CycloneDX 1.5 BOM (licences as ids, an expression, evidence), as
// Dependency-Track and GitLab read it.
func TestBOMValidates(t *testing.T) {
	dir := schematest.Dir(t)
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	for _, f := range []string{"spdx.schema.json", "jsf-0.82.schema.json", "bom-1.5.schema.json"} {
		data, err := os.ReadFile(filepath.Join(dir, "cyclonedx", f))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.AddResource("http://cyclonedx.org/schema/"+f, doc); err != nil {
			t.Fatal(err)
		}
	}
	sch, err := c.Compile("http://cyclonedx.org/schema/bom-1.5.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	f := newFakeDepsDev(t)
	for _, evidence := range []bool{false, true} {
		e := newEnricher(f, t.TempDir())
		e.LicensesInEvidence = evidence
		r := enrich(t, e)
		all, raw := enrichers.Flatten(r.results)
		n := 0
		for i := range all {
			if raw[i].CycloneDXSBOM == nil {
				continue
			}
			n++
			text := raw[i].GetCycloneDXSBOM()
			if !strings.Contains(text, "deps.dev") {
				t.Errorf("evidence %v: the BOM was not rewritten", evidence)
			}
			doc, err := jsonschema.UnmarshalJSON(strings.NewReader(text))
			if err != nil {
				t.Fatal(err)
			}
			if err := sch.Validate(doc); err != nil {
				t.Errorf("evidence %v: the rewritten BOM is not CycloneDX 1.5: %v", evidence, err)
			}
		}
		if n != 1 {
			t.Fatalf("%d SBOM findings", n)
		}
	}
}

// TestXMLBOM: an XML BOM's purls are looked up and the finding
// annotated; the XML itself is left as it is.
func TestXMLBOM(t *testing.T) {
	f := newFakeDepsDev(t)
	xmlBOM := `<?xml version="1.0" encoding="UTF-8"?>
<bom xmlns="http://cyclonedx.org/schema/bom/1.4" version="1">
  <components>
    <component type="library" bom-ref="pkg:cargo/serde@1.0.190">
      <name>serde</name>
      <version>1.0.190</version>
      <purl>pkg:cargo/serde@1.0.190</purl>
    </component>
  </components>
</bom>`
	res := []*v1.EnrichedLaunchToolResponse{{Issues: []*v1.EnrichedIssue{{RawIssue: &v1.Issue{ToolName: "cyclonedx", Type: "SBOM", CycloneDXSBOM: &xmlBOM}}}}}
	e := newEnricher(f, t.TempDir())
	if err := e.Enrich(context.Background(), nil, res); err != nil {
		t.Fatal(err)
	}
	is := res[0].Issues[0]
	if is.Annotations[KeyLicenses] != "MIT OR Apache-2.0" || is.Annotations[KeyComponents] != "1" || is.RawIssue.GetCycloneDXSBOM() != xmlBOM {
		t.Errorf("annotations %v", is.Annotations)
	}
}
