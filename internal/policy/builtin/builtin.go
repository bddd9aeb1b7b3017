// Package builtin holds Dracon's default policies, which the policy engine
// loads as "builtin:default":
//
//   - dracon.builtin.pull_request: a pull request may not bring in a new
//     high or critical finding;
//   - dracon.builtin.branch: pushes, scheduled and local runs warn about new
//     high or critical findings and open critical ones, and never fail;
//   - dracon.builtin.release: a release or a tag may not ship with an open
//     critical finding, a high one older than its owners' SLA
//     (data.dracon.sla), or one whose CVE is known to be exploited (the
//     exploits enricher's annotation known_exploited "true", from CISA's
//     KEV catalogue), whatever its severity;
//   - dracon.builtin.secrets: a secret fails the scan, whatever the event;
//   - dracon.builtin.exceptions: the exceptions (data.dracon.exceptions) that
//     exempt findings from those denies, and the warnings about expired or
//     invalid ones;
//   - dracon.builtin.lib: helpers the others share.
//
// Each is a run-level package (docs/policy-input.schema.json, $defs/run),
// in Rego v1. The *_test.rego files are their tests ("opa test", or
// "dracon policy test builtin:default"), embedded too but no policy.
package builtin

import (
	"embed"
	"io/fs"
	"sort"
	"strings"
)

// Name is how a configuration and the decision name these policies.
const Name = "builtin:default"

// FS holds the policies and their tests, at its root.
//
//go:embed *.rego
var FS embed.FS

// Files lists the policy files in FS, sorted, tests left out.
func Files() []string {
	entries, err := fs.ReadDir(FS, ".")
	if err != nil {
		panic(err) // the embedded root cannot fail to read
	}
	var names []string
	for _, e := range entries {
		if n := e.Name(); !e.IsDir() && IsPolicy(n) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

// IsPolicy reports whether a file name is a policy: a .rego file that is no
// test.
func IsPolicy(name string) bool {
	return strings.HasSuffix(name, ".rego") && !strings.HasSuffix(name, "_test.rego")
}
