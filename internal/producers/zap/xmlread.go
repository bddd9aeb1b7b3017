package zap

import (
	"bytes"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/draconsec/dracon/internal/producers"
	"github.com/draconsec/dracon/internal/producers/xmltok"
)

// The traditional XML report is a small, fixed shape of plain elements,
// read with the producers' shared XML reader, which refuses input that is
// not well-formed: unbalanced or mismatched tags, unknown entities, text
// outside the root, a document cut short. Text keeps its whitespace and
// has its line ends normalized, as encoding/xml would give it.
var xmlOptions = xmltok.Options{
	Doctype:           xmltok.SkipDoctypeNoSubset,
	NormalizeNewlines: true,
	KeepSpace:         true,
}

// is reports whether n is the element written <name> (without a prefix).
func is(n *xmltok.Node, name string) bool { return n.Prefix == "" && n.Name == name }

func parseXML(data []byte) ([]site, string, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(data) {
		return nil, "", producers.Errorf(name, "not a ZAP XML report: not UTF-8 text")
	}
	root, err := xmltok.ParseOptions(data, xmlOptions)
	if err != nil {
		var xe *xmltok.Error
		if errors.As(err, &xe) {
			return nil, "", &producers.ParseError{Tool: name, Offset: int64(xe.Offset), Err: err}
		}
		return nil, "", &producers.ParseError{Tool: name, Offset: -1, Err: err}
	}
	if !is(root, "OWASPZAPReport") {
		return nil, "", &producers.ParseError{Tool: name, Offset: int64(root.Offset),
			Err: fmt.Errorf("not a ZAP XML report: the root element is <%s>, not <OWASPZAPReport>", root.QName())}
	}
	var sites []site
	for _, sn := range root.Children {
		if !is(sn, "site") {
			continue
		}
		sites = append(sites, site{Name: sn.Attr("name")})
		s := &sites[len(sites)-1]
		for _, as := range sn.Children {
			if !is(as, "alerts") {
				continue
			}
			for _, an := range as.Children {
				if is(an, "alertitem") {
					s.Alerts = append(s.Alerts, readAlert(an))
				}
			}
		}
	}
	return sites, root.Attr("version"), nil
}

func readAlert(n *xmltok.Node) alert {
	var a alert
	for _, c := range n.Children {
		if c.Prefix != "" {
			continue
		}
		text := c.Text()
		switch c.Name {
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
		case "instances":
			for _, in := range c.Children {
				if is(in, "instance") {
					a.Instances = append(a.Instances, readInstance(in))
				}
			}
		}
	}
	return a
}

func readInstance(n *xmltok.Node) instance {
	var in instance
	for _, c := range n.Children {
		if c.Prefix != "" {
			continue
		}
		switch c.Name {
		case "uri":
			in.URI = c.Text()
		case "method":
			in.Method = c.Text()
		case "param":
			in.Param = c.Text()
		case "attack":
			in.Attack = c.Text()
		case "evidence":
			in.Evidence = c.Text()
		case "otherinfo":
			in.OtherInfo = c.Text()
		}
	}
	return in
}
