// Package govulncheck runs golang.org/x/vuln's govulncheck on a Go module
// and parses its JSON report: known vulnerabilities of the dependencies and
// the standard library, and whether the code really calls them.
package govulncheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/draconsec/dracon/internal/producers"
	"github.com/draconsec/dracon/internal/producers/depkit"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

const name = "govulncheck"

// DBEnv names the environment variable that points govulncheck at another
// vulnerability database: a URL (https://..., file:///...) or a local
// folder in the Go vulnerability database layout. Unset, govulncheck uses
// its default, https://vuln.go.dev.
const DBEnv = "DRACON_GOVULNDB"

// Producer is govulncheck: known vulnerabilities in Go modules, ranked by
// whether the code calls the vulnerable function.
var Producer = &producers.Producer{
	Name:         name,
	Kind:         producers.SCA,
	Languages:    []string{"go"},
	Description:  "known vulnerabilities in Go dependencies and the standard library, and whether the code calls them",
	Formats:      []string{"json", "sarif"},
	Parse:        Parse,
	Detect:       []string{"go.mod"},
	DetectAtRoot: true,
	RunsHere:     true,
	Tool: &producers.Tool{
		Binary:    "govulncheck",
		Network:   true, // it fetches its vulnerability data
		Version:   "v1.9.0",
		GoPackage: "golang.org/x/vuln/cmd/govulncheck",
		// No official container image: govulncheck needs the Go toolchain
		// of the module it scans, so it runs where Go is installed.
		Args: func(src, out string) []string {
			args := []string{"-format", "json"}
			if db := os.Getenv(DBEnv); db != "" {
				args = append(args, "-db", dbURL(db))
			}
			return append(args, "./...")
		},
		Targets: 1, // "./..." stays last
		// -format json writes the report to standard output.
		Stdout: true,
		// 3 is "vulnerabilities found" (text mode; JSON mode exits 0).
		OKExitCodes: []int{3},
		VersionArgs: []string{"-version"},
	},
}

// dbURL turns a folder into the file:// URL govulncheck's -db wants.
func dbURL(db string) string {
	if strings.Contains(db, "://") {
		return db
	}
	if abs, err := filepath.Abs(db); err == nil {
		db = abs
	}
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(db)}).String()
}

// message is one object of govulncheck's -json stream (protocol v1.0.0).
// The pre-1.0 report (govulncheck 0.x) is one object with "Vulns"; its
// keys are here too so the first object tells the two apart.
type message struct {
	Config   *config  `json:"config"`
	OSV      *entry   `json:"osv"`
	Finding  *finding `json:"finding"`
	Progress *struct {
		Message string `json:"message"`
	} `json:"progress"`
	SBOM json.RawMessage `json:"SBOM"`

	Vulns json.RawMessage `json:"Vulns"` // govulncheck 0.x
	Runs  json.RawMessage `json:"runs"`  // SARIF
}

type config struct {
	ProtocolVersion string `json:"protocol_version"`
	ScannerName     string `json:"scanner_name"`
	ScannerVersion  string `json:"scanner_version"`
	DB              string `json:"db"`
	ScanLevel       string `json:"scan_level"`
}

// entry is an OSV entry, only the fields Dracon reads.
type entry struct {
	ID       string          `json:"id"`
	Aliases  []string        `json:"aliases"`
	Summary  string          `json:"summary"`
	Details  string          `json:"details"`
	Severity json.RawMessage `json:"severity"`
	Affected []struct {
		Package struct {
			Name      string `json:"name"`
			Ecosystem string `json:"ecosystem"`
		} `json:"package"`
		Ranges []struct {
			Type   string `json:"type"`
			Events []struct {
				Introduced *string `json:"introduced"`
				Fixed      *string `json:"fixed"`
			} `json:"events"`
		} `json:"ranges"`
		DatabaseSpecific struct {
			URL string `json:"url"`
		} `json:"database_specific"`
	} `json:"affected"`
	References []struct {
		Type string `json:"type"`
		URL  string `json:"url"`
	} `json:"references"`
	DatabaseSpecific struct {
		URL      string `json:"url"`
		Severity string `json:"severity"`
	} `json:"database_specific"`
}

