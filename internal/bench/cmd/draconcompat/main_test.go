package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// TestEnrichedFileDecodesWithDraconNumbers runs `dracon run` on the fixed
// input and reads the <tool>.enriched.pb files it writes with Dracon's
// field numbers only (wire.go: EnrichedLaunchToolResponse field 2 →
// EnrichedIssue field 7's map entries), without Dracon's code: every
// finding carries "Policy Pass: example/gosec" with the example policy's
// decision. `make dracon-compat` does the same through Dracon's own
// consumer.
func TestEnrichedFileDecodesWithDraconNumbers(t *testing.T) {
	res, err := ourRun(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if res.Code != 0 {
		t.Errorf("dracon run: exit %d, want 0 (only the example policy, which has no deny rule)\n%s", res.Code, res.Log)
	}
	bySeverity := map[string]int{}
	values := map[string]int{}
	tools := map[string]int{}
	noUUID := 0
	for _, f := range res.Enriched {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		wf, err := decodeDracon(b)
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(f), err)
		}
		if want := strings.TrimSuffix(filepath.Base(f), ".enriched.pb"); wf.Tool != want {
			t.Errorf("%s: original_results.tool_name %q, want %q", filepath.Base(f), wf.Tool, want)
		}
		for _, is := range wf.Issues {
			tools[wf.Tool]++
			bySeverity[severityNames[is.Severity]]++
			got, ok := is.Annotations[annotationKey]
			if !ok {
				t.Errorf("%s %s %s: no %q annotation in field 7 (has %v)", wf.Tool, is.Type, is.Target, annotationKey, is.Annotations)
				continue
			}
			values[got]++
			if want := wantAllow(is.Severity); got != want {
				t.Errorf("%s %s %s (%s): %s=%q, want %q", wf.Tool, is.Type, is.Target, severityNames[is.Severity], annotationKey, got, want)
			}
			if is.Count != 1 {
				t.Errorf("%s %s %s: count %d, want 1 (a first scan)", wf.Tool, is.Type, is.Target, is.Count)
			}
			if is.UUID == "" {
				noUUID++
			}
		}
	}
	if tools["gosec"] != 14 || tools["sarif"] != 3 {
		t.Errorf("findings per tool %v, want gosec 14 and sarif 3", tools)
	}
	for _, s := range []string{"SEVERITY_LOW", "SEVERITY_MEDIUM", "SEVERITY_HIGH", "SEVERITY_CRITICAL", "SEVERITY_INFO", "SEVERITY_UNSPECIFIED"} {
		if bySeverity[s] == 0 {
			t.Errorf("no %s finding: the input should cover every severity (%v)", s, bySeverity)
		}
	}
	if values["true"] != 14 || values["false"] != 3 {
		t.Errorf("annotation values %v, want true 14 and false 3", values)
	}
	t.Logf("%d findings %v; %s: %v; %d with an empty raw_issue.uuid (Dracon's aggregator groups by it)", tools["gosec"]+tools["sarif"], bySeverity, annotationKey, values, noUUID)
}

// TestDecodeDraconRejectsWrongWireType: a field Dracon knows with another
// wire type is an error, a field it does not know is skipped.
func TestDecodeDraconRejectsWrongWireType(t *testing.T) {
	entry := protowire.AppendTag(nil, mapKey, protowire.BytesType)
	entry = protowire.AppendString(entry, annotationKey)
	entry = protowire.AppendTag(entry, mapValue, protowire.BytesType)
	entry = protowire.AppendString(entry, "false")
	raw := protowire.AppendTag(nil, issSeverity, protowire.VarintType)
	raw = protowire.AppendVarint(raw, 5)
	issue := protowire.AppendTag(nil, eiRawIssue, protowire.BytesType)
	issue = protowire.AppendBytes(issue, raw)
	issue = protowire.AppendTag(issue, eiAnnotations, protowire.BytesType)
	issue = protowire.AppendBytes(issue, entry)
	issue = protowire.AppendTag(issue, 50, protowire.VarintType) // one of ours: is_new
	issue = protowire.AppendVarint(issue, 1)
	good := protowire.AppendTag(nil, elrIssues, protowire.BytesType)
	good = protowire.AppendBytes(good, issue)
	f, err := decodeDracon(good)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Issues) != 1 || f.Issues[0].Severity != 5 || f.Issues[0].Annotations[annotationKey] != "false" {
		t.Errorf("decoded %+v", f)
	}
	bad := protowire.AppendTag(nil, elrIssues, protowire.VarintType)
	bad = protowire.AppendVarint(bad, 1)
	if _, err := decodeDracon(bad); err == nil {
		t.Error("issues as a varint: no error")
	}
}

