// Package consumertest gives consumers' tests a realistic run and a
// recording server. The run is built from real scanner reports in the
// repository (gosec, trivy, gitleaks, syft), parsed by Dracon's own
// parsers and enriched as a run enriches them (ids, new or seen before,
// owners, policy results), so every consumer is tested on what a real run
// hands it, secret values included: Secrets are the values gitleaks found,
// which must appear in no request a consumer makes.
package consumertest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/draconsec/dracon/internal/consumers"
	"github.com/draconsec/dracon/internal/producers"
	"github.com/draconsec/dracon/internal/producers/gitleaks"
	"github.com/draconsec/dracon/internal/producers/gosec"
	"github.com/draconsec/dracon/internal/producers/syft"
	"github.com/draconsec/dracon/internal/producers/trivy"
	"github.com/draconsec/dracon/internal/secret"
	"github.com/draconsec/dracon/internal/summary"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Start is the fixed start of the test scan.
var Start = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

// ScanID is the test scan's id.
const ScanID = "7f9c2a9e-0d2c-4c36-9a47-3d6f0b1f6e11"

func root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

type report struct {
	tool, path string
	parse      func([]byte) (*producers.Parsed, error)
}

var reports = []report{
	{"gosec", "internal/producers/gosec/testdata/v2.7.0.json", gosec.Parse},
	{"trivy", "internal/producers/trivy/testdata/v0.74.0.json", trivy.Parse},
	{"gitleaks", "internal/producers/gitleaks/testdata/v8.30.1.json", gitleaks.Parse},
	{"syft", "internal/producers/syft/testdata/syft-1.57.0-go-build.json", syft.Parse},
}

// Run is a scan of four tools as the consumers stage receives it. Every
// other finding is new; findings under a path with "auth" or the first of
// each tool are owned by @acme/payments, the rest by @acme/platform;
// high and critical new findings are denied by policy, medium ones warned
// of. Each call builds a fresh copy.
func Run(t testing.TB) *consumers.Run {
	t.Helper()
	scan := &v1.ScanInfo{ScanUuid: ScanID, ScanStartTime: timestamppb.New(Start),
		ScanTags: map[string]string{"repository": "acme/shop", "ref": "refs/heads/main", "commit": "0123456789abcdef0123456789abcdef01234567",
			"ci": "github", "server_url": "https://github.com"}}
	run := &consumers.Run{Scan: scan}
	var secrets []string
	n := 0
	for _, rp := range reports {
		data, err := os.ReadFile(filepath.Join(root(), rp.path))
		if err != nil {
			t.Fatal(err)
		}
		parsed, err := rp.parse(data)
		if err != nil {
			t.Fatalf("%s: %v", rp.path, err)
		}
		secrets = append(secrets, parsed.Secrets...)
		res := &v1.EnrichedLaunchToolResponse{OriginalResults: &v1.LaunchToolResponse{ScanInfo: scan, ToolName: rp.tool, Issues: parsed.Issues, ToolVersion: parsed.ToolVersion}}
		for i, is := range parsed.Issues {
			n++
			is.ToolName = rp.tool
			// gosec 2.7 wrote absolute paths; a run makes them relative to
			// the source folder, and so does this one.
			if loc := is.GetLocation(); loc != nil && strings.HasPrefix(loc.Path, gosecRoot) {
				loc.Path = strings.TrimPrefix(loc.Path, gosecRoot)
			}
			is.Target = strings.TrimPrefix(is.Target, gosecRoot)
			owner := "@acme/platform"
			if i == 0 || strings.Contains(is.GetTarget(), "auth") {
				owner = "@acme/payments"
			}
			ei := &v1.EnrichedIssue{RawIssue: is, FindingId: fmt.Sprintf("f%04d", n), Hash: fmt.Sprintf("%064x", n),
				IsNew: n%2 == 1, Count: uint64(1 + n%2), FirstSeen: timestamppb.New(Start.Add(-time.Duration(n%2) * 72 * time.Hour)),
				LastSeen: timestamppb.New(Start), Status: "open",
				Annotations: map[string]string{"Owner-0": owner}}
			if ei.IsNew {
				switch {
				case is.GetSeverity() >= v1.Severity_SEVERITY_HIGH:
					ei.Annotations["dracon.policy"] = "deny"
				case is.GetSeverity() == v1.Severity_SEVERITY_MEDIUM:
					ei.Annotations["dracon.policy"] = "warn"
				}
			}
			res.Issues = append(res.Issues, ei)
		}
		run.Results = append(run.Results, res)
	}
	run.Summary = &summary.Summary{SchemaVersion: summary.SchemaVersion, DraconVersion: "test", ScanID: ScanID, StartedAt: Start,
		FinishedAt: Start.Add(42 * time.Second), Source: ".", Tags: scan.ScanTags, Verdict: "failed",
		Reasons: []string{"policy dracon.pull_request denies 3 new high findings"}, ExitCode: 1,
		Counts: summary.Count(run.Results)}
	for _, r := range run.Results {
		run.Summary.Producers = append(run.Summary.Producers, summary.Producer{Name: r.GetOriginalResults().GetToolName(), Status: "ok",
			Findings: len(r.GetIssues()), ToolVersion: r.GetOriginalResults().GetToolVersion(), DurationSeconds: 1.2})
	}
	run.Fixed = []consumers.Fixed{{ID: "f9999", Tool: "gosec", Rule: "G104", Path: "old.go", Title: "Errors unhandled", Severity: "LOW"}}
	if len(secrets) == 0 {
		t.Fatal("the gitleaks report gave no secret values to check for")
	}
	plantedSecrets = secrets
	return run
}

