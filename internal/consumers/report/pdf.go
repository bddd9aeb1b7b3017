package report

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/draconsec/dracon/internal/runner"
)

// Browsers are the names looked for on PATH, in order, when
// consumers.report.browser is not set: Debian's and Fedora's Chromium,
// Ubuntu's and older distributions', Google's Chrome.
var Browsers = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// printTimeout bounds a print with no deadline of its own. A delivery
// always has one (consumers.report.timeout, default 2m), and a large
// report needs it raised: a 10,000-finding report is some 700 A4 pages,
// which took Chromium 70 to 100 s on a loaded two-core machine.
const printTimeout = 10 * time.Minute

// findBrowser is the browser to print with: the configured one (a path,
// or a name on PATH), else the first of Browsers on PATH. The PATH is
// the run's environment's, not the process's, so a test can give none.
func findBrowser(configured, path string) (string, error) {
	if configured != "" {
		if p, ok := lookPath(configured, path); ok {
			return p, nil
		}
		return "", fmt.Errorf("consumers.report.browser %q is not an executable file (nor a name on PATH)", configured)
	}
	for _, name := range Browsers {
		if p, ok := lookPath(name, path); ok {
			return p, nil
		}
	}
	return "", fmt.Errorf("no headless browser found: none of %s is on PATH; install one (apt-get install chromium) or set consumers.report.browser",
		strings.Join(Browsers, ", "))
}

// lookPath finds name as exec.LookPath does, in the PATH given.
func lookPath(name, path string) (string, bool) {
	if strings.ContainsRune(name, filepath.Separator) {
		return name, executable(name)
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			continue // an empty entry means the working folder: not looked in, as exec.LookPath does not
		}
		p := filepath.Join(dir, name)
		if executable(p) {
			return p, true
		}
	}
	return "", false
}

func executable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// printToPDF prints htmlPath to pdfPath with a headless browser, through
// a temporary file renamed into place: a failed print leaves the last
// PDF as it was.
func printToPDF(ctx context.Context, browser, htmlPath, pdfPath string) error {
	// The browser runs in its own profile folder: a relative path would
	// be written there, and lost.
	pdfPath, err := filepath.Abs(pdfPath)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(pdfPath), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(pdfPath), ".dracon-report-*.pdf")
	if err != nil {
		return err
	}
	tmp := f.Name()
	f.Close()
	defer os.Remove(tmp)
	// --no-pdf-header-footer: the page's own footer (@page) says what
	// the file is and numbers the pages; Chrome's would add a file://
	// address and a date of its own.
	if err := runBrowser(ctx, browser, htmlPath, "--print-to-pdf="+tmp, "--no-pdf-header-footer"); err != nil {
		return err
	}
	b, err := os.ReadFile(tmp)
	if err != nil {
		return err
	}
	if !bytes.HasPrefix(b, []byte("%PDF-")) {
		return fmt.Errorf("%s wrote no PDF (%d bytes)", browser, len(b))
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, pdfPath)
}

// runBrowser runs the browser headless on the HTML file with the extra
// arguments (what to make of it), in a profile of its own that is
// removed afterwards.
//
// The flags: --headless (Chrome's headless mode, the whole browser);
// --no-sandbox, because CI jobs run as root and Chromium refuses to
// sandbox as root (the page is our own file, with no script, and its
// Content-Security-Policy fetches nothing); --disable-gpu, as CI has
// none; and the rest keep a browser that is only to print from phoning
// home: no QUIC, no first-run, no background networking, component
// updates or sync.
func runBrowser(ctx context.Context, browser, htmlPath string, extra ...string) error {
	abs, err := filepath.Abs(htmlPath)
	if err != nil {
		return err
	}
	profile, err := os.MkdirTemp("", "dracon-report-browser-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(profile)
	args := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions",
		"--user-data-dir=" + profile}, extra...)
	args = append(args, (&url.URL{Scheme: "file", Path: abs}).String())
	stderr := filepath.Join(profile, "stderr")
	// The job's timeout is the delivery's deadline, so that its message
	// says how long it waited.
	timeout := printTimeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = max(time.Until(dl).Round(time.Millisecond), time.Millisecond)
	}
	res := runner.Local{}.Run(ctx, runner.Job{Name: filepath.Base(browser), Path: browser, Args: args, Dir: profile,
		// HOME and XDG folders in the profile: nothing of the user's
		// own browser settings is read, nothing is left in their home.
		Env:    []string{"HOME=" + profile, "XDG_CONFIG_HOME=" + profile, "XDG_CACHE_HOME=" + profile},
		Stderr: stderr, Timeout: timeout})
	if res.Err != nil {
		return res.Err
	}
	if res.ExitCode != 0 {
		return fmt.Errorf("%s exited with code %d: %s", filepath.Base(browser), res.ExitCode, lastLines(stderr, 3))
	}
	return nil
}

// lastLines are the last n lines of a file that say something: a
// browser's stderr is mostly noise (D-Bus, GPU), its reason for failing
// at the end.
func lastLines(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(no error output)"
	}
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.Contains(l, "dbus") {
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 {
		return "(no error output)"
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "; ")
}
