// Package githubalerts turns the alerts GitHub already keeps for a
// repository into Dracon findings, so a team that runs CodeQL or
// Dependabot sees them deduplicated with every other tool's:
//
//   - github-code-scanning: the open code scanning alerts (CodeQL and
//     every SARIF upload), GET /repos/{owner}/{repo}/code-scanning/alerts;
//   - github-dependabot: the open Dependabot alerts,
//     GET /repos/{owner}/{repo}/dependabot/alerts.
//
// They run no scanner: each fetches its report from GitHub's REST API
// through go-github v60 (the requests CodeScanning.ListAlertsForRepo and
// Dependabot.ListRepoAlerts send, 100 alerts a page, every page followed:
// code scanning by page number, Dependabot by the after cursor of the
// Link header), and the report is the alerts exactly as GitHub wrote
// them, the pages joined into one JSON array. Decoding them into
// go-github's structs and back would drop what v60 does not know (a
// Dependabot advisory's epss and cvss_severities). The parsers read that
// array, or a file of it an earlier step saved (`gh api --paginate`
// writes one array per page, one after the other: read too).
//
// GITHUB_TOKEN, GITHUB_REPOSITORY and, for GitHub Enterprise Server,
// GITHUB_API_URL say where and as whom; the token is registered with the
// run's masker before anything is logged.
package githubalerts

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/draconsec/dracon/internal/ghapi"
	"github.com/draconsec/dracon/internal/producers"
	"github.com/draconsec/dracon/internal/producers/jsontok"
	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/google/go-github/v60/github"
)

// The environment the producers read.
const (
	EnvToken      = "GITHUB_TOKEN"
	EnvRepository = "GITHUB_REPOSITORY" // owner/name, as GitHub Actions sets it
	EnvAPIURL     = "GITHUB_API_URL"    // GitHub Enterprise Server's https://HOST/api/v3; unset: api.github.com
)

// MaxRateWait is the most one fetch waits for GitHub's rate limit to
// reset (X-RateLimit-Reset, or a secondary limit's Retry-After) before it
// fails saying when to run again: a reset a few seconds away is worth
// waiting for; an hour is not.
var MaxRateWait = time.Minute

const (
	perPage = 100 // GitHub's maximum for both endpoints
	// maxPages bounds a fetch (100,000 alerts): a server that links
	// pages in a circle must not keep the run going.
	maxPages = 1000
)

// endpoint is one kind of alert list.
type endpoint struct {
	producer string   // the producer's name, for messages
	what     string   // "code scanning alerts"
	path     string   // under repos/{owner}/{repo}/
	filters  []string // the query keys producers.<name>.args may set
	// permission says what the token needs to read the alerts.
	permission string
	// hint explains a refusal GitHub gave (status and message), or "".
	hint func(status int, msg string) string
}

// fetch lists every open alert, page after page, and returns them as
// one JSON array.
func (e endpoint) fetch(ctx context.Context, env producers.FetchEnv) ([]byte, error) {
	token, owner, repo, err := e.target(env.Getenv)
	if err != nil {
		return nil, err
	}
	env.Masker.Add(token)
	client, err := newClient(env.HTTP, token, env.Getenv(EnvAPIURL))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", e.producer, err)
	}
	query, err := e.query(env.Args)
	if err != nil {
		return nil, err
	}
	log := env.Log
	if log == nil {
		log = io.Discard
	}
	var out bytes.Buffer
	out.WriteByte('[')
	alerts, waited := 0, time.Duration(0)
	page, after := 0, ""
	cursors := map[string]bool{}
	base := fmt.Sprintf("repos/%s/%s/%s", url.PathEscape(owner), url.PathEscape(repo), e.path)
	for n := 1; ; n++ {
		if n > maxPages {
			return nil, fmt.Errorf("%s: more than %d pages of %s: stopped (GitHub's Link header may loop)", e.producer, maxPages, e.what)
		}
		q := url.Values{}
		for k, v := range query {
			q[k] = v
		}
		if page > 0 {
			q.Set("page", strconv.Itoa(page))
		}
		if after != "" {
			q.Set("after", after)
		}
		path := base + "?" + q.Encode()
		req, err := client.NewRequest(http.MethodGet, path, nil)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", e.producer, err)
		}
		var items []json.RawMessage
		resp, err := e.do(ctx, client, req, &items, log, &waited)
		if err != nil {
			return nil, e.describe(owner, repo, resp, err)
		}
		for _, it := range items {
			if alerts > 0 {
				out.WriteByte(',')
			}
			out.Write(it)
			alerts++
		}
		fmt.Fprintf(log, "%s: GET /%s: %d %s\n", e.producer, path, len(items), e.what)
		switch {
		case resp.After != "":
			// Cursor pagination (Dependabot): the next page is after
			// the cursor the Link header names.
			if cursors[resp.After] {
				return nil, fmt.Errorf("%s: GitHub named cursor %q twice: stopped", e.producer, resp.After)
			}
			cursors[resp.After] = true
			after, page = resp.After, 0
		case resp.NextPage > page:
			// Page numbers (code scanning; Dependabot on older GitHub
			// Enterprise Server).
			page, after = resp.NextPage, ""
		case resp.NextPage != 0:
			return nil, fmt.Errorf("%s: GitHub's next page %d is not after page %d: stopped", e.producer, resp.NextPage, page)
		default:
			out.WriteByte(']')
			fmt.Fprintf(log, "%s: %d open %s of %s/%s\n", e.producer, alerts, e.what, owner, repo)
			return out.Bytes(), nil
		}
	}
}

