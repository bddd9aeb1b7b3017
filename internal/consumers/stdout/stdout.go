// Package stdout prints findings for a person reading the log: a table
// (the default), JSON for scripts, or JSON lines in the shape of Dracon's
// stdout-json consumer for log pipelines.
package stdout

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/draconsec/dracon/internal/consumers"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

// Consumer prints findings to W.
type Consumer struct {
	W      io.Writer
	Format string // "table" or "json"
}

func (c Consumer) String() string { return "stdout" }

// Consume implements consumers.Consumer.
func (c Consumer) Consume(_ context.Context, scan *v1.ScanInfo, results []*v1.EnrichedLaunchToolResponse) error {
	switch c.Format {
	case "json":
		return writeJSON(c.W, results)
	case "dracon-json":
		return writeDraconJSON(c.W, scan, results)
	case "none":
		return nil
	default:
		return WriteTable(c.W, results)
	}
}

// WriteTable prints one line per finding, most severe first.
func WriteTable(w io.Writer, results []*v1.EnrichedLaunchToolResponse) error {
	findings := consumers.Flatten(results)
	if len(findings) == 0 {
		_, err := fmt.Fprintln(w, "No findings.")
		return err
	}
	// The GATE column shows which findings the policies fail the run on
	// (deny) or warn of (internal/enrichers/policy's dracon.policy
	// annotation); it is there when any finding has one.
	gated := false
	for _, f := range findings {
		gated = gated || f.Issue.GetAnnotations()[gateAnnotation] != ""
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := "SEVERITY\tTOOL\tRULE\tLOCATION\tTITLE\tSTATUS"
	if gated {
		head += "\tGATE"
	}
	fmt.Fprintln(tw, head)
	for _, f := range findings {
		if f.Issue.GetDuplicateOf() != "" {
			continue // its finding's line names this tool too
		}
		is := f.Issue.GetRawIssue()
		tool := f.Tool
		if by := f.Issue.GetSeenBy(); len(by) > 1 {
			tool = strings.Join(by, "+")
		}
		line := fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%s",
			SeverityName(is.GetSeverity()), tool, is.GetRuleId(), is.GetTarget(), oneLine(is.GetTitle(), 70), status(f.Issue))
		if gated {
			switch f.Issue.GetAnnotations()[gateAnnotation] {
			case "deny":
				line += "\tFAILS"
			case "warn":
				line += "\twarns"
			default:
				line += "\t-"
			}
		}
		fmt.Fprintln(tw, line)
	}
	return tw.Flush()
}

// gateAnnotation is internal/enrichers/policy.Annotation (a consumer
// knows no enricher).
const gateAnnotation = "dracon.policy"

func status(ei *v1.EnrichedIssue) string {
	switch {
	case ei.GetSuppressed():
		return "suppressed"
	case ei.GetAnnotations()["dracon.diff"] == "outside": // internal/enrichers/baseline's diff filter
		return "outside diff"
	case ei.GetIsNew():
		return "new"
	default:
		return fmt.Sprintf("seen %dx", ei.GetCount())
	}
}

// SeverityName is the short, upper-case name of a severity.
func SeverityName(s v1.Severity) string {
	return strings.TrimPrefix(s.String(), "SEVERITY_")
}

func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > max {
		return string(r[:max-1]) + "…"
	}
	return s
}

func writeJSON(w io.Writer, results []*v1.EnrichedLaunchToolResponse) error {
	opts := protojson.MarshalOptions{Multiline: true, Indent: "  "}
	if _, err := io.WriteString(w, "[\n"); err != nil {
		return err
	}
	for i, r := range results {
		b, err := opts.Marshal(r)
		if err != nil {
			return err
		}
		if i > 0 {
			io.WriteString(w, ",\n")
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	_, err := io.WriteString(w, "\n]\n")
	return err
}
