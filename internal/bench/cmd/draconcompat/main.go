// Command draconcompat checks that a component built from Dracon's own
// repository (github.com/ocurity/dracon; nothing of Dracon is in this
// repository) reads the enriched files `dracon run` writes and sees the
// policy enricher's annotation on every finding:
//
//	go run ./internal/bench/cmd/draconcompat -component /tmp/stdout-json \
//	    [-aggregator /tmp/dracon-aggregator]
//
// The component is Dracon's stdout-json consumer
// (components/consumers/stdout-json, built with -mod=vendor): it walks its
// -in folder for *.enriched.aggregated.pb (putil.LoadEnrichedToolResponse)
// and prints one JSON document per EnrichedIssue, annotations included.
//
// The input is fixed and needs no scanner: `dracon run` imports two
// reports through producers' paths (testdata/gosec.json, gosec v2.30.0 on
// examples/goapp: LOW, MEDIUM and HIGH findings; testdata/levels.sarif:
// CRITICAL, INFO and UNSPECIFIED ones) with Dracon's example policy given
// as Dracon's policy task gave it, base64 (policy.base64 in dracon.yaml:
// the default of enricher-policy-base64-policy, Rego v0). Each finding
// then carries "Policy Pass: example/gosec": "true" for LOW, MEDIUM and
// HIGH, "false" for the others.
//
// Our <tool>.enriched.pb files are laid out as Dracon's consumers find
// them, .dracon/enrichers/<tool>.enriched.aggregated.pb; with -aggregator
// (Dracon's components/enrichers/aggregator) they go in as an enricher's
// .dracon/enrichers/policy/<tool>.policy.enriched.pb and Dracon's
// aggregator writes the aggregated files. The check compares what the
// component prints with what the files hold read with Dracon's field
// numbers (wire.go) and exits 1 on any difference.
package main

import (
	"bufio"
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/draconsec/dracon/internal/cli"
)

// annotationKey is what Dracon's policy enricher writes for package
// example.gosec: the default prefix "Policy Pass: " and the package path.
const annotationKey = "Policy Pass: example/gosec"

// examplePolicyBase64 is the default of Dracon's enricher-policy-base64-policy
// (components/enrichers/policy/task.yaml at f590cedf): its
// policies/example.gosec policy, Rego v0, allow for LOW, MEDIUM and HIGH.
const examplePolicyBase64 = "cGFja2FnZSBleGFtcGxlLmdvc2VjCgpkZWZhdWx0IGFsbG93IDo9IGZhbHNlCgphbGxvdyA9dHJ1ZSB7CiAgICBwcmludChpbnB1dCkKICAgIGNoZWNrX3NldmVyaXR5Cn0KCmNoZWNrX3NldmVyaXR5IHsKICAgIGlucHV0LnNldmVyaXR5ID09ICJTRVZFUklUWV9ISUdIIgp9CmNoZWNrX3NldmVyaXR5IHsKICAgIGlucHV0LnNldmVyaXR5ID09ICJTRVZFUklUWV9NRURJVU0iCn0KY2hlY2tfc2V2ZXJpdHkgewogICAgaW5wdXQuc2V2ZXJpdHkgPT0gIlNFVkVSSVRZX0xPVyIKfQ=="

//go:embed testdata/gosec.json testdata/levels.sarif testdata/src
var fixtures embed.FS

func main() {
	component := flag.String("component", os.Getenv("DRACON_COMPONENT"), "Dracon's built stdout-json consumer (components/consumers/stdout-json; default $DRACON_COMPONENT)")
	aggregator := flag.String("aggregator", os.Getenv("DRACON_AGGREGATOR"), "optional: Dracon's built enricher aggregator (components/enrichers/aggregator; default $DRACON_AGGREGATOR); our files then go through it")
	keep := flag.Bool("keep", false, "keep the work folder and print its path")
	flag.Parse()
	if *component == "" {
		fmt.Fprintln(os.Stderr, "draconcompat: skipped: give -component (Dracon's built components/consumers/stdout-json)")
		os.Exit(0)
	}
	ok, err := check(context.Background(), os.Stdout, *component, *aggregator, *keep)
	if err != nil {
		fmt.Fprintln(os.Stderr, "draconcompat:", err)
		os.Exit(1)
	}
	if !ok {
		os.Exit(1)
	}
}

