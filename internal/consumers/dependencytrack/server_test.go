package dependencytrack

// A Dependency-Track API server as BomResource, ProjectResource and
// EventResource answer (4.14.3): X-Api-Key authentication, projects by
// name and version or UUID, BomSubmitRequest's validation (a UUID, a
// printable name and version, the BOM base64 encoded and a CycloneDX
// document), autoCreate and its permission, projectTags replacing the
// project's tags only with PORTFOLIO_MANAGEMENT (maybeBindTags), tags
// stored in lower case (TagQueryManager), and the token of each upload,
// processing for a while.

import (
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
)

var (
	uuidPattern   = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	base64Pattern = regexp.MustCompile(`^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$`)
)

type dtrack struct {
	t   *testing.T
	key string
	// Permissions of the key: PROJECT_CREATION_UPLOAD (or
	// PORTFOLIO_MANAGEMENT) to auto-create, PORTFOLIO_MANAGEMENT to
	// change tags, VIEW_PORTFOLIO to look projects up.
	canCreate, portfolio, viewPortfolio bool
	// before411 answers 404 on /api/v1/event/token (Dependency-Track
	// before 4.11).
	before411 bool
	// busyPolls is how many token checks answer processing: true.
	busyPolls int

	mu       sync.Mutex
	projects []*dtProject
	tokens   map[string]int // token: checks left that say processing
	// failNext answers the next uploads 500 without taking them;
	// failAfterApply takes the next one, then answers 502.
	failNext, failAfterApply int
	uploads                  int
	warnings                 []string
}

type dtProject struct {
	UUID, Name, Version string
	Tags                []string
	Parent              string
	Latest              bool
	// Components are the names of the last BOM's components: each
	// upload replaces them.
	Components []string
	BOM        []byte
	Uploads    int
}

func newDTrack(t *testing.T, key string) *dtrack {
	return &dtrack{t: t, key: key, canCreate: true, portfolio: true, viewPortfolio: true, tokens: map[string]int{}}
}

