// Package baseline decides which findings of a scan are new for the
// change it reviews. A pull request's scan is compared with a baseline:
// the latest scan of its target branch in the findings store, or a file
// an earlier run wrote (--baseline FILE). A finding is new when no
// finding of the baseline matches it (the store's rule: the best
// signature algorithm both have; or the same store id). With no baseline
// (no branch context, or none found), new stays what the dedup enricher
// said: the store never saw it.
//
// Optionally only findings on what the change touched count (a diff
// filter, reviewdog's semantics: internal/gitdiff): the others are kept,
// marked with the annotation dracon.diff: outside, and neither new nor
// gated.
//
// It runs after dedup, whose IsNew it overrides.
package baseline

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/draconsec/dracon/internal/enrichers/identity"
	"github.com/draconsec/dracon/internal/gitdiff"
	"github.com/draconsec/dracon/internal/store"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// The annotation the diff filter sets on findings outside it. The gate
// and summary.json read it (they do not import enrichers, so they spell
// it out: keep them in step).
const (
	AnnotationDiff = "dracon.diff"
	OutsideDiff    = "outside"
)

// Kinds of baseline a scan was compared with.
const (
	// KindBranch: the latest scan of a branch in the findings store.
	KindBranch = "branch"
	// KindFile: a file an earlier run wrote.
	KindFile = "file"
	// KindPrevious: no baseline; new means the store never saw it.
	KindPrevious = "previous"
)

// Config says what to compare with; the pipeline fills it (from flags,
// dracon.yaml and the CI's environment) and runs git for the diff.
type Config struct {
	// Ref is the branch whose latest scan is the baseline, as the store
	// names refs ("refs/heads/main"); "" for none.
	Ref string
	// File, when set, is the baseline instead of the store.
	File *File
	// Mode is the diff filter; Diff the change it filters by. With a nil
	// Diff or NoFilter every finding counts.
	Mode     gitdiff.Mode
	Diff     *gitdiff.Diff
	DiffBase string // the commit the diff starts from, for the summary
	// Notes are what preparing the baseline had to say (the diff filter is
	// off because the base is not in the checkout, ...); they end up in
	// the Result.
	Notes []string
	// Report, when set, receives what the enricher compared with.
	Report func(*Result)
}

// NormalizeRef names a branch as the store names refs: "main" is
// "refs/heads/main"; a full ref is kept.
func NormalizeRef(ref string) string {
	ref = strings.TrimSpace(ref)
	if ref == "" || strings.HasPrefix(ref, "refs/") {
		return ref
	}
	return "refs/heads/" + ref
}

// Result is what a scan was compared with, and how it came out.
type Result struct {
	Kind   string
	Ref    string // the branch asked for (also when not found)
	ScanID string // the baseline scan (KindBranch)
	Commit string // its commit
	File   string // the baseline file (KindFile)
	// DiffFilter is the filter applied ("" when none); DiffBase the commit
	// the change was diffed from.
	DiffFilter string
	DiffBase   string
	// Fixed are the baseline's findings of tools that ran that this scan
	// does not report: what the change fixes. Counted for KindBranch and
	// KindFile only; store ids when known.
	Fixed    int
	FixedIDs []string
	New      int // findings new for this change (not counting other tools' reports of one)
	Existing int // findings the baseline has, within the diff filter
	Outside  int // findings outside the diff filter
	Notes    []string
}

// Enricher is the baseline enricher.
type Enricher struct {
	Store store.Store // nil: only a file baseline works
	Config
	Notice func(string)
}

// New makes the enricher.
func New(st store.Store, c Config, notice func(string)) Enricher {
	return Enricher{Store: st, Config: c, Notice: notice}
}

func (Enricher) String() string { return "baseline" }

