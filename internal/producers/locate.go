package producers

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
)

// ToolsDir is where Dracon keeps the scanners it builds: one folder per
// name and version, outside any clone, so only a machine's first run pays
// for a build. $DRACON_TOOLS_DIR overrides it.
func ToolsDir() string {
	if d := os.Getenv("DRACON_TOOLS_DIR"); d != "" {
		return d
	}
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	return filepath.Join(base, "dracon", "tools")
}

// CachePath is where `dracon tools install` puts this tool's binary.
func (t *Tool) CachePath() string {
	return filepath.Join(ToolsDir(), t.Binary, t.Version, t.Binary)
}

// ErrNotInstalled says a scanner is neither in Dracon's cache nor on PATH.
var ErrNotInstalled = errors.New("not installed")

// Locate finds the scanner: Dracon's cache at the pinned version first,
// then PATH.
func (t *Tool) Locate() (string, error) {
	if st, err := os.Stat(t.CachePath()); err == nil && !st.IsDir() {
		return t.CachePath(), nil
	}
	if p, err := exec.LookPath(t.Binary); err == nil {
		return p, nil
	}
	return "", ErrNotInstalled
}

// InstallHint is the one command that installs the tool.
func (t *Tool) InstallHint(producer string) string {
	if t.GoPackage != "" || len(t.Npm) > 0 {
		return "dracon tools install " + producer
	}
	return t.Install
}
