package cli

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/draconsec/dracon/internal/fingerprint"
	"github.com/draconsec/dracon/internal/gate"
	"github.com/draconsec/dracon/internal/producers/registry"
	"github.com/draconsec/dracon/internal/store"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// runStore: dracon store import --from-dracon DSN
func runStore(ctx context.Context, env Env, args []string) int {
	if len(args) == 0 {
		return usageError(env, fmt.Errorf("store needs a subcommand: import --from-dracon DSN"))
	}
	switch args[0] {
	case "import":
		return storeImport(ctx, env, args[1:])
	default:
		return usageError(env, fmt.Errorf("unknown store subcommand %q (import)", args[0]))
	}
}

// The status history names the import as the one who set a status.
const (
	draconImporter     = "dracon-import"
	draconFPReason     = "false_positive in the Dracon database"
	draconOpenReason   = "imported from the Dracon database"
	draconImportBatch  = 5000
	draconDefaultTool  = "dracon"
	draconImportOrigin = "dracon-import"
)

type storeImportOptions struct {
	storeOptions
	from, repo, tool string
	dryRun           bool
}

func storeImport(ctx context.Context, env Env, args []string) int {
	var o storeImportOptions
	fs := newFlags("store import", env, "store import --from-dracon DSN [--store DSN] [--repo OWNER/NAME] [--tool NAME] [--dry-run]")
	o.register(fs)
	fs.StringVar(&o.from, "from-dracon", "", "the original Dracon's PostgreSQL database (its deduplication enricher's DB_CONNECTION, a postgres:// DSN)")
	fs.StringVar(&o.repo, "repo", "", "repository the findings belong to, as scans name it (owner/name; default: from each row's source, the repository URL)")
	fs.StringVar(&o.tool, "tool", "", "tool to name as the findings' reporter (Dracon's table does not say which producer reported a row; default \"dracon\")")
	fs.BoolVar(&o.dryRun, "dry-run", false, "print what would be imported and write nothing")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return usageError(env, err)
	}
	if len(rest) > 0 {
		return usageError(env, fmt.Errorf("store import takes no arguments (got %q)", rest))
	}
	if strings.TrimSpace(o.from) == "" {
		return usageError(env, fmt.Errorf("store import needs --from-dracon DSN (the Dracon database's postgres:// DSN)"))
	}
	if kind, _, err := store.ParseDSN(o.from); err != nil || kind != store.BackendPostgres {
		return usageError(env, fmt.Errorf("--from-dracon %q: want a PostgreSQL DSN (postgres://...), as Dracon's DB_CONNECTION", redactDSN(o.from)))
	}
	if o.repo != "" && !validRepo(o.repo) {
		return usageError(env, fmt.Errorf("--repo %q: want owner/name", o.repo))
	}
	tool := draconDefaultTool
	if o.tool != "" {
		tool = o.tool
		if p, err := registry.Lookup(o.tool); err == nil {
			tool = p.Name
		}
	}

	rows, err := readDraconIssues(ctx, o.from)
	if err != nil {
		return usageError(env, err)
	}
	in := make([]store.Imported, len(rows))
	perRepo := map[string]int{}
	for i, r := range rows {
		in[i] = r.imported(o.repo, tool)
		perRepo[in[i].Repository]++
	}
	fmt.Fprintf(env.Stderr, "dracon: %d rows in the Dracon issues table at %s (%s)\n", len(rows), redactDSN(o.from), repoCounts(perRepo))

	if o.dryRun {
		return storeImportDryRun(ctx, env, o, rows, in)
	}
	st, where, err := o.open(ctx, env, false)
	if err != nil {
		return usageError(env, err)
	}
	defer st.Close()
	var created, existing int
	for lo := 0; lo < len(in); lo += draconImportBatch {
		n, e, err := st.Import(ctx, in[lo:min(lo+draconImportBatch, len(in))])
		if err != nil {
			fmt.Fprintf(env.Stderr, "dracon: importing into %s: %v\n", where, err)
			if created+existing > 0 {
				fmt.Fprintf(env.Stderr, "dracon: %d rows were imported before that; running the import again carries on (nothing is imported twice)\n", created+existing)
			}
			return gate.ExitError
		}
		created += n
		existing += e
	}
	fmt.Fprintf(env.Stdout, "imported %d rows into %s: %d findings created, %d already there\n", len(in), where, created, existing)
	return 0
}

