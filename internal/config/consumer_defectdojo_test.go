package config

import (
	"strings"
	"testing"
)

func parseDefectDojo(t *testing.T, block string) (*DefectDojo, error) {
	t.Helper()
	c, err := Parse([]byte("consumers:\n  defectdojo:\n"+block), Names{Resolve: func(s string) (string, bool) { return s, true }})
	if err != nil {
		return nil, err
	}
	return c.Consumers.DefectDojo, nil
}

func TestDefectDojoBlock(t *testing.T) {
	d, err := parseDefectDojo(t, `    url: https://defectdojo.example.com
    token: env:DD_API_KEY
    product_name: shop
    product_type_name: Web
    engagement_name: CI main
    close_old_findings: false
    deduplication_on_engagement: true
    active: true
    verified: false
    environment: Production
    tags: [ci, shop]
    description_template: "{{.RawIssue.Title}} in {{.ToolName}}"
    filter: {min_severity: medium}
    allow_failure: true
`)
	if err != nil {
		t.Fatal(err)
	}
	if d.URL != "https://defectdojo.example.com" || d.Token != "env:DD_API_KEY" || d.ProductName != "shop" || d.ProductTypeName != "Web" ||
		d.EngagementName != "CI main" || d.CloseOldFindings == nil || *d.CloseOldFindings || !d.DeduplicationOnEngagement ||
		d.Active == nil || !*d.Active || d.Verified == nil || *d.Verified || d.Environment != "Production" ||
		strings.Join(d.Tags, ",") != "ci,shop" || !strings.Contains(d.DescriptionTemplate, "ToolName") ||
		d.Filter.MinSeverity != "medium" || !d.AllowFailure {
		t.Errorf("defectdojo = %+v", *d)
	}
	// Unset, close_old_findings is nil: the consumer decides by the
	// scan's event, so "false" and "unset" must stay apart.
	d, err = parseDefectDojo(t, "    engagement_per_scan: true\n")
	if err != nil {
		t.Fatal(err)
	}
	if d.CloseOldFindings != nil || d.Active != nil || !d.EngagementPerScan || d.URL != "" {
		t.Errorf("defectdojo = %+v", *d)
	}
}

func TestDefectDojoBlockRefused(t *testing.T) {
	for _, tc := range []struct{ block, want string }{
		{"    token: 0123456789abcdef\n", "env:NAME or file:PATH"},
		{"    url: defectdojo.example.com\n", "consumers.defectdojo.url: not an http or https URL"},
		{"    url: https://admin:pw@dd.example.com\n", "consumers.defectdojo.url: holds a user and password"},
		{"    url: https://dd.example.com/?token=x\n", "consumers.defectdojo.url: has a query"},
		{"    engagement_per_scan: true\n    engagement_name: x\n", "consumers.defectdojo.engagement_name: not with engagement_per_scan"},
		{"    tags: [\"two words\"]\n", `consumers.defectdojo.tags[0]: "two words" is not a DefectDojo tag`},
		{"    tags: [\"a,b\"]\n", `consumers.defectdojo.tags[0]: "a,b" is not a DefectDojo tag`},
		{"    product_name: \" \"\n", "consumers.defectdojo.product_name: is blank"},
		{"    description_template: \"{{.RawIssue.Title\"\n", "consumers.defectdojo.description_template:"},
		{"    close_old_findings: sometimes\n", "cannot unmarshal"},
		{"    product: shop\n", "field product not found"},
	} {
		_, err := parseDefectDojo(t, tc.block)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want %q", tc.block, err, tc.want)
		}
	}
}
