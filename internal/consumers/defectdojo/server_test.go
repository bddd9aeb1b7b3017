package defectdojo

// A DefectDojo that answers reimport-scan as dojo/api_v2 does (read at
// django-DefectDojo 7cfa159, the commit testdata/corpus/defectdojo was
// taken from): token authentication, the multipart form and its
// defaults (close_old_findings true when absent), auto-created product
// type, product, engagement and test, the generic JSON parser's checks,
// reimport's matching on unique_id_from_tool (DefectDojo configured with
// DD_DEDUPLICATION_ALGORITHM_PER_PARSER={"Generic Findings Import":
// "unique_id_from_tool"}), close_old_findings, and the statistics
// before, delta and after.

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// genericAllowed are the finding keys the generic JSON parser takes at
// that commit (json_parser.py: required, allowed, and the keys it pops
// before building the Finding).
var genericAllowed = set("title", "severity", "description", "date", "cwe", "cve", "epss_score", "epss_percentile", "cvssv3",
	"cvssv3_score", "cvssv4", "cvssv4_score", "mitigation", "impact", "steps_to_reproduce", "severity_justification", "references",
	"active", "verified", "false_p", "out_of_scope", "risk_accepted", "under_review", "is_mitigated", "thread_id", "mitigated",
	"numerical_severity", "param", "payload", "line", "file_path", "component_name", "component_version", "static_finding",
	"dynamic_finding", "scanner_confidence", "unique_id_from_tool", "vuln_id_from_tool", "sast_source_object", "sast_sink_object",
	"sast_source_line", "sast_source_file_path", "nb_occurences", "publish_date", "service", "planned_remediation_date",
	"planned_remediation_version", "effort_for_fixing", "tags", "kev_date", "known_exploited", "ransomware_used", "fix_available",
	"fix_version", "endpoints", "files", "vulnerability_ids", "cwes")

// generic2023 are the keys the parser allowed in 2023 (commit 74d6da17e4,
// DefectDojo 2.19): what the consumer may send to stay readable there.
var generic2023 = set("title", "severity", "description", "date", "cwe", "cve", "cvssv3", "cvssv3_score", "mitigation", "impact",
	"steps_to_reproduce", "severity_justification", "references", "active", "verified", "false_p", "out_of_scope", "risk_accepted",
	"under_review", "is_mitigated", "thread_id", "mitigated", "numerical_severity", "param", "payload", "line", "file_path",
	"component_name", "component_version", "static_finding", "dynamic_finding", "scanner_confidence", "unique_id_from_tool",
	"vuln_id_from_tool", "sast_source_object", "sast_sink_object", "sast_source_line", "sast_source_file_path", "nb_occurences",
	"publish_date", "service", "planned_remediation_date", "tags", "endpoints", "files", "vulnerability_ids")

func set(ks ...string) map[string]bool {
	m := map[string]bool{}
	for _, k := range ks {
		m[k] = true
	}
	return m
}

var severities = set("Info", "Low", "Medium", "High", "Critical")

// tagPattern is dojo/validators.py's TAG_PATTERN.
var tagPattern = regexp.MustCompile(`[ ,'"]`)

type dojo struct {
	t     *testing.T
	token string
	// trackHistory is TRACK_IMPORT_HISTORY: off, reimports answer no
	// delta.
	trackHistory bool

	mu           sync.Mutex
	nextID       int
	productTypes map[string]int
	products     map[string]*product
	// failNext answers the next requests 500 without doing anything;
	// failAfterApply does the next one, then answers 502 (a proxy that
	// lost the answer); failTitle answers 500 to every request for that
	// test title; throttle answers the next requests 429.
	failNext, failAfterApply, throttle int
	failTitle                          string
	// forms keeps every form that was applied, in order.
	forms []map[string][]string
	files map[string][]byte // the last file per test title
}

type product struct {
	id, typeID  int
	typ         string
	engagements []*engagement
}

