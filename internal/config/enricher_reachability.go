package config

// Reachability configures enrichers.reachability: reachability of Go dependency findings, from govulncheck's symbol-level results.
type Reachability struct {
	Enabled *bool `yaml:"enabled"`
	// OSVScanner lets osv-scanner's own call analysis (the govulncheck
	// library, which osv-scanner runs on every go.mod it reads) decide the
	// findings govulncheck cannot: those of a Go module below the root,
	// which Dracon's govulncheck run does not analyse, or of a scan
	// without govulncheck. Default true; false leaves them "unknown".
	OSVScanner *bool `yaml:"osv_scanner"`
	// MaxEvidence caps reachable_evidence, in characters (default 1000):
	// it travels into tickets and chat messages. Longer call paths lose
	// their middle frames first, then whole paths.
	MaxEvidence int `yaml:"max_evidence"`
}

// DefaultReachabilityMaxEvidence is max_evidence when the config gives none.
const DefaultReachabilityMaxEvidence = 1000

// Bounds of max_evidence: below the minimum a single call path of a few
// frames no longer fits; above the maximum the text is no longer evidence
// but a dump.
const (
	minReachabilityEvidence = 200
	maxReachabilityEvidence = 20000
)

// UseOSVScanner is osv_scanner, or its default (true).
func (e Reachability) UseOSVScanner() bool { return e.OSVScanner == nil || *e.OSVScanner }

// Evidence is max_evidence, or its default.
func (e Reachability) Evidence() int {
	if e.MaxEvidence == 0 {
		return DefaultReachabilityMaxEvidence
	}
	return e.MaxEvidence
}

// validate checks the block at key.
func (e *Reachability) validate(key string, add func(key, format string, args ...any)) {
	if e.MaxEvidence != 0 && (e.MaxEvidence < minReachabilityEvidence || e.MaxEvidence > maxReachabilityEvidence) {
		add(key+".max_evidence", "%d is out of range: %d to %d characters", e.MaxEvidence, minReachabilityEvidence, maxReachabilityEvidence)
	}
}
