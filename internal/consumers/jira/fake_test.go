package jira

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/draconsec/dracon/internal/consumers/consumertest"
)

// fakeJira behaves like Jira's REST API as far as this consumer uses it:
// authentication (basic or bearer), issue create (one, or bulk with
// per-issue errors), field validation against a project's fields, JQL
// search by labels (Data Center's GET /rest/api/2/search paged by
// startAt and total; Cloud's POST /rest/api/3/search/jql paged by
// nextPageToken, with descriptions in the Atlassian Document Format, and
// the removed old search answering as Cloud does), edit, comments and a
// workflow's transitions. Faults are injected on request.
type fakeJira struct {
	t     testing.TB
	cloud bool
	// user and token are the credentials taken: basic authentication
	// when user is set, else a bearer token.
	user, token string
	project     string
	// pageCap is the most results a search page holds, whatever the
	// client asks for (Jira caps maxResults too).
	pageCap int

	mu     sync.Mutex
	issues []*fakeIssue
	// failCreates makes the next N create calls answer 503 with
	// Retry-After: 0 and create nothing.
	failCreates int
	// rateLimitOnce answers the first request 429 with Retry-After: 1.
	rateLimitOnce bool
	// serverErrorOnce answers the first create call 500.
	serverErrorOnce bool

	rec consumertest.Recorder
	srv *httptest.Server
}

type fakeIssue struct {
	ID, Key     string
	Fields      map[string]json.RawMessage // as created, then edited
	Labels      []string
	Summary     string
	Description string
	Status      string
	Resolution  string
	Comments    []string
}

// The project's workflow: status, its category, and the transitions out
// of it (id, name, to).
var workflow = map[string]struct {
	category    string
	transitions [][3]string
}{
	"To Do":       {"new", [][3]string{{"21", "Start Progress", "In Progress"}, {"31", "Done", "Done"}}},
	"In Progress": {"indeterminate", [][3]string{{"31", "Done", "Done"}, {"11", "Stop Progress", "To Do"}}},
	"Done":        {"done", [][3]string{{"41", "Reopen", "To Do"}}},
}

// The project's custom fields (their schema) and select lists' options.
var customFields = map[string]string{
	"customfield_10050": "option",       // single select
	"customfield_10051": "array-option", // multi select
	"customfield_10001": "number",       // CVSS
	"customfield_10060": "string",       // text
	"customfield_10070": "option",       // impact
}

var fieldOptions = map[string][]string{
	"customfield_10050": {"Foo", "Bar"},
	"customfield_10051": {"Foo", "Bar", "Baz"},
	"customfield_10070": {"Info", "Minor / Localized", "Moderate / Limited", "Significant / Large", "Extensive / Widespread"},
}

var (
	issueTypes = map[string]bool{"Task": true, "Bug": true, "Vulnerability": true}
	components = map[string]bool{"Backend": true, "Payments": true}
	versions   = map[string]bool{"1.0": true, "2.0": true}
)

