package config

import (
	"fmt"
	"regexp"
	"strings"
)

// DependencyTrack configures consumers.dependency_track.
// Dependency-Track: the producers' SBOMs uploaded to a project.
type DependencyTrack struct {
	Delivery `yaml:",inline"`
	// URL is Dependency-Track's API server (https://dtrack.example.com,
	// where /api/v1 answers). Unset: $DRACON_DEPENDENCY_TRACK_URL.
	URL string `yaml:"url"`
	// APIKey is a team's API key (sent as X-Api-Key). Unset: the
	// environment variable DRACON_DEPENDENCY_TRACK_API_KEY.
	APIKey Secret `yaml:"api_key"`
	// ProjectUUID uploads to this existing project (Dracon's projectUUID)
	// instead of one found by name and version.
	ProjectUUID string `yaml:"project_uuid"`
	// ProjectName is the project's name (default: the scan's
	// repository, acme/shop). Not with project_uuid.
	ProjectName string `yaml:"project_name"`
	// ProjectVersion is the project's version (default: the scanned
	// branch or tag; else the BOM's own version; else "Unknown", as
	// Dracon did). Not with project_uuid.
	ProjectVersion string `yaml:"project_version"`
	// ProjectPerTool gives each SBOM producer its own project, named
	// "<project_name>/<tool>": without it, a run with two SBOMs (syft's
	// and trivy's) uploads the first and fails the second, since each
	// upload replaces the project's components.
	ProjectPerTool bool `yaml:"project_per_tool"`
	// AutoCreate creates a missing project (default true; the key then
	// needs PROJECT_CREATION_UPLOAD or PORTFOLIO_MANAGEMENT).
	AutoCreate *bool `yaml:"auto_create"`
	// ParentName and ParentVersion, or ParentUUID, make a project Dracon
	// creates a child of that project.
	ParentName    string `yaml:"parent_name"`
	ParentVersion string `yaml:"parent_version"`
	ParentUUID    string `yaml:"parent_uuid"`
	// Latest marks the version uploaded the project's latest (Dependency-
	// Track 4.12 and later).
	Latest bool `yaml:"latest"`
	// OwnerTags tags the project Owner:<owner> for each owner of the SBOM
	// (the owners enricher's Owner-N annotations), as Dracon's
	// ownerAnnotation did (default true; changing a project's tags needs
	// PORTFOLIO_MANAGEMENT).
	OwnerTags *bool `yaml:"owner_tags"`
	// Tags are more project tags. The project keeps the tags it has.
	Tags []string `yaml:"tags"`
	// Wait waits, within the delivery's timeout, until Dependency-Track
	// has processed each upload.
	Wait bool `yaml:"wait"`
}

// dtUUID is the form Dependency-Track's API checks UUIDs against.
var dtUUID = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// validate checks what is particular to this consumer; the common block
// is checked by Delivery.validate.
func (c *DependencyTrack) validate(key string, add func(key, format string, args ...any)) {
	if c.URL != "" {
		if msg := checkConsumerURL(c.URL); msg != "" {
			add(key+".url", "%s", msg)
		}
	}
	for _, u := range []struct{ k, v string }{{"project_uuid", c.ProjectUUID}, {"parent_uuid", c.ParentUUID}} {
		if u.v != "" && !dtUUID.MatchString(u.v) {
			add(key+"."+u.k, "%q is not a UUID in lower case (38640b33-4ba9-4733-bdab-cbfc40c6f8aa)", u.v)
		}
	}
	if c.ProjectUUID != "" {
		for _, s := range []struct{ k, v string }{{"project_name", c.ProjectName}, {"project_version", c.ProjectVersion}} {
			if s.v != "" {
				add(key+"."+s.k, "not with project_uuid, which names the project")
			}
		}
		if c.ProjectPerTool {
			add(key+".project_per_tool", "not with project_uuid: one project cannot be one per tool")
		}
	}
	if c.ParentUUID != "" && (c.ParentName != "" || c.ParentVersion != "") {
		add(key+".parent_uuid", "give parent_uuid or parent_name (and parent_version), not both")
	}
	if c.ParentVersion != "" && c.ParentName == "" {
		add(key+".parent_version", "needs parent_name")
	}
	for _, s := range []struct{ k, v string }{{"project_name", c.ProjectName}, {"project_version", c.ProjectVersion},
		{"parent_name", c.ParentName}, {"parent_version", c.ParentVersion}} {
		if s.v != "" && (strings.TrimSpace(s.v) == "" || !dtPrintable(s.v)) {
			add(key+"."+s.k, "%q is blank or has characters that are not printable", s.v)
		}
	}
	for i, t := range c.Tags {
		if strings.TrimSpace(t) == "" || !dtPrintable(t) {
			add(fmt.Sprintf("%s.tags[%d]", key, i), "%q is not a tag", t)
		}
	}
}

// dtPrintable is Dependency-Track's PRINTABLE_CHARS check on names: no
// control characters.
func dtPrintable(s string) bool {
	for _, r := range s {
		if r < ' ' || r == 0x7f {
			return false
		}
	}
	return true
}
