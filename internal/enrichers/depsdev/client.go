package depsdev

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"golang.org/x/time/rate"
)

// The answers of deps.dev's API v3 (api/v3/api.proto in google/deps.dev,
// as JSON: camelCase names, enums by name, timestamps in RFC 3339): the
// fields Dracon reads.
type apiVersion struct {
	Licenses     []string `json:"licenses"`
	AdvisoryKeys []struct {
		ID string `json:"id"`
	} `json:"advisoryKeys"`
	Links           []Link `json:"links"`
	RelatedProjects []struct {
		ProjectKey struct {
			ID string `json:"id"`
		} `json:"projectKey"`
		RelationType string `json:"relationType"`
	} `json:"relatedProjects"`
}

type apiProject struct {
	OpenIssuesCount int    `json:"openIssuesCount"`
	StarsCount      int    `json:"starsCount"`
	License         string `json:"license"`
	Scorecard       *struct {
		Date   string `json:"date"`
		Checks []struct {
			Name  string `json:"name"`
			Score int    `json:"score"`
		} `json:"checks"`
		OverallScore *float64 `json:"overallScore"`
	} `json:"scorecard"`
}

// client asks deps.dev, at most rate requests a second, retries
// included.
type client struct {
	base string
	http *http.Client
}

// limited waits for the limiter before each attempt, so that the
// retrying client's retries count against the rate too.
type limited struct {
	next    http.RoundTripper
	limiter *rate.Limiter
}

func (l limited) RoundTrip(r *http.Request) (*http.Response, error) {
	if err := l.limiter.Wait(r.Context()); err != nil {
		// No turn before the enricher's deadline: nothing more is sent
		// this run. Waiting it out (rather than failing at once) keeps
		// the retrying client from trying again and again until then.
		<-r.Context().Done()
		return nil, r.Context().Err()
	}
	return l.next.RoundTrip(r)
}

// errNotFound is deps.dev's 404: no such package version or project.
var errNotFound = errors.New("not known to deps.dev")

// get fetches path into v; errNotFound for a 404.
func (c *client) get(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return err
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return errNotFound
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("GET %s: HTTP %d: %s", path, resp.StatusCode, apiMessage(body))
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("GET %s: the answer is not deps.dev's JSON: %w", path, err)
	}
	return nil
}

// apiMessage is the message of deps.dev's error body ({"code": 5,
// "message": "...", "details": []}), else the body's start.
func apiMessage(body []byte) string {
	var e struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &e) == nil && e.Message != "" {
		return e.Message
	}
	s := strings.TrimSpace(string(body))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// version asks deps.dev about k.
func (c *client) version(ctx context.Context, k Key, now time.Time) (*Version, error) {
	var a apiVersion
	err := c.get(ctx, k.versionPath(), &a)
	if errors.Is(err, errNotFound) {
		return &Version{Fetched: now, Unknown: true}, nil
	}
	if err != nil {
		return nil, err
	}
	v := &Version{Fetched: now, Licenses: a.Licenses, Links: a.Links}
	for _, ak := range a.AdvisoryKeys {
		if ak.ID != "" {
			v.Advisories = append(v.Advisories, ak.ID)
		}
	}
	for _, p := range a.RelatedProjects {
		if p.RelationType == "SOURCE_REPO" && p.ProjectKey.ID != "" {
			v.Project = p.ProjectKey.ID
			break
		}
	}
	return v, nil
}

// project asks deps.dev about a source repository.
func (c *client) project(ctx context.Context, id string, now time.Time) (*Project, error) {
	var a apiProject
	err := c.get(ctx, projectPath(id), &a)
	if errors.Is(err, errNotFound) {
		return &Project{Fetched: now, Unknown: true}, nil
	}
	if err != nil {
		return nil, err
	}
	p := &Project{Fetched: now, OpenIssues: a.OpenIssuesCount, Stars: a.StarsCount, License: a.License}
	if sc := a.Scorecard; sc != nil && sc.OverallScore != nil {
		score := *sc.OverallScore
		p.Score = &score
		if t, err := time.Parse(time.RFC3339, sc.Date); err == nil {
			p.ScoreDate = t.UTC().Format(time.DateOnly)
		}
		for _, ch := range sc.Checks {
			p.Checks = append(p.Checks, Check{Name: ch.Name, Score: ch.Score})
		}
	}
	return p, nil
}
