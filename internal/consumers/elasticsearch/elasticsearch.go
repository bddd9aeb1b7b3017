// Package elasticsearch indexes findings in Elasticsearch (7.14 or later,
// 8.x, 9.x) or OpenSearch (1.x to 3.x), through the bulk API, in two
// indexes:
//
//   - the history (config index, default "dracon"): one document per
//     finding per scan, _id "<finding id>:<scan id>". A re-run of a scan
//     overwrites its documents; a new scan adds its observations. "New and
//     fixed per week" is counted here.
//   - the current state (config findings_index, default
//     "<index>-findings"): one document per finding, _id its finding id,
//     written over by every scan that sees it and marked fixed (status
//     fixed, fixed_at) by the scan that no longer does (its document read
//     with _mget, written back whole). "Open findings by team" and "mean
//     time to fix" are counted here.
//
// A current-state document is written with the scan's start time as its
// external version (version_type external_gte), so a re-run of an older
// scan leaves a later scan's state as it is. Every id is deterministic:
// nothing is created twice however often a scan is delivered.
//
// Before the documents, an index template for both indexes (PUT
// _index_template/<index>) gives them explicit mappings; the annotations
// are one flattened field (flat_object on OpenSearch).
//
// The client is go-elasticsearch v8 over Dracon's retrying HTTP client.
// Its product check (an answer without X-Elastic-Product: Elasticsearch
// is refused) stands for Elasticsearch; for OpenSearch, which sends no
// such header, requests go through the client's transport, under the
// check, once GET / has said the cluster is OpenSearch.
package elasticsearch

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

	"github.com/draconsec/dracon/internal/config"
	"github.com/draconsec/dracon/internal/consumers"
	"github.com/draconsec/dracon/internal/consumers/tmpl"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esapi"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Name is the consumer's key in dracon.yaml.
const Name = "elasticsearch"

// Environment variables read.
const (
	// EnvURL is go-elasticsearch's (and Dracon's -es-urls') comma-
	// separated node list, read when urls is unset.
	EnvURL      = "ELASTICSEARCH_URL"
	EnvAPIKey   = "DRACON_ES_API_KEY"
	EnvPassword = "DRACON_ES_PASSWORD"
)

const opensearch = config.FlavorOpenSearch

// maxErrors bounds the errors a delivery lists; the count says the rest.
const maxErrors = 50

// Consumer indexes findings in Elasticsearch or OpenSearch.
type Consumer struct {
	client   *elasticsearch.BaseClient
	flavor   string
	history  string
	current  string
	managed  bool
	desc     *tmpl.Template
	where    string // the URLs or Cloud ID, for messages
	log      io.Writer
	version  string
	authHint string
	// batchSize, flushBytes, itemRetryWait and itemRetryRounds: sender's.
	batchSize, flushBytes int
	itemRetryWait         time.Duration
	itemRetryRounds       int
}

// New builds the consumer from its block. The cluster is not contacted
// until Publish.
func New(cfg *config.Elasticsearch, env consumers.Env) (*Consumer, error) {
	return build(cfg, env, env.DryRun)
}

// NewDryRun builds the consumer for a dry run, which contacts no cluster:
// without a URL or credentials it still shows everything it would send.
func NewDryRun(cfg *config.Elasticsearch, env consumers.Env) (*Consumer, error) {
	return build(cfg, env, true)
}

