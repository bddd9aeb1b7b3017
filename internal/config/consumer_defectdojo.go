package config

import (
	"fmt"
	"net/url"
	"strings"
	"text/template"
)

// DefectDojo configures consumers.defectdojo. DefectDojo: reimport-scan
// into a product, engagement and test: one test per producer, its
// findings sent in DefectDojo's Generic Findings Import JSON with the
// finding's id as unique_id_from_tool.
type DefectDojo struct {
	Delivery `yaml:",inline"`
	// URL is DefectDojo's address (https://defectdojo.example.com); the
	// API is under /api/v2. Unset: $DRACON_DEFECTDOJO_URL.
	URL string `yaml:"url"`
	// Token is an API v2 key (sent as "Authorization: Token ..."). Unset:
	// the environment variable DRACON_DEFECTDOJO_TOKEN.
	Token Secret `yaml:"token"`
	// ProductName is the product findings go to (default: the scan's
	// repository, acme/shop). Created when missing.
	ProductName string `yaml:"product_name"`
	// ProductTypeName is the product type a missing product is created
	// in (default "Dracon"). DefectDojo refuses an import that names
	// another type than an existing product's.
	ProductTypeName string `yaml:"product_type_name"`
	// EngagementName is the engagement findings go to (default "Dracon
	// <branch>": one engagement per branch, pull request or tag). Not
	// with engagement_per_scan.
	EngagementName string `yaml:"engagement_name"`
	// EngagementPerScan makes one engagement per scan, named by the scan's
	// id, as Dracon's consumer did; DefectDojo's deduplication across the
	// product then marks what earlier scans found.
	EngagementPerScan bool `yaml:"engagement_per_scan"`
	// CloseOldFindings closes a test's findings this import no longer has
	// (DefectDojo's close_old_findings). Unset: true for a full scan of a
	// branch, false for a pull request's scan, whose findings are only
	// those of the change, and false when the filter keeps new findings
	// only, or by status or policy result (a finding left out is not gone).
	CloseOldFindings *bool `yaml:"close_old_findings"`
	// DeduplicationOnEngagement keeps DefectDojo's deduplication within
	// each engagement instead of the whole product (for an engagement it
	// creates).
	DeduplicationOnEngagement bool `yaml:"deduplication_on_engagement"`
	// Active and Verified, when set, force every imported finding's
	// status; unset, each finding is active and not verified.
	Active   *bool `yaml:"active"`
	Verified *bool `yaml:"verified"`
	// Environment is DefectDojo's environment of the engagement
	// (default: DefectDojo's "Development").
	Environment string `yaml:"environment"`
	// Tags are added to each test's tags (no spaces, commas or quotes).
	Tags []string `yaml:"tags"`
	// DescriptionTemplate is a Go text/template over the finding
	// (Dracon's findingTemplate, consumers/tmpl's view); unset: Dracon's
	// own Markdown description.
	DescriptionTemplate string `yaml:"description_template"`
}

// validate checks what is particular to this consumer; the common block
// is checked by Delivery.validate.
func (c *DefectDojo) validate(key string, add func(key, format string, args ...any)) {
	if c.URL != "" {
		if msg := checkConsumerURL(c.URL); msg != "" {
			add(key+".url", "%s", msg)
		}
	}
	if c.EngagementPerScan && c.EngagementName != "" {
		add(key+".engagement_name", "not with engagement_per_scan: true, which names each engagement by its scan id")
	}
	for i, t := range c.Tags {
		if t == "" || strings.ContainsAny(t, " ,'\"") {
			add(fmt.Sprintf("%s.tags[%d]", key, i), "%q is not a DefectDojo tag (no spaces, commas or quotes)", t)
		}
	}
	for _, s := range []struct{ k, v string }{{"product_name", c.ProductName}, {"product_type_name", c.ProductTypeName},
		{"engagement_name", c.EngagementName}, {"environment", c.Environment}} {
		if s.v != "" && strings.TrimSpace(s.v) == "" {
			add(key+"."+s.k, "is blank")
		}
	}
	checkConsumerTemplate(key+".description_template", c.DescriptionTemplate, add)
}

// checkConsumerURL says what is wrong with the address of a service the
// consumers call ("" when nothing): absolute, http or https, and no
// user:password in it (configs are committed).
func checkConsumerURL(raw string) string {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "not a URL: " + strings.TrimPrefix(err.Error(), "parse ")
	case u.Scheme != "https" && u.Scheme != "http":
		return "not an http or https URL (https://host)"
	case u.Host == "":
		return "not an absolute URL (https://host)"
	case u.User != nil:
		return "holds a user and password; configs are committed: give the credential as token (env: or file:)"
	case u.RawQuery != "" || u.Fragment != "":
		return "has a query or fragment: give the service's base address"
	}
	return ""
}

// checkConsumerTemplate parses a Go text/template the consumer renders per
// finding, so a typo fails at load rather than mid-delivery.
func checkConsumerTemplate(key, text string, add func(key, format string, args ...any)) {
	if text == "" {
		return
	}
	if _, err := template.New(key).Option("missingkey=zero").Parse(text); err != nil {
		add(key, "%s", strings.TrimPrefix(err.Error(), "template: "))
	}
}
