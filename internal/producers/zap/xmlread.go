package zap

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/draconsec/dracon/internal/producers"
)

// The traditional XML report is a small, fixed shape of plain elements.
// encoding/xml reads it at about 15 MB/s, which a large scan report makes
// felt, so this file reads exactly that shape in one pass over the bytes,
// still refusing input that is not well-formed: unbalanced or mismatched
// tags, unknown entities, text outside the root, a document cut short.

// xmlReader walks one XML document.
type xmlReader struct {
	data  []byte
	pos   int
	stack [][]byte
	text  []byte // text of the element being read, entities decoded
	plain bool   // text is data[textStart:textEnd], undecoded and unsplit
	start int
	end   int
}

// handler receives the document's events; text is the element's own text.
type handler interface {
	open(name []byte, attrs [][]byte) error
	close(name []byte, text string)
}

func (r *xmlReader) fail(format string, args ...any) error {
	return &producers.ParseError{Tool: name, Offset: int64(r.pos), Err: fmt.Errorf(format, args...)}
}

// run reads the whole document, calling h for each element.
func (r *xmlReader) run(h handler) error {
	rootSeen := false
	for r.pos < len(r.data) {
		c := r.data[r.pos]
		if c != '<' {
			i := bytes.IndexByte(r.data[r.pos:], '<')
			if i < 0 {
				i = len(r.data) - r.pos
			}
			seg := r.data[r.pos : r.pos+i]
			if len(r.stack) == 0 {
				if len(bytes.TrimSpace(seg)) != 0 {
					return r.fail("text outside the root element")
				}
			} else if err := r.addText(seg); err != nil {
				return err
			}
			r.pos += i
			continue
		}
		rest := r.data[r.pos:]
		switch {
		case bytes.HasPrefix(rest, []byte("<?")):
			if err := r.skipPast("?>"); err != nil {
				return err
			}
		case bytes.HasPrefix(rest, []byte("<!--")):
			if err := r.skipPast("-->"); err != nil {
				return err
			}
		case bytes.HasPrefix(rest, []byte("<![CDATA[")):
			if len(r.stack) == 0 {
				return r.fail("CDATA outside the root element")
			}
			body := rest[len("<![CDATA["):]
			i := bytes.Index(body, []byte("]]>"))
			if i < 0 {
				return r.fail("unterminated CDATA section")
			}
			r.addRaw(body[:i], r.pos+len("<![CDATA["))
			r.pos += len("<![CDATA[") + i + len("]]>")
		case bytes.HasPrefix(rest, []byte("<!")):
			// A DOCTYPE; its internal subset could define entities this
			// reader does not expand, so one with a subset is refused.
			i := bytes.IndexByte(rest, '>')
			if i < 0 {
				return r.fail("unterminated declaration")
			}
			if bytes.IndexByte(rest[:i], '[') >= 0 {
				return r.fail("DOCTYPE with an internal subset is not supported")
			}
			r.pos += i + 1
		case bytes.HasPrefix(rest, []byte("</")):
			nm, err := r.endTag()
			if err != nil {
				return err
			}
			top := r.stack[len(r.stack)-1]
			if !bytes.Equal(nm, top) {
				return r.fail("element <%s> closed by </%s>", top, nm)
			}
			r.stack = r.stack[:len(r.stack)-1]
			h.close(nm, r.takeText())
		default:
			if rootSeen && len(r.stack) == 0 {
				return r.fail("a second root element")
			}
			rootSeen = true
			nm, attrs, selfClosing, err := r.startTag()
			if err != nil {
				return err
			}
			r.resetText()
			if err := h.open(nm, attrs); err != nil {
				return &producers.ParseError{Tool: name, Offset: int64(r.pos), Err: err}
			}
			if selfClosing {
				h.close(nm, "")
			} else {
				r.stack = append(r.stack, nm)
			}
		}
	}
	if len(r.stack) > 0 {
		return r.fail("document ends inside <%s>: %w", r.stack[len(r.stack)-1], errTruncated)
	}
	if !rootSeen {
		return r.fail("no root element")
	}
	return nil
}

