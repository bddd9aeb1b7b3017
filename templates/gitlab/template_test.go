// Package gitlabtemplate tests Dracon's GitLab CI/CD components
// (templates/dracon/template.yml, templates/release-gate/template.yml):
// their spec, jobs and scripts here, and the whole pipeline through
// gitlab-ci-local in e2e_test.go. What gitlab-ci-local cannot prove
// (GitLab's report ingestion, undeclared inputs, interpolation functions,
// component includes from the catalog) is asserted here on the YAML.
package gitlabtemplate

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

const (
	scanTemplate    = "../dracon/template.yml"
	releaseTemplate = "../release-gate/template.yml"
)

type input struct {
	Type        string   `yaml:"type"`
	Default     any      `yaml:"default"`
	Description string   `yaml:"description"`
	Options     []string `yaml:"options"`
	Regex       string   `yaml:"regex"`
}

type spec struct {
	Spec struct {
		Description string           `yaml:"description"`
		Inputs      map[string]input `yaml:"inputs"`
	} `yaml:"spec"`
}

type component struct {
	path   string
	raw    string // the whole file
	header spec
	body   string // the part after ---
}

func load(t *testing.T, path string) component {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c := component{path: path, raw: string(b)}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&c.header); err != nil {
		t.Fatalf("%s: spec header: %v", path, err)
	}
	_, body, ok := strings.Cut(string(b), "\n---\n")
	if !ok {
		t.Fatalf("%s: no --- after the spec header", path)
	}
	c.body = body
	return c
}

var interp = regexp.MustCompile(`\$\[\[\s*([^\]]*?)\s*\]\]`)

// render interpolates the inputs (defaults, then overrides) as GitLab does
// and parses the jobs.
func (c component) render(t *testing.T, over map[string]string) map[string]map[string]any {
	t.Helper()
	vals := map[string]string{}
	for k, in := range c.header.Spec.Inputs {
		vals[k] = toString(in.Default)
	}
	for k, v := range over {
		if _, ok := c.header.Spec.Inputs[k]; !ok {
			t.Fatalf("%s: no input %q", c.path, k)
		}
		vals[k] = v
	}
	out := interp.ReplaceAllStringFunc(c.body, func(m string) string {
		name := strings.TrimPrefix(interp.FindStringSubmatch(m)[1], "inputs.")
		return vals[name]
	})
	var jobs map[string]map[string]any
	if err := yaml.Unmarshal([]byte(out), &jobs); err != nil {
		t.Fatalf("%s: rendered jobs: %v\n%s", c.path, err, out)
	}
	return jobs
}

func toString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case bool:
		if x {
			return "true"
		}
		return "false"
	case string:
		return x
	}
	b, _ := yaml.Marshal(v)
	return strings.TrimSpace(string(b))
}

// closed are the inputs whose values are a closed set or a shape.
var closed = map[string][]string{
	scanTemplate:    {"job-prefix", "source", "config", "producers", "reports", "policy", "fail-on", "baseline-ref", "diff-filter"},
	releaseTemplate: {"job-prefix", "config", "policy", "fail-on", "cache-key"},
}

var wantInputs = map[string][]string{
	scanTemplate:    {"stage", "job-prefix", "image", "config", "producers", "policy", "fail-on", "baseline-ref", "diff-filter", "reports", "mr-note", "store", "new-only", "source", "gate-allow-failure"},
	releaseTemplate: {"stage", "job-prefix", "image", "config", "policy", "fail-on", "store"},
}

