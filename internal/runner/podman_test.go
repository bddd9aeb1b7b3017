package runner

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The container runner's sandbox with real podman: probes run by the
// runner itself in a Dracon-built scanner image (the Debian family's
// bandit image, which has a shell), as a scanner would run.

// podmanImage builds (or finds) the bandit image with
// scripts/build-scanner-images.sh and returns its digest-pinned
// reference. Without podman (or debootstrap, for the Debian base) the
// test fails under DRACON_REQUIRE_TOOLS, as CI sets it, and is skipped
// otherwise.
func podmanImage(t *testing.T) (engine, image string) {
	t.Helper()
	pm, err := exec.LookPath("podman")
	if err == nil {
		_, err = exec.LookPath("debootstrap")
	}
	if err != nil {
		msg := "podman and debootstrap are needed for the scanner images: apt-get install podman runc debootstrap"
		if os.Getenv("DRACON_REQUIRE_TOOLS") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	var stderr bytes.Buffer
	cmd := exec.Command("../../scripts/build-scanner-images.sh", "bandit")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	f := strings.Fields(string(out))
	if err != nil || len(f) != 2 || !strings.Contains(f[1], "@sha256:") {
		t.Fatalf("build-scanner-images.sh bandit: %v, printed %q\n%s", err, out, stderr.String())
	}
	return pm, f[1]
}

// probe runs a shell command in the image through the runner, with the
// source read-only and the run folder writable, as produce mounts them,
// and returns its exit code and standard output.
func probe(t *testing.T, engine string, spec ContainerSpec, src, runDir, script string) (int, string) {
	t.Helper()
	spec.Mounts = []Mount{{Path: src, ReadOnly: true}, {Path: runDir}}
	stdout, stderr := filepath.Join(runDir, "probe.out"), filepath.Join(t.TempDir(), "probe.err")
	res := Container{Engine: engine}.Run(context.Background(), Job{Name: "probe", Path: "sh", Args: []string{"-c", script},
		Dir: src, Stdout: stdout, Stderr: stderr, Container: &spec})
	if res.Err != nil {
		b, _ := os.ReadFile(stderr)
		t.Fatalf("probe %q: %v\n%s", script, res.Err, b)
	}
	b, _ := os.ReadFile(stdout)
	return res.ExitCode, strings.TrimSpace(string(b))
}

func TestPodmanSandbox(t *testing.T) {
	engine, image := podmanImage(t)
	src, runDir := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "app.py"), []byte("print(1)\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	spec := ContainerSpec{Image: image, Pull: "never", CPUs: "0.5", Memory: "256m"}

	t.Run("source read-only, run folder writable", func(t *testing.T) {
		code, out := probe(t, engine, spec, src, runDir,
			`cat app.py; if touch probe 2>/dev/null || rm app.py 2>/dev/null; then echo WROTE; fi`)
		if code != 0 || out != "print(1)" {
			t.Errorf("probe printed %q, want the source file and no WROTE", out)
		}
		if _, err := os.Stat(filepath.Join(src, "probe")); err == nil {
			t.Error("the container wrote into the source folder")
		}
		if _, err := os.Stat(filepath.Join(src, "app.py")); err != nil {
			t.Error("the container removed a source file")
		}
	})
	t.Run("report into the run folder", func(t *testing.T) {
		code, _ := probe(t, engine, spec, src, runDir, "echo report > "+filepath.Join(runDir, "x.report"))
		b, err := os.ReadFile(filepath.Join(runDir, "x.report"))
		if code != 0 || err != nil || string(b) != "report\n" {
			t.Errorf("exit %d, report %q, %v", code, b, err)
		}
	})
	t.Run("no network for an offline scanner", func(t *testing.T) {
		// /proc/net/dev lists the container's interfaces: loopback alone.
		_, out := probe(t, engine, spec, src, runDir, `tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '`)
		if out != "lo" {
			t.Errorf("interfaces %q, want lo alone", out)
		}
		// A scanner that fetches a database gets the engine's network.
		withNet := spec
		withNet.Network = true
		if _, out := probe(t, engine, withNet, src, runDir, `tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '`); !strings.Contains(out, "\n") {
			t.Errorf("with the network: interfaces %q, want more than lo", out)
		}
	})
	t.Run("CPU and memory limits", func(t *testing.T) {
		// cgroup v1 (this host's hybrid layout) or v2.
		_, out := probe(t, engine, spec, src, runDir, `
if [ -f /sys/fs/cgroup/memory.max ]; then cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/cpu.max
else cat /sys/fs/cgroup/memory/memory.limit_in_bytes; echo "$(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us) $(cat /sys/fs/cgroup/cpu/cpu.cfs_period_us)"; fi`)
		if want := "268435456\n50000 100000"; out != want {
			t.Errorf("limits %q, want %q (256m, half a CPU)", out, want)
		}
	})
}
