// Package dependencytrack uploads the run's software bills of materials
// (syft's, trivy's, a BOM the cyclonedx producer read: the findings that
// carry a CycloneDX document) to Dependency-Track, into a project named
// after the repository and versioned by the scanned branch, as Dracon's
// consumer did. Dependency-Track takes each upload as the project's
// current state, so sending the same BOM again changes nothing twice.
package dependencytrack

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/draconsec/dracon/internal/config"
	"github.com/draconsec/dracon/internal/consumers"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// Environment variables read when the config leaves a key unset.
const (
	EnvURL    = "DRACON_DEPENDENCY_TRACK_URL"
	EnvAPIKey = "DRACON_DEPENDENCY_TRACK_API_KEY"
)

// maxBOMChars is the longest bom value PUT /api/v1/bom takes
// (BomResource: 20'000'000 characters).
const maxBOMChars = 20_000_000

// ownerTagPrefix is Dracon's ownerAnnotation ("Owner"): the project is
// tagged Owner:<owner>. Dependency-Track keeps tags in lower case.
const ownerTagPrefix = "Owner:"

// Consumer uploads BOMs to Dependency-Track.
type Consumer struct {
	cfg    *config.DependencyTrack
	env    consumers.Env
	base   string
	key    string
	client *client
	// pollEvery is the first wait between token checks (wait: true).
	pollEvery time.Duration
}

// New builds the consumer. It needs Dependency-Track's address and an
// API key (the config's keys or their environment variables); built for
// a dry run (env.DryRun), it needs neither.
func New(cfg *config.DependencyTrack, env consumers.Env) (*Consumer, error) {
	return build(cfg, env, env.DryRun)
}

// NewDryRun builds the consumer for a dry run: without an address or a
// key it looks nothing up and shows every upload as one that would
// create its project.
func NewDryRun(cfg *config.DependencyTrack, env consumers.Env) (*Consumer, error) {
	return build(cfg, env, true)
}

// errNoURL and errNoKey say where the address and the key go.
var (
	errNoURL = fmt.Errorf("dependency_track: no address: set consumers.dependency_track.url or %s (https://dtrack.example.com, the API server)", EnvURL)
	errNoKey = fmt.Errorf("dependency_track: no API key: set consumers.dependency_track.api_key (env:NAME or file:PATH) or %s", EnvAPIKey)
)

func build(cfg *config.DependencyTrack, env consumers.Env, dryRun bool) (*Consumer, error) {
	getenv := env.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	raw := firstNonEmpty(cfg.URL, getenv(EnvURL))
	var base string
	switch {
	case raw == "" && !dryRun:
		return nil, errNoURL
	case raw != "":
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("dependency_track: %q is not Dependency-Track's address (https://dtrack.example.com)", raw)
		}
		// The address may be given with the API's path; requests add it.
		base = strings.TrimSuffix(strings.TrimSuffix(strings.TrimRight(raw, "/"), "/api/v1"), "/api")
	}
	key, err := env.Secret(cfg.APIKey, EnvAPIKey)
	if err != nil {
		return nil, fmt.Errorf("dependency_track: consumers.dependency_track.api_key: %w", err)
	}
	if key == "" && !dryRun {
		return nil, errNoKey
	}
	if base == "" {
		key = "" // nowhere to look projects up
	}
	c := &Consumer{cfg: cfg, env: env, base: base, key: key, pollEvery: time.Second}
	c.client = &client{base: base, key: key, http: env.HTTPClient("dependency_track"), userAgent: "dracon/" + firstNonEmpty(env.Version, "dev")}
	return c, nil
}

// String is the config key.
func (c *Consumer) String() string { return "dependency_track" }

// sbom is one bill of materials to upload.
type sbom struct {
	f    consumers.Finding
	data []byte
	// version is the BOM's own metadata.component.version.
	version    string
	components int
}

