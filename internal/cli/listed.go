package cli

import (
	"fmt"
	"io"

	"github.com/draconsec/dracon/internal/summary"
)

// maxListed is how many reasons, and how many warnings, a verdict prints
// in the log. Under the built-in branch policy a scan of 100,000 findings
// warns about each open critical one: ten thousand lines would bury the
// verdict and the CI log. The rest are counted, and where says where
// every one of them is.
const maxListed = 20

// printListed writes a verdict's reasons and warnings, at most maxListed
// of each.
func printListed(w io.Writer, reasons, warnings []string, where string) {
	list := func(mark, label, noun string, items []string) {
		for i, x := range items {
			if i == maxListed {
				fmt.Fprintf(w, "  %s … and %d more %s (%s)\n", mark, len(items)-maxListed, noun, where)
				return
			}
			fmt.Fprintf(w, "  %s %s%s\n", mark, label, x)
		}
	}
	list("-", "", "reasons", reasons)
	list("~", "warning: ", "warnings", warnings)
}

// listedIn says where a run's every reason and warning is: the
// summary.json it wrote.
func listedIn(s *summary.Summary) string {
	if p, ok := s.Outputs["summary"]; ok {
		return p + " lists every one"
	}
	return "summary.json lists every one"
}
