package githubalerts

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/draconsec/dracon/internal/produce"
	"github.com/draconsec/dracon/internal/producers"
	"github.com/draconsec/dracon/internal/producers/producertest"
	"github.com/draconsec/dracon/internal/runner"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func setEnv(t *testing.T, f *fakeGitHub) {
	t.Setenv(EnvToken, testToken)
	t.Setenv(EnvRepository, testRepo)
	t.Setenv(EnvAPIURL, f.apiURL())
}

// run runs p through internal/produce, as a pipeline run does: fetched,
// written as the run's report, parsed.
func run(t *testing.T, p *producers.Producer, args ...string) produce.Outcome {
	t.Helper()
	return produce.Run(context.Background(), runner.Local{}, p, produce.Options{Source: t.TempDir(), RunDir: t.TempDir(), Args: args, Timeout: time.Minute})
}

// elements reads JSON arrays (one or several, one after the other) as
// their elements' bytes.
func elements(t *testing.T, files ...string) []string {
	t.Helper()
	var out []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var items []json.RawMessage
		if err := json.Unmarshal(data, &items); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, it := range items {
			out = append(out, string(it))
		}
	}
	return out
}

func TestFetchCodeScanning(t *testing.T) {
	for _, prefix := range []string{"", "/api/v3"} { // GitHub.com's API, then a GitHub Enterprise Server's
		t.Run("api"+prefix, func(t *testing.T) {
			f := newFakeGitHub(t, prefix)
			setEnv(t, f)
			out := run(t, CodeScanning)
			if out.Status != produce.OK {
				t.Fatalf("%s: %s", out.Status, out.Reason)
			}
			// The report is the alerts exactly as GitHub wrote them, both
			// pages in one array.
			if got, want := elements(t, out.Report), elements(t, "testdata/code-scanning/page1.json", "testdata/code-scanning/page2.json"); strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("report:\n%s\nwant the pages' alerts:\n%s", got, want)
			}
			if filepath.Base(out.Report) != "github-code-scanning.report" || len(out.Parsed.Issues) != 3 {
				t.Fatalf("report %s, %d issues", out.Report, len(out.Parsed.Issues))
			}
			producertest.CheckIssues(t, out.Parsed.Issues)
			reqs := f.seen()
			if len(reqs) != 2 {
				t.Fatalf("%d requests, want 2 (two pages)", len(reqs))
			}
			for i, r := range reqs {
				q := r.URL.Query()
				wantPage := []string{"", "2"}[i]
				if r.URL.Path != prefix+"/repos/octocat/hello-world/code-scanning/alerts" || q.Get("page") != wantPage ||
					q.Get("state") != "open" || q.Get("per_page") != "100" || r.Header.Get("X-GitHub-Api-Version") != "2022-11-28" {
					t.Errorf("request %d: %s %v", i, r.URL, r.Header)
				}
			}
			log, _ := os.ReadFile(out.Stderr)
			if bytes.Contains(log, []byte(testToken)) || !bytes.Contains(log, []byte("3 open code scanning alerts of octocat/hello-world")) {
				t.Errorf("log:\n%s", log)
			}
		})
	}
}

func TestFetchDependabot(t *testing.T) {
	f := newFakeGitHub(t, "")
	setEnv(t, f)
	out := run(t, Dependabot, "severity=critical,high", "scope=runtime")
	if out.Status != produce.OK {
		t.Fatalf("%s: %s", out.Status, out.Reason)
	}
	if got, want := elements(t, out.Report), elements(t, "testdata/dependabot/page1.json", "testdata/dependabot/page2.json"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("report is not the pages' alerts")
	}
	if len(out.Parsed.Issues) != 5 {
		t.Fatalf("%d issues, want 5", len(out.Parsed.Issues))
	}
	producertest.CheckIssues(t, out.Parsed.Issues)
	reqs := f.seen()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	// The second page is asked for by the Link header's cursor, never
	// by page number (GitHub refuses page on this list); the config's
	// filters are in every request.
	for i, r := range reqs {
		q := r.URL.Query()
		if q.Get("after") != []string{"", testCursor}[i] || q.Has("page") || q.Get("severity") != "critical,high" || q.Get("scope") != "runtime" {
			t.Errorf("request %d: %s", i, r.URL)
		}
	}
}

