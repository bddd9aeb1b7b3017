package config

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/draconsec/dracon/internal/pathglob"
)

// CustomAnnotations configures enrichers.custom: custom annotations (Dracon's custom-annotation): a map put on every finding, or on those a path glob or tool selects.
type CustomAnnotations struct {
	Enabled *bool `yaml:"enabled"`
	// Annotations are put on every finding.
	Annotations map[string]string `yaml:"annotations"`
	// AnnotationsJSON is Dracon's enricher-custom-annotation-base-annotation
	// parameter as it was written there: a JSON object of strings
	// ('{"team":"payments"}'), put on every finding like Annotations. A
	// key may be in one of the two, not both.
	AnnotationsJSON string `yaml:"annotations_json"`
	// Rules put more annotations on the findings they select; on a key
	// they share, a matching rule's value wins over the base annotations,
	// and a later rule's over an earlier one's.
	Rules []CustomRule `yaml:"rules"`

	// base is Annotations and AnnotationsJSON together, set by validate.
	base map[string]string
}

// CustomRule selects findings by path glob and/or tool; a rule with both
// selects the findings that match both.
type CustomRule struct {
	// Path is a glob (internal/pathglob) over the finding's file,
	// relative to the scanned folder.
	Path string `yaml:"path"`
	// Tool is the producer that reported the finding (or, for a finding
	// several tools reported, one of them), compared without case.
	Tool        string            `yaml:"tool"`
	Annotations map[string]string `yaml:"annotations"`
}

// Base is every finding's annotations: annotations and annotations_json
// together (valid once Parse has checked the config).
func (e CustomAnnotations) Base() map[string]string {
	if e.base != nil {
		return e.base
	}
	// A struct built in code rather than parsed: read it the same way,
	// leaving out what validate would refuse.
	out := map[string]string{}
	if e.AnnotationsJSON != "" {
		m, _ := decodeAnnotationsJSON(e.AnnotationsJSON)
		for k, v := range m {
			out[k] = v
		}
	}
	for k, v := range e.Annotations {
		out[k] = v
	}
	return out
}

// reservedAnnotation matches the keys Dracon's own enrichers write and
// its policies and consumers read: owners (Owner-0, ...), Dracon's
// internal dracon.* keys and the exploits enricher's. A custom value
// there would pass for what those enrichers found (a known_exploited
// "true" fails a release).
var reservedAnnotation = regexp.MustCompile(`^(Owner-[0-9]+|dracon\..*|known_exploited|kev_.*|epss|epss_.*)$`)

// validate checks the block at key.
func (e *CustomAnnotations) validate(key string, add func(key, format string, args ...any)) {
	checkKeys := func(at string, m map[string]string) {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			switch {
			case strings.TrimSpace(k) == "":
				add(at, "an annotation needs a key")
			case reservedAnnotation.MatchString(k):
				add(at+"."+k, "%q is an annotation Dracon's own enrichers write; choose another key", k)
			}
		}
	}
	checkKeys(key+".annotations", e.Annotations)
	base := map[string]string{}
	for k, v := range e.Annotations {
		base[k] = v
	}
	if e.AnnotationsJSON != "" {
		m, err := decodeAnnotationsJSON(e.AnnotationsJSON)
		if err != nil {
			add(key+".annotations_json", "%v", err)
		}
		checkKeys(key+".annotations_json", m)
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if _, dup := e.Annotations[k]; dup {
				add(key+".annotations_json", "%q is in annotations too: give each key once", k)
			}
			base[k] = m[k]
		}
	}
	e.base = base
	for i, r := range e.Rules {
		at := fmt.Sprintf("%s.rules[%d]", key, i)
		if r.Path == "" && strings.TrimSpace(r.Tool) == "" {
			add(at, "a rule needs a path or a tool to select findings (annotations for every finding go in %s.annotations)", key)
		}
		if r.Path != "" {
			if err := pathglob.Valid(r.Path); err != nil {
				add(at+".path", "%v", err)
			}
		}
		if len(r.Annotations) == 0 {
			add(at+".annotations", "a rule needs annotations to put on the findings it selects")
		}
		checkKeys(at+".annotations", r.Annotations)
	}
}

// decodeAnnotationsJSON reads Dracon's JSON object of strings; anything
// else (an array, a number for a value, a nested object) is an error
// that names the offending key.
func decodeAnnotationsJSON(s string) (map[string]string, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return nil, fmt.Errorf("not a JSON object of strings ({\"key\": \"value\"}): %v", err)
	}
	if raw == nil {
		return nil, fmt.Errorf("not a JSON object of strings ({\"key\": \"value\"}): null")
	}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make(map[string]string, len(raw))
	var bad []string
	for _, k := range keys {
		var v string
		// null decodes to "" without an error (Dracon took it as an empty
		// value): refuse it, it is more likely a slip than meant.
		if err := json.Unmarshal(raw[k], &v); err != nil || jsonKind(raw[k]) == "null" {
			bad = append(bad, fmt.Sprintf("%q is %s, not a string", k, jsonKind(raw[k])))
			continue
		}
		out[k] = v
	}
	if len(bad) > 0 {
		return out, fmt.Errorf("annotation values must be strings: %s", strings.Join(bad, "; "))
	}
	return out, nil
}

func jsonKind(m json.RawMessage) string {
	switch t := strings.TrimSpace(string(m)); {
	case t == "null":
		return "null"
	case t == "true" || t == "false":
		return "a boolean"
	case strings.HasPrefix(t, "{"):
		return "an object"
	case strings.HasPrefix(t, "["):
		return "an array"
	}
	return "a number"
}
