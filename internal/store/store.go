// Package store remembers findings across scans: which scans saw each
// finding, its signatures, where it occurred, its status (open, fixed,
// suppressed, false positive, accepted risk) and who set it, why and when.
// It is asked by the enrichers and the triage commands; it never drives
// the run.
//
// There are two backends behind one interface: an embedded SQLite file
// (the default, .dracon/findings.db, no server) and PostgreSQL for an
// organisation's shared store. Open chooses by DSN. The schema is
// versioned; migrations are embedded and applied on open. docs/store.md
// describes the tables, the DSNs, the migrations and how concurrent
// writers behave.
package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Status is where a finding stands.
type Status string

// The statuses. Only open and fixed are set by scans (fixed by MarkFixed,
// back to open when a fixed finding is seen again); the others are
// decisions that SetStatus records with who made them and why.
const (
	StatusOpen          Status = "open"
	StatusFixed         Status = "fixed"
	StatusSuppressed    Status = "suppressed"
	StatusFalsePositive Status = "false_positive"
	StatusAcceptedRisk  Status = "accepted_risk"
)

// Statuses lists every status, in the order a report shows them.
var Statuses = []Status{StatusOpen, StatusFixed, StatusSuppressed, StatusFalsePositive, StatusAcceptedRisk}

// Valid reports whether s is one of Statuses.
func (s Status) Valid() bool {
	for _, v := range Statuses {
		if s == v {
			return true
		}
	}
	return false
}

// ParseStatus reads a status as a user types it: "false-positive",
// "False_Positive" and "accepted risk" all work.
func ParseStatus(s string) (Status, error) {
	st := Status(strings.NewReplacer("-", "_", " ", "_").Replace(strings.ToLower(strings.TrimSpace(s))))
	if !st.Valid() {
		return "", fmt.Errorf("unknown status %q (want one of open, fixed, suppressed, false_positive, accepted_risk)", s)
	}
	return st, nil
}

// Actor is who the store names when a scan, not a person, changed a
// finding's status (fixed, reopened).
const Actor = "dracon"

// Scan is one run of the pipeline over one source. ID is its UUID; the
// other fields come from the CI context (or git) and scope tracking:
// findings belong to a repository, and Baseline finds the latest scan of
// a ref.
type Scan struct {
	ID         string
	Repository string // "owner/name"; "" when unknown (a local run)
	Ref        string // "refs/heads/main", "refs/pull/7/merge", ...
	Commit     string
	Event      string // push, pull_request, manual, ...
	Started    time.Time
}

// Signature is one fingerprint of a finding: an algorithm such as
// "code/v1", "dep/v1" or "legacy/dracon", and its value. A finding has
// several; (algorithm, value) is unique within a repository.
type Signature struct {
	Algorithm string
	Value     string
}

func (s Signature) String() string { return s.Algorithm + ":" + s.Value }

// AlgorithmHashV0 names the dedup enricher's single hash from before
// per-kind fingerprints. Stores migrated from the one-table schema keep
// their rows under it.
const AlgorithmHashV0 = "hash/v0"

// Sighting is one finding as one tool reported it in one scan.
//
// Signatures come best first. A sighting matches a stored finding when
// they share a signature, compared on the best algorithm both have: if the
// finding has the sighting's first algorithm, only that value decides; if
// it lacks it, the next one does, and so on (GitLab's rule; a new
// algorithm can be added without rewriting stored rows). A sighting that
// matches nothing is a new finding; sightings of one Observe that share
// their first signature are one finding. Signatures the finding did not
// have yet are added to it. A sighting may offer several values of one
// algorithm (a renamed file's findings carry their signature under the old
// name too): any of them matching is a match on that algorithm.
type Sighting struct {
	Signatures []Signature
	Tool       string
	Rule       string
	Path       string
	StartLine  int
	EndLine    int
	Severity   string // attributes, kept as last seen; never part of identity
	Title      string
}

// Finding is what the store knows of one finding.
type Finding struct {
	ID         string
	Repository string
	Tool       string   // the tool that first reported it
	Tools      []string // every tool that has reported it, first one first
	Rule       string
	Path       string
	Severity   string
	Title      string

	Status       Status
	StatusBy     string
	StatusReason string
	StatusAt     time.Time

	FirstSeen time.Time
	LastSeen  time.Time
	FirstScan string
	LastScan  string
	TimesSeen uint64 // scans that saw it

	FixedScan string    // the scan that found it gone (while Status is fixed, or the last time it was)
	FixedAt   time.Time // zero when never fixed
	Reopened  uint64    // how many times it came back after being fixed
}

// Record is a finding as one Observe leaves it.
type Record struct {
	Finding
	New         bool // no earlier scan saw it
	WasReopened bool // it was fixed and this scan saw it again
}

// Scope names the findings a scan could have seen: those of its
// repository that one of the tools that ran reports. MarkFixed marks the
// open ones this scan did not see as fixed.
type Scope struct {
	Repository string
	Tools      []string // empty: every tool
}

// Filter selects findings for List. Zero fields match everything.
type Filter struct {
	Repository string // "" matches every repository
	Status     []Status
	Severity   []string
	Tool       string // findings any of whose tools is this one
	Rule       string
	PathPrefix string
	IDPrefix   string
	Limit      int // 0: no limit
	Offset     int
}

// StatusChange is one line of a finding's status history.
type StatusChange struct {
	From   Status // "" for the first status a finding had
	To     Status
	By     string
	Reason string
	At     time.Time
	ScanID string // the scan that caused it, for fixed and reopened
}

