package store

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/draconsec/dracon/internal/parallel"
)

// What the shared code needs of a backend. The SQL that is the same on
// both is written once, with ? placeholders (PostgreSQL's adapter
// renumbers them); each backend implements the set-based writes of
// Observe its own way (multi-row statements on SQLite, arrays and COPY on
// PostgreSQL).

type rowsI interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

type querier interface {
	exec(ctx context.Context, q string, args ...any) (int64, error)
	query(ctx context.Context, q string, args ...any) (rowsI, error)
}

type sqlTx interface {
	querier
	commit(ctx context.Context) error
	rollback(ctx context.Context) error
}

type sigRow struct {
	sig       Signature
	findingID string
	// covers is the digest (setDigest) of a set of signatures that are
	// all findingID's, this one among them; nil for none.
	covers []byte
}

type findingRow struct {
	id, tool, rule, path, severity, title string
	inc                                   int  // 1: count this scan; 0: it already was
	isNew                                 bool // an id Observe made up, not in the store yet
}

type occRow struct {
	findingID, tool, path string
	start, end            int
}

// writeTx is a write transaction with Observe's set-based steps.
type writeTx interface {
	sqlTx
	// lookup adds the finding each signature belongs to in repo to into.
	// With covers (one per signature, nil entries allowed), it also adds
	// to covered each signature whose row's covers digest equals the one
	// given.
	lookup(ctx context.Context, repo string, sigs []Signature, covers [][]byte, into map[Signature]string, covered map[Signature]bool) error
	// setCovers sets the covers digest of each row's signature, when the
	// signature is still the row's finding's (nil clears it).
	setCovers(ctx context.Context, repo string, rows []sigRow) error
	// missingFrom tells, for each check, whether some of its signatures
	// are not its finding's in repo (another finding's, or none).
	missingFrom(ctx context.Context, repo string, checks []sigCheck) ([]bool, error)
	// insertSignatures adds rows, skipping those whose (algorithm, value)
	// the repository already has, and reports which it inserted.
	insertSignatures(ctx context.Context, repo string, rows []sigRow) (map[Signature]bool, error)
	// upsertFindings creates the findings rows name that do not exist yet
	// and records scan's sighting of the others; it returns them all.
	upsertFindings(ctx context.Context, scan Scan, rows []findingRow) (map[string]Finding, error)
	insertOccurrences(ctx context.Context, scan Scan, rows []occRow) error
}

type backendI interface {
	backend() Backend
	beginWrite(ctx context.Context) (writeTx, error)
	reader() querier
	// ts is a time as the backend's time columns take it.
	ts(t time.Time) any
	// retryable tells a transaction that lost a race (a deadlock,
	// a serialization failure) and may simply be run again.
	retryable(err error) bool
	// strpos is the SQL for "position of needle in hay, 0 when absent".
	strpos(hay, needle string) string
	forUpdate() string
	// updateFindings runs UPDATE findings SET set on the findings that
	// where (over findings_v, as f) selects, and returns them as updated;
	// args are set's, then where's.
	updateFindings(ctx context.Context, q querier, set, where string, args ...any) ([]Finding, error)
	closeDB() error
}

// core implements Store over a backend.
type core struct {
	b          backendI
	legacyDone atomic.Bool
}

const findingCols = `id, repository, tool, tools, rule, path, severity, title, status, status_by, status_reason, status_at,
	first_seen, last_seen, first_scan, last_scan, times_seen, fixed_scan, fixed_at, reopened`

// tsScan reads a time column: Unix milliseconds (SQLite) or a timestamp
// (PostgreSQL); NULL is the zero time.
type tsScan struct{ t *time.Time }

func (s tsScan) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*s.t = time.Time{}
	case int64:
		*s.t = time.UnixMilli(v).UTC()
	case float64:
		*s.t = time.UnixMilli(int64(v)).UTC()
	case time.Time:
		*s.t = v.UTC()
	default:
		return fmt.Errorf("store: cannot read %T as a time", src)
	}
	return nil
}

// collectFindings runs a query returning findingCols.
func collectFindings(ctx context.Context, q querier, sql string, args ...any) ([]Finding, error) {
	var out []Finding
	err := each(ctx, q, func(r rowsI) error {
		f, err := scanFinding(r)
		out = append(out, f)
		return err
	}, sql, args...)
	return out, err
}

