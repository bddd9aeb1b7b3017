package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ContainerSpec says a job runs in a container, and how.
type ContainerSpec struct {
	Image string
	// Mounts are host folders the job sees at the same paths, so that its
	// arguments (which name them) need no rewriting.
	Mounts []Mount
	// Network: the job may reach the network (a scanner that fetches its
	// vulnerability database); otherwise it runs with none.
	Network bool
	CPUs    string // --cpus, e.g. "1.5"; "" for no limit
	Memory  string // --memory, e.g. "2g"; "" for no limit
	// Pull is the engine's pull policy: missing (default), always, never.
	Pull string
}

// Mount is one host folder.
type Mount struct {
	Path     string
	ReadOnly bool
}

// Container runs jobs that carry a ContainerSpec through a docker
// compatible CLI (docker or podman), and the others as Local does. It
// needs no engine SDK: `<engine> run` is the interface both engines keep.
type Container struct {
	// Engine is the CLI's path; "" finds podman, then docker, on PATH
	// ($DRACON_CONTAINER_ENGINE names one).
	Engine string
}

// FindEngine is the engine CLI to use: $DRACON_CONTAINER_ENGINE, else
// podman, else docker, on PATH.
func FindEngine(getenv func(string) string) (string, error) {
	if e := getenv("DRACON_CONTAINER_ENGINE"); e != "" {
		return exec.LookPath(e)
	}
	for _, e := range []string{"podman", "docker"} {
		if p, err := exec.LookPath(e); err == nil {
			return p, nil
		}
	}
	return "", errors.New("runner container: neither podman nor docker is on PATH (set DRACON_CONTAINER_ENGINE to another docker-compatible CLI)")
}

// Run runs the job in its container, or on this machine without one.
func (c Container) Run(ctx context.Context, job Job) Result {
	if job.Container == nil {
		return Local{}.Run(ctx, job)
	}
	engine := c.Engine
	if engine == "" {
		var err error
		if engine, err = FindEngine(os.Getenv); err != nil {
			return Result{ExitCode: -1, Err: fmt.Errorf("%s: %w", job.Name, err)}
		}
	}
	name := containerName(job.Name)
	inner := job
	inner.Path = engine
	inner.Args = c.args(name, job)
	inner.Env = nil // they go to the container, as -e
	inner.Dir = ""  // and the working folder, as -w
	res := Local{}.Run(ctx, inner)
	if res.Err != nil {
		// A timeout or cancel stopped the CLI; the container may outlive
		// it (docker's does): remove it, whatever state it is in.
		rm, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = exec.CommandContext(rm, engine, "rm", "--force", name).Run()
	}
	if res.Err == nil && (res.ExitCode == 125 || res.ExitCode == 126 || res.ExitCode == 127) {
		// The engine's own codes: it could not create the container, or
		// the command is not in the image.
		res.Err = fmt.Errorf("%s: %s run exited %d: the container did not start or %s is not in image %s (see the stderr file)",
			job.Name, filepath.Base(engine), res.ExitCode, filepath.Base(job.Path), job.Container.Image)
	}
	return res
}

// args is the engine's command line for job.
func (c Container) args(name string, job Job) []string {
	s := job.Container
	a := []string{"run", "--rm", "--name", name, "--init"}
	pull := s.Pull
	if pull == "" {
		pull = "missing"
	}
	a = append(a, "--pull="+pull)
	if !s.Network {
		a = append(a, "--network", "none")
	}
	if s.CPUs != "" {
		a = append(a, "--cpus", s.CPUs)
	}
	if s.Memory != "" {
		a = append(a, "--memory", s.Memory)
	}
	// Files the scanner writes into the run folder belong to whoever runs
	// Dracon, not to root (a GitHub runner's workspace is the user's).
	if uid := os.Getuid(); uid != 0 {
		a = append(a, "--user", strconv.Itoa(uid)+":"+strconv.Itoa(os.Getgid()), "-e", "HOME=/tmp")
	}
	for _, m := range s.Mounts {
		opt := m.Path + ":" + m.Path
		if m.ReadOnly {
			opt += ":ro"
		}
		a = append(a, "-v", opt)
	}
	if job.Dir != "" {
		a = append(a, "-w", job.Dir)
	}
	for _, e := range job.Env {
		a = append(a, "-e", e)
	}
	a = append(a, "--entrypoint", job.Path, s.Image)
	return append(a, job.Args...)
}

// containerName is unique per job and readable in `podman ps`.
func containerName(job string) string {
	clean := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '-'
	}, strings.ToLower(job))
	return fmt.Sprintf("dracon-%s-%d-%d", clean, os.Getpid(), time.Now().UnixNano())
}
