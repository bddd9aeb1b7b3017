// Command goapp is the source the golden SARIF's findings point into: the
// writer reads their lines for code scanning's primaryLocationLineHash.
package main

import (
	"fmt"
	"os"
	"os/exec"
)

func main() {
	f, _ := os.Open("config.yaml")
	defer f.Close()
	name := "ls"
	if len(os.Args) > 1 {
		name = os.Args[1]
	}
	fmt.Println("running", name)
	cmd := exec.Command(name) // user input reaches the command
	out, _ := cmd.Output()
	fmt.Print(string(out))
}
