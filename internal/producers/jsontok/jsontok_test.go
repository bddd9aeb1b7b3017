package jsontok

import (
	"errors"
	"strings"
	"testing"

	"github.com/draconsec/dracon/internal/producers"
)

func TestReadObject(t *testing.T) {
	dec := NewDecoder([]byte(`{"a": "x", "n": 12, "t": 7, "s": "8", "skip": {"deep": [1, 2]}, "list": [1, 2, 3], "nil": null}`))
	var a, tx, s string
	var n int
	var list []int
	err := Members(dec, "doc", func(key string) error {
		switch key {
		case "a":
			return String(dec, &a)
		case "n":
			return IntInto(dec, &n)
		case "t":
			return Text(dec, &tx)
		case "s":
			return Text(dec, &s)
		case "list":
			return Elements(dec, "list", func(int) error {
				v, _, err := Int(dec)
				list = append(list, v)
				return err
			})
		case "nil":
			return String(dec, &a) // null leaves a as it was
		}
		return dec.SkipValue()
	})
	if err != nil || a != "x" || n != 12 || tx != "7" || s != "8" || len(list) != 3 {
		t.Fatalf("err=%v a=%q n=%d t=%q s=%q list=%v", err, a, n, tx, s, list)
	}
}

func TestErrorsCarryOffsets(t *testing.T) {
	dec := NewDecoder([]byte(`{"a": 5}`))
	var a string
	err := Fields(dec, "doc", func([]byte) error { return String(dec, &a) })
	var pe *producers.ParseError
	if !errors.As(err, &pe) || pe.Offset < 4 || pe.Offset > 6 || !strings.Contains(err.Error(), "want a string") {
		t.Fatalf("err = %v", err)
	}
	dec = NewDecoder([]byte(`[1]`))
	err = Members(dec, "doc", func(string) error { return nil })
	if !errors.As(err, &pe) || pe.Offset != 0 || !strings.Contains(err.Error(), "doc") {
		t.Fatalf("err = %v", err)
	}
}

func TestInterner(t *testing.T) {
	dec := NewDecoder([]byte(`["G104", "G104", "a\u00e9\"b", null]`))
	var in Interner
	var got []string
	err := Elements(dec, "list", func(int) error {
		s := "unset"
		err := in.String(dec, &s)
		got = append(got, s)
		return err
	})
	if err != nil || len(got) != 4 || got[0] != "G104" || got[1] != "G104" || got[2] != "aé\"b" || got[3] != "unset" {
		t.Fatalf("%v %q", err, got)
	}
	if len(in.m) != 1 {
		t.Errorf("interned %d values, want 1 (escaped strings are not interned)", len(in.m))
	}
}
