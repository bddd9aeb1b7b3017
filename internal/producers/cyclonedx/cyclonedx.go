// Package cyclonedx imports CycloneDX bills of materials (JSON and XML)
// that an earlier CI step or another scanner wrote (grype, trivy, snyk,
// jake, ...): each vulnerability the BOM lists becomes an issue per
// affected component, and the BOM itself is carried as one SBOM issue, as
// Dracon's CycloneDX producer did.
package cyclonedx

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/draconsec/dracon/internal/producers"
	"github.com/draconsec/dracon/internal/producers/xmltok"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

const name = "cyclonedx"

// maxDepth bounds the nesting of components; BOMs nest a few levels.
const maxDepth = 1000

// SBOMType is the Type of the one issue that carries the BOM itself.
const SBOMType = "SBOM"

// Producer imports CycloneDX BOMs written by other tools.
var Producer = &producers.Producer{
	Name:        name,
	Kind:        producers.SBOM,
	Languages:   []string{"any"},
	Description: "a CycloneDX bill of materials (JSON or XML) and the vulnerabilities it lists, from grype, trivy, snyk, jake, ...",
	Formats:     []string{"json", "xml"},
	Parse:       Parse,
	Detect:      []string{"bom.json", "bom.xml", "*.cdx.json", "*.cdx.xml", "sbom.json", "sbom.xml"},
	RunsHere:    true, // nothing to install: it reads files
}

// BOM is what a parsed BOM says about itself.
type BOM struct {
	SpecVersion string
	Tools       []Tool // the tools that wrote it, as its metadata lists them
	Components  int    // components, nested ones included
}

// Tool is one tool named in a BOM's metadata.
type Tool struct {
	Vendor, Name, Version string
}

// Parse reads a CycloneDX BOM, JSON or XML (the 1.0-1.7 schemas, and the
// vulnerability extension 1.0 that XML BOMs of CycloneDX 1.2 used).
func Parse(data []byte) (*producers.Parsed, error) {
	parsed, _, err := ParseBOM(data)
	return parsed, err
}

// ParseBOM is Parse that also returns what the BOM says about itself, for
// producers that run a BOM writer (syft).
func ParseBOM(data []byte) (*producers.Parsed, *BOM, error) {
	trimmed := bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
	if len(trimmed) == 0 {
		return nil, nil, &producers.ParseError{Tool: name, Offset: -1, Err: producers.ErrEmpty}
	}
	var b *bom
	var err error
	switch trimmed[0] {
	case '<':
		b, err = fromXML(data)
	case '{':
		b, err = fromJSON(data)
	default:
		return nil, nil, producers.Errorf(name, "not a CycloneDX BOM: neither JSON nor XML")
	}
	if err != nil {
		return nil, nil, err
	}
	info := &BOM{SpecVersion: b.spec, Tools: b.tools, Components: len(b.components)}
	return b.issues(data), info, nil
}

// bom is the one model both formats are read into.
type bom struct {
	spec       string
	metaName   string
	tools      []Tool
	components []*component
	byRef      map[string]*component
	vulns      []*vuln
}

type component struct {
	ref, typ, group, name, version, purl string
}

type vuln struct {
	id, sourceName, sourceURL         string
	description, detail, recommend    string
	refs                              []reference
	ratings                           []rating
	cwes                              []string
	advisories                        []string
	state, justification, analysisMsg string
	affects                           []affect
	properties                        [][2]string
}

type reference struct{ id, url string }

type rating struct {
	severity, method, source string
	score                    float64
	hasScore                 bool
}

type affect struct {
	ref      string
	comp     *component // set when the vulnerability is nested in it (XML extension)
	versions []affectedVersion
}

type affectedVersion struct{ version, rng, status string }

func (b *bom) add(c *component) {
	b.components = append(b.components, c)
	if c.ref != "" {
		if b.byRef == nil {
			b.byRef = map[string]*component{}
		}
		if _, dup := b.byRef[c.ref]; !dup {
			b.byRef[c.ref] = c
		}
	}
}

// --- JSON ---

type jsonBOM struct {
	BOMFormat   string `json:"bomFormat"`
	SpecVersion string `json:"specVersion"`
	Metadata    *struct {
		Tools     json.RawMessage `json:"tools"`
		Component *jsonComponent  `json:"component"`
	} `json:"metadata"`
	Components      []*jsonComponent `json:"components"`
	Vulnerabilities []*jsonVuln      `json:"vulnerabilities"`
}

