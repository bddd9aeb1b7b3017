package gitlab

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/draconsec/dracon/internal/enrichers"
	"github.com/draconsec/dracon/internal/enrichers/identity"
	"github.com/draconsec/dracon/internal/enrichers/merge"
	"github.com/draconsec/dracon/internal/producers/producertest"
	"github.com/draconsec/dracon/internal/producers/registry"
	"github.com/draconsec/dracon/internal/schematest"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// t0 is the scan's start in every test, so outputs are stable.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func testScan() *v1.ScanInfo {
	return &v1.ScanInfo{ScanUuid: "00000000-0000-4000-8000-000000000001", ScanStartTime: timestamppb.New(t0),
		ScanTags: map[string]string{"commit": "0123456789abcdef0123456789abcdef01234567"}}
}

// input is one real report: the producer that reads it and the file.
type input struct {
	producer string
	file     string // relative to testdata/corpus/defectdojo, or to the module root when it starts with "internal/"
	max      int    // keep this many findings (the BOM issue always); 0: all
	noSBOM   bool   // drop the issue that carries the BOM
}

// parse reads each input with its producer's parser (registry.Parse), as
// the pipeline does, and names the tool as the pipeline's launch does.
func parse(t testing.TB, ins []input) []*v1.LaunchToolResponse {
	t.Helper()
	var out []*v1.LaunchToolResponse
	for _, in := range ins {
		p, err := registry.Lookup(in.producer)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(producertest.CorpusDir(t), "defectdojo", in.file)
		if strings.HasPrefix(in.file, "internal/") {
			path = filepath.Join(producertest.ModuleRoot(t), in.file)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		parsed, err := registry.Parse(p, data)
		if err != nil {
			t.Fatalf("%s: %v", in.file, err)
		}
		var issues []*v1.Issue
		n := 0
		for _, is := range parsed.Issues {
			if is.ToolName == "" {
				is.ToolName = p.Name
			}
			sbom := is.CycloneDXSBOM != nil && is.PackageUrl == ""
			if sbom && in.noSBOM {
				continue
			}
			if !sbom && in.max > 0 && n >= in.max {
				continue
			}
			if !sbom {
				n++
			}
			issues = append(issues, is)
		}
		out = append(out, &v1.LaunchToolResponse{ScanInfo: testScan(), ToolName: p.Name, Issues: issues,
			ToolVersion: parsed.ToolVersion, ScanTarget: "example/repo"})
	}
	return out
}

// enrich wraps the results (enrichers.Wrap) and names every finding
// (identity: its signatures and hash), then merges what several tools
// saw (merge: seen_by, duplicate_of), as the pipeline does.
func enrich(t testing.TB, launches []*v1.LaunchToolResponse) []*v1.EnrichedLaunchToolResponse {
	t.Helper()
	var out []*v1.EnrichedLaunchToolResponse
	for _, l := range launches {
		out = append(out, enrichers.Wrap(l))
	}
	if err := enrichers.Run(context.Background(), testScan(), out, identity.Enricher{}, merge.Enricher{}); err != nil {
		t.Fatal(err)
	}
	return out
}

// status is a producer that ran from t0 for a minute.
func status(name, kind string) ProducerStatus {
	return ProducerStatus{Name: name, Kind: kind, Status: "ok", Version: "", Start: t0, End: t0.Add(time.Minute)}
}

// build runs the consumer into a temporary folder and returns each file.
func build(t testing.TB, c Consumer, results []*v1.EnrichedLaunchToolResponse) map[string][]byte {
	t.Helper()
	c.Dir = t.TempDir()
	written, err := c.Write(context.Background(), testScan(), results)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, w := range written {
		data, err := os.ReadFile(w.Path)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(w.Path)] = data
	}
	return out
}

var (
	schemaOnce sync.Once
	schemas    map[string]*jsonschema.Schema
)

// compiled returns the schemas, by "<report>@<version>" and "cyclonedx@<spec>".
func compiled(t testing.TB) map[string]*jsonschema.Schema {
	t.Helper()
	schemaOnce.Do(func() {
		schemas = map[string]*jsonschema.Schema{}
		dir := schematest.Dir(t)
		for _, v := range []string{"15.0.7", "15.2.1"} {
			for _, r := range securityReports {
				path := filepath.Join(dir, "gitlab-"+strings.ReplaceAll(r, "_", "-")+"-report-format-"+v+".json")
				if _, err := os.Stat(path); err != nil {
					continue // no container scanning 15.0.7 here
				}
				c := jsonschema.NewCompiler()
				c.AssertFormat()
				doc := readJSON(t, path)
				if err := c.AddResource("file://"+path, doc); err != nil {
					t.Fatal(err)
				}
				sch, err := c.Compile("file://" + path)
				if err != nil {
					t.Fatalf("compile %s: %v", path, err)
				}
				schemas[r+"@"+v] = sch
			}
		}
		// CycloneDX: the BOM schemas refer to spdx and jsf by relative
		// $ref, resolved against their $id.
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		for _, f := range []string{"spdx.schema.json", "jsf-0.82.schema.json", "bom-1.5.schema.json", "bom-1.6.schema.json"} {
			if err := c.AddResource("http://cyclonedx.org/schema/"+f, readJSON(t, filepath.Join(dir, "cyclonedx", f))); err != nil {
				t.Fatal(err)
			}
		}
		for _, v := range []string{"1.5", "1.6"} {
			sch, err := c.Compile("http://cyclonedx.org/schema/bom-" + v + ".schema.json")
			if err != nil {
				t.Fatalf("compile CycloneDX %s: %v", v, err)
			}
			schemas["cyclonedx@"+v] = sch
		}
	})
	return schemas
}

func readJSON(t testing.TB, path string) any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return doc
}

