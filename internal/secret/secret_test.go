package secret

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMaskerMasksEveryRegisteredValue(t *testing.T) {
	var b strings.Builder
	var announced []string
	m := NewMasker(&b, func(v string) { announced = append(announced, v) })
	m.Add("xoxb-123-secret")
	m.Add("xoxb-123") // inside the first: the longer one must win
	m.Add("ab")       // too short to mask
	m.Add("xoxb-123") // twice: announced once
	n, err := m.Write([]byte("token xoxb-123-secret and xoxb-123, ab\n"))
	if err != nil || n != len("token xoxb-123-secret and xoxb-123, ab\n") {
		t.Fatalf("Write = %d, %v", n, err)
	}
	if got, want := b.String(), "token *** and ***, ab\n"; got != want {
		t.Errorf("masked %q, want %q", got, want)
	}
	if len(announced) != 2 {
		t.Errorf("announced %q, want the two long values once each", announced)
	}
	if got := m.Clean(`Post "https://hooks.example/xoxb-123-secret": timeout`); strings.Contains(got, "secret") {
		t.Errorf("Clean left the value: %s", got)
	}
}

func TestResolve(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "tok"), []byte("from-a-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"DRACON_JIRA_TOKEN": "from-the-env", "OTHER": "other-value"}
	getenv := func(k string) string { return env[k] }
	for _, tc := range []struct {
		ref, fallback, want, err string
	}{
		{"", "DRACON_JIRA_TOKEN", "from-the-env", ""},
		{"env:OTHER", "DRACON_JIRA_TOKEN", "other-value", ""},
		{"file:tok", "", "from-a-file", ""},
		{"file:" + filepath.Join(dir, "tok"), "", "from-a-file", ""},
		{"file:missing", "", "", "secret file:missing"},
		{"plain-token", "", "", "read from env:NAME or file:PATH"},
		{"", "", "", ""},
	} {
		m := NewMasker(nil, nil)
		got, err := Resolve(tc.ref, tc.fallback, getenv, dir, m)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Resolve(%q) error %v, want %q", tc.ref, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("Resolve(%q, %q) = %q, %v; want %q", tc.ref, tc.fallback, got, err, tc.want)
		}
		if got != "" && m.Clean(got) != Mask {
			t.Errorf("Resolve(%q) did not register the value with the masker", tc.ref)
		}
	}
}
