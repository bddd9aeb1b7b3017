// Command replay is the fingerprint replay benchmark: it checks out the
// last commits of a real repository one by one, scans each with the real
// gosec, bandit and gitleaks, names every finding as a run does (the
// producers' parsers, paths made relative to the checkout, vendored and
// generated files left out of SAST findings, secret values hidden in every
// tool's findings, then the identity enricher), and measures between
// consecutive commits how many findings keep their identity.
//
//	go run ./internal/bench/cmd/replay -repo ../replay/pipelines -n 150
//
// What it judges (the README's Performance section has the figures):
//
//   - A finding's key is its tool, rule, path and flagged code: lines
//     start..end of the file as checked out, all whitespace removed (read
//     from the file, not from the tool's snippet or internal/fingerprint).
//   - Pairs: findings of consecutive commits with equal keys, matched in
//     line order, for keys that occur as often in both scans (a key seen a
//     different number of times is ambiguous and not judged). Retention is
//     the share of pairs with the same best signature (code/v1, secret/v1).
//   - Wrong merges: two findings of one scan with one signature; or a
//     finding that carries the signature a different finding had in the
//     previous scan while that finding is still reported (its key is
//     still in the new scan), or one of another tool, rule or path.
//
// Each scanner runs once per distinct input: its report is cached under a
// key naming the files it reads at that commit (paths and blob ids: gosec
// the Go files, go.mod and go.sum; bandit the Python files; gitleaks every
// file), so a commit that changes no Go file shares the previous commit's
// gosec report, and a rerun runs no scanner. (The scanners are
// deterministic: rerun on the same input, gosec and bandit wrote the same
// findings.) Reports are kept raw, so the parsers run again on a rerun;
// gitleaks' hold the secret values it found, readable by the user only.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	pathpkg "path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/draconsec/dracon/internal/enrichers"
	"github.com/draconsec/dracon/internal/enrichers/identity"
	"github.com/draconsec/dracon/internal/fingerprint"
	"github.com/draconsec/dracon/internal/produce"
	"github.com/draconsec/dracon/internal/producers"
	"github.com/draconsec/dracon/internal/producers/registry"
	"github.com/draconsec/dracon/internal/runner"
	"github.com/draconsec/dracon/internal/vendored"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

type options struct {
	repo, ref, cache string
	n, examples      int
	tools            []string
	offline          bool
	log              io.Writer
}

