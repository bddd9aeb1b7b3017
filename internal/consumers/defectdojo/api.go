package defectdojo

// The one DefectDojo API call this consumer makes: POST
// /api/v2/reimport-scan/ (dojo/api_v2/views.py ReImportScanView, fields
// in dojo/api_v2/serializers.py ReImportScanSerializer), multipart form
// data, authenticated by "Authorization: Token <key>". It finds the test
// by product, engagement and test title, creating what is missing when
// auto_create_context is true, and answers 201 with the test's ids and
// statistics.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"sort"
	"strconv"
	"strings"
)

// reimportPath is the endpoint, with the trailing slash Django's router
// redirects to (a redirect would turn the POST into a GET).
const reimportPath = "/api/v2/reimport-scan/"

// scanType is the parser the file is read with.
const genericScanType = "Generic Findings Import"

// client talks to one DefectDojo.
type client struct {
	base      string // https://defectdojo.example.com, no trailing slash
	token     string
	http      *http.Client
	userAgent string
}

// reimport is one reimport-scan request.
type reimport struct {
	ProductName, ProductTypeName, EngagementName, TestTitle string
	DeduplicationOnEngagement, CloseOldFindings             bool
	// Active and Verified, when set, override the file's values.
	Active, Verified *bool
	Environment      string
	// BranchTag, CommitHash and BuildID are the test's metadata; SCMURI
	// is the engagement's source code link (set when it is created).
	BranchTag, CommitHash, BuildID, SCMURI string
	Tags                                   []string
	// FileName must end in .json: the generic parser reads any other
	// name as CSV.
	FileName string
	File     []byte
}

// fields are the request's form fields in the order they are sent, as
// name/value pairs (tags repeat).
func (r reimport) fields() [][2]string {
	b := strconv.FormatBool
	f := [][2]string{
		{"scan_type", genericScanType},
		{"product_type_name", r.ProductTypeName},
		{"product_name", r.ProductName},
		{"engagement_name", r.EngagementName},
		{"test_title", r.TestTitle},
		{"auto_create_context", "true"},
		{"deduplication_on_engagement", b(r.DeduplicationOnEngagement)},
		// Sent always: reimport's own default is true, which would close
		// every finding a pull request's diff-filtered scan left out.
		{"close_old_findings", b(r.CloseOldFindings)},
		// The consumer's filter chose the findings; DefectDojo's own
		// threshold must not drop any of them.
		{"minimum_severity", "Info"},
	}
	if r.Active != nil {
		f = append(f, [2]string{"active", b(*r.Active)})
	}
	if r.Verified != nil {
		f = append(f, [2]string{"verified", b(*r.Verified)})
	}
	for _, kv := range [][2]string{{"environment", r.Environment}, {"branch_tag", r.BranchTag}, {"commit_hash", r.CommitHash},
		{"build_id", r.BuildID}, {"source_code_management_uri", r.SCMURI}} {
		if kv[1] != "" {
			f = append(f, kv)
		}
	}
	for _, t := range r.Tags {
		f = append(f, [2]string{"tags", t})
	}
	return f
}

// reimportResult is what DefectDojo answers (the serializer's read-only
// fields).
type reimportResult struct {
	TestID       int         `json:"test_id"`
	EngagementID int         `json:"engagement_id"`
	ProductID    int         `json:"product_id"`
	Statistics   *statistics `json:"statistics"`
}

// statistics are ImportStatisticsSerializer's: "before" and "delta"
// only when the test existed, "delta" only when DefectDojo tracks import
// history (TRACK_IMPORT_HISTORY, on by default).
type statistics struct {
	Before *severityStats `json:"before"`
	Delta  *deltaStats    `json:"delta"`
	After  *severityStats `json:"after"`
}

// severityStats are counts per severity and in total; only the total is
// read.
type severityStats struct {
	Total statusStats `json:"total"`
}

type statusStats struct {
	Active      int `json:"active"`
	IsMitigated int `json:"is_mitigated"`
	Total       int `json:"total"`
}

// deltaStats are what the reimport did, by action (IMPORT_ACTIONS).
type deltaStats struct {
	Created     severityStats `json:"created"`
	Closed      severityStats `json:"closed"`
	Reactivated severityStats `json:"reactivated"`
	Untouched   severityStats `json:"untouched"`
}

// errAuth is a refused credential: every other call would be refused too.
var errAuth = errors.New("DefectDojo refused the API token")

// apiError is an answer other than 201.
type apiError struct {
	Status int
	Detail string
}

func (e *apiError) Error() string {
	if e.Detail == "" {
		return fmt.Sprintf("DefectDojo answered %d", e.Status)
	}
	return fmt.Sprintf("DefectDojo answered %d: %s", e.Status, e.Detail)
}

// body is the multipart request: the fields, then the file.
func (r reimport) body() (data []byte, contentType string, err error) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, kv := range r.fields() {
		if err := w.WriteField(kv[0], kv[1]); err != nil {
			return nil, "", err
		}
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, r.FileName))
	h.Set("Content-Type", "application/json")
	part, err := w.CreatePart(h)
	if err != nil {
		return nil, "", err
	}
	if _, err := part.Write(r.File); err != nil {
		return nil, "", err
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), w.FormDataContentType(), nil
}

// reimport sends one reimport-scan request.
func (c *client) reimport(ctx context.Context, r reimport) (*reimportResult, error) {
	data, ct, err := r.body()
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+reimportPath, bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Token "+c.token)
	req.Header.Set("User-Agent", c.userAgent)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, err
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return nil, fmt.Errorf("%w (%d: %s)", errAuth, resp.StatusCode, detail(body))
	case resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK:
		return nil, &apiError{Status: resp.StatusCode, Detail: detail(body)}
	}
	var res reimportResult
	if err := json.Unmarshal(body, &res); err != nil {
		return nil, fmt.Errorf("DefectDojo's answer is not the reimport's JSON: %w", err)
	}
	return &res, nil
}

// detail is the readable part of an error answer: Django REST
// framework's {"detail": ...}, a field's errors {"field": ["..."]},
// DefectDojo's {"message": ...}, or the start of the body.
func detail(body []byte) string {
	var m map[string]any
	if json.Unmarshal(body, &m) == nil && len(m) > 0 {
		for _, k := range []string{"detail", "message"} {
			if s, ok := m[k].(string); ok {
				return s
			}
		}
		var parts []string
		for k, v := range m {
			parts = append(parts, fmt.Sprintf("%s: %v", k, v))
		}
		sort.Strings(parts)
		return clip(strings.Join(parts, "; "), 500)
	}
	return clip(strings.TrimSpace(string(body)), 300)
}

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
