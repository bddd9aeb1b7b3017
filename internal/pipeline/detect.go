package pipeline

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/draconsec/dracon/internal/producers"
	"github.com/draconsec/dracon/internal/vendored"
)

// skipDirs are folders auto-detection never looks into: dependencies,
// build output and Dracon's own state.
var skipDirs = map[string]bool{
	".git": true, ".dracon": true, "node_modules": true, "vendor": true,
	".venv": true, "venv": true, "__pycache__": true, ".terraform": true, "target": true,
	"testdata": true, // test fixtures (Go's convention): not the product
}

// Detect returns the producers whose Detect globs match a file in src, in
// catalogue order. Vendored and generated files (by the built-in rules)
// do not count for producers that leave them out by default.
func Detect(src string, catalogue []*producers.Producer) ([]*producers.Producer, error) {
	own, err := vendored.New(vendored.Rules{})
	if err != nil {
		return nil, err
	}
	d, err := detect(src, catalogue, own)
	return d.found, err
}

// detection is what auto-detection found.
type detection struct {
	found []*producers.Producer
	// onlyVendored: producers left out because every file that matched
	// them is vendored or generated, with the first few of those files;
	// vendoredCount says how many there were.
	onlyVendored  map[string][]vendored.File
	vendoredCount map[string]int
}

// maxSample is how many vendored files detection keeps per producer it
// left out, to name in the log.
const maxSample = 3

// detect is Detect with the config's classifier; own == nil counts every
// file.
func detect(src string, catalogue []*producers.Producer, own *vendored.Classifier) (detection, error) {
	hit := map[string]bool{}
	only := map[string][]vendored.File{}
	onlyCount := map[string]int{}
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != src && skipDirs[d.Name()] {
				return filepath.SkipDir
			}
			return nil
		}
		atRoot := filepath.Dir(path) == filepath.Clean(src)
		var verdict *vendored.Verdict // classified once, when a producer needs it
		for _, p := range catalogue {
			if hit[p.Name] || (p.DetectAtRoot && !atRoot) || !matchesAny(p.Detect, d.Name()) {
				continue
			}
			if own != nil && skipsByDefault(p) {
				if verdict == nil {
					rel, err := filepath.Rel(src, path)
					if err != nil {
						return err
					}
					v := own.Classify(src, filepath.ToSlash(rel))
					verdict = &v
				}
				if !verdict.Own() {
					if onlyCount[p.Name]++; len(only[p.Name]) < maxSample {
						rel, _ := filepath.Rel(src, path)
						only[p.Name] = append(only[p.Name], vendored.File{Path: filepath.ToSlash(rel), Verdict: *verdict})
					}
					continue
				}
			}
			hit[p.Name] = true
		}
		return nil
	})
	if err != nil {
		return detection{}, err
	}
	d := detection{onlyVendored: map[string][]vendored.File{}, vendoredCount: onlyCount}
	for _, p := range catalogue {
		if hit[p.Name] {
			d.found = append(d.found, p)
		} else if len(only[p.Name]) > 0 {
			d.onlyVendored[p.Name] = only[p.Name]
		}
	}
	return d, nil
}

func matchesAny(globs []string, name string) bool {
	for _, g := range globs {
		if ok, _ := filepath.Match(g, name); ok {
			return true
		}
	}
	return false
}

// describe names a few of total files with why they are vendored.
func describe(files []vendored.File, total int) string {
	parts := make([]string, len(files))
	for i, f := range files {
		parts[i] = fmt.Sprintf("%s: %s", f.Path, f.Why)
	}
	if total > len(files) {
		parts = append(parts, fmt.Sprintf("%d more", total-len(files)))
	}
	return strings.Join(parts, "; ")
}
