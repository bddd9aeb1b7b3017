// Command synth writes a large synthetic scanner report, for benchmarks
// and for comparing whole commands (dracon parse against other tools):
//
//	go run ./internal/bench/cmd/synth -kind sarif -n 100000 > big.sarif
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/draconsec/dracon/internal/bench/synth"
)

func main() {
	kind := flag.String("kind", "sarif", "report to write: sarif or gosec")
	n := flag.Int("n", 100_000, "number of findings")
	flag.Parse()
	var data []byte
	switch *kind {
	case "sarif":
		data = synth.SARIF(*n)
	case "gosec":
		data = synth.Gosec(*n)
	default:
		fmt.Fprintf(os.Stderr, "synth: unknown kind %q (sarif, gosec)\n", *kind)
		os.Exit(2)
	}
	if _, err := os.Stdout.Write(data); err != nil {
		fmt.Fprintln(os.Stderr, "synth:", err)
		os.Exit(1)
	}
}
