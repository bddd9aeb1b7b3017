package sarifout

import (
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
)

// hashLines gives each result whose file is under source its line hash,
// as codeql-action's addFingerprints does: a result with a file and a
// start line, the file read from source (a relative path is taken as
// relative to it, an absolute one must be in it), each file read once for
// all its results and no further than the last line they need, the files
// on every CPU. A result whose file cannot be read gets none.
//
// Unlike codeql-action, a relative path that leaves source ("../x") is
// not read: code scanning could not show it.
func (l *Log) hashLines(source string, found []lineRef) {
	if abs, err := filepath.Abs(source); err == nil {
		source = abs
	}
	type want struct {
		run, i int
		line   int
	}
	byFile := map[string][]want{}
	paths := map[string]string{} // a finding's path: its file, or ""
	for _, f := range found {
		if f.line <= 0 {
			continue
		}
		path, ok := paths[f.path]
		if !ok {
			path, _ = sourceFile(source, f.path)
			paths[f.path] = path
		}
		if path != "" {
			byFile[path] = append(byFile[path], want{f.run, f.i, int(f.line)})
		}
	}
	files := make([]string, 0, len(byFile))
	for f := range byFile {
		files = append(files, f)
	}
	// Largest first, so no CPU is left with the big one at the end.
	slices.SortFunc(files, func(a, b string) int { return len(byFile[b]) - len(byFile[a]) })
	work := make(chan string)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(files)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range work {
				ws := byFile[f]
				lines := make([]int, len(ws))
				for i, w := range ws {
					lines[i] = w.line
				}
				slices.Sort(lines)
				hashes := fileLineHashes(f, slices.Compact(lines))
				// Each result is one slot: no two workers write the same.
				for _, w := range ws {
					l.runs[w.run].lineHash[w.i] = hashes[w.line]
				}
			}
		}()
	}
	for _, f := range files {
		work <- f
	}
	close(work)
	wg.Wait()
}

// lineRef is where a run's result is: its path and start line.
type lineRef struct {
	run, i int
	path   string
	line   int32
}

// sourceFile is the file a finding's path names under source, or false
// for one outside it.
func sourceFile(source, path string) (string, bool) {
	if path == "" || strings.HasPrefix(path, "pkg:") || strings.Contains(path, "://") {
		return "", false
	}
	p := filepath.FromSlash(path)
	if filepath.IsAbs(p) {
		p = filepath.Clean(p)
		if rel, err := filepath.Rel(source, p); err != nil || !filepath.IsLocal(rel) {
			return "", false
		}
		return p, true
	}
	if !filepath.IsLocal(p) {
		return "", false
	}
	return filepath.Join(source, p), true
}
