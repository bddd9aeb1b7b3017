// Package report writes the auditors' report of a run: one HTML file,
// its styles inline, no script and nothing fetched, that opens offline
// and prints well, and, where a headless Chromium or Chrome is found, a
// PDF printed from it. It is the record that a scan ran: what was
// scanned, by which producers, what the policies decided and why, and
// every finding, with the suppressed ones and their reasons apart.
//
// Finding titles and descriptions are text from the scanned code, that
// is, an attacker's: html/template escapes every value where it lands,
// and the page's Content-Security-Policy allows no script and no fetch,
// should anything slip through.
package report

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/draconsec/dracon/internal/config"
	"github.com/draconsec/dracon/internal/consumers"
)

// DefaultPath is the report's file name, in the run's output folder.
const DefaultPath = "dracon-report.html"

//go:embed report.html.tmpl
var pageTemplate string

var reportTemplate = template.Must(template.New("report").Parse(pageTemplate))

// Consumer writes the report.
type Consumer struct {
	// Dir is the run's output folder (--out): a relative path is
	// relative to it. New sets it from the environment's Out; empty:
	// the working folder.
	Dir string
	// Exceptions are the policy exceptions of the run's config
	// (policy.exceptions), shown with whether each is in force. The
	// registry sets them: the run does not carry its config.
	Exceptions []config.Exception
	// Now is the report's generation time; tests fix it. Nil: time.Now.
	Now func() time.Time

	path    string
	pdf     config.ReportPDF
	browser string
	filter  config.Filter
	getenv  func(string) string
	log     io.Writer
	version string
}

// New is the report consumer of cfg.
func New(cfg *config.Report, env consumers.Env) (*Consumer, error) {
	if cfg == nil {
		cfg = &config.Report{}
	}
	c := &Consumer{Dir: env.Out, path: cfg.Path, pdf: cfg.PDF, browser: cfg.Browser, filter: cfg.Filter,
		getenv: env.Getenv, log: env.Log, version: env.Version}
	if c.path == "" {
		c.path = DefaultPath
	}
	if ext := strings.ToLower(filepath.Ext(c.path)); ext != ".html" && ext != ".htm" {
		return nil, fmt.Errorf("consumers.report.path: %q does not end in .html or .htm", c.path)
	}
	if c.getenv == nil {
		c.getenv = os.Getenv
	}
	if c.log == nil {
		c.log = io.Discard
	}
	return c, nil
}

func (c *Consumer) String() string { return "report" }

// HTMLPath is where the report is written.
func (c *Consumer) HTMLPath() string { return c.resolve(c.path) }

// PDFPath is where the PDF is written, when one is asked for.
func (c *Consumer) PDFPath() string {
	if c.pdf.Path != "" {
		return c.resolve(c.pdf.Path)
	}
	h := c.HTMLPath()
	return strings.TrimSuffix(h, filepath.Ext(h)) + ".pdf"
}

func (c *Consumer) resolve(p string) string {
	if filepath.IsAbs(p) || c.Dir == "" {
		return p
	}
	return filepath.Join(c.Dir, p)
}

func (c *Consumer) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// Render is the report's HTML: the run, and of its findings those given
// (the filter's).
func (c *Consumer) Render(run *consumers.Run, findings []consumers.Finding) ([]byte, error) {
	_, html, err := c.render(run, findings)
	return html, err
}

func (c *Consumer) render(run *consumers.Run, findings []consumers.Finding) (*page, []byte, error) {
	p := c.build(run, findings, c.now())
	var b bytes.Buffer
	if err := reportTemplate.Execute(&b, p); err != nil {
		return nil, nil, fmt.Errorf("report: %w", err)
	}
	return p, b.Bytes(), nil
}

