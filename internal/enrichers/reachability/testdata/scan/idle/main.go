// Command idle imports the vulnerable package but calls only its safe
// function. Its tools folder is a module of its own that does call the
// vulnerable one: Dracon's govulncheck, at the root, does not analyse it.
package main

import "example.com/fakelib"

func main() {
	println(fakelib.Safe("x"))
}