func TestSpec(t *testing.T) {
	for _, path := range []string{scanTemplate, releaseTemplate} {
		t.Run(filepath.Base(filepath.Dir(path)), func(t *testing.T) {
			c := load(t, path)
			s := c.header.Spec
			if len(strings.TrimSpace(s.Description)) < 40 {
				t.Errorf("spec.description is missing or short: %q", s.Description)
			}
			for _, name := range wantInputs[path] {
				if _, ok := s.Inputs[name]; !ok {
					t.Errorf("no input %q", name)
				}
			}
			if d := toString(s.Inputs["job-prefix"].Default); d != "dracon" {
				t.Errorf("job-prefix default %q, want dracon", d)
			}
			for name, in := range s.Inputs {
				if strings.TrimSpace(in.Description) == "" {
					t.Errorf("input %q has no description", name)
				}
				if in.Default == nil {
					t.Errorf("input %q has no default: every input is optional", name)
				}
				switch in.Type {
				case "", "string":
				case "boolean":
					if _, ok := in.Default.(bool); !ok {
						t.Errorf("boolean input %q: default %v is not a boolean", name, in.Default)
					}
				default:
					t.Errorf("input %q: type %q", name, in.Type)
				}
				if in.Regex != "" {
					re, err := regexp.Compile(in.Regex)
					if err != nil {
						t.Errorf("input %q: regex: %v", name, err)
						continue
					}
					if !strings.HasPrefix(in.Regex, "^") || !strings.HasSuffix(in.Regex, "$") {
						t.Errorf("input %q: regex %q is not anchored", name, in.Regex)
					}
					if d := toString(in.Default); !re.MatchString(d) {
						t.Errorf("input %q: default %q fails its own regex", name, d)
					}
				}
				if len(in.Options) > 0 && !slices.Contains(in.Options, toString(in.Default)) {
					t.Errorf("input %q: default %v not among its options %v", name, in.Default, in.Options)
				}
			}
			for _, name := range closed[path] {
				if in := s.Inputs[name]; in.Regex == "" && len(in.Options) == 0 {
					t.Errorf("closed input %q has neither options nor regex", name)
				}
			}
			// Every input is used; nothing else is interpolated. GitLab rejects
			// an include naming an undeclared input (gitlab-ci-local does not).
			used := map[string]bool{}
			for _, m := range interp.FindAllStringSubmatch(c.body, -1) {
				expr := m[1]
				if strings.Contains(expr, "|") {
					// gitlab-ci-local ignores interpolation functions: none is used.
					t.Errorf("interpolation function in %q: gitlab-ci-local would not apply it", m[0])
				}
				name, ok := strings.CutPrefix(expr, "inputs.")
				if !ok {
					t.Errorf("%q: only inputs are interpolated (component.* needs a catalog include)", m[0])
					continue
				}
				if _, ok := s.Inputs[name]; !ok {
					t.Errorf("%q interpolates an undeclared input", m[0])
				}
				used[name] = true
			}
			for name := range s.Inputs {
				if !used[name] {
					t.Errorf("input %q is declared and never used", name)
				}
			}
		})
	}
}

func TestRegexes(t *testing.T) {
	in := load(t, scanTemplate).header.Spec.Inputs
	cases := map[string]struct{ good, bad []string }{
		"job-prefix": {[]string{"dracon", "sec-scan", "a1_b"}, []string{"Dracon", "1dracon", "dracon scan", "", "a;b"}},
		"producers":  {[]string{"auto", "gosec", "gosec,bandit,gitleaks", "osv-scanner"}, []string{"gosec, bandit", "gosec;rm -rf /", "", "gosec,", "$(id)"}},
		"reports":    {[]string{"auto", "none", "sast", "sast,codequality,cyclonedx"}, []string{"sarif", "sast,bogus", "sast codequality", ""}},
		"policy":     {[]string{"", "builtin:default", "policies/", "policies/deny.rego,builtin:default"}, []string{"a b", "x;y", "$(id)", "`id`", "p\"q"}},
		"config":     {[]string{"", "dracon.yaml", "ci/dracon.yaml"}, []string{"/etc/passwd", "a b", "$HOME/x", "x;y"}},
		"source":     {[]string{".", "examples", "src/app"}, []string{"", "/", "a b", "x;y"}},
	}
	for name, c := range cases {
		re := regexp.MustCompile(in[name].Regex)
		for _, v := range c.good {
			if !re.MatchString(v) {
				t.Errorf("%s: %q rejected", name, v)
			}
		}
		for _, v := range c.bad {
			if re.MatchString(v) {
				t.Errorf("%s: %q accepted", name, v)
			}
		}
	}
	if o := in["fail-on"].Options; !slices.Equal(o, []string{"config", "none", "info", "low", "medium", "high", "critical"}) {
		t.Errorf("fail-on options %v", o)
	}
	if o := in["diff-filter"].Options; !slices.Equal(o, []string{"config", "nofilter", "added", "diff_context", "file"}) {
		t.Errorf("diff-filter options %v", o)
	}
}

