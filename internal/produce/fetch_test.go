package produce

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/draconsec/dracon/internal/producers"
	"github.com/draconsec/dracon/internal/runner"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

const fakeToken = "ghp_fake0123456789abcdefTOKEN"

// fetcher is a producer whose report comes from an HTTP API, as GitHub's
// alerts do: it reads its token from the environment, registers it with
// the masker, logs (carelessly, with the token) and fetches through the
// run's client.
func fetcher(url string, calls *atomic.Int32) *producers.Producer {
	return &producers.Producer{
		Name: "fetcher",
		Parse: func(data []byte) (*producers.Parsed, error) {
			if !strings.HasPrefix(string(data), "[") {
				return nil, producers.Errorf("fetcher", "not a list: %q", data)
			}
			return &producers.Parsed{Issues: []*v1.Issue{{Title: strings.TrimSpace(string(data))}}}, nil
		},
		Fetch: func(ctx context.Context, env producers.FetchEnv) ([]byte, error) {
			calls.Add(1)
			token := env.Getenv("FETCHER_TOKEN")
			if token == "" {
				return nil, errors.New("set FETCHER_TOKEN")
			}
			env.Masker.Add(token)
			fmt.Fprintf(env.Log, "fetching with %s\n", token)
			req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := env.HTTP.Do(req)
			if err != nil {
				return nil, err
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 {
				return nil, fmt.Errorf("HTTP %d with token %s: %s", resp.StatusCode, token, body)
			}
			return body, nil
		},
	}
}

func TestFetch(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The first answer is a 503: the run's client retries it.
		if hits.Add(1) == 1 {
			w.WriteHeader(503)
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+fakeToken {
			w.WriteHeader(401)
			return
		}
		io.WriteString(w, `[{"number":1}]`)
	}))
	defer srv.Close()
	t.Setenv("FETCHER_TOKEN", fakeToken)
	var calls atomic.Int32
	runDir := t.TempDir()
	out := Run(context.Background(), runner.Local{}, fetcher(srv.URL, &calls), Options{Source: t.TempDir(), RunDir: runDir})
	if out.Status != OK || len(out.Parsed.Issues) != 1 || out.Parsed.Issues[0].Title != `[{"number":1}]` {
		t.Fatalf("%s %s %v", out.Status, out.Reason, out.Parsed)
	}
	if out.Report != filepath.Join(runDir, "fetcher.report") || hits.Load() != 2 {
		t.Errorf("report %s after %d requests", out.Report, hits.Load())
	}
	report, _ := os.ReadFile(out.Report)
	if string(report) != `[{"number":1}]` {
		t.Errorf("report = %q: not what the API answered", report)
	}
	log, _ := os.ReadFile(out.Stderr)
	if strings.Contains(string(log), fakeToken) || !strings.Contains(string(log), "fetching with ***") ||
		!strings.Contains(string(log), "dracon: fetcher: 503") {
		t.Errorf("log %q: want the retry line and the token masked", log)
	}
}

func TestFetchFailures(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			select {
			case <-time.After(5 * time.Second):
			case <-r.Context().Done():
			}
			return
		}
		w.WriteHeader(403)
		io.WriteString(w, `{"message":"Resource not accessible by integration"}`)
	}))
	defer srv.Close()

	t.Run("refused: the reason hides the token", func(t *testing.T) {
		t.Setenv("FETCHER_TOKEN", fakeToken)
		var calls atomic.Int32
		out := Run(context.Background(), runner.Local{}, fetcher(srv.URL, &calls), Options{RunDir: t.TempDir()})
		if out.Status != Failed || strings.Contains(out.Reason, fakeToken) || !strings.Contains(out.Reason, "HTTP 403 with token ***") {
			t.Errorf("%s: %s", out.Status, out.Reason)
		}
		if _, err := os.Stat(out.Report); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("a failed fetch left a report: %v", err)
		}
	})
	t.Run("no token", func(t *testing.T) {
		t.Setenv("FETCHER_TOKEN", "")
		var calls atomic.Int32
		out := Run(context.Background(), runner.Local{}, fetcher(srv.URL, &calls), Options{RunDir: t.TempDir()})
		if out.Status != Failed || out.Reason != "set FETCHER_TOKEN" {
			t.Errorf("%s: %s", out.Status, out.Reason)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		t.Setenv("FETCHER_TOKEN", fakeToken)
		var calls atomic.Int32
		out := Run(context.Background(), runner.Local{}, fetcher(srv.URL+"/slow", &calls), Options{RunDir: t.TempDir(), Timeout: 200 * time.Millisecond})
		if out.Status != Failed || !strings.Contains(out.Reason, "timed out after 200ms") || out.Duration > 4*time.Second {
			t.Errorf("%s after %s: %s", out.Status, out.Duration, out.Reason)
		}
	})
	t.Run("the run's environment", func(t *testing.T) {
		t.Setenv("FETCHER_TOKEN", "")
		var calls atomic.Int32
		env := map[string]string{"FETCHER_TOKEN": fakeToken}
		out := Run(context.Background(), runner.Local{}, fetcher(srv.URL, &calls), Options{RunDir: t.TempDir(), Getenv: func(k string) string { return env[k] }})
		// The token came from Options.Getenv, not the process.
		if out.Status != Failed || !strings.Contains(out.Reason, "HTTP 403 with token ***") {
			t.Errorf("%s: %s", out.Status, out.Reason)
		}
	})
	t.Run("a configured report is read instead", func(t *testing.T) {
		var calls atomic.Int32
		report := filepath.Join(t.TempDir(), "alerts.json")
		os.WriteFile(report, []byte(`[{"number":7}]`), 0o644)
		out := Run(context.Background(), runner.Local{}, fetcher(srv.URL, &calls), Options{RunDir: t.TempDir(), Report: report})
		if out.Status != OK || calls.Load() != 0 || out.Report != report {
			t.Errorf("%s %s, %d fetches", out.Status, out.Reason, calls.Load())
		}
	})
}