func check(ctx context.Context, w io.Writer, component, aggregator string, keep bool) (bool, error) {
	for _, p := range []*string{&component, &aggregator} {
		if *p == "" {
			continue
		}
		abs, err := filepath.Abs(*p)
		if err != nil {
			return false, err
		}
		*p = abs
	}
	work, err := os.MkdirTemp("", "draconcompat")
	if err != nil {
		return false, err
	}
	if keep {
		fmt.Fprintln(w, "work folder:", work)
	} else {
		defer os.RemoveAll(work)
	}

	res, err := ourRun(ctx, work)
	if err != nil {
		return false, err
	}
	var files []wireFile
	total := 0
	for _, f := range res.Enriched {
		b, err := os.ReadFile(f)
		if err != nil {
			return false, err
		}
		wf, err := decodeDracon(b)
		if err != nil {
			return false, fmt.Errorf("%s with Dracon's field numbers: %w", filepath.Base(f), err)
		}
		files = append(files, wf)
		total += len(wf.Issues)
	}
	fmt.Fprintf(w, "dracon run: exit %d, %d findings in %d enriched files (%s)\n", res.Code, total, len(files), strings.Join(baseNames(res.Enriched), ", "))

	in, notes, err := layout(ctx, work, res.Enriched, aggregator)
	if err != nil {
		return false, err
	}
	for _, n := range notes {
		fmt.Fprintln(w, n)
	}
	cmd := exec.CommandContext(ctx, component, "-in", in+string(filepath.Separator))
	cmd.Env = append(os.Environ(), "DRACON_SCAN_ID="+res.ScanID)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return false, fmt.Errorf("%s -in %s: %v\n%s", filepath.Base(component), in, err, out)
	}
	docs, other := parseComponentOutput(out)
	fmt.Fprintf(w, "%s -in %s: %d findings printed\n\n", filepath.Base(component), strings.TrimPrefix(in, work+string(filepath.Separator)), len(docs))

	rows, problems := compare(files, docs)
	for _, l := range other {
		if strings.Contains(l, "skipping") || strings.Contains(l, "unable to unmarshal") {
			problems = append(problems, "the component: "+l)
		}
	}
	if aggregator != "" && len(docs) < total {
		empty := 0
		for _, f := range files {
			for _, is := range f.Issues {
				if is.UUID == "" {
					empty++
				}
			}
		}
		if empty > 0 {
			problems = append(problems, fmt.Sprintf("Dracon's aggregator groups a tool's issues by raw_issue.uuid (Issue field 10); %d of our %d issues have an empty uuid, so it keeps one per tool", empty, total))
		}
	}
	printTable(w, rows)
	if len(problems) > 0 {
		fmt.Fprintf(w, "\nFAIL: %d problems\n", len(problems))
		for _, p := range problems {
			fmt.Fprintln(w, "  -", p)
		}
		return false, nil
	}
	fmt.Fprintf(w, "\nok: Dracon's %s read all %d findings and every one carries %q as the example policy decides\n", filepath.Base(component), total, annotationKey)
	return true, nil
}

// runResult is what ourRun leaves: the run's <tool>.enriched.pb files.
type runResult struct {
	Code     int
	ScanID   string
	Enriched []string
	Log      string
}

