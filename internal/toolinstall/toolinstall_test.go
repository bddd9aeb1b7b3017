package toolinstall

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/draconsec/dracon/internal/producers"
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
// install is a cache hit that builds nothing.
func TestInstallGoTool(t *testing.T) {
	t.Setenv("DRACON_TOOLS_DIR", t.TempDir())
	p := &producers.Producer{Name: "stringer", Tool: &producers.Tool{
		Binary: "dracon-stringer", Version: "v0.28.0", GoPackage: "golang.org/x/tools/cmd/stringer",
	}}
	var log bytes.Buffer
	path, err := Install(context.Background(), p, &log)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if path != p.Tool.CachePath() || filepath.Base(path) != "dracon-stringer" {
		t.Fatalf("installed at %s, want %s", path, p.Tool.CachePath())
	}
	st := Inspect(context.Background(), p)
	if st.Err != nil || st.Path != path || st.Version != "v0.28.0" {
		t.Fatalf("inspect = %+v", st)
	}
	log.Reset()
	if _, err := Install(context.Background(), p, &log); err != nil || !strings.Contains(log.String(), "already installed") {
		t.Fatalf("second install: %v %s", err, log.String())
	}
	leftovers, _ := filepath.Glob(filepath.Join(producers.ToolsDir(), "dracon-stringer", ".build-*"))
	if len(leftovers) != 0 {
		t.Errorf("build folders left behind: %v", leftovers)
	}
}

func TestInstallRefusesNonGo(t *testing.T) {
	p := &producers.Producer{Name: "bandit", Tool: &producers.Tool{Binary: "bandit", Version: "1", Install: "apt-get install bandit"}}
	if _, err := Install(context.Background(), p, io.Discard); err == nil || !strings.Contains(err.Error(), "apt-get install bandit") {
		t.Fatalf("err = %v", err)
	}
}