// Enrich implements enrichers.Enricher.
func (e Enricher) Enrich(ctx context.Context, scan *v1.ScanInfo, results []*v1.EnrichedLaunchToolResponse) error {
	notice := e.Notice
	if notice == nil {
		notice = func(string) {}
	}
	res := &Result{Ref: e.Ref, Notes: append([]string(nil), e.Notes...)}
	var all []*v1.EnrichedIssue
	byHash := map[string]*v1.EnrichedIssue{}
	ran := map[string]bool{}
	for _, r := range results {
		if t := r.GetOriginalResults().GetToolName(); t != "" {
			ran[t] = true
		}
		for _, is := range r.GetIssues() {
			all = append(all, is)
			if is.GetDuplicateOf() == "" {
				byHash[is.GetHash()] = is
			}
		}
	}

	base, err := e.load(ctx, scan, res, notice)
	if err != nil {
		return err
	}
	if base != nil {
		m := newMatcher(base)
		seen := make([]bool, len(base))
		for _, is := range all {
			hits := m.match(is.GetFindingId(), identity.Ordered(is))
			for _, i := range hits {
				seen[i] = true
			}
			is.IsNew = len(hits) == 0
		}
		if err := e.fixed(ctx, scan, base, seen, ran, res); err != nil {
			return err
		}
	}

	if e.Diff != nil && e.Mode != "" && e.Mode != gitdiff.NoFilter {
		res.DiffFilter, res.DiffBase = string(e.Mode), e.DiffBase
		for _, is := range all {
			if !e.inDiff(is.GetRawIssue()) {
				if is.Annotations == nil {
					is.Annotations = map[string]string{}
				}
				is.Annotations[AnnotationDiff] = OutsideDiff
				is.IsNew = false
			}
		}
	}

	// Another tool's report of a finding is what that finding is.
	for _, is := range all {
		rep := byHash[is.GetDuplicateOf()]
		if is.GetDuplicateOf() == "" || rep == nil {
			continue
		}
		is.IsNew = rep.GetIsNew()
		if v, ok := rep.GetAnnotations()[AnnotationDiff]; ok {
			if is.Annotations == nil {
				is.Annotations = map[string]string{}
			}
			is.Annotations[AnnotationDiff] = v
		} else {
			delete(is.Annotations, AnnotationDiff)
		}
	}

	for _, is := range all {
		switch {
		case is.GetDuplicateOf() != "":
		case is.GetAnnotations()[AnnotationDiff] == OutsideDiff:
			res.Outside++
		case is.GetIsNew():
			res.New++
		default:
			res.Existing++
		}
	}
	if res.Kind != KindPrevious || res.DiffFilter != "" {
		notice(res.line())
	}
	if e.Report != nil {
		e.Report(res)
	}
	return nil
}

// load returns the baseline's findings, or nil to keep the store's
// answer (KindPrevious).
func (e Enricher) load(ctx context.Context, scan *v1.ScanInfo, res *Result, notice func(string)) ([]Finding, error) {
	tags := scan.GetScanTags()
	switch {
	case e.File != nil:
		res.Kind, res.File, res.Ref = KindFile, e.File.Path, ""
		return e.File.Findings, nil
	case e.Ref == "":
		res.Kind = KindPrevious
		return nil, nil
	case e.Ref == tags["ref"]:
		// A scan of the baseline branch itself (a push to main with
		// baseline.ref: main): its previous scan is the baseline, which is
		// what the store said.
		res.Kind = KindPrevious
		return nil, nil
	case e.Store == nil:
		res.Kind = KindPrevious
		msg := fmt.Sprintf("baseline %s: no findings store (enrichers.dedup is off): a finding is new unless a baseline file says otherwise", e.Ref)
		res.Notes = append(res.Notes, msg)
		notice(msg)
		return nil, nil
	}
	b, err := e.Store.Baseline(ctx, tags["repository"], e.Ref)
	if errors.Is(err, store.ErrNotFound) || err == nil && b.Scan.ID == scan.GetScanUuid() {
		res.Kind = KindPrevious
		repo := tags["repository"]
		if repo == "" {
			repo = "this repository"
		}
		msg := fmt.Sprintf("baseline: the findings store has no scan of %s at %s; new means what the store never saw (scan the branch first to compare pull requests with it)", repo, e.Ref)
		res.Notes = append(res.Notes, msg)
		notice(msg)
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("baseline: findings store: %w", err)
	}
	res.Kind, res.ScanID, res.Commit = KindBranch, b.Scan.ID, b.Scan.Commit
	out := make([]Finding, len(b.Findings))
	for i, f := range b.Findings {
		sigs := make(map[string]string, len(f.Signatures))
		for _, s := range f.Signatures {
			sigs[s.Algorithm] = s.Value
		}
		out[i] = Finding{ID: f.ID, Signatures: sigs}
	}
	return out, nil
}

