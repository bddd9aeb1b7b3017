package elasticsearch

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fakeServerEnv makes the test binary a fake cluster in a process of its
// own (the benchmark's), so that the benchmark's CPU time is the
// client's alone.
const fakeServerEnv = "DRACON_TEST_FAKE_ES"

func TestMain(m *testing.M) {
	if os.Getenv(fakeServerEnv) != "" {
		serveFake()
	}
	os.Exit(m.Run())
}

// serveFake serves a fake Elasticsearch 8 on a free port, prints its
// URL, and exits when its standard input closes (the parent is done).
func serveFake() {
	es := newElasticsearch("8.15.0")
	es.keepNoBodies = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("http://" + ln.Addr().String())
	go http.Serve(ln, es)
	io.Copy(io.Discard, os.Stdin)
	os.Exit(0)
}

// fakeProcess is a fake cluster in a child process.
type fakeProcess struct {
	URL   string
	cmd   *exec.Cmd
	stdin io.Closer
}

func startFakeProcess(tb testing.TB) *fakeProcess {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fakeServerEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		tb.Fatalf("the fake cluster did not start: %v", err)
	}
	p := &fakeProcess{URL: strings.TrimSpace(line), cmd: cmd, stdin: stdin}
	tb.Cleanup(func() {
		p.stdin.Close()
		p.cmd.Wait()
	})
	return p
}

// cpu is the child's user and system CPU time so far, from
// /proc/<pid>/stat (its 14th and 15th fields, in clock ticks of 1/100 s).
func (p *fakeProcess) cpu() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// The command name, in parentheses, may hold spaces: count fields
	// from after it.
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}
