package config

import (
	"strings"
	"testing"
	"time"
)

func parseDependencyTrack(t *testing.T, block string) (*DependencyTrack, error) {
	t.Helper()
	c, err := Parse([]byte("consumers:\n  dependency_track:\n"+block), Names{Resolve: func(s string) (string, bool) { return s, true }})
	if err != nil {
		return nil, err
	}
	return c.Consumers.DependencyTrack, nil
}

func TestDependencyTrackBlock(t *testing.T) {
	d, err := parseDependencyTrack(t, `    url: https://dtrack.example.com
    api_key: file:/run/secrets/dtrack
    project_name: shop
    project_version: main
    project_per_tool: true
    auto_create: false
    parent_name: acme
    parent_version: "2026"
    latest: true
    owner_tags: false
    tags: [ci]
    wait: true
    timeout: 5m
`)
	if err != nil {
		t.Fatal(err)
	}
	if d.URL != "https://dtrack.example.com" || d.APIKey != "file:/run/secrets/dtrack" || d.ProjectName != "shop" || d.ProjectVersion != "main" ||
		!d.ProjectPerTool || d.AutoCreate == nil || *d.AutoCreate || d.ParentName != "acme" || d.ParentVersion != "2026" || !d.Latest ||
		d.OwnerTags == nil || *d.OwnerTags || strings.Join(d.Tags, ",") != "ci" || !d.Wait || time.Duration(d.Timeout) != 5*time.Minute {
		t.Errorf("dependency_track = %+v", *d)
	}
	d, err = parseDependencyTrack(t, "    project_uuid: 38640b33-4ba9-4733-bdab-cbfc40c6f8aa\n    parent_uuid: 5341f53c-611b-4388-9d9c-731026dc5eec\n")
	if err != nil {
		t.Fatal(err)
	}
	// Unset, auto_create and owner_tags are nil: the consumer's
	// defaults (true) apply, not false.
	if d.ProjectUUID != "38640b33-4ba9-4733-bdab-cbfc40c6f8aa" || d.AutoCreate != nil || d.OwnerTags != nil {
		t.Errorf("dependency_track = %+v", *d)
	}
}

func TestDependencyTrackBlockRefused(t *testing.T) {
	for _, tc := range []struct{ block, want string }{
		{"    api_key: odt_0123456789\n", "env:NAME or file:PATH"},
		{"    url: ftp://dtrack.example.com\n", "consumers.dependency_track.url: not an http or https URL"},
		{"    project_uuid: 38640B33-4BA9-4733-BDAB-CBFC40C6F8AA\n", "consumers.dependency_track.project_uuid: \"38640B33-4BA9-4733-BDAB-CBFC40C6F8AA\" is not a UUID"},
		{"    project_uuid: 38640b33-4ba9-4733-bdab-cbfc40c6f8aa\n    project_name: shop\n", "consumers.dependency_track.project_name: not with project_uuid"},
		{"    project_uuid: 38640b33-4ba9-4733-bdab-cbfc40c6f8aa\n    project_per_tool: true\n", "consumers.dependency_track.project_per_tool: not with project_uuid"},
		{"    parent_uuid: 5341f53c-611b-4388-9d9c-731026dc5eec\n    parent_name: acme\n", "consumers.dependency_track.parent_uuid: give parent_uuid or parent_name"},
		{"    parent_version: \"1\"\n", "consumers.dependency_track.parent_version: needs parent_name"},
		{"    project_version: \"a\\tb\"\n", "consumers.dependency_track.project_version: \"a\\tb\" is blank or has characters that are not printable"},
		{"    tags: [\" \"]\n", "consumers.dependency_track.tags[0]: \" \" is not a tag"},
		{"    project: shop\n", "field project not found"},
	} {
		_, err := parseDependencyTrack(t, tc.block)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want %q", tc.block, err, tc.want)
		}
	}
}
