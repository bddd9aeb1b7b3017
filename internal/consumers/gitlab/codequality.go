package gitlab

import (
	"strings"

	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// The Code Quality report (doc/ci/testing/code_quality.md): a JSON array
// of CodeClimate issues. GitLab reads description, check_name,
// fingerprint, severity, location.path and location.lines.begin; the
// rest (type, categories, engine_name, content) is CodeClimate's and
// shown by other readers.

type codeQualityIssue struct {
	Type        string              `json:"type"`
	CheckName   string              `json:"check_name"`
	Description string              `json:"description"`
	Content     *codeQualityContent `json:"content,omitempty"`
	Categories  []string            `json:"categories"`
	Fingerprint string              `json:"fingerprint"`
	Severity    string              `json:"severity"`
	EngineName  string              `json:"engine_name"`
	Location    codeQualityLocation `json:"location"`
}

type codeQualityContent struct {
	Body string `json:"body"`
}

type codeQualityLocation struct {
	Path  string           `json:"path"`
	Lines codeQualityLines `json:"lines"`
}

type codeQualityLines struct {
	Begin int32 `json:"begin"`
	End   int32 `json:"end,omitempty"`
}

// codeQualitySeverity maps Dracon's severity onto Code Quality's scale;
// an unrated finding is major, as Dracon's gate counts it medium.
func codeQualitySeverity(s v1.Severity) string {
	switch s {
	case v1.Severity_SEVERITY_CRITICAL:
		return "blocker"
	case v1.Severity_SEVERITY_HIGH:
		return "critical"
	case v1.Severity_SEVERITY_LOW:
		return "minor"
	case v1.Severity_SEVERITY_INFO:
		return "info"
	}
	return "major"
}

// codeQuality lists every kept finding. Its fingerprint is the finding's
// line-independent identity, so the merge request widget does not show
// a finding whose lines moved as fixed and new.
func (p *plan) codeQuality() ([]byte, int, error) {
	out := []codeQualityIssue{}
	for _, f := range p.findings {
		is := f.is
		rule := firstNonEmpty(is.GetRuleId(), is.GetType(), is.GetCve(), "finding")
		path := is.GetLocation().GetPath()
		if path == "" && (f.report == DependencyScanning || f.report == ContainerScanning) {
			// The package without its version: stable when it is bumped.
			path = manifestFallback(is)
		}
		path = firstNonEmpty(path, targetFile(is.GetTarget()), manifestFallback(is))
		begin := is.GetLocation().GetStartLine()
		if begin < 1 {
			begin = 1
		}
		end := is.GetLocation().GetEndLine()
		if end <= begin {
			end = 0
		}
		title := oneLine(firstNonEmpty(is.GetTitle(), rule))
		desc := "[" + f.tool + "] " + title
		if by := f.ei.GetSeenBy(); len(by) > 1 {
			desc = "[" + strings.Join(by, ", ") + "] " + title
		}
		if f.report == DependencyScanning || f.report == ContainerScanning {
			name, version := packageOf(is)
			desc += " (" + name + " " + version
			if fix := strings.TrimSpace(is.GetFixedVersion()); fix != "" {
				desc += ", fixed in " + fix
			}
			desc += ")"
		}
		cq := codeQualityIssue{
			Type:        "issue",
			CheckName:   truncate(f.tool+":"+rule, 255),
			Description: truncate(desc, 1000),
			Categories:  []string{"Security"},
			Fingerprint: f.key,
			Severity:    codeQualitySeverity(is.GetSeverity()),
			EngineName:  f.tool,
			Location:    codeQualityLocation{Path: path, Lines: codeQualityLines{Begin: begin, End: end}},
		}
		if d := strings.TrimSpace(is.GetDescription()); d != "" && d != title {
			cq.Content = &codeQualityContent{Body: truncate(d, 1<<16)}
		}
		out = append(out, cq)
	}
	data, err := encode(out)
	return data, len(out), err
}
