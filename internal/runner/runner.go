// Package runner starts scanner commands. It knows nothing of what they
// mean: a Job is a command line, a working folder and where its output
// goes; a Result is how it ended.
package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// Job is one command to run.
type Job struct {
	Name    string   // for messages
	Path    string   // the executable
	Args    []string // without the executable
	Dir     string   // working folder
	Env     []string // added to the environment
	Stdout  string   // file that receives standard output ("" discards it)
	Stderr  string   // file that receives standard error ("" discards it)
	Timeout time.Duration
	// Container, when set, runs the job in a container (the Container
	// runner); Path is then the command inside the image.
	Container *ContainerSpec
}

// Result is how a Job ended.
type Result struct {
	ExitCode int // -1 when the command did not run or was killed
	Duration time.Duration
	// Err is set when the command could not start, timed out or was
	// cancelled; a non-zero exit code alone is not an error here, because
	// only the caller knows which codes a scanner uses for "found issues".
	Err error
}

// Runner runs jobs.
type Runner interface {
	Run(ctx context.Context, job Job) Result
}

// ErrTimeout is returned when a job runs past its timeout.
var ErrTimeout = errors.New("timed out")

// Local runs jobs as child processes on this machine.
type Local struct{}

// Run starts the job and waits for it. The child gets its own process
// group so that a timeout or Ctrl-C stops it and everything it started.
func (Local) Run(ctx context.Context, job Job) Result {
	start := time.Now()
	res := Result{ExitCode: -1}
	if job.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, job.Timeout)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, job.Path, job.Args...)
	cmd.Dir = job.Dir
	cmd.Env = append(os.Environ(), job.Env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		// Ask the whole group to stop, then WaitDelay kills what is left.
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	}
	cmd.WaitDelay = 5 * time.Second
	var closers []io.Closer
	defer func() {
		for _, c := range closers {
			c.Close()
		}
	}()
	for _, o := range []struct {
		path string
		dst  *io.Writer
	}{{job.Stdout, &cmd.Stdout}, {job.Stderr, &cmd.Stderr}} {
		if o.path == "" {
			continue
		}
		f, err := os.Create(o.path)
		if err != nil {
			res.Err = fmt.Errorf("%s: %w", job.Name, err)
			return res
		}
		closers = append(closers, f)
		*o.dst = f
	}
	err := cmd.Run()
	res.Duration = time.Since(start)
	if cmd.ProcessState != nil {
		res.ExitCode = cmd.ProcessState.ExitCode()
	}
	switch {
	case ctx.Err() == context.DeadlineExceeded:
		res.Err = fmt.Errorf("%s: %w after %s", job.Name, ErrTimeout, job.Timeout)
	case ctx.Err() != nil:
		res.Err = fmt.Errorf("%s: %w", job.Name, ctx.Err())
	case err != nil:
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			res.Err = fmt.Errorf("%s: %w", job.Name, err)
		}
	}
	if res.Err != nil && cmd.ProcessState != nil && !cmd.ProcessState.Exited() {
		res.ExitCode = -1
	}
	return res
}
