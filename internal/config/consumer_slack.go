package config

import (
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Slack configures consumers.slack. Slack: one message per run, through
// an incoming webhook or a bot token (which can post per-team channels
// and edit a re-run's message).
type Slack struct {
	Delivery `yaml:",inline"`
	// Webhook is the incoming webhook URL (a credential: whoever has it
	// can post to the channel). Unset: the environment variable
	// DRACON_SLACK_WEBHOOK.
	Webhook Secret `yaml:"webhook"`
	// Token is a bot token (xoxb-...), for chat.postMessage and
	// chat.update. Unset: DRACON_SLACK_TOKEN. With both a token and a
	// webhook, the token is used (it can do all a webhook can, and edit).
	Token Secret `yaml:"token"`
	// Channel is the default channel of a bot token ("C0123456789", or
	// "#security" looked up by name): it gets the run's message, with the
	// findings no team in Channels owns.
	Channel string `yaml:"channel"`
	// Channels maps an owner (a CODEOWNERS name, "@acme/payments") to the
	// channel that gets the message with that owner's findings. Bot token
	// only: an incoming webhook posts to its one channel.
	Channels map[string]string `yaml:"channels"`
	// Template, when set, sends Dracon's short text message instead of
	// the blocks: <scanID>, <scanStartTime>, <numResults> and
	// <newResults> are replaced.
	Template string `yaml:"template"`
	// Top is how many new findings the message lists (default 10; 0:
	// none, only the counts; at most 50).
	Top *int `yaml:"top"`
}

// SlackMaxTop bounds top: Slack takes 50 blocks a message, and a list
// longer than this is not read in a chat.
const SlackMaxTop = 50

// validate checks what is particular to this consumer; the common block
// is checked by Delivery.validate.
func (c *Slack) validate(key string, add func(key, format string, args ...any)) {
	if c.Token != "" && strings.TrimSpace(c.Channel) == "" {
		add(key+".channel", "a bot token posts to a channel: set channel (an id such as C0123456789, or #name)")
	}
	if len(c.Channels) > 0 && c.Webhook != "" && c.Token == "" {
		add(key+".channels", "per-team channels need a bot token (token): an incoming webhook posts to its one channel")
	}
	if c.Channel != "" {
		checkSlackChannel(key+".channel", c.Channel, add)
	}
	teams := make([]string, 0, len(c.Channels))
	for team := range c.Channels {
		teams = append(teams, team)
	}
	sort.Strings(teams)
	for _, team := range teams {
		if strings.TrimSpace(team) == "" {
			add(key+".channels", "an owner's name is empty")
			continue
		}
		checkSlackChannel(fmt.Sprintf("%s.channels.%s", key, team), c.Channels[team], add)
	}
	if c.Top != nil && (*c.Top < 0 || *c.Top > SlackMaxTop) {
		add(key+".top", "%d is not between 0 and %d", *c.Top, SlackMaxTop)
	}
}

// checkSlackChannel refuses what cannot be a channel: Slack's names and
// ids have no spaces, commas or '#' but the leading one, 80 characters at
// most (names may be in any script, so letters are not listed).
func checkSlackChannel(key, ch string, add func(key, format string, args ...any)) {
	name := strings.TrimPrefix(ch, "#")
	ok := name != "" && utf8.RuneCountInString(name) <= 80
	for _, r := range name {
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == '#' || r == ',' || r == '@' {
			ok = false
		}
	}
	if !ok {
		add(key, "%q is not a Slack channel (an id such as C0123456789, or #name)", ch)
	}
}
