package baseline

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	v1 "github.com/draconsec/dracon/proto/dracon/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

// File is a baseline read from a file (--baseline FILE): what an earlier
// run wrote, kept by CI as an artifact.
type File struct {
	Path string
	// Format is "sarif" (the dracon.sarif a run wrote) or "findings" (the
	// JSON `dracon run --format json` and `dracon consume --format json`
	// print).
	Format   string
	Findings []Finding
}

// SARIFFingerprint is the partialFingerprints key Dracon writes each
// result's hash under (internal/consumers/sarifout).
const SARIFFingerprint = "draconHash/v1"

// Load reads a baseline file. Two formats are read, told apart by their
// content:
//
//   - SARIF written by Dracon: each result's partialFingerprints carry
//     draconHash/v1, the best signature the finding had. That is what CI
//     keeps of a base-branch run most often (it is uploaded to code
//     scanning anyway). The algorithm is not written, so a value matches
//     a finding that has it under any algorithm; results that are another
//     tool's report of a finding (dracon/duplicateOf) are that finding.
//   - Findings JSON (`--format json`): every signature of every finding,
//     matched on the best algorithm both have, as the store matches.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	f, err := parse(data)
	if err != nil {
		return nil, fmt.Errorf("baseline %s: %w", path, err)
	}
	f.Path = path
	return f, nil
}

func parse(data []byte) (*File, error) {
	t := bytes.TrimSpace(data)
	switch {
	case len(t) == 0:
		return nil, errors.New("empty file")
	case t[0] == '[':
		return parseFindings(t)
	case t[0] == '{':
		var probe struct {
			Runs            json.RawMessage `json:"runs"`
			OriginalResults json.RawMessage `json:"originalResults"`
			Issues          json.RawMessage `json:"issues"`
		}
		if err := json.Unmarshal(t, &probe); err != nil {
			return nil, fmt.Errorf("not JSON: %w", err)
		}
		if probe.Runs != nil {
			return parseSARIF(t)
		}
		if probe.OriginalResults != nil || probe.Issues != nil {
			return parseFindings(append(append([]byte{'['}, t...), ']'))
		}
	}
	return nil, errors.New("neither a SARIF file Dracon wrote nor Dracon's findings JSON (dracon run --format json)")
}

type sarifLog struct {
	Runs []struct {
		Tool struct {
			Driver struct {
				Name string `json:"name"`
			} `json:"driver"`
		} `json:"tool"`
		Results []struct {
			PartialFingerprints map[string]any `json:"partialFingerprints"`
			Properties          map[string]any `json:"properties"`
		} `json:"results"`
	} `json:"runs"`
}

func parseSARIF(data []byte) (*File, error) {
	var log sarifLog
	if err := json.Unmarshal(data, &log); err != nil {
		return nil, fmt.Errorf("SARIF: %w", err)
	}
	f := &File{Format: "sarif"}
	results, without := 0, 0
	for _, run := range log.Runs {
		for _, res := range run.Results {
			results++
			h, _ := res.PartialFingerprints[SARIFFingerprint].(string)
			if h == "" {
				without++
				continue
			}
			if d, _ := res.Properties["dracon/duplicateOf"].(string); d != "" {
				// Another tool's report of a finding: the finding is its
				// representative's; matching it too makes no difference.
				f.Findings = append(f.Findings, Finding{Tool: run.Tool.Driver.Name, Values: []string{h}, dup: true})
				continue
			}
			f.Findings = append(f.Findings, Finding{Tool: run.Tool.Driver.Name, Values: []string{h}})
		}
	}
	if results > 0 && without == results {
		return nil, fmt.Errorf("SARIF not written by Dracon: no result has partialFingerprints %q", SARIFFingerprint)
	}
	return f, nil
}

func parseFindings(data []byte) (*File, error) {
	var raw []json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("findings JSON: %w", err)
	}
	f := &File{Format: "findings"}
	opts := protojson.UnmarshalOptions{DiscardUnknown: true}
	for i, r := range raw {
		var res v1.EnrichedLaunchToolResponse
		if err := opts.Unmarshal(r, &res); err != nil {
			return nil, fmt.Errorf("findings JSON, element %d: %w", i, err)
		}
		tool := res.GetOriginalResults().GetToolName()
		for _, is := range res.GetIssues() {
			bf := Finding{ID: is.GetFindingId(), Tool: is.GetRawIssue().GetToolName(), Signatures: is.GetSignatures(), dup: is.GetDuplicateOf() != ""}
			if bf.Tool == "" {
				bf.Tool = tool
			}
			if len(bf.Signatures) == 0 && is.GetHash() != "" {
				bf.Values = []string{is.GetHash()}
			}
			f.Findings = append(f.Findings, bf)
		}
	}
	return f, nil
}