type jsonComponent struct {
	Ref        string           `json:"bom-ref"`
	Type       string           `json:"type"`
	Group      string           `json:"group"`
	Name       string           `json:"name"`
	Version    string           `json:"version"`
	PURL       string           `json:"purl"`
	Author     string           `json:"author"`
	Vendor     string           `json:"vendor"` // tools before 1.5
	Components []*jsonComponent `json:"components"`
}

type jsonSource struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

type jsonVuln struct {
	Ref        string      `json:"bom-ref"`
	ID         string      `json:"id"`
	Source     *jsonSource `json:"source"`
	References []struct {
		ID     string      `json:"id"`
		Source *jsonSource `json:"source"`
	} `json:"references"`
	Ratings []struct {
		Source   *jsonSource `json:"source"`
		Score    *float64    `json:"score"`
		Severity string      `json:"severity"`
		Method   string      `json:"method"`
	} `json:"ratings"`
	CWEs           []int  `json:"cwes"`
	Description    string `json:"description"`
	Detail         string `json:"detail"`
	Recommendation string `json:"recommendation"`
	Advisories     []struct {
		Title string `json:"title"`
		URL   string `json:"url"`
	} `json:"advisories"`
	Analysis *struct {
		State         string `json:"state"`
		Justification string `json:"justification"`
		Detail        string `json:"detail"`
	} `json:"analysis"`
	Affects []struct {
		Ref      string `json:"ref"`
		Versions []struct {
			Version string `json:"version"`
			Range   string `json:"range"`
			Status  string `json:"status"`
		} `json:"versions"`
	} `json:"affects"`
	Properties []struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	} `json:"properties"`
}

func fromJSON(data []byte) (*bom, error) {
	var j jsonBOM
	if err := producers.DecodeJSON(name, data, &j); err != nil {
		return nil, err
	}
	if j.BOMFormat != "CycloneDX" {
		return nil, producers.Errorf(name, `not a CycloneDX JSON BOM: "bomFormat" is %q, want "CycloneDX"`, j.BOMFormat)
	}
	b := &bom{spec: j.SpecVersion}
	if m := j.Metadata; m != nil {
		if m.Component != nil {
			b.metaName = m.Component.Name
		}
		b.tools = jsonTools(m.Tools)
	}
	var walk func([]*jsonComponent, int)
	walk = func(cs []*jsonComponent, depth int) {
		for _, c := range cs {
			if c == nil {
				continue
			}
			b.add(&component{ref: c.Ref, typ: c.Type, group: c.Group, name: c.Name, version: c.Version, purl: c.PURL})
			if depth < maxDepth {
				walk(c.Components, depth+1)
			}
		}
	}
	walk(j.Components, 0)
	for _, jv := range j.Vulnerabilities {
		if jv == nil {
			continue
		}
		v := &vuln{id: jv.ID, description: jv.Description, detail: jv.Detail, recommend: jv.Recommendation}
		if jv.Source != nil {
			v.sourceName, v.sourceURL = jv.Source.Name, jv.Source.URL
		}
		for _, r := range jv.References {
			ref := reference{id: r.ID}
			if r.Source != nil {
				ref.url = r.Source.URL
			}
			v.refs = append(v.refs, ref)
		}
		for _, r := range jv.Ratings {
			rt := rating{severity: r.Severity, method: r.Method}
			if r.Source != nil {
				rt.source = r.Source.Name
			}
			if r.Score != nil {
				rt.score, rt.hasScore = *r.Score, true
			}
			v.ratings = append(v.ratings, rt)
		}
		for _, c := range jv.CWEs {
			v.cwes = append(v.cwes, strconv.Itoa(c))
		}
		for _, a := range jv.Advisories {
			v.advisories = append(v.advisories, a.URL)
		}
		if a := jv.Analysis; a != nil {
			v.state, v.justification, v.analysisMsg = a.State, a.Justification, a.Detail
		}
		for _, a := range jv.Affects {
			af := affect{ref: a.Ref}
			for _, ver := range a.Versions {
				af.versions = append(af.versions, affectedVersion{ver.Version, ver.Range, ver.Status})
			}
			v.affects = append(v.affects, af)
		}
		for _, p := range jv.Properties {
			v.properties = append(v.properties, [2]string{p.Name, p.Value})
		}
		b.vulns = append(b.vulns, v)
	}
	return b, nil
}