func scanFinding(r rowsI) (Finding, error) {
	var f Finding
	var tools, status string
	err := r.Scan(&f.ID, &f.Repository, &f.Tool, &tools, &f.Rule, &f.Path, &f.Severity, &f.Title,
		&status, &f.StatusBy, &f.StatusReason, tsScan{&f.StatusAt},
		tsScan{&f.FirstSeen}, tsScan{&f.LastSeen}, &f.FirstScan, &f.LastScan, &f.TimesSeen,
		&f.FixedScan, tsScan{&f.FixedAt}, &f.Reopened)
	f.Status = Status(status)
	f.Tools = splitTools(tools)
	return f, err
}

func splitTools(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func newID() string {
	if id, err := uuid.NewV7(); err == nil {
		return id.String()
	}
	return uuid.NewString()
}

// chunks calls fn on [lo, hi) slices of n items, size at a time.
func chunks(n, size int, fn func(lo, hi int) error) error {
	for lo := 0; lo < n; lo += size {
		if err := fn(lo, min(lo+size, n)); err != nil {
			return err
		}
	}
	return nil
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// write runs fn in a write transaction, again when it lost a race.
func (c *core) write(ctx context.Context, fn func(tx writeTx) error) error {
	for attempt := 0; ; attempt++ {
		tx, err := c.b.beginWrite(ctx)
		if err == nil {
			err = fn(tx)
			if err == nil {
				err = tx.commit(ctx)
			} else {
				tx.rollback(ctx) //nolint:errcheck // the error that matters is fn's
			}
		}
		if err == nil || attempt >= 20 || !c.b.retryable(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(5+rand.IntN(20*(attempt+1))) * time.Millisecond):
		}
	}
}

func validScan(scan Scan) error {
	if scan.ID == "" {
		return errors.New("store: a scan needs an id")
	}
	return nil
}

// upsertScan records a scan and reports whether it is new to the store.
func (c *core) upsertScan(ctx context.Context, q querier, scan Scan) (bool, error) {
	n, err := q.exec(ctx, `INSERT INTO scans (id, repository, ref, commit_sha, event, started) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO NOTHING`, scan.ID, scan.Repository, scan.Ref, scan.Commit, scan.Event, c.b.ts(scan.Started))
	return n > 0, err
}

// claimLegacy gives the rows migrated from the one-table schema (written
// before findings belonged to a repository) to the first scan that names
// its repository.
func (c *core) claimLegacy(ctx context.Context, q querier, repo string) error {
	if repo == "" || c.legacyDone.Load() {
		return nil
	}
	rows, err := q.query(ctx, `SELECT value FROM meta WHERE key = 'unclaimed_legacy'`)
	if err != nil {
		return err
	}
	found := rows.Next()
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if !found {
		c.legacyDone.Store(true)
		return nil
	}
	for _, t := range []string{"findings", "signatures", "scans"} {
		if _, err := q.exec(ctx, `UPDATE `+t+` SET repository = ? WHERE repository = ''`, repo); err != nil {
			return fmt.Errorf("adopting the migrated findings: %w", err)
		}
	}
	_, err = q.exec(ctx, `DELETE FROM meta WHERE key = 'unclaimed_legacy'`)
	return err
}

// Observe implements Store.
func (c *core) Observe(ctx context.Context, scan Scan, in []Sighting) ([]Record, error) {
	if err := validScan(scan); err != nil {
		return nil, err
	}
	for i, si := range in {
		if len(si.Signatures) == 0 {
			return nil, fmt.Errorf("store: sighting %d has no signature", i)
		}
		for _, sg := range si.Signatures {
			if sg.Algorithm == "" || sg.Value == "" {
				return nil, fmt.Errorf("store: sighting %d has an empty signature %q", i, sg)
			}
		}
	}
	var out []Record
	err := c.write(ctx, func(tx writeTx) error {
		var err error
		out, err = c.observe(ctx, tx, scan, in)
		return err
	})
	return out, err
}

func (c *core) observe(ctx context.Context, tx writeTx, scan Scan, in []Sighting) ([]Record, error) {
	repo := scan.Repository
	freshScan, err := c.upsertScan(ctx, tx, scan)
	if err != nil {
		return nil, err
	}
	if err := c.claimLegacy(ctx, tx, repo); err != nil {
		return nil, err
	}
	if len(in) == 0 {
		return nil, nil
	}

	// 1. Which stored findings have these signatures.
	m, err := c.lookup(ctx, tx, repo, in)
	if err != nil {
		return nil, fmt.Errorf("looking up signatures: %w", err)
	}
	hits := m.hits

	// 2. A hit on a lesser signature counts only when the finding lacks
	// the sighting's better algorithms; fetch the algorithms of those
	// findings (only sightings whose first signature matched nothing
	// need it: a hit on the first decides).
	var check []string
	checked := map[string]bool{}
	for _, si := range in {
		if _, ok := hits[si.Signatures[0]]; ok {
			continue
		}
		for r, sg := range si.Signatures {
			if fid, ok := hits[sg]; ok && r > 0 && !checked[fid] {
				checked[fid] = true
				check = append(check, fid)
			}
		}
	}
	algos, err := findingAlgorithms(ctx, tx, check)
	if err != nil {
		return nil, err
	}

	// 3. Match each sighting; the unmatched ones sharing a first signature
	// are one new finding.
	assign := make([]string, len(in))
	newByPrimary := map[Signature]string{}
	for i, si := range in {
		for r, sg := range si.Signatures {
			fid, ok := hits[sg]
			if !ok {
				continue
			}
			blocked := false
			for _, better := range si.Signatures[:r] {
				// Another value of the same algorithm is an alternative the
				// sighting offers (a renamed file's signature under its old
				// name), not a better algorithm the finding would disagree on.
				if better.Algorithm == sg.Algorithm {
					continue
				}
				if _, has := algos[fid][better.Algorithm]; has {
					blocked = true
					break
				}
			}
			if !blocked {
				assign[i] = fid
				break
			}
		}
		if assign[i] == "" {
			p := si.Signatures[0]
			id, ok := newByPrimary[p]
			if !ok {
				id = newID()
				newByPrimary[p] = id
			}
			assign[i] = id
		}
	}

	// 4. Signatures the store does not have yet: the new findings' first
	// signatures before anything else, then the others. A new finding's
	// first signature row covers the set of the sighting that brought
	// it, when all of that set is to be the finding's.
	var add []sigRow
	adding := map[Signature]string{}
	for p, id := range newByPrimary {
		adding[p] = id
		add = append(add, sigRow{sig: p, findingID: id})
	}
	for i, si := range in {
		for _, sg := range si.Signatures {
			if _, hit := hits[sg]; hit || adding[sg] != "" {
				continue
			}
			adding[sg] = assign[i]
			add = append(add, sigRow{sig: sg, findingID: assign[i]})
		}
	}
	// owner is whose sg is once the rows are in: its stored finding's,
	// or the one it is added for, if the insert took it.
	var inserted map[Signature]bool
	remap := map[string]string{}
	owner := func(sg Signature) string {
		if id, ok := hits[sg]; ok {
			return id
		}
		if id := adding[sg]; id != "" && (inserted == nil || inserted[sg]) {
			return cmp.Or(remap[id], id)
		}
		return ""
	}
	ownsAll := func(si Sighting, id string) bool {
		for _, sg := range si.Signatures {
			if owner(sg) != id {
				return false
			}
		}
		return true
	}
	// firstWith is the first sighting bringing each first signature: the
	// one whose set its row may cover.
	firstWith := make(map[Signature]int, len(in))
	for i, si := range in {
		if _, ok := firstWith[si.Signatures[0]]; !ok {
			firstWith[si.Signatures[0]] = i
		}
	}
	coveredNew := map[Signature]bool{}
	for r := range add {
		if _, ok := newByPrimary[add[r].sig]; ok {
			if i := firstWith[add[r].sig]; m.digest[i] != nil && ownsAll(in[i], add[r].findingID) {
				add[r].covers = m.digest[i]
				coveredNew[add[r].sig] = true
			}
		}
	}
	if len(add) > 0 {
		// One order for every writer, so two never wait on each other in turn.
		sortSigRows(add)
		inserted, err = tx.insertSignatures(ctx, repo, add)
		if err != nil {
			return nil, fmt.Errorf("adding signatures: %w", err)
		}
		// A concurrent writer created some of these findings first (it
		// committed while we waited on its row): take its ids.
		var lost []Signature
		for p := range newByPrimary {
			if !inserted[p] {
				lost = append(lost, p)
			}
		}
		if len(lost) > 0 {
			winners := make(map[Signature]string, len(lost))
			if err := tx.lookup(ctx, repo, lost, nil, winners, nil); err != nil {
				return nil, err
			}
			for _, p := range lost {
				w, ok := winners[p]
				if !ok {
					return nil, fmt.Errorf("store: signature %s was neither inserted nor found", p)
				}
				remap[newByPrimary[p]] = w
			}
			for orphan, w := range remap {
				if _, err := tx.exec(ctx, `UPDATE signatures SET finding_id = ? WHERE finding_id = ?`, w, orphan); err != nil {
					return nil, err
				}
			}
			for i := range assign {
				if w, ok := remap[assign[i]]; ok {
					assign[i] = w
				}
			}
		}
	}

	// 4b. The covers digests to change: where a sighting brings a set its
	// first signature's row does not name yet and all of it is now its
	// finding's (the next rescan asks nothing more); and a new finding's,
	// cleared if a concurrent writer took one of its signatures first.
	var covers []sigRow
	for p, i := range firstWith {
		si, id := in[i], assign[i]
		switch {
		case m.digest[i] == nil:
		case newByPrimary[p] != "":
			if nid := newByPrimary[p]; coveredNew[p] && inserted[p] && !ownsAll(si, nid) {
				covers = append(covers, sigRow{sig: p, findingID: nid})
			}
		case !m.coveredBy(i, si) && ownsAll(si, id):
			covers = append(covers, sigRow{sig: p, findingID: id, covers: m.digest[i]})
		}
	}
	if len(covers) > 0 {
		sortSigRows(covers)
		if err := tx.setCovers(ctx, repo, covers); err != nil {
			return nil, fmt.Errorf("recording signature sets: %w", err)
		}
	}

	// 5. Every sighting is kept as an occurrence, once: a scan observed
	// again (a re-run, or one call per tool) adds only what it lacks, and
	// the findings it already saw are not counted again. Written before
	// the findings rows, so that the rows other writers may be waiting
	// for are held as briefly as possible.
	have := map[occRow]bool{}
	counted := map[string]bool{}
	if !freshScan {
		if err := each(ctx, tx, func(r rowsI) error {
			var o occRow
			err := r.Scan(&o.findingID, &o.tool, &o.path, &o.start, &o.end)
			have[o] = true
			counted[o.findingID] = true
			return err
		}, `SELECT finding_id, tool, path, start_line, end_line FROM occurrences WHERE scan_id = ?`, scan.ID); err != nil {
			return nil, err
		}
	}

	// One row per finding; the tools beyond a finding's first one in this
	// batch (rare: one finding from two tools) are merged after.
	fresh := make(map[string]bool, len(newByPrimary))
	for _, id := range newByPrimary {
		fresh[id] = true
	}
	rowOf := make(map[string]int, len(in))
	frows := make([]findingRow, 0, len(in))
	multi := map[string]bool{}
	extraTools := map[string][]string{}
	for i, si := range in {
		id := assign[i]
		if r, ok := rowOf[id]; ok {
			multi[id] = true
			if t := si.Tool; t != frows[r].tool && !contains(extraTools[id], t) {
				extraTools[id] = append(extraTools[id], t)
			}
			continue
		}
		rowOf[id] = len(frows)
		inc := 1
		if counted[id] {
			inc = 0
		}
		frows = append(frows, findingRow{id: id, tool: si.Tool, rule: si.Rule, path: si.Path, severity: si.Severity, title: si.Title, inc: inc, isNew: fresh[id]})
	}

	occ := make([]occRow, 0, len(in))
	for i, si := range in {
		o := occRow{findingID: assign[i], tool: si.Tool, path: si.Path, start: si.StartLine, end: si.EndLine}
		if freshScan && !multi[o.findingID] {
			occ = append(occ, o) // the only report of its finding in a new scan
			continue
		}
		if !have[o] {
			have[o] = true
			occ = append(occ, o)
		}
	}
	if len(occ) > 0 {
		if err := tx.insertOccurrences(ctx, scan, occ); err != nil {
			return nil, fmt.Errorf("recording occurrences: %w", err)
		}
	}

	// 6. The findings rows. New findings first (no other writer knows
	// their ids, so they never wait), then the existing ones in id order:
	// the rows another writer may want are locked last, so held for the
	// shortest time, and in the same order by everyone.
	sort.Slice(frows, func(i, j int) bool {
		if frows[i].isNew != frows[j].isNew {
			return frows[i].isNew
		}
		return frows[i].id < frows[j].id
	})
	got, err := tx.upsertFindings(ctx, scan, frows)
	if err != nil {
		return nil, fmt.Errorf("recording findings: %w", err)
	}
	if len(got) != len(frows) {
		return nil, fmt.Errorf("store: recorded %d findings, want %d", len(got), len(frows))
	}

	// 7. The other tools that reported a finding in this batch.
	for id, ts := range extraTools {
		f := got[id]
		merged := f.Tools
		for _, t := range ts {
			if !contains(merged, t) {
				merged = append(merged, t)
			}
		}
		if len(merged) != len(f.Tools) {
			if _, err := tx.exec(ctx, `UPDATE findings SET tools = ? WHERE id = ?`, strings.Join(merged, ","), id); err != nil {
				return nil, err
			}
			f.Tools = merged
			got[id] = f
		}
	}

	// 8. Fixed findings seen again are reopened.
	var fixed []string
	for id, f := range got {
		if f.Status == StatusFixed {
			fixed = append(fixed, id)
		}
	}
	reopened := map[string]bool{}
	if len(fixed) > 0 {
		sort.Strings(fixed)
		ids, err := c.reopen(ctx, tx, scan, fixed)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			f := got[id]
			f.Status, f.StatusBy, f.StatusReason, f.StatusAt = StatusOpen, Actor, reopenReason(scan), scan.Started.UTC()
			f.Reopened++
			got[id] = f
			reopened[id] = true
		}
	}

	out := make([]Record, len(in))
	for i := range in {
		f := got[assign[i]]
		out[i] = Record{Finding: f, New: f.FirstScan == scan.ID, WasReopened: reopened[f.ID]}
	}
	return out, nil
}

