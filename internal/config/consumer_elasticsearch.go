package config

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
	"text/template"
)

// Elasticsearch configures consumers.elasticsearch. Elasticsearch or OpenSearch: bulk-indexed documents with deterministic ids.
//
// Two indexes are written: Index, the history (one document per finding
// per scan), and FindingsIndex, the current state (one document per
// finding, updated in place, marked fixed when a scan no longer has it).
type Elasticsearch struct {
	Delivery `yaml:",inline"`
	// URLs are the cluster's nodes ("https://es.example.com:9200"); unset:
	// the comma-separated list in ELASTICSEARCH_URL, as Dracon's
	// -es-urls read it. Credentials never go in a URL: use user and
	// password, or api_key.
	URLs []string `yaml:"urls"`
	// CloudID is an Elastic Cloud deployment's Cloud ID, instead of urls.
	CloudID string `yaml:"cloud_id"`
	// APIKey is an Elasticsearch API key, its "encoded" form (base64 of
	// id:key, as the create API key call returns it): env:NAME or
	// file:PATH; unset: DRACON_ES_API_KEY. It is used instead of user and
	// password when both are there.
	APIKey Secret `yaml:"api_key"`
	// User is the user name for basic authentication.
	User string `yaml:"user"`
	// Password is the user's password: env:NAME or file:PATH; unset:
	// DRACON_ES_PASSWORD.
	Password Secret `yaml:"password"`
	// Flavor is the server: elasticsearch (the default: 7.14 or later,
	// 8.x, 9.x) or opensearch (1.x, 2.x, 3.x).
	Flavor string `yaml:"flavor"`
	// Index is the history index: one document per finding per scan
	// (default "dracon").
	Index string `yaml:"index"`
	// FindingsIndex is the current-state index: one document per finding
	// (default: Index followed by "-findings").
	FindingsIndex string `yaml:"findings_index"`
	// ManageTemplate puts Dracon's index template (named after Index, for
	// both indexes) before each delivery (default true). Set false when
	// the template is installed by hand and the credentials may not
	// manage templates.
	ManageTemplate *bool `yaml:"manage_template"`
	// DescriptionTemplate is a Go template for each document's description
	// field, over the finding as Dracon's templates see it (its
	// -descriptionTemplate); unset: Dracon's default.
	DescriptionTemplate string `yaml:"description_template"`
	// BatchSize is the most documents a bulk request carries (default
	// 1000; each finding has two, its history and its current state).
	BatchSize int `yaml:"batch_size"`
	// FlushBytes is the most bytes a bulk request's body holds (default
	// 5 MB, well under Elasticsearch's 100 MB http.max_content_length).
	FlushBytes int `yaml:"flush_bytes"`
}

// Elasticsearch flavors.
const (
	FlavorElasticsearch = "elasticsearch"
	FlavorOpenSearch    = "opensearch"
)

// Defaults of consumers.elasticsearch.
const (
	ElasticsearchIndex      = "dracon"
	ElasticsearchBatchSize  = 1000
	ElasticsearchFlushBytes = 5 << 20
	elasticsearchMaxBatch   = 10000
	elasticsearchMaxBytes   = 100 << 20
)

// HistoryIndex is Index or its default.
func (c *Elasticsearch) HistoryIndex() string {
	if c.Index == "" {
		return ElasticsearchIndex
	}
	return c.Index
}

// CurrentIndex is FindingsIndex or its default, HistoryIndex-findings.
func (c *Elasticsearch) CurrentIndex() string {
	if c.FindingsIndex == "" {
		return c.HistoryIndex() + "-findings"
	}
	return c.FindingsIndex
}

// TemplateManaged is ManageTemplate or its default, true.
func (c *Elasticsearch) TemplateManaged() bool { return c.ManageTemplate == nil || *c.ManageTemplate }

// Server is Flavor or its default.
func (c *Elasticsearch) Server() string {
	if c.Flavor == "" {
		return FlavorElasticsearch
	}
	return c.Flavor
}

