package config

// Report configures consumers.report. Report: a self-contained HTML report for auditors (and PDF where a headless browser exists).
type Report struct {
	Delivery `yaml:",inline"`
}

// validate checks what is particular to this consumer; the common block
// is checked by Delivery.validate.
func (c *Report) validate(key string, add func(key, format string, args ...any)) {}
