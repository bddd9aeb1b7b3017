package store

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Imported is a finding with a history kept elsewhere (another tool's
// database, such as the original Dracon's issues table) that Import
// writes into the store as it was: first and last seen, how often, and
// its status.
type Imported struct {
	Repository string
	// Signatures come best first; the first one names the finding: an
	// import that has it already (from an earlier import, or because a
	// scan saw the finding) leaves that finding as it is.
	Signatures []Signature
	Tool       string
	Rule       string
	Path       string
	Severity   string
	Title      string

	FirstSeen time.Time // zero: LastSeen
	LastSeen  time.Time // zero: FirstSeen
	TimesSeen uint64

	// Status is "" or open, or a decision (false_positive, ...); StatusBy
	// and StatusReason say who made it and why. With StatusBy set, the
	// status history gets one line saying so, at StatusAt (zero: LastSeen).
	Status       Status
	StatusBy     string
	StatusReason string
	StatusAt     time.Time

	// Origin names where the history came from; the finding's first and
	// last scan are this label (not a scan of the store) until a scan
	// sees it. Empty: "import".
	Origin string
}

// DefaultImportOrigin is the first and last scan of an imported finding
// whose Origin is empty.
const DefaultImportOrigin = "import"

// Importer writes findings with a given history; the Store interface
// includes it.
type Importer interface {
	// Import creates a finding for each Imported whose first signature
	// the store does not know in its repository, with the history it
	// carries, and returns how many it created and how many it found
	// there already (those it leaves untouched, so importing twice
	// creates nothing twice). Everything is written in one transaction,
	// in batches.
	Import(ctx context.Context, in []Imported) (created, existing int, err error)
}

// DryRunImport tells what s.Import(ctx, in) would create and find,
// writing nothing (the import runs and is rolled back).
func DryRunImport(ctx context.Context, s Store, in []Imported) (created, existing int, err error) {
	c, ok := s.(interface{ coreOf() *core })
	if !ok {
		return 0, 0, fmt.Errorf("store: %T cannot dry-run an import", s)
	}
	return c.coreOf().importFindings(ctx, in, true)
}

func (c *core) coreOf() *core { return c }

// Import implements Importer.
func (c *core) Import(ctx context.Context, in []Imported) (created, existing int, err error) {
	return c.importFindings(ctx, in, false)
}

var errDryRun = errors.New("store: dry run")

// importChunk is the number of findings rows per INSERT: 17 parameters
// each, under SQLite's 32766 and PostgreSQL's 65535.
const importChunk = 500

func validImported(i int, im Imported) error {
	if len(im.Signatures) == 0 {
		return fmt.Errorf("store: imported finding %d has no signature", i)
	}
	for _, sg := range im.Signatures {
		if sg.Algorithm == "" || sg.Value == "" {
			return fmt.Errorf("store: imported finding %d has an empty signature %q", i, sg)
		}
	}
	if strings.TrimSpace(im.Tool) == "" {
		return fmt.Errorf("store: imported finding %d (%s) has no tool", i, im.Signatures[0])
	}
	if im.Status != "" && !im.Status.Valid() {
		return fmt.Errorf("store: imported finding %d (%s): unknown status %q", i, im.Signatures[0], im.Status)
	}
	return nil
}

// normalised fills an Imported's defaults: times that follow each other,
// open when no status is given.
func (im Imported) normalised() Imported {
	switch {
	case im.FirstSeen.IsZero() && im.LastSeen.IsZero():
		im.FirstSeen = time.Now().UTC()
		im.LastSeen = im.FirstSeen
	case im.FirstSeen.IsZero():
		im.FirstSeen = im.LastSeen
	case im.LastSeen.IsZero() || im.LastSeen.Before(im.FirstSeen):
		im.LastSeen = im.FirstSeen
	}
	im.FirstSeen, im.LastSeen = im.FirstSeen.UTC(), im.LastSeen.UTC()
	if im.Status == "" {
		im.Status = StatusOpen
	}
	if im.StatusAt.IsZero() {
		im.StatusAt = im.LastSeen
	}
	if im.Origin == "" {
		im.Origin = DefaultImportOrigin
	}
	return im
}

func (c *core) importFindings(ctx context.Context, in []Imported, dryRun bool) (created, existing int, err error) {
	items := make([]Imported, len(in))
	for i, im := range in {
		if err := validImported(i, im); err != nil {
			return 0, 0, err
		}
		items[i] = im.normalised()
	}
	// Repositories in one order, so two importers take locks alike.
	byRepo := map[string][]int{}
	var repos []string
	for i, im := range items {
		if _, ok := byRepo[im.Repository]; !ok {
			repos = append(repos, im.Repository)
		}
		byRepo[im.Repository] = append(byRepo[im.Repository], i)
	}
	sort.Strings(repos)
	err = c.write(ctx, func(tx writeTx) error {
		created, existing = 0, 0
		for _, repo := range repos {
			n, e, err := c.importRepo(ctx, tx, repo, items, byRepo[repo])
			if err != nil {
				return fmt.Errorf("importing the findings of %q: %w", repo, err)
			}
			created += n
			existing += e
		}
		if dryRun {
			return errDryRun
		}
		return nil
	})
	if errors.Is(err, errDryRun) {
		err = nil
	}
	if err != nil {
		return 0, 0, err
	}
	return created, existing, nil
}

func sortSigRows(rows []sigRow) {
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].sig.Algorithm != rows[j].sig.Algorithm {
			return rows[i].sig.Algorithm < rows[j].sig.Algorithm
		}
		return rows[i].sig.Value < rows[j].sig.Value
	})
}

