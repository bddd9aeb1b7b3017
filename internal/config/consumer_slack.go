package config

// Slack configures consumers.slack. Slack: one message per run.
type Slack struct {
	Delivery `yaml:",inline"`
}

// validate checks what is particular to this consumer; the common block
// is checked by Delivery.validate.
func (c *Slack) validate(key string, add func(key, format string, args ...any)) {}