var plantedSecrets []string

// gosecRoot is the folder gosec 2.7.0's report was written in.
const gosecRoot = "/tmp/oldtools/gosrc/"

// Secrets are the secret values the run's gitleaks report found. No
// consumer may send them.
func Secrets(t testing.TB) []string {
	t.Helper()
	if plantedSecrets == nil {
		Run(t)
	}
	return plantedSecrets
}

// Clone is a deep copy of a run's results, so a test can run a consumer
// twice on the same input.
func Clone(results []*v1.EnrichedLaunchToolResponse) []*v1.EnrichedLaunchToolResponse {
	out := make([]*v1.EnrichedLaunchToolResponse, len(results))
	for i, r := range results {
		out[i] = proto.Clone(r).(*v1.EnrichedLaunchToolResponse)
	}
	return out
}

// Env is a publisher's environment with the given variables and a log
// kept in log (masked, as a run's is).
func Env(t testing.TB, vars map[string]string, log io.Writer) consumers.Env {
	if log == nil {
		log = io.Discard
	}
	m := secret.NewMasker(log, nil)
	return consumers.Env{Getenv: func(k string) string { return vars[k] }, Source: t.TempDir(), Log: m, Masker: m, Version: "test"}
}

// Request is one request a Recorder saw.
type Request struct {
	Method, Path, Query string
	Header              http.Header
	Body                []byte
}

// Recorder records every request its handler receives, body included,
// before the handler answers.
type Recorder struct {
	mu       sync.Mutex
	requests []Request
}

// Wrap records, then hands the request to h.
func (r *Recorder) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
		r.mu.Lock()
		r.requests = append(r.requests, Request{Method: req.Method, Path: req.URL.Path, Query: req.URL.RawQuery, Header: req.Header.Clone(), Body: body})
		r.mu.Unlock()
		h.ServeHTTP(w, req)
	})
}

// Requests are the requests so far.
func (r *Recorder) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Request(nil), r.requests...)
}

// Count is how many requests matched method and path ("" matches any).
func (r *Recorder) Count(method, path string) int {
	n := 0
	for _, q := range r.Requests() {
		if (method == "" || q.Method == method) && (path == "" || q.Path == path) {
			n++
		}
	}
	return n
}

// NoSecrets fails the test if any recorded request carries one of the
// secret values, in its URL, headers or body.
func (r *Recorder) NoSecrets(t testing.TB, secrets []string) {
	t.Helper()
	if len(r.Requests()) == 0 {
		t.Fatal("no request was recorded: nothing was checked for secrets")
	}
	for i, q := range r.Requests() {
		var all bytes.Buffer
		fmt.Fprintf(&all, "%s %s?%s\n", q.Method, q.Path, q.Query)
		q.Header.Write(&all)
		all.Write(q.Body)
		for _, s := range secrets {
			if bytes.Contains(all.Bytes(), []byte(s)) {
				t.Errorf("request %d (%s %s) carries the secret value %q…", i+1, q.Method, q.Path, s[:4])
			}
		}
	}
}
