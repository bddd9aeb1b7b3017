package action

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// fakeDracon is a shell script that answers `dracon version`.
const fakeDracon = "#!/bin/sh\necho \"dracon fake-$1\"\n"

func tarGz(t *testing.T, name string, body []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	tw := tar.NewWriter(zw)
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o755, Size: int64(len(body))}); err != nil {
		t.Fatal(err)
	}
	tw.Write(body)
	tw.Close()
	zw.Close()
	return b.Bytes()
}

// runInstall runs install.sh as action.yml's first step does, and
// returns its exit code, its output and the step outputs it wrote.
func runInstall(t *testing.T, env map[string]string) (int, string, map[string]string) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("install.sh is tested on Linux and macOS")
	}
	tmp := t.TempDir()
	out := filepath.Join(tmp, "output")
	cmd := exec.Command("bash", "install.sh")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + tmp, "GITHUB_OUTPUT=" + out, "RUNNER_TEMP=" + filepath.Join(tmp, "temp"),
		"RUNNER_TOOL_CACHE=" + filepath.Join(tmp, "toolcache"), "RUNNER_OS=Linux", "RUNNER_ARCH=X64"}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	b, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(out)
	return code, string(b), parseOutputs(t, string(data))
}

func TestInstallDownload(t *testing.T) {
	asset := tarGz(t, "dracon", []byte(fakeDracon))
	sum := sha256.Sum256(asset)
	checksums := hex.EncodeToString(sum[:]) + "  dracon_linux_amd64.tar.gz\n" + strings.Repeat("0", 64) + "  dracon_darwin_arm64.tar.gz\n"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/draconsec/dracon/releases/download/v1.4.0/dracon_linux_amd64.tar.gz":
			w.Write(asset)
		case "/draconsec/dracon/releases/download/v1.4.0/checksums.txt":
			w.Write([]byte(checksums))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	env := map[string]string{"GITHUB_SERVER_URL": srv.URL, "DRACON_ACTION_REPOSITORY": "draconsec/dracon", "DRACON_ACTION_REF": "v1.4.0", "DRACON_INSTALL": "download"}
	code, log, out := runInstall(t, env)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, log)
	}
	if !strings.HasSuffix(out["bin"], "/toolcache/dracon/v1.4.0/linux_amd64/dracon") || !strings.HasSuffix(out["tools-dir"], "/toolcache/dracon/tools") {
		t.Errorf("outputs: %q", out)
	}
	if !strings.Contains(log, "dracon fake-version") || !strings.Contains(log, "SHA-256 of dracon_linux_amd64.tar.gz "+hex.EncodeToString(sum[:])) {
		t.Errorf("log:\n%s", log)
	}
	// DRACON_TOOLS_DIR set by the workflow wins.
	env["DRACON_TOOLS_DIR"] = "/opt/scanners"
	_, _, out = runInstall(t, env)
	if out["tools-dir"] != "/opt/scanners" {
		t.Errorf("tools-dir %q", out["tools-dir"])
	}

	// A tampered archive is refused, and auto does not fall back to a build.
	checksums = strings.Repeat("a", 64) + "  dracon_linux_amd64.tar.gz\n"
	env["DRACON_INSTALL"] = "auto"
	code, log, out = runInstall(t, env)
	if code != 2 || out["bin"] != "" || !strings.Contains(log, "::error title=Dracon%3A checksum mismatch::dracon_linux_amd64.tar.gz") ||
		strings.Contains(log, "building") {
		t.Errorf("tampered: exit %d, outputs %q:\n%s", code, out, log)
	}
	// No checksum for the asset is refused too.
	checksums = "abc  other.tar.gz\n"
	if code, log, _ := runInstall(t, env); code != 2 || !strings.Contains(log, "checksums.txt says nothing") {
		t.Errorf("no checksum: exit %d:\n%s", code, log)
	}
}

func TestInstallAutoFallsBack(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	// A SHA ref names no release: auto builds; here the source is not
	// there either, so it says both and fails.
	code, log, _ := runInstall(t, map[string]string{"GITHUB_SERVER_URL": srv.URL, "DRACON_ACTION_REF": "0123456789abcdef0123456789abcdef01234567",
		"DRACON_INSTALL": "auto", "DRACON_BUILD_DIR": t.TempDir()})
	for _, want := range []string{"is not a version tag", "building from the action's source instead", "no Dracon source to build", "::error title=Dracon::could not install dracon (install: auto)"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	if code != 2 {
		t.Errorf("exit %d", code)
	}
	// A release without the asset falls back too.
	code, log, _ = runInstall(t, map[string]string{"GITHUB_SERVER_URL": srv.URL, "DRACON_ACTION_REF": "v9.9.9", "DRACON_INSTALL": "auto", "DRACON_BUILD_DIR": t.TempDir()})
	if code != 2 || !strings.Contains(log, "no dracon_linux_amd64.tar.gz in release v9.9.9") || !strings.Contains(log, "building from the action's source instead") {
		t.Errorf("exit %d:\n%s", code, log)
	}
}

func TestInstallPath(t *testing.T) {
	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "dracon"), []byte(fakeDracon), 0o755); err != nil {
		t.Fatal(err)
	}
	code, log, out := runInstall(t, map[string]string{"DRACON_INSTALL": "path", "PATH": bin + ":" + os.Getenv("PATH")})
	if code != 0 || out["bin"] != filepath.Join(bin, "dracon") {
		t.Errorf("exit %d, outputs %q:\n%s", code, out, log)
	}
	code, log, _ = runInstall(t, map[string]string{"DRACON_INSTALL": "path", "PATH": "/usr/bin:/bin"})
	if code != 2 || !strings.Contains(log, "dracon is not on PATH") {
		t.Errorf("no dracon: exit %d:\n%s", code, log)
	}
}

func TestInstallBadInputs(t *testing.T) {
	if code, log, _ := runInstall(t, map[string]string{"DRACON_INSTALL": "pip"}); code != 2 || !strings.Contains(log, "input install: \"pip\"") {
		t.Errorf("exit %d:\n%s", code, log)
	}
	if code, log, _ := runInstall(t, map[string]string{"DRACON_VERSION_INPUT": "v1; rm -rf /"}); code != 2 || !strings.Contains(log, "is not a release tag") {
		t.Errorf("exit %d:\n%s", code, log)
	}
	if code, log, _ := runInstall(t, map[string]string{"RUNNER_ARCH": "S390X"}); code != 2 || !strings.Contains(log, "unsupported runner architecture") {
		t.Errorf("exit %d:\n%s", code, log)
	}
}
