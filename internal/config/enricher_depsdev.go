package config

import (
	"net/url"
	"strings"
	"time"
)

// DepsDev configures enrichers.depsdev: deps.dev: licences, links and the OpenSSF Scorecard of dependency and SBOM findings' packages (opt-in: it calls deps.dev).
type DepsDev struct {
	// Enabled turns the enricher on: it is off unless enabled: true,
	// because it sends the names and versions of the project's
	// dependencies to deps.dev.
	Enabled *bool `yaml:"enabled"`
	// BaseURL is deps.dev's API (default https://api.deps.dev): a
	// mirror, a proxy, or a test server.
	BaseURL string `yaml:"base_url"`
	// CacheDir keeps deps.dev's answers between runs (default: the
	// user's cache folder, ~/.cache/dracon/depsdev on Linux). A relative
	// path is taken from the working folder.
	CacheDir string `yaml:"cache_dir"`
	// MaxAge is how long a cached answer is used before it is asked
	// again (default 7 days: 168h).
	MaxAge Duration `yaml:"max_age"`
	// Rate is how many requests a second are sent at most (default 10).
	Rate *float64 `yaml:"rate"`
	// Timeout bounds the whole enricher's time with deps.dev (default
	// 10s): what is not answered by then is left to the cache, and the
	// run goes on.
	Timeout Duration `yaml:"timeout"`
	// LicensesInEvidence writes the licences deps.dev found into an SBOM
	// component's evidence.licenses instead of its licenses (Dracon's
	// LICENSES_IN_EVIDENCE): CycloneDX's place for licences that were
	// found rather than declared.
	LicensesInEvidence bool `yaml:"licenses_in_evidence"`
}

// Defaults of enrichers.depsdev.
const (
	DepsDevBaseURL = "https://api.deps.dev"
	DepsDevMaxAge  = 7 * 24 * time.Hour
	DepsDevRate    = 10.0
	DepsDevTimeout = 10 * time.Second
	// DepsDevMaxRate bounds rate: deps.dev is a shared service.
	DepsDevMaxRate = 100.0
)

// URL is base_url or its default.
func (e DepsDev) URL() string {
	if e.BaseURL == "" {
		return DepsDevBaseURL
	}
	return strings.TrimSuffix(e.BaseURL, "/")
}

// Age is max_age or its default.
func (e DepsDev) Age() time.Duration {
	if e.MaxAge <= 0 {
		return DepsDevMaxAge
	}
	return time.Duration(e.MaxAge)
}

// RequestRate is rate or its default.
func (e DepsDev) RequestRate() float64 {
	if e.Rate == nil {
		return DepsDevRate
	}
	return *e.Rate
}

// Deadline is timeout or its default.
func (e DepsDev) Deadline() time.Duration {
	if e.Timeout <= 0 {
		return DepsDevTimeout
	}
	return time.Duration(e.Timeout)
}

// validate checks the block at key.
func (e *DepsDev) validate(key string, add func(key, format string, args ...any)) {
	if e.BaseURL != "" {
		u, err := url.Parse(e.BaseURL)
		switch {
		case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
			add(key+".base_url", "%q is not an http(s) URL (e.g. https://api.deps.dev)", e.BaseURL)
		case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
			add(key+".base_url", "%q: no query, fragment or credentials (the API's paths are added to it)", u.Redacted())
		}
	}
	if e.Rate != nil && (*e.Rate <= 0 || *e.Rate > DepsDevMaxRate) {
		add(key+".rate", "%v requests a second: give more than 0 and at most %v", *e.Rate, DepsDevMaxRate)
	}
	if e.CacheDir != "" && strings.TrimSpace(e.CacheDir) == "" {
		add(key+".cache_dir", "a blank folder")
	}
}
