package jira

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	jira "github.com/andygrunwald/go-jira"
)

const (
	// labelsPerSearch bounds one JQL query's label list: a run's
	// thousand findings take 20 searches, and the query stays well
	// within a URL's length for Data Center's GET search.
	labelsPerSearch = 50
	// searchPage is the page size asked for; Jira may answer with fewer,
	// and the pages are followed either way.
	searchPage = 100
	// maxPages stops a search whose pages never end (a server that
	// hands the same token back).
	maxPages = 1000
)

// searchFields are the fields a search asks for: Cloud's search returns
// none unless asked.
var searchFields = []string{"summary", "status", "resolution", "labels", "description"}

// ticket is a ticket Dracon found.
type ticket struct {
	Key        string
	Summary    string
	Status     string
	Category   string // the status category's key: new, indeterminate, done
	Resolution string
	Labels     []string
	// Digest is the digest in the description's footer: what Dracon last
	// wrote ("" when the footer is gone).
	Digest string
}

func (t *ticket) done() bool { return t.Category == "done" }

// closedAs says how a done ticket was closed: "Done", or "Done as Won't Do".
func (t *ticket) closedAs() string {
	if t.Resolution == "" || strings.EqualFold(t.Resolution, t.Status) {
		return t.Status
	}
	return t.Status + " as " + t.Resolution
}

// search finds the tickets carrying each label in the project, with a
// query per labelsPerSearch labels: a label is searched once per run, not
// once per finding.
func (c *Consumer) search(ctx context.Context, labels []string) (map[string][]*ticket, error) {
	want := map[string]bool{}
	var unique []string
	for _, l := range labels {
		if !want[l] {
			want[l] = true
			unique = append(unique, l)
		}
	}
	sort.Strings(unique)
	out := map[string][]*ticket{}
	for lo := 0; lo < len(unique); lo += labelsPerSearch {
		jql := c.jql(unique[lo:min(lo+labelsPerSearch, len(unique))])
		var found []*ticket
		var err error
		if c.cloud {
			found, err = c.searchCloud(ctx, jql)
		} else {
			found, err = c.searchDataCenter(ctx, jql)
		}
		if err != nil {
			return nil, err
		}
		for _, t := range found {
			for _, l := range t.Labels {
				if want[l] {
					out[l] = append(out[l], t)
				}
			}
		}
	}
	return out, nil
}

// jql finds the project's tickets with any of labels, oldest first (of
// two tickets with one label, the older is the one kept).
func (c *Consumer) jql(labels []string) string {
	quoted := make([]string, len(labels))
	for i, l := range labels {
		quoted[i] = quote(l)
	}
	return fmt.Sprintf("project = %s AND labels in (%s) ORDER BY created ASC", quote(c.project), strings.Join(quoted, ", "))
}

// quote is a JQL string literal.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// cloudSearchRequest and cloudSearchAnswer are Jira Cloud's search
// (POST /rest/api/3/search/jql, which replaced /rest/api/{2,3}/search in
// 2025): pages follow nextPageToken, which the last page leaves out.
type cloudSearchRequest struct {
	JQL           string   `json:"jql"`
	Fields        []string `json:"fields"`
	MaxResults    int      `json:"maxResults"`
	NextPageToken string   `json:"nextPageToken,omitempty"`
}

type cloudSearchAnswer struct {
	Issues []struct {
		Key    string `json:"key"`
		Fields struct {
			Summary string `json:"summary"`
			// Description is REST v3's Atlassian Document Format: only
			// the footer's digest is read from it.
			Description json.RawMessage `json:"description"`
			Status      *struct {
				Name           string `json:"name"`
				StatusCategory struct {
					Key string `json:"key"`
				} `json:"statusCategory"`
			} `json:"status"`
			Resolution *struct {
				Name string `json:"name"`
			} `json:"resolution"`
			Labels []string `json:"labels"`
		} `json:"fields"`
	} `json:"issues"`
	NextPageToken string `json:"nextPageToken"`
	IsLast        bool   `json:"isLast"`
}

func (c *Consumer) searchCloud(ctx context.Context, jql string) ([]*ticket, error) {
	var out []*ticket
	token := ""
	for page := 0; page < maxPages; page++ {
		var a cloudSearchAnswer
		req := cloudSearchRequest{JQL: jql, Fields: searchFields, MaxResults: searchPage, NextPageToken: token}
		if err := c.call(ctx, "search", "POST", "rest/api/3/search/jql", req, &a); err != nil {
			return nil, err
		}
		for _, is := range a.Issues {
			t := &ticket{Key: is.Key, Summary: is.Fields.Summary, Labels: is.Fields.Labels, Digest: digestOf(is.Fields.Description)}
			if s := is.Fields.Status; s != nil {
				t.Status, t.Category = s.Name, s.StatusCategory.Key
			}
			if r := is.Fields.Resolution; r != nil {
				t.Resolution = r.Name
			}
			out = append(out, t)
		}
		if a.IsLast || a.NextPageToken == "" || a.NextPageToken == token {
			return out, nil
		}
		token = a.NextPageToken
	}
	return nil, &apiError{op: "search", msg: fmt.Sprintf("more than %d pages of results", maxPages)}
}

// searchDataCenter is Data Center's search (go-jira's Search: GET
// /rest/api/2/search), paged by startAt up to the total it reports.
func (c *Consumer) searchDataCenter(ctx context.Context, jql string) ([]*ticket, error) {
	var out []*ticket
	start := 0
	for page := 0; page < maxPages; page++ {
		issues, resp, err := c.client.Issue.SearchWithContext(ctx, jql, &jira.SearchOptions{StartAt: start, MaxResults: searchPage, Fields: searchFields})
		if err != nil {
			return nil, failure("search", resp, err)
		}
		for _, is := range issues {
			t := &ticket{Key: is.Key}
			if f := is.Fields; f != nil {
				t.Summary, t.Labels, t.Digest = f.Summary, f.Labels, digestOf([]byte(f.Description))
				if f.Status != nil {
					t.Status, t.Category = f.Status.Name, f.Status.StatusCategory.Key
				}
				if f.Resolution != nil {
					t.Resolution = f.Resolution.Name
				}
			}
			out = append(out, t)
		}
		start += len(issues)
		if len(issues) == 0 || start >= resp.Total {
			return out, nil
		}
	}
	return nil, &apiError{op: "search", msg: fmt.Sprintf("more than %d pages of results", maxPages)}
}
