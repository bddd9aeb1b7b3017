package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// CommitFindings is what the store knows of one commit of a repository:
// the scans of it and every finding any of them saw (dracon gate
// --context release).
type CommitFindings struct {
	Scans    []Scan          // newest first
	Findings []CommitFinding // by id
}

// CommitFinding is one finding a scan of the commit saw, as the store
// knows it now (its status, first seen, times seen: the Finding's fields)
// and where it was at the commit.
type CommitFinding struct {
	Finding
	Signatures []Signature // by algorithm, then value

	// CommitStatus is Status, except open where the finding was marked
	// fixed by a scan of another commit: the code at this commit still
	// has it (a fix that landed after it, on a branch head). A finding
	// fixed by a later scan of this same commit stays fixed, and the
	// decisions (suppressed, false_positive, accepted_risk) apply here as
	// anywhere. This is the status a release of this commit is judged on.
	CommitStatus Status

	// Where it was at the commit: its occurrence in the newest of the
	// commit's scans that saw it (the first by path, then line, when that
	// scan saw it in several places). Path is this place, not the
	// Finding's Path (where it was last seen by any scan, which may be a
	// later commit's).
	ScanID    string
	Path      string
	StartLine int
	EndLine   int
}

// Open reports whether the finding counts against a release of the
// commit: its CommitStatus is open (open, or reopened: a finding seen
// again after a fix is open with Reopened > 0).
func (f CommitFinding) Open() bool { return f.CommitStatus == StatusOpen }

// AtCommit implements Store.
func (c *core) AtCommit(ctx context.Context, repository, commit string) (*CommitFindings, error) {
	commit = strings.TrimSpace(commit)
	if commit == "" {
		return nil, errors.New("store: findings at a commit need the commit")
	}
	q := c.b.reader()
	out := &CommitFindings{}
	inCommit := map[string]bool{}
	if err := each(ctx, q, func(r rowsI) error {
		var s Scan
		err := r.Scan(&s.ID, &s.Repository, &s.Ref, &s.Commit, &s.Event, tsScan{&s.Started})
		out.Scans = append(out.Scans, s)
		inCommit[s.ID] = true
		return err
	}, `SELECT id, repository, ref, commit_sha, event, started FROM scans WHERE repository = ? AND commit_sha = ?
ORDER BY started DESC, id DESC`, repository, commit); err != nil {
		return nil, err
	}
	if len(out.Scans) == 0 {
		return nil, fmt.Errorf("scans of %s at commit %s: %w", repoName(repository), commit, ErrNotFound)
	}

	// One statement for the findings and their signatures (one row per
	// signature), so that they are read as of one moment; the occurrence
	// is each finding's first in the newest of the commit's scans that saw
	// it. A scan of the commit recorded since the scans were read adds
	// what it saw (its findings, never a scan missing from Scans).
	err := each(ctx, q, func(r rowsI) error {
		var cf CommitFinding
		var tools, status string
		var sig Signature
		f := &cf.Finding
		err := r.Scan(&f.ID, &f.Repository, &f.Tool, &tools, &f.Rule, &f.Path, &f.Severity, &f.Title,
			&status, &f.StatusBy, &f.StatusReason, tsScan{&f.StatusAt},
			tsScan{&f.FirstSeen}, tsScan{&f.LastSeen}, &f.FirstScan, &f.LastScan, &f.TimesSeen,
			&f.FixedScan, tsScan{&f.FixedAt}, &f.Reopened,
			&cf.ScanID, &cf.Path, &cf.StartLine, &cf.EndLine, &sig.Algorithm, &sig.Value)
		if err != nil {
			return err
		}
		if n := len(out.Findings); n > 0 && out.Findings[n-1].ID == cf.ID {
			last := &out.Findings[n-1]
			last.Signatures = append(last.Signatures, sig)
			return nil
		}
		cf.Status = Status(status)
		cf.Tools = splitTools(tools)
		cf.CommitStatus = cf.Status
		if cf.Status == StatusFixed && !inCommit[cf.FixedScan] {
			cf.CommitStatus = StatusOpen
		}
		cf.Signatures = []Signature{sig}
		out.Findings = append(out.Findings, cf)
		return nil
	}, `SELECT f.id, f.repository, f.tool, f.tools, f.rule, f.path, f.severity, f.title, f.status, f.status_by, f.status_reason, f.status_at,
	f.first_seen, f.last_seen, f.first_scan, f.last_scan, f.times_seen, f.fixed_scan, f.fixed_at, f.reopened,
	o.scan_id, o.path, o.start_line, o.end_line, g.algorithm, g.value
FROM (SELECT oc.finding_id, oc.scan_id, oc.path, oc.start_line, oc.end_line,
		ROW_NUMBER() OVER (PARTITION BY oc.finding_id ORDER BY s.started DESC, s.id DESC, oc.path, oc.start_line, oc.end_line, oc.tool) AS rn
	FROM scans s JOIN occurrences oc ON oc.scan_id = s.id
	WHERE s.repository = ? AND s.commit_sha = ?) o
JOIN findings_v f ON f.id = o.finding_id
JOIN signatures g ON g.finding_id = f.id
WHERE o.rn = 1
ORDER BY f.id, g.algorithm, g.value`, repository, commit)
	if err != nil {
		return nil, err
	}
	return out, nil
}

func repoName(repository string) string {
	if repository == "" {
		return "the local repository"
	}
	return repository
}
