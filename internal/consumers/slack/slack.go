// Package slack tells a Slack channel of each run: one Block Kit message
// with the verdict, the counts by severity and the top new findings with
// links to their lines, or Dracon's short text message. With a bot token
// each team's channel gets its findings, and a re-run of the same
// commit edits the run's message instead of posting again; an incoming
// webhook posts once per run to its one channel.
package slack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/slack-go/slack"

	"github.com/draconsec/dracon/internal/config"
	"github.com/draconsec/dracon/internal/consumers"
)

// The environment variables credentials are read from when the config
// names none.
const (
	WebhookEnv = "DRACON_SLACK_WEBHOOK"
	TokenEnv   = "DRACON_SLACK_TOKEN"
)

// DefaultTop is how many new findings a message lists unless top says.
const DefaultTop = 10

// ErrNoCredentials is in New's error when neither a webhook nor a token
// is set. The consumer New returns with it can still do a dry run (it
// prints every message as "would post"); it refuses to publish.
var ErrNoCredentials = errors.New("no Slack credentials")

// Consumer posts a run's messages.
type Consumer struct {
	webhook  string        // incoming webhook URL (a credential)
	api      *slack.Client // with a bot token
	http     *http.Client
	channel  string
	channels map[string]string // owner → channel
	template string
	top      int
	log      io.Writer
	// missing is the error New returned when there were no credentials.
	missing error
}

// New builds the consumer from its block. It needs a webhook or a bot
// token (from the config's env:/file: reference, else DRACON_SLACK_WEBHOOK
// or DRACON_SLACK_TOKEN); a token needs a channel; per-team channels need
// a token.
func New(cfg *config.Slack, env consumers.Env) (*Consumer, error) {
	return newConsumer(cfg, env)
}

// newConsumer is New with slack-go options (tests point it at their
// server).
func newConsumer(cfg *config.Slack, env consumers.Env, opts ...slack.Option) (*Consumer, error) {
	c := &Consumer{channel: cfg.Channel, channels: map[string]string{}, template: cfg.Template, top: DefaultTop, log: env.Log}
	if c.log == nil {
		c.log = io.Discard
	}
	if cfg.Top != nil {
		c.top = *cfg.Top
	}
	for team, ch := range cfg.Channels {
		c.channels[team] = ch
	}
	token, err := env.Secret(cfg.Token, TokenEnv)
	if err != nil {
		return nil, fmt.Errorf("consumers.slack.token: %w", err)
	}
	if cfg.Token != "" && token == "" {
		return nil, fmt.Errorf("consumers.slack.token: %s is empty or unset", cfg.Token)
	}
	c.http = env.HTTPClient("slack")
	if token != "" {
		if hook, _ := env.Secret(cfg.Webhook, WebhookEnv); hook != "" {
			fmt.Fprintln(c.log, "dracon: slack: a bot token and an incoming webhook are both set: the token is used")
		}
		if strings.TrimSpace(c.channel) == "" {
			return nil, errors.New("consumers.slack.channel is not set: a bot token posts to a channel (an id such as C0123456789, or #name)")
		}
		// slack-go logs only in debug mode; should it ever, the run's
		// masked log is where it goes.
		opts = append([]slack.Option{slack.OptionHTTPClient(c.http), slack.OptionLog(log.New(c.log, "dracon: slack: ", 0))}, opts...)
		c.api = slack.New(token, opts...)
		return c, nil
	}
	hook, err := env.Secret(cfg.Webhook, WebhookEnv)
	if err != nil {
		return nil, fmt.Errorf("consumers.slack.webhook: %w", err)
	}
	switch {
	case hook == "" && cfg.Webhook != "":
		c.missing = fmt.Errorf("%w: consumers.slack.webhook: %s is empty or unset", ErrNoCredentials, cfg.Webhook)
	case hook == "" && len(c.channels) > 0:
		c.missing = fmt.Errorf("%w: set consumers.slack.token or %s (a bot token: consumers.slack.channels needs one)", ErrNoCredentials, TokenEnv)
	case hook == "":
		c.missing = fmt.Errorf("%w: set consumers.slack.webhook or %s (an incoming webhook), or consumers.slack.token or %s with consumers.slack.channel (a bot token)",
			ErrNoCredentials, WebhookEnv, TokenEnv)
	case len(c.channels) > 0:
		return nil, fmt.Errorf("consumers.slack.channels needs a bot token (consumers.slack.token, or %s): an incoming webhook posts to its one channel", TokenEnv)
	}
	if c.missing != nil {
		if env.DryRun {
			return c, nil // a dry run shows what it would post
		}
		return c, c.missing
	}
	// The URL is never quoted: it is the credential.
	if u, err := url.Parse(hook); err != nil || u.Host == "" || !(u.Scheme == "https" || u.Scheme == "http" && loopback(u.Hostname())) {
		return nil, errors.New("consumers.slack.webhook: the incoming webhook is not an https URL (Slack's are https://hooks.slack.com/services/...)")
	}
	c.webhook = hook
	return c, nil
}

