package pipeline

import (
	"os"
	"path/filepath"
	"testing"
)

// TestRelative: a report written in another checkout (a CI runner's
// workspace, a Windows machine, a SARIF file:// URI) names the same file
// as one written here.
func TestRelative(t *testing.T) {
	src := t.TempDir()
	for _, f := range []string{"goapp/main.go", "main.go"} {
		os.MkdirAll(filepath.Join(src, filepath.Dir(f)), 0o755)
		os.WriteFile(filepath.Join(src, f), []byte("package main\n"), 0o644)
	}
	for in, want := range map[string]string{
		filepath.Join(src, "goapp", "main.go"):    "goapp/main.go",
		"/home/runner/work/app/app/goapp/main.go": "goapp/main.go",
		"/builds/acme/app/goapp/main.go":          "goapp/main.go",
		"/goapp/main.go":                          "goapp/main.go",
		`C:\src\app\goapp\main.go`:                "goapp/main.go",
		"/C:/src/app/goapp/main.go":               "goapp/main.go",
		"/home/runner/work/app/app/main.go":       "main.go",
		"./goapp/main.go":                         "goapp/main.go",
		"/opt/elsewhere/not-here.go":              "/opt/elsewhere/not-here.go", // nothing here by that name: kept
		"https://example.com/a":                   "https://example.com/a",
		"pkg:golang/x@v1":                         "pkg:golang/x@v1",
	} {
		if got := filepath.ToSlash(relative(src, in, map[string]string{})); got != want {
			t.Errorf("relative(%q) = %q, want %q", in, got, want)
		}
	}
}
