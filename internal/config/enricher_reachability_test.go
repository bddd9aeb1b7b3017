package config

import (
	"strings"
	"testing"
)

func parseReachability(t *testing.T, block string) (Reachability, error) {
	t.Helper()
	c, err := Parse([]byte("enrichers:\n  reachability:\n"+block), Names{Resolve: func(s string) (string, bool) { return s, true }})
	if err != nil {
		return Reachability{}, err
	}
	return c.Enrichers.Reachability, nil
}

func TestReachabilityBlock(t *testing.T) {
	r, err := parseReachability(t, "    osv_scanner: false\n    max_evidence: 400\n")
	if err != nil {
		t.Fatal(err)
	}
	if r.UseOSVScanner() || r.Evidence() != 400 {
		t.Errorf("reachability = %+v", r)
	}
	if !(Enrichers{Reachability: r}).On("reachability") {
		t.Error("reachability is on by default")
	}

	// An empty block: on, osv-scanner's analysis used, the default cap.
	d, err := parseReachability(t, "    enabled: true\n")
	if err != nil || !d.UseOSVScanner() || d.Evidence() != DefaultReachabilityMaxEvidence || !(Enrichers{Reachability: d}).On("reachability") {
		t.Errorf("defaults = %+v, %v", d, err)
	}
	off, err := parseReachability(t, "    enabled: false\n")
	if err != nil || (Enrichers{Reachability: off}).On("reachability") {
		t.Errorf("enabled: false = %+v, %v", off, err)
	}
	// The bounds themselves are allowed.
	for _, n := range []string{"200", "20000"} {
		if _, err := parseReachability(t, "    max_evidence: "+n+"\n"); err != nil {
			t.Errorf("max_evidence %s: %v", n, err)
		}
	}
}

func TestReachabilityBlockRefused(t *testing.T) {
	for _, tc := range []struct{ block, want string }{
		{"    max_evidence: 199\n", "line 3: enrichers.reachability.max_evidence: 199 is out of range: 200 to 20000 characters"},
		{"    max_evidence: 20001\n", "enrichers.reachability.max_evidence: 20001 is out of range"},
		{"    max_evidence: -5\n", "enrichers.reachability.max_evidence: -5 is out of range"},
		{"    max_evidence: lots\n", "lots"},
		{"    osv_scanner: maybe\n", "maybe"},
		{"    govulncheck: true\n", "field govulncheck not found"},
	} {
		_, err := parseReachability(t, tc.block)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q", tc.block, err, tc.want)
		}
	}
}
