package jira

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"

	jira "github.com/andygrunwald/go-jira"
	"github.com/draconsec/dracon/internal/config"
	"github.com/draconsec/dracon/internal/consumers"
)

// kind is what a run does to one ticket.
type kind int

const (
	// toUpdate: an open ticket whose findings changed.
	toUpdate kind = iota
	// upToDate: an open ticket as Dracon would write it.
	upToDate
	// decided: closed in a state a sync mapping names (Won't Do): a
	// person's decision on the finding, which Dracon leaves closed.
	decided
	// cameBack: a done ticket whose finding is found again: reopened.
	cameBack
	// gone: an open ticket whose findings the store saw fixed.
	gone
)

type step struct {
	kind     kind
	g        *group
	t        *ticket
	decision *config.JiraSyncMapping
}

// plan is what a run does: the tickets to create, and a step per ticket
// found.
type plan struct {
	creates []*group
	steps   []step
	// notes are said in the log before anything is done.
	notes []string
}

func (c *Consumer) plan(groups, fixed []*group, found map[string][]*ticket) plan {
	var p plan
	for _, g := range groups {
		t := c.pick(g, found[g.label], &p)
		switch {
		case t == nil:
			p.creates = append(p.creates, g)
		case c.decision(t) != nil:
			p.steps = append(p.steps, step{kind: decided, g: g, t: t, decision: c.decision(t)})
		case t.done():
			p.steps = append(p.steps, step{kind: cameBack, g: g, t: t})
		case t.Digest == g.digest:
			p.steps = append(p.steps, step{kind: upToDate, g: g, t: t})
		default:
			p.steps = append(p.steps, step{kind: toUpdate, g: g, t: t})
		}
	}
	for _, g := range fixed {
		// No ticket (the finding was never sent), or one already closed:
		// nothing to say.
		if t := c.pick(g, found[g.label], &p); t != nil && !t.done() && c.decision(t) == nil {
			p.steps = append(p.steps, step{kind: gone, g: g, t: t})
		}
	}
	return p
}

// pick is the ticket a group has when several carry its label (a copy
// made by hand, a create Jira carried out but did not confirm): the one
// closed by a decision, else an open one, else the oldest.
func (c *Consumer) pick(g *group, ts []*ticket, p *plan) *ticket {
	if len(ts) == 0 {
		return nil
	}
	best := ts[0]
	for _, t := range ts {
		if c.decision(t) != nil {
			best = t
			break
		}
		if best.done() && !t.done() {
			best = t
		}
	}
	if len(ts) > 1 {
		var others []string
		for _, t := range ts {
			if t != best {
				others = append(others, t.Key)
			}
		}
		p.notes = append(p.notes, fmt.Sprintf("dracon: jira: %s also carry the label %s of %s: Dracon keeps %s", strings.Join(others, ", "), g.label, g.what, best.Key))
	}
	return best
}

// decision is the sync mapping a ticket's status and resolution match,
// if it is one that leaves the finding's ticket closed. Dracon's
// "Resolved" says the finding was fixed: found again, it is reopened.
func (c *Consumer) decision(t *ticket) *config.JiraSyncMapping {
	for i, m := range c.dracon.SyncMappings {
		if m.DraconStatus == "Resolved" || !strings.EqualFold(m.JiraStatus, t.Status) {
			continue
		}
		if m.JiraResolution == "" || strings.EqualFold(m.JiraResolution, t.Resolution) {
			return &c.dracon.SyncMappings[i]
		}
	}
	return nil
}

// triage says what a sync mapping's Dracon status is in the findings
// store: its triage status and how to say it.
func triage(draconStatus string) (status, says string) {
	switch draconStatus {
	case "FalsePositive":
		return "false-positive", "is a false positive"
	case "AcceptedRisk":
		return "accepted-risk", "is an accepted risk"
	case "Duplicate":
		return "suppressed", "is a duplicate"
	}
	return "suppressed", "is suppressed"
}