func newFakeJira(t testing.TB, cloud bool) *fakeJira {
	f := &fakeJira{t: t, cloud: cloud, user: "dracon@acme.example", token: "jira-test-token-3f9a", project: "SEC", pageCap: 1000}
	f.srv = httptest.NewServer(f.rec.Wrap(http.HandlerFunc(f.serve)))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeJira) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rateLimitOnce {
		f.rateLimitOnce = false
		w.Header().Set("Retry-After", "1")
		jsonError(w, 429, "Rate limit exceeded.")
		return
	}
	if !f.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="protected-area"`)
		jsonError(w, 401, "Client must be authenticated to access this resource.")
		return
	}
	path := r.URL.Path
	switch {
	case r.Method == "POST" && path == "/rest/api/2/issue":
		f.createOne(w, r)
	case r.Method == "POST" && path == "/rest/api/2/issue/bulk":
		f.createBulk(w, r)
	case (path == "/rest/api/2/search" || path == "/rest/api/3/search") && f.cloud:
		jsonError(w, 410, "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046")
	case r.Method == "GET" && path == "/rest/api/2/search":
		f.searchDataCenter(w, r)
	case r.Method == "POST" && path == "/rest/api/3/search/jql" && f.cloud:
		f.searchCloud(w, r)
	case strings.HasPrefix(path, "/rest/api/2/issue/"):
		f.issue(w, r, strings.Split(strings.TrimPrefix(path, "/rest/api/2/issue/"), "/"))
	default:
		jsonError(w, 404, "null for uri: "+r.URL.String())
	}
}

func (f *fakeJira) authorized(r *http.Request) bool {
	if f.user == "" {
		return r.Header.Get("Authorization") == "Bearer "+f.token
	}
	u, p, ok := r.BasicAuth()
	return ok && u == f.user && p == f.token
}

func jsonError(w http.ResponseWriter, status int, msgs ...string) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"errorMessages": msgs, "errors": map[string]string{}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// createFault answers a create call with an injected fault.
func (f *fakeJira) createFault(w http.ResponseWriter) bool {
	if f.serverErrorOnce {
		f.serverErrorOnce = false
		jsonError(w, 500, "Internal server error")
		return true
	}
	if f.failCreates > 0 {
		f.failCreates--
		w.Header().Set("Retry-After", "0")
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(503)
		fmt.Fprint(w, "<html><body>Service Unavailable</body></html>")
		return true
	}
	return false
}

func (f *fakeJira) createOne(w http.ResponseWriter, r *http.Request) {
	if f.createFault(w) {
		return
	}
	var body struct {
		Fields map[string]json.RawMessage `json:"fields"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		jsonError(w, 400, "Unexpected character: "+err.Error())
		return
	}
	if errs := f.validate(body.Fields, true); len(errs) > 0 {
		writeJSON(w, 400, map[string]any{"errorMessages": []string{}, "errors": errs})
		return
	}
	is := f.add(body.Fields)
	writeJSON(w, 201, map[string]string{"id": is.ID, "key": is.Key, "self": f.srv.URL + "/rest/api/2/issue/" + is.ID})
}

