// Package phorge files findings as Maniphest tasks in Phorge or
// Phabricator, through Conduit: one task per finding, found again on the
// next run by the finding's stable id (held in a searchable custom field,
// or as a "[dracon:<12 hex>]" marker in the title), so a re-run creates
// nothing twice. A finding gone is commented on and its task resolved; a
// finding back reopens a task that was resolved, and leaves alone one a
// person closed another way (wontfix, invalid).
package phorge

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"sync"

	"github.com/draconsec/dracon/internal/config"
	"github.com/draconsec/dracon/internal/consumers"
	"github.com/draconsec/dracon/internal/consumers/tmpl"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// Environment variables read when the config leaves a key unset.
const (
	EnvURL   = "DRACON_PHORGE_URL"
	EnvToken = "DRACON_PHORGE_TOKEN"
)

// defaultPriorities map severities to Maniphest's default priority
// keywords (maniphest.priorities).
var defaultPriorities = map[v1.Severity]string{
	v1.Severity_SEVERITY_CRITICAL: "unbreak",
	v1.Severity_SEVERITY_HIGH:     "high",
	v1.Severity_SEVERITY_MEDIUM:   "normal",
	v1.Severity_SEVERITY_LOW:      "low",
	v1.Severity_SEVERITY_INFO:     "wish",
}

// titleSearchWorkers is how many title searches run at once: enough that
// a large run does not wait on each in turn, few enough not to load the
// install.
const titleSearchWorkers = 4

// Consumer files and updates Maniphest tasks.
type Consumer struct {
	cfg    *config.Phorge
	env    consumers.Env
	base   string
	token  string
	desc   *tmpl.Template // nil: Dracon's Remarkup description
	client *client
}

// New builds the consumer. It needs the install's address and a Conduit
// token (the config's keys or their environment variables); built for a
// dry run (env.DryRun), it needs neither.
func New(cfg *config.Phorge, env consumers.Env) (*Consumer, error) {
	return build(cfg, env, env.DryRun)
}

// NewDryRun builds the consumer for a dry run: without an address or a
// token it looks nothing up and shows every task as one it would create.
func NewDryRun(cfg *config.Phorge, env consumers.Env) (*Consumer, error) {
	return build(cfg, env, true)
}

// errNoURL and errNoToken say where the address and the token go.
var (
	errNoURL   = fmt.Errorf("phorge: no address: set consumers.phorge.url or %s (https://phorge.example.com)", EnvURL)
	errNoToken = fmt.Errorf("phorge: no API token: set consumers.phorge.token (env:NAME or file:PATH) or %s", EnvToken)
)

func build(cfg *config.Phorge, env consumers.Env, dryRun bool) (*Consumer, error) {
	getenv := env.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	raw := firstNonEmpty(cfg.URL, getenv(EnvURL))
	var base string
	switch {
	case raw == "" && !dryRun:
		return nil, errNoURL
	case raw != "":
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("phorge: %q is not the install's address (https://phorge.example.com)", raw)
		}
		base = strings.TrimSuffix(strings.TrimRight(raw, "/"), "/api")
	}
	token, err := env.Secret(cfg.Token, EnvToken)
	if err != nil {
		return nil, fmt.Errorf("phorge: consumers.phorge.token: %w", err)
	}
	if token == "" && !dryRun {
		return nil, errNoToken
	}
	if base == "" {
		token = "" // nowhere to look tasks up
	}
	c := &Consumer{cfg: cfg, env: env, base: base, token: token}
	if cfg.DescriptionTemplate != "" {
		if c.desc, err = tmpl.Parse("consumers.phorge.description_template", cfg.DescriptionTemplate); err != nil {
			return nil, fmt.Errorf("phorge: %w", err)
		}
	}
	c.client = &client{base: base, token: token, http: env.HTTPClient("phorge"), userAgent: "dracon/" + firstNonEmpty(env.Version, "dev")}
	return c, nil
}

