package toolinstall

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/draconsec/dracon/internal/producers"
	"github.com/draconsec/dracon/internal/producers/registry"
)

func TestVersionIn(t *testing.T) {
	for in, want := range map[string]string{
		"bandit 1.6.2\n  python version = 3.11.2":                                 "1.6.2",
		"ShellCheck - shell script analysis tool\nversion: 0.9.0\nlicense: GPLv3": "0.9.0",
		"Version: v8.30.1":  "v8.30.1",
		"eslint v8.57.1\n":  "v8.57.1",
		"no version here\n": "no version here",
	} {
		if got := versionIn(in); got != want {
			t.Errorf("versionIn(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestModulePath(t *testing.T) {
	for in, want := range map[string]string{
		"github.com/securego/gosec/v2/cmd/gosec":   "github.com/securego/gosec/v2",
		"github.com/zricethezav/gitleaks/v8":       "github.com/zricethezav/gitleaks/v8",
		"golang.org/x/vuln/cmd/govulncheck":        "golang.org/x/vuln",
		"github.com/aquasecurity/trivy/cmd/trivy":  "github.com/aquasecurity/trivy",
		"github.com/Checkmarx/kics/v2/cmd/console": "github.com/Checkmarx/kics/v2",
	} {
		if got := modulePath(in); got != want {
			t.Errorf("modulePath(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestInstallGoTool installs a small real Go program through the same
// path as the scanners (go install at a pinned version into the cache,
// renamed to the tool's binary name), then finds it there, and a second
// install is a cache hit that builds nothing. counterfeiter's main package
// is the root of a /v6 module, the shape that broke gitleaks' install:
// go install names its binary "counterfeiter", not "v6".
func TestInstallGoTool(t *testing.T) {
	t.Setenv("DRACON_TOOLS_DIR", t.TempDir())
	p := &producers.Producer{Name: "counterfeiter", Tool: &producers.Tool{
		Binary: "dracon-counterfeiter", Version: "v6.14.0", GoPackage: "github.com/maxbrunsfeld/counterfeiter/v6",
	}}
	var log bytes.Buffer
	path, err := Install(context.Background(), p, &log)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if path != p.Tool.CachePath() || filepath.Base(path) != "dracon-counterfeiter" {
		t.Fatalf("installed at %s, want %s", path, p.Tool.CachePath())
	}
	st := Inspect(context.Background(), p)
	if st.Err != nil || st.Path != path || st.Version != "v6.14.0" {
		t.Fatalf("inspect = %+v", st)
	}
	log.Reset()
	if _, err := Install(context.Background(), p, &log); err != nil || !strings.Contains(log.String(), "already installed") {
		t.Fatalf("second install: %v %s", err, log.String())
	}
	leftovers, _ := filepath.Glob(filepath.Join(producers.ToolsDir(), "dracon-counterfeiter", ".build-*"))
	if len(leftovers) != 0 {
		t.Errorf("build folders left behind: %v", leftovers)
	}
}

func TestExecName(t *testing.T) {
	for in, want := range map[string]string{
		"github.com/zricethezav/gitleaks/v8":       "gitleaks",
		"github.com/securego/gosec/v2/cmd/gosec":   "gosec",
		"github.com/maxbrunsfeld/counterfeiter/v6": "counterfeiter",
		"example.com/tool/v1":                      "v1", // v1 is no major-version suffix
		"example.com/tool/v0":                      "v0",
		"example.com/tool/v2x":                     "v2x",
		"example.com/tool/v10":                     "tool",
		"example.com/v2":                           "example.com",
		"v2":                                       "v2",
		"golang.org/x/vuln/cmd/govulncheck/":       "govulncheck",
	} {
		if got := ExecName(in); got != want {
			t.Errorf("ExecName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestEveryGoToolsExecName pins, for every Go-built scanner in the
// registry, the binary name go install gives it. A new Go scanner must be
// added here, so its install path is checked before a user runs it.
func TestEveryGoToolsExecName(t *testing.T) {
	want := map[string]string{
		"gitleaks":    "gitleaks", // github.com/zricethezav/gitleaks/v8
		"gosec":       "gosec",
		"govulncheck": "govulncheck",
		"grype":       "grype",
		"kics":        "console", // .../kics/v2/cmd/console, renamed to kics in the cache
		"nuclei":      "nuclei",
		"osv-scanner": "osv-scanner",
		"syft":        "syft",
		"tfsec":       "tfsec",
		"trivy":       "trivy",
	}
	seen := map[string]bool{}
	for _, p := range registry.All() {
		if p.Tool == nil || p.Tool.GoPackage == "" {
			continue
		}
		seen[p.Name] = true
		w, ok := want[p.Name]
		if !ok {
			t.Errorf("%s (%s) is a Go-built tool missing from this test", p.Name, p.Tool.GoPackage)
			continue
		}
		if got := ExecName(p.Tool.GoPackage); got != w {
			t.Errorf("%s: ExecName(%s) = %q, want %q", p.Name, p.Tool.GoPackage, got, w)
		}
		if p.Tool.GoModule == nil && p.Tool.Binary == "" {
			t.Errorf("%s: no binary name", p.Name)
		}
	}
	for name := range want {
		if !seen[name] {
			t.Errorf("%s is listed here but is no Go-built tool in the registry", name)
		}
	}
}

func TestBuiltBinary(t *testing.T) {
	dir := t.TempDir()
	if _, err := builtBinary(dir, "example.com/x/v2"); err == nil || !strings.Contains(err.Error(), "expected x") {
		t.Fatalf("empty GOBIN: err = %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "other"), []byte("bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := builtBinary(dir, "example.com/x/v2")
	if err != nil || got != filepath.Join(dir, "other") {
		t.Fatalf("one file: %s, %v", got, err)
	}
}

func TestInstallRefusesNonGo(t *testing.T) {
	p := &producers.Producer{Name: "bandit", Tool: &producers.Tool{Binary: "bandit", Version: "1", Install: "apt-get install bandit"}}
	if _, err := Install(context.Background(), p, io.Discard); err == nil || !strings.Contains(err.Error(), "apt-get install bandit") {
		t.Fatalf("err = %v", err)
	}
}
