package action

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/draconsec/dracon/internal/consumers/sarifout"
	"github.com/draconsec/dracon/internal/pipeline"
	"github.com/draconsec/dracon/internal/summary"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
	"google.golang.org/protobuf/types/known/timestamppb"
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

// githubSARIF writes the run's SARIF file again, for code scanning
// (internal/consumers/sarifout's Consumer, with what the pipeline does
// not give it yet): each result's primaryLocationLineHash read from the
// scanned folder, a run for every producer that ran (an empty one closes
// its alerts), the runs' category (<category>/<tool>/<scan id>), cut to
// code scanning's limits; then, when the scanned folder is not the
// repository's root, the results' paths made the repository's
// (code scanning reads URIs from the root). It returns what the limits
// cut, a line each, and the runs' categories.
func githubSARIF(ctx context.Context, path, source, prefix, category, version string, s *summary.Summary, res *pipeline.Result) ([]string, []string, error) {
	var scan *v1.ScanInfo
	for _, r := range res.Results {
		if si := r.GetOriginalResults().GetScanInfo(); si != nil {
			scan = si
			break
		}
	}
	if scan == nil {
		scan = &v1.ScanInfo{ScanUuid: s.ScanID, ScanStartTime: timestamppb.New(s.StartedAt), ScanTags: s.Tags}
	}
	var tools []string
	for _, p := range s.Producers {
		if p.Status == "ok" {
			tools = append(tools, p.Name)
		}
	}
	src, err := filepath.Abs(source)
	if err != nil {
		return nil, nil, err
	}
	cat := strings.TrimRight(category, "/")
	rep, err := sarifout.Consumer{Path: path, Version: version, Source: src, Tools: tools, Category: cat}.WriteFile(ctx, scan, res.Results)
	lines := rep.Lines()
	if err != nil {
		return lines, nil, err
	}
	if prefix != "" && prefix != "." {
		if err := prefixURIs(path, prefix); err != nil {
			return lines, nil, err
		}
	}
	cats, err := categories(path)
	return lines, cats, err
}

// categories lists the runs' code scanning categories: their
// automationDetails.id up to the last "/".
func categories(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Runs []struct {
			AutomationDetails struct {
				ID string `json:"id"`
			} `json:"automationDetails"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var out []string
	for _, r := range doc.Runs {
		if i := strings.LastIndex(r.AutomationDetails.ID, "/"); i > 0 {
			out = append(out, r.AutomationDetails.ID[:i])
		}
	}
	return out, nil
}

// prefixURIs puts prefix (the scanned folder, from the repository's
// root) in front of every relative artifact URI of the SARIF file
// (those with uriBaseId %SRCROOT%, which Dracon writes for paths
// relative to the scanned folder), in place.
func prefixURIs(file, prefix string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	prefix = strings.Trim(filepath.ToSlash(prefix), "/")
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if uri, ok := x["uri"].(string); ok && x["uriBaseId"] == "%SRCROOT%" && !strings.Contains(uri, "://") && !strings.HasPrefix(uri, "/") {
				x["uri"] = path.Join(prefix, uri)
			}
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(doc)
	out, err := marshal(doc)
	if err != nil {
		return err
	}
	return os.WriteFile(file, append(out, '\n'), 0o644)
}
