package sarifout

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
)

// manySource is a source folder holding the files many's findings name,
// 60 lines each.
func manySource(b *testing.B) string {
	files := map[string]string{}
	for i := range 11 {
		var text strings.Builder
		for l := range 60 {
			fmt.Fprintf(&text, "\tout, err := exec.Command(args[%d]).Output() // %d\n", l, i)
		}
		files[fmt.Sprintf("src/pkg/f%d.go", i)] = text.String()
	}
	return source(b, files)
}

// BenchmarkWriteLineHashes is BenchmarkWrite with each result's line
// hash read from the source.
func BenchmarkWriteLineHashes(b *testing.B) {
	results := many(30_000, false)
	dir := manySource(b)
	b.ReportAllocs()
	for b.Loop() {
		if err := NewLog(nil, results, Options{Source: dir}).Write(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkConsume is what the pipeline runs: line hashes, GitHub's
// limits (the 3 x 30,000 results cut to 25,000 a run, the gzipped size
// measured as the file is written), the file.
func BenchmarkConsume(b *testing.B) {
	results := many(30_000, false)
	c := Consumer{Path: filepath.Join(b.TempDir(), "dracon.sarif"), Source: manySource(b)}
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Consume(context.Background(), nil, results); err != nil {
			b.Fatal(err)
		}
	}
}
