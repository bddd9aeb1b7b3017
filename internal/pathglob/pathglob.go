// Package pathglob matches slash-separated paths relative to the scanned
// folder against the globs users write in dracon.yaml and
// .dracon-ignore.yaml: `*`, `?` and `[...]` within one segment, `**`
// across segments.
package pathglob

import (
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"strings"
)

// Valid says whether g is a glob Match understands, relative to the
// source folder.
func Valid(g string) error {
	switch {
	case strings.TrimSpace(g) == "":
		return errors.New("empty glob")
	case strings.HasPrefix(g, "/") || filepath.IsAbs(g):
		return fmt.Errorf("%q: globs are relative to the source folder", g)
	}
	for _, seg := range strings.Split(g, "/") {
		if seg == ".." {
			return fmt.Errorf("%q: globs cannot leave the source folder", g)
		}
		if seg == "**" {
			continue
		}
		if _, err := path.Match(seg, ""); err != nil {
			return fmt.Errorf("%q is not a valid glob: %v", g, err)
		}
	}
	return nil
}

// Match reports whether glob matches rel, a slash-separated path relative
// to the source folder. Globs are anchored at the source folder; `*`, `?`
// and `[...]` match within one path segment, `**` matches any number of
// segments (none included). A glob that matches a folder matches every
// file under it: "legacy" and "legacy/**" are the same.
func Match(glob, rel string) bool {
	return matchSegs(strings.Split(strings.Trim(glob, "/"), "/"), strings.Split(rel, "/"), true)
}

// matchSegs matches glob segments against path segments; prefix allows
// the glob to match a leading folder of the path.
func matchSegs(g, p []string, prefix bool) bool {
	for len(g) > 0 {
		if g[0] == "**" {
			for i := 0; i <= len(p); i++ {
				if matchSegs(g[1:], p[i:], prefix) {
					return true
				}
			}
			return false
		}
		if len(p) == 0 {
			return false
		}
		if ok, _ := path.Match(g[0], p[0]); !ok {
			return false
		}
		g, p = g[1:], p[1:]
	}
	return len(p) == 0 || prefix
}
