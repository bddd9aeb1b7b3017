package action

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// MaxSummaryBytes is the most the action writes to the job summary.
// GitHub takes up to 1 MiB (1,048,576 bytes) per step and refuses the
// whole summary above it ("supports content up to a size of 1024k"), so
// the action stays under a million bytes and says what it left out.
const MaxSummaryBytes = 1_000_000

// MaxCommentBytes bounds the pull request comment: GitHub takes 65,536
// characters; bytes are never fewer than characters.
const MaxCommentBytes = 60_000

// Render styles.
const (
	// styleSummary is the job summary: everything, details folded.
	styleSummary = iota
	// styleComment is the pull request comment: the verdict, the counts
	// and the new findings, pointing to the job summary for the rest.
	styleComment
)

// visibleRows is how many new findings the job summary shows before
// folding the rest away; the comment shows fewer.
const (
	visibleRows        = 100
	commentRows        = 20
	visibleReasons     = 30
	maxWarnings        = 100
	truncationReserved = 600
)

// RenderSummary is the job summary of r in at most limit bytes
// (MaxSummaryBytes when limit <= 0).
func RenderSummary(r *Report, limit int) string {
	return render(r, limit, styleSummary)
}

// RenderComment is the pull request comment of r in at most limit bytes
// (MaxCommentBytes when limit <= 0).
func RenderComment(r *Report, limit int) string {
	if limit <= 0 {
		limit = MaxCommentBytes
	}
	return neutralizeMentions(render(r, limit, styleComment))
}

func render(r *Report, limit, style int) string {
	if limit <= 0 {
		limit = MaxSummaryBytes
	}
	s := r.Summary
	head := renderHead(r, style)
	sev := renderSeverityTable(r)
	var producers, details, notes string
	if style == styleSummary {
		producers = renderProducers(r)
		details = renderDetails(r)
	}
	if len(r.Notes) > 0 {
		var b strings.Builder
		b.WriteString("\n")
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "> %s\n", inline(n))
		}
		notes = b.String()
	}
	b := &budget{left: limit - len(head) - len(sev) - len(producers) - len(details) - len(notes) - truncationReserved}

	warnings := ""
	if len(s.Warnings) > 0 {
		var w strings.Builder
		fmt.Fprintf(&w, "\n<details><summary>%s</summary>\n\n", plural(len(s.Warnings), "warning"))
		const closing = "\n</details>\n"
		if b.takeN(w.Len() + len(closing) + 64) { // 64: the "and N more" line
			shown := 0
			for _, line := range s.Warnings {
				l := "- " + linkify(line) + "\n"
				if shown >= maxWarnings || !b.take(l) {
					break
				}
				w.WriteString(l)
				shown++
			}
			if shown < len(s.Warnings) {
				fmt.Fprintf(&w, "- … and %d more in summary.json\n", len(s.Warnings)-shown)
			}
			w.WriteString(closing)
			warnings = w.String()
		}
	}

	var newOnes, others []Finding
	for _, f := range r.Findings {
		if f.New && !f.Suppressed && !f.OutsideDiff {
			newOnes = append(newOnes, f)
		} else {
			others = append(others, f)
		}
	}
	omitted := 0
	var body strings.Builder
	if len(newOnes) > 0 {
		fmt.Fprintf(&body, "\n### New findings (%d)\n\n", len(newOnes))
		if style == styleComment {
			n := min(len(newOnes), commentRows)
			shown := findingsTable(&body, r, newOnes[:n], b)
			if rest := len(newOnes) - shown; rest > 0 {
				fmt.Fprintf(&body, "\n… and %d more new findings", rest)
				if r.RunURL != "" {
					fmt.Fprintf(&body, " in the [job summary](%s)", linkURL(r.RunURL))
				}
				body.WriteString(".\n")
			}
		} else {
			n := min(len(newOnes), visibleRows)
			shown := findingsTable(&body, r, newOnes[:n], b)
			if shown == n && len(newOnes) > n {
				fmt.Fprintf(&body, "\n<details><summary>%d more new findings</summary>\n\n", len(newOnes)-n)
				shown += findingsTable(&body, r, newOnes[n:], b)
				body.WriteString("\n</details>\n")
			}
			omitted += len(newOnes) - shown
		}
	} else if len(r.Findings) > 0 || r.Mode == ModeScan {
		body.WriteString("\nNo new findings.\n")
	}
	if len(others) > 0 && style == styleSummary {
		fmt.Fprintf(&body, "\n<details><summary>%s: %s</summary>\n\n", titleOthers(r), describeOthers(others))
		shown := findingsTable(&body, r, others, b)
		omitted += len(others) - shown
		body.WriteString("\n</details>\n")
	}

	var out strings.Builder
	out.WriteString(head)
	out.WriteString(warnings)
	out.WriteString(sev)
	out.WriteString(body.String())
	out.WriteString(producers)
	out.WriteString(details)
	out.WriteString(notes)
	if omitted > 0 {
		fmt.Fprintf(&out, "\n> [!WARNING]\n> Truncated: %s not listed here: GitHub takes at most 1 MiB of job summary per step. "+
			"Every finding is in the SARIF file and summary.json (the `sarif-file` and `summary-file` outputs) and in the run directory.\n",
			plural(omitted, "finding is", "findings are"))
	}
	text := out.String()
	if len(text) > limit { // the fixed parts alone were too long: cut, on a line
		cut := strings.LastIndex(text[:limit-truncationReserved], "\n")
		text = text[:max(cut, 0)] + "\n\n> [!WARNING]\n> Truncated at GitHub's job summary limit (1 MiB per step): see summary.json.\n"
	}
	return text
}

