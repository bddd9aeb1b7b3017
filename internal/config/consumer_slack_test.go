package config

import (
	"strings"
	"testing"
)

func parseSlack(t *testing.T, block string) (*Slack, error) {
	t.Helper()
	c, err := Parse([]byte("consumers:\n  slack:\n"+block), Names{Resolve: func(s string) (string, bool) { return s, true }})
	if err != nil {
		return nil, err
	}
	return c.Consumers.Slack, nil
}

func TestSlackBlock(t *testing.T) {
	s, err := parseSlack(t, `    token: env:SLACK_BOT
    channel: "#security"
    channels:
      "@acme/payments": "#payments-sec"
      "@acme/platform": C0123456789
    template: "Dracon scan <scanID> found <numResults>"
    top: 0
    allow_failure: true
    filter: {new_only: true}
`)
	if err != nil {
		t.Fatal(err)
	}
	if s.Token != "env:SLACK_BOT" || s.Webhook != "" || s.Channel != "#security" || s.Channels["@acme/payments"] != "#payments-sec" ||
		s.Channels["@acme/platform"] != "C0123456789" || !strings.Contains(s.Template, "<scanID>") || s.Top == nil || *s.Top != 0 ||
		!s.AllowFailure || !s.Filter.NewOnly {
		t.Errorf("slack = %+v", *s)
	}
	// Both credentials: the token is used, the webhook kept as given.
	if _, err := parseSlack(t, "    webhook: env:A\n    token: env:B\n    channel: C1\n    channels: {\"@acme/x\": C2}\n"); err != nil {
		t.Errorf("webhook and token: %v", err)
	}
	// top unset is nil: the consumer's default (10), not "none".
	s, err = parseSlack(t, "    webhook: file:/run/secrets/slack\n")
	if err != nil {
		t.Fatal(err)
	}
	if s.Top != nil || s.Webhook != "file:/run/secrets/slack" {
		t.Errorf("slack = %+v", *s)
	}
}

func TestSlackBlockRefused(t *testing.T) {
	for _, tc := range []struct{ block, want string }{
		{"    webhook: https://hooks.slack.com/services/T0/B0/x\n", "env:NAME or file:PATH"},
		{"    token: xoxb-123-456\n    channel: C1\n", "env:NAME or file:PATH"},
		{"    token: env:B\n", "consumers.slack.channel: a bot token posts to a channel"},
		{"    webhook: env:A\n    channels: {\"@acme/payments\": \"#pay\"}\n", "consumers.slack.channels: per-team channels need a bot token"},
		{"    token: env:B\n    channel: \"#sec ops\"\n", `consumers.slack.channel: "#sec ops" is not a Slack channel`},
		{"    token: env:B\n    channel: C1\n    channels: {\"@acme/payments\": \"\"}\n", `consumers.slack.channels.@acme/payments: "" is not a Slack channel`},
		{"    token: env:B\n    channel: C1\n    top: 51\n", "consumers.slack.top: 51 is not between 0 and 50"},
		{"    token: env:B\n    channel: C1\n    top: -1\n", "consumers.slack.top: -1 is not between 0 and 50"},
		{"    token: env:B\n    channel: C1\n    chanel: C2\n", "field chanel not found"},
	} {
		_, err := parseSlack(t, tc.block)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want an error with %q", tc.block, err, tc.want)
		}
	}
}
