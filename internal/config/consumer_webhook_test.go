package config

import (
	"strings"
	"testing"
)

func parseWebhook(t *testing.T, block string) (*Webhook, error) {
	t.Helper()
	c, err := Parse([]byte("consumers:\n  webhook:\n"+block), Names{Resolve: func(s string) (string, bool) { return s, true }})
	if err != nil {
		return nil, err
	}
	return c.Consumers.Webhook, nil
}

func TestWebhookBlock(t *testing.T) {
	w, err := parseWebhook(t, `    url: https://hooks.example.com/dracon
    secret: env:HOOK_SECRET
    headers:
      Authorization: file:/run/secrets/hook-auth
      X-Api-Key: env:HOOK_KEY
    max_findings_per_request: 250
    insecure_http: false
    filter: {min_severity: high}
`)
	if err != nil {
		t.Fatal(err)
	}
	if w.URL != "https://hooks.example.com/dracon" || w.Secret != "env:HOOK_SECRET" || w.Headers["Authorization"] != "file:/run/secrets/hook-auth" ||
		w.Headers["X-Api-Key"] != "env:HOOK_KEY" || w.MaxFindingsPerRequest != 250 || w.InsecureHTTP || w.Filter.MinSeverity != "high" {
		t.Errorf("webhook = %+v", *w)
	}
	for _, ok := range []string{
		"    url: http://localhost:8080/hook\n",
		"    url: http://127.0.0.1:9/hook\n",
		"    url: http://[::1]:9/hook\n",
		"    url: http://hooks.internal/dracon\n    insecure_http: true\n",
	} {
		if _, err := parseWebhook(t, ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
}

func TestWebhookBlockRefused(t *testing.T) {
	for _, tc := range []struct{ block, want string }{
		{"    secret: env:S\n", "consumers.webhook.url: is required"},
		{"    url: http://hooks.example.com/x\n", "consumers.webhook.url: http sends the findings in the clear"},
		{"    url: ftp://hooks.example.com/x\n", "scheme ftp is not https"},
		{"    url: /relative\n", "not an absolute URL"},
		{"    url: https://user:pw@hooks.example.com/x\n", "holds a user and password"},
		{"    url: https://h.example.com\n    secret: s3cr3t\n", "env:NAME or file:PATH"},
		{"    url: https://h.example.com\n    headers: {Authorization: Bearer abc}\n", "env:NAME or file:PATH"},
		{"    url: https://h.example.com\n    headers: {\"Bad Name\": env:X}\n", `consumers.webhook.headers.Bad Name: "Bad Name" is not a header name`},
		{"    url: https://h.example.com\n    headers: {x-dracon-signature-256: env:X}\n", "Dracon sets X-Dracon-Signature-256 itself"},
		{"    url: https://h.example.com\n    max_findings_per_request: -5\n", "max_findings_per_request: -5 is not between 1 and 100000"},
	} {
		_, err := parseWebhook(t, tc.block)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want an error with %q", tc.block, err, tc.want)
		}
	}
}
