// Package reachability says whether the scanned code can reach the
// vulnerable code of a Go dependency finding: trivy, grype, osv-scanner
// (and any producer that names a pkg:golang package URL and an advisory)
// report a vulnerable module version from go.mod; govulncheck, in the same
// scan, says whether the code calls the vulnerable function (a call
// path), imports its package without calling it, or only requires the
// module. The finding is annotated reachable "true" (with the call path),
// "false" or "unknown" (with the reason).
//
// It reads the scan's results only: govulncheck's issues carry the level
// (the govulncheck.level annotation), the advisory's ids (rule_id GO-…,
// cve, aliases CVE-… and GHSA-…), the module (package_url) and the call
// sites (the description, or the govulncheck.trace annotation when the
// parser writes one). No network, no files.
package reachability

import (
	"context"
	"fmt"
	"net/url"
	"path"
	"path/filepath"
	"strings"

	"github.com/draconsec/dracon/internal/config"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// The annotations it writes (docs/enrichers/reachability.md).
const (
	// Reachable is "true", "false" or "unknown", on Go dependency
	// vulnerability findings only.
	Reachable = "reachable"
	// Evidence is the call path(s) from the scanned code to the vulnerable
	// function, entry first: "pkg.Func (file:line) -> dep.Func", one path
	// a line; only with "true".
	Evidence = "reachable_evidence"
	// Reason says which tool decided, or why nothing could: on "false",
	// "unknown", and a "true" from osv-scanner (which keeps no call path).
	Reason = "reachable_reason"
)

// The values of Reachable.
const (
	True    = "true"
	False   = "false"
	Unknown = "unknown"
)

// What the govulncheck producer writes (internal/producers/govulncheck).
const (
	govulncheckTool = "govulncheck"
	osvScannerTool  = "osv-scanner"
	// LevelAnnotation is how far govulncheck followed the advisory:
	// "symbol" (a vulnerable function is called), "package" (imported,
	// not called), "module" (required, not imported).
	LevelAnnotation = "govulncheck.level"
	// TraceAnnotation, when the parser writes it, holds every call path
	// govulncheck reported for the advisory, one a line, entry first,
	// frames "pkg.Func (file:line)" joined by " -> ". Without it the call
	// sites are read from the description, which keeps the vulnerable
	// function and the scanned code's caller but not the frames between.
	TraceAnnotation = "govulncheck.trace"
	// callsHeading starts the description's list of call sites, one
	// "- pkg.Func called from caller at file:line" a line.
	callsHeading = "The code calls the vulnerable code:\n"
)

// Enricher annotates Go dependency findings with their reachability.
type Enricher struct {
	// OSVScanner lets osv-scanner's call analysis decide what govulncheck
	// cannot (a module below the root, a scan without govulncheck).
	OSVScanner bool
	// MaxEvidence caps reachable_evidence, in characters.
	MaxEvidence int
	// Source is the scanned folder, to make absolute manifest paths
	// relative ("" is the working folder).
	Source string
	Notice func(string)

	told bool
}

// New builds the enricher from its config block.
func New(cfg config.Reachability, source string, notice func(string)) *Enricher {
	return &Enricher{OSVScanner: cfg.UseOSVScanner(), MaxEvidence: cfg.Evidence(), Source: source, Notice: notice}
}

func (*Enricher) String() string { return "reachability" }

// level is govulncheck's depth for one advisory.
type level int

const (
	noLevel level = iota
	moduleLevel
	packageLevel
	symbolLevel
)

func parseLevel(s string) level {
	switch s {
	case "symbol":
		return symbolLevel
	case "package":
		return packageLevel
	case "module":
		return moduleLevel
	}
	return noLevel
}

// advisory is one govulncheck issue: an advisory in a module.
type advisory struct {
	id      string // its GO- id, for reasons
	module  string // as govulncheck wrote it
	version string // normalised (no "v")
	level   level
	paths   []string // call paths, entry first
}

// key finds govulncheck's advisories by dependency module and any id.
type key struct{ module, id string }

// osvKey finds osv-scanner's call analysis by module, version, the folder
// of its go.mod, and any id.
type osvKey struct{ module, version, dir, id string }

// index is what the scan's govulncheck and osv-scanner runs said.
type index struct {
	govulncheck bool // a govulncheck result is in the scan
	unlevelled  int  // govulncheck issues without a level
	advisories  map[key][]*advisory
	called      map[osvKey]bool
}

// Enrich implements enrichers.Enricher.
func (e *Enricher) Enrich(_ context.Context, _ *v1.ScanInfo, results []*v1.EnrichedLaunchToolResponse) error {
	root := e.Source
	if root == "" {
		root = "."
	}
	if abs, err := filepath.Abs(root); err == nil {
		root = abs
	}
	idx := &index{advisories: map[key][]*advisory{}, called: map[osvKey]bool{}}
	for _, r := range results {
		if r.GetOriginalResults().GetToolName() == govulncheckTool {
			idx.govulncheck = true
		}
		for _, is := range r.GetIssues() {
			raw := is.GetRawIssue()
			if raw.GetToolName() == govulncheckTool {
				idx.govulncheck = true
			}
			mod, ver, ok := goModule(raw.GetPackageUrl())
			switch {
			case raw.GetToolName() == govulncheckTool:
				lvl := parseLevel(raw.GetAnnotations()[LevelAnnotation])
				if lvl == noLevel || !ok || mod == "unknown" {
					// govulncheck's SARIF, read by the SARIF importer,
					// says neither the level nor the module.
					idx.unlevelled++
					continue
				}
				a := &advisory{id: raw.GetRuleId(), module: mod, version: ver, level: lvl}
				if lvl == symbolLevel {
					a.paths = callPaths(raw)
				}
				for _, id := range vulnIDs(raw) {
					k := key{strings.ToLower(mod), id}
					idx.advisories[k] = append(idx.advisories[k], a)
				}
			case ok && raw.GetToolName() == osvScannerTool:
				called, analysed := osvCalled(raw)
				dir, manifest := manifestDir(raw.GetLocation().GetPath(), root)
				if !analysed || !manifest {
					continue
				}
				for _, id := range vulnIDs(raw) {
					k := osvKey{strings.ToLower(mod), ver, dir, id}
					idx.called[k] = idx.called[k] || called
				}
			}
		}
	}

	var goFindings, undecided int
	for _, r := range results {
		for _, is := range r.GetIssues() {
			raw := is.GetRawIssue()
			mod, ver, ok := goModule(raw.GetPackageUrl())
			if !ok {
				continue
			}
			ids := vulnIDs(raw)
			if len(ids) == 0 && !looksLikeAdvisory(raw.GetRuleId()) {
				continue // an SBOM component or a licence, not a vulnerability
			}
			var v verdict
			if raw.GetToolName() == govulncheckTool {
				lvl := parseLevel(raw.GetAnnotations()[LevelAnnotation])
				if lvl == noLevel {
					continue
				}
				v = govulncheckVerdict([]*advisory{{id: raw.GetRuleId(), module: mod, level: lvl, paths: callPaths(raw)}})
			} else {
				goFindings++
				v = e.decide(idx, raw, mod, ver, ids, root)
				if v.value == Unknown {
					undecided++
				}
			}
			e.annotate(is, v)
		}
	}
	if !idx.govulncheck && goFindings > 0 && !e.told && e.Notice != nil {
		// Said once, however many times the chain runs.
		e.told = true
		e.Notice(fmt.Sprintf("reachability: govulncheck did not run in this scan: %d of %d Go dependency findings are reachable=unknown (run govulncheck, on by default where the root has a go.mod)", undecided, goFindings))
	}
	return nil
}

// verdict is one finding's answer.
type verdict struct {
	value  string
	paths  []string
	reason string
}

// decide answers for a finding another tool made about module mod at
// version ver: govulncheck first, then osv-scanner's call analysis.
func (e *Enricher) decide(idx *index, raw *v1.Issue, mod, ver string, ids []string, root string) verdict {
	dir, manifest := manifestDir(raw.GetLocation().GetPath(), root)
	v := verdict{value: Unknown}
	switch {
	case !idx.govulncheck:
		v.reason = "govulncheck did not run in this scan"
	case !manifest:
		// A binary, an image layer, an SBOM: govulncheck read the source.
		v.reason = "govulncheck analysed the source, not " + raw.GetLocation().GetPath()
	case dir != ".":
		// Dracon runs govulncheck at the root on ./..., which stops at
		// nested modules (and at go.work's other modules).
		v.reason = "govulncheck analysed the root module only, not " + path.Join(dir, "go.mod")
	default:
		v = e.fromGovulncheck(idx, mod, ver, ids)
	}
	if v.value != Unknown || !e.OSVScanner || !manifest {
		return v
	}
	// osv-scanner's own finding says it; another tool's borrows the
	// analysis osv-scanner made of the same go.mod.
	called, ok := false, false
	if raw.GetToolName() == osvScannerTool {
		called, ok = osvCalled(raw)
	} else {
		for _, id := range ids {
			if c, found := idx.called[osvKey{strings.ToLower(mod), ver, dir, id}]; found {
				called, ok = called || c, true
			}
		}
	}
	if !ok {
		return v
	}
	where := path.Join(dir, "go.mod")
	if called {
		return verdict{value: True, reason: "osv-scanner's call analysis of " + where + " found a call to the vulnerable code (it records no call path)"}
	}
	return verdict{value: False, reason: "osv-scanner's call analysis of " + where + " found no call to the vulnerable code"}
}

// fromGovulncheck: the root module's finding against govulncheck's
// advisories for the same module and any of the finding's ids.
func (e *Enricher) fromGovulncheck(idx *index, mod, ver string, ids []string) verdict {
	var found []*advisory
	seen := map[*advisory]bool{}
	other := ""
	for _, id := range ids {
		for _, a := range idx.advisories[key{strings.ToLower(mod), id}] {
			if seen[a] {
				continue
			}
			seen[a] = true
			if ver != "" && a.version != "" && a.version != ver {
				// Another version is another build: the finding is about a
				// go.mod or go.sum line govulncheck's build list does not use.
				other = a.version
				continue
			}
			found = append(found, a)
		}
	}
	if len(found) == 0 {
		if len(idx.advisories) == 0 && idx.unlevelled > 0 {
			return verdict{value: Unknown, reason: "govulncheck's issues say no level (its SARIF output, read by the SARIF importer): run it with -format json, as Dracon does"}
		}
		if other != "" {
			return verdict{value: Unknown, reason: fmt.Sprintf("govulncheck found %s v%s in the build, not v%s", mod, other, ver)}
		}
		return verdict{value: Unknown, reason: "govulncheck did not report " + strings.Join(ids, ", ") + " in " + mod +
			" (its database lacks the advisory, or it finds this version or the build unaffected)"}
	}
	return govulncheckVerdict(found)
}

// govulncheckVerdict: a call anywhere is "true"; an import or a
// requirement alone is "false".
func govulncheckVerdict(found []*advisory) verdict {
	best := found[0]
	var paths []string
	for _, a := range found {
		if a.level > best.level {
			best = a
		}
		if a.level == symbolLevel {
			for _, p := range a.paths {
				if !contains(paths, p) {
					paths = append(paths, p)
				}
			}
		}
	}
	switch best.level {
	case symbolLevel:
		v := verdict{value: True, paths: paths}
		if len(paths) == 0 {
			v.reason = "govulncheck found a call to the vulnerable code of " + best.id
		}
		return v
	case packageLevel:
		return verdict{value: False, reason: "govulncheck: the code imports the vulnerable package of " + best.id + " but calls none of its vulnerable functions"}
	default:
		return verdict{value: False, reason: "govulncheck: the module is required but the code imports none of the packages " + best.id + " names"}
	}
}

func (e *Enricher) annotate(is *v1.EnrichedIssue, v verdict) {
	if is.Annotations == nil {
		is.Annotations = map[string]string{}
	}
	is.Annotations[Reachable] = v.value
	// A second run of the chain must not keep the first one's evidence.
	delete(is.Annotations, Evidence)
	delete(is.Annotations, Reason)
	if ev := cutEvidence(v.paths, e.MaxEvidence); ev != "" {
		is.Annotations[Evidence] = ev
	}
	if v.reason != "" {
		is.Annotations[Reason] = v.reason
	}
}

// goModule reads a pkg:golang package URL: the module path (or "stdlib")
// and its version without the "v", percent-decoded. Qualifiers and
// subpaths are dropped.
func goModule(purl string) (mod, version string, ok bool) {
	if len(purl) < len("pkg:golang/") || !strings.EqualFold(purl[:len("pkg:golang/")], "pkg:golang/") {
		return "", "", false
	}
	rest := purl[len("pkg:golang/"):]
	if i := strings.IndexAny(rest, "?#"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		rest, version = rest[:i], rest[i+1:]
	}
	if m, err := url.PathUnescape(rest); err == nil {
		rest = m
	}
	if v, err := url.PathUnescape(version); err == nil {
		version = v
	}
	rest = strings.Trim(rest, "/")
	if rest == "" {
		return "", "", false
	}
	return rest, strings.TrimPrefix(version, "v"), true
}

// vulnIDs are the issue's advisory ids that govulncheck's can share: GO-
// ids, CVEs and GHSAs, upper-case, each once.
func vulnIDs(is *v1.Issue) []string {
	var out []string
	for _, id := range append([]string{is.GetRuleId(), is.GetCve()}, is.GetAliases()...) {
		id = strings.ToUpper(strings.TrimSpace(id))
		if (strings.HasPrefix(id, "GO-") || strings.HasPrefix(id, "CVE-") || strings.HasPrefix(id, "GHSA-")) && !contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// looksLikeAdvisory: an id such as SNYK-GOLANG-…-123 or a Sonatype id
// that no other tool shares; a licence ("license:MIT") or an SBOM
// component has none.
func looksLikeAdvisory(id string) bool {
	dash := strings.IndexByte(id, '-')
	return dash > 0 && !strings.ContainsAny(id[:dash], ": /") && strings.ContainsAny(id[dash:], "0123456789")
}

// osvCalled reads the osv-scanner parser's tags: "called" or "not
// called" from the report's experimentalAnalysis.
func osvCalled(is *v1.Issue) (called, ok bool) {
	for _, t := range is.GetTags() {
		switch t {
		case "called":
			return true, true
		case "not called":
			return false, true
		}
	}
	return false, false
}

// manifestDir is the folder, relative to the scanned one, of the Go
// module a finding's file belongs to: go.mod, go.sum, vendor/modules.txt,
// go.work. No path is the root (a tool that names no manifest read the
// root's). Any other file (a binary) is no module.
func manifestDir(p, root string) (string, bool) {
	if p == "" {
		return ".", true
	}
	p = strings.TrimPrefix(p, "file://")
	if filepath.IsAbs(p) {
		if rel, err := filepath.Rel(root, p); err == nil && !strings.HasPrefix(rel, "..") {
			p = rel
		}
	}
	p = filepath.ToSlash(p)
	// grype names files from the scanned folder's root: "/go.mod".
	p = path.Clean(strings.TrimPrefix(p, "/"))
	dir, base := path.Split(p)
	dir = path.Clean("./" + dir)
	switch base {
	case "go.mod", "go.sum", "go.work", "go.work.sum":
		return dir, true
	case "modules.txt":
		if path.Base(dir) == "vendor" {
			return path.Dir(dir), true
		}
	}
	return "", false
}

func contains(ss []string, s string) bool {
	for _, v := range ss {
		if v == s {
			return true
		}
	}
	return false
}
