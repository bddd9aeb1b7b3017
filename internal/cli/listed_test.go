package cli

import (
	"fmt"
	"strings"
	"testing"
)

func TestPrintListedCapsEachList(t *testing.T) {
	many := func(n int, what string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("%s %d", what, i)
		}
		return out
	}
	for _, tc := range []struct {
		name              string
		reasons, warnings int
		want              []string // lines that must be there
		lines             int
	}{
		{"few", 2, 3, []string{"  - reason 1\n", "  ~ warning: warning 2\n"}, 5},
		{"exactly the cap", maxListed, 0, []string{fmt.Sprintf("  - reason %d\n", maxListed-1)}, maxListed},
		{"many warnings", 1, 10_000, []string{"  - reason 0\n", fmt.Sprintf("  ~ warning: warning %d\n", maxListed-1),
			fmt.Sprintf("  ~ … and %d more warnings (out/summary.json lists every one)\n", 10_000-maxListed)}, 1 + maxListed + 1},
		{"many reasons", 50, 0, []string{"  - … and 30 more reasons (out/summary.json lists every one)\n"}, maxListed + 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			printListed(&b, many(tc.reasons, "reason"), many(tc.warnings, "warning"), "out/summary.json lists every one")
			out := b.String()
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("missing %q in:\n%s", w, out)
				}
			}
			if n := strings.Count(out, "\n"); n != tc.lines {
				t.Errorf("%d lines, want %d:\n%s", n, tc.lines, out)
			}
			if strings.Contains(out, fmt.Sprintf("warning %d\n", maxListed)) {
				t.Errorf("printed a warning past the first %d", maxListed)
			}
		})
	}
}
