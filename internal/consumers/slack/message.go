package slack

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/draconsec/dracon/internal/consumers"
	"github.com/draconsec/dracon/internal/consumers/tmpl"
	"github.com/draconsec/dracon/internal/policy"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// Slack's limits on a message (Block Kit reference): a message holds 50
// blocks, a section's text 3000 characters, a header's 150, and a
// section's fields 10 of 2000 characters each.
const (
	maxBlocks      = 50
	maxSectionText = 3000
	maxHeaderText  = 150
	maxFields      = 10
	maxFieldText   = 2000
	// maxTitle keeps one finding's line short enough to read.
	maxTitle = 120
)

// DefaultTemplate is Dracon's default short message (its slack
// consumer's consumer-slack-message-template), word for word.
const DefaultTemplate = "Dracon scan <scanID>, started at <scanStartTime>, completed with <numResults> findings, out of which, <newResults> new"

// message is what one channel is sent: the fallback text (the
// notification, and the whole message with a template) and the blocks.
type message struct {
	Text   string        `json:"text"`
	Blocks []slack.Block `json:"blocks,omitempty"`
}

// digest identifies a message's content: a re-run that would send the
// same is left as it is.
func (m message) digest() string {
	b, _ := json.Marshal(m)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// audience is who a message is for: the default channel (teams empty) or
// the channel of some owners.
type audience struct {
	channel  string // as configured: "C0123456789", "#payments-sec"; "" for the webhook's
	teams    []string
	findings []consumers.Finding
	// fixed: the run's fixed findings are told in the default channel
	// only (a fixed finding has no owner to route it by).
	fixed int
}

// run is what every message of one run shares.
type runView struct {
	scan    *v1.ScanInfo
	verdict string
	reasons []string
	links   policy.Context
	top     int
}

func newRunView(run *consumers.Run, top int) runView {
	v := runView{scan: run.Scan, top: top,
		links: policy.ContextFromTags(run.Scan.GetScanUuid(), run.Scan.GetScanTags(), time.Time{})}
	if s := run.Summary; s != nil {
		v.verdict, v.reasons = s.Verdict, s.Reasons
	}
	return v
}

// templateMessage is Dracon's short message: the template with its four
// placeholders replaced as Dracon replaced them (<numResults>: every
// finding sent, <newResults>: the new ones, <scanStartTime>: Go's
// time.String of the start, in UTC).
func templateMessage(template string, scan *v1.ScanInfo, findings []consumers.Finding) message {
	newCount := 0
	for _, f := range findings {
		if f.Issue.GetIsNew() {
			newCount++
		}
	}
	text := strings.ReplaceAll(template, "<numResults>", strconv.Itoa(len(findings)))
	text = strings.ReplaceAll(text, "<scanID>", scan.GetScanUuid())
	text = strings.ReplaceAll(text, "<newResults>", strconv.Itoa(newCount))
	text = strings.ReplaceAll(text, "<scanStartTime>", scan.GetScanStartTime().AsTime().String())
	return message{Text: text}
}

// blocksMessage is the Block Kit message for one audience: the verdict,
// the counts by severity, and the top new findings with links to their
// lines.
func blocksMessage(v runView, a audience) message {
	repo := v.scan.GetScanTags()["repository"]
	if repo == "" {
		repo = "the scanned folder"
	}
	where := repo
	if r := refName(v.scan.GetScanTags()["ref"]); r != "" {
		where += " (" + r + ")"
	}
	verdict, icon := v.verdict, ":information_source:"
	switch v.verdict {
	case "passed":
		icon = ":white_check_mark:"
	case "failed":
		icon = ":x:"
	case "":
		verdict = "not gated"
	}
	var totals, news [6]int // by severity, CRITICAL first
	newFindings := []consumers.Finding{}
	for _, f := range a.findings {
		i := sevIndex(f.Issue.GetRawIssue().GetSeverity())
		totals[i]++
		if consumers.Status(f.Issue) == "new" {
			news[i]++
			newFindings = append(newFindings, f)
		}
	}
	// The policies' denials first among equals: they are what failed the
	// run.
	sort.SliceStable(newFindings, func(i, j int) bool {
		si, sj := newFindings[i].Issue.GetRawIssue().GetSeverity(), newFindings[j].Issue.GetRawIssue().GetSeverity()
		if si != sj {
			return si > sj
		}
		return policyRank(newFindings[i].Issue) < policyRank(newFindings[j].Issue)
	})

	fallback := fmt.Sprintf("Dracon scan of %s: %s, %d findings, %d new", escape(where), verdict, len(a.findings), len(newFindings))
	if len(a.teams) > 0 {
		fallback += " for " + escape(strings.Join(a.teams, ", "))
	}
	blocks := []slack.Block{
		slack.NewHeaderBlock(plain(cut(icon+" Dracon: "+where+" "+verdict, maxHeaderText))),
	}

	head := "*Verdict:* " + escape(verdict)
	blocks = append(blocks, slack.NewSectionBlock(mrkdwn(lines(head, bullets(v.reasons), "reasons")), nil, nil))

	summary := fmt.Sprintf("*%d findings, %d new*", len(a.findings), len(newFindings))
	if len(a.teams) > 0 {
		summary = fmt.Sprintf("*%s: %d findings, %d new*", escape(strings.Join(a.teams, ", ")), len(a.findings), len(newFindings))
	}
	if a.fixed > 0 {
		summary += fmt.Sprintf(", %d fixed since the last scan", a.fixed)
	}
	var fields []*slack.TextBlockObject
	for i, name := range sevNames {
		if totals[i] > 0 && len(fields) < maxFields {
			fields = append(fields, mrkdwn(cut(fmt.Sprintf("*%s*\n%d new · %d total", name, news[i], totals[i]), maxFieldText)))
		}
	}
	blocks = append(blocks, slack.NewSectionBlock(mrkdwn(summary), fields, nil))
	blocks = append(blocks, slack.NewContextBlock("", mrkdwn(cut(scanLine(v), maxSectionText))))

	if v.top > 0 {
		blocks = append(blocks, slack.NewDividerBlock())
		// What is left of Slack's 50 blocks after the ones above, and one
		// for the "and N more" line.
		room := maxBlocks - len(blocks) - 1
		shown := min(v.top, len(newFindings))
		var sections []string
		var cur strings.Builder
		cur.WriteString(fmt.Sprintf("*Top new findings* (%d of %d)", shown, len(newFindings)))
		if len(newFindings) == 0 {
			cur.Reset()
			cur.WriteString("*No new findings.*")
		}
		listed := 0
		for _, f := range newFindings[:shown] {
			line := findingLine(f, v.links)
			if cur.Len()+1+len(line) > maxSectionText {
				if len(sections)+1 >= room {
					break
				}
				sections = append(sections, cur.String())
				cur.Reset()
			} else if cur.Len() > 0 {
				cur.WriteByte('\n')
			}
			cur.WriteString(line)
			listed++
		}
		sections = append(sections, cur.String())
		for _, s := range sections {
			blocks = append(blocks, slack.NewSectionBlock(mrkdwn(s), nil, nil))
		}
		if more := len(newFindings) - listed; more > 0 {
			blocks = append(blocks, slack.NewContextBlock("", mrkdwn(fmt.Sprintf("… and %d more new findings: the run's SARIF and summary.json list them all.", more))))
		}
	}
	return message{Text: fallback, Blocks: blocks}
}

// sevNames are the severities' names, in the counts' order.
var sevNames = [6]string{"Critical", "High", "Medium", "Low", "Info", "Unspecified"}

func sevIndex(s v1.Severity) int {
	switch s {
	case v1.Severity_SEVERITY_CRITICAL:
		return 0
	case v1.Severity_SEVERITY_HIGH:
		return 1
	case v1.Severity_SEVERITY_MEDIUM:
		return 2
	case v1.Severity_SEVERITY_LOW:
		return 3
	case v1.Severity_SEVERITY_INFO:
		return 4
	}
	return 5
}

var sevIcons = [6]string{":red_circle:", ":large_orange_circle:", ":large_yellow_circle:", ":large_blue_circle:", ":white_circle:", ":white_circle:"}

func policyRank(is *v1.EnrichedIssue) int {
	switch consumers.PolicyResult(is) {
	case "deny":
		return 0
	case "warn":
		return 1
	}
	return 2
}

// findingLine is one finding in the list: severity, location (a link to
// the line at the scanned commit where the code host is known), rule,
// title, tool and what the policies said.
func findingLine(f consumers.Finding, links policy.Context) string {
	raw := f.Issue.GetRawIssue()
	loc := raw.GetLocation()
	where := raw.GetTarget()
	if loc.GetPath() != "" {
		where = loc.GetPath()
		if loc.GetStartLine() > 0 {
			where += ":" + strconv.Itoa(int(loc.GetStartLine()))
		}
	}
	if where == "" {
		where = "(no location)"
	}
	at := "`" + escape(cut(where, 200)) + "`"
	if u := links.Link(loc.GetPath(), loc.GetStartLine(), loc.GetEndLine()); u != "" {
		at = "<" + escape(u) + "|" + escape(cut(where, 200)) + ">"
	}
	rule := raw.GetRuleId()
	if rule == "" {
		rule = raw.GetType()
	}
	line := fmt.Sprintf("%s *%s* %s %s: %s _(%s)_", sevIcons[sevIndex(raw.GetSeverity())], tmpl.SeverityText(raw.GetSeverity()),
		at, "`"+escape(cut(rule, 80))+"`", escape(cut(oneLine(raw.GetTitle()), maxTitle)), escape(f.Tool))
	switch consumers.PolicyResult(f.Issue) {
	case "deny":
		line += " *fails the gate*"
	case "warn":
		line += " _warned_"
	}
	// A line must fit a section whatever a report holds (a path of
	// thousands of characters): cut, it loses its link rather than
	// break it.
	if len(line) > maxSectionText-2 {
		line = cut(strings.Replace(line, at, "`"+escape(cut(where, 200))+"`", 1), (maxSectionText-2)/4)
	}
	return "• " + line
}

// scanLine is the context line: which scan, which commit, when.
func scanLine(v runView) string {
	tags := v.scan.GetScanTags()
	parts := []string{"Scan " + escape(v.scan.GetScanUuid())}
	if c := tags["commit"]; c != "" {
		short := c
		if len(c) > 12 {
			short = c[:12]
		}
		if u := commitLink(v.links); u != "" {
			parts = append(parts, "commit <"+escape(u)+"|"+escape(short)+">")
		} else {
			parts = append(parts, "commit "+escape(short))
		}
	}
	if t := v.scan.GetScanStartTime(); t != nil {
		parts = append(parts, "started "+t.AsTime().UTC().Format("2006-01-02 15:04 MST"))
	}
	return strings.Join(parts, " · ")
}

// commitLink is the commit's page on the code host, as policy.Link
// builds file links.
func commitLink(c policy.Context) string {
	if c.ServerURL == "" || c.Repository == "" || c.Commit == "" {
		return ""
	}
	sep := "/commit/"
	if c.CI == "gitlab" {
		sep = "/-/commit/"
	}
	return strings.TrimSuffix(c.ServerURL, "/") + "/" + c.Repository + sep + c.Commit
}

// refName is a ref as people say it: main, v1.2.0, pull request #7.
func refName(ref string) string {
	switch {
	case strings.HasPrefix(ref, "refs/heads/"):
		return strings.TrimPrefix(ref, "refs/heads/")
	case strings.HasPrefix(ref, "refs/tags/"):
		return strings.TrimPrefix(ref, "refs/tags/")
	case strings.HasPrefix(ref, "refs/pull/"):
		n, _, _ := strings.Cut(strings.TrimPrefix(ref, "refs/pull/"), "/")
		return "pull request #" + n
	case strings.HasPrefix(ref, "refs/merge-requests/"):
		n, _, _ := strings.Cut(strings.TrimPrefix(ref, "refs/merge-requests/"), "/")
		return "merge request !" + n
	}
	return ref
}

// lines joins a head and list items under Slack's section limit, saying
// how many items did not fit.
func lines(head string, items []string, what string) string {
	out := head
	for i, it := range items {
		more := fmt.Sprintf("\n… and %d more %s", len(items)-i, what)
		if len(out)+1+len(it)+len(more) > maxSectionText {
			return out + more
		}
		out += "\n" + it
	}
	return out
}

func bullets(items []string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = "• " + escape(cut(oneLine(it), 500))
	}
	return out
}

// escape makes text safe in mrkdwn: Slack reads &, < and > as the start
// of an entity, a link or a mention (<!channel>), and asks for exactly
// these three to be escaped.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// cut shortens s to at most n characters (runes, as Slack counts),
// marking the cut.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func plain(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, true, false)
}

func mrkdwn(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
}
