// Package hadolint runs hadolint on Dockerfiles and parses its JSON
// report.
package hadolint

import (
	"bytes"
	"io/fs"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/draconsec/dracon/internal/producers"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

const name = "hadolint"

// detect are the Dockerfile names hadolint is run on.
var detect = []string{"Dockerfile", "*.Dockerfile", "Dockerfile.*", "*.dockerfile", "Containerfile"}

// Producer is hadolint: Dockerfile best practice and the shell in RUN.
var Producer = &producers.Producer{
	Name:        name,
	Kind:        producers.IaC,
	Languages:   []string{"dockerfile"},
	Description: "Dockerfile mistakes: unpinned base images and packages, root users, shell pitfalls in RUN (ShellCheck)",
	Formats:     []string{"json", "sarif"},
	Parse:       Parse,
	Detect:      detect,
	Tool: &producers.Tool{
		Binary:  "hadolint",
		Version: "v2.15.1",
		Install: "download the static binary from https://github.com/hadolint/hadolint/releases (hadolint-Linux-x86_64), name it hadolint and put it on PATH",
		Image:   "docker.io/hadolint/hadolint:v2.15.1",
		Args: func(src, out string) []string {
			// hadolint lints the files it is given, so the Dockerfiles
			// under src are listed, relative to src (the runner starts it
			// there). --no-fail: exit 0 whatever is found; the gate decides.
			return append([]string{"--format", "json", "--no-fail", "--no-color"}, dockerfiles(src)...)
		},
		Stdout: true,
		// 1 is "rules violated" if --no-fail is not honoured.
		OKExitCodes: []int{1},
		VersionArgs: []string{"--version"},
	},
}

// skipDirs are folders a repository rarely means to ship.
var skipDirs = map[string]bool{".git": true, ".dracon": true, "node_modules": true, "vendor": true, ".venv": true, "venv": true}

// dockerfiles lists the Dockerfiles under src, sorted. With none, it
// names "Dockerfile", so hadolint reports the missing file rather than
// reading its standard input.
func dockerfiles(src string) []string {
	var out []string
	_ = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() {
			if p != src && skipDirs[d.Name()] {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || !isDockerfile(d.Name()) {
			return nil
		}
		if rel, err := filepath.Rel(src, p); err == nil {
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	sort.Strings(out)
	if len(out) == 0 {
		out = []string{"Dockerfile"}
	}
	return out
}

func isDockerfile(base string) bool {
	for _, g := range detect {
		if ok, _ := path.Match(g, base); ok {
			return true
		}
	}
	return false
}

type finding struct {
	Line    int     `json:"line"`
	Column  int     `json:"column"`
	Code    *string `json:"code"`
	Message string  `json:"message"`
	File    string  `json:"file"`
	Level   *string `json:"level"`
}

// Parse reads hadolint's JSON report (--format json): a list of rule
// violations, "[]" when there are none.
func Parse(data []byte) (*producers.Parsed, error) {
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] != '[' {
		return nil, producers.Errorf(name, "not a hadolint JSON report: expected a list")
	}
	var list []*finding
	if err := producers.DecodeJSON(name, data, &list); err != nil {
		return nil, err
	}
	out := &producers.Parsed{Issues: make([]*v1.Issue, 0, len(list))}
	for i, f := range list {
		if f == nil || f.Code == nil || f.Level == nil {
			return nil, producers.Errorf(name, `not a hadolint JSON report: entry %d has no "code" and "level"`, i+1)
		}
		code := strings.TrimSpace(*f.Code)
		file := f.File
		if strings.Contains(file, `\`) && !strings.Contains(file, "/") {
			file = strings.ReplaceAll(file, `\`, "/") // a report written on Windows
		}
		target := file
		if target == "" {
			target = "Dockerfile"
		}
		loc := producers.Loc(target, f.Line, f.Line)
		if f.Column > 0 {
			loc.StartColumn = int32(f.Column)
		}
		title := strings.TrimSpace(f.Message)
		if title == "" {
			title = code
		}
		iss := &v1.Issue{
			Target:      producers.Target(target, f.Line, f.Line),
			Type:        code,
			RuleId:      code,
			Title:       title,
			Severity:    severity(*f.Level),
			Description: strings.TrimSpace(code + ": " + f.Message),
			Location:    loc,
			Tags:        []string{strings.ToLower(strings.TrimSpace(*f.Level))},
			ToolName:    name,
		}
		if ref := reference(code); ref != "" {
			iss.References = []string{ref}
		}
		out.Issues = append(out.Issues, iss)
	}
	return out, nil
}

// severity maps hadolint's levels, most severe first: error HIGH,
// warning MEDIUM, info LOW, style INFO. A level hadolint does not write
// is MEDIUM.
func severity(level string) v1.Severity {
	switch strings.ToLower(strings.TrimSpace(level)) {
	case "error":
		return v1.Severity_SEVERITY_HIGH
	case "warning":
		return v1.Severity_SEVERITY_MEDIUM
	case "info":
		return v1.Severity_SEVERITY_LOW
	case "style":
		return v1.Severity_SEVERITY_INFO
	default:
		return v1.Severity_SEVERITY_MEDIUM
	}
}

// reference is the documentation page of a rule: hadolint's wiki for its
// own DL rules, ShellCheck's for the SC rules it runs on RUN lines.
func reference(code string) string {
	switch {
	case strings.HasPrefix(code, "DL") && len(code) > 2:
		return "https://github.com/hadolint/hadolint/wiki/" + code
	case strings.HasPrefix(code, "SC") && len(code) > 2:
		return "https://www.shellcheck.net/wiki/" + code
	}
	return ""
}
