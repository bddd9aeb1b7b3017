package pathglob

import (
	"strings"
	"testing"
)

func TestMatch(t *testing.T) {
	for _, tc := range []struct {
		glob, path string
		want       bool
	}{
		{"legacy/**", "legacy/a.js", true},
		{"legacy/**", "legacy/a/b/c.js", true},
		{"legacy", "legacy/a/b/c.js", true}, // a folder covers what it holds
		{"legacy/**", "src/legacy/a.js", false},
		{"**/legacy/**", "src/legacy/a.js", true},
		{"**/*.min.js", "a/b/c.min.js", true},
		{"**/*.min.js", "c.min.js", true},
		{"*.js", "a/b.js", false}, // "*" stays within a segment: top-level files only
		{"static/*.js", "static/a.js", true},
		{"static/*.js", "static/sub/a.js", false},
		{"static/app/**", "static/app.js", false},
		{"static/[ab].js", "static/a.js", true},
		{"a/**/z.go", "a/z.go", true},
		{"a/**/z.go", "a/b/c/z.go", true},
	} {
		if got := Match(tc.glob, tc.path); got != tc.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tc.glob, tc.path, got, tc.want)
		}
	}
}

func TestValid(t *testing.T) {
	for _, g := range []string{"static/app/**", "**/*.min.js", "legacy", "a/[bc]/d"} {
		if err := Valid(g); err != nil {
			t.Errorf("%q: %v", g, err)
		}
	}
	for g, want := range map[string]string{
		"":         "empty",
		"/abs/**":  "relative",
		"../up/**": "cannot leave",
		"a/[b":     "not a valid glob",
	} {
		err := Valid(g)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want an error saying %q", g, err, want)
		}
	}
}
