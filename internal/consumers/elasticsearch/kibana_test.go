package elasticsearch

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// dashboardFile is the Kibana saved objects the documentation ships.
var dashboardFile = filepath.Join("..", "..", "..", "docs", "consumers", "kibana", "dracon-dashboard.ndjson")

type savedObject struct {
	ID                   string          `json:"id"`
	Type                 string          `json:"type"`
	CoreMigrationVersion string          `json:"coreMigrationVersion"`
	TypeMigrationVersion string          `json:"typeMigrationVersion"`
	Attributes           json.RawMessage `json:"attributes"`
	References           []struct {
		ID   string `json:"id"`
		Name string `json:"name"`
		Type string `json:"type"`
	} `json:"references"`
}

// kqlField finds the field names a KQL query compares ("status:open and
// is_new : true").
var kqlField = regexp.MustCompile(`([A-Za-z_][A-Za-z0-9_.]*)\s*:`)

// TestKibanaDashboard checks docs/consumers/kibana/dracon-dashboard.ndjson
// as Kibana's saved objects import would need it: one object a line, ids
// unique, every reference to an object in the file, and every field a
// visualization aggregates or queries mapped by the index template with a
// type the aggregation takes.
func TestKibanaDashboard(t *testing.T) {
	data, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	props := properties("elasticsearch", semver{8, 15})
	fieldType := func(name string) string {
		if m, ok := props[name].(map[string]any); ok {
			return m["type"].(string)
		}
		if sub, ok := strings.CutSuffix(name, ".keyword"); ok {
			if m, ok := props[sub].(map[string]any); ok && m["fields"] != nil {
				return "keyword"
			}
		}
		return ""
	}

	objects := map[string]savedObject{}
	var order []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		var o savedObject
		if err := json.Unmarshal(sc.Bytes(), &o); err != nil {
			t.Fatalf("line %d: %v", n, err)
		}
		if o.ID == "" || o.Type == "" || len(o.Attributes) == 0 || o.CoreMigrationVersion == "" || o.TypeMigrationVersion == "" {
			t.Errorf("line %d: id %q, type %q: a saved object needs an id, a type, attributes and its migration versions", n, o.ID, o.Type)
		}
		key := o.Type + "/" + o.ID
		if _, dup := objects[key]; dup {
			t.Errorf("line %d: %s is there twice", n, key)
		}
		objects[key] = o
		order = append(order, key)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, o := range objects {
		count[o.Type]++
		for _, r := range o.References {
			if _, ok := objects[r.Type+"/"+r.ID]; !ok {
				t.Errorf("%s/%s refers to %s/%s, which the file does not have", o.Type, o.ID, r.Type, r.ID)
			}
		}
	}
	if count["index-pattern"] != 2 || count["visualization"] < 6 || count["dashboard"] != 1 {
		t.Fatalf("objects: %v; want both index patterns, the visualizations, a dashboard", count)
	}

	titles := map[string]string{} // index pattern id: the index it names
	for _, key := range order {
		o := objects[key]
		if o.Type != "index-pattern" {
			continue
		}
		var a struct{ Title, TimeFieldName string }
		json.Unmarshal(o.Attributes, &a)
		if a.Title != "dracon" && a.Title != "dracon-findings" {
			t.Errorf("index pattern %s is %q, not one of the default indexes", o.ID, a.Title)
		}
		if a.TimeFieldName != "" && fieldType(a.TimeFieldName) != "date" {
			t.Errorf("index pattern %s: time field %s is not a date", o.ID, a.TimeFieldName)
		}
		titles[o.ID] = a.Title
	}
	// The aggregations' field types, as Kibana offers fields for each.
	takes := map[string][]string{
		"terms":          {"keyword", "integer", "long", "boolean"},
		"cardinality":    {"keyword", "integer", "long", "date"},
		"range":          {"integer", "long", "float", "double"},
		"avg":            {"integer", "long", "float", "double"},
		"date_histogram": {"date"},
	}
	checkKQL := func(where, q string) {
		for _, m := range kqlField.FindAllStringSubmatch(q, -1) {
			if fieldType(m[1]) == "" {
				t.Errorf("%s: the query %q uses %s, which the template does not map", where, q, m[1])
			}
		}
	}
	for _, key := range order {
		o := objects[key]
		if o.Type != "visualization" {
			continue
		}
		var a struct {
			Title, VisState string
			Meta            struct{ SearchSourceJSON string } `json:"kibanaSavedObjectMeta"`
		}
		if err := json.Unmarshal(o.Attributes, &a); err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		var search struct {
			Query        struct{ Query, Language string }
			IndexRefName string
		}
		if err := json.Unmarshal([]byte(a.Meta.SearchSourceJSON), &search); err != nil {
			t.Fatalf("%s: searchSourceJSON: %v", key, err)
		}
		var index string
		for _, r := range o.References {
			if r.Name == search.IndexRefName && r.Type == "index-pattern" {
				index = titles[r.ID]
			}
		}
		if index == "" {
			t.Errorf("%s: searchSourceJSON's indexRefName %q names no index pattern reference", key, search.IndexRefName)
		}
		checkKQL(key, search.Query.Query)
		var vs struct {
			Title string
			Type  string
			Aggs  []struct {
				Type   string
				Schema string
				Params map[string]any
			}
		}
		if err := json.Unmarshal([]byte(a.VisState), &vs); err != nil {
			t.Fatalf("%s: visState: %v", key, err)
		}
		if vs.Title != a.Title || vs.Type == "" || len(vs.Aggs) == 0 {
			t.Errorf("%s: visState title %q, type %q, %d aggregations", key, vs.Title, vs.Type, len(vs.Aggs))
		}
		for _, agg := range vs.Aggs {
			if filters, ok := agg.Params["filters"].([]any); ok {
				for _, f := range filters {
					q, _ := f.(map[string]any)["input"].(map[string]any)["query"].(string)
					checkKQL(key, q)
				}
			}
			field, _ := agg.Params["field"].(string)
			if field == "" {
				if agg.Type != "count" && agg.Type != "filters" {
					t.Errorf("%s: a %s aggregation with no field", key, agg.Type)
				}
				continue
			}
			typ := fieldType(field)
			if typ == "" {
				t.Errorf("%s: %s aggregates %s, which the template does not map", key, agg.Type, field)
				continue
			}
			if !contains(takes[agg.Type], typ) {
				t.Errorf("%s: %s cannot aggregate %s, a %s field", key, agg.Type, field, typ)
			}
		}
	}

	for _, key := range order {
		o := objects[key]
		if o.Type != "dashboard" {
			continue
		}
		var a struct{ PanelsJSON string }
		json.Unmarshal(o.Attributes, &a)
		var panels []struct {
			Type, PanelIndex, PanelRefName string
			GridData                       struct{ X, Y, W, H int }
		}
		if err := json.Unmarshal([]byte(a.PanelsJSON), &panels); err != nil {
			t.Fatalf("%s: panelsJSON: %v", key, err)
		}
		shown := map[string]bool{}
		for _, p := range panels {
			found := false
			for _, r := range o.References {
				// Kibana 8's dashboards name a panel's reference
				// "<panelIndex>:<panelRefName>".
				if r.Name == p.PanelIndex+":"+p.PanelRefName && r.Type == p.Type {
					found, shown[r.ID] = true, true
				}
			}
			if !found {
				t.Errorf("%s: panel %s's reference %s:%s is not in its references", key, p.PanelIndex, p.PanelIndex, p.PanelRefName)
			}
			if p.GridData.W <= 0 || p.GridData.H <= 0 || p.GridData.X+p.GridData.W > 48 {
				t.Errorf("%s: panel %s does not fit Kibana's 48-column grid: %+v", key, p.PanelIndex, p.GridData)
			}
		}
		for _, k := range order {
			if v := objects[k]; v.Type == "visualization" && !shown[v.ID] {
				t.Errorf("the dashboard does not show %s", v.ID)
			}
		}
	}
}