type engagement struct {
	id                int
	name              string
	dedupOnEngagement bool
	scm               string
	tests             []*test
}

type test struct {
	id                                 int
	title, scanType                    string
	version, branch, commit, build     string
	tags                               []string
	findings                           []*finding
	byUID                              map[string]*finding
	imports                            int
	lastCreated, lastClosed, lastReact int
}

type finding struct {
	id                  int
	uid, title, sev     string
	active, isMitigated bool
	verified, falseP    bool
}

func newDojo(t *testing.T, token string) *dojo {
	return &dojo{t: t, token: token, trackHistory: true, productTypes: map[string]int{}, products: map[string]*product{}, files: map[string][]byte{}}
}

func (d *dojo) id() int { d.nextID++; return d.nextID }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (d *dojo) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != reimportPath {
		writeJSON(w, http.StatusNotFound, map[string]string{"detail": "Not found."})
		return
	}
	if r.Method != http.MethodPost {
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"detail": fmt.Sprintf("Method \"%s\" not allowed.", r.Method)})
		return
	}
	switch auth := r.Header.Get("Authorization"); {
	case auth == "":
		writeJSON(w, http.StatusUnauthorized, map[string]string{"detail": "Authentication credentials were not provided."})
		return
	case auth != "Token "+d.token:
		writeJSON(w, http.StatusUnauthorized, map[string]string{"detail": "Invalid token."})
		return
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		writeJSON(w, http.StatusUnsupportedMediaType, map[string]string{"detail": fmt.Sprintf("Unsupported media type \"%s\" in request.", mt)})
		return
	}
	if err := r.ParseMultipartForm(32 << 20); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"detail": "Multipart form parse error - " + err.Error()})
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	title := r.FormValue("test_title")
	switch {
	case d.throttle > 0:
		d.throttle--
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusTooManyRequests, map[string]string{"detail": "Request was throttled. Expected available in 1 second."})
		return
	case d.failNext > 0:
		d.failNext--
		http.Error(w, "<h1>Server Error (500)</h1>", http.StatusInternalServerError)
		return
	case d.failTitle != "" && title == d.failTitle:
		http.Error(w, "<h1>Server Error (500)</h1>", http.StatusInternalServerError)
		return
	}
	status, body := d.reimport(r)
	if status == http.StatusCreated && d.failAfterApply > 0 {
		d.failAfterApply--
		http.Error(w, "502 Bad Gateway", http.StatusBadGateway)
		return
	}
	writeJSON(w, status, body)
}

// boolField is a DRF BooleanField: absent takes the default.
func boolField(r *http.Request, name string, def bool) (bool, error) {
	if _, ok := r.MultipartForm.Value[name]; !ok {
		return def, nil
	}
	switch v := r.FormValue(name); strings.ToLower(v) {
	case "true", "1", "yes", "on":
		return true, nil
	case "false", "0", "no", "off":
		return false, nil
	default:
		return false, fmt.Errorf("Must be a valid boolean.")
	}
}

