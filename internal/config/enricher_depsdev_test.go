package config

import (
	"strings"
	"testing"
	"time"
)

func parseDepsDev(t *testing.T, block string) (*Config, error) {
	t.Helper()
	return Parse([]byte("enrichers:\n  depsdev:\n"+block), Names{Resolve: func(s string) (string, bool) { return s, true }})
}

func TestDepsDevBlock(t *testing.T) {
	c, err := parseDepsDev(t, `    enabled: true
    base_url: http://depsdev-mirror.internal:8080/
    cache_dir: .dracon/depsdev
    max_age: 72h
    rate: 2.5
    timeout: 30s
    licenses_in_evidence: true
`)
	if err != nil {
		t.Fatal(err)
	}
	d := c.Enrichers.DepsDev
	if !c.Enrichers.On("depsdev") || d.URL() != "http://depsdev-mirror.internal:8080" || d.CacheDir != ".dracon/depsdev" ||
		d.Age() != 72*time.Hour || d.RequestRate() != 2.5 || d.Deadline() != 30*time.Second || !d.LicensesInEvidence {
		t.Errorf("depsdev = %+v", d)
	}

	// Nothing set: off (it calls a service on the internet), and every
	// default.
	c, err = parseDepsDev(t, "    base_url: \"\"\n")
	if err != nil {
		t.Fatal(err)
	}
	d = c.Enrichers.DepsDev
	if c.Enrichers.On("depsdev") || d.URL() != "https://api.deps.dev" || d.Age() != 7*24*time.Hour || d.RequestRate() != 10 ||
		d.Deadline() != 10*time.Second || d.LicensesInEvidence {
		t.Errorf("defaults = %+v (on: %v)", d, c.Enrichers.On("depsdev"))
	}
	c, _ = parseDepsDev(t, "    enabled: false\n")
	if c.Enrichers.On("depsdev") {
		t.Error("enabled: false is on")
	}
}

func TestDepsDevBlockRefused(t *testing.T) {
	for _, tc := range []struct{ block, want string }{
		{"    base_url: api.deps.dev\n", `enrichers.depsdev.base_url: "api.deps.dev" is not an http(s) URL`},
		{"    base_url: ftp://api.deps.dev\n", "is not an http(s) URL"},
		{"    base_url: https://u:secret@api.deps.dev?x=1\n", "no query, fragment or credentials"},
		{"    rate: 0\n", "enrichers.depsdev.rate: 0 requests a second"},
		{"    rate: -3\n", "give more than 0"},
		{"    rate: 1000\n", "at most 100"},
		{"    max_age: a week\n", `"a week" is not a duration`},
		{"    timeout: -5s\n", "is not a duration"},
		{"    cache_dir: \"  \"\n", "enrichers.depsdev.cache_dir: a blank folder"},
		{"    enabled: true\n    ratelimit: 5\n", "field ratelimit not found"},
	} {
		_, err := parseDepsDev(t, tc.block)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want an error with %q", tc.block, err, tc.want)
		}
	}
	// The line of the key is named.
	_, err := parseDepsDev(t, "    enabled: true\n    rate: 0\n")
	if err == nil || !strings.Contains(err.Error(), "line 4: enrichers.depsdev.rate") {
		t.Errorf("got %v, want the line", err)
	}
	if strings.Contains(func() string {
		_, e := parseDepsDev(t, "    base_url: https://u:secret@api.deps.dev?x=1\n")
		return e.Error()
	}(), "secret") {
		t.Error("the error quotes the URL's password")
	}
}
