package sarifout

import (
	"bufio"
	"cmp"
	"compress/gzip"
	"io"
)

// UploadGzipLevel is the compression WriteGzip and CompactGzip use, and
// so the one Fit measures the limit on: the default level, as
// codeql-action's upload (zlib.gzipSync) uses.
const UploadGzipLevel = gzip.DefaultCompression

// WriteCompact writes the log as compact JSON, as code scanning's upload
// takes it (codeql-action sends JSON.stringify of the log): Write's
// document without its indentation, the same bytes json.Marshal writes.
func (l *Log) WriteCompact(w io.Writer) error {
	return l.writeTo(w, true)
}

// WriteGzip writes the compact log gzipped, as the upload API's sarif
// field wants it before base64, and says how many bytes that is: the
// size GitHub's 10 MB limit is on, and that Fit measured.
func (l *Log) WriteGzip(w io.Writer) (int64, error) {
	cw := &countWriter{w: w}
	zw, err := gzip.NewWriterLevel(cw, UploadGzipLevel)
	if err != nil {
		return 0, err
	}
	if err := l.WriteCompact(zw); err != nil {
		return cw.n, err
	}
	err = zw.Close()
	return cw.n, err
}

// CompactGzip writes a SARIF file already written (Write's, or any
// valid JSON) as WriteGzip would the log it holds: compacted, gzipped;
// and says how many bytes that is.
func CompactGzip(w io.Writer, r io.Reader) (int64, error) {
	cw := &countWriter{w: w}
	zw, err := gzip.NewWriterLevel(cw, UploadGzipLevel)
	if err != nil {
		return 0, err
	}
	c := &compactor{w: zw}
	if _, err := io.Copy(c, bufio.NewReaderSize(r, 256<<10)); err != nil {
		return cw.n, err
	}
	err = zw.Close()
	return cw.n, err
}

// compactGzipSize is how many bytes a SARIF file is compact and gzipped.
func compactGzipSize(data []byte) (compact, gz int64, err error) {
	g := newGzipCounter()
	c := &compactor{w: g}
	for len(data) > 0 && err == nil {
		n := min(len(data), 256<<10)
		_, err = c.Write(data[:n])
		data = data[n:]
	}
	compact, gz, gerr := g.close()
	return compact, gz, cmp.Or(err, gerr)
}

// sizes is how many bytes the log is as compact JSON and gzipped.
func (l *Log) sizes() (compact, gz int64, err error) {
	g := newGzipCounter()
	bw := bufio.NewWriterSize(g, 256<<10)
	err = l.write(newStream(bw, true))
	if err == nil {
		err = bw.Flush()
	}
	compact, gz, gerr := g.close()
	return compact, gz, cmp.Or(err, gerr)
}

// gzipCounter counts the bytes it is written, and gzips them as
// WriteGzip would, in a goroutine of its own so the writer goes on, to
// count those too.
type gzipCounter struct {
	full, free chan []byte
	done       chan struct{}
	plain, gz  int64
	err        error
}

func newGzipCounter() *gzipCounter {
	g := &gzipCounter{full: make(chan []byte, 4), free: make(chan []byte, 6), done: make(chan struct{})}
	for range cap(g.free) {
		g.free <- make([]byte, 0, 256<<10)
	}
	go func() {
		defer close(g.done)
		cw := &countWriter{w: io.Discard}
		zw, err := gzip.NewWriterLevel(cw, UploadGzipLevel)
		for b := range g.full {
			if err == nil {
				_, err = zw.Write(b)
			}
			g.free <- b[:0]
		}
		if err == nil {
			err = zw.Close()
		}
		g.gz, g.err = cw.n, err
	}()
	return g
}

func (g *gzipCounter) Write(p []byte) (int, error) {
	n0 := len(p)
	g.plain += int64(n0)
	for len(p) > 0 {
		b := <-g.free
		n := min(len(p), cap(b))
		g.full <- append(b, p[:n]...)
		p = p[n:]
	}
	return n0, nil
}

// close waits for the gzip and gives the counts.
func (g *gzipCounter) close() (plain, gz int64, err error) {
	close(g.full)
	<-g.done
	return g.plain, g.gz, g.err
}

// compactor drops the whitespace between JSON tokens of valid JSON it
// is written, wherever its writes cut the text.
type compactor struct {
	w        io.Writer
	buf      []byte
	inString bool
	escaped  bool
}

func (c *compactor) Write(p []byte) (int, error) {
	out := c.buf[:0]
	for i := 0; i < len(p); i++ {
		b := p[i]
		if c.inString {
			// Copy up to the next quote or backslash in one go.
			j := i
			for j < len(p) && !c.escaped && p[j] != '"' && p[j] != '\\' {
				j++
			}
			if j > i {
				out = append(out, p[i:j]...)
				i = j - 1
				continue
			}
			out = append(out, b)
			switch {
			case c.escaped:
				c.escaped = false
			case b == '\\':
				c.escaped = true
			case b == '"':
				c.inString = false
			}
			continue
		}
		switch b {
		case ' ', '\n', '\t', '\r':
			continue
		case '"':
			c.inString = true
		}
		out = append(out, b)
	}
	c.buf = out
	if _, err := c.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
