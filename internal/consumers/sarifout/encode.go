package sarifout

import (
	"encoding/json"
	"slices"
	"strconv"

	"github.com/owenrumney/go-sarif/v2/sarif"
)

// A result is encoded by hand, as encoding/json's MarshalIndent would
// write it at resultIndent (the same bytes: field order, map keys sorted,
// HTML-safe escaping), which is several times faster than reflection for
// the 100,000 results of a large scan. It covers what result() sets;
// a result using any other field is left to encoding/json (appendResult
// reports false), so a new field in result() is written correctly, if
// more slowly, until this encoder learns it. TestFastEncoder holds the two
// to the same bytes, and to go-sarif's list of fields.

// indenter writes indented JSON into a buffer: begin, then field (or
// item) before each member, then end; an object or array with no members
// is written as {} or [].
type indenter struct {
	b []byte
	// empty[d] says the container at depth d has no member yet.
	empty []bool
	// compact: no indentation, as json.Marshal writes.
	compact bool
}

func (e *indenter) newline() {
	if e.compact {
		return
	}
	e.b = append(e.b, '\n')
	e.b = append(e.b, resultIndent...)
	for range len(e.empty) {
		e.b = append(e.b, "  "...)
	}
}

func (e *indenter) begin(c byte) {
	e.b = append(e.b, c)
	e.empty = append(e.empty, true)
}

func (e *indenter) end(c byte) {
	d := len(e.empty) - 1
	wasEmpty := e.empty[d]
	e.empty = e.empty[:d]
	if !wasEmpty {
		e.newline()
	}
	e.b = append(e.b, c)
}

// item starts an array element.
func (e *indenter) item() {
	d := len(e.empty) - 1
	if !e.empty[d] {
		e.b = append(e.b, ',')
	}
	e.empty[d] = false
	e.newline()
}

// field starts an object member.
func (e *indenter) field(key string) {
	e.item()
	e.str(key)
	if e.compact {
		e.b = append(e.b, ':')
	} else {
		e.b = append(e.b, ": "...)
	}
}

// str writes s as encoding/json does: plain printable ASCII as it is,
// anything else (escapes, HTML-sensitive characters, non-ASCII) through
// encoding/json itself.
func (e *indenter) str(s string) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			e.b = append(e.b, q...)
			return
		}
	}
	e.b = append(e.b, '"')
	e.b = append(e.b, s...)
	e.b = append(e.b, '"')
}

func (e *indenter) strPtr(s *string) {
	if s == nil {
		e.b = append(e.b, "null"...)
		return
	}
	e.str(*s)
}

func (e *indenter) int(n int64) { e.b = strconv.AppendInt(e.b, n, 10) }

// scalarProps says every value of m is of a kind value writes.
func scalarProps(m map[string]any) bool {
	for _, v := range m {
		switch v.(type) {
		case string, bool, int, int64, uint64, []string:
		default:
			return false
		}
	}
	return true
}

// value writes a property value of a kind scalarProps accepts.
func (e *indenter) value(v any) {
	switch v := v.(type) {
	case string:
		e.str(v)
	case bool:
		e.b = strconv.AppendBool(e.b, v)
	case int:
		e.int(int64(v))
	case int64:
		e.int(v)
	case uint64:
		e.b = strconv.AppendUint(e.b, v, 10)
	case []string:
		if v == nil {
			e.b = append(e.b, "null"...)
			return
		}
		e.begin('[')
		for _, s := range v {
			e.item()
			e.str(s)
		}
		e.end(']')
	}
}