// do sends req, waiting out a rate limit GitHub says will lift soon.
func (e endpoint) do(ctx context.Context, c *github.Client, req *http.Request, v any, log io.Writer, waited *time.Duration) (*github.Response, error) {
	for {
		resp, err := c.Do(ctx, req, v)
		if err == nil {
			return resp, nil
		}
		wait, limited := rateWait(err)
		if !limited || *waited+wait > MaxRateWait {
			return resp, err
		}
		if d, ok := ctx.Deadline(); ok && time.Until(d) < wait {
			return resp, err
		}
		fmt.Fprintf(log, "%s: GitHub's rate limit: waiting %s\n", e.producer, wait.Round(time.Second))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return resp, ctx.Err()
		case <-t.C:
		}
		*waited += wait
	}
}

// rateWait says whether err is a rate limit and how long until it lifts:
// the primary limit's reset (X-RateLimit-Reset, whole seconds: a second
// past it), a secondary limit's Retry-After, else a minute.
func rateWait(err error) (time.Duration, bool) {
	var rl *github.RateLimitError
	var ab *github.AbuseRateLimitError
	switch {
	case errors.As(err, &rl):
		return max(time.Until(rl.Rate.Reset.Time), 0) + time.Second, true
	case errors.As(err, &ab):
		if ab.RetryAfter != nil {
			return *ab.RetryAfter + time.Second, true
		}
		return time.Minute, true
	}
	return 0, false
}

// target reads the token and the repository from the environment.
func (e endpoint) target(getenv func(string) string) (token, owner, repo string, err error) {
	token = strings.TrimSpace(getenv(EnvToken))
	repository := strings.TrimSpace(getenv(EnvRepository))
	var missing []string
	if token == "" {
		missing = append(missing, EnvToken)
	}
	if repository == "" {
		missing = append(missing, EnvRepository)
	}
	if len(missing) > 0 {
		return "", "", "", fmt.Errorf("%s: %s %s not set: it reads the repository's %s from GitHub's API as %s (a token that may read them: %s) for %s (owner/name; GitHub Actions sets it), at %s for GitHub Enterprise Server",
			e.producer, strings.Join(missing, " and "), plural(len(missing), "is", "are"), e.what, EnvToken, e.permission, EnvRepository, EnvAPIURL)
	}
	owner, repo, ok := strings.Cut(repository, "/")
	if !ok || owner == "" || repo == "" || strings.ContainsAny(repo, "/ ") || strings.ContainsAny(owner, " ") {
		return "", "", "", fmt.Errorf("%s: %s=%q: want owner/name", e.producer, EnvRepository, repository)
	}
	return token, owner, repo, nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// query is the request's query: open alerts, 100 a page, and the
// config's filters (producers.<name>.args, each "key=value").
func (e endpoint) query(args []string) (url.Values, error) {
	q := url.Values{"state": {"open"}, "per_page": {strconv.Itoa(perPage)}}
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		k = strings.TrimSpace(k)
		known := false
		for _, f := range e.filters {
			known = known || f == k
		}
		if !ok || !known || strings.TrimSpace(v) == "" {
			return nil, fmt.Errorf("%s: argument %q: want key=value, key one of %s (the %s are always the open ones)",
				e.producer, a, strings.Join(e.filters, ", "), e.what)
		}
		q.Set(k, strings.TrimSpace(v))
	}
	return q, nil
}

// newClient is go-github over the run's client, authenticated with
// token, at apiURL: "" or https://api.github.com for GitHub.com, else
// the API root of a GitHub Enterprise Server (its GITHUB_API_URL,
// https://HOST/api/v3) or of GHE.com (https://api.SUBDOMAIN.ghe.com).
func newClient(hc *http.Client, token, apiURL string) (*github.Client, error) {
	c := github.NewClient(hc).WithAuthToken(token)
	apiURL = strings.TrimSpace(apiURL)
	if apiURL == "" {
		return c, nil
	}
	u, err := url.Parse(apiURL)
	if err != nil {
		return nil, fmt.Errorf("%s does not parse as a URL", EnvAPIURL) // url's error would quote it, secrets and all
	}
	switch {
	case u.Scheme != "https" && u.Scheme != "http", u.Host == "":
		return nil, fmt.Errorf("%s=%q: want https://HOST/api/v3 (GitHub Enterprise Server) or https://api.github.com", EnvAPIURL, u.Redacted())
	case u.User != nil || u.RawQuery != "" || u.Fragment != "":
		// The URL appears in the errors of a failed request.
		return nil, fmt.Errorf("%s: no credentials, query or fragment please (the token is passed on its own)", EnvAPIURL)
	}
	if strings.EqualFold(u.Host, "api.github.com") {
		return c, nil
	}
	// GITHUB_API_URL is the API's root already: used as it is (go-github's
	// WithEnterpriseURLs would add /api/v3/ to a host that lacks it).
	base, _ := url.Parse(strings.TrimSuffix(u.String(), "/") + "/")
	c.BaseURL = base
	return c, nil
}

