package report

import (
	"bytes"
	"context"
	"flag"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/draconsec/dracon/internal/consumers"
	"github.com/draconsec/dracon/internal/consumers/consumertest"
)

// shots keeps the screenshots and PDFs the browser tests make, for a
// person to look at: go test -run Browser -shots /tmp/shots.
var shots = flag.String("shots", "", "folder to keep the browser tests' screenshots and PDFs in")

// requireBrowser is the browser the tests print with. Missing, the test
// fails when DRACON_REQUIRE_TOOLS is set (as .ci/run sets it) and is
// skipped otherwise, as the scanner tests do
// (producertest.RequireTool): a developer without Chromium still gets a
// useful go test, and CI never skips.
func requireBrowser(tb testing.TB) string {
	tb.Helper()
	b, err := findBrowser("", os.Getenv("PATH"))
	if err == nil {
		return b
	}
	msg := "no headless browser to test the report's PDF and screenshot with; install one with: apt-get install chromium (" + err.Error() + ")"
	if os.Getenv("DRACON_REQUIRE_TOOLS") != "" {
		tb.Fatal(msg)
	}
	tb.Skip(msg)
	return ""
}

// pathEnv is a test environment whose PATH is the process's, for the
// consumer to find the browser on.
func pathEnv(t testing.TB, log *bytes.Buffer) consumers.Env {
	return consumertest.Env(t, map[string]string{"PATH": os.Getenv("PATH")}, log)
}

// TestBrowserRendersReport shows the report to a browser as a person
// opens it and prints it: the screenshot must be a page of the width
// asked with something on it, the PDF a PDF with pages.
func TestBrowserRendersReport(t *testing.T) {
	browser := requireBrowser(t)
	for _, tc := range []struct {
		name string
		run  *consumers.Run
	}{
		{"run", consumertest.Run(t)},
		{"audit", auditRun(t)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if *shots != "" {
				dir = *shots
			}
			var log bytes.Buffer
			c, err := New(reportConfig("pdf: required"), pathEnv(t, &log))
			if err != nil {
				t.Fatal(err)
			}
			c.Dir, c.Now, c.Exceptions = dir, func() time.Time { return generated }, auditExceptions
			c.path = tc.name + ".html"
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			d, err := c.Publish(ctx, tc.run, consumers.Select(consumers.Flatten(tc.run.Results), c.filter))
			if err != nil || d.Failed > 0 {
				t.Fatalf("publish: %v %+v\n%s", err, d, log.String())
			}
			checkPDF(t, c.PDFPath(), 2)

			shot := filepath.Join(dir, tc.name+".png")
			if err := runBrowser(ctx, browser, c.HTMLPath(), "--screenshot="+shot, "--window-size=1280,2000", "--hide-scrollbars"); err != nil {
				t.Fatal(err)
			}
			checkScreenshot(t, shot, 1280, 2000)
		})
	}
}

// checkPDF: the file is a PDF of at least minPages pages.
func checkPDF(t *testing.T, path string, minPages int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("%PDF-")) || len(b) < 10_000 {
		t.Fatalf("%s: not a PDF with something in it (%d bytes, starts %q)", path, len(b), b[:min(len(b), 8)])
	}
	n := pageCount(b)
	if n < minPages {
		t.Errorf("%s: %d pages, want at least %d", path, n, minPages)
	}
	if leaves := len(regexp.MustCompile(`/Type /Page\b`).FindAll(b, -1)); leaves != n {
		t.Errorf("%s: the page tree counts %d pages but holds %d", path, n, leaves)
	}
	// Every page A4 landscape (297 x 210 mm: 842 x 595 points), as the
	// page's @page asks.
	boxes := regexp.MustCompile(`/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]`).FindAllSubmatch(b, -1)
	if len(boxes) == 0 {
		t.Errorf("%s: no page size", path)
	}
	for _, box := range boxes {
		w, _ := strconv.ParseFloat(string(box[1]), 64)
		h, _ := strconv.ParseFloat(string(box[2]), 64)
		if math.Abs(w-842) > 2 || math.Abs(h-595) > 2 {
			t.Errorf("%s: a page of %.1f x %.1f points, not A4 landscape (842 x 595)", path, w, h)
		}
	}
}

// pageCount is a PDF's number of pages: Chromium (Skia) writes its page
// tree uncompressed, a tree of /Type /Pages nodes whose root's /Count,
// the largest, counts every page.
func pageCount(pdf []byte) int {
	most := 0
	for _, m := range regexp.MustCompile(`/Count (\d+)`).FindAllSubmatch(pdf, -1) {
		if n, _ := strconv.Atoi(string(m[1])); n > most {
			most = n
		}
	}
	return most
}

// checkScreenshot: a PNG of the size asked, not one flat colour, with
// both the verdict's colour and text's dark ink in it.
func checkScreenshot(t *testing.T, path string, w, h int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		t.Fatalf("%s: %dx%d, want %dx%d", path, b.Dx(), b.Dy(), w, h)
	}
	colours := map[[3]uint32]int{}
	dark := 0
	for y := 0; y < h; y += 3 {
		for x := 0; x < w; x += 3 {
			r, g, b, _ := img.At(x, y).RGBA()
			colours[[3]uint32{r >> 8, g >> 8, b >> 8}]++
			if r>>8 < 80 && g>>8 < 80 && b>>8 < 80 {
				dark++
			}
		}
	}
	if len(colours) < 20 {
		t.Errorf("%s: %d colours: the page is (nearly) blank", path, len(colours))
	}
	if dark < 500 {
		t.Errorf("%s: %d dark pixels sampled: no text to read", path, dark)
	}
}