func main() {
	var o options
	var tools string
	flag.StringVar(&o.repo, "repo", os.Getenv("DRACON_REPLAY_REPO"), "a git clone to replay (default $DRACON_REPLAY_REPO)")
	flag.StringVar(&o.ref, "ref", "HEAD", "the newest commit to replay")
	flag.IntVar(&o.n, "n", 150, "how many commits to replay (first-parent history ending at -ref)")
	flag.StringVar(&o.cache, "cache", "", "report cache (default <user cache>/dracon/replay/<repo name>)")
	flag.StringVar(&tools, "tools", "gosec,bandit,gitleaks", "scanners")
	flag.IntVar(&o.examples, "examples", 8, "lost identities and merges to show")
	flag.BoolVar(&o.offline, "cached", false, "use cached reports only; fail on a commit with none")
	flag.Parse()
	o.tools = strings.Split(tools, ",")
	o.log = os.Stderr
	if o.repo == "" {
		fmt.Fprintln(os.Stderr, "replay: name a git clone with -repo (or $DRACON_REPLAY_REPO), e.g. make replay REPLAY_FLAGS='-repo ../replay/pipelines'")
		os.Exit(2)
	}
	if err := run(context.Background(), o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "replay:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options, w io.Writer) error {
	repo, err := filepath.Abs(o.repo)
	if err != nil {
		return err
	}
	if o.cache == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return err
		}
		o.cache = filepath.Join(base, "dracon", "replay", filepath.Base(repo))
	}
	var prods []*producers.Producer
	for _, t := range o.tools {
		p, err := registry.Lookup(t)
		if err != nil {
			return err
		}
		prods = append(prods, p)
	}
	out, err := git(repo, "rev-list", "--first-parent", "-n", fmt.Sprint(o.n), o.ref)
	if err != nil {
		return err
	}
	commits := strings.Fields(out)
	slices.Reverse(commits)
	if len(commits) < 2 {
		return fmt.Errorf("%s has %d commits at %s: nothing to compare", repo, len(commits), o.ref)
	}
	wt := filepath.Join(o.cache, "worktree")
	if err := prepareWorktree(repo, wt, commits[0]); err != nil {
		return err
	}
	cl, err := vendored.New(vendored.Rules{})
	if err != nil {
		return err
	}
	st := map[string]*stats{}
	var prev []*finding
	failed := map[string]bool{} // tool failed on the previous commit
	start := time.Now()
	seen := map[string]bool{}
	how := map[string]map[string]int{}
	for i, c := range commits {
		if _, err := git(wt, "checkout", "-q", "--detach", "--force", c); err != nil {
			return err
		}
		if _, err := git(wt, "clean", "-qffdx"); err != nil {
			return err
		}
		fs, fails, err := scan(ctx, o, prods, cl, wt, c, seen, how)
		if err != nil {
			return fmt.Errorf("commit %s: %w", c, err)
		}
		within(st, c, fs)
		for _, t := range fails {
			fmt.Fprintf(o.log, "replay: %s: %s failed, its findings are left out of this commit's comparisons\n", short(c), t)
		}
		if i > 0 {
			diff, err := git(repo, "diff", "--no-renames", "--name-only", commits[i-1], c)
			if err != nil {
				return err
			}
			changed := map[string]bool{}
			for _, p := range strings.Fields(diff) {
				changed[p] = true
			}
			skip := map[string]bool{}
			for _, t := range fails {
				skip[t] = true
			}
			for t := range failed {
				skip[t] = true
			}
			compare(st, c, drop(prev, skip), drop(fs, skip), changed)
		}
		failed = map[string]bool{}
		for _, t := range fails {
			failed[t] = true
		}
		prev = fs
		fmt.Fprintf(o.log, "replay: %d/%d %s: %d findings (%s)\n", i+1, len(commits), short(c), len(fs), time.Since(start).Round(time.Second))
	}
	for _, s := range st {
		s.Scans = len(commits)
	}
	report(w, o, repo, commits, how, st)
	return nil
}

func drop(fs []*finding, tools map[string]bool) []*finding {
	if len(tools) == 0 {
		return fs
	}
	var out []*finding
	for _, f := range fs {
		if !tools[f.Tool] {
			out = append(out, f)
		}
	}
	return out
}

// prepareWorktree makes wt a detached worktree of repo.
func prepareWorktree(repo, wt, commit string) error {
	if _, err := os.Stat(filepath.Join(wt, ".git")); err == nil {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(wt), 0o755); err != nil {
		return err
	}
	_, _ = git(repo, "worktree", "prune")
	_, err := git(repo, "worktree", "add", "-q", "--detach", "--force", wt, commit)
	return err
}