// String is the config key.
func (c *Consumer) String() string { return "phorge" }

// entry is one finding as a task.
type entry struct {
	f           consumers.Finding
	id, marker  string
	title, desc string
	priority    string
	projects    []string
}

// Marker is the token a task's title carries when no id field is
// configured: "dracon:" and the first 12 hex digits of the SHA-256 of the
// finding's id (48 bits: no two findings of one repository share it).
func Marker(id string) string {
	sum := sha256.Sum256([]byte(id))
	return "dracon:" + hex.EncodeToString(sum[:6])
}

// Publish files each finding's task, and resolves the tasks of the
// findings gone.
func (c *Consumer) Publish(ctx context.Context, run *consumers.Run, findings []consumers.Finding) (consumers.Delivery, error) {
	var d consumers.Delivery
	// Built for a dry run, and asked to send.
	if run.DryRun == nil && c.base == "" {
		return d, errNoURL
	}
	if run.DryRun == nil && c.token == "" {
		return d, errNoToken
	}
	var entries []entry
	seen := map[string]bool{}
	for _, f := range findings {
		if isSBOM(f.Issue.GetRawIssue()) {
			continue // a bill of materials is no finding to fix
		}
		if id := consumers.ID(f.Issue); seen[id] {
			continue // one task per finding, however many reports of it
		}
		seen[consumers.ID(f.Issue)] = true
		e, err := c.entry(run, f)
		if err != nil {
			d.Failed++
			d.Errors = append(d.Errors, consumers.Errorf(f, "%v", err))
			continue
		}
		entries = append(entries, e)
	}
	// Look every task up before changing any: a finding whose lookup
	// failed is not created (it may have a task), only counted failed.
	var ids []string
	for _, e := range entries {
		ids = append(ids, e.id)
	}
	for _, fx := range run.Fixed {
		ids = append(ids, fx.ID)
	}
	tasks := map[string]*task{}
	lookupFailed := map[string]error{}
	if c.token != "" {
		var err error
		tasks, lookupFailed, err = c.find(ctx, ids)
		if err != nil {
			return d, err
		}
	}
	st := c.statusSet(ctx, len(tasks) > 0)
	for _, e := range entries {
		if err := lookupFailed[e.id]; err != nil {
			d.Failed++
			d.Errors = append(d.Errors, consumers.Errorf(e.f, "looking its task up: %v", err))
			continue
		}
		t := tasks[e.id]
		if t == nil {
			if err := c.apply(ctx, run, 0, c.create(e), &d); errors.Is(err, errAuth) {
				return d, fmt.Errorf("phorge: %w", err)
			} else if err != nil {
				d.Errors = append(d.Errors, consumers.Errorf(e.f, "creating its task: %v", err))
			}
			continue
		}
		xs := c.update(run, e, t, st)
		if len(xs) == 0 {
			d.Unchanged++
			continue
		}
		if err := c.apply(ctx, run, t.ID, xs, &d); errors.Is(err, errAuth) {
			return d, fmt.Errorf("phorge: %w", err)
		} else if err != nil {
			d.Errors = append(d.Errors, consumers.Errorf(e.f, "updating T%d: %v", t.ID, err))
		}
	}
	for _, fx := range run.Fixed {
		t := tasks[fx.ID]
		if t == nil || st.closed[t.Status] {
			continue // never filed, or closed already
		}
		xs := []xact{{"status", st.resolved}, {"comment", "Dracon no longer finds this " + scanLine(run) + ", so it is resolved."}}
		if err := c.apply(ctx, run, t.ID, xs, &d); errors.Is(err, errAuth) {
			return d, fmt.Errorf("phorge: %w", err)
		} else if err != nil {
			d.Errors = append(d.Errors, fmt.Sprintf("%s %s at %s: resolving T%d: %v", fx.Tool, fx.Rule, fx.Path, t.ID, err))
		}
	}
	return d, nil
}

