package phorge

// Conduit, as Phorge's PhabricatorConduitAPIController reads a call
// (read at phorgeit/phorge 07c1a51, 2026-08): POST /api/<method>,
// form-encoded (a JSON body is refused), with the parameters as one JSON
// document in the "params" field, the API token inside it under
// __conduit__ (how arcanist's ConduitClient calls, and strictly typed),
// and output=json. Every answer is HTTP 200 with the envelope
// {"result": ..., "error_code": null|"ERR-...", "error_info": ...}.
//
// The methods used:
//   - maniphest.search (PhabricatorSearchEngineAPIMethod): constraints,
//     limit (at most 100) and the "after" cursor; answers data[] (id,
//     phid, fields: name, description.raw, status.value, custom.*) and
//     cursor.after, null on the last page.
//   - maniphest.edit (PhabricatorEditEngineAPIMethod): transactions
//     [{type, value}], objectIdentifier to edit rather than create;
//     answers object {id, phid}.
//   - maniphest.status.search: the install's statuses, which are closed,
//     and the special ones (default, closed).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// searchLimit is the largest page maniphest.search gives.
const searchLimit = 100

// maxPages bounds one search's paging, against a cursor that never ends.
const maxPages = 100

// client calls one install's Conduit.
type client struct {
	base      string // https://phorge.example.com, no trailing slash
	token     string
	http      *http.Client
	userAgent string
}

// conduitError is an answer whose error_code is set.
type conduitError struct {
	Method, Code, Info string
}

func (e *conduitError) Error() string {
	return fmt.Sprintf("%s: %s: %s", e.Method, e.Code, e.Info)
}

// errAuth is a refused token: every other call would be refused too.
var errAuth = errors.New("Conduit refused the API token")

// call makes one Conduit call and decodes its result into out.
func (c *client) call(ctx context.Context, method string, params map[string]any, out any) error {
	p := map[string]any{"__conduit__": map[string]string{"token": c.token}}
	for k, v := range params {
		p[k] = v
	}
	data, err := json.Marshal(p)
	if err != nil {
		return err
	}
	form := url.Values{"params": {string(data)}, "output": {"json"}, "__conduit__": {"1"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/api/"+method, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: HTTP %d: %s", method, resp.StatusCode, clip(strings.TrimSpace(string(body)), 200))
	}
	var env struct {
		Result    json.RawMessage `json:"result"`
		ErrorCode *string         `json:"error_code"`
		ErrorInfo *string         `json:"error_info"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return fmt.Errorf("%s: not a Conduit answer: %s", method, clip(strings.TrimSpace(string(body)), 200))
	}
	if env.ErrorCode != nil && *env.ErrorCode != "" {
		info := ""
		if env.ErrorInfo != nil {
			// Conduit quotes a refused token back: keep it out of errors.
			info = strings.ReplaceAll(*env.ErrorInfo, c.token, "[token]")
		}
		ce := &conduitError{Method: method, Code: *env.ErrorCode, Info: info}
		if ce.Code == "ERR-INVALID-AUTH" {
			return fmt.Errorf("%w: %v", errAuth, ce)
		}
		return ce
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(env.Result, out); err != nil {
		return fmt.Errorf("%s: result not as expected: %w", method, err)
	}
	return nil
}

// task is a search result: the fields the consumer reads.
type task struct {
	ID          int
	PHID        string
	Title       string
	Description string
	Status      string
	// Custom holds the custom fields' values (custom.*), as text.
	Custom map[string]string
}

// search pages through maniphest.search for these constraints.
func (c *client) search(ctx context.Context, constraints map[string]any) ([]task, error) {
	var out []task
	var after any
	for page := 0; page < maxPages; page++ {
		params := map[string]any{"constraints": constraints, "limit": searchLimit}
		if after != nil {
			params["after"] = after
		}
		var res struct {
			Data []struct {
				ID     int                        `json:"id"`
				PHID   string                     `json:"phid"`
				Fields map[string]json.RawMessage `json:"fields"`
			} `json:"data"`
			Cursor struct {
				After json.RawMessage `json:"after"`
			} `json:"cursor"`
		}
		if err := c.call(ctx, "maniphest.search", params, &res); err != nil {
			return nil, err
		}
		for _, d := range res.Data {
			t := task{ID: d.ID, PHID: d.PHID, Custom: map[string]string{}}
			var name string
			var desc struct {
				Raw string `json:"raw"`
			}
			var status struct {
				Value string `json:"value"`
			}
			json.Unmarshal(d.Fields["name"], &name)
			json.Unmarshal(d.Fields["description"], &desc)
			json.Unmarshal(d.Fields["status"], &status)
			t.Title, t.Description, t.Status = name, desc.Raw, status.Value
			for k, v := range d.Fields {
				if strings.HasPrefix(k, "custom.") {
					var s string
					if json.Unmarshal(v, &s) == nil {
						t.Custom[k] = s
					}
				}
			}
			out = append(out, t)
		}
		// The cursor is a string ("123") or null; older installs gave a
		// number.
		after = nil
		var s string
		var n json.Number
		switch {
		case json.Unmarshal(res.Cursor.After, &s) == nil && s != "":
			after = s
		case json.Unmarshal(res.Cursor.After, &n) == nil && n != "":
			after = n.String()
		}
		if after == nil {
			return out, nil
		}
	}
	return nil, fmt.Errorf("maniphest.search: more than %d pages", maxPages)
}

// status is one of the install's task statuses.
type status struct {
	Value   string `json:"value"`
	Name    string `json:"name"`
	Closed  bool   `json:"closed"`
	Special string `json:"special"`
}

// statuses are the install's statuses (maniphest.status.search).
func (c *client) statuses(ctx context.Context) ([]status, error) {
	var res struct {
		Data []status `json:"data"`
	}
	if err := c.call(ctx, "maniphest.status.search", nil, &res); err != nil {
		return nil, err
	}
	return res.Data, nil
}

// xact is one maniphest.edit transaction.
type xact struct {
	Type  string `json:"type"`
	Value any    `json:"value"`
}

// edit applies transactions to task id, or creates a task when id is 0;
// it answers the task's id.
func (c *client) edit(ctx context.Context, id int, xs []xact) (int, error) {
	params := editParams(id, xs)
	var res struct {
		Object struct {
			ID   int    `json:"id"`
			PHID string `json:"phid"`
		} `json:"object"`
	}
	if err := c.call(ctx, "maniphest.edit", params, &res); err != nil {
		return 0, err
	}
	if res.Object.ID == 0 {
		return 0, errors.New("maniphest.edit answered no task")
	}
	return res.Object.ID, nil
}

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// editParams are maniphest.edit's parameters as the call sends them (for
// the dry run and the golden files).
func editParams(id int, xs []xact) map[string]any {
	p := map[string]any{"transactions": xs}
	if id > 0 {
		p["objectIdentifier"] = "T" + strconv.Itoa(id)
	}
	return p
}