func titleOthers(r *Report) string {
	if r.Mode == ModeReleaseGate {
		return "Open findings"
	}
	return "Other findings"
}

func describeOthers(fs []Finding) string {
	counts := map[string]int{}
	var order []string
	for _, f := range fs {
		st := f.Status()
		if strings.HasPrefix(st, "seen ") {
			st = "existing"
		}
		if counts[st] == 0 {
			order = append(order, st)
		}
		counts[st]++
	}
	rank := map[string]int{"new": 0, "existing": 1, "outside diff": 2, "suppressed": 3}
	sort.SliceStable(order, func(i, j int) bool { return rank[order[i]] < rank[order[j]] })
	parts := make([]string, len(order))
	for i, st := range order {
		parts[i] = fmt.Sprintf("%d %s", counts[st], st)
	}
	return strings.Join(parts, ", ")
}

// renderHead is the verdict, its reasons and the counts.
func renderHead(r *Report, style int) string {
	s := r.Summary
	var b strings.Builder
	icon, word := "✅", "passed"
	if s.Verdict != "passed" {
		icon, word = "❌", "failed"
		if s.ExitCode == 2 {
			word = "failed (error)"
		}
	}
	what := "Dracon"
	if r.Mode == ModeReleaseGate {
		what = "Dracon release gate"
	}
	fmt.Fprintf(&b, "## %s %s: %s\n\n", icon, what, word)

	c := s.Counts
	var parts []string
	if r.Mode == ModeReleaseGate {
		parts = append(parts, plural(c.Total, "open finding"))
		if c.Suppressed > 0 {
			parts = append(parts, fmt.Sprintf("%d suppressed", c.Suppressed))
		}
	} else {
		parts = append(parts, fmt.Sprintf("**%s**", plural(c.Total, "finding")))
		detail := fmt.Sprintf("%d new, %d existing", c.New, c.Existing)
		if c.OutsideDiff > 0 {
			detail += fmt.Sprintf(", %d outside the diff", c.OutsideDiff)
		}
		if c.Suppressed > 0 {
			detail += fmt.Sprintf(", %d suppressed", c.Suppressed)
		}
		if c.Fixed > 0 {
			detail += fmt.Sprintf("; %d fixed", c.Fixed)
		}
		parts[0] += " (" + detail + ")"
	}
	where := ""
	if r.Repository != "" {
		where = codeText(r.Repository)
	}
	if commit := s.Tags["commit"]; commit != "" {
		short := commit
		if len(short) > 12 {
			short = short[:12]
		}
		at := codeText(short)
		if r.ServerURL != "" && r.Repository != "" && r.Commit != "" {
			at = fmt.Sprintf("[%s](%s)", codeText(shortSHA(r.Commit)), linkURL(strings.TrimSuffix(r.ServerURL, "/")+"/"+r.Repository+"/commit/"+r.Commit))
		}
		where = strings.TrimSpace(where + " at " + at)
	}
	line := strings.Join(parts, ", ")
	if where != "" {
		line += " in " + where
	}
	if r.Source != "" {
		line += ", folder " + codeText(r.Source)
	}
	if ev := r.Event.Describe(); ev != "" {
		line += " · " + inline(ev)
	}
	if r.RunURL != "" && style == styleComment {
		line += fmt.Sprintf(" · [job summary](%s)", linkURL(r.RunURL))
	}
	b.WriteString(line + "\n")

	if len(s.Reasons) > 0 {
		title := "Why it failed"
		fmt.Fprintf(&b, "\n**%s**\n\n", title)
		n := min(len(s.Reasons), visibleReasons)
		for _, reason := range s.Reasons[:n] {
			fmt.Fprintf(&b, "- %s\n", linkify(reason))
		}
		if len(s.Reasons) > n {
			fmt.Fprintf(&b, "- … and %d more reasons in summary.json\n", len(s.Reasons)-n)
		}
	}
	return b.String()
}

