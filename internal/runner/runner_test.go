package runner

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestExitCodesAndOutput(t *testing.T) {
	dir := t.TempDir()
	out, errf := filepath.Join(dir, "out"), filepath.Join(dir, "err")
	res := Local{}.Run(context.Background(), Job{
		Name: "sh", Path: "/bin/sh", Args: []string{"-c", "echo found; echo oops >&2; exit 3"},
		Dir: dir, Stdout: out, Stderr: errf,
	})
	if res.Err != nil || res.ExitCode != 3 {
		t.Fatalf("res = %+v", res)
	}
	if b, _ := os.ReadFile(out); string(b) != "found\n" {
		t.Errorf("stdout = %q", b)
	}
	if b, _ := os.ReadFile(errf); string(b) != "oops\n" {
		t.Errorf("stderr = %q", b)
	}
}

func TestMissingBinary(t *testing.T) {
	res := Local{}.Run(context.Background(), Job{Name: "nope", Path: "/no/such/scanner"})
	if res.Err == nil || !strings.Contains(res.Err.Error(), "nope") {
		t.Fatalf("res = %+v", res)
	}
}

// TestTimeoutKillsGroup checks that a timeout stops the child and the
// process it started (a scanner that forks workers).
func TestTimeoutKillsGroup(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pid")
	res := Local{}.Run(context.Background(), Job{
		Name: "slow", Path: "/bin/sh",
		Args:    []string{"-c", "sleep 30 & echo $! > " + pidFile + "; wait"},
		Timeout: 300 * time.Millisecond,
	})
	if !errors.Is(res.Err, ErrTimeout) {
		t.Fatalf("err = %v", res.Err)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid := strings.TrimSpace(string(b))
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, err := os.ReadFile("/proc/" + pid + "/stat")
		if err != nil || strings.Contains(string(st), ") Z ") {
			return // gone, or a zombie waiting for init
		}
		if time.Now().After(deadline) {
			t.Fatalf("grandchild %s still running", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(200 * time.Millisecond); cancel() }()
	res := Local{}.Run(ctx, Job{Name: "sleep", Path: "/bin/sleep", Args: []string{"30"}})
	if !errors.Is(res.Err, context.Canceled) {
		t.Fatalf("err = %v", res.Err)
	}
}
