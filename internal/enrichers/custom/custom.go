// Package custom is Dracon's custom-annotation enricher: it puts the
// config's annotations (enrichers.custom) on findings: a base map on every
// finding, as Dracon's did, and more on the findings a rule selects by
// path glob or tool.
//
// It runs after the enrichers that annotate what they found (owners,
// exploits, ...), and never overwrites their keys: a finding that already
// carries a key keeps its value, and the run says so once per key.
// Dracon's aggregator, which merged each enricher's copy of the results,
// kept whichever value it happened to read first and logged "this is a
// bug"; here the order is fixed and the reader is told.
package custom

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/draconsec/dracon/internal/config"
	"github.com/draconsec/dracon/internal/pathglob"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// Enricher puts the configured annotations on findings.
type Enricher struct {
	base   []kv
	rules  []rule
	notice func(string)
}

type kv struct{ k, v string }

type rule struct {
	path, tool string
	anns       []kv
}

// New builds the enricher from its config block (checked by config.Parse);
// notice receives what the run should tell its reader.
func New(cfg config.CustomAnnotations, notice func(string)) *Enricher {
	if notice == nil {
		notice = func(string) {}
	}
	e := &Enricher{base: sorted(cfg.Base()), notice: notice}
	for _, r := range cfg.Rules {
		e.rules = append(e.rules, rule{path: r.Path, tool: strings.TrimSpace(r.Tool), anns: sorted(r.Annotations)})
	}
	return e
}

// sorted lists a map's pairs by key, so that what a finding gets, and the
// order notices come in, do not depend on map order.
func sorted(m map[string]string) []kv {
	out := make([]kv, 0, len(m))
	for k, v := range m {
		out = append(out, kv{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].k < out[j].k })
	return out
}

func (*Enricher) String() string { return "custom" }

// Enrich implements enrichers.Enricher.
func (e *Enricher) Enrich(_ context.Context, _ *v1.ScanInfo, results []*v1.EnrichedLaunchToolResponse) error {
	if len(e.base) == 0 && len(e.rules) == 0 {
		return nil
	}
	// kept counts, per key, the findings that kept another enricher's
	// value, for one notice per key at the end.
	kept := map[string]int{}
	// Findings that match the same rules get the same annotations: build
	// each combination once.
	byMatch := map[string][]kv{}
	var match []byte
	for _, r := range results {
		tool := r.GetOriginalResults().GetToolName()
		for _, is := range r.GetIssues() {
			match = match[:0]
			for i, ru := range e.rules {
				if ru.selects(tool, is) {
					match = append(match, byte(i), byte(i>>8))
				}
			}
			anns, ok := byMatch[string(match)]
			if !ok {
				anns = e.combine(match)
				byMatch[string(match)] = anns
			}
			if len(anns) == 0 {
				continue
			}
			if is.Annotations == nil {
				is.Annotations = make(map[string]string, len(anns))
			}
			for _, a := range anns {
				if have, ok := is.Annotations[a.k]; ok {
					if have != a.v {
						kept[a.k]++
					}
					continue
				}
				is.Annotations[a.k] = a.v
			}
		}
	}
	keys := make([]string, 0, len(kept))
	for k := range kept {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		e.notice(fmt.Sprintf("custom annotations: another enricher had set %q on %s; its value kept, not the config's", k, findings(kept[k])))
	}
	return nil
}

// combine is the base annotations with those of the matched rules (match
// holds their indexes, two bytes each) over them, later rules last.
func (e *Enricher) combine(match []byte) []kv {
	if len(match) == 0 {
		return e.base
	}
	m := map[string]string{}
	for _, a := range e.base {
		m[a.k] = a.v
	}
	for i := 0; i+1 < len(match); i += 2 {
		for _, a := range e.rules[int(match[i])|int(match[i+1])<<8].anns {
			m[a.k] = a.v
		}
	}
	return sorted(m)
}

// selects: the rule's path glob matches the finding's file and its tool
// is one that reported the finding; a rule gives one or both.
func (r rule) selects(tool string, is *v1.EnrichedIssue) bool {
	raw := is.GetRawIssue()
	if r.path != "" {
		p := raw.GetLocation().GetPath()
		if p == "" || !pathglob.Match(r.path, strings.TrimPrefix(filepath.ToSlash(p), "./")) {
			return false
		}
	}
	if r.tool == "" {
		return true
	}
	if strings.EqualFold(r.tool, raw.GetToolName()) || strings.EqualFold(r.tool, tool) {
		return true
	}
	// A finding several tools reported (the merge enricher) is each one's.
	for _, t := range is.GetSeenBy() {
		if strings.EqualFold(r.tool, t) {
			return true
		}
	}
	return false
}

func findings(n int) string {
	if n == 1 {
		return "1 finding"
	}
	return fmt.Sprintf("%d findings", n)
}
