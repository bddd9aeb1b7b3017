// Package registry lists every producer Dracon knows, in one place.
// Adding a producer is one folder under internal/producers and one line here.
package registry

import (
	"fmt"
	"sort"
	"strings"

	"github.com/draconsec/dracon/internal/producers"
	"github.com/draconsec/dracon/internal/producers/bandit"
	"github.com/draconsec/dracon/internal/producers/brakeman"
	"github.com/draconsec/dracon/internal/producers/cargoaudit"
	"github.com/draconsec/dracon/internal/producers/checkov"
	"github.com/draconsec/dracon/internal/producers/cyclonedx"
	"github.com/draconsec/dracon/internal/producers/dependencycheck"
	"github.com/draconsec/dracon/internal/producers/eslint"
	"github.com/draconsec/dracon/internal/producers/githubalerts"
	"github.com/draconsec/dracon/internal/producers/gitleaks"
	"github.com/draconsec/dracon/internal/producers/gosec"
	"github.com/draconsec/dracon/internal/producers/govulncheck"
	"github.com/draconsec/dracon/internal/producers/grype"
	"github.com/draconsec/dracon/internal/producers/hadolint"
	"github.com/draconsec/dracon/internal/producers/kics"
	"github.com/draconsec/dracon/internal/producers/nancy"
	"github.com/draconsec/dracon/internal/producers/npmaudit"
	"github.com/draconsec/dracon/internal/producers/nuclei"
	"github.com/draconsec/dracon/internal/producers/osvscanner"
	"github.com/draconsec/dracon/internal/producers/pipaudit"
	"github.com/draconsec/dracon/internal/producers/safety"
	"github.com/draconsec/dracon/internal/producers/sarif"
	"github.com/draconsec/dracon/internal/producers/semgrep"
	"github.com/draconsec/dracon/internal/producers/shellcheck"
	"github.com/draconsec/dracon/internal/producers/snyk"
	"github.com/draconsec/dracon/internal/producers/spotbugs"
	"github.com/draconsec/dracon/internal/producers/syft"
	"github.com/draconsec/dracon/internal/producers/tfsec"
	"github.com/draconsec/dracon/internal/producers/trivy"
	"github.com/draconsec/dracon/internal/producers/trufflehog"
	"github.com/draconsec/dracon/internal/producers/yarnaudit"
	"github.com/draconsec/dracon/internal/producers/zap"
)

// all is the catalogue. Keep it sorted by name.
var all = []*producers.Producer{
	bandit.Producer,
	brakeman.Producer,
	cargoaudit.Producer,
	checkov.Producer,
	cyclonedx.Producer,
	dependencycheck.Producer,
	eslint.Producer,
	githubalerts.CodeScanning,
	githubalerts.Dependabot,
	gitleaks.Producer,
	gosec.Producer,
	govulncheck.Producer,
	grype.Producer,
	hadolint.Producer,
	kics.Producer,
	nancy.Producer,
	npmaudit.Producer,
	nuclei.Producer,
	osvscanner.Producer,
	pipaudit.Producer,
	safety.Producer,
	sarif.Producer,
	semgrep.Producer,
	shellcheck.Producer,
	snyk.Producer,
	spotbugs.Producer,
	syft.Producer,
	tfsec.Producer,
	trivy.Producer,
	trufflehog.Producer,
	yarnaudit.Producer,
	zap.Producer,
}

// All returns every producer, sorted by name.
func All() []*producers.Producer {
	out := append([]*producers.Producer(nil), all...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Lookup finds a producer by name or alias, ignoring case and treating
// "_" and "-" alike.
func Lookup(name string) (*producers.Producer, error) {
	key := normalise(name)
	for _, p := range all {
		if normalise(p.Name) == key {
			return p, nil
		}
		for _, a := range p.Aliases {
			if normalise(a) == key {
				return p, nil
			}
		}
	}
	return nil, fmt.Errorf("unknown producer %q (known: %s)", name, strings.Join(Names(), ", "))
}

// Names lists producer names.
func Names() []string {
	var out []string
	for _, p := range All() {
		out = append(out, p.Name)
	}
	return out
}

func normalise(s string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "_", "-")
}

// Parse reads a report of producer p. A SARIF report is read by the SARIF
// importer whatever the tool, so every tool that can write SARIF is covered
// without a second parser of its own. Secret scanners are the exception:
// their SARIF snippets hold the secret itself, and only the tool's own
// parser knows to hide it. So the generic importer also hands a log whose
// driver is a secret scanner (gitleaks SARIF named as "sarif") back to
// that scanner's parser.
func Parse(p *producers.Producer, data []byte) (*producers.Parsed, error) {
	if p.Name != sarif.Producer.Name && p.Kind != producers.Secrets && sarif.Sniff(data) {
		return sarif.ParseAs(p.Name, data)
	}
	got, err := p.Parse(data)
	if err != nil || p.Name != sarif.Producer.Name {
		return got, err
	}
	seen := map[string]bool{}
	for _, is := range got.Issues {
		if seen[is.ToolName] {
			continue
		}
		seen[is.ToolName] = true
		if q, err := Lookup(is.ToolName); err == nil && q.Kind == producers.Secrets {
			return q.Parse(data)
		}
	}
	return got, nil
}