type finding struct {
	OSV          string  `json:"osv"`
	FixedVersion string  `json:"fixed_version"`
	Trace        []frame `json:"trace"`
}

type frame struct {
	Module   string    `json:"module"`
	Version  string    `json:"version"`
	Package  string    `json:"package"`
	Function string    `json:"function"`
	Receiver string    `json:"receiver"`
	Position *position `json:"position"`
}

type position struct {
	Filename string `json:"filename"`
	Line     int    `json:"line"`
	Column   int    `json:"column"`
}

// level is how far govulncheck followed a vulnerability into the code.
type level int

const (
	moduleLevel  level = iota + 1 // a required module is vulnerable
	packageLevel                  // a vulnerable package is imported
	symbolLevel                   // a vulnerable function is called
)

func (l level) String() string {
	switch l {
	case symbolLevel:
		return "symbol"
	case packageLevel:
		return "package"
	default:
		return "module"
	}
}

// tag says what the level means for the code.
func (l level) tag() string {
	switch l {
	case symbolLevel:
		return "called"
	case packageLevel:
		return "imported"
	default:
		return "required"
	}
}

// Govulncheck gives no severity (the Go vulnerability database has none),
// so reachability decides: a called vulnerable function is HIGH, an
// imported vulnerable package MEDIUM, a merely required module LOW.
func (l level) severity() v1.Severity {
	switch l {
	case symbolLevel:
		return v1.Severity_SEVERITY_HIGH
	case packageLevel:
		return v1.Severity_SEVERITY_MEDIUM
	default:
		return v1.Severity_SEVERITY_LOW
	}
}

func (l level) confidence() v1.Confidence {
	switch l {
	case symbolLevel:
		return v1.Confidence_CONFIDENCE_HIGH
	case packageLevel:
		return v1.Confidence_CONFIDENCE_MEDIUM
	default:
		return v1.Confidence_CONFIDENCE_LOW
	}
}

func (f *finding) level() level {
	if len(f.Trace) == 0 {
		return moduleLevel
	}
	switch t := f.Trace[0]; {
	case t.Function != "":
		return symbolLevel
	case t.Package != "":
		return packageLevel
	default:
		return moduleLevel
	}
}

// Parse reads govulncheck's JSON: the -json / -format json stream of
// messages (config, SBOM, progress, osv, finding), the same messages as
// one JSON array, or the single object govulncheck 0.x wrote. It makes one
// issue per OSV entry that has a finding, from its deepest finding.
func Parse(data []byte) (*producers.Parsed, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, &producers.ParseError{Tool: name, Offset: -1, Err: producers.ErrEmpty}
	}
	var objs []object
	if trimmed[0] == '[' {
		var list []json.RawMessage
		if err := producers.DecodeJSON(name, data, &list); err != nil {
			return nil, err
		}
		for _, m := range list {
			objs = append(objs, object{off: -1, data: m})
		}
	} else {
		var err error
		if objs, err = split(data); err != nil {
			return nil, err
		}
	}
	if len(objs) == 0 {
		return nil, producers.Errorf(name, "not a govulncheck JSON report: no messages")
	}
	var first message
	if err := objs[0].decode(0, &first); err != nil {
		return nil, err
	}
	switch {
	case first.Vulns != nil && len(objs) == 1:
		return parseLegacy(data)
	case first.Runs != nil:
		return nil, producers.Errorf(name, "this is govulncheck's SARIF output (-format sarif): read it with the sarif producer")
	case first.Config == nil:
		return nil, producers.Errorf(name, `not a govulncheck JSON report: the first message has no "config"`)
	case first.Config.ScannerName != "" && first.Config.ScannerName != name:
		return nil, producers.Errorf(name, "not a govulncheck JSON report: scanner_name is %q", first.Config.ScannerName)
	}
	return build(first.Config, objs)
}

// object is one message of the report and where it starts (-1: unknown).
type object struct {
	off  int
	data []byte
}