// matches is what lookup found for a batch of sightings.
type matches struct {
	// hits is the stored finding of each signature that has one.
	hits map[Signature]string
	// digest is each sighting's setDigest (nil for a lone signature);
	// offered, for each first signature, the digest lookup compared with
	// its row's covers (the first sighting's that brings it); covered,
	// the first signatures whose row matched it.
	digest  [][]byte
	offered map[Signature][]byte
	covered map[Signature]bool
}

// coveredBy tells whether sighting i's signatures are all the finding of
// its first, as the store's covers digest already says.
func (m *matches) coveredBy(i int, si Sighting) bool {
	p := si.Signatures[0]
	return m.covered[p] && bytes.Equal(m.digest[i], m.offered[p])
}

// lookup returns the stored finding of each signature of the sightings.
// The sightings' first signatures are looked up first. A sighting whose
// first signature matched mostly brings only signatures its finding
// already has (a rescan). When the first signature's row says so (its
// covers digest is the digest of the sighting's set), nothing more is
// asked. Otherwise the store is asked which of those sightings bring any
// other (one range of an index per finding, and no rows back for the
// rest), rather than every other signature probed on its own (a finding
// has four or five). Only the signatures still unknown then are looked
// up.
func (c *core) lookup(ctx context.Context, tx writeTx, repo string, in []Sighting) (*matches, error) {
	n := 0
	for _, si := range in {
		n += len(si.Signatures)
	}
	m := &matches{hits: make(map[Signature]string, n), digest: make([][]byte, len(in)),
		offered: make(map[Signature][]byte, len(in)), covered: make(map[Signature]bool, len(in))}
	parallel.Chunks(len(in), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			if len(in[i].Signatures) > 1 {
				m.digest[i] = setDigest(in[i].Signatures)
			}
		}
	})
	queued := make(map[Signature]struct{}, len(in))
	first := make([]Signature, 0, len(in))
	covers := make([][]byte, 0, len(in))
	for i, si := range in {
		if sg := si.Signatures[0]; !has(queued, sg) {
			queued[sg] = struct{}{}
			first = append(first, sg)
			covers = append(covers, m.digest[i])
			if m.digest[i] != nil {
				m.offered[sg] = m.digest[i]
			}
		}
	}
	if err := tx.lookup(ctx, repo, first, covers, m.hits, m.covered); err != nil {
		return nil, err
	}
	var checks []sigCheck
	for i, si := range in {
		id, ok := m.hits[si.Signatures[0]]
		if !ok || len(si.Signatures) == 1 {
			continue
		}
		if m.coveredBy(i, si) {
			for _, sg := range si.Signatures[1:] {
				m.hits[sg] = id
			}
			continue
		}
		if sigs, ok := checkable(si.Signatures[1:]); ok {
			checks = append(checks, sigCheck{findingID: id, sigs: sigs})
		}
	}
	if len(checks) > 0 {
		missing, err := tx.missingFrom(ctx, repo, checks)
		if err != nil {
			return nil, err
		}
		for j, ch := range checks {
			if !missing[j] {
				for _, sg := range ch.sigs {
					m.hits[sg] = ch.findingID
				}
			}
		}
	}
	var rest []Signature
	for _, si := range in {
		for _, sg := range si.Signatures[1:] {
			if _, ok := m.hits[sg]; !ok && !has(queued, sg) {
				queued[sg] = struct{}{}
				rest = append(rest, sg)
			}
		}
	}
	if len(rest) == 0 {
		return m, nil
	}
	return m, tx.lookup(ctx, repo, rest, nil, m.hits, nil)
}

