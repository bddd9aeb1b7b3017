package config

// DepsDev configures enrichers.depsdev: deps.dev: licences, links and the OpenSSF Scorecard of dependency and SBOM findings' packages (opt-in: it calls deps.dev).
type DepsDev struct {
	Enabled *bool `yaml:"enabled"`
}

// validate checks the block at key.
func (e *DepsDev) validate(key string, add func(key, format string, args ...any)) {}
