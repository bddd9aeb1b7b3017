package config

// Phorge configures consumers.phorge. Phabricator or Phorge: Maniphest tasks through Conduit, one per finding.
type Phorge struct {
	Delivery `yaml:",inline"`
}

// validate checks what is particular to this consumer; the common block
// is checked by Delivery.validate.
func (c *Phorge) validate(key string, add func(key, format string, args ...any)) {}
