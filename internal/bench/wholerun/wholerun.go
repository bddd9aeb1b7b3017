// Package wholerun is the whole-run benchmark's setup, shared by its Go
// benchmark (for profiling) and cmd/wholerun (the real binary against
// Python's json.load).
package wholerun

import "fmt"

// Config is the dracon.yaml of the whole-run benchmark: import report
// with the SARIF producer, write dracon.sarif and summary.json, print no
// table, gate on nothing.
func Config(report string) string {
	return fmt.Sprintf(`version: 1
producers:
  sarif:
    paths: [%q]
gate:
  fail_on: none
consumers:
  stdout:
    format: none
`, report)
}