// jsonTools reads metadata.tools: a list of tools before CycloneDX 1.5,
// an object of components and services since.
func jsonTools(raw json.RawMessage) []Tool {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil
	}
	var list []*jsonComponent
	if raw[0] == '{' {
		var obj struct {
			Components []*jsonComponent `json:"components"`
			Services   []*jsonComponent `json:"services"`
		}
		if json.Unmarshal(raw, &obj) != nil {
			return nil
		}
		list = append(obj.Components, obj.Services...)
	} else if json.Unmarshal(raw, &list) != nil {
		return nil
	}
	var out []Tool
	for _, t := range list {
		if t != nil {
			out = append(out, Tool{Vendor: producers.FirstNonEmpty(t.Vendor, t.Group, t.Author), Name: t.Name, Version: t.Version})
		}
	}
	return out
}

// --- XML ---

const nsPrefix = "http://cyclonedx.org/schema/bom/"

func fromXML(data []byte) (*bom, error) {
	root, err := xmltok.Parse(data)
	if err != nil {
		var xe *xmltok.Error
		if errors.As(err, &xe) {
			return nil, &producers.ParseError{Tool: name, Offset: int64(xe.Offset), Err: err}
		}
		return nil, &producers.ParseError{Tool: name, Offset: -1, Err: err}
	}
	ns := root.Attr("xmlns")
	if root.Name != "bom" || !strings.HasPrefix(ns, nsPrefix) {
		return nil, producers.Errorf(name, "not a CycloneDX XML BOM: root <%s xmlns=%q>", root.Name, ns)
	}
	b := &bom{spec: strings.TrimPrefix(ns, nsPrefix)}
	if m := root.Child("metadata"); m != nil {
		b.metaName = m.Child("component").Value("name")
		tools := m.Child("tools")
		for _, t := range tools.All("tool") {
			b.tools = append(b.tools, Tool{Vendor: t.Value("vendor"), Name: t.Value("name"), Version: t.Value("version")})
		}
		for _, t := range tools.Child("components").All("component") { // 1.5+
			b.tools = append(b.tools, Tool{Vendor: producers.FirstNonEmpty(t.Value("group"), t.Value("author")), Name: t.Value("name"), Version: t.Value("version")})
		}
	}
	var walk func(*xmltok.Node)
	walk = func(cs *xmltok.Node) {
		for _, c := range cs.All("component") {
			comp := &component{ref: c.Attr("bom-ref"), typ: c.Attr("type"), group: c.Value("group"),
				name: c.Value("name"), version: c.Value("version"), purl: c.Value("purl")}
			b.add(comp)
			// vulnerability extension 1.0: vulnerabilities inside the component
			for _, vs := range c.All("vulnerabilities") {
				for _, vn := range vs.All("vulnerability") {
					v := xmlVuln(vn)
					v.affects = []affect{{ref: comp.ref, comp: comp}}
					b.vulns = append(b.vulns, v)
				}
			}
			walk(c.Child("components"))
		}
	}
	walk(root.Child("components"))
	for _, vs := range root.All("vulnerabilities") {
		for _, vn := range vs.All("vulnerability") {
			v := xmlVuln(vn)
			if ref := vn.Attr("ref"); ref != "" && len(v.affects) == 0 {
				v.affects = []affect{{ref: ref}} // extension 1.0 at BOM level
			}
			b.vulns = append(b.vulns, v)
		}
	}
	return b, nil
}

