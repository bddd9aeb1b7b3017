package fingerprint

import (
	"sort"
	"strings"

	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// Group finds the issues of one scan that are one finding seen by several
// tools, and returns for each issue the index of its group's
// representative (its own index when no other tool saw it). Only issues
// of different tools merge, and only on strong evidence:
//
//   - dependencies: the same package (without version) in the same
//     manifest (or one tool naming none), and vulnerability ids that meet
//     through aliases (trivy's CVE, osv-scanner's GHSA listing that CVE);
//     a group never holds two distinct CVEs;
//   - secrets: the same path and the same hash of the value, or the same
//     lines; a code scanner's hard-coded-credential rule (gosec G101)
//     merges with a secret on overlapping lines of the same file;
//   - code: the same path, overlapping lines, and the same rule class in
//     Dracon's curated table (gosec G401 and semgrep's insecure-hash
//     rules); CWE alone never merges.
//
// The representative is the most severe issue, then the first by tool
// name, so the choice does not depend on input order.
func Group(issues []*v1.Issue) []int {
	n := len(issues)
	uf := newUnionFind(n)
	cves := make([]map[string]bool, n) // per root: the CVEs its group holds
	for i, is := range issues {
		cves[i] = map[string]bool{}
		for _, id := range vulnIDs(is) {
			if strings.HasPrefix(id, "CVE-") {
				cves[i][id] = true
			}
		}
	}
	union := func(a, b int) {
		ra, rb := uf.find(a), uf.find(b)
		if ra == rb {
			return
		}
		merged := map[string]bool{}
		for c := range cves[ra] {
			merged[c] = true
		}
		for c := range cves[rb] {
			merged[c] = true
		}
		if len(merged) > 1 {
			return // two distinct CVEs are two findings, whatever the aliases say
		}
		r := uf.union(ra, rb)
		cves[r] = merged
	}

	// Dependencies, bucketed by package.
	byPackage := map[string][]int{}
	// Everything with a file, bucketed by path.
	byPath := map[string][]int{}
	for i, is := range issues {
		if is.GetPackageUrl() != "" {
			key := PackageWithoutVersion(is.GetPackageUrl())
			byPackage[key] = append(byPackage[key], i)
			continue
		}
		if p := Path(is); p != "" {
			byPath[p] = append(byPath[p], i)
		}
	}
	// Within a bucket, pairs are tried in an order of the issues' own
	// content, so the CVE guard's choice does not depend on input order.
	order := func(idx []int) []int {
		sort.SliceStable(idx, func(x, y int) bool { return better(issues[idx[x]], 0, issues[idx[y]], 0) })
		return idx
	}
	for _, key := range sortedKeys(byPackage) {
		idx := order(byPackage[key])
		for x := 0; x < len(idx); x++ {
			for y := x + 1; y < len(idx); y++ {
				a, b := issues[idx[x]], issues[idx[y]]
				if a.GetToolName() == b.GetToolName() || !sameManifest(a, b) || !shareID(a, b) {
					continue
				}
				union(idx[x], idx[y])
			}
		}
	}
	for _, key := range sortedKeys(byPath) {
		idx := order(byPath[key])
		for x := 0; x < len(idx); x++ {
			for y := x + 1; y < len(idx); y++ {
				a, b := issues[idx[x]], issues[idx[y]]
				if a.GetToolName() != b.GetToolName() && sameFinding(a, b) {
					union(idx[x], idx[y])
				}
			}
		}
	}

	// Pick each group's representative.
	best := map[int]int{}
	for i := range issues {
		r := uf.find(i)
		if b, ok := best[r]; !ok || better(issues[i], i, issues[b], b) {
			best[r] = i
		}
	}
	out := make([]int, n)
	for i := range issues {
		out[i] = best[uf.find(i)]
	}
	return out
}

// sameFinding decides for two issues of one file.
func sameFinding(a, b *v1.Issue) bool {
	sa, sb := isSecret(a), isSecret(b)
	switch {
	case sa && sb:
		return a.GetFingerprint() == b.GetFingerprint() || sameLines(a, b)
	case sa || sb:
		other := a
		if sa {
			other = b
		}
		return RuleClass(other.GetToolName(), ruleOf(other)) == classCredential && overlap(a, b)
	default:
		ca := RuleClass(a.GetToolName(), ruleOf(a))
		return ca != "" && ca == RuleClass(b.GetToolName(), ruleOf(b)) && overlap(a, b)
	}
}

func ruleOf(is *v1.Issue) string {
	if r := is.GetRuleId(); r != "" {
		return r
	}
	return is.GetType()
}

func lines(is *v1.Issue) (int32, int32) {
	l := is.GetLocation()
	s, e := l.GetStartLine(), l.GetEndLine()
	if e < s {
		e = s
	}
	return s, e
}

// overlap: both issues name lines, and the ranges meet.
func overlap(a, b *v1.Issue) bool {
	s1, e1 := lines(a)
	s2, e2 := lines(b)
	return s1 > 0 && s2 > 0 && s1 <= e2 && s2 <= e1
}

func sameLines(a, b *v1.Issue) bool {
	s1, e1 := lines(a)
	s2, e2 := lines(b)
	return s1 > 0 && s1 == s2 && e1 == e2
}

// sameManifest: the same file, or one tool naming none.
func sameManifest(a, b *v1.Issue) bool {
	pa, pb := a.GetLocation().GetPath(), b.GetLocation().GetPath()
	return pa == "" || pb == "" || Path(a) == Path(b)
}

// vulnIDs are an issue's vulnerability ids, normalised.
func vulnIDs(is *v1.Issue) []string {
	var out []string
	for _, id := range append([]string{is.GetCve(), is.GetRuleId()}, is.GetAliases()...) {
		if id = normaliseID(id); id != "" {
			out = append(out, id)
		}
	}
	return out
}

func shareID(a, b *v1.Issue) bool {
	ids := map[string]bool{}
	for _, id := range vulnIDs(a) {
		ids[id] = true
	}
	for _, id := range vulnIDs(b) {
		if ids[id] {
			return true
		}
	}
	return false
}

// better orders a group's members: most severe, then tool name, then
// the issue's own identity, so any input order picks the same one.
func better(a *v1.Issue, ai int, b *v1.Issue, bi int) bool {
	if a.GetSeverity() != b.GetSeverity() {
		return a.GetSeverity() > b.GetSeverity()
	}
	if a.GetToolName() != b.GetToolName() {
		return a.GetToolName() < b.GetToolName()
	}
	if ka, kb := ruleOf(a)+a.GetTarget(), ruleOf(b)+b.GetTarget(); ka != kb {
		return ka < kb
	}
	return ai < bi
}

func sortedKeys(m map[string][]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

type unionFind struct{ parent []int }

func newUnionFind(n int) *unionFind {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	return &unionFind{parent: p}
}

func (u *unionFind) find(i int) int {
	for u.parent[i] != i {
		u.parent[i] = u.parent[u.parent[i]]
		i = u.parent[i]
	}
	return i
}

// union joins two roots and returns the new root.
func (u *unionFind) union(a, b int) int {
	if a > b {
		a, b = b, a
	}
	u.parent[b] = a
	return a
}
