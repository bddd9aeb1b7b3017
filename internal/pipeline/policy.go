package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/draconsec/dracon/internal/config"
	"github.com/draconsec/dracon/internal/gitdiff"
	"github.com/draconsec/dracon/internal/policy"
)

// policyStage reads and compiles the policies before any scanner runs: a
// policy that does not compile stops the run early (exit 2). In a pull
// request, the policies inside the repository, and the config's policy
// and gate blocks, are read from the target branch.
type policyStage struct{}

func (policyStage) String() string { return "policy" }

func (policyStage) Run(ctx context.Context, r *runState) error {
	p, err := PreparePolicy(ctx, PolicyOptions{Config: r.o.Config, ConfigPath: r.o.ConfigPath, Paths: r.o.Policies,
		Source: r.src, Tags: r.scan.GetScanTags(), Log: r.o.Log})
	if err != nil {
		return err
	}
	// The target branch's gate block, and its say on whether policies
	// run, gate a pull request, not the ones the change brings.
	r.o.Config.Gate = p.Gate
	r.o.Config.Enrichers.Policy = p.Enabled
	if p.Set != nil {
		r.policy = p
	}
	return nil
}

// PolicyOptions say where the policies are.
type PolicyOptions struct {
	Config     *config.Config
	ConfigPath string   // the config file, "" for none
	Paths      []string // --policy: replace the config's paths
	Source     string   // the scanned folder, absolute
	Tags       map[string]string
	Log        io.Writer
}

// Policy is a run's policies, ready to evaluate.
type Policy struct {
	Set *policy.Set
	// Revision says where the repository's policies were read from:
	// "working tree", or "<branch>@<commit>" in a pull request.
	Revision string
	// Gate is the gate block that applies: the target branch's in a pull
	// request; Enabled whether policies run (enrichers.policy), likewise.
	Gate    config.Gate
	Enabled config.Toggle
}

// PreparePolicy reads and compiles the policies the config, or --policy,
// names (the bundled defaults when none is). In a pull request (event
// pull_request with a target branch), a policy inside the git checkout
// is read as the target branch has it, and so are the config file's
// policy and gate blocks: a change that edits its policy to allow
// everything is still gated by the policy it would change. A policy
// outside the checkout is read as it is. When the target branch is not
// in the checkout, that is an error: the gate does not fall back to the
// change's own policy.
func PreparePolicy(ctx context.Context, o PolicyOptions) (*Policy, error) {
	log := o.Log
	if log == nil {
		log = io.Discard
	}
	pc := o.Config.Policy
	gate, enabled := o.Config.Gate, o.Config.Enrichers.Policy
	out := &Policy{Revision: "working tree"}
	g := &gitReader{ctx: ctx}
	if policy.NormalizeEvent(o.Tags["event"], o.Tags["ref"]) == policy.EventPullRequest {
		top, err := gitTop(ctx, o.Source)
		if err == nil {
			g.top = top
			if g.rev, g.label, err = targetTip(ctx, o.Source, o.Tags["base_ref"]); err != nil {
				return nil, fmt.Errorf("policy: this is a pull request, and its gate reads the policies from the target branch (a change cannot weaken its own gate): %w", err)
			}
			out.Revision = g.label
			if o.ConfigPath != "" && g.inside(o.ConfigPath) {
				base, err := g.config(o.ConfigPath)
				if err != nil {
					return nil, err
				}
				if !samePolicy(base, o.Config) {
					fmt.Fprintf(log, "dracon: the change edits the policy or gate blocks of %s: they gate it as %s has them\n", filepath.Base(o.ConfigPath), g.label)
				}
				pc, gate, enabled = base.Policy, base.Gate, base.Enrichers.Policy
			}
		} else {
			// No git checkout: no target branch to read from. Say so, and
			// say it in the summary's revision.
			out.Revision = "working tree (not a git checkout: the target branch's policy could not be read)"
			fmt.Fprintln(log, "dracon: this pull request's source is not a git checkout: its policies are read as they are, not from the target branch")
		}
	}
	out.Gate, out.Enabled = gate, enabled
	if enabled.Enabled != nil && !*enabled.Enabled {
		return out, nil
	}
	var srcs []policy.Source
	if len(o.Paths) > 0 {
		for _, p := range o.Paths {
			srcs = append(srcs, policy.Source{Path: absPolicy(".", p), RegoVersion: pc.RegoVersion})
		}
	} else {
		for _, p := range pc.Paths {
			v := p.RegoVersion
			if v == "" {
				v = pc.RegoVersion
			}
			srcs = append(srcs, policy.Source{Path: absPolicy(o.Source, p.Path), RegoVersion: v})
		}
		if pc.Base64 != "" {
			srcs = append(srcs, policy.Source{Base64: pc.Base64, RegoVersion: pc.RegoVersion})
		}
	}
	if len(srcs) == 0 {
		srcs = []policy.Source{{Path: policy.BuiltinDefault}}
	}
	data, err := policyData(pc)
	if err != nil {
		return nil, err
	}
	set, err := policy.Load(ctx, policy.Options{Sources: srcs, Open: g.open, Data: data,
		Notice: func(m string) { fmt.Fprintln(log, m) }})
	if err != nil {
		return nil, err
	}
	set.SetAnnotationPrefix(pc.AnnotationPrefix)
	out.Set = set
	return out, nil
}

