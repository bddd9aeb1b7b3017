package elasticsearch

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// fakeES is an Elasticsearch (or OpenSearch) node as much as this
// consumer meets one, answering as the real APIs document: GET / (the
// X-Elastic-Product header on every answer from Elasticsearch 7.14 on,
// none from OpenSearch), PUT _index_template/<name> (mapping types
// checked for the product: flattened is Elasticsearch's, flat_object
// OpenSearch 2.7+'s, runtime fields Elasticsearch's), and POST _bulk:
// NDJSON action and source lines, indexes created on first write from
// the matching template, documents checked against its mappings, index
// and create actions with external and external_gte versions, per-item
// results with errors: true; POST <index>/_mget; DELETE /<index>; and
// security: ApiKey or Basic credentials checked on every request.
type fakeES struct {
	mu sync.Mutex
	// version and distribution are GET /'s ("8.15.0"; "opensearch" for
	// OpenSearch). productHeader: Elasticsearch 7.14+ says what it is.
	version, distribution string
	productHeader         bool
	// apiKey and user/password are the credentials accepted; none set:
	// security is off.
	apiKey, user, password string
	templates              map[string]fakeTemplate
	indexes                map[string]*fakeIndex
	seqNo                  int64
	// failBulk answers the nth bulk request (from 1) with the status it
	// returns instead (0: normally).
	failBulk  func(n int) int
	bulkCalls int
	// retryAfter is the Retry-After of those answers when they are 429
	// or 503 ("0" unless a test sets it).
	retryAfter string
	// mgetStatus, when set, answers _mget with it.
	mgetStatus int
	// reject answers an item with 429 es_rejected_execution_exception on
	// its nth attempt (from 1), as a node whose write queue is full does.
	reject   func(index, id string, attempt int) bool
	attempts map[string]int
	// bodies are the bulk bodies received, in order, unless keepNoBodies
	// (a long benchmark).
	bodies       [][]byte
	keepNoBodies bool
	// busy is the time spent answering, for the benchmark to tell the
	// server's share of the process's CPU time.
	busy time.Duration
}

type fakeTemplate struct {
	patterns   []string
	priority   int
	properties map[string]any
	runtime    map[string]any
}

type fakeIndex struct {
	// properties are the mappings it was created with (nil: no template
	// matched, every field is dynamic).
	properties map[string]any
	docs       map[string]*fakeDoc
	// created counts documents ever created in it: a test compares it to
	// the documents there to prove nothing was created twice.
	created int
	// unmapped are fields a document had that the mappings did not
	// (Elasticsearch would map them dynamically).
	unmapped map[string]bool
}

type fakeDoc struct {
	source  map[string]any
	version int64
}

func newElasticsearch(version string) *fakeES {
	return &fakeES{version: version, productHeader: true, retryAfter: "0", templates: map[string]fakeTemplate{}, indexes: map[string]*fakeIndex{}, attempts: map[string]int{}}
}

func newOpenSearch(version string) *fakeES {
	f := newElasticsearch(version)
	f.distribution, f.productHeader = "opensearch", false
	return f
}