// lookupLimit: up to this many gone findings are looked up one by one
// for their tools; more are read in one list of the repository's findings.
const lookupLimit = 200

// fixed counts the baseline's findings that no finding of this scan
// matched, among the tools that ran (a tool that failed or was turned off
// fixes nothing).
func (e Enricher) fixed(ctx context.Context, scan *v1.ScanInfo, base []Finding, seen []bool, ran map[string]bool, res *Result) error {
	var gone []int
	for i, bf := range base {
		if !seen[i] && !bf.dup {
			gone = append(gone, i)
		}
	}
	if len(gone) == 0 || len(ran) == 0 {
		return nil
	}
	tools := map[string][]string{} // store id → tools, for findings whose tool the baseline does not say
	var unknown []string
	for _, i := range gone {
		if base[i].Tool == "" && base[i].ID != "" {
			unknown = append(unknown, base[i].ID)
		}
	}
	if len(unknown) > 0 && e.Store != nil {
		if len(unknown) <= lookupLimit {
			for _, id := range unknown {
				d, err := e.Store.Get(ctx, id)
				if errors.Is(err, store.ErrNotFound) {
					continue
				}
				if err != nil {
					return fmt.Errorf("baseline: findings store: %w", err)
				}
				tools[id] = d.Tools
			}
		} else {
			fs, err := e.Store.List(ctx, store.Filter{Repository: scan.GetScanTags()["repository"]})
			if err != nil {
				return fmt.Errorf("baseline: findings store: %w", err)
			}
			for _, f := range fs {
				tools[f.ID] = f.Tools
			}
		}
	}
	for _, i := range gone {
		bf := base[i]
		ts := []string{bf.Tool}
		if bf.Tool == "" {
			ts = tools[bf.ID]
		}
		for _, t := range ts {
			if ran[t] {
				res.Fixed++
				if bf.ID != "" {
					res.FixedIDs = append(res.FixedIDs, bf.ID)
				}
				break
			}
		}
	}
	sort.Strings(res.FixedIDs)
	return nil
}

// inDiff: a finding that cannot be placed in a file of the checkout (a
// package URL, a host) is not filtered out.
func (e Enricher) inDiff(is *v1.Issue) bool {
	l := is.GetLocation()
	p := l.GetPath()
	if p == "" || strings.HasPrefix(p, "pkg:") || strings.Contains(p, "://") || strings.HasPrefix(p, "/") {
		return true
	}
	return e.Diff.Keeps(e.Mode, p, int(l.GetStartLine()), int(l.GetEndLine()))
}

// line is the log's one line on the baseline.
func (r *Result) line() string {
	var b strings.Builder
	switch r.Kind {
	case KindBranch:
		fmt.Fprintf(&b, "baseline: scan %s of %s", r.ScanID, r.Ref)
		if r.Commit != "" {
			fmt.Fprintf(&b, " at %s", short(r.Commit))
		}
	case KindFile:
		fmt.Fprintf(&b, "baseline: %s", r.File)
	default:
		b.WriteString("baseline: the findings store's history")
	}
	fmt.Fprintf(&b, ": %d new, %d existing", r.New, r.Existing)
	if r.Kind != KindPrevious {
		fmt.Fprintf(&b, ", %d fixed by this change", r.Fixed)
	}
	if r.DiffFilter != "" {
		fmt.Fprintf(&b, "; diff filter %s from %s: %d outside the change, not gated", r.DiffFilter, short(r.DiffBase), r.Outside)
	}
	return b.String()
}

func short(commit string) string {
	if len(commit) > 12 {
		return commit[:12]
	}
	return commit
}
