// Package jsontok reads JSON reports token by token, for the parsers of
// the formats that grow large (SARIF, gosec): decoding their hot parts
// without reflection is several times faster, and nothing but the issues
// stays in memory. Errors carry the byte offset where reading broke.
package jsontok

import (
	"bytes"
	"fmt"

	"github.com/draconsec/dracon/internal/producers"
	"github.com/go-json-experiment/json/jsontext"
)

// NewDecoder reads data with the same forgiving options as
// producers.DecodeJSON.
func NewDecoder(data []byte) *jsontext.Decoder {
	return jsontext.NewDecoder(bytes.NewReader(data), producers.JSONOptions)
}

// Expect reads one token of the given kind ({, [, ...).
func Expect(dec *jsontext.Decoder, kind jsontext.Kind, what string) error {
	off := dec.InputOffset()
	tok, err := dec.ReadToken()
	if err != nil {
		return err
	}
	if tok.Kind() != kind {
		return &producers.ParseError{Offset: off, Err: fmt.Errorf("%s: want %v, found %v", what, kind, tok.Kind())}
	}
	return nil
}

// Members calls fn for each member of the object that starts at the
// decoder's position; fn must consume the member's value.
func Members(dec *jsontext.Decoder, what string, fn func(key string) error) error {
	if err := Expect(dec, '{', what); err != nil {
		return err
	}
	for dec.PeekKind() != '}' {
		tok, err := dec.ReadToken()
		if err != nil {
			return err
		}
		if err := fn(tok.String()); err != nil {
			return err
		}
	}
	_, err := dec.ReadToken()
	return err
}

// Elements calls fn for each element of the array at the decoder's position.
func Elements(dec *jsontext.Decoder, what string, fn func(i int) error) error {
	if dec.PeekKind() == 'n' { // null: treat as empty
		_, err := dec.ReadToken()
		return err
	}
	if err := Expect(dec, '[', what); err != nil {
		return err
	}
	for i := 0; dec.PeekKind() != ']'; i++ {
		if err := fn(i); err != nil {
			return err
		}
	}
	_, err := dec.ReadToken()
	return err
}

// Fields calls fn with each member name of the object at the decoder's
// position as raw JSON, quotes included, valid until the next read: fn
// switches on string(key), which Go compares without allocating. fn must
// consume the value.
func Fields(dec *jsontext.Decoder, what string, fn func(key []byte) error) error {
	if err := Expect(dec, '{', what); err != nil {
		return err
	}
	for dec.PeekKind() != '}' {
		k, err := dec.ReadValue()
		if err != nil {
			return err
		}
		if err := fn(k); err != nil {
			return err
		}
	}
	_, err := dec.ReadToken()
	return err
}

// String reads a string (null leaves dst as it is).
func String(dec *jsontext.Decoder, dst *string) error {
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

// Int reads an integer; ok is false for null.
func Int(dec *jsontext.Decoder) (int, bool, error) {
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

// IntInto reads an integer into dst (0 for null).
func IntInto(dec *jsontext.Decoder, dst *int) error {
	n, _, err := Int(dec)
	*dst = n
	return err
}

// Text reads a string, or a number as its JSON text: tools disagree on
// which to write for line numbers and ids ("12" or 12).
func Text(dec *jsontext.Decoder, dst *string) error {
	if dec.PeekKind() == '0' {
		v, err := dec.ReadValue()
		if err == nil {
			*dst = string(v)
		}
		return err
	}
	return String(dec, dst)
}

// Interner shares the strings a report repeats (rule ids, levels, file
// paths, tags): each distinct value is allocated once, not once per
// finding. It stops adding values past a bound, so a report of unique
// strings costs no more than without it.
type Interner struct {
	m map[string]string
}

const internMax = 1 << 14

// String reads a string through the interner (null leaves dst as it is).
func (in *Interner) String(dec *jsontext.Decoder, dst *string) error {
	if dec.PeekKind() != '"' {
		return String(dec, dst)
	}
	v, err := dec.ReadValue()
	if err != nil {
		return err
	}
	raw := v[1 : len(v)-1]
	if bytes.IndexByte(raw, '\\') >= 0 { // escaped: unquote, do not intern
		b, err := jsontext.AppendUnquote(nil, v)
		if err != nil {
			return err
		}
		*dst = string(b)
		return nil
	}
	if s, ok := in.m[string(raw)]; ok { // no allocation for the lookup
		*dst = s
		return nil
	}
	s := string(raw)
	if in.m == nil {
		in.m = map[string]string{}
	}
	if len(in.m) < internMax {
		in.m[s] = s
	}
	*dst = s
	return nil
}
