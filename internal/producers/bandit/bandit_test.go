package bandit

import (
	"testing"

	"github.com/draconsec/dracon/internal/producers/producertest"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

func TestCorpus(t *testing.T) {
	got := producertest.CheckCorpus(t, "bandit", Parse, nil)
	first := got["bandit/dd.json"].Issues[0]
	if first.RuleId != "B303" || first.Target != "dojo/tools/acunetix/parser.py:39" ||
		first.Severity != v1.Severity_SEVERITY_MEDIUM || first.Confidence != v1.Confidence_CONFIDENCE_HIGH {
		t.Errorf("first issue = %v", first)
	}
}

func TestParseRejects(t *testing.T) {
	for name, in := range map[string]string{
		"empty":     " \n",
		"truncated": `{"results": [{"filename": "a.py"`,
		"gosec":     `{"Issues": []}`,
	} {
		if _, err := Parse([]byte(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func FuzzParse(f *testing.F) {
	producertest.Seed(f, []string{"bandit"})
	f.Fuzz(func(t *testing.T, data []byte) { producertest.FuzzParse(t, Parse, data) })
}

func BenchmarkParse(b *testing.B) {
	producertest.BenchCorpusFile(b, Parse, "bandit/dd2.json")
}
