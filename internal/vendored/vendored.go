// Package vendored tells a project's own files from those it carries but
// did not write: dependency folders (node_modules/, vendor/, third_party/,
// ...), well-known third-party libraries (jQuery, Bootstrap, ...), minified
// bundles, and files a tool generated. Scanners that read the source tree
// report findings in such files that the project can do nothing about; a
// first scan of a web application with a bundled jQuery is mostly those.
//
// The rules are a curated subset of GitHub Linguist's (lib/linguist/
// vendor.yml and generated.rb), written anew here and chosen for what
// security scanners read. Linguist decides what counts in a repository's
// language statistics, which is a different question: it also treats CI
// configuration (.github/, Jenkinsfile), Vagrantfiles, dist/, cache/,
// env/ and fabfile.py as vendored, and lockfiles as generated, and all
// of those are the project's own and matter to scanners (a workflow or a
// Dockerfile under dist/ is infrastructure code; a lockfile is what a
// dependency scanner reads). Those are left out; see rules.go for what is
// in and why.
//
// A Classifier answers for one path, reading the file's first bytes for
// the rules that look at content; Walk answers for a whole tree.
package vendored

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/draconsec/dracon/internal/pathglob"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Kind is why a file is not the project's own.
type Kind string

const (
	Folder    Kind = "vendored"  // under a dependency folder (node_modules/, vendor/, ...)
	Library   Kind = "library"   // a well-known third-party library
	Minified  Kind = "minified"  // a minified bundle, by name or by its long lines
	Generated Kind = "generated" // written by a tool (a "Code generated" header, @generated, ...)
	Skipped   Kind = "skipped"   // a path the config's skip globs name
)

// Verdict is the classification of one file. The zero Verdict means the
// file is the project's own.
type Verdict struct {
	Kind Kind
	// Why says which rule decided, for people: "minified",
	// "library (jQuery)", "generated (Code generated ... DO NOT EDIT.)".
	Why string
	// Dir is the vendored folder the file is in ("web/node_modules/"),
	// when a folder rule decided.
	Dir string
}

// Own reports whether the file is the project's own.
func (v Verdict) Own() bool { return v.Kind == "" }

// Rules are a config's exceptions, as globs over slash-separated paths
// relative to the source folder (see Match).
type Rules struct {
	// Scan names the project's own files, whatever the built-in rules
	// say (a minified file the project writes by hand, a vendor/ folder
	// of its own code). Scan wins over Skip.
	Scan []string
	// Skip names more files that are not the project's own.
	Skip []string
}

// Classifier classifies files by the built-in rules and a config's Rules.
type Classifier struct {
	rules Rules
}

// New returns a classifier, or an error naming a bad glob.
func New(r Rules) (*Classifier, error) {
	for _, g := range append(append([]string(nil), r.Scan...), r.Skip...) {
		if err := pathglob.Valid(g); err != nil {
			return nil, err
		}
	}
	return &Classifier{rules: r}, nil
}

func matchAny(globs []string, rel string) string {
	for _, g := range globs {
		if pathglob.Match(g, rel) {
			return g
		}
	}
	return ""
}

// Classify classifies rel, a slash-separated path relative to root. Path
// rules come first; content rules read the file's first bytes (and, for
// JavaScript and CSS, up to its first MiB) when it exists.
func (c *Classifier) Classify(root, rel string) Verdict {
	rel = clean(rel)
	if v, decided := c.byGlob(rel); decided {
		return v
	}
	if v := folderOf(rel); !v.Own() {
		return v
	}
	return c.byFile(root, rel, true)
}

// ClassifyPath classifies rel by its path alone, for a file that is not
// on disk.
func (c *Classifier) ClassifyPath(rel string) Verdict {
	rel = clean(rel)
	if v, decided := c.byGlob(rel); decided {
		return v
	}
	if v := folderOf(rel); !v.Own() {
		return v
	}
	return c.byFile("", rel, false)
}

func clean(rel string) string {
	return strings.TrimPrefix(path.Clean(filepath.ToSlash(rel)), "./")
}

// byGlob applies the config's globs; decided is false when neither names
// rel.
func (c *Classifier) byGlob(rel string) (v Verdict, decided bool) {
	if c == nil {
		return Verdict{}, false
	}
	if matchAny(c.rules.Scan, rel) != "" {
		return Verdict{}, true
	}
	if g := matchAny(c.rules.Skip, rel); g != "" {
		return Verdict{Kind: Skipped, Why: fmt.Sprintf("vendored.skip %q", g)}, true
	}
	return Verdict{}, false
}

// byFile applies the name rules to rel's base name, then (with content)
// the rules that read the file.
func (c *Classifier) byFile(root, rel string, content bool) Verdict {
	base := path.Base(rel)
	if anyName.MatchString(base) {
		for _, r := range nameRules {
			if r.re.MatchString(base) {
				return Verdict{Kind: r.kind, Why: r.why}
			}
		}
	}
	if !content {
		return Verdict{}
	}
	return byContent(root, rel)
}

