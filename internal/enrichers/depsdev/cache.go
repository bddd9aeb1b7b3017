package depsdev

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/go-json-experiment/json"
)

// cacheFile is the cache's one file in cache_dir: every answer of every
// run, read once and written once a run (10,000 package versions are a
// few megabytes, read in milliseconds; a file per answer would cost
// 10,000 opens).
const cacheFile = "depsdev-v3.json"

// cacheFormat changes when what an entry holds does; a cache of another
// format is ignored (and rewritten).
const cacheFormat = 1

// Version is what deps.dev said of one package version: the part Dracon
// uses. Unknown is a 404: deps.dev has no such package version (a
// private package, a typo), kept so that it is not asked again before
// max_age.
type Version struct {
	Fetched    time.Time `json:"fetched"`
	Unknown    bool      `json:"unknown,omitempty"`
	Licenses   []string  `json:"licenses,omitempty"`
	Links      []Link    `json:"links,omitempty"`
	Project    string    `json:"project,omitempty"` // the SOURCE_REPO project's id ("github.com/user/repo")
	Advisories []string  `json:"advisories,omitempty"`
}

// Link is a link deps.dev read from the version's metadata.
type Link struct {
	Label string `json:"label"`
	URL   string `json:"url"`
}

// Project is what deps.dev said of a source repository.
type Project struct {
	Fetched time.Time `json:"fetched"`
	Unknown bool      `json:"unknown,omitempty"`
	// Score is the OpenSSF Scorecard's overall score (0-10); nil: the
	// project has no scorecard.
	Score      *float64 `json:"score,omitempty"`
	ScoreDate  string   `json:"score_date,omitempty"` // YYYY-MM-DD
	Checks     []Check  `json:"checks,omitempty"`
	OpenIssues int      `json:"open_issues,omitempty"`
	Stars      int      `json:"stars,omitempty"`
	License    string   `json:"license,omitempty"`
}

// Check is one Scorecard check's score (-1: it did not run).
type Check struct {
	Name  string `json:"name"`
	Score int    `json:"score"`
}

type cacheDoc struct {
	Format   int                 `json:"format"`
	Versions map[string]*Version `json:"versions"`
	Projects map[string]*Project `json:"projects"`
}

// cache is the answers of earlier runs and of this one.
type cache struct {
	path    string // "" keeps it in memory only
	mu      sync.Mutex
	doc     cacheDoc
	changed bool
}

// openCache reads dir's cache; a missing file is an empty cache. A file
// that cannot be read is an error (the caller says so once and goes on
// with an empty cache, which replaces it).
func openCache(dir string) (*cache, error) {
	c := &cache{doc: cacheDoc{Format: cacheFormat, Versions: map[string]*Version{}, Projects: map[string]*Project{}}}
	if dir == "" {
		return c, nil
	}
	c.path = filepath.Join(dir, cacheFile)
	doc, err := readCache(c.path)
	if err != nil {
		return c, err
	}
	if doc != nil {
		c.doc = *doc
	}
	return c, nil
}

func readCache(path string) (*cacheDoc, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var doc cacheDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if doc.Format != cacheFormat {
		return nil, nil
	}
	if doc.Versions == nil {
		doc.Versions = map[string]*Version{}
	}
	if doc.Projects == nil {
		doc.Projects = map[string]*Project{}
	}
	return &doc, nil
}

func (c *cache) version(k Key) *Version {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.doc.Versions[k.String()]
}

func (c *cache) project(id string) *Project {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.doc.Projects[id]
}

func (c *cache) putVersion(k Key, v *Version) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.doc.Versions[k.String()] = v
	c.changed = true
}

func (c *cache) putProject(id string, p *Project) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.doc.Projects[id] = p
	c.changed = true
}

// save writes the cache when this run added to it. Another run may have
// written the file meanwhile (two pipelines on one runner): its newer
// answers are kept. The file is replaced whole, by a rename, so a reader
// never sees half of it.
func (c *cache) save() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.path == "" || !c.changed {
		return nil
	}
	if disk, err := readCache(c.path); err == nil && disk != nil {
		for k, v := range disk.Versions {
			if have := c.doc.Versions[k]; have == nil || v.Fetched.After(have.Fetched) {
				c.doc.Versions[k] = v
			}
		}
		for k, p := range disk.Projects {
			if have := c.doc.Projects[k]; have == nil || p.Fetched.After(have.Fetched) {
				c.doc.Projects[k] = p
			}
		}
	}
	data, err := json.Marshal(&c.doc, json.Deterministic(true))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(c.path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(c.path), cacheFile+".*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), c.path); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	c.changed = false
	return nil
}