// reportOf names the report type of a file GitLab's way.
func reportOf(name string) string {
	for _, r := range AllReports {
		if FileName(r) == name {
			return r
		}
	}
	if strings.HasPrefix(name, "gl-sbom-") {
		return CycloneDX
	}
	return ""
}

// validate checks a file against every schema its report has: the
// security reports against 15.2.1 (the version they declare) and
// 15.0.7 (older GitLabs), a BOM against its spec version's, Code
// Quality against GitLab's documented fields.
func validate(t testing.TB, name string, data []byte) {
	t.Helper()
	r := reportOf(name)
	if bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) {
		t.Errorf("%s starts with a BOM", name)
	}
	switch r {
	case CodeQuality:
		checkCodeQuality(t, name, data)
		return
	case "":
		t.Fatalf("%s: no report type", name)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if r == CycloneDX {
		var head struct {
			SpecVersion string `json:"specVersion"`
		}
		if err := json.Unmarshal(data, &head); err != nil {
			t.Fatal(err)
		}
		sch := compiled(t)["cyclonedx@"+head.SpecVersion]
		if sch == nil {
			t.Fatalf("%s: spec version %q is not one GitLab reads here", name, head.SpecVersion)
		}
		if err := sch.Validate(doc); err != nil {
			t.Errorf("%s does not validate against CycloneDX %s: %v", name, head.SpecVersion, err)
		}
		return
	}
	n := 0
	for _, v := range []string{"15.2.1", "15.0.7"} {
		sch := compiled(t)[r+"@"+v]
		if sch == nil {
			continue
		}
		n++
		if err := sch.Validate(doc); err != nil {
			t.Errorf("%s does not validate against GitLab's %s schema %s: %v", name, r, v, err)
		}
	}
	if n == 0 {
		t.Fatalf("%s: no schema", name)
	}
	checkStrict(t, name, data)
}

// checkStrict checks what GitLab is strict about beyond its schemas.
func checkStrict(t testing.TB, name string, data []byte) {
	t.Helper()
	var generic any
	if err := json.Unmarshal(data, &generic); err != nil {
		t.Fatal(err)
	}
	if path := findNull(generic, "$"); path != "" {
		t.Errorf("%s has a null at %s; GitLab rejects null where a string is due", name, path)
	}
	var doc struct {
		Version string `json:"version"`
		Scan    struct {
			StartTime string `json:"start_time"`
			EndTime   string `json:"end_time"`
		} `json:"scan"`
		Vulnerabilities []struct {
			ID          string       `json:"id"`
			Identifiers []identifier `json:"identifiers"`
		} `json:"vulnerabilities"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Version != SchemaVersion {
		t.Errorf("%s declares version %q, want %s", name, doc.Version, SchemaVersion)
	}
	for _, ts := range []string{doc.Scan.StartTime, doc.Scan.EndTime} {
		if _, err := time.Parse("2006-01-02T15:04:05", ts); err != nil || len(ts) != 19 {
			t.Errorf("%s: time %q is not 2006-01-02T15:04:05", name, ts)
		}
	}
	ids := map[string]bool{}
	for _, v := range doc.Vulnerabilities {
		if ids[v.ID] {
			t.Errorf("%s: id %s twice", name, v.ID)
		}
		ids[v.ID] = true
		if len(v.Identifiers) > maxIdentifiers {
			t.Errorf("%s: %d identifiers, GitLab keeps %d", name, len(v.Identifiers), maxIdentifiers)
		}
	}
}

// checkCodeQuality checks GitLab's documented Code Quality format: a JSON
// array of objects with description, check_name, a unique fingerprint,
// severity info|minor|major|critical|blocker, location.path and
// location.lines.begin.
func checkCodeQuality(t testing.TB, name string, data []byte) {
	t.Helper()
	var entries []map[string]any
	if err := json.Unmarshal(data, &entries); err != nil {
		t.Fatalf("%s is not a JSON array of objects: %v", name, err)
	}
	if entries == nil {
		t.Fatalf("%s is null, want an array", name)
	}
	fps := map[string]bool{}
	for i, e := range entries {
		str := func(k string) string {
			s, ok := e[k].(string)
			if !ok || strings.TrimSpace(s) == "" {
				t.Errorf("%s[%d]: %s is %v, want a non-empty string", name, i, k, e[k])
			}
			return s
		}
		str("description")
		str("check_name")
		fp := str("fingerprint")
		if fps[fp] {
			t.Errorf("%s[%d]: fingerprint %s twice (GitLab collapses them)", name, i, fp)
		}
		fps[fp] = true
		switch sev := str("severity"); sev {
		case "info", "minor", "major", "critical", "blocker":
		default:
			t.Errorf("%s[%d]: severity %q", name, i, sev)
		}
		loc, _ := e["location"].(map[string]any)
		if p, _ := loc["path"].(string); strings.TrimSpace(p) == "" {
			t.Errorf("%s[%d]: no location.path", name, i)
		}
		lines, _ := loc["lines"].(map[string]any)
		if b, ok := lines["begin"].(float64); !ok || b < 1 || b != float64(int(b)) {
			t.Errorf("%s[%d]: location.lines.begin is %v, want a line number", name, i, lines["begin"])
		}
	}
}

// findNull is the path of the first null in a decoded JSON value, or "".
func findNull(v any, path string) string {
	switch x := v.(type) {
	case nil:
		return path
	case map[string]any:
		for k, e := range x {
			if p := findNull(e, path+"."+k); p != "" {
				return p
			}
		}
	case []any:
		for i, e := range x {
			if p := findNull(e, fmt.Sprintf("%s[%d]", path, i)); p != "" {
				return p
			}
		}
	}
	return ""
}