// upload is where one BOM goes.
type upload struct {
	sbom
	name, version string
	existing      *project
	// known: whether the project exists could be told (the key may lack
	// VIEW_PORTFOLIO).
	known bool
	tags  []string
}

// existed says whether the upload counts as an update: the project was
// there, or, with a key that could not look it up, may have been (what
// is not known is not claimed new). Without a key (a dry run) nothing
// was looked up, and all would be created.
func (u upload) existed(haveKey bool) bool {
	return u.existing != nil || haveKey && !u.known
}

// Publish uploads each SBOM finding's BOM.
func (c *Consumer) Publish(ctx context.Context, run *consumers.Run, findings []consumers.Finding) (consumers.Delivery, error) {
	var d consumers.Delivery
	// Built for a dry run, and asked to send.
	if run.DryRun == nil && c.base == "" {
		return d, errNoURL
	}
	if run.DryRun == nil && c.key == "" {
		return d, errNoKey
	}
	sboms := c.sboms(findings, &d)
	if len(sboms) == 0 {
		fmt.Fprintln(c.env.Log, "dracon: dependency_track: no bill of materials in this run (syft, trivy's or a cyclonedx producer's): nothing to upload")
		return d, nil
	}
	tags := run.Scan.GetScanTags()
	name := firstNonEmpty(c.cfg.ProjectName, tags["repository"])
	if name == "" && c.cfg.ProjectUUID == "" {
		return d, errors.New("dependency_track: no project: set consumers.dependency_track.project_name or project_uuid (the scan has no repository tag to name it after)")
	}
	// Each upload replaces the project's components: two BOMs in one
	// project would leave only the last.
	taken := map[string]string{}
	for _, s := range sboms {
		u := upload{sbom: s, name: name, version: firstNonEmpty(c.cfg.ProjectVersion, consumers.ShortRef(tags["ref"]), s.version, "Unknown")}
		if c.cfg.ProjectPerTool {
			u.name = name + "/" + s.f.Tool
		}
		key := c.cfg.ProjectUUID
		if key == "" {
			key = u.name + "\x00" + u.version
		}
		if other, ok := taken[key]; ok {
			d.Failed++
			d.Errors = append(d.Errors, consumers.Errorf(s.f, "left out: %s's BOM already goes to project %s, and a second upload would replace its components (set project_per_tool: true)", other, c.projectName(u)))
			continue
		}
		taken[key] = s.f.Tool
		u.tags = c.tags(s.f)
		err := c.send(ctx, run, &u)
		switch {
		case errors.Is(err, errAuth):
			return d, fmt.Errorf("dependency_track: %w", err)
		case err != nil:
			d.Failed++
			d.Errors = append(d.Errors, consumers.Errorf(s.f, "%v", err))
		case u.existed(c.key != ""):
			d.Updated++
		default:
			d.Created++
		}
	}
	return d, nil
}

// send looks the project up, uploads the BOM, and waits for it when told
// to. u.existing says what it found.
func (c *Consumer) send(ctx context.Context, run *consumers.Run, u *upload) error {
	if c.key != "" {
		var err error
		u.known = true
		if c.cfg.ProjectUUID != "" {
			u.existing, err = c.client.project(ctx, c.cfg.ProjectUUID)
			if err == nil && u.existing == nil {
				return fmt.Errorf("project %s: Dependency-Track has no such project", c.cfg.ProjectUUID)
			}
		} else {
			u.existing, err = c.client.lookup(ctx, u.name, u.version)
		}
		var ae *apiError
		if errors.As(err, &ae) && ae.Status == 403 {
			// The key may upload without seeing the portfolio: upload
			// anyway, without touching tags (they could not be merged).
			fmt.Fprintf(c.env.Log, "dracon: dependency_track: the API key may not look projects up (VIEW_PORTFOLIO): %s counted as updated, its tags left as they are\n", c.projectName(*u))
			u.known, u.tags, err = false, nil, nil
		}
		if err != nil {
			return fmt.Errorf("looking project %s up: %w", c.projectName(*u), err)
		}
	}
	req := c.request(*u)
	if len(req.BOM) > maxBOMChars {
		return fmt.Errorf("its BOM is %d characters base64 encoded; Dependency-Track's PUT /api/v1/bom takes %d at most", len(req.BOM), maxBOMChars)
	}
	if run.DryRun != nil {
		c.dryRun(run, *u, req)
		return nil
	}
	token, err := c.client.upload(ctx, req)
	if err != nil {
		return fmt.Errorf("uploading the BOM to project %s: %w", c.projectName(*u), err)
	}
	action := "created"
	if u.existed(true) {
		action = "updated"
	}
	fmt.Fprintf(c.env.Log, "dracon: dependency_track: %s's BOM (%d components) uploaded to project %s (%s), token %s\n",
		u.f.Tool, u.components, c.projectName(*u), action, token)
	if !c.cfg.Wait {
		return nil
	}
	return c.wait(ctx, token, *u)
}