var severities = []v1.Severity{v1.Severity_SEVERITY_CRITICAL, v1.Severity_SEVERITY_HIGH, v1.Severity_SEVERITY_MEDIUM,
	v1.Severity_SEVERITY_LOW, v1.Severity_SEVERITY_INFO, v1.Severity_SEVERITY_UNSPECIFIED}

// renderSeverityTable counts the findings (suppressed ones included, as
// summary.json's by_severity does) by severity and tool, with the new
// ones beside. A release gate's summary has no findings: its counts.
func renderSeverityTable(r *Report) string {
	var b strings.Builder
	if len(r.Findings) == 0 {
		by := r.Summary.Counts.BySeverity
		if r.Summary.Counts.Total == 0 {
			return ""
		}
		b.WriteString("\n| Severity | Findings |\n|:--|--:|\n")
		for _, sev := range severities {
			if n := by[SeverityWord(sev)]; n > 0 || sev != v1.Severity_SEVERITY_UNSPECIFIED {
				fmt.Fprintf(&b, "| %s | %d |\n", severityLabel(sev), n)
			}
		}
		return b.String()
	}
	counts := map[v1.Severity]map[string]int{}
	newBy := map[v1.Severity]int{}
	toolSet := map[string]bool{}
	for _, f := range r.Findings {
		if counts[f.Severity] == nil {
			counts[f.Severity] = map[string]int{}
		}
		counts[f.Severity][f.Tool]++
		toolSet[f.Tool] = true
		if f.New && !f.Suppressed && !f.OutsideDiff {
			newBy[f.Severity]++
		}
	}
	tools := make([]string, 0, len(toolSet))
	for t := range toolSet {
		tools = append(tools, t)
	}
	sort.Strings(tools)
	b.WriteString("\n| Severity |")
	for _, t := range tools {
		b.WriteString(" " + inline(t) + " |")
	}
	b.WriteString(" Total | New |\n|:--|")
	for range tools {
		b.WriteString("--:|")
	}
	b.WriteString("--:|--:|\n")
	totals := map[string]int{}
	all, allNew := 0, 0
	for _, sev := range severities {
		row := counts[sev]
		if sev == v1.Severity_SEVERITY_UNSPECIFIED && len(row) == 0 {
			continue
		}
		fmt.Fprintf(&b, "| %s |", severityLabel(sev))
		sum := 0
		for _, t := range tools {
			fmt.Fprintf(&b, " %d |", row[t])
			sum += row[t]
			totals[t] += row[t]
		}
		all += sum
		allNew += newBy[sev]
		fmt.Fprintf(&b, " %d | %d |\n", sum, newBy[sev])
	}
	b.WriteString("| **Total** |")
	for _, t := range tools {
		fmt.Fprintf(&b, " %d |", totals[t])
	}
	fmt.Fprintf(&b, " **%d** | **%d** |\n", all, allNew)
	return b.String()
}

func severityLabel(s v1.Severity) string {
	w := SeverityWord(s)
	return w[:1] + strings.ToLower(w[1:])
}

