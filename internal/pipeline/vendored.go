package pipeline

// Vendored and generated files. A first scan of a web application that
// commits jQuery and Bootstrap is mostly findings in them: none in the
// application's code, more than every other scanner's together. By
// default Dracon leaves such files out (internal/vendored decides which),
// and says so: the log names the files each producer left out and why,
// the run directory lists all of them, and summary.json counts them.
//
// Which producers leave them out (policyFor):
//   - SAST and IaC scanners Dracon runs on the source tree: their findings
//     in vendored files are about code the project did not write;
//   - not secret scanners (gitleaks, trufflehog), nor the secret findings
//     of other scanners (trivy's, tagged "secret"): a key is leaked
//     wherever it sits, and the likeliest place for a key a build baked
//     in is a minified bundle;
//   - not dependency, SBOM or DAST scanners: other people's code, and
//     where it is pinned or vendored, is what they are for;
//   - not reports read from `paths:` (and the sarif importer): the step
//     that wrote the report chose what to scan, and may have run on a
//     checkout whose files are not here to classify.
// A producer's include_vendored (true or false) overrides all of that; the
// top-level include_vendored: true turns the default off everywhere.

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/draconsec/dracon/internal/config"
	"github.com/draconsec/dracon/internal/produce"
	"github.com/draconsec/dracon/internal/producers"
	"github.com/draconsec/dracon/internal/summary"
	"github.com/draconsec/dracon/internal/vendored"
)

// vendorPolicy is how one planned producer treats vendored files.
type vendorPolicy struct {
	skip bool // its findings in vendored and generated files are dropped
	// keepSecrets keeps secret findings there all the same (the default;
	// an explicit include_vendored: false drops them too).
	keepSecrets bool
	// tree: the producer scans the source tree, so the vendored files its
	// patterns match are listed as skipped, found or not.
	tree bool
}

// skipsByDefault says whether p leaves vendored files out when nothing is
// configured: a SAST or IaC scanner that Dracon runs on the tree.
func skipsByDefault(p *producers.Producer) bool {
	return p.Tool != nil && (p.Kind == producers.SAST || p.Kind == producers.IaC)
}

// policyFor decides how pl treats vendored files: its include_vendored,
// else the top-level one, else skipsByDefault for a scanner Dracon runs.
func policyFor(c *config.Config, pl planned) vendorPolicy {
	imports := pl.p.Tool == nil || (pl.cfg != nil && len(pl.cfg.Paths) > 0)
	if pl.cfg != nil && pl.cfg.IncludeVendored != nil {
		if *pl.cfg.IncludeVendored {
			return vendorPolicy{}
		}
		return vendorPolicy{skip: true, tree: !imports}
	}
	if (c != nil && c.IncludeVendored) || imports || !skipsByDefault(pl.p) {
		return vendorPolicy{}
	}
	return vendorPolicy{skip: true, keepSecrets: true, tree: true}
}

// newClassifier builds the classifier with the config's scan and skip
// globs.
func newClassifier(c *config.Config) (*vendored.Classifier, error) {
	if c == nil {
		return vendored.New(vendored.Rules{})
	}
	cl, err := vendored.New(vendored.Rules{Scan: c.Vendored.Scan, Skip: c.Vendored.Skip})
	if err != nil {
		return nil, fmt.Errorf("vendored: %w", err)
	}
	return cl, nil
}

// walkSkipDirs are folders the vendored walk does not enter: version
// control and Dracon's own state are nobody's code.
var walkSkipDirs = map[string]bool{".git": true, ".hg": true, ".svn": true, ".dracon": true}

// vendoredTree is the source tree's vendored and generated files, found
// once per run, and a cache of verdicts for paths findings name.
type vendoredTree struct {
	src   string
	cl    *vendored.Classifier
	files []vendored.File
	mu    sync.Mutex
	known map[string]vendored.Verdict
}

// scanVendored walks src once for the producers that skip vendored files
// and scan the tree, classifying only the files their patterns match.
func scanVendored(src string, cl *vendored.Classifier, plan []planned, pols []vendorPolicy) (*vendoredTree, error) {
	t := &vendoredTree{src: src, cl: cl, known: map[string]vendored.Verdict{}}
	var globs []string
	for i, pl := range plan {
		if pols[i].skip && pols[i].tree {
			globs = append(globs, pl.p.Detect...)
		}
	}
	if len(globs) == 0 {
		return t, nil
	}
	files, err := cl.Walk(src, vendored.WalkOptions{
		SkipDir: func(name string) bool { return walkSkipDirs[name] },
		Want:    func(rel string) bool { return matchesBase(globs, rel) },
	})
	if err != nil {
		return nil, fmt.Errorf("looking for vendored files: %w", err)
	}
	t.files = files
	for _, f := range files {
		t.known[f.Path] = f.Verdict
	}
	return t, nil
}

func matchesBase(globs []string, rel string) bool {
	base := path.Base(rel)
	for _, g := range globs {
		if ok, _ := filepath.Match(g, base); ok {
			return true
		}
	}
	return false
}

// verdict classifies one path relative to the source folder.
func (t *vendoredTree) verdict(rel string) vendored.Verdict {
	t.mu.Lock()
	defer t.mu.Unlock()
	v, ok := t.known[rel]
	if !ok {
		v = t.cl.Classify(t.src, rel)
		t.known[rel] = v
	}
	return v
}

