package config

// Jira configures consumers.jira. Jira (Cloud and Data Center): one ticket per finding or group, found again by its fingerprint.
type Jira struct {
	Delivery `yaml:",inline"`
}

// validate checks what is particular to this consumer; the common block
// is checked by Delivery.validate.
func (c *Jira) validate(key string, add func(key, format string, args ...any)) {}
