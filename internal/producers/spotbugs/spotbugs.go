// Package spotbugs runs SpotBugs with the Find Security Bugs plugin on
// compiled Java (and Kotlin, Scala, Groovy) classes and parses its XML
// report.
package spotbugs

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/draconsec/dracon/internal/producers"
	"github.com/draconsec/dracon/internal/producers/xmltok"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

const name = "spotbugs"

// Producer is SpotBugs with Find Security Bugs: bytecode analysis of JVM
// programs for bugs and security defects.
var Producer = &producers.Producer{
	Name:      name,
	Aliases:   []string{"findsecbugs", "find-sec-bugs", "java-findsecbugs", "java-spotbugs"},
	Kind:      producers.SAST,
	Languages: []string{"java", "kotlin", "scala", "groovy"},
	Description: "JVM bytecode defects and, with Find Security Bugs, injection, weak crypto, " +
		"path traversal, XXE and other security bugs",
	Formats:  []string{"xml", "sarif"},
	Parse:    Parse,
	Detect:   []string{"pom.xml", "build.gradle", "build.gradle.kts", "*.java"},
	RunsHere: false, // needs a JVM and a compiled project; tested on recorded reports
	Tool: &producers.Tool{
		Binary:  "spotbugs",
		Version: "4.9.8",
		Install: "curl -LO https://github.com/spotbugs/spotbugs/releases/download/4.9.8/spotbugs-4.9.8.tgz && " +
			"tar xzf spotbugs-4.9.8.tgz && curl -L -o spotbugs-4.9.8/plugin/findsecbugs-plugin-1.14.0.jar " +
			"https://repo1.maven.org/maven2/com/h3xstream/findsecbugs/findsecbugs-plugin/1.14.0/findsecbugs-plugin-1.14.0.jar " +
			"&& put spotbugs-4.9.8/bin on PATH",
		// SpotBugs publishes no container image of its own.
		Args: func(src, out string) []string {
			// SpotBugs reads compiled classes: build the project first
			// (mvn package, gradle assemble); "." is searched for .class and
			// .jar files. Find Security Bugs is loaded from SpotBugs' plugin
			// folder. -xml:withMessages adds titles and messages; -low and
			// -effort:max report every priority so Dracon's policy decides;
			// -noClassOk writes an empty report for a tree with no classes.
			return []string{"-textui", "-effort:max", "-low", "-xml:withMessages", "-noClassOk",
				"-output", out, "."}
		},
		VersionArgs: []string{"-textui", "-version"},
	},
}

// What Dracon reads of a report; everything else is skipped.

type bugInstance struct {
	Type, Priority, Rank, Abbrev, Category string
	InstanceHash, Occurrence, CWEID        string
	ShortMessage, LongMessage              string
	Classes, Methods                       []member
	SourceLines                            []sourceLine
	offset                                 int
}

// member is a Class or Method annotation of a bug.
type member struct {
	Classname, Name string
	Primary         bool
	SourceLine      *sourceLine
}

type sourceLine struct {
	Start, End, SourceFile, SourcePath string
	Primary                            bool
}

type bugPattern struct {
	Type, CWEID, ShortDescription string
}