func storeImportDryRun(ctx context.Context, env Env, o storeImportOptions, rows []draconIssue, in []store.Imported) int {
	dsn, err := o.resolve(env)
	if err != nil {
		return usageError(env, err)
	}
	created, existing := len(in), 0
	kind, path, err := store.ParseDSN(dsn)
	if err != nil {
		return usageError(env, err)
	}
	// A store that is not there yet is not created by a dry run.
	if _, serr := os.Stat(path); kind == store.BackendPostgres || serr == nil {
		st, _, err := o.open(ctx, env, false)
		if err != nil {
			return usageError(env, err)
		}
		created, existing, err = store.DryRunImport(ctx, st, in)
		st.Close()
		if err != nil {
			return usageError(env, fmt.Errorf("findings store: %w", err))
		}
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "HASH\tREPOSITORY\tTOOL\tRULE\tPATH\tSEVERITY\tFIRST SEEN\tLAST SEEN\tSEEN\tSTATUS")
	for i, im := range in {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", shortHash(rows[i].hash), dash(im.Repository), im.Tool, dash(im.Rule),
			dash(im.Path), dash(severityName(im.Severity)), day(im.FirstSeen), day(im.LastSeen), im.TimesSeen, statusOr(im.Status))
	}
	tw.Flush()
	fmt.Fprintf(env.Stderr, "dracon: dry run: importing would create %d findings in %s, %d are there already; nothing was written\n", created, redactDSN(dsn), existing)
	return 0
}

func statusOr(s store.Status) string {
	if s == "" {
		return string(store.StatusOpen)
	}
	return string(s)
}

func shortHash(h string) string {
	if len(h) > 16 {
		return h[:16]
	}
	return h
}

func repoCounts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		name := k
		if name == "" {
			name = "no repository"
		}
		parts = append(parts, fmt.Sprintf("%s: %d", name, m[k]))
	}
	if len(parts) == 0 {
		return "empty"
	}
	return strings.Join(parts, ", ")
}

// draconIssue is one row of the original Dracon's issues table
// (pkg/enrichment/migrations 001-006 of ocurity/dracon): what its
// deduplication enricher knew of a finding.
type draconIssue struct {
	hash, source, target, title, typ, cve, uuid string
	firstSeen, updatedAt                        time.Time
	occurrences                                 int64
	falsePositive                               bool
	severity, confidence                        int32
	cvss                                        float64
}

