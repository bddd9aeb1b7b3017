package phorge

// A Phorge that speaks Conduit as PhabricatorConduitAPIController does
// (phorgeit/phorge 07c1a51): form-encoded calls only, params as one JSON
// document with the token under __conduit__, the result/error_code/
// error_info envelope (HTTP 200 even for errors), maniphest.search with
// its constraints (the Ferret "query", ids, statuses, and a custom link
// field with "search": true, matched exactly and many at a time), limit
// and after cursor, newest first; maniphest.edit with the EditEngine's
// transaction types and checks; maniphest.status.search with the default
// maniphest.statuses.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// priorityValues are maniphest.priorities' defaults, keyword to value.
var priorityValues = map[string]int{"unbreak": 100, "triage": 90, "high": 80, "normal": 50, "low": 25, "wish": 0, "wishlist": 0}

// statusDefaults are maniphest.statuses' defaults.
var statusDefaults = []map[string]any{
	{"name": "Open", "value": "open", "closed": false, "special": "default"},
	{"name": "Resolved", "value": "resolved", "closed": true, "special": "closed"},
	{"name": "Wontfix", "value": "wontfix", "closed": true},
	{"name": "Invalid", "value": "invalid", "closed": true},
	{"name": "Duplicate", "value": "duplicate", "closed": true, "special": "duplicate"},
	{"name": "Spite", "value": "spite", "closed": true},
}

type phorge struct {
	t     *testing.T
	token string
	// idField is the custom link field with "search": true; "" when the
	// install defines none.
	idField string
	// pageMax caps a page below the limit asked for, so tests exercise
	// the cursor without thousands of tasks.
	pageMax  int
	projects map[string]string // tag: PHID
	users    map[string]string // username: PHID

	mu    sync.Mutex
	tasks []*ptask
	// failNext answers the next calls HTTP 500; failAfterApply applies
	// the next maniphest.edit, then answers 502; throttle answers 429;
	// failEdits answers these maniphest.edit calls (1 = the first) with
	// ERR-CONDUIT-CORE; failSearch answers searches whose query holds it
	// ERR-CONDUIT-CORE.
	failNext, failAfterApply, throttle int
	failEdits                          map[int]bool
	failSearch                         string
	edits                              int
	// editLog keeps every maniphest.edit's params, in order.
	editLog []json.RawMessage
}

type ptask struct {
	ID                    int
	PHID                  string
	Title, Description    string
	Status                string
	Priority              int
	Projects, Subscribers []string
	Custom                map[string]string
	Comments              []string
	Transactions          int
}

func newPhorge(t *testing.T, token string) *phorge {
	return &phorge{t: t, token: token, pageMax: searchLimit, failEdits: map[int]bool{},
		projects: map[string]string{"security": "PHID-PROJ-security0000000000", "payments": "PHID-PROJ-payments0000000000"},
		users:    map[string]string{"alice": "PHID-USER-alice000000000000"}}
}

func reply(w http.ResponseWriter, result any, code, info string) {
	w.Header().Set("Content-Type", "application/json")
	env := map[string]any{"result": result, "error_code": nil, "error_info": nil}
	if code != "" {
		env["result"], env["error_code"], env["error_info"] = nil, code, info
	}
	json.NewEncoder(w).Encode(env)
}

