package config

// DependencyTrack configures consumers.dependency_track. Dependency-Track: the producers' SBOMs uploaded to a project.
type DependencyTrack struct {
	Delivery `yaml:",inline"`
}

// validate checks what is particular to this consumer; the common block
// is checked by Delivery.validate.
func (c *DependencyTrack) validate(key string, add func(key, format string, args ...any)) {}