func (f *fakeES) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	start := time.Now()
	defer func() { f.busy += time.Since(start) }()
	if f.productHeader {
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
	}
	w.Header().Set("Content-Type", "application/json")
	body, _ := io.ReadAll(r.Body)
	if msg, ok := f.authenticate(r); !ok {
		w.Header().Add("WWW-Authenticate", `Basic realm="security", charset="UTF-8"`)
		w.Header().Add("WWW-Authenticate", "ApiKey")
		writeError(w, http.StatusUnauthorized, "security_exception", msg)
		return
	}
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/":
		f.info(w)
	case r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, "/_index_template/"):
		f.putTemplate(w, strings.TrimPrefix(r.URL.Path, "/_index_template/"), body)
	case (r.Method == http.MethodPost || r.Method == http.MethodPut) && r.URL.Path == "/_bulk":
		f.bulk(w, r, body)
	case (r.Method == http.MethodPost || r.Method == http.MethodGet) && strings.HasSuffix(r.URL.Path, "/_mget"):
		f.mget(w, strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/"), "/_mget"), body)
	case r.Method == http.MethodDelete && !strings.Contains(r.URL.Path[1:], "/"):
		name := r.URL.Path[1:]
		if f.indexes[name] == nil {
			writeError(w, http.StatusNotFound, "index_not_found_exception", "no such index ["+name+"]")
			return
		}
		delete(f.indexes, name)
		io.WriteString(w, `{"acknowledged":true}`)
	default:
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"error":"no handler found for uri [%s] and method [%s]"}`, r.URL.Path, r.Method)
	}
}

// authenticate checks the Authorization header as Elasticsearch's
// security does: "ApiKey base64(id:key)" or Basic.
func (f *fakeES) authenticate(r *http.Request) (string, bool) {
	if f.apiKey == "" && f.user == "" {
		return "", true
	}
	h := r.Header.Get("Authorization")
	if h == "" {
		return "missing authentication credentials for REST request [" + r.URL.Path + "]", false
	}
	scheme, cred, _ := strings.Cut(h, " ")
	switch strings.ToLower(scheme) {
	case "apikey":
		if f.apiKey != "" && cred == f.apiKey {
			return "", true
		}
	case "basic":
		b, err := base64.StdEncoding.DecodeString(cred)
		if err == nil && f.user != "" && string(b) == f.user+":"+f.password {
			return "", true
		}
	}
	return "unable to authenticate with provided credentials and anonymous access is not allowed for this request", false
}

func writeError(w http.ResponseWriter, status int, typ, reason string) {
	w.WriteHeader(status)
	cause := map[string]any{"type": typ, "reason": reason}
	json.NewEncoder(w).Encode(map[string]any{
		"error":  map[string]any{"root_cause": []any{cause}, "type": typ, "reason": reason},
		"status": status,
	})
}

func (f *fakeES) info(w http.ResponseWriter) {
	v := map[string]any{"number": f.version, "build_type": "docker", "build_hash": "0123abc", "build_date": "2026-06-01T10:00:00.000Z",
		"build_snapshot": false, "lucene_version": "9.11.1", "minimum_wire_compatibility_version": "7.17.0", "minimum_index_compatibility_version": "7.0.0"}
	tagline := "You Know, for Search"
	if f.distribution != "" {
		v["distribution"] = f.distribution
		tagline = "The OpenSearch Project: https://opensearch.org/"
	} else {
		v["build_flavor"] = "default"
	}
	json.NewEncoder(w).Encode(map[string]any{"name": "node-1", "cluster_name": "acme-security", "cluster_uuid": "Qx3bA9cTS7yYt2Yy0s5d1w",
		"version": v, "tagline": tagline})
}

// fieldTypes are the mapping types the product knows.
func (f *fakeES) fieldTypes() map[string]bool {
	t := map[string]bool{"keyword": true, "text": true, "integer": true, "long": true, "float": true, "double": true, "date": true, "boolean": true, "object": true}
	if f.distribution == "" {
		t["flattened"] = true
	} else if v := parseVersion(f.version); v.atLeast(2, 7) {
		t["flat_object"] = true
	}
	return t
}

func (f *fakeES) putTemplate(w http.ResponseWriter, name string, body []byte) {
	var tpl struct {
		IndexPatterns []string `json:"index_patterns"`
		Priority      int      `json:"priority"`
		Template      struct {
			Mappings map[string]json.RawMessage `json:"mappings"`
		} `json:"template"`
	}
	if err := json.Unmarshal(body, &tpl); err != nil {
		writeError(w, http.StatusBadRequest, "x_content_parse_exception", err.Error())
		return
	}
	if len(tpl.IndexPatterns) == 0 {
		writeError(w, http.StatusBadRequest, "action_request_validation_exception", "Validation Failed: 1: index patterns are missing;")
		return
	}
	var props, runtime map[string]any
	for k, raw := range tpl.Template.Mappings {
		switch k {
		case "properties":
			json.Unmarshal(raw, &props)
		case "_meta", "dynamic":
		case "runtime":
			if f.distribution != "" {
				writeError(w, http.StatusBadRequest, "mapper_parsing_exception", "Failed to parse mapping [_doc]: Root mapping definition has unsupported parameters:  [runtime : ...]")
				return
			}
			json.Unmarshal(raw, &runtime)
		default:
			writeError(w, http.StatusBadRequest, "mapper_parsing_exception", "Root mapping definition has unsupported parameters: ["+k+"]")
			return
		}
	}
	known := f.fieldTypes()
	var check func(prefix string, props map[string]any) string
	check = func(prefix string, props map[string]any) string {
		for name, m := range props {
			mm, _ := m.(map[string]any)
			typ, _ := mm["type"].(string)
			if !known[typ] {
				return fmt.Sprintf("No handler for type [%s] declared on field [%s%s]", typ, prefix, name)
			}
			if sub, ok := mm["fields"].(map[string]any); ok {
				if msg := check(prefix+name+".", sub); msg != "" {
					return msg
				}
			}
		}
		return ""
	}
	if msg := check("", props); msg != "" {
		writeError(w, http.StatusBadRequest, "mapper_parsing_exception", "Failed to parse mapping: "+msg)
		return
	}
	f.templates[name] = fakeTemplate{patterns: tpl.IndexPatterns, priority: tpl.Priority, properties: props, runtime: runtime}
	io.WriteString(w, `{"acknowledged":true}`)
}

// index is the named index, created (from the highest-priority template
// whose pattern matches) if it is not there, as a write creates it.
func (f *fakeES) index(name string) *fakeIndex {
	if ix := f.indexes[name]; ix != nil {
		return ix
	}
	ix := &fakeIndex{docs: map[string]*fakeDoc{}, unmapped: map[string]bool{}}
	best := -1
	for _, t := range f.templates {
		for _, p := range t.patterns {
			if ok, _ := path.Match(p, name); ok && t.priority > best {
				best, ix.properties = t.priority, t.properties
			}
		}
	}
	f.indexes[name] = ix
	return ix
}

// mget reads documents by id, as GET <index>/_mget {"ids": [...]}
// does: one entry per id, found or not; an index that is not there is an
// error in each entry.
func (f *fakeES) mget(w http.ResponseWriter, index string, body []byte) {
	if f.mgetStatus != 0 {
		w.Header().Set("Retry-After", "0")
		writeError(w, f.mgetStatus, "security_exception", "action [indices:data/read/mget[shard]] is unauthorized for user [dracon] on indices ["+index+"]")
		return
	}
	var req struct {
		IDs []string `json:"ids"`
	}
	if err := json.Unmarshal(body, &req); err != nil || len(req.IDs) == 0 {
		writeError(w, http.StatusBadRequest, "action_request_validation_exception", "Validation Failed: 1: no documents to get;")
		return
	}
	ix := f.indexes[index]
	docs := make([]map[string]any, len(req.IDs))
	for i, id := range req.IDs {
		doc := map[string]any{"_index": index, "_id": id}
		switch {
		case ix == nil:
			reason := "no such index [" + index + "]"
			doc["error"] = map[string]any{"root_cause": []any{map[string]any{"type": "index_not_found_exception", "reason": reason}},
				"type": "index_not_found_exception", "reason": reason, "index": index}
		case ix.docs[id] == nil:
			doc["found"] = false
		default:
			f.seqNo++
			doc["found"], doc["_version"], doc["_seq_no"], doc["_primary_term"] = true, ix.docs[id].version, f.seqNo, 1
			doc["_source"] = ix.docs[id].source
		}
		docs[i] = doc
	}
	json.NewEncoder(w).Encode(map[string]any{"docs": docs})
}

type bulkItem map[string]any

func (f *fakeES) bulk(w http.ResponseWriter, r *http.Request, body []byte) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/json" && mt != "application/x-ndjson" {
		w.WriteHeader(http.StatusNotAcceptable)
		fmt.Fprintf(w, `{"error":"Content-Type header [%s] is not supported","status":406}`, r.Header.Get("Content-Type"))
		return
	}
	f.bulkCalls++
	if !f.keepNoBodies {
		f.bodies = append(f.bodies, body)
	}
	if f.failBulk != nil {
		if status := f.failBulk(f.bulkCalls); status != 0 {
			if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
				w.Header().Set("Retry-After", f.retryAfter)
			}
			writeError(w, status, "cluster_block_exception", "blocked by: [SERVICE_UNAVAILABLE/2/no master];")
			return
		}
	}
	if len(body) == 0 || body[len(body)-1] != '\n' {
		writeError(w, http.StatusBadRequest, "illegal_argument_exception", "The bulk request must be terminated by a newline [\\n]")
		return
	}
	lines := bytes.Split(body[:len(body)-1], []byte("\n"))
	start := time.Now()
	var items []bulkItem
	errors := false
	for i := 0; i < len(lines); i++ {
		var action map[string]map[string]any
		if err := json.Unmarshal(lines[i], &action); err != nil || len(action) != 1 {
			writeError(w, http.StatusBadRequest, "illegal_argument_exception", fmt.Sprintf("Malformed action/metadata line [%d], expected START_OBJECT", i+1))
			return
		}
		var name string
		var meta map[string]any
		for name, meta = range action {
		}
		if name != "index" && name != "create" {
			writeError(w, http.StatusBadRequest, "illegal_argument_exception",
				fmt.Sprintf("this fake takes index and create actions, not %s (line %d)", name, i+1))
			return
		}
		if i+1 >= len(lines) {
			writeError(w, http.StatusBadRequest, "illegal_argument_exception", "The bulk request must be terminated by a newline [\\n]")
			return
		}
		i++
		var source map[string]any
		if err := json.Unmarshal(lines[i], &source); err != nil {
			writeError(w, http.StatusBadRequest, "x_content_parse_exception", fmt.Sprintf("[%d:1] %v", i+1, err))
			return
		}
		item := f.apply(name, meta, source)
		if _, failed := item["error"]; failed {
			errors = true
		}
		items = append(items, bulkItem{name: item})
	}
	json.NewEncoder(w).Encode(map[string]any{"took": time.Since(start).Milliseconds(), "errors": errors, "items": items})
}

// apply performs one action and is its response item.
func (f *fakeES) apply(action string, meta, source map[string]any) map[string]any {
	index, _ := meta["_index"].(string)
	id, _ := meta["_id"].(string)
	item := map[string]any{"_index": index, "_id": id}
	failWith := func(status int, typ, reason string) map[string]any {
		item["status"] = status
		item["error"] = map[string]any{"type": typ, "reason": reason, "index_uuid": "aAsFqTI0Tc2W0LCWgPNrOA", "shard": "0", "index": index}
		return item
	}
	if index == "" {
		return failWith(400, "action_request_validation_exception", "Validation Failed: 1: index is missing;")
	}
	key := index + "/" + id
	f.attempts[key]++
	if f.reject != nil && f.reject(index, id, f.attempts[key]) {
		return failWith(429, "es_rejected_execution_exception",
			"rejected execution of TransportShardBulkAction on EsThreadPoolExecutor[name = node-1/write, queue capacity = 10000, task count = 10000]")
	}
	ix := f.index(index)
	done := func(status int, result string, d *fakeDoc) map[string]any {
		f.seqNo++
		item["status"], item["result"], item["_version"] = status, result, d.version
		item["_shards"] = map[string]any{"total": 2, "successful": 1, "failed": 0}
		item["_seq_no"], item["_primary_term"] = f.seqNo, 1
		return item
	}
	existing := ix.docs[id]
	if msg := ix.check(id, source); msg != "" {
		return failWith(400, "document_parsing_exception", msg)
	}
	version := int64(1)
	if existing != nil {
		version = existing.version + 1
	}
	if action == "create" && existing != nil {
		return failWith(409, "version_conflict_engine_exception", fmt.Sprintf("[%s]: version conflict, document already exists (current version [%d])", id, existing.version))
	}
	if vt, _ := meta["version_type"].(string); vt != "" {
		v, ok := meta["version"].(float64)
		if vt != "external_gte" && vt != "external" || !ok || v < 0 {
			return failWith(400, "action_request_validation_exception", "Validation Failed: 1: illegal version value ["+fmt.Sprint(meta["version"])+"] for version type ["+vt+"];")
		}
		version = int64(v)
		if existing != nil && (existing.version > version || vt == "external" && existing.version == version) {
			return failWith(409, "version_conflict_engine_exception",
				fmt.Sprintf("[%s]: version conflict, current version [%d] is higher than the one provided [%d]", id, existing.version, version))
		}
	}
	d := &fakeDoc{source: source, version: version}
	ix.docs[id] = d
	if existing == nil {
		ix.created++
		return done(201, "created", d)
	}
	return done(200, "updated", d)
}

// check parses a document's fields against the index's mappings as
// Elasticsearch's mappers do (coercing numbers given as strings, as they
// do by default), and notes the fields no mapping names.
func (ix *fakeIndex) check(id string, source map[string]any) string {
	if ix.properties == nil {
		return ""
	}
	for name, v := range source {
		m, ok := ix.properties[name].(map[string]any)
		if !ok {
			ix.unmapped[name] = true
			continue
		}
		typ, _ := m["type"].(string)
		if enabled, ok := m["enabled"].(bool); ok && !enabled {
			continue
		}
		values := []any{v}
		if arr, ok := v.([]any); ok {
			values = arr
		}
		for _, val := range values {
			if !parses(typ, val) {
				return fmt.Sprintf("[1:1] failed to parse field [%s] of type [%s] in document with id '%s'. Preview of field's value: '%v'", name, typ, id, val)
			}
		}
	}
	return ""
}

func parses(typ string, v any) bool {
	if v == nil {
		return true
	}
	switch typ {
	case "keyword", "text":
		switch v.(type) {
		case string, float64, bool:
			return true
		}
	case "integer", "long":
		n, ok := number(v)
		if !ok || n != float64(int64(n)) {
			return false
		}
		return typ == "long" || n >= -1<<31 && n < 1<<31
	case "float", "double":
		_, ok := number(v)
		return ok
	case "date":
		switch t := v.(type) {
		case float64:
			return true
		case string:
			for _, layout := range []string{time.RFC3339Nano, "2006-01-02"} {
				if _, err := time.Parse(layout, t); err == nil {
					return true
				}
			}
		}
	case "boolean":
		switch t := v.(type) {
		case bool:
			return true
		case string:
			return t == "true" || t == "false" || t == ""
		}
	case "flattened", "flat_object", "object":
		_, ok := v.(map[string]any)
		return ok
	}
	return false
}

func number(v any) (float64, bool) {
	switch t := v.(type) {
	case float64:
		return t, true
	case string:
		n, err := strconv.ParseFloat(t, 64)
		return n, err == nil
	}
	return 0, false
}

// The accessors below are for tests' assertions.

func (f *fakeES) doc(index, id string) map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ix := f.indexes[index]; ix != nil && ix.docs[id] != nil {
		return ix.docs[id].source
	}
	return nil
}

func (f *fakeES) docVersion(index, id string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ix := f.indexes[index]; ix != nil && ix.docs[id] != nil {
		return ix.docs[id].version
	}
	return 0
}

// counts are the documents in an index and how many were ever created.
func (f *fakeES) counts(index string) (docs, created int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ix := f.indexes[index]; ix != nil {
		return len(ix.docs), ix.created
	}
	return 0, 0
}

func (f *fakeES) ids(index string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	if ix := f.indexes[index]; ix != nil {
		for id := range ix.docs {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

func (f *fakeES) unmapped(index string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	if ix := f.indexes[index]; ix != nil {
		for k := range ix.unmapped {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func (f *fakeES) allBodies() []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return bytes.Join(f.bodies, nil)
}