// readDraconIssues reads every row of the issues table. Dracon's own
// columns are nullable where its migrations left them so (first_seen,
// updated_at, cve, uuid).
func readDraconIssues(ctx context.Context, dsn string) ([]draconIssue, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("the Dracon database %s: %w", redactDSN(dsn), err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT "hash", COALESCE(source, ''), COALESCE("target", ''), COALESCE("title", ''), COALESCE("type", ''),
	COALESCE(cve, ''), COALESCE(uuid, ''), first_seen, updated_at, COALESCE(occurrences, 0), COALESCE(false_positive, false),
	COALESCE(severity, 0), COALESCE(confidence, 0), COALESCE(cvss, 0)
FROM issues ORDER BY "hash"`)
	if err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && (pe.Code == "42P01" || pe.Code == "42703") {
			return nil, fmt.Errorf("the Dracon database %s: %s (is this the database of Dracon's deduplication enricher, its DB_CONNECTION, with its migrations applied? a search_path parameter names another schema)", redactDSN(dsn), pe.Message)
		}
		return nil, fmt.Errorf("the Dracon database %s: %w", redactDSN(dsn), err)
	}
	defer rows.Close()
	var out []draconIssue
	for rows.Next() {
		var r draconIssue
		var first, updated *time.Time
		var occ int64
		if err := rows.Scan(&r.hash, &r.source, &r.target, &r.title, &r.typ, &r.cve, &r.uuid, &first, &updated, &occ,
			&r.falsePositive, &r.severity, &r.confidence, &r.cvss); err != nil {
			return nil, fmt.Errorf("the Dracon database %s: reading the issues table: %w", redactDSN(dsn), err)
		}
		if first != nil {
			r.firstSeen = first.UTC()
		}
		if updated != nil {
			r.updatedAt = updated.UTC()
		}
		r.occurrences = max(occ, 0)
		r.hash = strings.TrimSpace(r.hash)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("the Dracon database %s: reading the issues table: %w", redactDSN(dsn), err)
	}
	return out, nil
}

// imported is the row as the store takes it: keyed by Dracon's own hash
// (the legacy/dracon signature, which the identity enricher gives every
// finding of a scan, so the next scan continues the row's history).
func (r draconIssue) imported(repo, tool string) store.Imported {
	if repo == "" {
		repo = repoFromSource(r.source)
	}
	im := store.Imported{
		Repository:   repo,
		Signatures:   []store.Signature{{Algorithm: fingerprint.DraconV2, Value: r.hash}},
		Tool:         tool,
		Rule:         r.typ,
		Path:         targetPath(r.target),
		Severity:     v1.Severity(r.severity).String(),
		Title:        r.title,
		FirstSeen:    r.firstSeen,
		LastSeen:     r.updatedAt,
		TimesSeen:    uint64(r.occurrences),
		Status:       store.StatusOpen,
		StatusBy:     draconImporter,
		StatusReason: draconOpenReason,
		StatusAt:     r.firstSeen,
		Origin:       draconImportOrigin,
	}
	if loc := fingerprint.DraconLocation(r.typ, r.target); loc != "" {
		// The location decides before Dracon's hash, whose target a scan
		// here does not reproduce (fingerprint.DraconLocV1).
		im.Signatures = append([]store.Signature{{Algorithm: fingerprint.DraconLocV1, Value: loc}}, im.Signatures...)
	}
	if r.falsePositive {
		im.Status, im.StatusReason, im.StatusAt = store.StatusFalsePositive, draconFPReason, r.updatedAt
	}
	return im
}

var repoPattern = regexp.MustCompile(`^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+$`)

func validRepo(s string) bool { return repoPattern.MatchString(s) && !strings.Contains(s, "..") }

// repoFromSource reads owner/name from Dracon's source column: the
// repository's URL with ?ref=REV (https://github.com/acme/app.git?ref=main,
// git@github.com:acme/app.git, a GitLab group/subgroup/project path); ""
// when it names no repository.
func repoFromSource(src string) string {
	s := strings.TrimSpace(src)
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		s = s[:i]
	}
	var host, p string
	if u, err := url.Parse(s); err == nil && u.Host != "" {
		host, p = strings.ToLower(u.Hostname()), u.Path
	} else if at := strings.Index(s, "@"); at >= 0 && strings.Contains(s[at:], ":") && !strings.Contains(s, "://") {
		// scp-like: git@github.com:acme/app.git
		rest := s[at+1:]
		c := strings.Index(rest, ":")
		host, p = strings.ToLower(rest[:c]), rest[c+1:]
	} else {
		return ""
	}
	p = strings.Trim(p, "/")
	if i := strings.Index(p, "/-/"); i >= 0 { // GitLab's /-/tree/..., /-/merge_requests/...
		p = p[:i]
	}
	p = strings.TrimSuffix(p, ".git")
	parts := strings.Split(p, "/")
	if host == "github.com" && len(parts) > 2 { // github.com/acme/app/tree/main
		parts = parts[:2]
	}
	p = strings.Join(parts, "/")
	if !validRepo(p) {
		return ""
	}
	return p
}

var lineSuffix = regexp.MustCompile(`:\d+(-\d+)?$`)

// targetPath is the path part of Dracon's target: file:///src/main.go:10-12
// and src/main.go:10 are both a file and its lines.
func targetPath(target string) string {
	t := strings.TrimSpace(target)
	if strings.HasPrefix(strings.ToLower(t), "file://") {
		t = t[len("file://"):]
		if u, err := url.PathUnescape(t); err == nil {
			t = u
		}
	}
	return lineSuffix.ReplaceAllString(t, "")
}
