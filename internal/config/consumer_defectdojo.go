package config

// DefectDojo configures consumers.defectdojo. DefectDojo: reimport-scan into a product, engagement and test.
type DefectDojo struct {
	Delivery `yaml:",inline"`
}

// validate checks what is particular to this consumer; the common block
// is checked by Delivery.validate.
func (c *DefectDojo) validate(key string, add func(key, format string, args ...any)) {}