var errTruncated = errors.New("unexpected end of input")

func (r *xmlReader) skipPast(marker string) error {
	i := bytes.Index(r.data[r.pos:], []byte(marker))
	if i < 0 {
		return r.fail("unterminated %q: %w", string(r.data[r.pos:min(r.pos+4, len(r.data))]), errTruncated)
	}
	r.pos += i + len(marker)
	return nil
}

func isNameByte(c byte) bool {
	return c == '_' || c == ':' || c == '-' || c == '.' || c >= 0x80 ||
		(c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func (r *xmlReader) name() ([]byte, error) {
	st := r.pos
	for r.pos < len(r.data) && isNameByte(r.data[r.pos]) {
		r.pos++
	}
	if r.pos == st {
		if r.pos >= len(r.data) {
			return nil, r.fail("%w in a tag", errTruncated)
		}
		return nil, r.fail("expected a name, found %q", r.data[r.pos])
	}
	return r.data[st:r.pos:r.pos], nil
}

func (r *xmlReader) skipSpace() {
	for r.pos < len(r.data) && isSpace(r.data[r.pos]) {
		r.pos++
	}
}

func (r *xmlReader) endTag() ([]byte, error) {
	r.pos += 2
	nm, err := r.name()
	if err != nil {
		return nil, err
	}
	r.skipSpace()
	if r.pos >= len(r.data) {
		return nil, r.fail("%w in </%s>", errTruncated, nm)
	}
	if r.data[r.pos] != '>' {
		return nil, r.fail("expected > to end </%s>", nm)
	}
	r.pos++
	if len(r.stack) == 0 {
		return nil, r.fail("</%s> closes nothing", nm)
	}
	return nm, nil
}

func (r *xmlReader) startTag() ([]byte, [][]byte, bool, error) {
	r.pos++
	nm, err := r.name()
	if err != nil {
		return nil, nil, false, err
	}
	var attrs [][]byte
	for {
		r.skipSpace()
		if r.pos >= len(r.data) {
			return nil, nil, false, r.fail("%w in <%s>", errTruncated, nm)
		}
		switch r.data[r.pos] {
		case '>':
			r.pos++
			return nm, attrs, false, nil
		case '/':
			if r.pos+1 >= len(r.data) || r.data[r.pos+1] != '>' {
				return nil, nil, false, r.fail("expected /> to end <%s>", nm)
			}
			r.pos += 2
			return nm, attrs, true, nil
		}
		key, err := r.name()
		if err != nil {
			return nil, nil, false, err
		}
		r.skipSpace()
		if r.pos >= len(r.data) || r.data[r.pos] != '=' {
			return nil, nil, false, r.fail("attribute %s of <%s> has no value", key, nm)
		}
		r.pos++
		r.skipSpace()
		if r.pos >= len(r.data) || (r.data[r.pos] != '"' && r.data[r.pos] != '\'') {
			return nil, nil, false, r.fail("attribute %s of <%s> is not quoted", key, nm)
		}
		q := r.data[r.pos]
		i := bytes.IndexByte(r.data[r.pos+1:], q)
		if i < 0 {
			return nil, nil, false, r.fail("%w in attribute %s of <%s>", errTruncated, key, nm)
		}
		raw := r.data[r.pos+1 : r.pos+1+i]
		if bytes.IndexByte(raw, '<') >= 0 {
			return nil, nil, false, r.fail("< in attribute %s of <%s>", key, nm)
		}
		val, err := r.decode(raw, r.pos+1)
		if err != nil {
			return nil, nil, false, err
		}
		attrs = append(attrs, key, val)
		r.pos += i + 2
	}
}

func attr(attrs [][]byte, key string) string {
	for i := 0; i+1 < len(attrs); i += 2 {
		if string(attrs[i]) == key {
			return string(attrs[i+1])
		}
	}
	return ""
}

func (r *xmlReader) resetText() {
	r.text = r.text[:0]
	r.plain = true
	r.start, r.end = 0, 0
}

// addText adds character data, decoding entities and line ends. The
// common case, one run with nothing to decode, is kept as a slice of the
// input and copied once at the end of the element.
func (r *xmlReader) addText(seg []byte) error {
	if bytes.IndexByte(seg, '&') < 0 && bytes.IndexByte(seg, '\r') < 0 {
		r.addRaw(seg, r.pos)
		return nil
	}
	dec, err := r.decode(seg, r.pos)
	if err != nil {
		return err
	}
	r.spill()
	r.text = append(r.text, dec...)
	return nil
}

// addRaw adds text that needs no decoding and starts at offset at.
func (r *xmlReader) addRaw(seg []byte, at int) {
	if r.plain && r.start == r.end {
		r.start, r.end = at, at+len(seg)
		return
	}
	r.spill()
	r.text = append(r.text, seg...)
}

// spill moves undecoded text into the buffer before more is appended.
func (r *xmlReader) spill() {
	if r.plain {
		r.text = append(r.text[:0], r.data[r.start:r.end]...)
		r.plain = false
	}
}

func (r *xmlReader) takeText() string {
	var s string
	if r.plain {
		s = string(r.data[r.start:r.end])
	} else {
		s = string(r.text)
	}
	r.resetText()
	return s
}

// decode expands the five named entities and character references, and
// turns \r\n and lone \r into \n, as XML requires.
func (r *xmlReader) decode(seg []byte, at int) ([]byte, error) {
	out := make([]byte, 0, len(seg))
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		switch c {
		case '\r':
			out = append(out, '\n')
			if i+1 < len(seg) && seg[i+1] == '\n' {
				i++
			}
		case '&':
			j := bytes.IndexByte(seg[i:], ';')
			if j < 0 || j > 12 {
				return nil, &producers.ParseError{Tool: name, Offset: int64(at + i), Err: errors.New("unterminated entity reference")}
			}
			ent := string(seg[i+1 : i+j])
			switch ent {
			case "lt":
				out = append(out, '<')
			case "gt":
				out = append(out, '>')
			case "amp":
				out = append(out, '&')
			case "apos":
				out = append(out, '\'')
			case "quot":
				out = append(out, '"')
			default:
				n, ok := charRef(ent)
				if !ok {
					return nil, &producers.ParseError{Tool: name, Offset: int64(at + i), Err: fmt.Errorf("unknown entity &%s;", ent)}
				}
				out = utf8.AppendRune(out, n)
			}
			i += j
		default:
			out = append(out, c)
		}
	}
	return out, nil
}

func charRef(ent string) (rune, bool) {
	if !strings.HasPrefix(ent, "#") {
		return 0, false
	}
	var n uint64
	var err error
	if strings.HasPrefix(ent, "#x") || strings.HasPrefix(ent, "#X") {
		n, err = strconv.ParseUint(ent[2:], 16, 32)
	} else {
		n, err = strconv.ParseUint(ent[1:], 10, 32)
	}
	if err != nil || n == 0 || n > utf8.MaxRune || !utf8.ValidRune(rune(n)) {
		return 0, false
	}
	return rune(n), true
}

// reportBuilder turns the reader's events into sites, alerts and
// instances, following the element path of the traditional report.
type reportBuilder struct {
	version string
	sites   []site
	path    []string // element names along the way, for the few that matter
	inAlert bool
	inInst  bool
}

func (b *reportBuilder) open(name []byte, attrs [][]byte) error {
	depth := len(b.path)
	nm := known(name)
	b.path = append(b.path, nm)
	switch {
	case depth == 0:
		if nm != "OWASPZAPReport" {
			return fmt.Errorf("not a ZAP XML report: the root element is <%s>, not <OWASPZAPReport>", name)
		}
		b.version = attr(attrs, "version")
	case depth == 1 && nm == "site":
		b.sites = append(b.sites, site{Name: attr(attrs, "name")})
	case depth == 3 && nm == "alertitem" && b.path[1] == "site" && b.path[2] == "alerts":
		s := &b.sites[len(b.sites)-1]
		s.Alerts = append(s.Alerts, alert{})
		b.inAlert = true
	case depth == 5 && nm == "instance" && b.inAlert && b.path[4] == "instances":
		a := b.alert()
		a.Instances = append(a.Instances, instance{})
		b.inInst = true
	}
	return nil
}

func (b *reportBuilder) alert() *alert {
	s := &b.sites[len(b.sites)-1]
	return &s.Alerts[len(s.Alerts)-1]
}

func (b *reportBuilder) close(name []byte, text string) {
	depth := len(b.path) - 1
	nm := b.path[depth]
	b.path = b.path[:depth]
	switch {
	case depth == 3 && nm == "alertitem":
		b.inAlert = false
	case depth == 5 && nm == "instance":
		b.inInst = false
	case depth == 4 && b.inAlert:
		a := b.alert()
		switch nm {
		case "pluginid":
			a.PluginID = flexString(text)
		case "alertRef":
			a.AlertRef = flexString(text)
		case "alert":
			a.Alert = text
		case "name":
			a.Name = text
		case "riskcode":
			a.RiskCode = flexString(text)
		case "confidence":
			a.Confidence = flexString(text)
		case "riskdesc":
			a.RiskDesc = text
		case "desc":
			a.Desc = text
		case "solution":
			a.Solution = text
		case "otherinfo":
			a.OtherInfo = text
		case "reference":
			a.Reference = text
		case "cweid":
			a.CWEID = flexString(text)
		case "wascid":
			a.WASCID = flexString(text)
		case "sourceid":
			a.SourceID = flexString(text)
		}
	case depth == 6 && b.inInst:
		a := b.alert()
		in := &a.Instances[len(a.Instances)-1]
		switch nm {
		case "uri":
			in.URI = text
		case "method":
			in.Method = text
		case "param":
			in.Param = text
		case "attack":
			in.Attack = text
		case "evidence":
			in.Evidence = text
		case "otherinfo":
			in.OtherInfo = text
		}
	}
}

func parseXML(data []byte) ([]site, string, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(data) {
		return nil, "", producers.Errorf(name, "not a ZAP XML report: not UTF-8 text")
	}
	b := &reportBuilder{}
	r := &xmlReader{data: data}
	if err := r.run(b); err != nil {
		return nil, "", err
	}
	return b.sites, b.version, nil
}

// known returns the report's element names without allocating, and ""
// for any other element.
func known(name []byte) string {
	switch string(name) {
	case "OWASPZAPReport":
		return "OWASPZAPReport"
	case "site":
		return "site"
	case "alerts":
		return "alerts"
	case "alertitem":
		return "alertitem"
	case "instances":
		return "instances"
	case "instance":
		return "instance"
	case "pluginid":
		return "pluginid"
	case "alertRef":
		return "alertRef"
	case "alert":
		return "alert"
	case "name":
		return "name"
	case "riskcode":
		return "riskcode"
	case "confidence":
		return "confidence"
	case "riskdesc":
		return "riskdesc"
	case "desc":
		return "desc"
	case "solution":
		return "solution"
	case "otherinfo":
		return "otherinfo"
	case "reference":
		return "reference"
	case "cweid":
		return "cweid"
	case "wascid":
		return "wascid"
	case "sourceid":
		return "sourceid"
	case "uri":
		return "uri"
	case "method":
		return "method"
	case "param":
		return "param"
	case "attack":
		return "attack"
	case "evidence":
		return "evidence"
	}
	return ""
}