// globalKeywords may not stand at a component's top level (GitLab's
// component best practices): they would change the including pipeline.
var globalKeywords = []string{"default", "stages", "variables", "workflow", "include", "image", "services", "cache", "before_script", "after_script"}

func TestJobs(t *testing.T) {
	for _, path := range []string{scanTemplate, releaseTemplate} {
		c := load(t, path)
		for _, prefix := range []string{"dracon", "sec"} {
			jobs := c.render(t, map[string]string{"job-prefix": prefix})
			for name, job := range jobs {
				if slices.Contains(globalKeywords, name) || strings.HasPrefix(name, ".") {
					t.Errorf("%s: top-level %q", path, name)
				}
				if !strings.HasPrefix(name, prefix+"-") {
					t.Errorf("%s: job %q lacks the prefix %q", path, name, prefix)
				}
				if job["stage"] != "test" && job["stage"] != "deploy" {
					t.Errorf("%s: %s: stage %v", path, name, job["stage"])
				}
				if _, ok := job["rules"]; !ok {
					t.Errorf("%s: %s has no rules", path, name)
				}
				for _, k := range []string{"before_script", "after_script", "only", "except"} {
					if _, ok := job[k]; ok {
						t.Errorf("%s: %s uses %s", path, name, k)
					}
				}
			}
		}
		if jobs := c.render(t, map[string]string{"stage": "security"}); true {
			for name, job := range jobs {
				if job["stage"] != "security" {
					t.Errorf("%s: %s: stage input not applied: %v", path, name, job["stage"])
				}
			}
		}
	}
	jobs := load(t, scanTemplate).render(t, nil)
	if len(jobs) != 2 || jobs["dracon-scan"] == nil || jobs["dracon-gate"] == nil {
		t.Fatalf("want dracon-scan and dracon-gate, got %v", keys(jobs))
	}
	gate := jobs["dracon-gate"]
	needs, _ := gate["needs"].([]any)
	if len(needs) != 1 || needs[0].(map[string]any)["job"] != "dracon-scan" || needs[0].(map[string]any)["artifacts"] != true {
		t.Errorf("gate needs %v, want the scan with its artifacts", gate["needs"])
	}
	if gate["allow_failure"] != false {
		t.Errorf("gate allow_failure %v (%T), want the boolean false", gate["allow_failure"], gate["allow_failure"])
	}
	if jobs := load(t, scanTemplate).render(t, map[string]string{"gate-allow-failure": "true"}); jobs["dracon-gate"]["allow_failure"] != true {
		t.Errorf("gate-allow-failure not applied")
	}
	if _, ok := jobs["dracon-scan"]["allow_failure"]; ok {
		t.Errorf("the scan job needs no allow_failure: it exits 0 when the scan completes")
	}
	rel := load(t, releaseTemplate).render(t, nil)["dracon-release-gate"]
	if rel == nil {
		t.Fatal("no dracon-release-gate job")
	}
	if s := script(rel); !strings.Contains(s, "--context release") || !strings.Contains(s, `--ref "$CI_COMMIT_TAG"`) || !strings.Contains(s, "dracon gate") {
		t.Errorf("release gate script: %s", s)
	}
	if r := rulesText(rel); !strings.Contains(r, "$CI_COMMIT_TAG") || !strings.Contains(r, "DRACON_DISABLED") {
		t.Errorf("release gate rules: %s", r)
	}
}

func TestRules(t *testing.T) {
	jobs := load(t, scanTemplate).render(t, nil)
	for _, name := range []string{"dracon-scan", "dracon-gate"} {
		rules, _ := jobs[name]["rules"].([]any)
		var got []string
		for _, r := range rules {
			m := r.(map[string]any)
			got = append(got, toString(m["if"])+" => "+toString(m["when"]))
		}
		want := []string{
			"$DRACON_DISABLED =~ /^(1|true|yes)$/i => never",
			"$CI_COMMIT_TAG => never",
			`$CI_PIPELINE_SOURCE == "merge_request_event" => `,
			"$CI_COMMIT_BRANCH && $CI_OPEN_MERGE_REQUESTS => never",
			"$CI_COMMIT_BRANCH => ",
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s rules:\n got %q\nwant %q", name, got, want)
		}
	}
}

