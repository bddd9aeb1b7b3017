package gitlab

import (
	"bytes"
	"crypto/sha1"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"

	"github.com/google/uuid"
)

// The cyclonedx report: each SBOM producer's bill of materials (syft's,
// a BOM the cyclonedx producer imported), which the model carries whole
// in the issue that stands for the BOM (Issue.cyclone_d_x_s_b_o_m), as
// CycloneDX JSON that GitLab's dependency list reads. A JSON BOM of spec
// 1.5 or 1.6 keeps its version and content; an older JSON BOM is
// declared 1.5 (its content is valid there), a newer one 1.6; an XML BOM is read for its
// components into a 1.5 JSON one. The BOM's vulnerabilities are dropped:
// they are in the dependency scanning report, which GitLab tracks. When
// no SBOM producer ran, a BOM is made of the dependency findings' package
// URLs instead (only vulnerable packages: property dracon:sbom:source
// says "findings").

// gitlabProperties are the GitLab CycloneDX property taxonomy's metadata
// properties every report gets.
const gitlabSchemaVersionProperty = "gitlab:meta:schema_version"

var serialPattern = regexp.MustCompile(`^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// boms makes one file per SBOM producer's BOM, else one per dependency
// scanner from its findings; explicit: an empty BOM when there is neither.
func (p *plan) boms(explicit bool) ([]File, error) {
	var files []File
	names := map[string]int{}
	name := func(tool string) string {
		names[tool]++
		if n := names[tool]; n > 1 {
			return SBOMFileName(fmt.Sprintf("%s-%d", tool, n))
		}
		return SBOMFileName(tool)
	}
	sboms := append([]*finding(nil), p.sboms...)
	sort.SliceStable(sboms, func(i, j int) bool { return sboms[i].tool < sboms[j].tool })
	var errs []error
	for _, f := range sboms {
		doc, n, err := p.convertBOM([]byte(f.is.GetCycloneDXSBOM()))
		if err == nil {
			var data []byte
			if data, err = encode(doc); err == nil {
				files = append(files, File{Report: CycloneDX, Name: name(f.tool), Data: data, Findings: n})
				continue
			}
		}
		errs = append(errs, fmt.Errorf("gitlab: %s's bill of materials is left out: %w", f.tool, err))
	}
	if len(sboms) > 0 {
		return files, errors.Join(errs...)
	}
	byTool := map[string][]*finding{}
	for _, f := range p.findings {
		if (f.report == DependencyScanning || f.report == ContainerScanning) && strings.HasPrefix(f.is.GetPackageUrl(), "pkg:") {
			byTool[f.tool] = append(byTool[f.tool], f)
		}
	}
	tools := make([]string, 0, len(byTool))
	for t := range byTool {
		tools = append(tools, t)
	}
	sort.Strings(tools)
	for _, t := range tools {
		doc, n := p.findingsBOM(t, byTool[t])
		data, err := encode(doc)
		if err != nil {
			return nil, err
		}
		files = append(files, File{Report: CycloneDX, Name: name(t), Data: data, Findings: n})
	}
	if len(files) == 0 && explicit {
		doc, n := p.findingsBOM(draconID, nil)
		data, err := encode(doc)
		if err != nil {
			return nil, err
		}
		files = append(files, File{Report: CycloneDX, Name: SBOMFileName(draconID), Data: data, Findings: n})
	}
	return files, nil
}

// convertBOM makes a BOM GitLab reads of the one a producer carried.
func (p *plan) convertBOM(raw []byte) (map[string]any, int, error) {
	trimmed := bytes.TrimSpace(bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf")))
	if len(trimmed) == 0 {
		return nil, 0, fmt.Errorf("empty")
	}
	var doc map[string]any
	if trimmed[0] == '<' {
		comps, meta, err := readXMLBOM(trimmed)
		if err != nil {
			return nil, 0, err
		}
		doc = p.newBOM(trimmed)
		if meta != nil {
			doc["metadata"].(map[string]any)["component"] = meta
		}
		doc["components"] = comps
	} else {
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		dec.UseNumber()
		if err := dec.Decode(&doc); err != nil {
			return nil, 0, err
		}
		doc["specVersion"] = specFor(doc["specVersion"])
		if _, ok := doc["$schema"]; ok {
			doc["$schema"] = "http://cyclonedx.org/schema/bom-" + doc["specVersion"].(string) + ".schema.json"
		}
		doc["bomFormat"] = "CycloneDX"
		if s, _ := doc["serialNumber"].(string); !serialPattern.MatchString(s) {
			doc["serialNumber"] = serial(trimmed)
		}
		if _, ok := doc["version"]; !ok {
			doc["version"] = 1
		}
		delete(doc, "vulnerabilities")
		meta, _ := doc["metadata"].(map[string]any)
		if meta == nil {
			meta = map[string]any{}
			doc["metadata"] = meta
		}
		if _, ok := meta["timestamp"]; !ok {
			meta["timestamp"] = p.start.UTC().Format("2006-01-02T15:04:05Z")
		}
	}
	setProperty(doc["metadata"].(map[string]any), gitlabSchemaVersionProperty, "1")
	setProperty(doc["metadata"].(map[string]any), "dracon:sbom:source", "bom")
	comps, _ := doc["components"].([]any)
	return doc, countComponents(comps), nil
}

// specFor is the spec version a JSON BOM is declared in: 1.5 and 1.6 as
// they are; an older one as 1.5, whose schema takes what 1.2-1.4 wrote;
// a newer one (syft writes 1.7) as 1.6, the newest GitLab reads.
func specFor(v any) string {
	s, _ := v.(string)
	switch s {
	case "1.5", "1.6":
		return s
	case "1.0", "1.1", "1.2", "1.3", "1.4", "":
		return "1.5"
	}
	return "1.6"
}

// newBOM is an empty CycloneDX 1.5 document named after src.
func (p *plan) newBOM(src []byte) map[string]any {
	return map[string]any{
		"$schema":      "http://cyclonedx.org/schema/bom-1.5.schema.json",
		"bomFormat":    "CycloneDX",
		"specVersion":  "1.5",
		"serialNumber": serial(src),
		"version":      1,
		"metadata": map[string]any{
			"timestamp": p.start.UTC().Format("2006-01-02T15:04:05Z"),
			"tools": map[string]any{"components": []any{map[string]any{
				"type": "application", "name": "dracon", "version": firstNonEmpty(p.c.Version, "dev"),
				"supplier": map[string]any{"name": draconName},
			}}},
		},
		"components": []any{},
	}
}

// findingsBOM is a BOM of the packages one tool's dependency findings name.
func (p *plan) findingsBOM(t string, fs []*finding) (map[string]any, int) {
	var key bytes.Buffer
	key.WriteString("dracon/sbom/" + t)
	seen := map[string]bool{}
	comps := []any{}
	for _, f := range fs {
		purl := f.is.GetPackageUrl()
		if seen[purl] {
			continue
		}
		seen[purl] = true
		key.WriteString("\x00" + purl)
		typ, name, version := purlParts(purl)
		c := map[string]any{"type": "library", "bom-ref": purl, "purl": purl}
		if version == "" {
			version = f.is.GetPackageVersion()
		}
		if i := strings.LastIndexByte(name, '/'); i > 0 && !osPackageTypes[typ] {
			c["group"], name = name[:i], name[i+1:]
		}
		c["name"] = firstNonEmpty(name, purl)
		if version != "" {
			c["version"] = version
		}
		comps = append(comps, c)
	}
	sort.Slice(comps, func(i, j int) bool {
		return comps[i].(map[string]any)["bom-ref"].(string) < comps[j].(map[string]any)["bom-ref"].(string)
	})
	doc := p.newBOM(key.Bytes())
	doc["components"] = comps
	meta := doc["metadata"].(map[string]any)
	setProperty(meta, gitlabSchemaVersionProperty, "1")
	setProperty(meta, "dracon:sbom:source", "findings")
	if t != draconID {
		setProperty(meta, "dracon:sbom:tool", t)
	}
	return doc, len(comps)
}

// serial is a BOM's serial number, the same for the same input.
func serial(src []byte) string {
	sum := sha1.Sum(src)
	return "urn:uuid:" + uuid.NewSHA1(namespace, sum[:]).String()
}

// setProperty adds a name/value property to an object's properties,
// unless one of that name is there.
func setProperty(obj map[string]any, name, value string) {
	props, _ := obj["properties"].([]any)
	for _, p := range props {
		if m, ok := p.(map[string]any); ok && m["name"] == name {
			return
		}
	}
	obj["properties"] = append(props, map[string]any{"name": name, "value": value})
}

func countComponents(cs []any) int {
	n := 0
	for _, c := range cs {
		n++
		if m, ok := c.(map[string]any); ok {
			sub, _ := m["components"].([]any)
			n += countComponents(sub)
		}
	}
	return n
}

// xmlComponent is a component of an XML BOM, as far as GitLab reads one.
type xmlComponent struct {
	Type        string         `xml:"type,attr"`
	Ref         string         `xml:"bom-ref,attr"`
	Group       string         `xml:"group"`
	Name        string         `xml:"name"`
	Version     string         `xml:"version"`
	Description string         `xml:"description"`
	PURL        string         `xml:"purl"`
	Licenses    []xmlLicense   `xml:"licenses>license"`
	Expression  string         `xml:"licenses>expression"`
	Components  []xmlComponent `xml:"components>component"`
}

type xmlLicense struct {
	ID   string `xml:"id"`
	Name string `xml:"name"`
}

type xmlBOM struct {
	Metadata struct {
		Component *xmlComponent `xml:"component"`
	} `xml:"metadata"`
	Components []xmlComponent `xml:"components>component"`
}

// componentTypes are the component types CycloneDX 1.5 allows.
var componentTypes = map[string]bool{"application": true, "framework": true, "library": true, "container": true,
	"platform": true, "operating-system": true, "device": true, "device-driver": true, "firmware": true, "file": true,
	"machine-learning-model": true, "data": true}

// readXMLBOM reads an XML BOM's components (any spec version: elements
// are matched by local name).
func readXMLBOM(data []byte) ([]any, map[string]any, error) {
	var b xmlBOM
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = false
	dec.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	if err := dec.Decode(&b); err != nil {
		return nil, nil, err
	}
	refs := map[string]bool{}
	comps := make([]any, 0, len(b.Components))
	for _, c := range b.Components {
		comps = append(comps, c.json(refs))
	}
	var meta map[string]any
	if b.Metadata.Component != nil && strings.TrimSpace(b.Metadata.Component.Name) != "" {
		mc := *b.Metadata.Component
		mc.Components = nil
		meta = mc.json(refs)
	}
	return comps, meta, nil
}

func (c xmlComponent) json(refs map[string]bool) map[string]any {
	typ := strings.TrimSpace(c.Type)
	if !componentTypes[typ] {
		typ = "library"
	}
	m := map[string]any{"type": typ, "name": firstNonEmpty(c.Name, c.PURL, unknownValue)}
	// bom-refs must be unique in a document.
	if r := strings.TrimSpace(c.Ref); r != "" && !refs[r] {
		refs[r] = true
		m["bom-ref"] = r
	}
	for k, v := range map[string]string{"group": c.Group, "version": c.Version, "description": c.Description} {
		if v = strings.TrimSpace(v); v != "" {
			m[k] = v
		}
	}
	if pu := strings.TrimSpace(c.PURL); strings.HasPrefix(pu, "pkg:") {
		m["purl"] = pu
	}
	var lic []any
	if e := strings.TrimSpace(c.Expression); e != "" {
		lic = append(lic, map[string]any{"expression": e})
	} else {
		for _, l := range c.Licenses {
			// An id must be an SPDX id; anything else is a name.
			if n := firstNonEmpty(l.ID, l.Name); n != "" {
				lic = append(lic, map[string]any{"license": map[string]any{"name": n}})
			}
		}
	}
	if len(lic) > 0 {
		m["licenses"] = lic
	}
	if len(c.Components) > 0 {
		sub := make([]any, 0, len(c.Components))
		for _, s := range c.Components {
			sub = append(sub, s.json(refs))
		}
		m["components"] = sub
	}
	return m
}
