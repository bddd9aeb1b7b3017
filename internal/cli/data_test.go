package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/draconsec/dracon/internal/exploitdata"
	"github.com/draconsec/dracon/internal/exploitdata/exploittest"
)

// dataCmd runs dracon data ARGS through its run function, with vars as
// the environment.
func dataCmd(t *testing.T, vars map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := runData(context.Background(), Env{Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return vars[k] }}, args)
	return code, out.String(), errb.String()
}

// TestDataUpdate: dracon data update downloads both files into --dir from
// the addresses the flags give, says what it got, asks again with the
// validators, and dracon data status shows it.
func TestDataUpdate(t *testing.T) {
	srv := exploittest.NewServer(t)
	dir := filepath.Join(t.TempDir(), "data")
	args := []string{"update", "--dir", dir, "--kev-url", srv.KEVURL(), "--epss-url", srv.EPSSURL()}
	code, out, errs := dataCmd(t, nil, args...)
	if code != 0 {
		t.Fatalf("exit %d: %s%s", code, out, errs)
	}
	for _, want := range []string{
		"data folder: " + dir + "\n",
		"  KEV  downloaded: catalogue 2025.11.28 released 2025-11-28T17:01:53.7155Z, 5 entries from " + srv.KEVURL() + "\n",
		"  EPSS downloaded: scores of 2025-11-30T12:55:00Z (model v2025.03.14), 9 CVEs from " + srv.EPSSURL() + "\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	d := exploitdata.Load(dir)
	if d.KEVErr != nil || d.EPSSErr != nil || d.KEV.Meta == nil || d.EPSS.Meta == nil {
		t.Fatalf("folder after update: %+v", d)
	}

	code, out, _ = dataCmd(t, nil, args...)
	if code != 0 || !strings.Contains(out, "  KEV  unchanged (304), confirmed: catalogue 2025.11.28") || !strings.Contains(out, "  EPSS unchanged (304), confirmed: scores of 2025-11-30T12:55:00Z") {
		t.Errorf("second update: exit %d\n%s", code, out)
	}

	code, out, _ = dataCmd(t, nil, "status", "--dir", dir)
	if code != 0 {
		t.Fatalf("status: exit %d\n%s", code, out)
	}
	for _, want := range []string{"data folder: " + dir + " (max_age 7 days)", "KEV   known_exploited_vulnerabilities.json  catalogue 2025.11.28", "EPSS  epss_scores-current.csv.gz", "5 entries", srv.KEVURL(),
		"EPSS", "scores of 2025-11-30 (model v2025.03.14)", "9 CVEs", srv.EPSSURL()} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
}

// TestDataUpdateFromConfig: with no flags, the config's
// enrichers.exploits block names the folder and the addresses; with no
// dir anywhere, $DRACON_DATA_DIR is the folder.
func TestDataUpdateFromConfig(t *testing.T) {
	srv := exploittest.NewServer(t)
	dir := filepath.Join(t.TempDir(), "mirror")
	cfg := filepath.Join(t.TempDir(), "dracon.yaml")
	os.WriteFile(cfg, []byte("enrichers:\n  exploits:\n    dir: "+dir+"\n    max_age: 72h\n    kev_url: "+srv.KEVURL()+"\n    epss_url: "+srv.OldEPSSURL()+"\n"), 0o644)
	code, out, errs := dataCmd(t, nil, "update", "--config", cfg)
	if code != 0 || !strings.Contains(out, "data folder: "+dir) || !strings.Contains(out, "from "+srv.OldEPSSURL()) {
		t.Fatalf("exit %d: %s%s", code, out, errs)
	}
	if code, out, _ = dataCmd(t, nil, "status", "--config", cfg); code != 0 || !strings.Contains(out, "(max_age 3 days)") {
		t.Errorf("status from the config: exit %d\n%s", code, out)
	}

	env := filepath.Join(t.TempDir(), "env-dir")
	cfg2 := filepath.Join(t.TempDir(), "dracon.yaml")
	os.WriteFile(cfg2, []byte("enrichers:\n  exploits:\n    kev_url: "+srv.KEVURL()+"\n    epss_url: "+srv.EPSSURL()+"\n"), 0o644)
	code, out, errs = dataCmd(t, map[string]string{"DRACON_DATA_DIR": env}, "update", "--config", cfg2)
	if code != 0 || !strings.Contains(out, "data folder: "+env+"\n") {
		t.Fatalf("exit %d: %s%s", code, out, errs)
	}
	if _, err := os.Stat(filepath.Join(env, exploitdata.KEVFile)); err != nil {
		t.Error(err)
	}
}

// TestDataUpdateFailures: a source that answers 404 fails the command
// (exit 2) and leaves the other's download in place; a folder without
// the files fails status.
func TestDataUpdateFailures(t *testing.T) {
	srv := exploittest.NewServer(t)
	dir := t.TempDir()
	code, out, errs := dataCmd(t, nil, "update", "--dir", dir, "--kev-url", srv.URL+"/feeds/kev.json", "--epss-url", srv.EPSSURL())
	if code != 2 || !strings.Contains(errs, "dracon: KEV: GET "+srv.URL+"/feeds/kev.json: 404 Not Found") || !strings.Contains(errs, "(the folder keeps what it had)") {
		t.Errorf("404: exit %d, stderr %q", code, errs)
	}
	if !strings.Contains(out, "  EPSS downloaded:") {
		t.Errorf("the EPSS download did not go on:\n%s", out)
	}
	code, out, _ = dataCmd(t, nil, "status", "--dir", dir)
	if code != 2 || !strings.Contains(out, "missing: run dracon data update") || !strings.Contains(out, "9 CVEs") {
		t.Errorf("status with KEV missing: exit %d\n%s", code, out)
	}
	os.WriteFile(filepath.Join(dir, exploitdata.KEVFile), []byte("<html>"), 0o644)
	if code, out, _ = dataCmd(t, nil, "status", "--dir", dir); code != 2 || !strings.Contains(out, "unreadable: ") {
		t.Errorf("status with KEV damaged: exit %d\n%s", code, out)
	}
}

func TestDataUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "data needs a subcommand: update [--dir DIR], status [--dir DIR]"},
		{[]string{"fetch"}, `unknown data subcommand "fetch" (update, status)`},
		{[]string{"update", "extra"}, `data update takes no arguments (got ["extra"])`},
		{[]string{"status", "extra"}, `data status takes no arguments`},
		{[]string{"update", "--kev-url", "ftp://mirror/kev.json"}, `--kev-url: "ftp://mirror/kev.json" is not an http(s) URL`},
		{[]string{"update", "--epss-url", "https://u:p@mirror.example/e.csv.gz"}, `--epss-url: "https://u:p@mirror.example/e.csv.gz" holds a user and password`},
		{[]string{"update", "--config", filepath.Join(t.TempDir(), "none.yaml")}, "none.yaml"},
		{[]string{"update", "--bogus"}, "flag provided but not defined: -bogus"},
	} {
		code, _, errs := dataCmd(t, nil, tc.args...)
		if code != 2 || !strings.Contains(errs, tc.want) {
			t.Errorf("%q: exit %d, stderr %q, want %q", tc.args, code, errs, tc.want)
		}
	}
}
