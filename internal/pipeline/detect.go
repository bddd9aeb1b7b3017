package pipeline

import (
	"io/fs"
	"path/filepath"

	"github.com/draconsec/dracon/internal/producers"
)

// skipDirs are folders auto-detection never looks into: dependencies,
// build output and Dracon's own state.
var skipDirs = map[string]bool{
	".git": true, ".dracon": true, "node_modules": true, "vendor": true,
	".venv": true, "venv": true, "__pycache__": true, ".terraform": true, "target": true,
	"testdata": true, // test fixtures (Go's convention): not the product
}

// Detect returns the producers whose Detect globs match a file in src, in
// catalogue order.
func Detect(src string, catalogue []*producers.Producer) ([]*producers.Producer, error) {
	hit := map[string]bool{}
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
		for _, p := range catalogue {
			if hit[p.Name] || (p.DetectAtRoot && !atRoot) {
				continue
			}
			for _, g := range p.Detect {
				if ok, _ := filepath.Match(g, d.Name()); ok {
					hit[p.Name] = true
					break
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out []*producers.Producer
	for _, p := range catalogue {
		if hit[p.Name] {
			out = append(out, p)
		}
	}
	return out, nil
}
