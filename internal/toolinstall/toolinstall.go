// Package toolinstall builds Go-based scanners at their pinned versions
// into Dracon's tool cache, and reports which scanners a machine has.
package toolinstall

import (
	"context"
	"debug/buildinfo"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/draconsec/dracon/internal/producers"
)

// Installable reports whether Dracon can build p itself.
func Installable(p *producers.Producer) bool {
	return p.Tool != nil && (p.Tool.GoPackage != "" || len(p.Tool.Npm) > 0)
}

// Install builds p's scanner into the cache unless the pinned version is
// already there. Builds go to a temporary folder first so an interrupted
// build never leaves a half-written binary where Locate would find it.
func Install(ctx context.Context, p *producers.Producer, log io.Writer) (string, error) {
	t := p.Tool
	if !Installable(p) {
		return "", fmt.Errorf("%s cannot be installed by Dracon; install it with: %s", p.Name, t.Install)
	}
	dest := t.CachePath()
	if st, err := os.Stat(dest); err == nil && !st.IsDir() {
		fmt.Fprintf(log, "%s %s: already installed at %s\n", p.Name, t.Version, dest)
		return dest, nil
	}
	dir := filepath.Dir(dest)
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".build-"+t.Binary+"-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	if len(t.Npm) > 0 {
		if err := npmInstall(ctx, t, tmp, log); err != nil {
			return "", fmt.Errorf("installing %s %s: %w", p.Name, t.Version, err)
		}
		os.RemoveAll(dir)
		if err := os.Rename(tmp, dir); err != nil {
			return "", err
		}
		fmt.Fprintf(log, "%s %s: installed at %s\n", p.Name, t.Version, dest)
		return dest, nil
	}
	fmt.Fprintf(log, "%s %s: building %s (a first build can take minutes)\n", p.Name, t.Version, t.GoPackage)
	var built string
	if t.GoModule != nil {
		built, err = buildInModule(ctx, t, tmp, log)
	} else {
		built, err = goInstall(ctx, t, tmp, log)
	}
	if err != nil {
		return "", fmt.Errorf("installing %s %s: %w", p.Name, t.Version, err)
	}
	if err := os.Rename(built, filepath.Join(tmp, t.Binary)); err != nil {
		return "", err
	}
	for _, a := range t.GoAssets {
		if err := copyAsset(ctx, t, a, tmp); err != nil {
			return "", fmt.Errorf("installing %s assets: %w", p.Name, err)
		}
	}
	os.RemoveAll(dir) // a stale partial install
	if err := os.Rename(tmp, dir); err != nil {
		return "", err
	}
	fmt.Fprintf(log, "%s %s: installed at %s\n", p.Name, t.Version, dest)
	return dest, nil
}

