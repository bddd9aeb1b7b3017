// Package yarnaudit runs `yarn audit` and parses its JSON output: yarn 1's
// JSON lines, yarn 2/3's npm-style document and yarn 4's JSON lines.
package yarnaudit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/draconsec/dracon/internal/producers"
	"github.com/draconsec/dracon/internal/producers/depkit"
	"github.com/draconsec/dracon/internal/producers/npmaudit"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

const name = "yarn-audit"

// Producer is yarn audit: packages in yarn.lock with known vulnerabilities
// (the npm registry's advisories).
var Producer = &producers.Producer{
	Name:         name,
	Aliases:      []string{"yarn_audit", "yarnaudit", "typescript-yarn-audit"},
	Kind:         producers.SCA,
	Languages:    []string{"javascript", "typescript"},
	Description:  "yarn dependencies with known vulnerabilities (npm registry advisories)",
	Formats:      []string{"json"},
	Parse:        Parse,
	Detect:       []string{"yarn.lock"},
	DetectAtRoot: true,
	Tool: &producers.Tool{
		// yarn 1 (classic). Yarn 2+ projects audit with `yarn npm audit
		// --json`, whose output Parse reads too.
		Binary:  "yarn",
		Network: true, // it fetches its vulnerability data
		Version: "1.22.22",
		Install: "npm install -g yarn@1.22.22",
		Image:   "docker.io/library/node:24",
		Args: func(src, out string) []string {
			return []string{"audit", "--json", "--non-interactive"}
		},
		Stdout: true,
		// yarn 1 exits with a bit mask of the severities found:
		// 1 info, 2 low, 4 moderate, 8 high, 16 critical.
		OKExitCodes: okCodes(),
		VersionArgs: []string{"--version"},
	},
}

func okCodes() []int {
	codes := make([]int, 0, 31)
	for c := 1; c < 32; c++ {
		codes = append(codes, c)
	}
	return codes
}

// line is one line of yarn 1 output ({"type", "data"}) or of yarn 4's
// `yarn npm audit --json` ({"value", "children"}).
type line struct {
	Type     string          `json:"type"`
	Data     json.RawMessage `json:"data"`
	Value    *string         `json:"value"`
	Children *berryChild     `json:"children"`
}

type berryChild struct {
	ID                 npmaudit.FlexID `json:"ID"`
	Issue              string          `json:"Issue"`
	URL                string          `json:"URL"`
	Severity           string          `json:"Severity"`
	VulnerableVersions string          `json:"Vulnerable Versions"`
	TreeVersions       []string        `json:"Tree Versions"`
	Dependents         []string        `json:"Dependents"`
}

// Parse reads yarn's audit output: yarn 2/3's single document shaped like
// npm 6's report ("advisories"), or JSON lines: yarn 1's auditAdvisory and
// auditSummary lines (an "error" line makes the report unreadable), or
// yarn 4's one line per vulnerable package.
func Parse(data []byte) (*producers.Parsed, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, &producers.ParseError{Tool: name, Offset: -1, Err: producers.ErrEmpty}
	}
	// One JSON document is yarn 2/3's npm-style report, or JSON lines
	// that happen to be a single line.
	if json.Valid(data) {
		var doc struct {
			Advisories *map[string]npmaudit.Advisory `json:"advisories"`
		}
		if err := producers.DecodeJSON(name, data, &doc); err != nil {
			return nil, err
		}
		if doc.Advisories != nil {
			return npmaudit.ParseAdvisories(name, *doc.Advisories)
		}
	}
	return parseLines(data)
}

