package dependencytrack

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/draconsec/dracon/internal/config"
	"github.com/draconsec/dracon/internal/consumers"
	"github.com/draconsec/dracon/internal/consumers/consumertest"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
	"google.golang.org/protobuf/proto"
)

// testKey has the shape of a Dependency-Track 4.x API key.
const testKey = "odt_Kq7VbX2mN9pR4sT6wY8zA1cD3eF5gH7j"

type fixture struct {
	dt  *dtrack
	rec *consumertest.Recorder
	c   *Consumer
	cfg *config.DependencyTrack
	log *bytes.Buffer
}

func setup(t *testing.T, cfg *config.DependencyTrack) *fixture {
	t.Helper()
	f := &fixture{dt: newDTrack(t, testKey), rec: &consumertest.Recorder{}, cfg: cfg, log: &bytes.Buffer{}}
	hs := httptest.NewServer(f.rec.Wrap(f.dt))
	t.Cleanup(hs.Close)
	if cfg.URL == "" {
		cfg.URL = hs.URL
	}
	var err error
	f.c, err = New(cfg, consumertest.Env(t, map[string]string{EnvAPIKey: testKey}, f.log))
	if err != nil {
		t.Fatal(err)
	}
	f.c.pollEvery = 10 * time.Millisecond
	return f
}

func (f *fixture) publish(t *testing.T, run *consumers.Run) (consumers.Delivery, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return f.c.Publish(ctx, run, consumers.Select(consumers.Flatten(run.Results), f.cfg.Filter))
}

// syftBOM is the BOM the run's syft finding carries.
func syftBOM(t *testing.T, run *consumers.Run) []byte {
	t.Helper()
	for _, fd := range consumers.Flatten(run.Results) {
		if fd.Tool == "syft" && fd.Issue.GetRawIssue().CycloneDXSBOM != nil {
			return []byte(fd.Issue.GetRawIssue().GetCycloneDXSBOM())
		}
	}
	t.Fatal("the run has no syft BOM")
	return nil
}

// uploads are the PUT /api/v1/bom bodies sent.
func (f *fixture) uploads(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, q := range f.rec.Requests() {
		if q.Method == "PUT" && q.Path == "/api/v1/bom" {
			var m map[string]any
			if err := json.Unmarshal(q.Body, &m); err != nil {
				t.Fatal(err)
			}
			out = append(out, m)
		}
	}
	return out
}

func TestUploadCreatesThenUpdates(t *testing.T) {
	f := setup(t, &config.DependencyTrack{})
	run := consumertest.Run(t)
	d, err := f.publish(t, run)
	if err != nil {
		t.Fatal(err)
	}
	if d.Created != 1 || d.Updated != 0 || d.Failed != 0 {
		t.Fatalf("first run: %+v", d)
	}
	if len(f.dt.projects) != 1 {
		t.Fatalf("%d projects", len(f.dt.projects))
	}
	p := f.dt.projects[0]
	if p.Name != "acme/shop" || p.Version != "main" || len(p.Components) != 8 || !bytes.Equal(p.BOM, syftBOM(t, run)) {
		t.Errorf("project %s %s, %d components, BOM as sent: %v", p.Name, p.Version, len(p.Components), bytes.Equal(p.BOM, syftBOM(t, run)))
	}
	// Dracon's owner tag, in the lower case Dependency-Track keeps.
	if strings.Join(p.Tags, ",") != "owner:@acme/payments" {
		t.Errorf("tags %v", p.Tags)
	}
	up := f.uploads(t)[0]
	if up["projectName"] != "acme/shop" || up["projectVersion"] != "main" || up["autoCreate"] != true || up["project"] != nil {
		t.Errorf("request %v", up)
	}
	for _, q := range f.rec.Requests() {
		if q.Header.Get("X-Api-Key") != testKey {
			t.Errorf("%s %s: X-Api-Key %q", q.Method, q.Path, q.Header.Get("X-Api-Key"))
		}
	}
	if f.rec.Count("GET", "/api/v1/project/lookup") != 1 {
		t.Error("the project was not looked up first")
	}

	// Again: the same project, its components replaced; the tags are
	// there, so none are sent (no PORTFOLIO_MANAGEMENT needed).
	again := consumertest.Run(t)
	again.Results = consumertest.Clone(run.Results)
	d, err = f.publish(t, again)
	if err != nil {
		t.Fatal(err)
	}
	if d.Created != 0 || d.Updated != 1 || len(f.dt.projects) != 1 || p.Uploads != 2 {
		t.Errorf("second run: %+v, %d projects, %d uploads", d, len(f.dt.projects), p.Uploads)
	}
	if up := f.uploads(t)[1]; up["projectTags"] != nil {
		t.Errorf("tags sent again: %v", up["projectTags"])
	}
	if !strings.Contains(f.log.String(), `dracon: dependency_track: syft's BOM (8 components) uploaded to project "acme/shop" version "main" (updated), token `) {
		t.Errorf("log: %s", f.log)
	}
	f.rec.NoSecrets(t, consumertest.Secrets(t))
}