// importRepo imports the items idx of one repository.
func (c *core) importRepo(ctx context.Context, tx writeTx, repo string, items []Imported, idx []int) (created, existing int, err error) {
	// 1. Which of their signatures the repository has already.
	var sigs []Signature
	seen := map[Signature]bool{}
	for _, i := range idx {
		for _, sg := range items[i].Signatures {
			if !seen[sg] {
				seen[sg] = true
				sigs = append(sigs, sg)
			}
		}
	}
	hits := make(map[Signature]string, len(sigs))
	if err := tx.lookup(ctx, repo, sigs, nil, hits, nil); err != nil {
		return 0, 0, fmt.Errorf("looking up signatures: %w", err)
	}

	// 2. A new finding for each first signature the store lacks (once, if
	// several items share it).
	ids := map[Signature]string{}
	var fresh []int
	var primaries []sigRow
	for _, i := range idx {
		p := items[i].Signatures[0]
		if _, hit := hits[p]; hit {
			existing++
			continue
		}
		if _, dup := ids[p]; dup {
			existing++
			continue
		}
		ids[p] = newID()
		fresh = append(fresh, i)
		primaries = append(primaries, sigRow{sig: p, findingID: ids[p]})
	}
	if len(fresh) == 0 {
		return 0, existing, nil
	}
	sortSigRows(primaries)
	inserted, err := tx.insertSignatures(ctx, repo, primaries)
	if err != nil {
		return 0, 0, fmt.Errorf("adding signatures: %w", err)
	}
	// Another writer may have created some of them meanwhile: those exist.
	kept := fresh[:0]
	for _, i := range fresh {
		if inserted[items[i].Signatures[0]] {
			kept = append(kept, i)
		} else {
			existing++
		}
	}
	fresh = kept

	// 3. Their other signatures, those no finding has yet.
	var more []sigRow
	for _, i := range fresh {
		id := ids[items[i].Signatures[0]]
		for _, sg := range items[i].Signatures[1:] {
			if _, hit := hits[sg]; hit {
				continue
			}
			if _, taken := ids[sg]; taken {
				continue // another imported finding's, or listed twice
			}
			ids[sg] = id
			more = append(more, sigRow{sig: sg, findingID: id})
		}
	}
	if len(more) > 0 {
		sortSigRows(more)
		if _, err := tx.insertSignatures(ctx, repo, more); err != nil {
			return 0, 0, fmt.Errorf("adding signatures: %w", err)
		}
	}

	// 4. The findings, with their history.
	const cols = `id, repository, tool, tools, rule, path, severity, title, status, status_by, status_reason, status_at,
	first_seen, last_seen, first_scan, last_scan, times_seen`
	row := "(" + placeholders(17) + ")"
	err = chunks(len(fresh), importChunk, func(lo, hi int) error {
		args := make([]any, 0, 17*(hi-lo))
		vals := make([]string, 0, hi-lo)
		for _, i := range fresh[lo:hi] {
			im := items[i]
			vals = append(vals, row)
			args = append(args, ids[im.Signatures[0]], repo, im.Tool, im.Tool, im.Rule, im.Path, im.Severity, im.Title,
				string(im.Status), im.StatusBy, im.StatusReason, c.b.ts(im.StatusAt),
				c.b.ts(im.FirstSeen), c.b.ts(im.LastSeen), im.Origin, im.Origin, int64(im.TimesSeen))
		}
		_, err := tx.exec(ctx, `INSERT INTO findings_v (`+cols+`) VALUES `+strings.Join(vals, ", "), args...)
		return err
	})
	if err != nil {
		return 0, 0, fmt.Errorf("recording findings: %w", err)
	}
	var hs []historyRow
	for _, i := range fresh {
		im := items[i]
		if im.StatusBy != "" {
			hs = append(hs, historyRow{findingID: ids[im.Signatures[0]], to: im.Status, by: im.StatusBy, reason: im.StatusReason, at: im.StatusAt})
		}
	}
	if err := c.insertHistory(ctx, tx, hs); err != nil {
		return 0, 0, fmt.Errorf("recording status history: %w", err)
	}
	return len(fresh), existing, nil
}
