// Package fakelib stands in for a vulnerable dependency: the test
// databases say Parse, in v1.0.0, is vulnerable (GO-2099-0101). It is
// vendored, so the scanners run without a network.
package fakelib

// Parse is the vulnerable function.
func Parse(s string) int { return len(s) }

// Safe is not vulnerable.
func Safe(s string) int { return len(s) + 1 }