// validate checks what is particular to this consumer; the common block
// is checked by Delivery.validate.
func (c *Elasticsearch) validate(key string, add func(key, format string, args ...any)) {
	for i, u := range c.URLs {
		if err := CheckElasticsearchURL(u); err != nil {
			add(fmt.Sprintf("%s.urls[%d]", key, i), "%v", err)
		}
	}
	if c.CloudID != "" {
		if len(c.URLs) > 0 {
			add(key+".cloud_id", "give urls or cloud_id, not both")
		}
		if err := checkCloudID(c.CloudID); err != nil {
			add(key+".cloud_id", "%v", err)
		}
	}
	switch c.Flavor {
	case "", FlavorElasticsearch:
	case FlavorOpenSearch:
		if c.CloudID != "" {
			add(key+".cloud_id", "a Cloud ID names an Elastic Cloud deployment, not an OpenSearch cluster: use urls")
		}
		if c.APIKey != "" {
			add(key+".api_key", "OpenSearch takes no Elasticsearch API key: use user and password")
		}
	default:
		add(key+".flavor", "%q is not a flavor (elasticsearch, opensearch)", c.Flavor)
	}
	if c.Password != "" && c.User == "" {
		add(key+".password", "a password without a user: set user too")
	}
	for _, ix := range []struct{ k, v string }{{"index", c.Index}, {"findings_index", c.FindingsIndex}} {
		if ix.v == "" {
			continue
		}
		if err := CheckIndexName(ix.v); err != nil {
			add(key+"."+ix.k, "%v", err)
		}
	}
	if c.HistoryIndex() == c.CurrentIndex() {
		add(key+".findings_index", "%q is the history index too: the two need their own names", c.CurrentIndex())
	}
	if c.DescriptionTemplate != "" {
		if _, err := template.New("description_template").Parse(c.DescriptionTemplate); err != nil {
			add(key+".description_template", "%v", err)
		}
	}
	if c.BatchSize < 0 || c.BatchSize > elasticsearchMaxBatch {
		add(key+".batch_size", "%d is not between 1 and %d", c.BatchSize, elasticsearchMaxBatch)
	}
	if c.FlushBytes != 0 && (c.FlushBytes < 1024 || c.FlushBytes > elasticsearchMaxBytes) {
		add(key+".flush_bytes", "%d is not between 1024 and %d (Elasticsearch refuses bodies over its http.max_content_length, 100 MB by default)", c.FlushBytes, elasticsearchMaxBytes)
	}
}

// CheckElasticsearchURL says whether u is a node's address: http or
// https, a host, and no credentials.
func CheckElasticsearchURL(u string) error {
	p, err := url.Parse(strings.TrimSpace(u))
	switch {
	case err != nil:
		return fmt.Errorf("%q is not a URL: %v", u, err)
	case p.Scheme != "http" && p.Scheme != "https":
		return fmt.Errorf("%q: the scheme is not http or https", u)
	case p.Host == "":
		return fmt.Errorf("%q has no host", u)
	case p.User != nil:
		return fmt.Errorf("the URL holds a user and password: configs are committed; use user and password (env:NAME or file:PATH) instead")
	case p.RawQuery != "" || p.Fragment != "":
		return fmt.Errorf("%q: a node's URL takes no query or fragment", u)
	}
	return nil
}

// checkCloudID checks the shape Elastic Cloud gives a deployment's ID:
// name:base64(host$elasticsearch-id$kibana-id).
func checkCloudID(id string) error {
	_, enc, ok := strings.Cut(id, ":")
	if !ok {
		return fmt.Errorf("%q is not a Cloud ID (name:base64)", id)
	}
	data, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return fmt.Errorf("the Cloud ID's second part is not base64: %v", err)
	}
	if parts := strings.Split(string(data), "$"); len(parts) < 2 || parts[0] == "" || parts[1] == "" {
		return fmt.Errorf("the Cloud ID does not name a host and a deployment")
	}
	return nil
}

// CheckIndexName applies Elasticsearch's rules for index names
// (lowercase, none of \ / * ? " < > | , # : or a space, not starting
// with - _ +, not . or .., at most 255 bytes).
func CheckIndexName(name string) error {
	switch {
	case name != strings.ToLower(name):
		return fmt.Errorf("%q: index names are lowercase", name)
	case strings.ContainsAny(name, `\/*?"<>|,# :`):
		return fmt.Errorf("%q: an index name has none of \\ / * ? \" < > | , # : or a space", name)
	case strings.HasPrefix(name, "-") || strings.HasPrefix(name, "_") || strings.HasPrefix(name, "+"):
		return fmt.Errorf("%q: an index name does not start with -, _ or +", name)
	case name == "." || name == "..":
		return fmt.Errorf("%q is not an index name", name)
	case len(name) > 255:
		return fmt.Errorf("an index name is at most 255 bytes (this one is %d)", len(name))
	}
	return nil
}
