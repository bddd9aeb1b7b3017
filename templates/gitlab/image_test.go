package gitlabtemplate

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// imageName is what TestImage builds (scripts/build-image.sh).
const imageName = "localhost/dracon:test"

// podman finds podman; missing, the test fails under DRACON_REQUIRE_TOOLS
// (CI installs it) and is skipped otherwise.
func podman(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("podman")
	if err == nil {
		if _, err = exec.LookPath("debootstrap"); err == nil {
			return p
		}
	}
	msg := "podman and debootstrap are needed to build the component's image: apt-get install podman runc debootstrap (and /etc/containers/containers.conf as .ci/run writes it)"
	if os.Getenv("DRACON_REQUIRE_TOOLS") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// TestImage builds the component's default image from the Containerfile
// (scripts/build-image.sh: a debootstrap base and host-built binaries,
// as no registry is reachable here) and runs the scan job's own script in
// it, as a GitLab runner would: on a copy of examples/ as the project
// directory, with a push pipeline's CI variables. The job must exit 0
// (the scan completed, the gate fails later in the gate job) and leave
// GitLab's reports with findings of the image's scanners.
func TestImage(t *testing.T) {
	pm := podman(t)
	build := exec.Command("../../scripts/build-image.sh", imageName)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build-image.sh: %v\n%s", err, out)
	}
	for _, tool := range [][]string{{"dracon", "version"}, {"bandit", "--version"}, {"shellcheck", "--version"}, {"git", "--version"}} {
		if out, err := exec.Command(pm, append([]string{"run", "--rm", imageName}, tool...)...).CombinedOutput(); err != nil {
			t.Errorf("%s in the image: %v\n%s", tool[0], err, out)
		}
	}

	project := t.TempDir()
	if err := os.CopyFS(project, os.DirFS("../../examples")); err != nil {
		t.Fatal(err)
	}
	job := load(t, scanTemplate).render(t, map[string]string{"image": imageName})["dracon-scan"]
	args := []string{"run", "--rm", "--network", "none", "-v", project + ":/builds/acme/app", "-w", "/builds/acme/app",
		"-e", "GITLAB_CI=true", "-e", "CI_PROJECT_PATH=acme/app", "-e", "CI_PIPELINE_SOURCE=push", "-e", "CI_COMMIT_BRANCH=main",
		"-e", "CI_DEFAULT_BRANCH=main", "-e", "CI_COMMIT_SHA=0123456789abcdef0123456789abcdef01234567", "-e", "CI_SERVER_URL=https://gitlab.example"}
	for k, v := range job["variables"].(map[string]any) {
		args = append(args, "-e", k+"="+toString(v))
	}
	args = append(args, imageName, "bash", "-c", "set -eo pipefail\n"+script(job))
	out, err := exec.Command(pm, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("the scan job in the image: %v\n%s", err, out)
	}
	code, _ := os.ReadFile(filepath.Join(project, "dracon-exit-code"))
	if strings.TrimSpace(string(code)) != "1" {
		t.Errorf("dracon run exit %q in the image, want 1 (the bundled policies fail on examples/' fake AWS key)\n%s", code, out)
	}
	var sum struct {
		Producers []struct {
			Name, Status string
			Findings     int
		}
	}
	b, err := os.ReadFile(filepath.Join(project, "summary.json"))
	if err != nil {
		t.Fatalf("no summary.json: %v\n%s", err, out)
	}
	json.Unmarshal(b, &sum)
	ran := map[string]int{}
	for _, p := range sum.Producers {
		if p.Status == "ok" {
			ran[p.Name] = p.Findings
		}
	}
	for _, tool := range []string{"gosec", "gitleaks", "bandit"} {
		if ran[tool] == 0 {
			t.Errorf("%s found nothing in the image (producers %+v)\n%s", tool, sum.Producers, out)
		}
	}
	reports, _ := filepath.Glob(filepath.Join(project, "gl-*.json"))
	var names []string
	for _, r := range reports {
		names = append(names, filepath.Base(r))
	}
	sort.Strings(names)
	for _, want := range []string{"gl-code-quality-report.json", "gl-sast-report.json", "gl-secret-detection-report.json"} {
		if !strings.Contains(strings.Join(names, " "), want) {
			t.Errorf("the scan job in the image wrote %v, not %s", names, want)
		}
	}
}