// decisionLines tell, per finding, how to record a decision made in Jira:
// a consumer cannot write the findings store.
func decisionLines(s step) []string {
	status, says := triage(s.decision.DraconStatus)
	closed := firstOf(s.t.Resolution, s.t.Status)
	reason := strings.NewReplacer(`"`, "", "`", "", "$", "", `\`, "").Replace(fmt.Sprintf("closed in Jira as %s: %s", s.t.Key, closed))
	var out []string
	for _, f := range s.g.findings {
		id := f.Issue.GetFindingId()
		if id == "" {
			out = append(out, fmt.Sprintf("dracon: jira: %s closed as %s: finding %s %s; no findings store records it (enrichers.dedup), so Dracon keeps sending it", s.t.Key, closed, consumers.ID(f.Issue), says))
			continue
		}
		out = append(out, fmt.Sprintf("dracon: jira: %s closed as %s: finding %s %s: run `dracon findings triage %s --status %s --reason \"%s\"`", s.t.Key, closed, id, says, id, status, reason))
	}
	return out
}

// result is what one job did.
type result struct {
	created, updated, unchanged int
	lines                       []string
	failed                      *group
	err                         string
	// failedAt are a create batch's refused groups, each with why.
	failedAt map[*group]string
	// fatal ends the delivery: Jira refused the credentials.
	fatal error
}

type job func(ctx context.Context) result

// execute carries the plan out, a few calls at a time, and reports in
// the plan's order.
func (c *Consumer) execute(ctx context.Context, run *consumers.Run, p plan, d *consumers.Delivery) error {
	for _, n := range p.notes {
		fmt.Fprintln(c.log, n)
	}
	var jobs []job
	for lo := 0; lo < len(p.creates); lo += c.batch {
		batch := p.creates[lo:min(lo+c.batch, len(p.creates))]
		jobs = append(jobs, func(ctx context.Context) result { return c.create(ctx, batch) })
	}
	for _, s := range p.steps {
		switch s.kind {
		case upToDate:
			d.Unchanged += s.g.count()
		case decided:
			d.Unchanged += s.g.count()
			for _, l := range decisionLines(s) {
				fmt.Fprintln(c.log, l)
			}
		case toUpdate:
			jobs = append(jobs, func(ctx context.Context) result { return c.updateTicket(ctx, s) })
		case cameBack:
			jobs = append(jobs, func(ctx context.Context) result { return c.reopen(ctx, run, s) })
		case gone:
			jobs = append(jobs, func(ctx context.Context) result { return c.close(ctx, run, s) })
		}
	}
	results := make([]result, len(jobs))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, max(c.workers, 1))
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			results[i] = j(ctx)
			if results[i].fatal != nil {
				cancel() // the credentials are refused: stop the rest
			}
		}()
	}
	wg.Wait()
	var fatal error
	for _, r := range results {
		d.Created += r.created
		d.Updated += r.updated
		d.Unchanged += r.unchanged
		for _, l := range r.lines {
			fmt.Fprintln(c.log, l)
		}
		if r.failed != nil {
			fail(d, r.failed, r.err)
		}
		for _, g := range sortedGroups(r.failedAt) {
			fail(d, g, r.failedAt[g])
		}
		if r.fatal != nil && fatal == nil {
			fatal = r.fatal
		}
	}
	if fatal != nil {
		return fmt.Errorf("jira: %w", fatal)
	}
	return nil
}

// sortedGroups are a batch's refused groups in a fixed order.
func sortedGroups(m map[*group]string) []*group {
	byLabel := map[string]*group{}
	for g := range m {
		byLabel[g.label] = g
	}
	out := make([]*group, 0, len(m))
	for _, l := range sortedKeys(byLabel) {
		out = append(out, byLabel[l])
	}
	return out
}

