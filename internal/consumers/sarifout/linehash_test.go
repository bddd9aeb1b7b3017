package sarifout

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf16"
	"unicode/utf8"
)

// TestLineHashVectors: codeql-action's own test vectors
// (src/fingerprints.test.ts, test "hash"; testdata/linehash/README.md).
func TestLineHashVectors(t *testing.T) {
	var vectors []struct {
		Input    string   `json:"input"`
		Expected []string `json:"expected"`
	}
	readJSON(t, "testdata/linehash/vectors.json", &vectors)
	if len(vectors) != 9 {
		t.Fatalf("%d vectors, want codeql-action's 9", len(vectors))
	}
	for _, v := range vectors {
		checkHashes(t, v.Input, []byte(v.Input), v.Expected)
	}
}

// TestLineHashNode: vectors made by running codeql-action's hash() itself
// under node on what its tests do not cover: malformed UTF-8 (which node
// replaces as the WHATWG decoder does), a BOM, characters outside the
// BMP, U+FFFF, lone CRs, long lines, and sequences cut by its 64 KiB reads.
func TestLineHashNode(t *testing.T) {
	var vectors struct {
		Generator string `json:"generator"`
		Cases     []struct {
			Name  string `json:"name"`
			Parts []struct {
				Base64 string `json:"base64"`
				Repeat int    `json:"repeat"`
			} `json:"parts"`
			Expected []string `json:"expected"`
		} `json:"cases"`
	}
	readJSON(t, "testdata/linehash/node-vectors.json", &vectors)
	if len(vectors.Cases) < 16 {
		t.Fatalf("%d cases", len(vectors.Cases))
	}
	for _, c := range vectors.Cases {
		var in []byte
		for _, p := range c.Parts {
			b, err := base64.StdEncoding.DecodeString(p.Base64)
			if err != nil {
				t.Fatal(err)
			}
			in = append(in, bytes.Repeat(b, p.Repeat)...)
		}
		checkHashes(t, c.Name, in, c.Expected)
	}
}

// checkHashes holds every way of hashing in to want: a string, a reader
// giving a byte at a time (sequences cut anywhere), a file.
func checkHashes(t *testing.T, name string, in []byte, want []string) {
	t.Helper()
	if got := StringLineHashes(string(in)); !slices.Equal(got, want) {
		t.Errorf("%q: hashes\n got %v\nwant %v", name, got, want)
		return
	}
	var got []string
	err := LineHashes(iotest.OneByteReader(bytes.NewReader(in)), func(line int, h string) bool {
		if line != len(got)+1 {
			t.Fatalf("%q: line %d after %d lines", name, line, len(got))
		}
		got = append(got, h)
		return true
	})
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("%q: a byte at a time: %v %v", name, got, err)
	}
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, in, 0o644); err != nil {
		t.Fatal(err)
	}
	lines := []int{1, len(want)}
	if len(want) > 2 {
		lines = []int{1, len(want) / 2, len(want)}
	}
	lines = slices.Compact(lines)
	hs := fileLineHashes(path, lines)
	for _, l := range lines {
		if hs[l] != want[l-1] {
			t.Errorf("%q: line %d of the file: %q, want %q", name, l, hs[l], want[l-1])
		}
	}
}

// TestLineHashFixtures: codeql-action's end-to-end test (addFingerprints
// on fingerprinting*.input.sarif against the files beside them): the
// writer gives the results the hashes the expected files have, and none
// to a result without a region.
func TestLineHashFixtures(t *testing.T) {
	dir := "testdata/linehash"
	for _, c := range []struct {
		file string
		line int
		want string
	}{{"testFile1.js", 1, "5e4d5a9cf1294ad9:1"}, {"testFile2.js", 2, "f7592a95a9381ac0:1"}} {
		if got := fileLineHashes(filepath.Join(dir, c.file), []int{c.line}); got[c.line] != c.want {
			t.Errorf("%s:%d: %q, want %q", c.file, c.line, got[c.line], c.want)
		}
	}
	// The expected files say the same.
	type log struct {
		Runs []struct {
			Results []struct {
				PartialFingerprints map[string]string `json:"partialFingerprints"`
			} `json:"results"`
		} `json:"runs"`
	}
	var expected, expected2 log
	readJSON(t, filepath.Join(dir, "fingerprinting.expected.sarif"), &expected)
	if got := expected.Runs[0].Results[1].PartialFingerprints["primaryLocationLineHash"]; got != "f7592a95a9381ac0:1" {
		t.Errorf("the expected file has %q", got)
	}
	readJSON(t, filepath.Join(dir, "fingerprinting2.expected.sarif"), &expected2)
	if len(expected2.Runs[0].Results[0].PartialFingerprints) != 0 {
		t.Errorf("codeql-action gives a result without a region a line hash")
	}
	if got := fileLineHashes(filepath.Join(dir, "missing.js"), []int{1}); got != nil {
		t.Errorf("a missing file has hashes %v", got)
	}
	if got := fileLineHashes(dir, []int{1}); got != nil {
		t.Errorf("a folder has hashes %v", got)
	}
}

