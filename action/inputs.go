package action

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/draconsec/dracon/internal/gate"
	"github.com/draconsec/dracon/internal/gitdiff"
	"github.com/draconsec/dracon/internal/producers/registry"
)

// Inputs are the action's inputs (action.yml), read from INPUT_* variables.
type Inputs struct {
	Config    string   // dracon.yaml; "" finds one as dracon run does
	Source    string   // the folder scanned, relative to the workspace
	Producers []string // nil: the config's, else auto-detection
	Policies  []string // --policy paths; nil: the config's, else builtin:default
	FailOn    string   // "" keeps the config's gate.fail_on
	// BaselineRef and DiffFilter are dracon run's --baseline-ref and
	// --diff-filter.
	BaselineRef, DiffFilter string
	UploadSARIF             string // auto, true or false
	WaitForProcessing       bool
	Category                string // "" is DefaultCategory's
	Matrix                  string // toJSON(matrix), for the default category
	PRComment               string // off, summary or inline
	CheckRun                bool   // post the dracon/scan check run with the findings as annotations
	Annotations             int    // the most annotations of findings
	Token                   string
	Store                   string // a SQLite path or a postgres:// DSN; "" keeps the default
	Mode                    string // scan or release-gate
	Version                 string // the release the install step looked for (informational)
}

// The inputs' allowed values.
const (
	ModeScan        = "scan"
	ModeReleaseGate = "release-gate"

	CommentOff     = "off"
	CommentSummary = "summary"
	CommentInline  = "inline"
)

// DefaultAnnotations is the annotations input's default: GitHub shows
// 10 of each level per step and 50 per job.
const DefaultAnnotations = 50

// inputEnv reads input name as the composite action passes it
// (INPUT_FAIL_ON: action.yml maps every input through env:, because a
// composite action's steps get no INPUT_* of their own, actions/runner#665),
// else as the runner sets it for JavaScript and Docker actions and as act
// sets it for composites too (INPUT_FAIL-ON). Values are trimmed.
func inputEnv(getenv func(string) string, name string) string {
	up := strings.ToUpper(strings.ReplaceAll(name, " ", "_"))
	if v := strings.TrimSpace(getenv("INPUT_" + strings.ReplaceAll(up, "-", "_"))); v != "" {
		return v
	}
	return strings.TrimSpace(getenv("INPUT_" + up))
}

// ReadInputs reads and checks every input; the error lists every bad one.
func ReadInputs(getenv func(string) string) (Inputs, error) {
	get := func(name string) string { return inputEnv(getenv, name) }
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("input %s: "+format, append([]any{name}, args...)...))
	}
	in := Inputs{
		Config:      get("config"),
		Source:      get("source"),
		FailOn:      strings.ToLower(get("fail-on")),
		BaselineRef: get("baseline-ref"),
		DiffFilter:  get("diff-filter"),
		Category:    get("category"),
		Matrix:      get("matrix"),
		Token:       get("token"),
		Store:       get("store"),
		Version:     get("version"),
	}
	if in.Source == "" {
		in.Source = "."
	}
	if p := get("producers"); p != "" && !strings.EqualFold(p, "auto") {
		for _, name := range splitList(p) {
			prod, err := registry.Lookup(name)
			if err != nil {
				bad("producers", "%v", err)
				continue
			}
			in.Producers = appendNew(in.Producers, prod.Name)
		}
	}
	in.Policies = splitList(get("policy"))
	if in.FailOn != "" {
		if _, err := gate.ParseSeverity(in.FailOn); err != nil {
			bad("fail-on", "%v", err)
		}
	}
	if in.DiffFilter != "" {
		if _, err := gitdiff.ParseMode(in.DiffFilter); err != nil {
			bad("diff-filter", "%v", err)
		}
	}
	in.UploadSARIF = oneOf(get("upload-sarif"), "auto", []string{"auto", "true", "false"}, func(v string) { bad("upload-sarif", "%q: want auto, true or false", v) })
	wait := oneOf(get("wait-for-processing"), "true", []string{"true", "false"}, func(v string) { bad("wait-for-processing", "%q: want true or false", v) })
	in.WaitForProcessing = wait == "true"
	in.PRComment = oneOf(get("pr-comment"), CommentOff, []string{CommentOff, CommentSummary, CommentInline}, func(v string) { bad("pr-comment", "%q: want off, summary or inline", v) })
	in.CheckRun = oneOf(get("check-run"), "false", []string{"true", "false"}, func(v string) { bad("check-run", "%q: want true or false", v) }) == "true"
	in.Mode = oneOf(get("mode"), ModeScan, []string{ModeScan, ModeReleaseGate}, func(v string) { bad("mode", "%q: want scan or release-gate", v) })
	in.Annotations = DefaultAnnotations
	if a := get("annotations"); a != "" {
		n, err := strconv.Atoi(a)
		if err != nil || n < 0 {
			bad("annotations", "%q: want a number, 0 for none", a)
		} else {
			in.Annotations = n
		}
	}
	if in.Mode == ModeReleaseGate {
		for name, v := range map[string]string{"baseline-ref": in.BaselineRef, "diff-filter": in.DiffFilter} {
			if v != "" {
				bad(name, "not for mode: release-gate (it judges every open finding of the commit)")
			}
		}
	}
	return in, errors.Join(errs...)
}

// oneOf is v lower-cased when it is one of allowed, def when it is "",
// else def after calling invalid.
func oneOf(v, def string, allowed []string, invalid func(string)) string {
	if v == "" {
		return def
	}
	l := strings.ToLower(v)
	for _, a := range allowed {
		if l == a {
			return l
		}
	}
	invalid(v)
	return def
}

// splitList splits a list given one a line or comma-separated, dropping
// blanks and YAML-style "- " bullets.
func splitList(s string) []string {
	var out []string
	for _, line := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' || r == ',' }) {
		line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "- "))
		if line != "" && !strings.HasPrefix(line, "#") {
			out = appendNew(out, line)
		}
	}
	return out
}

func appendNew(list []string, v string) []string {
	for _, x := range list {
		if x == v {
			return list
		}
	}
	return append(list, v)
}
