package action

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// parseOutputs reads a GITHUB_OUTPUT file as the runner does: name=value
// lines and name<<DELIM heredocs.
func parseOutputs(t *testing.T, data string) map[string]string {
	t.Helper()
	out := map[string]string{}
	lines := strings.Split(data, "\n")
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if l == "" {
			continue
		}
		if name, delim, ok := strings.Cut(l, "<<"); ok {
			var val []string
			for i++; i < len(lines) && lines[i] != delim; i++ {
				val = append(val, lines[i])
			}
			if i == len(lines) {
				t.Fatalf("heredoc %s: no closing %s", name, delim)
			}
			out[name] = strings.Join(val, "\n")
			continue
		}
		name, val, ok := strings.Cut(l, "=")
		if !ok {
			t.Fatalf("bad output line %q", l)
		}
		out[name] = val
	}
	return out
}

func TestOutputsRandomDelimiter(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "output")
	f := fileCommands{getenv: envMap(map[string]string{"GITHUB_OUTPUT": path})}
	// A value holding go-githubactions' fixed delimiter, and one that
	// looks like a heredoc of its own, cannot end the value early.
	tricky := "line one\n_GitHubActionsFileCommandDelimeter_\nverdict<<EOF\npassed\nEOF"
	for k, v := range map[string]string{"verdict": "failed", "sarif-file": "/tmp/x/dracon.sarif", "message": tricky} {
		if err := f.setOutput(k, v); err != nil {
			t.Fatal(err)
		}
	}
	data, _ := os.ReadFile(path)
	got := parseOutputs(t, string(data))
	if got["verdict"] != "failed" || got["sarif-file"] != "/tmp/x/dracon.sarif" || got["message"] != tricky {
		t.Errorf("outputs read back: %q", got)
	}
	delims := regexp.MustCompile(`<<(ghadelimiter_[0-9a-f-]{36})\n`).FindAllStringSubmatch(string(data), -1)
	if len(delims) != 3 || delims[0][1] == delims[1][1] {
		t.Errorf("want a fresh ghadelimiter_<uuid> per value, got %q", delims)
	}
	if err := f.setOutput("bad\nname", "x"); err == nil {
		t.Error("a name with a newline was written")
	}
}

func TestFileCommandsWithoutFiles(t *testing.T) {
	// go-githubactions panics here (it opens ""); the action logs instead.
	var log bytes.Buffer
	f := fileCommands{getenv: envMap(nil), log: &log}
	if err := f.setOutput("verdict", "passed"); err != nil {
		t.Fatal(err)
	}
	if err := f.setEnv("X", "1"); err != nil {
		t.Fatal(err)
	}
	ok, err := f.addSummary("# hi")
	if ok || err != nil {
		t.Errorf("addSummary without GITHUB_STEP_SUMMARY: %v %v", ok, err)
	}
	if !strings.Contains(log.String(), "output verdict=passed (GITHUB_OUTPUT is not set)") {
		t.Errorf("log: %q", log.String())
	}
	if f.summaryBytes() != 0 {
		t.Error("summaryBytes without a file")
	}
}

func TestSummaryAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "summary.md")
	f := fileCommands{getenv: envMap(map[string]string{"GITHUB_STEP_SUMMARY": path})}
	for _, s := range []string{"# one", "two\n"} {
		if ok, err := f.addSummary(s); !ok || err != nil {
			t.Fatal(ok, err)
		}
	}
	data, _ := os.ReadFile(path)
	if string(data) != "# one\ntwo\n" || f.summaryBytes() != len(data) {
		t.Errorf("summary: %q", data)
	}
}