// Parse reads SpotBugs' XML report (-xml or -xml:withMessages; FindBugs'
// BugCollection format).
func Parse(data []byte) (*producers.Parsed, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, &producers.ParseError{Tool: name, Offset: -1, Err: producers.ErrEmpty}
	}
	data, err := toUTF8(data)
	if err != nil {
		return nil, &producers.ParseError{Tool: name, Offset: 0, Err: err}
	}
	root, err := xmltok.ParseOptions(data, xmlOptions)
	if err != nil {
		var xe *xmltok.Error
		if errors.As(err, &xe) {
			return nil, &producers.ParseError{Tool: name, Offset: int64(xe.Offset), Err: err}
		}
		return nil, &producers.ParseError{Tool: name, Offset: -1, Err: err}
	}
	if !is(root, "BugCollection") {
		return nil, producers.Errorf(name, "not a SpotBugs XML report: root element is <%s>, want <BugCollection>", validUTF8(root.QName()))
	}
	version := validUTF8(root.Attr("version"))
	bugs := make([]bugInstance, 0, len(root.Children))
	patterns := map[string]*bugPattern{}
	for _, c := range root.Children {
		switch {
		case is(c, "BugInstance"):
			b, err := readBugInstance(c)
			if err != nil {
				return nil, err
			}
			bugs = append(bugs, b)
		case is(c, "BugPattern"):
			bp := readBugPattern(c)
			patterns[bp.Type] = bp
		}
		// Project, Errors, FindBugsSummary, ClassFeatures, ...: not findings.
	}
	out := &producers.Parsed{ToolVersion: version, Issues: make([]*v1.Issue, 0, len(bugs))}
	for i := range bugs {
		b := &bugs[i]
		out.Issues = append(out.Issues, toIssue(b, patterns[b.Type], version))
	}
	return out, nil
}

// xmlOptions: SpotBugs reports may carry a DOCTYPE, and message text
// keeps its spacing (clean collapses it later).
var xmlOptions = xmltok.Options{Doctype: xmltok.SkipDoctype, KeepSpace: true}

// is reports whether n is the element written <name> (without a prefix).
func is(n *xmltok.Node, name string) bool { return n.Prefix == "" && n.Name == name }

// eachAttr calls f with the name and value of every unprefixed attribute
// of n.
func eachAttr(n *xmltok.Node, f func(name, value string)) {
	for _, a := range n.Attrs {
		if a.Prefix == "" {
			f(a.Name, validUTF8(a.Value))
		}
	}
}

func readBugInstance(n *xmltok.Node) (bugInstance, error) {
	b := bugInstance{offset: n.Offset}
	eachAttr(n, func(k, v string) {
		switch k {
		case "type":
			b.Type = v
		case "priority":
			b.Priority = v
		case "rank":
			b.Rank = v
		case "abbrev":
			b.Abbrev = v
		case "category":
			b.Category = v
		case "instanceHash":
			b.InstanceHash = v
		case "instanceOccurrenceNum":
			b.Occurrence = v
		case "cweid":
			b.CWEID = v
		}
	})
	if b.Type == "" {
		return b, &producers.ParseError{Tool: name, Offset: int64(b.offset), Err: errors.New(`<BugInstance> has no "type"`)}
	}
	for _, c := range n.Children {
		if c.Prefix != "" {
			continue
		}
		switch c.Name {
		case "ShortMessage":
			b.ShortMessage = validUTF8(c.DeepText())
		case "LongMessage":
			b.LongMessage = validUTF8(c.DeepText())
		case "Class", "Method":
			var m member
			eachAttr(c, func(k, v string) {
				switch k {
				case "classname":
					m.Classname = v
				case "name":
					m.Name = v
				case "primary":
					m.Primary = v == "true"
				}
			})
			// The first SourceLine inside a Class or Method is where it is.
			for _, sl := range c.Children {
				if is(sl, "SourceLine") {
					l := readSourceLine(sl)
					m.SourceLine = &l
					break
				}
			}
			if c.Name == "Class" {
				b.Classes = append(b.Classes, m)
			} else {
				b.Methods = append(b.Methods, m)
			}
		case "SourceLine":
			b.SourceLines = append(b.SourceLines, readSourceLine(c))
		}
	}
	return b, nil
}

func readSourceLine(n *xmltok.Node) sourceLine {
	var sl sourceLine
	eachAttr(n, func(k, v string) {
		switch k {
		case "start":
			sl.Start = v
		case "end":
			sl.End = v
		case "sourcefile":
			sl.SourceFile = v
		case "sourcepath":
			sl.SourcePath = v
		case "primary":
			sl.Primary = v == "true"
		}
	})
	return sl
}

