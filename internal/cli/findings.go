package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/draconsec/dracon/internal/gate"
	"github.com/draconsec/dracon/internal/store"
)

// storeOptions are the flags of the commands over the findings store, and
// the store they name: --store, else $DRACON_STORE, else the config's
// enrichers.dedup.store, else .dracon/findings.db (as dracon enrich picks
// it: the flag wins over the environment).
type storeOptions struct {
	dsn, config string
}

func (o *storeOptions) register(fs *flag.FlagSet) {
	fs.StringVar(&o.dsn, "store", "", "findings store: a SQLite file or a postgres:// DSN (default $DRACON_STORE, else the config's enrichers.dedup.store, else .dracon/findings.db)")
	fs.StringVar(&o.config, "config", "", "config whose enrichers.dedup.store names the store (default: dracon.yaml here, if present)")
}

// resolve returns the store's DSN.
func (o storeOptions) resolve(env Env) (string, error) {
	if d := strings.TrimSpace(o.dsn); d != "" {
		return d, nil
	}
	if d := strings.TrimSpace(env.Getenv(store.EnvDSN)); d != "" {
		return d, nil
	}
	cfg, _, err := loadConfig(o.config, ".")
	if err != nil {
		return "", err
	}
	return store.ChooseDSN(cfg.Enrichers.Dedup.Store, nil), nil
}

// open opens the store. A SQLite file that does not exist is an error
// when mustExist (listing or triaging an empty store created on the spot
// helps nobody; the name is likely wrong).
func (o storeOptions) open(ctx context.Context, env Env, mustExist bool) (store.Store, string, error) {
	dsn, err := o.resolve(env)
	if err != nil {
		return nil, "", err
	}
	kind, path, err := store.ParseDSN(dsn)
	if err != nil {
		return nil, "", err
	}
	if kind == store.BackendSQLite && mustExist {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return nil, "", fmt.Errorf("findings store %s does not exist (a run creates it; --store, $%s or the config's enrichers.dedup.store name another)", path, store.EnvDSN)
		}
	}
	st, err := store.Open(ctx, dsn)
	if err != nil {
		return nil, "", fmt.Errorf("findings store: %w", err)
	}
	return st, redactDSN(dsn), nil
}

var kvPassword = regexp.MustCompile(`(?i)(password\s*=\s*)('[^']*'|\S+)`)

// redactDSN hides a password in a DSN shown to the user.
func redactDSN(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
			return u.String()
		}
		return dsn
	}
	return kvPassword.ReplaceAllString(dsn, "${1}xxxxx")
}

// listFlag is a flag given several times or as a comma list.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

// runFindings: dracon findings list | show ID | triage ID
func runFindings(ctx context.Context, env Env, args []string) int {
	if len(args) == 0 {
		return usageError(env, fmt.Errorf("findings needs a subcommand: list, show ID, triage ID"))
	}
	switch args[0] {
	case "list":
		return findingsList(ctx, env, args[1:])
	case "show":
		return findingsShow(ctx, env, args[1:])
	case "triage":
		return findingsTriage(ctx, env, args[1:])
	default:
		return usageError(env, fmt.Errorf("unknown findings subcommand %q (list, show, triage)", args[0]))
	}
}

type findingsListOptions struct {
	storeOptions
	repo, tool, rule, path, format string
	status, severity               listFlag
	limit                          int
}

