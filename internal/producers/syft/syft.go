// Package syft runs Anchore's syft on a folder to write a CycloneDX bill
// of materials, and carries it as one SBOM issue (read by the cyclonedx
// parser), as Dracon's SBOM producers did.
package syft

import (
	"errors"
	"path/filepath"
	"strings"

	"github.com/draconsec/dracon/internal/producers"
	"github.com/draconsec/dracon/internal/producers/cyclonedx"
)

const name = "syft"

// Producer is syft: a software bill of materials of the repository.
var Producer = &producers.Producer{
	Name:        name,
	Kind:        producers.SBOM,
	Languages:   []string{"any"},
	Description: "a CycloneDX software bill of materials of every package the repository pins or vendors",
	Formats:     []string{"json", "xml"},
	Parse:       Parse,
	Detect: []string{
		"go.mod", "requirements*.txt", "Pipfile.lock", "poetry.lock", "package-lock.json", "yarn.lock",
		"pnpm-lock.yaml", "Cargo.lock", "Gemfile.lock", "composer.lock", "pom.xml", "*.jar",
		"packages.lock.json", "pubspec.lock", "mix.lock",
	},
	RunsHere: true,
	Tool: &producers.Tool{
		Binary:    "syft",
		Version:   "v1.57.0",
		GoPackage: "github.com/anchore/syft/cmd/syft",
		// `go install` refuses syft's go.mod (replace directives): it is
		// built as a tool of a throwaway module.
		// The versions syft asks for of these two are refused by the Go
		// module proxy; these pins build (the same as grype's).
		GoModule: &producers.GoModule{
			Require: []string{"github.com/docker/cli@v29.9.3+incompatible"},
			Replace: []string{"github.com/github/go-spdx/v2=github.com/github/go-spdx/v2@v2.7.0"},
		},
		Image: "docker.io/anchore/syft:v1.57.0",
		Args: func(src, out string) []string {
			// --source-name keeps the BOM's subject (and so the SBOM issue's
			// target) the repository's folder name, not this machine's path.
			return []string{"scan", "dir:.", "--output", "cyclonedx-json=" + out,
				"--source-name", filepath.Base(src), "--quiet"}
		},
		VersionArgs: []string{"version"},
	},
}

// Parse reads the CycloneDX BOM syft wrote (JSON or XML). It must name
// syft among the tools in its metadata, so that another tool's BOM is
// read by the cyclonedx producer instead.
func Parse(data []byte) (*producers.Parsed, error) {
	parsed, bom, err := cyclonedx.ParseBOM(data)
	if err != nil {
		var pe *producers.ParseError
		if errors.As(err, &pe) {
			pe.Tool = name
		}
		return nil, err
	}
	for _, t := range bom.Tools {
		if strings.EqualFold(t.Name, name) {
			// A syft built from source (go build) names no version:
			// "[not provided]". That is not a version.
			if v := strings.TrimPrefix(t.Version, "v"); v != "" && !strings.Contains(v, "not provided") {
				parsed.ToolVersion = v
			}
			for _, is := range parsed.Issues {
				is.ToolName = name
				is.ToolVersion = parsed.ToolVersion
			}
			return parsed, nil
		}
	}
	var names []string
	for _, t := range bom.Tools {
		names = append(names, t.Name)
	}
	return nil, producers.Errorf(name, "not a BOM written by syft (its tools: %s); read it with the cyclonedx producer",
		producers.FirstNonEmpty(strings.Join(names, ", "), "none named"))
}