func readBugPattern(n *xmltok.Node) *bugPattern {
	bp := &bugPattern{}
	eachAttr(n, func(k, v string) {
		switch k {
		case "type":
			bp.Type = v
		case "cweid":
			bp.CWEID = v
		}
	})
	for _, c := range n.Children {
		if is(c, "ShortDescription") {
			bp.ShortDescription = validUTF8(c.DeepText())
		}
	}
	return bp
}

// validUTF8 makes a string safe for protobuf, which requires UTF-8.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

func toIssue(b *bugInstance, p *bugPattern, version string) *v1.Issue {
	sl, cls, meth := primary(b)
	path := ""
	start, end := 0, 0
	if sl != nil {
		path = producers.FirstNonEmpty(sl.SourcePath, sl.SourceFile)
		start, end = producers.Atoi(sl.Start), producers.Atoi(sl.End)
	}
	if path == "" && cls != "" {
		// No source line at all: name the class as Java lays it out.
		path = strings.ReplaceAll(strings.SplitN(cls, "$", 2)[0], ".", "/") + ".java"
	}
	if path == "" {
		path = b.Type
	}
	iss := &v1.Issue{
		Target:      producers.Target(path, start, end),
		Type:        b.Type,
		RuleId:      b.Type,
		Title:       producers.FirstNonEmpty(clean(b.ShortMessage), patternTitle(p), b.Type),
		Severity:    Severity(b.Rank, b.Priority),
		Confidence:  Confidence(b.Priority),
		Description: producers.FirstNonEmpty(clean(b.LongMessage), describe(b, cls, meth)),
		Location:    producers.Loc(path, start, end),
		ToolName:    name,
		ToolVersion: version,
	}
	cwe := b.CWEID
	if cwe == "" && p != nil {
		cwe = p.CWEID
	}
	if cwe != "" && cwe != "0" {
		iss.Cwe = producers.CWEs(cwe)
	}
	if b.Category != "" {
		iss.Tags = append(iss.Tags, b.Category)
	}
	if b.Abbrev != "" {
		iss.Tags = append(iss.Tags, b.Abbrev)
	}
	if strings.HasPrefix(b.Abbrev, "SEC") {
		// Find Security Bugs' patterns all have a "SEC..." abbreviation.
		iss.References = []string{"https://find-sec-bugs.github.io/bugs.htm#" + b.Type}
	} else {
		iss.References = []string{"https://spotbugs.readthedocs.io/en/stable/bugDescriptions.html"}
	}
	if b.InstanceHash != "" {
		iss.Fingerprint = b.InstanceHash + "/" + producers.FirstNonEmpty(b.Occurrence, "0")
	}
	return iss
}

// primary picks the bug's main source line: the SourceLine child marked
// primary, else the first SourceLine child with a line number, else the
// primary method's, else the primary class's. It also returns the class
// and method names for a description.
func primary(b *bugInstance) (sl *sourceLine, class, method string) {
	pick := func(ms []member) *member {
		for i := range ms {
			if ms[i].Primary {
				return &ms[i]
			}
		}
		if len(ms) > 0 {
			return &ms[0]
		}
		return nil
	}
	c, m := pick(b.Classes), pick(b.Methods)
	if c != nil {
		class = c.Classname
	}
	if m != nil {
		method = m.Name
		if class == "" {
			class = m.Classname
		}
	}
	for i := range b.SourceLines {
		if b.SourceLines[i].Primary {
			return &b.SourceLines[i], class, method
		}
	}
	for i := range b.SourceLines {
		if b.SourceLines[i].Start != "" {
			return &b.SourceLines[i], class, method
		}
	}
	if m != nil && m.SourceLine != nil {
		return m.SourceLine, class, method
	}
	if c != nil && c.SourceLine != nil {
		return c.SourceLine, class, method
	}
	if len(b.SourceLines) > 0 {
		return &b.SourceLines[0], class, method
	}
	return nil, class, method
}