func TestFetchFailures(t *testing.T) {
	cs := "/repos/" + testRepo + "/code-scanning/alerts"
	db := "/repos/" + testRepo + "/dependabot/alerts"
	for _, tc := range []struct {
		name   string
		p      *producers.Producer
		env    map[string]string
		args   []string
		refuse map[string]refusal
		want   []string
	}{
		{name: "code scanning never ran", p: CodeScanning, refuse: map[string]refusal{cs: {status: 404, file: "testdata/code-scanning/no-analysis.json"}},
			want: []string{"HTTP 404", "no analysis found", "code scanning has not analysed this repository"}},
		{name: "no Advanced Security", p: CodeScanning, refuse: map[string]refusal{cs: {status: 403, file: "testdata/code-scanning/advanced-security.json"}},
			want: []string{"HTTP 403", "Advanced Security must be enabled", "GitHub Advanced Security"}},
		{name: "Dependabot alerts disabled", p: Dependabot, refuse: map[string]refusal{db: {status: 403, file: "testdata/dependabot/disabled.json"}},
			want: []string{"HTTP 403", "Dependabot alerts are disabled", "enable Dependabot alerts"}},
		{name: "the workflow's token", p: Dependabot, refuse: map[string]refusal{db: {status: 403, file: "testdata/dependabot/not-accessible.json"}},
			want: []string{"Resource not accessible by integration", "Dependabot alerts: read"}},
		{name: "the token lacks security-events", p: CodeScanning, refuse: map[string]refusal{cs: {status: 403, file: "testdata/dependabot/not-accessible.json"}},
			want: []string{"Resource not accessible by integration", "security-events: read"}},
		{name: "bad token", p: CodeScanning, env: map[string]string{EnvToken: "ghp_revoked0000000000000000000000000000"},
			want: []string{"HTTP 401", "Bad credentials", "GITHUB_TOKEN is not a valid token"}},
		{name: "unknown repository", p: Dependabot, env: map[string]string{EnvRepository: "octocat/nope"},
			want: []string{"HTTP 404", "no repository octocat/nope, or the token cannot see it"}},
		{name: "rate limit for an hour", p: CodeScanning, refuse: map[string]refusal{cs: rateLimited(time.Now().Add(time.Hour))},
			want: []string{"HTTP 403", "API rate limit exceeded", "used up until", "X-RateLimit-Reset"}},
		{name: "no token", p: CodeScanning, env: map[string]string{EnvToken: ""},
			want: []string{"github-code-scanning: GITHUB_TOKEN is not set: it reads the repository's code scanning alerts", "security-events: read"}},
		{name: "neither token nor repository", p: Dependabot, env: map[string]string{EnvToken: "", EnvRepository: " "},
			want: []string{"github-dependabot: GITHUB_TOKEN and GITHUB_REPOSITORY are not set", "Dependabot alerts: read"}},
		{name: "repository not owner/name", p: Dependabot, env: map[string]string{EnvRepository: "hello-world"},
			want: []string{`GITHUB_REPOSITORY="hello-world": want owner/name`}},
		{name: "an API URL with a password", p: Dependabot, env: map[string]string{EnvAPIURL: "https://x:pw@ghe.example.com/api/v3"},
			want: []string{"GITHUB_API_URL: no credentials"}},
		{name: "unknown filter", p: CodeScanning, args: []string{"state=dismissed"},
			want: []string{`argument "state=dismissed"`, "tool_name, tool_guid, ref, severity"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeGitHub(t, "")
			setEnv(t, f)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			for k, v := range tc.refuse {
				f.refuse[k] = v
			}
			start := time.Now()
			out := run(t, tc.p, tc.args...)
			if out.Status != produce.Failed {
				t.Fatalf("%s, want failed", out.Status)
			}
			t.Log(out.Reason)
			for _, w := range tc.want {
				if !strings.Contains(out.Reason, w) {
					t.Errorf("reason %q does not say %q", out.Reason, w)
				}
			}
			if strings.Contains(out.Reason, testToken) || strings.Contains(out.Reason, "pw@") {
				t.Errorf("reason %q shows a credential", out.Reason)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %s: a refusal must not be waited on", d)
			}
		})
	}
}

