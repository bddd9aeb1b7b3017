// Package load calls the vulnerable function.
package load

import "example.com/fakelib"

// Config parses s with the vulnerable function.
func Config(s string) int {
	return fakelib.Parse(s)
}