// TestLineHashStopsEarly: a file is read no further than its last line
// wanted (plus the window).
func TestLineHashStopsEarly(t *testing.T) {
	big := strings.Repeat("some line of code\n", 100_000)
	r := &countingReader{r: strings.NewReader(big)}
	n := 0
	if err := LineHashes(r, func(line int, _ string) bool { n = line; return line < 3 }); err != nil {
		t.Fatal(err)
	}
	if n != 3 || r.n > 64<<10 {
		t.Errorf("stopped at line %d after %d bytes", n, r.n)
	}
}

type countingReader struct {
	r interface{ Read([]byte) (int, error) }
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// FuzzLineHash checks the rolling hash against a direct reading of its
// definition, on valid text, and on any input that chunked and whole
// reads agree and every line gets one hash.
func FuzzLineHash(f *testing.F) {
	var vectors []struct {
		Input string `json:"input"`
	}
	data, err := os.ReadFile("testdata/linehash/vectors.json")
	if err != nil {
		f.Fatal(err)
	}
	if err := json.Unmarshal(data, &vectors); err != nil {
		f.Fatal(err)
	}
	for _, v := range vectors {
		f.Add([]byte(v.Input))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		got := StringLineHashes(string(in))
		var chunked []string
		if err := LineHashes(iotest.HalfReader(bytes.NewReader(in)), func(_ int, h string) bool {
			chunked = append(chunked, h)
			return true
		}); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, chunked) {
			t.Fatalf("chunked reads differ:\n%v\n%v", got, chunked)
		}
		if !utf8.Valid(in) {
			return
		}
		want := directLineHashes(utf16.Encode([]rune(string(in))))
		if !slices.Equal(got, want) {
			t.Fatalf("%q:\n got %v\nwant %v", in, got, want)
		}
		// codeql-action's test: one hash per line as JavaScript splits them.
		if n := len(regexp.MustCompile(`\r\n|\r|\n`).Split(string(in), -1)); len(got) != n {
			t.Fatalf("%q: %d hashes for %d lines", in, len(got), n)
		}
	})
}

// directLineHashes computes the hashes from their definition: the
// characters kept (no spaces or tabs, CR and CRLF as LF) then 65535 then
// zeros; each line's hash is sum c[p+k]*37^(99-k) over the 100 characters
// from its start p, wrapped at 64 bits.
func directLineHashes(units []uint16) []string {
	var seq []uint64
	prevCR := false
	for _, c := range units {
		if c == ' ' || c == '\t' || prevCR && c == '\n' {
			prevCR = false
			continue
		}
		prevCR = c == '\r'
		if prevCR {
			c = '\n'
		}
		seq = append(seq, uint64(c))
	}
	seq = append(seq, lineHashEOF)
	starts := []int{0}
	for i, c := range seq[:len(seq)-1] {
		if c == '\n' {
			starts = append(starts, i+1)
		}
	}
	seq = append(seq, make([]uint64, lineHashBlock)...)
	counts := map[uint64]int{}
	var out []string
	for _, p := range starts {
		var h uint64
		for k := range lineHashBlock {
			h = h*lineHashMod + seq[p+k]
		}
		counts[h]++
		out = append(out, FormatLineHash(h, counts[h]))
	}
	return out
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
