// Package produce runs one producer: it starts the scanner with a runner,
// checks how it ended, and parses its report. It keeps the raw report and
// the scanner's stderr in the run directory so a failure can be read later.
package produce

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/draconsec/dracon/internal/producers"
	"github.com/draconsec/dracon/internal/runner"
)

// Status is how a producer's run ended.
type Status string

const (
	OK      Status = "ok"
	Failed  Status = "failed"
	Skipped Status = "skipped"
)

// Outcome is one producer's run.
type Outcome struct {
	Producer string
	Status   Status
	Reason   string // why it failed or was skipped
	Duration time.Duration
	Report   string // path of the raw report
	Stderr   string // path of the scanner's stderr
	ExitCode int
	Parsed   *producers.Parsed
}

// Options for one producer's run.
type Options struct {
	Source  string        // folder to scan
	RunDir  string        // where raw output goes
	Timeout time.Duration // 0: none
	Args    []string      // extra arguments appended to the tool's own
	// Report is a report file to read instead of running the scanner: an
	// earlier CI step ran it, or the producer only imports (sarif).
	Report string
	// Parse reads the report; nil means p.Parse.
	Parse producers.ParseFunc
	// Exclude lists files and folders (slash-separated, relative to
	// Source; a folder ends in "/") to keep the scanner out of, when its
	// Tool knows how (Tool.Exclude).
	Exclude []string
	// Container, when set, runs the scanner in this container instead of
	// on this machine (runner: container): its image, limits and pull
	// policy; the mounts and network are added here.
	Container *runner.ContainerSpec
	// Getenv is the environment a producer that fetches its report reads
	// (Producer.Fetch: GITHUB_TOKEN, ...); nil: the process's.
	Getenv func(string) string
}

// Run runs producer p with r.
func Run(ctx context.Context, r runner.Runner, p *producers.Producer, o Options) Outcome {
	start := time.Now()
	out := run(ctx, r, p, o)
	out.Duration = time.Since(start)
	return out
}

func run(ctx context.Context, r runner.Runner, p *producers.Producer, o Options) Outcome {
	out := Outcome{Producer: p.Name, ExitCode: -1}
	parse := o.Parse
	if parse == nil {
		parse = p.Parse
	}

	if p.Fetch != nil && o.Report == "" { // the report comes from an API
		return fetch(ctx, p, o, out, parse)
	}
	if p.Tool == nil || o.Report != "" { // read the file an earlier step wrote
		if o.Report == "" {
			return skip(out, "no report file configured (set producers."+p.Name+".paths)")
		}
		out.Report = o.Report
		return parseFile(out, p.Name, parse)
	}
	var bin string
	if o.Container != nil {
		bin = p.Tool.Binary // on the image's PATH
	} else {
		var err error
		if bin, err = p.Tool.Locate(); err != nil {
			return skip(out, fmt.Sprintf("%s not installed; install it with: %s", p.Tool.Binary, p.Tool.InstallHint(p.Name)))
		}
	}
	if err := os.MkdirAll(o.RunDir, 0o755); err != nil {
		return fail(out, err.Error())
	}
	src, err := filepath.Abs(o.Source)
	if err != nil {
		return fail(out, err.Error())
	}
	report, err := filepath.Abs(filepath.Join(o.RunDir, p.Name+".report"))
	if err != nil {
		return fail(out, err.Error())
	}
	// A report left by an earlier run must not pass for this one's.
	_ = os.Remove(report)
	out.Report = report
	out.Stderr = filepath.Join(o.RunDir, p.Name+".stderr")
	job := runner.Job{
		Name:    p.Name,
		Path:    bin,
		Args:    args(p.Tool, src, report, o),
		Dir:     src,
		Stderr:  out.Stderr,
		Timeout: o.Timeout,
	}
	if p.Tool.Stdout {
		job.Stdout = report
	}
	if o.Container != nil {
		// The scanner sees the source read-only and writes only its report
		// into the run folder, both at their host paths.
		runDir, err := filepath.Abs(o.RunDir)
		if err != nil {
			return fail(out, err.Error())
		}
		spec := *o.Container
		spec.Network = p.Tool.Network
		spec.Mounts = []runner.Mount{{Path: src, ReadOnly: true}, {Path: runDir}}
		if spec.Image == "" {
			spec.Image = p.Tool.Image
		}
		if spec.Image == "" {
			return fail(out, "runner container: "+p.Name+" has no image in Dracon's catalogue; set producers."+p.Name+".image")
		}
		job.Container = &spec
	}
	res := r.Run(ctx, job)
	out.ExitCode = res.ExitCode
	if res.Err != nil {
		return fail(out, res.Err.Error()+stderrTail(out.Stderr))
	}
	if !p.Tool.ExitOK(res.ExitCode) {
		return fail(out, fmt.Sprintf("%s exited with code %d%s", p.Tool.Binary, res.ExitCode, stderrTail(out.Stderr)))
	}
	return parseFile(out, p.Name, parse)
}

