package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/draconsec/dracon/internal/config"
	"github.com/draconsec/dracon/internal/consumers"
	"github.com/draconsec/dracon/internal/consumers/consumertest"
	"github.com/draconsec/dracon/internal/summary"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func selected(run *consumers.Run) []consumers.Finding {
	return consumers.Select(consumers.Flatten(run.Results), config.Filter{})
}

func webhookConsumer(t *testing.T, srvURL string, cfg config.Slack, log io.Writer) *Consumer {
	t.Helper()
	c, err := New(&cfg, consumertest.Env(t, map[string]string{WebhookEnv: srvURL + hookPath}, log))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func botConsumer(t *testing.T, srvURL string, cfg config.Slack, log io.Writer) *Consumer {
	t.Helper()
	c, err := newConsumer(&cfg, consumertest.Env(t, map[string]string{TokenEnv: testToken}, log), slack.OptionAPIURL(srvURL+"/api/"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// posted are the forms of the requests made to a Web API method.
func posted(t *testing.T, rec *consumertest.Recorder, method string) []url.Values {
	var out []url.Values
	for _, q := range rec.Requests() {
		if q.Path == "/api/"+method {
			v, err := url.ParseQuery(string(q.Body))
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, v)
		}
	}
	return out
}

// TestWebhookBlocks: through an incoming webhook the run is one Block
// Kit message, pinned by a golden file; the webhook URL, a credential,
// is in no log line.
func TestWebhookBlocks(t *testing.T) {
	f, rec, srv := newFakeSlack(t)
	var log bytes.Buffer
	c := webhookConsumer(t, srv.URL, config.Slack{}, &log)
	run := consumertest.Run(t)
	d, err := c.Publish(context.Background(), run, selected(run))
	if err != nil {
		t.Fatal(err)
	}
	if d.Created != 1 || d.Failed != 0 || len(f.webhookPosts) != 1 {
		t.Fatalf("delivery %+v, %d posts", d, len(f.webhookPosts))
	}
	var pretty bytes.Buffer
	json.Indent(&pretty, f.webhookPosts[0], "", "  ")
	pretty.WriteByte('\n')
	golden(t, "webhook_blocks.json", pretty.Bytes())
	body := string(f.webhookPosts[0])
	for _, want := range []string{
		// The verdict, the counts, a link to a finding's line at the commit.
		`:x: Dracon: acme/shop (main) failed`, `*Verdict:* failed`, `policy dracon.pull_request denies 3 new high findings`,
		`*18 findings, 9 new*, 1 fixed since the last scan`, `*High*\n4 new · 8 total`,
		`<https://github.com/acme/shop/blob/0123456789abcdef0123456789abcdef01234567/settings.py#L3|settings.py:3>`,
		`*Top new findings* (9 of 9)`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the message lacks %q", want)
		}
	}
	// The request goes to the webhook's URL, and nothing else carries it.
	rec.NoSecrets(t, consumertest.Secrets(t))
	if strings.Contains(body, "q8Jf2LmZ0aXc4VnR7tYb1sWe") {
		t.Error("the message carries the webhook URL")
	}
	if strings.Contains(log.String(), "q8Jf2LmZ0aXc4VnR7tYb1sWe") || !strings.Contains(log.String(), "posted the run's message") {
		t.Errorf("log:\n%s", log.String())
	}
}

// TestWebhookTemplate: with Dracon's template the payload is Dracon's:
// {"text": ...} and nothing else, placeholders replaced as Dracon did.
func TestWebhookTemplate(t *testing.T) {
	f, rec, srv := newFakeSlack(t)
	c := webhookConsumer(t, srv.URL, config.Slack{Template: DefaultTemplate}, nil)
	run := consumertest.Run(t)
	if _, err := c.Publish(context.Background(), run, selected(run)); err != nil {
		t.Fatal(err)
	}
	want := `{"text":"Dracon scan 7f9c2a9e-0d2c-4c36-9a47-3d6f0b1f6e11, started at 2026-12-01 10:00:00 +0000 UTC, completed with 18 findings, out of which, 9 new"}`
	if len(f.webhookPosts) != 1 || string(f.webhookPosts[0]) != want {
		t.Errorf("posted %q, want %s", f.webhookPosts, want)
	}
	rec.NoSecrets(t, consumertest.Secrets(t))
}

// TestWebhookAnswers: an answer other than "ok" fails the delivery, as it
// failed Dracon's, with Slack's error code and never the URL; a 429 is
// waited out as Retry-After says.
func TestWebhookAnswers(t *testing.T) {
	for _, tc := range []struct {
		name   string
		faults []fault
		want   string
	}{
		{"invalid_payload", []fault{{status: 400, slackErr: "invalid_payload"}}, "answered 400 Bad Request: invalid_payload"},
		{"removed webhook", []fault{{status: 404, slackErr: "no_service"}}, "no_service (the webhook was removed"},
		{"200 but not ok", []fault{{status: 200, slackErr: "queued"}}, "answered 200 OK: queued"},
		{"429 then ok", []fault{{status: 429, retryAfter: "1"}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, rec, srv := newFakeSlack(t)
			f.fail("webhook", tc.faults...)
			c := webhookConsumer(t, srv.URL, config.Slack{}, nil)
			run := consumertest.Run(t)
			start := time.Now()
			d, err := c.Publish(context.Background(), run, selected(run))
			if tc.want == "" {
				if err != nil || d.Created != 1 || len(f.webhookPosts) != 1 {
					t.Fatalf("got %v, %+v, %d posts", err, d, len(f.webhookPosts))
				}
				if time.Since(start) < time.Second {
					t.Error("Retry-After: 1 was not waited for")
				}
			} else {
				if err == nil || !strings.Contains(err.Error(), tc.want) || d.Failed != 1 {
					t.Fatalf("got %v, %+v; want a failure with %q", err, d, tc.want)
				}
				if strings.Contains(err.Error(), "q8Jf2LmZ0aXc4VnR7tYb1sWe") {
					t.Errorf("the error quotes the webhook URL: %v", err)
				}
			}
			rec.NoSecrets(t, consumertest.Secrets(t))
		})
	}
}

// slackWorld is a workspace: #security (the default channel, found by
// name through two pages of conversations.list), #payments-sec (a team's)
// and some other channels.
func slackWorld(t *testing.T) (*fakeSlack, *consumertest.Recorder, string, *fakeChannel, *fakeChannel) {
	f, rec, srv := newFakeSlack(t)
	for i := range 250 {
		f.addChannel(fmt.Sprintf("C0OTHER%03d", i), fmt.Sprintf("other-%03d", i), false)
	}
	security := f.addChannel("C0SECURITY1", "security", true)
	payments := f.addChannel("C0PAYMENTS1", "payments-sec", true)
	return f, rec, srv.URL, security, payments
}

var teamConfig = config.Slack{Channel: "#security", Channels: map[string]string{"@acme/payments": "#payments-sec"}}

// TestBotTeamsAndReruns: each team's channel gets its findings, the
// default channel the rest; the same run sent again changes nothing; a
// re-run of the commit (a new scan) edits both messages, found again
// through a page of newer messages, and posts none.
func TestBotTeamsAndReruns(t *testing.T) {
	f, rec, srvURL, security, payments := slackWorld(t)
	c := botConsumer(t, srvURL, teamConfig, nil)
	run := consumertest.Run(t)
	findings := selected(run)
	d, err := c.Publish(context.Background(), run, findings)
	if err != nil {
		t.Fatal(err)
	}
	if d.Created != 2 || d.Failed != 0 {
		t.Fatalf("first run: %+v", d)
	}
	if len(security.messages) != 1 || len(payments.messages) != 1 {
		t.Fatalf("messages: %d in #security, %d in #payments-sec", len(security.messages), len(payments.messages))
	}
	// Each channel lists its own findings: payments' are in #payments-sec
	// only.
	var ofPayments, ofOthers int
	for _, fd := range findings {
		if consumers.Owners(fd.Issue)[0] == "@acme/payments" {
			ofPayments++
		} else {
			ofOthers++
		}
	}
	if s := string(payments.messages[0].Blocks); !strings.Contains(s, fmt.Sprintf("*@acme/payments: %d findings, ", ofPayments)) {
		t.Errorf("#payments-sec's message does not count its %d findings:\n%s", ofPayments, s)
	}
	if s := string(security.messages[0].Blocks); !strings.Contains(s, fmt.Sprintf("*%d findings, ", ofOthers)) {
		t.Errorf("#security's message does not count the other %d findings:\n%s", ofOthers, s)
	}
	forms := posted(t, rec, "chat.postMessage")
	var blocks bytes.Buffer
	json.Indent(&blocks, []byte(forms[1].Get("blocks")), "", "  ")
	blocks.WriteByte('\n')
	golden(t, "team_blocks.json", blocks.Bytes())
	var meta slack.SlackMetadata
	if err := json.Unmarshal([]byte(forms[0].Get("metadata")), &meta); err != nil || meta.EventType != EventType || meta.EventPayload["key"] != MessageKey(run) {
		t.Errorf("metadata %s: %v", forms[0].Get("metadata"), err)
	}

	// The same run again: nothing to change.
	d, err = c.Publish(context.Background(), run, findings)
	if err != nil || d.Unchanged != 2 || d.Created+d.Updated+d.Failed != 0 {
		t.Fatalf("the same run again: %+v, %v", d, err)
	}
	// People talk in the channels: the run's message is now on the
	// second page of the history.
	for i := range 150 {
		f.say(security, time.Now(), "U0PERSON", "", fmt.Sprintf("message %d", i), "")
		f.say(payments, time.Now(), "U0PERSON", "", fmt.Sprintf("message %d", i), "")
	}
	// A re-run of the commit's pipeline is a new scan of the same commit.
	rerun := consumertest.Run(t)
	rerun.Scan.ScanUuid = "0b6f1e2d-1111-4c36-9a47-3d6f0b1f6e11"
	d, err = c.Publish(context.Background(), rerun, selected(rerun))
	if err != nil || d.Updated != 2 || d.Created+d.Unchanged+d.Failed != 0 {
		t.Fatalf("re-run: %+v, %v", d, err)
	}
	if calls, _ := f.count("chat.postMessage"); calls != 2 {
		t.Errorf("%d chat.postMessage calls in all, want the first run's 2", calls)
	}
	if !strings.Contains(string(security.messages[0].Blocks), "0b6f1e2d-1111") || security.messages[0].Edited == nil {
		t.Errorf("#security's message was not edited to the re-run's scan")
	}
	for _, q := range posted(t, rec, "conversations.history") {
		if q.Get("include_all_metadata") != "1" || q.Get("limit") != "100" || q.Get("oldest") == "" {
			t.Errorf("conversations.history asked with %v", q)
		}
	}
	if n := len(posted(t, rec, "conversations.history")); n != 2+2+4 {
		t.Errorf("%d conversations.history calls, want 8 (one page a channel twice, then two)", n)
	}
	rec.NoSecrets(t, consumertest.Secrets(t))
}

// TestRerunAfterPartialFailure: the app was not in #payments-sec, so the
// first run told #security only and counted the other as failed. Invited,
// the re-run posts #payments-sec's message and leaves #security's.
func TestRerunAfterPartialFailure(t *testing.T) {
	f, rec, srvURL, security, payments := slackWorld(t)
	payments.member = false
	c := botConsumer(t, srvURL, teamConfig, nil)
	run := consumertest.Run(t)
	d, err := c.Publish(context.Background(), run, selected(run))
	if err != nil {
		t.Fatal(err)
	}
	if d.Created != 1 || d.Failed != 1 || len(d.Errors) != 1 || !strings.Contains(d.Errors[0], "#payments-sec") || !strings.Contains(d.Errors[0], "not_in_channel: invite the app") {
		t.Fatalf("first run: %+v", d)
	}
	f.mu.Lock()
	payments.member = true
	f.mu.Unlock()
	d, err = c.Publish(context.Background(), run, selected(run))
	if err != nil || d.Created != 1 || d.Unchanged != 1 || d.Failed != 0 {
		t.Fatalf("re-run: %+v, %v", d, err)
	}
	if len(security.messages) != 1 || len(payments.messages) != 1 {
		t.Errorf("messages: %d in #security, %d in #payments-sec; want one each", len(security.messages), len(payments.messages))
	}
	rec.NoSecrets(t, consumertest.Secrets(t))
}

// TestBotRetries: 500s and a 429 with Retry-After are retried within the
// delivery; the message is posted once.
func TestBotRetries(t *testing.T) {
	f, rec, srvURL, security, _ := slackWorld(t)
	f.fail("conversations.history", fault{status: 500})
	f.fail("chat.postMessage", fault{status: 503}, fault{status: 429, retryAfter: "1"})
	c := botConsumer(t, srvURL, config.Slack{Channel: "C0SECURITY1"}, nil)
	run := consumertest.Run(t)
	start := time.Now()
	d, err := c.Publish(context.Background(), run, selected(run))
	if err != nil || d.Created != 1 || d.Failed != 0 {
		t.Fatalf("%+v, %v", d, err)
	}
	if calls, ok := f.count("chat.postMessage"); calls != 3 || ok != 1 || len(security.messages) != 1 {
		t.Errorf("chat.postMessage: %d calls, %d ok, %d messages; want 3, 1, 1", calls, ok, len(security.messages))
	}
	if time.Since(start) < time.Second {
		t.Error("Retry-After: 1 was not waited for")
	}
	// A channel id needs no conversations.list.
	if calls, _ := f.count("conversations.list"); calls != 0 {
		t.Errorf("%d conversations.list calls for a channel given by id", calls)
	}
	rec.NoSecrets(t, consumertest.Secrets(t))
}

// TestBotRefusedToken: a token Slack refuses fails the whole delivery
// before anything is posted.
func TestBotRefusedToken(t *testing.T) {
	f, rec, srvURL, _, _ := slackWorld(t)
	f.token = "xoxb-a-different-token"
	c := botConsumer(t, srvURL, teamConfig, nil)
	run := consumertest.Run(t)
	_, err := c.Publish(context.Background(), run, selected(run))
	if err == nil || !strings.Contains(err.Error(), "invalid_auth: check the bot token (DRACON_SLACK_TOKEN)") {
		t.Fatalf("got %v", err)
	}
	if calls, _ := f.count("chat.postMessage"); calls != 0 {
		t.Errorf("%d posts with a refused token", calls)
	}
	rec.NoSecrets(t, consumertest.Secrets(t))
}

// TestBotOnlyEditsItsOwn: a message with this run's key that another app
// posted is not the run's message, and one older than the window is not
// looked for: both get a new message.
func TestBotOnlyEditsItsOwn(t *testing.T) {
	f, rec, srvURL, security, _ := slackWorld(t)
	run := consumertest.Run(t)
	meta := fmt.Sprintf(`{"event_type":%q,"event_payload":{"key":%q,"digest":"x"}}`, EventType, MessageKey(run))
	f.say(security, time.Now().Add(-8*24*time.Hour), botUser, botID, "a week and a day ago", meta)
	f.say(security, time.Now(), "U0OTHERAPP", "B0OTHERAPP", "another app's", meta)
	c := botConsumer(t, srvURL, config.Slack{Channel: "#security"}, nil)
	d, err := c.Publish(context.Background(), run, selected(run))
	if err != nil || d.Created != 1 || d.Updated != 0 {
		t.Fatalf("%+v, %v", d, err)
	}
	if calls, _ := f.count("chat.update"); calls != 0 || len(security.messages) != 3 {
		t.Errorf("%d chat.update calls, %d messages", calls, len(security.messages))
	}
	rec.NoSecrets(t, consumertest.Secrets(t))
}

// TestBotReplacesDeletedMessage: the run's message was deleted between
// the look-up and the edit: it is posted anew, once.
func TestBotReplacesDeletedMessage(t *testing.T) {
	f, rec, srvURL, security, _ := slackWorld(t)
	c := botConsumer(t, srvURL, config.Slack{Channel: "#security"}, nil)
	run := consumertest.Run(t)
	if _, err := c.Publish(context.Background(), run, selected(run)); err != nil {
		t.Fatal(err)
	}
	f.fail("chat.update", fault{slackErr: "message_not_found"})
	rerun := consumertest.Run(t)
	rerun.Scan.ScanUuid = "0b6f1e2d-2222-4c36-9a47-3d6f0b1f6e11"
	d, err := c.Publish(context.Background(), rerun, selected(rerun))
	if err != nil || d.Created != 1 || d.Failed != 0 || len(security.messages) != 2 {
		t.Fatalf("%+v, %v, %d messages", d, err, len(security.messages))
	}
	rec.NoSecrets(t, consumertest.Secrets(t))
}

// TestBotTemplate: a template's text message, with metadata, so re-runs
// edit it too; the edit clears blocks an earlier message had.
func TestBotTemplate(t *testing.T) {
	f, rec, srvURL, security, _ := slackWorld(t)
	run := consumertest.Run(t)
	blocksFirst := botConsumer(t, srvURL, config.Slack{Channel: "#security"}, nil)
	if _, err := blocksFirst.Publish(context.Background(), run, selected(run)); err != nil {
		t.Fatal(err)
	}
	c := botConsumer(t, srvURL, config.Slack{Channel: "#security", Template: "<numResults> findings, <newResults> new (scan <scanID>)"}, nil)
	d, err := c.Publish(context.Background(), run, selected(run))
	if err != nil || d.Updated != 1 {
		t.Fatalf("%+v, %v", d, err)
	}
	m := security.messages[0]
	if m.Text != "18 findings, 9 new (scan 7f9c2a9e-0d2c-4c36-9a47-3d6f0b1f6e11)" || m.Blocks != nil {
		t.Errorf("message %q with blocks %s", m.Text, m.Blocks)
	}
	if calls, _ := f.count("chat.postMessage"); calls != 1 {
		t.Errorf("%d posts, want 1", calls)
	}
	rec.NoSecrets(t, consumertest.Secrets(t))
}

// TestDryRun: with a token, a dry run looks (auth.test, the channel list,
// the history) and prints what it would post or edit, changing nothing;
// without credentials it prints every message as would-create, and the
// same consumer refuses to publish for real.
func TestDryRun(t *testing.T) {
	f, rec, srvURL, security, _ := slackWorld(t)
	c := botConsumer(t, srvURL, teamConfig, nil)
	run := consumertest.Run(t)
	if _, err := c.Publish(context.Background(), run, selected(run)); err != nil {
		t.Fatal(err)
	}
	posts, _ := f.count("chat.postMessage")
	rerun := consumertest.Run(t)
	rerun.Scan.ScanUuid = "0b6f1e2d-3333-4c36-9a47-3d6f0b1f6e11"
	var out bytes.Buffer
	rerun.DryRun = &out
	if _, err := c.Publish(context.Background(), rerun, selected(rerun)); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{"slack: would update the run's message (ts " + security.messages[0].TS + ") in #security", "would update the run's message", `"type": "header"`, "0b6f1e2d-3333"} {
		if !strings.Contains(text, want) {
			t.Errorf("dry run output lacks %q:\n%s", want, text)
		}
	}
	if p, _ := f.count("chat.postMessage"); p != posts {
		t.Error("a dry run posted")
	}
	if u, _ := f.count("chat.update"); u != 0 {
		t.Error("a dry run edited")
	}
	rec.NoSecrets(t, consumertest.Secrets(t))

	c, err := New(&teamConfig, consumertest.Env(t, nil, nil))
	if !errors.Is(err, ErrNoCredentials) || c == nil || !strings.Contains(err.Error(), "consumers.slack.token or "+TokenEnv) {
		t.Fatalf("New without credentials: %v", err)
	}
	out.Reset()
	run.DryRun = &out
	if _, err := c.Publish(context.Background(), run, selected(run)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"slack: would create a message in #security (no credentials", "slack: would create a message in #payments-sec", `*@acme/payments: 4 findings, 2 new*`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("dry run without credentials lacks %q:\n%s", want, out.String())
		}
	}
	for _, s := range consumertest.Secrets(t) {
		if strings.Contains(out.String(), s) {
			t.Errorf("the dry run printed a secret value %q…", s[:4])
		}
	}
	run.DryRun = nil
	if _, err := c.Publish(context.Background(), run, selected(run)); !errors.Is(err, ErrNoCredentials) {
		t.Errorf("publishing without credentials: %v", err)
	}
}

// TestLimits: a run whose findings and reasons overflow what a message
// can hold still makes a message Slack takes (50 blocks, 3000 characters
// a section, 150 a header), says how much it left out, and escapes what
// a report may hold (<!channel> would notify everyone).
func TestLimits(t *testing.T) {
	f, rec, srv := newFakeSlack(t)
	top := 50
	c := webhookConsumer(t, srv.URL, config.Slack{Top: &top}, nil)
	run := consumertest.Run(t)
	run.Scan.ScanTags["repository"] = "acme/" + strings.Repeat("a-very-long-repository-name-", 10)
	res := &v1.EnrichedLaunchToolResponse{OriginalResults: &v1.LaunchToolResponse{ToolName: "semgrep"}}
	for i := range 300 {
		res.Issues = append(res.Issues, &v1.EnrichedIssue{IsNew: true, FindingId: fmt.Sprintf("g%04d", i),
			FirstSeen: timestamppb.New(consumertest.Start), Annotations: map[string]string{"Owner-0": "@acme/platform"},
			RawIssue: &v1.Issue{ToolName: "semgrep", RuleId: "rule-" + strings.Repeat("x", 100), Severity: v1.Severity_SEVERITY_HIGH,
				Title:    "<!channel> & <script> " + strings.Repeat("long title ", 30),
				Location: &v1.Location{Path: strings.Repeat("deep/", 60) + fmt.Sprintf("f%d.go", i), StartLine: int32(i + 1)}}})
	}
	run.Results = append(run.Results, res)
	for i := range 100 {
		run.Summary.Reasons = append(run.Summary.Reasons, fmt.Sprintf("reason %d: %s", i, strings.Repeat("because ", 20)))
	}
	d, err := c.Publish(context.Background(), run, selected(run))
	if err != nil || d.Created != 1 {
		t.Fatalf("%+v, %v (the fake checks Slack's limits)", d, err)
	}
	var msg struct {
		Blocks []struct {
			Type string `json:"type"`
			Text struct {
				Text string `json:"text"`
			} `json:"text"`
		} `json:"blocks"`
	}
	body := f.webhookPosts[0]
	if err := json.Unmarshal(body, &msg); err != nil {
		t.Fatal(err)
	}
	if len(msg.Blocks) > maxBlocks {
		t.Errorf("%d blocks", len(msg.Blocks))
	}
	for _, b := range msg.Blocks {
		if n := len([]rune(b.Text.Text)); b.Type == "header" && n > maxHeaderText || n > maxSectionText {
			t.Errorf("a %s block of %d characters", b.Type, n)
		}
	}
	for _, want := range []string{"*Top new findings* (50 of 309)", "… and 259 more new findings", "more reasons", "&lt;!channel&gt; &amp; &lt;script&gt;"} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("the message lacks %q", want)
		}
	}
	if bytes.Contains(body, []byte("<!channel>")) {
		t.Error("a finding's title notifies the channel")
	}
	rec.NoSecrets(t, consumertest.Secrets(t))
}

