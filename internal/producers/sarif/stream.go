package sarif

import (
	"fmt"

	"github.com/draconsec/dracon/internal/producers"
	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// The hot path of a large log is its results. Decoding them through
// reflection cost more than everything else together, so results and
// their locations are read here token by token; the rarer parts (rules,
// suppressions, properties, logical locations) still go through the
// decoder's reflection.

// fields calls fn with each member name of the object at the decoder's
// position, as raw JSON (quotes included, compared without allocating);
// fn must consume the value.
func fields(dec *jsontext.Decoder, what string, fn func(key string) error) error {
	if err := expect(dec, '{', what); err != nil {
		return err
	}
	for dec.PeekKind() != '}' {
		k, err := dec.ReadValue()
		if err != nil {
			return err
		}
		if err := fn(string(k)); err != nil {
			return err
		}
	}
	_, err := dec.ReadToken()
	return err
}

func readString(dec *jsontext.Decoder, dst *string) error {
	off := dec.InputOffset()
	tok, err := dec.ReadToken()
	if err != nil {
		return err
	}
	switch tok.Kind() {
	case '"':
		*dst = tok.String()
		return nil
	case 'n':
		return nil
	}
	return &producers.ParseError{Offset: off, Err: fmt.Errorf("want a string, found %v", tok.Kind())}
}

func readInt(dec *jsontext.Decoder) (int, bool, error) {
	off := dec.InputOffset()
	tok, err := dec.ReadToken()
	if err != nil {
		return 0, false, err
	}
	switch tok.Kind() {
	case '0':
		n, err := tok.Int()
		if err != nil {
			return 0, false, &producers.ParseError{Offset: off, Err: err}
		}
		return int(n), true, nil
	case 'n':
		return 0, false, nil
	}
	return 0, false, &producers.ParseError{Offset: off, Err: fmt.Errorf("want a number, found %v", tok.Kind())}
}

func readIntInto(dec *jsontext.Decoder, dst *int) error {
	n, _, err := readInt(dec)
	*dst = n
	return err
}

func readMessage(dec *jsontext.Decoder, m *message) error {
	if dec.PeekKind() == 'n' {
		_, err := dec.ReadToken()
		return err
	}
	return fields(dec, "message", func(key string) error {
		switch key {
		case `"text"`:
			return readString(dec, &m.Text)
		case `"markdown"`:
			return readString(dec, &m.Markdown)
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
	return members(dec, "fingerprints", func(key string) error {
		if dec.PeekKind() == '"' {
			var s string
			if err := readString(dec, &s); err != nil {
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
func readProps(dec *jsontext.Decoder, dst **propBag) error {
	if dec.PeekKind() == 'n' {
		_, err := dec.ReadToken()
		return err
	}
	p := &propBag{}
	*dst = p
	flex := func(f *flexString) error {
		if dec.PeekKind() == '"' {
			var s string
			err := readString(dec, &s)
			*f = flexString(s)
			return err
		}
		v, err := dec.ReadValue()
		if err == nil && v.Kind() != 'n' {
			*f = flexString(v)
		}
		return err
	}
	return fields(dec, "properties", func(key string) error {
		switch key {
		case `"tags"`:
			return elements(dec, "tags", func(int) error {
				var t string
				err := readString(dec, &t)
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
			return readString(dec, &p.Precision)
		case `"problem.severity"`:
			return readString(dec, &p.ProblemSeverity)
		}
		return dec.SkipValue()
	})
}

func readResult(dec *jsontext.Decoder, res *result) error {
	return fields(dec, "result", func(key string) error {
		switch key {
		case `"ruleId"`:
			return readString(dec, &res.RuleID)
		case `"ruleIndex"`:
			n, ok, err := readInt(dec)
			if ok {
				res.RuleIndex = &n
			}
			return err
		case `"kind"`:
			return readString(dec, &res.Kind)
		case `"level"`:
			return readString(dec, &res.Level)
		case `"message"`:
			return readMessage(dec, &res.Message)
		case `"locations"`:
			return elements(dec, "locations", func(int) error {
				res.Locations = append(res.Locations, location{})
				return readLocation(dec, &res.Locations[len(res.Locations)-1])
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
			return readProps(dec, &res.Properties)
		}
		return dec.SkipValue()
	})
}

func readLocation(dec *jsontext.Decoder, l *location) error {
	if dec.PeekKind() == 'n' {
		_, err := dec.ReadToken()
		return err
	}
	return fields(dec, "location", func(key string) error {
		switch key {
		case `"physicalLocation"`:
			if dec.PeekKind() == 'n' {
				return dec.SkipValue()
			}
			l.Physical = &physical{}
			return readPhysical(dec, l.Physical)
		case `"logicalLocations"`:
			return json.UnmarshalDecode(dec, &l.Logical, producers.JSONOptions)
		}
		return dec.SkipValue()
	})
}

func readPhysical(dec *jsontext.Decoder, p *physical) error {
	return fields(dec, "physicalLocation", func(key string) error {
		switch key {
		case `"artifactLocation"`:
			if dec.PeekKind() == 'n' {
				return dec.SkipValue()
			}
			p.Artifact = &artifactLocation{}
			return fields(dec, "artifactLocation", func(key string) error {
				switch key {
				case `"uri"`:
					return readString(dec, &p.Artifact.URI)
				case `"index"`:
					n, ok, err := readInt(dec)
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
			p.Region = &region{}
			return readRegion(dec, p.Region)
		}
		return dec.SkipValue()
	})
}

func readRegion(dec *jsontext.Decoder, r *region) error {
	return fields(dec, "region", func(key string) error {
		switch key {
		case `"startLine"`:
			return readIntInto(dec, &r.StartLine)
		case `"endLine"`:
			return readIntInto(dec, &r.EndLine)
		case `"startColumn"`:
			return readIntInto(dec, &r.StartColumn)
		case `"endColumn"`:
			return readIntInto(dec, &r.EndColumn)
		case `"snippet"`:
			if dec.PeekKind() == 'n' {
				return dec.SkipValue()
			}
			r.Snippet = &message{}
			return readMessage(dec, r.Snippet)
		}
		return dec.SkipValue()
	})
}