func TestParseComponentOutput(t *testing.T) {
	out := strings.Join([]string{
		// Dracon at f590cedf: a JSON slog record, the document in msg.
		`{"time":"2026-12-02T03:14:40Z","level":"INFO","msg":"{\"tool_name\":\"gosec\",\"target\":\"goapp/main.go:5\",\"type\":\"G501\",\"severity\":3,\"count\":1,\"annotations\":{\"Policy Pass: example/gosec\":\"true\"}}","scanID":""}`,
		// Without the slog default: log's prefix, then the document.
		`2024/01/02 03:04:05 {"tool_name":"sarif","target":"a.go:1","type":"CC002","severity":1,"annotations":{"Policy Pass: example/gosec":"false"}}`,
		`{"time":"2026-12-02T03:14:40Z","level":"INFO","msg":"skipping x.enriched.aggregated.pb as unable to unmarshal","scanID":""}`,
	}, "\n")
	docs, other := parseComponentOutput([]byte(out))
	if len(docs) != 2 || len(other) != 1 {
		t.Fatalf("docs %+v, other %q", docs, other)
	}
	if docs[0].ToolName != "gosec" || docs[0].Severity != 3 || docs[0].Annotations[annotationKey] != "true" {
		t.Errorf("slog line: %+v", docs[0])
	}
	if docs[1].ToolName != "sarif" || docs[1].Annotations[annotationKey] != "false" {
		t.Errorf("log line: %+v", docs[1])
	}

	files := []wireFile{{Tool: "gosec", Issues: []wireIssue{{Target: "goapp/main.go:5", Type: "G501", Severity: 3, Annotations: map[string]string{annotationKey: "true"}}}},
		{Tool: "sarif", Issues: []wireIssue{
			{Target: "a.go:1", Type: "CC002", Severity: 1, Annotations: map[string]string{annotationKey: "false"}},
			{Target: "a.go:2", Type: "CC003", Annotations: map[string]string{annotationKey: "false"}},
		}}}
	rows, problems := compare(files, docs)
	if len(rows) != 2 || len(problems) != 1 || !strings.Contains(problems[0], "did not print 1") {
		t.Errorf("rows %d, problems %q", len(rows), problems)
	}
	docs[1].Annotations = nil
	if _, problems := compare(files[:1], docs[:1]); len(problems) != 0 {
		t.Errorf("problems %q", problems)
	}
	if _, problems := compare(files[1:], docs[1:]); len(problems) != 2 { // missing annotation, and CC003 not printed
		t.Errorf("problems %q", problems)
	}
}

// TestDraconComponent is `make dracon-compat` as a test, when
// DRACON_COMPONENT names Dracon's built stdout-json consumer.
func TestDraconComponent(t *testing.T) {
	component := os.Getenv("DRACON_COMPONENT")
	if component == "" {
		t.Skip("DRACON_COMPONENT is not set (Dracon's built components/consumers/stdout-json; docs/dracon-compat.md)")
	}
	var out strings.Builder
	ok, err := check(context.Background(), &out, component, os.Getenv("DRACON_AGGREGATOR"), false)
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		t.Fail()
	}
}
