package slack

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/draconsec/dracon/internal/consumers/consumertest"
)

// fakeSlack speaks the part of Slack's Web API the consumer uses, as
// Slack documents it: form-encoded POSTs to /api/<method> with the token
// in the form (slack-go's way) or an Authorization: Bearer header,
// {"ok":true,...} or {"ok":false,"error":"..."} answers with HTTP 200,
// cursor pagination in response_metadata.next_cursor, message metadata
// returned only with include_all_metadata, and Block Kit's limits
// checked as Slack checks them (invalid_blocks). It also serves an
// incoming webhook at /services/..., which answers "ok" or an error code.
type fakeSlack struct {
	t     *testing.T
	mu    sync.Mutex
	token string
	botID string
	// channels by id, in the order conversations.list lists them.
	channels []*fakeChannel
	// webhookPosts are the bodies the incoming webhook accepted.
	webhookPosts [][]byte
	// faults are answers given instead of the method's, first come first
	// served: an HTTP status (with Retry-After for 429) or a Slack error.
	faults map[string][]fault
	// calls counts the calls of each method, faults included; okCalls
	// those answered ok.
	calls, okCalls map[string]int
	seq            int
}

type fault struct {
	status     int
	retryAfter string
	slackErr   string
}

type fakeChannel struct {
	id, name string
	private  bool
	member   bool
	messages []*fakeMessage // oldest first
}

type fakeMessage struct {
	TS       string          `json:"ts"`
	Type     string          `json:"type"`
	User     string          `json:"user,omitempty"`
	BotID    string          `json:"bot_id,omitempty"`
	Text     string          `json:"text"`
	Blocks   json.RawMessage `json:"blocks,omitempty"`
	Metadata json.RawMessage `json:"metadata,omitempty"`
	Edited   *struct {
		User string `json:"user"`
		TS   string `json:"ts"`
	} `json:"edited,omitempty"`
}

const (
	testToken = "xoxb-1111-2222-3kX9cVbN0qR7sT5uW8yZ"
	botUser   = "U0DRACON"
	botID     = "B0DRACON"
	hookPath  = "/services/T0ACME/B0HOOK/q8Jf2LmZ0aXc4VnR7tYb1sWe"
)

func newFakeSlack(t *testing.T) (*fakeSlack, *consumertest.Recorder, *httptest.Server) {
	f := &fakeSlack{t: t, token: testToken, botID: botID, faults: map[string][]fault{}, calls: map[string]int{}, okCalls: map[string]int{}}
	rec := &consumertest.Recorder{}
	srv := httptest.NewServer(rec.Wrap(f))
	t.Cleanup(srv.Close)
	return f, rec, srv
}

func (f *fakeSlack) addChannel(id, name string, member bool) *fakeChannel {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := &fakeChannel{id: id, name: name, member: member}
	f.channels = append(f.channels, ch)
	return ch
}

func (f *fakeSlack) channel(idOrName string) *fakeChannel {
	for _, ch := range f.channels {
		if ch.id == idOrName || "#"+ch.name == idOrName || ch.name == idOrName {
			return ch
		}
	}
	return nil
}

// nextTS is a message timestamp: seconds now, and a sequence that keeps
// them unique and ordered.
func (f *fakeSlack) nextTS(at time.Time) string {
	f.seq++
	return fmt.Sprintf("%d.%06d", at.Unix(), f.seq)
}

// say posts a message as someone else (a person, another app), at.
func (f *fakeSlack) say(ch *fakeChannel, at time.Time, user, bot, text string, metadata string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := &fakeMessage{TS: f.nextTS(at), Type: "message", User: user, BotID: bot, Text: text}
	if metadata != "" {
		m.Metadata = json.RawMessage(metadata)
	}
	ch.messages = append(ch.messages, m)
}

func (f *fakeSlack) fail(method string, fs ...fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults[method] = append(f.faults[method], fs...)
}

func (f *fakeSlack) count(method string) (calls, ok int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[method], f.okCalls[method]
}

