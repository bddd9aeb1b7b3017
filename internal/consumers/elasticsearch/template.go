package elasticsearch

import (
	"encoding/json"
)

// templatePriority is the index template's priority. Elasticsearch
// refuses two templates that match one index name at the same priority;
// the template's patterns are the two index names themselves, so only a
// catch-all template of the same priority ("*", "dracon*") could clash.
// 200 is above the built-in templates (100) and the default (0).
const templatePriority = 200

// annotationsMapping is how the annotations object is mapped. Its keys are
// enrichers' names with spaces, colons and dots in them ("Policy Pass:
// a/b", "dracon.policy"): mapped dynamically, each key would become fields
// of its own, and enough of them reach the index's field limit (1000).
// flattened (Elasticsearch 7.3+) and flat_object (OpenSearch 2.7+) index
// the whole object as one field whose keys can still be searched
// (annotations.Owner-0: "@acme/payments"). An OpenSearch before 2.7 has
// neither: the annotations are kept in the source, not indexed.
func annotationsMapping(flavor string, version semver) map[string]any {
	switch {
	case flavor != opensearch:
		return map[string]any{"type": "flattened"}
	case version.atLeast(2, 7):
		return map[string]any{"type": "flat_object"}
	}
	return map[string]any{"type": "object", "enabled": false}
}

// keyword is an exact-value field; long values (a path, a package URL) are
// kept in the source but not indexed past maxLen characters, since a
// keyword term over 32766 bytes would fail the whole document.
func keyword(maxLen int) map[string]any {
	m := map[string]any{"type": "keyword"}
	if maxLen > 0 {
		m["ignore_above"] = maxLen
	}
	return m
}

func typed(t string) map[string]any { return map[string]any{"type": t} }

// properties is the mapping of every field a document has (document's
// fields, one for one: TestTemplateMapsEveryDocumentField holds them
// together).
func properties(flavor string, version semver) map[string]any {
	return map[string]any{
		// Dracon's fields.
		"scan_start_time": typed("date"),
		"scan_id":         keyword(0),
		"tool_name":       keyword(256),
		"source":          keyword(1024),
		"target":          keyword(1024),
		"type":            keyword(256),
		"title": map[string]any{"type": "text",
			"fields": map[string]any{"keyword": keyword(512)}},
		"severity":        typed("integer"),
		"severity_text":   keyword(16),
		"cvss":            typed("float"),
		"confidence":      typed("integer"),
		"confidence_text": keyword(16),
		"description":     typed("text"),
		"first_found":     typed("date"),
		"count":           typed("long"),
		"false_positive":  typed("boolean"),
		"cve":             keyword(256),
		"annotations":     annotationsMapping(flavor, version),
		// This Dracon's.
		"finding_id":       keyword(0),
		"rule_id":          keyword(256),
		"path":             keyword(1024),
		"start_line":       typed("integer"),
		"package_url":      keyword(1024),
		"cwe":              typed("integer"),
		"owners":           keyword(256),
		"team":             keyword(256),
		"status":           keyword(16),
		"is_new":           typed("boolean"),
		"policy":           keyword(16),
		"suppressed":       typed("boolean"),
		"repository":       keyword(512),
		"ref":              keyword(512),
		"commit":           keyword(64),
		"last_seen":        typed("date"),
		"fixed_at":         typed("date"),
		"age_days":         typed("integer"),
		"time_to_fix_days": typed("float"),
	}
}

// indexTemplate is the body of PUT _index_template/<name> for the two
// indexes: explicit mappings, so that ids and names are keywords (exact,
// aggregatable), severity a number, dates dates, and the annotations one
// field.
func indexTemplate(patterns []string, flavor string, version semver, draconVersion string) map[string]any {
	mappings := map[string]any{
		"_meta":      map[string]any{"managed_by": "dracon", "dracon_version": draconVersion},
		"properties": properties(flavor, version),
	}
	return map[string]any{
		"index_patterns": patterns,
		"priority":       templatePriority,
		"template":       map[string]any{"mappings": mappings},
	}
}

// templateJSON is the template's body, indented for a person reading a
// dry run (and the same bytes sent).
func templateJSON(patterns []string, flavor string, version semver, draconVersion string) []byte {
	b, err := json.MarshalIndent(indexTemplate(patterns, flavor, version, draconVersion), "", "  ")
	if err != nil {
		panic(err) // maps of strings and numbers always encode
	}
	return b
}
