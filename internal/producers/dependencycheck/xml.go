package dependencycheck

import (
	"errors"
	"strings"

	"github.com/draconsec/dracon/internal/producers"
	"github.com/draconsec/dracon/internal/producers/depkit"
	"github.com/draconsec/dracon/internal/producers/xmltok"
)

// The XML report is read with the producers' shared XML reader, which
// checks that the document is well formed (tags balance, one root,
// attributes quoted, entities known) and skips a DOCTYPE before the root
// without expanding its entities. Element and attribute names are
// compared without their namespace prefix.
var xmlOptions = xmltok.Options{Doctype: xmltok.SkipDoctype}

func parseXML(data []byte) ([]dep, string, error) {
	root, err := xmltok.ParseOptions(data, xmlOptions)
	if err != nil {
		var xe *xmltok.Error
		if errors.As(err, &xe) {
			return nil, "", &producers.ParseError{Tool: name, Offset: int64(xe.Offset), Err: err}
		}
		return nil, "", &producers.ParseError{Tool: name, Offset: -1, Err: err}
	}
	if root.Name != "analysis" {
		return nil, "", &producers.ParseError{Tool: name, Offset: int64(root.Offset),
			Err: errors.New("not a Dependency-Check XML report: the root element is <" + root.Name + ">, not <analysis>")}
	}
	var (
		version string
		deps    []dep
		sawDeps bool
	)
	for _, c := range root.Children {
		switch c.Name {
		case "scanInfo":
			for _, e := range c.All("engineVersion") {
				version = text(e)
			}
		case "dependencies":
			sawDeps = true
			for _, d := range c.All("dependency") {
				deps = append(deps, readDep(d))
			}
		}
	}
	if !sawDeps {
		return nil, "", producers.Errorf(name, "not a Dependency-Check XML report: no <dependencies> in <analysis>")
	}
	return deps, version, nil
}

// text is the trimmed text of n.
func text(n *xmltok.Node) string { return strings.TrimSpace(n.Text()) }

// attr is the value of n's first attribute with that local name.
func attr(n *xmltok.Node, local string) string {
	for _, a := range n.Attrs {
		if a.Name == local {
			return a.Value
		}
	}
	return ""
}

func readDep(n *xmltok.Node) dep {
	var d dep
	for _, c := range n.Children {
		switch c.Name {
		case "fileName":
			d.fileName = text(c)
		case "filePath":
			d.filePath = text(c)
		case "relatedDependencies":
			for _, r := range c.All("relatedDependency") {
				for _, p := range r.All("filePath") {
					d.related = depkit.AppendUnique(d.related, text(p))
				}
			}
		case "identifiers":
			for _, id := range c.Children {
				readIdentifier(&d, id, true)
			}
		case "vulnerabilities":
			for _, v := range c.Children {
				if v.Name == "vulnerability" || v.Name == "suppressedVulnerability" {
					d.vulns = append(d.vulns, readVuln(v))
				}
			}
		case "suppressedVulnerabilities":
			for _, v := range c.All("suppressedVulnerability") {
				d.vulns = append(d.vulns, readVuln(v))
			}
		}
	}
	return d
}

// readIdentifier reads an element anywhere inside <identifiers>: package
// ids that are purls, the legacy <identifier type=...><name>, and the
// best confidence of them all. top is set for the children of
// <identifiers> itself.
func readIdentifier(d *dep, n *xmltok.Node, top bool) {
	switch n.Name {
	case "package", "vulnerabilityIds", "identifier":
		d.confidence = better(d.confidence, attr(n, "confidence"))
	}
	for _, c := range n.Children {
		switch {
		case c.Name == "id" && n.Name == "package":
			if s := text(c); strings.HasPrefix(s, "pkg:") {
				d.purls = depkit.AppendUnique(d.purls, s)
			}
		case c.Name == "name" && top && n.Name == "identifier":
			if purl := legacyPurl(attr(n, "type"), text(c)); purl != "" {
				d.purls = depkit.AppendUnique(d.purls, purl)
			}
		}
		readIdentifier(d, c, false)
	}
}

func readVuln(n *xmltok.Node) vuln {
	v := vuln{source: attr(n, "source"), suppressed: n.Name == "suppressedVulnerability"}
	for _, c := range n.Children {
		switch c.Name {
		case "knownExploitedVulnerability":
			v.kev = true
		case "name":
			v.name = text(c)
		case "severity":
			v.severity = text(c)
		case "description":
			v.description = text(c)
		case "notes":
			v.notes = text(c)
		case "cvssScore":
			v.legacyCVSS = parseScore(text(c))
		case "cvssV2":
			for _, f := range c.Children {
				switch f.Name {
				case "score":
					v.cvss2 = parseScore(text(f))
				case "severity":
					v.sev2 = text(f)
				}
			}
		case "cvssV3":
			for _, f := range c.Children {
				switch f.Name {
				case "baseScore":
					v.cvss3 = parseScore(text(f))
				case "baseSeverity":
					v.sev3 = text(f)
				}
			}
		case "cvssV4":
			for _, f := range c.Children {
				switch f.Name {
				case "baseScore":
					v.cvss4 = parseScore(text(f))
				case "baseSeverity":
					v.sev4 = text(f)
				}
			}
		case "cwe":
			v.cwes = append(v.cwes, text(c))
		case "cwes":
			for _, cwe := range c.All("cwe") {
				v.cwes = append(v.cwes, text(cwe))
			}
		case "references":
			for _, r := range c.All("reference") {
				var url, refName string
				for _, f := range r.Children {
					switch f.Name {
					case "url":
						url = text(f)
					case "name":
						refName = text(f)
					}
				}
				if strings.HasPrefix(url, "http") {
					v.refs = depkit.AppendUnique(v.refs, url)
				} else {
					// Advisories without a url field keep links in the name:
					// "- [Snyk Report](https://snyk.io/vuln/...)".
					v.refs = depkit.AppendUnique(v.refs, depkit.URLs(refName)...)
				}
			}
		case "vulnerableSoftware":
			for _, s := range c.All("software") {
				matched := attr(s, "matched") == "true" || attr(s, "vulnerabilityIdMatched") == "true"
				if end := attr(s, "versionEndExcluding"); matched && end != "" && v.fixed == "" {
					v.fixed = end
				}
			}
		}
	}
	return v
}
