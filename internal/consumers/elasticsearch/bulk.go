package elasticsearch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"
)

// op is one bulk action: its metadata line and its source line, each
// ending in a newline, as the bulk API's NDJSON body has them.
type op struct {
	index, id    string
	meta, source []byte
}

// actionMeta is an action line's object.
type actionMeta struct {
	Index string `json:"_index"`
	ID    string `json:"_id"`
	// Version and VersionType make a write conditional: with
	// external_gte, a document written with a higher version (a later
	// scan's) is kept, and the write is refused with a 409.
	Version     int64  `json:"version,omitempty"`
	VersionType string `json:"version_type,omitempty"`
}

// ndjsonLine encodes v as one line, without escaping <, > and & (bulk
// bodies are read by Elasticsearch and by people reading a dry run, not
// by a browser).
func ndjsonLine(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil // Encode ends it with the newline
}

func newOp(action string, m actionMeta, source any) (op, error) {
	src, err := ndjsonLine(source)
	if err != nil {
		return op{}, err
	}
	return withSource(action, m, src)
}

// withSource is an op whose source line is encoded already (a finding's
// document is the same in both indexes: it is encoded once).
func withSource(action string, m actionMeta, src []byte) (op, error) {
	meta, err := ndjsonLine(map[string]actionMeta{action: m})
	if err != nil {
		return op{}, err
	}
	return op{index: m.Index, id: m.ID, meta: meta, source: src}, nil
}

// result is what the cluster said of one op.
type result struct {
	Status int
	// Result is created or updated for a write done.
	Result string
	// ErrType and Reason are the item's error, or why it was not sent.
	ErrType, Reason string
}

func (r result) ok() bool { return r.Status >= 200 && r.Status < 300 }

// conflict: a conditional write found a later version there (a later
// scan's current state).
func (r result) conflict() bool { return r.Status == http.StatusConflict }

func (r result) failure() string {
	switch {
	case r.Status == 0:
		return r.Reason
	case r.ErrType != "":
		return fmt.Sprintf("%d %s: %s", r.Status, r.ErrType, r.Reason)
	}
	return fmt.Sprintf("%d %s", r.Status, r.Reason)
}

// bulkResponse is the bulk API's answer: one item per action, in order,
// each an object with one key, the action.
type bulkResponse struct {
	Errors bool                          `json:"errors"`
	Items  []map[string]bulkResponseItem `json:"items"`
}

type bulkResponseItem struct {
	Index  string `json:"_index"`
	ID     string `json:"_id"`
	Status int    `json:"status"`
	Result string `json:"result"`
	Error  *struct {
		Type   string `json:"type"`
		Reason string `json:"reason"`
	} `json:"error"`
}

func (it bulkResponseItem) result() result {
	r := result{Status: it.Status, Result: it.Result}
	if it.Error != nil {
		r.ErrType, r.Reason = it.Error.Type, it.Error.Reason
	}
	return r
}

// refusedError is the cluster refusing the credentials or what they may
// do: the whole delivery fails, as nothing else will get through.
type refusedError struct{ msg string }

func (e *refusedError) Error() string { return e.msg }

// sender sends ops through the bulk API in batches and retries the items
// the cluster rejected for being busy.
type sender struct {
	perform esapi.Transport
	// opaqueID is sent as X-Opaque-Id, so the cluster's task list and
	// slow logs say which scan a request is.
	opaqueID   string
	batchSize  int
	flushBytes int
	// retryWait is the first wait before sending rejected items again; it
	// doubles each round, for at most retryRounds rounds, within the
	// deadline.
	retryWait   time.Duration
	retryRounds int
	log         io.Writer
	// refusal says what to do about a 401 or 403.
	refusal func(status int, reason string) error
}