// xmlVuln reads a <vulnerability> of CycloneDX 1.4+ or of the extension
// 1.0 (which puts the source name in an attribute, the CVSS score in
// <score><base>, and lists recommendations).
func xmlVuln(n *xmltok.Node) *vuln {
	v := &vuln{id: n.Value("id"), description: n.Value("description"), detail: n.Value("detail"),
		recommend: n.Value("recommendation")}
	if src := n.Child("source"); src != nil {
		v.sourceName = producers.FirstNonEmpty(src.Attr("name"), src.Value("name"))
		v.sourceURL = src.Value("url")
	}
	if v.recommend == "" {
		var recs []string
		for _, r := range n.Child("recommendations").All("recommendation") {
			recs = append(recs, strings.TrimSpace(r.Text()))
		}
		v.recommend = strings.Join(recs, "\n")
	}
	for _, r := range n.Child("references").All("reference") {
		v.refs = append(v.refs, reference{id: r.Value("id"), url: r.Child("source").Value("url")})
	}
	for _, r := range n.Child("ratings").All("rating") {
		rt := rating{severity: r.Value("severity"), method: r.Value("method"),
			source: producers.FirstNonEmpty(r.Child("source").Attr("name"), r.Child("source").Value("name"))}
		sc := r.Child("score")
		text := strings.TrimSpace(sc.Text())
		if base := sc.Child("base"); base != nil {
			text = strings.TrimSpace(base.Text())
		}
		if f, err := strconv.ParseFloat(text, 64); err == nil {
			rt.score, rt.hasScore = f, true
		}
		v.ratings = append(v.ratings, rt)
	}
	for _, c := range n.Child("cwes").All("cwe") {
		v.cwes = append(v.cwes, strings.TrimSpace(c.Text()))
	}
	for _, a := range n.Child("advisories").All("advisory") {
		v.advisories = append(v.advisories, producers.FirstNonEmpty(a.Value("url"), strings.TrimSpace(a.Text())))
	}
	if a := n.Child("analysis"); a != nil {
		v.state, v.justification, v.analysisMsg = a.Value("state"), a.Value("justification"), a.Value("detail")
	}
	for _, t := range n.Child("affects").All("target") {
		af := affect{ref: t.Value("ref")}
		for _, ver := range t.Child("versions").All("version") {
			af.versions = append(af.versions, affectedVersion{ver.Value("version"), ver.Value("range"), ver.Value("status")})
		}
		v.affects = append(v.affects, af)
	}
	for _, p := range n.Child("properties").All("property") {
		v.properties = append(v.properties, [2]string{p.Attr("name"), strings.TrimSpace(p.Text())})
	}
	return v
}

// --- issues ---

// issues makes one issue per vulnerability and affected component (a
// vulnerability that names none is one issue against the BOM's subject),
// then the SBOM issue when the BOM lists components.
func (b *bom) issues(data []byte) *producers.Parsed {
	out := &producers.Parsed{}
	subject := producers.FirstNonEmpty(b.metaName, "sbom")
	var toolNote string
	if len(b.tools) > 0 {
		toolNote = strings.TrimSpace(b.tools[0].Name + " " + b.tools[0].Version)
	}
	for _, v := range b.vulns {
		affects := v.affects
		if len(affects) == 0 {
			affects = []affect{{}}
		}
		for _, af := range affects {
			c := af.comp
			if c == nil && af.ref != "" {
				c = b.byRef[af.ref]
			}
			out.Issues = append(out.Issues, v.issue(c, af, subject, toolNote))
		}
	}
	if len(b.components) > 0 {
		bomText := string(data)
		desc := "CycloneDX " + producers.FirstNonEmpty(b.spec, "BOM") + " bill of materials of " + subject
		if toolNote != "" {
			desc += ", written by " + toolNote
		}
		out.Issues = append(out.Issues, &v1.Issue{
			Target:        subject,
			Type:          SBOMType,
			RuleId:        SBOMType,
			Title:         "Software bill of materials: " + strconv.Itoa(len(b.components)) + " components",
			Severity:      v1.Severity_SEVERITY_INFO,
			Description:   desc + ".",
			CycloneDXSBOM: &bomText,
			ToolName:      name,
		})
	}
	return out
}