func (f *fakeJira) createBulk(w http.ResponseWriter, r *http.Request) {
	if f.createFault(w) {
		return
	}
	var body struct {
		IssueUpdates []struct {
			Fields map[string]json.RawMessage `json:"fields"`
		} `json:"issueUpdates"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		jsonError(w, 400, "Unexpected character: "+err.Error())
		return
	}
	if len(body.IssueUpdates) > 50 {
		jsonError(w, 400, "The number of issues to create exceeds the maximum of 50.")
		return
	}
	issues := []map[string]string{}
	errs := []map[string]any{}
	for i, u := range body.IssueUpdates {
		if e := f.validate(u.Fields, true); len(e) > 0 {
			errs = append(errs, map[string]any{"status": 400, "failedElementNumber": i,
				"elementErrors": map[string]any{"errorMessages": []string{}, "errors": e}})
			continue
		}
		is := f.add(u.Fields)
		issues = append(issues, map[string]string{"id": is.ID, "key": is.Key, "self": f.srv.URL + "/rest/api/2/issue/" + is.ID})
	}
	status := 201
	if len(issues) == 0 {
		status = 400
	}
	writeJSON(w, status, map[string]any{"issues": issues, "errors": errs})
}

// validate checks fields as Jira's create (all) or edit (only those
// given) does, with Jira's messages, keyed by field.
func (f *fakeJira) validate(fields map[string]json.RawMessage, create bool) map[string]string {
	errs := map[string]string{}
	str := func(k string) (string, bool) {
		var s string
		raw, ok := fields[k]
		return s, ok && json.Unmarshal(raw, &s) == nil
	}
	if create {
		var p struct{ Key string }
		if json.Unmarshal(fields["project"], &p) != nil || p.Key != f.project {
			errs["project"] = "valid project is required"
		}
		var it struct{ Name string }
		if json.Unmarshal(fields["issuetype"], &it) != nil || !issueTypes[it.Name] {
			errs["issuetype"] = "The issue type selected is invalid."
		}
		if _, ok := fields["summary"]; !ok {
			errs["summary"] = "You must specify a summary of the issue."
		}
	}
	for k, raw := range fields {
		switch k {
		case "project", "issuetype":
			if !create {
				errs[k] = "Field '" + k + "' cannot be set. It is not on the appropriate screen, or unknown."
			}
		case "summary":
			s, ok := str(k)
			switch {
			case !ok || s == "":
				errs[k] = "You must specify a summary of the issue."
			case strings.ContainsAny(s, "\r\n"):
				errs[k] = "The summary is invalid because it contains newline characters."
			case utf8.RuneCountInString(s) > 255:
				errs[k] = "Summary must be less than 255 characters."
			}
		case "description", "environment":
			if s, ok := str(k); !ok || utf8.RuneCountInString(s) > 32767 {
				errs[k] = "The entered text is too long. It exceeds the allowed limit of 32,767 characters."
			}
		case "labels":
			var ls []string
			if json.Unmarshal(raw, &ls) != nil {
				errs[k] = "data was not an array"
			}
			for _, l := range ls {
				if strings.ContainsAny(l, " \t") {
					errs[k] = fmt.Sprintf("The label '%s' contains spaces which is invalid.", l)
				}
			}
		case "components", "versions":
			var named []struct{ Name string }
			if json.Unmarshal(raw, &named) != nil {
				errs[k] = "data was not an array"
			}
			for _, n := range named {
				if k == "components" && !components[n.Name] {
					errs[k] = fmt.Sprintf("Component name '%s' is not valid", n.Name)
				}
				if k == "versions" && !versions[n.Name] {
					errs[k] = fmt.Sprintf("Version name '%s' is not valid", n.Name)
				}
			}
		default:
			schema, ok := customFields[k]
			if !ok {
				errs[k] = "Field '" + k + "' cannot be set. It is not on the appropriate screen, or unknown."
				continue
			}
			if msg := checkCustom(k, schema, raw); msg != "" {
				errs[k] = msg
			}
		}
	}
	return errs
}

func checkCustom(id, schema string, raw json.RawMessage) string {
	allowed := func(v string) bool {
		for _, o := range fieldOptions[id] {
			if o == v {
				return true
			}
		}
		return false
	}
	switch schema {
	case "option":
		var o struct{ Value *string }
		if json.Unmarshal(raw, &o) != nil || o.Value == nil {
			return "Could not find valid 'id' or 'value' in the Parent Option object."
		}
		if !allowed(*o.Value) {
			return fmt.Sprintf("Option value '%s' is not valid", *o.Value)
		}
	case "array-option":
		var os []struct{ Value *string }
		if json.Unmarshal(raw, &os) != nil {
			return "data was not an array"
		}
		for _, o := range os {
			if o.Value == nil || !allowed(*o.Value) {
				return "Option value is not valid"
			}
		}
	case "number":
		var n float64
		if json.Unmarshal(raw, &n) != nil {
			return "Operation value must be a number"
		}
	case "string":
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return "Operation value must be a string"
		}
	}
	return ""
}

// add creates an issue from valid fields (the caller holds mu).
func (f *fakeJira) add(fields map[string]json.RawMessage) *fakeIssue {
	n := len(f.issues) + 1
	is := &fakeIssue{ID: strconv.Itoa(10000 + n), Key: fmt.Sprintf("%s-%d", f.project, n), Fields: fields, Status: "To Do"}
	is.apply(fields)
	f.issues = append(f.issues, is)
	return is
}

func (is *fakeIssue) apply(fields map[string]json.RawMessage) {
	for k, raw := range fields {
		is.Fields[k] = raw
		switch k {
		case "summary":
			json.Unmarshal(raw, &is.Summary)
		case "description":
			json.Unmarshal(raw, &is.Description)
		case "labels":
			json.Unmarshal(raw, &is.Labels)
		}
	}
}

// seed adds a ticket as a person or an earlier run left it.
func (f *fakeJira) seed(label, summary, description, status, resolution string) *fakeIssue {
	f.mu.Lock()
	defer f.mu.Unlock()
	is := f.add(map[string]json.RawMessage{})
	is.Labels, is.Summary, is.Description, is.Status, is.Resolution = []string{label}, summary, description, status, resolution
	return is
}

func (f *fakeJira) byKey(key string) *fakeIssue {
	for _, is := range f.issues {
		if is.Key == key || is.ID == key {
			return is
		}
	}
	return nil
}

// withLabel are the tickets carrying label.
func (f *fakeJira) withLabel(label string) []*fakeIssue {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*fakeIssue
	for _, is := range f.issues {
		for _, l := range is.Labels {
			if l == label {
				out = append(out, is)
			}
		}
	}
	return out
}

func (f *fakeJira) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.issues)
}

// The JQL this project's Jira is asked: the consumer's form only; any
// other query is an error, as a JQL typo is.
var (
	jqlForm  = regexp.MustCompile(`^project = "([^"]+)" AND labels in \(((?:"[a-z0-9-]+", )*"[a-z0-9-]+")\) ORDER BY created ASC$`)
	jqlLabel = regexp.MustCompile(`"([a-z0-9-]+)"`)
)

