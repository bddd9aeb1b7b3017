package depsdev

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// bom is an SBOM finding's CycloneDX document: its components' keys, and
// for a JSON BOM the decoded document to write deps.dev's data into.
type bom struct {
	keys []Key
	// doc is the JSON BOM decoded (numbers kept as written); nil for an
	// XML BOM, which is read for its purls but not rewritten.
	doc any
}

// readBOM reads a CycloneDX BOM's component purls (nested components
// included). A BOM it cannot read gives no keys: the finding keeps its
// BOM as it is.
func readBOM(text string) *bom {
	t := strings.TrimSpace(strings.TrimPrefix(text, "\ufeff"))
	b := &bom{}
	switch {
	case strings.HasPrefix(t, "{"):
		dec := json.NewDecoder(strings.NewReader(t))
		dec.UseNumber()
		if dec.Decode(&b.doc) != nil {
			return &bom{}
		}
		eachComponent(b.doc, func(c map[string]any) {
			if k, ok := componentKey(c); ok {
				b.keys = append(b.keys, k)
			}
		})
	case strings.HasPrefix(t, "<"):
		b.keys = xmlKeys(t)
	}
	return b
}

// eachComponent calls fn for every component of a JSON BOM: the
// top-level list and the components nested in each.
func eachComponent(doc any, fn func(map[string]any)) {
	root, ok := doc.(map[string]any)
	if !ok {
		return
	}
	var walk func(list any, depth int)
	walk = func(list any, depth int) {
		items, ok := list.([]any)
		if !ok || depth > 100 {
			return
		}
		for _, it := range items {
			if c, ok := it.(map[string]any); ok {
				fn(c)
				walk(c["components"], depth+1)
			}
		}
	}
	walk(root["components"], 0)
}

func componentKey(c map[string]any) (Key, bool) {
	purl, _ := c["purl"].(string)
	version, _ := c["version"].(string)
	return FromPurl(purl, version)
}

// xmlKeys reads the <purl> of every component of an XML BOM.
func xmlKeys(text string) []Key {
	dec := xml.NewDecoder(strings.NewReader(text))
	var keys []Key
	var inPurl bool
	var purl strings.Builder
	for {
		tok, err := dec.Token()
		if err == io.EOF || err != nil {
			return keys
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local == "purl" {
				inPurl = true
				purl.Reset()
			}
		case xml.CharData:
			if inPurl {
				purl.Write(t)
			}
		case xml.EndElement:
			if t.Name.Local == "purl" && inPurl {
				inPurl = false
				if k, ok := FromPurl(purl.String(), ""); ok {
					keys = append(keys, k)
				}
			}
		}
	}
}

// scorecardProperty is the component property Dracon's enricher wrote
// the Scorecard score to.
const scorecardProperty = "ScorecardScore"

// write puts deps.dev's data into the JSON BOM's components: licences
// where the component declares none (or into evidence.licenses), a
// deps.dev external reference, the Scorecard score as a property. It
// returns the new document, or "" when nothing changed.
func (b *bom) write(data func(Key) (*Version, *Project), inEvidence bool) string {
	if b.doc == nil {
		return ""
	}
	changed := false
	eachComponent(b.doc, func(c map[string]any) {
		k, ok := componentKey(c)
		if !ok {
			return
		}
		v, p := data(k)
		if v == nil || v.Unknown {
			return
		}
		if len(v.Licenses) > 0 {
			if inEvidence {
				ev, _ := c["evidence"].(map[string]any)
				if ev == nil {
					ev = map[string]any{}
				}
				if !hasItems(ev["licenses"]) {
					ev["licenses"] = licenseChoices(v.Licenses)
					c["evidence"] = ev
					changed = true
				}
			} else if !hasItems(c["licenses"]) {
				// A licence the BOM's writer declared is kept: deps.dev's
				// only fills the gaps.
				c["licenses"] = licenseChoices(v.Licenses)
				changed = true
			}
		}
		url := k.WebURL()
		refs, _ := c["externalReferences"].([]any)
		if !hasRef(refs, url) {
			c["externalReferences"] = append(refs, map[string]any{"type": "other", "url": url, "comment": "deps.dev"})
			changed = true
		}
		if p != nil && p.Score != nil {
			props, _ := c["properties"].([]any)
			if !hasProperty(props, scorecardProperty) {
				c["properties"] = append(props, map[string]any{"name": scorecardProperty, "value": formatScore(*p.Score)})
				changed = true
			}
		}
	})
	if !changed {
		return ""
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false) // URLs keep their & and descriptions their <, as the BOM had them
	if enc.Encode(b.doc) != nil {
		return ""
	}
	return strings.TrimSuffix(out.String(), "\n")
}

func hasItems(v any) bool {
	items, ok := v.([]any)
	return ok && len(items) > 0
}

func hasRef(refs []any, url string) bool {
	for _, r := range refs {
		if m, ok := r.(map[string]any); ok && m["url"] == url {
			return true
		}
	}
	return false
}

func hasProperty(props []any, name string) bool {
	for _, p := range props {
		if m, ok := p.(map[string]any); ok && m["name"] == name {
			return true
		}
	}
	return false
}

// spdxID is a plain SPDX licence id (no operators, no LicenseRef).
var spdxID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.+-]*$`)

// licenseChoices is CycloneDX's licenses list for deps.dev's licences
// (SPDX expressions, or "non-standard"): an id each, or the one
// expression when there is one; CycloneDX allows one expression or a
// list of licences, never both, so with several licences an expression
// is kept as a licence's name (deps.dev does not say how several
// relate, so they are not joined with AND).
func licenseChoices(lics []string) []any {
	if len(lics) == 1 && !spdxID.MatchString(lics[0]) && lics[0] != "non-standard" {
		return []any{map[string]any{"expression": lics[0]}}
	}
	out := make([]any, 0, len(lics))
	for _, l := range lics {
		if spdxID.MatchString(l) && l != "non-standard" {
			out = append(out, map[string]any{"license": map[string]any{"id": l}})
		} else {
			out = append(out, map[string]any{"license": map[string]any{"name": l}})
		}
	}
	return out
}

// formatScore writes a Scorecard score (0-10, float32 in deps.dev's
// API) with one decimal, as scorecard prints it.
func formatScore(s float64) string { return strconv.FormatFloat(s, 'f', 1, 64) }
