package pipeline

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/draconsec/dracon/internal/enrichers/registry"
	"github.com/draconsec/dracon/internal/producers/gitleaks"
	"github.com/draconsec/dracon/internal/producers/gosec"
	"github.com/draconsec/dracon/internal/producers/producertest"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// A small Go service as a user would have it: a hard-coded AWS key that
// gosec (G101) and gitleaks both report, a weak hash with an inline
// suppression, unchecked errors an ignore file suppresses, and CODEOWNERS.
var enrichTree = map[string]string{
	"go.mod": "module example.com/keys\n\ngo 1.22\n",
	"keys.go": `package main

import (
	"crypto/md5" // dracon:ignore G501 md5 keys a cache, it protects nothing
	"fmt"
	"os"
)

const awsSecretKey = "AKIAQ2DRACONDEMOFAKE"

func main() {
	h := md5.Sum([]byte(os.Args[1])) // dracon:ignore G401 cache key only
	fmt.Println(h, awsSecretKey)
	os.WriteFile("/tmp/x", nil, 0o644)
}
`,
	".dracon-ignore.yaml": "version: 1\nignore:\n  - rule: G104\n    tool: gosec\n    reason: the demo ignores write errors\n",
	".github/CODEOWNERS":  "* @acme/platform\n*.go @acme/go-team\n",
}

func writeTree(t *testing.T, files map[string]string) string {
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

// TestEnrichersInARun runs the real gosec and gitleaks and checks what
// the enricher chain adds: one finding for the key both tools report,
// suppressions from the ignore file and from inline comments, and owners.
func TestEnrichersInARun(t *testing.T) {
	producertest.RequireTool(t, gosec.Producer)
	producertest.RequireTool(t, gitleaks.Producer)
	src := writeTree(t, enrichTree)
	c := testConfig(t, "version: 1\nproducers:\n  gosec: {}\n  gitleaks: {}\n")
	res, _, log := runLog(t, c, src)

	byRule := map[string]*v1.EnrichedIssue{}
	for _, r := range res.Results {
		for _, is := range r.Issues {
			byRule[is.RawIssue.ToolName+" "+is.RawIssue.RuleId] = is
		}
	}
	key, g101 := byRule["gitleaks aws-access-token"], byRule["gosec G101"]
	if key == nil || g101 == nil {
		t.Fatalf("the key was not reported by both tools: %v", keys(byRule))
	}
	if g101.DuplicateOf != key.Hash || strings.Join(key.SeenBy, ",") != "gitleaks,gosec" {
		t.Errorf("not merged: gosec duplicate_of %q, gitleaks hash %q seen_by %v", g101.DuplicateOf, key.Hash, key.SeenBy)
	}
	for rule, reason := range map[string]string{
		"gosec G501": "dracon:ignore at keys.go:4: md5 keys a cache, it protects nothing",
		"gosec G401": "dracon:ignore at keys.go:12: cache key only",
		"gosec G104": ".dracon-ignore.yaml:3: the demo ignores write errors",
	} {
		is := byRule[rule]
		if is == nil || !is.Suppressed || is.SuppressionReason != reason {
			t.Errorf("%s: %v, want suppressed: %s", rule, is, reason)
		}
	}
	for name, is := range byRule {
		if is.Annotations["Owner-0"] != "@acme/go-team" {
			t.Errorf("%s: owners %v", name, is.Annotations)
		}
	}
	counts := res.Summary.Counts
	if counts.Merged != 1 || counts.Suppressed != 3 || counts.Total != len(byRule)-1 {
		t.Errorf("counts = %+v for %d reports", counts, len(byRule))
	}
	if strings.Contains(log, "matched no finding") {
		t.Errorf("log: %s", log)
	}
}

// TestEveryEnricherCanBeTurnedOff: each registry entry has its switch in
// dracon.yaml (and so in the JSON Schema, which the config tests check).
func TestEveryEnricherCanBeTurnedOff(t *testing.T) {
	def := testConfig(t, "version: 1\n") // depsdev is off unless enabled
	for _, e := range registry.All() {
		if e.Always {
			continue
		}
		c := testConfig(t, "version: 1\nenrichers:\n  "+e.Name+":\n    enabled: false\n")
		if c.Enrichers.On(e.Name) {
			t.Errorf("enrichers.%s.enabled: false leaves it on", e.Name)
		}
		for _, o := range registry.All() {
			if o.Name != e.Name && c.Enrichers.On(o.Name) != def.Enrichers.On(o.Name) {
				t.Errorf("turning %s off turned %s off", e.Name, o.Name)
			}
		}
	}
}

func keys(m map[string]*v1.EnrichedIssue) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestTeamThreshold: the go team fails on medium; the default would pass.
func TestTeamThreshold(t *testing.T) {
	producertest.RequireTool(t, gosec.Producer)
	src := writeTree(t, enrichTree)
	c := testConfig(t, "version: 1\nproducers:\n  gosec: {}\ngate:\n  fail_on: critical\n  teams:\n    \"@acme/go-team\":\n      fail_on: medium\n")
	res, _ := run(t, c, src)
	if res.Summary.Verdict != "failed" || len(res.Summary.Reasons) != 1 || !strings.Contains(res.Summary.Reasons[0], "owned by @acme/go-team at or above MEDIUM") {
		t.Errorf("verdict %s, reasons %v", res.Summary.Verdict, res.Summary.Reasons)
	}
	c = testConfig(t, "version: 1\nproducers:\n  gosec: {}\ngate:\n  fail_on: critical\n  teams:\n    \"@acme/go-team\":\n      fail_on: none\n")
	if res, _ := run(t, c, src); res.Summary.Verdict != "passed" {
		t.Errorf("a team that never fails: %s %v", res.Summary.Verdict, res.Summary.Reasons)
	}
}