func TestTagsMergeWithTheProjects(t *testing.T) {
	f := setup(t, &config.DependencyTrack{Tags: []string{"CI"}})
	f.dt.projects = append(f.dt.projects, &dtProject{UUID: "38640b33-4ba9-4733-bdab-cbfc40c6f8aa", Name: "acme/shop", Version: "main", Tags: []string{"team-a"}})
	d, err := f.publish(t, consumertest.Run(t))
	if err != nil {
		t.Fatal(err)
	}
	if d.Updated != 1 || strings.Join(f.dt.projects[0].Tags, ",") != "ci,owner:@acme/payments,team-a" {
		t.Errorf("%+v, tags %v", d, f.dt.projects[0].Tags)
	}
	// A key without PORTFOLIO_MANAGEMENT: Dependency-Track keeps the tags
	// and takes the BOM.
	f2 := setup(t, &config.DependencyTrack{})
	f2.dt.portfolio = false
	f2.dt.projects = append(f2.dt.projects, &dtProject{UUID: "38640b33-4ba9-4733-bdab-cbfc40c6f8aa", Name: "acme/shop", Version: "main", Tags: []string{"team-a"}})
	d, err = f2.publish(t, consumertest.Run(t))
	if err != nil || d.Updated != 1 || strings.Join(f2.dt.projects[0].Tags, ",") != "team-a" || len(f2.dt.warnings) != 1 {
		t.Errorf("%v %+v, tags %v", err, d, f2.dt.projects[0].Tags)
	}
	// owner_tags: false sends none.
	no := false
	f3 := setup(t, &config.DependencyTrack{OwnerTags: &no})
	if _, err := f3.publish(t, consumertest.Run(t)); err != nil {
		t.Fatal(err)
	}
	if up := f3.uploads(t)[0]; up["projectTags"] != nil || len(f3.dt.projects[0].Tags) != 0 {
		t.Errorf("owner_tags: false sent %v", up["projectTags"])
	}
}

func TestProjectByUUIDAndParent(t *testing.T) {
	const id = "38640b33-4ba9-4733-bdab-cbfc40c6f8aa"
	f := setup(t, &config.DependencyTrack{ProjectUUID: id})
	f.dt.projects = append(f.dt.projects, &dtProject{UUID: id, Name: "Shop", Version: "1.0"})
	d, err := f.publish(t, consumertest.Run(t))
	if err != nil || d.Updated != 1 {
		t.Fatalf("%v %+v", err, d)
	}
	if up := f.uploads(t)[0]; up["project"] != id || up["projectName"] != nil || f.rec.Count("GET", "/api/v1/project/"+id) != 1 {
		t.Errorf("request %v", up)
	}
	// A UUID Dependency-Track does not know: nothing is uploaded.
	f.c.cfg.ProjectUUID = "5341f53c-611b-4388-9d9c-731026dc5eec"
	d, err = f.publish(t, consumertest.Run(t))
	if err != nil || d.Failed != 1 || !strings.Contains(d.Errors[0], "5341f53c-611b-4388-9d9c-731026dc5eec: Dependency-Track has no such project") || len(f.uploads(t)) != 1 {
		t.Errorf("%v %+v", err, d)
	}

	g := setup(t, &config.DependencyTrack{ProjectName: "shop", ProjectVersion: "2026.12", ParentName: "acme", ParentVersion: "all", Latest: true})
	g.dt.projects = append(g.dt.projects, &dtProject{UUID: "5341f53c-611b-4388-9d9c-731026dc5eec", Name: "acme", Version: "all"})
	d, err = g.publish(t, consumertest.Run(t))
	if err != nil || d.Created != 1 {
		t.Fatalf("%v %+v", err, d)
	}
	if p := g.dt.byName("shop", "2026.12"); p == nil || p.Parent != "5341f53c-611b-4388-9d9c-731026dc5eec" || !p.Latest {
		t.Errorf("child project %+v", p)
	}
	// auto_create: false and no project: Dependency-Track says so.
	no := false
	h := setup(t, &config.DependencyTrack{AutoCreate: &no})
	d, err = h.publish(t, consumertest.Run(t))
	if err != nil || d.Failed != 1 || !strings.Contains(d.Errors[0], "Dependency-Track answered 404: The project could not be found.") {
		t.Errorf("%v %+v", err, d)
	}
}