// Publish writes the report, then prints it to PDF if asked. The HTML
// not written is the delivery failed (an error); a PDF not printed is
// one failed file of the delivery, the HTML still there.
//
// Created and Updated count files: the HTML, and the PDF when printed.
// A re-run writes the same files again: nothing is made twice.
func (c *Consumer) Publish(ctx context.Context, run *consumers.Run, findings []consumers.Finding) (consumers.Delivery, error) {
	var d consumers.Delivery
	if err := ctx.Err(); err != nil {
		return d, err
	}
	p, html, err := c.render(run, findings)
	if err != nil {
		return d, err
	}
	htmlPath := c.HTMLPath()
	old, readErr := os.ReadFile(htmlPath)
	existed := readErr == nil
	htmlSame := existed && bytes.Equal(old, html)
	if run.DryRun != nil {
		return c.dryRun(run.DryRun, p, html, existed, htmlSame)
	}
	switch {
	case htmlSame:
		d.Unchanged++
	default:
		if err := writeAtomic(htmlPath, html); err != nil {
			return d, fmt.Errorf("report: %w", err)
		}
		if existed {
			d.Updated++
		} else {
			d.Created++
		}
	}
	fmt.Fprintf(c.log, "dracon: report: %s (%d findings, %d suppressed)\n", htmlPath, len(p.Findings), len(p.Suppressed))
	if !c.pdf.On {
		return d, nil
	}
	c.printPDF(ctx, htmlPath, htmlSame, &d)
	return d, nil
}

// printPDF prints the report, counting the PDF in d.
func (c *Consumer) printPDF(ctx context.Context, htmlPath string, htmlSame bool, d *consumers.Delivery) {
	pdfPath := c.PDFPath()
	browser, err := findBrowser(c.browser, c.getenv("PATH"))
	if err != nil {
		if c.pdf.Required {
			d.Failed++
			d.Errors = append(d.Errors, "no PDF: "+err.Error())
		} else {
			fmt.Fprintf(c.log, "dracon: report: no PDF: %v (consumers.report.pdf: required makes this an error)\n", err)
		}
		return
	}
	_, statErr := os.Stat(pdfPath)
	if htmlSame && pdfUpToDate(htmlPath, pdfPath) {
		d.Unchanged++
		return
	}
	if err := printToPDF(ctx, browser, htmlPath, pdfPath); err != nil {
		d.Failed++
		d.Errors = append(d.Errors, "no PDF: "+err.Error())
		return
	}
	if statErr == nil {
		d.Updated++
	} else {
		d.Created++
	}
	fmt.Fprintf(c.log, "dracon: report: %s (printed with %s)\n", pdfPath, browser)
}

// dryRun says what the report would hold and where it would go, and
// writes nothing.
func (c *Consumer) dryRun(w io.Writer, p *page, html []byte, existed, same bool) (consumers.Delivery, error) {
	var d consumers.Delivery
	verb := "would create"
	switch {
	case same:
		verb, d.Unchanged = "would leave as it is", 1
	case existed:
		verb, d.Updated = "would replace", 1
	default:
		d.Created = 1
	}
	fmt.Fprintf(w, "report: %s %s (%d bytes)\n", verb, c.HTMLPath(), len(html))
	p.outline(w)
	if !c.pdf.On {
		return d, nil
	}
	browser, err := findBrowser(c.browser, c.getenv("PATH"))
	switch {
	case err != nil && c.pdf.Required:
		fmt.Fprintf(w, "report: would fail to print %s: %v\n", c.PDFPath(), err)
		d.Failed, d.Errors = 1, []string{"no PDF: " + err.Error()}
	case err != nil:
		fmt.Fprintf(w, "report: would write no PDF: %v\n", err)
	case same && pdfUpToDate(c.HTMLPath(), c.PDFPath()):
		fmt.Fprintf(w, "report: would leave as it is %s\n", c.PDFPath())
		d.Unchanged++
	default:
		_, statErr := os.Stat(c.PDFPath())
		verb := "would create"
		if statErr == nil {
			verb = "would replace"
			d.Updated++
		} else {
			d.Created++
		}
		fmt.Fprintf(w, "report: %s %s, printed with %s\n", verb, c.PDFPath(), browser)
	}
	return d, nil
}

// pdfUpToDate: the PDF was printed from the HTML as it is, that is, after
// it was last written. (Called when the HTML would be written the same.)
func pdfUpToDate(htmlPath, pdfPath string) bool {
	pi, err := os.Stat(pdfPath)
	if err != nil {
		return false
	}
	hi, err := os.Stat(htmlPath)
	return err == nil && !pi.ModTime().Before(hi.ModTime())
}

// writeAtomic writes data to path through a temporary file in the same
// folder, renamed over it: a reader (or an interrupted run) never sees
// half a report.
func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".dracon-report-*"+filepath.Ext(path))
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	cerr := f.Close()
	if err := errors.Join(werr, cerr, os.Chmod(tmp, 0o644)); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

var _ consumers.Publisher = (*Consumer)(nil)
