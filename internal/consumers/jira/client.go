package jira

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"

	jira "github.com/andygrunwald/go-jira"
)

// userAgent names Dracon in every request, so a Jira admin reading the
// access log knows who wrote the tickets.
type userAgent struct {
	next  http.RoundTripper
	value string
}

func (u userAgent) RoundTrip(r *http.Request) (*http.Response, error) {
	r2 := r.Clone(r.Context())
	r2.Header.Set("User-Agent", u.value)
	return u.next.RoundTrip(r2)
}

// apiError is a call Jira refused or did not answer: the status (0: no
// answer) and what Jira said.
type apiError struct {
	op     string
	status int
	msg    string
}

func (e *apiError) Error() string {
	if e.status == 0 {
		return fmt.Sprintf("%s: %s", e.op, e.msg)
	}
	return fmt.Sprintf("%s: %d %s: %s", e.op, e.status, http.StatusText(e.status), e.msg)
}

// refused: the credentials are not taken. Every other call would be
// refused too, so the delivery as a whole fails.
func (e *apiError) refused() bool { return e.status == http.StatusUnauthorized }

// unanswered: no answer, or a server error or rate limit the retries
// could not get past. The request may have been carried out all the same.
func (e *apiError) unanswered() bool {
	return e.status == 0 || e.status == http.StatusTooManyRequests || e.status >= 500
}

// failure makes the apiError of a call that returned err. go-jira leaves
// some error bodies unread (create, update, raw requests) and reads
// others into a *jira.Error; either way Jira's own messages are kept.
func failure(op string, resp *jira.Response, err error) *apiError {
	e := &apiError{op: op}
	if resp != nil && resp.Response != nil {
		e.status = resp.StatusCode
	}
	var je *jira.Error
	switch {
	case errors.As(err, &je):
		e.msg = messages(je.ErrorMessages, je.Errors)
	case resp != nil && resp.Response != nil && resp.Body != nil:
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
		resp.Body.Close()
		e.msg = bodyMessage(body)
	}
	if e.msg == "" && err != nil {
		e.msg = err.Error()
	}
	if e.msg == "" {
		e.msg = "no message"
	}
	e.msg = cut(e.msg, 400)
	return e
}

// errorBody is Jira's error answer (ErrorCollection).
type errorBody struct {
	ErrorMessages []string          `json:"errorMessages"`
	Errors        map[string]string `json:"errors"`
}

// bodyMessage is what an error answer says: Jira's messages when it is
// Jira's JSON, else its text (a proxy's page), on one line.
func bodyMessage(body []byte) string {
	var eb errorBody
	if json.Unmarshal(body, &eb) == nil {
		if m := messages(eb.ErrorMessages, eb.Errors); m != "" {
			return m
		}
	}
	return oneLine(string(body))
}

// messages joins Jira's error messages and field errors, fields in order
// so the same error reads the same every time.
func messages(general []string, fields map[string]string) string {
	parts := append([]string(nil), general...)
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		parts = append(parts, k+": "+fields[k])
	}
	return strings.Join(parts, "; ")
}

