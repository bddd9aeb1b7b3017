package jira

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	jira "github.com/andygrunwald/go-jira"
	"github.com/draconsec/dracon/internal/consumers"
	"github.com/draconsec/dracon/internal/consumers/tmpl"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

const (
	// maxSummary is Jira's limit on a summary.
	maxSummary = 255
	// maxDescription keeps a description, footer included, under Jira's
	// 32,767 characters for a text field.
	maxDescription = 32000
	// labelPrefix starts the label that carries a ticket's key.
	labelPrefix = "dracon-"
)

// group is what one ticket stands for: a finding, or the findings of one
// rule, file or package.
type group struct {
	// key is the ticket's identity: "finding\x00f0001",
	// "rule\x00acme/shop\x00gosec\x00G101". It is never shown; its hash
	// is the label.
	key string
	// label is labelPrefix and the first 16 hex digits of key's SHA-256:
	// a label is one word, so the key cannot be one itself.
	label string
	// what names the group for people: "finding f0001", "rule gosec G101".
	what string
	// single: the ticket is one finding's, in Dracon's layout.
	single   bool
	findings []consumers.Finding
	// fixed are store findings gone since the last scan that this
	// group's ticket stood for.
	fixed []consumers.Fixed

	// The ticket Dracon writes (render fills them in).
	summary, description, digest string
	mapped                       map[string]any // the mappings' fields
	notes                        []string       // mappings that gave nothing to send
}

// keyOf is the group a finding belongs to under c.groupBy. A finding that
// has nothing to group by (no rule, path or package) has a ticket of its
// own, so it is not lost.
func (c *Consumer) keyOf(repo string, f consumers.Finding) (key, what string, single bool) {
	raw := f.Issue.GetRawIssue()
	switch c.groupBy {
	case "rule":
		if rule := ruleOf(raw); rule != "" {
			return join("rule", repo, f.Tool, rule), "rule " + f.Tool + " " + rule, false
		}
	case "file":
		if p := raw.GetLocation().GetPath(); p != "" {
			return join("file", repo, p), "file " + p, false
		}
	case "package":
		if p := packageOf(raw.GetPackageUrl()); p != "" {
			return join("package", repo, p), "package " + p, false
		}
	}
	id := consumers.ID(f.Issue)
	if id == "" {
		// Results consumed on their own, without ids or hashes: the
		// finding's place stands for it, so unrelated findings do not
		// share a ticket.
		id = fmt.Sprintf("%s/%s@%s", f.Tool, ruleOf(raw), raw.GetTarget())
	}
	return join("finding", id), "finding " + id, true
}

// fixedKeyOf is the group a fixed finding belonged to; ok is false when
// the store's record cannot say (a package: it keeps no package URL).
func (c *Consumer) fixedKeyOf(repo string, fx consumers.Fixed) (key, what string, ok bool) {
	switch c.groupBy {
	case "rule":
		if fx.Rule != "" {
			return join("rule", repo, fx.Tool, fx.Rule), "rule " + fx.Tool + " " + fx.Rule, true
		}
	case "file":
		if fx.Path != "" {
			return join("file", repo, fx.Path), "file " + fx.Path, true
		}
	case "package":
		return "", "", false
	}
	return join("finding", fx.ID), "finding " + fx.ID, true
}

// join separates a key's parts with NUL, which no part holds.
func join(parts ...string) string { return strings.Join(parts, "\x00") }

func ruleOf(raw *v1.Issue) string {
	if r := raw.GetRuleId(); r != "" {
		return r
	}
	return raw.GetType()
}

// packageOf is a package URL without its version, qualifiers and subpath:
// pkg:golang/golang.org/x/net@v0.17.0 is pkg:golang/golang.org/x/net.
// An "@" in a namespace is percent-encoded (pkg:npm/%40angular/core), so
// the first "@" starts the version.
func packageOf(purl string) string {
	if i := strings.IndexAny(purl, "?#"); i >= 0 {
		purl = purl[:i]
	}
	if i := strings.IndexByte(purl, '@'); i >= 0 {
		purl = purl[:i]
	}
	return strings.ToLower(purl)
}

// labelOf is the label carrying key.
func labelOf(key string) string {
	sum := sha256.Sum256([]byte(key))
	return labelPrefix + hex.EncodeToString(sum[:8])
}

// render writes the ticket: summary, description with its footer,
// mapped fields and the digest of what Dracon wrote.
func (c *Consumer) render(scan *v1.ScanInfo, g *group) error {
	var summary, extra string
	var body, steady strings.Builder
	first := g.findings[0]
	if g.single {
		raw := first.Issue.GetRawIssue()
		title := raw.GetTitle()
		if t := raw.GetTarget(); t != "" {
			title = filepath.Base(t) + " " + title
		}
		summary, extra = cutSummary(title)
	} else {
		summary, extra = cutSummary(c.groupSummary(g))
		header := fmt.Sprintf("Dracon found %d %s of %s.\n\n", len(g.findings), plural(len(g.findings), "finding", "findings"), g.what)
		body.WriteString(header)
		steady.WriteString(header)
	}
	if extra != "" {
		// Dracon kept what the summary could not hold at the top of the
		// description.
		body.WriteString(".... " + extra + "\n")
		steady.WriteString(".... " + extra + "\n")
	}
	for i, f := range g.findings {
		v := tmpl.NewView(scan, f.Tool, f.Issue)
		v.ID = consumers.ID(f.Issue)
		if !g.single {
			raw := f.Issue.GetRawIssue()
			heading := fmt.Sprintf("h4. %d. %s at %s (finding %s)\n", i+1, oneLine(raw.GetTitle()), oneLine(raw.GetTarget()), v.ID)
			body.WriteString(heading)
			steady.WriteString(heading)
		}
		for _, out := range []struct {
			b *strings.Builder
			v tmpl.View
		}{{&body, v}, {&steady, steadyView(v)}} {
			text, err := c.template.Render(out.v)
			if err != nil {
				return fmt.Errorf("descriptionTemplate: %w", err)
			}
			out.b.WriteString(text)
			out.b.WriteString(addToDescriptionBlock(c.dracon.AddToDescription, documentOf(out.v)))
			if !g.single && i < len(g.findings)-1 {
				out.b.WriteString("\n")
			}
		}
	}
	g.summary = summary
	g.mapped, g.notes = c.mappedFields(scan, first)
	mapped, _ := json.Marshal(g.mapped) // maps of strings and numbers always encode; keys sorted
	sum := sha256.Sum256([]byte(strings.Join([]string{summary, steady.String(), string(mapped)}, "\x00")))
	g.digest = hex.EncodeToString(sum[:8])
	footer := fmt.Sprintf("\n\n----\nDracon %s (%s, digest %s)", g.what, g.label, g.digest)
	text := strings.TrimRight(body.String(), " \n")
	g.description = cutDescription(text, maxDescription-utf8.RuneCountInString(footer)) + footer
	return nil
}

