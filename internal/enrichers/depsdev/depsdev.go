// Package depsdev adds what deps.dev (Google's Open Source Insights)
// knows of the packages of dependency and SBOM findings: the version's
// licences and links, its source repository and that project's OpenSSF
// Scorecard score, from deps.dev's API v3. It is Dracon's depsdev
// enricher made to work on every dependency finding (Issue.package_url)
// and not only on SBOMs, with a disk cache, batching and a rate limit so
// that a run asks each package version once a week at most, and a time
// limit so that a run without the internet goes on with what the cache
// has.
//
// Annotations (docs/enrichers/depsdev.md): "Enriched Licenses" = "True"
// (Dracon's), licenses, scorecard_score, scorecard_date, source_repo,
// deps_dev_url, deps_dev_advisories; on an SBOM finding
// deps_dev_components, and the BOM's components get the licences, a
// deps.dev link and the score.
package depsdev

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/draconsec/dracon/internal/config"
	"github.com/draconsec/dracon/internal/enrichers"
	"github.com/draconsec/dracon/internal/httpretry"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
	"golang.org/x/time/rate"
)

// Annotation keys.
const (
	// KeyEnriched is Dracon's annotation, kept with its value "True".
	KeyEnriched   = "Enriched Licenses"
	KeyLicenses   = "licenses"
	KeyScore      = "scorecard_score"
	KeyScoreDate  = "scorecard_date"
	KeySourceRepo = "source_repo"
	KeyURL        = "deps_dev_url"
	KeyAdvisories = "deps_dev_advisories"
	KeyComponents = "deps_dev_components"
)

// Concurrency is how many requests are in flight at once.
const Concurrency = 8

// Enricher adds deps.dev's data to dependency and SBOM findings.
type Enricher struct {
	// BaseURL is the API's root (https://api.deps.dev).
	BaseURL string
	// CacheDir holds the cache file; "" keeps answers for this run only.
	CacheDir string
	// MaxAge is how long a cached answer is used.
	MaxAge time.Duration
	// Rate is requests a second at most.
	Rate float64
	// Timeout bounds the enricher's time with deps.dev.
	Timeout time.Duration
	// LicensesInEvidence: SBOM licences go to evidence.licenses.
	LicensesInEvidence bool
	// Notice tells the run's reader what went wrong, once a run.
	Notice func(string)
	// Log takes the HTTP client's retry lines; nil: none.
	Log io.Writer
	// Transport is the HTTP transport (default http.DefaultTransport).
	Transport http.RoundTripper
	// Now is the clock (default time.Now), for the cache's ages.
	Now func() time.Time
}

// New builds the enricher from its config block; notice receives what
// the run should tell its reader.
func New(c config.DepsDev, notice func(string)) *Enricher {
	return &Enricher{
		BaseURL:            c.URL(),
		CacheDir:           CacheDir(c.CacheDir),
		MaxAge:             c.Age(),
		Rate:               c.RequestRate(),
		Timeout:            c.Deadline(),
		LicensesInEvidence: c.LicensesInEvidence,
		Notice:             notice,
	}
}

// CacheDir is cache_dir, or the default: <user cache>/dracon/depsdev
// (~/.cache/dracon/depsdev on Linux), where CI caches keep it between
// runs; without a home folder, the system's temporary folder.
func CacheDir(configured string) string {
	if configured != "" {
		return configured
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "dracon", "depsdev")
	}
	return filepath.Join(os.TempDir(), "dracon-depsdev")
}

func (*Enricher) String() string { return "depsdev" }