func (p *phorge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	method, ok := strings.CutPrefix(r.URL.Path, "/api/")
	if !ok || r.Method != http.MethodPost {
		http.NotFound(w, r)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct == "application/json" {
		reply(w, nil, "ERR-CONDUIT-CORE", "Use form-encoded data to submit parameters to Conduit endpoints. Sending a JSON-encoded body and setting 'Content-Type': 'application/json' is not currently supported.")
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.throttle > 0:
		p.throttle--
		w.Header().Set("Retry-After", "1")
		http.Error(w, "Too Many Requests", http.StatusTooManyRequests)
		return
	case p.failNext > 0:
		p.failNext--
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		return
	}
	if r.PostForm.Get("output") != "json" {
		p.t.Errorf("%s called without output=json", method)
	}
	var params map[string]json.RawMessage
	if err := json.Unmarshal([]byte(r.PostForm.Get("params")), &params); err != nil {
		reply(w, nil, "ERR-CONDUIT-CORE", fmt.Sprintf("Invalid parameter information was passed to method '%s'.", method))
		return
	}
	var meta struct {
		Token string `json:"token"`
	}
	json.Unmarshal(params["__conduit__"], &meta)
	delete(params, "__conduit__")
	switch {
	case meta.Token == "":
		reply(w, nil, "ERR-INVALID-SESSION", "Session key is not present.")
		return
	case len(meta.Token) != 32:
		reply(w, nil, "ERR-INVALID-AUTH", fmt.Sprintf("API token \"%s\" has the wrong length. API tokens should be 32 characters long.", meta.Token))
		return
	case meta.Token != p.token:
		reply(w, nil, "ERR-INVALID-AUTH", fmt.Sprintf("API token \"%s\" is not valid.", meta.Token))
		return
	}
	switch method {
	case "maniphest.search":
		p.search(w, params)
	case "maniphest.edit":
		p.edit(w, params)
	case "maniphest.status.search":
		reply(w, map[string]any{"data": statusDefaults}, "", "")
	default:
		reply(w, nil, "ERR-CONDUIT-CALL", fmt.Sprintf("Conduit method '%s' does not exist.", method))
	}
}

// ferretTerms is PhabricatorFerretEngine::newTermsCorpus's split, in
// lower case.
func ferretTerms(s string) []string {
	return strings.Fields(strings.Map(func(r rune) rune {
		if strings.ContainsRune("!\"#$%&()*+,-/:;<=>?@[\\]^`{|}~._\n\r\t", r) {
			return ' '
		}
		return r
	}, strings.ToLower(s)))
}

// titlePhrase is the one query form the fake reads: title:"a b c".
var titlePhrase = regexp.MustCompile(`^title:"([^"]+)"$`)

func containsRun(hay, needle []string) bool {
	for i := 0; i+len(needle) <= len(hay); i++ {
		ok := true
		for j := range needle {
			if hay[i+j] != needle[j] {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

func (p *phorge) search(w http.ResponseWriter, params map[string]json.RawMessage) {
	var constraints map[string]json.RawMessage
	if c, ok := params["constraints"]; ok {
		if err := json.Unmarshal(c, &constraints); err != nil {
			reply(w, nil, "ERR-INVALID-CONSTRAINTS-FORMAT", "Constraints must be a dictionary.")
			return
		}
	}
	limit := 100
	if l, ok := params["limit"]; ok {
		json.Unmarshal(l, &limit)
		if limit < 1 || limit > 100 {
			reply(w, nil, "ERR-CONDUIT-CORE", "Maximum page size for Conduit API method calls is 100, but this call specified 101.")
			return
		}
	}
	match := func(*ptask) bool { return true }
	for key, raw := range constraints {
		prev := match
		switch {
		case key == "query":
			var q string
			json.Unmarshal(raw, &q)
			if p.failSearch != "" && strings.Contains(q, p.failSearch) {
				reply(w, nil, "ERR-CONDUIT-CORE", "Ferret engine query failed.")
				return
			}
			m := titlePhrase.FindStringSubmatch(q)
			if m == nil {
				p.t.Errorf("query %q is not a title phrase", q)
				reply(w, nil, "ERR-CONDUIT-CORE", "unsupported query in the fake")
				return
			}
			phrase := ferretTerms(m[1])
			match = func(t *ptask) bool { return prev(t) && containsRun(ferretTerms(t.Title), phrase) }
		case key == "ids":
			var ids []int
			json.Unmarshal(raw, &ids)
			match = func(t *ptask) bool {
				for _, id := range ids {
					if t.ID == id {
						return prev(t)
					}
				}
				return false
			}
		case key == "statuses":
			var sts []string
			json.Unmarshal(raw, &sts)
			match = func(t *ptask) bool { return prev(t) && contains(sts, t.Status) }
		case p.idField != "" && key == p.idField:
			// ConduitStringListParameterType; the index matches exactly.
			var vals []string
			if err := json.Unmarshal(raw, &vals); err != nil {
				reply(w, nil, "ERR-CONDUIT-CORE", fmt.Sprintf("Expected a list of strings for %q.", key))
				return
			}
			match = func(t *ptask) bool { return prev(t) && contains(vals, t.Custom[key]) }
		default:
			reply(w, nil, "ERR-INVALID-CONSTRAINT", fmt.Sprintf("Constraint \"%s\" is not a valid constraint for this query.", key))
			return
		}
	}
	var after int
	if a, ok := params["after"]; ok {
		var s string
		if json.Unmarshal(a, &s) != nil {
			p.t.Errorf("after is %s, not the string the cursor gave", a)
		}
		after, _ = strconv.Atoi(s)
	}
	// Newest first: the default order.
	var hits []*ptask
	for i := len(p.tasks) - 1; i >= 0; i-- {
		t := p.tasks[i]
		if (after == 0 || t.ID < after) && match(t) {
			hits = append(hits, t)
		}
	}
	size := min(limit, p.pageMax)
	var next any
	if len(hits) > size {
		hits = hits[:size]
		next = strconv.Itoa(hits[size-1].ID)
	}
	data := []map[string]any{}
	for _, t := range hits {
		fields := map[string]any{
			"name": t.Title, "description": map[string]string{"raw": t.Description}, "authorPHID": "PHID-USER-dracon00000000000",
			"ownerPHID": nil, "status": map[string]any{"value": t.Status, "name": strings.ToUpper(t.Status[:1]) + t.Status[1:], "color": nil},
			"priority": map[string]any{"value": t.Priority, "name": "", "color": ""}, "points": nil, "subtype": "default",
		}
		if p.idField != "" {
			if v, ok := t.Custom[p.idField]; ok {
				fields[p.idField] = v
			} else {
				fields[p.idField] = nil
			}
		}
		data = append(data, map[string]any{"id": t.ID, "type": "TASK", "phid": t.PHID, "fields": fields, "attachments": map[string]any{}})
	}
	reply(w, map[string]any{"data": data, "maps": map[string]any{}, "query": map[string]any{"queryKey": nil},
		"cursor": map[string]any{"limit": limit, "after": next, "before": nil, "order": nil}}, "", "")
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func (p *phorge) edit(w http.ResponseWriter, params map[string]json.RawMessage) {
	p.edits++
	if p.failEdits[p.edits] {
		reply(w, nil, "ERR-CONDUIT-CORE", "Database error: deadlock found when trying to get lock.")
		return
	}
	var xs []struct {
		Type  string          `json:"type"`
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(params["transactions"], &xs); err != nil {
		reply(w, nil, "ERR-CONDUIT-CORE", `Parameter "transactions" is not a list of transactions.`)
		return
	}
	var t *ptask
	if id, ok := params["objectIdentifier"]; ok {
		var s string
		json.Unmarshal(id, &s)
		n, _ := strconv.Atoi(strings.TrimPrefix(s, "T"))
		for _, x := range p.tasks {
			if x.ID == n || x.PHID == s {
				t = x
			}
		}
		if t == nil {
			reply(w, nil, "ERR-CONDUIT-CORE", fmt.Sprintf("No object exists with identifier \"%s\".", s))
			return
		}
	}
	create := t == nil
	next := &ptask{Status: "open", Priority: 90, Custom: map[string]string{}}
	if !create {
		cp := *t
		cp.Custom = map[string]string{}
		for k, v := range t.Custom {
			cp.Custom[k] = v
		}
		next = &cp
	}
	str := func(raw json.RawMessage) (string, bool) {
		var s string
		return s, json.Unmarshal(raw, &s) == nil
	}
	list := func(raw json.RawMessage) ([]string, bool) {
		var l []string
		return l, json.Unmarshal(raw, &l) == nil
	}
	valid := []string{"parent", "column", "title", "owner", "status", "priority", "description", "parents", "subtasks", "commits",
		"view", "edit", "projects.add", "projects.remove", "projects.set", "subscribers.add", "subscribers.remove", "subscribers.set",
		"comment", "mfa"}
	if p.idField != "" {
		valid = append(valid, p.idField)
	}
	for i, x := range xs {
		fail := func(msg string) {
			reply(w, nil, "ERR-CONDUIT-CORE", fmt.Sprintf("Exception when processing transaction of type \"%s\": %s", x.Type, msg))
		}
		switch x.Type {
		case "title":
			s, ok := str(x.Value)
			if !ok || strings.TrimSpace(s) == "" {
				fail("Tasks must have a title.")
				return
			}
			next.Title = s
		case "description":
			s, ok := str(x.Value)
			if !ok {
				fail("Expected a string.")
				return
			}
			next.Description = s
		case "priority":
			s, _ := str(x.Value)
			v, ok := priorityValues[s]
			if !ok {
				fail(fmt.Sprintf("Task priority \"%s\" is not a valid task priority. Use a priority keyword to choose a task priority: unbreak, triage, high, normal, low, wish.", s))
				return
			}
			next.Priority = v
		case "status":
			s, _ := str(x.Value)
			known := false
			for _, st := range statusDefaults {
				known = known || st["value"] == s
			}
			if !known {
				fail(fmt.Sprintf("Value \"%s\" is not a valid status.", s))
				return
			}
			next.Status = s
		case "projects.add":
			l, ok := list(x.Value)
			if !ok {
				fail("Expected a list of projects.")
				return
			}
			for _, v := range l {
				if _, ok := p.projects[v]; !ok && !strings.HasPrefix(v, "PHID-PROJ-") {
					fail(fmt.Sprintf("Unable to resolve project \"%s\".", v))
					return
				}
				next.Projects = append(next.Projects, v)
			}
		case "subscribers.add":
			l, ok := list(x.Value)
			if !ok {
				fail("Expected a list of users.")
				return
			}
			for _, v := range l {
				if _, ok := p.users[v]; !ok && !strings.HasPrefix(v, "PHID-USER-") {
					fail(fmt.Sprintf("Unable to resolve user \"%s\".", v))
					return
				}
				next.Subscribers = append(next.Subscribers, v)
			}
		case "comment":
			s, ok := str(x.Value)
			if !ok || s == "" {
				fail("Comment is empty.")
				return
			}
			next.Comments = append(next.Comments, s)
		default:
			if p.idField != "" && x.Type == p.idField {
				s, ok := str(x.Value)
				if !ok {
					fail("Expected a string.")
					return
				}
				next.Custom[p.idField] = s
				continue
			}
			reply(w, nil, "ERR-CONDUIT-CORE", fmt.Sprintf("Transaction with key \"%d\" has invalid type \"%s\". This type is not recognized. Valid types are: %s.", i, x.Type, strings.Join(valid, ", ")))
			return
		}
	}
	if create && next.Title == "" {
		reply(w, nil, "ERR-CONDUIT-CORE", "Tasks must have a title.")
		return
	}
	p.editLog = append(p.editLog, append(json.RawMessage(nil), mustJSON(params)...))
	next.Transactions += len(xs)
	if create {
		next.ID = len(p.tasks) + 1
		next.PHID = fmt.Sprintf("PHID-TASK-%020d", next.ID)
		p.tasks = append(p.tasks, next)
	} else {
		*t = *next
	}
	if p.failAfterApply > 0 {
		p.failAfterApply--
		http.Error(w, "502 Bad Gateway", http.StatusBadGateway)
		return
	}
	var phids []map[string]string
	for i := range xs {
		phids = append(phids, map[string]string{"phid": fmt.Sprintf("PHID-XACT-TASK-%d-%d", next.ID, i)})
	}
	reply(w, map[string]any{"object": map[string]any{"id": next.ID, "phid": next.PHID}, "transactions": phids}, "", "")
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// byID is the task of that id.
func (p *phorge) byID(id int) *ptask {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, t := range p.tasks {
		if t.ID == id {
			return t
		}
	}
	return nil
}

// markers counts the tasks per title marker or id field value: more
// than one is a task filed twice.
func (p *phorge) keys() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := map[string]int{}
	marker := regexp.MustCompile(`^\[(dracon:[0-9a-f]{12})\] `)
	for _, t := range p.tasks {
		key := t.Custom[p.idField]
		if m := marker.FindStringSubmatch(t.Title); m != nil {
			key = m[1]
		}
		n[key]++
	}
	return n
}

func (p *phorge) duplicates() []string {
	var out []string
	for k, n := range p.keys() {
		if n > 1 {
			out = append(out, fmt.Sprintf("%s×%d", k, n))
		}
	}
	sort.Strings(out)
	return out
}
