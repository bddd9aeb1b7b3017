// Package xmltok is the XML reader the producers share. encoding/xml
// reads scanner reports at 15-40 MB/s, too slow for large reports; the
// reports need only elements, attributes, text, CDATA, comments,
// processing instructions and the predefined and numeric character
// references, so Parse builds a tree of exactly that in one pass. It
// rejects what it does not handle (DTDs unless asked to skip them,
// unbalanced or unterminated tags, bad references) with an *Error that
// carries the byte offset where reading broke.
package xmltok

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Node is one element.
type Node struct {
	Prefix   string // namespace prefix as written ("v" in <v:id>)
	Name     string // local name
	Attrs    []Attr
	Children []*Node
	Offset   int    // byte offset of the start tag's '<'
	text     string // character data directly inside the element
	textAt   int    // length of the parent's text when this element began
}

// Attr is one attribute, its value with references resolved.
type Attr struct {
	Prefix, Name, Value string
}

// maxDepth bounds element nesting; reports nest a few levels.
const maxDepth = 1000

// Error is a syntax error at byte offset Offset of the input.
type Error struct {
	Offset int
	Msg    string
}

func (e *Error) Error() string { return e.Msg }

func xmlErr(off int, format string, args ...any) error {
	return &Error{Offset: off, Msg: fmt.Sprintf(format, args...)}
}

// Options adjust Parse to what a report format allows. The zero value is
// the strictest reader.
type Options struct {
	// Doctype says what to do with a <!DOCTYPE ...> (or other <!...>
	// declaration) before the root element. Declared entities are never
	// expanded, so a reference to one is still an error.
	Doctype DoctypeMode
	// NormalizeNewlines turns \r\n and a lone \r in text and attribute
	// values into \n, as the XML spec asks.
	NormalizeNewlines bool
	// KeepSpace keeps character data that is only whitespace; by default
	// whitespace between tags is layout and dropped.
	KeepSpace bool
}

// DoctypeMode is how Parse treats a document type declaration.
type DoctypeMode int

const (
	// RejectDoctype refuses any declaration.
	RejectDoctype DoctypeMode = iota
	// SkipDoctype skips a declaration before the root element, internal
	// subset included.
	SkipDoctype
	// SkipDoctypeNoSubset skips a declaration without an internal subset
	// and refuses one with a subset (whose entities could matter).
	SkipDoctypeNoSubset
)

// Parse reads a whole document with the zero Options and returns its
// root element.
func Parse(data []byte) (*Node, error) { return ParseOptions(data, Options{}) }