// reportFiles are the files GitLab's reports name (internal/consumers/gitlab).
var reportFiles = map[string]string{
	"sast":                "gl-sast-report.json",
	"secret_detection":    "gl-secret-detection-report.json",
	"dependency_scanning": "gl-dependency-scanning-report.json",
	"container_scanning":  "gl-container-scanning-report.json",
	"codequality":         "gl-code-quality-report.json",
	"cyclonedx":           "gl-sbom-*.cdx.json",
}

func TestArtifacts(t *testing.T) {
	scan := load(t, scanTemplate).render(t, nil)["dracon-scan"]
	a, _ := scan["artifacts"].(map[string]any)
	if a["when"] != "always" {
		t.Errorf("artifacts when %v, want always (a policy failure must not lose the reports)", a["when"])
	}
	var paths []string
	for _, p := range a["paths"].([]any) {
		s := p.(string)
		paths = append(paths, s)
		if filepath.IsAbs(s) || strings.Contains(s, "$") || strings.Contains(s, "..") {
			t.Errorf("artifact path %q is not relative", s)
		}
	}
	reports, _ := a["reports"].(map[string]any)
	for kind, file := range reportFiles {
		if reports[kind] != file {
			t.Errorf("reports.%s = %v, want %s", kind, reports[kind], file)
		}
		if !slices.Contains(paths, file) {
			t.Errorf("%s is in reports, not in paths: GitLab would not keep it browsable, gitlab-ci-local would not pass it on", file)
		}
	}
	if _, ok := reports["sarif"]; ok {
		t.Error("reports.sarif: gitlab-ci-local 4.73.0 rejects it, and GitLab takes it only from 18.11 (Ultimate)")
	}
	for _, want := range []string{"summary.json", "dracon.sarif", ".dracon/runs/", "dracon-exit-code"} {
		if !slices.Contains(paths, want) {
			t.Errorf("artifacts lack %s", want)
		}
	}
}

func keys(m map[string]map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func script(job map[string]any) string {
	var b strings.Builder
	for _, l := range job["script"].([]any) {
		b.WriteString(l.(string))
		b.WriteString("\n")
	}
	return b.String()
}

func rulesText(job map[string]any) string {
	b, _ := yaml.Marshal(job["rules"])
	return string(b)
}

// runScript runs a job's script as GitLab's runner does (bash, errexit,
// pipefail) in dir with a fake dracon first on PATH.
func runScript(t *testing.T, job map[string]any, dir string, env ...string) (int, string) {
	t.Helper()
	cmd := exec.Command("bash", "-c", "set -eo pipefail\n"+script(job))
	cmd.Dir = dir
	vars := job["variables"].(map[string]any)
	cmd.Env = append(os.Environ(), "PATH="+dir+"/bin:"+os.Getenv("PATH"))
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+toString(v))
	}
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(out)
	} else if err != nil {
		t.Fatal(err)
	}
	return 0, string(out)
}

// fakeDracon logs its arguments and exits with $FAKE_RUN / $FAKE_GATE.
const fakeDracon = `#!/bin/sh
echo "fake dracon $*" >> "$PWD/calls.log"
case "$1" in
  run) echo '{"verdict":"x"}' > summary.json; exit "${FAKE_RUN:-0}" ;;
  gate) exit "${FAKE_GATE:-0}" ;;
  gitlab) echo "note posted"; exit "${FAKE_NOTE:-0}" ;;
esac
`

