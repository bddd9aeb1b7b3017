package gitdiff

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
)

// gitConfig makes git write what Parse reads whatever the user's config
// says: names unquoted where it can, a/ and b/ prefixes, no colour.
var gitConfig = []string{"-c", "core.quotePath=false", "-c", "diff.noprefix=false", "-c", "diff.mnemonicPrefix=false", "-c", "color.ui=never"}

// git runs git in dir and returns its standard output.
func git(ctx context.Context, dir string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "git", append(append([]string{"-C", dir}, gitConfig...), args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if i := strings.IndexByte(msg, '\n'); i >= 0 {
			msg = msg[:i]
		}
		if msg == "" {
			msg = err.Error()
		}
		return nil, fmt.Errorf("git %s: %s", strings.Join(args, " "), msg)
	}
	return out, nil
}

// Resolve returns the commit rev names in the checkout at dir.
func Resolve(ctx context.Context, dir, rev string) (string, error) {
	if strings.HasPrefix(rev, "-") {
		return "", fmt.Errorf("git: %q is not a revision", rev)
	}
	out, err := git(ctx, dir, "rev-parse", "--verify", "--quiet", "--end-of-options", rev+"^{commit}")
	if err != nil {
		return "", fmt.Errorf("git: no commit %q in %s", rev, dir)
	}
	return strings.TrimSpace(string(out)), nil
}

// MergeBase returns the best common ancestor of a and b.
func MergeBase(ctx context.Context, dir, a, b string) (string, error) {
	out, err := git(ctx, dir, "merge-base", "--end-of-options", a, b)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

// Run returns the change from base to the working tree of the checkout at
// dir: `git diff base` (renames followed), with paths relative to dir and
// only the files under it, plus the files git does not track yet (not
// ignored), whole. In a CI checkout the working tree is HEAD; on a
// developer's machine uncommitted edits count as part of the change, as
// they are part of what was scanned.
func Run(ctx context.Context, dir, base string) (*Diff, error) {
	if strings.HasPrefix(base, "-") {
		return nil, fmt.Errorf("git: %q is not a revision", base)
	}
	out, err := git(ctx, dir, "diff", "--no-color", "--no-ext-diff", "--no-textconv", "--src-prefix=a/", "--dst-prefix=b/",
		"-M", "--unified=3", "--relative", base, "--")
	if err != nil {
		return nil, err
	}
	d, err := Parse(out)
	if err != nil {
		return nil, fmt.Errorf("git diff %s: %w", base, err)
	}
	untracked, err := git(ctx, dir, "ls-files", "-z", "--others", "--exclude-standard")
	if err != nil {
		return nil, err
	}
	for _, p := range strings.Split(string(untracked), "\x00") {
		if p != "" {
			d.AddWhole(p)
		}
	}
	return d, nil
}