func findingsList(ctx context.Context, env Env, args []string) int {
	var o findingsListOptions
	fs := newFlags("findings list", env, "findings list [--store DSN] [--repo OWNER/NAME] [--status S,...] [--severity high,...] [--tool T] [--rule R] [--path PREFIX] [--limit N] [--format table|json]")
	o.register(fs)
	fs.StringVar(&o.repo, "repo", "", "only this repository's findings (owner/name)")
	fs.Var(&o.status, "status", "only these statuses: open, fixed, suppressed, false-positive, accepted-risk (repeat or comma list)")
	fs.Var(&o.severity, "severity", "only these severities: info, low, medium, high, critical (repeat or comma list)")
	fs.StringVar(&o.tool, "tool", "", "only findings this tool reported")
	fs.StringVar(&o.rule, "rule", "", "only findings of this rule")
	fs.StringVar(&o.path, "path", "", "only findings whose path starts with this")
	fs.IntVar(&o.limit, "limit", 0, "at most this many findings, most recently seen first (0: all)")
	fs.StringVar(&o.format, "format", "table", "table or json")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return usageError(env, err)
	}
	if len(rest) > 0 {
		return usageError(env, fmt.Errorf("findings list takes no arguments (got %q)", rest))
	}
	if o.format != "table" && o.format != "json" {
		return usageError(env, fmt.Errorf("--format %q: use table or json", o.format))
	}
	if o.limit < 0 {
		return usageError(env, fmt.Errorf("--limit %d: want 0 (all) or more", o.limit))
	}
	f := store.Filter{Repository: o.repo, Tool: o.tool, Rule: o.rule, PathPrefix: o.path, Limit: o.limit}
	for _, s := range o.status {
		st, err := store.ParseStatus(s)
		if err != nil {
			return usageError(env, fmt.Errorf("--status: %w", err))
		}
		f.Status = append(f.Status, st)
	}
	for _, s := range o.severity {
		sev, err := gate.ParseSeverity(s)
		if err != nil || sev == 0 {
			return usageError(env, fmt.Errorf("--severity %q: want info, low, medium, high or critical", s))
		}
		f.Severity = append(f.Severity, sev.String())
	}
	st, _, err := o.open(ctx, env, true)
	if err != nil {
		return usageError(env, err)
	}
	defer st.Close()
	got, err := st.List(ctx, f)
	if err != nil {
		return usageError(env, fmt.Errorf("findings store: %w", err))
	}
	if o.format == "json" {
		out := struct {
			Findings []findingJSON `json:"findings"`
		}{Findings: make([]findingJSON, 0, len(got))}
		for _, fd := range got {
			out.Findings = append(out.Findings, toFindingJSON(fd))
		}
		return writeJSON(env, out)
	}
	if len(got) == 0 {
		fmt.Fprintln(env.Stderr, "dracon: no findings match")
		return 0
	}
	short, err := shortIDs(ctx, st, got)
	if err != nil {
		return usageError(env, fmt.Errorf("findings store: %w", err))
	}
	repos := map[string]bool{}
	for _, fd := range got {
		repos[fd.Repository] = true
	}
	withRepo := len(repos) > 1
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	head := "ID\tSTATUS\tSEVERITY\tTOOLS\tRULE\tLOCATION\tFIRST SEEN\tLAST SEEN\tSEEN"
	if withRepo {
		head = "ID\tREPOSITORY\tSTATUS\tSEVERITY\tTOOLS\tRULE\tLOCATION\tFIRST SEEN\tLAST SEEN\tSEEN"
	}
	fmt.Fprintln(tw, head)
	for _, fd := range got {
		cells := []string{short[fd.ID]}
		if withRepo {
			cells = append(cells, dash(fd.Repository))
		}
		cells = append(cells, string(fd.Status), dash(severityName(fd.Severity)), dash(strings.Join(fd.Tools, ",")), dash(fd.Rule),
			dash(fd.Path), day(fd.FirstSeen), day(fd.LastSeen), fmt.Sprint(fd.TimesSeen))
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	tw.Flush()
	noun := "findings"
	if len(got) == 1 {
		noun = "finding"
	}
	fmt.Fprintf(env.Stderr, "dracon: %d %s\n", len(got), noun)
	return 0
}

// shortIDs gives each listed finding the shortest prefix of its id (at
// least 8 characters) that no other finding in the store shares, so that
// `findings show PREFIX` finds it.
func shortIDs(ctx context.Context, st store.Store, listed []store.Finding) (map[string]string, error) {
	all, err := st.List(ctx, store.Filter{})
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(all))
	for i, f := range all {
		ids[i] = f.ID
	}
	sort.Strings(ids)
	out := make(map[string]string, len(listed))
	for _, f := range listed {
		n := 8
		i := sort.SearchStrings(ids, f.ID)
		for _, j := range []int{i - 1, i + 1} {
			if j >= 0 && j < len(ids) && ids[j] != f.ID {
				n = max(n, commonPrefix(ids[j], f.ID)+1)
			}
		}
		for n < len(f.ID) && f.ID[n-1] == '-' {
			n++
		}
		out[f.ID] = f.ID[:min(n, len(f.ID))]
	}
	return out, nil
}

