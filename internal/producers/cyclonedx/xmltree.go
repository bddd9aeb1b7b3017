package cyclonedx

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file is a small XML reader for CycloneDX BOMs. encoding/xml reads
// 30-40 MB/s, too slow for large BOMs; CycloneDX XML needs only elements,
// attributes, text, CDATA, comments, processing instructions and the
// predefined and numeric character references, so this reader builds a
// tree of exactly that in one pass. It rejects what it does not handle
// (DTDs, unbalanced or unterminated tags, bad references) with the byte
// offset where reading broke.

// node is one element.
type node struct {
	prefix   string // namespace prefix as written ("v" in <v:id>)
	name     string // local name
	attrs    []attr
	text     string // character data directly inside the element
	children []*node
}

type attr struct {
	prefix, name, value string
}

// maxDepth bounds element nesting; CycloneDX documents nest a few levels.
const maxDepth = 1000

type xmlError struct {
	off int
	msg string
}

func (e *xmlError) Error() string { return e.msg }

func xmlErr(off int, format string, args ...any) error {
	return &xmlError{off: off, msg: fmt.Sprintf(format, args...)}
}

// parseXML reads a whole document and returns its root element.
func parseXML(data []byte) (*node, error) {
	names := interner{}
	i := 0
	if bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) {
		i = 3
	}
	var root *node
	var stack []*node
	var text []byte // pending character data of the top element
	flush := func() {
		// Whitespace between elements is layout, not content.
		if len(stack) > 0 && len(bytes.TrimSpace(text)) > 0 {
			top := stack[len(stack)-1]
			if top.text == "" {
				top.text = string(text)
			} else {
				top.text += string(text)
			}
		}
		text = text[:0]
	}
	for i < len(data) {
		lt := bytes.IndexByte(data[i:], '<')
		end := len(data)
		if lt >= 0 {
			end = i + lt
		}
		if end > i {
			chunk := data[i:end]
			if len(stack) == 0 {
				if len(bytes.TrimSpace(chunk)) > 0 {
					return nil, xmlErr(i, "text outside the root element")
				}
			} else {
				var err error
				if text, err = appendText(text, chunk, i); err != nil {
					return nil, err
				}
			}
		}
		if lt < 0 {
			break
		}
		i = end
		rest := data[i:]
		switch {
		case bytes.HasPrefix(rest, []byte("<?")):
			j := bytes.Index(rest, []byte("?>"))
			if j < 0 {
				return nil, xmlErr(i, "unterminated processing instruction")
			}
			i += j + 2
		case bytes.HasPrefix(rest, []byte("<!--")):
			j := bytes.Index(rest[4:], []byte("-->"))
			if j < 0 {
				return nil, xmlErr(i, "unterminated comment")
			}
			i += 4 + j + 3
		case bytes.HasPrefix(rest, []byte("<![CDATA[")):
			j := bytes.Index(rest[9:], []byte("]]>"))
			if j < 0 {
				return nil, xmlErr(i, "unterminated CDATA section")
			}
			if len(stack) == 0 {
				return nil, xmlErr(i, "CDATA outside the root element")
			}
			text = append(text, rest[9:9+j]...)
			i += 9 + j + 3
		case bytes.HasPrefix(rest, []byte("<!")):
			return nil, xmlErr(i, "document type declarations are not supported")
		case bytes.HasPrefix(rest, []byte("</")):
			j := bytes.IndexByte(rest, '>')
			if j < 0 {
				return nil, xmlErr(i, "unterminated end tag")
			}
			qname := string(bytes.TrimRight(rest[2:j], " \t\r\n"))
			if len(stack) == 0 {
				return nil, xmlErr(i, "end tag </%s> without a start tag", qname)
			}
			flush()
			top := stack[len(stack)-1]
			if qname != qualified(top.prefix, top.name) {
				return nil, xmlErr(i, "end tag </%s> does not match <%s>", qname, qualified(top.prefix, top.name))
			}
			stack = stack[:len(stack)-1]
			i += j + 1
		default:
			if root != nil && len(stack) == 0 {
				return nil, xmlErr(i, "a second root element")
			}
			n, next, selfClosing, err := startTag(data, i, names)
			if err != nil {
				return nil, err
			}
			flush()
			if len(stack) > 0 {
				top := stack[len(stack)-1]
				top.children = append(top.children, n)
			} else {
				root = n
			}
			if !selfClosing {
				if len(stack) >= maxDepth {
					return nil, xmlErr(i, "elements nested more than %d deep", maxDepth)
				}
				stack = append(stack, n)
			}
			i = next
		}
	}
	if len(stack) > 0 {
		top := stack[len(stack)-1]
		return nil, xmlErr(len(data), "document ends inside <%s>", qualified(top.prefix, top.name))
	}
	if root == nil {
		return nil, xmlErr(0, "no root element")
	}
	return root, nil
}

func qualified(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + ":" + name
}

func splitName(q string) (string, string) {
	if p, n, ok := strings.Cut(q, ":"); ok {
		return p, n
	}
	return "", q
}

// interner shares the strings of repeated element and attribute names, so
// a BOM's thousands of <component> and <name> cost one allocation each.
type interner map[string][2]string