// create makes a batch's tickets: one call (go-jira's Create for one,
// the bulk create for more).
func (c *Consumer) create(ctx context.Context, gs []*group) result {
	var r result
	fields := make([]*jira.IssueFields, len(gs))
	for i, g := range gs {
		fields[i] = c.createFields(g)
	}
	var keys []string
	var refused map[int]string
	var err error
	if len(gs) == 1 {
		var key string
		key, err = c.createOne(ctx, fields[0])
		keys = []string{key}
	} else {
		keys, refused, err = c.createBulk(ctx, fields)
	}
	var ae *apiError
	if err != nil && errors.As(err, &ae) && ae.refused() {
		r.fatal = err
		return r
	}
	r.failedAt = map[*group]string{}
	if err != nil {
		// A call the retries could not get through may still have been
		// carried out: what Jira has now is what was created.
		var there map[string][]*ticket
		if ae != nil && ae.unanswered() {
			labels := make([]string, len(gs))
			for i, g := range gs {
				labels[i] = g.label
			}
			there, _ = c.search(ctx, labels)
		}
		for _, g := range gs {
			if ts := there[g.label]; len(ts) > 0 {
				r.created += g.count()
				r.lines = append(r.lines, fmt.Sprintf("dracon: jira: created %s for %s (Jira did not confirm it: %v)", ts[0].Key, g.what, err))
				continue
			}
			r.failedAt[g] = "create: " + strings.TrimPrefix(err.Error(), "create: ")
		}
		return r
	}
	for i, g := range gs {
		if why, no := refused[i]; no {
			r.failedAt[g] = "create refused: " + why
			continue
		}
		r.created += g.count()
		r.lines = append(r.lines, fmt.Sprintf("dracon: jira: created %s for %s", firstOf(keys[i], "a ticket"), g.what))
		r.lines = append(r.lines, notes(firstOf(keys[i], g.label), g)...)
	}
	return r
}

func notes(key string, g *group) []string {
	var out []string
	for _, n := range g.notes {
		out = append(out, fmt.Sprintf("dracon: jira: %s: %s", key, n))
	}
	return out
}

// updateTicket writes what changed.
func (c *Consumer) updateTicket(ctx context.Context, s step) result {
	if err := c.update(ctx, s.t.Key, s.g.updateFields()); err != nil {
		return failed(s.g, err)
	}
	r := result{updated: s.g.count()}
	r.lines = append([]string{fmt.Sprintf("dracon: jira: updated %s (%s): its findings changed", s.t.Key, s.g.what)}, notes(s.t.Key, s.g)...)
	return r
}

// reopen handles a done ticket whose finding is back: it takes the
// reopen transition (if one is named), says so in a comment once, and,
// reopened, brings the ticket up to date.
func (c *Consumer) reopen(ctx context.Context, run *consumers.Run, s step) result {
	history, err := c.comments(ctx, s.t.Key)
	if err != nil {
		return failed(s.g, err)
	}
	var r result
	reopened := false
	if c.transitions.Reopen != "" {
		if err := c.transition(ctx, s.t.Key, c.transitions.Reopen); err != nil {
			return failed(s.g, err)
		}
		reopened = true
		r.lines = append(r.lines, fmt.Sprintf("dracon: jira: reopened %s (%q): %s is found again", s.t.Key, c.transitions.Reopen, s.g.what))
	}
	if lastState(history) != stateFoundAgain {
		if err := c.comment(ctx, s.t.Key, foundAgainComment(run, s)); err != nil {
			return failed(s.g, err)
		}
		r.lines = append(r.lines, fmt.Sprintf("dracon: jira: commented on %s (%s): %s is found again", s.t.Key, s.t.closedAs(), s.g.what))
	}
	if reopened && s.t.Digest != s.g.digest {
		if err := c.update(ctx, s.t.Key, s.g.updateFields()); err != nil {
			return failed(s.g, err)
		}
	}
	if len(r.lines) == 0 {
		r.unchanged = s.g.count() // said before, and nothing to reopen with
		return r
	}
	r.updated = s.g.count()
	return r
}