// args is the scanner's command line: its own arguments, those that keep
// it out of excluded paths, then the config's, and last the tool's
// positional targets.
func args(t *producers.Tool, src, report string, o Options) []string {
	own := t.Args(src, report)
	n := t.Targets
	if n > len(own) {
		n = len(own)
	}
	a := append([]string(nil), own[:len(own)-n]...)
	if t.Exclude != nil && len(o.Exclude) > 0 {
		a = append(a, t.Exclude(o.Exclude)...)
	}
	a = append(a, o.Args...)
	return append(a, own[len(own)-n:]...)
}

func parseFile(out Outcome, tool string, parse producers.ParseFunc) Outcome {
	data, err := os.ReadFile(out.Report)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fail(out, fmt.Sprintf("%s wrote no report at %s%s", tool, out.Report, stderrTail(out.Stderr)))
		}
		return fail(out, err.Error())
	}
	parsed, err := parse(data)
	if err != nil {
		var pe *producers.ParseError
		if errors.As(err, &pe) && pe.File == "" {
			pe.File = out.Report
		}
		return fail(out, err.Error())
	}
	out.Status = OK
	out.Parsed = parsed
	if len(parsed.Secrets) > 0 {
		// The report held secret values (the scanner wrote them in full):
		// the run directory keeps it only with them hidden.
		if err := ScrubFiles(producers.NewRedactor(parsed.Secrets), out.Report, out.Stderr); err != nil {
			return fail(out, "hiding secrets in the raw report: "+err.Error())
		}
	}
	return out
}

// ScrubFiles hides the redactor's secrets in files (an empty path is
// skipped), rewriting only the files that hold one.
func ScrubFiles(r *producers.Redactor, paths ...string) error {
	if r.Empty() {
		return nil
	}
	for _, p := range paths {
		if p == "" {
			continue
		}
		data, err := os.ReadFile(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if clean := r.String(string(data)); clean != string(data) {
			if err := os.WriteFile(p, []byte(clean), 0o600); err != nil {
				return err
			}
		}
	}
	return nil
}

func skip(o Outcome, why string) Outcome {
	o.Status, o.Reason = Skipped, why
	return o
}

func fail(o Outcome, why string) Outcome {
	o.Status, o.Reason = Failed, why
	return o
}

// stderrTail quotes the last lines of a scanner's stderr, which usually
// say why it failed.
// ansiEscape is a terminal's colour or cursor sequence.
var ansiEscape = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]`)

func stderrTail(path string) string {
	if path == "" {
		return ""
	}
	b, err := os.ReadFile(path)
	if err != nil || len(strings.TrimSpace(string(b))) == 0 {
		return ""
	}
	// Colour codes (grype's, trivy's) are noise in a reason that reports,
	// Slack messages and summary.json quote.
	text := ansiEscape.ReplaceAllString(string(b), "")
	lines := strings.Split(strings.TrimSpace(text), "\n")
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	return "; stderr: " + strings.Join(lines, " | ")
}
