package pipeline

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/draconsec/dracon/internal/producers/registry"
)

// imageRef is a container image reference: [host[:port]/]path[:tag][@sha256:digest].
var imageRef = regexp.MustCompile(`^(?:[a-z0-9.-]+(?::[0-9]+)?/)?[a-z0-9._/-]+(?::([A-Za-z0-9._-]{1,128}))?(?:@sha256:[0-9a-f]{64})?$`)

// movingTags are the catalogue's images still named by a tag their
// publisher moves, with no versioned tag checked from here. The list may
// only shrink: pin one (a version tag or @sha256:) and remove it here.
var movingTags = map[string]string{
	"zap":  "ghcr.io/zaproxy/zaproxy:stable",
	"snyk": "docker.io/snyk/snyk:node",
}

// TestCatalogueImagesPinned: every image the catalogue names for the
// container runner is pinned, by a version tag or a digest; none is
// untagged or :latest (a different scanner every week, and findings a
// local run at the pinned version would not have). An image Dracon
// builds (localhost/dracon-scanner/...) is tagged with the scanner's
// pinned version and has a family in scripts/build-scanner-images.sh.
func TestCatalogueImagesPinned(t *testing.T) {
	script, err := os.ReadFile("../../scripts/build-scanner-images.sh")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range registry.All() {
		if p.Tool == nil || p.Tool.Image == "" {
			continue
		}
		img := p.Tool.Image
		m := imageRef.FindStringSubmatch(img)
		tag, digest := "", strings.Contains(img, "@sha256:")
		if m != nil {
			tag = m[1]
		}
		switch {
		case m == nil:
			t.Errorf("%s: %q is not an image reference", p.Name, img)
		case movingTags[p.Name] == img:
		case tag == "" && !digest, tag == "latest":
			t.Errorf("%s: %q is not pinned: name a version tag or @sha256: digest", p.Name, img)
		case !digest && strings.Trim(tag, "0123456789.-_v") == tag:
			t.Errorf("%s: tag %q of %q names no version: pin it or add it to movingTags with a reason", p.Name, tag, img)
		}
		if strings.HasPrefix(img, "localhost/dracon-scanner/") {
			if want := "localhost/dracon-scanner/" + p.Tool.Binary + ":" + p.Tool.Version; strings.Split(img, "@")[0] != want {
				t.Errorf("%s: Dracon-built image %q, want %s (the pinned version)", p.Name, img, want)
			}
			if !regexp.MustCompile(`(?m)^\s+(?:[a-z-]+ \| )*` + regexp.QuoteMeta(p.Tool.Binary) + `(?: \| [a-z-]+)*\)`).Match(script) {
				t.Errorf("%s: scripts/build-scanner-images.sh has no family for %s", p.Name, p.Tool.Binary)
			}
		}
	}
	for name, img := range movingTags {
		if p, err := registry.Lookup(name); err != nil || p.Tool == nil || p.Tool.Image != img {
			t.Errorf("movingTags lists %s %s, which the catalogue no longer names: remove it", name, img)
		}
	}
	// The check itself.
	for img, ok := range map[string]bool{
		"docker.io/zricethezav/gitleaks:v8.30.1": true, "localhost:5000/a/b:1.2@sha256:" + strings.Repeat("ab", 32): true,
		"localhost/dracon-scanner/bandit@sha256:" + strings.Repeat("0", 64): true,
		"docker.io/x/y": false, "docker.io/x/y:latest": false, "docker.io/x/y@sha256:abc": false,
	} {
		m := imageRef.FindStringSubmatch(img)
		pinned := m != nil && m[1] != "latest" && (m[1] != "" || strings.Contains(img, "@sha256:"))
		if pinned != ok {
			t.Errorf("%s: pinned %v, want %v", img, pinned, ok)
		}
	}
}
