package dependencycheck

import (
	"errors"
	"strings"

	"github.com/draconsec/dracon/internal/producers"
	"github.com/draconsec/dracon/internal/producers/depkit"
)

// xmlParser walks the report once, keeping the element stack in the
// reader and the text of the current element in parts.
type xmlParser struct {
	r     *xmlReader
	parts []textPart
	buf   []byte

	version string
	deps    []dep
	sawDeps bool

	cur     *dep
	depAt   int // depth of <dependency>
	v       *vuln
	vulnAt  int // depth of <vulnerability> or <suppressedVulnerability>
	idType  string
	refURL  string
	refName string
	matched bool
	endExcl string
}

type textPart struct {
	raw   []byte
	cdata bool
}

func parseXML(data []byte) ([]dep, string, error) {
	p := &xmlParser{r: newXMLReader(data)}
	if err := p.run(); err != nil {
		var xe *xmlError
		if errors.As(err, &xe) {
			return nil, "", &producers.ParseError{Tool: name, Offset: int64(xe.offset), Err: err}
		}
		return nil, "", &producers.ParseError{Tool: name, Offset: int64(p.r.pos), Err: err}
	}
	if !p.sawDeps {
		return nil, "", producers.Errorf(name, "not a Dependency-Check XML report: no <dependencies> in <analysis>")
	}
	return p.deps, p.version, nil
}

func (p *xmlParser) run() error {
	r := p.r
	for {
		tok, err := r.next()
		if err != nil {
			return err
		}
		switch tok {
		case tokEOF:
			return nil
		case tokText:
			p.parts = append(p.parts, textPart{r.text, r.cdata})
		case tokStart:
			p.parts = p.parts[:0]
			if err := p.start(); err != nil {
				return err
			}
		case tokEnd:
			if err := p.end(); err != nil {
				return err
			}
			p.parts = p.parts[:0]
		}
	}
}

// at reports whether the open elements from depth from+1 on are want.
func (p *xmlParser) at(from int, want ...string) bool {
	r := p.r
	if r.depth() != from+len(want) {
		return false
	}
	for i, w := range want {
		if string(r.nameAt(from+1+i)) != w {
			return false
		}
	}
	return true
}

// text is the decoded text of the element that just ended.
func (p *xmlParser) text() (string, error) {
	if len(p.parts) == 1 && p.parts[0].cdata {
		return strings.TrimSpace(string(p.parts[0].raw)), nil
	}
	if len(p.parts) == 1 {
		s, err := decodeEntities(p.parts[0].raw)
		return strings.TrimSpace(s), err
	}
	p.buf = p.buf[:0]
	for _, t := range p.parts {
		if t.cdata {
			p.buf = append(p.buf, t.raw...)
			continue
		}
		s, err := decodeEntities(t.raw)
		if err != nil {
			return "", err
		}
		p.buf = append(p.buf, s...)
	}
	return strings.TrimSpace(string(p.buf)), nil
}