// absPolicy makes a policy path absolute against dir; builtin: names
// stay as they are.
func absPolicy(dir, p string) string {
	if strings.HasPrefix(p, "builtin:") || filepath.IsAbs(p) {
		return p
	}
	a, err := filepath.Abs(filepath.Join(dir, p))
	if err != nil {
		return p
	}
	return a
}

// policyData is data.dracon from the config: exceptions and SLA, beside
// the config's own data.
func policyData(pc config.Policy) (map[string]any, error) {
	data := map[string]any{}
	for k, v := range pc.Data {
		data[k] = v
	}
	dracon := map[string]any{}
	if d, ok := data["dracon"].(map[string]any); ok {
		dracon = d
	} else if _, taken := data["dracon"]; taken {
		return nil, errors.New("policy.data.dracon must be an object")
	}
	if len(pc.Exceptions) > 0 {
		var list []any
		for _, e := range pc.Exceptions {
			m := map[string]any{"owner": e.Owner, "reason": e.Reason, "expires": e.Expires}
			for k, v := range map[string]string{"id": e.ID, "rule": e.Rule, "tool": e.Tool, "path": e.Path} {
				if v != "" {
					m[k] = v
				}
			}
			list = append(list, m)
		}
		dracon["exceptions"] = list
	}
	if pc.SLA != nil {
		dracon["sla"] = slaData(*pc.SLA)
	}
	if len(dracon) > 0 {
		data["dracon"] = dracon
	}
	return data, nil
}

func slaData(s config.SLA) map[string]any {
	m := map[string]any{}
	if s.HighDays > 0 {
		m["high_days"] = s.HighDays
	}
	if len(s.Teams) > 0 {
		teams := map[string]any{}
		for k, v := range s.Teams {
			teams[k] = slaData(v)
		}
		m["teams"] = teams
	}
	return m
}

// samePolicy reports whether two configs' policy and gate blocks agree.
func samePolicy(a, b *config.Config) bool {
	return fmt.Sprintf("%#v %#v %v", a.Policy, a.Gate, a.Enrichers.On("policy")) == fmt.Sprintf("%#v %#v %v", b.Policy, b.Gate, b.Enrichers.On("policy"))
}

// gitReader reads paths inside the checkout at rev; others, and all of
// them when rev is "", from the file system.
type gitReader struct {
	ctx        context.Context
	top        string // the checkout's top folder
	rev, label string
}

// rel is p relative to the checkout's top, when it is inside.
func (g *gitReader) rel(p string) (string, bool) {
	if g.rev == "" {
		return "", false
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", false
	}
	// The folder may not exist in the working tree (the change deleted
	// it): resolve symbolic links on the longest part that does.
	dir, rest := abs, ""
	for {
		if r, err := filepath.EvalSymlinks(dir); err == nil {
			abs = filepath.Join(r, rest)
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		rest = filepath.Join(filepath.Base(dir), rest)
		dir = parent
	}
	rel, err := filepath.Rel(g.top, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", false
	}
	return filepath.ToSlash(rel), true
}

func (g *gitReader) inside(p string) bool {
	_, ok := g.rel(p)
	return ok
}

func (g *gitReader) open(p string) (fs.FS, string, string, error) {
	rel, ok := g.rel(p)
	if !ok {
		return policy.OpenOS(p)
	}
	t, err := gitdiff.Tree(g.ctx, g.top, g.rev, rel)
	if err != nil {
		return nil, "", "", err
	}
	if _, err := fs.Stat(t, rel); err != nil {
		return nil, "", "", fmt.Errorf("%s has no %s (the gate reads the target branch's policies; a policy the change adds gates it once merged)", g.label, rel)
	}
	return t, rel, g.label + ":" + rel, nil
}

// config reads the config file as the target branch has it; a branch
// without it has the defaults.
func (g *gitReader) config(p string) (*config.Config, error) {
	rel, _ := g.rel(p)
	b, ok, err := gitdiff.Show(g.ctx, g.top, g.rev, rel)
	if err != nil {
		return nil, err
	}
	if !ok {
		b = nil
	}
	c, err := config.Parse(b, ConfigNames())
	if err != nil {
		return nil, fmt.Errorf("%s:%s: %w", g.label, rel, err)
	}
	return c, nil
}

// gitTop is the top folder of the checkout dir is in.
func gitTop(ctx context.Context, dir string) (string, error) {
	out, err := exec.CommandContext(ctx, "git", "-C", dir, "rev-parse", "--show-toplevel").Output()
	if err != nil {
		return "", err
	}
	return filepath.EvalSymlinks(strings.TrimSpace(string(out)))
}

// targetTip is the tip of a pull request's target branch: the
// remote-tracking branch, else a local one.
func targetTip(ctx context.Context, src, baseRef string) (string, string, error) {
	branch, ok := strings.CutPrefix(baseRef, "refs/heads/")
	if !ok || branch == "" {
		return "", "", fmt.Errorf("the target branch is not known (GITHUB_BASE_REF or CI_MERGE_REQUEST_TARGET_BRANCH_NAME; got %q)", baseRef)
	}
	for _, cand := range []string{"refs/remotes/origin/" + branch, baseRef} {
		if c, err := gitdiff.Resolve(ctx, src, cand); err == nil {
			return c, branch + "@" + c[:min(12, len(c))], nil
		}
	}
	return "", "", fmt.Errorf("the target branch %s is not in the checkout (fetch it: git fetch origin %s, or actions/checkout with fetch-depth: 0)", branch, branch)
}