func TestNewChecks(t *testing.T) {
	for _, tc := range []struct {
		cfg  config.Slack
		vars map[string]string
		want string
	}{
		{config.Slack{}, map[string]string{TokenEnv: testToken}, "consumers.slack.channel is not set"},
		{config.Slack{Channels: map[string]string{"@acme/payments": "#pay"}}, map[string]string{WebhookEnv: "https://hooks.slack.com/services/T/B/x"}, "consumers.slack.channels needs a bot token (consumers.slack.token, or DRACON_SLACK_TOKEN)"},
		{config.Slack{Token: "env:MY_SLACK"}, nil, "consumers.slack.token: env:MY_SLACK is empty or unset"},
		{config.Slack{Webhook: "env:MY_HOOK"}, nil, "consumers.slack.webhook: env:MY_HOOK is empty or unset"},
		{config.Slack{}, map[string]string{WebhookEnv: "http://hooks.slack.example/services/T/B/secretpart"}, "consumers.slack.webhook: the incoming webhook is not an https URL"},
		{config.Slack{}, map[string]string{WebhookEnv: "hooks.slack.com/services/T/B/secretpart"}, "consumers.slack.webhook: the incoming webhook is not an https URL"},
	} {
		_, err := New(&tc.cfg, consumertest.Env(t, tc.vars, nil))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want %q", tc.cfg, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "secretpart") {
			t.Errorf("the error quotes the webhook URL: %v", err)
		}
	}
}

