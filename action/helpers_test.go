package action

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// envMap is a getenv over a map.
func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// golden compares got with testdata/golden/name, or writes it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./action/ -run %s -update to write it)", err, t.Name())
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file (go test ./action/ -run %s -update rewrites it):\n--- got\n%s", path, t.Name(), got)
	}
}

func readEventFile(t *testing.T, name, file string) *Event {
	t.Helper()
	ev, err := ReadEvent(envMap(map[string]string{"GITHUB_EVENT_NAME": name, "GITHUB_EVENT_PATH": filepath.Join("testdata", "events", file)}))
	if err != nil {
		t.Fatal(err)
	}
	return ev
}
