// Package owners maps each finding to the owners of its file, read from
// the repository's CODEOWNERS (GitHub's syntax, and GitLab's sections),
// and writes them as Dracon's annotations `Owner-0`, `Owner-1`, ... so
// Dracon's consumers and dashboards keep reading them.
package owners

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	v1 "github.com/draconsec/dracon/proto/dracon/v1"
	"github.com/hmarr/codeowners"
)

// AnnotationPrefix is Dracon's owner annotation key prefix: Owner-0, ...
const AnnotationPrefix = "Owner-"

// Locations are where GitHub and GitLab look for CODEOWNERS, relative to
// the repository root; the first that exists is used, as both do.
var Locations = []string{".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS", ".gitlab/CODEOWNERS"}

// File is a parsed CODEOWNERS: one section for GitHub's syntax, one per
// `[Section]` header for GitLab's.
type File struct {
	Path     string // where it was read
	Root     string // the repository root its patterns are relative to
	sections []section
}

type section struct {
	name  string
	rules codeowners.Ruleset
}

// Find looks for CODEOWNERS at the standard locations of source and each
// folder above it, up to the repository root (the folder with .git); nil
// when there is none.
func Find(source string) (*File, error) {
	dir, err := filepath.Abs(source)
	if err != nil {
		return nil, err
	}
	for {
		for _, loc := range Locations {
			p := filepath.Join(dir, filepath.FromSlash(loc))
			if st, err := os.Stat(p); err == nil && !st.IsDir() {
				return Load(p, dir)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, ".git")); err == nil {
			return nil, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return nil, nil
		}
		dir = parent
	}
}

// sectionHeader is GitLab's `[Name]`, `^[Optional name]` or `[Name][2]`,
// optionally followed by the section's default owners. The bracket group
// must end the line or be followed by a space, so a pattern that starts
// with a character class ("[Dd]ocs/ @team") is not taken for a header.
var sectionHeader = regexp.MustCompile(`^\^?\[([^\]]+)\](?:\[\d+\])?(?:\s+(.*))?$`)

// Load parses a CODEOWNERS file whose patterns are relative to root.
func Load(path, root string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f := &File{Path: path, Root: root}
	var cur bytes.Buffer
	name, defaults := "", ""
	var errs []string
	flush := func() {
		rules, err := codeowners.ParseFile(&cur, codeowners.WithOwnerMatchers([]codeowners.OwnerMatcher{codeowners.OwnerMatchFunc(anyOwner)}))
		if err != nil {
			errs = append(errs, err.Error())
		}
		f.sections = append(f.sections, section{name: name, rules: rules})
		cur.Reset()
	}
	for n, line := range strings.Split(string(data), "\n") {
		t := strings.TrimSpace(line)
		if m := sectionHeader.FindStringSubmatch(t); m != nil {
			flush()
			name, defaults = m[1], strings.TrimSpace(m[2])
			// Blank lines up to here keep the parser's line numbers the file's.
			cur.WriteString(strings.Repeat("\n", n+1))
			continue
		}
		// A GitLab rule without owners takes its section's defaults.
		if defaults != "" && t != "" && !strings.HasPrefix(t, "#") && len(strings.Fields(stripComment(t))) == 1 {
			line = stripComment(t) + " " + defaults
		}
		cur.WriteString(line)
		cur.WriteString("\n")
	}
	flush()
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s: %s", path, strings.Join(errs, "; "))
	}
	return f, nil
}

func stripComment(t string) string {
	if i := strings.Index(t, " #"); i >= 0 {
		return strings.TrimSpace(t[:i])
	}
	return t
}

// anyOwner keeps an owner as written: GitHub's @user, @org/team and
// e-mail, GitLab's @group/subgroup and roles.
func anyOwner(s string) (codeowners.Owner, error) {
	if s == "" {
		return codeowners.Owner{}, codeowners.ErrNoMatch
	}
	return codeowners.Owner{Value: s, Type: codeowners.EmailOwner}, nil // EmailOwner prints Value verbatim
}

// Owners of rel, a path relative to the repository root: the last matching
// rule of each section (GitHub has one), owners of all sections together,
// in the order written, without repeats.
func (f *File) Owners(rel string) ([]string, error) {
	rel = filepath.ToSlash(rel)
	var out []string
	seen := map[string]bool{}
	for _, s := range f.sections {
		r, err := s.rules.Match(rel)
		if err != nil {
			return nil, err
		}
		if r == nil {
			continue
		}
		for _, o := range r.Owners {
			if v := o.String(); !seen[v] {
				seen[v] = true
				out = append(out, v)
			}
		}
	}
	return out, nil
}

// Enricher writes each finding's owners as Owner-N annotations.
type Enricher struct {
	Source string // the scanned folder; finding paths are relative to it
	File   *File  // nil: Find(Source)
}

func (Enricher) String() string { return "owners" }

// Enrich implements enrichers.Enricher.
func (e Enricher) Enrich(_ context.Context, _ *v1.ScanInfo, results []*v1.EnrichedLaunchToolResponse) error {
	f := e.File
	if f == nil {
		var err error
		if f, err = Find(e.Source); err != nil {
			return fmt.Errorf("owners: %w", err)
		}
		if f == nil {
			return nil
		}
	}
	prefix, err := sourceWithinRoot(e.Source, f.Root)
	if err != nil {
		return fmt.Errorf("owners: %w", err)
	}
	cache := map[string][]string{}
	for _, r := range results {
		for _, is := range r.GetIssues() {
			p := is.GetRawIssue().GetLocation().GetPath()
			if p == "" {
				continue
			}
			rel := pathJoin(prefix, p)
			owners, ok := cache[rel]
			if !ok {
				if owners, err = f.Owners(rel); err != nil {
					return fmt.Errorf("owners: %s: %w", f.Path, err)
				}
				cache[rel] = owners
			}
			if len(owners) == 0 {
				continue
			}
			if is.Annotations == nil {
				is.Annotations = map[string]string{}
			}
			for i, o := range owners {
				is.Annotations[fmt.Sprintf("%s%d", AnnotationPrefix, i)] = o
			}
		}
	}
	return nil
}

// Of reads the owners back from a finding's annotations, in order.
func Of(is *v1.EnrichedIssue) []string {
	var keys []string
	for k := range is.GetAnnotations() {
		if strings.HasPrefix(k, AnnotationPrefix) {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		var a, b int
		fmt.Sscanf(keys[i][len(AnnotationPrefix):], "%d", &a)
		fmt.Sscanf(keys[j][len(AnnotationPrefix):], "%d", &b)
		return a < b
	})
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = is.Annotations[k]
	}
	return out
}

// sourceWithinRoot is the scanned folder's path inside the repository
// ("" when it is the root).
func sourceWithinRoot(source, root string) (string, error) {
	abs, err := filepath.Abs(source)
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(root, abs)
	if err != nil {
		return "", err
	}
	if strings.HasPrefix(rel, "..") {
		return "", errors.New(source + " is outside the repository of its CODEOWNERS")
	}
	if rel == "." {
		return "", nil
	}
	return filepath.ToSlash(rel), nil
}

func pathJoin(prefix, p string) string {
	p = strings.TrimPrefix(filepath.ToSlash(p), "./")
	if prefix == "" {
		return p
	}
	return prefix + "/" + p
}
