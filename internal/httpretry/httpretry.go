// Package httpretry is the HTTP client every consumer talks through: it
// retries what is worth retrying (connection errors, timeouts, 429, and
// 5xx but 501) with exponential backoff, honours Retry-After, and gives
// up when the context's deadline comes. It is go-retryablehttp, set up
// once for Dracon; the consumers' own client libraries (go-jira,
// slack-go, go-elasticsearch, ...) take the *http.Client it returns.
package httpretry

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// Options tune a client; the zero value is what consumers use.
type Options struct {
	// Name prefixes the log's retry lines ("jira").
	Name string
	// Log receives one line per retry; nil: none.
	Log io.Writer
	// Attempts is how many times a request is tried in all (default 5).
	Attempts int
	// WaitMin and WaitMax bound the backoff between attempts (defaults
	// 500ms and 30s); a Retry-After header overrides them.
	WaitMin, WaitMax time.Duration
	// PerAttempt bounds one attempt, so a server that hangs is retried
	// rather than waited on (default 30s).
	PerAttempt time.Duration
	// Transport is the underlying transport (default
	// http.DefaultTransport); tests that count connections set it.
	Transport http.RoundTripper
}

// New returns a client that retries. The request's context bounds the
// whole exchange, waits included: give it the consumer's deadline.
func New(o Options) *http.Client {
	if o.Attempts <= 0 {
		o.Attempts = 5
	}
	if o.WaitMin <= 0 {
		o.WaitMin = 500 * time.Millisecond
	}
	if o.WaitMax <= 0 {
		o.WaitMax = 30 * time.Second
	}
	if o.PerAttempt <= 0 {
		o.PerAttempt = 30 * time.Second
	}
	if o.Transport == nil {
		o.Transport = http.DefaultTransport
	}
	c := retryablehttp.NewClient()
	c.HTTPClient = &http.Client{Transport: o.Transport, Timeout: o.PerAttempt}
	c.Logger = nil
	c.RetryMax = o.Attempts - 1
	c.RetryWaitMin, c.RetryWaitMax = o.WaitMin, o.WaitMax
	c.CheckRetry = retryablehttp.DefaultRetryPolicy
	c.Backoff = func(min, max time.Duration, attempt int, resp *http.Response) time.Duration {
		wait := retryablehttp.DefaultBackoff(min, max, attempt, resp)
		if o.Log != nil {
			why := "no answer"
			if resp != nil {
				why = resp.Status
			}
			fmt.Fprintf(o.Log, "dracon: %s: %s; retrying in %s\n", o.Name, why, wait.Round(time.Millisecond))
		}
		return wait
	}
	// The last answer reaches the caller as it came (a 503 with its body),
	// so the client library reports the service's own error message
	// rather than "giving up after 5 attempts".
	c.ErrorHandler = retryablehttp.PassthroughErrorHandler
	return c.StandardClient()
}

// WithDeadline is the context a consumer delivers in: the run's context
// bounded by the consumer's timeout (default 2 minutes).
func WithDeadline(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	return context.WithTimeout(ctx, timeout)
}
