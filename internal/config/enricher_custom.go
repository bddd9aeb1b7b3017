package config

// CustomAnnotations configures enrichers.custom: custom annotations (Dracon's custom-annotation): a map put on every finding, or on those a path glob or tool selects.
type CustomAnnotations struct {
	Enabled *bool `yaml:"enabled"`
}

// validate checks the block at key.
func (e *CustomAnnotations) validate(key string, add func(key, format string, args ...any)) {}