// apply sends (or, in a dry run, prints) one maniphest.edit, and counts
// it: a creation when id is 0, else an update.
func (c *Consumer) apply(ctx context.Context, run *consumers.Run, id int, xs []xact, d *consumers.Delivery) error {
	if run.DryRun != nil {
		what := "would create a task"
		if id > 0 {
			what = fmt.Sprintf("would update T%d", id)
		}
		out, _ := json.MarshalIndent(editParams(id, xs), "  ", "  ")
		fmt.Fprintf(run.DryRun, "phorge: %s: maniphest.edit\n  %s\n", what, out)
	} else if _, err := c.client.edit(ctx, id, xs); err != nil {
		if !errors.Is(err, errAuth) {
			d.Failed++
		}
		return err
	}
	if id == 0 {
		d.Created++
	} else {
		d.Updated++
	}
	return nil
}

// create is a new task's transactions: title, description, priority,
// projects, subscribers, and the id field.
func (c *Consumer) create(e entry) []xact {
	xs := []xact{{"title", e.title}, {"description", e.desc}, {"priority", e.priority}}
	if len(e.projects) > 0 {
		xs = append(xs, xact{"projects.add", e.projects})
	}
	if len(c.cfg.Subscribers) > 0 {
		xs = append(xs, xact{"subscribers.add", c.cfg.Subscribers})
	}
	if c.cfg.IDField != "" {
		xs = append(xs, xact{c.cfg.IDField, e.id})
	}
	return xs
}

// update is what brings a task up to date. Dracon owns the description;
// the title, priority, projects and owner are the people's once the task
// exists. A task resolved (by Dracon or a person) is reopened when the
// finding is back; one closed otherwise (wontfix, invalid, duplicate) was
// decided on and stays closed.
func (c *Consumer) update(run *consumers.Run, e entry, t *task, st statusSet) []xact {
	var xs []xact
	if t.Status == st.resolved {
		xs = append(xs, xact{"status", st.open}, xact{"comment", "Dracon found this again " + scanLine(run) + ", so it is open again."})
	}
	if strings.TrimSpace(t.Description) != strings.TrimSpace(e.desc) {
		xs = append(xs, xact{"description", e.desc})
	}
	return xs
}

// statusSet is the install's statuses as the consumer uses them.
type statusSet struct {
	open, resolved string
	closed         map[string]bool
}

// statusSet reads the install's statuses when tasks were found (Conduit's
// maniphest.status.search); configured ones win. Without it (an install
// that lacks the method), Maniphest's defaults.
func (c *Consumer) statusSet(ctx context.Context, needed bool) statusSet {
	st := statusSet{open: "open", resolved: "resolved",
		closed: map[string]bool{"resolved": true, "wontfix": true, "invalid": true, "duplicate": true, "spite": true}}
	if needed {
		all, err := c.client.statuses(ctx)
		if err != nil {
			fmt.Fprintf(c.env.Log, "dracon: phorge: the install's statuses could not be read (%v): Maniphest's defaults are used\n", err)
		} else if len(all) > 0 {
			st.closed = map[string]bool{}
			for _, s := range all {
				st.closed[s.Value] = s.Closed
				switch s.Special {
				case "default":
					st.open = s.Value
				case "closed":
					st.resolved = s.Value
				}
			}
		}
	}
	st.open = firstNonEmpty(c.cfg.OpenStatus, st.open)
	st.resolved = firstNonEmpty(c.cfg.ResolvedStatus, st.resolved)
	return st
}

