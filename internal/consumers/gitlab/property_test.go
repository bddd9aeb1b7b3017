package gitlab

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/draconsec/dracon/internal/enrichers"
	"github.com/draconsec/dracon/internal/enrichers/identity"
	"github.com/draconsec/dracon/internal/enrichers/merge"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// gen makes findings from a stream of bytes: the property test feeds it
// random bytes, the fuzzer its own, so both explore the same space. When
// the bytes run out every choice is the first.
type gen struct {
	b []byte
	i int
}

func (g *gen) byte() byte {
	if g.i >= len(g.b) {
		return 0
	}
	g.i++
	return g.b[g.i-1]
}

func (g *gen) n(k int) int { return int(g.byte()) % k }

func (g *gen) pick(ss ...string) string { return ss[g.n(len(ss))] }

// text is a string of the kinds that break writers: empty, blank,
// unicode, invalid UTF-8, control characters, JSON-looking, long.
func (g *gen) text() string {
	switch g.n(12) {
	case 0:
		return ""
	case 1:
		return "   "
	case 2:
		return "naïve ✓ 日本語 \U0001F512"
	case 3:
		return "bad \xff\xfe utf-8"
	case 4:
		return "line1\nline2\ttab\x00nul\x1b[31m"
	case 5:
		return `{"url": null, "x": "\""}`
	case 6:
		return strings.Repeat("long ", 60+g.n(200)) // over name's 255
	case 7:
		return strings.Repeat("x", 7000+g.n(50)*40) // over solution's 7000
	case 8:
		return fmt.Sprintf("rule-%d", g.n(5))
	case 9:
		return "G10" + fmt.Sprint(g.n(10))
	case 10:
		return "<script>alert(1)</script> & ü"
	}
	return "plain"
}

var genTools = []string{"gosec", "bandit", "semgrep", "gitleaks", "trufflehog", "trivy", "grype", "osv-scanner",
	"checkov", "zap", "syft", "cyclonedx", "", "Weird Tool/2.0", "sarif"}

var genKinds = []string{KindSAST, KindSCA, KindIaC, KindSecrets, KindDAST, KindSBOM, KindGeneric, "", "bogus"}

func (g *gen) purl() string {
	return g.pick("", "pkg:npm/left-pad@1.0.0", "pkg:npm/%40babel/core@7.0.0", "pkg:deb/debian/libc6@2.28-10?arch=amd64&distro=debian-10",
		"pkg:golang/golang.org/x/net@v0.1.0", "pkg:maven/org.apache.logging.log4j/log4j-core@2.13.2", "pkg:", "pkg:/@",
		"pkg:apk/alpine/musl@1.2?distro=3.18", "not a purl", "pkg:pypi/django")
}

func (g *gen) id() string {
	return g.pick("", "CVE-2021-44228", "cve-2019-0001", "GHSA-jfh8-c2jp-5v3q", "GHSA-zzzz-zzzz-zzzz", "RHSA-2020:0111",
		"USN-4234-1", "ELSA-2020-0085", "GO-2023-1234", "PYSEC-2021-1", "MAL-2023-1", "CVE-1", "  ")
}

func (g *gen) url() string {
	return g.pick("", "https://example.com/a", "http://", "https://x y", "ftp://files.example", "javascript:alert(1)",
		"https://example.com/"+strings.Repeat("p", 300), "example.com", "HTTPS://EXAMPLE.COM")
}