// decode reads the whole message; errors give the offset in the report.
func (o object) decode(n int, v any) error {
	err := json.Unmarshal(o.data, v)
	if err == nil {
		return nil
	}
	off := int64(o.off)
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	if o.off >= 0 {
		switch {
		case errors.As(err, &syn):
			off += syn.Offset
		case errors.As(err, &typ):
			off += typ.Offset
		}
	}
	return &producers.ParseError{Tool: name, Offset: off, Err: fmt.Errorf("message %d: %w", n+1, err)}
}

// check makes sure a message that is not decoded is still valid JSON.
func (o object) check(n int) error {
	if json.Valid(o.data) {
		return nil
	}
	var v any
	return o.decode(n, &v)
}

// split cuts govulncheck's stream of concatenated JSON objects apart. It
// only follows strings and nesting, which is much cheaper than decoding;
// every piece is then decoded or validated by encoding/json. Most of a
// report is OSV entries for advisories with no finding, which are only
// validated, so the report is not decoded twice.
func split(data []byte) ([]object, error) {
	var objs []object
	i, n := 0, len(data)
	for {
		for i < n && (data[i] == ' ' || data[i] == '\n' || data[i] == '\r' || data[i] == '\t') {
			i++
		}
		if i == n {
			return objs, nil
		}
		if data[i] != '{' {
			return nil, &producers.ParseError{Tool: name, Offset: int64(i),
				Err: fmt.Errorf("message %d is not a JSON object", len(objs)+1)}
		}
		start, depth, inString := i, 0, false
	scan:
		for ; i < n; i++ {
			c := data[i]
			if inString {
				switch c {
				case '\\':
					i++
				case '"':
					inString = false
				}
				continue
			}
			switch c {
			case '"':
				inString = true
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					i++
					break scan
				}
			}
		}
		if depth != 0 || inString {
			return nil, &producers.ParseError{Tool: name, Offset: int64(start),
				Err: fmt.Errorf("message %d is cut short", len(objs)+1)}
		}
		objs = append(objs, object{off: start, data: data[start:i]})
	}
}

// firstKey returns the first key of a JSON object, cheaply: govulncheck's
// messages have one key that names their kind.
func firstKey(obj []byte) string {
	i := 1
	for i < len(obj) && (obj[i] == ' ' || obj[i] == '\n' || obj[i] == '\r' || obj[i] == '\t') {
		i++
	}
	if i >= len(obj) || obj[i] != '"' {
		return ""
	}
	end := bytes.IndexByte(obj[i+1:], '"')
	if end < 0 {
		return ""
	}
	return string(obj[i+1 : i+1+end])
}

// osvID reads the "id" of an {"osv": {...}} message without decoding the
// rest: it is one of the first keys of an OSV entry.
func osvID(obj []byte) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(obj))
	for _, want := range []any{json.Delim('{'), "osv", json.Delim('{')} {
		if tok, err := dec.Token(); err != nil || tok != want {
			return "", false
		}
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return "", false
		}
		if key == "id" {
			var id string
			if dec.Decode(&id) != nil {
				return "", false
			}
			return id, true
		}
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return "", false
		}
	}
	return "", false
}

// group is one OSV entry and its findings.
type group struct {
	entry    *entry
	findings []*finding
}

func build(cfg *config, objs []object) (*producers.Parsed, error) {
	out := &producers.Parsed{ToolVersion: cfg.ScannerVersion}
	groups := map[string]*group{}
	var order []string
	type osvObj struct {
		n  int
		id string
	}
	var osvs []osvObj
	for n := 1; n < len(objs); n++ {
		o := objs[n]
		switch firstKey(o.data) {
		case "osv":
			if id, ok := osvID(o.data); ok {
				osvs = append(osvs, osvObj{n, id})
				continue
			}
		case "SBOM", "progress":
			if err := o.check(n); err != nil {
				return nil, err
			}
			continue
		}
		var m message
		if err := o.decode(n, &m); err != nil {
			return nil, err
		}
		if m.OSV != nil {
			osvs = append(osvs, osvObj{n, m.OSV.ID})
		}
		if f := m.Finding; f != nil {
			if f.OSV == "" {
				f.OSV = "unknown" // a finding that names no advisory is still one
			}
			g := groups[f.OSV]
			if g == nil {
				g = &group{}
				groups[f.OSV] = g
				order = append(order, f.OSV)
			}
			g.findings = append(g.findings, f)
		}
	}
	// OSV entries are decoded only for advisories with findings; the rest
	// (govulncheck sends every advisory of every required module) are
	// only checked to be valid JSON.
	for _, o := range osvs {
		g := groups[o.id]
		if g == nil || g.entry != nil {
			if err := objs[o.n].check(o.n); err != nil {
				return nil, err
			}
			continue
		}
		var m message
		if err := objs[o.n].decode(o.n, &m); err != nil {
			return nil, err
		}
		g.entry = m.OSV
	}
	out.Issues = make([]*v1.Issue, 0, len(order))
	for _, id := range order {
		out.Issues = append(out.Issues, groups[id].issue(id, cfg.ScannerVersion))
	}
	return out, nil
}