func build(cfg *config.Elasticsearch, env consumers.Env, dryRun bool) (*Consumer, error) {
	getenv := env.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	urls := cfg.URLs
	shown := cfg.URLs // urls without credentials, for messages
	if len(urls) == 0 && cfg.CloudID == "" {
		shown = nil
		for _, u := range strings.Split(getenv(EnvURL), ",") {
			if u = strings.TrimSpace(u); u == "" {
				continue
			}
			urls = append(urls, u)
			// The environment, unlike a committed config, may carry a
			// URL with credentials (go-elasticsearch reads them from
			// it): they are masked like any secret, and never shown.
			if p, err := url.Parse(u); err == nil && p.User != nil {
				if pw, ok := p.User.Password(); ok {
					env.Masker.Add(pw)
				}
				p.User = nil
				u = p.String()
			}
			if err := config.CheckElasticsearchURL(u); err != nil {
				return nil, fmt.Errorf("consumers.elasticsearch: %s: %v", EnvURL, err)
			}
			shown = append(shown, u)
		}
	}
	if len(urls) == 0 && cfg.CloudID == "" && !dryRun {
		return nil, fmt.Errorf("consumers.elasticsearch.urls: no cluster to send to: set urls (or cloud_id), or the %s environment variable", EnvURL)
	}
	flavor := cfg.Server()
	desc, err := tmpl.Parse("consumers.elasticsearch.description_template", cfg.DescriptionTemplate)
	if err != nil {
		return nil, err
	}
	c := &Consumer{
		flavor:          flavor,
		history:         cfg.HistoryIndex(),
		current:         cfg.CurrentIndex(),
		managed:         cfg.TemplateManaged(),
		desc:            desc,
		where:           strings.Join(shown, ", "),
		log:             env.Log,
		version:         env.Version,
		batchSize:       cfg.BatchSize,
		flushBytes:      cfg.FlushBytes,
		itemRetryWait:   time.Second,
		itemRetryRounds: 3,
	}
	if cfg.CloudID != "" {
		c.where = "Elastic Cloud deployment " + strings.SplitN(cfg.CloudID, ":", 2)[0]
	}
	if c.log == nil {
		c.log = io.Discard
	}
	if c.batchSize <= 0 {
		c.batchSize = config.ElasticsearchBatchSize
	}
	if c.flushBytes <= 0 {
		c.flushBytes = config.ElasticsearchFlushBytes
	}
	c.authHint = fmt.Sprintf("set api_key (or %s), or user and password (or %s)", EnvAPIKey, EnvPassword)
	if flavor == opensearch {
		c.authHint = fmt.Sprintf("set user and password (or %s)", EnvPassword)
	}
	if dryRun {
		// A dry run sends nothing: it needs no client, nor credentials.
		if c.where == "" {
			c.where = "none set"
		}
		return c, nil
	}
	var apiKey string
	if flavor != opensearch {
		k, err := env.Secret(cfg.APIKey, EnvAPIKey)
		if err != nil {
			return nil, fmt.Errorf("consumers.elasticsearch.api_key: %w", err)
		}
		apiKey = k
	}
	var password string
	if cfg.User != "" {
		p, err := env.Secret(cfg.Password, EnvPassword)
		if err != nil {
			return nil, fmt.Errorf("consumers.elasticsearch.password: %w", err)
		}
		if p == "" {
			return nil, fmt.Errorf("consumers.elasticsearch.password: user %q has no password: set password (env:NAME or file:PATH) or the %s environment variable", cfg.User, EnvPassword)
		}
		password = p
	}
	esCfg := elasticsearch.Config{
		Addresses: urls,
		CloudID:   cfg.CloudID,
		APIKey:    apiKey,
		Username:  cfg.User,
		Password:  password,
		// Dracon's retrying client (429 and 5xx with backoff, Retry-After,
		// per-attempt timeouts) does the retries for each node.
		Transport: env.HTTPClient(Name).Transport,
	}
	if len(urls) > 1 {
		// With several nodes, the client's own retries are kept for one
		// thing: moving to the next node once a node has failed all of
		// Dracon's attempts (a connection error, or 502, 503, 504 to the
		// end). A request is tried at most 5 times on each node, never
		// 5 × 4 times on one.
		esCfg.MaxRetries = len(urls) - 1
		esCfg.RetryOnError = func(_ *http.Request, err error) bool { return !isContextError(err) }
	} else {
		// One node: the client retrying what Dracon's client gave up on
		// would try it up to 4 × 5 times.
		esCfg.DisableRetry = true
	}
	// The base client: the transport and its product check, without
	// esapi.API's hundreds of endpoint functions (14 MB of binary).
	client, err := elasticsearch.NewBaseClient(esCfg)
	if err != nil {
		return nil, fmt.Errorf("consumers.elasticsearch: %w", err)
	}
	c.client = client
	return c, nil
}

