package action

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
)

// DefaultCategory is the code scanning category of a job, as
// codeql-action computes it (src/api-client.ts computeAutomationID): the
// workflow file and the job, then each matrix value, sorted by key:
// ".github/workflows/ci.yml:scan/go:1.26/os:ubuntu-latest/". Two jobs, or
// two legs of a matrix, then never overwrite each other's alerts. The
// workflow file comes from GITHUB_WORKFLOW_REF (owner/repo/PATH@ref), else
// the workflow's name; matrix is toJSON(matrix) ("" or "null" for none).
func DefaultCategory(getenv func(string) string, matrix string) string {
	wf := getenv("GITHUB_WORKFLOW_REF")
	if i := strings.LastIndex(wf, "@"); i >= 0 {
		wf = wf[:i]
	}
	if repo := getenv("GITHUB_REPOSITORY"); repo != "" && strings.HasPrefix(wf, repo+"/") {
		wf = strings.TrimPrefix(wf, repo+"/")
	} else if parts := strings.SplitN(wf, "/", 3); len(parts) == 3 {
		wf = parts[2]
	}
	if wf == "" {
		wf = getenv("GITHUB_WORKFLOW")
	}
	id := wf + ":" + getenv("GITHUB_JOB") + "/"
	if id == ":/" {
		id = "dracon/" // outside Actions
	}
	var m map[string]any
	if strings.TrimSpace(matrix) != "" && json.Unmarshal([]byte(matrix), &m) == nil {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			v := ""
			switch x := m[k].(type) {
			case string:
				v = x
			case float64, bool:
				v = fmt.Sprint(x)
			}
			id += k + ":" + v + "/"
		}
	}
	return id
}

// normalizeCategory ends a category with "/": code scanning reads a run's
// automationDetails.id as category/run-id, so the category is all before
// the last "/" (codeql-action appends it to a user's category too).
func normalizeCategory(c string) string {
	c = strings.TrimSpace(c)
	if c != "" && !strings.HasSuffix(c, "/") {
		c += "/"
	}
	return c
}

// ApplyCategory puts category in front of each run's automationDetails.id
// in the SARIF file at path, in place: Dracon writes dracon/<tool>/<scan
// id>, so the runs' categories become <category>dracon/<tool>, one per
// tool, per job and per matrix leg. A run without one gets
// <category>dracon/<tool>/. It reports the categories.
func ApplyCategory(path, category string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out, cats, err := applyCategory(data, normalizeCategory(category))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if out == nil {
		return cats, nil
	}
	return cats, os.WriteFile(path, out, 0o644)
}

// applyCategory is ApplyCategory on a document; nil output: unchanged.
func applyCategory(data []byte, category string) ([]byte, []string, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, nil, err
	}
	var runs []map[string]json.RawMessage
	if raw, ok := doc["runs"]; ok {
		if err := json.Unmarshal(raw, &runs); err != nil {
			return nil, nil, fmt.Errorf("runs: %w", err)
		}
	}
	var cats []string
	changed := false
	for i, run := range runs {
		var details map[string]json.RawMessage
		if raw, ok := run["automationDetails"]; ok {
			if err := json.Unmarshal(raw, &details); err != nil {
				return nil, nil, fmt.Errorf("runs[%d].automationDetails: %w", i, err)
			}
		}
		if details == nil {
			details = map[string]json.RawMessage{}
		}
		var id string
		if raw, ok := details["id"]; ok {
			if err := json.Unmarshal(raw, &id); err != nil {
				return nil, nil, fmt.Errorf("runs[%d].automationDetails.id: %w", i, err)
			}
		}
		if id == "" {
			id = "dracon/" + driverName(run) + "/"
		}
		if category != "" && !strings.HasPrefix(id, category) {
			id = category + id
		}
		if raw, _ := json.Marshal(id); !bytes.Equal(raw, details["id"]) {
			details["id"] = raw
			changed = true
		}
		if cat := id[:max(strings.LastIndex(id, "/"), 0)]; cat != "" {
			cats = append(cats, cat)
		}
		raw, err := marshal(details)
		if err != nil {
			return nil, nil, err
		}
		run["automationDetails"] = raw
	}
	if !changed {
		return nil, cats, nil
	}
	rs, err := marshal(runs)
	if err != nil {
		return nil, nil, err
	}
	doc["runs"] = rs
	out, err := marshal(doc)
	return out, cats, err
}

// driverName is a run's tool.driver.name.
func driverName(run map[string]json.RawMessage) string {
	var t struct {
		Driver struct {
			Name string `json:"name"`
		} `json:"driver"`
	}
	_ = json.Unmarshal(run["tool"], &t)
	if t.Driver.Name == "" {
		return "tool"
	}
	return t.Driver.Name
}

// marshal is compact JSON without HTML escaping (a finding's message
// keeps its < and >).
func marshal(v any) (json.RawMessage, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}
