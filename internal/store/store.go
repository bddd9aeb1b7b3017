// Package store remembers findings across scans: when each was first and
// last seen and how many scans saw it. It is asked by the dedup enricher;
// it never drives the run.
package store

import (
	"context"
	"time"
)

// Sighting is one finding seen in one scan.
type Sighting struct {
	Hash string
	Tool string
}

// Record is what the store knows of a finding after this scan.
type Record struct {
	Hash      string
	FirstSeen time.Time
	LastSeen  time.Time
	Count     uint64 // number of scans that saw it, this one included
	New       bool   // no earlier scan saw it
}

// Store is a findings store.
type Store interface {
	// Observe records that scanID saw these findings at time at and
	// returns their records, in order. Observing the same scan twice (a
	// re-run of a stage) does not count it twice.
	Observe(ctx context.Context, scanID string, at time.Time, s []Sighting) ([]Record, error)
	Close() error
}
