package dependencytrack

// The Dependency-Track REST calls this consumer makes (read in
// DependencyTrack/dependency-track 4.14.3 and 5.0.x:
// resources/v1/BomResource.java, ProjectResource.java,
// EventResource.java), authenticated by the X-Api-Key header:
//
//   - GET /api/v1/project/lookup?name=&version= (VIEW_PORTFOLIO): the
//     project, or 404.
//   - GET /api/v1/project/{uuid}: the project, or 404.
//   - PUT /api/v1/bom (BOM_UPLOAD): BomSubmitRequest, the BOM base64
//     encoded; answers {"token": uuid}. Each upload replaces the
//     project's components.
//   - GET /api/v1/event/token/{uuid} ({"processing": bool}; 4.11 and
//     later), else the deprecated GET /api/v1/bom/token/{uuid}.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// client talks to one Dependency-Track API server.
type client struct {
	base      string // https://dtrack.example.com, no trailing slash
	key       string
	http      *http.Client
	userAgent string
}

// project is the part of Dependency-Track's Project the consumer reads.
type project struct {
	UUID    string `json:"uuid"`
	Name    string `json:"name"`
	Version string `json:"version"`
	Tags    []tag  `json:"tags"`
}

type tag struct {
	Name string `json:"name"`
}

// bomRequest is BomSubmitRequest. With Project set, the other project
// fields are not read.
type bomRequest struct {
	Project        string `json:"project,omitempty"`
	ProjectName    string `json:"projectName,omitempty"`
	ProjectVersion string `json:"projectVersion,omitempty"`
	// ProjectTags replace the project's tags (4.12 and later; changing
	// them needs PORTFOLIO_MANAGEMENT, else they are left as they are).
	ProjectTags   []tag  `json:"projectTags,omitempty"`
	AutoCreate    bool   `json:"autoCreate"`
	ParentUUID    string `json:"parentUUID,omitempty"`
	ParentName    string `json:"parentName,omitempty"`
	ParentVersion string `json:"parentVersion,omitempty"`
	IsLatest      bool   `json:"isLatest,omitempty"`
	BOM           string `json:"bom"`
}

// errAuth is a refused API key: every other call would be refused too.
var errAuth = errors.New("Dependency-Track refused the API key")

// errNotFound is a 404.
var errNotFound = errors.New("not found")

// apiError is an answer that is neither success nor a refused key.
type apiError struct {
	Status int
	Detail string
}

// Is makes a 404 errNotFound.
func (e *apiError) Is(target error) bool {
	return target == errNotFound && e.Status == http.StatusNotFound
}

func (e *apiError) Error() string {
	if e.Detail == "" {
		return fmt.Sprintf("Dependency-Track answered %d", e.Status)
	}
	return fmt.Sprintf("Dependency-Track answered %d: %s", e.Status, e.Detail)
}

// do makes one request and decodes a JSON answer into out (when given).
func (c *client) do(ctx context.Context, method, path string, body any, out any) error {
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-Api-Key", c.key)
	req.Header.Set("User-Agent", c.userAgent)
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return err
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return fmt.Errorf("%w (401%s)", errAuth, colon(detail(data)))
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return &apiError{Status: resp.StatusCode, Detail: detail(data)}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("Dependency-Track's answer to %s %s is not the JSON expected: %w", method, path, err)
	}
	return nil
}

// lookup is the project of that name and version; nil when there is none.
func (c *client) lookup(ctx context.Context, name, version string) (*project, error) {
	var p project
	err := c.do(ctx, http.MethodGet, "/api/v1/project/lookup?"+url.Values{"name": {name}, "version": {version}}.Encode(), nil, &p)
	if errors.Is(err, errNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// project is the project of that UUID; nil when there is none.
func (c *client) project(ctx context.Context, uuid string) (*project, error) {
	var p project
	err := c.do(ctx, http.MethodGet, "/api/v1/project/"+url.PathEscape(uuid), nil, &p)
	if errors.Is(err, errNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// upload sends a BOM; the answer is the token of its processing.
func (c *client) upload(ctx context.Context, r bomRequest) (string, error) {
	var res struct {
		Token string `json:"token"`
	}
	if err := c.do(ctx, http.MethodPut, "/api/v1/bom", r, &res); err != nil {
		return "", err
	}
	if res.Token == "" {
		return "", errors.New("Dependency-Track accepted the BOM but gave no token")
	}
	return res.Token, nil
}

// processing says whether Dependency-Track is still working on an upload.
func (c *client) processing(ctx context.Context, token string) (bool, error) {
	var res struct {
		Processing *bool `json:"processing"`
	}
	err := c.do(ctx, http.MethodGet, "/api/v1/event/token/"+url.PathEscape(token), nil, &res)
	if errors.Is(err, errNotFound) {
		// Before 4.11 only the BOM resource answers.
		err = c.do(ctx, http.MethodGet, "/api/v1/bom/token/"+url.PathEscape(token), nil, &res)
	}
	if err != nil {
		return false, err
	}
	if res.Processing == nil {
		return false, errors.New("Dependency-Track's token status has no processing field")
	}
	return *res.Processing, nil
}

// detail is the readable part of an error answer: RFC 9457 problem
// details (an invalid BOM), or the start of a text body ("The project
// could not be found.").
func detail(body []byte) string {
	var p struct {
		Title  string   `json:"title"`
		Detail string   `json:"detail"`
		Errors []string `json:"errors"`
	}
	if json.Unmarshal(body, &p) == nil && (p.Title != "" || p.Detail != "") {
		s := strings.TrimSuffix(strings.Join(nonEmpty([]string{p.Title, p.Detail}), ": "), ".")
		if len(p.Errors) > 0 {
			errs := append([]string(nil), p.Errors...)
			sort.Strings(errs)
			if len(errs) > 5 {
				errs = append(errs[:5], fmt.Sprintf("and %d more", len(p.Errors)-5))
			}
			s += " (" + strings.Join(errs, "; ") + ")"
		}
		return s
	}
	s := strings.TrimSpace(string(body))
	if r := []rune(s); len(r) > 300 {
		s = string(r[:300]) + "…"
	}
	return s
}

func colon(s string) string {
	if s == "" {
		return ""
	}
	return ": " + s
}

func nonEmpty(ss []string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