// Severity maps SpotBugs' bug rank (1 = scariest ... 20) onto Dracon's
// scale using SpotBugs' own rank categories: scariest (1-4) is CRITICAL,
// scary (5-9) HIGH, troubling (10-14) MEDIUM, of concern (15-20) LOW.
// Reports without a rank (FindBugs before 2.0) fall back to the priority:
// 1 HIGH, 2 MEDIUM, 3 LOW, 4-5 (experimental, ignore) INFO; with neither,
// MEDIUM.
func Severity(rank, priority string) v1.Severity {
	if r, err := strconv.Atoi(strings.TrimSpace(rank)); err == nil && r > 0 {
		switch {
		case r <= 4:
			return v1.Severity_SEVERITY_CRITICAL
		case r <= 9:
			return v1.Severity_SEVERITY_HIGH
		case r <= 14:
			return v1.Severity_SEVERITY_MEDIUM
		default:
			return v1.Severity_SEVERITY_LOW
		}
	}
	switch strings.TrimSpace(priority) {
	case "1":
		return v1.Severity_SEVERITY_HIGH
	case "2":
		return v1.Severity_SEVERITY_MEDIUM
	case "3":
		return v1.Severity_SEVERITY_LOW
	case "4", "5":
		return v1.Severity_SEVERITY_INFO
	}
	return v1.Severity_SEVERITY_MEDIUM
}

// Confidence maps SpotBugs' priority, which is how sure the detector is:
// 1 (high) HIGH, 2 (normal) MEDIUM, 3 (low) LOW, 4-5 (experimental,
// ignore) INFO.
func Confidence(priority string) v1.Confidence {
	switch strings.TrimSpace(priority) {
	case "1":
		return v1.Confidence_CONFIDENCE_HIGH
	case "2":
		return v1.Confidence_CONFIDENCE_MEDIUM
	case "3":
		return v1.Confidence_CONFIDENCE_LOW
	case "4", "5":
		return v1.Confidence_CONFIDENCE_INFO
	}
	return v1.Confidence_CONFIDENCE_UNSPECIFIED
}

func patternTitle(p *bugPattern) string {
	if p == nil {
		return ""
	}
	return clean(p.ShortDescription)
}

// describe builds a description for reports written without messages
// (plain -xml): the pattern, its category and where it is.
func describe(b *bugInstance, class, method string) string {
	s := b.Type
	if b.Category != "" {
		s += " (" + b.Category + ")"
	}
	switch {
	case class != "" && method != "":
		s += " in " + class + "." + method
	case class != "":
		s += " in " + class
	}
	return s
}

func clean(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// toUTF8 strips a UTF-8 byte order mark and converts a report declared as
// ISO-8859-1 (older FindBugs wrote them) to UTF-8. Other encodings are an
// error: SpotBugs writes UTF-8.
func toUTF8(data []byte) ([]byte, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	head := bytes.TrimLeft(data, " \t\r\n")
	if !bytes.HasPrefix(head, []byte("<?xml")) {
		return data, nil
	}
	end := bytes.Index(head, []byte("?>"))
	if end < 0 {
		return data, nil // the scanner reports the unclosed declaration
	}
	decl := string(head[:end])
	i := strings.Index(decl, "encoding")
	if i < 0 {
		return data, nil
	}
	rest := strings.TrimLeft(decl[i+len("encoding"):], " \t\r\n")
	rest = strings.TrimLeft(strings.TrimPrefix(rest, "="), " \t\r\n")
	if rest == "" || (rest[0] != '"' && rest[0] != '\'') {
		return nil, errors.New("malformed encoding in the XML declaration")
	}
	label, _, ok := strings.Cut(rest[1:], rest[:1])
	if !ok {
		return nil, errors.New("malformed encoding in the XML declaration")
	}
	switch strings.ToLower(strings.TrimSpace(label)) {
	case "utf-8", "utf8", "us-ascii", "ascii":
		return data, nil
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1":
		out := make([]byte, 0, len(data)+len(data)/8)
		for _, c := range data {
			out = utf8.AppendRune(out, rune(c))
		}
		return out, nil
	}
	return nil, fmt.Errorf("unsupported encoding %q (SpotBugs writes UTF-8)", label)
}