func commonPrefix(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// resolveID finds the one finding an id or a prefix of it names.
func resolveID(ctx context.Context, st store.Store, prefix string) (string, error) {
	p := strings.ToLower(strings.TrimSpace(prefix))
	if p == "" {
		return "", errors.New("an empty finding id")
	}
	const shown = 20
	got, err := st.List(ctx, store.Filter{IDPrefix: p, Limit: shown + 1})
	if err != nil {
		return "", fmt.Errorf("findings store: %w", err)
	}
	switch len(got) {
	case 0:
		return "", fmt.Errorf("no finding %q in the findings store", prefix)
	case 1:
		return got[0].ID, nil
	}
	for _, f := range got {
		if f.ID == p {
			return f.ID, nil
		}
	}
	var b strings.Builder
	if len(got) > shown {
		fmt.Fprintf(&b, "finding id %q is ambiguous: more than %d findings' ids start with it, among them:", prefix, shown)
		got = got[:shown]
	} else {
		fmt.Fprintf(&b, "finding id %q is ambiguous: %d findings' ids start with it:", prefix, len(got))
	}
	sort.Slice(got, func(i, j int) bool { return got[i].ID < got[j].ID })
	for _, f := range got {
		fmt.Fprintf(&b, "\n  %s  %s  %s %s  %s", f.ID, f.Status, strings.Join(f.Tools, ","), dash(f.Rule), dash(f.Path))
	}
	return "", errors.New(b.String())
}

type findingsShowOptions struct {
	storeOptions
	format      string
	occurrences int
}

func findingsShow(ctx context.Context, env Env, args []string) int {
	var o findingsShowOptions
	fs := newFlags("findings show", env, "findings show ID [--store DSN] [--format text|json] [--occurrences N]")
	o.register(fs)
	fs.StringVar(&o.format, "format", "text", "text or json")
	fs.IntVar(&o.occurrences, "occurrences", 10, "how many of the latest occurrences the text shows (json has up to 100)")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return usageError(env, err)
	}
	if len(rest) != 1 {
		return usageError(env, fmt.Errorf("findings show needs one finding id (or a unique prefix of it)"))
	}
	if o.format != "text" && o.format != "json" {
		return usageError(env, fmt.Errorf("--format %q: use text or json", o.format))
	}
	st, _, err := o.open(ctx, env, true)
	if err != nil {
		return usageError(env, err)
	}
	defer st.Close()
	id, err := resolveID(ctx, st, rest[0])
	if err != nil {
		return usageError(env, err)
	}
	d, err := st.Get(ctx, id)
	if err != nil {
		return usageError(env, fmt.Errorf("findings store: %w", err))
	}
	if o.format == "json" {
		return writeJSON(env, toDetailJSON(d))
	}
	printDetail(env.Stdout, d, o.occurrences)
	return 0
}

func printDetail(w io.Writer, d *store.Detail, maxOcc int) {
	f := d.Finding
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	line := func(k, v string) { fmt.Fprintf(tw, "%s\t%s\n", k, v) }
	line("finding", f.ID)
	line("repository", dash(f.Repository))
	st := string(f.Status)
	if f.StatusBy != "" || f.StatusReason != "" {
		st += " (by " + dash(f.StatusBy) + " at " + stamp(f.StatusAt)
		if f.StatusReason != "" {
			st += ": " + f.StatusReason
		}
		st += ")"
	}
	line("status", st)
	line("severity", dash(severityName(f.Severity)))
	line("tools", dash(strings.Join(f.Tools, ", ")))
	line("rule", dash(f.Rule))
	line("path", dash(f.Path))
	line("title", dash(f.Title))
	line("first seen", stamp(f.FirstSeen)+" (scan "+dash(f.FirstScan)+")")
	line("last seen", stamp(f.LastSeen)+" (scan "+dash(f.LastScan)+")")
	line("times seen", fmt.Sprint(f.TimesSeen))
	if !f.FixedAt.IsZero() {
		line("fixed", stamp(f.FixedAt)+" (scan "+dash(f.FixedScan)+")")
	}
	if f.Reopened > 0 {
		line("reopened", fmt.Sprintf("%d times", f.Reopened))
	}
	tw.Flush()

	fmt.Fprintln(w, "\nSignatures:")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, s := range d.Signatures {
		fmt.Fprintf(tw, "  %s\t%s\n", s.Algorithm, s.Value)
	}
	tw.Flush()

	fmt.Fprintln(w, "\nStatus history:")
	if len(d.History) == 0 {
		fmt.Fprintln(w, "  (none: open since it was first seen)")
	} else {
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  WHEN\tFROM\tTO\tBY\tSCAN\tREASON")
		for _, h := range d.History {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", stamp(h.At), dash(string(h.From)), h.To, dash(h.By), dash(h.ScanID), dash(h.Reason))
		}
		tw.Flush()
	}

	fmt.Fprintln(w, "\nLatest occurrences:")
	if len(d.Occurrences) == 0 {
		fmt.Fprintln(w, "  (none recorded)")
		return
	}
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  SCAN\tTOOL\tLOCATION")
	occ := d.Occurrences
	if maxOcc >= 0 && len(occ) > maxOcc {
		occ = occ[:maxOcc]
	}
	for _, o := range occ {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", o.ScanID, o.Tool, location(o))
	}
	tw.Flush()
	if n := len(d.Occurrences) - len(occ); n > 0 {
		fmt.Fprintf(w, "  ... and %d more (--occurrences N)\n", n)
	}
}

