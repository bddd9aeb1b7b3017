package vendored

import (
	"bytes"
	"iter"
	"regexp"
	"strings"
)

// The rules below are a curated subset of GitHub Linguist's vendor.yml and
// generated.rb (github-linguist/linguist, lib/linguist/), rewritten as Go
// regular expressions over slash-separated paths relative to the source
// folder. Kept: dependency folders, the JavaScript libraries web
// applications most often commit, minified and compiled bundles, and the
// generated-file markers of the languages Dracon's scanners read. Left
// out, on purpose:
//
//   - CI and editor configuration (.github/, Jenkinsfile, .vscode/,
//     .gitignore, Vagrantfile): the project's own, and what IaC and secret
//     scanners are for;
//   - dist/, cache/, deps/, env/, Dependencies/, extern(al)/: too often the
//     project's own code or packaging (a cache/ package, a Dockerfile
//     under dist/, config/env/); a minified build under dist/ is caught by
//     the minified rules, and a virtualenv by site-packages/;
//   - fabfile.py, test fixtures and docs build folders: the project's own;
//   - lockfiles (generated for Linguist): what dependency scanners read;
//   - rules for ecosystems no Dracon scanner reads (Xcode, Unity, GIMP, ...).
//
// A library whose file name is also a common name for a project's own file
// (bootstrap.js is Laravel's and webpack's entry point, Chart.js a React
// component) counts only when the file starts with the library's banner.

type pathRule struct {
	kind Kind
	why  string
	re   *regexp.Regexp
}

// folderRules match a folder: each ends in "/", so it can match only a
// folder segment of a path.
var folderRules = []pathRule{
	{Folder, "vendored folder (node_modules)", regexp.MustCompile(`(^|/)node_modules/`)},
	{Folder, "vendored folder (bower_components)", regexp.MustCompile(`(^|/)bower_components/`)},
	{Folder, "vendored folder (vendor)", regexp.MustCompile(`(^|/)[Vv]endors?/`)},
	{Folder, "vendored folder (third party)", regexp.MustCompile(`(^|/)(3rd|[Tt]hird)[-_]?[Pp]arty/`)},
	{Folder, "vendored folder (Godeps)", regexp.MustCompile(`(^|/)Godeps/_workspace/`)},
	{Folder, "vendored folder (Python packages)", regexp.MustCompile(`(^|/)(site|dist)-packages/`)},
	{Folder, "vendored folder (Yarn)", regexp.MustCompile(`(^|/)\.yarn/(releases|plugins|sdks|versions|unplugged)/`)},
	{Library, "library (Ace)", regexp.MustCompile(`(^|/)ace-builds/`)},
	{Library, "library (MathJax)", regexp.MustCompile(`(^|/)MathJax/`)},
	{Library, "library (CodeMirror)", regexp.MustCompile(`(^|/)[Cc]ode[Mm]irror/(\d+\.\d+/)?(lib|mode|theme|addon|keymap|demo)/`)},
	{Library, "library (Ext JS)", regexp.MustCompile(`(^|/)extjs/`)},
	{Library, "library (Select2)", regexp.MustCompile(`(^|/)select2/`)},
	{Library, "library (Bootstrap Datepicker)", regexp.MustCompile(`(^|/)bootstrap-datepicker/`)},
	{Library, "library (TinyMCE)", regexp.MustCompile(`(^|/)tiny_?mce/`)},
	{Generated, "generated (Relay)", regexp.MustCompile(`(^|/)__generated__/`)},
}