func (f *fakeSlack) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if strings.HasPrefix(r.URL.Path, "/services/") {
		f.webhook(w, r)
		return
	}
	method, ok := strings.CutPrefix(r.URL.Path, "/api/")
	if !ok || r.Method != http.MethodPost {
		http.NotFound(w, r)
		return
	}
	f.calls[method]++
	if q := f.faults[method]; len(q) > 0 {
		flt := q[0]
		f.faults[method] = q[1:]
		if flt.status != 0 {
			if flt.retryAfter != "" {
				w.Header().Set("Retry-After", flt.retryAfter)
			}
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(flt.status)
			fmt.Fprintf(w, "<html><body>%d</body></html>", flt.status)
			return
		}
		reply(w, map[string]any{"ok": false, "error": flt.slackErr})
		return
	}
	if err := r.ParseForm(); err != nil {
		reply(w, map[string]any{"ok": false, "error": "invalid_form_data"})
		return
	}
	token := r.PostForm.Get("token")
	if bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		token = bearer
	}
	switch {
	case token == "":
		reply(w, map[string]any{"ok": false, "error": "not_authed"})
		return
	case token != f.token:
		reply(w, map[string]any{"ok": false, "error": "invalid_auth"})
		return
	}
	answer := map[string]any{}
	var slackErr string
	switch method {
	case "auth.test":
		answer = map[string]any{"url": "https://acme.slack.com/", "team": "Acme", "user": "dracon", "team_id": "T0ACME", "user_id": botUser, "bot_id": f.botID, "is_enterprise_install": false}
	case "conversations.list":
		answer, slackErr = f.list(r.PostForm)
	case "conversations.history":
		answer, slackErr = f.history(r.PostForm)
	case "chat.postMessage":
		answer, slackErr = f.postMessage(r.PostForm)
	case "chat.update":
		answer, slackErr = f.update(r.PostForm)
	default:
		slackErr = "unknown_method"
	}
	if slackErr != "" {
		reply(w, map[string]any{"ok": false, "error": slackErr})
		return
	}
	f.okCalls[method]++
	answer["ok"] = true
	reply(w, answer)
}

func reply(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	json.NewEncoder(w).Encode(v)
}

// cursor and offset are Slack's opaque cursors as base64 of an offset.
func cursor(n int) string {
	return base64.StdEncoding.EncodeToString([]byte("offset:" + strconv.Itoa(n)))
}

func offset(c string) (int, bool) {
	if c == "" {
		return 0, true
	}
	b, err := base64.StdEncoding.DecodeString(c)
	if err != nil {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimPrefix(string(b), "offset:"))
	return n, err == nil
}

func limit(form map[string][]string, def, max int) int {
	n, err := strconv.Atoi(first(form, "limit"))
	if err != nil || n <= 0 {
		return def
	}
	return min(n, max)
}