func (d *dtrack) json(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func text(w http.ResponseWriter, status int, s string) {
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(status)
	w.Write([]byte(s))
}

func (p *dtProject) view() map[string]any {
	tags := []map[string]string{}
	for _, t := range p.Tags {
		tags = append(tags, map[string]string{"name": t})
	}
	return map[string]any{"uuid": p.UUID, "name": p.Name, "version": p.Version, "tags": tags, "active": true,
		"classifier": "APPLICATION", "isLatest": p.Latest}
}

func (d *dtrack) byName(name, version string) *dtProject {
	for _, p := range d.projects {
		if p.Name == name && p.Version == version {
			return p
		}
	}
	return nil
}

func (d *dtrack) byUUID(id string) *dtProject {
	for _, p := range d.projects {
		if p.UUID == id {
			return p
		}
	}
	return nil
}

func (d *dtrack) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Api-Key") != d.key {
		// Alpine's AuthenticationFilter: no body.
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	path := r.URL.Path
	switch {
	case r.Method == http.MethodGet && path == "/api/v1/project/lookup":
		if !d.viewPortfolio {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		p := d.byName(r.URL.Query().Get("name"), r.URL.Query().Get("version"))
		if p == nil {
			text(w, http.StatusNotFound, "The project could not be found.")
			return
		}
		d.json(w, http.StatusOK, p.view())
	case r.Method == http.MethodGet && strings.HasPrefix(path, "/api/v1/project/"):
		p := d.byUUID(strings.TrimPrefix(path, "/api/v1/project/"))
		if p == nil {
			text(w, http.StatusNotFound, "The project could not be found.")
			return
		}
		d.json(w, http.StatusOK, p.view())
	case r.Method == http.MethodPut && path == "/api/v1/bom":
		d.upload(w, r)
	case r.Method == http.MethodGet && (strings.HasPrefix(path, "/api/v1/event/token/") || strings.HasPrefix(path, "/api/v1/bom/token/")):
		if d.before411 && strings.HasPrefix(path, "/api/v1/event/") {
			text(w, http.StatusNotFound, "")
			return
		}
		tok := path[strings.LastIndexByte(path, '/')+1:]
		if !uuidPattern.MatchString(tok) {
			d.json(w, http.StatusBadRequest, []map[string]string{{"message": "Invalid UUID"}})
			return
		}
		busy := d.tokens[tok] > 0
		if busy {
			d.tokens[tok]--
		}
		d.json(w, http.StatusOK, map[string]bool{"processing": busy})
	default:
		text(w, http.StatusNotFound, "")
	}
}

// problem is an RFC 9457 answer, as failOnValidationError and the BOM
// validator give.
func (d *dtrack) problem(w http.ResponseWriter, title, detail string, errs ...string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(http.StatusBadRequest)
	body := map[string]any{"status": 400, "title": title, "detail": detail}
	if len(errs) > 0 {
		body["errors"] = errs
	}
	json.NewEncoder(w).Encode(body)
}

func (d *dtrack) upload(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Content-Type") != "application/json" {
		w.WriteHeader(http.StatusUnsupportedMediaType)
		return
	}
	if d.failNext > 0 {
		d.failNext--
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	var req struct {
		Project, ProjectName, ProjectVersion string
		ProjectTags                          []struct{ Name string }
		AutoCreate                           bool
		ParentUUID, ParentName               string
		ParentVersion                        string
		IsLatest                             bool
		BOM                                  *string
	}
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(&req); err != nil {
		d.problem(w, "The request body is not JSON", err.Error())
		return
	}
	if req.BOM == nil {
		d.problem(w, "Bad Request", "bom is required")
		return
	}
	if !base64Pattern.MatchString(*req.BOM) {
		d.problem(w, "Bad Request", "The BOM must be Base64 encoded")
		return
	}
	var p *dtProject
	if req.Project != "" {
		if !uuidPattern.MatchString(req.Project) {
			d.problem(w, "Bad Request", "The project must be a valid 36 character UUID")
			return
		}
		p = d.byUUID(req.Project)
	} else {
		for _, s := range []string{req.ProjectName, req.ProjectVersion} {
			if strings.TrimSpace(s) == "" {
				d.problem(w, "Bad Request", "projectName and projectVersion must not be blank")
				return
			}
		}
		p = d.byName(strings.TrimSpace(req.ProjectName), strings.TrimSpace(req.ProjectVersion))
		if p == nil && req.AutoCreate {
			if !d.canCreate {
				text(w, http.StatusUnauthorized, "The principal does not have permission to create project.")
				return
			}
			var parent string
			if req.ParentUUID != "" || req.ParentName != "" {
				var pp *dtProject
				if req.ParentUUID != "" {
					pp = d.byUUID(req.ParentUUID)
				} else {
					pp = d.byName(req.ParentName, req.ParentVersion)
				}
				if pp == nil {
					text(w, http.StatusNotFound, "The parent component could not be found.")
					return
				}
				parent = pp.UUID
			}
			p = &dtProject{UUID: uuid.NewString(), Name: strings.TrimSpace(req.ProjectName), Version: strings.TrimSpace(req.ProjectVersion),
				Parent: parent, Latest: req.IsLatest}
			for _, t := range req.ProjectTags {
				p.Tags = append(p.Tags, strings.ToLower(strings.TrimSpace(t.Name)))
			}
			d.projects = append(d.projects, p)
		}
	}
	if p == nil {
		text(w, http.StatusNotFound, "The project could not be found.")
		return
	}
	if req.ProjectTags != nil {
		// maybeBindTags: the request's names against the stored ones,
		// not lowered: a request in another case is a change.
		var want []string
		for _, t := range req.ProjectTags {
			want = append(want, strings.TrimSpace(t.Name))
		}
		if !sameSet(want, p.Tags) {
			if !d.portfolio {
				d.warnings = append(d.warnings, "Project tags were provided as part of the BOM upload request, but the authenticated principal is missing the PORTFOLIO_MANAGEMENT permission; Tags will not be modified")
			} else {
				p.Tags = nil
				for _, t := range want {
					p.Tags = append(p.Tags, strings.ToLower(t))
				}
				sort.Strings(p.Tags)
			}
		}
	}
	raw, err := base64.StdEncoding.DecodeString(*req.BOM)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	comps, err := cyclonedx(raw)
	if err != nil {
		d.problem(w, "The uploaded BOM is invalid", err.Error())
		return
	}
	p.Components, p.BOM = comps, raw
	p.Uploads++
	d.uploads++
	tok := uuid.NewString()
	d.tokens[tok] = d.busyPolls
	if d.failAfterApply > 0 {
		d.failAfterApply--
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	d.json(w, http.StatusOK, map[string]string{"token": tok})
}

func sameSet(a, b []string) bool {
	m := map[string]bool{}
	for _, s := range a {
		m[s] = true
	}
	n := map[string]bool{}
	for _, s := range b {
		n[s] = true
	}
	if len(m) != len(n) {
		return false
	}
	for s := range m {
		if !n[s] {
			return false
		}
	}
	return true
}

// cyclonedx reads a BOM as the upload's validator would refuse one: JSON
// with bomFormat CycloneDX, a spec version and components with names, or
// XML in CycloneDX's namespace.
func cyclonedx(raw []byte) ([]string, error) {
	if len(raw) > 0 && raw[0] == '<' {
		var b struct {
			XMLName    xml.Name
			Components []struct {
				Name string `xml:"name"`
			} `xml:"components>component"`
		}
		if err := xml.Unmarshal(raw, &b); err != nil {
			return nil, err
		}
		if b.XMLName.Local != "bom" || !strings.HasPrefix(b.XMLName.Space, "http://cyclonedx.org/schema/bom/") {
			return nil, fmt.Errorf("not a CycloneDX XML BOM: <%s>", b.XMLName.Local)
		}
		var out []string
		for _, c := range b.Components {
			out = append(out, c.Name)
		}
		return out, nil
	}
	var b struct {
		BOMFormat   string `json:"bomFormat"`
		SpecVersion string `json:"specVersion"`
		Components  []struct {
			Type string `json:"type"`
			Name string `json:"name"`
		} `json:"components"`
	}
	if err := json.Unmarshal(raw, &b); err != nil {
		return nil, fmt.Errorf("not JSON: %v", err)
	}
	if b.BOMFormat != "CycloneDX" || b.SpecVersion == "" {
		return nil, fmt.Errorf("$.bomFormat: %q, $.specVersion: %q", b.BOMFormat, b.SpecVersion)
	}
	var out []string
	for i, c := range b.Components {
		if c.Name == "" || c.Type == "" {
			return nil, fmt.Errorf("$.components[%d]: type and name are required", i)
		}
		out = append(out, c.Name)
	}
	return out, nil
}