// nameRules decide by the file's name alone (they match the base name).
var nameRules = []pathRule{
	{Minified, "minified", regexp.MustCompile(`[.-]min\.(js|mjs|cjs|css)$`)},
	{Generated, "generated (source map)", regexp.MustCompile(`\.(js|css)\.map$`)},
	{Generated, "generated (Yarn Plug'n'Play loader)", regexp.MustCompile(`^\.pnp\..+$`)},
	{Generated, "generated (Gradle wrapper)", regexp.MustCompile(`^gradlew(\.bat)?$`)},
	{Generated, "generated (Maven wrapper)", regexp.MustCompile(`^mvnw(\.cmd)?$`)},
	{Generated, "generated (GNU config script)", regexp.MustCompile(`^config\.(guess|sub)$`)},
	{Generated, "generated (Visual Studio designer)", regexp.MustCompile(`\.[Dd]esigner\.(cs|vb)$`)},
	{Library, "library (dotnet-install script)", regexp.MustCompile(`^dotnet-install\.(ps1|sh)$`)},
	{Library, "library (cpplint)", regexp.MustCompile(`^cpplint\.py$`)},
	{Library, "library (jQuery)", regexp.MustCompile(`^jquery([^.]*)\.js$`)},
	{Library, "library (jQuery)", regexp.MustCompile(`^jquery-\d\.\d+(\.\d+)?(\.slim)?\.js$`)},
	{Library, "library (jQuery)", regexp.MustCompile(`^jquery\.slim\.js$`)},
	{Library, "library (jQuery UI)", regexp.MustCompile(`^jquery-ui(-\d\.\d+(\.\d+)?)?(\.\w+)?\.(js|css)$`)},
	{Library, "library (jQuery UI)", regexp.MustCompile(`^jquery\.(ui|effects)\.[^.]*\.(js|css)$`)},
	{Library, "library (jQuery plugin)", regexp.MustCompile(`^jquery\.(fn\.gantt|fancybox|dataTables|fileupload(-\w+)?)\.(js|css)$`)},
	{Library, "library (jQuery Validation)", regexp.MustCompile(`^jquery([^.]*)\.validate(\.unobtrusive)?\.js$`)},
	{Library, "library (jQuery Unobtrusive Ajax)", regexp.MustCompile(`^jquery([^.]*)\.unobtrusive-ajax\.js$`)},
	{Library, "library (Microsoft Ajax)", regexp.MustCompile(`^[Mm]icrosoft([Mm]vc)?([Aa]jax|[Vv]alidation)(\.debug)?\.js$`)},
	{Library, "library (Visual Studio IntelliSense)", regexp.MustCompile(`(-vsdoc|\.intellisense)\.js$`)},
	{Library, "library (Modernizr)", regexp.MustCompile(`^modernizr(-\d\.\d+(\.\d+)?|\.custom\.\d+)?\.js$`)},
	{Library, "library (Knockout)", regexp.MustCompile(`^knockout-(\d+\.){3}(debug\.)?js$`)},
	{Library, "library (html5shiv)", regexp.MustCompile(`^html5shiv(-printshiv)?\.js$`)},
	{Library, "library (MooTools)", regexp.MustCompile(`^mootools.*\d+\.\d+\.\d+.*\.js$`)},
	{Library, "library (Dojo)", regexp.MustCompile(`^dojo\.js$`)},
	{Library, "library (CKEditor)", regexp.MustCompile(`^ckeditor\.js$`)},
	{Library, "library (TinyMCE)", regexp.MustCompile(`^tiny_?mce.*\.js$`)},
	{Library, "library (PDF.js)", regexp.MustCompile(`^pdf\.worker\.js$`)},
}

// libraryRule is a library whose file name alone does not tell: the file
// must also start with one of the banners (in its first 8 KiB). re
// matches the base name.
type libraryRule struct {
	name   string
	re     *regexp.Regexp
	banner []string
}

var libraryRules = []libraryRule{
	{"Bootstrap", regexp.MustCompile(`^bootstrap[^.]*(\..*)?\.(js|css)$`),
		[]string{"Bootstrap v", "getbootstrap.com", "twitter.github.com/bootstrap", "twitter.github.io/bootstrap"}},
	{"AngularJS", regexp.MustCompile(`^angular[^.]*(\..*)?\.js$`), []string{"@license AngularJS"}},
	{"React", regexp.MustCompile(`^react[^.]*(\..*)?\.js$`), []string{"@license React"}},
	{"D3", regexp.MustCompile(`^d3[^.]*(\..*)?\.js$`), []string{"d3js.org"}},
	{"Chart.js", regexp.MustCompile(`^[Cc]hart(\.bundle)?\.js$`), []string{"chartjs.org", "Chart.js v"}},
	{"Prototype", regexp.MustCompile(`^prototype.*\.js$`), []string{"Prototype JavaScript framework"}},
}