// match runs a JQL query: the matching issues, oldest first.
func (f *fakeJira) match(jql string) ([]*fakeIssue, string) {
	m := jqlForm.FindStringSubmatch(jql)
	if m == nil {
		return nil, "Error in the JQL Query: the query is not one this test's Jira understands: " + jql
	}
	if m[1] != f.project {
		return nil, fmt.Sprintf("The value '%s' does not exist for the field 'project'.", m[1])
	}
	want := map[string]bool{}
	for _, l := range jqlLabel.FindAllStringSubmatch(m[2], -1) {
		want[l[1]] = true
	}
	var out []*fakeIssue
	for _, is := range f.issues {
		for _, l := range is.Labels {
			if want[l] {
				out = append(out, is)
				break
			}
		}
	}
	return out, ""
}

// view is an issue as a search returns it, with the fields asked for;
// description as a string (v2) or an ADF document (v3).
func (f *fakeJira) view(is *fakeIssue, fields []string, adfDescription bool) map[string]any {
	out := map[string]any{"id": is.ID, "key": is.Key, "self": f.srv.URL + "/rest/api/2/issue/" + is.ID}
	fs := map[string]any{}
	for _, name := range fields {
		switch name {
		case "summary":
			fs[name] = is.Summary
		case "labels":
			fs[name] = is.Labels
		case "description":
			if is.Description == "" {
				fs[name] = nil
			} else if adfDescription {
				fs[name] = adf(is.Description)
			} else {
				fs[name] = is.Description
			}
		case "status":
			fs[name] = map[string]any{"name": is.Status, "id": "1", "statusCategory": map[string]any{"key": workflow[is.Status].category, "id": 2}}
		case "resolution":
			if is.Resolution == "" {
				fs[name] = nil
			} else {
				fs[name] = map[string]any{"name": is.Resolution, "id": "10000"}
			}
		}
	}
	if len(fields) > 0 {
		out["fields"] = fs
	}
	return out
}

// adf is text as Jira Cloud's REST v3 returns a description written in
// wiki markup: a document of paragraphs, "----" a rule.
func adf(text string) map[string]any {
	var content []any
	for _, line := range strings.Split(text, "\n") {
		switch strings.TrimSpace(line) {
		case "":
		case "----":
			content = append(content, map[string]any{"type": "rule"})
		default:
			content = append(content, map[string]any{"type": "paragraph", "content": []any{map[string]any{"type": "text", "text": line}}})
		}
	}
	return map[string]any{"type": "doc", "version": 1, "content": content}
}

func (f *fakeJira) searchDataCenter(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	found, msg := f.match(q.Get("jql"))
	if msg != "" {
		jsonError(w, 400, msg)
		return
	}
	start, _ := strconv.Atoi(q.Get("startAt"))
	size, err := strconv.Atoi(q.Get("maxResults"))
	if err != nil || size <= 0 {
		size = 50
	}
	size = min(size, f.pageCap)
	var fields []string
	if s := q.Get("fields"); s != "" {
		fields = strings.Split(s, ",")
	} else {
		fields = []string{"summary", "status", "resolution", "labels", "description"} // all navigable fields
	}
	page := []map[string]any{}
	for i := start; i < len(found) && i < start+size; i++ {
		page = append(page, f.view(found[i], fields, false))
	}
	writeJSON(w, 200, map[string]any{"expand": "schema,names", "startAt": start, "maxResults": size, "total": len(found), "issues": page})
}