func TestWait(t *testing.T) {
	f := setup(t, &config.DependencyTrack{Wait: true})
	f.dt.busyPolls = 2
	d, err := f.publish(t, consumertest.Run(t))
	if err != nil || d.Created != 1 || d.Failed != 0 {
		t.Fatalf("%v %+v", err, d)
	}
	polls := 0
	for _, q := range f.rec.Requests() {
		if strings.HasPrefix(q.Path, "/api/v1/event/token/") {
			polls++
		}
	}
	if polls != 3 || !strings.Contains(f.log.String(), "BOM processed") {
		t.Errorf("%d polls, want 2 busy and 1 done; log %s", polls, f.log)
	}
	// Before 4.11, the BOM resource answers.
	old := setup(t, &config.DependencyTrack{Wait: true})
	old.dt.before411, old.dt.busyPolls = true, 1
	if d, err := old.publish(t, consumertest.Run(t)); err != nil || d.Created != 1 {
		t.Fatalf("%v %+v", err, d)
	}
	if old.rec.Count("GET", "") != 1+2*2 { // the lookup, then 404 and the BOM resource per poll
		t.Errorf("%d GETs", old.rec.Count("GET", ""))
	}
	// Still processing at the deadline: the delivery is not complete.
	slow := setup(t, &config.DependencyTrack{Wait: true})
	slow.dt.busyPolls = 1 << 30
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	run := consumertest.Run(t)
	d, err = slow.c.Publish(ctx, run, consumers.Flatten(run.Results))
	if err != nil || d.Failed != 1 || !strings.Contains(d.Errors[0], "still processing when the delivery's timeout came") {
		t.Errorf("%v %+v", err, d)
	}
}

// withSecondSBOM adds a cyclonedx producer's BOM (XML) to a run.
func withSecondSBOM(run *consumers.Run) {
	bom := `<?xml version="1.0"?><bom xmlns="http://cyclonedx.org/schema/bom/1.4" version="1"><metadata><component type="application"><name>shop</name><version>3.1</version></component></metadata>` +
		`<components><component type="library"><name>lodash</name><version>4.17.21</version><purl>pkg:npm/lodash@4.17.21</purl></component></components></bom>`
	is := &v1.Issue{Target: "shop", Type: "SBOM", RuleId: "SBOM", Title: "Software bill of materials: 1 components", Severity: v1.Severity_SEVERITY_INFO,
		CycloneDXSBOM: proto.String(bom), ToolName: "cyclonedx"}
	run.Results = append(run.Results, &v1.EnrichedLaunchToolResponse{
		OriginalResults: &v1.LaunchToolResponse{ScanInfo: run.Scan, ToolName: "cyclonedx", Issues: []*v1.Issue{is}},
		Issues:          []*v1.EnrichedIssue{{RawIssue: is, FindingId: "f0200", Annotations: map[string]string{"Owner-0": "@acme/platform"}}}})
}

func TestTwoSBOMs(t *testing.T) {
	f := setup(t, &config.DependencyTrack{})
	run := consumertest.Run(t)
	withSecondSBOM(run)
	d, err := f.publish(t, run)
	if err != nil {
		t.Fatal(err)
	}
	// The first (by tool) goes; the second would replace its components.
	if d.Created != 1 || d.Failed != 1 || !strings.Contains(d.Errors[0], `syft SBOM at src: left out: cyclonedx's BOM already goes to project "acme/shop" version "main"`) {
		t.Errorf("%+v", d)
	}
	if len(f.dt.projects) != 1 || f.dt.projects[0].Components[0] != "lodash" {
		t.Errorf("projects %+v", f.dt.projects)
	}
	// One project per tool.
	g := setup(t, &config.DependencyTrack{ProjectPerTool: true})
	d, err = g.publish(t, run)
	if err != nil || d.Created != 2 || d.Failed != 0 {
		t.Fatalf("%v %+v", err, d)
	}
	cdx, sy := g.dt.byName("acme/shop/cyclonedx", "main"), g.dt.byName("acme/shop/syft", "main")
	if cdx == nil || sy == nil || len(sy.Components) != 8 || strings.Join(cdx.Tags, ",") != "owner:@acme/platform" {
		t.Errorf("projects %+v %+v", cdx, sy)
	}
}

