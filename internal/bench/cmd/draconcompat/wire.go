package main

import (
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// Dracon's field numbers (github.com/ocurity/dracon api/proto/v1,
// package ocurity.dracon.v1), written out here so that the layout of our
// files is checked against Dracon's numbers and wire types, not against
// our own generated code.
const (
	elrOriginalResults = 1 // EnrichedLaunchToolResponse.original_results: LaunchToolResponse
	elrIssues          = 2 // EnrichedLaunchToolResponse.issues: repeated EnrichedIssue

	ltrToolName = 2 // LaunchToolResponse.tool_name: string

	eiRawIssue    = 1 // EnrichedIssue.raw_issue: Issue
	eiCount       = 3 // EnrichedIssue.count: uint64
	eiAnnotations = 7 // EnrichedIssue.annotations: map<string, string>

	mapKey, mapValue = 1, 2 // a map entry's key and value

	issTarget   = 1  // Issue.target: string
	issType     = 2  // Issue.type: string
	issSeverity = 4  // Issue.severity: Severity (enum, varint)
	issUUID     = 10 // Issue.uuid: string
)

// Dracon's Severity enum.
var severityNames = map[uint64]string{
	0: "SEVERITY_UNSPECIFIED", 1: "SEVERITY_INFO", 2: "SEVERITY_LOW",
	3: "SEVERITY_MEDIUM", 4: "SEVERITY_HIGH", 5: "SEVERITY_CRITICAL",
}

// wireFile is an EnrichedLaunchToolResponse as Dracon's numbers read it.
type wireFile struct {
	Tool   string
	Issues []wireIssue
}

// wireIssue is the part of one EnrichedIssue the check looks at.
type wireIssue struct {
	Target, Type, UUID string
	Severity           uint64
	Count              uint64
	Annotations        map[string]string
}

// decodeDracon walks an EnrichedLaunchToolResponse with Dracon's field
// numbers. A field Dracon knows arriving with another wire type is an
// error (Dracon's generated code would reject the file); fields it does
// not know (ours, numbered from 50) are skipped, as Dracon skips them.
func decodeDracon(b []byte) (wireFile, error) {
	var f wireFile
	err := walk(b, "EnrichedLaunchToolResponse", func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		switch num {
		case elrOriginalResults:
			if typ != protowire.BytesType {
				return wrongType("original_results", typ)
			}
			return walk(v, "LaunchToolResponse", func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
				if num == ltrToolName {
					if typ != protowire.BytesType {
						return wrongType("tool_name", typ)
					}
					f.Tool = string(v)
				}
				return nil
			})
		case elrIssues:
			if typ != protowire.BytesType {
				return wrongType("issues", typ)
			}
			is, err := decodeEnrichedIssue(v)
			if err != nil {
				return fmt.Errorf("issue %d: %w", len(f.Issues)+1, err)
			}
			f.Issues = append(f.Issues, is)
		}
		return nil
	})
	return f, err
}

func decodeEnrichedIssue(b []byte) (wireIssue, error) {
	is := wireIssue{Annotations: map[string]string{}}
	err := walk(b, "EnrichedIssue", func(num protowire.Number, typ protowire.Type, v []byte, n uint64) error {
		switch num {
		case eiRawIssue:
			if typ != protowire.BytesType {
				return wrongType("raw_issue", typ)
			}
			return walk(v, "Issue", func(num protowire.Number, typ protowire.Type, v []byte, n uint64) error {
				switch num {
				case issTarget, issType, issUUID:
					if typ != protowire.BytesType {
						return wrongType(fmt.Sprintf("Issue field %d", num), typ)
					}
					switch num {
					case issTarget:
						is.Target = string(v)
					case issType:
						is.Type = string(v)
					default:
						is.UUID = string(v)
					}
				case issSeverity:
					if typ != protowire.VarintType {
						return wrongType("severity", typ)
					}
					is.Severity = n
				}
				return nil
			})
		case eiCount:
			if typ != protowire.VarintType {
				return wrongType("count", typ)
			}
			is.Count = n
		case eiAnnotations:
			if typ != protowire.BytesType {
				return wrongType("annotations", typ)
			}
			var key, value string
			if err := walk(v, "annotations entry", func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
				if num != mapKey && num != mapValue {
					return nil
				}
				if typ != protowire.BytesType {
					return wrongType("annotations entry field", typ)
				}
				if num == mapKey {
					key = string(v)
				} else {
					value = string(v)
				}
				return nil
			}); err != nil {
				return err
			}
			is.Annotations[key] = value
		}
		return nil
	})
	return is, err
}

// walk calls fn for each field of a message: a length-delimited field's
// bytes as v, a varint's value as n.
func walk(b []byte, msg string, fn func(num protowire.Number, typ protowire.Type, v []byte, n uint64) error) error {
	for len(b) > 0 {
		num, typ, tn := protowire.ConsumeTag(b)
		if tn < 0 {
			return fmt.Errorf("%s: %w", msg, protowire.ParseError(tn))
		}
		b = b[tn:]
		var (
			v  []byte
			n  uint64
			vn int
		)
		switch typ {
		case protowire.BytesType:
			v, vn = protowire.ConsumeBytes(b)
		case protowire.VarintType:
			n, vn = protowire.ConsumeVarint(b)
		default:
			vn = protowire.ConsumeFieldValue(num, typ, b)
		}
		if vn < 0 {
			return fmt.Errorf("%s field %d: %w", msg, num, protowire.ParseError(vn))
		}
		b = b[vn:]
		if err := fn(num, typ, v, n); err != nil {
			return fmt.Errorf("%s: %w", msg, err)
		}
	}
	return nil
}

func wrongType(field string, typ protowire.Type) error {
	return fmt.Errorf("%s has wire type %d, not Dracon's", field, typ)
}
