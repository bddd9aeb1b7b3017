// Package schematest validates what Dracon writes against the official
// JSON schemas in testdata/schemas.
package schematest

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/draconsec/dracon/internal/producers/producertest"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Dir is the schemas folder.
func Dir(t testing.TB) string {
	return producertest.SchemasDir(t)
}

// ValidateSARIF checks a SARIF document against the OASIS schema and
// GitHub's copy of it.
func ValidateSARIF(t *testing.T, data []byte) {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"sarif-schema-2.1.0.json", "github-codeql-action-sarif-schema-2.1.0.json"} {
		if err := Compile(t, filepath.Join(Dir(t), name)).Validate(doc); err != nil {
			t.Errorf("SARIF does not validate against %s: %v", name, err)
		}
	}
}

// Compile loads a JSON schema file. GitHub's copy of the SARIF
// schema declares draft 2020-12 but keeps an "anyOf" inside region's
// "properties", which that draft's metaschema rejects; GitHub's own
// validator reads it as a property named "anyOf", which constrains nothing.
// So that key is dropped here, which is exactly what GitHub enforces.
func Compile(t testing.TB, path string) *jsonschema.Schema {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if defs, ok := doc["definitions"].(map[string]any); ok {
		if region, ok := defs["region"].(map[string]any); ok {
			if props, ok := region["properties"].(map[string]any); ok {
				delete(props, "anyOf")
			}
		}
	}
	c := jsonschema.NewCompiler()
	url := "file://" + path
	if err := c.AddResource(url, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		t.Fatalf("compile %s: %v", path, err)
	}
	return sch
}
