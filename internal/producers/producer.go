// Package producers defines what a producer is: a scanner, how Dracon runs
// it, when it applies to a repository, and a pure parser from the scanner's
// raw report to Dracon issues. One sub-folder per tool implements it; the
// registry package lists them all in one place.
package producers

import (
	"fmt"

	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// Kind says what sort of scanner a producer wraps.
type Kind string

const (
	SAST    Kind = "SAST"
	SCA     Kind = "SCA"
	IaC     Kind = "IaC"
	Secrets Kind = "secrets"
	DAST    Kind = "DAST"
	SBOM    Kind = "SBOM"
	Generic Kind = "generic"
)

// Parsed is what a parser read from one report.
type Parsed struct {
	Issues []*v1.Issue
	// ToolVersion is the scanner version the report names, when it names one.
	ToolVersion string
	// Secrets are the raw values a secret scanner found. They are never
	// written anywhere: Dracon uses them, in memory, to hide the same
	// values in every tool's findings and in the run directory's files.
	Secrets []string
}

// ParseFunc reads one raw report. It is pure: bytes in, issues out. It never
// drops a finding silently: a report it cannot read is an error that says
// where it broke.
type ParseFunc func(data []byte) (*Parsed, error)

// Producer describes one scanner integration.
type Producer struct {
	Name string
	// Aliases are other names users and corpora use for the tool: the
	// original Dracon's component names ("golang-gosec"), common short
	// names ("pip-safety") and corpus folders ("anchore_grype"). Every
	// place that names a producer (dracon.yaml, --tool, tools install)
	// accepts them; "_" and "-" are alike.
	Aliases     []string
	Kind        Kind
	Languages   []string
	Description string // what it finds, one line
	// Formats lists the report formats Parse understands ("json", "sarif", "xml").
	Formats []string
	Parse   ParseFunc
	// Detect lists file-name globs (matched against base names, like
	// "go.mod" or "*.py") that make auto-detection pick this producer.
	Detect []string
	// DetectAtRoot limits Detect to files at the top of the source folder,
	// for scanners that read only the project there (npm audit reads
	// ./package-lock.json): a lockfile deeper in the tree must not pick a
	// scanner that would then fail at the root.
	DetectAtRoot bool
	// Tool says how to run the scanner; nil for producers that only import
	// a report an earlier CI step wrote (the sarif producer).
	Tool *Tool
	// Fetch, when set (and Tool nil), fetches the report from a service's
	// API (GitHub's alerts); a configured report file (paths) is read
	// instead when given.
	Fetch FetchFunc
	// RunsHere says whether Dracon's own CI installs and runs this scanner
	// for real; otherwise it is tested on recorded outputs only.
	RunsHere bool
}

// Tool says how to run a scanner.
type Tool struct {
	Binary  string // executable name looked up in Dracon's tool cache, then PATH
	Version string // pinned version Dracon installs and tests with
	// GoPackage is the `go install` path; empty for scanners that are not
	// Go programs. `dracon tools install` builds these into its cache.
	GoPackage string
	// GoModule is set for Go scanners that `go install` cannot build (their
	// version list is refused, or their go.mod needs replacements): Dracon
	// builds them in a throwaway module that requires them as a tool.
	GoModule *GoModule
	// Npm lists npm packages ("eslint@8.57.1") `dracon tools install`
	// installs into the tool's cache folder, for scanners written in
	// JavaScript; Binary is then looked up in its node_modules/.bin.
	Npm []string
	// GoAssets are folders of the Go module copied beside the installed
	// binary, for scanners that read data files at run time (kics's queries).
	GoAssets []string
	// Install is the command a user runs to install a non-Go scanner.
	Install string
	Image   string // container image for the container runner (the tool's upstream image)
	// Network: the scanner needs the network (it fetches a vulnerability
	// database or asks a service); the container runner gives it one.
	// Every other scanner runs in a container with no network at all.
	Network bool
	// Args builds the command line (without the binary) that scans src and
	// writes the report to out.
	Args func(src, out string) []string
	// Exclude, when set, returns the arguments that keep the scanner out
	// of paths: the files and folders (a folder ends in "/"; paths are
	// slash-separated, relative to the scanned folder) Dracon leaves out as
	// vendored or generated. Dracon drops findings in them in any case;
	// this spares the scanner the work. Appended after Args.
	Exclude func(paths []string) []string
	// Targets is how many of Args' last elements are positional (gosec's
	// "./..."). The config's arguments and Exclude's go before them: Go's
	// flag package stops at the first non-flag, so a flag after "./..."
	// would be read as a package pattern, or ignored.
	Targets int
	// Stdout means the report is the command's standard output, not a file.
	Stdout bool
	// OKExitCodes are the exit codes that mean the scan ran; many scanners
	// exit non-zero when they find something, which is not a failure.
	OKExitCodes []int
	// VersionArgs print the scanner's version.
	VersionArgs []string
}

// ExitOK reports whether code means the scanner ran to completion.
func (t *Tool) ExitOK(code int) bool {
	if code == 0 {
		return true
	}
	for _, c := range t.OKExitCodes {
		if c == code {
			return true
		}
	}
	return false
}

// ParseError names what could not be read and where.
type ParseError struct {
	Tool   string
	File   string
	Offset int64 // byte offset where reading broke, or -1
	Err    error
}

func (e *ParseError) Error() string {
	where := e.File
	if where == "" {
		where = "report"
	}
	if e.Offset >= 0 {
		return fmt.Sprintf("%s: cannot parse %s at byte %d: %v", e.Tool, where, e.Offset, e.Err)
	}
	return fmt.Sprintf("%s: cannot parse %s: %v", e.Tool, where, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// GoModule describes a tools-module build: `go get -tool Package@Version`
// plus extra requirements and replacements, then `go build`.
type GoModule struct {
	Require []string // "module@version" pins added before the build
	Replace []string // "old=new@version" replacements
	Env     []string // extra build environment, e.g. GOEXPERIMENT=jsonv2
}