func (d *dojo) reimport(r *http.Request) (int, any) {
	bad := func(field, msg string) (int, any) { return http.StatusBadRequest, map[string][]string{field: {msg}} }
	v := r.MultipartForm.Value
	scanType := r.FormValue("scan_type")
	if scanType == "" {
		return bad("scan_type", "This field is required.")
	}
	if scanType != genericScanType {
		return bad("scan_type", fmt.Sprintf("\"%s\" is not a valid choice.", scanType))
	}
	if ms := r.FormValue("minimum_severity"); ms != "" && !severities[ms] {
		return bad("minimum_severity", fmt.Sprintf("\"%s\" is not a valid choice.", ms))
	}
	bools := map[string]bool{}
	for name, def := range map[string]bool{"auto_create_context": false, "deduplication_on_engagement": false, "close_old_findings": true} {
		b, err := boolField(r, name, def)
		if err != nil {
			return bad(name, err.Error())
		}
		bools[name] = b
	}
	var active, verified *bool
	for name, p := range map[string]**bool{"active": &active, "verified": &verified} {
		if _, ok := v[name]; ok {
			b, err := boolField(r, name, false)
			if err != nil {
				return bad(name, err.Error())
			}
			*p = &b
		}
	}
	for _, tg := range v["tags"] {
		for _, sub := range strings.Split(tg, ",") {
			if tagPattern.MatchString(sub) {
				return bad("tags", fmt.Sprintf("Invalid tag: '%s'. Tags should not contain spaces, commas, or quotes.", sub))
			}
		}
	}
	files := r.MultipartForm.File["file"]
	if len(files) == 0 {
		return http.StatusBadRequest, []string{"Uploading a Report File is required for Generic Findings Import"}
	}
	if !strings.HasSuffix(files[0].Filename, ".json") {
		// The generic parser reads any other name as CSV.
		return http.StatusBadRequest, map[string]string{"message": "the file would be read as CSV: " + files[0].Filename}
	}
	fh, _ := files[0].Open()
	data, _ := io.ReadAll(fh)
	fh.Close()
	parsed, err := d.parseGeneric(data)
	if err != nil {
		return http.StatusBadRequest, map[string]string{"message": err.Error()}
	}
	if active != nil {
		for _, f := range parsed {
			f.active = *active
		}
	}
	if verified != nil {
		for _, f := range parsed {
			f.verified = *verified
		}
	}

	// AutoCreateContextManager: the product (its type must match), the
	// engagement (the last of that name), the test (the last of that
	// title and scan type).
	auto := bools["auto_create_context"]
	prodName, typeName, engName := r.FormValue("product_name"), r.FormValue("product_type_name"), r.FormValue("engagement_name")
	p := d.products[prodName]
	if p != nil && typeName != "" && p.typ != typeName {
		return http.StatusBadRequest, []string{fmt.Sprintf("The fetched product has a conflict with the supplied product type name: existing product type name - %s vs supplied product type name - %s", p.typ, typeName)}
	}
	var e *engagement
	if p != nil {
		for _, x := range p.engagements {
			if x.name == engName {
				e = x
			}
		}
	}
	var ts *test
	if e != nil {
		for _, x := range e.tests {
			if x.title == r.FormValue("test_title") && x.scanType == scanType {
				ts = x
			}
		}
	}
	if ts == nil && !auto {
		return http.StatusNotFound, map[string]string{"detail": "A test could not be found!"}
	}
	if p == nil {
		if typeName == "" || prodName == "" {
			return http.StatusBadRequest, []string{"auto_create_context needs product_name and product_type_name"}
		}
		if _, ok := d.productTypes[typeName]; !ok {
			d.productTypes[typeName] = d.id()
		}
		p = &product{id: d.id(), typ: typeName, typeID: d.productTypes[typeName]}
		d.products[prodName] = p
	}
	if e == nil {
		if engName == "" {
			return bad("engagement_name", "This field is required.")
		}
		e = &engagement{id: d.id(), name: engName, dedupOnEngagement: bools["deduplication_on_engagement"], scm: r.FormValue("source_code_management_uri")}
		p.engagements = append(p.engagements, e)
	}
	var before *map[string]any
	closeOld := bools["close_old_findings"]
	if ts == nil {
		title := r.FormValue("test_title")
		if title == "" {
			title = scanType
		}
		ts = &test{id: d.id(), title: title, scanType: scanType, byUID: map[string]*finding{}}
		e.tests = append(e.tests, ts)
		// A new test goes through import, which closes nothing.
		closeOld = false
	} else {
		b := stats(ts.findings)
		before = &b
	}
	ts.imports++
	ts.version, ts.branch, ts.commit, ts.build = r.FormValue("version"), r.FormValue("branch_tag"), r.FormValue("commit_hash"), r.FormValue("build_id")
	ts.tags = v["tags"]
	var created, closed, reactivated, untouched []*finding
	inReport := map[string]bool{}
	for _, f := range parsed {
		inReport[f.uid] = true
		if old := ts.byUID[f.uid]; old != nil {
			if old.isMitigated {
				old.isMitigated, old.active = false, true
				reactivated = append(reactivated, old)
			} else {
				untouched = append(untouched, old)
			}
			continue
		}
		f.id = d.id()
		ts.byUID[f.uid] = f
		ts.findings = append(ts.findings, f)
		created = append(created, f)
	}
	if closeOld {
		for _, f := range ts.findings {
			if !inReport[f.uid] && !f.isMitigated {
				f.isMitigated, f.active = true, false
				closed = append(closed, f)
			}
		}
	}
	ts.lastCreated, ts.lastClosed, ts.lastReact = len(created), len(closed), len(reactivated)
	form := map[string][]string{}
	for k, vs := range v {
		form[k] = vs
	}
	d.forms = append(d.forms, form)
	d.files[ts.title] = data

	st := map[string]any{"after": stats(ts.findings)}
	if before != nil {
		st["before"] = *before
		if d.trackHistory {
			st["delta"] = map[string]any{"created": stats(created), "closed": stats(closed), "reactivated": stats(reactivated), "untouched": stats(untouched)}
		}
	}
	return http.StatusCreated, map[string]any{
		"scan_type": scanType, "product_name": prodName, "product_type_name": typeName, "engagement_name": engName,
		"test_title": ts.title, "auto_create_context": auto, "close_old_findings": bools["close_old_findings"],
		"test": ts.id, "test_id": ts.id, "engagement_id": e.id, "product_id": p.id, "product_type_id": p.typeID,
		"statistics": st, "deduplication_complete": true,
	}
}

