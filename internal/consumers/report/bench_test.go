package report

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/draconsec/dracon/internal/consumers"
)

// BenchmarkRender10000 renders the report of a 10,000-finding run: the
// time per report, and its size (bytes/report), which the compact rows
// keep to a file a browser opens and a mail attaches.
func BenchmarkRender10000(b *testing.B) {
	run := largeRun(b, 10000)
	findings := consumers.Select(consumers.Flatten(run.Results), newBenchConsumer(b).filter)
	c := newBenchConsumer(b)
	var size int
	b.ReportAllocs()
	for b.Loop() {
		html, err := c.Render(run, findings)
		if err != nil {
			b.Fatal(err)
		}
		size = len(html)
	}
	b.ReportMetric(float64(size), "bytes/report")
	b.ReportMetric(float64(len(findings)), "findings")
}

// BenchmarkPDF10000 prints the 10,000-finding report with the browser:
// what pdf: true adds to a large run (pdf-bytes/report, pages/report).
func BenchmarkPDF10000(b *testing.B) {
	browser := requireBrowser(b)
	run := largeRun(b, 10000)
	c := newBenchConsumer(b)
	html, err := c.Render(run, consumers.Select(consumers.Flatten(run.Results), c.filter))
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	htmlPath, pdfPath := filepath.Join(dir, "r.html"), filepath.Join(dir, "r.pdf")
	if err := os.WriteFile(htmlPath, html, 0o644); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		err := printToPDF(ctx, browser, htmlPath, pdfPath)
		cancel()
		if err != nil {
			b.Fatal(err)
		}
	}
	pdf, err := os.ReadFile(pdfPath)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(len(pdf)), "pdf-bytes/report")
	b.ReportMetric(float64(pageCount(pdf)), "pages/report")
}

func newBenchConsumer(b *testing.B) *Consumer {
	c, err := New(reportConfig(), consumers.Env{})
	if err != nil {
		b.Fatal(err)
	}
	c.Now = func() time.Time { return generated }
	return c
}
