// Package shellcheck runs ShellCheck on shell scripts and parses its JSON
// report.
package shellcheck

import (
	"bufio"
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/draconsec/dracon/internal/producers"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

const name = "shellcheck"

// Producer is ShellCheck: bugs and unsafe constructs in sh/bash scripts.
var Producer = &producers.Producer{
	Name:        name,
	Kind:        producers.SAST,
	Languages:   []string{"shell"},
	Description: "shell script bugs: unquoted expansions, word splitting, unsafe rm/cd, POSIX portability",
	Formats:     []string{"json", "sarif"},
	Parse:       Parse,
	Detect:      []string{"*.sh", "*.bash"},
	RunsHere:    true,
	Tool: &producers.Tool{
		Binary:  "shellcheck",
		Version: "0.9.0",
		Install: "apt-get install shellcheck",
		Image:   "docker.io/koalaman/shellcheck:v0.9.0",
		Args:    args,
		// The report is ShellCheck's standard output.
		Stdout: true,
		// 1 is "issues found".
		OKExitCodes: []int{1},
		VersionArgs: []string{"--version"},
	},
}

// skipDirs are folders whose scripts a repository does not maintain.
var skipDirs = map[string]bool{".git": true, ".hg": true, ".svn": true, "node_modules": true, ".dracon": true}

// args lists the scripts under src: ShellCheck takes files, not folders.
// A script is a *.sh or *.bash file, or a file without an extension whose
// first line is a sh, bash, dash or ksh shebang. Paths are relative to src
// (the runner starts ShellCheck there), so the report's are too. With no
// script at all, ShellCheck reads /dev/null as an sh script (without
// --shell it would warn that the empty file has no shebang) and reports
// nothing.
func args(src, out string) []string {
	a := []string{"--format=json1", "--severity=style"}
	var files []string
	_ = filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // unreadable: skip it, scan the rest
		}
		if d.IsDir() {
			if path != src && skipDirs[d.Name()] {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil // symlinks may point outside the tree or nowhere
		}
		if isScript(path, d.Name()) {
			rel, err := filepath.Rel(src, path)
			if err != nil {
				rel = path
			}
			files = append(files, rel)
		}
		return nil
	})
	if len(files) == 0 {
		return append(a, "--shell=sh", os.DevNull)
	}
	return append(append(a, "--"), files...)
}

func isScript(path, base string) bool {
	switch filepath.Ext(base) {
	case ".sh", ".bash":
		return true
	case "":
		return hasShellShebang(path)
	}
	return false
}

// hasShellShebang reads the first line of a file.
func hasShellShebang(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	line, err := bufio.NewReaderSize(f, 256).ReadSlice('\n')
	if err != nil && len(line) == 0 {
		return false
	}
	return ShellShebang(line)
}

// ShellShebang reports whether line is a shebang for a shell ShellCheck
// reads: #!/bin/sh, #!/usr/bin/env bash, #!/bin/dash -e, ...
func ShellShebang(line []byte) bool {
	if !bytes.HasPrefix(line, []byte("#!")) {
		return false
	}
	fields := strings.Fields(string(line[2:]))
	if len(fields) == 0 {
		return false
	}
	interp := filepath.Base(fields[0])
	if interp == "env" {
		for _, f := range fields[1:] {
			if !strings.HasPrefix(f, "-") {
				interp = f
				break
			}
		}
	}
	switch interp {
	case "sh", "bash", "dash", "ksh":
		return true
	}
	return false
}

type comment struct {
	File      *string `json:"file"`
	Line      int     `json:"line"`
	EndLine   int     `json:"endLine"`
	Column    int     `json:"column"`
	EndColumn int     `json:"endColumn"`
	Level     string  `json:"level"`
	Code      *int    `json:"code"`
	Message   string  `json:"message"`
	Fix       *struct {
		Replacements []struct {
			Replacement string `json:"replacement"`
		} `json:"replacements"`
	} `json:"fix"`
}

// Parse reads ShellCheck's JSON report: --format=json1 ({"comments": [...]})
// or the older --format=json (a bare array of the same comments).
func Parse(data []byte) (*producers.Parsed, error) {
	var comments []comment
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		if err := producers.DecodeJSON(name, data, &comments); err != nil {
			return nil, err
		}
	} else {
		var r struct {
			Comments *[]comment `json:"comments"`
		}
		if err := producers.DecodeJSON(name, data, &r); err != nil {
			return nil, err
		}
		if r.Comments == nil {
			return nil, producers.Errorf(name, `not a ShellCheck json1 report: no "comments" key`)
		}
		comments = *r.Comments
	}
	out := &producers.Parsed{Issues: make([]*v1.Issue, 0, len(comments))}
	for i := range comments {
		c := &comments[i]
		if c.File == nil || c.Code == nil || c.Level == "" {
			return nil, producers.Errorf(name, `comment %d lacks "file", "code" or "level": not a ShellCheck report`, i)
		}
		out.Issues = append(out.Issues, toIssue(c))
	}
	return out, nil
}

func toIssue(c *comment) *v1.Issue {
	rule := "SC" + strconv.Itoa(*c.Code)
	path := *c.File
	if path == "" {
		path = "-" // ShellCheck's name for standard input
	}
	loc := producers.Loc(path, c.Line, c.EndLine)
	loc.StartColumn, loc.EndColumn = int32(c.Column), int32(c.EndColumn)
	iss := &v1.Issue{
		Target:      producers.Target(path, c.Line, c.EndLine),
		Type:        rule,
		RuleId:      rule,
		Title:       producers.FirstNonEmpty(c.Message, rule),
		Severity:    Severity(c.Level),
		Description: rule + ": " + c.Message,
		Location:    loc,
		References:  []string{"https://www.shellcheck.net/wiki/" + rule},
		Tags:        []string{c.Level},
		ToolName:    name,
	}
	if c.Fix != nil && len(c.Fix.Replacements) > 0 {
		iss.Annotations = map[string]string{"shellcheck.fix": "available"}
	}
	return iss
}

// Severity maps ShellCheck's levels: error (the script will break) HIGH,
// warning (likely a bug) MEDIUM, info (may misbehave on odd input) LOW,
// style INFO. An unknown level is MEDIUM.
func Severity(level string) v1.Severity {
	switch strings.ToLower(strings.TrimSpace(level)) {
	case "error":
		return v1.Severity_SEVERITY_HIGH
	case "warning":
		return v1.Severity_SEVERITY_MEDIUM
	case "info":
		return v1.Severity_SEVERITY_LOW
	case "style":
		return v1.Severity_SEVERITY_INFO
	}
	return v1.Severity_SEVERITY_MEDIUM
}