// TestRateLimitWaited: a primary rate limit that resets in a second is
// waited out, and the page asked again.
func TestRateLimitWaited(t *testing.T) {
	f := newFakeGitHub(t, "")
	setEnv(t, f)
	f.refuse["/repos/"+testRepo+"/code-scanning/alerts"] = rateLimited(time.Now().Add(time.Second))
	start := time.Now()
	out := run(t, CodeScanning)
	if out.Status != produce.OK || len(out.Parsed.Issues) != 3 {
		t.Fatalf("%s: %s", out.Status, out.Reason)
	}
	if n := len(f.seen()); n != 3 {
		t.Errorf("%d requests, want 3 (refused, then two pages)", n)
	}
	if d := time.Since(start); d < time.Second {
		t.Errorf("retried after %s: before the reset", d)
	}
	log, _ := os.ReadFile(out.Stderr)
	if !bytes.Contains(log, []byte("GitHub's rate limit: waiting")) {
		t.Errorf("log %q does not say it waited", log)
	}
}

// TestReportImported: a file of alerts an earlier step saved (paths) is
// read instead of asking GitHub, which needs no token.
func TestReportImported(t *testing.T) {
	t.Setenv(EnvToken, "")
	out := produce.Run(context.Background(), runner.Local{}, CodeScanning, produce.Options{RunDir: t.TempDir(), Report: "testdata/code-scanning/gh-paginate-all-states.json"})
	if out.Status != produce.OK || len(out.Parsed.Issues) != 3 {
		t.Fatalf("%s %s", out.Status, out.Reason)
	}
}

// TestGolden parses every alert file in testdata and compares the issues
// with its golden file (go test -update rewrites them).
func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		glob  string
		parse producers.ParseFunc
	}{
		{"testdata/code-scanning/*.json", ParseCodeScanning},
		{"testdata/dependabot/*.json", ParseDependabot},
	} {
		files, _ := filepath.Glob(tc.glob)
		n := 0
		for _, file := range files {
			data, _ := os.ReadFile(file)
			if bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) {
				continue // GitHub's refusals: TestParseRejects
			}
			n++
			t.Run(file, func(t *testing.T) {
				got, err := tc.parse(data)
				if err != nil {
					t.Fatal(err)
				}
				producertest.CheckIssues(t, got.Issues)
				var b bytes.Buffer
				b.WriteString("[\n")
				for i, is := range got.Issues {
					raw, err := protojson.Marshal(is)
					if err != nil {
						t.Fatal(err)
					}
					var ind bytes.Buffer
					// protojson varies its spacing on purpose: indented
					// by encoding/json, the text is stable.
					if err := json.Indent(&ind, raw, "  ", "  "); err != nil {
						t.Fatal(err)
					}
					b.WriteString("  ")
					b.Write(ind.Bytes())
					if i < len(got.Issues)-1 {
						b.WriteString(",")
					}
					b.WriteString("\n")
				}
				b.WriteString("]\n")
				golden := strings.TrimSuffix(file, ".json") + ".golden"
				if *update {
					if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (go test -update writes it)", err)
				}
				if b.String() != string(want) {
					t.Errorf("issues differ from %s (go test -update rewrites it):\n%s", golden, b.String())
				}
			})
		}
		if n == 0 {
			t.Fatalf("no alert files match %s", tc.glob)
		}
	}
}

