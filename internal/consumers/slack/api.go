package slack

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/draconsec/dracon/internal/consumers"
)

// EventType is the message metadata's event_type on every message Dracon
// posts with a bot token; its event_payload's key says which run the
// message is of.
const EventType = "dracon_scan"

// How far back a re-run looks for the run's earlier message in a
// channel: the newest historyMessages messages of the last historyWindow,
// historyPage a request. A re-run after that posts anew.
const (
	historyWindow   = 7 * 24 * time.Hour
	historyMessages = 200
	historyPage     = 100
	// listPages bounds the channel list read to find channels given by
	// name (200 a page).
	listPages = 100
)

// channelID matches a Slack conversation id: C (public), G (private),
// D (direct message), then upper-case letters and digits.
var channelID = regexp.MustCompile(`^[CGD][A-Z0-9]{6,}$`)

// MessageKey is what identifies a run's message from one run to its
// re-run: the repository, ref, commit, pull request (tag pr) and the
// producers that ran (two jobs of one pipeline that run different tools
// keep a message each). A scan with no commit keys on its scan id: it
// has no re-run to recognise.
func MessageKey(run *consumers.Run) string {
	tags := run.Scan.GetScanTags()
	if tags["commit"] == "" {
		return "scan:" + run.Scan.GetScanUuid()
	}
	var producers []string
	if run.Summary != nil {
		for _, p := range run.Summary.Producers {
			producers = append(producers, p.Name)
		}
	} else {
		for _, r := range run.Results {
			producers = append(producers, r.GetOriginalResults().GetToolName())
		}
	}
	sort.Strings(producers)
	sum := sha256.Sum256([]byte(strings.Join([]string{tags["repository"], tags["ref"], tags["commit"], tags["pr"], strings.Join(producers, ",")}, "\n")))
	return hex.EncodeToString(sum[:16])
}

// earlier is the run's message found in a channel.
type earlier struct {
	ts, digest string
}

// publishAPI sends each audience's message with the bot token: edited
// where the channel has the run's message, posted where it has none.
func (c *Consumer) publishAPI(ctx context.Context, run *consumers.Run, audiences []audience, render func(audience) message) (consumers.Delivery, error) {
	var d consumers.Delivery
	auth, err := c.api.AuthTestContext(ctx)
	if err != nil {
		return d, fmt.Errorf("slack: the token was refused (auth.test): %s", explain(err))
	}
	key := MessageKey(run)
	ids := c.resolve(ctx, audiences)
	for _, a := range audiences {
		id, err := ids(a.channel)
		if err != nil {
			d.Failed++
			d.Errors = append(d.Errors, fmt.Sprintf("slack: %s: %v", a.channel, err))
			continue
		}
		prev, err := c.find(ctx, id, key, auth)
		if err != nil {
			// Without the channel's history a post could repeat the
			// run's message: not posting is the idempotent failure.
			d.Failed++
			d.Errors = append(d.Errors, fmt.Sprintf("slack: %s: cannot look for the run's earlier message (conversations.history): %s", a.channel, explain(err)))
			continue
		}
		if len(a.teams) > 0 && len(a.findings) == 0 && prev == nil {
			// A team with nothing to be told of gets no message; one told
			// before gets its message brought to zero below.
			if run.DryRun != nil {
				fmt.Fprintf(run.DryRun, "slack: would post nothing to %s: none of %s's findings\n", a.channel, strings.Join(a.teams, ", "))
			}
			continue
		}
		msg := render(a)
		meta := slack.SlackMetadata{EventType: EventType, EventPayload: map[string]any{
			"key": key, "digest": msg.digest(), "scan_id": run.Scan.GetScanUuid(),
		}}
		switch {
		case prev != nil && prev.digest == msg.digest():
			if run.DryRun != nil {
				// A dry run counts nothing, whatever it would do.
				fmt.Fprintf(run.DryRun, "slack: %s already has this message (ts %s): unchanged\n", a.channel, prev.ts)
				continue
			}
			d.Unchanged++
		case run.DryRun != nil:
			if prev != nil {
				fmt.Fprintf(run.DryRun, "slack: would update the run's message (ts %s) in %s\n", prev.ts, a.channel)
			} else {
				fmt.Fprintf(run.DryRun, "slack: would create a message in %s\n", a.channel)
			}
			if err := printPayload(run.DryRun, msg); err != nil {
				return d, err
			}
		case prev != nil:
			err := c.update(ctx, id, prev.ts, msg, meta)
			if gone(err) {
				// Deleted, or too old to edit: the run's message is posted
				// anew, once.
				fmt.Fprintf(c.log, "dracon: slack: %s: the run's message (ts %s) cannot be edited (%s): posting it anew\n", a.channel, prev.ts, explain(err))
				if err = c.post(ctx, id, msg, meta); err == nil {
					d.Created++
					continue
				}
			}
			if err != nil {
				d.Failed++
				d.Errors = append(d.Errors, fmt.Sprintf("slack: %s: chat.update: %s", a.channel, explain(err)))
				continue
			}
			d.Updated++
			fmt.Fprintf(c.log, "dracon: slack: updated the run's message in %s\n", a.channel)
		default:
			if err := c.post(ctx, id, msg, meta); err != nil {
				d.Failed++
				d.Errors = append(d.Errors, fmt.Sprintf("slack: %s: chat.postMessage: %s", a.channel, explain(err)))
				continue
			}
			d.Created++
			fmt.Fprintf(c.log, "dracon: slack: posted the run's message to %s\n", a.channel)
		}
	}
	return d, nil
}