func TestNotCycloneDX(t *testing.T) {
	f := setup(t, &config.DependencyTrack{})
	run := consumertest.Run(t)
	for _, fd := range consumers.Flatten(run.Results) {
		if fd.Tool == "syft" {
			fd.Issue.RawIssue.CycloneDXSBOM = proto.String(`{"spdxVersion": "SPDX-2.3"}`)
		}
	}
	d, err := f.publish(t, run)
	if err != nil || d.Failed != 1 || !strings.Contains(d.Errors[0], `its bill of materials is not CycloneDX: bomFormat is "", not CycloneDX`) || len(f.rec.Requests()) != 0 {
		t.Errorf("%v %+v, %d requests", err, d, len(f.rec.Requests()))
	}
	// A BOM too large for the PUT endpoint fails before it is sent.
	big := consumertest.Run(t)
	for _, fd := range consumers.Flatten(big.Results) {
		if fd.Tool == "syft" {
			huge := `{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [], "padding": "` + strings.Repeat("x", 15_000_001) + `"}`
			fd.Issue.RawIssue.CycloneDXSBOM = proto.String(huge)
		}
	}
	puts := f.rec.Count("PUT", "")
	d, err = f.publish(t, big)
	if err != nil || d.Failed != 1 || !strings.Contains(d.Errors[0], "takes 20000000 at most") || f.rec.Count("PUT", "") != puts {
		t.Errorf("%v %+v", err, d)
	}
	// No SBOM at all: nothing to do, and it is said.
	none := consumertest.Run(t)
	d, err = f.c.Publish(context.Background(), none, consumers.Select(consumers.Flatten(none.Results), config.Filter{Tools: []string{"gosec"}}))
	if err != nil || d.Created+d.Updated+d.Failed != 0 || !strings.Contains(f.log.String(), "no bill of materials in this run") {
		t.Errorf("%v %+v", err, d)
	}
}

// TestFaults: Dependency-Track fails or loses its answer; a re-run
// creates no second project and loses no BOM.
func TestFaults(t *testing.T) {
	f := setup(t, &config.DependencyTrack{})
	f.dt.failNext = 1
	d, err := f.publish(t, consumertest.Run(t))
	if err != nil || d.Created != 1 || f.dt.uploads != 1 || f.rec.Count("PUT", "/api/v1/bom") != 2 {
		t.Fatalf("%v %+v, %d uploads taken of %d", err, d, f.dt.uploads, f.rec.Count("PUT", "/api/v1/bom"))
	}

	// The answer lost after the upload: the retry uploads into the
	// project the first attempt made.
	g := setup(t, &config.DependencyTrack{})
	g.dt.failAfterApply = 1
	d, err = g.publish(t, consumertest.Run(t))
	if err != nil || d.Created != 1 || len(g.dt.projects) != 1 || g.dt.projects[0].Uploads != 2 {
		t.Fatalf("%v %+v, %d projects", err, d, len(g.dt.projects))
	}

	// Down for the whole run, then back: the re-run uploads it once.
	h := setup(t, &config.DependencyTrack{})
	h.dt.failNext = 5
	d, err = h.publish(t, consumertest.Run(t))
	if err != nil || d.Failed != 1 || !strings.Contains(d.Errors[0], `uploading the BOM to project "acme/shop" version "main": Dependency-Track answered 500`) {
		t.Fatalf("%v %+v", err, d)
	}
	d, err = h.publish(t, consumertest.Run(t))
	if err != nil || d.Created != 1 || len(h.dt.projects) != 1 || h.dt.projects[0].Uploads != 1 {
		t.Errorf("re-run: %v %+v", err, d)
	}
	h.rec.NoSecrets(t, consumertest.Secrets(t))
}

func TestRefused(t *testing.T) {
	f := setup(t, &config.DependencyTrack{})
	f.dt.key = "another"
	_, err := f.publish(t, consumertest.Run(t))
	if err == nil || !strings.Contains(err.Error(), "Dependency-Track refused the API key (401)") || strings.Contains(err.Error(), testKey) {
		t.Errorf("err %v", err)
	}
	// A key that may upload but not look projects up.
	g := setup(t, &config.DependencyTrack{})
	g.dt.viewPortfolio = false
	d, err := g.publish(t, consumertest.Run(t))
	if err != nil || d.Updated != 1 || len(g.dt.projects) != 1 || !strings.Contains(g.log.String(), "may not look projects up (VIEW_PORTFOLIO)") {
		t.Errorf("%v %+v; log %s", err, d, g.log)
	}
	if up := g.uploads(t)[0]; up["projectTags"] != nil {
		t.Error("tags sent without knowing the project's: they would replace them")
	}
}

