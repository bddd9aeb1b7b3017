package config

import (
	"strings"
	"testing"
)

func parseElasticsearch(t *testing.T, block string) (*Elasticsearch, error) {
	t.Helper()
	c, err := Parse([]byte("consumers:\n  elasticsearch:\n"+block), Names{Resolve: func(s string) (string, bool) { return s, true }})
	if err != nil {
		return nil, err
	}
	return c.Consumers.Elasticsearch, nil
}

func TestElasticsearchBlock(t *testing.T) {
	e, err := parseElasticsearch(t, `    urls: [https://es1.example.com:9200, "https://es2.example.com:9200/prefix"]
    api_key: env:ES_KEY
    user: dracon
    password: file:/run/secrets/es-password
    flavor: elasticsearch
    index: security-findings
    findings_index: security-findings-now
    manage_template: false
    description_template: "{{.RawIssue.Title}} in {{.RawIssue.Target}}"
    batch_size: 250
    flush_bytes: 1048576
    timeout: 5m
    filter: {min_severity: medium}
`)
	if err != nil {
		t.Fatal(err)
	}
	if len(e.URLs) != 2 || e.URLs[1] != "https://es2.example.com:9200/prefix" || e.APIKey != "env:ES_KEY" || e.User != "dracon" ||
		e.Password != "file:/run/secrets/es-password" || e.Server() != FlavorElasticsearch || e.HistoryIndex() != "security-findings" ||
		e.CurrentIndex() != "security-findings-now" || e.TemplateManaged() || e.BatchSize != 250 || e.FlushBytes != 1<<20 ||
		!strings.Contains(e.DescriptionTemplate, ".RawIssue.Target") || e.Filter.MinSeverity != "medium" {
		t.Errorf("elasticsearch = %+v", *e)
	}

	// An empty block is a working one: the URL comes from
	// ELASTICSEARCH_URL, the indexes are dracon and dracon-findings, the
	// template is managed.
	e, err = parseElasticsearch(t, "    enabled: true\n")
	if err != nil {
		t.Fatal(err)
	}
	if e.HistoryIndex() != "dracon" || e.CurrentIndex() != "dracon-findings" || !e.TemplateManaged() || e.Server() != "elasticsearch" {
		t.Errorf("defaults: index %q, findings %q, template %v, flavor %q", e.HistoryIndex(), e.CurrentIndex(), e.TemplateManaged(), e.Server())
	}
	e, err = parseElasticsearch(t, "    index: scans\n")
	if err != nil || e.CurrentIndex() != "scans-findings" {
		t.Errorf("findings_index follows index: %v %v", e, err)
	}

	for _, ok := range []string{
		"    cloud_id: \"prod:ZXUtd2VzdC0xLmF3cy5mb3VuZC5pbyRhYmNkZWYkZ2hpams=\"\n    api_key: env:K\n",
		"    urls: [http://localhost:9200]\n    flavor: opensearch\n    user: admin\n    password: env:OS_PASSWORD\n",
	} {
		if _, err := parseElasticsearch(t, ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
}

func TestElasticsearchBlockRefused(t *testing.T) {
	for _, tc := range []struct{ block, want string }{
		{"    urls: [https://u:pw@es.example.com]\n", "consumers.elasticsearch.urls[0]: the URL holds a user and password"},
		{"    urls: [ftp://es.example.com]\n", "the scheme is not http or https"},
		{"    urls: [es.example.com:9200]\n", "the scheme is not http or https"},
		{"    urls: [\"https://es.example.com?x=1\"]\n", "takes no query"},
		{"    urls: [https://es.example.com]\n    cloud_id: \"a:ZXUtd2VzdC0xJGFiYw==\"\n", "consumers.elasticsearch.cloud_id: give urls or cloud_id, not both"},
		{"    cloud_id: nocolon\n", "is not a Cloud ID"},
		{"    cloud_id: \"a:!!!\"\n", "is not base64"},
		{"    cloud_id: \"a:aG9zdG9ubHk=\"\n", "does not name a host and a deployment"},
		{"    api_key: s3cr3t\n", "env:NAME or file:PATH"},
		{"    password: hunter2\n    user: u\n", "env:NAME or file:PATH"},
		{"    password: env:P\n", "consumers.elasticsearch.password: a password without a user"},
		{"    flavor: solr\n", `consumers.elasticsearch.flavor: "solr" is not a flavor`},
		{"    flavor: opensearch\n    api_key: env:K\n", "OpenSearch takes no Elasticsearch API key"},
		{"    flavor: opensearch\n    cloud_id: \"a:ZXUtd2VzdC0xJGFiYw==\"\n", "not an OpenSearch cluster"},
		{"    index: Dracon\n", "consumers.elasticsearch.index: \"Dracon\": index names are lowercase"},
		{"    index: \"a b\"\n", "or a space"},
		{"    findings_index: _hidden\n", "does not start with -, _ or +"},
		{"    index: x\n    findings_index: x\n", `"x" is the history index too`},
		{"    index: " + strings.Repeat("a", 256) + "\n", "at most 255 bytes"},
		{"    description_template: \"{{.RawIssue.Title\"\n", "consumers.elasticsearch.description_template:"},
		{"    batch_size: -1\n", "batch_size: -1 is not between 1 and 10000"},
		{"    flush_bytes: 10\n", "flush_bytes: 10 is not between 1024"},
		{"    indexes: x\n", "field indexes not found"},
	} {
		_, err := parseElasticsearch(t, tc.block)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want an error with %q", tc.block, err, tc.want)
		}
	}
}
