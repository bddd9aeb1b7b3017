package config

// Elasticsearch configures consumers.elasticsearch. Elasticsearch or OpenSearch: bulk-indexed documents with deterministic ids.
type Elasticsearch struct {
	Delivery `yaml:",inline"`
}

// validate checks what is particular to this consumer; the common block
// is checked by Delivery.validate.
func (c *Elasticsearch) validate(key string, add func(key, format string, args ...any)) {}
