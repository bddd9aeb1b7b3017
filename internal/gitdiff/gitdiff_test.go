package gitdiff

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// want is what a diff says of one file.
type want struct {
	old    string
	added  []int
	hunk   []int
	whole  bool
	binary bool
}

func span(from, to int) []int {
	var out []int
	for n := from; n <= to; n++ {
		out = append(out, n)
	}
	return out
}

func cat(parts ...[]int) []int {
	var out []int
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// mixed is testdata/mixed.diff (and mixed-unquoted.diff, the same change
// with core.quotePath=false): real `git diff -M` output of a commit that
// adds, deletes, edits, renames and edits, changes a mode and a binary
// file, in files whose names have a space, a quote and a non-ASCII letter.
var mixed = map[string]want{
	"added.txt":      {added: span(1, 2), hunk: span(1, 2)},
	"bin.dat":        {old: "bin.dat", whole: true, binary: true},
	"mod.txt":        {old: "mod.txt", added: []int{2, 9, 11}, hunk: span(1, 11)},
	"mode.sh":        {old: "mode.sh"},
	"naïve.go":       {old: "naïve.go", added: []int{2}, hunk: span(1, 2)},
	"new.txt":        {old: "old.txt", added: []int{7}, hunk: span(4, 7)},
	`quo"te.txt`:     {old: `quo"te.txt`, added: []int{2}, hunk: span(1, 2)},
	"with space.txt": {old: "with space.txt", added: []int{2}, hunk: span(1, 2)},
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		file  string
		files map[string]want
	}{
		{"mixed.diff", mixed},
		{"mixed-unquoted.diff", mixed},
		// Three hunks of one file, CRLF lines, a removed line that reads
		// "--- removed later" and an added "+++ added now" inside a hunk,
		// and a pure rename.
		{"hunks.diff", map[string]want{
			"crlf.txt":   {old: "crlf.txt", added: []int{2}, hunk: span(1, 3)},
			"dashes.txt": {old: "dashes.txt", added: []int{2}, hunk: span(1, 5)},
			"many.go":    {old: "many.go", added: []int{5, 31, 43}, hunk: cat(span(2, 8), span(28, 34), span(40, 43))},
			"moved.txt":  {old: "same.txt"},
		}},
		// diff.suppressBlankEmpty: an empty line is an empty context line.
		{"blank-empty.diff", map[string]want{
			"dashes.txt": {old: "dashes.txt", added: []int{2}, hunk: span(1, 5)},
		}},
		// diff -u of two pairs of files: no "diff --git" lines, a
		// timestamp after a tab, no a/ b/ prefixes.
		{"plain-u.diff", map[string]want{
			"n.txt": {old: "o.txt", added: []int{2, 4}, hunk: span(1, 4)},
			"n2":    {old: "o2", added: []int{2}, hunk: span(1, 2)},
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			d, err := Parse(data)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]want{}
			for _, f := range d.Files() {
				got[f.Path] = want{old: f.OldPath, added: f.AddedLines(), hunk: nilIfEmpty(f.HunkLines()), whole: f.Whole, binary: f.Binary}
			}
			if !reflect.DeepEqual(got, tc.files) {
				for p, w := range tc.files {
					if !reflect.DeepEqual(got[p], w) {
						t.Errorf("%s: got %+v, want %+v", p, got[p], w)
					}
				}
				for p := range got {
					if _, ok := tc.files[p]; !ok {
						t.Errorf("unexpected file %q: %+v", p, got[p])
					}
				}
			}
		})
	}
}

func nilIfEmpty(s []int) []int {
	if len(s) == 0 {
		return nil
	}
	return s
}

// TestKeeps: reviewdog's semantics on testdata/hunks.diff's many.go
// (hunks 2-8, 28-34, 40-43; added 5, 31, 43).
func TestKeeps(t *testing.T) {
	data, err := os.ReadFile("testdata/hunks.diff")
	if err != nil {
		t.Fatal(err)
	}
	d, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path       string
		start, end int
		added      bool // Added keeps it
		context    bool // DiffContext keeps it
		file       bool // File keeps it
	}{
		{"many.go", 5, 5, true, true, true},         // the added line
		{"many.go", 4, 4, false, true, true},        // a context line
		{"many.go", 4, 6, true, true, true},         // context around the added line
		{"many.go", 7, 9, false, false, true},       // runs out of the hunk
		{"many.go", 8, 28, false, false, true},      // spans two hunks and the gap
		{"many.go", 30, 36, true, false, true},      // an added line, but not all in the hunk
		{"many.go", 20, 20, false, false, true},     // between hunks
		{"many.go", 43, 0, true, true, true},        // end before start: one line
		{"many.go", 0, 0, true, true, true},         // no line: the file is in the diff
		{"./many.go", 31, 31, true, true, true},     // "./" is the same file
		{"moved.txt", 3, 3, false, false, true},     // renamed, not edited
		{"same.txt", 3, 3, false, false, false},     // its old name is not on the new side
		{"untouched.go", 1, 1, false, false, false}, // not in the diff
		{"untouched.go", 0, 0, false, false, false},
	} {
		for _, m := range []struct {
			mode Mode
			want bool
		}{{Added, tc.added}, {DiffContext, tc.context}, {File, tc.file}, {NoFilter, true}} {
			if got := d.Keeps(m.mode, tc.path, tc.start, tc.end); got != m.want {
				t.Errorf("%s %s:%d-%d = %v, want %v", m.mode, tc.path, tc.start, tc.end, got, m.want)
			}
		}
	}
	d.AddWhole("new/untracked.go")
	if !d.Keeps(Added, "new/untracked.go", 12, 14) || !d.Keeps(DiffContext, "new/untracked.go", 1, 500) {
		t.Error("an untracked file is not all added")
	}
	var none *Diff
	if none.Keeps(Added, "x.go", 1, 1) || !none.Keeps(NoFilter, "x.go", 1, 1) {
		t.Error("a nil diff keeps nothing but under nofilter")
	}
}

