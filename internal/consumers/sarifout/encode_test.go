package sarifout

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"testing"

	v1 "github.com/draconsec/dracon/proto/dracon/v1"
	"github.com/owenrumney/go-sarif/v2/sarif"
)

// TestFastEncoder: the hand encoder writes what encoding/json writes for
// every result of the samples, and takes the fast path for all of them.
func TestFastEncoder(t *testing.T) {
	_, sampled := sample(t)
	var all []*v1.EnrichedIssue
	for _, r := range append(sampled, many(300, true)...) {
		all = append(all, r.Issues...)
	}
	for i, ei := range all {
		hash := ""
		if i%3 != 0 {
			hash = fmt.Sprintf("%x:%d", i*7919, i%4+1)
		}
		res := result(ei, i%5, hash)
		want, err := json.MarshalIndent(res, resultIndent, "  ")
		if err != nil {
			t.Fatal(err)
		}
		e := &indenter{}
		if !appendResult(e, res) {
			t.Fatalf("result %d took the slow path", i)
		}
		if string(e.b) != string(want) {
			t.Fatalf("result %d:\n got %s\nwant %s", i, e.b, want)
		}
	}
}

// TestFastEncoderDeclines: what the encoder does not cover goes to
// encoding/json, and Write's output still matches the document.
func TestFastEncoderDeclines(t *testing.T) {
	is := &v1.EnrichedIssue{RawIssue: &v1.Issue{RuleId: "R1", Title: "t", Location: &v1.Location{Path: "a.go", StartLine: 3}}, Hash: "h"}
	cases := map[string]func(*sarif.Result){
		"fixes":          func(r *sarif.Result) { r.Fixes = []*sarif.Fix{sarif.NewFix()} },
		"float property": func(r *sarif.Result) { r.Properties["score"] = 1.5 },
		"snippet": func(r *sarif.Result) {
			r.Locations[0].PhysicalLocation.Region.Snippet = sarif.NewArtifactContent().WithText("x")
		},
		"markdown": func(r *sarif.Result) { r.Message.Markdown = strPtr("*x*") },
	}
	for name, change := range cases {
		res := result(is, 0, "")
		change(res)
		if appendResult(&indenter{}, res) {
			t.Errorf("%s: the fast encoder took a result it does not cover", name)
		}
	}
}

// TestFastEncoderKnowsEveryField: a go-sarif release that adds a field to
// a type the encoder writes must be looked at (plainResult checks every
// field the encoder does not write).
func TestFastEncoderKnowsEveryField(t *testing.T) {
	known := map[reflect.Type][]string{
		reflect.TypeFor[sarif.Result](): {"PropertyBag", "Guid", "CorrelationGuid", "RuleID", "RuleIndex", "Rule", "Taxa", "Kind", "Level", "Message", "Locations",
			"AnalysisTarget", "WebRequest", "WebResponse", "Fingerprints", "PartialFingerprints", "CodeFlows", "Graphs", "GraphTraversals",
			"Stacks", "RelatedLocations", "Suppressions", "BaselineState", "Rank", "Attachments", "WorkItemUris", "HostedViewerUri",
			"Provenance", "Fixes", "OccurrenceCount"},
		reflect.TypeFor[sarif.Message]():          {"Text", "Markdown", "ID", "Arguments", "PropertyBag"},
		reflect.TypeFor[sarif.Location]():         {"Id", "PhysicalLocation", "LogicalLocations", "Message", "Annotations", "Relationships", "PropertyBag"},
		reflect.TypeFor[sarif.PhysicalLocation](): {"ArtifactLocation", "Region", "ContextRegion", "Address", "PropertyBag"},
		reflect.TypeFor[sarif.ArtifactLocation](): {"URI", "URIBaseId", "Index", "Description", "PropertyBag"},
		reflect.TypeFor[sarif.Region](): {"StartLine", "StartColumn", "EndLine", "EndColumn", "CharOffset", "CharLength", "ByteOffset", "ByteLength",
			"Snippet", "Message", "SourceLanguage", "PropertyBag"},
		reflect.TypeFor[sarif.Suppression](): {"Kind", "Status", "Location", "Guid", "Justification", "PropertyBag"},
	}
	for typ, want := range known {
		var got []string
		for i := 0; i < typ.NumField(); i++ {
			got = append(got, typ.Field(i).Name)
		}
		if !slices.Equal(got, want) {
			t.Errorf("sarif.%s has fields %v, the encoder knows %v: teach appendResult and plainResult", typ.Name(), got, want)
		}
	}
}
