// Package eslint runs ESLint with eslint-plugin-security on JavaScript and
// TypeScript and reads its SARIF report (@microsoft/eslint-formatter-sarif).
package eslint

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/draconsec/dracon/internal/producers"
	"github.com/draconsec/dracon/internal/producers/sarif"
)

const (
	name    = "eslint"
	binary  = "eslint"
	version = "8.57.1"
)

// Producer is ESLint with eslint-plugin-security's rules only.
var Producer = &producers.Producer{
	Name:      name,
	Aliases:   []string{"eslint-plugin-security", "typescript-eslint"},
	Kind:      producers.SAST,
	Languages: []string{"javascript", "typescript"},
	Description: "insecure JavaScript/TypeScript: eval, child_process, non-literal fs paths, " +
		"require and RegExp, unsafe regexes, timing attacks, object injection",
	Formats:  []string{"sarif"},
	Parse:    Parse,
	Detect:   []string{"package.json", "*.js", "*.mjs", "*.cjs", "*.jsx", "*.ts", "*.tsx"},
	RunsHere: true,
	Tool: &producers.Tool{
		Binary:  binary,
		Version: version,
		Npm: []string{"eslint@" + version, "eslint-plugin-security@4.1.0", "@microsoft/eslint-formatter-sarif@3.1.0",
			"@typescript-eslint/parser@7.18.0", "typescript@5"},
		Install: "dracon tools install eslint  (npm packages into Dracon's tool cache)",
		// ESLint publishes no container image of its own.
		Args:    args,
		Exclude: ignorePatterns,
		// 1 is "lint errors found" (parse errors count); 2 is a crash or a bad configuration.
		OKExitCodes: []int{1},
		VersionArgs: []string{"--version"},
	},
}

// rules are eslint-plugin-security 4.1.0's rules, all at "warn" as in its
// recommended configuration.
var rules = []string{
	"detect-bidi-characters", "detect-buffer-noassert", "detect-child-process",
	"detect-disable-mustache-escape", "detect-eval-with-expression", "detect-invisible-characters",
	"detect-new-buffer", "detect-no-csrf-before-method-override", "detect-non-literal-fs-filename",
	"detect-non-literal-regexp", "detect-non-literal-require", "detect-object-injection",
	"detect-possible-timing-attacks", "detect-pseudoRandomBytes", "detect-unsafe-regex",
}

// args runs ESLint with the security rules only (--no-eslintrc: the
// project's own style rules and plugins are not Dracon's business). The
// plugin, formatter and TypeScript parser are loaded from the node_modules
// ESLint itself was installed in, when that holds them (Dracon's tool
// cache); otherwise by name from the project (an `npm install --no-save`
// in the repository). TypeScript files are linted only when
// @typescript-eslint/parser is there.
func args(src, out string) []string {
	a := []string{"--no-eslintrc", "--plugin", "security"}
	for _, r := range rules {
		a = append(a, "--rule", "security/"+r+":warn")
	}
	a = append(a, "--parser-options", "ecmaVersion:latest", "--parser-options", "sourceType:module")
	exts := ".js,.jsx,.mjs,.cjs"
	formatter := "@microsoft/eslint-formatter-sarif"
	nm := toolModules()
	if nm == "" {
		nm = filepath.Join(src, "node_modules")
	} else {
		a = append(a, "--resolve-plugins-relative-to", filepath.Dir(nm))
		if f := filepath.Join(nm, "@microsoft", "eslint-formatter-sarif", "sarif.js"); exists(f) {
			formatter = f
		}
	}
	// The parser's package has no "main", only "exports", so ESLint 8
	// cannot load it by folder: name its entry file.
	if p := filepath.Join(nm, "@typescript-eslint", "parser", "dist", "index.js"); exists(p) {
		a = append(a, "--parser", p)
		exts += ",.ts,.tsx,.mts,.cts"
	}
	return append(a, "--ext", exts, "--format", formatter, "--output-file", out,
		"--no-error-on-unmatched-pattern", ".")
}

// ignorePatterns keeps ESLint out of the files and folders Dracon leaves
// out as vendored or generated: one --ignore-pattern each, anchored at the
// scanned folder (ESLint's working folder) by a leading "/". A path with a
// character that is special in ignore patterns, or a space, is not passed:
// Dracon's own filter drops findings there.
func ignorePatterns(paths []string) []string {
	var a []string
	for _, p := range paths {
		if p == "" || strings.ContainsAny(p, "*?[]\\!# ") {
			continue
		}
		a = append(a, "--ignore-pattern", "/"+strings.TrimPrefix(p, "/"))
	}
	return a
}

// toolModules finds the node_modules folder the eslint binary Dracon runs
// belongs to, following symlinks (node_modules/.bin/eslint points at
// node_modules/eslint/bin/eslint.js); "" when there is none.
func toolModules() string {
	bin, err := (&producers.Tool{Binary: binary, Version: version}).Locate()
	if err != nil {
		return ""
	}
	real, err := filepath.EvalSymlinks(bin)
	if err != nil {
		return ""
	}
	for dir := filepath.Dir(real); ; dir = filepath.Dir(dir) {
		if filepath.Base(dir) == "node_modules" {
			return dir
		}
		if nm := filepath.Join(dir, "node_modules"); exists(filepath.Join(nm, "eslint")) {
			return nm
		}
		if filepath.Dir(dir) == dir {
			return ""
		}
	}
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// Parse reads ESLint's SARIF report. It is the SARIF importer's reading,
// checked to be ESLint's (every run's driver is "ESLint"), with the file
// URIs the formatter writes (file:///abs/path%20with%20spaces.js) turned
// back into paths.
func Parse(data []byte) (*producers.Parsed, error) {
	got, err := sarif.ParseOwn(name, "ESLint", data)
	if err != nil {
		return nil, err
	}
	for _, is := range got.Issues {
		loc := is.GetLocation()
		if loc == nil || !strings.Contains(loc.Path, "%") {
			continue
		}
		if p, err := url.PathUnescape(loc.Path); err == nil {
			loc.Path = p
			is.Target = producers.Target(p, int(loc.StartLine), int(loc.EndLine))
		}
		if is.Target == "" {
			is.Target = name
		}
	}
	return got, nil
}