func location(o store.Occurrence) string {
	switch {
	case o.StartLine > 0 && o.EndLine > o.StartLine:
		return fmt.Sprintf("%s:%d-%d", dash(o.Path), o.StartLine, o.EndLine)
	case o.StartLine > 0:
		return fmt.Sprintf("%s:%d", dash(o.Path), o.StartLine)
	}
	return dash(o.Path)
}

type findingsTriageOptions struct {
	storeOptions
	status, reason, by string
}

// triageStatuses are the decisions a person records; fixed is the scans'.
var triageStatuses = []store.Status{store.StatusFalsePositive, store.StatusAcceptedRisk, store.StatusSuppressed, store.StatusOpen}

func findingsTriage(ctx context.Context, env Env, args []string) int {
	var o findingsTriageOptions
	fs := newFlags("findings triage", env, "findings triage ID --status false-positive|accepted-risk|suppressed|open --reason TEXT [--by NAME] [--store DSN]")
	o.register(fs)
	fs.StringVar(&o.status, "status", "", "the decision: false-positive, accepted-risk, suppressed, or open (undo)")
	fs.StringVar(&o.reason, "reason", "", "why (required; kept in the status history)")
	fs.StringVar(&o.by, "by", "", "who decides (default $GITHUB_ACTOR, else $GITLAB_USER_LOGIN, else $USER)")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return usageError(env, err)
	}
	if len(rest) != 1 {
		return usageError(env, fmt.Errorf("findings triage needs one finding id (or a unique prefix of it)"))
	}
	if o.status == "" {
		return usageError(env, fmt.Errorf("findings triage needs --status (false-positive, accepted-risk, suppressed or open)"))
	}
	status, err := store.ParseStatus(o.status)
	if err == nil && !containsStatus(triageStatuses, status) {
		err = fmt.Errorf("%s is what a scan sets; a triager sets false-positive, accepted-risk, suppressed or open", status)
	}
	if err != nil {
		return usageError(env, fmt.Errorf("--status: %w", err))
	}
	reason := strings.TrimSpace(o.reason)
	if reason == "" {
		return usageError(env, fmt.Errorf("findings triage needs --reason: why the finding is %s (it is kept with the decision)", status))
	}
	who := strings.TrimSpace(o.by)
	for _, k := range []string{"GITHUB_ACTOR", "GITLAB_USER_LOGIN", "USER"} {
		if who != "" {
			break
		}
		who = strings.TrimSpace(env.Getenv(k))
	}
	if who == "" {
		return usageError(env, fmt.Errorf("findings triage needs --by NAME (none of GITHUB_ACTOR, GITLAB_USER_LOGIN, USER is set)"))
	}
	st, _, err := o.open(ctx, env, true)
	if err != nil {
		return usageError(env, err)
	}
	defer st.Close()
	id, err := resolveID(ctx, st, rest[0])
	if err != nil {
		return usageError(env, err)
	}
	before, err := st.Get(ctx, id)
	if err != nil {
		return usageError(env, fmt.Errorf("findings store: %w", err))
	}
	f, err := st.SetStatus(ctx, id, status, who, reason)
	if err != nil {
		return usageError(env, fmt.Errorf("findings store: %w", err))
	}
	fmt.Fprintf(env.Stdout, "%s %s %s: %s -> %s (by %s: %s)\n", f.ID, dash(f.Rule), dash(f.Path), before.Status, f.Status, who, reason)
	if status != store.StatusOpen {
		fmt.Fprintln(env.Stderr, "dracon: later runs report it suppressed; the gate and the counts skip it")
	}
	return 0
}

func containsStatus(ss []store.Status, s store.Status) bool {
	for _, v := range ss {
		if v == s {
			return true
		}
	}
	return false
}