// TestMessageKey: a re-run of the same commit (a new scan id) keys the
// same message; another pull request, commit or set of tools does not.
func TestMessageKey(t *testing.T) {
	run := consumertest.Run(t)
	key := MessageKey(run)
	rerun := consumertest.Run(t)
	rerun.Scan.ScanUuid = "another"
	if MessageKey(rerun) != key {
		t.Error("a re-run of the same commit keys another message")
	}
	for name, change := range map[string]func(r *consumers.Run){
		"commit":       func(r *consumers.Run) { r.Scan.ScanTags["commit"] = "fedcba" },
		"pull request": func(r *consumers.Run) { r.Scan.ScanTags["pr"] = "7" },
		"ref":          func(r *consumers.Run) { r.Scan.ScanTags["ref"] = "refs/heads/dev" },
		"tools":        func(r *consumers.Run) { r.Summary.Producers = []summary.Producer{{Name: "semgrep"}} },
	} {
		r := consumertest.Run(t)
		change(r)
		if MessageKey(r) == key {
			t.Errorf("another %s keys the same message", name)
		}
	}
	local := consumertest.Run(t)
	delete(local.Scan.ScanTags, "commit")
	if MessageKey(local) != "scan:"+consumertest.ScanID {
		t.Errorf("a scan without a commit keys %q", MessageKey(local))
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run with -update if the change is meant)", path)
	}
}