// stats is SeverityStatusStatisticsSerializer's shape: per severity and
// in total, the STATS_FIELDS counts.
func stats(fs []*finding) map[string]any {
	fields := []string{"active", "verified", "duplicate", "false_p", "out_of_scope", "is_mitigated", "risk_accepted", "total"}
	counts := map[string]map[string]int{}
	for _, s := range []string{"info", "low", "medium", "high", "critical", "total"} {
		counts[s] = map[string]int{}
		for _, f := range fields {
			counts[s][f] = 0
		}
	}
	for _, f := range fs {
		for _, s := range []string{strings.ToLower(f.sev), "total"} {
			c := counts[s]
			c["total"]++
			if f.active {
				c["active"]++
			}
			if f.verified {
				c["verified"]++
			}
			if f.falseP {
				c["false_p"]++
			}
			if f.isMitigated {
				c["is_mitigated"]++
			}
		}
	}
	out := map[string]any{}
	for k, v := range counts {
		out[k] = v
	}
	return out
}

// parseGeneric checks a file as GenericJSONParser does (and a little
// more: what the database would refuse), and keeps what the test needs.
func (d *dojo) parseGeneric(data []byte) ([]*finding, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("invalid JSON: %v", err)
	}
	var items []map[string]any
	if err := json.Unmarshal(doc["findings"], &items); err != nil {
		return nil, fmt.Errorf("findings is not a list of objects: %v", err)
	}
	seen := map[string]bool{}
	var out []*finding
	for i, it := range items {
		var missing, notAllowed []string
		for _, k := range []string{"title", "severity", "description"} {
			if _, ok := it[k]; !ok {
				missing = append(missing, k)
			}
		}
		if len(missing) > 0 {
			return nil, fmt.Errorf("Required fields are missing: %v", missing)
		}
		for k := range it {
			if !genericAllowed[k] {
				notAllowed = append(notAllowed, k)
			}
		}
		sort.Strings(notAllowed)
		if len(notAllowed) > 0 {
			return nil, fmt.Errorf("Not allowed fields are present: %v", notAllowed)
		}
		str := func(k string, max int) (string, error) {
			v, ok := it[k]
			if !ok {
				return "", nil
			}
			s, ok := v.(string)
			if !ok {
				return "", fmt.Errorf("finding %d: %s is not a string", i, k)
			}
			if max > 0 && len([]rune(s)) > max {
				return "", fmt.Errorf("finding %d: %s is longer than %d characters", i, k, max)
			}
			return s, nil
		}
		f := &finding{active: true}
		var err error
		if f.title, err = str("title", 511); err != nil {
			return nil, err
		}
		if f.sev, err = str("severity", 200); err != nil {
			return nil, err
		}
		if !severities[f.sev] {
			return nil, fmt.Errorf("finding %d: severity %q is not one of Info, Low, Medium, High, Critical", i, f.sev)
		}
		if desc, err := str("description", 0); err != nil || strings.TrimSpace(desc) == "" {
			return nil, fmt.Errorf("finding %d: no description", i)
		}
		if f.uid, err = str("unique_id_from_tool", 500); err != nil {
			return nil, err
		}
		for k, max := range map[string]int{"cve": 50, "file_path": 4000, "component_name": 500, "component_version": 100, "vuln_id_from_tool": 500, "references": 0, "mitigation": 0} {
			if _, err := str(k, max); err != nil {
				return nil, err
			}
		}
		if date, err := str("date", 0); err != nil {
			return nil, err
		} else if date != "" {
			if _, err := time.Parse(time.DateOnly, date); err != nil {
				return nil, fmt.Errorf("finding %d: date %q: %v", i, date, err)
			}
		}
		for _, k := range []string{"cwe", "line"} {
			if v, ok := it[k]; ok {
				if n, ok := v.(float64); !ok || n != float64(int(n)) {
					return nil, fmt.Errorf("finding %d: %s is not an integer", i, k)
				}
			}
		}
		for _, k := range []string{"active", "verified", "false_p", "static_finding", "dynamic_finding"} {
			if v, ok := it[k]; ok {
				b, ok := v.(bool)
				if !ok {
					return nil, fmt.Errorf("finding %d: %s is not a boolean", i, k)
				}
				switch k {
				case "active":
					f.active = b
				case "verified":
					f.verified = b
				case "false_p":
					f.falseP = b
				}
			}
		}
		for _, k := range []string{"tags", "vulnerability_ids"} {
			if v, ok := it[k]; ok {
				list, ok := v.([]any)
				if !ok {
					return nil, fmt.Errorf("finding %d: %s is not a list", i, k)
				}
				for _, e := range list {
					if s, ok := e.(string); !ok || s == "" || k == "tags" && tagPattern.MatchString(s) {
						return nil, fmt.Errorf("finding %d: %s holds %v", i, k, e)
					}
				}
			}
		}
		if f.uid == "" {
			d.t.Errorf("finding %d (%s) has no unique_id_from_tool: reimports would not match it", i, f.title)
		} else if seen[f.uid] {
			d.t.Errorf("finding %d: unique_id_from_tool %s twice in one file", i, f.uid)
		}
		seen[f.uid] = true
		out = append(out, f)
	}
	return out, nil
}

// findings is every finding of a test, by product, engagement and
// title; nil when there is no such test.
func (d *dojo) test(productName, engagementName, title string) *test {
	d.mu.Lock()
	defer d.mu.Unlock()
	p := d.products[productName]
	if p == nil {
		return nil
	}
	for _, e := range p.engagements {
		if e.name != engagementName {
			continue
		}
		for _, t := range e.tests {
			if t.title == title {
				return t
			}
		}
	}
	return nil
}

// total counts findings across every test, and how many share an id:
// a duplicate is a finding created twice.
func (d *dojo) total() (n int, dupes []string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	seen := map[string]bool{}
	for _, p := range d.products {
		for _, e := range p.engagements {
			for _, t := range e.tests {
				for _, f := range t.findings {
					key := e.name + "/" + f.uid
					if seen[key] {
						dupes = append(dupes, key)
					}
					seen[key] = true
					n++
				}
			}
		}
	}
	return n, dupes
}