// ourRun runs `dracon run` (in this process) on the fixed input, in work:
// no scanner runs; the two reports are imported through producers' paths.
// Nothing is written outside work.
func ourRun(ctx context.Context, work string) (runResult, error) {
	src, runs, out := filepath.Join(work, "src"), filepath.Join(work, "runs"), filepath.Join(work, "out")
	for _, d := range []string{src, runs, out} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return runResult{}, err
		}
	}
	// The scanned folder: examples/goapp/main.go, which the gosec report
	// is of (its paths are /work/main/examples/...: a report from another
	// checkout, relativized by the files found here).
	main, err := fixtures.ReadFile("testdata/src/goapp/main.go")
	if err != nil {
		return runResult{}, err
	}
	if err := os.MkdirAll(filepath.Join(src, "goapp"), 0o755); err != nil {
		return runResult{}, err
	}
	if err := os.WriteFile(filepath.Join(src, "goapp", "main.go"), main, 0o644); err != nil {
		return runResult{}, err
	}
	reports := map[string]string{}
	for _, name := range []string{"gosec.json", "levels.sarif"} {
		b, err := fixtures.ReadFile("testdata/" + name)
		if err != nil {
			return runResult{}, err
		}
		p := filepath.Join(work, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return runResult{}, err
		}
		reports[name] = p
	}
	cfg := filepath.Join(work, "dracon.yaml")
	yaml := fmt.Sprintf(`version: 1
producers:
  gosec:
    paths: [%q]
  sarif:
    paths: [%q]
enrichers:
  dedup:
    store: %q
policy:
  base64: %s
`, reports["gosec.json"], reports["levels.sarif"], filepath.Join(work, "findings.db"), examplePolicyBase64)
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		return runResult{}, err
	}
	var log bytes.Buffer
	// Only what a local run needs of the environment: no CI variables (a
	// pull request's would read policies from its target branch), no
	// DRACON_STORE.
	getenv := func(k string) string {
		switch k {
		case "HOME", "PATH", "TMPDIR":
			return os.Getenv(k)
		}
		return ""
	}
	code := cli.Main(ctx, []string{"run", "--config", cfg, "--source", src, "--out", out, "--run-dir", runs, "--format", "none"},
		cli.Env{Stdout: &log, Stderr: &log, Getenv: getenv})
	res := runResult{Code: code, Log: log.String()}
	if code != 0 && code != 1 { // 1: the verdict failed, the files are written
		return res, fmt.Errorf("dracon run: exit %d\n%s", code, res.Log)
	}
	dirs, err := os.ReadDir(runs)
	if err != nil {
		return res, err
	}
	if len(dirs) != 1 || !dirs[0].IsDir() {
		return res, fmt.Errorf("dracon run: want one run folder in %s, found %d\n%s", runs, len(dirs), res.Log)
	}
	res.ScanID = dirs[0].Name()
	res.Enriched, err = filepath.Glob(filepath.Join(runs, res.ScanID, "*.enriched.pb"))
	if err != nil {
		return res, err
	}
	if len(res.Enriched) == 0 {
		return res, fmt.Errorf("dracon run wrote no *.enriched.pb\n%s", res.Log)
	}
	sort.Strings(res.Enriched)
	return res, nil
}

// layout puts our enriched files where Dracon's consumers read them and
// returns the consumer's -in folder (Tekton's .dracon/enrichers).
func layout(ctx context.Context, work string, enriched []string, aggregator string) (string, []string, error) {
	dir := filepath.Join(work, "workspace", ".dracon", "enrichers")
	var notes []string
	for _, f := range enriched {
		tool := strings.TrimSuffix(filepath.Base(f), ".enriched.pb")
		dst := filepath.Join(dir, tool+".enriched.aggregated.pb")
		if aggregator != "" { // as Dracon's policy enricher would have written it
			dst = filepath.Join(dir, "policy", tool+".policy.enriched.pb")
		}
		if err := copyFile(f, dst); err != nil {
			return "", nil, err
		}
	}
	if aggregator != "" {
		cmd := exec.CommandContext(ctx, aggregator, "-read_path", dir, "-write_path", dir)
		out, err := cmd.CombinedOutput()
		if err != nil {
			return "", nil, fmt.Errorf("%s: %v\n%s", filepath.Base(aggregator), err, out)
		}
		agg, _ := filepath.Glob(filepath.Join(dir, "*.enriched.aggregated.pb"))
		notes = append(notes, fmt.Sprintf("%s -read_path -write_path .dracon/enrichers: wrote %s", filepath.Base(aggregator), strings.Join(baseNames(agg), ", ")))
	}
	return dir, notes, nil
}

// doc is the part of a stdout-json document the check reads.
type doc struct {
	ToolName    string            `json:"tool_name"`
	Target      string            `json:"target"`
	Type        string            `json:"type"`
	Severity    uint64            `json:"severity"`
	Count       uint64            `json:"count"`
	Annotations map[string]string `json:"annotations"`
}

// parseComponentOutput reads stdout-json's lines: where Dracon sets a JSON
// slog handler as the default (consumers.ParseFlags at f590cedf) each
// log.Printf is a slog record whose msg is the document; in versions without
// it, log's prefix and the document.
// Lines that hold no document come back as other.
func parseComponentOutput(out []byte) (docs []doc, other []string) {
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		body := line
		var rec struct {
			Msg *string `json:"msg"`
		}
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg != nil {
			body = *rec.Msg
		} else if i := strings.IndexByte(line, '{'); i >= 0 {
			body = line[i:]
		}
		var keys map[string]json.RawMessage
		var d doc
		if json.Unmarshal([]byte(body), &keys) != nil || keys["tool_name"] == nil || json.Unmarshal([]byte(body), &d) != nil {
			other = append(other, line)
			continue
		}
		docs = append(docs, d)
	}
	return docs, other
}

