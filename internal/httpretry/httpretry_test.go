package httpretry

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestRetries(t *testing.T) {
	for _, tc := range []struct {
		name     string
		answers  []int // status per call; the last repeats
		after    string
		wantCode int
		calls    int32
		retried  string
	}{
		{"429 with Retry-After, then ok", []int{429, 200}, "1", 200, 2, "429"},
		{"two 503s then ok", []int{503, 503, 200}, "", 200, 3, "503"},
		{"500 every time: gives up with the last answer", []int{500}, "", 500, 3, "500"},
		{"404 is not retried", []int{404}, "", 404, 1, ""},
		{"501 is not retried", []int{501}, "", 501, 1, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int32
			var bodies []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := int(calls.Add(1))
				b, _ := io.ReadAll(r.Body)
				bodies = append(bodies, string(b))
				code := tc.answers[min(n, len(tc.answers))-1]
				if tc.after != "" && code == 429 {
					w.Header().Set("Retry-After", tc.after)
				}
				w.WriteHeader(code)
				io.WriteString(w, `{"error":"said by the server"}`)
			}))
			defer srv.Close()
			var log strings.Builder
			c := New(Options{Name: "test", Log: &log, Attempts: 3, WaitMin: time.Millisecond, WaitMax: 5 * time.Millisecond})
			start := time.Now()
			resp, err := c.Post(srv.URL, "application/json", strings.NewReader(`{"a":1}`))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.wantCode || !strings.Contains(string(body), "said by the server") {
				t.Errorf("got %d %q, want %d with the server's body", resp.StatusCode, body, tc.wantCode)
			}
			if calls.Load() != tc.calls {
				t.Errorf("%d calls, want %d", calls.Load(), tc.calls)
			}
			for i, b := range bodies {
				if b != `{"a":1}` {
					t.Errorf("attempt %d sent body %q: a retry must resend the body", i+1, b)
				}
			}
			if tc.retried != "" && !strings.Contains(log.String(), "dracon: test: "+tc.retried) {
				t.Errorf("log %q does not say it retried after %s", log.String(), tc.retried)
			}
			if tc.after == "1" && time.Since(start) < time.Second {
				t.Errorf("retried after %s: Retry-After: 1 was not honoured", time.Since(start))
			}
		})
	}
}

func TestSlowAnswerIsRetriedAndDeadlineEnds(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			select { // the first answer never comes in time
			case <-time.After(2 * time.Second):
			case <-r.Context().Done():
			}
			return
		}
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	c := New(Options{PerAttempt: 100 * time.Millisecond, WaitMin: time.Millisecond})
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || calls.Load() != 2 {
		t.Errorf("got %d after %d calls, want 200 after 2", resp.StatusCode, calls.Load())
	}

	// A server that always asks to wait longer than the deadline allows:
	// the deadline ends the exchange with an error.
	busy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "60")
		w.WriteHeader(429)
	}))
	defer busy.Close()
	ctx, cancel := WithDeadline(context.Background(), 200*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", busy.URL, nil)
	start := time.Now()
	if resp, err := New(Options{}).Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("got %d, want the deadline's error", resp.StatusCode)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s: the deadline did not end the wait", d)
	}
}