// TestFields pins what the golden files show, so that an -update cannot
// quietly accept a wrong mapping.
func TestFields(t *testing.T) {
	read := func(parse producers.ParseFunc, file string) []*v1.Issue {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		got, err := parse(data)
		if err != nil {
			t.Fatal(err)
		}
		return got.Issues
	}
	cs := read(ParseCodeScanning, "testdata/code-scanning/page1.json")
	zip, sqli := cs[0], cs[1]
	if zip.ToolName != "github-code-scanning" || zip.RuleId != "js/zipslip" || zip.Title != "Arbitrary file write during zip extraction" ||
		zip.Severity != v1.Severity_SEVERITY_HIGH || zip.Target != "spec-main/api-session-spec.ts:917" ||
		zip.Location.StartColumn != 7 || zip.Location.EndColumn != 18 || len(zip.Cwe) != 1 || zip.Cwe[0] != 22 ||
		zip.References[0] != "https://github.com/octocat/hello-world/code-scanning/4" || zip.Fingerprint != "github/code-scanning/4" ||
		zip.Annotations["github.tool"] != "CodeQL" || zip.Annotations["github.tool_version"] != "2.4.0" ||
		zip.Annotations["github.alert_number"] != "4" || zip.Annotations["github.classifications"] != "test" {
		t.Errorf("zipslip = %v", zip)
	}
	if sqli.Severity != v1.Severity_SEVERITY_CRITICAL || sqli.Cwe[0] != 89 {
		t.Errorf("sql injection = %v", sqli)
	}
	sg := read(ParseCodeScanning, "testdata/code-scanning/page2.json")[0]
	// No security level: the rule's SARIF level; CWE from a "CWE-89: ..." tag.
	if sg.Severity != v1.Severity_SEVERITY_MEDIUM || sg.Target != "pyapp/db.py:11-13" || len(sg.Cwe) != 1 || sg.Cwe[0] != 89 || sg.Annotations["github.tool"] != "Semgrep OSS" {
		t.Errorf("semgrep = %v", sg)
	}
	all := read(ParseCodeScanning, "testdata/code-scanning/gh-paginate-all-states.json")
	// Both arrays of the file are read; the fixed alert is not a finding.
	if len(all) != 3 || all[0].Annotations["suppressed"] != "true" ||
		all[0].Annotations["suppression_reason"] != "dismissed on GitHub: false positive: The input is validated by the router." ||
		all[2].Target != "https://github.com/octocat/hello-world/code-scanning/9" || all[2].Location != nil ||
		all[2].Title != "The repository has no security policy (SECURITY.md)." || all[2].Severity != v1.Severity_SEVERITY_LOW {
		t.Errorf("all states = %v", all)
	}

	db := read(ParseDependabot, "testdata/dependabot/page1.json")
	dj := db[0]
	if dj.ToolName != "github-dependabot" || dj.RuleId != "CVE-2018-6188" || dj.Cve != "CVE-2018-6188" || strings.Join(dj.Aliases, ",") != "GHSA-rf4j-j272-fj86" ||
		dj.PackageUrl != "pkg:pypi/django" || dj.PackageVersion != "" || dj.FixedVersion != "2.0.2" || dj.Target != "path/to/requirements.txt" ||
		dj.Location.Path != "path/to/requirements.txt" || dj.Cvss != 7.5 || dj.Severity != v1.Severity_SEVERITY_HIGH || dj.Cwe[0] != 200 ||
		dj.Annotations["vulnerable_versions"] != ">= 2.0.0, < 2.0.2" || dj.Annotations["epss"] != "0.00045" || dj.Annotations["epss_percentile"] != "0.16001" ||
		dj.Annotations["cvss_vector"] != "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N" || dj.References[0] != "https://github.com/octocat/hello-world/security/dependabot/2" {
		t.Errorf("django = %v", dj)
	}
	p2 := read(ParseDependabot, "testdata/dependabot/page2.json")
	for i, want := range []string{"pkg:npm/%40babel/traverse", "pkg:golang/golang.org/x/net", "pkg:maven/org.apache.logging.log4j/log4j-core"} {
		if p2[i].PackageUrl != want {
			t.Errorf("purl %d = %q, want %q", i, p2[i].PackageUrl, want)
		}
	}
	if p2[0].Severity != v1.Severity_SEVERITY_CRITICAL || strings.Join(p2[0].Tags, ",") != "npm,development,transitive" {
		t.Errorf("babel = %v", p2[0])
	}
	st := read(ParseDependabot, "testdata/dependabot/all-states.json")
	// No CVE: the GHSA is the rule; the fixed alert is gone; the
	// auto-dismissed one is suppressed.
	if len(st) != 2 || st[0].RuleId != "GHSA-xxx8-v4w2-6mx9" || st[0].Cve != "" || len(st[0].Aliases) != 0 || st[0].Severity != v1.Severity_SEVERITY_LOW ||
		st[0].Annotations["suppression_reason"] != "dismissed on GitHub: tolerable_risk: We do not parse untrusted XML." ||
		st[1].PackageUrl != "pkg:githubactions/tj-actions/changed-files" || st[1].Annotations["suppression_reason"] != "auto-dismissed by a Dependabot rule" {
		t.Errorf("all states = %v", st)
	}
}

