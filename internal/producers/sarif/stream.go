package sarif

import (
	"github.com/draconsec/dracon/internal/producers"
	"github.com/draconsec/dracon/internal/producers/jsontok"
	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// The hot path of a large log is its results. Decoding them through
// reflection cost more than everything else together, so results and
// their locations are read here token by token; the rarer parts (rules,
// suppressions, properties, logical locations) still go through the
// decoder's reflection.

func readMessage(dec *jsontext.Decoder, m *message) error {
	if dec.PeekKind() == 'n' {
		_, err := dec.ReadToken()
		return err
	}
	return jsontok.Fields(dec, "message", func(key []byte) error {
		switch string(key) {
		case `"text"`:
			return jsontok.String(dec, &m.Text)
		case `"markdown"`:
			return jsontok.String(dec, &m.Markdown)
		}
		return dec.SkipValue()
	})
}

// readKeyValues reads a fingerprints object. SARIF says its values are
// strings; some tools nest objects, which are kept as their JSON text.
func readKeyValues(dec *jsontext.Decoder, dst *[]keyValue) error {
	if dec.PeekKind() == 'n' {
		_, err := dec.ReadToken()
		return err
	}
	return jsontok.Members(dec, "fingerprints", func(key string) error {
		if dec.PeekKind() == '"' {
			var s string
			if err := jsontok.String(dec, &s); err != nil {
				return err
			}
			*dst = append(*dst, keyValue{key, s})
			return nil
		}
		v, err := dec.ReadValue()
		if err != nil {
			return err
		}
		*dst = append(*dst, keyValue{key, string(v)})
		return nil
	})
}

// readProps reads a result's property bag: the few keys Dracon uses.
func readProps(dec *jsontext.Decoder, dst **propBag, in *jsontok.Interner) error {
	if dec.PeekKind() == 'n' {
		_, err := dec.ReadToken()
		return err
	}
	p := &propBag{}
	*dst = p
	flex := func(f *flexString) error {
		if dec.PeekKind() == '"' {
			var s string
			err := jsontok.String(dec, &s)
			*f = flexString(s)
			return err
		}
		v, err := dec.ReadValue()
		if err == nil && v.Kind() != 'n' {
			*f = flexString(v)
		}
		return err
	}
	return jsontok.Fields(dec, "properties", func(key []byte) error {
		switch string(key) {
		case `"tags"`:
			return jsontok.Elements(dec, "tags", func(int) error {
				var t string
				err := in.String(dec, &t)
				p.Tags = append(p.Tags, t)
				return err
			})
		case `"security-severity"`:
			return flex(&p.SecuritySeverity)
		case `"severity"`:
			return flex(&p.Severity)
		case `"cvssV3_baseScore"`:
			return flex(&p.CVSS)
		case `"precision"`:
			return jsontok.String(dec, &p.Precision)
		case `"problem.severity"`:
			return jsontok.String(dec, &p.ProblemSeverity)
		}
		return dec.SkipValue()
	})
}

func readResult(dec *jsontext.Decoder, res *result, in *jsontok.Interner) error {
	return jsontok.Fields(dec, "result", func(key []byte) error {
		switch string(key) {
		case `"ruleId"`:
			return in.String(dec, &res.RuleID)
		case `"ruleIndex"`:
			n, ok, err := jsontok.Int(dec)
			if ok {
				res.RuleIndex = &n
			}
			return err
		case `"kind"`:
			return in.String(dec, &res.Kind)
		case `"level"`:
			return in.String(dec, &res.Level)
		case `"message"`:
			return readMessage(dec, &res.Message)
		case `"locations"`:
			return jsontok.Elements(dec, "locations", func(int) error {
				if res.Locations == nil {
					res.Locations = make([]location, 0, 1) // nearly always one
				}
				res.Locations = append(res.Locations, location{})
				return readLocation(dec, &res.Locations[len(res.Locations)-1], in)
			})
		case `"fingerprints"`:
			return readKeyValues(dec, &res.Fingerprints)
		case `"partialFingerprints"`:
			return readKeyValues(dec, &res.PartialFingerprints)
		case `"rule"`:
			return json.UnmarshalDecode(dec, &res.Rule, producers.JSONOptions)
		case `"suppressions"`:
			return json.UnmarshalDecode(dec, &res.Suppressions, producers.JSONOptions)
		case `"properties"`:
			return readProps(dec, &res.Properties, in)
		}
		return dec.SkipValue()
	})
}

func readLocation(dec *jsontext.Decoder, l *location, in *jsontok.Interner) error {
	if dec.PeekKind() == 'n' {
		_, err := dec.ReadToken()
		return err
	}
	return jsontok.Fields(dec, "location", func(key []byte) error {
		switch string(key) {
		case `"physicalLocation"`:
			if dec.PeekKind() == 'n' {
				return dec.SkipValue()
			}
			b := &physicalBlock{}
			l.Physical = &b.physical
			return readPhysical(dec, b, in)
		case `"logicalLocations"`:
			return json.UnmarshalDecode(dec, &l.Logical, producers.JSONOptions)
		}
		return dec.SkipValue()
	})
}

// physicalBlock holds a physical location and the parts it points to in
// one allocation: a large log has one per result.
type physicalBlock struct {
	physical
	artifact artifactLocation
	region   region
	snippet  message
}

func readPhysical(dec *jsontext.Decoder, b *physicalBlock, in *jsontok.Interner) error {
	p := &b.physical
	return jsontok.Fields(dec, "physicalLocation", func(key []byte) error {
		switch string(key) {
		case `"artifactLocation"`:
			if dec.PeekKind() == 'n' {
				return dec.SkipValue()
			}
			p.Artifact = &b.artifact
			return jsontok.Fields(dec, "artifactLocation", func(key []byte) error {
				switch string(key) {
				case `"uri"`:
					return in.String(dec, &p.Artifact.URI)
				case `"index"`:
					n, ok, err := jsontok.Int(dec)
					if ok {
						p.Artifact.Index = &n
					}
					return err
				}
				return dec.SkipValue()
			})
		case `"region"`:
			if dec.PeekKind() == 'n' {
				return dec.SkipValue()
			}
			p.Region = &b.region
			return readRegion(dec, p.Region, &b.snippet)
		}
		return dec.SkipValue()
	})
}

func readRegion(dec *jsontext.Decoder, r *region, snippet *message) error {
	return jsontok.Fields(dec, "region", func(key []byte) error {
		switch string(key) {
		case `"startLine"`:
			return jsontok.IntInto(dec, &r.StartLine)
		case `"endLine"`:
			return jsontok.IntInto(dec, &r.EndLine)
		case `"startColumn"`:
			return jsontok.IntInto(dec, &r.StartColumn)
		case `"endColumn"`:
			return jsontok.IntInto(dec, &r.EndColumn)
		case `"snippet"`:
			if dec.PeekKind() == 'n' {
				return dec.SkipValue()
			}
			r.Snippet = snippet
			return readMessage(dec, r.Snippet)
		}
		return dec.SkipValue()
	})
}