func (f *fakeJira) searchCloud(w http.ResponseWriter, r *http.Request) {
	var body struct {
		JQL           string   `json:"jql"`
		Fields        []string `json:"fields"`
		MaxResults    int      `json:"maxResults"`
		NextPageToken string   `json:"nextPageToken"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		jsonError(w, 400, "Invalid request payload. Refer to the REST API documentation and try again.")
		return
	}
	found, msg := f.match(body.JQL)
	if msg != "" {
		jsonError(w, 400, msg)
		return
	}
	start := 0
	if body.NextPageToken != "" {
		raw, err := base64.StdEncoding.DecodeString(body.NextPageToken)
		n, _ := strconv.Atoi(strings.TrimPrefix(string(raw), "offset:"))
		if err != nil || !strings.HasPrefix(string(raw), "offset:") {
			jsonError(w, 400, "The provided next page token is invalid or expired.")
			return
		}
		start = n
	}
	size := body.MaxResults
	if size <= 0 {
		size = 50
	}
	size = min(size, f.pageCap)
	page := []map[string]any{}
	for i := start; i < len(found) && i < start+size; i++ {
		page = append(page, f.view(found[i], body.Fields, true))
	}
	answer := map[string]any{"issues": page, "isLast": start+size >= len(found)}
	if start+size < len(found) {
		// The last page has no token at all (JRACLOUD-92184).
		answer["nextPageToken"] = base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("offset:%d", start+size)))
	}
	writeJSON(w, 200, answer)
}

// issue serves /rest/api/2/issue/{key}[/comment|/transitions].
func (f *fakeJira) issue(w http.ResponseWriter, r *http.Request, parts []string) {
	is := f.byKey(parts[0])
	if is == nil {
		jsonError(w, 404, "Issue does not exist or you do not have permission to see it.")
		return
	}
	switch {
	case len(parts) == 1 && r.Method == "GET":
		comments := []map[string]string{}
		for i, c := range is.Comments {
			comments = append(comments, map[string]string{"id": strconv.Itoa(i + 1), "body": c})
		}
		v := f.view(is, []string{"summary", "status", "labels"}, false)
		v["fields"].(map[string]any)["comment"] = map[string]any{"comments": comments, "maxResults": len(comments), "total": len(comments), "startAt": 0}
		writeJSON(w, 200, v)
	case len(parts) == 1 && r.Method == "PUT":
		var body struct {
			Fields map[string]json.RawMessage `json:"fields"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			jsonError(w, 400, "Unexpected character: "+err.Error())
			return
		}
		if errs := f.validate(body.Fields, false); len(errs) > 0 {
			writeJSON(w, 400, map[string]any{"errorMessages": []string{}, "errors": errs})
			return
		}
		is.apply(body.Fields)
		w.WriteHeader(204)
	case len(parts) == 2 && parts[1] == "comment" && r.Method == "POST":
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			jsonError(w, 400, "Unexpected character: "+err.Error())
			return
		}
		text, ok := body["body"].(string)
		if !ok || text == "" {
			writeJSON(w, 400, map[string]any{"errorMessages": []string{}, "errors": map[string]string{"comment": "Comment body can not be empty!"}})
			return
		}
		if _, restricted := body["visibility"]; restricted {
			writeJSON(w, 400, map[string]any{"errorMessages": []string{"Group/role visibility is not configured for this project."}})
			return
		}
		is.Comments = append(is.Comments, text)
		writeJSON(w, 201, map[string]string{"id": strconv.Itoa(len(is.Comments)), "body": text})
	case len(parts) == 2 && parts[1] == "transitions" && r.Method == "GET":
		var ts []map[string]any
		for _, t := range workflow[is.Status].transitions {
			ts = append(ts, map[string]any{"id": t[0], "name": t[1], "to": map[string]any{"name": t[2], "statusCategory": map[string]any{"key": workflow[t[2]].category}}})
		}
		writeJSON(w, 200, map[string]any{"expand": "transitions", "transitions": ts})
	case len(parts) == 2 && parts[1] == "transitions" && r.Method == "POST":
		var body struct {
			Transition struct{ ID string } `json:"transition"`
		}
		json.NewDecoder(r.Body).Decode(&body)
		for _, t := range workflow[is.Status].transitions {
			if t[0] == body.Transition.ID {
				is.Status = t[2]
				is.Resolution = ""
				if workflow[t[2]].category == "done" {
					is.Resolution = "Done"
				}
				w.WriteHeader(204)
				return
			}
		}
		jsonError(w, 400, fmt.Sprintf("Transition id '%s' is not valid for this issue.", body.Transition.ID))
	default:
		jsonError(w, 405, "Method not allowed")
	}
}
