package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/draconsec/dracon/internal/config"
	"github.com/draconsec/dracon/internal/exploitdata"
	"github.com/draconsec/dracon/internal/gate"
	"github.com/draconsec/dracon/internal/httpretry"
)

// dataSummary is the data command's line in the command table.
const dataSummary = "download and check the exploit data scans read (update [--dir DIR] | status [--dir DIR])"

// runData: dracon data update [--dir DIR] [--kev-url URL] [--epss-url URL] | status [--dir DIR]
func runData(ctx context.Context, env Env, args []string) int {
	if len(args) == 0 {
		return usageError(env, errors.New("data needs a subcommand: update [--dir DIR], status [--dir DIR]"))
	}
	switch args[0] {
	case "update":
		return dataUpdate(ctx, env, args[1:])
	case "status":
		return dataStatus(env, args[1:])
	default:
		return usageError(env, fmt.Errorf("unknown data subcommand %q (update, status)", args[0]))
	}
}

type dataOptions struct {
	config, dir     string
	kevURL, epssURL string
	timeout         time.Duration
}

func (o *dataOptions) register(fs *flag.FlagSet) {
	fs.StringVar(&o.config, "config", "", "config file whose enrichers.exploits block gives dir, kev_url and epss_url (default: dracon.yaml here, if present)")
	fs.StringVar(&o.dir, "dir", "", "data folder (default: enrichers.exploits.dir, else $DRACON_DATA_DIR, else Dracon's cache: <user cache dir>/dracon/data)")
}

// exploitsConfig reads the config's enrichers.exploits block.
func (o dataOptions) exploitsConfig() (config.Exploits, error) {
	cfg, _, err := loadConfig(o.config, ".")
	if err != nil {
		return config.Exploits{}, err
	}
	return cfg.Enrichers.Exploits, nil
}

// folder is --dir, else the config's, else the default.
func (o dataOptions) folder(env Env, c config.Exploits) string {
	switch {
	case o.dir != "":
		return o.dir
	case c.Dir != "":
		return c.Dir
	}
	return exploitdata.DefaultDirFrom(env.Getenv)
}