// send delivers ops and says what became of each. Request failures and
// item errors are in the results; the error is for a refusal only.
func (s *sender) send(ctx context.Context, ops []op) ([]result, error) {
	res := make([]result, len(ops))
	all := make([]int, len(ops))
	for i := range all {
		all[i] = i
	}
	if err := s.sendEach(ctx, ops, all, res); err != nil {
		return res, err
	}
	// An item the cluster rejected with 429 (es_rejected_execution_
	// exception: its write queue is full) was not written; once the
	// batches are done it is sent again, after a wait that gives the
	// queue time to drain. The request itself was answered 200, so the
	// HTTP client's retries never see it.
	for round := 0; round < s.retryRounds; round++ {
		var again []int
		for i, r := range res {
			if r.Status == http.StatusTooManyRequests {
				again = append(again, i)
			}
		}
		if len(again) == 0 {
			break
		}
		wait := s.retryWait << round
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			break // no time left: they stay failed, with the cluster's reason
		}
		fmt.Fprintf(s.log, "dracon: elasticsearch: the cluster rejected %d documents as busy (429); sending them again in %s\n", len(again), wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return res, nil
		case <-t.C:
		}
		if err := s.sendEach(ctx, ops, again, res); err != nil {
			return res, err
		}
	}
	return res, nil
}

// sendEach sends the ops named by which, batch_size documents or
// flush_bytes bytes a request, whichever comes first.
func (s *sender) sendEach(ctx context.Context, ops []op, which []int, res []result) error {
	var body bytes.Buffer
	var batch []int
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := s.request(ctx, ops, batch, body.Bytes(), res)
		body.Reset()
		batch = batch[:0]
		return err
	}
	for _, i := range which {
		n := len(ops[i].meta) + len(ops[i].source)
		if len(batch) > 0 && (len(batch) >= s.batchSize || body.Len()+n > s.flushBytes) {
			if err := flush(); err != nil {
				return err
			}
		}
		body.Write(ops[i].meta)
		body.Write(ops[i].source)
		batch = append(batch, i)
	}
	return flush()
}

// request sends one batch and records each op's result.
func (s *sender) request(ctx context.Context, ops []op, batch []int, body []byte, res []result) error {
	failAll := func(reason string) {
		for _, i := range batch {
			res[i] = result{Reason: reason}
		}
	}
	if err := ctx.Err(); err != nil {
		failAll("not sent: the delivery's deadline passed first (" + err.Error() + ")")
		return nil
	}
	req := esapi.BulkRequest{
		Body: bytes.NewReader(body),
		Header: http.Header{
			"Content-Type": {"application/x-ndjson"},
			"X-Opaque-Id":  {s.opaqueID},
		},
	}
	resp, err := req.Do(ctx, s.perform)
	if err != nil {
		failAll("bulk request failed: " + err.Error())
		return nil
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		failAll("bulk request: reading the answer: " + err.Error())
		return nil
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return s.refusal(resp.StatusCode, errorReason(data))
	case resp.StatusCode == http.StatusRequestEntityTooLarge:
		failAll(fmt.Sprintf("bulk request: %s: the body (%d bytes) is over the cluster's http.max_content_length: lower flush_bytes", resp.Status(), len(body)))
		return nil
	case resp.IsError():
		failAll(fmt.Sprintf("bulk request: %s: %s", resp.Status(), errorReason(data)))
		return nil
	}
	var br bulkResponse
	if err := json.Unmarshal(data, &br); err != nil {
		failAll("bulk request: the answer is not the bulk API's: " + err.Error())
		return nil
	}
	if len(br.Items) != len(batch) {
		failAll(fmt.Sprintf("bulk request: the cluster answered %d items for %d actions", len(br.Items), len(batch)))
		return nil
	}
	for k, item := range br.Items {
		for _, it := range item { // one key: the action's name
			res[batch[k]] = it.result()
		}
	}
	return nil
}

// errorReason is an error answer's reason: Elasticsearch's and
// OpenSearch's {"error": {"type", "reason"}}, or {"error": "text"}, or
// the body's start.
func errorReason(data []byte) string {
	var e struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(data, &e) == nil && len(e.Error) > 0 {
		var obj struct {
			Type      string `json:"type"`
			Reason    string `json:"reason"`
			RootCause []struct {
				Type   string `json:"type"`
				Reason string `json:"reason"`
			} `json:"root_cause"`
		}
		if json.Unmarshal(e.Error, &obj) == nil && (obj.Type != "" || obj.Reason != "") {
			if obj.Reason == "" && len(obj.RootCause) > 0 {
				obj.Reason = obj.RootCause[0].Reason
			}
			return obj.Type + ": " + obj.Reason
		}
		var text string
		if json.Unmarshal(e.Error, &text) == nil {
			return text
		}
	}
	s := strings.TrimSpace(string(data))
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	if s == "" {
		return "no body"
	}
	return s
}

// isContextError: the deadline or a cancellation, which no other node
// would answer differently.
func isContextError(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
