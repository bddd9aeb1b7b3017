package pipeline

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/draconsec/dracon/internal/config"
	"github.com/draconsec/dracon/internal/producers/bandit"
	"github.com/draconsec/dracon/internal/producers/gitleaks"
	"github.com/draconsec/dracon/internal/producers/gosec"
	"github.com/draconsec/dracon/internal/producers/producertest"
	"github.com/draconsec/dracon/internal/producers/registry"
)

// The container runner for real: podman (and the docker CLI on podman's
// API socket) running the scanner images scripts/build-scanner-images.sh
// builds from containers/<family>/Containerfile, with no registry.

// requirePodman is podman's path. Missing (or debootstrap, which the
// Debian family's base needs), the test fails under DRACON_REQUIRE_TOOLS,
// as CI sets it, and is skipped otherwise.
func requirePodman(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("podman")
	if err == nil {
		if _, err = exec.LookPath("debootstrap"); err == nil {
			return p
		}
	}
	msg := "podman and debootstrap are needed for the scanner images: apt-get install podman runc debootstrap (and /etc/containers/containers.conf as .ci/run writes it)"
	if os.Getenv("DRACON_REQUIRE_TOOLS") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// scannerImages builds the named scanners' images, or finds them built,
// and returns each one's reference pinned by digest, as the script prints
// it. The tag is the catalogue's pinned version.
func scannerImages(t *testing.T, names ...string) map[string]string {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.Command("../../scripts/build-scanner-images.sh", names...)
	cmd.Stderr = &stderr
	start := time.Now()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("build-scanner-images.sh %s: %v\n%s", strings.Join(names, " "), err, stderr.String())
	}
	t.Logf("build-scanner-images.sh in %s:\n%s", time.Since(start).Round(time.Second), stderr.String())
	refs := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 {
			t.Fatalf("build-scanner-images.sh printed %q, want NAME REF@DIGEST", sc.Text())
		}
		refs[f[0]] = f[1]
	}
	for _, n := range names {
		p, err := registry.Lookup(n)
		if err != nil {
			t.Fatal(err)
		}
		prefix := "localhost/dracon-scanner/" + n + ":" + p.Tool.Version + "@sha256:"
		if !strings.HasPrefix(refs[n], prefix) || len(refs[n]) != len(prefix)+64 {
			t.Errorf("%s: image %q, want %s<64 hex digits>", n, refs[n], prefix)
		}
	}
	return refs
}

// recordingEngine is a docker-compatible CLI that appends its command
// line to a log, one line a call, and runs the real one.
func recordingEngine(t *testing.T, real string) (path, log string) {
	t.Helper()
	dir := t.TempDir()
	path, log = filepath.Join(dir, "engine"), filepath.Join(dir, "calls.log")
	script := fmt.Sprintf("#!/bin/sh\necho \"$*\" >> %q\nexec %q \"$@\"\n", log, real)
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path, log
}

// podmanService starts `podman system service` on a socket of its own
// and returns its DOCKER_HOST; it stops with the test.
func podmanService(t *testing.T, pm string) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "podman.sock")
	svc := exec.Command(pm, "system", "service", "--time=0", "unix://"+sock)
	if err := svc.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Process.Kill(); svc.Wait() })
	for i := 0; i < 300; i++ {
		if _, err := os.Stat(sock); err == nil {
			return "unix://" + sock
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("podman system service made no socket %s in 30s", sock)
	return ""
}

// TestPodmanScannerImages runs gosec, bandit and gitleaks on examples/
// each in its own Dracon-built image (gitleaks FROM scratch, gosec FROM
// scratch with the Go toolchain, bandit on the debootstrap Debian base),
// named by digest, through podman and then through the docker CLI on
// podman's socket: the findings are a local run's, and each container
// ran with the source read-only, no network and the configured limits.
func TestPodmanScannerImages(t *testing.T) {
	pm := requirePodman(t)
	for _, p := range []string{gosec.Producer.Name, bandit.Producer.Name, gitleaks.Producer.Name} {
		p, _ := registry.Lookup(p)
		producertest.RequireTool(t, p) // for the local run
	}
	images := scannerImages(t, "gitleaks", "gosec", "bandit")
	src, err := filepath.Abs("../../examples")
	if err != nil {
		t.Fatal(err)
	}
	scanners := "producers:\n  gosec: {}\n  bandit: {}\n  gitleaks: {}\n"
	local := findings(mustRun(t, testConfig(t, "version: 1\n"+scanners), src))
	if len(local) != 22 {
		t.Fatalf("a local run found %d, want examples/' 22:\n%s", len(local), strings.Join(local, "\n"))
	}

	engines := []struct{ name, cli, dockerHost string }{{name: "podman", cli: pm}}
	if docker, err := exec.LookPath("docker"); err == nil {
		engines = append(engines, struct{ name, cli, dockerHost string }{"docker CLI on podman's socket", docker, ""})
	} else if os.Getenv("DRACON_REQUIRE_TOOLS") != "" {
		t.Error("the docker CLI is not on PATH (apt-get install docker.io provides it): its path is not tested")
	}
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			if strings.HasPrefix(e.name, "docker") {
				t.Setenv("DOCKER_HOST", podmanService(t, pm))
			}
			engine, calls := recordingEngine(t, e.cli)
			yaml := fmt.Sprintf("version: 1\nrunner: container\ncontainer:\n  engine: %s\n  pull: never\n  cpus: \"1\"\n  memory: 1g\n"+
				"producers:\n  gosec: {image: %q, memory: 2g}\n  bandit: {image: %q}\n  gitleaks: {image: %q}\n",
				engine, images["gosec"], images["bandit"], images["gitleaks"])
			res := mustRun(t, testConfig(t, yaml), src)
			for _, p := range res.Summary.Producers {
				if p.Status != "ok" {
					t.Errorf("%s: %s %s", p.Name, p.Status, p.Reason)
				}
			}
			if got := findings(res); strings.Join(got, "\n") != strings.Join(local, "\n") {
				t.Errorf("in containers:\n%s\nlocally:\n%s", strings.Join(got, "\n"), strings.Join(local, "\n"))
			}
			b, err := os.ReadFile(calls)
			if err != nil {
				t.Fatal(err)
			}
			runs := map[string]string{}
			for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
				for _, tool := range []string{"gosec", "bandit", "gitleaks"} {
					if strings.HasPrefix(line, "run ") && strings.Contains(line, " --entrypoint "+tool+" ") {
						runs[tool] = line
					}
				}
			}
			for tool, memory := range map[string]string{"gosec": "2g", "bandit": "1g", "gitleaks": "1g"} {
				line := runs[tool]
				for _, want := range []string{
					"--pull=never", "--network none", "--cpus 1 ", "--memory " + memory + " ",
					"-v " + src + ":" + src + ":ro ", "-w " + src + " ",
					// The digest-pinned reference, passed through unchanged.
					"--entrypoint " + tool + " " + images[tool] + " ",
				} {
					if !strings.Contains(line, want) {
						t.Errorf("%s's engine command line %q lacks %q", tool, line, want)
					}
				}
			}
		})
	}
}

// mustRun is run's result alone.
func mustRun(t *testing.T, c *config.Config, src string) *Result {
	t.Helper()
	res, _ := run(t, c, src)
	return res
}