// maxExclude bounds how many paths a scanner is told to stay out of; past
// it (a tree of thousands of scattered minified files) the scanner reads
// them all and Dracon's filter alone drops their findings.
const maxExclude = 1000

// exclude lists the vendored files the globs match, to keep a scanner out
// of them; a vendored folder is named once ("web/vendor/") when folders
// may be excluded whole, which they may not when scan globs could name
// the project's own files inside one.
func (t *vendoredTree) exclude(globs []string, folders bool) []string {
	var out []string
	seen := map[string]bool{}
	for _, f := range t.files {
		if !matchesBase(globs, f.Path) {
			continue
		}
		p := f.Path
		if folders && f.Dir != "" {
			p = f.Dir
		}
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	if len(out) > maxExclude {
		return nil
	}
	return out
}

// vendorReport is what one producer left out.
type vendorReport struct {
	files   []vendored.File // sorted by path
	dropped int             // findings dropped
	list    string          // the file in the run directory that lists them all
}

// filterVendored drops out's findings in vendored and generated files and
// reports which files the producer left out: those of the tree its
// patterns match (when it scans the tree), and those its dropped findings
// were in.
func filterVendored(out *produce.Outcome, pl planned, pol vendorPolicy, t *vendoredTree, runDir string) (*vendorReport, error) {
	rep := &vendorReport{}
	seen := map[string]bool{}
	add := func(f vendored.File) {
		if !seen[f.Path] {
			seen[f.Path] = true
			rep.files = append(rep.files, f)
		}
	}
	if pol.tree {
		for _, f := range t.files {
			if matchesBase(pl.p.Detect, f.Path) {
				add(f)
			}
		}
	}
	kept := out.Parsed.Issues[:0]
	for _, is := range out.Parsed.Issues {
		rel, ok := relPath(t.src, is.GetLocation().GetPath())
		if !ok || (pol.keepSecrets && slices.Contains(is.Tags, "secret")) {
			kept = append(kept, is)
			continue
		}
		v := t.verdict(rel)
		if v.Own() {
			kept = append(kept, is)
			continue
		}
		rep.dropped++
		add(vendored.File{Path: rel, Verdict: v})
	}
	clear(out.Parsed.Issues[len(kept):])
	out.Parsed.Issues = kept
	slices.SortFunc(rep.files, func(a, b vendored.File) int { return strings.Compare(a.Path, b.Path) })
	if len(rep.files) > 0 {
		rep.list = filepath.Join(runDir, pl.p.Name+".vendored.txt")
		var b strings.Builder
		for _, f := range rep.files {
			fmt.Fprintf(&b, "%s\t%s\n", f.Path, f.Why)
		}
		if err := os.MkdirAll(runDir, 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(rep.list, []byte(b.String()), 0o644); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// maxNamed is how many files (or vendored folders) a log line names; the
// run directory's list has them all.
const maxNamed = 10

// logLine says what producer name left out, naming the files (a vendored
// folder once, with how many of its files), or "" when it left out none.
func (r *vendorReport) logLine(name string) string {
	if r == nil || len(r.files) == 0 {
		return ""
	}
	type entry struct {
		name, why string
		n         int
	}
	var entries []entry
	folder := map[string]int{} // vendored folder → its entry
	for _, f := range r.files {
		if f.Dir != "" {
			if i, ok := folder[f.Dir]; ok {
				entries[i].n++
				continue
			}
			folder[f.Dir] = len(entries)
			entries = append(entries, entry{name: f.Dir, why: f.Why, n: 1})
			continue
		}
		entries = append(entries, entry{name: f.Path, why: f.Why})
	}
	var parts []string
	for i, e := range entries {
		if i == maxNamed {
			parts = append(parts, fmt.Sprintf("%d more in %s", len(entries)-maxNamed, r.list))
			break
		}
		if e.n > 0 {
			parts = append(parts, fmt.Sprintf("%s: %s, %s", e.name, plural(e.n, "file"), e.why))
		} else {
			parts = append(parts, e.name+": "+e.why)
		}
	}
	dropped := ""
	if r.dropped > 0 {
		dropped = fmt.Sprintf(", dropping %s in them", plural(r.dropped, "finding"))
	}
	return fmt.Sprintf("dracon: %s: skipped %s (%s)%s; set include_vendored: true to scan them",
		name, plural(len(r.files), "vendored or generated file"), strings.Join(parts, "; "), dropped)
}

func (r *vendorReport) summary() *summary.Vendored {
	if r == nil {
		return nil
	}
	return &summary.Vendored{SkippedFiles: len(r.files), DroppedFindings: r.dropped, List: r.list}
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// relPath turns a finding's path into a slash-separated path relative to
// the source folder; ok is false for what is not a file under it (a URL,
// a package URL, a path elsewhere on the machine).
func relPath(src, p string) (string, bool) {
	if p == "" || strings.Contains(p, "://") || strings.HasPrefix(p, "pkg:") {
		return "", false
	}
	if filepath.IsAbs(p) {
		r, err := filepath.Rel(src, p)
		if err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
			return "", false
		}
		p = r
	}
	p = filepath.ToSlash(filepath.Clean(p))
	if p == "." || p == ".." || strings.HasPrefix(p, "../") {
		return "", false
	}
	return p, true
}