func (c *Consumer) String() string { return "slack" }

// Publish sends the run's messages: one per channel. A channel that
// could not be told is counted failed and the others are still sent; a
// refused token fails the whole delivery.
func (c *Consumer) Publish(ctx context.Context, run *consumers.Run, findings []consumers.Finding) (consumers.Delivery, error) {
	if c.missing != nil && run.DryRun == nil {
		return consumers.Delivery{}, c.missing
	}
	v := newRunView(run, c.top)
	audiences := c.audiences(findings, len(run.Fixed))
	render := func(a audience) message {
		if c.template != "" {
			return templateMessage(c.template, run.Scan, a.findings)
		}
		return blocksMessage(v, a)
	}
	switch {
	case c.api != nil:
		return c.publishAPI(ctx, run, audiences, render)
	case c.webhook != "":
		return c.publishWebhook(ctx, run, render(audiences[0]))
	}
	// A dry run without credentials: every message as it would be posted.
	for _, a := range audiences {
		if len(a.teams) > 0 && len(a.findings) == 0 {
			fmt.Fprintf(run.DryRun, "slack: would post nothing to %s: none of %s's findings\n", a.channel, strings.Join(a.teams, ", "))
			continue
		}
		to := "the incoming webhook's channel"
		if a.channel != "" {
			to = a.channel
		}
		fmt.Fprintf(run.DryRun, "slack: would create a message in %s (no credentials: %v)\n", to, c.missing)
		if err := printPayload(run.DryRun, render(a)); err != nil {
			return consumers.Delivery{}, err
		}
	}
	return consumers.Delivery{}, nil
}

// audiences splits the findings by channel: with per-team channels, each
// channel gets the findings its owners own, the default channel those no
// mapped owner owns; without, the default channel gets them all. Two
// owners mapped to one channel share its message. The default channel
// comes first, then the others by name.
func (c *Consumer) audiences(findings []consumers.Finding, fixed int) []audience {
	def := &audience{channel: c.channel, fixed: fixed}
	byChannel := map[string]*audience{}
	for team, ch := range c.channels {
		if ch == c.channel {
			continue // the default channel's message has them
		}
		a := byChannel[ch]
		if a == nil {
			a = &audience{channel: ch}
			byChannel[ch] = a
		}
		a.teams = append(a.teams, team)
	}
	for _, f := range findings {
		sent := map[string]bool{}
		for _, owner := range consumers.Owners(f.Issue) {
			ch, ok := c.channelOf(owner)
			if !ok || sent[ch] {
				continue
			}
			sent[ch] = true
			if a := byChannel[ch]; a != nil {
				a.findings = append(a.findings, f)
			}
		}
		if len(sent) == 0 || sent[c.channel] {
			def.findings = append(def.findings, f)
		}
	}
	out := []audience{*def}
	names := make([]string, 0, len(byChannel))
	for ch := range byChannel {
		names = append(names, ch)
	}
	sort.Strings(names)
	for _, ch := range names {
		a := byChannel[ch]
		sort.Strings(a.teams)
		out = append(out, *a)
	}
	return out
}

// channelOf is the channel an owner's findings go to. CODEOWNERS names
// are matched as GitHub matches them, without regard to case.
func (c *Consumer) channelOf(owner string) (string, bool) {
	if ch, ok := c.channels[owner]; ok {
		return ch, true
	}
	for team, ch := range c.channels {
		if strings.EqualFold(team, owner) {
			return ch, true
		}
	}
	return "", false
}

// loopback says whether host is this machine, the one place a webhook
// may be plain http (a test's server).
func loopback(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || ip != nil && ip.IsLoopback()
}
