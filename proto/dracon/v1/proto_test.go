package draconv1

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// TestGeneratedCodeIsFresh regenerates the Go code the way `make proto`
// does and fails when the committed file differs from it.
func TestGeneratedCodeIsFresh(t *testing.T) {
	protoc, err := exec.LookPath("protoc")
	if err != nil {
		msg := "protoc not found: apt-get install protobuf-compiler"
		if os.Getenv("DRACON_REQUIRE_TOOLS") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	plugin, err := exec.Command("go", "tool", "-n", "protoc-gen-go").Output()
	if err != nil {
		t.Fatalf("protoc-gen-go (a tool in go.mod): %v", err)
	}
	out := t.TempDir()
	cmd := exec.Command(protoc, "--plugin=protoc-gen-go="+strings.TrimSpace(string(plugin)),
		"--go_out="+out, "--go_opt=paths=source_relative", "proto/dracon/v1/issue.proto")
	cmd.Dir = "../../.."
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("protoc: %v\n%s", err, b)
	}
	fresh, err := os.ReadFile(filepath.Join(out, "proto", "dracon", "v1", "issue.pb.go"))
	if err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile("issue.pb.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fresh, committed) {
		t.Fatal("issue.pb.go is stale: run `make proto` and commit the result")
	}
}

// TestDraconWireFields pins the field numbers and types Dracon's own v1
// API uses, so components written for Dracon read what we write.
func TestDraconWireFields(t *testing.T) {
	type field struct {
		num      protoreflect.FieldNumber
		kind     protoreflect.Kind
		repeated bool
	}
	want := map[protoreflect.MessageDescriptor]map[string]field{
		(&Issue{}).ProtoReflect().Descriptor(): {
			"target": {1, protoreflect.StringKind, false}, "type": {2, protoreflect.StringKind, false},
			"title": {3, protoreflect.StringKind, false}, "severity": {4, protoreflect.EnumKind, false},
			"cvss": {5, protoreflect.DoubleKind, false}, "confidence": {6, protoreflect.EnumKind, false},
			"description": {7, protoreflect.StringKind, false}, "source": {8, protoreflect.StringKind, false},
			"cve": {9, protoreflect.StringKind, false}, "uuid": {10, protoreflect.StringKind, false},
			"cyclone_d_x_s_b_o_m": {11, protoreflect.StringKind, false}, "context_segment": {12, protoreflect.StringKind, false},
			"cwe": {13, protoreflect.Int32Kind, true},
		},
		(&EnrichedIssue{}).ProtoReflect().Descriptor(): {
			"raw_issue": {1, protoreflect.MessageKind, false}, "first_seen": {2, protoreflect.MessageKind, false},
			"count": {3, protoreflect.Uint64Kind, false}, "false_positive": {4, protoreflect.BoolKind, false},
			"updated_at": {5, protoreflect.MessageKind, false}, "hash": {6, protoreflect.StringKind, false},
			"annotations": {7, protoreflect.MessageKind, true},
		},
		(&ScanInfo{}).ProtoReflect().Descriptor(): {
			"scan_uuid": {1, protoreflect.StringKind, false}, "scan_start_time": {2, protoreflect.MessageKind, false},
			"scan_tags": {3, protoreflect.MessageKind, true},
		},
		(&LaunchToolResponse{}).ProtoReflect().Descriptor(): {
			"scan_info": {1, protoreflect.MessageKind, false}, "tool_name": {2, protoreflect.StringKind, false},
			"issues": {3, protoreflect.MessageKind, true}, "scan_target": {4, protoreflect.StringKind, false},
		},
		(&EnrichedLaunchToolResponse{}).ProtoReflect().Descriptor(): {
			"original_results": {1, protoreflect.MessageKind, false}, "issues": {2, protoreflect.MessageKind, true},
		},
	}
	for md, fields := range want {
		for name, w := range fields {
			fd := md.Fields().ByName(protoreflect.Name(name))
			if fd == nil {
				t.Errorf("%s.%s missing", md.Name(), name)
				continue
			}
			if fd.Number() != w.num || fd.Kind() != w.kind || (fd.Cardinality() == protoreflect.Repeated) != w.repeated {
				t.Errorf("%s.%s = #%d %v repeated=%v, want #%d %v repeated=%v", md.Name(), name,
					fd.Number(), fd.Kind(), fd.Cardinality() == protoreflect.Repeated, w.num, w.kind, w.repeated)
			}
		}
		// Our own fields take numbers from 50 up.
		for i := 0; i < md.Fields().Len(); i++ {
			fd := md.Fields().Get(i)
			if _, dracon := fields[string(fd.Name())]; !dracon && fd.Number() < 50 {
				t.Errorf("%s.%s has number %d: fields Dracon did not have start at 50", md.Name(), fd.Name(), fd.Number())
			}
		}
	}
	for _, e := range []protoreflect.EnumDescriptor{Severity(0).Descriptor(), Confidence(0).Descriptor()} {
		prefix := strings.ToUpper(string(e.Name())) + "_"
		for i, n := range []string{"UNSPECIFIED", "INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL"} {
			if v := e.Values().ByName(protoreflect.Name(prefix + n)); v == nil || int(v.Number()) != i {
				t.Errorf("%s%s should be %d", prefix, n, i)
			}
		}
	}
}
