package dependencycheck

import (
	"bytes"
	"errors"
	"strconv"
	"unicode/utf8"
)

// xmlReader is a small, strict pull reader for the XML dependency-check
// writes. encoding/xml reads these reports at about 30 MB/s, most of it
// spent on evidence and reference lists; this reader does only what the
// report needs (elements, attributes, text, CDATA, comments, processing
// instructions, a DOCTYPE to skip) and checks that the document is well
// formed: tags balance, one root, nothing after it, attributes quoted,
// entities known. Element names are compared without their namespace
// prefix. Text is decoded only when asked for.
type xmlReader struct {
	data []byte
	pos  int
	// open elements, innermost last, as slices of data (local names)
	names [][]byte
	// raw names, to check end tags against
	raw [][]byte

	// the current token
	kind      tokenKind
	attrs     []byte // raw attribute text of a start tag
	text      []byte // raw text, or CDATA content
	cdata     bool
	closeNext bool // a self-closing tag owes an end token
	rootSeen  bool
}

type tokenKind int

const (
	tokStart tokenKind = iota + 1
	tokEnd
	tokText
	tokEOF
)

type xmlError struct {
	offset int
	msg    string
}

func (e *xmlError) Error() string { return "XML: " + e.msg }

func (r *xmlReader) fail(msg string) error {
	return &xmlError{offset: r.pos, msg: msg}
}

func newXMLReader(data []byte) *xmlReader {
	r := &xmlReader{data: data}
	if bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) {
		r.pos = 3
	}
	return r
}

// depth is the number of open elements; on a start token it includes the
// element just opened, on an end token the element just closed.
func (r *xmlReader) depth() int { return len(r.names) }

// name returns the local name of the open element at depth i (1-based).
func (r *xmlReader) nameAt(i int) []byte { return r.names[i-1] }

// next reads the next token.
func (r *xmlReader) next() (tokenKind, error) {
	if r.kind == tokEnd {
		// The element whose end was returned last is closed now.
		r.names = r.names[:len(r.names)-1]
		r.raw = r.raw[:len(r.raw)-1]
	}
	if r.closeNext {
		r.closeNext = false
		r.kind = tokEnd
		return tokEnd, nil
	}
	for {
		if r.pos >= len(r.data) {
			if len(r.names) > 0 {
				return 0, r.fail("unexpected end of document inside <" + string(r.raw[len(r.raw)-1]) + ">")
			}
			if !r.rootSeen {
				return 0, r.fail("no root element")
			}
			r.kind = tokEOF
			return tokEOF, nil
		}
		if r.data[r.pos] != '<' {
			end := bytes.IndexByte(r.data[r.pos:], '<')
			if end < 0 {
				end = len(r.data) - r.pos
			}
			text := r.data[r.pos : r.pos+end]
			if len(r.names) == 0 {
				if len(bytes.TrimSpace(text)) != 0 {
					return 0, r.fail("text outside the root element")
				}
				r.pos += end
				continue
			}
			r.pos += end
			r.kind, r.text, r.cdata = tokText, text, false
			return tokText, nil
		}
		rest := r.data[r.pos:]
		switch {
		case bytes.HasPrefix(rest, []byte("<!--")):
			end := bytes.Index(rest[4:], []byte("-->"))
			if end < 0 {
				return 0, r.fail("unterminated comment")
			}
			r.pos += 4 + end + 3
		case bytes.HasPrefix(rest, []byte("<![CDATA[")):
			if len(r.names) == 0 {
				return 0, r.fail("CDATA outside the root element")
			}
			end := bytes.Index(rest[9:], []byte("]]>"))
			if end < 0 {
				return 0, r.fail("unterminated CDATA section")
			}
			r.kind, r.text, r.cdata = tokText, rest[9:9+end], true
			r.pos += 9 + end + 3
			return tokText, nil
		case bytes.HasPrefix(rest, []byte("<?")):
			end := bytes.Index(rest[2:], []byte("?>"))
			if end < 0 {
				return 0, r.fail("unterminated processing instruction")
			}
			r.pos += 2 + end + 2
		case bytes.HasPrefix(rest, []byte("<!")):
			if r.rootSeen {
				return 0, r.fail("declaration inside the document")
			}
			if err := r.skipDoctype(); err != nil {
				return 0, err
			}
		case len(rest) > 1 && rest[1] == '/':
			return r.endTag()
		default:
			return r.startTag()
		}
	}
}

func (r *xmlReader) skipDoctype() error {
	depth := 0
	for i := r.pos + 2; i < len(r.data); i++ {
		switch r.data[i] {
		case '[':
			depth++
		case ']':
			depth--
		case '>':
			if depth <= 0 {
				r.pos = i + 1
				return nil
			}
		}
	}
	return r.fail("unterminated declaration")
}

func (r *xmlReader) endTag() (tokenKind, error) {
	start := r.pos + 2
	end := bytes.IndexByte(r.data[start:], '>')
	if end < 0 {
		return 0, r.fail("unterminated end tag")
	}
	name := bytes.TrimRight(r.data[start:start+end], " \t\r\n")
	if len(r.names) == 0 {
		return 0, r.fail("end tag </" + string(name) + "> with no open element")
	}
	if open := r.raw[len(r.raw)-1]; !bytes.Equal(name, open) {
		return 0, r.fail("end tag </" + string(name) + "> closes <" + string(open) + ">")
	}
	r.pos = start + end + 1
	r.kind = tokEnd
	return tokEnd, nil
}