// issue builds the issue of one OSV entry from its deepest finding: a call
// beats an import, which beats a requirement.
func (g *group) issue(id, version string) *v1.Issue {
	best := g.findings[0]
	for _, f := range g.findings[1:] {
		if f.level() > best.level() {
			best = f
		}
	}
	lvl := best.level()
	var mod, modVersion string
	if len(best.Trace) > 0 {
		mod, modVersion = best.Trace[0].Module, best.Trace[0].Version
	}
	var calls []string
	var loc *v1.Location
	if lvl == symbolLevel {
		seen := map[string]bool{}
		for _, f := range g.findings {
			if f.level() != symbolLevel {
				continue
			}
			site, l := callSite(f)
			if loc == nil {
				loc = l
			}
			if !seen[site] {
				seen[site] = true
				calls = append(calls, site)
			}
		}
	}
	var pkgs []string
	if lvl == packageLevel {
		for _, f := range g.findings {
			if f.level() == packageLevel && !contains(pkgs, f.Trace[0].Package) {
				pkgs = append(pkgs, f.Trace[0].Package)
			}
		}
	}
	iss := newIssue(id, g.entry, mod, modVersion, best.FixedVersion, lvl, version)
	iss.Location = loc
	iss.Description = describe(g.entry, mod, modVersion, best.FixedVersion, lvl, calls, pkgs)
	return iss
}

// callSite names the vulnerable symbol and where the code reaches it: the
// last frame of a trace is the entry point in the scanned module.
func callSite(f *finding) (string, *v1.Location) {
	sym := symbol(f.Trace[0])
	var user *frame
	for i := len(f.Trace) - 1; i > 0; i-- {
		if f.Trace[i].Position != nil && f.Trace[i].Position.Filename != "" {
			user = &f.Trace[i]
			break
		}
	}
	if user == nil {
		return sym, nil
	}
	p := user.Position
	site := sym + " called from " + symbol(*user) + " at " + p.Filename + ":" + strconv.Itoa(p.Line)
	loc := producers.Loc(p.Filename, p.Line, p.Line)
	if p.Column > 0 {
		loc.StartColumn = int32(p.Column)
	}
	return site, loc
}

func symbol(f frame) string {
	s := f.Package
	if f.Receiver != "" {
		s += "." + strings.TrimPrefix(f.Receiver, "*")
	}
	if f.Function != "" {
		s += "." + f.Function
	}
	return s
}

// newIssue fills what the stream and the 0.x report share.
func newIssue(id string, e *entry, mod, modVersion, fixed string, lvl level, toolVersion string) *v1.Issue {
	purl := "pkg:golang/" + mod
	if mod == "" {
		purl = "pkg:golang/unknown"
	}
	if modVersion != "" {
		purl += "@" + modVersion
	}
	iss := &v1.Issue{
		Target:         purl,
		Type:           id,
		RuleId:         id,
		Title:          id,
		Severity:       lvl.severity(),
		Confidence:     lvl.confidence(),
		PackageUrl:     purl,
		PackageVersion: modVersion,
		FixedVersion:   fixed,
		Tags:           []string{lvl.tag()},
		Annotations:    map[string]string{"govulncheck.level": lvl.String()},
		ToolName:       name,
		ToolVersion:    toolVersion,
	}
	if e == nil {
		iss.Title = id + " in " + mod
		return iss
	}
	if e.Summary != "" {
		iss.Title = id + ": " + e.Summary
	} else if mod != "" {
		iss.Title = id + " in " + mod
	}
	if s := entrySeverity(e); s != v1.Severity_SEVERITY_UNSPECIFIED {
		iss.Severity = s
	}
	for _, a := range e.Aliases {
		if a == "" || a == id {
			continue
		}
		iss.Aliases = append(iss.Aliases, a)
		if iss.Cve == "" && strings.HasPrefix(a, "CVE-") {
			iss.Cve = a
		}
	}
	var refs []string
	add := func(u string) {
		if u != "" && !contains(refs, u) {
			refs = append(refs, u)
		}
	}
	add(e.DatabaseSpecific.URL)
	for _, a := range e.Affected {
		add(a.DatabaseSpecific.URL)
	}
	for _, r := range e.References {
		add(r.URL)
	}
	iss.References = refs
	return iss
}