// wait polls the upload's token until Dependency-Track has processed it,
// or the delivery's deadline comes.
func (c *Consumer) wait(ctx context.Context, token string, u upload) error {
	every := c.pollEvery
	for {
		busy, err := c.client.processing(ctx, token)
		if err != nil {
			return fmt.Errorf("uploaded to project %s (token %s), but its processing could not be followed: %w", c.projectName(u), token, err)
		}
		if !busy {
			fmt.Fprintf(c.env.Log, "dracon: dependency_track: project %s: BOM processed\n", c.projectName(u))
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("uploaded to project %s (token %s), still processing when the delivery's timeout came", c.projectName(u), token)
		case <-time.After(every):
		}
		every = min(2*every, 5*time.Second)
	}
}

// request is the upload's BomSubmitRequest.
func (c *Consumer) request(u upload) bomRequest {
	r := bomRequest{AutoCreate: c.cfg.AutoCreate == nil || *c.cfg.AutoCreate, IsLatest: c.cfg.Latest,
		BOM: base64.StdEncoding.EncodeToString(u.data)}
	if c.cfg.ProjectUUID != "" {
		r.Project = c.cfg.ProjectUUID
	} else {
		r.ProjectName, r.ProjectVersion = u.name, u.version
		r.ParentUUID, r.ParentName, r.ParentVersion = c.cfg.ParentUUID, c.cfg.ParentName, c.cfg.ParentVersion
	}
	// projectTags replace the project's tags: send the ones it has and
	// ours, and only when ours are not all there already (so a key
	// without PORTFOLIO_MANAGEMENT changes nothing it may not).
	have := map[string]bool{}
	var all []string
	if u.existing != nil {
		for _, t := range u.existing.Tags {
			if n := strings.ToLower(strings.TrimSpace(t.Name)); n != "" && !have[n] {
				have[n] = true
				all = append(all, n)
			}
		}
	}
	added := false
	for _, t := range u.tags {
		if !have[t] {
			have[t] = true
			all = append(all, t)
			added = true
		}
	}
	if added {
		sort.Strings(all)
		for _, t := range all {
			r.ProjectTags = append(r.ProjectTags, tag{Name: t})
		}
	}
	return r
}

// tags are the project tags this BOM asks for, in lower case as
// Dependency-Track stores them.
func (c *Consumer) tags(f consumers.Finding) []string {
	var out []string
	if c.cfg.OwnerTags == nil || *c.cfg.OwnerTags {
		for _, o := range consumers.Owners(f.Issue) {
			out = append(out, ownerTagPrefix+o)
		}
	}
	out = append(out, c.cfg.Tags...)
	seen := map[string]bool{}
	var tags []string
	for _, t := range out {
		t = strings.ToLower(strings.TrimSpace(t))
		if t != "" && !seen[t] {
			seen[t] = true
			tags = append(tags, t)
		}
	}
	return tags
}