func (p *xmlParser) start() error {
	r := p.r
	d := r.depth()
	if d == 1 {
		if string(r.nameAt(1)) != "analysis" {
			return errors.New("not a Dependency-Check XML report: the root element is <" + string(r.nameAt(1)) + ">, not <analysis>")
		}
		return nil
	}
	if p.at(0, "analysis", "dependencies") {
		p.sawDeps = true
		return nil
	}
	if p.at(0, "analysis", "dependencies", "dependency") {
		p.deps = append(p.deps, dep{})
		p.cur = &p.deps[len(p.deps)-1]
		p.depAt = d
		return nil
	}
	if p.cur == nil {
		return nil
	}
	if p.v != nil {
		return p.startInVuln()
	}
	at := p.depAt
	switch {
	case p.at(at, "vulnerabilities", "vulnerability"),
		p.at(at, "vulnerabilities", "suppressedVulnerability"),
		p.at(at, "suppressedVulnerabilities", "suppressedVulnerability"):
		src, err := r.attr("source")
		if err != nil {
			return err
		}
		p.cur.vulns = append(p.cur.vulns, vuln{source: src, suppressed: string(r.nameAt(d)) == "suppressedVulnerability"})
		p.v = &p.cur.vulns[len(p.cur.vulns)-1]
		p.vulnAt = d
	case d > at+1 && string(r.nameAt(at+1)) == "identifiers":
		switch string(r.nameAt(d)) {
		case "package", "vulnerabilityIds", "identifier":
			c, err := r.attr("confidence")
			if err != nil {
				return err
			}
			p.cur.confidence = better(p.cur.confidence, c)
			if string(r.nameAt(d)) == "identifier" {
				if p.idType, err = r.attr("type"); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (p *xmlParser) startInVuln() error {
	r := p.r
	at := p.vulnAt
	switch {
	case p.at(at, "knownExploitedVulnerability"):
		p.v.kev = true
	case p.at(at, "references", "reference"):
		p.refURL, p.refName = "", ""
	case p.at(at, "vulnerableSoftware", "software"):
		m1, err := r.attr("matched")
		if err != nil {
			return err
		}
		m2, err := r.attr("vulnerabilityIdMatched")
		if err != nil {
			return err
		}
		p.matched = m1 == "true" || m2 == "true"
		if p.endExcl, err = r.attr("versionEndExcluding"); err != nil {
			return err
		}
	}
	return nil
}

func (p *xmlParser) end() error {
	r := p.r
	d := r.depth()
	if p.cur == nil {
		if p.at(0, "analysis", "scanInfo", "engineVersion") {
			s, err := p.text()
			p.version = s
			return err
		}
		return nil
	}
	if d == p.depAt {
		p.cur = nil
		return nil
	}
	if p.v != nil {
		if d == p.vulnAt {
			p.v = nil
			return nil
		}
		return p.endInVuln()
	}
	at := p.depAt
	switch {
	case p.at(at, "fileName"):
		s, err := p.text()
		p.cur.fileName = s
		return err
	case p.at(at, "filePath"):
		s, err := p.text()
		p.cur.filePath = s
		return err
	case p.at(at, "relatedDependencies", "relatedDependency", "filePath"):
		s, err := p.text()
		p.cur.related = depkit.AppendUnique(p.cur.related, s)
		return err
	case d > at+2 && string(r.nameAt(at+1)) == "identifiers" &&
		string(r.nameAt(d-1)) == "package" && string(r.nameAt(d)) == "id":
		s, err := p.text()
		if strings.HasPrefix(s, "pkg:") {
			p.cur.purls = depkit.AppendUnique(p.cur.purls, s)
		}
		return err
	case p.at(at, "identifiers", "identifier", "name"):
		s, err := p.text()
		if purl := legacyPurl(p.idType, s); purl != "" {
			p.cur.purls = depkit.AppendUnique(p.cur.purls, purl)
		}
		return err
	}
	return nil
}

func (p *xmlParser) endInVuln() error {
	at := p.vulnAt
	v := p.v
	var dst *string
	var score *float64
	switch {
	case p.at(at, "name"):
		dst = &v.name
	case p.at(at, "severity"):
		dst = &v.severity
	case p.at(at, "description"):
		dst = &v.description
	case p.at(at, "notes"):
		dst = &v.notes
	case p.at(at, "cvssScore"):
		score = &v.legacyCVSS
	case p.at(at, "cvssV2", "score"):
		score = &v.cvss2
	case p.at(at, "cvssV2", "severity"):
		dst = &v.sev2
	case p.at(at, "cvssV3", "baseScore"):
		score = &v.cvss3
	case p.at(at, "cvssV3", "baseSeverity"):
		dst = &v.sev3
	case p.at(at, "cvssV4", "baseScore"):
		score = &v.cvss4
	case p.at(at, "cvssV4", "baseSeverity"):
		dst = &v.sev4
	case p.at(at, "cwe"), p.at(at, "cwes", "cwe"):
		s, err := p.text()
		v.cwes = append(v.cwes, s)
		return err
	case p.at(at, "references", "reference", "url"):
		dst = &p.refURL
	case p.at(at, "references", "reference"):
		if strings.HasPrefix(p.refURL, "http") {
			v.refs = depkit.AppendUnique(v.refs, p.refURL)
		} else {
			// Advisories without a url field keep links in the name:
			// "- [Snyk Report](https://snyk.io/vuln/...)".
			v.refs = depkit.AppendUnique(v.refs, depkit.URLs(p.refName)...)
		}
	case p.at(at, "references", "reference", "name"):
		dst = &p.refName
	case p.at(at, "vulnerableSoftware", "software"):
		if p.matched && p.endExcl != "" && v.fixed == "" {
			v.fixed = p.endExcl
		}
	}
	if dst == nil && score == nil {
		return nil
	}
	s, err := p.text()
	if err != nil {
		return err
	}
	if dst != nil {
		*dst = s
	} else {
		*score = parseScore(s)
	}
	return nil
}