// groupSummary is a group's summary: stable while the group's findings
// change, so a ticket is not renamed by a new finding.
func (c *Consumer) groupSummary(g *group) string {
	f := g.findings[0]
	raw := f.Issue.GetRawIssue()
	switch c.groupBy {
	case "rule":
		return fmt.Sprintf("%s %s: %s", f.Tool, ruleOf(raw), raw.GetTitle())
	case "file":
		return "Dracon findings in " + raw.GetLocation().GetPath()
	case "package":
		return "Dracon findings in " + packageOf(raw.GetPackageUrl())
	}
	return raw.GetTitle()
}

// mappedFields are the mappings' Jira fields for finding f (a group's
// most severe one). A value that cannot be sent leaves its field out and
// says why, rather than failing the ticket.
func (c *Consumer) mappedFields(scan *v1.ScanInfo, f consumers.Finding) (map[string]any, []string) {
	if len(c.dracon.Mappings) == 0 {
		return nil, nil
	}
	v := tmpl.NewView(scan, f.Tool, f.Issue)
	doc := documentOf(v)
	out := map[string]any{}
	var notes []string
	for _, m := range c.dracon.Mappings {
		val, ok, err := fieldValue(m.FieldType, []string{doc.value(m.DraconField, f.Issue.GetAnnotations())})
		if err != nil {
			notes = append(notes, fmt.Sprintf("mapping %s to %s: %v: the field is left out", m.DraconField, m.JiraField, err))
		}
		if ok {
			out[m.JiraField] = val
		}
	}
	return out, notes
}

// createFields are the fields of a new ticket: the defaults, the
// mappings' fields (which win, as in Dracon), and the group's label.
func (c *Consumer) createFields(g *group) *jira.IssueFields {
	dv := c.dracon.DefaultValues
	f := &jira.IssueFields{
		Project:     jira.Project{Key: c.project},
		Type:        jira.IssueType{Name: c.issueType},
		Summary:     g.summary,
		Description: g.description,
		Environment: dv.Environment,
		Labels:      labels(dv.Labels, g.label),
	}
	for _, name := range dv.Components {
		f.Components = append(f.Components, &jira.Component{Name: name})
	}
	for _, name := range dv.AffectsVersions {
		f.AffectsVersions = append(f.AffectsVersions, &jira.AffectsVersion{Name: name})
	}
	unknowns := map[string]any{}
	for k, v := range c.defaultFields {
		unknowns[k] = v
	}
	for k, v := range g.mapped {
		unknowns[k] = v
	}
	if len(unknowns) > 0 {
		f.Unknowns = unknowns
	}
	return f
}

// updateFields are what an update writes: only what Dracon derives from
// the findings. The defaults were the ticket's at its creation; people
// may have changed them since, and Dracon leaves them be.
func (g *group) updateFields() map[string]any {
	fields := map[string]any{"summary": g.summary, "description": g.description}
	for k, v := range g.mapped {
		fields[k] = v
	}
	return map[string]any{"fields": fields}
}

// labels are the configured labels and the group's own, once each.
func labels(configured []string, own string) []string {
	out := []string{}
	seen := map[string]bool{}
	for _, l := range append(append([]string(nil), configured...), own) {
		if !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	return out
}

// cutSummary is summary on one line (Jira refuses a line break in it), cut
// at Jira's 255 characters; extra is what was cut off.
func cutSummary(s string) (summary, extra string) {
	s = oneLine(s)
	if utf8.RuneCountInString(s) <= maxSummary {
		return s, ""
	}
	r := []rune(s)
	return string(r[:maxSummary]), string(r[maxSummary:])
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// cutDescription keeps s within n characters, saying it was cut.
func cutDescription(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	const note = "\n… (cut: Jira takes 32,767 characters; Dracon's reports have the rest)"
	r := []rune(s)
	return string(r[:n-utf8.RuneCountInString(note)]) + note
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// digestIn finds the digest in a ticket's description footer. The
// description is Jira's JSON: a string (REST v2) or a document (v3's
// Atlassian Document Format), where the footer's text is kept as it was
// written; the last match is the footer's.
var digestIn = regexp.MustCompile(`\(` + labelPrefix + `[0-9a-f]{16}, digest ([0-9a-f]{16})\)`)

func digestOf(description []byte) string {
	m := digestIn.FindAllSubmatch(description, -1)
	if len(m) == 0 {
		return ""
	}
	return string(m[len(m)-1][1])
}

// sortedKeys lists a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
