package gitlabnote

import (
	"fmt"
	"net/url"
	"path/filepath"
	"sort"
	"strings"

	"github.com/draconsec/dracon/internal/pipeline"
	"github.com/draconsec/dracon/internal/summary"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// MaxFindings is how many new findings the note lists.
const MaxFindings = 25

// Finding is one new finding in the note.
type Finding struct {
	Severity, Tool, Rule, Title, Path string
	Line                              int
}

// Links are the pipeline's pages the note points to (CI_PROJECT_URL,
// CI_PIPELINE_URL, CI_JOB_URL, CI_COMMIT_SHA).
type Links struct {
	Project, Pipeline, Job, Commit string
}

// LinksFromEnv reads the links from GitLab CI's variables.
func LinksFromEnv(getenv func(string) string) Links {
	return Links{Project: getenv("CI_PROJECT_URL"), Pipeline: getenv("CI_PIPELINE_URL"), Job: getenv("CI_JOB_URL"), Commit: getenv("CI_COMMIT_SHA")}
}

// NewFindings reads the run folder's enriched results and returns the
// new, unsuppressed findings (merged duplicates once), most severe first.
func NewFindings(runDir string) ([]Finding, error) {
	files, err := filepath.Glob(filepath.Join(runDir, "*.enriched.pb"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no *.enriched.pb files in the run folder %q", runDir)
	}
	var out []Finding
	for _, f := range files {
		r, err := pipeline.ReadEnriched(f)
		if err != nil {
			return nil, err
		}
		for _, is := range r.GetIssues() {
			if !is.GetIsNew() || is.GetSuppressed() || is.GetDuplicateOf() != "" || is.GetAnnotations()["dracon.diff"] == "outside" {
				continue
			}
			raw := is.GetRawIssue()
			path, line := raw.GetLocation().GetPath(), int(raw.GetLocation().GetStartLine())
			if path == "" {
				path = raw.GetTarget()
			}
			rule := raw.GetRuleId()
			if rule == "" {
				rule = raw.GetType()
			}
			out = append(out, Finding{Severity: strings.TrimPrefix(raw.GetSeverity().String(), "SEVERITY_"), Tool: r.GetOriginalResults().GetToolName(),
				Rule: rule, Title: raw.GetTitle(), Path: path, Line: line})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if a, b := sevRank(out[i].Severity), sevRank(out[j].Severity); a != b {
			return a > b
		}
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Line < out[j].Line
	})
	return out, nil
}

func sevRank(s string) int {
	return int(v1.Severity_value["SEVERITY_"+s])
}

var severities = []string{"CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO"}

// Body is the note's Markdown for a run's summary and its new findings.
func Body(s *summary.Summary, findings []Finding, l Links) string {
	var b strings.Builder
	b.WriteString(Marker + "\n")
	icon := map[string]string{"passed": ":white_check_mark:", "failed": ":x:"}[s.Verdict]
	if icon == "" {
		icon = ":warning:"
	}
	fmt.Fprintf(&b, "### %s Dracon: %s\n\n", icon, s.Verdict)
	c := s.Counts
	fmt.Fprintf(&b, "**%d findings**: %d new, %d existing, %d fixed, %d suppressed", c.Total, c.New, c.Existing, c.Fixed, c.Suppressed)
	if c.OutsideDiff > 0 {
		fmt.Fprintf(&b, ", %d outside the diff", c.OutsideDiff)
	}
	if bl := s.Baseline; bl != nil && bl.Kind == "branch" && bl.Ref != "" {
		fmt.Fprintf(&b, " (new against `%s`)", strings.TrimPrefix(bl.Ref, "refs/heads/"))
	}
	b.WriteString(".\n\n| Critical | High | Medium | Low | Info |\n|---:|---:|---:|---:|---:|\n|")
	for _, sev := range severities {
		fmt.Fprintf(&b, " %d |", c.BySeverity[sev])
	}
	b.WriteString("\n")
	if len(s.Reasons) > 0 {
		b.WriteString("\n**Why it failed**\n\n")
		for _, r := range s.Reasons {
			fmt.Fprintf(&b, "- %s\n", md(r))
		}
	}
	if len(s.Warnings) > 0 {
		fmt.Fprintf(&b, "\n<details><summary>%d warnings</summary>\n\n", len(s.Warnings))
		for _, w := range s.Warnings {
			fmt.Fprintf(&b, "- %s\n", md(w))
		}
		b.WriteString("\n</details>\n")
	}
	if len(findings) > 0 {
		fmt.Fprintf(&b, "\n**New findings** (%d)\n\n| Severity | Tool | Rule | Where | Title |\n|---|---|---|---|---|\n", len(findings))
		for i, f := range findings {
			if i == MaxFindings {
				fmt.Fprintf(&b, "\n… and %d more in the pipeline's reports.\n", len(findings)-MaxFindings)
				break
			}
			fmt.Fprintf(&b, "| %s | %s | `%s` | %s | %s |\n", f.Severity, md(f.Tool), strings.ReplaceAll(f.Rule, "`", "'"), where(f, l), md(truncate(f.Title, 120)))
		}
	}
	var failed []string
	for _, p := range s.Producers {
		if p.Status != "ok" {
			failed = append(failed, fmt.Sprintf("%s %s", p.Name, p.Status))
		}
	}
	if len(failed) > 0 {
		fmt.Fprintf(&b, "\nProducers not ok: %s.\n", md(strings.Join(failed, ", ")))
	}
	var links []string
	if l.Pipeline != "" {
		links = append(links, "[pipeline]("+l.Pipeline+")")
		links = append(links, "[security and code quality reports]("+l.Pipeline+"/security)")
	}
	if l.Job != "" {
		links = append(links, "[scan job]("+l.Job+")", "[artifacts]("+l.Job+"/artifacts/browse)")
	}
	fmt.Fprintf(&b, "\n<sub>Dracon %s, scan `%s`", md(s.DraconVersion), s.ScanID)
	if len(links) > 0 {
		b.WriteString(" · " + strings.Join(links, " · "))
	}
	b.WriteString(". This note is edited on each run.</sub>\n")
	return b.String()
}

func where(f Finding, l Links) string {
	loc := f.Path
	if f.Line > 0 {
		loc = fmt.Sprintf("%s:%d", f.Path, f.Line)
	}
	if l.Project == "" || l.Commit == "" || f.Path == "" || strings.Contains(f.Path, "://") {
		return "`" + strings.ReplaceAll(loc, "`", "'") + "`"
	}
	u := l.Project + "/-/blob/" + l.Commit + "/" + (&url.URL{Path: f.Path}).EscapedPath()
	if f.Line > 0 {
		u += fmt.Sprintf("#L%d", f.Line)
	}
	return "[" + md(loc) + "](" + u + ")"
}

// md keeps a value from breaking the table or injecting markup.
func md(s string) string {
	r := strings.NewReplacer("|", "\\|", "\n", " ", "\r", " ", "<", "&lt;", ">", "&gt;")
	return r.Replace(s)
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