// findingsTable writes fs as a table, row by row while the budget lasts,
// and returns how many rows it wrote.
func findingsTable(w *strings.Builder, r *Report, fs []Finding, b *budget) int {
	const head = "| Severity | Tool | Rule | Location | Title | Status |\n|:--|:--|:--|:--|:--|:--|\n"
	if len(fs) == 0 || !b.take(head) {
		return 0
	}
	w.WriteString(head)
	n := 0
	for _, f := range fs {
		row := findingRow(r, f)
		if !b.take(row) {
			break
		}
		w.WriteString(row)
		n++
	}
	return n
}

func findingRow(r *Report, f Finding) string {
	loc := inline(f.Location())
	if link := r.Link(f); link != "" {
		loc = fmt.Sprintf("[%s](%s)", loc, linkURL(link))
	}
	status := inline(f.Status())
	if f.Changed {
		status += ", on a changed line"
	}
	switch f.Gate {
	case "deny":
		status += ", **fails the gate**"
	case "warn":
		status += ", warned of"
	}
	if f.Suppressed && f.Reason != "" {
		status += ": " + inline(cut(f.Reason, 80))
	}
	return fmt.Sprintf("| %s | %s | %s | %s | %s | %s |\n", SeverityWord(f.Severity), inline(f.Tool), code(f.Rule), loc,
		inline(cut(f.Title, 120)), status)
}

// renderProducers is one row per producer: status, version, duration
// and findings.
func renderProducers(r *Report) string {
	ps := r.Summary.Producers
	if len(ps) == 0 {
		return ""
	}
	ps = slices.Clone(ps)
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Name < ps[j].Name })
	var b strings.Builder
	b.WriteString("\n### Producers\n\n| Producer | Status | Version | Duration | Findings |\n|:--|:--|:--|--:|--:|\n")
	var why []string
	for _, p := range ps {
		icon := map[string]string{"ok": "✅", "failed": "❌", "skipped": "⏭️"}[p.Status]
		status := strings.TrimSpace(icon + " " + p.Status)
		if p.Status == "failed" && p.AllowFailure {
			status += " (allowed)"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %d |\n", inline(p.Name), status, inline(dash(p.ToolVersion)), duration(p.DurationSeconds), p.Findings)
		if p.Reason != "" {
			why = append(why, fmt.Sprintf("- **%s**: %s", inline(p.Name), inline(cut(p.Reason, 1000))))
		}
	}
	if len(why) > 0 {
		b.WriteString("\n" + strings.Join(why, "\n") + "\n")
	}
	return b.String()
}

// renderDetails is the scan's particulars, folded.
func renderDetails(r *Report) string {
	s := r.Summary
	var b strings.Builder
	b.WriteString("\n<details><summary>Details</summary>\n\n")
	if s.ScanID != "" {
		id := "Scan"
		if r.Mode == ModeReleaseGate {
			id = "Gate run"
		}
		fmt.Fprintf(&b, "- %s %s, %s to %s, Dracon %s\n", id, codeText(s.ScanID), s.StartedAt.UTC().Format("2006-01-02 15:04:05Z"),
			s.FinishedAt.UTC().Format("15:04:05Z"), inline(dash(s.DraconVersion)))
	}
	if ref := s.Tags["ref"]; ref != "" {
		fmt.Fprintf(&b, "- Ref %s, event %s\n", codeText(ref), codeText(dash(s.Tags["event"])))
	}
	if bl := s.Baseline; bl != nil {
		line := "- New against: " + inline(bl.Kind)
		switch bl.Kind {
		case "branch":
			line += " " + codeText(bl.Ref)
			if bl.ScanID != "" {
				line += fmt.Sprintf(" (scan %s of %s)", codeText(bl.ScanID), codeText(shortSHA(bl.Commit)))
			}
		case "file":
			line += " " + codeText(bl.File)
		case "previous":
			line += " (what no earlier scan in the findings store saw)"
		}
		if bl.DiffFilter != "" {
			line += fmt.Sprintf("; diff filter %s from %s", codeText(bl.DiffFilter), codeText(shortSHA(bl.DiffBase)))
		}
		b.WriteString(line + "\n")
		for _, n := range bl.Notes {
			fmt.Fprintf(&b, "  - %s\n", inline(n))
		}
	}
	if p := s.Policy; p != nil {
		var pk []string
		for _, pol := range p.Policies {
			pk = append(pk, codeText(pol.Package))
		}
		fmt.Fprintf(&b, "- Policies (%s): %s\n", inline(p.Revision), strings.Join(pk, ", "))
	}
	files := []struct{ what, path string }{{"SARIF", r.SARIFFile}, {"summary.json", r.SummaryFile}, {"Run directory", r.RunDir}}
	for _, f := range files {
		if f.path != "" {
			fmt.Fprintf(&b, "- %s: %s\n", f.what, codeText(f.path))
		}
	}
	b.WriteString("\n</details>\n")
	return b.String()
}

