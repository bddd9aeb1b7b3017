// Command caller reaches the vulnerable fakelib.Parse through a package of
// its own, so the call path has a frame in the scanned code.
package main

import "example.com/caller/internal/load"

func main() {
	println(load.Config("x"))
}