func (c *Consumer) String() string { return Name }

// plan is what a delivery sends: each finding's two documents, then each
// fixed finding's, with where each one's ops are.
type plan struct {
	ops []op
	// history[i] and current[i] are findings[i]'s ops; -1 when it has
	// none (its description could not be rendered).
	history, current []int
	// fixed are the fixed findings' ops.
	fixed []fixedOps
}

// fixedOps are a fixed finding's ops: its current state marked fixed and
// its fixed observation in the history.
type fixedOps struct {
	fixed            consumers.Fixed
	history, current int
}

// Publish indexes the findings and marks the fixed ones.
func (c *Consumer) Publish(ctx context.Context, run *consumers.Run, findings []consumers.Finding) (consumers.Delivery, error) {
	var d consumers.Delivery
	if run.Scan.GetScanStartTime() == nil {
		// Every document and version is stamped with the scan's start:
		// a scan that records none gets one time for all of them.
		scan := &v1.ScanInfo{}
		if run.Scan != nil {
			scan = proto.Clone(run.Scan).(*v1.ScanInfo)
		}
		scan.ScanStartTime = timestamppb.Now()
		r := *run
		r.Scan, run = scan, &r
	}
	p := c.plan(run, findings, &d)
	if run.DryRun != nil {
		return d, c.dryRun(run, p)
	}
	if c.client == nil {
		return d, errors.New("consumers.elasticsearch: built for a dry run (NewDryRun): it sends nothing")
	}
	if len(p.ops) == 0 && len(run.Fixed) == 0 {
		return d, nil
	}
	perform, version, err := c.connect(ctx)
	if err != nil {
		return d, err
	}
	if c.managed {
		if err := c.putTemplate(ctx, perform, version); err != nil {
			return d, err
		}
	}
	if err := c.planFixed(ctx, perform, run, &p, &d); err != nil {
		return d, err
	}
	res, err := c.sender(perform, run.Scan.GetScanUuid()).send(ctx, p.ops)
	if err != nil {
		return d, err
	}
	for i, f := range findings {
		if p.history[i] < 0 {
			continue
		}
		h, cur := res[p.history[i]], res[p.current[i]]
		switch {
		case !h.ok():
			fail(&d, consumers.Errorf(f, "history document %s: %s", p.ops[p.history[i]].id, h.failure()))
		case !cur.ok() && !cur.conflict():
			fail(&d, consumers.Errorf(f, "current-state document %s: %s", p.ops[p.current[i]].id, cur.failure()))
		case cur.Result == "created":
			d.Created++
		case h.Result == "updated" || cur.conflict():
			// This scan was delivered before (its history document was
			// there), or a later scan's current state is.
			d.Unchanged++
		default:
			d.Updated++
		}
	}
	for _, fx := range p.fixed {
		h, cur := res[fx.history], res[fx.current]
		switch {
		case !h.ok():
			fail(&d, fixedErrorf(fx.fixed, "history document %s: %s", p.ops[fx.history].id, h.failure()))
		case !cur.ok() && !cur.conflict():
			fail(&d, fixedErrorf(fx.fixed, "current-state document: %s", cur.failure()))
		case h.Result == "updated" || cur.conflict():
			d.Unchanged++ // marked fixed by this scan already, or open again in a later one
		default:
			d.Updated++
		}
	}
	return d, nil
}

