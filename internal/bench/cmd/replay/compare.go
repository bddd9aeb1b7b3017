package main

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"unicode"
)

// finding is one finding of one scan, with what the replay judges it by.
type finding struct {
	Tool, Rule, Path string
	Start, End, Col  int32
	// Alg and Sig are the finding's best signature (code/v1, secret/v1)
	// as the identity enricher set it: what the store matches on.
	Alg, Sig string
	// Code is what code/v1 hashed: fingerprint.Code of the tool's
	// snippet. Kept to say why an identity was lost.
	Code string
	// Occ is the finding's rank among the scan's findings with the same
	// tool, rule, path and Code (what the occurrence index hashes).
	Occ int
	// Flagged is the ground truth: the flagged lines (Start..End) read
	// from the checked-out file, all whitespace removed. It does not go
	// through the tool's snippet or internal/fingerprint.
	Flagged string
	// NoSource: the file could not be read (the replay cannot judge it).
	NoSource bool
}

// key is what "the same flagged code and rule" means: tool, rule, path
// and the flagged lines as they are in the file.
func (f *finding) key() string {
	return f.Tool + "\x00" + f.Rule + "\x00" + f.Path + "\x00" + f.Flagged
}

func (f *finding) String() string {
	if f.End > f.Start {
		return fmt.Sprintf("%s %s %s:%d-%d", f.Tool, f.Rule, f.Path, f.Start, f.End)
	}
	return fmt.Sprintf("%s %s %s:%d", f.Tool, f.Rule, f.Path, f.Start)
}

// flaggedLines is lines start..end (1-based) of a file's content with all
// whitespace removed; ok is false when the file has no such lines.
func flaggedLines(content []byte, start, end int32) (string, bool) {
	if start <= 0 {
		return "", false
	}
	if end < start {
		end = start
	}
	lines := strings.Split(string(content), "\n")
	if int(start) > len(lines) {
		return "", false
	}
	var b strings.Builder
	for i := start; i <= end && int(i) <= len(lines); i++ {
		for _, r := range lines[i-1] {
			if !unicode.IsSpace(r) {
				b.WriteRune(r)
			}
		}
	}
	return b.String(), true
}

// stats are one tool's figures over the whole replay.
type stats struct {
	Scans, Findings int
	// Pairs are findings of consecutive commits with the same key (tool,
	// rule, path, flagged code) whose key occurs as often in both scans,
	// matched in line order; Kept of them have the same signature.
	Pairs, Kept int
	// InChanged: the pairs whose file the commit changed (the hard cases:
	// lines moved, code edited around the finding).
	InChanged, InChangedKept int
	// Shifted: the pairs whose line moved (code added or removed above).
	Shifted, ShiftedKept int
	// Ambiguous: findings whose key occurs a different number of times in
	// the two scans (a copy added or removed): which copy is which is not
	// defined, so they are not judged.
	Ambiguous int
	NoSource  int
	// Within: findings that share a signature with another finding of the
	// same scan. Taken: findings that took over the signature of a
	// different finding of the previous scan that still exists (see
	// wrongMerges). Both are wrong merges.
	Within, Taken int
	// Edited: findings whose flagged code changed but which kept their
	// signature (the old code is gone): not a merge of two findings, but
	// worth knowing (secret/v1 ignores the line by design).
	Edited int
	Lost   []lost
	Merges []string
}

type lost struct {
	Commit string
	A, B   *finding
	Why    string
}

// compare judges scan b (a commit) against scan a (its parent in the
// replay) and adds to st, one entry per tool. changed lists the files the
// commit changed.
func compare(st map[string]*stats, commit string, a, b []*finding, changed map[string]bool) {
	get := func(tool string) *stats {
		s := st[tool]
		if s == nil {
			s = &stats{}
			st[tool] = s
		}
		return s
	}
	byKey := func(fs []*finding) map[string][]*finding {
		m := map[string][]*finding{}
		for _, f := range fs {
			if !f.NoSource {
				m[f.key()] = append(m[f.key()], f)
			}
		}
		for _, g := range m {
			slices.SortStableFunc(g, func(x, y *finding) int {
				return cmp.Or(cmp.Compare(x.Start, y.Start), cmp.Compare(x.Col, y.Col))
			})
		}
		return m
	}
	ka, kb := byKey(a), byKey(b)
	for k, gb := range kb {
		ga := ka[k]
		if len(ga) == 0 {
			continue
		}
		s := get(gb[0].Tool)
		if len(ga) != len(gb) {
			s.Ambiguous += min(len(ga), len(gb))
			continue
		}
		for i := range gb {
			s.Pairs++
			in := changed[gb[i].Path]
			if in {
				s.InChanged++
			}
			shifted := ga[i].Start != gb[i].Start
			if shifted {
				s.Shifted++
			}
			if ga[i].Sig == gb[i].Sig {
				s.Kept++
				if in {
					s.InChangedKept++
				}
				if shifted {
					s.ShiftedKept++
				}
				continue
			}
			s.Lost = append(s.Lost, lost{Commit: commit, A: ga[i], B: gb[i], Why: whyLost(ga[i], gb[i])})
		}
	}
	// Wrong merges across the two scans: b carries the signature a had,
	// yet b is another finding (another tool, rule or path, or other
	// flagged code while a's flagged code is still reported in b's scan,
	// so a is still there and lost its name to b).
	sigA := map[string]*finding{}
	for _, f := range a {
		sigA[f.Alg+" "+f.Sig] = f
	}
	for _, f := range b {
		s := get(f.Tool)
		if f.NoSource {
			s.NoSource++
		}
		old := sigA[f.Alg+" "+f.Sig]
		if old == nil || old.NoSource || f.NoSource || old.key() == f.key() {
			continue
		}
		sameSite := old.Tool == f.Tool && old.Path == f.Path && (old.Rule == f.Rule || f.Alg == "secret/v1")
		if sameSite && len(kb[old.key()]) == 0 {
			s.Edited++
			continue
		}
		s.Taken++
		s.Merges = append(s.Merges, fmt.Sprintf("%s: %s took the signature of %s (%s)", short(commit), f, old, f.Alg))
	}
}

// within counts the findings of one scan that share a signature with
// another, and adds the scan's findings to st.
func within(st map[string]*stats, commit string, fs []*finding) {
	seen := map[string]*finding{}
	for _, f := range fs {
		s := st[f.Tool]
		if s == nil {
			s = &stats{}
			st[f.Tool] = s
		}
		s.Findings++
		k := f.Alg + " " + f.Sig
		if g := seen[k]; g != nil {
			s.Within++
			s.Merges = append(s.Merges, fmt.Sprintf("%s: %s and %s share one signature (%s)", short(commit), g, f, f.Alg))
			continue
		}
		seen[k] = f
	}
}

// whyLost names what changed in a signature's parts when the flagged code
// and rule did not.
func whyLost(a, b *finding) string {
	switch {
	case a.Alg != b.Alg:
		return fmt.Sprintf("algorithm %s -> %s", a.Alg, b.Alg)
	case a.Code != b.Code:
		return fmt.Sprintf("snippet code %q -> %q", clip(a.Code), clip(b.Code))
	case a.Occ != b.Occ:
		return fmt.Sprintf("occurrence index %d -> %d (another finding with the same snippet code in the file)", a.Occ, b.Occ)
	}
	return "signature parts unchanged as seen here (secret value or tool)"
}

func clip(s string) string {
	if len(s) > 70 {
		return s[:70] + "…"
	}
	return s
}

func short(c string) string {
	if len(c) > 9 {
		return c[:9]
	}
	return c
}