// props writes a map with its keys sorted, as encoding/json does.
func (e *indenter) props(m map[string]any) {
	var buf [8]string
	keys := buf[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	e.begin('{')
	for _, k := range keys {
		e.field(k)
		e.value(m[k])
	}
	e.end('}')
}

// appendResult encodes r, or reports false (having written nothing) when
// r uses what this encoder does not cover.
func appendResult(e *indenter, r *sarif.Result) bool {
	if !plainResult(r) {
		return false
	}
	e.begin('{')
	if len(r.Properties) > 0 {
		e.field("properties")
		e.props(r.Properties)
	}
	if r.RuleID != nil {
		e.field("ruleId")
		e.str(*r.RuleID)
	}
	if r.RuleIndex != nil {
		e.field("ruleIndex")
		e.b = strconv.AppendUint(e.b, uint64(*r.RuleIndex), 10)
	}
	if r.Level != nil {
		e.field("level")
		e.str(*r.Level)
	}
	e.field("message")
	e.begin('{')
	if r.Message.Text != nil {
		e.field("text")
		e.str(*r.Message.Text)
	}
	e.end('}')
	if len(r.Locations) > 0 {
		e.field("locations")
		e.begin('[')
		for _, l := range r.Locations {
			e.item()
			e.location(l)
		}
		e.end(']')
	}
	if len(r.PartialFingerprints) > 0 {
		e.field("partialFingerprints")
		e.props(r.PartialFingerprints)
	}
	if len(r.Suppressions) > 0 {
		e.field("suppressions")
		e.begin('[')
		for _, s := range r.Suppressions {
			e.item()
			e.suppression(s)
		}
		e.end(']')
	}
	if r.BaselineState != nil {
		e.field("baselineState")
		e.str(*r.BaselineState)
	}
	e.end('}')
	return true
}

func (e *indenter) location(l *sarif.Location) {
	if l == nil {
		e.b = append(e.b, "null"...)
		return
	}
	e.begin('{')
	if pl := l.PhysicalLocation; pl != nil {
		e.field("physicalLocation")
		e.begin('{')
		if a := pl.ArtifactLocation; a != nil {
			e.field("artifactLocation")
			e.begin('{')
			if a.URI != nil {
				e.field("uri")
				e.str(*a.URI)
			}
			if a.URIBaseId != nil {
				e.field("uriBaseId")
				e.str(*a.URIBaseId)
			}
			e.end('}')
		}
		if r := pl.Region; r != nil {
			e.field("region")
			e.begin('{')
			for _, f := range [...]struct {
				key string
				v   *int
			}{{"startLine", r.StartLine}, {"startColumn", r.StartColumn}, {"endLine", r.EndLine}, {"endColumn", r.EndColumn}} {
				if f.v != nil {
					e.field(f.key)
					e.int(int64(*f.v))
				}
			}
			e.end('}')
		}
		e.end('}')
	}
	e.end('}')
}

func (e *indenter) suppression(s *sarif.Suppression) {
	if s == nil {
		e.b = append(e.b, "null"...)
		return
	}
	e.begin('{')
	e.field("kind")
	e.str(s.Kind)
	e.field("status")
	e.strPtr(s.Status)
	e.field("location")
	e.location(s.Location)
	e.field("guid")
	e.strPtr(s.Guid)
	e.field("justification")
	e.strPtr(s.Justification)
	e.end('}')
}

// plainResult: r sets only the fields appendResult writes, and its
// locations and suppressions only theirs.
func plainResult(r *sarif.Result) bool {
	if !scalarProps(r.Properties) || !scalarProps(r.PartialFingerprints) {
		return false
	}
	if r.Guid != nil || r.CorrelationGuid != nil || r.Rule != nil || r.Taxa != nil || r.Kind != nil ||
		r.AnalysisTarget != nil || r.WebRequest != nil || r.WebResponse != nil || r.Fingerprints != nil ||
		r.CodeFlows != nil || r.Graphs != nil || r.GraphTraversals != nil || r.Stacks != nil ||
		r.RelatedLocations != nil || r.Rank != nil || r.Attachments != nil || r.WorkItemUris != nil ||
		r.HostedViewerUri != nil || r.Provenance != nil || r.Fixes != nil || r.OccurrenceCount != nil {
		return false
	}
	m := r.Message
	if m.Markdown != nil || m.ID != nil || m.Arguments != nil || m.Properties != nil {
		return false
	}
	for _, l := range r.Locations {
		if !plainLocation(l) {
			return false
		}
	}
	for _, s := range r.Suppressions {
		if s != nil && (s.Properties != nil || !plainLocation(s.Location)) {
			return false
		}
	}
	return true
}

func plainLocation(l *sarif.Location) bool {
	if l == nil {
		return true
	}
	if l.Id != nil || l.LogicalLocations != nil || l.Message != nil || l.Annotations != nil || l.Relationships != nil || l.Properties != nil {
		return false
	}
	pl := l.PhysicalLocation
	if pl == nil {
		return true
	}
	if pl.ContextRegion != nil || pl.Address != nil || pl.Properties != nil {
		return false
	}
	if a := pl.ArtifactLocation; a != nil && (a.Index != nil || a.Description != nil || a.Properties != nil) {
		return false
	}
	if r := pl.Region; r != nil && (r.CharOffset != nil || r.CharLength != nil || r.ByteOffset != nil || r.ByteLength != nil ||
		r.Snippet != nil || r.Message != nil || r.SourceLanguage != nil || r.Properties != nil) {
		return false
	}
	return true
}
