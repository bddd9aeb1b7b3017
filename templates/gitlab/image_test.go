package gitlabtemplate

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
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
	t.Run("container runner", func(t *testing.T) { testContainerRunner(t, nil) })
	t.Run("container runner, docker CLI on podman's socket", func(t *testing.T) {
		docker, err := exec.LookPath("docker")
		if err != nil {
			if os.Getenv("DRACON_REQUIRE_TOOLS") != "" {
				t.Fatal("the docker CLI is not on PATH (apt-get install docker.io provides it)")
			}
			t.Skip("the docker CLI is not on PATH")
		}
		sock := filepath.Join(t.TempDir(), "podman.sock")
		svc := exec.Command(pm, "system", "service", "--time=0", "unix://"+sock)
		if err := svc.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { svc.Process.Kill(); svc.Wait() }()
		for i := 0; i < 100; i++ {
			if _, err := os.Stat(sock); err == nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		testContainerRunner(t, []string{"DRACON_CONTAINER_ENGINE=" + docker, "DOCKER_HOST=unix://" + sock})
	})
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

// testContainerRunner: runner: container runs each producer in the image
// (source read-only, no network) and finds what a local run finds.
func testContainerRunner(t *testing.T, engineEnv []string) {
	bin := filepath.Join(t.TempDir(), "dracon")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/draconsec/dracon/cmd/dracon").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	src := t.TempDir()
	if err := os.CopyFS(src, os.DirFS("../../examples")); err != nil {
		t.Fatal(err)
	}
	findings := func(runner string) map[string]bool {
		t.Helper()
		dir := t.TempDir()
		cfg := filepath.Join(dir, "dracon.yaml")
		os.WriteFile(cfg, []byte("version: 1\nrunner: "+runner+"\ncontainer:\n  image: "+imageName+"\n  pull: never\n  memory: 2g\n"+
			"producers:\n  gosec: {}\n  gitleaks: {}\n  bandit: {}\n"), 0o644)
		cmd := exec.Command(bin, "run", "--config", cfg, "--source", src, "--out", dir, "--run-dir", filepath.Join(dir, "runs"), "--format", "none")
		cmd.Env = append(os.Environ(), "DRACON_STORE="+filepath.Join(dir, "findings.db"))
		if runner == "container" {
			cmd.Env = append(cmd.Env, engineEnv...)
		}
		out, err := cmd.CombinedOutput()
		// Exit 1 is the verdict (the bundled secrets policy fails on
		// examples/' fake key); anything else is the run breaking.
		if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() != 1) {
			t.Fatalf("runner %s: %v\n%s", runner, err, out)
		}
		var log struct {
			Runs []struct {
				Tool struct {
					Driver struct{ Name string }
				}
				Results []struct {
					RuleID    string
					Locations []struct {
						PhysicalLocation struct {
							ArtifactLocation struct{ URI string }
							Region           struct{ StartLine int }
						}
					}
				}
			}
		}
		b, err := os.ReadFile(filepath.Join(dir, "dracon.sarif"))
		if err != nil {
			t.Fatal(err)
		}
		json.Unmarshal(b, &log)
		got := map[string]bool{}
		for _, r := range log.Runs {
			for _, res := range r.Results {
				key := r.Tool.Driver.Name + " " + res.RuleID
				if len(res.Locations) > 0 {
					l := res.Locations[0].PhysicalLocation
					key += " " + l.ArtifactLocation.URI + ":" + strconv.Itoa(l.Region.StartLine)
				}
				got[key] = true
			}
		}
		return got
	}
	local, inImage := findings("local"), findings("container")
	tools := map[string]bool{}
	for k := range local {
		tools[strings.Fields(k)[0]] = true
		if !inImage[k] {
			t.Errorf("a local run found %s; the container runner did not", k)
		}
	}
	for k := range inImage {
		if !local[k] {
			t.Errorf("the container runner found %s; a local run did not", k)
		}
	}
	if len(tools) < 3 {
		t.Errorf("findings of %v only: want gosec, gitleaks and bandit", tools)
	}
}
