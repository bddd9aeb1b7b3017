// Command app calls a vulnerable function of example.com/vulnlib, which is
// vendored so that govulncheck runs without a network. It imports little
// of the standard library, so govulncheck's analysis stays quick.
package main

import "example.com/vulnlib"

func main() {
	println(vulnlib.Run([]string{"a", "b"}))
}
