// Package identity names every finding of a scan: its versioned
// signatures (internal/fingerprint: code/v1, dep/v1, secret/v1; the
// pre-fingerprint hash/v0 so stores written before keep matching; and the
// original Dracon's hash, legacy/dracon, for history imported from it), and its
// hash, the best of them. It runs first: the store matches on signatures,
// and cross-tool merging and suppressions name findings by hash.
package identity

import (
	"context"

	"github.com/draconsec/dracon/internal/enrichers"

	"github.com/draconsec/dracon/internal/fingerprint"
	"github.com/draconsec/dracon/internal/parallel"
	"github.com/draconsec/dracon/internal/store"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// Enricher sets Signatures and Hash.
type Enricher struct{}

func (Enricher) String() string { return "identity" }

// Enrich implements enrichers.Enricher.
func (Enricher) Enrich(_ context.Context, _ *v1.ScanInfo, results []*v1.EnrichedLaunchToolResponse) error {
	all, raw := enrichers.Flatten(results)
	computed := fingerprint.Compute(raw)
	// Each finding's own hashes need no other finding: every CPU takes a
	// share.
	parallel.Chunks(len(all), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			is, sigs := all[i], computed[i]
			is.Signatures = make(map[string]string, len(sigs)+3)
			for _, s := range sigs {
				is.Signatures[s.Algorithm] = s.Value
			}
			is.Signatures[store.AlgorithmHashV0] = fingerprint.LegacyHash(is.RawIssue)
			is.Signatures[fingerprint.DraconV2] = fingerprint.DraconHash(is.RawIssue)
			if loc := fingerprint.DraconLocationOf(is.RawIssue); loc != "" {
				is.Signatures[fingerprint.DraconLocV1] = loc
			}
			if len(sigs) > 0 {
				is.Hash = sigs[0].Value
			} else {
				is.Hash = is.Signatures[store.AlgorithmHashV0]
			}
		}
	})
	return nil
}

// Ordered is a finding's signatures, best first, as the store wants them.
func Ordered(is *v1.EnrichedIssue) []store.Signature {
	var out []store.Signature
	for _, alg := range fingerprint.Algorithms {
		if v, ok := is.GetSignatures()[alg]; ok {
			out = append(out, store.Signature{Algorithm: alg, Value: v})
		}
	}
	// Imported Dracon rows carry both of Dracon's; the location decides.
	for _, alg := range []string{store.AlgorithmHashV0, fingerprint.DraconLocV1, fingerprint.DraconV2} {
		if v, ok := is.GetSignatures()[alg]; ok {
			out = append(out, store.Signature{Algorithm: alg, Value: v})
		}
	}
	return out
}