// close handles an open ticket whose findings are fixed: a comment once,
// and the fixed transition if one is named.
func (c *Consumer) close(ctx context.Context, run *consumers.Run, s step) result {
	history, err := c.comments(ctx, s.t.Key)
	if err != nil {
		return failed(s.g, err)
	}
	var r result
	if lastState(history) != stateFixed {
		if err := c.comment(ctx, s.t.Key, fixedComment(run, s.g)); err != nil {
			return failed(s.g, err)
		}
		r.lines = append(r.lines, fmt.Sprintf("dracon: jira: commented on %s: %s is fixed", s.t.Key, s.g.what))
	}
	if c.transitions.Fixed != "" {
		if err := c.transition(ctx, s.t.Key, c.transitions.Fixed); err != nil {
			return failed(s.g, err)
		}
		r.lines = append(r.lines, fmt.Sprintf("dracon: jira: closed %s (%q): %s is fixed", s.t.Key, c.transitions.Fixed, s.g.what))
	}
	if len(r.lines) == 0 {
		r.unchanged = s.g.count()
		return r
	}
	r.updated = s.g.count()
	return r
}

func failed(g *group, err error) result {
	r := result{failed: g, err: err.Error()}
	var ae *apiError
	if errors.As(err, &ae) && ae.refused() {
		r.fatal = err
	}
	return r
}

// Dracon's comments end with their state, so a re-run finds what it last
// said and does not say it twice.
const (
	stateFixed      = "fixed"
	stateFoundAgain = "found again"
)

var stateIn = regexp.MustCompile(`_dracon state: (fixed|found again)_`)

// lastState is the state of Dracon's latest comment ("" for none).
func lastState(comments []string) string {
	for i := len(comments) - 1; i >= 0; i-- {
		if m := stateIn.FindAllStringSubmatch(comments[i], -1); len(m) > 0 {
			return m[len(m)-1][1]
		}
	}
	return ""
}

func foundAgainComment(run *consumers.Run, s step) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Dracon found this again in scan %s, after the ticket was closed as %s:\n", run.Scan.GetScanUuid(), s.t.closedAs())
	for _, f := range s.g.findings {
		raw := f.Issue.GetRawIssue()
		fmt.Fprintf(&b, "* %s %s at %s (finding %s)\n", f.Tool, ruleOf(raw), oneLine(raw.GetTarget()), consumers.ID(f.Issue))
	}
	b.WriteString("\n_dracon state: " + stateFoundAgain + "_")
	return b.String()
}

func fixedComment(run *consumers.Run, g *group) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Dracon no longer finds this as of scan %s:\n", run.Scan.GetScanUuid())
	for _, fx := range g.fixed {
		fmt.Fprintf(&b, "* %s %s at %s: %s (finding %s)\n", fx.Tool, fx.Rule, fx.Path, oneLine(fx.Title), fx.ID)
	}
	b.WriteString("\n_dracon state: " + stateFixed + "_")
	return b.String()
}