// npmInstall installs a JavaScript scanner's packages into tmp and links
// its executable where Locate looks.
func npmInstall(ctx context.Context, t *producers.Tool, tmp string, log io.Writer) error {
	fmt.Fprintf(log, "%s %s: npm install %s\n", t.Binary, t.Version, strings.Join(t.Npm, " "))
	args := append([]string{"install", "--prefix", tmp, "--no-audit", "--no-fund", "--loglevel=error"}, t.Npm...)
	cmd := exec.CommandContext(ctx, "npm", args...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Run(); err != nil {
		return err
	}
	// A relative link keeps working after the folder is renamed into place.
	return os.Symlink(filepath.Join("node_modules", ".bin", t.Binary), filepath.Join(tmp, t.Binary))
}

func goInstall(ctx context.Context, t *producers.Tool, tmp string, log io.Writer) (string, error) {
	bin := filepath.Join(tmp, "bin")
	cmd := exec.CommandContext(ctx, "go", "install", t.GoPackage+"@"+t.Version)
	cmd.Env = append(os.Environ(), "GOBIN="+bin, "GOFLAGS=-buildvcs=false")
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Run(); err != nil {
		return "", err
	}
	return builtBinary(bin, t.GoPackage)
}

// builtBinary finds what `go install` wrote into the empty GOBIN: the file
// ExecName predicts, or else the one file there, so a package path the rule
// misreads still installs; anything else is an error naming what it found.
func builtBinary(bin, pkg string) (string, error) {
	want := filepath.Join(bin, ExecName(pkg))
	if st, err := os.Stat(want); err == nil && !st.IsDir() {
		return want, nil
	}
	entries, err := os.ReadDir(bin)
	if err != nil {
		return "", fmt.Errorf("go install %s wrote no binary: %w", pkg, err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if len(entries) == 1 && entries[0].Type().IsRegular() {
		return filepath.Join(bin, entries[0].Name()), nil
	}
	return "", fmt.Errorf("go install %s: expected %s in %s, found %v", pkg, ExecName(pkg), bin, names)
}

// ExecName is the file name the go command gives the binary of package
// pkg: its last path element, or the element before it when the last is a
// major-version suffix (".../gitleaks/v8" builds "gitleaks"), as cmd/go's
// DefaultExecName does in module mode (golang.org/issue/24667).
func ExecName(pkg string) string {
	pkg = strings.TrimSuffix(pkg, "/")
	dir, elem := path.Split(pkg)
	if dir != "" && isMajorVersion(elem) {
		_, elem = path.Split(strings.TrimSuffix(dir, "/"))
	}
	return elem
}

// isMajorVersion reports whether elem is a major-version path suffix: "v"
// and digits, at least v2 ("v0", "v1" and "v01" are ordinary names).
func isMajorVersion(elem string) bool {
	if len(elem) < 2 || elem[0] != 'v' || elem[1] == '0' || (elem[1] == '1' && len(elem) == 2) {
		return false
	}
	return strings.Trim(elem[1:], "0123456789") == ""
}

// buildInModule builds a scanner as a tool of a throwaway module, for
// scanners whose own go.mod `go install` refuses (replace directives) or
// whose dependencies need pins the proxy serves.
func buildInModule(ctx context.Context, t *producers.Tool, tmp string, log io.Writer) (string, error) {
	mod := filepath.Join(tmp, "module")
	if err := os.MkdirAll(mod, 0o755); err != nil {
		return "", err
	}
	run := func(env []string, args ...string) error {
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir = mod
		cmd.Env = append(append(os.Environ(), "GOFLAGS=-buildvcs=false"), env...)
		cmd.Stdout, cmd.Stderr = log, log
		return cmd.Run()
	}
	if err := run(nil, "mod", "init", "dracon.local/tools/"+t.Binary); err != nil {
		return "", err
	}
	for _, r := range t.GoModule.Require {
		if err := run(nil, "mod", "edit", "-require="+r); err != nil {
			return "", err
		}
	}
	for _, r := range t.GoModule.Replace {
		if err := run(nil, "mod", "edit", "-replace="+r); err != nil {
			return "", err
		}
	}
	if err := run(nil, "get", "-tool", t.GoPackage+"@"+t.Version); err != nil {
		return "", err
	}
	out := filepath.Join(tmp, "built")
	if err := run(t.GoModule.Env, "build", "-o", out, t.GoPackage); err != nil {
		return "", err
	}
	return out, nil
}

// copyAsset copies a folder of the scanner's module (from the module
// cache) beside the binary.
func copyAsset(ctx context.Context, t *producers.Tool, folder, tmp string) error {
	modPath := modulePath(t.GoPackage)
	cmd := exec.CommandContext(ctx, "go", "mod", "download", "-json", modPath+"@"+t.Version)
	cmd.Dir = os.TempDir()
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("go mod download %s: %w", modPath, err)
	}
	var dir string
	for _, line := range strings.Split(string(out), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, `"Dir":`) {
			dir = strings.Trim(strings.TrimSpace(strings.TrimPrefix(line, `"Dir":`)), `",`)
		}
	}
	if dir == "" {
		return fmt.Errorf("module %s has no folder in the module cache", modPath)
	}
	return exec.CommandContext(ctx, "cp", "-r", filepath.Join(dir, folder), filepath.Join(tmp, folder)).Run()
}

// modulePath guesses the module of a package path: the path up to the
// major-version element or the third element.
func modulePath(pkg string) string {
	parts := strings.Split(pkg, "/")
	for i, p := range parts {
		if i >= 3 && isMajorVersion(p) {
			return strings.Join(parts[:i+1], "/")
		}
	}
	if len(parts) > 3 {
		return strings.Join(parts[:3], "/")
	}
	return pkg
}

var versionPattern = regexp.MustCompile(`v?\d+\.\d+(\.\d+)?([-+.][0-9A-Za-z.]+)?`)

// versionIn finds the version in what a scanner prints for --version
// ("bandit 1.6.2", "ShellCheck ... version: 0.9.0"), else its first line.
func versionIn(out string) string {
	if v := versionPattern.FindString(out); v != "" {
		return v
	}
	return strings.TrimSpace(strings.SplitN(out, "\n", 2)[0])
}

// Status is what a machine has of one scanner.
type Status struct {
	Path    string
	Version string // as the binary says, or its Go module version
	Err     error
}

// Inspect finds p's scanner and its version.
func Inspect(ctx context.Context, p *producers.Producer) Status {
	if p.Tool == nil {
		return Status{Version: "built in"}
	}
	path, err := p.Tool.Locate()
	if err != nil {
		return Status{Err: err}
	}
	st := Status{Path: path}
	// Go-built scanners often print "dev": their module version is the truth.
	if bi, err := buildinfo.ReadFile(path); err == nil {
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			st.Version = v
			return st
		}
		for _, d := range bi.Deps { // built as a tool of another module
			if d.Path == modulePath(p.Tool.GoPackage) {
				st.Version = d.Version
				return st
			}
		}
	}
	if len(p.Tool.VersionArgs) > 0 {
		out, err := exec.CommandContext(ctx, path, p.Tool.VersionArgs...).CombinedOutput()
		if err == nil {
			st.Version = versionIn(string(out))
		}
	}
	if st.Version == "" {
		st.Version = "unknown"
	}
	return st
}