func dataUpdate(ctx context.Context, env Env, args []string) int {
	var o dataOptions
	flags := newFlags("data update", env, "data update [--dir DIR] [--kev-url URL] [--epss-url URL] [--config dracon.yaml] [--timeout 5m]")
	o.register(flags)
	flags.StringVar(&o.kevURL, "kev-url", "", "CISA's Known Exploited Vulnerabilities catalogue JSON (default: enrichers.exploits.kev_url, else "+exploitdata.DefaultKEVURL+")")
	flags.StringVar(&o.epssURL, "epss-url", "", "FIRST's EPSS scores, gzip CSV (default: enrichers.exploits.epss_url, else "+exploitdata.DefaultEPSSURL+")")
	flags.DurationVar(&o.timeout, "timeout", 5*time.Minute, "give up after this long, retries included")
	rest, err := parseFlags(flags, args)
	if err != nil {
		return usageError(env, err)
	}
	if len(rest) > 0 {
		return usageError(env, fmt.Errorf("data update takes no arguments (got %q)", rest))
	}
	c, err := o.exploitsConfig()
	if err != nil {
		return usageError(env, err)
	}
	// Flags are checked as the config's keys are.
	for _, f := range []struct{ name, v string }{{"--kev-url", o.kevURL}, {"--epss-url", o.epssURL}} {
		if f.v == "" {
			continue
		}
		if err := config.CheckDataURL(f.v); err != nil {
			return usageError(env, fmt.Errorf("%s: %w", f.name, err))
		}
	}
	kev, epss := dataSource(o.kevURL, c.KEVURL, exploitdata.DefaultKEVURL), dataSource(o.epssURL, c.EPSSURL, exploitdata.DefaultEPSSURL)
	dir := o.folder(env, c)
	if o.timeout <= 0 {
		o.timeout = 5 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	u := exploitdata.Updater{
		Dir: dir, KEVURL: kev, EPSSURL: epss, UserAgent: "dracon/" + version(),
		// A whole file per attempt: a slow mirror gets two minutes.
		Client: httpretry.New(httpretry.Options{Name: "data", Log: env.Stderr, PerAttempt: 2 * time.Minute}),
	}
	fmt.Fprintf(env.Stdout, "data folder: %s\n", dir)
	outs := u.Update(ctx)
	for _, out := range outs {
		if out.Err != nil {
			fmt.Fprintf(env.Stderr, "dracon: %v (the folder keeps what it had)\n", out.Err)
			continue
		}
		what := "downloaded"
		if out.NotModified {
			what = "unchanged (304), confirmed"
		}
		fmt.Fprintf(env.Stdout, "  %-4s %s: %s from %s\n", out.Name, what, describe(out.Meta), out.Meta.Source)
	}
	if exploitdata.Errors(outs) != nil {
		return gate.ExitError
	}
	return 0
}

// dataSource is the flag's address, else the config's, else the published one.
func dataSource(fromFlag, fromConfig, published string) string {
	if fromFlag != "" {
		return fromFlag
	}
	if fromConfig != "" {
		return fromConfig
	}
	return published
}

// describe says what a data file holds, from its metadata.
func describe(m exploitdata.Meta) string {
	if m.CatalogVersion != "" || m.DateReleased != "" {
		return fmt.Sprintf("catalogue %s released %s, %s", dash(m.CatalogVersion), dash(m.DateReleased), entries(m.Count))
	}
	return fmt.Sprintf("scores of %s (model %s), %s", dash(m.ScoreDate), dash(m.ModelVersion), plural(m.Rows, "CVE"))
}

// dataStatus: what the folder holds, how old it is, and what a scan
// would say of it. Exit 2 when a file is missing or unreadable, so a job
// can run `dracon data status || dracon data update`.
func dataStatus(env Env, args []string) int {
	var o dataOptions
	flags := newFlags("data status", env, "data status [--dir DIR] [--config dracon.yaml]")
	o.register(flags)
	rest, err := parseFlags(flags, args)
	if err != nil {
		return usageError(env, err)
	}
	if len(rest) > 0 {
		return usageError(env, fmt.Errorf("data status takes no arguments (got %q)", rest))
	}
	c, err := o.exploitsConfig()
	if err != nil {
		return usageError(env, err)
	}
	dir := o.folder(env, c)
	d := exploitdata.Load(dir)
	now := time.Now()
	fmt.Fprintf(env.Stdout, "data folder: %s (max_age %s)\n", dir, days(c.Age()))
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "DATA\tFILE\tVERSION\tSIZE\tAGE\tFETCHED\tSOURCE")
	code := 0
	row := func(name string, err error, file, version, size string, fresh time.Time, m *exploitdata.Meta) {
		if err != nil {
			code = gate.ExitError
			state := "unreadable: " + err.Error()
			if errors.Is(err, fs.ErrNotExist) {
				state = "missing: run dracon data update"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t-\t-\t-\t-\n", name, file, state)
			return
		}
		age := now.Sub(fresh)
		ageText := days(age)
		if age > c.Age() {
			ageText += " (old: scans say so)"
		}
		fetched, source := "-", "copied in (no metadata)"
		if m != nil {
			fetched, source = stamp(m.FetchedAt), m.Source
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", name, file, version, size, ageText, fetched, source)
	}
	if d.KEV != nil {
		row("KEV", nil, filepath.Base(d.KEV.Path), d.KEV.Version(), entries(d.KEV.Count), d.KEV.Fresh(), d.KEV.Meta)
	} else {
		row("KEV", d.KEVErr, exploitdata.KEVFile, "", "", time.Time{}, nil)
	}
	if d.EPSS != nil {
		row("EPSS", nil, filepath.Base(d.EPSS.Path), d.EPSS.Version(), plural(d.EPSS.Rows, "CVE"), d.EPSS.Fresh(), d.EPSS.Meta)
	} else {
		row("EPSS", d.EPSSErr, exploitdata.EPSSFile, "", "", time.Time{}, nil)
	}
	tw.Flush()
	return code
}

func entries(n int) string {
	if n == 1 {
		return "1 entry"
	}
	return fmt.Sprintf("%d entries", n)
}

// days writes an age as a reader counts data's: "3 days", "5h0m0s".
func days(d time.Duration) string {
	if d >= 48*time.Hour {
		return fmt.Sprintf("%d days", int(d.Hours()/24))
	}
	if d < 0 {
		return "0s"
	}
	return d.Round(time.Minute).String()
}