// dryRun writes what the plan would do, payloads included, and counts it
// as done. Only reads are sent: the search, and the comments that say
// whether Dracon already told a ticket what it would tell it.
func (c *Consumer) dryRun(ctx context.Context, w io.Writer, run *consumers.Run, p plan, d *consumers.Delivery) {
	fmt.Fprintf(w, "jira: dry run against %s, project %s: nothing is changed\n", c.site, c.project)
	for _, n := range p.notes {
		fmt.Fprintln(w, strings.TrimPrefix(n, "dracon: "))
	}
	for _, g := range p.creates {
		c.showCreate(w, g)
		d.Created += g.count()
	}
	for _, s := range p.steps {
		switch s.kind {
		case upToDate:
			fmt.Fprintf(w, "jira: %s is up to date (%s)\n", s.t.Key, s.g.what)
			d.Unchanged += s.g.count()
		case decided:
			for _, l := range decisionLines(s) {
				fmt.Fprintln(w, strings.TrimPrefix(l, "dracon: "))
			}
			d.Unchanged += s.g.count()
		case toUpdate:
			fmt.Fprintf(w, "jira: would update %s (%s): its findings changed:\n%s\n", s.t.Key, s.g.what, indent(s.g.updateFields()))
			d.Updated += s.g.count()
		case cameBack:
			acted := false
			if c.transitions.Reopen != "" {
				fmt.Fprintf(w, "jira: would reopen %s (%q): %s is found again\n", s.t.Key, c.transitions.Reopen, s.g.what)
				acted = true
			}
			if c.wouldSay(ctx, w, s.t, stateFoundAgain) {
				fmt.Fprintf(w, "jira: would comment on %s (%s):\n%s\n", s.t.Key, s.t.closedAs(), foundAgainComment(run, s))
				acted = true
			}
			if acted {
				d.Updated += s.g.count()
			} else {
				fmt.Fprintf(w, "jira: %s (%s) was told already that %s is found again\n", s.t.Key, s.t.closedAs(), s.g.what)
				d.Unchanged += s.g.count()
			}
		case gone:
			acted := false
			if c.wouldSay(ctx, w, s.t, stateFixed) {
				fmt.Fprintf(w, "jira: would comment on %s:\n%s\n", s.t.Key, fixedComment(run, s.g))
				acted = true
			}
			if c.transitions.Fixed != "" {
				fmt.Fprintf(w, "jira: would close %s (%q): %s is fixed\n", s.t.Key, c.transitions.Fixed, s.g.what)
				acted = true
			}
			if acted {
				d.Updated += s.g.count()
			} else {
				fmt.Fprintf(w, "jira: %s was told already that %s is fixed\n", s.t.Key, s.g.what)
				d.Unchanged += s.g.count()
			}
		}
	}
}

// wouldSay reads a ticket's comments: whether Dracon's latest is not yet
// in state. Comments that cannot be read are taken as not saying it.
func (c *Consumer) wouldSay(ctx context.Context, w io.Writer, t *ticket, state string) bool {
	history, err := c.comments(ctx, t.Key)
	if err != nil {
		fmt.Fprintf(w, "jira: %s: %v\n", t.Key, err)
		return true
	}
	return lastState(history) != state
}

// dryRunOffline is a dry run without credentials: every ticket would be
// created, and a fixed finding's ticket, if there is one, commented on.
func (c *Consumer) dryRunOffline(w io.Writer, groups, fixed []*group, d *consumers.Delivery) {
	fmt.Fprintf(w, "jira: dry run without Jira (%s): nothing is searched; every ticket is shown as one to create in project %s\n", c.offline, c.project)
	for _, g := range groups {
		c.showCreate(w, g)
		d.Created += g.count()
	}
	for _, g := range fixed {
		fmt.Fprintf(w, "jira: would comment on the open ticket labelled %s, if there is one: %s is fixed\n", g.label, g.what)
	}
}

func (c *Consumer) showCreate(w io.Writer, g *group) {
	fmt.Fprintf(w, "jira: would create a ticket for %s (label %s):\n%s\n", g.what, g.label, indent(bulkIssue{Fields: c.createFields(g)}))
	for _, n := range g.notes {
		fmt.Fprintf(w, "jira: %s: %s\n", g.label, n)
	}
}

// indent is a payload as it reads best: indented, with <, > and & as
// they are (the request escapes them; the JSON means the same).
func indent(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("(%v)", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var plain any
	if err := dec.Decode(&plain); err != nil {
		return string(b)
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	enc.Encode(plain)
	return strings.TrimSuffix(out.String(), "\n")
}