// TestTeamWithNothingLeft: a team whose findings are all gone on the
// re-run has its message brought to zero; a team never told of anything
// gets no message.
func TestTeamWithNothingLeft(t *testing.T) {
	f, rec, srvURL, _, payments := slackWorld(t)
	quiet := f.addChannel("C0QUIET0001", "quiet-team", true)
	cfg := config.Slack{Channel: "#security", Channels: map[string]string{"@acme/payments": "#payments-sec", "@acme/nobody": "#quiet-team"}}
	c := botConsumer(t, srvURL, cfg, nil)
	run := consumertest.Run(t)
	d, err := c.Publish(context.Background(), run, selected(run))
	if err != nil || d.Created != 2 || len(quiet.messages) != 0 {
		t.Fatalf("%+v, %v, %d messages in #quiet-team", d, err, len(quiet.messages))
	}
	rerun := consumertest.Run(t)
	rerun.Scan.ScanUuid = "0b6f1e2d-4444-4c36-9a47-3d6f0b1f6e11"
	var left []consumers.Finding
	for _, fd := range selected(rerun) {
		if consumers.Owners(fd.Issue)[0] != "@acme/payments" {
			left = append(left, fd)
		}
	}
	d, err = c.Publish(context.Background(), rerun, left)
	if err != nil || d.Updated != 2 || d.Created != 0 {
		t.Fatalf("re-run: %+v, %v", d, err)
	}
	if s := string(payments.messages[0].Blocks); !strings.Contains(s, "*@acme/payments: 0 findings, 0 new*") || !strings.Contains(s, "No new findings.") {
		t.Errorf("#payments-sec's message was not brought to zero:\n%s", s)
	}
	rec.NoSecrets(t, consumertest.Secrets(t))
}

