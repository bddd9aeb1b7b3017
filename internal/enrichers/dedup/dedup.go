// Package dedup asks the findings store what it knows of each finding of a
// scan (first and last seen, how many scans saw it, its status) by the
// signatures the identity enricher gave it, and marks the findings the
// scan no longer reports as fixed.
package dedup

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/draconsec/dracon/internal/enrichers/identity"
	"github.com/draconsec/dracon/internal/fingerprint"
	"github.com/draconsec/dracon/internal/gitdiff"
	"github.com/draconsec/dracon/internal/store"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Enricher is the dedup enricher. It runs after identity (signatures) and
// merge (one finding across tools).
type Enricher struct {
	Store store.Store
	// Source is the scanned checkout: where git tells which files were
	// renamed since the branch's previous scan. "" skips that.
	Source string
	// Fixed, when set, receives the findings this scan marked fixed.
	Fixed func([]store.Finding)
}

func (Enricher) String() string { return "dedup" }

// Enrich implements enrichers.Enricher.
func (e Enricher) Enrich(ctx context.Context, scan *v1.ScanInfo, results []*v1.EnrichedLaunchToolResponse) error {
	if e.Store == nil {
		return nil
	}
	var all []*v1.EnrichedIssue
	byHash := map[string]*v1.EnrichedIssue{}
	tools := map[string]bool{}
	for _, r := range results {
		if t := r.GetOriginalResults().GetToolName(); t != "" {
			tools[t] = true // it ran: its findings missing now are fixed
		}
		for _, is := range r.Issues {
			all = append(all, is)
			byHash[is.GetHash()] = is
		}
	}
	at := scan.GetScanStartTime().AsTime()
	tags := scan.GetScanTags()
	st := store.Scan{
		ID:         scan.GetScanUuid(),
		Repository: tags["repository"],
		Ref:        tags["ref"],
		Commit:     tags["commit"],
		Event:      tags["event"],
		Started:    at,
	}
	before := e.signaturesBeforeRenames(ctx, st, all)
	sightings := make([]store.Sighting, len(all))
	for i, is := range all {
		sigs := identity.Ordered(is)
		if old, ok := before[i]; ok {
			// A renamed file's finding also carries the signature it had
			// under its old name, so it continues its history.
			sigs = append([]store.Signature{sigs[0], old}, sigs[1:]...)
		}
		// Another tool's report of one finding leads with the signature of
		// the issue that stands for it, so the store keeps one finding
		// that every tool reported.
		if rep := byHash[is.GetDuplicateOf()]; rep != nil && is.GetDuplicateOf() != "" {
			sigs = append(identity.Ordered(rep)[:1], sigs...)
		}
		sightings[i] = sighting(sigs, is.GetRawIssue())
	}
	var recs []store.Record
	if len(all) > 0 {
		var err error
		if recs, err = e.Store.Observe(ctx, st, sightings); err != nil {
			return fmt.Errorf("dedup: findings store: %w", err)
		}
	}
	for i, is := range all {
		r := recs[i]
		is.FirstSeen = timestamppb.New(r.FirstSeen)
		is.LastSeen = timestamppb.New(r.LastSeen)
		is.UpdatedAt = timestamppb.New(at)
		is.Count = r.TimesSeen
		is.IsNew = r.New
		is.FalsePositive = r.Status == store.StatusFalsePositive
		is.FindingId = r.ID
		is.Status = string(r.Status)
		if r.WasReopened {
			is.Status = "reopened"
		}
		if triaged(r.Status) && !is.Suppressed {
			// A triager's decision (dracon findings triage, or one imported
			// from Dracon) holds from one run to the next: the gate and the
			// counts skip the finding, which stays in every output.
			is.Suppressed = true
			is.SuppressionReason = fmt.Sprintf("triaged %s by %s: %s", r.Status, r.StatusBy, r.StatusReason)
		}
	}
	if !tracksState(st, tags["default_branch"]) || len(tools) == 0 {
		return nil
	}
	scope := store.Scope{Repository: st.Repository}
	for t := range tools {
		scope.Tools = append(scope.Tools, t)
	}
	sort.Strings(scope.Tools)
	fixed, err := e.Store.MarkFixed(ctx, st, scope)
	if err != nil {
		return fmt.Errorf("dedup: findings store: %w", err)
	}
	if e.Fixed != nil {
		e.Fixed(fixed)
	}
	return nil
}