func (c *Consumer) post(ctx context.Context, channel string, msg message, meta slack.SlackMetadata) error {
	opts := []slack.MsgOption{slack.MsgOptionText(msg.Text, false), slack.MsgOptionMetadata(meta)}
	if len(msg.Blocks) > 0 {
		opts = append(opts, slack.MsgOptionBlocks(msg.Blocks...))
	}
	_, _, err := c.api.PostMessageContext(ctx, channel, opts...)
	return err
}

func (c *Consumer) update(ctx context.Context, channel, ts string, msg message, meta slack.SlackMetadata) error {
	// Blocks are always given: none (a template's text message) clears
	// the blocks an earlier run's message had.
	_, _, _, err := c.api.UpdateMessageContext(ctx, channel, ts,
		slack.MsgOptionText(msg.Text, false), slack.MsgOptionBlocks(msg.Blocks...), slack.MsgOptionMetadata(meta))
	return err
}

// gone says whether chat.update failed because the message cannot be
// edited any more.
func gone(err error) bool {
	var se slack.SlackErrorResponse
	if !errors.As(err, &se) {
		return false
	}
	switch se.Err {
	case "message_not_found", "cant_update_message", "edit_window_closed":
		return true
	}
	return false
}

// find looks for the run's message among the channel's recent ones: the
// newest message with Dracon's metadata and this run's key that this app
// posted.
func (c *Consumer) find(ctx context.Context, channel, key string, auth *slack.AuthTestResponse) (*earlier, error) {
	params := &slack.GetConversationHistoryParameters{ChannelID: channel, Limit: historyPage, IncludeAllMetadata: true,
		Oldest: fmt.Sprintf("%d.000000", time.Now().Add(-historyWindow).Unix())}
	seen := 0
	for {
		resp, err := c.api.GetConversationHistoryContext(ctx, params)
		if err != nil {
			return nil, err
		}
		for _, m := range resp.Messages {
			seen++
			ours := auth.BotID != "" && m.BotID == auth.BotID || auth.BotID == "" && m.User == auth.UserID
			if ours && m.Metadata.EventType == EventType && m.Metadata.EventPayload["key"] == key {
				digest, _ := m.Metadata.EventPayload["digest"].(string)
				return &earlier{ts: m.Timestamp, digest: digest}, nil
			}
			if seen >= historyMessages {
				return nil, nil
			}
		}
		if resp.ResponseMetaData.NextCursor == "" {
			return nil, nil
		}
		params.Cursor = resp.ResponseMetaData.NextCursor
	}
}