func first(form map[string][]string, k string) string {
	if v := form[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func (f *fakeSlack) list(form map[string][]string) (map[string]any, string) {
	off, ok := offset(first(form, "cursor"))
	if !ok {
		return nil, "invalid_cursor"
	}
	n := limit(form, 100, 1000)
	var page []map[string]any
	for _, ch := range f.channels[min(off, len(f.channels)):min(off+n, len(f.channels))] {
		page = append(page, map[string]any{"id": ch.id, "name": ch.name, "is_channel": !ch.private, "is_group": false,
			"is_private": ch.private, "is_archived": false, "is_member": ch.member})
	}
	next := ""
	if off+n < len(f.channels) {
		next = cursor(off + n)
	}
	return map[string]any{"channels": page, "response_metadata": map[string]any{"next_cursor": next}}, ""
}

func (f *fakeSlack) history(form map[string][]string) (map[string]any, string) {
	ch := f.channel(first(form, "channel"))
	switch {
	case ch == nil || ch.id != first(form, "channel"):
		return nil, "channel_not_found" // history takes an id, never a name
	case !ch.member:
		return nil, "not_in_channel"
	}
	off, ok := offset(first(form, "cursor"))
	if !ok {
		return nil, "invalid_cursor"
	}
	oldest, _ := strconv.ParseFloat(first(form, "oldest"), 64)
	var newestFirst []*fakeMessage
	for i := len(ch.messages) - 1; i >= 0; i-- {
		if ts, _ := strconv.ParseFloat(ch.messages[i].TS, 64); ts > oldest {
			newestFirst = append(newestFirst, ch.messages[i])
		}
	}
	n := limit(form, 100, 999)
	page := []fakeMessage{}
	for _, m := range newestFirst[min(off, len(newestFirst)):min(off+n, len(newestFirst))] {
		cp := *m
		if first(form, "include_all_metadata") != "1" && first(form, "include_all_metadata") != "true" {
			cp.Metadata = nil
		}
		page = append(page, cp)
	}
	next, more := "", off+n < len(newestFirst)
	if more {
		next = cursor(off + n)
	}
	return map[string]any{"messages": page, "has_more": more, "pin_count": 0, "response_metadata": map[string]any{"next_cursor": next}}, ""
}

func (f *fakeSlack) postMessage(form map[string][]string) (map[string]any, string) {
	ch := f.channel(first(form, "channel"))
	if ch == nil {
		return nil, "channel_not_found"
	}
	if !ch.member {
		return nil, "not_in_channel"
	}
	m, e := f.message(form)
	if e != "" {
		return nil, e
	}
	m.TS = f.nextTS(time.Now())
	m.Type, m.User, m.BotID = "message", botUser, f.botID
	ch.messages = append(ch.messages, m)
	return map[string]any{"channel": ch.id, "ts": m.TS, "message": m}, ""
}

func (f *fakeSlack) update(form map[string][]string) (map[string]any, string) {
	ch := f.channel(first(form, "channel"))
	if ch == nil || ch.id != first(form, "channel") {
		return nil, "channel_not_found"
	}
	var target *fakeMessage
	for _, m := range ch.messages {
		if m.TS == first(form, "ts") {
			target = m
		}
	}
	if target == nil {
		return nil, "message_not_found"
	}
	if target.BotID != f.botID {
		return nil, "cant_update_message"
	}
	m, e := f.message(form)
	if e != "" {
		return nil, e
	}
	target.Text, target.Blocks = m.Text, m.Blocks
	if m.Metadata != nil { // chat.update keeps the metadata unless given
		target.Metadata = m.Metadata
	}
	target.Edited = &struct {
		User string `json:"user"`
		TS   string `json:"ts"`
	}{botUser, f.nextTS(time.Now())}
	return map[string]any{"channel": ch.id, "ts": target.TS, "text": target.Text}, ""
}

// message reads text, blocks and metadata from a form, with Slack's
// checks.
func (f *fakeSlack) message(form map[string][]string) (*fakeMessage, string) {
	m := &fakeMessage{Text: first(form, "text")}
	if b := first(form, "blocks"); b != "" {
		if e := checkBlocks([]byte(b)); e != "" {
			return nil, e
		}
		if b != "[]" {
			m.Blocks = json.RawMessage(b)
		}
	}
	if m.Text == "" && m.Blocks == nil {
		return nil, "no_text"
	}
	if md := first(form, "metadata"); md != "" {
		var meta struct {
			EventType    string         `json:"event_type"`
			EventPayload map[string]any `json:"event_payload"`
		}
		if json.Unmarshal([]byte(md), &meta) != nil || meta.EventType == "" || meta.EventPayload == nil {
			return nil, "invalid_metadata_format"
		}
		m.Metadata = json.RawMessage(md)
	}
	return m, ""
}

// checkBlocks applies Block Kit's limits; "" when they hold.
func checkBlocks(raw []byte) string {
	var blocks []struct {
		Type string `json:"type"`
		Text *struct {
			Type string `json:"type"`
			Text string `json:"text"`
		} `json:"text"`
		Fields []struct {
			Text string `json:"text"`
		} `json:"fields"`
		Elements []json.RawMessage `json:"elements"`
	}
	if err := json.Unmarshal(raw, &blocks); err != nil {
		return "invalid_blocks_format"
	}
	if len(blocks) > 50 {
		return "invalid_blocks"
	}
	for _, b := range blocks {
		n := 0
		if b.Text != nil {
			n = len([]rune(b.Text.Text))
		}
		switch b.Type {
		case "header":
			if b.Text == nil || b.Text.Type != "plain_text" || n == 0 || n > 150 {
				return "invalid_blocks"
			}
		case "section":
			if n > 3000 || len(b.Fields) > 10 || b.Text == nil && len(b.Fields) == 0 {
				return "invalid_blocks"
			}
			for _, fl := range b.Fields {
				if len([]rune(fl.Text)) > 2000 {
					return "invalid_blocks"
				}
			}
		case "context":
			if len(b.Elements) == 0 || len(b.Elements) > 10 {
				return "invalid_blocks"
			}
		case "divider":
		default:
			return "invalid_blocks"
		}
	}
	return ""
}

// webhook is an incoming webhook: a JSON body with text or blocks, "ok".
func (f *fakeSlack) webhook(w http.ResponseWriter, r *http.Request) {
	f.calls["webhook"]++
	if r.URL.Path != hookPath {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, "no_service")
		return
	}
	if q := f.faults["webhook"]; len(q) > 0 {
		flt := q[0]
		f.faults["webhook"] = q[1:]
		if flt.retryAfter != "" {
			w.Header().Set("Retry-After", flt.retryAfter)
		}
		w.WriteHeader(flt.status)
		fmt.Fprint(w, flt.slackErr)
		return
	}
	var body struct {
		Text   string          `json:"text"`
		Blocks json.RawMessage `json:"blocks"`
	}
	raw, _ := io.ReadAll(r.Body)
	if r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(raw, &body) != nil || body.Text == "" && body.Blocks == nil {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, "invalid_payload")
		return
	}
	if body.Blocks != nil && checkBlocks(body.Blocks) != "" {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, "invalid_blocks")
		return
	}
	f.okCalls["webhook"]++
	f.webhookPosts = append(f.webhookPosts, raw)
	fmt.Fprint(w, "ok")
}
