package main

import (
	"strings"
	"testing"
)

func f(tool, rule, path string, line int32, flagged, sig string) *finding {
	return &finding{Tool: tool, Rule: rule, Path: path, Start: line, End: line, Flagged: flagged, Alg: "code/v1", Sig: sig}
}

func TestFlaggedLines(t *testing.T) {
	src := []byte("a := 1\n\tb := exec.Command(x)\n  c\r\n")
	if got, ok := flaggedLines(src, 2, 3); !ok || got != "b:=exec.Command(x)c" {
		t.Errorf("lines 2-3: %q %v", got, ok)
	}
	if _, ok := flaggedLines(src, 9, 9); ok {
		t.Error("a line past the end was read")
	}
	if _, ok := flaggedLines(src, 0, 0); ok {
		t.Error("line 0 was read")
	}
}

func TestCompare(t *testing.T) {
	a := []*finding{
		f("gosec", "G204", "m.go", 10, "exec(x)", "s1"),
		f("gosec", "G104", "m.go", 20, "f()", "s2"),
		f("bandit", "B101", "t.py", 5, "assertx", "s3"),
		f("bandit", "B101", "t.py", 9, "assertx", "s4"), // two copies: ambiguous when one goes
		f("gosec", "G304", "r.go", 3, "open(p)", "s5"),
		f("gosec", "G401", "h.go", 3, "md5()", "s6"),
	}
	b := []*finding{
		f("gosec", "G204", "m.go", 12, "exec(x)", "s1"), // moved down: kept
		f("gosec", "G104", "m.go", 22, "f()", "s2x"),    // same code, new signature: lost
		f("bandit", "B101", "t.py", 9, "assertx", "s4"), // one copy left: not judged
		f("gosec", "G304", "r.go", 3, "open(q)", "s5"),  // edited, old code gone: kept across an edit
		f("gosec", "G401", "h.go", 3, "md5()", "s7"),    // lost its name...
		f("gosec", "G401", "h.go", 9, "sha1()", "s6"),   // ...to another finding: a wrong merge
	}
	st := map[string]*stats{}
	compare(st, "c0ffee", a, b, map[string]bool{"m.go": true})
	g := st["gosec"]
	if g.Pairs != 3 || g.Kept != 1 || g.InChanged != 2 || g.InChangedKept != 1 {
		t.Errorf("gosec pairs %d kept %d, in changed files %d kept %d; want 3 1 2 1", g.Pairs, g.Kept, g.InChanged, g.InChangedKept)
	}
	if g.Shifted != 2 || g.ShiftedKept != 1 {
		t.Errorf("line moved %d kept %d, want 2 1", g.Shifted, g.ShiftedKept)
	}
	if len(g.Lost) != 2 {
		t.Errorf("lost %d, want 2", len(g.Lost))
	}
	if g.Taken != 1 || g.Edited != 1 || len(g.Merges) != 1 || !strings.Contains(g.Merges[0], "took the signature") {
		t.Errorf("taken %d edited %d merges %q", g.Taken, g.Edited, g.Merges)
	}
	if bd := st["bandit"]; bd.Pairs != 0 || bd.Ambiguous != 1 {
		t.Errorf("bandit pairs %d ambiguous %d, want 0 1", bd.Pairs, bd.Ambiguous)
	}
	within(st, "c0ffee", []*finding{f("gosec", "G1", "x.go", 1, "a", "s"), f("gosec", "G1", "x.go", 2, "b", "s")})
	if st["gosec"].Within != 1 {
		t.Errorf("within %d, want 1", st["gosec"].Within)
	}
}
