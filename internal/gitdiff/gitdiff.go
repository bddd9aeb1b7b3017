// Package gitdiff reads what a change touched from `git diff`: for each
// file of the new side, which lines were added and which are in a hunk
// (added or context). The diff filter asks it whether a finding is on
// lines a pull request touched, with reviewdog's semantics (Mode).
//
// Parse reads the unified diff git writes (quoted paths, renames, binary
// files, mode changes, deleted and new files, "\ No newline at end of
// file"); a hunk's body is read by its header's counts, as git apply
// does, so a removed line that reads "-- x" or an added "++ y" is not
// taken for a file header. Run and MergeBase run git.
package gitdiff

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Mode is a diff filter: which findings a change's review counts.
type Mode string

// The modes, reviewdog's (filter/diff_filter.go).
const (
	// Added keeps a finding when some line of it is an added line.
	Added Mode = "added"
	// DiffContext keeps a finding when all its lines are in a hunk
	// (added or context lines).
	DiffContext Mode = "diff_context"
	// File keeps a finding when its file is in the diff.
	File Mode = "file"
	// NoFilter keeps everything.
	NoFilter Mode = "nofilter"
)

// Modes lists the modes, for help texts and errors.
var Modes = []Mode{Added, DiffContext, File, NoFilter}

// ParseMode reads a --diff-filter value; "" is NoFilter.
func ParseMode(s string) (Mode, error) {
	m := Mode(strings.ToLower(strings.TrimSpace(s)))
	if m == "" {
		return NoFilter, nil
	}
	if m == "diff-context" {
		m = DiffContext
	}
	for _, v := range Modes {
		if m == v {
			return m, nil
		}
	}
	return "", fmt.Errorf("unknown diff filter %q (want added, diff_context, file or nofilter)", s)
}

// FileDiff is what the diff says of one file of the new side.
type FileDiff struct {
	Path    string // the new path, relative to where git ran (--relative)
	OldPath string // the old path: "" for a new file, else Path unless renamed
	// Whole: every line of the file counts as added (a file git does not
	// track yet, or a binary file whose lines git does not show).
	Whole  bool
	Binary bool
	// lines maps a new-side line number in a hunk to whether it was
	// added (true) or is context (false).
	lines map[int]bool
}

// Added reports whether line n of the new file was added.
func (f *FileDiff) Added(n int) bool {
	if f.Whole {
		return true
	}
	return f.lines[n]
}

// InHunk reports whether line n of the new file is in a hunk.
func (f *FileDiff) InHunk(n int) bool {
	if f.Whole {
		return true
	}
	_, ok := f.lines[n]
	return ok
}

// AddedLines lists the added lines, in order (nil for a Whole file).
func (f *FileDiff) AddedLines() []int {
	var out []int
	for n, added := range f.lines {
		if added {
			out = append(out, n)
		}
	}
	sort.Ints(out)
	return out
}

// HunkLines lists the lines in hunks, in order (nil for a Whole file).
func (f *FileDiff) HunkLines() []int {
	out := make([]int, 0, len(f.lines))
	for n := range f.lines {
		out = append(out, n)
	}
	sort.Ints(out)
	return out
}

// Diff is a parsed diff: the files of its new side, by path.
type Diff struct {
	files map[string]*FileDiff
}

