package config

// Webhook configures consumers.webhook. Webhook: the enriched results POSTed as JSON, signed with HMAC-SHA256.
type Webhook struct {
	Delivery `yaml:",inline"`
}

// validate checks what is particular to this consumer; the common block
// is checked by Delivery.validate.
func (c *Webhook) validate(key string, add func(key, format string, args ...any)) {}