func (in interner) split(q []byte) (string, string) {
	if v, ok := in[string(q)]; ok { // no allocation for the lookup
		return v[0], v[1]
	}
	p, n := splitName(string(q))
	if len(in) < 1000 {
		in[qualified(p, n)] = [2]string{p, n}
	}
	return p, n
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func isNameByte(c byte) bool {
	return c != '>' && c != '/' && c != '=' && c != '<' && c != '"' && c != '\'' && !isSpace(c)
}

// startTag reads <name attr="value" ...> or <name .../> at data[i].
func startTag(data []byte, i int, names interner) (*node, int, bool, error) {
	start := i
	i++ // '<'
	j := i
	for j < len(data) && isNameByte(data[j]) {
		j++
	}
	if j == i {
		return nil, 0, false, xmlErr(start, "bad start tag")
	}
	n := &node{}
	n.prefix, n.name = names.split(data[i:j])
	i = j
	for {
		for i < len(data) && isSpace(data[i]) {
			i++
		}
		if i >= len(data) {
			return nil, 0, false, xmlErr(start, "unterminated start tag <%s>", qualified(n.prefix, n.name))
		}
		switch data[i] {
		case '>':
			return n, i + 1, false, nil
		case '/':
			if i+1 < len(data) && data[i+1] == '>' {
				return n, i + 2, true, nil
			}
			return nil, 0, false, xmlErr(i, "bad start tag <%s>", qualified(n.prefix, n.name))
		}
		// attribute: name = "value"
		j = i
		for j < len(data) && isNameByte(data[j]) {
			j++
		}
		if j == i {
			return nil, 0, false, xmlErr(i, "bad attribute in <%s>", qualified(n.prefix, n.name))
		}
		var a attr
		a.prefix, a.name = names.split(data[i:j])
		i = j
		for i < len(data) && isSpace(data[i]) {
			i++
		}
		if i >= len(data) || data[i] != '=' {
			return nil, 0, false, xmlErr(i, "attribute %s has no value", a.name)
		}
		i++
		for i < len(data) && isSpace(data[i]) {
			i++
		}
		if i >= len(data) || (data[i] != '"' && data[i] != '\'') {
			return nil, 0, false, xmlErr(i, "attribute %s value is not quoted", a.name)
		}
		q := data[i]
		e := bytes.IndexByte(data[i+1:], q)
		if e < 0 {
			return nil, 0, false, xmlErr(i, "unterminated attribute value")
		}
		raw := data[i+1 : i+1+e]
		if bytes.IndexByte(raw, '<') >= 0 {
			return nil, 0, false, xmlErr(i, "'<' in attribute value")
		}
		v, err := appendText(nil, raw, i+1)
		if err != nil {
			return nil, 0, false, err
		}
		a.value = string(v)
		n.attrs = append(n.attrs, a)
		i += 1 + e + 1
	}
}

// appendText appends character data, resolving character references.
func appendText(dst, src []byte, off int) ([]byte, error) {
	for {
		amp := bytes.IndexByte(src, '&')
		if amp < 0 {
			return append(dst, src...), nil
		}
		dst = append(dst, src[:amp]...)
		semi := bytes.IndexByte(src[amp:], ';')
		if semi < 0 || semi > 12 {
			return nil, xmlErr(off+amp, "bad character reference")
		}
		ref := string(src[amp+1 : amp+semi])
		switch ref {
		case "lt":
			dst = append(dst, '<')
		case "gt":
			dst = append(dst, '>')
		case "amp":
			dst = append(dst, '&')
		case "quot":
			dst = append(dst, '"')
		case "apos":
			dst = append(dst, '\'')
		default:
			var n uint64
			var err error
			switch {
			case strings.HasPrefix(ref, "#x"):
				n, err = strconv.ParseUint(ref[2:], 16, 32)
			case strings.HasPrefix(ref, "#"):
				n, err = strconv.ParseUint(ref[1:], 10, 32)
			default:
				err = errors.New("unknown entity")
			}
			if err != nil || n == 0 || n > utf8.MaxRune {
				return nil, xmlErr(off+amp, "bad character reference &%s;", ref)
			}
			dst = utf8.AppendRune(dst, rune(n))
		}
		src = src[amp+semi+1:]
		off += amp + semi + 1
	}
}

// child returns the first child element with that local name.
func (n *node) child(name string) *node {
	if n == nil {
		return nil
	}
	for _, c := range n.children {
		if c.name == name {
			return c
		}
	}
	return nil
}

// all returns the child elements with that local name.
func (n *node) all(name string) []*node {
	if n == nil {
		return nil
	}
	var out []*node
	for _, c := range n.children {
		if c.name == name {
			out = append(out, c)
		}
	}
	return out
}

// value is the trimmed text of the named child, "" when there is none.
func (n *node) value(name string) string {
	return strings.TrimSpace(n.child(name).textOf())
}

func (n *node) textOf() string {
	if n == nil {
		return ""
	}
	return n.text
}

func (n *node) attr(name string) string {
	if n == nil {
		return ""
	}
	for _, a := range n.attrs {
		if a.name == name && a.prefix == "" {
			return a.value
		}
	}
	return ""
}
