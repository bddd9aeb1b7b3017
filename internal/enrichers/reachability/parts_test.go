package reachability

import (
	"strings"
	"testing"
	"unicode/utf8"

	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

func TestGoModule(t *testing.T) {
	for _, tc := range []struct {
		purl, mod, version string
		ok                 bool
	}{
		{"pkg:golang/golang.org/x/text@v0.3.0", "golang.org/x/text", "0.3.0", true},
		// osv-scanner writes Go versions without the "v".
		{"pkg:golang/golang.org/x/text@0.3.0", "golang.org/x/text", "0.3.0", true},
		// grype and trivy escape "+"; govulncheck does not.
		{"pkg:golang/github.com/golang-jwt/jwt@v3.2.2%2Bincompatible", "github.com/golang-jwt/jwt", "3.2.2+incompatible", true},
		{"pkg:golang/github.com/golang-jwt/jwt@v3.2.2+incompatible", "github.com/golang-jwt/jwt", "3.2.2+incompatible", true},
		{"pkg:golang/github.com/jackc/pgx/v5@v5.5.5?type=module#pgconn", "github.com/jackc/pgx/v5", "5.5.5", true},
		{"PKG:GOLANG/stdlib@v1.24.4", "stdlib", "1.24.4", true},
		{"pkg:golang/example.com/x", "example.com/x", "", true},
		{"pkg:golang/", "", "", false},
		{"pkg:npm/lodash@4.17.20", "", "", false},
		{"pkg:golangx/a@1", "", "", false},
		{"", "", "", false},
	} {
		mod, v, ok := goModule(tc.purl)
		if mod != tc.mod || v != tc.version || ok != tc.ok {
			t.Errorf("goModule(%q) = %q, %q, %v; want %q, %q, %v", tc.purl, mod, v, ok, tc.mod, tc.version, tc.ok)
		}
	}
}

func TestManifestDir(t *testing.T) {
	for _, tc := range []struct {
		path, dir string
		ok        bool
	}{
		{"", ".", true}, // a tool that names no manifest read the root's
		{"go.mod", ".", true},
		{"./go.sum", ".", true},
		{"/go.mod", ".", true},                   // grype's root-based path
		{"/src/app/tools/go.mod", "tools", true}, // an absolute path under the scanned folder
		{"/tools/go.mod", "tools", true},
		{"file:///src/app/go.mod", ".", true},
		{"vendor/modules.txt", ".", true},
		{"svc/vendor/modules.txt", "svc", true},
		{"go.work", ".", true},
		{"svc/api/go.mod", "svc/api", true},
		{"modules.txt", "", false}, // not vendor's
		{"bin/api", "", false},     // a Go binary trivy read
		{"main.go", "", false},
	} {
		dir, ok := manifestDir(tc.path, "/src/app")
		if dir != tc.dir || ok != tc.ok {
			t.Errorf("manifestDir(%q) = %q, %v; want %q, %v", tc.path, dir, ok, tc.dir, tc.ok)
		}
	}
}

func TestVulnIDs(t *testing.T) {
	is := &v1.Issue{RuleId: "GHSA-fake-lib0-pars", Cve: "CVE-2099-0101", Aliases: []string{"cve-2099-0101", "GO-2099-0101", "PYSEC-2099-1", " GHSA-fake-lib0-pars "}}
	if got := strings.Join(vulnIDs(is), ","); got != "GHSA-FAKE-LIB0-PARS,CVE-2099-0101,GO-2099-0101" {
		t.Errorf("vulnIDs = %s", got)
	}
	for id, want := range map[string]bool{
		"SNYK-GOLANG-GITHUBCOMGINGONICGIN-1041736": true,
		"sonatype-2021-4899":                       true,
		"license:MIT":                              false,
		"component":                                false,
		"SBOM":                                     false,
		"go-mod-tidy":                              false, // no digit: a rule, not an advisory
	} {
		if got := looksLikeAdvisory(id); got != want {
			t.Errorf("looksLikeAdvisory(%q) = %v", id, got)
		}
	}
}

func TestCallPathsFromDescription(t *testing.T) {
	is := &v1.Issue{Description: "Details.\n\nFound in x@v1; fixed in v2.\n\nThe code calls the vulnerable code:\n" +
		"- example.com/x.Run called from example.com/app.main at main.go:9\n" +
		"- example.com/x.T.Do called from example.com/app.serve at cmd/at home/at.go:3\n" +
		"- example.com/x.Bare\n" +
		"- example.com/x.Run called from example.com/app.main at main.go:9\n" +
		"\nA later paragraph."}
	got := strings.Join(callPaths(is), "\n")
	want := "example.com/app.main (main.go:9) -> example.com/x.Run\n" +
		"example.com/app.serve (cmd/at home/at.go:3) -> example.com/x.T.Do\n" + // the last " at " is the position's
		"example.com/x.Bare"
	if got != want {
		t.Errorf("callPaths:\n%s\nwant:\n%s", got, want)
	}
	// The annotation wins over the description.
	is.Annotations = map[string]string{TraceAnnotation: "a (a.go:1) -> b -> c\n\na (a.go:1) -> b -> c\n"}
	if got := strings.Join(callPaths(is), "|"); got != "a (a.go:1) -> b -> c" {
		t.Errorf("from the annotation: %q", got)
	}
	if p := callPaths(&v1.Issue{Description: "The module is required."}); p != nil {
		t.Errorf("no calls: %q", p)
	}
}

func TestCutEvidence(t *testing.T) {
	frames := make([]string, 19)
	for i := range frames {
		frames[i] = "p.F" + string(rune('a'+i))
	}
	long := strings.Join(frames, " -> ")
	got := cutEvidence([]string{long}, 1000)
	if want := "p.Fa -> p.Fb -> p.Fc -> … 14 frames … -> p.Fr -> p.Fs"; got != want {
		t.Errorf("long path = %q, want %q", got, want)
	}
	// Six frames are shown whole: cutting one would not save anything.
	six := strings.Join(frames[:6], " -> ")
	if got := cutEvidence([]string{six}, 1000); got != six {
		t.Errorf("six frames = %q", got)
	}

	// Paths beyond the cap are counted, and the count fits.
	path := strings.Repeat("x", 90)
	var paths []string
	for i := 0; i < 10; i++ {
		paths = append(paths, path+string(rune('0'+i)))
	}
	got = cutEvidence(paths, 200)
	if utf8.RuneCountInString(got) > 200 || !strings.HasSuffix(got, "\n(+9 more call paths)") || !strings.HasPrefix(got, paths[0]) {
		t.Errorf("ten paths in 200 = %q", got)
	}
	got = cutEvidence(paths[:2], 200)
	if got != paths[0]+"\n"+paths[1] {
		t.Errorf("two paths in 200 = %q", got)
	}
	got = cutEvidence(paths[:3], 200)
	if got != paths[0]+"\n(+2 more call paths)" {
		t.Errorf("three paths in 200 = %q", got)
	}

	// One path longer than the cap is cut, in runes, and marked.
	wide := strings.Repeat("é", 300)
	got = cutEvidence([]string{wide, "second"}, 200)
	if utf8.RuneCountInString(got) != 200 || !strings.Contains(got, "…\n(+1 more call path)") || !utf8.ValidString(got) {
		t.Errorf("wide path = %q (%d runes)", got, utf8.RuneCountInString(got))
	}
	if cutEvidence(nil, 200) != "" {
		t.Error("no paths, some evidence")
	}
	// No cap given: the default.
	if got := cutEvidence([]string{strings.Repeat("y", 5000)}, 0); utf8.RuneCountInString(got) != 1000 {
		t.Errorf("default cap: %d runes", utf8.RuneCountInString(got))
	}
}