func (g *gen) issue(tool string) *v1.Issue {
	is := &v1.Issue{
		ToolName:    tool,
		RuleId:      g.text(),
		Type:        g.pick("", "license", "SBOM", g.text()),
		Title:       g.text(),
		Description: g.text(),
		Severity:    v1.Severity(g.n(8)), // 6 and 7 are no severity Dracon knows
		Confidence:  v1.Confidence(g.n(7)),
		Target:      g.pick("", "main.go:12-14", "apt@1.8 in app:1 (debian 10.13)", "pkg:npm/x@1", "https://app.example/login?u=1", g.text()),
		PackageUrl:  g.purl(),
		Cve:         g.id(),
		Fingerprint: g.pick("", "sha256:"+fmt.Sprint(g.n(9)), "tool-fp"),
	}
	if g.n(3) > 0 {
		is.Location = &v1.Location{Path: g.pick("", "main.go", "dir/a b.py", "/abs/path.tf", `C:\win\x.cs`, "../up.js", "file:///x/y.go", g.text()),
			StartLine: int32(g.n(40)) - 5, EndLine: int32(g.n(40)) - 5, StartColumn: int32(g.n(9))}
	}
	if g.n(2) == 0 {
		is.PackageVersion = g.pick("", "1.0.0", g.text())
		is.FixedVersion = g.pick("", "2.0.0", g.text())
	}
	for k := g.n(4); k > 0; k-- {
		is.Aliases = append(is.Aliases, g.id())
		is.References = append(is.References, g.url())
		is.Cwe = append(is.Cwe, int32(g.n(300))-20)
		is.Tags = append(is.Tags, g.pick("os-pkgs", "lang-pkgs", "deb", "A03:2021 - Injection", "A1:2017", "secret", g.text()))
	}
	if g.n(2) == 0 {
		snippet := g.text()
		is.ContextSegment = &snippet
	}
	if g.n(2) == 0 {
		is.Annotations = map[string]string{
			g.pick("cvss_vector", "gitleaks.commit", "commit", "grype.namespace", "x.commit", "image"): g.pick("", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
				"AV:N/AC:L/Au:N/C:P/I:P/A:P", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", "debian:distro:debian:11", "deadbeef", g.text()),
		}
	}
	if g.n(6) == 0 {
		is.PackageUrl = ""
		bom := g.bom()
		is.CycloneDXSBOM = &bom
	}
	return is
}

// bom is a valid bill of materials of some spec version and format.
func (g *gen) bom() string {
	name := strings.ReplaceAll(g.pick("lib", "naïve", "x y", "@scope/pkg"), `"`, "")
	switch g.n(5) {
	case 0:
		return `<?xml version="1.0"?><bom xmlns="http://cyclonedx.org/schema/bom/1.3" version="1"><metadata><component type="container"><name>app</name></component></metadata><components><component type="library" bom-ref="a"><name>` +
			name + `</name><version>1</version><purl>pkg:npm/a@1</purl><licenses><license><id>MIT</id></license></licenses><components><component type="weird" bom-ref="a"><name>inner</name></component></components></component></components></bom>`
	case 1:
		return `{"bomFormat":"CycloneDX","specVersion":"1.4","version":1,"components":[{"type":"library","name":"` + name + `","version":"1.0","purl":"pkg:npm/a@1.0"}]}`
	case 2:
		return `{"bomFormat":"CycloneDX","specVersion":"1.6","serialNumber":"urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79","version":1,"metadata":{"timestamp":"2024-01-01T00:00:00Z","properties":[{"name":"gitlab:meta:schema_version","value":"1"}]},"components":[]}`
	case 3:
		return `{"bomFormat":"CycloneDX","specVersion":"1.2","serialNumber":"not-a-serial","version":1,"components":[{"type":"library","name":"` + name + `"}],"vulnerabilities":[]}`
	}
	return `{"bomFormat":"CycloneDX","specVersion":"1.7","version":1,"metadata":{"tools":{"components":[{"type":"application","name":"syft","version":"1.57.0"}]}},"components":[{"type":"library","name":"` + name + `","bom-ref":"x"}]}`
}

// scenario is a random scan: responses of random tools, enriched as the
// pipeline does, then flags a triager or the merge would set.
func (g *gen) scenario(t testing.TB) (Consumer, []*v1.EnrichedLaunchToolResponse) {
	var launches []*v1.LaunchToolResponse
	var producers []ProducerStatus
	for k := g.n(5); k >= 0; k-- {
		tool := g.pick(genTools...)
		l := &v1.LaunchToolResponse{ToolName: tool, ToolVersion: g.pick("", "1.2.3", g.text())}
		for m := g.n(6); m > 0; m-- {
			issueTool := tool
			if g.n(4) == 0 {
				issueTool = g.pick(genTools...) // a SARIF import names its driver
			}
			l.Issues = append(l.Issues, g.issue(issueTool))
		}
		launches = append(launches, l)
		ps := ProducerStatus{Name: tool, Kind: g.pick(genKinds...), Status: g.pick("ok", "failed", "skipped", ""),
			Version: g.pick("", "v1", g.text()), Reason: g.text(), Image: g.pick("", "", "registry.example/app:1", g.text())}
		if g.n(2) == 0 {
			ps.Start, ps.End = t0.Add(time.Duration(g.n(100))*time.Second), t0.Add(time.Duration(g.n(100))*time.Second)
		}
		producers = append(producers, ps)
	}
	var results []*v1.EnrichedLaunchToolResponse
	for _, l := range launches {
		results = append(results, enrichers.Wrap(l))
	}
	if err := enrichers.Run(context.Background(), testScan(), results, identity.Enricher{}, merge.Enricher{}); err != nil {
		t.Fatal(err)
	}
	var hashes []string
	for _, r := range results {
		for _, ei := range r.Issues {
			hashes = append(hashes, ei.Hash)
		}
	}
	for _, r := range results {
		for _, ei := range r.Issues {
			switch g.n(6) {
			case 0:
				ei.Suppressed, ei.Status = true, "false_positive"
			case 1:
				if len(hashes) > 0 {
					ei.DuplicateOf = hashes[g.n(len(hashes))]
				}
			case 2:
				ei.SeenBy = []string{g.pick(genTools...), g.pick(genTools...)}
			case 3:
				ei.Hash = "" // a stage that ran without identity
			}
		}
	}
	c := Consumer{Producers: producers, Version: g.pick("", "1.0.0"), Commit: g.pick("", "abc123")}
	if g.n(3) == 0 {
		c.Reports = AllReports
	}
	return c, results
}

// checkScenario writes a scenario's reports and validates every file.
func checkScenario(t *testing.T, data []byte) {
	g := &gen{b: data}
	c, results := g.scenario(t)
	c.Dir = t.TempDir()
	written, err := c.Write(context.Background(), testScan(), results)
	if err != nil {
		t.Fatalf("write: %v", err)
	}
	if len(written) == 0 {
		t.Fatal("nothing written; Code Quality is always")
	}
	for _, w := range written {
		b, err := os.ReadFile(w.Path)
		if err != nil {
			t.Fatal(err)
		}
		validate(t, filepath.Base(w.Path), b)
	}
}

// TestPropertySchemaValid: any set of findings, however odd its fields,
// gives reports that validate against GitLab's schemas (and Code
// Quality's documented fields, CycloneDX's schema).
func TestPropertySchemaValid(t *testing.T) {
	runs := 400
	if testing.Short() {
		runs = 60
	}
	for seed := 0; seed < runs; seed++ {
		r := rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15))
		data := make([]byte, 64+r.IntN(2048))
		for i := range data {
			data[i] = byte(r.UintN(256))
		}
		t.Run(fmt.Sprint(seed), func(t *testing.T) { checkScenario(t, data) })
		if t.Failed() {
			return
		}
	}
}

// FuzzReports explores the same space from the fuzzer's bytes:
// go test -fuzz FuzzReports ./internal/consumers/gitlab.
func FuzzReports(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("\x03\x01\x02\x05\x07\x00\x09\x0b\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b"))
	f.Add([]byte(strings.Repeat("\xff\x10\x7f\x03", 64)))
	f.Fuzz(func(t *testing.T, data []byte) { checkScenario(t, data) })
}