// setDigest names a set of signatures: the first 16 bytes of a SHA-256
// over them in order, without repeats, each algorithm and value
// length-prefixed. The order they come in does not change it.
func setDigest(sigs []Signature) []byte {
	sorted := slices.Compact(slices.SortedFunc(slices.Values(sigs), compareSig))
	h := sha256.New()
	var n [binary.MaxVarintLen64]byte
	for _, sg := range sorted {
		for _, part := range [2]string{sg.Algorithm, sg.Value} {
			h.Write(n[:binary.PutUvarint(n[:], uint64(len(part)))])
			h.Write([]byte(part))
		}
	}
	return h.Sum(nil)[:16]
}

// sigCheck asks whether every one of sigs is a signature of a finding.
type sigCheck struct {
	findingID string
	sigs      []Signature
}

// checkable returns sigs without repeats, and whether missingFrom can
// check them: it matches them as lines of "algorithm<tab>value", so none
// may hold a tab or a newline (those are looked up instead).
func checkable(sigs []Signature) ([]Signature, bool) {
	for i, sg := range sigs {
		if strings.ContainsAny(sg.Algorithm, "\t\n") || strings.ContainsAny(sg.Value, "\t\n") {
			return nil, false
		}
		for _, before := range sigs[:i] {
			if before == sg {
				return slices.Compact(slices.SortedFunc(slices.Values(sigs), compareSig)), true
			}
		}
	}
	return sigs, true
}

