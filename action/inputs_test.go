package action

import (
	"reflect"
	"strings"
	"testing"
)

func TestReadInputsDefaults(t *testing.T) {
	in, err := ReadInputs(envMap(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := Inputs{Source: ".", UploadSARIF: "auto", WaitForProcessing: true, PRComment: CommentOff,
		Annotations: DefaultAnnotations, Mode: ModeScan}
	if !reflect.DeepEqual(in, want) {
		t.Errorf("defaults:\n got %+v\nwant %+v", in, want)
	}
}

func TestReadInputs(t *testing.T) {
	env := map[string]string{
		// action.yml's env: mapping, underscores.
		"INPUT_CONFIG":              "teams/payments/dracon.yaml",
		"INPUT_SOURCE":              "services/payments",
		"INPUT_PRODUCERS":           "golang-gosec, gitleaks,python-bandit, gosec",
		"INPUT_POLICY":              "builtin:default\n- policies/\n\n# a comment\npolicies/extra.rego",
		"INPUT_FAIL_ON":             "HIGH",
		"INPUT_BASELINE_REF":        "main",
		"INPUT_DIFF_FILTER":         "added",
		"INPUT_UPLOAD_SARIF":        "True",
		"INPUT_WAIT_FOR_PROCESSING": "false",
		"INPUT_CATEGORY":            "payments",
		"INPUT_PR_COMMENT":          "inline",
		"INPUT_ANNOTATIONS":         "7",
		"INPUT_TOKEN":               " ghs_abc ",
		"INPUT_STORE":               "postgres://dracon:pw@db/dracon",
		"INPUT_MODE":                "scan",
		// The runner's (and act's) own names keep the hyphen; the
		// underscore form wins when both are set.
		"INPUT_FAIL-ON": "low",
		"INPUT_MATRIX":  `{"go":"1.26"}`,
	}
	in, err := ReadInputs(envMap(env))
	if err != nil {
		t.Fatal(err)
	}
	want := Inputs{
		Config: "teams/payments/dracon.yaml", Source: "services/payments",
		Producers: []string{"gosec", "gitleaks", "bandit"},
		Policies:  []string{"builtin:default", "policies/", "policies/extra.rego"},
		FailOn:    "high", BaselineRef: "main", DiffFilter: "added", UploadSARIF: "true", WaitForProcessing: false,
		Category: "payments", Matrix: `{"go":"1.26"}`, PRComment: CommentInline, Annotations: 7, Token: "ghs_abc",
		Store: "postgres://dracon:pw@db/dracon", Mode: ModeScan,
	}
	if !reflect.DeepEqual(in, want) {
		t.Errorf("\n got %+v\nwant %+v", in, want)
	}
}

func TestReadInputsHyphenated(t *testing.T) {
	in, err := ReadInputs(envMap(map[string]string{"INPUT_FAIL-ON": "medium", "INPUT_PR-COMMENT": "summary", "INPUT_PRODUCERS": "auto"}))
	if err != nil {
		t.Fatal(err)
	}
	if in.FailOn != "medium" || in.PRComment != CommentSummary || in.Producers != nil {
		t.Errorf("got %+v", in)
	}
}

func TestReadInputsErrors(t *testing.T) {
	_, err := ReadInputs(envMap(map[string]string{
		"INPUT_PRODUCERS":    "gosec,nosuchscanner",
		"INPUT_FAIL_ON":      "severe",
		"INPUT_DIFF_FILTER":  "lines",
		"INPUT_UPLOAD_SARIF": "yes",
		"INPUT_PR_COMMENT":   "loud",
		"INPUT_ANNOTATIONS":  "-1",
		"INPUT_MODE":         "audit",
	}))
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"input producers:", "nosuchscanner", "input fail-on:", "input diff-filter:", "input upload-sarif:",
		"input pr-comment:", "input annotations:", "input mode:"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	_, err = ReadInputs(envMap(map[string]string{"INPUT_MODE": "release-gate", "INPUT_DIFF_FILTER": "added"}))
	if err == nil || !strings.Contains(err.Error(), "not for mode: release-gate") {
		t.Errorf("release gate with a diff filter: %v", err)
	}
}