func TestParseRejects(t *testing.T) {
	cs, _ := os.ReadFile("testdata/code-scanning/page1.json")
	db, _ := os.ReadFile("testdata/dependabot/page1.json")
	refusal, _ := os.ReadFile("testdata/code-scanning/no-analysis.json")
	for _, tc := range []struct {
		name  string
		parse producers.ParseFunc
		in    string
		want  string
	}{
		{"empty", ParseCodeScanning, " \n", "empty report"},
		{"truncated", ParseDependabot, string(db[:len(db)/2]), "byte"},
		{"GitHub's refusal saved as the report", ParseCodeScanning, string(refusal), `GitHub's refusal: "no analysis found"`},
		{"an object", ParseDependabot, `{"alerts": []}`, "not a list of alerts"},
		{"Dependabot alerts read as code scanning", ParseCodeScanning, string(db), "not a code scanning alert"},
		{"code scanning alerts read as Dependabot", ParseDependabot, string(cs), "not a Dependabot alert"},
		{"a number", ParseCodeScanning, `42`, "not a list of alerts"},
		{"an alert that is not an object", ParseCodeScanning, `["x"]`, "byte"},
		{"trailing garbage", ParseCodeScanning, `[] ]`, "byte"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.parse([]byte(tc.in))
			if err == nil {
				t.Fatalf("no error; %d issues", len(got.Issues))
			}
			var pe *producers.ParseError
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v: want a ParseError saying %q", err, tc.want)
			}
		})
	}
	for _, parse := range []producers.ParseFunc{ParseCodeScanning, ParseDependabot} {
		got, err := parse([]byte("[]\n"))
		if err != nil || len(got.Issues) != 0 {
			t.Errorf("no alerts: %v, %v", got, err)
		}
	}
}

func TestPackageURL(t *testing.T) {
	for _, tc := range []struct{ eco, name, want string }{
		{"npm", "@babel/traverse", "pkg:npm/%40babel/traverse"},
		{"npm", "lodash", "pkg:npm/lodash"},
		{"pip", "Django_Rest.framework", "pkg:pypi/django-rest-framework"},
		{"maven", "org.apache.logging.log4j:log4j-core", "pkg:maven/org.apache.logging.log4j/log4j-core"},
		{"go", "github.com/gorilla/websocket", "pkg:golang/github.com/gorilla/websocket"},
		{"go", "gopkg.in/yaml.v2", "pkg:golang/gopkg.in/yaml.v2"},
		{"rubygems", "nokogiri", "pkg:gem/nokogiri"},
		{"rust", "h2", "pkg:cargo/h2"},
		{"nuget", "Newtonsoft.Json", "pkg:nuget/Newtonsoft.Json"},
		{"composer", "symfony/http-kernel", "pkg:composer/symfony/http-kernel"},
		{"erlang", "Plug", "pkg:hex/plug"},
		{"pub", "http", "pkg:pub/http"},
		{"swift", "github.com/vapor/vapor", "pkg:swift/github.com/vapor/vapor"},
		{"actions", "actions/checkout", "pkg:githubactions/actions/checkout"},
		{"npm", "", ""},
	} {
		if got := PackageURL(tc.eco, tc.name); got != tc.want {
			t.Errorf("PackageURL(%q, %q) = %q, want %q", tc.eco, tc.name, got, tc.want)
		}
	}
}

func FuzzParseCodeScanning(f *testing.F) {
	producertest.Seed(f, nil, "testdata/code-scanning/*.json", "testdata/dependabot/*.json")
	f.Fuzz(func(t *testing.T, data []byte) { producertest.FuzzParse(t, ParseCodeScanning, data) })
}

func FuzzParseDependabot(f *testing.F) {
	producertest.Seed(f, nil, "testdata/dependabot/*.json", "testdata/code-scanning/*.json")
	f.Fuzz(func(t *testing.T, data []byte) { producertest.FuzzParse(t, ParseDependabot, data) })
}