// budget is bytes left to spend.
type budget struct{ left int }

func (b *budget) take(s string) bool { return b.takeN(len(s)) }

func (b *budget) takeN(n int) bool {
	if n > b.left {
		b.left = 0 // nothing smaller after a refusal: rows stay in order
		return false
	}
	b.left -= n
	return true
}

// inline is untrusted text (a scanner's title, a path) made safe in a
// Markdown line and a table cell: one line, HTML escaped, and the
// characters that would start a table cell, a link or emphasis escaped.
func inline(s string) string { return escapeText(oneLine(s)) }

// escapeText escapes s without touching its spaces.
func escapeText(s string) string {
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }), " ")
	return mdEscaper.Replace(s)
}

var mdEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;",
	`\`, `\\`, "|", `\|`, "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "`", "'", "~", `\~`)

// code is s as inline code, cut to 80 characters.
func code(s string) string {
	if s == "" {
		return ""
	}
	return codeText(cut(s, 80))
}

// codeText is s as inline code: Markdown escapes do not work there, so
// only what would end the span or the table cell is replaced.
func codeText(s string) string {
	s = strings.NewReplacer("`", "'", "|", `\|`).Replace(oneLine(s))
	return "`" + s + "`"
}

// linkURL is a URL safe as a Markdown link's destination.
func linkURL(u string) string {
	return strings.NewReplacer("(", "%28", ")", "%29", " ", "%20", "<", "%3C", ">", "%3E").Replace(u)
}

var urlPattern = regexp.MustCompile(`https?://[^\s<>()]+`)

// linkify is a reason line made safe, its URLs made links (a policy's
// deny message ends with the finding's link).
func linkify(s string) string {
	var b strings.Builder
	last := 0
	for _, m := range urlPattern.FindAllStringIndex(s, -1) {
		b.WriteString(escapeText(s[last:m[0]]))
		u := strings.TrimRight(s[m[0]:m[1]], ".,;:")
		fmt.Fprintf(&b, "[%s](%s)", inline(shortLink(u)), linkURL(u))
		last = m[0] + len(u)
	}
	b.WriteString(escapeText(s[last:]))
	return strings.TrimSpace(b.String())
}

// shortLink is a blob link shown as path#L3; other URLs as they are.
func shortLink(u string) string {
	if i := strings.Index(u, "/blob/"); i >= 0 {
		rest := u[i+len("/blob/"):]
		if j := strings.Index(rest, "/"); j >= 0 {
			return rest[j+1:]
		}
	}
	return u
}

var mention = regexp.MustCompile(`(^|[^\w` + "`" + `])@([A-Za-z0-9])`)

// neutralizeMentions keeps a comment from notifying the teams and people
// it names (CODEOWNERS owners in reasons): @acme becomes @&#8203;acme,
// shown the same.
func neutralizeMentions(s string) string {
	return mention.ReplaceAllString(s, "$1@&#8203;$2")
}

func cut(s string, n int) string {
	s = oneLine(s)
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func shortSHA(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

func duration(sec float64) string {
	switch {
	case sec <= 0:
		return "-"
	case sec < 1:
		return fmt.Sprintf("%d ms", int(sec*1000+0.5))
	case sec < 120:
		return fmt.Sprintf("%.1f s", sec)
	}
	return fmt.Sprintf("%dm%02ds", int(sec)/60, int(sec)%60)
}

// plural is "1 finding" or "3 findings"; forms gives the singular and
// plural when adding "s" will not do.
func plural(n int, forms ...string) string {
	one, many := forms[0], forms[0]+"s"
	if len(forms) > 1 {
		many = forms[1]
	}
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
