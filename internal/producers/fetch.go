package producers

import (
	"context"
	"io"
	"net/http"

	"github.com/draconsec/dracon/internal/secret"
)

// FetchFunc fetches a producer's raw report from a service's API instead
// of running a scanner: GitHub's code scanning and Dependabot alerts,
// which a team already has and wants deduplicated with everything else.
// It returns the report exactly as the service answered it (pages joined
// into one document); the run writes it as <name>.report and reads it
// with the producer's Parse, so a fetched report is parsed, kept and
// replayed like any scanner's. An error says what to change (which
// variable is missing, which permission the token lacks).
type FetchFunc func(ctx context.Context, env FetchEnv) ([]byte, error)

// FetchEnv is what a fetching producer gets from the run.
type FetchEnv struct {
	// Getenv reads the run's environment (GITHUB_TOKEN, ...).
	Getenv func(string) string
	// Args are the config's arguments (producers.<name>.args): for a
	// fetching producer, what narrows the request (GitHub's alerts take
	// "key=value" filters).
	Args []string
	// HTTP is the client to call the API with: it retries 429 and 5xx
	// answers and honours Retry-After (internal/httpretry).
	HTTP *http.Client
	// Log takes lines for the producer's log (its .stderr file in the
	// run folder). It writes through Masker.
	Log io.Writer
	// Masker hides credentials in Log and in the failure reason: register
	// a token with Masker.Add before anything can print it.
	Masker *secret.Masker
}
