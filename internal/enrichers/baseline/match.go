package baseline

import "github.com/draconsec/dracon/internal/store"

// Finding is one finding of a baseline.
type Finding struct {
	// ID is the finding's id in the findings store, when known: a scan's
	// finding with the same id is the same finding (the store tracked it).
	ID string
	// Tool reported it; "" when unknown. Fixed counts only findings of
	// tools that ran.
	Tool string
	// Signatures by algorithm ("code/v1", "dep/v1", ...).
	Signatures map[string]string
	// Values are signatures whose algorithm the baseline does not say (a
	// SARIF result's draconHash/v1: the best signature Dracon had for it).
	// One matches a finding that has that value under any algorithm.
	Values []string
	// dup: another tool's report of a finding the baseline has already
	// (it matches, but is not counted as fixed on its own).
	dup bool
}

// matcher finds the baseline findings a scan's finding matches, the way
// the findings store does: on the best algorithm both have.
type matcher struct {
	base   []Finding
	byID   map[string][]int
	byAlg  map[string]map[string][]int // algorithm → value → findings
	byVal  map[string][]int            // Values
	hasAlg []map[string]bool
}

func newMatcher(base []Finding) *matcher {
	m := &matcher{base: base, byID: map[string][]int{}, byAlg: map[string]map[string][]int{}, byVal: map[string][]int{}, hasAlg: make([]map[string]bool, len(base))}
	for i, f := range base {
		if f.ID != "" {
			m.byID[f.ID] = append(m.byID[f.ID], i)
		}
		m.hasAlg[i] = map[string]bool{}
		for alg, v := range f.Signatures {
			if v == "" {
				continue
			}
			m.hasAlg[i][alg] = true
			if m.byAlg[alg] == nil {
				m.byAlg[alg] = map[string][]int{}
			}
			m.byAlg[alg][v] = append(m.byAlg[alg][v], i)
		}
		for _, v := range f.Values {
			if v != "" {
				m.byVal[v] = append(m.byVal[v], i)
			}
		}
	}
	return m
}

// match returns the baseline findings that a finding with this store id
// and these signatures (best first) is. A baseline finding matches when,
// on the first of the finding's algorithms that it has, the values are
// equal (a new algorithm is added without old baselines turning every
// finding new, and an old one never outvotes a better one); or when the
// ids are equal; or when one of its Values is one of the finding's.
func (m *matcher) match(id string, sigs []store.Signature) []int {
	var out []int
	seen := map[int]bool{}
	add := func(i int) {
		if !seen[i] {
			seen[i] = true
			out = append(out, i)
		}
	}
	if id != "" {
		for _, i := range m.byID[id] {
			add(i)
		}
	}
	for k, s := range sigs {
	candidates:
		for _, i := range m.byAlg[s.Algorithm][s.Value] {
			for _, better := range sigs[:k] {
				if m.hasAlg[i][better.Algorithm] {
					continue candidates // a better algorithm both have decides
				}
			}
			add(i)
		}
		for _, i := range m.byVal[s.Value] {
			add(i)
		}
	}
	return out
}