// folderOf applies the folder rules to rel's folders, outermost first.
func folderOf(rel string) Verdict {
	best := -1
	var v Verdict
	for _, r := range folderRules {
		if loc := r.re.FindStringIndex(rel); loc != nil && (best < 0 || loc[1] < best) {
			best = loc[1]
			v = Verdict{Kind: r.kind, Why: r.why, Dir: rel[:loc[1]]}
		}
	}
	return v
}

// headSize is how much of a file the marker rules read; bundleSize how
// much of a JavaScript or CSS file the line-length rule reads.
const (
	headSize   = 8 << 10
	bundleSize = 1 << 20
)

func byContent(root, rel string) Verdict {
	ext := strings.ToLower(path.Ext(rel))
	f, err := os.Open(filepath.Join(root, filepath.FromSlash(rel)))
	if err != nil {
		return Verdict{}
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return Verdict{}
	}
	limit := int64(headSize)
	if bundleExts[ext] {
		limit = bundleSize
	}
	data, err := io.ReadAll(io.LimitReader(f, limit))
	if err != nil || len(data) == 0 || bytes.IndexByte(data[:min(len(data), 1024)], 0) >= 0 {
		return Verdict{} // unreadable, empty or binary
	}
	head := data[:min(len(data), headSize)]
	if base := path.Base(rel); anyLibrary.MatchString(base) {
		for _, r := range libraryRules {
			if r.re.MatchString(base) && containsAny(head, r.banner) {
				return Verdict{Kind: Library, Why: "library (" + r.name + ")"}
			}
		}
	}
	if why := generatedHeader(ext, head); why != "" {
		return Verdict{Kind: Generated, Why: "generated (" + why + ")"}
	}
	if bundleExts[ext] {
		if sourceMapped(f, data) {
			return Verdict{Kind: Generated, Why: "generated (has a source map)"}
		}
		if avg := averageLine(data); avg > maxAverageLine {
			return Verdict{Kind: Minified, Why: fmt.Sprintf("minified (lines average %d characters)", avg)}
		}
	}
	return Verdict{}
}

func containsAny(b []byte, subs []string) bool {
	for _, s := range subs {
		if bytes.Contains(b, []byte(s)) {
			return true
		}
	}
	return false
}

// maxAverageLine is Linguist's threshold: a JavaScript or CSS file whose
// lines average more than 110 characters is minified.
const maxAverageLine = 110

func averageLine(data []byte) int {
	lines := bytes.Count(data, []byte{'\n'})
	if len(data) > 0 && data[len(data)-1] != '\n' {
		lines++
	}
	if lines == 0 {
		return 0
	}
	return (len(data) - bytes.Count(data, []byte{'\n'})) / lines
}

// sourceMapped reports whether one of the last two lines of a JavaScript
// or CSS file points at a source map (`//# sourceMappingURL=...`): the file
// was compiled or bundled from sources elsewhere.
func sourceMapped(f *os.File, data []byte) bool {
	tail := data
	if len(data) == bundleSize { // the file may be longer: read its end
		st, err := f.Stat()
		if err != nil {
			return false
		}
		off := max(st.Size()-1024, 0)
		buf := make([]byte, st.Size()-off)
		n, _ := f.ReadAt(buf, off)
		tail = buf[:n]
	}
	tail = bytes.TrimRight(tail, "\r\n \t")
	lines := bytes.Split(tail, []byte{'\n'})
	for i := max(len(lines)-2, 0); i < len(lines); i++ {
		if sourceMapLine.Match(bytes.TrimSpace(lines[i])) {
			return true
		}
	}
	return false
}

// File is one file that is not the project's own.
type File struct {
	Path string // slash-separated, relative to the walked root
	Verdict
}

// WalkOptions tune Walk.
type WalkOptions struct {
	// SkipDir names folders not to walk at all (by base name), such as
	// ".git"; their files are neither the project's nor listed.
	SkipDir func(name string) bool
	// Want limits the content rules and the result to the files it
	// accepts (nil: every file), so that a tree is read only for what
	// some scanner would look at.
	Want func(rel string) bool
}

// Walk lists the files under root that are not the project's own, in
// walk (lexical) order.
func (c *Classifier) Walk(root string, o WalkOptions) ([]File, error) {
	var out []File
	folders := map[string]Verdict{} // folder rel path ("a/b/") → its folder verdict
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p != root && errors.Is(err, fs.ErrPermission) {
				return nil // an unreadable folder is nobody's business here
			}
			return err
		}
		if p == root {
			return nil
		}
		r, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel := filepath.ToSlash(r)
		if d.IsDir() {
			if o.SkipDir != nil && o.SkipDir(d.Name()) {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || (o.Want != nil && !o.Want(rel)) {
			return nil
		}
		v, decided := c.byGlob(rel)
		if !decided {
			// Folder verdicts are computed once per folder, not per
			// file: a node_modules/ holds many.
			dir := path.Dir(rel) + "/"
			fv, seen := folders[dir]
			if !seen {
				fv = folderOf(dir)
				folders[dir] = fv
			}
			v = fv
			if v.Own() {
				v = c.byFile(root, rel, true)
			}
		}
		if !v.Own() {
			out = append(out, File{Path: rel, Verdict: v})
		}
		return nil
	})
	return out, err
}
