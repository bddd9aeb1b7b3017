package xmltok

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	in := "\xef\xbb\xbf<?xml version='1.0'?>\n<!-- c -->\n" +
		`<v:bom xmlns:v="urn:x" a='1' b = "2&gt;3&#x41;&#66;">` +
		`<item id="1"><name> a&lt;b&amp;c </name><version><![CDATA[1.0 <raw> &x;]]></version></item>` +
		`<item id="2"/><!-- skip --><?pi x?>` +
		`<v:item id="3"><name>n3</name></v:item>` +
		`</v:bom>`
	root, err := Parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if root.Name != "bom" || root.Prefix != "v" || root.QName() != "v:bom" {
		t.Errorf("root = %q:%q", root.Prefix, root.Name)
	}
	if root.Attr("a") != "1" || root.Attr("b") != "2>3AB" || root.Attr("xmlns") != "" || root.Attr("missing") != "" {
		t.Errorf("attrs = %+v", root.Attrs)
	}
	items := root.All("item")
	if len(items) != 3 {
		t.Fatalf("%d items, want 3 (prefixes are ignored by name)", len(items))
	}
	if items[0].Attr("id") != "1" || items[0].Value("name") != "a<b&c" || items[0].Child("name").Text() != " a<b&c " ||
		items[0].Value("version") != "1.0 <raw> &x;" {
		t.Errorf("item 1 = %q %q", items[0].Value("name"), items[0].Value("version"))
	}
	if items[1].Attr("id") != "2" || len(items[1].Children) != 0 || items[1].Text() != "" {
		t.Errorf("item 2 = %+v", items[1])
	}
	if items[2].Prefix != "v" || items[2].Value("name") != "n3" {
		t.Errorf("item 3 = %+v", items[2])
	}
	if root.Child("nope") != nil || root.Child("nope").Child("x") != nil || root.Child("nope").Value("x") != "" ||
		root.Child("nope").Attr("x") != "" || root.Child("nope").All("x") != nil || root.Child("nope").DeepText() != "" {
		t.Error("a missing child is not a safe nil")
	}
	if off := strings.Index(in, `<item id="2"/>`); items[1].Offset != off {
		t.Errorf("offset of item 2 = %d, want %d", items[1].Offset, off)
	}
}

func TestText(t *testing.T) {
	in := "<m>\r\n a <b>bold</b> <i>it</i>&#xA; c\r</m>"
	root, err := Parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if got := root.DeepText(); got != "\r\n a boldit\n c\r" { // whitespace-only runs are layout
		t.Errorf("DeepText = %q", got)
	}
	root, err = ParseOptions([]byte(in), Options{KeepSpace: true, NormalizeNewlines: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := root.DeepText(); got != "\n a bold it\n c\n" {
		t.Errorf("DeepText with KeepSpace = %q", got)
	}
	if got := root.Text(); got != "\n a  \n c\n" {
		t.Errorf("Text with KeepSpace = %q", got)
	}
	root, err = Parse([]byte("<a>\n  <b/>\n</a>"))
	if err != nil || root.Text() != "" {
		t.Errorf("layout whitespace kept: %q, %v", root.Text(), err)
	}
}

func TestDoctype(t *testing.T) {
	subset := `<!DOCTYPE a [<!ENTITY x "y">]><a>z</a>`
	plain := `<!DOCTYPE a SYSTEM "a.dtd"><a>z</a>`
	for _, tc := range []struct {
		mode          DoctypeMode
		subset, plain bool // accepted
	}{
		{RejectDoctype, false, false},
		{SkipDoctype, true, true},
		{SkipDoctypeNoSubset, false, true},
	} {
		_, err := ParseOptions([]byte(subset), Options{Doctype: tc.mode})
		if (err == nil) != tc.subset {
			t.Errorf("mode %d, subset: err = %v", tc.mode, err)
		}
		_, err = ParseOptions([]byte(plain), Options{Doctype: tc.mode})
		if (err == nil) != tc.plain {
			t.Errorf("mode %d, plain: err = %v", tc.mode, err)
		}
	}
	if _, err := ParseOptions([]byte(`<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>`), Options{Doctype: SkipDoctype}); err == nil {
		t.Error("a declared entity was expanded")
	}
	if _, err := ParseOptions([]byte(`<a><!DOCTYPE a></a>`), Options{Doctype: SkipDoctype}); err == nil {
		t.Error("a declaration inside the root was accepted")
	}
}

func TestErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		in  string
		off int
	}{
		"empty":             {"", 0},
		"only space":        {" \n", 0},
		"text before root":  {"x<a/>", 0},
		"text after root":   {"<a/>x", 4},
		"two roots":         {"<a/><b/>", 4},
		"unclosed":          {"<a><b></b>", 10},
		"mismatched":        {"<a><b></c></a>", 6},
		"end without start": {"</a>", 0},
		"bad entity":        {"<a>x&nope;</a>", 4},
		"bad char ref":      {"<a>&#0;</a>", 3},
		"no semicolon":      {"<a>&amp</a>", 3},
		"unquoted attr":     {"<a b=c/>", 5},
		"attr without =":    {"<a b/>", 4},
		"lt in attr":        {`<a b="<"/>`, 5},
		"unterminated tag":  {"<a b='1'", 0},
		"bad tag":           {"< a/>", 0},
		"comment":           {"<a><!-- x</a>", 3},
		"cdata":             {"<a><![CDATA[x</a>", 3},
		"cdata outside":     {"<![CDATA[x]]><a/>", 0},
		"pi":                {"<?xml <a/>", 0},
		"doctype":           {"<!DOCTYPE a><a/>", 0},
		"too deep":          {strings.Repeat("<a>", maxDepth+1), 3 * maxDepth},
	} {
		_, err := Parse([]byte(tc.in))
		var xe *Error
		if !errors.As(err, &xe) {
			t.Errorf("%s: err = %v, want an *Error", name, err)
			continue
		}
		if xe.Offset != tc.off {
			t.Errorf("%s: offset %d, want %d (%v)", name, xe.Offset, tc.off, err)
		}
	}
}