func (r *xmlReader) startTag() (tokenKind, error) {
	i := r.pos + 1
	n := i
	for n < len(r.data) && isNameByte(r.data[n]) {
		n++
	}
	if n == i {
		return 0, r.fail("invalid tag")
	}
	name := r.data[i:n]
	// Find the tag's end, skipping '>' inside quoted attribute values.
	j := n
	var quote byte
	for ; j < len(r.data); j++ {
		c := r.data[j]
		if quote != 0 {
			if c == quote {
				quote = 0
			} else if c == '<' {
				r.pos = j
				return 0, r.fail("'<' in attribute value")
			}
			continue
		}
		if c == '"' || c == '\'' {
			quote = c
		} else if c == '>' {
			break
		} else if c == '<' {
			r.pos = j
			return 0, r.fail("unterminated start tag <" + string(name) + ">")
		}
	}
	if j >= len(r.data) {
		return 0, r.fail("unterminated start tag <" + string(name) + ">")
	}
	attrs := r.data[n:j]
	self := false
	if len(attrs) > 0 && attrs[len(attrs)-1] == '/' {
		self = true
		attrs = attrs[:len(attrs)-1]
	}
	if len(attrs) > 0 && !isSpace(attrs[0]) {
		return 0, r.fail("invalid tag <" + string(name) + string(attrs) + ">")
	}
	if err := checkAttrs(attrs); err != nil {
		return 0, r.fail("tag <" + string(name) + ">: " + err.Error())
	}
	if len(r.names) == 0 {
		if r.rootSeen {
			return 0, r.fail("a second root element <" + string(name) + ">")
		}
		r.rootSeen = true
	}
	r.raw = append(r.raw, name)
	r.names = append(r.names, localName(name))
	r.pos = j + 1
	r.kind, r.attrs, r.closeNext = tokStart, attrs, self
	return tokStart, nil
}

func localName(name []byte) []byte {
	if i := bytes.IndexByte(name, ':'); i >= 0 {
		return name[i+1:]
	}
	return name
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '_' || c == '-' || c == '.' || c == ':' || c >= 0x80
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// checkAttrs verifies `name="value"` pairs separated by space.
func checkAttrs(a []byte) error {
	for {
		i := 0
		for i < len(a) && isSpace(a[i]) {
			i++
		}
		a = a[i:]
		if len(a) == 0 {
			return nil
		}
		_, _, rest, err := nextAttr(a)
		if err != nil {
			return err
		}
		a = rest
	}
}

func nextAttr(a []byte) (name, value, rest []byte, err error) {
	n := 0
	for n < len(a) && isNameByte(a[n]) {
		n++
	}
	if n == 0 {
		return nil, nil, nil, errors.New("invalid attribute")
	}
	name = a[:n]
	i := n
	for i < len(a) && isSpace(a[i]) {
		i++
	}
	if i >= len(a) || a[i] != '=' {
		return nil, nil, nil, errors.New("attribute " + string(name) + " has no value")
	}
	i++
	for i < len(a) && isSpace(a[i]) {
		i++
	}
	if i >= len(a) || (a[i] != '"' && a[i] != '\'') {
		return nil, nil, nil, errors.New("attribute " + string(name) + " is not quoted")
	}
	q := a[i]
	end := bytes.IndexByte(a[i+1:], q)
	if end < 0 {
		return nil, nil, nil, errors.New("attribute " + string(name) + " is not closed")
	}
	value = a[i+1 : i+1+end]
	return name, value, a[i+1+end+1:], nil
}

// attr returns the decoded value of the current start tag's attribute
// (local name), or "".
func (r *xmlReader) attr(local string) (string, error) {
	a := r.attrs
	for {
		i := 0
		for i < len(a) && isSpace(a[i]) {
			i++
		}
		a = a[i:]
		if len(a) == 0 {
			return "", nil
		}
		name, value, rest, err := nextAttr(a)
		if err != nil {
			return "", err
		}
		if string(localName(name)) == local {
			return decodeEntities(value)
		}
		a = rest
	}
}

// decodeEntities resolves the XML predefined and numeric character
// references; an unknown or malformed reference is an error, as the XML
// spec wants (and as DOCTYPE-declared entities are never expanded).
func decodeEntities(raw []byte) (string, error) {
	amp := bytes.IndexByte(raw, '&')
	if amp < 0 {
		return string(raw), nil
	}
	out := make([]byte, 0, len(raw))
	for amp >= 0 {
		out = append(out, raw[:amp]...)
		raw = raw[amp:]
		semi := bytes.IndexByte(raw, ';')
		if semi < 0 || semi > 12 {
			return "", errors.New("malformed character reference")
		}
		ref := raw[1:semi]
		switch string(ref) {
		case "lt":
			out = append(out, '<')
		case "gt":
			out = append(out, '>')
		case "amp":
			out = append(out, '&')
		case "quot":
			out = append(out, '"')
		case "apos":
			out = append(out, '\'')
		default:
			if len(ref) < 2 || ref[0] != '#' {
				return "", errors.New("unknown entity &" + string(ref) + ";")
			}
			var n uint64
			var err error
			if ref[1] == 'x' || ref[1] == 'X' {
				n, err = strconv.ParseUint(string(ref[2:]), 16, 32)
			} else {
				n, err = strconv.ParseUint(string(ref[1:]), 10, 32)
			}
			if err != nil || n == 0 || n > utf8.MaxRune {
				return "", errors.New("invalid character reference &" + string(ref) + ";")
			}
			out = utf8.AppendRune(out, rune(n))
		}
		raw = raw[semi+1:]
		amp = bytes.IndexByte(raw, '&')
	}
	out = append(out, raw...)
	return string(out), nil
}