// ParseOptions reads a whole document and returns its root element.
func ParseOptions(data []byte, o Options) (*Node, error) {
	names := interner{}
	i := 0
	if bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) {
		i = 3
	}
	var root *Node
	var stack []*Node
	var text []byte // pending character data of the top element
	flush := func() {
		// Whitespace between elements is layout, not content.
		if len(stack) > 0 && len(text) > 0 && (o.KeepSpace || len(bytes.TrimSpace(text)) > 0) {
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
				if text, err = appendText(text, chunk, i, o.NormalizeNewlines); err != nil {
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
			if o.Doctype == RejectDoctype {
				return nil, xmlErr(i, "document type declarations are not supported")
			}
			if root != nil {
				return nil, xmlErr(i, "declaration inside the document")
			}
			j, subset := declEnd(rest)
			if j < 0 {
				return nil, xmlErr(i, "unterminated declaration")
			}
			if subset && o.Doctype == SkipDoctypeNoSubset {
				return nil, xmlErr(i, "DOCTYPE with an internal subset is not supported")
			}
			i += j + 1
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
			if qname != qualified(top.Prefix, top.Name) {
				return nil, xmlErr(i, "end tag </%s> does not match <%s>", qname, qualified(top.Prefix, top.Name))
			}
			stack = stack[:len(stack)-1]
			i += j + 1
		default:
			if root != nil && len(stack) == 0 {
				return nil, xmlErr(i, "a second root element")
			}
			n, next, selfClosing, err := startTag(data, i, names, o.NormalizeNewlines)
			if err != nil {
				return nil, err
			}
			flush()
			if len(stack) > 0 {
				top := stack[len(stack)-1]
				n.textAt = len(top.text)
				top.Children = append(top.Children, n)
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
		return nil, xmlErr(len(data), "document ends inside <%s>", qualified(top.Prefix, top.Name))
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
// a report's thousands of <component> and <name> cost one allocation each.
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
func startTag(data []byte, i int, names interner, nl bool) (*Node, int, bool, error) {
	start := i
	i++ // '<'
	j := i
	for j < len(data) && isNameByte(data[j]) {
		j++
	}
	if j == i {
		return nil, 0, false, xmlErr(start, "bad start tag")
	}
	n := &Node{Offset: start}
	n.Prefix, n.Name = names.split(data[i:j])
	i = j
	for {
		for i < len(data) && isSpace(data[i]) {
			i++
		}
		if i >= len(data) {
			return nil, 0, false, xmlErr(start, "unterminated start tag <%s>", qualified(n.Prefix, n.Name))
		}
		switch data[i] {
		case '>':
			return n, i + 1, false, nil
		case '/':
			if i+1 < len(data) && data[i+1] == '>' {
				return n, i + 2, true, nil
			}
			return nil, 0, false, xmlErr(i, "bad start tag <%s>", qualified(n.Prefix, n.Name))
		}
		// attribute: name = "value"
		j = i
		for j < len(data) && isNameByte(data[j]) {
			j++
		}
		if j == i {
			return nil, 0, false, xmlErr(i, "bad attribute in <%s>", qualified(n.Prefix, n.Name))
		}
		var a Attr
		a.Prefix, a.Name = names.split(data[i:j])
		i = j
		for i < len(data) && isSpace(data[i]) {
			i++
		}
		if i >= len(data) || data[i] != '=' {
			return nil, 0, false, xmlErr(i, "attribute %s has no value", a.Name)
		}
		i++
		for i < len(data) && isSpace(data[i]) {
			i++
		}
		if i >= len(data) || (data[i] != '"' && data[i] != '\'') {
			return nil, 0, false, xmlErr(i, "attribute %s value is not quoted", a.Name)
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
		v, err := appendText(nil, raw, i+1, nl)
		if err != nil {
			return nil, 0, false, err
		}
		a.Value = string(v)
		n.Attrs = append(n.Attrs, a)
		i += 1 + e + 1
	}
}

// declEnd returns the index of the '>' that ends the declaration at the
// start of b (-1 when there is none) and whether it has an internal subset.
func declEnd(b []byte) (int, bool) {
	depth, subset := 0, false
	for i := 2; i < len(b); i++ {
		switch b[i] {
		case '[':
			depth++
			subset = true
		case ']':
			depth--
		case '>':
			if depth <= 0 {
				return i, subset
			}
		}
	}
	return -1, subset
}

// appendNewlines appends src, turning \r\n and a lone \r into \n.
func appendNewlines(dst, src []byte) []byte {
	for {
		cr := bytes.IndexByte(src, '\r')
		if cr < 0 {
			return append(dst, src...)
		}
		dst = append(dst, src[:cr]...)
		dst = append(dst, '\n')
		src = src[cr+1:]
		if len(src) > 0 && src[0] == '\n' {
			src = src[1:]
		}
	}
}

// appendText appends character data, resolving character references
// and, when nl is set, normalizing line ends.
func appendText(dst, src []byte, off int, nl bool) ([]byte, error) {
	for {
		amp := bytes.IndexByte(src, '&')
		if amp < 0 {
			if nl {
				return appendNewlines(dst, src), nil
			}
			return append(dst, src...), nil
		}
		if nl {
			dst = appendNewlines(dst, src[:amp])
		} else {
			dst = append(dst, src[:amp]...)
		}
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

// Child returns the first child element with that local name, nil when
// there is none. It is safe on a nil Node.
func (n *Node) Child(name string) *Node {
	if n == nil {
		return nil
	}
	for _, c := range n.Children {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// All returns the child elements with that local name.
func (n *Node) All(name string) []*Node {
	if n == nil {
		return nil
	}
	var out []*Node
	for _, c := range n.Children {
		if c.Name == name {
			out = append(out, c)
		}
	}
	return out
}

// Value is the trimmed text of the named child, "" when there is none.
func (n *Node) Value(name string) string {
	return strings.TrimSpace(n.Child(name).Text())
}

// Text is the character data directly inside the element (CDATA
// included, references resolved), "" for a nil Node.
func (n *Node) Text() string {
	if n == nil {
		return ""
	}
	return n.text
}

// DeepText is all the text inside the element, that of descendants
// included, in document order: the text of a leaf, or of an element with
// markup inside, such as a message with <b> in it.
func (n *Node) DeepText() string {
	if n == nil {
		return ""
	}
	if len(n.Children) == 0 {
		return n.text
	}
	var b strings.Builder
	n.deepText(&b)
	return b.String()
}

func (n *Node) deepText(b *strings.Builder) {
	at := 0
	for _, c := range n.Children {
		if c.textAt > at && c.textAt <= len(n.text) {
			b.WriteString(n.text[at:c.textAt])
			at = c.textAt
		}
		c.deepText(b)
	}
	b.WriteString(n.text[at:])
}

// Attr is the value of the unprefixed attribute with that name, "" when
// there is none.
func (n *Node) Attr(name string) string {
	if n == nil {
		return ""
	}
	for _, a := range n.Attrs {
		if a.Name == name && a.Prefix == "" {
			return a.Value
		}
	}
	return ""
}

// QName is the element name as written, prefix included.
func (n *Node) QName() string { return qualified(n.Prefix, n.Name) }
