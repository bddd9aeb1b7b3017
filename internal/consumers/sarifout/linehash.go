package sarifout

import (
	"io"
	"os"
	"strconv"
)

// primaryLocationLineHash is the partial fingerprint GitHub code scanning
// tracks an alert by between uploads. github/codeql-action
// (src/fingerprints.ts) computes it when it uploads a file that lacks it;
// a SARIF file sent to the API directly must carry it, or its alerts may
// be duplicated. This is the same computation, written from its
// description and checked against its test vectors
// (testdata/linehash/README.md):
//
//   - The file is read as JavaScript reads it: decoded from UTF-8 (each
//     malformed sequence one U+FFFD, as the WHATWG decoder Node uses does)
//     and walked as UTF-16 code units, not bytes or runes.
//   - Spaces and tabs are skipped; CR and CRLF count as one LF.
//   - A line's hash is a rolling polynomial hash (factor 37, wrapping at
//     64 bits) of the 100 characters from the line's first one, the LFs
//     included. The input ends with the code unit 65535, then zeros.
//   - It is written as lowercase hex without padding, then ":n", n
//     counting how often that value has been seen so far in the file, so
//     identical lines stay apart.
const (
	lineHashBlock = 100
	lineHashMod   = 37
	lineHashEOF   = 65535
)

// lineHashFirstMod is 37^100 wrapped to 64 bits: the weight of the code
// unit leaving the window.
var lineHashFirstMod = func() uint64 {
	m := uint64(1)
	for range lineHashBlock {
		m *= lineHashMod
	}
	return m
}()

// lineHasher is the rolling hash's state.
type lineHasher struct {
	window [lineHashBlock]uint16
	// starts[i] is the line starting at window[i], or 0.
	starts    [lineHashBlock]int
	hash      uint64
	index     int
	line      int
	lineStart bool
	prevCR    bool
	counts    map[uint64]int
	// emit gets each line's hash and occurrence number, in line order;
	// it returns false to stop.
	emit func(line int, hash uint64, n int) bool
	done bool
}

func newLineHasher(emit func(line int, hash uint64, n int) bool) *lineHasher {
	return &lineHasher{lineStart: true, counts: map[uint64]int{}, emit: emit}
}

func (h *lineHasher) output() {
	n := h.counts[h.hash] + 1
	h.counts[h.hash] = n
	if !h.emit(h.starts[h.index], h.hash, n) {
		h.done = true
	}
	h.starts[h.index] = 0
}

func (h *lineHasher) update(c uint16) {
	out := h.window[h.index]
	h.window[h.index] = c
	h.hash = lineHashMod*h.hash + uint64(c) - lineHashFirstMod*uint64(out)
	h.index++
	if h.index == lineHashBlock {
		h.index = 0
	}
}

// unit takes one UTF-16 code unit of the input.
func (h *lineHasher) unit(c uint16) {
	if c == ' ' || c == '\t' || h.prevCR && c == '\n' {
		h.prevCR = false
		return
	}
	h.prevCR = c == '\r'
	if h.prevCR {
		c = '\n'
	}
	if h.starts[h.index] != 0 {
		h.output()
	}
	if h.lineStart {
		h.lineStart = false
		h.line++
		h.starts[h.index] = h.line
	}
	if c == '\n' {
		h.lineStart = true
	}
	h.update(c)
}

// finish ends the input and gives the last lines their hashes.
func (h *lineHasher) finish() {
	h.unit(lineHashEOF)
	for range lineHashBlock {
		if h.done {
			return
		}
		if h.starts[h.index] != 0 {
			h.output()
		}
		h.update(0)
	}
}

// utf16Reader decodes UTF-8 into code units for a lineHasher, across
// chunk boundaries, replacing malformed input as the WHATWG UTF-8
// decoder does: one U+FFFD for each maximal prefix of a valid sequence,
// and for each byte that starts none.
type utf16Reader struct {
	h      *lineHasher
	cp     rune
	need   int // continuation bytes still to come
	lo, hi byte
}