// entrySeverity reads a severity an OSV entry carries as a word: some
// databases (and edited reports) put "High" in "severity" or in
// database_specific. A standard OSV severity list holds CVSS vectors, not
// words; those are left to the reachability default.
func entrySeverity(e *entry) v1.Severity {
	var word string
	if len(e.Severity) > 0 && e.Severity[0] == '"' {
		_ = json.Unmarshal(e.Severity, &word)
	}
	if word == "" {
		word = e.DatabaseSpecific.Severity
	}
	return producers.SeverityFromText(word)
}

func describe(e *entry, mod, modVersion, fixed string, lvl level, calls, pkgs []string) string {
	var b strings.Builder
	if e != nil {
		b.WriteString(strings.TrimSpace(e.Details))
	}
	para := func(s string) {
		if b.Len() > 0 {
			b.WriteString("\n\n")
		}
		b.WriteString(s)
	}
	at := mod
	if modVersion != "" {
		at += "@" + modVersion
	}
	fix := "no fixed version is known"
	if fixed != "" {
		fix = "fixed in " + fixed
	}
	para("Found in " + at + "; " + fix + ".")
	switch lvl {
	case symbolLevel:
		para("The code calls the vulnerable code:\n- " + strings.Join(calls, "\n- "))
	case packageLevel:
		para("The code imports " + strings.Join(pkgs, ", ") + " but govulncheck found no call to the vulnerable functions.")
	default:
		para("The module is required, but govulncheck found no import of its vulnerable packages.")
	}
	return b.String()
}

func contains(ss []string, s string) bool {
	for _, v := range ss {
		if v == s {
			return true
		}
	}
	return false
}

// legacy is the report govulncheck 0.x wrote with -json: one object whose
// Vulns list has one element per vulnerable symbol, pointing into a call
// graph (Calls), an import graph and a module graph (Requires) by id.
type legacy struct {
	Calls *struct {
		Functions map[string]legacyFunc `json:"Functions"`
		Entries   []int                 `json:"Entries"`
	} `json:"Calls"`
	Requires *struct {
		Modules map[string]struct {
			Path    string `json:"Path"`
			Version string `json:"Version"`
		} `json:"Modules"`
	} `json:"Requires"`
	Vulns *[]struct {
		OSV         *entry `json:"OSV"`
		Symbol      string `json:"Symbol"`
		PkgPath     string `json:"PkgPath"`
		ModPath     string `json:"ModPath"`
		CallSink    int    `json:"CallSink"`
		ImportSink  int    `json:"ImportSink"`
		RequireSink int    `json:"RequireSink"`
	} `json:"Vulns"`
}

type legacyFunc struct {
	Name      string `json:"Name"`
	RecvType  string `json:"RecvType"`
	PkgPath   string `json:"PkgPath"`
	CallSites []struct {
		Parent int `json:"Parent"`
		Pos    *struct {
			Filename string `json:"Filename"`
			Line     int    `json:"Line"`
			Column   int    `json:"Column"`
		} `json:"Pos"`
	} `json:"CallSites"`
}

