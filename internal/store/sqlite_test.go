package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

func TestSQLiteObserve(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "f.db")
	s, err := OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.UnixMilli(1_700_000_000_000)
	t1 := t0.Add(time.Hour)
	a, b := Sighting{Hash: "a", Tool: "gosec"}, Sighting{Hash: "b", Tool: "gosec"}

	got, err := s.Observe(ctx, "scan1", t0, []Sighting{a})
	if err != nil {
		t.Fatal(err)
	}
	if !got[0].New || got[0].Count != 1 {
		t.Fatalf("first sighting = %+v", got[0])
	}
	// Re-running the same scan's stage counts nothing twice.
	got, _ = s.Observe(ctx, "scan1", t0, []Sighting{a})
	if !got[0].New || got[0].Count != 1 {
		t.Fatalf("same scan again = %+v", got[0])
	}
	s.Close()

	// The file keeps what it learned.
	s, err = OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err = s.Observe(ctx, "scan2", t1, []Sighting{a, b})
	if err != nil {
		t.Fatal(err)
	}
	if got[0].New || got[0].Count != 2 || !got[0].FirstSeen.Equal(t0) || !got[0].LastSeen.Equal(t1) {
		t.Errorf("a in scan2 = %+v", got[0])
	}
	if !got[1].New || got[1].Count != 1 {
		t.Errorf("b in scan2 = %+v", got[1])
	}
}
