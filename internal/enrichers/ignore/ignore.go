// Package ignore applies suppressions kept as code: a `.dracon-ignore.yaml`
// file at the top of the scanned folder (by fingerprint, rule, tool, path
// glob or package, each with a reason and an optional expiry) and inline
// `dracon:ignore RULE reason` comments on or above the flagged line. A
// suppressed finding is kept, marked suppressed with its reason, and stays
// in the store and in SARIF: nothing is dropped silently.
package ignore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/draconsec/dracon/internal/pathglob"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
	"gopkg.in/yaml.v3"
)

// FileName is the ignore file Dracon reads at the top of the source folder.
const FileName = ".dracon-ignore.yaml"

// File is `.dracon-ignore.yaml`.
type File struct {
	Version int     `yaml:"version"`
	Ignore  []Entry `yaml:"ignore"`
}

// Entry is one suppression. Every matcher it sets must match; at least one
// must be set, and a reason is required.
type Entry struct {
	Fingerprint string `yaml:"fingerprint"` // the finding's hash (summary, SARIF, `dracon findings`)
	Rule        string `yaml:"rule"`        // the tool's rule id, or a CVE / advisory id
	Tool        string `yaml:"tool"`
	Path        string `yaml:"path"`    // a glob relative to the source folder ("legacy/**")
	Package     string `yaml:"package"` // a package URL without version ("pkg:npm/lodash")
	Reason      string `yaml:"reason"`
	Expires     string `yaml:"expires"` // YYYY-MM-DD: the entry stops applying after that day
	Line        int    `yaml:"-"`
	expires     time.Time
}

// Load reads an ignore file; a missing file is no suppressions. Unknown
// keys, an entry with no matcher or no reason, a bad glob and a bad date
// are errors naming the file and line.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return &File{}, nil
	}
	if err != nil {
		return nil, err
	}
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var f File
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) { // io.EOF: an empty file
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	lines := entryLines(&root)
	var errs []string
	if f.Version != 0 && f.Version != 1 {
		errs = append(errs, fmt.Sprintf("%s: version %d is not supported (this Dracon reads version 1)", path, f.Version))
	}
	for i := range f.Ignore {
		e := &f.Ignore[i]
		if i < len(lines) {
			e.Line = lines[i]
		}
		where := fmt.Sprintf("%s:%d: ignore[%d]", path, e.Line, i)
		if e.Fingerprint == "" && e.Rule == "" && e.Tool == "" && e.Path == "" && e.Package == "" {
			errs = append(errs, where+": needs at least one of fingerprint, rule, tool, path, package")
		}
		if strings.TrimSpace(e.Reason) == "" {
			errs = append(errs, where+": needs a reason")
		}
		if e.Path != "" {
			if err := pathglob.Valid(e.Path); err != nil {
				errs = append(errs, where+".path: "+err.Error())
			}
		}
		if e.Expires != "" {
			t, err := time.Parse("2006-01-02", e.Expires)
			if err != nil {
				errs = append(errs, fmt.Sprintf("%s.expires: %q is not a date (YYYY-MM-DD)", where, e.Expires))
			}
			e.expires = t.AddDate(0, 0, 1) // the whole day still counts
		}
	}
	if len(errs) > 0 {
		return nil, errors.New(strings.Join(errs, "\n"))
	}
	return &f, nil
}

// entryLines finds the line of each element of the top-level ignore list.
func entryLines(root *yaml.Node) []int {
	if root.Kind != yaml.DocumentNode || len(root.Content) == 0 {
		return nil
	}
	m := root.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == "ignore" {
			var out []int
			for _, e := range m.Content[i+1].Content {
				out = append(out, e.Line)
			}
			return out
		}
	}
	return nil
}

// Enricher marks findings that an ignore file entry or an inline comment
// suppresses.
type Enricher struct {
	Source string    // the scanned folder: where FileName and the flagged files are
	File   *File     // nil: read Source/FileName
	Now    time.Time // zero: time.Now()
	// Notice receives what the run should say: expired entries, inline
	// comments without a reason, entries that matched nothing.
	Notice func(msg string)
}

func (Enricher) String() string { return "ignore" }

