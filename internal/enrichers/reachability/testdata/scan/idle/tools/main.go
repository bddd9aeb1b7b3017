// Command tools calls the vulnerable function.
package main

import "example.com/fakelib"

func main() {
	println(fakelib.Parse("x"))
}