func parseLines(data []byte) (*producers.Parsed, error) {
	c := npmaudit.NewCollector(name)
	var berry []*v1.Issue
	recognised := false
	offset := 0
	for n := 1; offset < len(data); n++ {
		end := bytes.IndexByte(data[offset:], '\n')
		if end < 0 {
			end = len(data) - offset
		}
		raw := data[offset : offset+end]
		start := offset
		offset += end + 1
		if len(bytes.TrimSpace(raw)) == 0 {
			continue
		}
		var l line
		if err := producers.DecodeJSON(name, raw, &l); err != nil {
			return nil, lineError(err, n, start)
		}
		switch {
		case l.Value != nil && l.Children != nil:
			recognised = true
			berry = append(berry, berryIssues(*l.Value, l.Children)...)
		case l.Type == "error":
			return nil, producers.Errorf(name, "line %d: yarn audit reported an error: %s", n, text(l.Data))
		case l.Type == "auditAdvisory":
			recognised = true
			var d struct {
				Advisory *npmaudit.Advisory `json:"advisory"`
			}
			if err := producers.DecodeJSON(name, l.Data, &d); err != nil {
				at := start
				if i := bytes.Index(raw, l.Data); i >= 0 {
					at += i // offsets inside "data" count from its start
				}
				return nil, lineError(err, n, at)
			}
			if d.Advisory == nil {
				return nil, producers.Errorf(name, "line %d: auditAdvisory without an advisory", n)
			}
			if err := c.Add(d.Advisory); err != nil {
				return nil, producers.Errorf(name, "line %d: %v", n, err)
			}
		case l.Type == "auditSummary":
			recognised = true
		case l.Type == "":
			return nil, producers.Errorf(name, "line %d: not a yarn audit line (no \"type\", nor \"value\" and \"children\")", n)
		}
	}
	if !recognised {
		return nil, producers.Errorf(name, "not a yarn audit report: no auditAdvisory or auditSummary line")
	}
	return &producers.Parsed{Issues: append(c.Issues(), berry...)}, nil
}

// lineError places a decoding error in the whole report: the line number
// in the message, the byte offset from the report's start.
func lineError(err error, n, start int) error {
	var pe *producers.ParseError
	if errors.As(err, &pe) {
		off := pe.Offset
		if off >= 0 {
			off += int64(start)
		}
		return &producers.ParseError{Tool: name, Offset: off, Err: fmt.Errorf("line %d: %w", n, pe.Err)}
	}
	return producers.Errorf(name, "line %d: %v", n, err)
}

// text renders a yarn line's data, usually a string, for a message.
func text(raw json.RawMessage) string {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s
	}
	return string(raw)
}

// berryIssues reads one line of yarn 4's `yarn npm audit --json`: one
// issue per installed version ("Tree Versions").
func berryIssues(pkg string, ch *berryChild) []*v1.Issue {
	versions := ch.TreeVersions
	if len(versions) == 0 {
		versions = []string{""}
	}
	id := ch.ID.String()
	deprecation := strings.HasSuffix(id, "(deprecation)")
	rule := producers.FirstNonEmpty(npmaudit.GHSAFromURL(ch.URL), id, "unknown")
	if deprecation {
		rule = "deprecation"
	}
	var out []*v1.Issue
	for _, v := range versions {
		purl := depkit.NpmPurl(pkg, v)
		display := pkg
		if v != "" {
			display += "@" + v
		}
		iss := &v1.Issue{
			Target:         producers.FirstNonEmpty(purl, display),
			Type:           rule,
			RuleId:         rule,
			Title:          npmaudit.TitleFor(producers.FirstNonEmpty(strings.TrimSpace(ch.Issue), rule), pkg, display),
			Severity:       npmaudit.Severity(ch.Severity),
			Description:    strings.TrimSpace(ch.Issue),
			PackageUrl:     purl,
			PackageVersion: v,
			ToolName:       name,
			Annotations:    map[string]string{},
		}
		if deprecation {
			iss.Title = display + " is deprecated"
			iss.Tags = []string{"deprecation"}
		}
		if ch.URL != "" {
			iss.References = []string{ch.URL}
		}
		if ch.VulnerableVersions != "" {
			iss.Annotations["vulnerable_versions"] = ch.VulnerableVersions
		}
		if len(ch.Dependents) > 0 {
			iss.Annotations["dependents"] = strings.Join(ch.Dependents, "\n")
		}
		if id != "" && id != rule {
			iss.Annotations["advisory_ids"] = id
		}
		out = append(out, iss)
	}
	return out
}