func (v *vuln) issue(c *component, af affect, subject, toolNote string) *v1.Issue {
	id := producers.FirstNonEmpty(v.id, "unknown")
	target, what := subject, subject
	iss := &v1.Issue{Type: id, RuleId: id, ToolName: name}
	if c != nil {
		what = strings.TrimSpace(c.name + " " + c.version)
		target = producers.FirstNonEmpty(c.purl, componentName(c), af.ref, subject)
		iss.PackageUrl = c.purl
		iss.PackageVersion = c.version
	} else if af.ref != "" {
		target, what = af.ref, af.ref
		if strings.HasPrefix(af.ref, "pkg:") {
			iss.PackageUrl = af.ref
		}
	}
	iss.Target = target
	iss.Title = id + " in " + what
	iss.Severity, iss.Cvss = v.severity()
	if strings.HasPrefix(id, "CVE-") {
		iss.Cve = id
	}
	var refs []string
	addRef := func(u string) {
		if u = strings.TrimSpace(u); u != "" && !contains(refs, u) {
			refs = append(refs, u)
		}
	}
	addRef(v.sourceURL)
	for _, r := range v.refs {
		if r.id != "" && r.id != id && !contains(iss.Aliases, r.id) {
			iss.Aliases = append(iss.Aliases, r.id)
			if iss.Cve == "" && strings.HasPrefix(r.id, "CVE-") {
				iss.Cve = r.id
			}
		}
		addRef(r.url)
	}
	for _, a := range v.advisories {
		addRef(a)
	}
	iss.References = refs
	iss.Cwe = producers.CWEs(v.cwes...)

	ann := map[string]string{}
	if v.sourceName != "" {
		ann["cyclonedx.source"] = v.sourceName
	}
	if toolNote != "" {
		ann["cyclonedx.tool"] = toolNote
	}
	for _, p := range v.properties {
		if p[0] == "grype:fixed_versions" && iss.FixedVersion == "" {
			iss.FixedVersion, _, _ = strings.Cut(p[1], ",")
			iss.FixedVersion = strings.TrimSpace(iss.FixedVersion)
		}
	}
	for _, ver := range af.versions {
		if ver.status == "unaffected" && ver.version != "" && iss.FixedVersion == "" {
			iss.FixedVersion = ver.version
		}
	}
	if v.state != "" {
		ann["cyclonedx.analysis.state"] = v.state
		if v.justification != "" {
			ann["cyclonedx.analysis.justification"] = v.justification
		}
		iss.Tags = append(iss.Tags, v.state)
		// The BOM's own triage (VEX) says how real the finding is.
		switch v.state {
		case "exploitable":
			iss.Confidence = v1.Confidence_CONFIDENCE_HIGH
		case "not_affected", "resolved", "resolved_with_pedigree":
			iss.Confidence = v1.Confidence_CONFIDENCE_LOW
		case "false_positive":
			iss.Confidence = v1.Confidence_CONFIDENCE_INFO
		}
	}
	if len(ann) > 0 {
		iss.Annotations = ann
	}
	var d strings.Builder
	for _, part := range []string{v.description, v.detail} {
		if part = strings.TrimSpace(part); part != "" {
			if d.Len() > 0 {
				d.WriteString("\n\n")
			}
			d.WriteString(part)
		}
	}
	para := func(s string) {
		if d.Len() > 0 {
			d.WriteString("\n\n")
		}
		d.WriteString(s)
	}
	if r := strings.TrimSpace(v.recommend); r != "" {
		para("Recommendation: " + r)
	}
	if v.analysisMsg != "" {
		para("Analysis (" + v.state + "): " + v.analysisMsg)
	}
	var ranges []string
	for _, ver := range af.versions {
		if s := producers.FirstNonEmpty(ver.version, ver.rng); s != "" {
			ranges = append(ranges, strings.TrimSpace(s+" "+ver.status))
		}
	}
	line := "Affects " + what
	if len(ranges) > 0 {
		line += " (" + strings.Join(ranges, "; ") + ")"
	}
	if iss.FixedVersion != "" {
		line += "; fixed in " + iss.FixedVersion
	}
	para(line + ".")
	iss.Description = d.String()
	return iss
}

func componentName(c *component) string {
	n := c.name
	if c.group != "" {
		n = c.group + "/" + n
	}
	if n != "" && c.version != "" {
		n += "@" + c.version
	}
	return n
}

// severity takes the highest of the BOM's ratings (tools list one per
// source: NVD, the distribution, GitHub...); a rating with only a score
// counts by the CVSS bands. No usable rating is MEDIUM: the BOM lists the
// vulnerability as affecting the component, and a severity nobody gave
// must not hide it below the default gate. Cvss is the highest CVSS v3/v4
// score, or the highest score of another method when there is none.
func (v *vuln) severity() (v1.Severity, float64) {
	best := v1.Severity_SEVERITY_UNSPECIFIED
	var cvss3, other float64
	for _, r := range v.ratings {
		s := producers.SeverityFromText(r.severity)
		if s == v1.Severity_SEVERITY_UNSPECIFIED && r.hasScore && r.score > 0 && r.score <= 10 {
			s = producers.SeverityFromCVSS(r.score)
		}
		if s > best {
			best = s
		}
		if r.hasScore && r.score > 0 && r.score <= 10 {
			m := strings.ToUpper(r.method)
			if strings.HasPrefix(m, "CVSSV3") || strings.HasPrefix(m, "CVSSV4") {
				cvss3 = max(cvss3, r.score)
			} else {
				other = max(other, r.score)
			}
		}
	}
	if best == v1.Severity_SEVERITY_UNSPECIFIED {
		best = v1.Severity_SEVERITY_MEDIUM
	}
	if cvss3 > 0 {
		return best, cvss3
	}
	return best, other
}

func contains(ss []string, s string) bool {
	for _, v := range ss {
		if v == s {
			return true
		}
	}
	return false
}