func TestParseMode(t *testing.T) {
	for in, want := range map[string]Mode{"": NoFilter, "added": Added, "Diff_Context": DiffContext, "diff-context": DiffContext, "file": File, "nofilter": NoFilter} {
		if got, err := ParseMode(in); err != nil || got != want {
			t.Errorf("ParseMode(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseMode("default"); err == nil || !strings.Contains(err.Error(), "added, diff_context, file or nofilter") {
		t.Errorf("ParseMode(default): %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	for _, in := range []string{
		"diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +x @@\n",
		"diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,2 +1,99999999999 @@\n",
		"diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ 1 1 @@\n",
	} {
		if _, err := Parse([]byte(in)); err == nil || !strings.Contains(err.Error(), "malformed hunk header") {
			t.Errorf("Parse(%q): %v", in, err)
		}
	}
	// A hunk whose counts run past the end of the diff keeps what it read.
	d, err := Parse([]byte("diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,5 +1,6 @@\n a\n+b\n"))
	if err != nil || !d.Keeps(Added, "x", 2, 2) {
		t.Errorf("truncated hunk: %v", err)
	}
}

// TestRun runs git: a commit, then an edit left uncommitted and a file
// not added yet, in a subfolder of the repository scanned on its own.
func TestRun(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	repo := t.TempDir()
	gitIn(t, repo, "init", "-q", "-b", "main")
	write(t, repo, "app/main.go", "package main\n\nfunc main() {\n}\n")
	write(t, repo, "other/x.go", "package other\n")
	gitIn(t, repo, "add", "-A")
	gitIn(t, repo, "commit", "-q", "-m", "base")
	base := strings.TrimSpace(gitIn(t, repo, "rev-parse", "HEAD"))
	gitIn(t, repo, "checkout", "-q", "-b", "feature")
	write(t, repo, "app/main.go", "package main\n\nfunc main() {\n\tprintln(1)\n}\n")
	gitIn(t, repo, "commit", "-q", "-am", "edit")
	write(t, repo, "app/main.go", "package main\n\nfunc main() {\n\tprintln(1)\n\tprintln(2)\n}\n")
	write(t, repo, "app/new.go", "package main\n\nvar x = 1\n")
	write(t, repo, "other/x.go", "package other\n\nvar y = 2\n")

	mb, err := MergeBase(context.Background(), repo, "main", "HEAD")
	if err != nil || mb != base {
		t.Fatalf("merge base = %q, %v; want %s", mb, err, base)
	}
	if c, err := Resolve(context.Background(), repo, "main"); err != nil || c != base {
		t.Fatalf("Resolve(main) = %q, %v", c, err)
	}
	if _, err := Resolve(context.Background(), repo, "origin/nope"); err == nil {
		t.Fatal("Resolve of a missing branch did not fail")
	}
	d, err := Run(context.Background(), filepath.Join(repo, "app"), mb)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, f := range d.Files() {
		paths = append(paths, f.Path)
	}
	if strings.Join(paths, " ") != "main.go new.go" {
		t.Errorf("files %v, want main.go (committed and uncommitted edits) and new.go (untracked), relative to app/", paths)
	}
	if got := d.File("main.go").AddedLines(); !reflect.DeepEqual(got, []int{4, 5}) {
		t.Errorf("main.go added %v, want [4 5]", got)
	}
	if !d.Keeps(Added, "new.go", 3, 3) {
		t.Error("the untracked file is not added")
	}
	if _, err := Run(context.Background(), repo, "--output=/tmp/x"); err == nil {
		t.Error("an option taken for a revision")
	}
}

func gitIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.email=t@example.com", "-c", "user.name=t", "-c", "commit.gpgsign=false"}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func write(t *testing.T, dir, name, body string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// FuzzParse: any input parses or fails cleanly, and what it says holds
// together (an added line is in a hunk; every file has a path).
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.diff")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("@@ -1 +1 @@\n"))
	f.Add([]byte("--- a\n+++ b\n@@ -0,0 +1,3 @@\n+x\n\\ No newline at end of file\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Parse(data)
		if err != nil {
			return
		}
		for _, fd := range d.Files() {
			if fd.Path == "" {
				t.Fatal("a file without a path")
			}
			if d.File(fd.Path) != fd {
				t.Fatalf("%q is not found by its path", fd.Path)
			}
			for _, n := range fd.AddedLines() {
				if !fd.InHunk(n) || n < 0 {
					t.Fatalf("%s: added line %d not in a hunk", fd.Path, n)
				}
				if !d.Keeps(Added, fd.Path, n, n) || !d.Keeps(DiffContext, fd.Path, n, n) {
					t.Fatalf("%s:%d added but not kept", fd.Path, n)
				}
			}
		}
	})
}
