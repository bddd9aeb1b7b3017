package pipeline

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/draconsec/dracon/internal/config"
	"github.com/draconsec/dracon/internal/enrichers/baseline"
	"github.com/draconsec/dracon/internal/gitdiff"
	"github.com/draconsec/dracon/internal/summary"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// baselineStage decides what the scan's findings are new against and
// reads the change for the diff filter, before any scanner runs: a
// baseline file that cannot be read stops the run early.
type baselineStage struct{}

func (baselineStage) String() string { return "baseline" }

func (baselineStage) Run(ctx context.Context, r *runState) error {
	if !r.o.Config.Enrichers.On("baseline") {
		return nil
	}
	b, err := PrepareBaseline(ctx, r.o.Config, r.src, r.scan, r.o.Getenv, r.o.Log)
	if err != nil {
		return err
	}
	b.Report = func(res *baseline.Result) { r.baseline = res }
	r.baselineCfg = &b
	return nil
}

// PrepareBaseline reads what the config, the CI's environment and git
// say the scan's findings are new against:
//
//   - baseline.file (--baseline), read now;
//   - else baseline.ref (--baseline-ref), else the scan's base_ref tag (a
//     pull request's GITHUB_BASE_REF, a merge request's
//     CI_MERGE_REQUEST_TARGET_BRANCH_NAME): the latest scan of that branch
//     in the findings store;
//   - with neither, none: new means the store never saw it.
//
// With a diff filter, it runs git in src for the change: from
// baseline.diff_base (--diff-base) as given, else GitLab's
// CI_MERGE_REQUEST_DIFF_BASE_SHA, else the merge base of the target
// branch (origin/<branch>, then the local branch) and HEAD. When there is
// no base to diff from, the run says so once and the filter is off: every
// finding counts.
func PrepareBaseline(ctx context.Context, c *config.Config, src string, scan *v1.ScanInfo, getenv func(string) string, log io.Writer) (baseline.Config, error) {
	if log == nil {
		log = io.Discard
	}
	var b baseline.Config
	bc := c.Baseline
	// The target branch: the baseline unless a file is, and where the
	// change starts from either way.
	target := baseline.NormalizeRef(bc.Ref)
	if target == "" {
		target = scan.GetScanTags()["base_ref"]
	}
	if bc.File != "" {
		f, err := baseline.Load(abs(src, bc.File))
		if err != nil {
			return b, err
		}
		b.File = f
	} else {
		b.Ref = target
	}
	mode, err := gitdiff.ParseMode(bc.DiffFilter)
	if err != nil {
		return b, err
	}
	if mode == gitdiff.NoFilter {
		return b, nil
	}
	off := func(format string, args ...any) (baseline.Config, error) {
		msg := fmt.Sprintf("diff filter %s is off, every finding counts: ", mode) + fmt.Sprintf(format, args...)
		fmt.Fprintln(log, "dracon: "+msg)
		b.Notes = append(b.Notes, msg)
		return b, nil
	}
	base, err := diffBase(ctx, src, bc.DiffBase, target, getenv)
	if err != nil {
		return off("%v", err)
	}
	d, err := gitdiff.Run(ctx, src, base)
	if err != nil {
		return off("%v", err)
	}
	b.Mode, b.Diff, b.DiffBase = mode, d, base
	return b, nil
}

// diffBase finds the commit the change starts from.
func diffBase(ctx context.Context, src, explicit, ref string, getenv func(string) string) (string, error) {
	if explicit != "" {
		return gitdiff.Resolve(ctx, src, explicit)
	}
	if sha := strings.TrimSpace(getenv("CI_MERGE_REQUEST_DIFF_BASE_SHA")); sha != "" {
		if c, err := gitdiff.Resolve(ctx, src, sha); err == nil {
			return c, nil
		}
	}
	branch, ok := strings.CutPrefix(ref, "refs/heads/")
	if !ok {
		if ref == "" {
			return "", fmt.Errorf("no base to diff from (name one with --diff-base REV or baseline.diff_base, or the target branch with --baseline-ref)")
		}
		return "", fmt.Errorf("%s is not a branch; name the base with --diff-base REV", ref)
	}
	head, err := gitdiff.Resolve(ctx, src, "HEAD")
	if err != nil {
		return "", fmt.Errorf("%s is not a git checkout with a commit", src)
	}
	for _, cand := range []string{"refs/remotes/origin/" + branch, ref} {
		tip, err := gitdiff.Resolve(ctx, src, cand)
		if err != nil {
			continue
		}
		mb, err := gitdiff.MergeBase(ctx, src, tip, head)
		if err != nil {
			return "", err
		}
		if mb == head {
			// HEAD is on the target branch: this is no change to review (a
			// scan of the branch itself).
			return "", fmt.Errorf("HEAD is already on %s: there is no change to compare", ref)
		}
		return mb, nil
	}
	return "", fmt.Errorf("the target branch %s is not in the checkout (fetch it: git fetch origin %s, or actions/checkout with fetch-depth: 0; or name the base with --diff-base REV)", branch, branch)
}

// baselineSummary is summary.json's baseline block.
func baselineSummary(res *baseline.Result) *summary.Baseline {
	if res == nil {
		return nil
	}
	return &summary.Baseline{Kind: res.Kind, Ref: res.Ref, ScanID: res.ScanID, Commit: res.Commit, File: res.File,
		DiffFilter: res.DiffFilter, DiffBase: res.DiffBase, Notes: res.Notes}
}
