package produce

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/draconsec/dracon/internal/httpretry"
	"github.com/draconsec/dracon/internal/producers"
	"github.com/draconsec/dracon/internal/secret"
)

// fetch runs a producer whose report comes from an API (p.Fetch): what
// the API answered is written as the run's <name>.report, then parsed
// like a scanner's report, so it is kept for replay and `dracon parse`
// reads it the same. The producer's log lines go to <name>.stderr
// through a masker: a token it registers never reaches a file or the
// failure reason.
func fetch(ctx context.Context, p *producers.Producer, o Options, out Outcome, parse producers.ParseFunc) Outcome {
	if err := os.MkdirAll(o.RunDir, 0o755); err != nil {
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
	logFile, err := os.OpenFile(out.Stderr, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fail(out, err.Error())
	}
	defer logFile.Close()
	m := secret.NewMasker(logFile, nil)
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	getenv := o.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	env := producers.FetchEnv{
		Getenv: getenv,
		Args:   o.Args,
		HTTP:   httpretry.New(httpretry.Options{Name: p.Name, Log: m}),
		Log:    m,
		Masker: m,
	}
	data, err := p.Fetch(ctx, env)
	if err != nil {
		why := err.Error()
		if errors.Is(err, context.DeadlineExceeded) && o.Timeout > 0 {
			why = fmt.Sprintf("timed out after %s: %s", o.Timeout, why)
		}
		return fail(out, m.Clean(why))
	}
	// The alerts of a private repository are not for every reader of
	// the machine.
	if err := os.WriteFile(report, data, 0o600); err != nil {
		return fail(out, err.Error())
	}
	return parseFile(out, p.Name, parse)
}