// seeds are the XML reports of the producers that use this package.
func seeds(tb testing.TB) [][]byte {
	tb.Helper()
	var files []string
	for _, g := range []string{
		"../cyclonedx/testdata/*.xml", "../dependencycheck/testdata/*.xml",
		"../spotbugs/testdata/*.xml", "../zap/testdata/*.xml",
		"../../../testdata/corpus/defectdojo/cyclonedx/*.xml", "../../../testdata/corpus/defectdojo/dependency_check/*.xml",
		"../../../testdata/corpus/defectdojo/spotbugs/*.xml", "../../../testdata/corpus/defectdojo/zap/*.xml",
	} {
		m, _ := filepath.Glob(g)
		files = append(files, m...)
	}
	var out [][]byte
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, data)
	}
	return out
}

func TestCorpus(t *testing.T) {
	for _, data := range seeds(t) {
		for _, o := range []Options{{Doctype: SkipDoctype}, {Doctype: SkipDoctype, KeepSpace: true, NormalizeNewlines: true}} {
			if _, err := ParseOptions(data, o); err != nil {
				t.Errorf("%.40q: %v", data, err)
			}
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, data := range seeds(f) {
		f.Add(data, uint8(0))
	}
	f.Add([]byte(`<a b="&amp;"><![CDATA[x]]><!-- c --><?p?><c>&#x41;</c></a>`), uint8(7))
	f.Add([]byte("<!DOCTYPE a [<!ENTITY x 'y'>]><a>\r\n</a>"), uint8(5))
	f.Fuzz(func(t *testing.T, data []byte, opts uint8) {
		o := Options{Doctype: DoctypeMode(opts % 3), NormalizeNewlines: opts&4 != 0, KeepSpace: opts&8 != 0}
		root, err := ParseOptions(data, o)
		if err != nil {
			var xe *Error
			if !errors.As(err, &xe) {
				t.Fatalf("error is not an *Error: %v", err)
			}
			if xe.Offset < 0 || xe.Offset > len(data) {
				t.Fatalf("offset %d outside the input of %d bytes", xe.Offset, len(data))
			}
			return
		}
		if root == nil {
			t.Fatal("nil root without an error")
		}
		var walk func(n *Node, depth int)
		walk = func(n *Node, depth int) {
			if depth > maxDepth {
				t.Fatal("tree deeper than maxDepth")
			}
			if n.Offset < 0 || n.Offset >= len(data) || data[n.Offset] != '<' {
				t.Fatalf("element offset %d does not point at '<'", n.Offset)
			}
			if o.NormalizeNewlines && strings.ContainsRune(n.Text(), '\r') && !strings.Contains(string(data), "&#") && !strings.Contains(string(data), "<![CDATA[") {
				t.Fatalf("\\r left in normalized text %q", n.Text())
			}
			_ = n.DeepText()
			for _, c := range n.Children {
				walk(c, depth+1)
			}
		}
		walk(root, 1)
	})
}

func BenchmarkParse(b *testing.B) {
	data := seeds(b)
	n := 0
	for _, d := range data {
		n += len(d)
	}
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for b.Loop() {
		for _, d := range data {
			if _, err := ParseOptions(d, Options{Doctype: SkipDoctype}); err != nil {
				b.Fatal(err)
			}
		}
	}
}