// findingJSON is a finding in `findings list --format json` and `show`
// (docs/store.md lists the fields). Every field is always present; times
// are RFC 3339 in UTC, null when they never happened.
type findingJSON struct {
	ID           string     `json:"id"`
	Repository   string     `json:"repository"`
	Status       string     `json:"status"`
	StatusBy     string     `json:"status_by"`
	StatusReason string     `json:"status_reason"`
	StatusAt     *time.Time `json:"status_at"`
	Severity     string     `json:"severity"`
	Tool         string     `json:"tool"`
	Tools        []string   `json:"tools"`
	Rule         string     `json:"rule"`
	Path         string     `json:"path"`
	Title        string     `json:"title"`
	FirstSeen    *time.Time `json:"first_seen"`
	LastSeen     *time.Time `json:"last_seen"`
	FirstScan    string     `json:"first_scan"`
	LastScan     string     `json:"last_scan"`
	TimesSeen    uint64     `json:"times_seen"`
	FixedScan    string     `json:"fixed_scan"`
	FixedAt      *time.Time `json:"fixed_at"`
	Reopened     uint64     `json:"reopened"`
}

type detailJSON struct {
	findingJSON
	Signatures  []signatureJSON  `json:"signatures"`
	History     []historyJSON    `json:"history"`
	Occurrences []occurrenceJSON `json:"occurrences"`
}

type signatureJSON struct {
	Algorithm string `json:"algorithm"`
	Value     string `json:"value"`
}

type historyJSON struct {
	From   string     `json:"from"`
	To     string     `json:"to"`
	By     string     `json:"by"`
	Reason string     `json:"reason"`
	At     *time.Time `json:"at"`
	ScanID string     `json:"scan_id"`
}

type occurrenceJSON struct {
	ScanID    string `json:"scan_id"`
	Tool      string `json:"tool"`
	Path      string `json:"path"`
	StartLine int    `json:"start_line"`
	EndLine   int    `json:"end_line"`
}

func jsonTime(t time.Time) *time.Time {
	if t.IsZero() || t.Unix() <= 0 {
		return nil
	}
	u := t.UTC()
	return &u
}

func toFindingJSON(f store.Finding) findingJSON {
	tools := f.Tools
	if tools == nil {
		tools = []string{}
	}
	return findingJSON{
		ID: f.ID, Repository: f.Repository, Status: string(f.Status), StatusBy: f.StatusBy, StatusReason: f.StatusReason,
		StatusAt: jsonTime(f.StatusAt), Severity: severityName(f.Severity), Tool: f.Tool, Tools: tools, Rule: f.Rule, Path: f.Path,
		Title: f.Title, FirstSeen: jsonTime(f.FirstSeen), LastSeen: jsonTime(f.LastSeen), FirstScan: f.FirstScan, LastScan: f.LastScan,
		TimesSeen: f.TimesSeen, FixedScan: f.FixedScan, FixedAt: jsonTime(f.FixedAt), Reopened: f.Reopened,
	}
}

func toDetailJSON(d *store.Detail) detailJSON {
	out := detailJSON{findingJSON: toFindingJSON(d.Finding), Signatures: []signatureJSON{}, History: []historyJSON{}, Occurrences: []occurrenceJSON{}}
	for _, s := range d.Signatures {
		out.Signatures = append(out.Signatures, signatureJSON{s.Algorithm, s.Value})
	}
	for _, h := range d.History {
		out.History = append(out.History, historyJSON{From: string(h.From), To: string(h.To), By: h.By, Reason: h.Reason, At: jsonTime(h.At), ScanID: h.ScanID})
	}
	for _, o := range d.Occurrences {
		out.Occurrences = append(out.Occurrences, occurrenceJSON{o.ScanID, o.Tool, o.Path, o.StartLine, o.EndLine})
	}
	return out
}

func writeJSON(env Env, v any) int {
	enc := json.NewEncoder(env.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		fmt.Fprintf(env.Stderr, "dracon: %v\n", err)
		return gate.ExitError
	}
	return 0
}

// severityName is a stored severity ("SEVERITY_HIGH") as the table and
// the JSON show it ("HIGH"); "" when unknown.
func severityName(s string) string {
	s = strings.TrimPrefix(s, "SEVERITY_")
	if s == "UNSPECIFIED" {
		return ""
	}
	return s
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// day and stamp show times in UTC.
func day(t time.Time) string {
	if t.IsZero() || t.Unix() <= 0 {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04")
}

func stamp(t time.Time) string {
	if t.IsZero() || t.Unix() <= 0 {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}