// find looks up the tasks of these finding ids: a batched search of the
// id field, or one title search per id. Lookups that failed are given
// per id; an error is a refused token.
func (c *Consumer) find(ctx context.Context, ids []string) (map[string]*task, map[string]error, error) {
	found := map[string][]task{}
	failed := map[string]error{}
	if f := c.cfg.IDField; f != "" {
		for start := 0; start < len(ids); start += searchLimit {
			batch := ids[start:min(start+searchLimit, len(ids))]
			ts, err := c.client.search(ctx, map[string]any{f: batch})
			if errors.Is(err, errAuth) {
				return nil, nil, fmt.Errorf("phorge: %w", err)
			}
			for _, id := range batch {
				if err != nil {
					failed[id] = err
				}
			}
			want := map[string]bool{}
			for _, id := range batch {
				want[id] = true
			}
			for _, t := range ts {
				// A link field's search is exact, but check: the field is
				// the install's, and may be another type.
				if v := t.Custom[f]; want[v] {
					found[v] = append(found[v], t)
				}
			}
		}
	} else {
		// One search per id, a few at a time: a thousand findings would
		// otherwise wait on a thousand round trips in turn.
		type answer struct {
			id  string
			ts  []task
			err error
		}
		jobs, answers := make(chan string), make(chan answer)
		// A refused token stops the searches not yet sent.
		sctx, stop := context.WithCancel(ctx)
		defer stop()
		var wg sync.WaitGroup
		for w := 0; w < min(titleSearchWorkers, len(ids)); w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for id := range jobs {
					if sctx.Err() != nil {
						answers <- answer{id, nil, sctx.Err()}
						continue
					}
					m := Marker(id)
					// Ferret splits "[dracon:3f2a...]" into the terms
					// "dracon" and "3f2a..."; a quoted phrase matches them
					// in that order, and the title is checked for the
					// marker itself.
					ts, err := c.client.search(sctx, map[string]any{"query": `title:"` + strings.Replace(m, ":", " ", 1) + `"`})
					if errors.Is(err, errAuth) {
						stop() // before another worker sends a search
					}
					var mine []task
					for _, t := range ts {
						if strings.Contains(t.Title, "["+m+"]") {
							mine = append(mine, t)
						}
					}
					answers <- answer{id, mine, err}
				}
			}()
		}
		go func() {
			for _, id := range ids {
				jobs <- id
			}
			close(jobs)
			wg.Wait()
			close(answers)
		}()
		var authErr error
		for a := range answers {
			switch {
			case errors.Is(a.err, errAuth):
				authErr = a.err
				stop()
			case a.err != nil:
				failed[a.id] = a.err
			case len(a.ts) > 0:
				found[a.id] = append(found[a.id], a.ts...)
			}
		}
		if authErr != nil {
			return nil, nil, fmt.Errorf("phorge: %w", authErr)
		}
	}
	out := map[string]*task{}
	for id, ts := range found {
		// Several tasks carry the finding (one filed twice, its answer
		// lost): the oldest is the finding's; the others are said.
		sort.Slice(ts, func(i, j int) bool { return ts[i].ID < ts[j].ID })
		t := ts[0]
		out[id] = &t
		for _, o := range ts[1:] {
			if o.ID != t.ID {
				fmt.Fprintf(c.env.Log, "dracon: phorge: T%d also stands for finding %s, which T%d tracks: close it as a duplicate\n", o.ID, id, t.ID)
			}
		}
	}
	return out, failed, nil
}

// entry makes a finding's task.
func (c *Consumer) entry(run *consumers.Run, f consumers.Finding) (entry, error) {
	is, raw := f.Issue, f.Issue.GetRawIssue()
	e := entry{f: f, id: consumers.ID(is)}
	e.marker = Marker(e.id)
	title := firstNonEmpty(oneLine(raw.GetTitle()), raw.GetRuleId(), raw.GetType(), f.Tool+" finding")
	if r := []rune(title); len(r) > 200 {
		title = string(r[:200]) + "…"
	}
	e.title = title
	if c.cfg.IDField == "" {
		e.title = "[" + e.marker + "] " + title
	}
	desc, err := c.description(run, f)
	if err != nil {
		return e, err
	}
	e.desc = desc
	e.priority = defaultPriorities[raw.GetSeverity()]
	if e.priority == "" {
		e.priority = "normal"
	}
	if p := c.cfg.Priorities[strings.ToLower(strings.TrimPrefix(raw.GetSeverity().String(), "SEVERITY_"))]; p != "" {
		e.priority = p
	}
	seen := map[string]bool{}
	add := func(ps []string) {
		for _, p := range ps {
			if !seen[p] {
				seen[p] = true
				e.projects = append(e.projects, p)
			}
		}
	}
	add(c.cfg.Projects)
	for _, o := range consumers.Owners(is) {
		add(c.cfg.OwnerProjects[o])
	}
	return e, nil
}