// dryRun prints the upload it would make.
func (c *Consumer) dryRun(run *consumers.Run, u upload, r bomRequest) {
	w := run.DryRun
	what := "would create"
	switch {
	case !u.known && c.key != "":
		what = "would upload to (whether it exists could not be looked up)"
	case u.existing != nil:
		what = "would update"
	case c.key == "" && c.cfg.ProjectUUID != "":
		what = "would upload to"
	}
	fmt.Fprintf(w, "dependency_track: %s project %s with %s's BOM (%d components): PUT %s/api/v1/bom\n", what, c.projectName(u), u.f.Tool, u.components,
		firstNonEmpty(c.base, "<consumers.dependency_track.url>"))
	shown := r
	shown.BOM = fmt.Sprintf("<%d bytes of CycloneDX, base64 encoded>", len(u.data))
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false) // the BOM's placeholder reads <...>
	enc.SetIndent("  ", "  ")
	enc.Encode(shown)
	fmt.Fprintf(w, "  %s", out.Bytes())
	if c.cfg.Wait {
		fmt.Fprintln(w, "  then would wait until Dependency-Track has processed it")
	}
}

// projectName names the project in messages.
func (c *Consumer) projectName(u upload) string {
	if c.cfg.ProjectUUID != "" {
		return c.cfg.ProjectUUID
	}
	return fmt.Sprintf("%q version %q", u.name, u.version)
}

// sboms are the findings that carry a bill of materials, by tool; one
// that is not CycloneDX is a failure.
func (c *Consumer) sboms(findings []consumers.Finding, d *consumers.Delivery) []sbom {
	var out []sbom
	for _, f := range findings {
		raw := f.Issue.GetRawIssue()
		if !isSBOM(raw) {
			continue
		}
		data := bytes.TrimPrefix([]byte(raw.GetCycloneDXSBOM()), []byte("\xef\xbb\xbf"))
		version, n, err := readBOM(data)
		if err != nil {
			d.Failed++
			d.Errors = append(d.Errors, consumers.Errorf(f, "its bill of materials is not CycloneDX: %v", err))
			continue
		}
		out = append(out, sbom{f: f, data: data, version: version, components: n})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].f.Tool < out[j].f.Tool })
	return out
}

// readBOM checks a CycloneDX BOM, JSON or XML, and reads its own version
// and how many components it lists.
func readBOM(data []byte) (version string, components int, err error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return "", 0, errors.New("empty")
	}
	if trimmed[0] == '<' {
		var b struct {
			XMLName  xml.Name
			Metadata struct {
				Component struct {
					Version string `xml:"version"`
				} `xml:"component"`
			} `xml:"metadata"`
			Components []struct{} `xml:"components>component"`
		}
		if err := xml.Unmarshal(trimmed, &b); err != nil {
			return "", 0, err
		}
		if b.XMLName.Local != "bom" || !strings.HasPrefix(b.XMLName.Space, "http://cyclonedx.org/schema/bom/") {
			return "", 0, fmt.Errorf("an XML document of <%s xmlns=%q>, not a CycloneDX bom", b.XMLName.Local, b.XMLName.Space)
		}
		return strings.TrimSpace(b.Metadata.Component.Version), len(b.Components), nil
	}
	var b struct {
		BOMFormat string `json:"bomFormat"`
		Metadata  struct {
			Component struct {
				Version string `json:"version"`
			} `json:"component"`
		} `json:"metadata"`
		Components []json.RawMessage `json:"components"`
	}
	if err := json.Unmarshal(trimmed, &b); err != nil {
		return "", 0, err
	}
	if b.BOMFormat != "CycloneDX" {
		return "", 0, fmt.Errorf("bomFormat is %q, not CycloneDX", b.BOMFormat)
	}
	return b.Metadata.Component.Version, len(b.Components), nil
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// isSBOM is the issue that carries a producer's bill of materials (as
// the GitLab consumer tells it): a BOM, and no package of its own.
func isSBOM(is *v1.Issue) bool { return is.CycloneDXSBOM != nil && is.GetPackageUrl() == "" }
