package gitdiff

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"testing/fstest"
)

// Tree reads the files of paths (files or folders, relative to dir) as
// they are in commit rev, not as the working tree has them: what a pull
// request's gate reads from its target branch. A path rev does not have
// is left out; the caller's Stat says so.
func Tree(ctx context.Context, dir, rev string, paths ...string) (fs.FS, error) {
	if strings.HasPrefix(rev, "-") {
		return nil, fmt.Errorf("git: %q is not a revision", rev)
	}
	m := fstest.MapFS{}
	for _, p := range paths {
		p = path.Clean(p)
		if strings.HasPrefix(p, "../") || p == ".." || path.IsAbs(p) {
			return nil, fmt.Errorf("git: %s is outside the checkout", p)
		}
		// ls-tree run in dir names paths relative to it; "./" keeps
		// git show relative to dir too.
		out, err := git(ctx, dir, "ls-tree", "-r", "-z", "--end-of-options", rev, "--", p)
		if err != nil {
			return nil, err
		}
		for _, line := range strings.Split(string(out), "\x00") {
			meta, name, ok := strings.Cut(line, "\t")
			if !ok {
				continue
			}
			f := strings.Fields(meta) // mode type object
			if len(f) != 3 || f[1] != "blob" {
				continue
			}
			data, err := git(ctx, dir, "cat-file", "blob", f[2])
			if err != nil {
				return nil, err
			}
			m[name] = &fstest.MapFile{Data: bytes.Clone(data), Mode: 0o644}
		}
	}
	return m, nil
}

// Show returns the file at path (relative to dir) in commit rev, and
// false when rev has no such file.
func Show(ctx context.Context, dir, rev, p string) ([]byte, bool, error) {
	t, err := Tree(ctx, dir, rev, p)
	if err != nil {
		return nil, false, err
	}
	b, err := fs.ReadFile(t, path.Clean(p))
	if err != nil {
		return nil, false, nil
	}
	return b, true, nil
}