// triaged: the statuses that are a decision not to act on a finding.
func triaged(s store.Status) bool {
	switch s {
	case store.StatusFalsePositive, store.StatusAcceptedRisk, store.StatusSuppressed:
		return true
	}
	return false
}

// tracksState says whether a scan's findings are the repository's state,
// so that what it no longer reports is fixed: not a pull request's (it
// says nothing about the branch), and, when the default branch is known,
// only a scan of that branch (a push to a feature branch, or a tag, must
// not mark main's findings fixed).
func tracksState(st store.Scan, defaultBranch string) bool {
	if isChangeRequest(st.Event) {
		return false
	}
	if defaultBranch == "" || st.Ref == "" {
		return true // a local run, or a CI that names neither: the store's previous behaviour
	}
	return st.Ref == "refs/heads/"+defaultBranch
}

// isChangeRequest: GitHub's pull_request events and GitLab's merge
// request pipelines.
func isChangeRequest(event string) bool {
	switch event {
	case "pull_request", "pull_request_target", "merge_request_event", "merge_request":
		return true
	}
	return false
}

// sighting is what the store is told of one issue: its signatures, best
// first, and where it is.
func sighting(sigs []store.Signature, is *v1.Issue) store.Sighting {
	path := is.GetLocation().GetPath()
	if path == "" {
		path = is.GetTarget()
	}
	return store.Sighting{
		Signatures: sigs,
		Tool:       is.GetToolName(),
		Rule:       is.GetRuleId(),
		Path:       path,
		StartLine:  int(is.GetLocation().GetStartLine()),
		EndLine:    int(is.GetLocation().GetEndLine()),
		Severity:   is.GetSeverity().String(),
		Title:      is.GetTitle(),
	}
}

// signaturesBeforeRenames finds the files git says were renamed between
// the branch's previous scan and this one, and returns, for each finding in
// such a file, its best signature computed under the file's old name. It
// needs the source checkout, a previous scan of the same ref with another
// commit, and git; without them there is nothing to return.
func (e Enricher) signaturesBeforeRenames(ctx context.Context, st store.Scan, all []*v1.EnrichedIssue) map[int]store.Signature {
	if e.Source == "" || st.Ref == "" || st.Commit == "" || len(all) == 0 {
		return nil
	}
	prev, err := e.Store.Baseline(ctx, st.Repository, st.Ref)
	if err != nil || prev.Scan.Commit == "" || prev.Scan.Commit == st.Commit || prev.Scan.ID == st.ID {
		return nil
	}
	d, err := gitdiff.Run(ctx, e.Source, prev.Scan.Commit)
	if err != nil {
		return nil // not a checkout, or the old commit is not here (a shallow clone)
	}
	renamed := map[string]string{}
	for _, f := range d.Files() {
		if f.OldPath != "" && f.OldPath != f.Path {
			renamed[f.Path] = f.OldPath
		}
	}
	if len(renamed) == 0 {
		return nil
	}
	// The whole scan as it was named before: occurrence ranks are per file.
	olds := make([]*v1.Issue, len(all))
	moved := false
	for i, is := range all {
		raw := is.GetRawIssue()
		if old, ok := renamed[raw.GetLocation().GetPath()]; ok {
			c := proto.Clone(raw).(*v1.Issue)
			c.Location.Path = old
			c.Target = strings.Replace(c.Target, raw.GetLocation().GetPath(), old, 1)
			olds[i], moved = c, true
		} else {
			olds[i] = raw
		}
	}
	if !moved {
		return nil
	}
	out := map[int]store.Signature{}
	for i, sigs := range fingerprint.Compute(olds) {
		if _, ok := renamed[all[i].GetRawIssue().GetLocation().GetPath()]; !ok || len(sigs) == 0 {
			continue
		}
		if best := identity.Ordered(all[i]); len(best) > 0 && best[0].Algorithm == sigs[0].Algorithm && best[0].Value != sigs[0].Value {
			out[i] = store.Signature{Algorithm: sigs[0].Algorithm, Value: sigs[0].Value}
		}
	}
	return out
}
