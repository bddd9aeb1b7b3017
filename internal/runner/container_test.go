package runner

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeEngine is a docker-compatible CLI that records its arguments and
// exits as $FAKE_EXIT says, or sleeps for $FAKE_SLEEP.
const fakeEngine = `#!/bin/sh
echo "$*" >> "$FAKE_LOG"
[ -n "$FAKE_SLEEP" ] && [ "$1" = run ] && sleep "$FAKE_SLEEP"
exit "${FAKE_EXIT:-0}"
`

func engine(t *testing.T, env map[string]string) (string, string) {
	dir := t.TempDir()
	path := filepath.Join(dir, "podman")
	if err := os.WriteFile(path, []byte(fakeEngine), 0o755); err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(dir, "calls.log")
	t.Setenv("FAKE_LOG", log)
	for k, v := range env {
		t.Setenv(k, v)
	}
	return path, log
}

func TestContainerCommandLine(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec ContainerSpec
		want []string
		not  []string
	}{
		{"offline, limits", ContainerSpec{Image: "localhost/dracon:dev", Mounts: []Mount{{"/src", true}, {"/runs/1", false}}, CPUs: "1.5", Memory: "2g", Pull: "never"},
			[]string{"run --rm --name dracon-gosec-", "--pull=never", "--network none", "--cpus 1.5", "--memory 2g", "-v /src:/src:ro", "-v /runs/1:/runs/1 ", "-w /src", "-e GOFLAGS=-buildvcs=false",
				"--entrypoint gosec localhost/dracon:dev -fmt json ./..."}, nil},
		{"a scanner that needs the network", ContainerSpec{Image: "img", Network: true},
			[]string{"--pull=missing", "--entrypoint gosec img"}, []string{"--network"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, log := engine(t, nil)
			spec := tc.spec
			res := Container{Engine: path}.Run(context.Background(), Job{Name: "gosec", Path: "gosec", Args: []string{"-fmt", "json", "./..."},
				Dir: "/src", Env: []string{"GOFLAGS=-buildvcs=false"}, Container: &spec})
			if res.Err != nil || res.ExitCode != 0 {
				t.Fatalf("%+v", res)
			}
			b, _ := os.ReadFile(log)
			for _, w := range tc.want {
				if !strings.Contains(string(b), w) {
					t.Errorf("command line %q lacks %q", b, w)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(string(b), n) {
					t.Errorf("command line %q has %q", b, n)
				}
			}
		})
	}
}

func TestContainerFailures(t *testing.T) {
	// The engine's own exit codes say the container did not start.
	path, _ := engine(t, map[string]string{"FAKE_EXIT": "127"})
	res := Container{Engine: path}.Run(context.Background(), Job{Name: "trivy", Path: "trivy", Container: &ContainerSpec{Image: "localhost/dracon:dev"}})
	if res.Err == nil || !strings.Contains(res.Err.Error(), "trivy is not in image localhost/dracon:dev") {
		t.Errorf("exit 127: %v", res.Err)
	}
	// A timeout stops the CLI and removes the container.
	path, log := engine(t, map[string]string{"FAKE_SLEEP": "5"})
	res = Container{Engine: path}.Run(context.Background(), Job{Name: "gosec", Path: "gosec", Timeout: 200 * time.Millisecond, Container: &ContainerSpec{Image: "img"}})
	b, _ := os.ReadFile(log)
	if res.Err == nil || !strings.Contains(res.Err.Error(), "timed out") || !strings.Contains(string(b), "rm --force dracon-gosec-") {
		t.Errorf("timeout: %v; calls %s", res.Err, b)
	}
	// A job without a container runs here.
	res = Container{Engine: "/nonexistent"}.Run(context.Background(), Job{Name: "sh", Path: "/bin/sh", Args: []string{"-c", "exit 3"}})
	if res.ExitCode != 3 || res.Err != nil {
		t.Errorf("local job: %+v", res)
	}
}