// planFixed reads the current state of the fixed findings (_mget) and
// adds, for each one the index holds, its current state marked fixed
// (versioned by this scan's start, as an open finding's is, so a later
// scan that saw it again keeps it open) and its fixed observation in the
// history. A finding the index does not hold was never indexed here (the
// filter kept it out, or it was fixed before this consumer was set up):
// it is left out.
func (c *Consumer) planFixed(ctx context.Context, perform esapi.Transport, run *consumers.Run, p *plan, d *consumers.Delivery) error {
	var want []consumers.Fixed
	for _, fx := range run.Fixed {
		if fx.ID != "" {
			want = append(want, fx)
		}
	}
	at := stamp(scanTime(run.Scan))
	version := scanTime(run.Scan).UnixMilli()
	for start := 0; start < len(want); start += c.batchSize {
		chunk := want[start:min(start+c.batchSize, len(want))]
		docs, err := c.mget(ctx, perform, chunk)
		var refused *refusedError
		switch {
		case errors.As(err, &refused):
			return err
		case err != nil:
			// Not knowing their current state, they cannot be marked
			// fixed; the findings are still delivered.
			for _, fx := range chunk {
				fail(d, fixedErrorf(fx, "%v", err))
			}
			continue
		}
		for k, fx := range chunk {
			got := docs[k]
			switch {
			case got.err != "":
				fail(d, fixedErrorf(fx, "reading its current state: %s", got.err))
				continue
			case got.source == nil:
				continue
			}
			var cur document
			if err := json.Unmarshal(got.source, &cur); err != nil {
				fail(d, fixedErrorf(fx, "its current state is not a document of Dracon's: %v", err))
				continue
			}
			cur.Status, cur.IsNew = statusFixed, false
			if cur.FixedAt == "" {
				cur.FixedAt = at // fixed_at stays when the finding was first found fixed
			}
			cur.TimeToFixDays = timeToFix(cur.FirstFound, cur.FixedAt)
			obs := cur
			obs.ScanID, obs.ScanStartTime = run.Scan.GetScanUuid(), at
			h, err := newOp("index", actionMeta{Index: c.history, ID: fx.ID + ":" + run.Scan.GetScanUuid()}, obs)
			if err != nil {
				fail(d, fixedErrorf(fx, "%v", err))
				continue
			}
			o, err := newOp("index", actionMeta{Index: c.current, ID: fx.ID, Version: version, VersionType: "external_gte"}, cur)
			if err != nil {
				fail(d, fixedErrorf(fx, "%v", err))
				continue
			}
			p.fixed = append(p.fixed, fixedOps{fixed: fx, history: len(p.ops), current: len(p.ops) + 1})
			p.ops = append(p.ops, h, o)
		}
	}
	return nil
}

// mgot is one document _mget read: its source (nil: not there) or why it
// could not be read.
type mgot struct {
	source json.RawMessage
	err    string
}

