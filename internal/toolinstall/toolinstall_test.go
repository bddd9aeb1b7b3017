package toolinstall

import "testing"

func TestVersionIn(t *testing.T) {
	for in, want := range map[string]string{
		"bandit 1.6.2\n  python version = 3.11.2":                                 "1.6.2",
		"ShellCheck - shell script analysis tool\nversion: 0.9.0\nlicense: GPLv3": "0.9.0",
		"Version: v8.30.1":  "v8.30.1",
		"eslint v8.57.1\n":  "v8.57.1",
		"no version here\n": "no version here",
	} {
		if got := versionIn(in); got != want {
			t.Errorf("versionIn(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestModulePath(t *testing.T) {
	for in, want := range map[string]string{
		"github.com/securego/gosec/v2/cmd/gosec":   "github.com/securego/gosec/v2",
		"github.com/zricethezav/gitleaks/v8":       "github.com/zricethezav/gitleaks/v8",
		"golang.org/x/vuln/cmd/govulncheck":        "golang.org/x/vuln",
		"github.com/aquasecurity/trivy/cmd/trivy":  "github.com/aquasecurity/trivy",
		"github.com/Checkmarx/kics/v2/cmd/console": "github.com/Checkmarx/kics/v2",
	} {
		if got := modulePath(in); got != want {
			t.Errorf("modulePath(%q) = %q, want %q", in, got, want)
		}
	}
}
