package action

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/draconsec/dracon/internal/ghapi"
	"github.com/draconsec/dracon/internal/githubcheck"
)

// TestGhapiAdapter: the action's GitHub through internal/ghapi against a
// small GitHub: an upload and its processing, a fork's refusal as a
// notice, the sticky comment with the action's marker.
func TestGhapiAdapter(t *testing.T) {
	var posted []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.URL.Path = strings.TrimPrefix(r.URL.Path, "/api/v3") // GitHub Enterprise Server's API root
		if r.Header.Get("Authorization") != "Bearer ghs_test" {
			t.Errorf("%s %s without the token", r.Method, r.URL.Path)
		}
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/repos/acme/payments/code-scanning/sarifs":
			w.WriteHeader(http.StatusAccepted)
			io.WriteString(w, `{"id":"47177e22-5596-11eb-80a1-c1e54ef945c6","url":"https://api.github.com/repos/acme/payments/code-scanning/sarifs/47177e22"}`)
		case r.Method == http.MethodPost && r.URL.Path == "/repos/acme/fork/code-scanning/sarifs":
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `{"message":"Resource not accessible by integration","documentation_url":"https://docs.github.com/rest"}`)
		case r.Method == http.MethodGet && r.URL.Path == "/repos/acme/payments/code-scanning/sarifs/47177e22-5596-11eb-80a1-c1e54ef945c6":
			io.WriteString(w, `{"processing_status":"failed","errors":["A delivery cannot contain multiple runs with the same category"]}`)
		case r.Method == http.MethodGet && r.URL.Path == "/repos/acme/payments/issues/42/comments":
			io.WriteString(w, `[]`)
		case r.Method == http.MethodPost && r.URL.Path == "/repos/acme/payments/issues/42/comments":
			var c struct{ Body string }
			json.Unmarshal(body, &c)
			posted = append(posted, c.Body)
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, `{"id":1001,"body":"x"}`)
		default:
			t.Errorf("unexpected %s %s", r.Method, r.URL.Path)
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	c, err := githubcheck.NewClient("ghs_test", srv.URL+"/api/v3")
	if err != nil {
		t.Fatal(err)
	}
	gh := ghapiClient{c: c, wait: ghapi.WaitOptions{FirstDelay: time.Millisecond, Timeout: 5 * time.Second}}
	ctx := context.Background()
	sha := strings.Repeat("a", 40)
	sarif := []byte(`{"version":"2.1.0","runs":[]}`)

	rec, err := gh.UploadSARIF(ctx, Upload{Owner: "acme", Repo: "payments", CommitSHA: sha, Ref: "refs/pull/42/merge", CheckoutURI: "/home/runner/work/p/p", SARIF: sarif})
	if err != nil || rec.ID != "47177e22-5596-11eb-80a1-c1e54ef945c6" || rec.GzipBytes == 0 {
		t.Fatalf("upload: %+v, %v", rec, err)
	}
	st, err := gh.WaitForProcessing(ctx, "acme", "payments", rec.ID)
	if st.Status != "failed" || len(st.Errors) != 1 || err == nil || !strings.Contains(err.Error(), "automationDetails.id") {
		t.Errorf("processing: %+v, %v", st, err)
	}

	_, err = gh.UploadSARIF(ctx, Upload{Owner: "acme", Repo: "fork", CommitSHA: sha, Ref: "refs/pull/43/merge", SARIF: sarif, Fork: true})
	var n Notifier
	if !errors.As(err, &n) || !strings.Contains(n.Notice(), "codeql-action/upload-sarif") {
		t.Errorf("a fork's refusal is not a notice: %v", err)
	}

	res, err := gh.UpsertComment(ctx, "acme", "payments", 42, "<!-- dracon:summary 0a1b2c3d4e5f -->", "## ✅ Dracon: passed")
	if err != nil || !res.Created || res.ID != 1001 {
		t.Fatalf("comment: %+v, %v", res, err)
	}
	if len(posted) != 1 || !strings.HasPrefix(posted[0], "<!-- dracon:summary 0a1b2c3d4e5f -->\n## ✅ Dracon: passed") {
		t.Errorf("comment body: %q", posted)
	}
}
