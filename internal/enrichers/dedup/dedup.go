// Package dedup fingerprints findings and asks the findings store when
// each was first seen, so a run can tell new findings from known ones.
package dedup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/draconsec/dracon/internal/store"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Enricher is the dedup enricher.
type Enricher struct {
	Store store.Store
}

func (Enricher) String() string { return "dedup" }

// Hash identifies a finding across scans. Line numbers are left out on
// purpose: code added above a finding must not make it "new". What is left
// is the tool, the rule, the file or package, and the tool's own
// fingerprint when it has one (SARIF partial fingerprints, a secret's
// hash), else what the finding says and the code it points at.
func Hash(is *v1.Issue) string {
	h := sha256.New()
	path := is.GetLocation().GetPath()
	if path == "" {
		path = is.GetTarget()
	}
	parts := []string{is.GetToolName(), is.GetRuleId(), is.GetType(), path, is.GetPackageUrl(), is.GetCve()}
	if fp := is.GetFingerprint(); fp != "" {
		parts = append(parts, "fp", fp)
	} else {
		parts = append(parts, "t", is.GetTitle(), strings.TrimSpace(is.GetContextSegment()))
	}
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s|", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Enrich implements enrichers.Enricher.
func (e Enricher) Enrich(ctx context.Context, scan *v1.ScanInfo, results []*v1.EnrichedLaunchToolResponse) error {
	var all []*v1.EnrichedIssue
	var sightings []store.Sighting
	for _, r := range results {
		for _, is := range r.Issues {
			is.Hash = Hash(is.RawIssue)
			all = append(all, is)
			sightings = append(sightings, sighting(is.Hash, is.RawIssue))
		}
	}
	if e.Store == nil || len(all) == 0 {
		return nil
	}
	at := scan.GetScanStartTime().AsTime()
	tags := scan.GetScanTags()
	recs, err := e.Store.Observe(ctx, store.Scan{
		ID:         scan.GetScanUuid(),
		Repository: tags["repository"],
		Ref:        tags["ref"],
		Commit:     tags["commit"],
		Event:      tags["event"],
		Started:    at,
	}, sightings)
	if err != nil {
		return fmt.Errorf("dedup: findings store: %w", err)
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
	}
	return nil
}

// sighting is what the store is told of one issue: its hash as the one
// signature, and where it is.
func sighting(hash string, is *v1.Issue) store.Sighting {
	path := is.GetLocation().GetPath()
	if path == "" {
		path = is.GetTarget()
	}
	return store.Sighting{
		Signatures: []store.Signature{{Algorithm: store.AlgorithmHashV0, Value: hash}},
		Tool:       is.GetToolName(),
		Rule:       is.GetRuleId(),
		Path:       path,
		StartLine:  int(is.GetLocation().GetStartLine()),
		EndLine:    int(is.GetLocation().GetEndLine()),
		Severity:   is.GetSeverity().String(),
		Title:      is.GetTitle(),
	}
}