// wantAllow is the example policy's decision: allow LOW, MEDIUM and HIGH.
func wantAllow(severity uint64) string {
	return fmt.Sprint(severity >= 2 && severity <= 4)
}

// row is one line of the table: a tool's findings of one severity.
type row struct {
	tool, severity string
	findings       int
	got            map[string]int // annotation value ("" missing) -> findings
	want           string
	ok             bool
}

// compare matches each printed finding with one we wrote (tool, rule and
// target) and checks its severity and its annotation.
func compare(files []wireFile, docs []doc) ([]*row, []string) {
	var problems []string
	written := map[string][]wireIssue{}
	for _, f := range files {
		for _, is := range f.Issues {
			if v, ok := is.Annotations[annotationKey]; !ok || v != wantAllow(is.Severity) {
				problems = append(problems, fmt.Sprintf("our %s file: %s %s (%s) has %s=%q, want %q", f.Tool, is.Type, is.Target, severityNames[is.Severity], annotationKey, v, wantAllow(is.Severity)))
			}
			k := f.Tool + "\x00" + is.Type + "\x00" + is.Target
			written[k] = append(written[k], is)
		}
	}
	byKey := map[string]*row{}
	var rows []*row
	for _, d := range docs {
		k := d.ToolName + "\x00" + d.Type + "\x00" + d.Target
		ws := written[k]
		if len(ws) == 0 {
			problems = append(problems, fmt.Sprintf("the component printed %s %s %s, which we did not write (or printed it twice)", d.ToolName, d.Type, d.Target))
			continue
		}
		w := ws[0]
		written[k] = ws[1:]
		if d.Severity != w.Severity {
			problems = append(problems, fmt.Sprintf("%s %s %s: the component read severity %d, we wrote %d", d.ToolName, d.Type, d.Target, d.Severity, w.Severity))
		}
		sev := severityNames[d.Severity]
		rk := d.ToolName + "\x00" + sev
		r := byKey[rk]
		if r == nil {
			r = &row{tool: d.ToolName, severity: sev, got: map[string]int{}, want: wantAllow(d.Severity), ok: true}
			byKey[rk] = r
			rows = append(rows, r)
		}
		r.findings++
		got, has := d.Annotations[annotationKey]
		if !has {
			got = ""
		}
		r.got[got]++
		if got != r.want {
			r.ok = false
			problems = append(problems, fmt.Sprintf("%s %s %s (%s): the component printed %s=%q, want %q", d.ToolName, d.Type, d.Target, sev, annotationKey, got, r.want))
		}
	}
	var missing []string
	for k, ws := range written {
		for range ws {
			missing = append(missing, strings.ReplaceAll(k, "\x00", " "))
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		n := len(missing)
		if n > 5 {
			missing = append(missing[:5], "…")
		}
		problems = append(problems, fmt.Sprintf("the component did not print %d findings we wrote: %s", n, strings.Join(missing, "; ")))
	}
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].tool != rows[j].tool {
			return rows[i].tool < rows[j].tool
		}
		return severityRank(rows[i].severity) > severityRank(rows[j].severity)
	})
	return rows, problems
}

func severityRank(name string) uint64 {
	for n, s := range severityNames {
		if s == name {
			return n
		}
	}
	return 0
}

func printTable(w io.Writer, rows []*row) {
	fmt.Fprintf(w, "| tool | severity | findings | %s | want | ok |\n|---|---|---|---|---|---|\n", annotationKey)
	for _, r := range rows {
		var got []string
		for v, n := range r.got {
			if v == "" {
				v = "(missing)"
			}
			if len(r.got) > 1 {
				v = fmt.Sprintf("%s ×%d", v, n)
			}
			got = append(got, v)
		}
		sort.Strings(got)
		ok := "yes"
		if !r.ok {
			ok = "NO"
		}
		fmt.Fprintf(w, "| %s | %s | %d | %s | %s | %s |\n", r.tool, r.severity, r.findings, strings.Join(got, ", "), r.want, ok)
	}
}

func baseNames(paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = filepath.Base(p)
	}
	return out
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		return errors.Join(fmt.Errorf("writing %s", dst), err)
	}
	return nil
}