// TestTokenWinsOverWebhook: with both credentials the bot token is used
// (it can edit re-runs' messages), and the log says so.
func TestTokenWinsOverWebhook(t *testing.T) {
	_, rec, srvURL, security, _ := slackWorld(t)
	var log bytes.Buffer
	env := consumertest.Env(t, map[string]string{TokenEnv: testToken, WebhookEnv: srvURL + hookPath}, &log)
	c, err := newConsumer(&config.Slack{Channel: "C0SECURITY1"}, env, slack.OptionAPIURL(srvURL+"/api/"))
	if err != nil {
		t.Fatal(err)
	}
	run := consumertest.Run(t)
	if d, err := c.Publish(context.Background(), run, selected(run)); err != nil || d.Created != 1 {
		t.Fatalf("%+v, %v", d, err)
	}
	if len(security.messages) != 1 || rec.Count("POST", hookPath) != 0 {
		t.Errorf("%d messages through the token, %d webhook posts", len(security.messages), rec.Count("POST", hookPath))
	}
	if !strings.Contains(log.String(), "both set: the token is used") || strings.Contains(log.String(), "q8Jf2LmZ0aXc4VnR7tYb1sWe") {
		t.Errorf("log:\n%s", log.String())
	}
	rec.NoSecrets(t, consumertest.Secrets(t))
}