// mget reads the fixed findings' current-state documents.
func (c *Consumer) mget(ctx context.Context, perform esapi.Transport, fixed []consumers.Fixed) ([]mgot, error) {
	ids := make([]string, len(fixed))
	for i, fx := range fixed {
		ids[i] = fx.ID
	}
	body, _ := json.Marshal(map[string][]string{"ids": ids})
	resp, err := esapi.MgetRequest{Index: c.current, Body: bytes.NewReader(body)}.Do(ctx, perform)
	if err != nil {
		return nil, fmt.Errorf("%s: reading the fixed findings' current state (_mget): %w", c.where, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return nil, c.refused(resp.StatusCode, errorReason(data))
	case resp.StatusCode == http.StatusForbidden:
		return nil, fmt.Errorf("%s: the credentials may not read %s (_mget: 403 %s): they need the read privilege on it, to mark fixed findings",
			c.where, c.current, errorReason(data))
	case resp.StatusCode == http.StatusNotFound:
		return make([]mgot, len(fixed)), nil // index_not_found_exception: nothing indexed yet
	case resp.IsError():
		return nil, fmt.Errorf("%s: _mget %s: %s: %s", c.where, c.current, resp.Status(), errorReason(data))
	}
	var mr struct {
		Docs []struct {
			ID     string          `json:"_id"`
			Found  bool            `json:"found"`
			Source json.RawMessage `json:"_source"`
			Error  json.RawMessage `json:"error"`
		} `json:"docs"`
	}
	if err := json.Unmarshal(data, &mr); err != nil || len(mr.Docs) != len(fixed) {
		return nil, fmt.Errorf("%s: _mget %s: %d documents in an answer for %d ids", c.where, c.current, len(mr.Docs), len(fixed))
	}
	out := make([]mgot, len(fixed))
	for i, doc := range mr.Docs {
		switch {
		case len(doc.Error) > 0:
			reason := errorReason([]byte(`{"error":` + string(doc.Error) + `}`))
			if !strings.HasPrefix(reason, "index_not_found_exception") {
				out[i].err = reason
			}
		case doc.Found:
			out[i].source = doc.Source
		}
	}
	return out, nil
}

func fixedErrorf(fx consumers.Fixed, format string, args ...any) string {
	return fmt.Sprintf("fixed %s %s at %s (%s): %s", fx.Tool, fx.Rule, fx.Path, fx.ID, fmt.Sprintf(format, args...))
}

// fail counts a failed finding, listing at most maxErrors reasons.
func fail(d *consumers.Delivery, msg string) {
	d.Failed++
	switch {
	case len(d.Errors) < maxErrors:
		d.Errors = append(d.Errors, msg)
	case len(d.Errors) == maxErrors:
		d.Errors = append(d.Errors, "and more: see failed for how many")
	}
}

// plan builds the findings' ops: per finding its history document (_id
// finding:scan) and its current state (_id finding, versioned by the
// scan's start). The fixed findings' ops need what the index holds of
// them: planFixed adds them.
func (c *Consumer) plan(run *consumers.Run, findings []consumers.Finding, d *consumers.Delivery) plan {
	scanID := run.Scan.GetScanUuid()
	version := scanTime(run.Scan).UnixMilli()
	p := plan{history: make([]int, len(findings)), current: make([]int, len(findings))}
	for i, f := range findings {
		p.history[i], p.current[i] = -1, -1
		desc, err := c.desc.Render(tmpl.NewView(run.Scan, f.Tool, f.Issue))
		if err != nil {
			fail(d, consumers.Errorf(f, "description_template: %v", err))
			continue
		}
		doc := newDocument(run.Scan, f, desc)
		src, err := ndjsonLine(doc)
		if err != nil {
			fail(d, consumers.Errorf(f, "%v", err))
			continue
		}
		h, err := withSource("index", actionMeta{Index: c.history, ID: doc.FindingID + ":" + scanID}, src)
		if err != nil {
			fail(d, consumers.Errorf(f, "%v", err))
			continue
		}
		cur, err := withSource("index", actionMeta{Index: c.current, ID: doc.FindingID, Version: version, VersionType: "external_gte"}, src)
		if err != nil {
			fail(d, consumers.Errorf(f, "%v", err))
			continue
		}
		p.history[i], p.current[i] = len(p.ops), len(p.ops)+1
		p.ops = append(p.ops, h, cur)
	}
	return p
}

func (c *Consumer) sender(perform esapi.Transport, scanID string) *sender {
	return &sender{perform: perform, opaqueID: "dracon/" + scanID, batchSize: c.batchSize, flushBytes: c.flushBytes,
		retryWait: c.itemRetryWait, retryRounds: c.itemRetryRounds, log: c.log, refusal: c.refused}
}

// refused is the error for a 401 or 403 on a write.
func (c *Consumer) refused(status int, reason string) error {
	if status == http.StatusUnauthorized {
		return &refusedError{fmt.Sprintf("%s refused the credentials (401 %s): %s", c.where, reason, c.authHint)}
	}
	return &refusedError{fmt.Sprintf("%s: the credentials may not write to %s and %s (403 %s): they need the create_index and index privileges on both",
		c.where, c.history, c.current, reason)}
}

// info is GET /'s answer, as both products give it.
type info struct {
	ClusterName string `json:"cluster_name"`
	Version     struct {
		Number       string `json:"number"`
		Distribution string `json:"distribution"`
	} `json:"version"`
}

// connect asks the cluster what it is (GET /) and says how to talk to
// it: through the client, whose product check holds for Elasticsearch,
// or through its transport for OpenSearch. GET / goes through the
// transport, so that a cluster that is not what the config says gets a
// message saying so rather than the client's "not Elasticsearch".
func (c *Consumer) connect(ctx context.Context) (esapi.Transport, semver, error) {
	resp, err := esapi.InfoRequest{}.Do(ctx, c.client.Transport)
	if err != nil {
		return nil, semver{}, fmt.Errorf("%s: GET /: %w", c.where, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return nil, semver{}, fmt.Errorf("%s refused the credentials (GET /: 401 %s): %s", c.where, errorReason(data), c.authHint)
	case resp.StatusCode == http.StatusForbidden:
		return nil, semver{}, fmt.Errorf("%s: the credentials may not read the cluster's version (GET /: 403 %s): they need the monitor cluster privilege", c.where, errorReason(data))
	case resp.IsError():
		return nil, semver{}, fmt.Errorf("%s: GET /: %s: %s", c.where, resp.Status(), errorReason(data))
	}
	var in info
	if err := json.Unmarshal(data, &in); err != nil || in.Version.Number == "" {
		return nil, semver{}, fmt.Errorf("%s: GET / did not say which Elasticsearch or OpenSearch it is (is the URL a cluster's?)", c.where)
	}
	v := parseVersion(in.Version.Number)
	isOpenSearch := in.Version.Distribution == "opensearch"
	switch {
	case isOpenSearch && c.flavor != opensearch:
		return nil, semver{}, fmt.Errorf("%s is OpenSearch %s: set flavor: opensearch in consumers.elasticsearch", c.where, in.Version.Number)
	case isOpenSearch:
		if v.major < 1 || v.major > 3 {
			return nil, semver{}, fmt.Errorf("%s is OpenSearch %s: Dracon indexes in OpenSearch 1.x, 2.x and 3.x", c.where, in.Version.Number)
		}
		fmt.Fprintf(c.log, "dracon: elasticsearch: OpenSearch %s (cluster %s)\n", in.Version.Number, in.ClusterName)
		// The client's product check would refuse OpenSearch's answers:
		// its transport does everything else the client does.
		return c.client.Transport, v, nil
	case c.flavor == opensearch:
		return nil, semver{}, fmt.Errorf("%s is Elasticsearch %s, not OpenSearch: remove flavor: opensearch", c.where, in.Version.Number)
	case resp.Header.Get("X-Elastic-Product") != "Elasticsearch":
		// Elasticsearch has said so since 7.14; go-elasticsearch refuses
		// a server that does not.
		return nil, semver{}, fmt.Errorf("%s answers as Elasticsearch %s without the X-Elastic-Product header: an Elasticsearch before 7.14, or another product; Dracon needs Elasticsearch 7.14 or later", c.where, in.Version.Number)
	case v.major == 7 && !v.atLeast(7, 14), v.major < 7:
		return nil, semver{}, fmt.Errorf("%s is Elasticsearch %s: Dracon needs 7.14 or later (its go-elasticsearch 8 client refuses older ones)", c.where, in.Version.Number)
	case v.major > 9:
		return nil, semver{}, fmt.Errorf("%s is Elasticsearch %s: this Dracon's client (go-elasticsearch 8) speaks to 7.14 to 9.x", c.where, in.Version.Number)
	}
	fmt.Fprintf(c.log, "dracon: elasticsearch: Elasticsearch %s (cluster %s)\n", in.Version.Number, in.ClusterName)
	return c.client, v, nil
}

// putTemplate installs the index template (idempotent: the same PUT each
// run).
func (c *Consumer) putTemplate(ctx context.Context, perform esapi.Transport, v semver) error {
	body := templateJSON([]string{c.history, c.current}, c.flavor, v, c.version)
	resp, err := esapi.IndicesPutIndexTemplateRequest{Name: c.history, Body: bytes.NewReader(body)}.Do(ctx, perform)
	if err != nil {
		return fmt.Errorf("%s: PUT _index_template/%s: %w", c.where, c.history, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return fmt.Errorf("%s refused the credentials (PUT _index_template/%s: 401 %s): %s", c.where, c.history, errorReason(data), c.authHint)
	case resp.StatusCode == http.StatusForbidden:
		return fmt.Errorf("%s: the credentials may not put the index template (PUT _index_template/%s: 403 %s): give them the manage_index_templates cluster privilege, or install the template yourself and set manage_template: false",
			c.where, c.history, errorReason(data))
	case resp.IsError():
		return fmt.Errorf("%s: PUT _index_template/%s: %s: %s", c.where, c.history, resp.Status(), errorReason(data))
	}
	return nil
}

// dryRun writes what would be sent: the template and the bulk body, as
// NDJSON, and, in comment lines, what depends on the cluster's answers.
func (c *Consumer) dryRun(run *consumers.Run, p plan) error {
	w := run.DryRun
	fmt.Fprintf(w, "# elasticsearch dry run: nothing is sent. Cluster: %s (flavor %s)\n", c.where, c.flavor)
	if c.managed {
		fmt.Fprintf(w, "# would PUT _index_template/%s\n", c.history)
		// The newest version the flavor has decides the annotations'
		// mapping the dry run shows; the real run asks the cluster.
		v := semver{9, 0}
		if c.flavor == opensearch {
			v = semver{2, 7}
		}
		w.Write(templateJSON([]string{c.history, c.current}, c.flavor, v, c.version))
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "# would POST _bulk: %d actions (%s: history, %s: current state)\n", len(p.ops), c.history, c.current)
	for _, o := range p.ops {
		w.Write(o.meta)
		w.Write(o.source)
	}
	var fixed []op
	for _, fx := range run.Fixed {
		if fx.ID == "" {
			continue
		}
		doc := fixedDocument(run.Scan, fx)
		h, err := newOp("index", actionMeta{Index: c.history, ID: fx.ID + ":" + run.Scan.GetScanUuid()}, doc)
		if err != nil {
			return err
		}
		cur, err := newOp("index", actionMeta{Index: c.current, ID: fx.ID, Version: scanTime(run.Scan).UnixMilli(), VersionType: "external_gte"}, doc)
		if err != nil {
			return err
		}
		fixed = append(fixed, h, cur)
	}
	if len(fixed) > 0 {
		fmt.Fprintf(w, "# then, for each fixed finding %s holds (read with _mget), its fixed observation and its current state marked fixed, with the fields its document there has:\n", c.current)
		for _, o := range fixed {
			w.Write(o.meta)
			w.Write(o.source)
		}
	}
	return nil
}

// semver is a version's major and minor.
type semver struct{ major, minor int }

func (v semver) atLeast(major, minor int) bool {
	return v.major > major || v.major == major && v.minor >= minor
}

// parseVersion reads "8.15.0" or "9.0.0-SNAPSHOT".
func parseVersion(s string) semver {
	parts := strings.SplitN(s, ".", 3)
	var v semver
	v.major, _ = strconv.Atoi(parts[0])
	if len(parts) > 1 {
		v.minor, _ = strconv.Atoi(strings.TrimFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' }))
	}
	return v
}
