package registry

import (
	"os"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
)

// TestSecretSARIFThroughGenericImporter: gitleaks' SARIF imported as plain
// "sarif" still goes through gitleaks' own parser, which hides the secret.
func TestSecretSARIFThroughGenericImporter(t *testing.T) {
	data, err := os.ReadFile("../gitleaks/testdata/v8.30.1.sarif")
	if err != nil {
		t.Fatal(err)
	}
	p, _ := Lookup("sarif")
	got, err := Parse(p, data)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Issues) == 0 || len(got.Secrets) == 0 {
		t.Fatalf("%d issues, %d secrets", len(got.Issues), len(got.Secrets))
	}
	for _, is := range got.Issues {
		b, _ := protojson.Marshal(is)
		for _, s := range got.Secrets {
			if strings.Contains(string(b), s) {
				t.Errorf("issue holds a secret: %s", b)
			}
		}
	}
}

func TestEveryProducerIsComplete(t *testing.T) {
	owner := map[string]string{}
	for _, p := range All() {
		if p.Name == "" || p.Parse == nil || p.Kind == "" || p.Description == "" || len(p.Formats) == 0 {
			t.Errorf("%s: incomplete: %+v", p.Name, p)
		}
		for _, n := range append([]string{p.Name}, p.Aliases...) {
			if o, ok := owner[normalise(n)]; ok && o != p.Name {
				t.Errorf("%s: name %q is %s's already", p.Name, n, o)
			}
			owner[normalise(n)] = p.Name
		}
		if tool := p.Tool; tool != nil && (tool.Binary == "" || tool.Version == "" || tool.Args == nil || tool.InstallHint(p.Name) == "") {
			t.Errorf("%s: a tool without binary, version, args or install hint", p.Name)
		}
		if _, err := os.Stat("../../../docs/producers/" + p.Name + ".md"); err != nil {
			t.Errorf("%s has no docs/producers page", p.Name)
		}
	}
}