// Enrich implements enrichers.Enricher.
func (e Enricher) Enrich(_ context.Context, _ *v1.ScanInfo, results []*v1.EnrichedLaunchToolResponse) error {
	f := e.File
	if f == nil {
		var err error
		if f, err = Load(filepath.Join(e.Source, FileName)); err != nil {
			return err
		}
	}
	now := e.Now
	if now.IsZero() {
		now = time.Now()
	}
	notice := e.Notice
	if notice == nil {
		notice = func(string) {}
	}
	var active []*Entry
	for i := range f.Ignore {
		en := &f.Ignore[i]
		if !en.expires.IsZero() && !now.Before(en.expires) {
			notice(fmt.Sprintf("%s:%d: the suppression (%s) expired on %s and no longer applies", FileName, en.Line, en.Reason, en.Expires))
			continue
		}
		active = append(active, en)
	}
	used := map[*Entry]bool{}
	src := sources{root: e.Source, files: map[string][]string{}}
	for _, r := range results {
		for _, is := range r.GetIssues() {
			if is.GetSuppressed() {
				continue // the tool's own suppression stands
			}
			raw := is.GetRawIssue()
			for _, en := range active {
				if en.matches(is) {
					used[en] = true
					is.Suppressed = true
					is.SuppressionReason = fmt.Sprintf("%s:%d: %s", FileName, en.Line, en.Reason)
					break
				}
			}
			if is.Suppressed {
				continue
			}
			if reason, where, ok := src.inline(raw, notice); ok {
				is.Suppressed = true
				is.SuppressionReason = "dracon:ignore at " + where + ": " + reason
			}
		}
	}
	for _, en := range active {
		if !used[en] {
			notice(fmt.Sprintf("%s:%d: the suppression (%s) matched no finding", FileName, en.Line, en.Reason))
		}
	}
	return nil
}

func (en *Entry) matches(is *v1.EnrichedIssue) bool {
	raw := is.GetRawIssue()
	if en.Fingerprint != "" && en.Fingerprint != is.GetHash() {
		return false
	}
	if en.Tool != "" && !strings.EqualFold(en.Tool, raw.GetToolName()) {
		return false
	}
	if en.Rule != "" && !matchesRule(en.Rule, raw) {
		return false
	}
	if en.Path != "" && !pathglob.Match(en.Path, path(raw)) {
		return false
	}
	if en.Package != "" {
		p := strings.ToLower(raw.GetPackageUrl())
		want := strings.ToLower(en.Package)
		if p != want && !strings.HasPrefix(p, want+"@") {
			return false
		}
	}
	return true
}

// matchesRule: the rule id, the Dracon type, the CVE or an alias.
func matchesRule(rule string, raw *v1.Issue) bool {
	for _, id := range append([]string{raw.GetRuleId(), raw.GetType(), raw.GetCve()}, raw.GetAliases()...) {
		if id != "" && strings.EqualFold(id, rule) {
			return true
		}
	}
	return false
}

func path(raw *v1.Issue) string {
	if p := raw.GetLocation().GetPath(); p != "" {
		return filepath.ToSlash(p)
	}
	return ""
}

// sources reads flagged files once each, for inline comments.
type sources struct {
	root  string
	files map[string][]string
}

// inline looks for `dracon:ignore RULE reason` in a comment on the
// finding's first line or the line above.
func (s sources) inline(raw *v1.Issue, notice func(string)) (reason, where string, ok bool) {
	rel := path(raw)
	line := int(raw.GetLocation().GetStartLine())
	if rel == "" || line <= 0 || s.root == "" {
		return "", "", false
	}
	lines, seen := s.files[rel]
	if !seen {
		data, err := os.ReadFile(filepath.Join(s.root, filepath.FromSlash(rel)))
		if err == nil && len(data) <= 8<<20 {
			lines = strings.Split(string(data), "\n")
		}
		s.files[rel] = lines
	}
	for _, n := range []int{line, line - 1} {
		if n < 1 || n > len(lines) {
			continue
		}
		rule, why, found := Comment(lines[n-1])
		if !found {
			continue
		}
		if rule != "*" && !matchesRule(rule, raw) {
			continue
		}
		at := fmt.Sprintf("%s:%d", rel, n)
		if why == "" {
			notice("dracon:ignore at " + at + " gives no reason; it is not applied")
			continue
		}
		return why, at, true
	}
	return "", "", false
}

// commentStarts are the comment markers of the languages scanners read.
var commentStarts = []string{"//", "#", "--", "/*", "<!--"}

// Comment reads a `dracon:ignore RULE reason` marker inside a comment on
// one line of code: the rule (or "*" for every rule) and the reason, with
// comment closers ("*/", "-->") trimmed.
func Comment(line string) (rule, reason string, ok bool) {
	const marker = "dracon:ignore"
	i := strings.Index(line, marker)
	if i < 0 {
		return "", "", false
	}
	before := line[:i]
	inComment := false
	for _, c := range commentStarts {
		if strings.Contains(before, c) {
			inComment = true
			break
		}
	}
	if !inComment {
		return "", "", false
	}
	rest := strings.TrimSpace(line[i+len(marker):])
	for _, closer := range []string{"*/", "-->"} {
		rest = strings.TrimSpace(strings.TrimSuffix(rest, closer))
	}
	fields := strings.Fields(rest)
	if len(fields) == 0 {
		return "", "", false
	}
	return fields[0], strings.TrimSpace(strings.TrimPrefix(rest, fields[0])), true
}