// describe turns GitHub's refusal into a reason that says what to do.
func (e endpoint) describe(owner, repo string, resp *github.Response, err error) error {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return fmt.Errorf("%s: listing the %s of %s/%s: %w", e.producer, e.what, owner, repo, err)
	}
	status := 0
	if resp != nil && resp.Response != nil {
		status = resp.StatusCode
	}
	var er *github.ErrorResponse
	var rl *github.RateLimitError
	if status == 0 && !errors.As(err, &er) && !errors.As(err, &rl) {
		// No answer: the transport's error, which names the URL (the
		// token is a header) and what went wrong.
		return fmt.Errorf("%s: listing the %s of %s/%s: %v", e.producer, e.what, owner, repo, err)
	}
	msg := ghapi.Message(err)
	var hint string
	switch {
	case errors.As(err, &rl):
		hint = fmt.Sprintf("GitHub's API rate limit for this token is used up until %s (X-RateLimit-Reset), more than the %s a run waits: run again then, or use a token with a higher limit (a GitHub App's)",
			rl.Rate.Reset.UTC().Format(time.RFC3339), MaxRateWait)
	case status == http.StatusUnauthorized:
		hint = EnvToken + " is not a valid token (expired or revoked?)"
	default:
		hint = e.hint(status, strings.ToLower(msg))
	}
	if hint == "" && status == http.StatusNotFound {
		hint = fmt.Sprintf("no repository %s/%s, or the token cannot see it", owner, repo)
	}
	if hint == "" && status == http.StatusForbidden && strings.Contains(strings.ToLower(msg), "not accessible") {
		hint = "the token may not read them: it needs " + e.permission
	}
	reason := fmt.Sprintf("%s: GitHub refused the list of %s of %s/%s", e.producer, e.what, owner, repo)
	if status != 0 {
		reason += fmt.Sprintf(": HTTP %d", status)
	}
	reason += ": " + msg
	if hint != "" {
		reason += " (" + hint + ")"
	}
	return errors.New(reason)
}

// eachAlert calls fn for each alert of a report: a JSON array of alerts,
// or several one after the other (gh api --paginate writes a page an
// array). fn must consume the alert's value.
func eachAlert(tool string, data []byte, fn func(dec *jsontext.Decoder) error) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return &producers.ParseError{Tool: tool, Offset: -1, Err: producers.ErrEmpty}
	}
	dec := jsontok.NewDecoder(data)
	for {
		switch dec.PeekKind() {
		case '[':
			if err := jsontok.Elements(dec, "alerts", func(int) error { return fn(dec) }); err != nil {
				return producers.JSONError(tool, err)
			}
		case '{':
			// GitHub's answer to a refused request, saved in place of
			// the alerts, is an object with a message.
			var refusal struct {
				Message string `json:"message"`
			}
			if err := unmarshal(dec, &refusal); err != nil {
				return producers.JSONError(tool, err)
			}
			if refusal.Message != "" {
				return producers.Errorf(tool, "not a list of alerts but GitHub's refusal: %q", refusal.Message)
			}
			return producers.Errorf(tool, "not a list of alerts: an object")
		case 0:
			// The end of the input, or a syntax error.
			if _, err := dec.ReadToken(); err != io.EOF {
				return producers.JSONError(tool, err)
			}
			return nil
		default:
			return producers.Errorf(tool, "not a list of alerts: a %v at byte %d", dec.PeekKind(), dec.InputOffset())
		}
	}
}

// dismissal reads a dismissed alert's triage into the annotations the
// tool-suppression enricher honours. The fetch asks for open alerts
// only; a file saved by hand may hold the others.
func dismissal(iss annotated, state, reason, comment string) {
	switch state {
	case "dismissed", "auto_dismissed":
		why := "dismissed on GitHub"
		if state == "auto_dismissed" {
			why = "auto-dismissed by a Dependabot rule"
		}
		if reason != "" {
			why += ": " + reason
		}
		if comment != "" {
			why += ": " + comment
		}
		iss.set("suppressed", "true")
		iss.set("suppression_reason", why)
	}
}

// closed: an alert GitHub says is gone (fixed, or closed with its rule)
// is not a finding.
func closed(state string) bool { return state == "fixed" || state == "closed" }

type annotated map[string]string

func (a annotated) set(k, v string) {
	if v != "" {
		a[k] = v
	}
}

// unmarshal decodes the value at the decoder's position into v, as
// forgiving as every parser is (producers.JSONOptions).
func unmarshal(dec *jsontext.Decoder, v any) error {
	return jsonv2.UnmarshalDecode(dec, v, producers.JSONOptions)
}