func (d *utf16Reader) rune(r rune) {
	if r < 0x10000 {
		d.h.unit(uint16(r))
		return
	}
	r -= 0x10000
	d.h.unit(uint16(0xD800 + r>>10))
	d.h.unit(uint16(0xDC00 + r&0x3FF))
}

func (d *utf16Reader) write(p []byte) {
	for i := 0; i < len(p) && !d.h.done; i++ {
		b := p[i]
		if d.need == 0 {
			switch {
			case b < 0x80:
				d.h.unit(uint16(b))
			case b >= 0xC2 && b <= 0xDF:
				d.need, d.cp = 1, rune(b&0x1F)
			case b >= 0xE0 && b <= 0xEF:
				if b == 0xE0 {
					d.lo = 0xA0
				}
				if b == 0xED {
					d.hi = 0x9F
				}
				d.need, d.cp = 2, rune(b&0x0F)
			case b >= 0xF0 && b <= 0xF4:
				if b == 0xF0 {
					d.lo = 0x90
				}
				if b == 0xF4 {
					d.hi = 0x8F
				}
				d.need, d.cp = 3, rune(b&0x07)
			default:
				d.h.unit(0xFFFD)
			}
			continue
		}
		if b < d.lo || b > d.hi {
			// The sequence ends short: one replacement for it, and b
			// starts afresh.
			d.reset()
			d.h.unit(0xFFFD)
			i--
			continue
		}
		d.lo, d.hi = 0x80, 0xBF
		d.cp = d.cp<<6 | rune(b&0x3F)
		d.need--
		if d.need == 0 {
			d.rune(d.cp)
		}
	}
}

func (d *utf16Reader) reset() { d.need, d.cp, d.lo, d.hi = 0, 0, 0x80, 0xBF }

func (d *utf16Reader) close() {
	if d.need > 0 && !d.h.done {
		d.reset()
		d.h.unit(0xFFFD)
	}
	if !d.h.done {
		d.h.finish()
	}
}

// FormatLineHash writes a line hash as code scanning reads it.
func FormatLineHash(hash uint64, n int) string {
	b := strconv.AppendUint(make([]byte, 0, 24), hash, 16)
	b = append(b, ':')
	return string(strconv.AppendInt(b, int64(n), 10))
}

// LineHashes reads a file's text from r and calls each with every line's
// primaryLocationLineHash, in order (lines count from 1; a file ending in
// a newline has one more, empty, line, as codeql-action counts). each
// returns false to stop reading.
func LineHashes(r io.Reader, each func(line int, hash string) bool) error {
	return lineHashes(r, func(line int, hash uint64, n int) bool {
		return each(line, FormatLineHash(hash, n))
	})
}

func lineHashes(r io.Reader, emit func(line int, hash uint64, n int) bool) error {
	h := newLineHasher(emit)
	d := &utf16Reader{h: h}
	d.reset()
	buf := make([]byte, 64<<10)
	for !h.done {
		n, err := r.Read(buf)
		d.write(buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	d.close()
	return nil
}

// StringLineHashes is LineHashes of a string's UTF-8.
func StringLineHashes(s string) []string {
	var out []string
	d := &utf16Reader{h: newLineHasher(func(_ int, hash uint64, n int) bool {
		out = append(out, FormatLineHash(hash, n))
		return true
	})}
	d.reset()
	d.write([]byte(s))
	d.close()
	return out
}

// fileLineHashes is the hashes of the given lines (sorted, at least 1)
// of the file at path, or nil when it cannot be read: not there, not a
// regular file (a folder, a device, a pipe), or unreadable. codeql-action
// leaves such a result without a line hash, and so does the writer.
// Reading stops at the last line wanted.
func fileLineHashes(path string, lines []int) map[int]string {
	st, err := os.Stat(path)
	if err != nil || !st.Mode().IsRegular() {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	out := make(map[int]string, len(lines))
	next := 0
	err = lineHashes(f, func(line int, hash uint64, n int) bool {
		for next < len(lines) && lines[next] < line {
			next++
		}
		if next < len(lines) && lines[next] == line {
			out[line] = FormatLineHash(hash, n)
			next++
		}
		return next < len(lines)
	})
	if err != nil {
		return nil
	}
	return out
}
