package shellcheck

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/draconsec/dracon/internal/producers/producertest"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// want is what ShellCheck 0.9.0 finds in testdata/scripts, as
// "rule file:line severity".
var want = []string{
	"SC2006 deploy.sh:12 SEVERITY_INFO",
	"SC2035 deploy.sh:6 SEVERITY_LOW",
	"SC2045 deploy.sh:6 SEVERITY_HIGH",
	"SC2068 bin/run:5 SEVERITY_HIGH",
	"SC2086 deploy.sh:5 SEVERITY_LOW",
	"SC2086 deploy.sh:7 SEVERITY_LOW",
	"SC2086 deploy.sh:9 SEVERITY_LOW",
	"SC2115 deploy.sh:5 SEVERITY_MEDIUM",
	"SC2162 bin/run:3 SEVERITY_LOW",
	"SC2164 deploy.sh:4 SEVERITY_MEDIUM",
	"SC2294 bin/run:5 SEVERITY_MEDIUM",
	"SC3014 deploy.sh:9 SEVERITY_MEDIUM",
}

func summary(issues []*v1.Issue) []string {
	var lines []string
	for _, is := range issues {
		lines = append(lines, fmt.Sprintf("%s %s:%d %s", is.RuleId, is.Location.Path, is.Location.StartLine, is.Severity))
	}
	sort.Strings(lines)
	return lines
}

// TestRecorded reads the reports ShellCheck 0.9.0 wrote for
// testdata/scripts: json1 (what Dracon runs) and the older bare-array json.
func TestRecorded(t *testing.T) {
	data, err := os.ReadFile("testdata/deploy-run.json")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	producertest.CheckIssues(t, got.Issues)
	if s := summary(got.Issues); !slices.Equal(s, want) {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(s, "\n"), strings.Join(want, "\n"))
	}
	first := got.Issues[0]
	if first.Target != "deploy.sh:4" || first.Title != "Use 'cd ... || exit' or 'cd ... || return' in case cd fails." ||
		first.Location.StartColumn != 1 || first.Location.EndColumn != 12 ||
		!slices.Equal(first.References, []string{"https://www.shellcheck.net/wiki/SC2164"}) ||
		!slices.Equal(first.Tags, []string{"warning"}) || first.Annotations["shellcheck.fix"] != "available" {
		t.Errorf("first = %v", first)
	}

	data, err = os.ReadFile("testdata/run-json.json")
	if err != nil {
		t.Fatal(err)
	}
	got, err = Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if s := summary(got.Issues); len(s) != 3 || s[0] != "SC2068 bin/run:5 SEVERITY_HIGH" {
		t.Errorf("json format: %v", s)
	}
}

func TestArgs(t *testing.T) {
	src, err := filepath.Abs("testdata/scripts")
	if err != nil {
		t.Fatal(err)
	}
	got := args(src, "ignored")
	wantArgs := []string{"--format=json1", "--severity=style", "--", "bin/run", "deploy.sh"}
	if !slices.Equal(got, wantArgs) {
		t.Errorf("args = %q, want %q", got, wantArgs)
	}
	if got := args(t.TempDir(), "x"); !slices.Equal(got, []string{"--format=json1", "--severity=style", "--shell=sh", os.DevNull}) {
		t.Errorf("no scripts: %q", got)
	}
}

func TestShellShebang(t *testing.T) {
	for line, want := range map[string]bool{
		"#!/bin/sh\n":               true,
		"#!/bin/bash -eu\n":         true,
		"#! /usr/bin/env bash\n":    true,
		"#!/usr/bin/env -S dash -e": true,
		"#!/bin/ksh":                true,
		"#!/usr/bin/env python3\n":  false,
		"#!/usr/bin/zsh\n":          false,
		"# not a shebang\n":         false,
		"#!":                        false,
		"echo hi\n":                 false,
	} {
		if got := ShellShebang([]byte(line)); got != want {
			t.Errorf("ShellShebang(%q) = %v", line, got)
		}
	}
}

func TestParseRejects(t *testing.T) {
	for name, in := range map[string]string{
		"empty":      "",
		"truncated":  `{"comments":[{"file":"a.sh","line":1`,
		"gosec":      `{"Issues": []}`,
		"hadolint":   `[{"code":"DL3008","column":1,"file":"Dockerfile","level":"warning","line":3,"message":"Pin versions"}]`,
		"no level":   `{"comments":[{"file":"a.sh","line":1,"code":2086,"message":"x"}]}`,
		"not object": `"comments"`,
	} {
		if _, err := Parse([]byte(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	for _, in := range []string{`{"comments":[]}`, `[]`} {
		if got, err := Parse([]byte(in)); err != nil || len(got.Issues) != 0 {
			t.Errorf("%s: %v %v", in, got, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	producertest.Seed(f, nil, "testdata/*.json")
	f.Fuzz(func(t *testing.T, data []byte) { producertest.FuzzParse(t, Parse, data) })
}

func BenchmarkParse(b *testing.B) {
	// ShellCheck has no corpus; its recorded report's comments repeated
	// 200 times stand for a large repository's.
	data, err := os.ReadFile("testdata/deploy-run.json")
	if err != nil {
		b.Fatal(err)
	}
	s := strings.TrimSpace(string(data))
	items := s[strings.Index(s, "[")+1 : strings.LastIndex(s, "]")]
	var sb strings.Builder
	sb.WriteString(`{"comments":[`)
	for i := range 200 {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(items)
	}
	sb.WriteString("]}")
	data = []byte(sb.String())
	producertest.BenchParse(b, Parse, data)
}

// TestRealShellcheck runs ShellCheck on testdata/scripts: Args must find
// deploy.sh and bin/run (by its shebang) and skip tool.py, notes.txt and
// node_modules.
func TestRealShellcheck(t *testing.T) {
	got := producertest.RunTool(t, Producer, "testdata/scripts")
	if s := summary(got.Issues); !slices.Equal(s, want) {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(s, "\n"), strings.Join(want, "\n"))
	}
}