// Enrich implements enrichers.Enricher.
func (e *Enricher) Enrich(ctx context.Context, _ *v1.ScanInfo, results []*v1.EnrichedLaunchToolResponse) error {
	all, raw := enrichers.Flatten(results)
	// What each finding asks about; each package version is asked once.
	deps := make([]Key, len(all))
	hasDep := make([]bool, len(all))
	boms := make([]*bom, len(all))
	var keys []Key
	seen := map[Key]bool{}
	add := func(k Key) {
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	for i, is := range raw {
		if is.GetPackageUrl() != "" {
			if k, ok := FromPurl(is.GetPackageUrl(), is.GetPackageVersion()); ok {
				deps[i], hasDep[i] = k, true
				add(k)
			}
		}
		if is.CycloneDXSBOM != nil && strings.TrimSpace(is.GetCycloneDXSBOM()) != "" {
			if b := readBOM(is.GetCycloneDXSBOM()); len(b.keys) > 0 {
				boms[i] = b
				for _, k := range b.keys {
					add(k)
				}
			}
		}
	}
	if len(keys) == 0 {
		return nil
	}
	notice := e.Notice
	if notice == nil {
		notice = func(string) {}
	}
	c, err := openCache(e.CacheDir)
	if err != nil {
		notice(fmt.Sprintf("depsdev: the cache could not be read (%v): deps.dev is asked again and the cache rewritten", err))
	}
	f := e.fetcher(c)
	f.run(ctx, keys)
	if msg := f.problem(len(keys)); msg != "" {
		notice(msg)
	}
	data := func(k Key) (*Version, *Project) {
		v := c.version(k)
		if v == nil || v.Unknown {
			return v, nil
		}
		var p *Project
		if v.Project != "" {
			p = c.project(v.Project)
		}
		return v, p
	}
	for i, is := range all {
		if hasDep[i] {
			annotateDep(is, deps[i], data)
		}
		if b := boms[i]; b != nil {
			e.annotateBOM(is, raw[i], b, data)
		}
	}
	if err := c.save(); err != nil {
		notice(fmt.Sprintf("depsdev: the cache could not be written (%v): the next run asks deps.dev again", err))
	}
	return nil
}

func annotateDep(is *v1.EnrichedIssue, k Key, data func(Key) (*Version, *Project)) {
	v, p := data(k)
	if v == nil || v.Unknown {
		return
	}
	set := setter(is)
	set(KeyEnriched, "True")
	set(KeyLicenses, strings.Join(v.Licenses, ", "))
	set(KeyURL, k.WebURL())
	set(KeySourceRepo, sourceRepo(v))
	set(KeyAdvisories, strings.Join(v.Advisories, ", "))
	if p != nil && p.Score != nil {
		set(KeyScore, formatScore(*p.Score))
		set(KeyScoreDate, p.ScoreDate)
	}
}

// annotateBOM writes deps.dev's data into an SBOM finding's BOM and
// annotates the finding with the licences of all its components.
func (e *Enricher) annotateBOM(is *v1.EnrichedIssue, raw *v1.Issue, b *bom, data func(Key) (*Version, *Project)) {
	known := 0
	var lics []string
	seen := map[string]bool{}
	done := map[Key]bool{}
	for _, k := range b.keys {
		if done[k] {
			continue
		}
		done[k] = true
		v, _ := data(k)
		if v == nil || v.Unknown {
			continue
		}
		known++
		for _, l := range v.Licenses {
			if !seen[l] {
				seen[l] = true
				lics = append(lics, l)
			}
		}
	}
	if known == 0 {
		return
	}
	sort.Strings(lics)
	set := setter(is)
	set(KeyEnriched, "True")
	set(KeyLicenses, strings.Join(lics, ", "))
	set(KeyComponents, strconv.Itoa(known))
	if text := b.write(data, e.LicensesInEvidence); text != "" {
		raw.CycloneDXSBOM = &text
	}
}

func setter(is *v1.EnrichedIssue) func(k, v string) {
	return func(k, v string) {
		if v == "" {
			return
		}
		if is.Annotations == nil {
			is.Annotations = map[string]string{}
		}
		is.Annotations[k] = v
	}
}

// sourceRepo is the version's source repository: the project deps.dev
// related to it as SOURCE_REPO, else the link its metadata labels so.
func sourceRepo(v *Version) string {
	if v.Project != "" {
		return "https://" + v.Project
	}
	for _, l := range v.Links {
		if l.Label == "SOURCE_REPO" {
			return l.URL
		}
	}
	return ""
}

// fetcher fills the cache with what it lacks or holds too old, within
// the enricher's time.
type fetcher struct {
	e      *Enricher
	c      *cache
	client *client
	now    time.Time

	mu       sync.Mutex
	failed   int   // answers not had
	stale    int   // of which an older answer stood in
	firstErr error // the first failure, for the notice
	timedOut bool
	requests int
}

func (e *Enricher) fetcher(c *cache) *fetcher {
	now := time.Now
	if e.Now != nil {
		now = e.Now
	}
	tr := e.Transport
	if tr == nil {
		tr = http.DefaultTransport
	}
	r := e.Rate
	if r <= 0 {
		r = config.DepsDevRate
	}
	lim := limited{next: tr, limiter: rate.NewLimiter(rate.Limit(r), 1)}
	hc := httpretry.New(httpretry.Options{Name: "depsdev", Log: e.Log, Transport: lim})
	return &fetcher{e: e, c: c, now: now(), client: &client{base: strings.TrimSuffix(e.BaseURL, "/"), http: hc}}
}

func (f *fetcher) fresh(t time.Time) bool {
	age := f.e.MaxAge
	if age <= 0 {
		age = config.DepsDevMaxAge
	}
	return f.now.Sub(t) < age && !t.After(f.now.Add(time.Hour)) // a clock set back does not keep an entry forever
}

// run fetches the versions keys need, then their projects.
func (f *fetcher) run(ctx context.Context, keys []Key) {
	timeout := f.e.Timeout
	if timeout <= 0 {
		timeout = config.DepsDevTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var stale []Key // not cached, or cached too long ago
	for _, k := range keys {
		if v := f.c.version(k); v == nil || !f.fresh(v.Fetched) {
			stale = append(stale, k)
		}
	}
	parallel(ctx, len(stale), func(i int) {
		k := stale[i]
		v, err := f.client.version(ctx, k, f.now)
		f.done(ctx, err, f.c.version(k) != nil)
		if err == nil {
			f.c.putVersion(k, v)
		}
	})
	var projects []string
	seen := map[string]bool{}
	for _, k := range keys {
		v := f.c.version(k)
		if v == nil || v.Project == "" || seen[v.Project] {
			continue
		}
		seen[v.Project] = true
		if p := f.c.project(v.Project); p == nil || !f.fresh(p.Fetched) {
			projects = append(projects, v.Project)
		}
	}
	parallel(ctx, len(projects), func(i int) {
		id := projects[i]
		p, err := f.client.project(ctx, id, f.now)
		f.done(ctx, err, f.c.project(id) != nil)
		if err == nil {
			f.c.putProject(id, p)
		}
	})
}

// done counts one answer, or one missing.
func (f *fetcher) done(ctx context.Context, err error, hadOld bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests++
	if err == nil {
		return
	}
	f.failed++
	if hadOld {
		f.stale++
	}
	if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
		f.timedOut = true
		return
	}
	if f.firstErr == nil {
		f.firstErr = err
	}
}

// problem is the run's one notice about deps.dev, or "".
func (f *fetcher) problem(versions int) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failed == 0 {
		return ""
	}
	answered := f.requests - f.failed
	var why string
	switch {
	case f.timedOut && answered > 0:
		// deps.dev answers; the time ran out (a cold cache of a large
		// project, at rate requests a second).
		why = fmt.Sprintf("the %s timeout ran out at %v requests a second; the next runs ask for the rest", f.e.Timeout, f.e.Rate)
	case f.timedOut:
		why = fmt.Sprintf("deps.dev did not answer within %s", f.e.Timeout)
	default:
		why = f.firstErr.Error()
	}
	if f.timedOut && f.firstErr != nil {
		why += "; and " + f.firstErr.Error()
	}
	msg := fmt.Sprintf("depsdev: %d of %d lookups at deps.dev (for %d package versions and their source projects) got no answer (%s)", f.failed, f.requests, versions, why)
	if f.stale > 0 {
		msg += fmt.Sprintf("; %d had an older cached answer, used instead", f.stale)
	}
	return msg + "; the run goes on with what the cache has"
}

// parallel runs fn(0..n-1) on Concurrency goroutines, stopping handing
// out work when ctx ends (what is left counts as not answered only when
// fn runs: a cancelled context makes it fail at once).
func parallel(ctx context.Context, n int, fn func(i int)) {
	if n == 0 {
		return
	}
	work := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(Concurrency, n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				fn(i)
			}
		}()
	}
	for i := 0; i < n; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
}