func cut(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// call sends a request made by go-jira's client and decodes a 2xx answer
// into out (nil: none expected); any other answer is an apiError.
func (c *Consumer) call(ctx context.Context, op, method, path string, body, out any) error {
	req, err := c.client.NewRequestWithContext(ctx, method, path, body)
	if err != nil {
		return &apiError{op: op, msg: err.Error()}
	}
	resp, err := c.client.Do(req, out)
	if err != nil {
		return failure(op, resp, err)
	}
	if out == nil && resp != nil && resp.Body != nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	return nil
}

// createOne creates a ticket with go-jira's Issue.Create.
func (c *Consumer) createOne(ctx context.Context, f *jira.IssueFields) (string, error) {
	issue, resp, err := c.client.Issue.CreateWithContext(ctx, &jira.Issue{Fields: f})
	if err != nil {
		return "", failure("create", resp, err)
	}
	return issue.Key, nil
}

// bulkRequest and bulkAnswer are POST /rest/api/2/issue/bulk's: up to 50
// issues a call. Jira creates what it can: the answer lists the created
// issues in the order asked, and an error for each one it refused, by
// its 0-based place in the request.
type bulkRequest struct {
	IssueUpdates []bulkIssue `json:"issueUpdates"`
}

type bulkIssue struct {
	Fields *jira.IssueFields `json:"fields"`
}

type bulkAnswer struct {
	Issues []struct {
		ID  string `json:"id"`
		Key string `json:"key"`
	} `json:"issues"`
	Errors []struct {
		Status              int       `json:"status"`
		FailedElementNumber int       `json:"failedElementNumber"`
		ElementErrors       errorBody `json:"elementErrors"`
	} `json:"errors"`
}

// createBulk creates the tickets of fields in one call. keys are the
// created tickets' keys in request order ("" for a refused one), refused
// says why each refused one was; err is the call failing as a whole.
func (c *Consumer) createBulk(ctx context.Context, fields []*jira.IssueFields) (keys []string, refused map[int]string, err error) {
	body := bulkRequest{}
	for _, f := range fields {
		body.IssueUpdates = append(body.IssueUpdates, bulkIssue{Fields: f})
	}
	req, err := c.client.NewRequestWithContext(ctx, "POST", "rest/api/2/issue/bulk", body)
	if err != nil {
		return nil, nil, &apiError{op: "create", msg: err.Error()}
	}
	resp, doErr := c.client.Do(req, nil)
	if resp == nil || resp.Response == nil {
		return nil, nil, failure("create", resp, doErr)
	}
	data, readErr := io.ReadAll(resp.Body)
	resp.Body.Close()
	var answer bulkAnswer
	// A refusal of every issue is a 400 whose body still says which and
	// why; any other error answer is the call's.
	if readErr != nil || json.Unmarshal(data, &answer) != nil || doErr != nil && len(answer.Errors) == 0 {
		e := &apiError{op: "create", status: resp.StatusCode, msg: cut(bodyMessage(data), 400)}
		if readErr != nil {
			e.msg = readErr.Error()
		}
		return nil, nil, e
	}
	refused = map[int]string{}
	for _, e := range answer.Errors {
		msg := messages(e.ElementErrors.ErrorMessages, e.ElementErrors.Errors)
		if msg == "" {
			msg = fmt.Sprintf("refused (%d)", e.Status)
		}
		refused[e.FailedElementNumber] = cut(msg, 400)
	}
	keys = make([]string, len(fields))
	next := 0
	for i := range fields {
		if _, no := refused[i]; no {
			continue
		}
		if next < len(answer.Issues) {
			keys[i] = answer.Issues[next].Key
			next++
		}
	}
	return keys, refused, nil
}

// update writes fields on a ticket (go-jira's UpdateIssue: PUT
// /rest/api/2/issue/KEY).
func (c *Consumer) update(ctx context.Context, key string, data map[string]any) error {
	resp, err := c.client.Issue.UpdateIssueWithContext(ctx, key, data)
	if err != nil {
		return failure("update "+key, resp, err)
	}
	if resp != nil && resp.Body != nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	return nil
}

// comment adds a comment. The body alone is sent: go-jira's Comment
// would also send an empty author and visibility, which a project that
// restricts comments may refuse.
func (c *Consumer) comment(ctx context.Context, key, text string) error {
	return c.call(ctx, "comment on "+key, "POST", "rest/api/2/issue/"+key+"/comment", map[string]string{"body": text}, nil)
}

// comments are a ticket's comments' bodies, oldest first.
func (c *Consumer) comments(ctx context.Context, key string) ([]string, error) {
	issue, resp, err := c.client.Issue.GetWithContext(ctx, key, &jira.GetQueryOptions{Fields: "comment"})
	if err != nil {
		return nil, failure("read comments of "+key, resp, err)
	}
	var out []string
	if issue.Fields != nil && issue.Fields.Comments != nil {
		for _, cm := range issue.Fields.Comments.Comments {
			out = append(out, cm.Body)
		}
	}
	return out, nil
}

// transition takes the transition named name (as the ticket's button
// says, case aside) from the ticket's current status.
func (c *Consumer) transition(ctx context.Context, key, name string) error {
	ts, resp, err := c.client.Issue.GetTransitionsWithContext(ctx, key)
	if err != nil {
		return failure("read transitions of "+key, resp, err)
	}
	var names []string
	for _, t := range ts {
		if strings.EqualFold(t.Name, name) {
			resp, err := c.client.Issue.DoTransitionWithContext(ctx, key, t.ID)
			if err != nil {
				return failure(fmt.Sprintf("transition %s to %q", key, t.Name), resp, err)
			}
			if resp != nil && resp.Body != nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			return nil
		}
		names = append(names, fmt.Sprintf("%q", t.Name))
	}
	if len(names) == 0 {
		names = []string{"none"}
	}
	return fmt.Errorf("transition %s: no transition named %q from its status (available: %s)", key, name, strings.Join(names, ", "))
}