func fakeDir(t *testing.T) string {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bin", "dracon"), []byte(fakeDracon), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// The scan job exits 0 whenever the scan completed (dracon run 0 or 1), so
// GitLab ingests its reports; the gate job carries the verdict.
func TestScanExitCodes(t *testing.T) {
	c := load(t, scanTemplate)
	scan := c.render(t, nil)["dracon-scan"]
	for run, want := range map[int]int{0: 0, 1: 0, 2: 2, 3: 3} {
		dir := fakeDir(t)
		code, out := runScript(t, scan, dir, "FAKE_RUN="+itoa(run))
		if code != want {
			t.Errorf("dracon run exit %d: scan job exit %d, want %d\n%s", run, code, want, out)
		}
		if b, _ := os.ReadFile(filepath.Join(dir, "dracon-exit-code")); strings.TrimSpace(string(b)) != itoa(run) {
			t.Errorf("dracon-exit-code %q, want %d", b, run)
		}
	}
	// In a merge request, the note is posted and its failure never fails the job.
	dir := fakeDir(t)
	code, out := runScript(t, scan, dir, "FAKE_RUN=1", "FAKE_NOTE=2", "CI_MERGE_REQUEST_IID=7")
	calls, _ := os.ReadFile(filepath.Join(dir, "calls.log"))
	if code != 0 || !strings.Contains(string(calls), "fake dracon gitlab note --summary summary.json") {
		t.Errorf("MR note: exit %d, calls %s\n%s", code, calls, out)
	}
	dir = fakeDir(t)
	runScript(t, c.render(t, map[string]string{"mr-note": "false"})["dracon-scan"], dir, "CI_MERGE_REQUEST_IID=7")
	if calls, _ := os.ReadFile(filepath.Join(dir, "calls.log")); strings.Contains(string(calls), "gitlab note") {
		t.Errorf("mr-note false still posts: %s", calls)
	}
	// The inputs become flags.
	dir = fakeDir(t)
	scan = c.render(t, map[string]string{"fail-on": "high", "policy": "policies/,builtin:default", "diff-filter": "added", "baseline-ref": "main", "new-only": "true", "source": "app"})["dracon-scan"]
	runScript(t, scan, dir)
	calls, _ = os.ReadFile(filepath.Join(dir, "calls.log"))
	if want := "fake dracon run --source app --out . --run-dir .dracon/runs --policy policies/ --policy builtin:default --fail-on high --new-only --baseline-ref main --diff-filter added"; strings.TrimSpace(string(calls)) != want {
		t.Errorf("dracon run's flags:\n got %s\nwant %s", calls, want)
	}
	// producers and reports become flags over the project's config, which
	// keeps each producer's own block.
	dir = fakeDir(t)
	scan = c.render(t, map[string]string{"producers": "gosec,gitleaks", "reports": "sast,codequality"})["dracon-scan"]
	os.WriteFile(filepath.Join(dir, "dracon.yaml"), []byte("version: 1\n"), 0o644)
	if code, out := runScript(t, scan, dir); code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	calls, _ = os.ReadFile(filepath.Join(dir, "calls.log"))
	if want := "fake dracon run --source . --out . --run-dir .dracon/runs --producers gosec,gitleaks --gitlab-reports sast,codequality"; strings.TrimSpace(string(calls)) != want {
		t.Errorf("dracon run's flags:\n got %s\nwant %s", calls, want)
	}
	if _, err := os.Stat(filepath.Join(dir, ".dracon-ci.yaml")); err == nil {
		t.Error("the scan job still writes a temporary config")
	}
}

func TestGateExitCodes(t *testing.T) {
	gate := load(t, scanTemplate).render(t, nil)["dracon-gate"]
	for _, code := range []int{0, 1, 2} {
		dir := fakeDir(t)
		os.WriteFile(filepath.Join(dir, "summary.json"), []byte("{}"), 0o644)
		if got, out := runScript(t, gate, dir, "FAKE_GATE="+itoa(code)); got != code {
			t.Errorf("dracon gate exit %d: gate job exit %d\n%s", code, got, out)
		}
		calls, _ := os.ReadFile(filepath.Join(dir, "calls.log"))
		if want := "fake dracon gate --source . --policy builtin:default summary.json"; strings.TrimSpace(string(calls)) != want {
			t.Errorf("gate call %q, want %q", calls, want)
		}
	}
	dir := fakeDir(t)
	if got, _ := runScript(t, gate, dir); got != 2 {
		t.Errorf("no summary.json: exit %d, want 2", got)
	}
}

func itoa(n int) string { return string(rune('0' + n)) }