// Files lists the files of the new side, by path.
func (d *Diff) Files() []*FileDiff {
	out := make([]*FileDiff, 0, len(d.files))
	for _, f := range d.files {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// File returns the file at path (slash-separated, as git writes it), or
// nil when the diff does not touch it.
func (d *Diff) File(path string) *FileDiff {
	if d == nil {
		return nil
	}
	return d.files[cleanPath(path)]
}

// AddWhole records a file whose every line counts as added: one git does
// not track yet (`git ls-files --others`), which `git diff` leaves out.
func (d *Diff) AddWhole(path string) {
	p := cleanPath(path)
	if p == "" {
		return
	}
	if d.files == nil {
		d.files = map[string]*FileDiff{}
	}
	d.files[p] = &FileDiff{Path: p, Whole: true}
}

// maxSpan bounds the lines of one finding the filter looks at: a finding
// that claims more is judged on its first maxSpan lines.
const maxSpan = 100000

// Keeps reports whether a finding at path, lines start..end (1-based,
// inclusive; end < start means start), counts under mode m. A finding
// with no line (start <= 0: a dependency in a manifest, a whole file)
// counts when its file is in the diff, whatever the mode.
func (d *Diff) Keeps(m Mode, path string, start, end int) bool {
	if m == NoFilter || m == "" {
		return true
	}
	f := d.File(path)
	if f == nil {
		return false
	}
	if m == File || start <= 0 {
		return true
	}
	if end < start {
		end = start
	}
	if end-start >= maxSpan {
		end = start + maxSpan - 1
	}
	switch m {
	case Added:
		for n := start; n <= end; n++ {
			if f.Added(n) {
				return true
			}
		}
		return false
	case DiffContext:
		for n := start; n <= end; n++ {
			if !f.InHunk(n) {
				return false
			}
		}
		return true
	}
	return true
}

// Parse reads the output of `git diff` (without --no-prefix: the a/ and
// b/ prefixes tell the sides apart).
func Parse(data []byte) (*Diff, error) {
	d := &Diff{files: map[string]*FileDiff{}}
	p := parser{d: d, sc: bufio.NewScanner(bytes.NewReader(data))}
	p.sc.Buffer(make([]byte, 0, 64*1024), 64*1024*1024)
	if err := p.run(); err != nil {
		return nil, err
	}
	return d, nil
}

type parser struct {
	d    *Diff
	sc   *bufio.Scanner
	line string
	n    int  // line number in the diff, for errors
	back bool // line is to be read again
	cur  *FileDiff
	// from the headers of the current file
	gitOld, gitNew   string // from "diff --git", when unambiguous
	oldName, newName string
	haveNew          bool // a "+++" named the new side
	deleted, created bool
}

func (p *parser) next() bool {
	if p.back {
		p.back = false
		return true
	}
	if !p.sc.Scan() {
		return false
	}
	p.n++
	p.line = strings.TrimSuffix(p.sc.Text(), "\r")
	return true
}

func (p *parser) run() error {
	for p.next() {
		l := p.line
		switch {
		case strings.HasPrefix(l, "diff --git "):
			p.finish()
			p.start()
			p.gitOld, p.gitNew = splitGitHeader(l[len("diff --git "):])
		case strings.HasPrefix(l, "--- ") && p.cur != nil && !p.haveNew:
			p.oldName = headerPath(l[4:], "a/")
		case strings.HasPrefix(l, "+++ ") && p.cur != nil && !p.haveNew:
			name := headerPath(l[4:], "b/")
			if name == "" {
				p.deleted = true
			}
			p.newName, p.haveNew = name, true
		case strings.HasPrefix(l, "--- "):
			// A plain unified diff (diff -u) has no "diff --git" line:
			// each file starts at its "---".
			p.finish()
			p.start()
			p.oldName = headerPath(l[4:], "a/")
		case strings.HasPrefix(l, "rename to ") && p.cur != nil:
			p.newName = unquote(l[len("rename to "):])
		case strings.HasPrefix(l, "rename from ") && p.cur != nil:
			p.oldName = unquote(l[len("rename from "):])
		case strings.HasPrefix(l, "deleted file mode ") && p.cur != nil:
			p.deleted = true
		case strings.HasPrefix(l, "new file mode ") && p.cur != nil:
			p.created = true
		case strings.HasPrefix(l, "Binary files ") && p.cur != nil:
			p.cur.Binary = true
		case strings.HasPrefix(l, "@@ ") && p.cur != nil:
			if err := p.hunk(); err != nil {
				return err
			}
		}
	}
	if err := p.sc.Err(); err != nil {
		return fmt.Errorf("diff line %d: %w", p.n+1, err)
	}
	p.finish()
	return nil
}

func (p *parser) start() {
	p.cur = &FileDiff{lines: map[int]bool{}}
	p.gitOld, p.gitNew, p.oldName, p.newName = "", "", "", ""
	p.haveNew, p.deleted, p.created = false, false, false
}

// finish files the current file under its new path.
func (p *parser) finish() {
	f := p.cur
	p.cur = nil
	if f == nil || p.deleted {
		return
	}
	name := p.newName
	if name == "" {
		name = p.gitNew
	}
	f.Path = cleanPath(name)
	if f.Path == "" {
		return
	}
	if !p.created {
		f.OldPath = cleanPath(p.oldName)
		if f.OldPath == "" {
			f.OldPath = cleanPath(p.gitOld)
		}
	}
	if f.Binary && len(f.lines) == 0 {
		// git shows no lines of a binary file: all of it is the change.
		f.Whole = true
	}
	if prev := p.d.files[f.Path]; prev != nil {
		// The same file twice (a concatenation of diffs): keep both.
		for n, a := range f.lines {
			prev.lines[n] = prev.lines[n] || a
		}
		prev.Whole = prev.Whole || f.Whole
		return
	}
	p.d.files[f.Path] = f
}

// hunk reads one hunk: its header is p.line.
func (p *parser) hunk() error {
	oldCount, newStart, newCount, err := hunkHeader(p.line)
	if err != nil {
		return fmt.Errorf("diff line %d: %w", p.n, err)
	}
	n := newStart
	for oldCount > 0 || newCount > 0 {
		if !p.next() {
			return nil // a truncated diff: keep what it said
		}
		l := p.line
		if l == "" {
			l = " " // diff.suppressBlankEmpty writes an empty context line so
		}
		switch l[0] {
		case ' ':
			if oldCount == 0 || newCount == 0 {
				p.back = true
				return nil
			}
			if _, seen := p.cur.lines[n]; !seen {
				p.cur.lines[n] = false
			}
			n++
			oldCount--
			newCount--
		case '-':
			if oldCount == 0 {
				p.back = true
				return nil
			}
			oldCount--
		case '+':
			if newCount == 0 {
				p.back = true
				return nil
			}
			p.cur.lines[n] = true
			n++
			newCount--
		case '\\':
			// "\ No newline at end of file" belongs to the line before.
		default:
			// Not a hunk line: the counts were wrong; read it as a header.
			p.back = true
			return nil
		}
	}
	// A "\ No newline" marker may follow the last line.
	if p.next() && !strings.HasPrefix(p.line, `\`) {
		p.back = true
	}
	return nil
}

var errHunk = errors.New("malformed hunk header")

// hunkHeader reads "@@ -a[,b] +c[,d] @@ ..." and returns b, c and d.
func hunkHeader(l string) (oldCount, newStart, newCount int, err error) {
	rest, ok := strings.CutPrefix(l, "@@ -")
	if !ok {
		return 0, 0, 0, fmt.Errorf("%w: %q", errHunk, l)
	}
	oldR, rest, ok := strings.Cut(rest, " +")
	if !ok {
		return 0, 0, 0, fmt.Errorf("%w: %q", errHunk, l)
	}
	newR, _, ok := strings.Cut(rest, " @@")
	if !ok {
		return 0, 0, 0, fmt.Errorf("%w: %q", errHunk, l)
	}
	_, oldCount, err1 := hunkRange(oldR)
	newStart, newCount, err2 := hunkRange(newR)
	if err1 != nil || err2 != nil {
		return 0, 0, 0, fmt.Errorf("%w: %q", errHunk, l)
	}
	return oldCount, newStart, newCount, nil
}

// maxCount bounds a hunk's line counts, so a corrupt header cannot make
// the parser count to the end of int.
const maxCount = 1 << 30

func hunkRange(s string) (start, count int, err error) {
	a, b, hasCount := strings.Cut(s, ",")
	start, err = strconv.Atoi(a)
	if err != nil || start < 0 || start > maxCount {
		return 0, 0, errHunk
	}
	count = 1
	if hasCount {
		count, err = strconv.Atoi(b)
		if err != nil || count < 0 || count > maxCount {
			return 0, 0, errHunk
		}
	}
	return start, count, nil
}

// headerPath reads the name of a "---" or "+++" line: "" for /dev/null,
// else the path without its side's prefix. git ends a name that has a
// space with a tab; diff -u puts a timestamp after one.
func headerPath(s, prefix string) string {
	if strings.HasPrefix(s, `"`) {
		name, _ := unquoteC(s)
		return strings.TrimPrefix(name, prefix)
	}
	if i := strings.IndexByte(s, '\t'); i >= 0 {
		s = s[:i]
	}
	if s == "/dev/null" {
		return ""
	}
	return strings.TrimPrefix(s, prefix)
}

// splitGitHeader reads "a/OLD b/NEW" of a "diff --git" line. Unquoted
// names with spaces are ambiguous; like git, it takes the split where both
// names are the same (a mode change, a binary file) and gives up
// otherwise (a rename says its names in "rename from/to" lines).
func splitGitHeader(s string) (oldName, newName string) {
	if strings.HasPrefix(s, `"`) {
		o, rest := unquoteC(s)
		rest = strings.TrimPrefix(rest, " ")
		var n string
		if strings.HasPrefix(rest, `"`) {
			n, _ = unquoteC(rest)
		} else {
			n = rest
		}
		return strings.TrimPrefix(o, "a/"), strings.TrimPrefix(n, "b/")
	}
	if i := strings.Index(s, ` "`); i >= 0 {
		n, _ := unquoteC(s[i+1:])
		return strings.TrimPrefix(s[:i], "a/"), strings.TrimPrefix(n, "b/")
	}
	// "a/P b/P": the two halves around the middle space.
	if len(s)%2 == 1 {
		h := len(s) / 2
		o, n := s[:h], s[h+1:]
		if s[h] == ' ' && strings.HasPrefix(o, "a/") && strings.HasPrefix(n, "b/") && o[2:] == n[2:] {
			return o[2:], n[2:]
		}
	}
	return "", ""
}

// unquote reads a name of a "rename from/to" line, quoted or not.
func unquote(s string) string {
	if strings.HasPrefix(s, `"`) {
		name, _ := unquoteC(s)
		return name
	}
	return s
}

// unquoteC reads a C-style quoted string as git writes names with
// special characters ("na\303\257ve.go", "quo\"te"), and returns it and
// what follows the closing quote. An unterminated string is read to the
// end.
func unquoteC(s string) (string, string) {
	var b strings.Builder
	i := 1
	for i < len(s) {
		c := s[i]
		switch {
		case c == '"':
			return b.String(), s[i+1:]
		case c == '\\' && i+1 < len(s):
			i++
			switch e := s[i]; e {
			case 'a':
				b.WriteByte('\a')
			case 'b':
				b.WriteByte('\b')
			case 't':
				b.WriteByte('\t')
			case 'n':
				b.WriteByte('\n')
			case 'v':
				b.WriteByte('\v')
			case 'f':
				b.WriteByte('\f')
			case 'r':
				b.WriteByte('\r')
			case '0', '1', '2', '3':
				if i+2 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) {
					b.WriteByte((e-'0')<<6 | (s[i+1]-'0')<<3 | (s[i+2] - '0'))
					i += 2
				} else {
					b.WriteByte(e)
				}
			default:
				b.WriteByte(e)
			}
		default:
			b.WriteByte(c)
		}
		i++
	}
	return b.String(), ""
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// cleanPath makes a finding's path and a diff's path comparable: no
// leading "./".
func cleanPath(p string) string {
	for strings.HasPrefix(p, "./") {
		p = p[2:]
	}
	return p
}
