package ignore

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

func finding(tool, rule, path string, line int32) *v1.EnrichedIssue {
	return &v1.EnrichedIssue{RawIssue: &v1.Issue{ToolName: tool, RuleId: rule, Title: rule, Severity: v1.Severity_SEVERITY_HIGH,
		Location: &v1.Location{Path: path, StartLine: line}}}
}

// TestEnrich runs the enricher over testdata/src, whose ignore file and
// inline comments cover each way a finding is suppressed, and each way a
// suppression does not apply.
func TestEnrich(t *testing.T) {
	lodash := finding("npm-audit", "GHSA-35jh-r3h4-6jhm", "package-lock.json", 0)
	lodash.RawIssue.PackageUrl, lodash.RawIssue.Cve = "pkg:npm/lodash@4.17.20", "CVE-2021-23337"
	preSuppressed := finding("semgrep", "x", "goapp/main.go", 9)
	preSuppressed.Suppressed, preSuppressed.SuppressionReason = true, "nosemgrep"
	issues := []*v1.EnrichedIssue{
		finding("gosec", "G104", "goapp/main.go", 9),  // 0: by rule and tool
		finding("gosec", "G501", "goapp/main.go", 3),  // 1: inline, same line
		finding("gosec", "G401", "goapp/main.go", 7),  // 2: inline, line above
		finding("gosec", "G204", "goapp/main.go", 9),  // 3: inline without a reason: not applied
		finding("bandit", "B602", "pyapp/app.py", 3),  // 4: inline, '#'
		finding("bandit", "B105", "pyapp/app.py", 4),  // 5: inline '*'
		finding("bandit", "B101", "pyapp/app.py", 6),  // 6: the marker is in a string, not a comment
		finding("bandit", "B301", "legacy/old.py", 2), // 7: by path glob, not yet expired
		finding("bandit", "B303", "pyapp/app.py", 3),  // 8: its entry expired
		lodash,        // 9: by package and CVE
		preSuppressed, // 10: the tool's own suppression stands
		finding("gosec", "G401", "goapp/other.go", 7), // 11: nothing applies
	}
	var notices []string
	e := Enricher{Source: "testdata/src", Now: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), Notice: func(m string) { notices = append(notices, m) }}
	results := []*v1.EnrichedLaunchToolResponse{{Issues: issues}}
	if err := e.Enrich(context.Background(), nil, results); err != nil {
		t.Fatal(err)
	}
	want := map[int]string{
		0:  ".dracon-ignore.yaml:3: errors of these writes are checked by the caller",
		1:  "dracon:ignore at goapp/main.go:3: md5 is used for cache keys, not security",
		2:  "dracon:ignore at goapp/main.go:6: cache key only",
		4:  "dracon:ignore at pyapp/app.py:3: cmd is a constant from settings",
		5:  "dracon:ignore at pyapp/app.py:4: test fixture",
		7:  ".dracon-ignore.yaml:6: legacy code, replaced in Q3",
		9:  ".dracon-ignore.yaml:9: template() is never called with user input",
		10: "nosemgrep",
	}
	for i, is := range issues {
		w, sup := want[i]
		if is.Suppressed != sup || is.SuppressionReason != w {
			t.Errorf("%d (%s %s): suppressed=%v %q, want %v %q", i, is.RawIssue.ToolName, is.RawIssue.RuleId, is.Suppressed, is.SuppressionReason, sup, w)
		}
	}
	all := strings.Join(notices, "\n")
	for _, n := range []string{
		".dracon-ignore.yaml:12: the suppression (an old exception) expired on 2026-01-31 and no longer applies",
		"dracon:ignore at goapp/main.go:9 gives no reason; it is not applied",
		".dracon-ignore.yaml:15: the suppression (a finding that no longer exists) matched no finding",
	} {
		if !strings.Contains(all, n) {
			t.Errorf("notices lack %q:\n%s", n, all)
		}
	}
}

func TestFingerprint(t *testing.T) {
	is := finding("gosec", "G101", "a.go", 1)
	is.Hash = "0123abcd"
	f := &File{Ignore: []Entry{{Fingerprint: "0123abcd", Reason: "triaged"}}}
	if err := (Enricher{File: f}).Enrich(context.Background(), nil, []*v1.EnrichedLaunchToolResponse{{Issues: []*v1.EnrichedIssue{is}}}); err != nil {
		t.Fatal(err)
	}
	if !is.Suppressed {
		t.Error("not suppressed by fingerprint")
	}
}

func TestLoadErrors(t *testing.T) {
	for name, tc := range map[string]struct{ yaml, want string }{
		"unknown key":  {"ignore:\n  - rule: G104\n    reson: typo\n", "field reson not found"},
		"no reason":    {"ignore:\n  - rule: G104\n", ":2: ignore[0]: needs a reason"},
		"no matcher":   {"ignore:\n  - reason: why\n", "needs at least one of"},
		"bad date":     {"ignore:\n  - rule: G1\n    reason: r\n    expires: next week\n", `"next week" is not a date`},
		"bad glob":     {"ignore:\n  - path: ../x\n    reason: r\n", "cannot leave the source folder"},
		"version":      {"version: 2\n", "version 2 is not supported"},
		"not a list":   {"ignore: yes\n", "cannot unmarshal"},
		"second entry": {"ignore:\n  - rule: a\n    reason: r\n  - rule: b\n", ":4: ignore[1]: needs a reason"},
	} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), FileName)
			if err := os.WriteFile(p, []byte(tc.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Load(p)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) {
				t.Fatalf("err = %v, want %q with the file name", err, tc.want)
			}
		})
	}
	if f, err := Load(filepath.Join(t.TempDir(), "missing.yaml")); err != nil || len(f.Ignore) != 0 {
		t.Errorf("missing file: %v %v", f, err)
	}
	empty := filepath.Join(t.TempDir(), FileName)
	os.WriteFile(empty, nil, 0o644)
	if f, err := Load(empty); err != nil || len(f.Ignore) != 0 {
		t.Errorf("empty file: %v %v", f, err)
	}
}

func TestComment(t *testing.T) {
	for line, want := range map[string][3]string{
		`x := 1 // dracon:ignore G101 test key`:        {"G101", "test key", "true"},
		`# dracon:ignore B602 constant`:                {"B602", "constant", "true"},
		`<!-- dracon:ignore xss trusted template -->`:  {"xss", "trusted template", "true"},
		`/* dracon:ignore G104 logged */`:              {"G104", "logged", "true"},
		`SELECT 1; -- dracon:ignore sqli static query`: {"sqli", "static query", "true"},
		`print("dracon:ignore B101 in a string")`:      {"", "", "false"},
		`// dracon:ignore`:                             {"", "", "false"},
		`// dracon:ignore G101`:                        {"G101", "", "true"},
	} {
		r, why, ok := Comment(line)
		if r != want[0] || why != want[1] || (ok && want[2] != "true") || (!ok && want[2] != "false") {
			t.Errorf("Comment(%q) = %q %q %v, want %v", line, r, why, ok, want)
		}
	}
}

func FuzzLoad(f *testing.F) {
	data, _ := os.ReadFile("testdata/src/" + FileName)
	f.Add(data)
	f.Add([]byte("ignore:\n  - rule: a\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(t.TempDir(), FileName)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := Load(p)
		if err == nil && f == nil {
			t.Fatal("nil file without an error")
		}
	})
}