func git(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

// scan runs (or reads from the cache) each tool's report for the commit
// checked out in wt and names the findings as a run does. ran says
// whether any scanner ran.
func scan(ctx context.Context, o options, prods []*producers.Producer, cl *vendored.Classifier, wt, commit string, seen map[string]bool, how map[string]map[string]int) ([]*finding, []string, error) {
	listing, err := git(wt, "ls-tree", "-r", "--full-tree", commit)
	if err != nil {
		return nil, nil, err
	}
	tree := strings.Split(strings.TrimSpace(listing), "\n")
	outcomes := make([]produce.Outcome, len(prods))
	hows := make([]string, len(prods))
	keys := make([]string, len(prods))
	roots := make([]string, len(prods))
	var wg sync.WaitGroup
	for i, p := range prods {
		keys[i] = inputKey(tree, p.Name)
		wg.Add(1)
		go func() {
			defer wg.Done()
			outcomes[i], hows[i], roots[i] = scanOne(ctx, o, p, wt, keys[i], seen)
		}()
	}
	wg.Wait()
	for i, p := range prods {
		if how[p.Name] == nil {
			how[p.Name] = map[string]int{}
		}
		how[p.Name][hows[i]]++
		if hows[i] != fromFailed {
			seen[p.Name+"/"+keys[i]] = true
		}
	}
	var fails []string
	var launches []*v1.LaunchToolResponse
	var secrets []string
	for i, out := range outcomes {
		if out.Status != produce.OK {
			if o.offline && out.Reason == errNotCached.Error() {
				return nil, nil, fmt.Errorf("%s: no cached report", prods[i].Name)
			}
			fmt.Fprintf(o.log, "replay: %s %s: %s\n", short(commit), prods[i].Name, out.Reason)
			fails = append(fails, prods[i].Name)
			continue
		}
		secrets = append(secrets, out.Parsed.Secrets...)
		launches = append(launches, launch(prods[i], out.Parsed, cl, wt, roots[i]))
	}
	// As the pipeline's secrets stage: a value a secret scanner found is
	// hidden in every tool's findings before they are named.
	if r := producers.NewRedactor(long(secrets)); !r.Empty() {
		for _, l := range launches {
			for _, is := range l.Issues {
				r.Issue(is)
			}
		}
	}
	results := make([]*v1.EnrichedLaunchToolResponse, len(launches))
	for i, l := range launches {
		results[i] = enrichers.Wrap(l)
	}
	if err := (identity.Enricher{}).Enrich(ctx, &v1.ScanInfo{}, results); err != nil {
		return nil, nil, err
	}
	files := map[string][]byte{}
	var fs []*finding
	for _, r := range results {
		for _, ei := range r.Issues {
			fs = append(fs, newFinding(ei, wt, files))
		}
	}
	rankOccurrences(fs)
	return fs, fails, nil
}

// minSecret is the pipeline's: shorter values are not hidden elsewhere.
const minSecret = 6

func long(ss []string) []string {
	var out []string
	for _, s := range ss {
		if len(s) >= minSecret {
			out = append(out, s)
		}
	}
	return out
}

var errNotCached = errors.New("no cached report")

// inputs says which files of the tree a scanner's report depends on:
// gosec reads Go packages (and the modules go.mod and go.sum pin), bandit
// Python files; any other tool, every file.
var inputs = map[string]func(path string) bool{
	"gosec": func(p string) bool {
		b := pathpkg.Base(p)
		return strings.HasSuffix(p, ".go") || b == "go.mod" || b == "go.sum" || b == "go.work" || b == "modules.txt"
	},
	"bandit": func(p string) bool { return strings.HasSuffix(p, ".py") || pathpkg.Base(p) == ".bandit" },
}

// inputKey names the files of commit's tree that tool reads (paths and
// blob ids): two commits with the same key give the tool the same input,
// so one report stands for both.
func inputKey(tree []string, tool string) string {
	keep := inputs[tool]
	h := sha256.New()
	for _, line := range tree {
		// "<mode> <type> <blob>\t<path>"
		tab := strings.IndexByte(line, '\t')
		if tab < 0 || (keep != nil && !keep(line[tab+1:])) {
			continue
		}
		h.Write([]byte(line))
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// How a report was had.
const (
	fromScan   = "scanned"
	fromCache  = "cached"     // an earlier replay scanned this input
	fromSame   = "same input" // this replay scanned this input at another commit
	fromFailed = "failed"
)

// scanOne returns the tool's parsed report for the checked-out commit:
// the cached raw report of the same input when there is one, else the
// scanner's, run by internal/produce as a run does, with the raw report
// cached before produce hides secrets in its copy. root is the folder
// the report was written in (its absolute paths start there).
func scanOne(ctx context.Context, o options, p *producers.Producer, wt, key string, seen map[string]bool) (out produce.Outcome, how, root string) {
	cached := filepath.Join(o.cache, "reports", p.Name, key+".report")
	parse := func(b []byte) (*producers.Parsed, error) { return registry.Parse(p, b) }
	if data, err := os.ReadFile(cached); err == nil {
		root := wt
		if r, err := os.ReadFile(cached + ".root"); err == nil {
			root = string(r)
		}
		parsed, err := parse(data)
		if err != nil {
			return produce.Outcome{Producer: p.Name, Status: produce.Failed, Reason: err.Error()}, fromFailed, root
		}
		how := fromCache
		if seen[p.Name+"/"+key] {
			how = fromSame
		}
		return produce.Outcome{Producer: p.Name, Status: produce.OK, Parsed: parsed}, how, root
	}
	if o.offline {
		return produce.Outcome{Producer: p.Name, Status: produce.Failed, Reason: errNotCached.Error()}, fromFailed, wt
	}
	runDir := filepath.Join(o.cache, "run", p.Name)
	var saveErr error
	out = produce.Run(ctx, runner.Local{}, p, produce.Options{Source: wt, RunDir: runDir,
		Parse: func(b []byte) (*producers.Parsed, error) {
			parsed, err := parse(b)
			if err == nil {
				saveErr = errors.Join(save(cached+".root", []byte(wt)), save(cached, b))
			}
			return parsed, err
		}})
	if out.Status == produce.OK && saveErr != nil {
		out.Status, out.Reason = produce.Failed, "caching the report: "+saveErr.Error()
	}
	if out.Status != produce.OK {
		return out, fromFailed, wt
	}
	return out, fromScan, wt
}

func save(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// launch is the pipeline's launch stage for one producer: the tool's name
// on every issue, paths relative to the checkout (root, where the report
// was written; wt is where the commit is checked out now), and (SAST) findings in
// vendored or generated files left out, as `dracon run` does by default.
func launch(p *producers.Producer, parsed *producers.Parsed, cl *vendored.Classifier, wt, root string) *v1.LaunchToolResponse {
	kept := parsed.Issues[:0]
	for _, is := range parsed.Issues {
		if is.ToolName == "" {
			is.ToolName = p.Name
		}
		if l := is.Location; l != nil && l.Path != "" {
			rel := l.Path
			if filepath.IsAbs(rel) {
				if r, err := filepath.Rel(root, rel); err == nil && !strings.HasPrefix(r, "..") {
					rel = r
				}
			} else {
				rel = filepath.Clean(rel)
			}
			if rel = filepath.ToSlash(rel); rel != l.Path {
				is.Target = strings.Replace(is.Target, l.Path, rel, 1)
				l.Path = rel
			}
			if p.Kind == producers.SAST && !cl.Classify(wt, rel).Own() {
				continue
			}
		}
		kept = append(kept, is)
	}
	return &v1.LaunchToolResponse{ToolName: p.Name, Issues: kept, ToolVersion: parsed.ToolVersion}
}

func newFinding(ei *v1.EnrichedIssue, wt string, files map[string][]byte) *finding {
	is := ei.GetRawIssue()
	loc := is.GetLocation()
	f := &finding{
		Tool: is.GetToolName(), Rule: is.GetRuleId(), Path: fingerprint.Path(is),
		Start: loc.GetStartLine(), End: loc.GetEndLine(), Col: loc.GetStartColumn(),
	}
	if f.Rule == "" {
		f.Rule = is.GetType()
	}
	for _, alg := range fingerprint.Algorithms {
		if v, ok := ei.GetSignatures()[alg]; ok {
			f.Alg, f.Sig = alg, v
			break
		}
	}
	if f.Alg == fingerprint.SecretV1 {
		f.Code = is.GetFingerprint()
	} else {
		f.Code = fingerprint.Code(is.GetContextSegment(), loc.GetStartLine(), loc.GetEndLine())
	}
	content, ok := files[f.Path]
	if !ok {
		var err error
		content, err = os.ReadFile(filepath.Join(wt, filepath.FromSlash(f.Path)))
		if err != nil {
			content = nil
		}
		files[f.Path] = content
	}
	if content == nil {
		f.NoSource = true
	} else if f.Flagged, ok = flaggedLines(content, f.Start, f.End); !ok {
		f.NoSource = true
	}
	return f
}

// rankOccurrences sets each finding's rank among those of the scan with
// the same tool, rule, path and snippet code, by line then column.
func rankOccurrences(fs []*finding) {
	groups := map[string][]*finding{}
	for _, f := range fs {
		k := f.Alg + "\x00" + f.Tool + "\x00" + f.Rule + "\x00" + f.Path + "\x00" + f.Code
		if f.Alg == fingerprint.SecretV1 {
			k = f.Alg + "\x00" + f.Path + "\x00" + f.Code
		}
		groups[k] = append(groups[k], f)
	}
	for _, g := range groups {
		sort.SliceStable(g, func(i, j int) bool {
			if g[i].Start != g[j].Start {
				return g[i].Start < g[j].Start
			}
			return g[i].Col < g[j].Col
		})
		for i, f := range g {
			f.Occ = i
		}
	}
}

func report(w io.Writer, o options, repo string, commits []string, how map[string]map[string]int, st map[string]*stats) {
	fmt.Fprintf(w, "Fingerprint replay: %s, %d commits (%s..%s, first parent), %d consecutive pairs.\n",
		filepath.Base(repo), len(commits), short(commits[0]), short(commits[len(commits)-1]), len(commits)-1)
	fmt.Fprintln(w, "Reports per commit (a commit whose files a scanner reads are those of another commit shares its report):")
	for _, t := range o.tools {
		h := how[t]
		fmt.Fprintf(w, "  %-9s %d distinct inputs (scanned now %d, cached from an earlier replay %d), %d commits with an input already scanned, %d failed\n",
			t, h[fromScan]+h[fromCache], h[fromScan], h[fromCache], h[fromSame], h[fromFailed])
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "tool\tfindings/commit\tpairs judged\tkept\tretention\tin changed files\tkept\tretention\tline moved\tkept\tambiguous\twrong merges\tkept across an edit\t")
	var tools []string
	for t := range st {
		tools = append(tools, t)
	}
	sort.Strings(tools)
	total := &stats{}
	row := func(name string, s *stats) {
		perCommit := float64(s.Findings) / float64(max(len(commits), 1))
		fmt.Fprintf(tw, "%s\t%.1f\t%d\t%d\t%s\t%d\t%d\t%s\t%d\t%d\t%d\t%d\t%d\t\n", name, perCommit, s.Pairs, s.Kept, pct(s.Kept, s.Pairs),
			s.InChanged, s.InChangedKept, pct(s.InChangedKept, s.InChanged), s.Shifted, s.ShiftedKept, s.Ambiguous, s.Within+s.Taken, s.Edited)
	}
	for _, t := range tools {
		s := st[t]
		row(t, s)
		total.Findings += s.Findings
		total.Pairs += s.Pairs
		total.Kept += s.Kept
		total.InChanged += s.InChanged
		total.InChangedKept += s.InChangedKept
		total.Shifted += s.Shifted
		total.ShiftedKept += s.ShiftedKept
		total.Ambiguous += s.Ambiguous
		total.Within += s.Within
		total.Taken += s.Taken
		total.Edited += s.Edited
		total.NoSource += s.NoSource
		total.Lost = append(total.Lost, s.Lost...)
		total.Merges = append(total.Merges, s.Merges...)
	}
	row("all", total)
	tw.Flush()
	verdict := "ok"
	if total.Pairs == 0 || float64(total.Kept) < 0.99*float64(total.Pairs) || total.Within+total.Taken > 0 {
		verdict = "BELOW TARGET"
	}
	fmt.Fprintf(w, "\nTarget: >= 99%% retention, 0 wrong merges: %s. Wrong merges: %d within a scan, %d across commits. %d findings' files could not be read (not judged).\n",
		verdict, total.Within, total.Taken, total.NoSource)
	if len(total.Lost) > 0 {
		why := map[string]int{}
		for _, l := range total.Lost {
			why[reason(l.Why)]++
		}
		fmt.Fprintf(w, "\nIdentity lost (%d), by cause:\n", len(total.Lost))
		for _, k := range sortedKeys(why) {
			fmt.Fprintf(w, "  %5d  %s\n", why[k], k)
		}
		fmt.Fprintln(w, "Examples:")
		for i, l := range total.Lost {
			if i == o.examples {
				break
			}
			fmt.Fprintf(w, "  %s: %s (was line %d): %s\n", short(l.Commit), l.B, l.A.Start, l.Why)
		}
	}
	if len(total.Merges) > 0 {
		fmt.Fprintln(w, "\nWrong merges:")
		for i, m := range total.Merges {
			if i == o.examples {
				break
			}
			fmt.Fprintln(w, "  "+m)
		}
	}
}

func reason(why string) string {
	if i := strings.IndexAny(why, "\"0123456789"); i > 0 {
		return strings.TrimSpace(why[:i])
	}
	return why
}

func sortedKeys(m map[string]int) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool { return m[ks[i]] > m[ks[j]] || m[ks[i]] == m[ks[j]] && ks[i] < ks[j] })
	return ks
}

func pct(a, b int) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f%%", 100*float64(a)/float64(b))
}