func compareSig(a, b Signature) int {
	if c := strings.Compare(a.Algorithm, b.Algorithm); c != 0 {
		return c
	}
	return strings.Compare(a.Value, b.Value)
}

// packLines is what missingFrom matches a check's signatures in: each as
// a line "algorithm<tab>value", and a newline first.
func packLines(sigs []Signature) string {
	n := 1
	for _, sg := range sigs {
		n += len(sg.Algorithm) + len(sg.Value) + 2
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteByte('\n')
	for _, sg := range sigs {
		b.WriteString(sg.Algorithm)
		b.WriteByte('\t')
		b.WriteString(sg.Value)
		b.WriteByte('\n')
	}
	return b.String()
}

func has[K comparable](m map[K]struct{}, k K) bool {
	_, ok := m[k]
	return ok
}

func contains(ss []string, s string) bool {
	for _, v := range ss {
		if v == s {
			return true
		}
	}
	return false
}

func reopenReason(scan Scan) string { return "seen again by scan " + scan.ID }

func findingAlgorithms(ctx context.Context, q querier, ids []string) (map[string]map[string]struct{}, error) {
	out := map[string]map[string]struct{}{}
	err := chunks(len(ids), 500, func(lo, hi int) error {
		args := make([]any, 0, hi-lo)
		for _, id := range ids[lo:hi] {
			args = append(args, id)
		}
		rows, err := q.query(ctx, `SELECT finding_id, algorithm FROM signatures WHERE finding_id IN (`+placeholders(hi-lo)+`)`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id, a string
			if err := rows.Scan(&id, &a); err != nil {
				return err
			}
			if out[id] == nil {
				out[id] = map[string]struct{}{}
			}
			out[id][a] = struct{}{}
		}
		return rows.Err()
	})
	return out, err
}

type historyRow struct {
	findingID  string
	from, to   Status
	by, reason string
	at         time.Time
	scanID     string
}

func (c *core) insertHistory(ctx context.Context, q querier, hs []historyRow) error {
	return chunks(len(hs), 200, func(lo, hi int) error {
		args := make([]any, 0, 7*(hi-lo))
		vals := make([]string, 0, hi-lo)
		for _, h := range hs[lo:hi] {
			vals = append(vals, "(?, ?, ?, ?, ?, ?, ?)")
			args = append(args, h.findingID, string(h.from), string(h.to), h.by, h.reason, c.b.ts(h.at), h.scanID)
		}
		_, err := q.exec(ctx, `INSERT INTO status_history (finding_id, from_status, to_status, changed_by, reason, changed_at, scan_id) VALUES `+
			strings.Join(vals, ", "), args...)
		return err
	})
}

// reopen sets the fixed findings among ids back to open and returns them.
func (c *core) reopen(ctx context.Context, q querier, scan Scan, ids []string) ([]string, error) {
	var out []string
	why := reopenReason(scan)
	err := chunks(len(ids), 500, func(lo, hi int) error {
		args := []any{Actor, why, c.b.ts(scan.Started)}
		for _, id := range ids[lo:hi] {
			args = append(args, id)
		}
		rows, err := q.query(ctx, `UPDATE findings SET status = 'open', status_by = ?, status_reason = ?, status_at = ?, reopened = reopened + 1
WHERE status = 'fixed' AND id IN (`+placeholders(hi-lo)+`) RETURNING id`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return err
			}
			out = append(out, id)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	hs := make([]historyRow, len(out))
	for i, id := range out {
		hs[i] = historyRow{findingID: id, from: StatusFixed, to: StatusOpen, by: Actor, reason: why, at: scan.Started, scanID: scan.ID}
	}
	return out, c.insertHistory(ctx, q, hs)
}

// MarkFixed implements Store.
func (c *core) MarkFixed(ctx context.Context, scan Scan, scope Scope) ([]Finding, error) {
	if err := validScan(scan); err != nil {
		return nil, err
	}
	var out []Finding
	err := c.write(ctx, func(tx writeTx) error {
		out = nil
		if _, err := c.upsertScan(ctx, tx, scan); err != nil {
			return err
		}
		why := "not seen by scan " + scan.ID
		at := c.b.ts(scan.Started)
		args := []any{Actor, why, at, scan.ID, at, scope.Repository, at, scan.ID}
		toolCond := ""
		if len(scope.Tools) > 0 {
			var ors []string
			for _, t := range scope.Tools {
				ors = append(ors, c.b.strpos(`',' || f.tools || ','`, `',' || CAST(? AS TEXT) || ','`)+` > 0`)
				args = append(args, t)
			}
			toolCond = " AND (" + strings.Join(ors, " OR ") + ")"
		}
		var err error
		out, err = c.b.updateFindings(ctx, tx, `status = 'fixed', status_by = ?, status_reason = ?, status_at = ?, fixed_scan = ?, fixed_at = ?`,
			`f.repository = ? AND f.status = 'open' AND f.last_seen <= ?
	AND NOT EXISTS (SELECT 1 FROM occurrences o WHERE o.scan_id = ? AND o.finding_id = f.id)`+toolCond, args...)
		if err != nil {
			return err
		}
		hs := make([]historyRow, len(out))
		for i, f := range out {
			hs[i] = historyRow{findingID: f.ID, from: StatusOpen, to: StatusFixed, by: Actor, reason: why, at: scan.Started, scanID: scan.ID}
		}
		return c.insertHistory(ctx, tx, hs)
	})
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, err
}

// SetStatus implements Store.
func (c *core) SetStatus(ctx context.Context, id string, st Status, who, why string) (Finding, error) {
	if !st.Valid() {
		return Finding{}, fmt.Errorf("store: unknown status %q", st)
	}
	if strings.TrimSpace(who) == "" {
		return Finding{}, errors.New("store: a status change needs who made it")
	}
	if strings.TrimSpace(why) == "" && (st == StatusSuppressed || st == StatusFalsePositive || st == StatusAcceptedRisk) {
		return Finding{}, fmt.Errorf("store: marking a finding %s needs a reason", st)
	}
	var out Finding
	err := c.write(ctx, func(tx writeTx) error {
		rows, err := tx.query(ctx, `SELECT status FROM findings WHERE id = ?`+c.b.forUpdate(), id)
		if err != nil {
			return err
		}
		var from string
		found := rows.Next()
		if found {
			err = rows.Scan(&from)
		}
		rows.Close()
		if err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if !found {
			return fmt.Errorf("finding %s: %w", id, ErrNotFound)
		}
		now := time.Now().UTC()
		got, err := c.b.updateFindings(ctx, tx, `status = ?, status_by = ?, status_reason = ?, status_at = ?`, `f.id = ?`,
			string(st), who, why, c.b.ts(now), id)
		if err != nil {
			return err
		}
		if len(got) != 1 {
			return fmt.Errorf("finding %s: %w", id, ErrNotFound)
		}
		out = got[0]
		return c.insertHistory(ctx, tx, []historyRow{{findingID: id, from: Status(from), to: st, by: who, reason: why, at: now}})
	})
	return out, err
}

// Get implements Store.
func (c *core) Get(ctx context.Context, id string) (*Detail, error) {
	q := c.b.reader()
	rows, err := q.query(ctx, `SELECT `+findingCols+` FROM findings_v WHERE id = ?`, id)
	if err != nil {
		return nil, err
	}
	var d Detail
	found := rows.Next()
	if found {
		d.Finding, err = scanFinding(rows)
	}
	rows.Close()
	if err != nil {
		return nil, err
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("finding %s: %w", id, ErrNotFound)
	}
	if err := each(ctx, q, func(r rowsI) error {
		var s Signature
		err := r.Scan(&s.Algorithm, &s.Value)
		d.Signatures = append(d.Signatures, s)
		return err
	}, `SELECT algorithm, value FROM signatures WHERE finding_id = ? ORDER BY algorithm, value`, id); err != nil {
		return nil, err
	}
	if err := each(ctx, q, func(r rowsI) error {
		var h StatusChange
		var from, to string
		err := r.Scan(&from, &to, &h.By, &h.Reason, tsScan{&h.At}, &h.ScanID)
		h.From, h.To = Status(from), Status(to)
		d.History = append(d.History, h)
		return err
	}, `SELECT from_status, to_status, changed_by, reason, changed_at, scan_id FROM status_history WHERE finding_id = ? ORDER BY id`, id); err != nil {
		return nil, err
	}
	if err := each(ctx, q, func(r rowsI) error {
		var o Occurrence
		err := r.Scan(&o.ScanID, &o.Tool, &o.Path, &o.StartLine, &o.EndLine)
		d.Occurrences = append(d.Occurrences, o)
		return err
	}, `SELECT o.scan_id, o.tool, o.path, o.start_line, o.end_line FROM scans s JOIN occurrences o ON o.scan_id = s.id AND o.finding_id = ?
WHERE s.repository = ? ORDER BY s.started DESC, o.scan_id, o.path, o.start_line LIMIT 100`, id, d.Repository); err != nil {
		return nil, err
	}
	return &d, nil
}

func each(ctx context.Context, q querier, fn func(rowsI) error, sql string, args ...any) error {
	rows, err := q.query(ctx, sql, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// List implements Store.
func (c *core) List(ctx context.Context, f Filter) ([]Finding, error) {
	var conds []string
	var args []any
	if f.Repository != "" {
		conds = append(conds, "repository = ?")
		args = append(args, f.Repository)
	}
	if len(f.Status) > 0 {
		conds = append(conds, "status IN ("+placeholders(len(f.Status))+")")
		for _, s := range f.Status {
			args = append(args, string(s))
		}
	}
	if len(f.Severity) > 0 {
		conds = append(conds, "severity IN ("+placeholders(len(f.Severity))+")")
		for _, s := range f.Severity {
			args = append(args, s)
		}
	}
	if f.Tool != "" {
		conds = append(conds, c.b.strpos(`',' || tools || ','`, `',' || CAST(? AS TEXT) || ','`)+" > 0")
		args = append(args, f.Tool)
	}
	if f.Rule != "" {
		conds = append(conds, "rule = ?")
		args = append(args, f.Rule)
	}
	if f.PathPrefix != "" {
		conds = append(conds, "substr(path, 1, length(CAST(? AS TEXT))) = ?")
		args = append(args, f.PathPrefix, f.PathPrefix)
	}
	if f.IDPrefix != "" {
		conds = append(conds, "substr(id, 1, length(CAST(? AS TEXT))) = ?")
		args = append(args, f.IDPrefix, f.IDPrefix)
	}
	q := `SELECT ` + findingCols + ` FROM findings_v`
	if len(conds) > 0 {
		q += " WHERE " + strings.Join(conds, " AND ")
	}
	q += " ORDER BY last_seen DESC, id"
	if f.Limit > 0 || f.Offset > 0 {
		limit := f.Limit
		if limit <= 0 {
			limit = 1 << 62
		}
		q += " LIMIT ? OFFSET ?"
		args = append(args, limit, f.Offset)
	}
	var out []Finding
	err := each(ctx, c.b.reader(), func(r rowsI) error {
		fd, err := scanFinding(r)
		out = append(out, fd)
		return err
	}, q, args...)
	return out, err
}

// Baseline implements Store.
func (c *core) Baseline(ctx context.Context, repository, ref string) (*Baseline, error) {
	q := c.b.reader()
	var b Baseline
	found := false
	if err := each(ctx, q, func(r rowsI) error {
		found = true
		return r.Scan(&b.Scan.ID, &b.Scan.Repository, &b.Scan.Ref, &b.Scan.Commit, &b.Scan.Event, tsScan{&b.Scan.Started})
	}, `SELECT id, repository, ref, commit_sha, event, started FROM scans WHERE repository = ? AND ref = ?
ORDER BY started DESC, id DESC LIMIT 1`, repository, ref); err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("baseline of %s at %s: %w", repository, ref, ErrNotFound)
	}
	err := each(ctx, q, func(r rowsI) error {
		var id, st string
		var s Signature
		if err := r.Scan(&id, &st, &s.Algorithm, &s.Value); err != nil {
			return err
		}
		if n := len(b.Findings); n == 0 || b.Findings[n-1].ID != id {
			b.Findings = append(b.Findings, BaselineFinding{ID: id, Status: Status(st)})
		}
		last := &b.Findings[len(b.Findings)-1]
		last.Signatures = append(last.Signatures, s)
		return nil
	}, `SELECT f.id, f.status, s.algorithm, s.value
FROM (SELECT DISTINCT finding_id FROM occurrences WHERE scan_id = ?) o
JOIN findings f ON f.id = o.finding_id
JOIN signatures s ON s.finding_id = f.id
ORDER BY f.id, s.algorithm, s.value`, b.Scan.ID)
	if err != nil {
		return nil, err
	}
	return &b, nil
}

// Close implements Store.
func (c *core) Close() error { return c.b.closeDB() }