// resolve maps each audience's channel to its id: ids as they are,
// names ("#payments-sec") through the channels the app can see.
func (c *Consumer) resolve(ctx context.Context, audiences []audience) func(string) (string, error) {
	names := map[string]string{} // name → id
	need := false
	for _, a := range audiences {
		need = need || !channelID.MatchString(a.channel)
	}
	var listErr error
	if need {
		params := &slack.GetConversationsParameters{ExcludeArchived: true, Limit: 200, Types: []string{"public_channel", "private_channel"}}
		for range listPages {
			chans, next, err := c.api.GetConversationsContext(ctx, params)
			if err != nil {
				listErr = err
				break
			}
			for _, ch := range chans {
				names[ch.Name] = ch.ID
			}
			if next == "" {
				break
			}
			params.Cursor = next
		}
	}
	return func(ch string) (string, error) {
		if channelID.MatchString(ch) {
			return ch, nil
		}
		if listErr != nil {
			return "", fmt.Errorf("cannot look the channel up by name (conversations.list): %s; or give its id", explain(listErr))
		}
		if id, ok := names[strings.TrimPrefix(ch, "#")]; ok {
			return id, nil
		}
		return "", errors.New("no such channel among those the app can see (conversations.list: public channels, and private ones the app was invited to); or give its id")
	}
}

// explain is a Slack error as a person can act on it: the error code,
// the scope Slack says is missing, what usually fixes it.
func explain(err error) string {
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		msg := se.Err
		if se.Needed != "" {
			msg += " (the app needs the scope " + se.Needed + ")"
		}
		switch se.Err {
		case "not_in_channel":
			msg += ": invite the app to the channel (/invite @app)"
		case "channel_not_found":
			msg += ": the channel does not exist, or is private and the app was not invited"
		case "invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive":
			msg += ": check the bot token (" + TokenEnv + ")"
		}
		return msg
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

// publishWebhook posts the message through the incoming webhook. Slack
// answers "ok", or an error code with a 4xx (invalid_payload, no_service,
// channel_is_archived, ...): anything else fails the delivery, as it
// failed Dracon's. slack-go's PostWebhook reads no answer, so the POST is
// made here, through the same retrying client.
func (c *Consumer) publishWebhook(ctx context.Context, run *consumers.Run, msg message) (consumers.Delivery, error) {
	if run.DryRun != nil {
		fmt.Fprintln(run.DryRun, "slack: would create a message in the incoming webhook's channel (a webhook cannot edit: each run posts anew)")
		return consumers.Delivery{}, printPayload(run.DryRun, msg)
	}
	// Without HTML escaping the body reads as the message does (<url|text>
	// rather than \u003curl|text\u003e); Slack takes either.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(msg); err != nil {
		return consumers.Delivery{}, err
	}
	body := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	failed := consumers.Delivery{Failed: 1}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.webhook, bytes.NewReader(body))
	if err != nil {
		return failed, errors.New("slack: the incoming webhook URL is not usable")
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		// The error quotes the URL, the credential: only its cause is told.
		return failed, fmt.Errorf("slack: incoming webhook: %s", explain(err))
	}
	defer resp.Body.Close()
	said, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
	answer := strings.TrimSpace(string(said))
	if resp.StatusCode == http.StatusOK && strings.EqualFold(answer, "ok") {
		fmt.Fprintln(c.log, "dracon: slack: posted the run's message through the incoming webhook")
		return consumers.Delivery{Created: 1}, nil
	}
	msgText := fmt.Sprintf("slack: the incoming webhook answered %s", resp.Status)
	if answer != "" {
		msgText += ": " + strings.Join(strings.Fields(answer), " ")
	}
	switch answer {
	case "no_service", "invalid_token", "no_team":
		msgText += " (the webhook was removed, or its app uninstalled: make a new one)"
	case "channel_is_archived", "channel_not_found":
		msgText += " (the webhook's channel is gone: make a new webhook)"
	}
	return failed, errors.New(msgText)
}

// printPayload writes a message as it would be sent, readable.
func printPayload(w io.Writer, msg message) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(msg); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}