func parseLegacy(data []byte) (*producers.Parsed, error) {
	var r legacy
	if err := producers.DecodeJSON(name, data, &r); err != nil {
		return nil, err
	}
	out := &producers.Parsed{}
	if r.Vulns == nil {
		return out, nil
	}
	type agg struct {
		e            *entry
		mod, version string
		lvl          level
		calls, pkgs  []string
		loc          *v1.Location
	}
	byID := map[string]*agg{}
	var order []string
	for i, v := range *r.Vulns {
		if v.OSV == nil || v.OSV.ID == "" {
			return nil, producers.Errorf(name, "Vulns[%d] has no OSV entry", i)
		}
		a := byID[v.OSV.ID]
		if a == nil {
			a = &agg{e: v.OSV, mod: v.ModPath}
			byID[v.OSV.ID] = a
			order = append(order, v.OSV.ID)
		}
		if r.Requires != nil && a.version == "" {
			if m, ok := r.Requires.Modules[strconv.Itoa(v.RequireSink)]; ok {
				a.version = m.Version
				if a.mod == "" {
					a.mod = m.Path
				}
			}
		}
		lvl := moduleLevel
		switch {
		case v.CallSink != 0:
			lvl = symbolLevel
		case v.ImportSink != 0:
			lvl = packageLevel
		}
		if lvl > a.lvl {
			a.lvl = lvl
		}
		switch lvl {
		case symbolLevel:
			site, loc := r.callSite(v.PkgPath, v.Symbol, v.CallSink)
			if a.loc == nil {
				a.loc = loc
			}
			if !contains(a.calls, site) {
				a.calls = append(a.calls, site)
			}
		case packageLevel:
			if !contains(a.pkgs, v.PkgPath) {
				a.pkgs = append(a.pkgs, v.PkgPath)
			}
		}
	}
	for _, id := range order {
		a := byID[id]
		fixed := fixedAfter(a.e, a.mod, a.version)
		iss := newIssue(id, a.e, a.mod, a.version, fixed, a.lvl, "")
		if a.lvl == symbolLevel {
			iss.Location = a.loc
		}
		iss.Description = describe(a.e, a.mod, a.version, fixed, a.lvl, a.calls, a.pkgs)
		out.Issues = append(out.Issues, iss)
	}
	return out, nil
}

// callSite walks the 0.x call graph from the vulnerable function up its
// first call sites until it reaches an entry point of the scanned code,
// and returns the call made there.
func (r *legacy) callSite(pkg, sym string, sink int) (string, *v1.Location) {
	name := pkg + "." + sym
	if r.Calls == nil {
		return name, nil
	}
	entries := map[int]bool{}
	for _, e := range r.Calls.Entries {
		entries[e] = true
	}
	id := sink
	var pos *v1.Location
	var caller string
	for steps := 0; steps <= len(r.Calls.Functions); steps++ {
		fn, ok := r.Calls.Functions[strconv.Itoa(id)]
		if !ok || len(fn.CallSites) == 0 {
			break
		}
		cs := fn.CallSites[0]
		if cs.Pos != nil {
			pos = producers.Loc(cs.Pos.Filename, cs.Pos.Line, cs.Pos.Line)
			pos.StartColumn = int32(max(cs.Pos.Column, 0))
		}
		id = cs.Parent
		if p, ok := r.Calls.Functions[strconv.Itoa(id)]; ok {
			caller = p.PkgPath + "." + p.Name
		}
		if entries[id] {
			break
		}
	}
	if pos == nil {
		return name, nil
	}
	return name + " called from " + caller + " at " + pos.Path + ":" + strconv.Itoa(int(pos.StartLine)), pos
}

// fixedAfter finds, in the entry's ranges for module mod, the version that
// fixes the range holding version.
func fixedAfter(e *entry, mod, version string) string {
	if version == "" {
		return ""
	}
	for _, a := range e.Affected {
		if a.Package.Name != mod {
			continue
		}
		for _, r := range a.Ranges {
			in := false
			for _, ev := range r.Events {
				if ev.Introduced != nil {
					in = depkit.CompareVersions(*ev.Introduced, version) <= 0
				}
				if ev.Fixed != nil && in {
					if depkit.CompareVersions(version, *ev.Fixed) < 0 {
						return "v" + strings.TrimPrefix(*ev.Fixed, "v")
					}
					in = false
				}
			}
		}
	}
	return ""
}