func TestDryRun(t *testing.T) {
	f := setup(t, &config.DependencyTrack{Wait: true})
	// No key: no lookup, every upload "would create".
	env := consumertest.Env(t, nil, nil)
	env.DryRun = true
	c, err := New(f.cfg, env)
	if err != nil {
		t.Fatal(err)
	}
	run := consumertest.Run(t)
	var out bytes.Buffer
	run.DryRun = &out
	d, err := c.Publish(context.Background(), run, consumers.Flatten(run.Results))
	if err != nil || d.Created != 1 || len(f.rec.Requests()) != 0 {
		t.Fatalf("%v %+v, %d requests", err, d, len(f.rec.Requests()))
	}
	n := len(syftBOM(t, run))
	for _, s := range []string{`dependency_track: would create project "acme/shop" version "main" with syft's BOM (8 components): PUT ` + f.cfg.URL + "/api/v1/bom",
		`"projectName": "acme/shop"`, `"projectTags": [`, `"name": "owner:@acme/payments"`, "then would wait until Dependency-Track has processed it",
		`"bom": "<` + itoa(n) + ` bytes of CycloneDX, base64 encoded>"`} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("dry run lacks %q:\n%s", s, out.String())
		}
	}
	// With a key: the lookup (read only) tells an update; nothing is put.
	f.dt.projects = append(f.dt.projects, &dtProject{UUID: "38640b33-4ba9-4733-bdab-cbfc40c6f8aa", Name: "acme/shop", Version: "main", Tags: []string{"owner:@acme/payments"}})
	out.Reset()
	d, err = f.c.Publish(context.Background(), run, consumers.Flatten(run.Results))
	if err != nil || d.Updated != 1 || f.rec.Count("PUT", "") != 0 || f.rec.Count("GET", "/api/v1/project/lookup") != 1 ||
		!strings.Contains(out.String(), `would update project "acme/shop" version "main"`) {
		t.Errorf("%v %+v:\n%s", err, d, out.String())
	}
	run.DryRun = nil
	if _, err := c.Publish(context.Background(), run, consumers.Flatten(run.Results)); err == nil ||
		!strings.Contains(err.Error(), "consumers.dependency_track.api_key") || !strings.Contains(err.Error(), EnvAPIKey) {
		t.Errorf("no key, not a dry run: %v", err)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestNew(t *testing.T) {
	_, err := New(&config.DependencyTrack{}, consumertest.Env(t, map[string]string{EnvAPIKey: testKey}, nil))
	if err == nil || !strings.Contains(err.Error(), "consumers.dependency_track.url") || !strings.Contains(err.Error(), EnvURL) {
		t.Errorf("no URL: %v", err)
	}
	_, err = New(&config.DependencyTrack{URL: "https://dtrack.example.com"}, consumertest.Env(t, nil, nil))
	if err == nil || !strings.Contains(err.Error(), "consumers.dependency_track.api_key") || !strings.Contains(err.Error(), EnvAPIKey) {
		t.Errorf("no key: %v", err)
	}
	// For a dry run neither is needed (nothing is looked up without an
	// address, even with a key).
	dry, err := NewDryRun(&config.DependencyTrack{}, consumertest.Env(t, map[string]string{EnvAPIKey: testKey}, nil))
	if err != nil {
		t.Fatal(err)
	}
	dr := consumertest.Run(t)
	var out bytes.Buffer
	dr.DryRun = &out
	if d, err := dry.Publish(context.Background(), dr, consumers.Flatten(dr.Results)); err != nil || d.Created != 1 ||
		!strings.Contains(out.String(), "would create project \"acme/shop\" version \"main\" with syft's BOM (8 components): PUT <consumers.dependency_track.url>/api/v1/bom") {
		t.Errorf("%v %+v:\n%s", err, d, out.String())
	}
	dr.DryRun = nil
	if _, err := dry.Publish(context.Background(), dr, consumers.Flatten(dr.Results)); err == nil || !strings.Contains(err.Error(), "consumers.dependency_track.url") {
		t.Errorf("sending without an address: %v", err)
	}
	c, err := New(&config.DependencyTrack{}, consumertest.Env(t, map[string]string{EnvURL: "https://dtrack.example.com/api/", EnvAPIKey: testKey}, nil))
	if err != nil || c.base != "https://dtrack.example.com" || c.String() != "dependency_track" {
		t.Errorf("%v %+v", err, c)
	}
	// The BOM carried is what is sent, byte for byte.
	run := consumertest.Run(t)
	u := upload{sbom: sbom{data: syftBOM(t, run)}, name: "n", version: "v"}
	if got, _ := base64.StdEncoding.DecodeString(c.request(u).BOM); !bytes.Equal(got, syftBOM(t, run)) {
		t.Error("the BOM is not sent as carried")
	}
}
