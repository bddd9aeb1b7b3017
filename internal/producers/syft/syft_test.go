package syft

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/draconsec/dracon/internal/producers/cyclonedx"
	"github.com/draconsec/dracon/internal/producers/producertest"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// TestRecorded reads BOMs the pinned syft wrote (CycloneDX 1.7, JSON
// and XML) for testdata/src.
func TestRecorded(t *testing.T) {
	for _, file := range []string{"testdata/syft-1.57.0-go-build.json", "testdata/syft-1.57.0-go-build.xml"} {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Parse(data)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		producertest.CheckIssues(t, got.Issues)
		if len(got.Issues) != 1 || got.Issues[0].Title != "Software bill of materials: 8 components" ||
			got.Issues[0].Target != "src" || got.Issues[0].GetCycloneDXSBOM() != string(data) || got.ToolVersion != "" {
			t.Errorf("%s: %d issues: %.300v", file, len(got.Issues), got.Issues)
		}
	}
}

func TestParse(t *testing.T) {
	data, err := os.ReadFile("testdata/bom.json")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	producertest.CheckIssues(t, got.Issues)
	if len(got.Issues) != 1 || got.ToolVersion != "1.57.0" {
		t.Fatalf("%d issues, version %q", len(got.Issues), got.ToolVersion)
	}
	is := got.Issues[0]
	if is.Type != cyclonedx.SBOMType || is.Target != "src" || is.Severity != v1.Severity_SEVERITY_INFO ||
		is.Title != "Software bill of materials: 2 components" || is.GetCycloneDXSBOM() != string(data) ||
		is.ToolName != "syft" || is.ToolVersion != "1.57.0" {
		t.Errorf("issue = %.300v", is)
	}
}

// TestUnversionedSyft: a syft built with `go build` writes
// "[not provided]" as its version; that is no ToolVersion.
func TestUnversionedSyft(t *testing.T) {
	data, err := os.ReadFile("testdata/bom.json")
	if err != nil {
		t.Fatal(err)
	}
	data = []byte(strings.Replace(string(data), `"version": "1.57.0"`, `"version": "[not provided]"`, 1))
	got, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if got.ToolVersion != "" || got.Issues[0].ToolVersion != "" {
		t.Errorf("version %q", got.ToolVersion)
	}
}

func TestParseRejects(t *testing.T) {
	corpus := filepath.Join(producertest.CorpusDir(t), "defectdojo", "cyclonedx")
	grypeBOM, err := os.ReadFile(filepath.Join(corpus, "log4j.json"))
	if err != nil {
		t.Fatal(err)
	}
	for name, in := range map[string]string{
		"empty":         "",
		"truncated":     `{"bomFormat": "CycloneDX", "components": [`,
		"no tools":      `{"bomFormat": "CycloneDX", "components": [{"name": "a"}]}`,
		"grype's BOM":   string(grypeBOM),
		"not cyclonedx": `{"spdxVersion": "SPDX-2.3"}`,
		"gosec":         `{"Issues": []}`,
	} {
		if got, err := Parse([]byte(in)); err == nil {
			t.Errorf("%s: no error, %d issues", name, len(got.Issues))
		}
	}
}

func FuzzParse(f *testing.F) {
	producertest.Seed(f, []string{"cyclonedx"}, "testdata/*.json", "testdata/*.xml")
	f.Fuzz(func(t *testing.T, data []byte) { producertest.FuzzParse(t, Parse, data) })
}

// BenchmarkParse reads a BOM of about 1 MB: testdata/bom.json with its
// components repeated, the size of a large repository's BOM.
func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile("testdata/bom.json")
	if err != nil {
		b.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		b.Fatal(err)
	}
	one := doc["components"].([]any)
	var many []any
	for len(many)*len(data)/len(one) < 1<<20 {
		many = append(many, one...)
	}
	doc["components"] = many
	if data, err = json.MarshalIndent(doc, "", "  "); err != nil {
		b.Fatal(err)
	}
	producertest.BenchParse(b, Parse, data)
}

// TestRealSyft runs the pinned syft on testdata/src (a go.mod, a
// requirements.txt and a package-lock.json) and checks the packages its
// BOM lists. Syft needs no database; the update check is turned off so
// nothing reaches the network.
func TestRealSyft(t *testing.T) {
	t.Setenv("SYFT_CHECK_FOR_APP_UPDATE", "false")
	got := producertest.RunTool(t, Producer, "testdata/src")
	if len(got.Issues) != 1 {
		t.Fatalf("%d issues, want the SBOM issue only", len(got.Issues))
	}
	is := got.Issues[0]
	// "" from a syft built with go build (Dracon's install), 1.57.0 from a release.
	if is.Type != cyclonedx.SBOMType || is.Target != "src" || is.Severity != v1.Severity_SEVERITY_INFO ||
		is.Title != "Software bill of materials: 8 components" || (is.ToolVersion != "" && is.ToolVersion != "1.57.0") {
		t.Errorf("issue = %.300v", is)
	}
	var bom struct {
		SpecVersion string `json:"specVersion"`
		Components  []struct {
			Type, Name, Version, PURL string
		} `json:"components"`
	}
	if err := json.Unmarshal([]byte(is.GetCycloneDXSBOM()), &bom); err != nil {
		t.Fatal(err)
	}
	var comps []string
	for _, c := range bom.Components {
		comps = append(comps, strings.TrimSpace(c.Type+" "+c.Name+" "+c.Version+" "+c.PURL))
	}
	sort.Strings(comps)
	want := []string{
		"file /go.mod",
		"file /package-lock.json",
		"file /requirements.txt",
		"library app 1.0.0 pkg:npm/app@1.0.0",
		"library django 3.2.0 pkg:pypi/django@3.2.0",
		"library github.com/google/uuid v1.6.0 pkg:golang/github.com/google/uuid@v1.6.0",
		"library lodash 4.17.21 pkg:npm/lodash@4.17.21",
		"library requests 2.31.0 pkg:pypi/requests@2.31.0",
	}
	if strings.Join(comps, "\n") != strings.Join(want, "\n") {
		t.Errorf("components (CycloneDX %s):\n%s\nwant:\n%s", bom.SpecVersion, strings.Join(comps, "\n"), strings.Join(want, "\n"))
	}
}
