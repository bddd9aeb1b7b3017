package config

// Reachability configures enrichers.reachability: reachability of Go dependency findings, from govulncheck's symbol-level results.
type Reachability struct {
	Enabled *bool `yaml:"enabled"`
}

// validate checks the block at key.
func (e *Reachability) validate(key string, add func(key, format string, args ...any)) {}