// anyName and anyLibrary match a base name that some rule of nameRules or
// libraryRules matches: one pass over a name rules out most files.
var (
	anyName = anyOf(func(yield func(*regexp.Regexp) bool) {
		for _, r := range nameRules {
			if !yield(r.re) {
				return
			}
		}
	})
	anyLibrary = anyOf(func(yield func(*regexp.Regexp) bool) {
		for _, r := range libraryRules {
			if !yield(r.re) {
				return
			}
		}
	})
)

func anyOf(res iter.Seq[*regexp.Regexp]) *regexp.Regexp {
	var alts []string
	for re := range res {
		alts = append(alts, "(?:"+re.String()+")")
	}
	return regexp.MustCompile(strings.Join(alts, "|"))
}

// bundleExts are the extensions the minified and source-map rules apply
// to, as in Linguist: elsewhere long lines are as often data as bundles.
var bundleExts = map[string]bool{".js": true, ".mjs": true, ".cjs": true, ".css": true}

var (
	// goGenerated is Go's convention (go help generate): a line
	// "// Code generated ... DO NOT EDIT." before the package clause.
	goGenerated = regexp.MustCompile(`^// Code generated .* DO NOT EDIT\.$`)
	// codeGenerated is the same sentence in another language's comment
	// (ts-proto, twirp and many Go-written generators write it so).
	codeGenerated = regexp.MustCompile(`^Code generated .* DO NOT EDIT\.?$`)
	// atGenerated is the marker Meta's and Phabricator's tools write in a
	// comment at the top of a file ("@generated" or "@generated by ...").
	atGenerated   = regexp.MustCompile(`^@generated(\s|$)`)
	sourceMapLine = regexp.MustCompile(`^/[*/][#@] source(Mapping)?URL=|sourceURL=`)
)

// headerLines is how many lines from the top the generated markers are
// looked for in (Linguist looks at 40 for Go).
const headerLines = 40

// generatedHeader returns which generator's marker the top of a file
// carries, or "".
func generatedHeader(ext string, head []byte) string {
	lines := strings.Split(string(head), "\n")
	if len(lines) > headerLines {
		lines = lines[:headerLines]
	}
	if len(bytes.TrimSpace(head)) == 0 {
		return ""
	}
	for i, raw := range lines {
		l := strings.TrimRight(raw, "\r")
		t := strings.TrimSpace(l)
		if ext == ".go" {
			if goGenerated.MatchString(l) {
				return "Code generated ... DO NOT EDIT."
			}
			if strings.HasPrefix(t, "package ") {
				break // Go's marker must come before the package clause
			}
			continue
		}
		text := uncomment(t)
		switch {
		case codeGenerated.MatchString(text):
			return "Code generated ... DO NOT EDIT."
		case atGenerated.MatchString(text):
			return "@generated"
		case i < 5 && strings.Contains(t, "Generated by the protocol buffer compiler.  DO NOT EDIT!"):
			return "protoc"
		case i < 10 && strings.Contains(t, "GENERATED CODE -- DO NOT EDIT!"):
			return "protoc"
		case i < 10 && strings.Contains(t, "Generated by GNU Autoconf"):
			return "GNU Autoconf"
		case i < 5 && strings.Contains(t, "Generated by PEG.js"):
			return "PEG.js"
		case i == 0 && ext == ".js" && strings.HasPrefix(t, "// Generated by "):
			return strings.TrimPrefix(t, "// Generated ") // "by CoffeeScript 1.12.7" and other compilers
		case i == 0 && (ext == ".c" || ext == ".cpp") && strings.Contains(t, "Generated by Cython"):
			return "Cython"
		}
	}
	return ""
}

// uncomment strips a comment leader (//, #, /*, *, --, ;, <!--) and
// trailer from a trimmed line.
func uncomment(t string) string {
	for _, lead := range []string{"<!--", "/**", "/*", "//", "#", "--", ";", "*"} {
		if strings.HasPrefix(t, lead) {
			t = strings.TrimSpace(strings.TrimPrefix(t, lead))
			break
		}
	}
	for _, trail := range []string{"-->", "*/"} {
		t = strings.TrimSpace(strings.TrimSuffix(t, trail))
	}
	return t
}