// Occurrence is one place a finding was reported in one scan.
type Occurrence struct {
	ScanID    string
	Tool      string
	Path      string
	StartLine int
	EndLine   int
}

// Detail is a finding with its signatures, its status history and its
// latest occurrences (dracon findings show).
type Detail struct {
	Finding
	Signatures  []Signature
	History     []StatusChange
	Occurrences []Occurrence // newest scans first, at most 100
}

// Baseline is the latest scan of a branch and the findings it saw, with
// their signatures: what a pull request is compared with.
type Baseline struct {
	Scan     Scan
	Findings []BaselineFinding
}

// BaselineFinding is one finding a baseline scan saw.
type BaselineFinding struct {
	ID         string
	Status     Status
	Signatures []Signature
}

// ErrNotFound is returned for a finding, a baseline or a commit the store does not have.
var ErrNotFound = errors.New("not found")

// Store is a findings store. Its methods are safe to call from several
// goroutines; several processes (or hosts, on PostgreSQL) may write the
// same store at once: writers wait for each other and every count is kept.
type Store interface {
	// Observe records that scan saw these findings and returns their
	// records, one per sighting, in order. Observing the same scan twice
	// (a re-run of a stage) counts it once; a scan may be observed in
	// several calls (one per tool).
	Observe(ctx context.Context, scan Scan, sightings []Sighting) ([]Record, error)
	// MarkFixed marks the open findings in scope that scan did not see as
	// fixed by it, and returns them. Call it after the scan's last Observe,
	// for scans of a branch whose state is tracked (not for a pull request:
	// compare that with Baseline).
	MarkFixed(ctx context.Context, scan Scan, scope Scope) ([]Finding, error)
	// SetStatus records a decision on a finding: who made it and why.
	SetStatus(ctx context.Context, findingID string, status Status, who, why string) (Finding, error)
	// Get returns one finding with its signatures, history and occurrences.
	Get(ctx context.Context, findingID string) (*Detail, error)
	// List returns the findings that match f, most recently seen first.
	List(ctx context.Context, f Filter) ([]Finding, error)
	// Baseline returns the latest scan of repository at ref and the
	// findings it saw, or ErrNotFound.
	Baseline(ctx context.Context, repository, ref string) (*Baseline, error)
	// AtCommit returns the scans of repository at commit (newest first)
	// and every finding any of them saw, as the store knows it now
	// (status, first seen, times seen, its signatures) with its latest
	// occurrence at the commit, or ErrNotFound when no scan of that
	// commit is recorded. The commit is the full SHA the scans recorded:
	// a caller with a tag or a short SHA resolves it first (git rev-parse
	// TAG^{commit}); a tag's scans are usually scans of its commit on a
	// branch. See CommitFindings (commit.go).
	AtCommit(ctx context.Context, repository, commit string) (*CommitFindings, error)
	// Importer writes findings with a history kept elsewhere (import.go).
	Importer
	Close() error
}

// DefaultDSN is the embedded store's file, relative to the working folder.
const DefaultDSN = ".dracon/findings.db"

// EnvDSN names the environment variable that overrides the configured
// store.
const EnvDSN = "DRACON_STORE"

// ChooseDSN returns the store to open: DRACON_STORE when it is set (the
// environment overrides dracon.yaml and --store, so a CI job can point
// every step at a shared PostgreSQL), else configured, else DefaultDSN.
// Callers that want another precedence read the variable themselves.
func ChooseDSN(configured string, getenv func(string) string) string {
	if getenv != nil {
		if v := strings.TrimSpace(getenv(EnvDSN)); v != "" {
			return v
		}
	}
	if configured != "" {
		return configured
	}
	return DefaultDSN
}

// Backend names a kind of store.
type Backend string

// The backends.
const (
	BackendSQLite   Backend = "sqlite"
	BackendPostgres Backend = "postgres"
)

// ParseDSN tells which backend a DSN names and what to hand it:
// postgres:// and postgresql:// URLs (and key=value strings starting with
// host= or dbname=) are PostgreSQL and kept whole; sqlite:PATH,
// sqlite://PATH, file:PATH and a bare path are a SQLite file.
func ParseDSN(dsn string) (Backend, string, error) {
	d := strings.TrimSpace(dsn)
	lower := strings.ToLower(d)
	switch {
	case d == "":
		return "", "", errors.New("findings store: empty DSN")
	case strings.HasPrefix(lower, "postgres://"), strings.HasPrefix(lower, "postgresql://"),
		strings.HasPrefix(lower, "host="), strings.HasPrefix(lower, "dbname="):
		return BackendPostgres, d, nil
	case strings.HasPrefix(lower, "sqlite:"):
		d = d[len("sqlite:"):]
	case strings.HasPrefix(lower, "file:"):
		d = d[len("file:"):]
	default:
		if i := strings.Index(d, "://"); i > 0 && !strings.ContainsAny(d[:i], `/\.`) {
			return "", "", fmt.Errorf("findings store %q: unknown scheme %q (want postgres://, postgresql://, sqlite: or a file path)", dsn, d[:i])
		}
		return BackendSQLite, d, nil
	}
	if strings.HasPrefix(d, "//") {
		d = d[2:]
	}
	if d == "" {
		return "", "", fmt.Errorf("findings store %q: no file path", dsn)
	}
	return BackendSQLite, d, nil
}

// Open opens (creating and migrating as needed) the store a DSN names;
// see ParseDSN.
func Open(ctx context.Context, dsn string) (Store, error) {
	kind, target, err := ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	switch kind {
	case BackendPostgres:
		return OpenPostgres(ctx, target)
	default:
		return OpenSQLiteContext(ctx, target)
	}
}