// description is the task's text: the configured template, or Remarkup
// that stays the same while the finding does (a change is an update).
func (c *Consumer) description(run *consumers.Run, f consumers.Finding) (string, error) {
	is, raw := f.Issue, f.Issue.GetRawIssue()
	id := consumers.ID(is)
	if c.desc != nil {
		v := tmpl.NewView(run.Scan, f.Tool, is)
		v.ID, v.Link = id, consumers.Link(run.Scan, raw)
		s, err := c.desc.Render(v)
		if err != nil {
			return "", fmt.Errorf("description_template: %w", err)
		}
		return s, nil
	}
	var b strings.Builder
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "**%s:** %s\n", k, v)
		}
	}
	line("Tool", strings.TrimSpace(f.Tool+" "+raw.GetToolVersion()))
	line("Rule", firstNonEmpty(raw.GetRuleId(), raw.GetType()))
	loc := firstNonEmpty(raw.GetLocation().GetPath(), raw.GetTarget())
	if n := raw.GetLocation().GetStartLine(); n > 0 && raw.GetLocation().GetPath() != "" {
		loc = fmt.Sprintf("%s:%d", loc, n)
	}
	if loc != "" {
		if l := consumers.Link(run.Scan, raw); l != "" {
			loc = fmt.Sprintf("[[ %s | %s ]]", l, loc)
		} else {
			loc = "`" + loc + "`"
		}
	}
	line("Location", loc)
	sev := tmpl.SeverityText(raw.GetSeverity())
	if conf := tmpl.ConfidenceText(raw.GetConfidence()); conf != "N/A" {
		sev += ", confidence " + conf
	}
	if raw.GetCvss() > 0 {
		sev += fmt.Sprintf(", CVSS %.1f", raw.GetCvss())
	}
	line("Severity", sev)
	line("CVE", raw.GetCve())
	line("Package", firstNonEmpty(raw.GetPackageUrl(), raw.GetPackageVersion()))
	line("Fixed in", raw.GetFixedVersion())
	line("Owners", strings.Join(consumers.Owners(is), ", "))
	line("Dracon ID", "`"+id+"`")
	if d := strings.TrimSpace(raw.GetDescription()); d != "" {
		b.WriteString("\n" + d + "\n")
	}
	if refs := raw.GetReferences(); len(refs) > 0 {
		b.WriteString("\n")
		for _, r := range refs {
			fmt.Fprintf(&b, "- %s\n", r)
		}
	}
	b.WriteString("\n//Filed by Dracon, which rewrites this description when the finding changes.//\n")
	return b.String(), nil
}

// scanLine names the scan in comments: "in scan <id> of acme/shop at
// main (0123456)".
func scanLine(run *consumers.Run) string {
	tags := run.Scan.GetScanTags()
	s := "in scan " + run.Scan.GetScanUuid()
	if r := tags["repository"]; r != "" {
		s += " of " + r
	}
	if ref := consumers.ShortRef(tags["ref"]); ref != "" {
		s += " at " + ref
	}
	if c := tags["commit"]; len(c) >= 7 {
		s += " (" + c[:7] + ")"
	}
	return s
}

// isSBOM is the issue that carries a producer's bill of materials.
func isSBOM(is *v1.Issue) bool { return is.CycloneDXSBOM != nil && is.GetPackageUrl() == "" }

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
