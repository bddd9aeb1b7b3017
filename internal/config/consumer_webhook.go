package config

import (
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// Webhook configures consumers.webhook. Webhook: the enriched results POSTed as JSON, signed with HMAC-SHA256.
type Webhook struct {
	Delivery `yaml:",inline"`
	// URL receives the POSTs: https, or http to localhost only (unless
	// InsecureHTTP). No credential belongs in it: configs are committed;
	// put one in Headers.
	URL string `yaml:"url"`
	// Secret signs each body (X-Dracon-Signature-256: sha256=<HMAC>).
	// Unset: DRACON_WEBHOOK_SECRET; neither: bodies go unsigned.
	Secret Secret `yaml:"secret"`
	// Headers are extra headers sent with every POST, name to where its
	// value is read from (env:NAME or file:PATH): an Authorization
	// header, an API key.
	Headers map[string]Secret `yaml:"headers"`
	// MaxFindingsPerRequest splits a large run into several POSTs of at
	// most this many findings (and fixed findings) each (default 1000).
	MaxFindingsPerRequest int `yaml:"max_findings_per_request"`
	// InsecureHTTP allows an http URL to another host than localhost:
	// bodies and headers then cross the network in the clear.
	InsecureHTTP bool `yaml:"insecure_http"`
}

// WebhookMaxFindingsPerRequest bounds max_findings_per_request: a body
// of more findings than this runs to hundreds of megabytes.
const WebhookMaxFindingsPerRequest = 100000

// webhookReservedHeaders are the headers Dracon sets itself.
var webhookReservedHeaders = []string{"Content-Type", "Content-Length", "Host", "User-Agent",
	"X-Dracon-Signature-256", "X-Dracon-Delivery", "X-Dracon-Event"}

// validate checks what is particular to this consumer; the common block
// is checked by Delivery.validate.
func (c *Webhook) validate(key string, add func(key, format string, args ...any)) {
	if c.URL == "" {
		add(key+".url", "is required: where the results are POSTed")
	} else if err := CheckWebhookURL(c.URL, c.InsecureHTTP); err != "" {
		add(key+".url", "%s", err)
	}
	if c.MaxFindingsPerRequest < 0 || c.MaxFindingsPerRequest > WebhookMaxFindingsPerRequest {
		add(key+".max_findings_per_request", "%d is not between 1 and %d", c.MaxFindingsPerRequest, WebhookMaxFindingsPerRequest)
	}
	names := make([]string, 0, len(c.Headers))
	for n := range c.Headers {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if !validHeaderName(n) {
			add(key+".headers."+n, "%q is not a header name", n)
			continue
		}
		for _, r := range webhookReservedHeaders {
			if http.CanonicalHeaderKey(n) == r {
				add(key+".headers."+n, "Dracon sets %s itself", r)
			}
		}
	}
}

// CheckWebhookURL says what is wrong with a webhook URL ("" when
// nothing): it must be absolute, https unless it points at this machine
// or insecure allows http, and hold no user:password.
func CheckWebhookURL(raw string, insecure bool) string {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "not a URL: " + strings.TrimPrefix(err.Error(), "parse ")
	case u.Host == "":
		return "not an absolute URL (https://host/path)"
	case u.User != nil:
		return "holds a user and password; configs are committed: send a credential in headers (env: or file:)"
	case u.Scheme == "https":
		return ""
	case u.Scheme != "http":
		return "scheme " + u.Scheme + " is not https"
	case insecure || isLoopback(u.Hostname()):
		return ""
	}
	return "http sends the findings in the clear: use https (or insecure_http: true; http is allowed to localhost)"
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// validHeaderName is RFC 9110's token.
func validHeaderName(n string) bool {
	if n == "" {
		return false
	}
	for _, r := range n {
		if r > 0x7e || r <= ' ' || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r) {
			return false
		}
	}
	return true
}
