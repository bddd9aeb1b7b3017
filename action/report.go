package action

import (
	"cmp"
	"fmt"
	"net/url"
	"path"
	"slices"
	"strings"

	"github.com/draconsec/dracon/internal/gitdiff"
	"github.com/draconsec/dracon/internal/summary"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// Report is what the action tells of a run: the summary.json the run
// wrote, its findings in the action's terms, and where they link to.
type Report struct {
	Summary  *summary.Summary
	Findings []Finding // most important first (sortFindings)
	Event    *Event
	// Mode is ModeScan or ModeReleaseGate.
	Mode string
	// Links: ServerURL/Repository/blob/Commit/<path>#L<n>. Commit is the
	// pull request's head on a pull request (the merge commit GitHub
	// scans there is not kept), else the scanned commit.
	ServerURL, Repository, Commit string
	// Source is the scanned folder from the repository's root ("" for
	// the root).
	Source string
	// RunURL is the workflow run, when known.
	RunURL string
	// SARIFFile, SummaryFile, RunDir are the files written.
	SARIFFile, SummaryFile, RunDir string
	// Notes are lines the summary ends with: uploads, comments, skipped steps.
	Notes []string
}

// Finding is one finding as the action shows it.
type Finding struct {
	Tool, Rule, Title, Message string
	Severity                   v1.Severity
	// Path is relative to the repository's root (the workspace), "/"-separated.
	Path       string
	Start, End int
	// Status: new, existing, outside diff or suppressed.
	New, Suppressed, OutsideDiff bool
	// Changed says the finding is on lines the change added (a pull
	// request's diff), when the diff is known.
	Changed bool
	// Gate is the policies' say: deny, warn or "".
	Gate      string
	Reason    string // why it is suppressed
	Hash, ID  string
	TimesSeen uint64
}

// Status is the finding's status word, as dracon run's table has it.
func (f Finding) Status() string {
	switch {
	case f.Suppressed:
		return "suppressed"
	case f.OutsideDiff:
		return "outside diff"
	case f.New:
		return "new"
	case f.TimesSeen > 1:
		return fmt.Sprintf("seen %dx", f.TimesSeen)
	}
	return "existing"
}

// SeverityWord is a severity's upper-case name: HIGH.
func SeverityWord(s v1.Severity) string {
	if s == v1.Severity_SEVERITY_UNSPECIFIED {
		return "UNSPECIFIED"
	}
	return strings.TrimPrefix(s.String(), "SEVERITY_")
}

// Location is path:line, path:start-end, or the path alone.
func (f Finding) Location() string {
	switch {
	case f.Path == "":
		return ""
	case f.End > f.Start && f.Start > 0:
		return fmt.Sprintf("%s:%d-%d", f.Path, f.Start, f.End)
	case f.Start > 0:
		return fmt.Sprintf("%s:%d", f.Path, f.Start)
	}
	return f.Path
}

// Link is the finding's lines on the code host at the report's commit,
// "" when it has no file or the report no repository.
func (r *Report) Link(f Finding) string {
	if r.ServerURL == "" || r.Repository == "" || r.Commit == "" || f.Path == "" || strings.Contains(f.Path, "://") {
		return ""
	}
	u := strings.TrimSuffix(r.ServerURL, "/") + "/" + r.Repository + "/blob/" + r.Commit + "/" + (&url.URL{Path: f.Path}).EscapedPath()
	switch {
	case f.Start > 0 && f.End > f.Start:
		u += fmt.Sprintf("#L%d-L%d", f.Start, f.End)
	case f.Start > 0:
		u += fmt.Sprintf("#L%d", f.Start)
	}
	return u
}

// collect lists the run's findings, each counted once (another tool's
// report of a finding, merged into it, is left out: dracon run's table
// does the same), with paths made relative to the repository's root by
// prefix (the scanned folder's path in the workspace; "" or ".").
// diff, when known, marks the findings on added lines.
func collect(results []*v1.EnrichedLaunchToolResponse, prefix string, diff *gitdiff.Diff) []Finding {
	var out []Finding
	for _, r := range results {
		tool := r.GetOriginalResults().GetToolName()
		for _, ei := range r.GetIssues() {
			if ei.GetDuplicateOf() != "" {
				continue
			}
			is := ei.GetRawIssue()
			f := Finding{
				Tool: cmp.Or(is.GetToolName(), tool), Rule: is.GetRuleId(), Title: oneLine(is.GetTitle()),
				Message: strings.TrimSpace(is.GetDescription()), Severity: is.GetSeverity(),
				New: ei.GetIsNew(), Suppressed: ei.GetSuppressed(), Reason: ei.GetSuppressionReason(),
				OutsideDiff: ei.GetAnnotations()["dracon.diff"] == "outside",
				Gate:        ei.GetAnnotations()["dracon.policy"],
				Hash:        ei.GetHash(), ID: ei.GetFindingId(), TimesSeen: ei.GetCount(),
			}
			if by := ei.GetSeenBy(); len(by) > 1 {
				f.Tool = strings.Join(by, "+")
			}
			if f.Title == "" {
				f.Title = oneLine(f.Message)
			}
			if loc := is.GetLocation(); loc != nil && loc.GetPath() != "" {
				f.Path = repoPath(prefix, loc.GetPath())
				f.Start, f.End = int(loc.GetStartLine()), int(loc.GetEndLine())
			}
			if diff != nil && f.Path != "" && f.Start > 0 {
				// The diff's paths are relative to the scanned folder, as
				// the finding's own are (gitdiff.Run runs git --relative there).
				f.Changed = diff.Keeps(gitdiff.Added, is.GetLocation().GetPath(), f.Start, max(f.End, f.Start))
			}
			out = append(out, f)
		}
	}
	sortFindings(out)
	return out
}

// repoPath is p, relative to the scanned folder, as a path from the
// repository's root. URLs and package URLs are kept.
func repoPath(prefix, p string) string {
	p = strings.ReplaceAll(p, `\`, "/")
	if strings.Contains(p, "://") || strings.HasPrefix(p, "pkg:") || path.IsAbs(p) {
		return p
	}
	prefix = strings.Trim(strings.ReplaceAll(prefix, `\`, "/"), "/")
	if prefix == "" || prefix == "." {
		return path.Clean(p)
	}
	return path.Join(prefix, p)
}

// rank orders findings by what a reviewer should see first: new on the
// lines the change added, then new, then the rest; suppressed last.
func rank(f Finding) int {
	switch {
	case f.Suppressed:
		return 4
	case f.New && f.Changed:
		return 0
	case f.New:
		return 1
	case f.OutsideDiff:
		return 3
	}
	return 2
}

// sortFindings puts the findings in the order every list of the action
// shows them: rank, then the most severe, then denied by a policy before
// warned of, then tool, path, line and rule, so lists are stable.
func sortFindings(fs []Finding) {
	gateRank := func(g string) int {
		switch g {
		case "deny":
			return 0
		case "warn":
			return 1
		}
		return 2
	}
	slices.SortStableFunc(fs, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(rank(a), rank(b)), cmp.Compare(b.Severity, a.Severity),
			cmp.Compare(gateRank(a.Gate), gateRank(b.Gate)),
			strings.Compare(a.Tool, b.Tool), strings.Compare(a.Path, b.Path), cmp.Compare(a.Start, b.Start),
			strings.Compare(a.Rule, b.Rule))
	})
}

// MaxSeverity is the highest severity of the findings that count (not
// suppressed), lower-case: critical, high, medium, low, info; "none" when
// there is none.
func MaxSeverity(fs []Finding) string {
	top := v1.Severity(-1)
	for _, f := range fs {
		if !f.Suppressed && f.Severity > top {
			top = f.Severity
		}
	}
	if top < 0 {
		return "none"
	}
	return strings.ToLower(SeverityWord(top))
}

// maxSeverityOfCounts is MaxSeverity from summary.json's by_severity,
// for a release gate's summary, which lists no findings.
func maxSeverityOfCounts(by map[string]int) string {
	for _, s := range []string{"CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO", "UNSPECIFIED"} {
		if by[s] > 0 {
			return strings.ToLower(s)
		}
	}
	return "none"
}
